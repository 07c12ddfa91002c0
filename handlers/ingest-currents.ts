// S3 ObjectCreated on the Currents bucket: each new Avro file becomes rewards. Records are processed one by
// one; a bad file (or a key the event garbled) is logged as failed and does not stop the others; a record
// from any other bucket is skipped unread; a store outage fails the invocation after the whole batch was
// tried, so Lambda retries it (idempotently) and its on-failure destination keeps it.
import { S3Client } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { S3Event } from 'aws-lambda';
import { s3EventSource } from '../adapters/s3/currents-source';
import { type Config, readConfig } from './shared/config';
import { describeError, lambdaLogContext, logger } from './shared/logger';
import { count, publishMetrics } from './shared/metrics';
import { createStores, currentsIngestion, type Stores } from './shared/stage';

export function createS3Client(config: Config): S3Client {
  return new S3Client({
    region: config.s3Endpoint ? 'us-east-1' : config.region,
    ...(config.s3Endpoint
      ? {
          endpoint: config.s3Endpoint,
          forcePathStyle: true,
          credentials: config.s3Credentials ?? { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}

/** The key an S3 event names, URL-encoded with spaces as `+`; null when its encoding is broken. */
export function decodeS3Key(encoded: string): string | null {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

export const MALFORMED_KEY_REASON =
  'the object key in the S3 event is not valid URL encoding (a malformed % escape), so the object cannot be named';

export interface IngestOutcome {
  /** Records of the Currents bucket tried (ingested, skipped or failed). */
  files: number;
  /** Records of any other bucket, skipped without reading their objects. */
  otherBuckets: number;
}

/**
 * `currentsBucket` is the one bucket whose objects are read (WEFT_CURRENTS_BUCKET): events for any other
 * bucket (a misrouted notification, a hand-made invoke) are skipped unread. Unset, nothing is read.
 */
export function createIngestCurrents(
  stores: Stores,
  s3: S3Client,
  currentsBucket: string | null = stores.config.currentsBucket,
) {
  const ingestion = currentsIngestion(stores);

  return async function ingestCurrents(event: S3Event): Promise<IngestOutcome> {
    const results = [];
    let otherBuckets = 0;
    let transient: unknown = null;
    for (const record of event.Records ?? []) {
      const bucket = record.s3?.bucket?.name;
      const encodedKey = record.s3?.object?.key ?? '';
      if (currentsBucket === null || bucket !== currentsBucket) {
        otherBuckets++;
        // Bounded: a hand-made event can carry anything.
        logger.warn('s3 event for another bucket skipped; its object was not read', {
          bucket: String(bucket).slice(0, 255),
          key: encodedKey.slice(0, 1024),
          expected: currentsBucket,
        });
        continue;
      }
      try {
        const key = decodeS3Key(encodedKey);
        const result =
          key === null
            ? await ingestion.fail(encodedKey, MALFORMED_KEY_REASON)
            : await ingestion.ingest(key, s3EventSource(s3, bucket, key));
        logger.info('currents file', {
          bucket,
          key: key ?? encodedKey,
          status: result.status,
          reason: result.reason,
          events: result.events,
          attributed: result.attributed,
          duplicates: result.duplicates,
          bots: result.bots,
        });
        count('RewardsCounted', result.attributed);
        count('AttributionMisses', result.unattributed);
        count('SendRecordedFromReward', result.sendsRecorded);
        if (result.status === 'failed') count('FailedFiles');
        results.push(result);
      } catch (error) {
        logger.error('currents file not ingested; will be retried', {
          bucket,
          key: encodedKey,
          ...describeError(error),
        });
        transient = error;
      }
    }
    // Every file was tried; what the use case threw is to be retried (it decided, see classifyIngestionFailure).
    if (transient) throw transient;
    return { files: results.length, otherBuckets };
  };
}

const config = readConfig();
export const ingestCurrents = createIngestCurrents(createStores(config), createS3Client(config));
export const handler = middy<S3Event, IngestOutcome>()
  .use(lambdaLogContext())
  .use(publishMetrics())
  .handler(ingestCurrents);
