// How API resources look to clients (snake_case), in one place: experiments and ingestion-log entries here,
// the report in report.ts (built with the statistics it shows).
import type { Experiment } from './experiment';
import type { IngestionEntry } from './ports/ingestion-log';

/** The public (snake_case) view of an experiment for the admin API. */
export function experimentView(experiment: Experiment) {
  return {
    id: experiment.id,
    name: experiment.name,
    metric: experiment.metric,
    status: experiment.status,
    winner: experiment.winner,
    variants: experiment.variants.map((v) => ({
      id: v.id,
      text: v.text,
      parts: v.parts,
      control: v.control,
      state: v.state,
    })),
    ...experiment.options,
    created_at: new Date(experiment.createdAt * 1000).toISOString(),
    updated_at: new Date(experiment.updatedAt * 1000).toISOString(),
    version: experiment.version,
  };
}

/** One Currents file of the ingestion log, as `GET /v1/ingestion` lists it. */
export function ingestionFileView(entry: IngestionEntry) {
  return {
    key: entry.key,
    status: entry.status,
    ...(entry.reason ? { reason: entry.reason } : {}),
    events: entry.events,
    attributed: entry.attributed,
    duplicates: entry.duplicates,
    bots: entry.bots,
    ingested_at: new Date(entry.ingestedAt).toISOString(),
  };
}
