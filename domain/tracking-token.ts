// Tracking tokens ride in links (`weft=`) and pixel URLs. They are signed with the tenant's secret so that
// verifying one needs no store read, and they carry only ids, the recipient's pseudonym in the experiment and
// sealed times: nothing personal, and nothing two experiments' tokens for the same person have in common.
//
//   version 1:  1.<tenant>.<experiment>.<variant>.<pseudonym>.<sent at, base 36>.<signature>
//   version 2:  2.<tenant>.<experiment>.<variant>.<pseudonym>.<sealed times>.<signature>
//
// Version 2 seals its times (send time and expiry) with a keystream derived from the signature, a synthetic-IV
// construction: the same claims always give the same token (retries and other containers agree), and two tokens
// sent in the same second (a subject and a button of one email) share no time component. Version 1 tokens,
// already in inboxes, keep verifying; they carry no expiry, so the verifier's maximum age applies to them.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ID_PATTERN } from './tenant';

const SIGNATURE_BYTES = 16;
const RECIPIENT_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const V1_TIME_PATTERN = /^[0-9a-z]{1,9}$/;
/** Send time and expiry, six bytes each (unix seconds up to 2^48); an expiry of 0 means none was carried. */
const TIMES_BYTES = 12;
const SEALED_TIMES_PATTERN = /^[A-Za-z0-9_-]{16}$/;
const MAX_TIME = 2 ** 48 - 1;
const TIMES_LABEL = 'weft/tracking-token/v2/times.';
export const MAX_TOKEN_LENGTH = 512;

export interface TrackingClaims {
  readonly tenantId: string;
  readonly experimentId: string;
  readonly variantId: string;
  /** The recipient's pseudonym in the experiment, as stored on the assignment. */
  readonly recipientKey: string;
  /** Unix seconds of the assignment (the send), so rewards land in the send's hour and delays can be learned. */
  readonly sentAt: number;
  /** Unix seconds from which the token counts nothing; absent when the token carries no expiry. */
  readonly expiresAt?: number;
}

/** What a token claims before it is verified: enough to find the tenant (and the assignment) it names. */
export interface ClaimedToken {
  readonly version: 1 | 2;
  readonly tenantId: string;
  readonly experimentId: string;
  readonly variantId: string;
  readonly recipientKey: string;
}

function mac(secret: string, ...parts: Array<string | Buffer>): Buffer {
  const hmac = createHmac('sha256', secret);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

function xor(data: Buffer, mask: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ mask[i]!;
  return out;
}

function timesMask(secret: string, signature: Buffer): Buffer {
  return mac(secret, TIMES_LABEL, signature).subarray(0, TIMES_BYTES);
}

/** Signs a version 2 token. `expiresAt` should be set (the content service always sets it). */
export function signTrackingToken(claims: TrackingClaims, secret: string): string {
  const sentAt = Math.floor(claims.sentAt);
  const expiresAt = claims.expiresAt === undefined ? 0 : Math.floor(claims.expiresAt);
  if (!(sentAt >= 0 && sentAt <= MAX_TIME && expiresAt >= 0 && expiresAt <= MAX_TIME)) {
    throw new RangeError('tracking token times must be unix seconds');
  }
  const prefix = `2.${claims.tenantId}.${claims.experimentId}.${claims.variantId}.${claims.recipientKey}.`;
  const times = Buffer.alloc(TIMES_BYTES);
  times.writeUIntBE(sentAt, 0, 6);
  times.writeUIntBE(expiresAt, 6, 6);
  const signature = mac(secret, prefix, times).subarray(0, SIGNATURE_BYTES);
  const sealed = xor(times, timesMask(secret, signature));
  return `${prefix}${sealed.toString('base64url')}.${signature.toString('base64url')}`;
}

interface Parsed extends ClaimedToken {
  readonly token: string;
  readonly parts: readonly string[];
}

function parse(token: string): Parsed | null {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 7) return null;
  const [version, tenantId, experimentId, variantId, recipientKey, time] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (version !== '1' && version !== '2') return null;
  if (![tenantId, experimentId, variantId].every((id) => ID_PATTERN.test(id))) return null;
  if (!RECIPIENT_KEY_PATTERN.test(recipientKey)) return null;
  if (!(version === '1' ? V1_TIME_PATTERN : SEALED_TIMES_PATTERN).test(time)) return null;
  return { version: version === '1' ? 1 : 2, tenantId, experimentId, variantId, recipientKey, token, parts };
}

/** The claims a token makes, unverified: enough to find the tenant whose secrets verify it. */
export function readTrackingToken(token: string): ClaimedToken | null {
  // Ingestion reads every event's token (most are repeats, routed without verifying): no copy made.
  return parse(token);
}

/** The canonical bytes of a base64url field of `bytes` bytes, or null (no second spelling of a token). */
function decodeExact(field: string, bytes: number): Buffer | null {
  const decoded = Buffer.from(field, 'base64url');
  return decoded.length === bytes && decoded.toString('base64url') === field ? decoded : null;
}

function verifyV1(parsed: Parsed, secrets: readonly string[]): TrackingClaims | null {
  const presented = decodeExact(parsed.parts[6]!, SIGNATURE_BYTES);
  if (!presented) return null;
  const payload = parsed.parts.slice(0, 6).join('.');
  for (const secret of secrets) {
    if (timingSafeEqual(presented, mac(secret, payload).subarray(0, SIGNATURE_BYTES))) {
      return claimsOf(parsed, Number.parseInt(parsed.parts[5]!, 36), undefined);
    }
  }
  return null;
}

function verifyV2(parsed: Parsed, secrets: readonly string[]): TrackingClaims | null {
  const sealed = decodeExact(parsed.parts[5]!, TIMES_BYTES);
  const presented = decodeExact(parsed.parts[6]!, SIGNATURE_BYTES);
  if (!sealed || !presented) return null;
  const prefix = parsed.token.slice(
    0,
    parsed.token.length - parsed.parts[5]!.length - parsed.parts[6]!.length - 1,
  );
  for (const secret of secrets) {
    const times = xor(sealed, timesMask(secret, presented));
    if (timingSafeEqual(presented, mac(secret, prefix, times).subarray(0, SIGNATURE_BYTES))) {
      const expiresAt = times.readUIntBE(6, 6);
      return claimsOf(parsed, times.readUIntBE(0, 6), expiresAt === 0 ? undefined : expiresAt);
    }
  }
  return null;
}

function claimsOf(parsed: Parsed, sentAt: number, expiresAt: number | undefined): TrackingClaims {
  const { tenantId, experimentId, variantId, recipientKey } = parsed;
  return {
    tenantId,
    experimentId,
    variantId,
    recipientKey,
    sentAt,
    ...(expiresAt === undefined ? {} : { expiresAt }),
  };
}

/** Verifies against any of the tenant's live secrets (current and those in their rotation grace period). */
export function verifyTrackingToken(token: string, secrets: readonly string[]): TrackingClaims | null {
  const parsed = parse(token);
  if (!parsed) return null;
  return parsed.version === 1 ? verifyV1(parsed, secrets) : verifyV2(parsed, secrets);
}

/**
 * When a verified token stops counting: its own expiry, and never later than `maxAgeSeconds` after its send
 * (version 1 tokens carry no expiry; a lowered maximum age applies to tokens already sent).
 */
export function trackingTokenExpiry(claims: TrackingClaims, maxAgeSeconds: number): number {
  const byAge = claims.sentAt + maxAgeSeconds;
  return claims.expiresAt === undefined ? byAge : Math.min(claims.expiresAt, byAge);
}
