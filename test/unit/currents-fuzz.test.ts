// Property tests of the Currents reader: whatever bytes arrive — random schemas, mutated or truncated files,
// huge declared lengths — it either yields events or fails with CurrentsDecodeError, quickly and in bounded memory.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CurrentsDecodeError, readCurrentsEvents } from '../../adapters/avro/currents-reader';
import { extractTrackingToken, parseCurrentsKey } from '../../domain/currents';
import {
  avroLong,
  clickRecord,
  clickSchema,
  containerHeader,
  optionalField,
  withFields,
  writeCurrentsFile,
} from '../support/currents-fixtures';

async function outcome(bytes: Buffer): Promise<'events' | 'decode_error'> {
  try {
    for await (const _event of readCurrentsEvents(Readable.from([bytes]), 'click')) {
      // consume
    }
    return 'events';
  } catch (error) {
    if (error instanceof CurrentsDecodeError) return 'decode_error';
    throw error;
  }
}

describe('Currents reader under fuzzing', () => {
  it('mutated and truncated files end in events or a CurrentsDecodeError, never anything else', async () => {
    const valid = await writeCurrentsFile(
      clickSchema(),
      Array.from({ length: 50 }, (_, i) => clickRecord({ id: `e${i}` })),
      { codec: 'deflate', blockSize: 2048 },
    );
    const heapBefore = process.memoryUsage().heapUsed;
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: valid.length - 1 }),
        fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          maxLength: 8,
        }),
        async (cut, flips) => {
          const bytes = Buffer.from(valid.subarray(0, Math.max(1, cut === 0 ? valid.length : cut)));
          for (const [at, value] of flips) if (at < bytes.length) bytes[at] = value;
          expect(['events', 'decode_error']).toContain(await outcome(bytes));
        },
      ),
      { seed: 7, numRuns: 150 },
    );
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(200 * 1024 * 1024);
  });

  it('random extra fields in the writer schema are ignored', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), { maxLength: 6 }),
        fc.constantFrom('string', 'long', 'boolean', 'double', 'bytes'),
        async (names, type) => {
          const extra = names.filter((n) => !clickSchema().fields.some((f) => f.name === n));
          const schema = withFields(
            clickSchema(),
            extra.map((n) => optionalField(n, type)),
          );
          const file = await writeCurrentsFile(schema, [clickRecord({ id: 'x' })]);
          expect(await outcome(file)).toBe('events');
        },
      ),
      { seed: 11, numRuns: 40 },
    );
  });

  it('huge declared lengths anywhere after the header fail fast', async () => {
    const header = containerHeader({ schema: clickSchema() });
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 1n << 25n, max: 1n << 52n }),
        fc.nat({ max: 3 }),
        async (huge, position) => {
          const numbers = [avroLong(1), avroLong(64), avroLong(1)];
          numbers[position % 3] = avroLong(Number(huge));
          const started = Date.now();
          expect(await outcome(Buffer.concat([header, ...numbers, Buffer.alloc(64, 0x41)]))).toBe(
            'decode_error',
          );
          expect(Date.now() - started).toBeLessThan(5000);
        },
      ),
      { seed: 3, numRuns: 60 },
    );
  });
});

describe('Currents keys and click URLs under fuzzing', () => {
  it('parseCurrentsKey never throws, and only event_type= segments of Click and Open yield a kind', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (key) => {
        const parsed = parseCurrentsKey(key);
        if (parsed?.kind)
          expect(key.toLowerCase()).toMatch(/event_type=users\.messages\.email\.(click|open)/);
      }),
      { seed: 5, numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
        fc.constantFrom('Click', 'click', 'CLICK', 'Open', 'open', 'Send', 'Delivery'),
        fc.array(fc.stringMatching(/^[A-Za-z0-9=._+-]{1,12}$/), { maxLength: 4 }),
        (folder, type, extra) => {
          const key = [
            folder,
            'dataexport.S3.integration.x',
            `event_type=users.messages.email.${type}`,
            ...extra,
            'f.avro',
          ].join('/');
          const parsed = parseCurrentsKey(key);
          expect(parsed?.folder).toBe(folder);
          const expected = /^click$/i.test(type) ? 'click' : /^open$/i.test(type) ? 'open' : null;
          expect(parsed?.kind ?? null).toBe(expected);
        },
      ),
      { seed: 6, numRuns: 300 },
    );
  });

  it('extractTrackingToken never throws on garbage and finds a token wherever a real link puts it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (url) => {
        const token = extractTrackingToken(url);
        if (token !== null) expect(token).toMatch(/^[A-Za-z0-9._-]+$/);
      }),
      { seed: 8, numRuns: 500 },
    );
    const token = '1.acme.spring.b.kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk.tpaj7n.ZnTX-wngFEfS-hyeHyciDg';
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z_]{1,8}$/), fc.string({ maxLength: 20 })), {
          maxLength: 5,
        }),
        fc.nat({ max: 5 }),
        fc.boolean(),
        fc.option(fc.stringMatching(/^[a-z0-9/-]{0,12}$/), { nil: undefined }),
        (params, position, redirected, fragment) => {
          const query = new URLSearchParams(params.filter(([name]) => name !== 'weft'));
          const entries = [...query.entries()];
          entries.splice(Math.min(position, entries.length), 0, ['weft', token]);
          const destination = `https://shop.example/sale?${new URLSearchParams(entries).toString()}${fragment === undefined ? '' : `#${fragment}`}`;
          const url = redirected
            ? `https://click.example/ls/click?upn=abc&u=${encodeURIComponent(destination)}`
            : destination;
          expect(extractTrackingToken(url)).toBe(token);
        },
      ),
      { seed: 9, numRuns: 300 },
    );
  });
});
