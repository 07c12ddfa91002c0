// IngestionLog: the same cases against MemoryIngestionLog and DynamoDbIngestionLog (DynamoDB Local).
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbIngestionLog } from '../../adapters/dynamodb/dynamodb-ingestion-log';
import { MemoryIngestionLog } from '../../adapters/memory/memory-stores';
import type { IngestionEntry, IngestionLog } from '../../domain/ports/ingestion-log';
import { bothAdapters } from './adapters';

const NOW_MS = 1_767_225_600_000;

function entry(key: string, ingestedAt: number, overrides: Partial<IngestionEntry> = {}): IngestionEntry {
  return {
    key,
    status: 'ok',
    reason: null,
    events: 10,
    attributed: 4,
    duplicates: 2,
    bots: 1,
    ingestedAt,
    ...overrides,
  };
}

describe.each(
  bothAdapters<IngestionLog>(
    () => new MemoryIngestionLog(),
    ({ client, tableName }) => new DynamoDbIngestionLog(client, tableName),
  ),
)('IngestionLog contract: %s', (name, makeLog) => {
  let log: IngestionLog;
  beforeEach(async () => {
    log = await makeLog();
  });

  it('lists what was recorded, newest first, every field kept', async () => {
    const first = entry('acme/a.avro', NOW_MS);
    const skipped = entry('acme/b.avro', NOW_MS + 1, {
      status: 'skipped',
      reason: 'event type x is not used by weft',
      events: 0,
      attributed: 0,
      duplicates: 0,
      bots: 0,
    });
    const failed = entry('acme/c.avro', NOW_MS + 2, { status: 'failed', reason: 'the file is empty' });
    for (const e of [first, skipped, failed]) await log.record('acme', e);

    expect(await log.list('acme', 10)).toEqual([failed, skipped, first]);
  });

  it('orders by ingestion time, not by when the entry was recorded', async () => {
    await log.record('acme', entry('acme/late.avro', NOW_MS + 5000));
    await log.record('acme', entry('acme/early.avro', NOW_MS));
    await log.record('acme', entry('acme/middle.avro', NOW_MS + 60));

    expect((await log.list('acme', 10)).map((e) => e.key)).toEqual([
      'acme/late.avro',
      'acme/middle.avro',
      'acme/early.avro',
    ]);
  });

  it('entries of the same millisecond: by key, descending; the same key again replaces the entry', async () => {
    await log.record('acme', entry('acme/b.avro', NOW_MS));
    await log.record('acme', entry('acme/c.avro', NOW_MS));
    await log.record('acme', entry('acme/a.avro', NOW_MS));
    await log.record('acme', entry('acme/b.avro', NOW_MS, { attributed: 0, duplicates: 4 }));

    expect(await log.list('acme', 10)).toEqual([
      entry('acme/c.avro', NOW_MS),
      entry('acme/b.avro', NOW_MS, { attributed: 0, duplicates: 4 }),
      entry('acme/a.avro', NOW_MS),
    ]);
  });

  it('returns at most `limit` entries, the newest', async () => {
    for (let i = 0; i < 5; i++) await log.record('acme', entry(`acme/${i}.avro`, NOW_MS + i));

    expect((await log.list('acme', 2)).map((e) => e.key)).toEqual(['acme/4.avro', 'acme/3.avro']);
  });

  it('lists only the named tenant’s files; nothing for a tenant with none', async () => {
    await log.record('acme', entry('acme/a.avro', NOW_MS));
    await log.record('globex', entry('globex/a.avro', NOW_MS + 1));

    expect(await log.list('acme', 10)).toEqual([entry('acme/a.avro', NOW_MS)]);
    expect(await log.list('globex', 10)).toEqual([entry('globex/a.avro', NOW_MS + 1)]);
    expect(await log.list('initech', 10)).toEqual([]);
  });

  it('keeps a reason up to 500 characters; an empty reason is none', async () => {
    const long = `${'r'.repeat(499)}xyz`;
    await log.record('acme', entry('acme/a.avro', NOW_MS, { status: 'failed', reason: long }));
    await log.record('acme', entry('acme/b.avro', NOW_MS + 1, { status: 'skipped', reason: '' }));

    expect(await log.list('acme', 2)).toEqual([
      entry('acme/b.avro', NOW_MS + 1, { status: 'skipped', reason: null }),
      entry('acme/a.avro', NOW_MS, { status: 'failed', reason: long.slice(0, 500) }),
    ]);
  });

  it('a file no tenant owns is listed to no tenant', async () => {
    await log.record(
      null,
      entry('stranger/a.avro', NOW_MS, { status: 'skipped', reason: 'no tenant owns this folder' }),
    );

    for (const tenantId of ['acme', 'stranger', 'null', 'unowned'])
      expect(await log.list(tenantId, 10)).toEqual([]);
  });

  // KNOWN GAP (DynamoDB adapter, not ours to change here): files no tenant owns are stored under the tenant id
  // `_unowned`, which validateTenantId accepts, so a tenant created with that id would list them. The fake never
  // does. `it.fails` keeps the gap visible: this case starts failing on DynamoDB the day the adapter is fixed.
  (name === 'dynamodb' ? it.fails : it)(
    'a file no tenant owns is not listed even to a tenant named `_unowned`',
    async () => {
      await log.record(
        null,
        entry('stranger/a.avro', NOW_MS, { status: 'skipped', reason: 'no tenant owns this folder' }),
      );

      expect(await log.list('_unowned', 10)).toEqual([]);
    },
  );
});
