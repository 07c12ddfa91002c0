// Currents ingestion end to end below HTTP: Avro files in a real local S3, the handler, DynamoDB Local.
import { createHash } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipientKey } from '../../domain/recipient';
import { signTrackingToken } from '../../domain/tracking-token';
import { createAdmin } from '../../handlers/admin';
import { createIngestCurrents } from '../../handlers/ingest-currents';
import { httpHandler } from '../../handlers/shared/http';
import {
  avroLong,
  CAMPAIGN_ID,
  clickRecord,
  clickSchema,
  containerHeader,
  currentsKey,
  openRecord,
  openSchema,
  PERSONAL,
  writeCurrentsFile,
} from '../support/currents-fixtures';
import { bearer, httpEvent, lambdaContext, parseJson, s3Event } from '../support/events';
import { startLocalS3 } from '../support/local-s3';
import { serviceOnLocalDynamoDb } from '../support/service';

const BUCKET = 'weft-currents-test';
const sha = (value: string) => createHash('sha256').update(value).digest('hex');

describe('Currents ingestion', () => {
  let service: Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;
  let s3: Awaited<ReturnType<typeof startLocalS3>>;
  let ingest: ReturnType<typeof createIngestCurrents>;
  let acme: Awaited<ReturnType<typeof service.createTenant>>;
  let globex: Awaited<ReturnType<typeof service.createTenant>>;
  const tokens = new Map<string, string>();
  const variants = new Map<string, string>();
  let globexToken = '';

  async function drop(key: string, body: Buffer) {
    await s3.put(key, body);
    return ingest(s3Event(BUCKET, [key]));
  }

  async function totals(experiment: string) {
    const report = await service.admin(acme.adminToken, { path: `/v1/experiments/${experiment}/report` });
    const rows = report.body.variants as Array<{ id: string; sends: number; opens: number; clicks: number }>;
    return {
      sends: rows.reduce((s, v) => s + v.sends, 0),
      opens: rows.reduce((s, v) => s + v.opens, 0),
      clicks: rows.reduce((s, v) => s + v.clicks, 0),
      rows,
    };
  }

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    s3 = await startLocalS3(BUCKET);
    ingest = createIngestCurrents(service.stores, s3.client);
    acme = await service.createTenant('acme');
    globex = await service.createTenant('globex');
    const body = {
      metric: 'clicks',
      variants: [
        { id: 'a', text: 'A' },
        { id: 'b', text: 'B' },
      ],
    };
    await service.admin(acme.adminToken, { method: 'PUT', path: '/v1/experiments/spring', body });
    await service.admin(globex.adminToken, { method: 'PUT', path: '/v1/experiments/spring', body });
    for (let i = 0; i < 8; i++) {
      const served = await service.content(acme.connectToken, {
        experiment: 'spring',
        recipient: sha(`user-${i}`),
        campaign: CAMPAIGN_ID,
      });
      tokens.set(`user-${i}`, served.body.token as string);
      variants.set(`user-${i}`, served.body.variant as string);
    }
    const foreign = await service.content(globex.connectToken, {
      experiment: 'spring',
      recipient: sha('user-7'),
      campaign: CAMPAIGN_ID,
    });
    globexToken = foreign.body.token as string;
  });

  afterAll(async () => {
    await s3?.stop();
  });

  const url = (token: string) => `https://shop.example/sale?utm_source=braze&weft=${token}#top`;

  it('counts exactly the distinct rewarded recipients, by token and by campaign fallback', async () => {
    const records = [
      clickRecord({ id: 'e1', user_id: 'user-0', url: url(tokens.get('user-0')!) }),
      clickRecord({ id: 'e1', user_id: 'user-0', url: url(tokens.get('user-0')!) }), // same event again
      clickRecord({ id: 'e2', user_id: 'user-0', url: url(tokens.get('user-0')!) }), // second click
      clickRecord({ id: 'e3', user_id: 'user-1', url: 'https://shop.example/sale' }), // fallback: campaign + user
      clickRecord({
        id: 'e4',
        user_id: 'user-2',
        url: url(tokens.get('user-2')!),
        is_suspected_bot_click: true,
      }),
      clickRecord({
        id: 'e5',
        user_id: 'nobody',
        campaign_id: null,
        url: url(`${tokens.get('user-3')!.slice(0, -3)}AAA`),
      }),
      clickRecord({ id: 'e6', user_id: 'nobody', campaign_id: null, url: url(globexToken) }), // another tenant's
      clickRecord({ id: 'e7', user_id: 'stranger', url: 'https://shop.example/' }), // not assigned
      clickRecord({
        id: 'e8',
        user_id: 'nobody',
        campaign_id: null,
        url: `https://click.example/ls/click?u=${encodeURIComponent(url(tokens.get('user-4')!))}`,
      }), // tracking redirect
    ];
    const file = await writeCurrentsFile(clickSchema(), records, { codec: 'deflate' });
    await drop(currentsKey({ folder: 'acme', layout: 'schema-id' }), file);
    const after = await totals('spring');
    expect(after.sends).toBe(8);
    expect(after.clicks).toBe(3); // user-0, user-1, user-4
    for (const user of ['user-0', 'user-1', 'user-4']) {
      expect(after.rows.find((r) => r.id === variants.get(user))!.clicks).toBeGreaterThan(0);
    }
    const log = parseJson(
      await httpHandler(createAdmin(service.config, service.stores))(
        httpEvent({ path: '/v1/ingestion', headers: bearer(acme.adminToken) }),
        lambdaContext(),
      ),
    );
    const entry = (log.files as Array<Record<string, unknown>>)[0]!;
    expect(entry).toMatchObject({ status: 'ok', events: 9, attributed: 3, bots: 1 });
    expect(entry.duplicates).toBeGreaterThanOrEqual(2);
  });

  it('ignores the same file again, concurrently, and in other codecs and key layouts', async () => {
    const records = [clickRecord({ id: 'r1', user_id: 'user-5', url: url(tokens.get('user-5')!) })];
    const key = currentsKey({ folder: 'acme', layout: 'version', cluster: false });
    const snappy = await writeCurrentsFile(clickSchema(), records, { codec: 'snappy' });
    await s3.put(key, snappy);
    await Promise.all([
      ingest(s3Event(BUCKET, [key])),
      ingest(s3Event(BUCKET, [key])),
      ingest(s3Event(BUCKET, [key, key])),
    ]);
    const plain = await writeCurrentsFile(clickSchema(), [...records, ...records], { codec: 'null' });
    await drop(currentsKey({ folder: 'acme', layout: 'schema-id', date: '2025-04-01-18' }), plain);
    expect((await totals('spring')).clicks).toBe(4);
  });

  it('records a send whose content write never landed at its token’s first click, once', async () => {
    const before = await totals('spring');
    const now = Math.floor(Date.now() / 1000);
    const lost = (user: string, sentAt: number) =>
      signTrackingToken(
        {
          tenantId: 'acme',
          experimentId: 'spring',
          variantId: 'b',
          recipientKey: recipientKey(acme.tenant.recipientKey, sha(user)),
          sentAt,
        },
        acme.tenant.signingSecrets[0]!.secret,
      );
    const token = lost('lost-user', now - 60);
    const expired = lost('long-gone', now - 31 * 86_400); // older than the assignment TTL: counts nothing
    const file = await writeCurrentsFile(clickSchema(), [
      clickRecord({ id: 'l1', user_id: 'x', campaign_id: null, url: url(token) }),
      clickRecord({ id: 'l2', user_id: 'x', campaign_id: null, url: url(token) }),
      clickRecord({ id: 'l3', user_id: 'y', campaign_id: null, url: url(expired) }),
    ]);
    await drop(currentsKey({ folder: 'acme', layout: 'schema-id', date: '2025-04-02-10' }), file);
    await drop(currentsKey({ folder: 'acme', layout: 'schema-id', date: '2025-04-02-11' }), file);
    await service.pixel(token);
    const after = await totals('spring');
    expect(after.sends - before.sends).toBe(1);
    expect(after.clicks - before.clicks).toBe(1);
    expect(after.opens - before.opens).toBe(1);
    expect(after.rows.find((r) => r.id === 'b')!.sends - before.rows.find((r) => r.id === 'b')!.sends).toBe(
      1,
    );
  });

  it('counts opens once across Currents and the pixel, and never machine opens', async () => {
    const before = (await totals('spring')).opens;
    const file = await writeCurrentsFile(
      openSchema(),
      [
        openRecord({ id: 'o1', user_id: 'user-6' }),
        openRecord({ id: 'o2', user_id: 'user-6' }),
        openRecord({ id: 'o3', user_id: 'user-3', machine_open: 'true' }),
      ],
      { codec: 'snappy' },
    );
    await drop(
      currentsKey({ folder: 'acme', layout: 'version', eventType: 'users.messages.email.open' }),
      file,
    );
    await service.pixel(tokens.get('user-6')!);
    expect((await totals('spring')).opens - before).toBe(1);
  });

  it('skips unknown folders and other event types; lists bad files as failed; keeps serving', async () => {
    const good = await writeCurrentsFile(clickSchema(), [
      clickRecord({ id: 'x1', user_id: 'user-7', url: url(tokens.get('user-7')!) }),
    ]);
    const unknown = await drop(currentsKey({ folder: 'nobody-owns-this', layout: 'schema-id' }), good);
    expect(unknown.files).toBe(1);
    await drop(
      currentsKey({ folder: 'acme', layout: 'schema-id', eventType: 'users.messages.email.Send' }),
      good,
    );
    await drop(
      currentsKey({ folder: 'acme', layout: 'schema-id', date: '2025-04-02-01' }),
      good.subarray(0, good.length - 20),
    );
    await drop(
      currentsKey({ folder: 'acme', layout: 'version', date: '2025-04-02-02' }),
      Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)),
    );
    // An "Avro bomb": a valid header, then a block declaring 4 GB (and a string declaring 2 GB after it).
    const bomb = Buffer.concat([
      containerHeader({ schema: clickSchema() }),
      avroLong(1),
      avroLong(4 * 1024 ** 3),
      avroLong(2 * 1024 ** 3),
      Buffer.alloc(1024, 0x61),
    ]);
    await drop(currentsKey({ folder: 'acme', layout: 'version', date: '2025-04-02-03' }), bomb);
    const log = parseJson(
      await httpHandler(createAdmin(service.config, service.stores))(
        httpEvent({ path: '/v1/ingestion', headers: bearer(acme.adminToken) }),
        lambdaContext(),
      ),
    );
    const files = log.files as Array<{ key: string; status: string; reason?: string }>;
    const failed = files.filter((f) => f.status === 'failed');
    expect(failed).toHaveLength(3);
    expect(failed.some((f) => /declares 4294967296 bytes/.test(f.reason ?? ''))).toBe(true);
    for (const f of failed) expect(f.reason).toMatch(/\w+/);
    expect(files.some((f) => f.status === 'skipped' && f.key.includes('Send'))).toBe(true);
    expect(files.some((f) => f.key.startsWith('nobody-owns-this'))).toBe(false);
    expect(JSON.stringify(log)).not.toContain(PERSONAL.email);
    const served = await service.content(acme.connectToken, {
      experiment: 'spring',
      recipient: sha('after-bad-files'),
    });
    expect(served.status).toBe(200);
    expect(served.body.fallback).toBe(false);
  });

  it('stores nothing personal: a scan of every item finds no raw or hashed-only ids, emails or agents', async () => {
    const items = (await service.client.send(new ScanCommand({ TableName: service.tableName }))).Items ?? [];
    const dump = JSON.stringify(items);
    expect(items.length).toBeGreaterThan(10);
    const forbidden = [
      PERSONAL.email,
      PERSONAL.externalUserId,
      PERSONAL.userAgent,
      PERSONAL.ip,
      PERSONAL.name,
      'user-0',
      'user-1',
      sha('user-0'),
      sha('user-6'),
      'shop.example',
    ];
    for (const value of forbidden) expect(dump).not.toContain(value);
  });
});
