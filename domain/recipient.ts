// Recipients enter weft as a raw id or as its SHA-256 hex digest (Liquid `| sha2`); both become the digest,
// and only a keyed hash of the digest is ever stored: a pseudonym. Experiments created since per-experiment
// pseudonyms key it per experiment, so the same person has unrelated pseudonyms in two experiments (they travel
// in tracking tokens, to the customer's site); older experiments keep the tenant-wide one they were stored under.
import { createHmac, hash } from 'node:crypto';
import type { Tenant } from './tenant';

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const REDACTED = /^\[?redacted\]?$/i;
/** Derived per-experiment keys kept per process (32 bytes each, and a key string). */
const MAX_DERIVED_KEYS = 4096;

/** The SHA-256 hex digest of a recipient id, or the id itself (lower-cased) when it already is one. */
export function recipientDigest(rawOrDigest: string): string | null {
  const value = rawOrDigest.trim();
  if (value === '' || REDACTED.test(value)) return null;
  if (value.length === 64 && SHA256_HEX.test(value)) return value.toLowerCase();
  // One-shot hash: about twice as fast as createHash() for short ids (it runs once per Currents event).
  return hash('sha256', value, 'hex');
}

/** The tenant-wide pseudonym: HMAC-SHA-256 of the digest with the tenant's recipient key (older experiments). */
export function recipientKey(recipientKeySecret: string, digest: string): string {
  return createHmac('sha256', recipientKeySecret).update(digest, 'utf8').digest('base64url');
}

const derivedKeys = new Map<string, Buffer>();

/** The experiment's own key: HMAC of a label and the experiment id under the tenant's recipient key. */
function experimentKey(recipientKeySecret: string, experimentId: string): Buffer {
  const id = `${experimentId}\u0000${recipientKeySecret}`;
  let key = derivedKeys.get(id);
  if (!key) {
    key = createHmac('sha256', recipientKeySecret)
      .update(`weft/recipient-pseudonym/v2/${experimentId}`, 'utf8')
      .digest();
    if (derivedKeys.size >= MAX_DERIVED_KEYS) derivedKeys.clear();
    derivedKeys.set(id, key);
  }
  return key;
}

/** The per-experiment pseudonym: HMAC-SHA-256 of the digest with a key derived for this experiment alone. */
export function experimentRecipientKey(
  recipientKeySecret: string,
  experimentId: string,
  digest: string,
): string {
  return createHmac('sha256', experimentKey(recipientKeySecret, experimentId))
    .update(digest, 'utf8')
    .digest('base64url');
}

/**
 * The pseudonym a recipient has in an experiment: per experiment for experiments created since the tenant's
 * `experimentPseudonymsSince`, tenant-wide for older ones. `createdAt` undefined (the experiment is not known
 * yet) guesses per experiment unless the tenant has none; the caller checks again once the experiment is known.
 */
export function recipientPseudonym(
  tenant: Pick<Tenant, 'recipientKey' | 'experimentPseudonymsSince'>,
  experiment: { readonly id: string; readonly createdAt?: number },
  digest: string,
): string {
  const since = tenant.experimentPseudonymsSince;
  const perExperiment =
    since !== null && (experiment.createdAt === undefined || experiment.createdAt >= since);
  return perExperiment
    ? experimentRecipientKey(tenant.recipientKey, experiment.id, digest)
    : recipientKey(tenant.recipientKey, digest);
}
