// Envelope encryption under an AWS KMS key: a data key from KMS seals each value with AES-256-GCM, and the
// value carries that data key encrypted by KMS (never the key itself). Opening costs one KMS Decrypt per data
// key per container; the opened data key is kept, so a warm container re-reads a tenant without calling KMS.
//
//   kms1.<encrypted data key>.<iv>.<ciphertext and GCM tag>        (base64url fields; AAD: the value's context)

import {
  DecryptCommand,
  GenerateDataKeyCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { StoreUnavailableError } from '../../domain/errors';
import type { SecretSealer } from '../../domain/ports/secret-sealer';
import { envelopeParts, openEnvelope, sealEnvelope } from '../shared/sealed-envelope';

export const KMS_SCHEME = 'kms1';
/** Bound to every data key: the key policy can allow weft's roles to decrypt these data keys and nothing else. */
export const KMS_ENCRYPTION_CONTEXT = { app: 'weft', purpose: 'tenant-secrets' } as const;
/** A data key seals values for at most this long and this many times (one CLI run uses one data key). */
const DATA_KEY_MAX_AGE_MS = 5 * 60_000;
const DATA_KEY_MAX_USES = 10_000;
/** Opened data keys kept per container (32 bytes each): far more than the tenants one container serves. */
const MAX_OPEN_DATA_KEYS = 1_000;

interface SealingKey {
  readonly key: Promise<{ readonly plaintext: Buffer; readonly encrypted: string }>;
  readonly createdAt: number;
  uses: number;
}

export class KmsSecretSealer implements SecretSealer {
  private sealing: SealingKey | null = null;
  private readonly opened = new Map<string, Promise<Buffer>>();

  /** `keyId` (key ARN, key id or alias) is needed to seal; opening works without it (KMS reads it from the blob). */
  constructor(
    private readonly client: KMSClient,
    private readonly keyId: string | null,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Whether `sealed` is a value this sealer opens (a KMS envelope). */
  static opens(sealed: string): boolean {
    return sealed.startsWith(`${KMS_SCHEME}.`);
  }

  async seal(plaintext: string, context: string): Promise<string> {
    const { plaintext: key, encrypted } = await this.dataKey();
    return sealEnvelope(KMS_SCHEME, encrypted, key, plaintext, context);
  }

  async unseal(sealed: string, context: string): Promise<string> {
    const { keyReference, iv, body } = envelopeParts(sealed, KMS_SCHEME, 'KMS');
    const key = await this.openDataKey(keyReference);
    return openEnvelope(key, iv, body, context);
  }

  /** The data key new values are sealed with, renewed by age and use. */
  private dataKey(): SealingKey['key'] {
    if (!this.keyId) {
      throw new Error('no KMS key to seal secrets with: set WEFT_SECRETS_KEY_ARN (the CLI: --secrets-key)');
    }
    const now = this.nowMs();
    const current = this.sealing;
    if (current && current.uses < DATA_KEY_MAX_USES && now - current.createdAt < DATA_KEY_MAX_AGE_MS) {
      current.uses++;
      return current.key;
    }
    const keyId = this.keyId;
    const key: SealingKey['key'] = (async () => {
      try {
        const result = await this.client.send(
          new GenerateDataKeyCommand({
            KeyId: keyId,
            KeySpec: 'AES_256',
            EncryptionContext: { ...KMS_ENCRYPTION_CONTEXT },
          }),
        );
        if (!result.Plaintext || !result.CiphertextBlob) throw new Error('KMS returned no data key');
        const plaintext = Buffer.from(result.Plaintext);
        const encrypted = Buffer.from(result.CiphertextBlob).toString('base64url');
        // What this container seals, it opens without asking KMS again.
        this.remember(encrypted, Promise.resolve(plaintext));
        return { plaintext, encrypted };
      } catch (error) {
        throw new StoreUnavailableError('KMS GenerateDataKey', { cause: error });
      }
    })();
    // A failed data key is not kept: the next seal asks KMS again.
    key.catch(() => {
      if (this.sealing?.key === key) this.sealing = null;
    });
    this.sealing = { key, createdAt: now, uses: 1 };
    return key;
  }

  private openDataKey(encrypted: string): Promise<Buffer> {
    const known = this.opened.get(encrypted);
    if (known) return known;
    const opening: Promise<Buffer> = (async () => {
      try {
        const result = await this.client.send(
          new DecryptCommand({
            CiphertextBlob: Buffer.from(encrypted, 'base64url'),
            EncryptionContext: { ...KMS_ENCRYPTION_CONTEXT },
            ...(this.keyId ? { KeyId: this.keyId } : {}),
          }),
        );
        if (!result.Plaintext) throw new Error('KMS returned no plaintext');
        return Buffer.from(result.Plaintext);
      } catch (error) {
        // A data key KMS refuses for good (not its ciphertext, another key) is not an outage.
        if (error instanceof InvalidCiphertextException || error instanceof IncorrectKeyException) {
          throw new Error('a sealed secret names a data key KMS does not open with this key', {
            cause: error,
          });
        }
        throw new StoreUnavailableError('KMS Decrypt', { cause: error });
      }
    })();
    // A failure is not kept: the next read asks KMS again.
    opening.catch(() => {
      if (this.opened.get(encrypted) === opening) this.opened.delete(encrypted);
    });
    this.remember(encrypted, opening);
    return opening;
  }

  private remember(encrypted: string, key: Promise<Buffer>) {
    if (this.opened.size >= MAX_OPEN_DATA_KEYS) {
      this.opened.delete(this.opened.keys().next().value as string);
    }
    this.opened.set(encrypted, key);
  }
}
