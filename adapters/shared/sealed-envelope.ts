// The envelope both secret sealers write: `<scheme>.<key reference>.<iv>.<AES-256-GCM body + tag>`, the context
// (tenant and field) authenticated alongside, so a value copied to another tenant or field does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealEnvelope(
  scheme: string,
  keyReference: string,
  key: Buffer,
  plaintext: string,
  context: string,
): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return [scheme, keyReference, iv.toString('base64url'), body.toString('base64url')].join('.');
}

/** The key reference of an envelope of `scheme`; throws naming the scheme when it is not one. */
export function envelopeParts(
  sealed: string,
  scheme: string,
  kind: string,
): { keyReference: string; iv: string; body: string } {
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== scheme) {
    throw new Error(`a sealed secret is not a ${kind} envelope (${sealed.split('.')[0]?.slice(0, 8)}…)`);
  }
  const [, keyReference, iv, body] = parts as [string, string, string, string];
  return { keyReference, iv, body };
}

export function openEnvelope(key: Buffer, iv: string, body: string, context: string): string {
  const bytes = Buffer.from(body, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([
      decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch (error) {
    throw new Error(`a sealed secret does not open for ${context} (tampered, or sealed for another one)`, {
      cause: error,
    });
  }
}
