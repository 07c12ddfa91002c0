// The SecretSealer adapters: KMS envelope encryption against a mocked KMSClient (the exact commands, one Decrypt
// per data key per container, faults), the local key file (created 0600, never re-created by a reader, one key
// however many processes race to create it), and the stage's sealer, which opens each value with its own kind.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DecryptCommand,
  GenerateDataKeyCommand,
  InvalidCiphertextException,
  KMSClient,
  KMSServiceException,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyFileSealer } from '../../adapters/file/key-file-sealer';
import { KMS_ENCRYPTION_CONTEXT, KmsSecretSealer } from '../../adapters/kms/kms-secret-sealer';
import { StoreUnavailableError } from '../../domain/errors';
import { secretSealer, storeConfig } from '../../handlers/shared/stage';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const CONTEXT = 'tenant/acme/signing_secrets';
const SECRET = 'a-signing-secret-0123456789abcdef0123456';

const kms = mockClient(KMSClient);

/** KMS as a fake: data keys it hands out, and their "encryption" (a marked copy) it reverses. */
function fakeKms() {
  const dataKeys = new Map<string, Uint8Array>();
  kms.on(GenerateDataKeyCommand).callsFake(() => {
    const plaintext = new Uint8Array(randomBytes(32));
    const blob = new Uint8Array(randomBytes(64));
    dataKeys.set(Buffer.from(blob).toString('hex'), plaintext);
    return { Plaintext: plaintext, CiphertextBlob: blob, KeyId: KEY_ARN };
  });
  kms.on(DecryptCommand).callsFake((input: { CiphertextBlob: Uint8Array }) => {
    const plaintext = dataKeys.get(Buffer.from(input.CiphertextBlob).toString('hex'));
    if (!plaintext) throw new InvalidCiphertextException({ message: 'bad blob', $metadata: {} });
    return { Plaintext: plaintext, KeyId: KEY_ARN };
  });
  return dataKeys;
}

const client = () => new KMSClient({ region: 'eu-west-1' });
const tempKeyFile = () => join(mkdtempSync(join(tmpdir(), 'weft-key-')), '.weft', 'secrets.key');

describe('KmsSecretSealer', () => {
  beforeEach(() => kms.reset());
  afterEach(() => kms.reset());

  it('seals with one data key from KMS (exact command) and stores only its encrypted form', async () => {
    const dataKeys = fakeKms();
    const sealer = new KmsSecretSealer(client(), KEY_ARN);

    const sealed = await Promise.all([
      sealer.seal(SECRET, CONTEXT),
      sealer.seal('another', 'tenant/acme/recipient_key'),
    ]);

    expect(kms.commandCalls(GenerateDataKeyCommand).map((c) => c.args[0].input)).toEqual([
      { KeyId: KEY_ARN, KeySpec: 'AES_256', EncryptionContext: KMS_ENCRYPTION_CONTEXT },
    ]);
    const [plainKey] = [...dataKeys.values()];
    for (const value of sealed) {
      expect(value).toMatch(/^kms1\.[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(value).not.toContain(SECRET);
      expect(value).not.toContain(Buffer.from(plainKey!).toString('base64url'));
      expect(value).not.toContain(Buffer.from(SECRET).toString('base64url'));
    }
    // Sealing the same secret twice gives two different values (a fresh IV each time).
    expect(await sealer.seal(SECRET, CONTEXT)).not.toBe(await sealer.seal(SECRET, CONTEXT));
  });

  it('a container opens each data key once with KMS (exact command), however many values and reads', async () => {
    fakeKms();
    const sealing = new KmsSecretSealer(client(), KEY_ARN);
    const values = await Promise.all(
      Array.from({ length: 20 }, (_, i) => sealing.seal(`secret-${i}`, CONTEXT)),
    );
    const container = new KmsSecretSealer(client(), KEY_ARN);

    for (let read = 0; read < 5; read++) {
      const opened = await Promise.all(values.map((v) => container.unseal(v, CONTEXT)));
      expect(opened).toEqual(values.map((_, i) => `secret-${i}`));
    }

    const decrypts = kms.commandCalls(DecryptCommand);
    expect(decrypts).toHaveLength(1);
    expect(decrypts[0]!.args[0].input).toMatchObject({
      EncryptionContext: KMS_ENCRYPTION_CONTEXT,
      KeyId: KEY_ARN,
    });
    expect(Buffer.from(decrypts[0]!.args[0].input.CiphertextBlob!).toString('base64url')).toBe(
      values[0]!.split('.')[1],
    );
  });

  it('opens without a configured key (KMS reads it from the blob), but refuses to seal without one', async () => {
    fakeKms();
    const sealed = await new KmsSecretSealer(client(), KEY_ARN).seal(SECRET, CONTEXT);
    const reader = new KmsSecretSealer(client(), null);

    expect(await reader.unseal(sealed, CONTEXT)).toBe(SECRET);
    expect(kms.commandCalls(DecryptCommand)[0]!.args[0].input.KeyId).toBeUndefined();
    await expect(reader.seal(SECRET, CONTEXT)).rejects.toThrow(
      /no KMS key to seal secrets with: set WEFT_SECRETS_KEY_ARN/,
    );
  });

  it('a value moved to another tenant or field, or tampered with, does not open', async () => {
    fakeKms();
    const sealer = new KmsSecretSealer(client(), KEY_ARN);
    const sealed = await sealer.seal(SECRET, CONTEXT);
    const [scheme, key, iv, body] = sealed.split('.') as [string, string, string, string];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] = flipped[0]! ^ 1;

    await expect(sealer.unseal(sealed, 'tenant/globex/signing_secrets')).rejects.toThrow(/does not open/);
    await expect(
      sealer.unseal([scheme, key, iv, flipped.toString('base64url')].join('.'), CONTEXT),
    ).rejects.toThrow(/does not open/);
    await expect(sealer.unseal(`file1.${key}.${iv}.${body}`, CONTEXT)).rejects.toThrow(/not a KMS envelope/);
  });

  it('KMS unreachable or throttled is StoreUnavailableError (and retried next time); a foreign blob is not', async () => {
    fakeKms();
    const sealed = await new KmsSecretSealer(client(), KEY_ARN).seal(SECRET, CONTEXT);
    const container = new KmsSecretSealer(client(), KEY_ARN);
    kms.on(DecryptCommand).rejectsOnce(
      new KMSServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        $metadata: {},
        message: 'slow down',
      }),
    );

    const outage = await container.unseal(sealed, CONTEXT).catch((e: unknown) => e);
    expect(outage).toBeInstanceOf(StoreUnavailableError);
    expect((outage as Error).message).not.toContain(SECRET);

    kms.on(DecryptCommand).rejects(new InvalidCiphertextException({ message: 'not ours', $metadata: {} }));
    const foreign = await container.unseal(sealed, CONTEXT).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(Error);
    expect(foreign).not.toBeInstanceOf(StoreUnavailableError);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(2);
  });

  it('renews its data key after five minutes', async () => {
    fakeKms();
    let now = 0;
    const sealer = new KmsSecretSealer(client(), KEY_ARN, () => now);
    await sealer.seal('one', CONTEXT);
    now = 4 * 60_000;
    await sealer.seal('two', CONTEXT);
    now = 5 * 60_000;
    await sealer.seal('three', CONTEXT);

    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(2);
  });
});

describe('KeyFileSealer', () => {
  it('creates the key file with mode 0600 on first seal, and every sealer of that file opens the values', async () => {
    const path = tempKeyFile();
    const sealed = await new KeyFileSealer(path).seal(SECRET, CONTEXT);

    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    expect(sealed).toMatch(/^file1\./);
    expect(sealed).not.toContain(SECRET);
    const key = readFileSync(path, 'utf8').trim();
    expect(sealed).not.toContain(Buffer.from(key, 'base64').toString('base64url'));
    expect(await new KeyFileSealer(path).unseal(sealed, CONTEXT)).toBe(SECRET);
    await expect(new KeyFileSealer(path).unseal(sealed, 'tenant/globex/signing_secrets')).rejects.toThrow(
      /does not open/,
    );
  });

  it('never creates a key to open a value: a missing key file is an error, and still missing after', async () => {
    const path = tempKeyFile();
    const sealed = await new KeyFileSealer(tempKeyFile()).seal(SECRET, CONTEXT);

    await expect(new KeyFileSealer(path).unseal(sealed, CONTEXT)).rejects.toThrow(
      /no secrets\.key in the data folder/,
    );
    expect(() => statSync(path)).toThrow();
  });

  it('tells a value sealed with another key file apart', async () => {
    const sealed = await new KeyFileSealer(tempKeyFile()).seal(SECRET, CONTEXT);
    const other = new KeyFileSealer(tempKeyFile());
    await other.seal('anything', CONTEXT);

    await expect(other.unseal(sealed, CONTEXT)).rejects.toThrow(/sealed with another key file/);
  });

  it('many sealers creating the key at once end up with one key', async () => {
    const path = tempKeyFile();
    const sealers = Array.from({ length: 12 }, () => new KeyFileSealer(path));

    const sealed = await Promise.all(sealers.map((s, i) => s.seal(`secret-${i}`, CONTEXT)));

    const reader = new KeyFileSealer(path);
    expect(await Promise.all(sealed.map((v) => reader.unseal(v, CONTEXT)))).toEqual(
      sealed.map((_, i) => `secret-${i}`),
    );
  });
});

describe('the stage sealer', () => {
  beforeEach(() => kms.reset());

  it('seals with the key file when the stage has no KMS key, under KMS when it has one; opens either kind', async () => {
    fakeKms();
    const keyFile = tempKeyFile();
    const local = secretSealer(storeConfig('weft-local'), keyFile);
    const deployed = secretSealer(storeConfig('weft-prod', { secretsKeyArn: KEY_ARN }), keyFile);

    const fromFile = await local.seal(SECRET, CONTEXT);
    const fromKms = await deployed.seal(SECRET, CONTEXT);

    expect(fromFile).toMatch(/^file1\./);
    expect(fromKms).toMatch(/^kms1\./);
    for (const sealer of [local, deployed]) {
      expect(await sealer.unseal(fromFile, CONTEXT)).toBe(SECRET);
      expect(await sealer.unseal(fromKms, CONTEXT)).toBe(SECRET);
    }
    expect(kms.commandCalls(GenerateDataKeyCommand)).toHaveLength(1);
  });
});
