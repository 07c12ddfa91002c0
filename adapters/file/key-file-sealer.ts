// Secrets sealed with a local key file, for the local stack and tests: AES-256-GCM under 32 random bytes kept in
// `secrets.key` in the data folder (`.weft/`), created with mode 0600 the first time something is sealed. The
// table alone (DynamoDB Local's files) then holds no secret in plain text, as on AWS with KMS.
//
//   file1.<key id>.<iv>.<ciphertext and GCM tag>          (base64url fields; AAD: the value's context)
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { SecretSealer } from '../../domain/ports/secret-sealer';
import { envelopeParts, openEnvelope, sealEnvelope } from '../shared/sealed-envelope';

export const FILE_SCHEME = 'file1';
export const KEY_FILE_NAME = 'secrets.key';
const KEY_BYTES = 32;

interface Key {
  readonly bytes: Buffer;
  /** Names the key in each sealed value, so a value sealed with another key file says so. */
  readonly id: string;
}

function keyOf(bytes: Buffer): Key {
  return { bytes, id: createHash('sha256').update(bytes).digest().subarray(0, 8).toString('base64url') };
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

export class KeyFileSealer implements SecretSealer {
  private key: Promise<Key> | null = null;

  constructor(private readonly path: string) {}

  /** Whether `sealed` is a value this kind of sealer opens (a key-file envelope). */
  static opens(sealed: string): boolean {
    return sealed.startsWith(`${FILE_SCHEME}.`);
  }

  async seal(plaintext: string, context: string): Promise<string> {
    const key = await this.loadKey(true);
    return sealEnvelope(FILE_SCHEME, key.id, key.bytes, plaintext, context);
  }

  async unseal(sealed: string, context: string): Promise<string> {
    const { keyReference, iv, body } = envelopeParts(sealed, FILE_SCHEME, 'key-file');
    const key = await this.loadKey(false);
    if (key.id !== keyReference) {
      throw new Error(`a secret for ${context} was sealed with another key file than this ${KEY_FILE_NAME}`);
    }
    return openEnvelope(key.bytes, iv, body, context);
  }

  /** The key, read once; created only to seal (opening with no key file is an error, never a new key). */
  private loadKey(create: boolean): Promise<Key> {
    if (this.key) return this.key;
    const loading = this.read(create).catch((error: unknown) => {
      if (this.key === loading) this.key = null;
      throw error;
    });
    this.key = loading;
    return loading;
  }

  private async read(create: boolean): Promise<Key> {
    try {
      return this.parse(await readFile(this.path, 'utf8'));
    } catch (error) {
      if (!isMissing(error)) throw error;
      if (!create) {
        throw new Error(
          `no ${KEY_FILE_NAME} in the data folder: the tenant secrets sealed with it cannot be opened`,
        );
      }
    }
    await this.create();
    return this.parse(await readFile(this.path, 'utf8'));
  }

  /**
   * Writes a new key beside the target and links it into place: the link fails if another process created the
   * key meanwhile, and that key is used. Nobody ever reads a half-written key.
   */
  private async create(): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const staging = `${this.path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(staging, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(staging, this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await unlink(staging);
    }
  }

  private parse(text: string): Key {
    const bytes = Buffer.from(text.trim(), 'base64');
    if (bytes.length !== KEY_BYTES) throw new Error(`${basename(this.path)} is not a weft key file`);
    return keyOf(bytes);
  }
}
