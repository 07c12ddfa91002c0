import type { Counts } from '../counting';
import type { Assignment } from './assignment-ledger';

/** A correction of every counter of one send bucket and variant (see domain/counting.ts). */
export type CounterDelta = Readonly<Partial<Counts>>;

/** What reconcile needs beyond the hot-path ports: every assignment, and a way to correct a counter. */
export interface LedgerMaintenance {
  /** Every stored assignment of every tenant, page by page. */
  scanAssignments(): AsyncIterable<Assignment[]>;
  /** Adds `delta` (may be negative) to the counters of one send bucket and variant. */
  adjustCounters(
    tenantId: string,
    experimentId: string,
    bucketStart: number,
    variantId: string,
    delta: CounterDelta,
  ): Promise<void>;
}
