// Tenants and their credentials. Bearer tokens name their tenant and scope; only their SHA-256 is stored.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors';

export const ID_PATTERN = /^[a-z0-9_-]{1,64}$/;
const FOLDER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Old signing secrets keep verifying tracking tokens this long after a rotation (emails get opened late). */
export const SIGNING_GRACE_SECONDS = 90 * 24 * 3600;

export type TokenScope = 'connect' | 'admin';

export interface SigningSecret {
  readonly secret: string;
  /** Unix seconds after which tokens signed with it no longer verify; absent for the current secret. */
  readonly retiresAt?: number;
}

export interface Tenant {
  readonly id: string;
  readonly folder: string;
  readonly connectTokenHash: string;
  readonly adminTokenHash: string;
  /** Current first, then retired ones still inside their grace period. */
  readonly signingSecrets: readonly SigningSecret[];
  /** Keys the recipient hash; never rotated, or every sticky assignment would be lost. */
  readonly recipientKey: string;
  readonly createdAt: number;
}

export interface IssuedCredentials {
  readonly tenant: Tenant;
  readonly connectToken: string;
  readonly adminToken: string;
}

const SCOPE_PREFIX: Record<TokenScope, string> = { connect: 'wc', admin: 'wa' };

export function validateTenantId(id: unknown): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ValidationError('tenant', 'must be 1-64 characters of a-z, 0-9, _ or -');
  }
  return id;
}

export function validateFolder(folder: unknown): string {
  if (typeof folder !== 'string' || !FOLDER_PATTERN.test(folder)) {
    throw new ValidationError(
      'folder',
      'must be 1-128 characters of letters, digits, ., _ or -, starting with a letter or digit',
    );
  }
  return folder;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function mintToken(scope: TokenScope, tenantId: string): string {
  return `${SCOPE_PREFIX[scope]}.${tenantId}.${randomBytes(32).toString('base64url')}`;
}

/** Reads the tenant and scope a bearer token claims; whether it is genuine is `tokenMatches`'s job. */
export function parseBearerToken(token: string): { scope: TokenScope; tenantId: string } | null {
  if (token.length > 200) return null;
  const [prefix, tenantId, secret, extra] = token.split('.');
  if (extra !== undefined || !tenantId || !secret || !ID_PATTERN.test(tenantId)) return null;
  const scope = prefix === 'wc' ? 'connect' : prefix === 'wa' ? 'admin' : null;
  return scope ? { scope, tenantId } : null;
}

export function tokenMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashToken(token), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

export function issueTenant(id: string, folder: string, now: number): IssuedCredentials {
  const connectToken = mintToken('connect', validateTenantId(id));
  const adminToken = mintToken('admin', id);
  return {
    connectToken,
    adminToken,
    tenant: {
      id,
      folder: validateFolder(folder),
      connectTokenHash: hashToken(connectToken),
      adminTokenHash: hashToken(adminToken),
      signingSecrets: [{ secret: randomBytes(32).toString('base64url') }],
      recipientKey: randomBytes(32).toString('base64url'),
      createdAt: now,
    },
  };
}

/** New tokens and a new signing secret; the old secret keeps verifying tracking tokens for the grace period. */
export function rotateTenant(tenant: Tenant, now: number): IssuedCredentials {
  const connectToken = mintToken('connect', tenant.id);
  const adminToken = mintToken('admin', tenant.id);
  const [current, ...older] = tenant.signingSecrets;
  const stillValid = older.filter((s) => (s.retiresAt ?? 0) > now);
  const retired = current ? [{ secret: current.secret, retiresAt: now + SIGNING_GRACE_SECONDS }] : [];
  return {
    connectToken,
    adminToken,
    tenant: {
      ...tenant,
      connectTokenHash: hashToken(connectToken),
      adminTokenHash: hashToken(adminToken),
      signingSecrets: [{ secret: randomBytes(32).toString('base64url') }, ...retired, ...stillValid],
    },
  };
}

export function verificationSecrets(tenant: Tenant, now: number): string[] {
  return tenant.signingSecrets
    .filter((s) => s.retiresAt === undefined || s.retiresAt > now)
    .map((s) => s.secret);
}
