import type { Experiment } from '../experiment';

export interface ExperimentStore {
  get(tenantId: string, experimentId: string): Promise<Experiment | null>;
  list(tenantId: string): Promise<Experiment[]>;
  /** Writes `experiment` only if the stored version is `experiment.version - 1`; else ConflictError `version_conflict`. */
  save(experiment: Experiment): Promise<void>;
}
