import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { inspect } from 'node:util';
import { createDeflateRaw, deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CurrentsDecodeError, readCurrentsEvents } from '../../adapters/avro/currents-reader';
import { encodeSnappyBlock } from '../../adapters/avro/snappy-codec';
import type { EngagementEvent, EngagementKind } from '../../domain/currents';
import {
  type AvroRecordSchema,
  avroLong,
  avroString,
  CAMPAIGN_ID,
  CANVAS_STEP_ID,
  type CurrentsCodec,
  type CurrentsRecord,
  clickRecord,
  clickSchema,
  containerBlock,
  containerHeader,
  encodeRecords,
  openRecord,
  openSchema,
  optionalField,
  PERSONAL,
  reorderFields,
  TRACKING_TOKEN,
  withFields,
  withoutFields,
  writeCurrentsFile,
} from '../support/currents-fixtures';

const MiB = 1024 * 1024;
const CODECS: CurrentsCodec[] = ['null', 'deflate', 'snappy'];
const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

function chunked(buffer: Buffer, size = 64 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let start = 0; start < buffer.length; start += size) chunks.push(buffer.subarray(start, start + size));
  return Readable.from(chunks, { objectMode: false });
}

async function collect(
  source: Buffer | Readable,
  kind: EngagementKind,
  limits?: Parameters<typeof readCurrentsEvents>[2],
): Promise<EngagementEvent[]> {
  const events: EngagementEvent[] = [];
  for await (const event of readCurrentsEvents(
    Buffer.isBuffer(source) ? chunked(source) : source,
    kind,
    limits,
  )) {
    events.push(event);
  }
  return events;
}

/** The CurrentsDecodeError reading `source` rejects with (fails the test if it does not reject with one). */
async function decodeFailure(
  source: Buffer | Readable,
  kind: EngagementKind = 'click',
  limits?: Parameters<typeof readCurrentsEvents>[2],
): Promise<CurrentsDecodeError> {
  try {
    await collect(source, kind, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(CurrentsDecodeError);
    return error as CurrentsDecodeError;
  }
  throw new Error('expected the read to fail');
}

/** A source that sends `prefix` and then zeros for ever, counting what it hands out. */
function endlessSource(prefix: Buffer): { stream: Readable; bytesSent: () => number } {
  const zeros = Buffer.alloc(64 * 1024);
  let sent = 0;
  const stream = new Readable({
    read() {
      const chunk = sent === 0 ? prefix : zeros;
      sent += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, bytesSent: () => sent };
}

/** Runs `action` while sampling the resident set size; returns its growth over the baseline at the peak. */
async function peakMemoryGrowth(action: () => Promise<unknown>): Promise<number> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const timer = setInterval(sample, 1);
  try {
    await action();
  } finally {
    sample();
    clearInterval(timer);
  }
  return peak - baseline;
}

function expectNoPersonalData(text: string): void {
  for (const value of Object.values(PERSONAL)) expect(text).not.toContain(value);
  expect(text).not.toContain('shop.example/sale');
}

const clickHeader = () => containerHeader({ schema: clickSchema() });

/** The record(s) with the union index of the first record's `dispatch_id` set to 7, which its union lacks. */
function withBadUnionIndex(records: Buffer): Buffer {
  const record = clickRecord();
  const at = avroString(String(record['id'])).length + avroString(String(record['user_id'])).length;
  const corrupt = Buffer.from(records);
  corrupt[at] = avroLong(7)[0] ?? 0;
  return corrupt;
}

describe('readCurrentsEvents reads every codec and both event types', () => {
  const clicks: CurrentsRecord[] = [
    clickRecord({ id: 'click-1' }),
    clickRecord({
      id: 'click-2',
      user_id: '[REDACTED]',
      campaign_id: null,
      canvas_step_id: CANVAS_STEP_ID,
      url: 'https://shop.example/sale?utm_source=braze',
      is_suspected_bot_click: true,
    }),
    clickRecord({ id: 'click-3', time: 1_743_527_000, url: null, is_suspected_bot_click: null }),
  ];
  const opens: CurrentsRecord[] = [
    openRecord({ id: 'open-1', machine_open: 'true' }),
    openRecord({ id: 'open-2', campaign_id: null, canvas_step_id: CANVAS_STEP_ID, machine_open: null }),
  ];
  const digest = sha256(PERSONAL.brazeId);

  it.each(CODECS)('reads clicks written with codec %s', async (codec) => {
    const file = await writeCurrentsFile(clickSchema(), clicks, { codec });

    expect(await collect(file, 'click')).toEqual([
      {
        eventId: 'click-1',
        kind: 'click',
        time: 1_743_526_800,
        recipientDigest: digest,
        campaignId: CAMPAIGN_ID,
        trackingToken: TRACKING_TOKEN,
        suspectedBot: false,
      },
      {
        eventId: 'click-2',
        kind: 'click',
        time: 1_743_526_800,
        recipientDigest: null,
        campaignId: CANVAS_STEP_ID,
        trackingToken: null,
        suspectedBot: true,
      },
      {
        eventId: 'click-3',
        kind: 'click',
        time: 1_743_527_000,
        recipientDigest: digest,
        campaignId: CAMPAIGN_ID,
        trackingToken: null,
        suspectedBot: false,
      },
    ]);
  });

  it.each(CODECS)('reads opens written with codec %s', async (codec) => {
    const file = await writeCurrentsFile(openSchema(), opens, { codec });

    expect(await collect(file, 'open')).toEqual([
      {
        eventId: 'open-1',
        kind: 'open',
        time: 1_743_526_800,
        recipientDigest: digest,
        campaignId: CAMPAIGN_ID,
        trackingToken: null,
        suspectedBot: true,
      },
      {
        eventId: 'open-2',
        kind: 'open',
        time: 1_743_526_800,
        recipientDigest: digest,
        campaignId: CANVAS_STEP_ID,
        trackingToken: null,
        suspectedBot: false,
      },
    ]);
  });

  it.each(CODECS)('reads many blocks in order, however the bytes are chunked (codec %s)', async (codec) => {
    const records = Array.from({ length: 300 }, (_, index) => clickRecord({ id: `click-${index}` }));
    const file = await writeCurrentsFile(clickSchema(), records, { codec, blockSize: 2048 });
    const expected = records.map((record) => record['id']);

    for (const chunkSize of [1, 7, 1000, file.length]) {
      const events = await collect(chunked(file, chunkSize), 'click');
      expect(events.map((event) => event.eventId)).toEqual(expected);
    }
  });

  it('emits only the seven reduced fields, and nothing personal', async () => {
    const file = await writeCurrentsFile(
      withFields(clickSchema(), [optionalField('ip'), optionalField('first_name')]),
      [clickRecord()],
    );

    const [event] = await collect(file, 'click');

    expect(Object.keys(event ?? {}).sort()).toEqual(
      ['campaignId', 'eventId', 'kind', 'recipientDigest', 'suspectedBot', 'time', 'trackingToken'].sort(),
    );
    expectNoPersonalData(JSON.stringify(event));
  });
});

describe('readCurrentsEvents reads each file with its own writer schema', () => {
  const eventsFor = async (schema: AvroRecordSchema, record: CurrentsRecord) =>
    collect(await writeCurrentsFile(schema, [record]), 'click');

  it('ignores unknown fields, wherever they are and whatever their type', async () => {
    const extended = withFields(
      withFields(clickSchema(), [optionalField('ip'), optionalField('first_name')], 0),
      [
        optionalField('geo', {
          type: 'record',
          name: 'Geo',
          fields: [
            { name: 'city', type: 'string' },
            { name: 'tags', type: { type: 'map', values: { type: 'array', items: 'string' } } },
          ],
        }),
        optionalField('scores', { type: 'array', items: 'double' }),
        { name: 'raw', type: 'bytes', default: '' },
        { name: 'tier', type: { type: 'enum', name: 'Tier', symbols: ['GOLD', 'SILVER'] }, default: 'GOLD' },
      ],
      8,
    );
    const record = clickRecord({
      geo: { city: 'London', tags: { interests: ['tea', 'maths'] } },
      scores: [0.5, 0.25],
      raw: Buffer.from(PERSONAL.email),
      tier: 'SILVER',
    });

    expect(await eventsFor(extended, record)).toEqual(await eventsFor(clickSchema(), record));
  });

  it('reads a schema whose fields come in another order', async () => {
    const record = clickRecord({ canvas_step_id: CANVAS_STEP_ID, is_suspected_bot_click: true });

    expect(await eventsFor(reorderFields(clickSchema()), record)).toEqual(
      await eventsFor(clickSchema(), record),
    );
  });

  it('reads an older schema without the optional fields weft uses', async () => {
    const older = withoutFields(clickSchema(), [
      'url',
      'campaign_id',
      'canvas_step_id',
      'is_suspected_bot_click',
      'suspected_bot_click_reason',
    ]);

    expect(await eventsFor(older, clickRecord({ id: 'old-1' }))).toEqual([
      {
        eventId: 'old-1',
        kind: 'click',
        time: 1_743_526_800,
        recipientDigest: sha256(PERSONAL.brazeId),
        campaignId: null,
        trackingToken: null,
        suspectedBot: false,
      },
    ]);
  });

  it('reads a newer schema with fields added in the middle and time widened to long', async () => {
    const newer = withFields(
      clickSchema(),
      [optionalField('link_tags', { type: 'array', items: 'string' })],
      3,
    );
    const timeField = newer.fields.find((field) => field.name === 'time');
    if (timeField) timeField.type = 'long';
    const record = clickRecord({ link_tags: ['hero', 'spring'], time: 4_102_444_800 });

    const events = await eventsFor(newer, record);

    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      time: 4_102_444_800,
      trackingToken: TRACKING_TOKEN,
      campaignId: CAMPAIGN_ID,
    });
  });

  it('reads files with different schemas one after the other', async () => {
    const first = await writeCurrentsFile(clickSchema(), [clickRecord({ id: 'a' })], { codec: 'snappy' });
    const second = await writeCurrentsFile(reorderFields(withFields(clickSchema(), [optionalField('ip')])), [
      clickRecord({ id: 'b' }),
    ]);

    expect((await collect(first, 'click')).map((event) => event.eventId)).toEqual(['a']);
    expect((await collect(second, 'click')).map((event) => event.eventId)).toEqual(['b']);
  });
});

describe('readCurrentsEvents refuses files it cannot trust', () => {
  it.each(['id', 'time'])('refuses a schema without %s', async (field) => {
    const file = await writeCurrentsFile(withoutFields(clickSchema(), [field]), [clickRecord()]);

    const error = await decodeFailure(file);

    expect(error.message).toBe(`schema lacks field ${field}`);
    expect(error.code).toBe('unreadable_file');
    expect(error.offset).toBe(0);
  });

  it('refuses a record without an id value, naming the block', async () => {
    const schema = clickSchema();
    const id = schema.fields.find((field) => field.name === 'id');
    if (id) id.type = ['null', 'string'];
    const header = containerHeader({ schema });
    const records = encodeRecords(schema, [clickRecord(), clickRecord({ id: null })]);

    const error = await decodeFailure(Buffer.concat([header, containerBlock(2, records)]));

    expect(error.message).toBe(`a record in the block at byte ${header.length} has no id`);
    expect(error.offset).toBe(header.length);
  });

  it('refuses a field weft reads with a type it does not expect', async () => {
    const schema = clickSchema();
    const url = schema.fields.find((field) => field.name === 'url');
    if (url) url.type = ['null', { type: 'array', items: 'string' }];

    const error = await decodeFailure(await writeCurrentsFile(schema, [clickRecord({ url: ['x'] })]));

    expect(error.message).toBe('schema field url has an unsupported type');
  });

  it('refuses an open file read as clicks', async () => {
    const file = await writeCurrentsFile(openSchema(), [openRecord()]);

    expect((await decodeFailure(file, 'click')).message).toMatch(/schema is for email opens, but clicks/);
  });

  it('refuses random bytes', async () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed & 0xff;
    };
    for (let attempt = 0; attempt < 20; attempt++) {
      const bytes = Buffer.from(Array.from({ length: 1 + attempt * 97 }, random));
      const error = await decodeFailure(bytes);
      expect(error.offset).toBe(0);
    }
    expect((await decodeFailure(Buffer.from('not avro at all'))).message).toMatch(
      /not an Avro object container/,
    );
  });

  it('refuses random bytes behind the Avro magic', async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const noise = createHash('sha512').update(String(attempt)).digest();
      await decodeFailure(Buffer.concat([Buffer.from('Obj\x01', 'latin1'), noise, noise]));
    }
  });

  it('refuses an empty file', async () => {
    expect((await decodeFailure(Buffer.alloc(0))).message).toBe('the file is empty');
  });

  it('refuses a truncated file wherever it is cut, naming where', async () => {
    const file = await writeCurrentsFile(clickSchema(), [clickRecord(), clickRecord({ id: 'second' })], {
      codec: 'deflate',
    });
    const headerLength = containerHeader({ schema: clickSchema(), codec: 'deflate' }).length;

    for (const cut of [3, 10, headerLength - 1]) {
      const error = await decodeFailure(file.subarray(0, cut));
      expect(error.message).toBe('the file ends inside its header (truncated, or not an Avro file)');
      expect(error.offset).toBe(0);
    }
    for (const cut of [headerLength + 1, headerLength + 20, file.length - 1]) {
      const error = await decodeFailure(file.subarray(0, cut));
      expect(error.message).toBe(`the file ends inside the block at byte ${headerLength} (truncated)`);
      expect(error.offset).toBe(headerLength);
    }
  });

  it('reads a file cut exactly between blocks as a shorter file (Avro has no footer to tell)', async () => {
    const header = clickHeader();
    const block = containerBlock(1, encodeRecords(clickSchema(), [clickRecord()]));

    expect(await collect(Buffer.concat([header, block, block]), 'click')).toHaveLength(2);
    expect(await collect(Buffer.concat([header, block]), 'click')).toHaveLength(1);
  });

  it.each([
    ['no avro.schema', { 'avro.codec': 'null' }, 'the file header has no avro.schema'],
    [
      'a schema that is not JSON',
      { 'avro.schema': '{"type": "record",' },
      "the file header's avro.schema is not valid JSON",
    ],
    [
      'a schema that is not Avro',
      { 'avro.schema': '{"type": "recrod", "name": "x"}' },
      "the file header's avro.schema is not a valid Avro schema",
    ],
    ['a schema that is not a record', { 'avro.schema': '"string"' }, "the file's schema is not a record"],
    [
      'an unknown codec',
      { 'avro.schema': JSON.stringify(clickSchema()), 'avro.codec': 'zstandard' },
      'the file uses an unsupported codec zstandard',
    ],
  ])('refuses a header with %s', async (_case, meta, message) => {
    const file = Buffer.concat([
      containerHeader({ meta }),
      containerBlock(1, encodeRecords(clickSchema(), [clickRecord()])),
    ]);

    const error = await decodeFailure(file);

    expect(error.message).toBe(message);
    expect(error.offset).toBe(0);
  });

  it('refuses a block whose sync marker is wrong, naming the block', async () => {
    const header = clickHeader();
    const good = containerBlock(1, encodeRecords(clickSchema(), [clickRecord()]));
    const bad = containerBlock(1, encodeRecords(clickSchema(), [clickRecord()]), Buffer.alloc(16, 7));

    const error = await decodeFailure(Buffer.concat([header, good, bad]));

    expect(error.message).toBe(
      `the block at byte ${header.length + good.length} does not end with the file's sync marker (corrupt block)`,
    );
    expect(error.offset).toBe(header.length + good.length);
  });

  it('refuses a block holding fewer records than it declares, naming the block', async () => {
    const header = clickHeader();
    const records = encodeRecords(clickSchema(), [clickRecord(), clickRecord()]);
    const good = containerBlock(2, records);
    const overCounted = containerBlock(3, records);

    const error = await decodeFailure(Buffer.concat([header, good, overCounted]));

    expect(error.message).toBe(
      `a record in the block at byte ${header.length + good.length} runs past the end of the block (corrupt block)`,
    );
    expect(error.offset).toBe(header.length + good.length);
  });

  it('refuses a block holding more records than it declares', async () => {
    const header = clickHeader();
    const records = encodeRecords(clickSchema(), [clickRecord(), clickRecord()]);

    const error = await decodeFailure(Buffer.concat([header, containerBlock(1, records)]));

    expect(error.message).toBe(
      `the block at byte ${header.length} has bytes left after its last record (corrupt block)`,
    );
  });

  it('refuses a record whose bytes do not fit the schema, naming the block', async () => {
    const header = clickHeader();
    const corrupt = withBadUnionIndex(encodeRecords(clickSchema(), [clickRecord()]));

    const error = await decodeFailure(Buffer.concat([header, containerBlock(1, corrupt)]));

    expect(error.offset).toBe(header.length);
    expect(error.message).toMatch(new RegExp(`^a record in the block at byte ${header.length} `));
  });

  it('refuses a deflate block that does not inflate, naming the block', async () => {
    const header = containerHeader({ schema: clickSchema(), codec: 'deflate' });
    const good = containerBlock(1, deflateRawSync(encodeRecords(clickSchema(), [clickRecord()])));
    const garbage = containerBlock(1, Buffer.from('this is not deflate data at all, not even close'));

    const error = await decodeFailure(Buffer.concat([header, good, garbage]));

    expect(error.message).toBe(
      `the block at byte ${header.length + good.length} could not be decompressed (deflate): the compressed data is corrupt`,
    );
    expect(error.offset).toBe(header.length + good.length);
  });

  it('refuses a snappy block whose checksum does not match', async () => {
    const header = containerHeader({ schema: clickSchema(), codec: 'snappy' });
    const block = encodeSnappyBlock(encodeRecords(clickSchema(), [clickRecord()]));
    block.writeUInt32BE((block.readUInt32BE(block.length - 4) ^ 1) >>> 0, block.length - 4);

    const error = await decodeFailure(Buffer.concat([header, containerBlock(1, block)]));

    expect(error.message).toBe(
      `the block at byte ${header.length} could not be decompressed (snappy): snappy block checksum (CRC32 of the uncompressed data) does not match`,
    );
    expect(error.offset).toBe(header.length);
  });

  it('refuses a snappy block with corrupt compressed data', async () => {
    const header = containerHeader({ schema: clickSchema(), codec: 'snappy' });
    const block = encodeSnappyBlock(encodeRecords(clickSchema(), [clickRecord()]));
    block.fill(0xff, 2, 40);

    expect((await decodeFailure(Buffer.concat([header, containerBlock(1, block)]))).message).toMatch(
      /could not be decompressed \(snappy\): snappy block is not valid snappy data/,
    );
  });

  it('lets an error of the source itself through unchanged (it is I/O, not a bad file)', async () => {
    const file = await writeCurrentsFile(clickSchema(), [clickRecord(), clickRecord()], { blockSize: 256 });
    const socketError = new Error('socket hang up');
    let sent = false;
    const source = new Readable({
      read() {
        if (sent) {
          this.destroy(socketError);
          return;
        }
        sent = true;
        this.push(file.subarray(0, file.length - 30));
      },
    });

    await expect(collect(source, 'click')).rejects.toBe(socketError);
  });

  it('destroys the source when the caller stops early', async () => {
    const file = await writeCurrentsFile(
      clickSchema(),
      Array.from({ length: 200 }, (_, index) => clickRecord({ id: `c${index}` })),
      { blockSize: 1024 },
    );
    const source = chunked(file, 512);
    let seen = 0;

    for await (const _event of readCurrentsEvents(source, 'click')) {
      if (++seen === 5) break;
    }
    await new Promise((resolve) => setImmediate(resolve));

    expect(seen).toBe(5);
    expect(source.destroyed).toBe(true);
  });

  it('refuses nonsensical limits up front', () => {
    expect(() => readCurrentsEvents(chunked(Buffer.alloc(1)), 'click', { maxEvents: 0 })).toThrow(RangeError);
    expect(() => readCurrentsEvents(chunked(Buffer.alloc(1)), 'click', { maxBlockBytes: 1.5 })).toThrow(
      RangeError,
    );
  });
});

describe('readCurrentsEvents fails fast, in bounded memory, on Avro bombs', () => {
  /** A click record whose optional bot-reason array starts with `tail` in place of its null. */
  const clickWithReasonBytes = (tail: Buffer) => {
    const bytes = encodeRecords(clickSchema(), [clickRecord({ suspected_bot_click_reason: null })]);
    return Buffer.concat([bytes.subarray(0, bytes.length - 1), avroLong(1), tail]);
  };

  it('stops at a block declaring 4 GB without waiting for it', async () => {
    const header = clickHeader();
    const { stream, bytesSent } = endlessSource(
      Buffer.concat([header, avroLong(1), avroLong(4 * 1024 * MiB)]),
    );

    let error: CurrentsDecodeError | undefined;
    const growth = await peakMemoryGrowth(async () => {
      error = await decodeFailure(stream);
    });

    expect(error?.message).toBe(
      `the block at byte ${header.length} declares 4294967296 bytes, over the 16777216-byte limit`,
    );
    expect(error?.offset).toBe(header.length);
    expect(bytesSent()).toBeLessThan(MiB);
    expect(growth).toBeLessThan(64 * MiB);
  });

  it('stops at a header value declaring 2 GB', async () => {
    const prefix = Buffer.concat([
      Buffer.from('Obj\x01', 'latin1'),
      avroLong(1),
      avroString('avro.schema'),
      avroLong(2 * 1024 * MiB),
    ]);
    const { stream, bytesSent } = endlessSource(prefix);

    const error = await decodeFailure(stream);

    expect(error.message).toBe(
      `a file header value at byte ${prefix.length - avroLong(2 * 1024 * MiB).length} declares 2147483648 bytes, over the 16777216-byte limit`,
    );
    expect(bytesSent()).toBeLessThan(MiB);
  });

  it('stops at a header that keeps growing', async () => {
    let bytesSent = 0;
    const entries = function* () {
      const start = Buffer.concat([Buffer.from('Obj\x01', 'latin1'), avroLong(64)]);
      bytesSent += start.length;
      yield start;
      for (let entry = 0; entry < 64; entry++) {
        const value = Buffer.concat([avroString(`key-${entry}`), avroString(Buffer.alloc(MiB - 64))]);
        bytesSent += value.length;
        yield value;
      }
    };

    const error = await decodeFailure(Readable.from(entries(), { objectMode: false }), 'click', {
      maxBlockBytes: 4 * MiB,
    });

    expect(error.message).toBe('the file header is larger than the 4194304-byte limit');
    expect(bytesSent).toBeLessThan(8 * MiB);
  });

  it('stops at a string declaring 2 GB inside a record', async () => {
    const header = clickHeader();
    const data = Buffer.concat([avroLong(2 * 1024 * MiB), Buffer.from('evt-1')]);

    const error = await decodeFailure(Buffer.concat([header, containerBlock(1, data)]));

    expect(error.message).toBe(
      `a record in the block at byte ${header.length} could not be decoded: a string or bytes value declares 2147483648 bytes, over the 1048576-byte limit`,
    );
    expect(error.offset).toBe(header.length);
  });

  it('stops at a 2 GB string in a field weft skips (email_address)', async () => {
    const marker = avroString(PERSONAL.email);
    const record = encodeRecords(clickSchema(), [clickRecord()]);
    const at = record.indexOf(marker);
    expect(at).toBeGreaterThan(0);
    const data = Buffer.concat([record.subarray(0, at), avroLong(2 * 1024 * MiB), record.subarray(at + 1)]);

    const error = await decodeFailure(Buffer.concat([clickHeader(), containerBlock(1, data)]));

    expect(error.message).toMatch(/declares 2147483648 bytes, over the 1048576-byte limit/);
    expectNoPersonalData(inspect(error, { depth: 10 }));
  });

  it('stops at an array declaring 2^31 items (avsc alone spins or runs out of memory)', async () => {
    const data = clickWithReasonBytes(
      Buffer.concat([avroLong(2 ** 31), avroString('user_agent'), avroLong(0)]),
    );

    const started = Date.now();
    const error = await decodeFailure(Buffer.concat([clickHeader(), containerBlock(1, data)]));

    expect(error.message).toMatch(/an array or map declares 2147483648 items, more than its block holds/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops at an array block with a negative size (avsc alone steps backwards through the block)', async () => {
    const data = clickWithReasonBytes(Buffer.concat([avroLong(-1), avroLong(-3), avroLong(0)]));

    const error = await decodeFailure(Buffer.concat([clickHeader(), containerBlock(1, data)]));

    expect(error.message).toMatch(/an array or map block declares a negative size/);
  });

  it('stops at a map declaring 2^31 entries in an unknown field', async () => {
    const schema = withFields(clickSchema(), [{ name: 'attrs', type: { type: 'map', values: 'string' } }], 0);
    const data = Buffer.concat([avroLong(2 ** 31), encodeRecords(clickSchema(), [clickRecord()])]);

    const error = await decodeFailure(Buffer.concat([containerHeader({ schema }), containerBlock(1, data)]));

    expect(error.message).toMatch(/an array or map declares 2147483648 items/);
  });

  it('refuses a schema with an array of empty items, whose length nothing bounds', async () => {
    const schema = withFields(clickSchema(), [optionalField('nothing', { type: 'array', items: 'null' })]);

    const error = await decodeFailure(await writeCurrentsFile(schema, [clickRecord({ nothing: [null] })]));

    expect(error.message).toBe("the file's schema has an array whose items take no bytes");
  });

  it('stops at a block declaring a billion records', async () => {
    const header = clickHeader();
    const { stream, bytesSent } = endlessSource(Buffer.concat([header, avroLong(1e9), avroLong(100)]));

    const error = await decodeFailure(stream);

    expect(error.message).toBe(`the file declares more than 2000000 events (block at byte ${header.length})`);
    expect(bytesSent()).toBeLessThan(MiB);
  });

  it('stops at a block declaring more records than it holds', async () => {
    const data = encodeRecords(clickSchema(), [clickRecord()]);

    const error = await decodeFailure(Buffer.concat([clickHeader(), containerBlock(1_000_000, data)]));

    expect(error.message).toMatch(/runs past the end of the block/);
  });

  it('stops a deflate block that inflates to 512 MiB at the block limit', async () => {
    const deflated = await deflateZeros(512 * MiB);
    const header = containerHeader({ schema: clickSchema(), codec: 'deflate' });

    let error: CurrentsDecodeError | undefined;
    const growth = await peakMemoryGrowth(async () => {
      error = await decodeFailure(Buffer.concat([header, containerBlock(1, deflated)]));
    });

    expect(deflated.length).toBeLessThan(MiB);
    expect(error?.message).toBe(
      `the block at byte ${header.length} could not be decompressed (deflate): it inflates past the 16777216-byte limit`,
    );
    expect(growth).toBeLessThan(128 * MiB);
  });

  it('stops a snappy block declaring 4 GB before allocating', async () => {
    const header = containerHeader({ schema: clickSchema(), codec: 'snappy' });
    const block = Buffer.concat([
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]),
      Buffer.alloc(64),
      Buffer.alloc(4),
    ]);

    const error = await decodeFailure(Buffer.concat([header, containerBlock(1, block)]));

    expect(error.message).toBe(
      `the block at byte ${header.length} could not be decompressed (snappy): snappy block declares 4294967295 uncompressed bytes, over the 16777216-byte limit`,
    );
  });

  it('applies the limits it is given', async () => {
    const records = Array.from({ length: 50 }, (_, index) => clickRecord({ id: `c${index}` }));
    const file = await writeCurrentsFile(clickSchema(), records, { blockSize: 4096 });

    expect((await decodeFailure(file, 'click', { maxEvents: 49 })).message).toMatch(/more than 49 events/);
    expect((await decodeFailure(file, 'click', { maxBlockBytes: 3000 })).message).toMatch(
      /^the block at byte \d+ declares \d+ bytes, over the 3000-byte limit$/,
    );
    expect((await decodeFailure(file, 'click', { maxStringBytes: 64 })).message).toMatch(
      /over the 64-byte limit/,
    );
    expect(await collect(file, 'click', { maxEvents: 50 })).toHaveLength(50);
  });
});

async function deflateZeros(bytes: number): Promise<Buffer> {
  const deflater = createDeflateRaw({ level: 9 });
  const chunks: Buffer[] = [];
  deflater.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise((resolve) => deflater.on('end', resolve));
  const zeros = Buffer.alloc(MiB);
  for (let written = 0; written < bytes; written += zeros.length) {
    if (!deflater.write(zeros)) await new Promise((resolve) => deflater.once('drain', resolve));
  }
  deflater.end();
  await done;
  return Buffer.concat(chunks);
}

describe('readCurrentsEvents keeps personal data out of its errors', () => {
  it('names no personal value in the message or anywhere in the error chain', async () => {
    const records = [clickRecord(), clickRecord({ id: 'second' })];
    const file = await writeCurrentsFile(clickSchema(), records, { codec: 'snappy' });
    const plain = encodeRecords(clickSchema(), records);
    const header = clickHeader();
    const snappyHeader = containerHeader({ schema: clickSchema(), codec: 'snappy' });
    const badChecksum = encodeSnappyBlock(plain);
    badChecksum[badChecksum.length - 1] = (badChecksum[badChecksum.length - 1] ?? 0) ^ 0xff;
    const corrupt = withBadUnionIndex(plain);

    const failures = [
      file.subarray(0, file.length - 7),
      Buffer.concat([header, containerBlock(3, plain)]),
      Buffer.concat([header, containerBlock(1, plain)]),
      Buffer.concat([header, containerBlock(2, corrupt)]),
      Buffer.concat([snappyHeader, containerBlock(2, badChecksum)]),
      await writeCurrentsFile(withoutFields(clickSchema(), ['id']), records),
    ];
    for (const bytes of failures) {
      const error = await decodeFailure(bytes);
      expectNoPersonalData(error.message);
      expectNoPersonalData(inspect(error, { depth: 10 }));
    }
  });
});

describe('readCurrentsEvents streams', () => {
  it('reads a 100,000-event file without holding it whole', async () => {
    const total = 100_000;
    function* records() {
      for (let index = 0; index < total; index++) {
        yield clickRecord({
          id: `evt-${index}`,
          user_id: `user-${index % 7_000}`,
          time: 1_743_526_800 + index,
        });
      }
    }
    const file = await writeCurrentsFile(clickSchema(), records(), { codec: 'deflate' });
    let bytesSent = 0;
    const source = Readable.from(
      (function* () {
        for (let start = 0; start < file.length; start += 16 * 1024) {
          const chunk = file.subarray(start, start + 16 * 1024);
          bytesSent += chunk.length;
          yield chunk;
        }
      })(),
      { objectMode: false },
    );

    let count = 0;
    let sentAtFirstEvent = 0;
    let sentAtHalf = 0;
    const ids = new Set<string>();
    for await (const event of readCurrentsEvents(source, 'click')) {
      if (count === 0) sentAtFirstEvent = bytesSent;
      if (count === total / 2) sentAtHalf = bytesSent;
      if (count % 1000 === 0) ids.add(event.eventId);
      count++;
    }

    expect(count).toBe(total);
    expect(ids.has('evt-99000')).toBe(true);
    expect(sentAtFirstEvent).toBeLessThan(256 * 1024);
    expect(sentAtHalf).toBeLessThan(file.length * 0.6);
    expect(bytesSent).toBe(file.length);
  });
});
