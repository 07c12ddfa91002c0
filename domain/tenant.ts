// Tenants and their credentials. Bearer tokens name their tenant and scope; only their SHA-256 is stored.
// Each credential rotates on its own: the admin token at once (a leaked dashboard link), the connect token with
// a grace period (live Braze templates keep rendering while they are updated), the signing secret with every
// token it signed still verifying until that token's maximum age.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from './errors';

export const ID_PATTERN = /^[a-z0-9_-]{1,64}$/;
const FOLDER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/**
 * Tenant ids the code uses for itself (`_unowned` files in the ingestion log) or that a missing value turns
 * into; every id starting with `_` is reserved as well.
 */
export const RESERVED_TENANT_IDS: readonly string[] = ['_unowned', 'null', 'undefined'];

/** How long tracking tokens count, by default: the assignment TTL's default (an older send is forgotten). */
export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 30 * 86_400;
/** An old signing secret verifies at least this long after a rotation, and at least the maximum token age. */
export const SIGNING_GRACE_SECONDS = 90 * 24 * 3600;
/** How long a replaced connect token keeps working, unless the rotation says otherwise. */
export const DEFAULT_CONNECT_GRACE_SECONDS = 7 * 86_400;
export const MAX_CONNECT_GRACE_SECONDS = 90 * 86_400;
/** Replaced connect tokens still in their grace period that a tenant keeps (the oldest goes first). */
const MAX_RETIRED_CONNECT_TOKENS = 5;
/**
 * A tenant upgraded from tenant-wide pseudonyms gives per-experiment ones to experiments created this long after
 * the upgrade: clocks of the CLI and of the admin function may disagree, and an experiment created before the
 * upgrade must keep the pseudonyms its assignments were stored under.
 */
export const PSEUDONYM_UPGRADE_MARGIN_SECONDS = 300;

export type TokenScope = 'connect' | 'admin';

export interface SigningSecret {
  readonly secret: string;
  /** Unix seconds after which tokens signed with it no longer verify; absent for the current secret. */
  readonly retiresAt?: number;
}

/** A replaced connect token, still accepted until `retiresAt` (unix seconds). */
export interface RetiredToken {
  readonly hash: string;
  readonly retiresAt: number;
}

export interface Tenant {
  readonly id: string;
  readonly folder: string;
  readonly connectTokenHash: string;
  /** Connect tokens replaced by a rotation and still in their grace period. */
  readonly retiredConnectTokens: readonly RetiredToken[];
  readonly adminTokenHash: string;
  /** Current first, then retired ones still inside their grace period. Stored sealed. */
  readonly signingSecrets: readonly SigningSecret[];
  /** Keys the recipient hash; never rotated, or every sticky assignment would be lost. Stored sealed. */
  readonly recipientKey: string;
  /**
   * Experiments created at or after this time (unix seconds) store and sign a per-experiment pseudonym of each
   * recipient; older ones keep the tenant-wide pseudonym their assignments were stored under. 0 for a tenant
   * created with per-experiment pseudonyms; null for one from before them that was never upgraded.
   */
  readonly experimentPseudonymsSince: number | null;
  readonly createdAt: number;
}

export interface IssuedCredentials {
  readonly tenant: Tenant;
  readonly connectToken: string;
  readonly adminToken: string;
}

const SCOPE_PREFIX: Record<TokenScope, string> = { connect: 'wc', admin: 'wa' };

export function isReservedTenantId(id: string): boolean {
  return id.startsWith('_') || RESERVED_TENANT_IDS.includes(id);
}

export function validateTenantId(id: unknown): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ValidationError('tenant', 'must be 1-64 characters of a-z, 0-9, _ or -');
  }
  if (isReservedTenantId(id)) {
    throw new ValidationError(
      'tenant',
      `"${id}" is reserved for weft's own use (ids starting with _, and ${RESERVED_TENANT_IDS.filter((r) => !r.startsWith('_')).join(', ')})`,
    );
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

const newSecret = () => randomBytes(32).toString('base64url');

/** Reads the tenant and scope a bearer token claims; whether it is genuine is `tokenMatches`'s job. */
export function parseBearerToken(token: string): { scope: TokenScope; tenantId: string } | null {
  if (token.length > 200) return null;
  const [prefix, tenantId, secret, extra] = token.split('.');
  if (extra !== undefined || !tenantId || !secret || !ID_PATTERN.test(tenantId)) return null;
  // No tenant has a reserved id: such a token is refused without a store read.
  if (isReservedTenantId(tenantId)) return null;
  const scope = prefix === 'wc' ? 'connect' : prefix === 'wa' ? 'admin' : null;
  return scope ? { scope, tenantId } : null;
}

export function tokenMatches(token: string, storedHash: string): boolean {
  return matchingHash(token, [storedHash]) !== null;
}

/** The one of `storedHashes` the token hashes to, compared in constant time; null when none. */
export function matchingHash(token: string, storedHashes: readonly string[]): string | null {
  const presented = Buffer.from(hashToken(token), 'hex');
  let found: string | null = null;
  for (const hash of storedHashes) {
    const stored = Buffer.from(hash, 'hex');
    if (presented.length === stored.length && timingSafeEqual(presented, stored)) found = hash;
  }
  return found;
}

/** The hashes a bearer token of `scope` may match now: the admin token alone; the connect token and those in grace. */
export function acceptedTokenHashes(tenant: Tenant, scope: TokenScope, now: number): string[] {
  if (scope === 'admin') return [tenant.adminTokenHash];
  return [
    tenant.connectTokenHash,
    ...tenant.retiredConnectTokens.filter((t) => t.retiresAt > now).map((t) => t.hash),
  ];
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
      retiredConnectTokens: [],
      adminTokenHash: hashToken(adminToken),
      signingSecrets: [{ secret: newSecret() }],
      recipientKey: newSecret(),
      experimentPseudonymsSince: 0,
      createdAt: now,
    },
  };
}

/** A grace period in days, as the CLI takes it: a whole or fractional number from 0 to 90. */
export function graceSecondsFromDays(days: unknown): number {
  const value = typeof days === 'string' && days.trim() !== '' ? Number(days) : days;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError('grace-days', 'must be a number of days from 0 to 90');
  }
  const seconds = Math.round(value * 86_400);
  if (seconds > MAX_CONNECT_GRACE_SECONDS)
    throw new ValidationError('grace-days', 'must be a number of days from 0 to 90');
  return seconds;
}

/** A new admin token; the old one stops working as soon as every container has re-read the tenant. */
export function rotateAdminToken(tenant: Tenant, _now: number): { tenant: Tenant; adminToken: string } {
  const adminToken = mintToken('admin', tenant.id);
  return { adminToken, tenant: { ...tenant, adminTokenHash: hashToken(adminToken) } };
}

/**
 * A new connect token. The old one keeps working for `graceSeconds` (Braze templates still send it until they
 * are updated); every token replaced earlier stops by then too, so a rotation with no grace revokes them all.
 */
export function rotateConnectToken(
  tenant: Tenant,
  now: number,
  graceSeconds = DEFAULT_CONNECT_GRACE_SECONDS,
): { tenant: Tenant; connectToken: string; graceUntil: number } {
  const connectToken = mintToken('connect', tenant.id);
  const graceUntil = now + Math.max(0, graceSeconds);
  const retired = [{ hash: tenant.connectTokenHash, retiresAt: graceUntil }, ...tenant.retiredConnectTokens]
    .map((t) => ({ hash: t.hash, retiresAt: Math.min(t.retiresAt, graceUntil) }))
    .filter((t) => t.retiresAt > now)
    .slice(0, MAX_RETIRED_CONNECT_TOKENS);
  return {
    connectToken,
    graceUntil,
    tenant: { ...tenant, connectTokenHash: hashToken(connectToken), retiredConnectTokens: retired },
  };
}

/**
 * A new signing secret. The old one verifies for as long as a token it signed may still count (the maximum
 * token age), and at least SIGNING_GRACE_SECONDS; secrets past their own retirement are dropped.
 */
export function rotateSigningSecret(
  tenant: Tenant,
  now: number,
  maxTokenAgeSeconds = DEFAULT_MAX_TOKEN_AGE_SECONDS,
): Tenant {
  const [current, ...older] = tenant.signingSecrets;
  const stillValid = older.filter((s) => (s.retiresAt ?? 0) > now);
  const retiresAt = now + Math.max(SIGNING_GRACE_SECONDS, maxTokenAgeSeconds);
  const retired = current ? [{ secret: current.secret, retiresAt }] : [];
  return { ...tenant, signingSecrets: [{ secret: newSecret() }, ...retired, ...stillValid] };
}

export interface RotateOptions {
  /** How long the replaced connect token keeps working (default 7 days). */
  readonly connectGraceSeconds?: number;
  readonly maxTokenAgeSeconds?: number;
}

/** Everything at once: new connect and admin tokens and a new signing secret (`weft tenant rotate --all`). */
export function rotateTenant(
  tenant: Tenant,
  now: number,
  options: RotateOptions = {},
): IssuedCredentials & { connectGraceUntil: number } {
  const connect = rotateConnectToken(tenant, now, options.connectGraceSeconds);
  const admin = rotateAdminToken(connect.tenant, now);
  return {
    connectToken: connect.connectToken,
    adminToken: admin.adminToken,
    connectGraceUntil: connect.graceUntil,
    tenant: rotateSigningSecret(admin.tenant, now, options.maxTokenAgeSeconds),
  };
}

export function verificationSecrets(tenant: Tenant, now: number): string[] {
  return tenant.signingSecrets
    .filter((s) => s.retiresAt === undefined || s.retiresAt > now)
    .map((s) => s.secret);
}
