// What the local stack puts in place: the table, the `demo` tenant, `.weft/local-tenant.json` and the banner
// with the Connected Content snippet. Loads the AWS SDK: import it once serverless is already starting.

import { ensureTable } from '../adapters/dynamodb/table';
import { ConflictError } from '../domain/errors';
import type { TenantStore } from '../domain/ports/tenant-store';
import { connectedContentSnippet, formatSnippet } from '../domain/snippet';
import { type IssuedCredentials, issueTenant, rotateTenant, tokenMatches } from '../domain/tenant';
import { nowSeconds } from '../domain/time';
import { createStores, storeConfig } from '../handlers/shared/stage';
import {
  BUCKET,
  type Config,
  dynamodbEndpoint,
  FOLDER,
  localUrl,
  S3_KEY,
  StartError,
  s3Endpoint,
  TABLE,
  TENANT,
} from './config';
import { localDynamoDbClient } from './dynamodb-local';
import { type LocalTenant, localTenantPath, readLocalTenant, writeLocalTenant } from './local-tenant';

/** The experiment id the printed snippet uses. */
const SNIPPET_EXPERIMENT = 'spring-sale';

interface DemoTenant {
  readonly folder: string;
  readonly connect_token: string;
  readonly admin_token: string;
}

/** Creates the table if missing, and returns the demo tenant with tokens that work (DESIGN §7). */
export async function seedTable(config: Config): Promise<DemoTenant> {
  const client = localDynamoDbClient(dynamodbEndpoint(config));
  try {
    await ensureTable(client, TABLE);
    const store = createStores(storeConfig(TABLE), client).tenantStore;
    const saved = await readLocalTenant(config.dataDir);
    return (await savedTokensIfValid(store, saved)) ?? (await issueDemoTenant(store));
  } finally {
    client.destroy();
  }
}

/**
 * Tokens exist only where they were printed, so later starts reuse the file's; only while the tenant still
 * exists and still holds their hashes (it may have been rotated, or its data deleted).
 */
async function savedTokensIfValid(store: TenantStore, saved: LocalTenant | null): Promise<DemoTenant | null> {
  if (saved?.tenant !== TENANT) return null;
  const tenant = await store.get(TENANT);
  const valid =
    tenant !== null &&
    tokenMatches(saved.admin_token, tenant.adminTokenHash) &&
    tokenMatches(saved.connect_token, tenant.connectTokenHash);
  return valid
    ? { folder: tenant.folder, connect_token: saved.connect_token, admin_token: saved.admin_token }
    : null;
}

/** A first start creates the tenant; when it exists but its tokens were lost, rotation issues new ones. */
async function issueDemoTenant(store: TenantStore): Promise<DemoTenant> {
  const issued = issueTenant(TENANT, FOLDER, nowSeconds());
  try {
    await store.create(issued.tenant);
    return demoTenant(issued);
  } catch (error) {
    if (!(error instanceof ConflictError && error.code === 'tenant_exists'))
      throw cannotIssue('create', error);
  }
  try {
    const existing = await store.get(TENANT);
    if (!existing) throw new Error(`tenant ${TENANT} does not exist`);
    const rotated = rotateTenant(existing, nowSeconds());
    await store.replaceCredentials(rotated.tenant);
    return demoTenant(rotated);
  } catch (error) {
    throw cannotIssue('rotate', error);
  }
}

function demoTenant(issued: IssuedCredentials): DemoTenant {
  return { folder: issued.tenant.folder, connect_token: issued.connectToken, admin_token: issued.adminToken };
}

function cannotIssue(step: 'create' | 'rotate', error: unknown): StartError {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return new StartError(`could not ${step} the ${TENANT} tenant: ${message}${cause}`);
}

/** Everything a script needs to reach the stack and the demo tenant; written once the stack answers. */
export async function writeTenantFile(config: Config, demo: DemoTenant): Promise<LocalTenant> {
  const tenant: LocalTenant = {
    base_url: config.publicBaseUrl || localUrl(config),
    tenant: TENANT,
    folder: demo.folder,
    bucket: BUCKET,
    s3_endpoint: s3Endpoint(config),
    s3_access_key_id: S3_KEY,
    s3_secret_access_key: S3_KEY,
    dynamodb_endpoint: dynamodbEndpoint(config),
    connect_token: demo.connect_token,
    admin_token: demo.admin_token,
    table: TABLE,
  };
  await writeLocalTenant(config.dataDir, tenant);
  return tenant;
}

/** What `npm start` prints once up; the snippet is the text `weft snippet` prints and the API returns. */
export function banner(tenant: LocalTenant, config: Config, took: string): string {
  const snippet = formatSnippet(
    connectedContentSnippet({
      baseUrl: tenant.base_url,
      experimentId: SNIPPET_EXPERIMENT,
      connectToken: tenant.connect_token,
    }),
  );
  return [
    '',
    `weft local stack is up (${took}). Ctrl-C stops it.`,
    '',
    `  API            ${tenant.base_url}`,
    `  Dashboard      ${tenant.base_url}/dashboard#token=${tenant.admin_token}`,
    `  Tenant         ${tenant.tenant} (Currents folder "${tenant.folder}")`,
    `  Connect token  ${tenant.connect_token}`,
    `  Admin token    ${tenant.admin_token}`,
    `  Currents S3    ${tenant.s3_endpoint}  bucket ${tenant.bucket}  key ${tenant.s3_access_key_id} / ${tenant.s3_secret_access_key}`,
    `  DynamoDB       ${tenant.dynamodb_endpoint}  table ${TABLE}`,
    `  Data           ${config.dataDir}  (these values: ${localTenantPath(config.dataDir)})`,
    '',
    'Connected Content (Braze must be able to reach the URL: set WEFT_PUBLIC_BASE_URL to a tunnel for that):',
    '',
    snippet,
  ].join('\n');
}
