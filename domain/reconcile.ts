// Reconcile: recount every counter (domain/counting.ts) from the assignments and compare them with the counters. The two
// are written in one transaction, so any drift means a bug or a manual edit; `fix` makes the counters agree.
import {
  addCounts,
  COUNTER_FIELDS,
  type Counts,
  countsOfAssignment,
  RECIPIENT_COUNTERS,
  SEND_TIME_COUNTERS,
  zeroCounts,
} from './counting';
import type { Experiment } from './experiment';
import type { CounterReader, SendBucketCount } from './ports/counter-reader';
import type { ExperimentStore } from './ports/experiment-store';
import type { LedgerMaintenance } from './ports/ledger-maintenance';
import type { TenantStore } from './ports/tenant-store';
import { sendBucketOf } from './time';

export interface VariantDrift {
  readonly variant: string;
  readonly counted: Counts;
  readonly recounted: Counts;
}

export interface ExperimentReconciliation {
  readonly tenant: string;
  readonly experiment: string;
  readonly variants: VariantDrift[];
  readonly drift: number;
  readonly fixed: boolean;
}

export interface ReconcileResult {
  readonly experiments: ExperimentReconciliation[];
  readonly drift: number;
  /** Send buckets left out because their assignments may already have expired (TTL). */
  readonly skippedExpiredBuckets: number;
}

export interface ReconcileOptions {
  readonly fix: boolean;
  /** Only buckets sent after this (unix seconds) are compared: older assignments may have expired. */
  readonly since: number;
  readonly onProgress?: (done: number, total: number | null) => void;
}

type Totals = Counts;
const zero = zeroCounts;
/** Drift is in recipients; send times that differ (counted before they were recorded) are restored by `fix`. */
const difference = (a: Totals, b: Totals) =>
  RECIPIENT_COUNTERS.reduce((sum, field) => sum + Math.abs(a[field] - b[field]), 0);
const sendTimesDiffer = (a: Totals, b: Totals) => SEND_TIME_COUNTERS.some((field) => a[field] !== b[field]);

export async function reconcile(
  deps: {
    tenants: TenantStore;
    experiments: ExperimentStore;
    counters: CounterReader;
    maintenance: LedgerMaintenance;
  },
  options: ReconcileOptions,
): Promise<ReconcileResult> {
  // tenant/experiment -> "bucket#variant" -> totals recounted from assignments
  const recounted = new Map<string, Map<string, Totals>>();
  let scanned = 0;
  for await (const page of deps.maintenance.scanAssignments()) {
    for (const a of page) {
      const bucket = sendBucketOf(a.sentAt);
      const experimentKey = `${a.tenantId}/${a.experimentId}`;
      const perBucket = recounted.get(experimentKey) ?? new Map<string, Totals>();
      recounted.set(experimentKey, perBucket);
      const totals = perBucket.get(`${bucket}#${a.variantId}`) ?? zero();
      perBucket.set(`${bucket}#${a.variantId}`, totals);
      addCounts(totals, countsOfAssignment(a));
    }
    scanned += page.length;
    options.onProgress?.(scanned, null);
  }

  const experiments: Array<Pick<Experiment, 'tenantId' | 'id'>> = [];
  for (const tenant of await deps.tenants.list()) {
    for (const experiment of await deps.experiments.list(tenant.id)) experiments.push(experiment);
  }
  for (const key of recounted.keys()) {
    const [tenantId, id] = key.split('/') as [string, string];
    if (!experiments.some((e) => e.tenantId === tenantId && e.id === id)) experiments.push({ tenantId, id });
  }

  const results: ExperimentReconciliation[] = [];
  let skippedExpiredBuckets = 0;
  for (const [index, experiment] of experiments.entries()) {
    const counts: SendBucketCount[] = await deps.counters.read(experiment.tenantId, experiment.id);
    const counted = new Map<string, Totals>();
    for (const { bucketStart, variantId, ...c } of counts)
      counted.set(`${bucketStart}#${variantId}`, addCounts(zero(), c));
    const fromAssignments =
      recounted.get(`${experiment.tenantId}/${experiment.id}`) ?? new Map<string, Totals>();
    const byVariant = new Map<string, { counted: Totals; recounted: Totals }>();
    let drift = 0;
    for (const bucketKey of new Set([...counted.keys(), ...fromAssignments.keys()])) {
      const [bucketText, variant] = bucketKey.split(/#(.*)/s) as [string, string];
      const bucket = Number(bucketText);
      if (bucket < options.since) {
        skippedExpiredBuckets++;
        continue;
      }
      const have = counted.get(bucketKey) ?? zero();
      const should = fromAssignments.get(bucketKey) ?? zero();
      const entry = byVariant.get(variant) ?? { counted: zero(), recounted: zero() };
      byVariant.set(variant, entry);
      for (const field of COUNTER_FIELDS) {
        entry.counted[field] += have[field];
        entry.recounted[field] += should[field];
      }
      const off = difference(have, should);
      drift += off;
      if ((off > 0 || sendTimesDiffer(have, should)) && options.fix) {
        await deps.maintenance.adjustCounters(
          experiment.tenantId,
          experiment.id,
          bucket,
          variant,
          addCounts(addCounts(zero(), should), have, -1),
        );
      }
    }
    results.push({
      tenant: experiment.tenantId,
      experiment: experiment.id,
      variants: [...byVariant].map(([variant, v]) => ({ variant, ...v })),
      drift,
      fixed: options.fix && drift > 0,
    });
    options.onProgress?.(index + 1, experiments.length);
  }
  return { experiments: results, drift: results.reduce((sum, r) => sum + r.drift, 0), skippedExpiredBuckets };
}
