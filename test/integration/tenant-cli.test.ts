// The tenant commands of the weft CLI as an operator runs them (`node bin/weft.js tenant …`) against DynamoDB
// Local: rotation by credential with its grace period, sealing tenants an older version stored in plain text,
// reserved names, and no local sealing of a deployed stage's secrets.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../adapters/dynamodb/keys';
import { issueTenant, tokenMatches } from '../../domain/tenant';
import { nowSeconds } from '../../domain/time';
import { createStores, secretSealer } from '../../handlers/shared/stage';
import { freshTable } from '../support/dynamodb';

const ROOT = join(__dirname, '..', '..');
const DAY = 86_400;

describe('weft tenant', () => {
  let table: Awaited<ReturnType<typeof freshTable>>;
  let keyFile: string;
  const run = (args: string[], env: Record<string, string | undefined>) => {
    const result = spawnSync(process.execPath, [join(ROOT, 'bin', 'weft.js'), ...args], {
      cwd: mkdtempSync(join(tmpdir(), 'weft-cli-')),
      env: {
        PATH: process.env.PATH,
        WEFT_NO_PROGRESS: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const weft = (...args: string[]) =>
    run(args, {
      WEFT_TABLE: table.tableName,
      WEFT_DYNAMODB_ENDPOINT: table.endpoint,
      WEFT_SECRETS_KEY_FILE: keyFile,
    });
  const json = (...args: string[]) => {
    const result = weft(...args, '--json');
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  /** The tenant as the stage reads it (its secrets opened with the CLI's key file). */
  const stored = (id: string) =>
    createStores(table.config, table.client, nowSeconds, secretSealer(table.config, keyFile)).tenantStore.get(
      id,
    );

  beforeAll(async () => {
    table = await freshTable();
    keyFile = join(mkdtempSync(join(tmpdir(), 'weft-cli-key-')), 'secrets.key');
  });

  it('rotates the admin token alone: the connect token, signing secret and recipient key stay', async () => {
    const created = json('tenant', 'create', 'acme', '--folder', 'acme');
    const before = (await stored('acme'))!;

    const rotated = json('tenant', 'rotate', 'acme', '--admin');

    expect(Object.keys(rotated).sort()).toEqual([
      'admin_token',
      'folder',
      'signing_secret_rotated',
      'tenant',
    ]);
    const after = (await stored('acme'))!;
    expect(tokenMatches(created.admin_token as string, after.adminTokenHash)).toBe(false);
    expect(tokenMatches(rotated.admin_token as string, after.adminTokenHash)).toBe(true);
    expect(tokenMatches(created.connect_token as string, after.connectTokenHash)).toBe(true);
    expect(after.signingSecrets).toEqual(before.signingSecrets);
    expect(after.recipientKey).toBe(before.recipientKey);
  });

  it('rotates the connect token with a grace period (7 days by default, or as given; 0 revokes at once)', async () => {
    const created = json('tenant', 'create', 'globex', '--folder', 'globex');
    const now = nowSeconds();

    const first = json('tenant', 'rotate', 'globex', '--connect');
    expect(first.connect_grace_until).toBeGreaterThanOrEqual(now + 7 * DAY);
    expect(first.connect_grace_until).toBeLessThan(now + 7 * DAY + 60);
    const second = json('tenant', 'rotate', 'globex', '--connect', '--grace-days', '2');
    expect(second.connect_grace_until).toBeLessThan(now + 2 * DAY + 60);
    let tenant = (await stored('globex'))!;
    expect(tenant.retiredConnectTokens.map((t) => t.retiresAt)).toEqual([
      second.connect_grace_until,
      second.connect_grace_until,
    ]);
    expect(tokenMatches(created.admin_token as string, tenant.adminTokenHash)).toBe(true);

    json('tenant', 'rotate', 'globex', '--connect', '--grace-days', '0');
    tenant = (await stored('globex'))!;
    expect(tenant.retiredConnectTokens).toEqual([]);
    expect(weft('tenant', 'rotate', 'globex', '--grace-days', 'soon').stderr).toMatch(
      /^weft: grace-days: must be a number of days from 0 to 90/,
    );
  });

  it('rotates everything by default, as before: both tokens and the signing secret', async () => {
    json('tenant', 'create', 'initech', '--folder', 'initech');
    const before = (await stored('initech'))!;

    const rotated = json('tenant', 'rotate', 'initech');

    expect(rotated).toMatchObject({ signing_secret_rotated: true });
    expect(rotated).toHaveProperty('admin_token');
    expect(rotated).toHaveProperty('connect_token');
    const after = (await stored('initech'))!;
    expect(after.signingSecrets).toHaveLength(2);
    expect(after.signingSecrets[1]!.secret).toBe(before.signingSecrets[0]!.secret);
  });

  it('seal-secrets seals tenants an older version stored in plain text, once, and changes nothing else', async () => {
    const legacy = issueTenant('umbrella', 'umbrella', nowSeconds() - DAY).tenant;
    const s = (value: string) => ({ S: value });
    await table.client.send(
      new PutItemCommand({
        TableName: table.tableName,
        Item: {
          pk: s(keys.tenant('umbrella').pk),
          sk: s(keys.tenant('umbrella').sk),
          tenant: s('umbrella'),
          folder: s('umbrella'),
          connect_token_hash: s(legacy.connectTokenHash),
          admin_token_hash: s(legacy.adminTokenHash),
          signing_secrets: s(JSON.stringify(legacy.signingSecrets)),
          recipient_key: s(legacy.recipientKey),
          created_at: { N: String(legacy.createdAt) },
        },
      }),
    );

    const first = weft('tenant', 'seal-secrets');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^umbrella: sealed and upgraded$/m);
    expect(first.stdout).toMatch(/^acme: already sealed$/m);
    expect(json('tenant', 'seal-secrets', 'umbrella')).toEqual({
      tenants: [{ tenant: 'umbrella', result: 'current' }],
    });

    const { Item: item } = await table.client.send(
      new GetItemCommand({
        TableName: table.tableName,
        Key: { pk: s(keys.tenant('umbrella').pk), sk: s(keys.tenant('umbrella').sk) },
      }),
    );
    expect(item).not.toHaveProperty('signing_secrets');
    expect(item).not.toHaveProperty('recipient_key');
    const raw = JSON.stringify(item);
    expect(raw).not.toContain(legacy.recipientKey);
    expect(raw).not.toContain(legacy.signingSecrets[0]!.secret);
    expect(await stored('umbrella')).toMatchObject({
      signingSecrets: legacy.signingSecrets,
      recipientKey: legacy.recipientKey,
      connectTokenHash: legacy.connectTokenHash,
    });
  });

  it('refuses reserved tenant names, and sealing a deployed stage’s secrets without its KMS key', () => {
    for (const id of ['_unowned', '_internal', 'null']) {
      const refused = weft('tenant', 'create', id, '--folder', `folder-${id.replace(/_/g, 'x')}`);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/^weft: tenant: "[^"]+" is reserved for weft's own use/);
    }
    const deployed = run(['tenant', 'create', 'acme2', '--folder', 'acme2', '--table', 'weft-prod'], {
      AWS_REGION: 'eu-west-1',
    });
    expect(deployed.status).toBe(1);
    expect(deployed.stderr).toMatch(/pass --secrets-key <key ARN> \(or set WEFT_SECRETS_KEY_ARN\)/);
  });
});
