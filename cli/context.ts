// Where the CLI's commands find the store: flags, then environment, then the local stack's .weft/local-tenant.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { createStores, type Stores, storeConfig } from '../handlers/shared/stage';
import { type LocalTenant, localTenantPath } from '../local/local-tenant';

export interface StoreFlags {
  table?: string;
  region?: string;
  endpoint?: string;
  stage?: string;
}

export function dataDir(): string {
  return process.env.WEFT_DATA_DIR ?? join(process.cwd(), '.weft');
}

export function readLocalTenantFile(): LocalTenant | null {
  const file = localTenantPath(dataDir());
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalTenant) : null;
}

export interface StoreContext {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly local: LocalTenant | null;
  /** The stage's adapters, composed as the Lambda functions compose them. */
  readonly stores: Stores;
}

export function storeContext(flags: StoreFlags): StoreContext {
  const local = readLocalTenantFile();
  const deployed = Boolean(flags.stage || flags.table || flags.region || process.env.WEFT_TABLE);
  const endpoint =
    flags.endpoint ?? process.env.WEFT_DYNAMODB_ENDPOINT ?? (deployed ? undefined : local?.dynamodb_endpoint);
  const tableName =
    flags.table ??
    process.env.WEFT_TABLE ??
    (flags.stage ? `weft-${flags.stage}` : undefined) ??
    (endpoint ? (local?.table ?? 'weft-local') : undefined);
  if (!tableName) {
    throw new Error(
      'no store: start the local stack (npm start), or pass --stage <stage> / --table <name> (or set WEFT_TABLE)',
    );
  }
  const region = flags.region ?? process.env.AWS_REGION ?? (endpoint ? 'local' : 'eu-west-1');
  const client = new DynamoDBClient({
    region,
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  return {
    client,
    tableName,
    local: endpoint ? local : null,
    stores: createStores(storeConfig(tableName), client),
  };
}

export function s3Context(flags: StoreFlags & { bucket?: string }): { client: S3Client; bucket: string } {
  const local = readLocalTenantFile();
  const deployed = Boolean(flags.stage || flags.region || process.env.WEFT_CURRENTS_BUCKET);
  const bucket =
    flags.bucket ??
    process.env.WEFT_CURRENTS_BUCKET ??
    (flags.stage ? `weft-currents-${flags.stage}` : undefined) ??
    (deployed ? undefined : local?.bucket);
  if (!bucket) throw new Error('no bucket: start the local stack, or pass --bucket / --stage');
  const useLocal = !deployed && local && bucket === local.bucket;
  const client = new S3Client({
    region: flags.region ?? process.env.AWS_REGION ?? (useLocal ? 'us-east-1' : 'eu-west-1'),
    ...(useLocal
      ? {
          endpoint: local.s3_endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: local.s3_access_key_id, secretAccessKey: local.s3_secret_access_key },
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
  return { client, bucket };
}
