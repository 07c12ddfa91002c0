// Recipients enter weft as a raw id or as its SHA-256 hex digest (Liquid `| sha2`); both become the digest,
// and only a keyed hash of the digest is ever stored.
import { createHmac, hash } from 'node:crypto';

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const REDACTED = /^\[?redacted\]?$/i;

/** The SHA-256 hex digest of a recipient id, or the id itself (lower-cased) when it already is one. */
export function recipientDigest(rawOrDigest: string): string | null {
  const value = rawOrDigest.trim();
  if (value === '' || REDACTED.test(value)) return null;
  if (value.length === 64 && SHA256_HEX.test(value)) return value.toLowerCase();
  // One-shot hash: about twice as fast as createHash() for short ids (it runs once per Currents event).
  return hash('sha256', value, 'hex');
}

/** The keyed hash stored in place of a recipient: HMAC-SHA-256 of the digest with the tenant's recipient key. */
export function recipientKey(recipientKeySecret: string, digest: string): string {
  return createHmac('sha256', recipientKeySecret).update(digest, 'utf8').digest('base64url');
}
