import type { Counts } from '../counting';
import type { CallOptions } from './assignment-ledger';

/**
 * Sends and unique rewards of one variant, for the sends made in one send bucket (SEND_BUCKET_SECONDS): every
 * counter of domain/counting.ts.
 */
export interface SendBucketCount extends Readonly<Counts> {
  /** Start of the send bucket, unix seconds. */
  readonly bucketStart: number;
  readonly variantId: string;
}

export interface CounterReadOptions extends CallOptions {
  /** Only send buckets starting at or after this (unix seconds); every bucket when absent. */
  readonly since?: number;
}

export interface CounterReader {
  /** The experiment's send buckets, shards already summed. */
  read(tenantId: string, experimentId: string, options?: CounterReadOptions): Promise<SendBucketCount[]>;
}
