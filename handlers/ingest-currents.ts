// S3 ObjectCreated on the Currents bucket: each new Avro file becomes rewards. Records are processed one by
// one; a bad file is logged as failed and does not stop the others; a store outage fails the invocation
// after the whole batch was tried, so Lambda retries it (idempotently) and its on-failure destination keeps it.
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

export function createIngestCurrents(stores: Stores, s3: S3Client) {
  const ingestion = currentsIngestion(stores);

  return async function ingestCurrents(event: S3Event) {
    const results = [];
    let transient: unknown = null;
    for (const record of event.Records ?? []) {
      const bucket = record.s3.bucket.name;
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      try {
        const result = await ingestion.ingest(key, s3EventSource(s3, bucket, key));
        logger.info('currents file', {
          bucket,
          key,
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
        logger.error('currents file not ingested; will be retried', { bucket, key, ...describeError(error) });
        transient = error;
      }
    }
    // Every file was tried; what the use case threw is to be retried (it decided, see classifyIngestionFailure).
    if (transient) throw transient;
    return { files: results.length };
  };
}

const config = readConfig();
export const ingestCurrents = createIngestCurrents(createStores(config), createS3Client(config));
export const handler = middy<S3Event, { files: number }>()
  .use(lambdaLogContext())
  .use(publishMetrics())
  .handler(ingestCurrents);
