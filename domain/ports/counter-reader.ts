import type { CallOptions } from './assignment-ledger';

/** Sends and unique rewards of one variant, for the sends made in one send bucket (SEND_BUCKET_SECONDS). */
export interface SendBucketCount {
  /** Start of the send bucket, unix seconds. */
  readonly bucketStart: number;
  readonly variantId: string;
  readonly sends: number;
  readonly opens: number;
  readonly clicks: number;
}

export interface CounterReadOptions extends CallOptions {
  /** Only send buckets starting at or after this (unix seconds); every bucket when absent. */
  readonly since?: number;
}

export interface CounterReader {
  /** The experiment's send buckets, shards already summed. */
  read(tenantId: string, experimentId: string, options?: CounterReadOptions): Promise<SendBucketCount[]>;
}
