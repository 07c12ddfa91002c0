// `.weft/local-tenant.json`: how scripts, checks and tests find the local stack and its demo tenant (DESIGN §7).
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCAL_TENANT_FILE = 'local-tenant.json';

/** Keys that scripts and checks rely on: keep them. */
export const LOCAL_TENANT_KEYS = [
  'base_url',
  'tenant',
  'folder',
  'bucket',
  's3_endpoint',
  's3_access_key_id',
  's3_secret_access_key',
  'dynamodb_endpoint',
  'connect_token',
  'admin_token',
] as const;

export type LocalTenant = { readonly [K in (typeof LOCAL_TENANT_KEYS)[number]]: string } & {
  readonly table?: string;
};

export function localTenantPath(dataDir: string): string {
  return join(dataDir, LOCAL_TENANT_FILE);
}

/** The file's content, or null when it is missing or incomplete. */
export async function readLocalTenant(dataDir: string): Promise<LocalTenant | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(localTenantPath(dataDir), 'utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const record = parsed as Record<string, unknown>;
  return LOCAL_TENANT_KEYS.every((key) => typeof record[key] === 'string') ? (record as LocalTenant) : null;
}

/** Written whole or not at all (readers poll for it), and readable only by its owner: it holds tokens. */
export async function writeLocalTenant(dataDir: string, tenant: LocalTenant): Promise<void> {
  const path = localTenantPath(dataDir);
  const ordered: Record<string, string> = {};
  for (const key of LOCAL_TENANT_KEYS) ordered[key] = tenant[key];
  if (tenant.table !== undefined) ordered['table'] = tenant.table;
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(ordered, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}
