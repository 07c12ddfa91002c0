// Tracking tokens ride in links (`weft=`) and pixel URLs. They are signed with the tenant's secret so that
// verifying one needs no store read, and they carry only ids and a keyed recipient hash: nothing personal.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ID_PATTERN } from './tenant';

const VERSION = '1';
const SIGNATURE_BYTES = 16;
const RECIPIENT_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const TIME_PATTERN = /^[0-9a-z]{1,9}$/;
export const MAX_TOKEN_LENGTH = 512;

export interface TrackingClaims {
  readonly tenantId: string;
  readonly experimentId: string;
  readonly variantId: string;
  /** Keyed hash of the recipient, as stored on the assignment. */
  readonly recipientKey: string;
  /** Unix seconds of the assignment (the send), so rewards land in the send's hour and delays can be learned. */
  readonly sentAt: number;
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret)
    .update(payload, 'utf8')
    .digest()
    .subarray(0, SIGNATURE_BYTES)
    .toString('base64url');
}

export function signTrackingToken(claims: TrackingClaims, secret: string): string {
  const payload = [
    VERSION,
    claims.tenantId,
    claims.experimentId,
    claims.variantId,
    claims.recipientKey,
    Math.floor(claims.sentAt).toString(36),
  ].join('.');
  return `${payload}.${sign(secret, payload)}`;
}

/** The claims a token makes, unverified: enough to find the tenant whose secrets verify it. */
export function readTrackingToken(
  token: string,
): (TrackingClaims & { payload: string; signature: string }) | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 7) return null;
  const [version, tenantId, experimentId, variantId, recipientKey, time, signature] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (version !== VERSION) return null;
  if (![tenantId, experimentId, variantId].every((id) => ID_PATTERN.test(id))) return null;
  if (!RECIPIENT_KEY_PATTERN.test(recipientKey) || !TIME_PATTERN.test(time)) return null;
  const payload = parts.slice(0, 6).join('.');
  return {
    tenantId,
    experimentId,
    variantId,
    recipientKey,
    sentAt: Number.parseInt(time, 36),
    payload,
    signature,
  };
}

/** Verifies against any of the tenant's live secrets (current and those in their rotation grace period). */
export function verifyTrackingToken(token: string, secrets: readonly string[]): TrackingClaims | null {
  const read = readTrackingToken(token);
  if (!read) return null;
  const presented = Buffer.from(read.signature, 'base64url');
  if (presented.length !== SIGNATURE_BYTES || presented.toString('base64url') !== read.signature) return null;
  for (const secret of secrets) {
    const expected = Buffer.from(sign(secret, read.payload), 'base64url');
    if (timingSafeEqual(presented, expected)) {
      const { payload: _p, signature: _s, ...claims } = read;
      return claims;
    }
  }
  return null;
}
