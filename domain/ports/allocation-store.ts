// The shared allocation of each experiment: one small head every container reads once per refresh, and the
// state only the recomputing container reads. One writer at a time, under a lease whose epoch guards the publish.
import type { Counts } from '../counting';
import type { DelayHistogram } from '../delay';
import type { AllocationPhase, SettledEvidence } from '../policy';
import type { CallOptions } from './assignment-ledger';

/** What every container serves from: computed by one container, read by all. */
export interface AllocationSnapshot {
  /** The experiment version the shares were computed for. */
  readonly experimentVersion: number;
  /** Unix seconds. */
  readonly computedAt: number;
  readonly phase: AllocationPhase;
  /** Active variant id -> share of new recipients; shares sum to 1. */
  readonly shares: Readonly<Record<string, number>>;
  /** Variant id -> [alpha, beta]: the posterior after delay correction and decay. */
  readonly posteriors: Readonly<Record<string, readonly [number, number]>>;
  /**
   * Unix seconds before which nobody recomputes (computedAt + refresh_seconds). Publishing holds the lease
   * until then, so containers whose cached head predates the publish do not all recompute again.
   */
  readonly nextDueAt?: number;
}

/** The experiment's head: the definition's version (bumped by every save), the snapshot and its lease. */
export interface AllocationHead {
  /** 0 when the experiment was never saved. */
  readonly definitionVersion: number;
  readonly snapshot: AllocationSnapshot | null;
  /** Unix seconds until which a container holds the recompute lease (0: none). */
  readonly leaseUntil: number;
}

/** Sums of one tier of older send buckets, per variant, as of `readAt`. */
export interface SettledTier {
  /** Unix seconds of the read these sums are as of. */
  readonly readAt: number;
  /** Weighted evidence (what the policy adds to the prior) per variant. */
  readonly evidence: Readonly<Record<string, SettledEvidence>>;
  /** Raw counters per variant, for reports (older settled items may lack the newer counters: read as 0). */
  readonly totals: Readonly<Record<string, Partial<Counts>>>;
}

/**
 * Older send buckets, summed so that a recompute reads only the last hour of buckets: its cost does not grow
 * with the campaign's age. Two tiers, each read again at its own cadence, so rewards landing late in old
 * buckets still count: the recent tier (the 47 hours before the window) every RECENT_READ_SECONDS, the old
 * tier (everything before) every OLD_READ_SECONDS.
 */
export interface SettledCounts {
  /** The decay the weighted evidence was computed with: a change of half-life means reading everything again. */
  readonly halfLifeHours: number | null;
  /** Buckets from here on are read on every recompute. */
  readonly windowStart: number;
  /** Buckets in [recentStart, windowStart) are the recent tier; earlier ones the old tier. */
  readonly recentStart: number;
  readonly recent: SettledTier;
  readonly old: SettledTier;
  /** The tenant's delay histogram for the metric, as of `delaysReadAt`. */
  readonly delays: DelayHistogram;
  /** Unix seconds of the histogram's read (absent in items written before: the recent tier's read). */
  readonly delaysReadAt?: number;
  /**
   * The experiment's own rewards still in flight at that read, per histogram bucket (empty: none), worked out
   * with the counters of the same recompute (domain/delay.ts rewardsInFlight). Absent in items written before.
   */
  readonly delaysInFlight?: readonly number[];
}

export interface AllocationStore {
  /** One cheap (eventually consistent) read of the head. */
  head(tenantId: string, experimentId: string, options?: CallOptions): Promise<AllocationHead>;
  /**
   * Takes the recompute lease if nobody holds it at `now` (a holder recomputing, or a snapshot published and not
   * yet due), or if the published snapshot is of another experiment version than `experimentVersion` (an edit
   * does not wait for the next refresh); the new epoch, or null.
   */
  acquireLease(
    tenantId: string,
    experimentId: string,
    now: number,
    until: number,
    options?: CallOptions & { readonly experimentVersion?: number },
  ): Promise<number | null>;
  /** Publishes the snapshot only while `epoch` is still the latest lease; false when a newer holder exists. */
  publish(
    tenantId: string,
    experimentId: string,
    epoch: number,
    snapshot: AllocationSnapshot,
    settled: SettledCounts | null,
    options?: CallOptions,
  ): Promise<boolean>;
  /** The settled sums the last holder published (read only by the recomputing container). */
  settled(tenantId: string, experimentId: string, options?: CallOptions): Promise<SettledCounts | null>;
}
