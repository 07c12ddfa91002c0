import type { Assignment } from './assignment-ledger';

export interface CounterDelta {
  readonly sends: number;
  readonly opens: number;
  readonly clicks: number;
}

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
