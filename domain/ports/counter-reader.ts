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

export interface CounterReader {
  /** Every send bucket of the experiment, shards already summed. */
  read(tenantId: string, experimentId: string, options?: CallOptions): Promise<SendBucketCount[]>;
}
