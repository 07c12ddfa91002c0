// `weft replay <s3 prefix>`: re-ingests the Currents files under a prefix through the very CurrentsIngestion
// the Lambda runs. Idempotent: every reward is a conditional write in the ledger, so replaying a file that was
// already ingested (or replaying twice) counts nothing twice.
//
// Permissions: the Lambda never lists the bucket (S3 hands it each key), but replay does, so the operator's
// credentials need s3:ListBucket on the Currents bucket (ListObjectsV2; may be limited with an s3:prefix
// condition) and s3:GetObject on its objects, plus the ingest function's DynamoDB actions on the table.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { s3EventSource } from '../adapters/s3/currents-source';
import type { CurrentsIngestion } from '../domain/ingestion';
import type { IngestionStatus } from '../domain/ports/ingestion-log';
import { createStores, currentsIngestion, storeConfig } from '../handlers/shared/stage';
import { type StoreFlags, s3Context, storeContext } from './context';
import { progressBar } from './progress';

export interface ReplaySummary {
  files: number;
  ok: number;
  skipped: number;
  failed: number;
  attributed: number;
  duplicates: number;
}

export interface ReplayFileResult {
  key: string;
  status: IngestionStatus;
  reason: string | null;
  attributed: number;
  duplicates: number;
}

export interface ReplayOptions {
  s3: S3Client;
  bucket: string;
  prefix: string;
  ingestion: CurrentsIngestion;
  /** Called after each file, and once with done = 0 when the listing is complete. */
  onProgress?: (done: number, total: number, file: ReplayFileResult | null) => void;
  /** Files ingested at once (default 4). */
  concurrency?: number;
  /** Keys per ListObjectsV2 page (S3's default, 1,000, when absent). */
  pageSize?: number;
}

/** The ingestion the ingest-currents Lambda builds, on the given table. */
export function replayIngestion(client: DynamoDBClient, tableName: string): CurrentsIngestion {
  return currentsIngestion(createStores(storeConfig(tableName), client));
}

/** Every `.avro` key under the prefix, in the order S3 lists them (ListObjectsV2, all pages). */
export async function listAvroKeys(
  s3: S3Client,
  bucket: string,
  prefix: string,
  pageSize?: number,
): Promise<string[]> {
  const keys: string[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        ContinuationToken: continuationToken,
        ...(pageSize === undefined ? {} : { MaxKeys: pageSize }),
      }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key?.endsWith('.avro')) keys.push(object.Key);
    }
    continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (continuationToken);
  return keys;
}

/**
 * Lists and ingests every `.avro` object under the prefix. A file the ingestion rejects is `failed` (or
 * `skipped`) as the Lambda would log it; a transient store or S3 error is tried once more, then counted as
 * failed with its reason, and the replay goes on (re-running it later is safe).
 */
export async function replayPrefix(
  options: ReplayOptions,
): Promise<ReplaySummary & { results: ReplayFileResult[] }> {
  const keys = await listAvroKeys(options.s3, options.bucket, options.prefix, options.pageSize);
  const results: ReplayFileResult[] = new Array(keys.length);
  options.onProgress?.(0, keys.length, null);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < keys.length) {
      const index = next++;
      const result = await replayFile(options, keys[index]!);
      results[index] = result;
      options.onProgress?.(++done, keys.length, result);
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, keys.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    files: keys.length,
    ok: results.filter((r) => r.status === 'ok').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    failed: results.filter((r) => r.status === 'failed').length,
    attributed: results.reduce((sum, r) => sum + r.attributed, 0),
    duplicates: results.reduce((sum, r) => sum + r.duplicates, 0),
    results,
  };
}

async function replayFile(options: ReplayOptions, key: string): Promise<ReplayFileResult> {
  let lastError: unknown = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const entry = await options.ingestion.ingest(key, s3EventSource(options.s3, options.bucket, key));
      return {
        key,
        status: entry.status,
        reason: entry.reason,
        attributed: entry.attributed,
        duplicates: entry.duplicates,
      };
    } catch (error) {
      lastError = error;
    }
  }
  const cause =
    lastError instanceof Error && lastError.cause instanceof Error ? `: ${lastError.cause.message}` : '';
  const reason = `${lastError instanceof Error ? lastError.message : String(lastError)}${cause}`;
  return { key, status: 'failed', reason, attributed: 0, duplicates: 0 };
}

/** `s3://bucket/prefix` names its bucket; a bare prefix uses the Currents bucket. */
export function parseS3Prefix(value: string): { bucket: string | null; prefix: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(value);
  return match ? { bucket: match[1]!, prefix: match[2]! } : { bucket: null, prefix: value };
}

type ReplayFlags = StoreFlags & { bucket?: string; json?: boolean; concurrency?: string };

export function registerReplay(program: Command): void {
  program
    .command('replay <prefix>')
    .description(
      're-ingest the Currents files under an S3 prefix (e.g. acme/ or s3://bucket/acme/); idempotent. Needs s3:ListBucket and s3:GetObject on the bucket',
    )
    .option(
      '--bucket <bucket>',
      'Currents bucket (default: the local stack’s, WEFT_CURRENTS_BUCKET, or weft-currents-<stage>)',
    )
    .option('--concurrency <n>', 'files ingested at once (default 4)')
    .option('--stage <stage>', 'deployed stage (table weft-<stage>, bucket weft-currents-<stage>)')
    .option('--table <name>', 'DynamoDB table name')
    .option('--region <region>', 'AWS region')
    .option('--endpoint <url>', 'DynamoDB endpoint (local stack)')
    .option('--json', 'machine-readable summary')
    .action(async (prefixArg: string, options: ReplayFlags) => {
      const concurrency = options.concurrency === undefined ? 4 : Number(options.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
        throw new Error(`--concurrency must be a whole number from 1 to 64 (got ${options.concurrency})`);
      }
      const parsed = parseS3Prefix(prefixArg);
      const bucketFlag = options.bucket ?? parsed.bucket ?? undefined;
      const s3 = s3Context({ ...options, ...(bucketFlag ? { bucket: bucketFlag } : {}) });
      const store = storeContext(options);
      const startedAt = Date.now();
      const bar = progressBar('replay');
      try {
        const summary = await replayPrefix({
          s3: s3.client,
          bucket: s3.bucket,
          prefix: parsed.prefix,
          ingestion: replayIngestion(store.client, store.tableName),
          concurrency,
          onProgress: bar.update,
        });
        bar.done(); // Before the summary, on its own line.
        const failures = summary.results.filter((r) => r.status === 'failed');
        if (options.json) {
          const { results: _results, ...counts } = summary;
          for (const failure of failures) process.stderr.write(`failed: ${failure.key}: ${failure.reason}\n`);
          process.stdout.write(`${JSON.stringify(counts)}\n`);
        } else {
          const lines = [
            `Replayed s3://${s3.bucket}/${parsed.prefix}: ${summary.files} files (${summary.ok} ok, ${summary.skipped} skipped, ${summary.failed} failed) in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`,
            `New rewards counted: ${summary.attributed}; duplicates (already counted or repeated): ${summary.duplicates}.`,
            ...summary.results
              .filter((r) => r.status !== 'ok')
              .map((r) => `  ${r.status}: ${r.key}: ${r.reason ?? ''}`),
          ];
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        if (failures.length > 0) process.exitCode = 1;
      } finally {
        bar.done();
        s3.client.destroy();
        store.client.destroy();
      }
    });
}
