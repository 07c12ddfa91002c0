// Tenant secrets at rest, on DynamoDB Local through the real adapters and handlers: after creating tenants,
// rotating every credential, sending content and counting rewards, and sealing a tenant an older version stored
// in plain text, a scan of every item in the table finds none of the known secrets — once with the local key file,
// once under a (mocked) KMS key as a deployed stage seals them.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { keys } from '../../adapters/dynamodb/keys';
import { KeyFileSealer } from '../../adapters/file/key-file-sealer';
import { KmsSecretSealer } from '../../adapters/kms/kms-secret-sealer';
import type { SecretSealer } from '../../domain/ports/secret-sealer';
import {
  issueTenant,
  PSEUDONYM_UPGRADE_MARGIN_SECONDS,
  rotateAdminToken,
  rotateConnectToken,
  rotateTenant,
  type Tenant,
} from '../../domain/tenant';
import { nowSeconds } from '../../domain/time';
import { createAdmin } from '../../handlers/admin';
import { createSelectContent } from '../../handlers/select-content';
import { httpHandler } from '../../handlers/shared/http';
import { createStores, tokenRewards } from '../../handlers/shared/stage';
import { freshTable } from '../support/dynamodb';
import { bearer, httpEvent, lambdaContext, parseJson } from '../support/events';

const definition = {
  name: 'Spring sale',
  metric: 'clicks',
  variants: [
    { id: 'a', text: 'Spring savings start now' },
    { id: 'b', text: 'Your spring picks are here' },
  ],
};

/** Every secret the run handled, in every form a careless write could leave it in. */
class KnownSecrets {
  readonly values = new Set<string>();
  add(secret: string) {
    this.values.add(secret);
    const bytes = Buffer.from(secret, 'base64url');
    // Random secrets are base64url of 32 bytes: their hex and standard base64 spellings count too.
    if (bytes.length === 32 && bytes.toString('base64url') === secret) {
      this.values.add(bytes.toString('hex')).add(bytes.toString('base64').replace(/=+$/, ''));
    }
  }
  bearer(token: string) {
    this.values.add(token);
    this.add(token.split('.')[2]!);
  }
  tenant(tenant: Tenant) {
    for (const s of tenant.signingSecrets) this.add(s.secret);
    this.add(tenant.recipientKey);
  }
}

async function scanTable(client: Awaited<ReturnType<typeof freshTable>>['client'], tableName: string) {
  const items: Array<Record<string, AttributeValue>> = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey }));
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** What an older weft wrote for a tenant: its secrets in plain text. */
async function putLegacyTenant(table: Awaited<ReturnType<typeof freshTable>>, tenant: Tenant) {
  const s = (value: string) => ({ S: value });
  await table.client.send(
    new PutItemCommand({
      TableName: table.tableName,
      Item: {
        pk: s(keys.tenant(tenant.id).pk),
        sk: s(keys.tenant(tenant.id).sk),
        tenant: s(tenant.id),
        folder: s(tenant.folder),
        connect_token_hash: s(tenant.connectTokenHash),
        admin_token_hash: s(tenant.adminTokenHash),
        signing_secrets: s(JSON.stringify(tenant.signingSecrets)),
        recipient_key: s(tenant.recipientKey),
        created_at: { N: String(tenant.createdAt) },
      },
    }),
  );
  await table.client.send(
    new PutItemCommand({
      TableName: table.tableName,
      Item: {
        pk: s(keys.folder(tenant.folder).pk),
        sk: s(keys.folder(tenant.folder).sk),
        tenant: s(tenant.id),
      },
    }),
  );
}

/**
 * Tenants created, rotated every way, content sent and rewards counted, a legacy tenant read, used and sealed:
 * then every item of the table is scanned.
 */
async function exercise(sealer: SecretSealer) {
  const table = await freshTable();
  const stores = createStores(table.config, table.client, nowSeconds, sealer);
  // Each call on a new container: a rotation is seen at once (warm containers see it within 10 s).
  const container = () => createStores(table.config, table.client, nowSeconds, sealer);
  const content = () => httpHandler(createSelectContent(table.config, container()));
  const admin = () => httpHandler(createAdmin(table.config, container()));
  const secrets = new KnownSecrets();
  const call = async (
    handler: () => ReturnType<typeof httpHandler>,
    input: Parameters<typeof httpEvent>[0],
  ) => {
    const result = await handler()(httpEvent(input), lambdaContext());
    return { status: result.statusCode, body: parseJson(result) };
  };
  const send = async (connectToken: string, experiment: string, recipient: string) => {
    const answer = await call(content, {
      path: '/v1/content',
      query: { experiment, recipient, campaign: 'campaign-1' },
      headers: bearer(connectToken),
    });
    expect(answer.status).toBe(200);
    expect(answer.body.fallback).toBe(false);
    const token = answer.body.token as string;
    const at = nowSeconds() + 30;
    const rewards = tokenRewards(container());
    expect(await rewards.record(token, () => ({ kind: 'open', source: 'pixel', at }))).toBe('counted');
    return answer.body;
  };
  const rotate = async <R extends { tenant: Tenant }>(id: string, change: (t: Tenant) => R) => {
    const current = (await stores.tenantStore.get(id))!;
    const next = change(current);
    await stores.tenantStore.replaceCredentials(next.tenant, current);
    secrets.tenant(next.tenant);
    return next;
  };

  for (const id of ['acme', 'globex']) {
    const issued = issueTenant(id, `${id}-currents`, nowSeconds());
    await stores.tenantStore.create(issued.tenant);
    secrets.tenant(issued.tenant);
    secrets.bearer(issued.connectToken);
    secrets.bearer(issued.adminToken);
    const put = await call(admin, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      body: definition,
      headers: bearer(issued.adminToken),
    });
    expect(put.status).toBe(201);
    await send(issued.connectToken, 'spring', `${id}-first@example.com`);

    const connect = await rotate(id, (t) => rotateConnectToken(t, nowSeconds()));
    secrets.bearer(connect.connectToken);
    const adminOnly = await rotate(id, (t) => rotateAdminToken(t, nowSeconds()));
    secrets.bearer(adminOnly.adminToken);
    const all = await rotate(id, (t) => rotateTenant(t, nowSeconds()));
    secrets.bearer(all.connectToken);
    secrets.bearer(all.adminToken);
    // The connect token from before the first rotation is in its grace period: it still serves.
    await send(issued.connectToken, 'spring', `${id}-second@example.com`);
    await send(all.connectToken, 'spring', `${id}-third@example.com`);
    expect(
      (await call(admin, { path: '/v1/experiments/spring/report', headers: bearer(all.adminToken) })).status,
    ).toBe(200);
  }

  // A tenant an older version stored, secrets in plain text: it serves as it is, then is sealed in place.
  const legacy = issueTenant('initech', 'initech-currents', nowSeconds() - 86_400);
  const legacyTenant = { ...legacy.tenant, experimentPseudonymsSince: null };
  await putLegacyTenant(table, legacyTenant);
  secrets.tenant(legacyTenant);
  secrets.bearer(legacy.connectToken);
  secrets.bearer(legacy.adminToken);
  await call(admin, {
    method: 'PUT',
    path: '/v1/experiments/spring',
    body: definition,
    headers: bearer(legacy.adminToken),
  });
  const before = await send(legacy.connectToken, 'spring', 'initech-user@example.com');
  expect(await stores.tenantStore.upgrade('initech', nowSeconds() + PSEUDONYM_UPGRADE_MARGIN_SECONDS)).toBe(
    'upgraded',
  );
  expect(await stores.tenantStore.upgrade('initech', nowSeconds() + PSEUDONYM_UPGRADE_MARGIN_SECONDS)).toBe(
    'current',
  );
  // Sealed, the tenant is the same tenant: same secrets, same recipient's variant and token, a fresh container.
  expect(await stores.tenantStore.get('initech')).toMatchObject({
    signingSecrets: legacyTenant.signingSecrets,
    recipientKey: legacyTenant.recipientKey,
  });
  const again = parseJson(
    await content()(
      httpEvent({
        path: '/v1/content',
        query: { experiment: 'spring', recipient: 'initech-user@example.com' },
        headers: bearer(legacy.connectToken),
      }),
      lambdaContext(),
    ),
  );
  expect([again.variant, again.token]).toEqual([before.variant, before.token]);

  return { table, stores, secrets, items: await scanTable(table.client, table.tableName) };
}

function expectNoSecretIn(items: Array<Record<string, AttributeValue>>, secrets: KnownSecrets) {
  expect(items.length).toBeGreaterThan(20);
  const leaks: string[] = [];
  for (const item of items) {
    const text = JSON.stringify(item);
    for (const secret of secrets.values)
      if (text.includes(secret)) leaks.push(`${item.pk?.S}: ${secret.slice(0, 6)}…`);
    for (const plain of ['signing_secrets', 'recipient_key']) {
      if (plain in item) leaks.push(`${item.pk?.S}: plain attribute ${plain}`);
    }
  }
  expect(leaks).toEqual([]);
}

describe('tenant secrets at rest', () => {
  it('with the local key file: no stored item holds a secret in plain text', async () => {
    const keyFile = join(mkdtempSync(join(tmpdir(), 'weft-sealed-')), 'secrets.key');
    const { stores, secrets, items } = await exercise(new KeyFileSealer(keyFile));
    const key = Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64');
    secrets.add(key.toString('base64url'));
    secrets.values.add(key.toString('base64'));

    expectNoSecretIn(items, secrets);
    // What is there is sealed, and opens to the secrets the tenants use.
    const tenantItems = items.filter((i) => i.sk?.S === 'TENANT');
    expect(tenantItems).toHaveLength(3);
    for (const item of tenantItems) {
      expect(item.signing_secrets_sealed?.S).toMatch(/^file1\./);
      expect(item.recipient_key_sealed?.S).toMatch(/^file1\./);
    }
    expect((await stores.tenantStore.list()).map((t) => t.id).sort()).toEqual(['acme', 'globex', 'initech']);
  });

  it('the scan would see a leak: a sealer that stores plain text is caught, every tenant of it', async () => {
    const plain: SecretSealer = { seal: async (value) => value, unseal: async (value) => value };
    const { secrets, items } = await exercise(plain);

    const leaking = items.filter((item) => [...secrets.values].some((s) => JSON.stringify(item).includes(s)));
    expect(new Set(leaking.map((item) => item.tenant?.S))).toEqual(new Set(['acme', 'globex', 'initech']));
  });

  describe('under a KMS key (mocked KMS)', () => {
    const kms = mockClient(KMSClient);
    afterAll(() => kms.restore());

    it('no stored item holds a secret or a data key in plain text', async () => {
      const dataKeys = new Map<string, Uint8Array>();
      kms.on(GenerateDataKeyCommand).callsFake(async () => {
        const plaintext = new Uint8Array(randomBytes(32));
        const blob = new Uint8Array(randomBytes(64));
        dataKeys.set(Buffer.from(blob).toString('hex'), plaintext);
        return { Plaintext: plaintext, CiphertextBlob: blob };
      });
      kms.on(DecryptCommand).callsFake(async (input: { CiphertextBlob: Uint8Array }) => ({
        Plaintext: dataKeys.get(Buffer.from(input.CiphertextBlob).toString('hex')),
      }));
      const sealer = new KmsSecretSealer(
        new KMSClient({ region: 'eu-west-1' }),
        'arn:aws:kms:eu-west-1:111122223333:key/weft-test',
      );

      const { secrets, items } = await exercise(sealer);
      for (const key of dataKeys.values()) secrets.add(Buffer.from(key).toString('base64url'));

      expectNoSecretIn(items, secrets);
      for (const item of items.filter((i) => i.sk?.S === 'TENANT')) {
        expect(item.signing_secrets_sealed?.S).toMatch(/^kms1\./);
      }
    });
  });
});
