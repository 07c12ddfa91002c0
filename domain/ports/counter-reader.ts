import type { CallOptions } from './assignment-ledger';

/** Sends and unique rewards of one variant, for the sends made in one hour. */
export interface HourlyCount {
  /** Start of the send hour, unix seconds. */
  readonly hour: number;
  readonly variantId: string;
  readonly sends: number;
  readonly opens: number;
  readonly clicks: number;
}

export interface CounterReader {
  /** Every hour bucket of the experiment, shards already summed. */
  read(tenantId: string, experimentId: string, options?: CallOptions): Promise<HourlyCount[]>;
}
