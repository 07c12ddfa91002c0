// The ports the real recompute (domain/allocation-snapshot.ts) reads and writes, held in memory for one simulated
// campaign: its counters, the tenant's delay histograms, the published snapshot and settled sums. One writer,
// so the lease is always free; nothing is copied that the recompute only reads, except the histogram, which the
// recompute keeps (as production does) until its next read.
import { type CounterField, type Counts, type RewardKind, zeroCounts } from '../domain/counting';
import { DELAY_BUCKETS, type DelayHistogram } from '../domain/delay';
import type { Experiment } from '../domain/experiment';
import type { AllocationSnapshot, AllocationStore, SettledCounts } from '../domain/ports/allocation-store';
import type { CounterReader, CounterReadOptions, SendBucketCount } from '../domain/ports/counter-reader';
import type { DelayReader } from '../domain/ports/delay-reader';
import type { ExperimentStore } from '../domain/ports/experiment-store';
import { SEND_BUCKET_SECONDS } from '../domain/time';

export type MutableCount = { bucketStart: number; variantId: string } & Counts;

/** One row per (send bucket, variant), buckets in time order from 0, variants in definition order. */
export class CampaignCounters implements CounterReader {
  readonly rows: MutableCount[] = [];
  /** Every row of each variant summed (bucket 0): what a policy without decay or delay weighting needs. */
  readonly totals: MutableCount[];

  constructor(private readonly variantIds: readonly string[]) {
    this.totals = variantIds.map((variantId) => ({ bucketStart: 0, variantId, ...zeroCounts() }));
  }

  /** Told of every change after it is made. */
  onChange: ((row: number, field: CounterField, count: number) => void) | null = null;

  add(row: number, field: CounterField, count = 1): void {
    this.rows[row]![field] += count;
    this.totals[row % this.variantIds.length]![field] += count;
    this.onChange?.(row, field, count);
  }

  /**
   * `sends` sends made evenly over [from, to) (one send bucket): the recipients and when they were sent, as the
   * ledger records them (domain/counting.ts sendIncrements, each send at the middle of its second).
   */
  addSends(row: number, sends: number, from: number, to: number): void {
    const bucketStart = this.rows[row]!.bucketStart;
    const a = from - bucketStart;
    const b = to - bucketStart;
    const mean = (a + b) / 2;
    const meanSquare = (a * a + a * b + b * b) / 3;
    this.add(row, 'sends', sends);
    this.add(row, 'sendSeconds', sends * (mean + 0.5));
    this.add(row, 'sendSecondsSquared', sends * (meanSquare + mean + 0.25));
  }

  /** The row of `variant` for sends made at `sentAt`, created (with its bucket) when first needed. */
  rowIndex(sentAt: number, variant: number): number {
    const bucket = Math.floor(sentAt / SEND_BUCKET_SECONDS);
    while (this.rows.length <= bucket * this.variantIds.length + variant) {
      const bucketStart = (this.rows.length / this.variantIds.length) * SEND_BUCKET_SECONDS;
      for (const variantId of this.variantIds) this.rows.push({ bucketStart, variantId, ...zeroCounts() });
    }
    return bucket * this.variantIds.length + variant;
  }

  async read(_tenantId: string, _experimentId: string, options: CounterReadOptions = {}) {
    return this.since(options.since);
  }

  since(since?: number): SendBucketCount[] {
    if (since === undefined || since <= 0) return this.rows;
    const first = Math.ceil(since / SEND_BUCKET_SECONDS) * this.variantIds.length;
    return this.rows.slice(first);
  }
}

/** The tenant's recorded delays per reward kind, as the ledger counts them: one per first reward, when seen. */
export class TenantDelays implements DelayReader {
  private readonly counts = new Map<RewardKind, number[]>();

  record(kind: RewardKind, bucket: number): void {
    let counts = this.counts.get(kind);
    if (!counts) {
      counts = new Array<number>(DELAY_BUCKETS).fill(0);
      this.counts.set(kind, counts);
    }
    counts[bucket]!++;
  }

  async histogram(_tenantId: string, kind: RewardKind): Promise<DelayHistogram> {
    return this.current(kind);
  }

  /** A copy: what a read returns is as of the read. */
  current(kind: RewardKind): DelayHistogram {
    return { counts: [...(this.counts.get(kind) ?? new Array<number>(DELAY_BUCKETS).fill(0))] };
  }
}

/** The experiment's head and settled sums; the only writer always gets the lease. */
export class CampaignAllocations implements AllocationStore {
  snapshot: AllocationSnapshot | null = null;
  private settledCounts: SettledCounts | null = null;
  private epoch = 0;

  async head() {
    return { definitionVersion: 1, snapshot: this.snapshot, leaseUntil: 0 };
  }

  async acquireLease() {
    return ++this.epoch;
  }

  async publish(
    _tenantId: string,
    _experimentId: string,
    epoch: number,
    snapshot: AllocationSnapshot,
    settled: SettledCounts | null,
  ) {
    if (epoch !== this.epoch) return false;
    this.snapshot = snapshot;
    if (settled) this.settledCounts = settled;
    return true;
  }

  async settled() {
    return this.settledCounts;
  }
}

/** Only `auto_finish` writes the definition, and simulated experiments never finish themselves. */
export function fixedExperiment(experiment: Experiment): ExperimentStore {
  const refuse = async (): Promise<never> => {
    throw new Error('The simulation does not change its experiment');
  };
  return {
    get: async () => experiment,
    list: async () => [experiment],
    listPage: async () => ({ experiments: [experiment], nextCursor: null }),
    save: refuse,
  };
}
