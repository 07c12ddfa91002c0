// What an S3 event can carry besides a well-formed Currents key: keys as long as S3 allows (and longer),
// keys whose URL encoding is broken, and records of another bucket. Local S3, the real handler, DynamoDB Local.
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIngestionLog } from '../../adapters/dynamodb/dynamodb-ingestion-log';
import type { IngestionEntry } from '../../domain/ports/ingestion-log';
import { createIngestCurrents, MALFORMED_KEY_REASON } from '../../handlers/ingest-currents';
import {
  CAMPAIGN_ID,
  clickRecord,
  clickSchema,
  currentsKey,
  writeCurrentsFile,
} from '../support/currents-fixtures';
import { s3Event } from '../support/events';
import { startLocalS3 } from '../support/local-s3';
import { serviceOnLocalDynamoDb } from '../support/service';

// The bucket the test table's config names (WEFT_CURRENTS_BUCKET).
const BUCKET = 'weft-currents-test';
const sha = (value: string) => createHash('sha256').update(value).digest('hex');
const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * A Click key of exactly `bytes` UTF-8 bytes: a real Currents prefix, then folders of `pad` (each well under
 * the 255-byte file-name limit of the local S3's disk), then the file name.
 */
function longKey(folder: string, bytes: number, pad = 'x', date = '2025-04-03-09'): string {
  const base = currentsKey({ folder, layout: 'schema-id', date });
  const cut = base.lastIndexOf('/');
  const [dir, file] = [base.slice(0, cut), base.slice(cut + 1)];
  const segments: string[] = [];
  let size = utf8Bytes(`${dir}/${file}`);
  while (size < bytes) {
    // Each segment adds itself and a `/`; keep every one at least a character long.
    const room = Math.min(200, bytes - size - 1);
    const count = Math.max(1, Math.floor(room / utf8Bytes(pad)));
    const segment = pad.repeat(count);
    segments.push(segment);
    size += utf8Bytes(segment) + 1;
    if (room < utf8Bytes(pad)) break;
  }
  const key = [dir, ...segments, file].join('/');
  // Pad the file name with ASCII for the last few bytes a multi-byte `pad` could not fill.
  const short = bytes - utf8Bytes(key);
  return short > 0 ? [dir, ...segments, `${'y'.repeat(short)}${file}`].join('/') : key;
}

describe('S3 events the ingestion function must survive', () => {
  let service: Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;
  let s3: Awaited<ReturnType<typeof startLocalS3>>;
  let ingest: ReturnType<typeof createIngestCurrents>;
  let acme: Awaited<ReturnType<typeof service.createTenant>>;
  let user = 0;

  async function clicks(): Promise<number> {
    const report = await service.admin(acme.adminToken, { path: '/v1/experiments/spring/report' });
    return (report.body.variants as Array<{ clicks: number }>).reduce((sum, v) => sum + v.clicks, 0);
  }

  async function log(): Promise<IngestionEntry[]> {
    const listed = await service.admin(acme.adminToken, { path: '/v1/ingestion' });
    return (listed.body.files as Array<Record<string, unknown>>).map((file) => ({
      key: file.key as string,
      status: file.status as IngestionEntry['status'],
      reason: (file.reason as string | undefined) ?? null,
      events: file.events as number,
      attributed: file.attributed as number,
      duplicates: file.duplicates as number,
      bots: file.bots as number,
      ingestedAt: 0,
    }));
  }

  /** A click file by a freshly served recipient, carrying the token their email had. */
  async function oneClickFile(): Promise<Buffer> {
    const recipient = `long-key-user-${user++}`;
    const served = await service.content(acme.connectToken, {
      experiment: 'spring',
      recipient: sha(recipient),
      campaign: CAMPAIGN_ID,
    });
    const url = `https://shop.example/sale?weft=${served.body.token as string}`;
    return writeCurrentsFile(clickSchema(), [
      clickRecord({ id: `click-${recipient}`, user_id: recipient, url }),
    ]);
  }

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    s3 = await startLocalS3(BUCKET);
    ingest = createIngestCurrents(service.stores, s3.client);
    acme = await service.createTenant('acme');
    await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      body: {
        metric: 'clicks',
        variants: [
          { id: 'a', text: 'A' },
          { id: 'b', text: 'B' },
        ],
      },
    });
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it.each([
    ['ASCII', 'x'],
    ['two-byte characters', 'é'],
    ['four-byte characters', '😀'],
  ])('ingests a file under a 1,024-byte key of %s once and lists its key in full', async (_chars, pad) => {
    const key = longKey('acme', 1024, pad, `2025-04-03-1${user}`);
    await s3.put(key, await oneClickFile());
    const before = await clicks();

    const outcome = await ingest(s3Event(BUCKET, [key]));
    await ingest(s3Event(BUCKET, [key])); // Currents delivers at least once: the same file again

    expect(utf8Bytes(key)).toBe(1024);
    expect(outcome).toEqual({ files: 1, otherBuckets: 0 });
    expect((await clicks()) - before).toBe(1);
    const entries = (await log()).filter((entry) => entry.key === key);
    expect(entries.map((entry) => [entry.status, entry.attributed]).sort()).toEqual([
      ['ok', 0],
      ['ok', 1],
    ]);
  });

  it('keeps entries apart for keys longer than S3 allows that differ only past the cut', async () => {
    const table = new DynamoDbIngestionLog(service.client, service.tableName);
    const start = `acme/${'k'.repeat(1500)}`;
    const keys = [`${start}/one.avro`, `${start}/two.avro`, `${'é'.repeat(3000)}.avro`];
    const at = Date.parse('2026-01-01T00:00:00Z');
    for (const key of keys) {
      await table.record('acme', {
        key,
        status: 'skipped',
        reason: 'r',
        events: 0,
        attributed: 0,
        duplicates: 0,
        bots: 0,
        ingestedAt: at,
      });
    }

    const listed = await table.list('acme', 100);

    expect(
      listed
        .filter((entry) => entry.ingestedAt === at)
        .map((entry) => entry.key)
        .sort(),
    ).toEqual([...keys].sort());
  });

  it('lists a key with a malformed % escape as failed and still ingests the rest of the batch', async () => {
    const good = longKey('acme', 300, 'g', '2025-04-04-01');
    await s3.put(good, await oneClickFile());
    const broken = `acme/dataexport.prod-01.S3.integration.x/event_type=users.messages.email.Click/bad%E0%A4%A.avro`;
    const event = s3Event(BUCKET, [good, good]);
    event.Records[0]!.s3.object.key = broken; // as the event carries it: already URL-encoded, and broken
    const before = await clicks();

    const outcome = await ingest(event);

    expect(outcome).toEqual({ files: 2, otherBuckets: 0 });
    expect((await clicks()) - before).toBe(1);
    const entries = await log();
    expect(entries.find((entry) => entry.key === broken)).toMatchObject({
      status: 'failed',
      reason: MALFORMED_KEY_REASON,
      events: 0,
    });
    expect(entries.find((entry) => entry.key === good)).toMatchObject({ status: 'ok', attributed: 1 });
  });

  it('skips records of any other bucket without reading their objects', async () => {
    const key = currentsKey({ folder: 'acme', layout: 'schema-id', date: '2025-04-05-01' });
    await s3.put(key, await oneClickFile());
    const reads: unknown[] = [];
    const spy = {
      send: async (command: unknown) => {
        reads.push(command);
        return s3.client.send(command as Parameters<S3Client['send']>[0]);
      },
    } as unknown as S3Client;
    const guarded = createIngestCurrents(service.stores, spy);
    const event = s3Event('someone-elses-bucket', [key]);
    event.Records.push(...s3Event(`${BUCKET}-lookalike`, [key]).Records);
    const before = await clicks();
    const listedBefore = (await log()).length;

    const outcome = await guarded(event);

    expect(outcome).toEqual({ files: 0, otherBuckets: 2 });
    expect(reads).toEqual([]);
    expect((await clicks()) - before).toBe(0);
    expect((await log()).length).toBe(listedBefore);

    // The same record from the Currents bucket is read and counted.
    expect(await guarded(s3Event(BUCKET, [key]))).toEqual({ files: 1, otherBuckets: 0 });
    expect(reads).toHaveLength(1);
    expect((await clicks()) - before).toBe(1);
  });

  it('reads nothing when no Currents bucket is configured', async () => {
    const key = currentsKey({ folder: 'acme', layout: 'schema-id', date: '2025-04-06-01' });
    const unconfigured = createIngestCurrents(service.stores, s3.client, null);

    expect(await unconfigured(s3Event(BUCKET, [key]))).toEqual({ files: 0, otherBuckets: 1 });
  });
});
