// Fuzzing the HTTP edge with fast-check, against the real handlers on DynamoDB Local: whatever arrives, the
// answer is a documented 4xx in the error shape (never a 5xx), 200 only for valid input, the pixel is always
// the GIF, and nothing invalid changes a counter or a stored experiment. Fixed seeds keep CI deterministic.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TokenRewards } from '../../domain/rewards';
import { nowSeconds } from '../../domain/time';
import { signTrackingToken, type TrackingClaims, verifyTrackingToken } from '../../domain/tracking-token';
import { createAdmin } from '../../handlers/admin';
import { createSelectContent } from '../../handlers/select-content';
import { httpHandler } from '../../handlers/shared/http';
import { openApiDocument } from '../../handlers/shared/openapi';
import { createTrackOpen, PIXEL_GIF } from '../../handlers/track-open';
import { httpEvent, lambdaContext } from '../support/events';
import { validate } from '../support/json-schema';
import { serviceOnLocalDynamoDb } from '../support/service';

type Service = Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;
type Tenant = Awaited<ReturnType<Service['createTenant']>>;

// FUZZ_SEED explores further locally (`FUZZ_SEED=7 npx vitest run test/integration/fuzz.test.ts`); CI uses 42.
const SEED = Number(process.env.FUZZ_SEED ?? 42);
/** The contract's rules, written out independently of the code that enforces them. */
const EXPERIMENT_ID = /^[a-z0-9_-]{1,64}$/;
const REDACTED = /^\[?redacted\]?$/i;
const MAX_QUERY = 8 * 1024;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

const variants = [
  { id: 'a', text: 'Spring savings start now' },
  { id: 'b', text: 'Your spring picks are here' },
  { id: 'c', text: 'Fresh for spring: 20% off' },
];
const definition = { name: 'Spring sale', metric: 'clicks', variants };

function expectErrorShape(body: unknown) {
  expect(validate(openApiDocument, { $ref: '#/components/schemas/Error' }, body)).toEqual([]);
}

/** Encodes like a browser would (lone surrogates become U+FFFD), never throwing as encodeURIComponent can. */
const encodePair = (name: string, value: string) => new URLSearchParams([[name, value]]).toString();

/** Strings that break naive parsers: percent escapes cut short or invalid, separators, NULs. */
const percentGarbage = fc
  .array(
    fc.constantFrom(
      '%',
      '%z',
      '%zz',
      '%0',
      '%00',
      '%FF',
      '%E0%A4%A',
      '%C3%28',
      '%u0041',
      '+',
      '&',
      '=',
      '#',
      ';',
      'a',
    ),
    { maxLength: 20 },
  )
  .map((parts) => parts.join(''));

const hugeString = fc
  .tuple(fc.constantFrom('a', 'é', '%', '😀', ' ', '0'), fc.integer({ min: 60, max: 12_000 }))
  .map(([char, n]) => char.repeat(n));

describe('fuzzing the HTTP edge on DynamoDB Local', () => {
  let service: Service;
  let acme: Tenant;
  let globex: Tenant;
  let content: ReturnType<typeof httpHandler>;
  let admin: ReturnType<typeof httpHandler>;
  let trackOpen: ReturnType<typeof createTrackOpen>;
  const acmeExperiments = ['spring', 'paused'];

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    acme = await service.createTenant('acme');
    globex = await service.createTenant('globex');
    content = httpHandler(createSelectContent(service.config, service.stores));
    admin = httpHandler(createAdmin(service.config, service.stores));
    trackOpen = createTrackOpen(new TokenRewards(service.stores.tenants, service.stores.ledger, nowSeconds));
    for (const id of acmeExperiments) {
      const put = await service.admin(acme.adminToken, {
        method: 'PUT',
        path: `/v1/experiments/${id}`,
        body: definition,
      });
      expect(put.status).toBe(201);
    }
    await service.admin(acme.adminToken, {
      method: 'POST',
      path: '/v1/experiments/paused/status',
      body: { status: 'paused' },
    });
    await service.admin(globex.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/globex-only',
      body: definition,
    });
  });

  describe('content', () => {
    const recipients = [
      'user-1',
      'user-2',
      'alice@example.com',
      sha256('user-3'),
      sha256('user-4').toUpperCase(),
    ];

    function paramValue() {
      return fc.oneof(
        {
          weight: 3,
          arbitrary: fc.constantFrom('spring', 'paused', 'globex-only', 'nope', 'SPRING', ' spring '),
        },
        { weight: 3, arbitrary: fc.constantFrom(...recipients, 'redacted', '[REDACTED]', '   ', '') },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
        { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
        { weight: 1, arbitrary: hugeString },
        { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9_-]{60,70}$/) },
        { weight: 1, arbitrary: percentGarbage },
      );
    }

    const paramName = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('experiment', 'recipient', 'campaign', 'dispatch') },
      // `%65xperiment` decodes to `experiment`: the oracle and the handler must agree on that too.
      {
        weight: 1,
        arbitrary: fc.constantFrom('Experiment', 'recipient[]', 'experiment ', '%65xperiment', ''),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
    );

    const pair = fc
      .tuple(paramName, paramValue(), fc.boolean())
      .map(([name, value, raw]) => (raw ? `${name}=${value}` : encodePair(name, value)));

    const query = fc
      .record({
        valid: fc.oneof(
          { weight: 3, arbitrary: fc.constant(true) },
          { weight: 1, arbitrary: fc.constant(false) },
        ),
        experiment: fc.constantFrom('spring', 'spring', 'paused', 'nope', 'globex-only'),
        recipient: fc.constantFrom(...recipients),
        extras: fc.oneof(fc.constant([]), fc.array(pair, { maxLength: 4 })),
        separator: fc.constantFrom('&', '&&', ';'),
      })
      .map(({ valid, experiment, recipient, extras, separator }) =>
        [
          ...(valid ? [encodePair('experiment', experiment), encodePair('recipient', recipient)] : []),
          ...extras,
        ].join(separator),
      );

    function authorization(): fc.Arbitrary<string | undefined> {
      const token = acme.connectToken;
      return fc.oneof(
        { weight: 6, arbitrary: fc.constant(`Bearer ${token}`) },
        {
          weight: 4,
          arbitrary: fc.constantFrom(
            undefined,
            '',
            'Bearer',
            'Bearer ',
            `bearer ${token}`,
            `Bearer   ${token}  `,
            `Bearer ${globex.connectToken}`,
            `Bearer ${acme.adminToken}`,
            `Bearer ${token}x`,
            `Bearer ${token.slice(0, -1)}`,
            `Bearer ${token} extra`,
            `Basic ${Buffer.from(`acme:${token}`).toString('base64')}`,
            token,
            `Bearer wc.ghost.${token.split('.')[2]}`,
            `Bearer wc.__proto__.${token.split('.')[2]}`,
            `Bearer wc.constructor.x`,
            `Bearer ${'x'.repeat(10_000)}`,
          ),
        },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }).map((s) => `Bearer ${s}`) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
      );
    }

    /** The tenant whose connect token this header carries, if any (scheme case-insensitive, spaces tolerated). */
    function authenticatedAs(auth: string | undefined): Tenant | undefined {
      const bearer = /^bearer\s+(\S+)\s*$/i.exec(auth ?? '');
      return [acme, globex].find((t) => t.connectToken === bearer?.[1]);
    }

    /** The status the contract (DESIGN §3) demands for this request, worked out from the raw inputs. */
    function expectedStatus(rawQuery: string, auth: string | undefined): number {
      if (rawQuery.length > MAX_QUERY) return 400;
      const tenant = authenticatedAs(auth);
      if (!tenant) return 401;
      const params = new URLSearchParams(rawQuery);
      const single = (name: string, max: number, required: boolean): string | null | 'bad' => {
        const values = params.getAll(name);
        if (values.length > 1) return 'bad';
        const value = values[0]?.trim() ?? '';
        if (value === '') return required ? 'bad' : null;
        return value.length > max ? 'bad' : value;
      };
      const experiment = single('experiment', 64, true);
      const recipient = single('recipient', 512, true);
      if (experiment === 'bad' || experiment === null || !EXPERIMENT_ID.test(experiment)) return 400;
      if (recipient === 'bad' || recipient === null || REDACTED.test(recipient)) return 400;
      if (single('campaign', 128, false) === 'bad' || single('dispatch', 128, false) === 'bad') return 400;
      const owned = tenant === acme ? acmeExperiments : ['globex-only'];
      return owned.includes(experiment) ? 200 : 404;
    }

    it('never answers 5xx, answers 4xx in the error shape and 200 only for valid input; memory stays bounded', async () => {
      const sticky = new Map<string, string>();
      const statuses = new Map<number, number>();
      const heapBefore = process.memoryUsage().heapUsed;
      await fc.assert(
        fc.asyncProperty(query, authorization(), async (rawQuery, auth) => {
          const event = httpEvent({ path: '/v1/content', query: rawQuery, headers: {} });
          if (auth !== undefined) event.headers.authorization = auth;
          const result = await content(event, lambdaContext());
          const body = JSON.parse(result.body ?? 'null');
          statuses.set(result.statusCode, (statuses.get(result.statusCode) ?? 0) + 1);
          expect(result.statusCode).toBe(expectedStatus(rawQuery, auth));
          expect(result.headers?.['content-type']).toMatch(/^application\/json/);
          if (result.statusCode !== 200) {
            expectErrorShape(body);
            return;
          }
          expect(validate(openApiDocument, { $ref: '#/components/schemas/Content' }, body)).toEqual([]);
          expect(body.fallback).toBe(false);
          expect(variants.map((v) => v.id)).toContain(body.variant);
          // Another tenant's token serves that tenant's experiments only (the 404s above prove the converse).
          expect(body.experiment === 'globex-only').toBe(authenticatedAs(auth) === globex);
          const params = new URLSearchParams(rawQuery);
          const recipient = params.get('recipient')!.trim();
          const digest = /^[0-9a-f]{64}$/i.test(recipient) ? recipient.toLowerCase() : sha256(recipient);
          const key = `${body.experiment}/${digest}`;
          if (body.experiment !== 'paused') {
            expect(body.variant).toBe(sticky.get(key) ?? body.variant);
            sticky.set(key, body.variant);
          }
        }),
        { seed: SEED, numRuns: 200 },
      );
      const growthMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;
      expect(growthMb).toBeLessThan(100);
      // The generators must reach every outcome, or the property proves little.
      expect([...statuses.keys()].sort()).toEqual([200, 400, 401, 404]);
      expect(statuses.get(200)).toBeGreaterThanOrEqual(10);
    });
  });

  describe('pixel', () => {
    it('always answers the 43-byte GIF; only genuine tokens count, once per recipient', async () => {
      const real: string[] = [];
      for (let i = 0; i < 4; i++) {
        const served = await service.content(acme.connectToken, {
          experiment: 'spring',
          recipient: `opener-${i}`,
        });
        real.push(served.body.token as string);
      }
      const foreign = (
        await service.content(globex.connectToken, { experiment: 'globex-only', recipient: 'opener-0' })
      ).body.token as string;
      const opensBefore = await totalOpens();

      const mutated = fc
        .tuple(
          fc.constantFrom(...real, foreign),
          fc.nat(),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }),
        )
        .chain(([token, at, extra]) =>
          fc.constantFrom(
            token.slice(0, at % token.length),
            token + extra,
            token.slice(0, at % token.length) + extra + token.slice((at % token.length) + 1),
            token.replace(/^1\.globex\./, '1.acme.'),
            token.replace(/\.[a-z0-9]+\.([A-Za-z0-9_-]+)$/, '.zzzzzz.$1'),
            token.split('.').reverse().join('.'),
            `${token.split('.').slice(0, 6).join('.')}.${'A'.repeat(22)}`,
            token.toUpperCase(),
            encodeURIComponent(`${token}/..`),
          ),
        )
        .filter((token) => !real.includes(token) && token !== foreign);
      const forged = fc
        .tuple(
          fc.stringMatching(/^[a-z0-9_-]{1,10}$/),
          fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
          fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        )
        .map(([variant, key, signature]) => `1.acme.spring.${variant}.${key}.t0000.${signature}`);
      const token = fc.oneof(
        { weight: 2, arbitrary: fc.constantFrom(...real) },
        { weight: 4, arbitrary: mutated },
        { weight: 1, arbitrary: forged },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
        { weight: 1, arbitrary: percentGarbage },
        { weight: 1, arbitrary: fc.integer({ min: 500, max: 20_000 }).map((n) => 'A.'.repeat(n)) },
      );
      const shape = fc.constantFrom('parameter', 'raw', 'raw-no-suffix', 'deep-path');

      const counted = new Set<string>();
      await fc.assert(
        fc.asyncProperty(token, shape, async (t, how) => {
          const event =
            how === 'parameter'
              ? httpEvent({ path: `/v1/pixel/${t}.gif`, pathParameters: { token: `${t}.gif` } })
              : how === 'raw'
                ? httpEvent({ path: `/v1/pixel/${t}.gif` })
                : how === 'raw-no-suffix'
                  ? httpEvent({ path: `/v1/pixel/${t}` })
                  : httpEvent({ path: `/v1/pixel/${'deep/'.repeat(2000)}x${t}.gif` });
          const result = await trackOpen(event);
          expect(result.statusCode).toBe(200);
          expect(result.headers).toMatchObject({
            'content-type': 'image/gif',
            'cache-control': 'no-store, private',
          });
          expect(result.isBase64Encoded).toBe(true);
          expect(Buffer.from(result.body as string, 'base64').equals(PIXEL_GIF)).toBe(true);
          expect(PIXEL_GIF).toHaveLength(43);
          if (how !== 'deep-path' && real.includes(t)) counted.add(t);
        }),
        { seed: SEED, numRuns: 200 },
      );
      expect(counted.size).toBeGreaterThan(0);
      const opensAfter = await totalOpens();
      expect(opensAfter).toEqual({ ...opensBefore, acme: opensBefore.acme + counted.size });
    });

    async function totalOpens() {
      const sum = async (token: string, id: string) => {
        const report = await service.admin(token, { path: `/v1/experiments/${id}/report` });
        const entries = report.body.variants as Array<{ opens: number; clicks: number }>;
        expect(entries.every((v) => v.clicks === 0)).toBe(true);
        return entries.reduce((total, v) => total + v.opens, 0);
      };
      let acmeOpens = 0;
      for (const id of acmeExperiments) acmeOpens += await sum(acme.adminToken, id);
      return { acme: acmeOpens, globex: await sum(globex.adminToken, 'globex-only') };
    }
  });

  describe('admin bodies and ids', () => {
    const call = async (method: string, path: string, rawBody?: string) => {
      const event = httpEvent({
        method,
        path,
        headers: { authorization: `Bearer ${acme.adminToken}` },
        ...(rawBody === undefined ? {} : { rawBody }),
      });
      const result = await admin(event, lambdaContext());
      return { status: result.statusCode, raw: result.body ?? '' };
    };
    const stored = async () => ({
      one: (await call('GET', '/v1/experiments/spring')).raw,
      list: (await call('GET', '/v1/experiments')).raw,
    });

    const notString = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.nat()),
      fc.object(),
    );
    const invalidJson = fc.oneof(
      fc.constantFrom(
        '{',
        '{"name":',
        'nul',
        '[1,]',
        '\u0000',
        "{'a':1}",
        'NaN',
        '{"variants":[]}}',
        '\uFEFF{}',
        '{"a":1,}',
      ),
      fc.string({ unit: 'binary', maxLength: 200 }).filter((s) => {
        try {
          JSON.parse(s);
          return false;
        } catch {
          return s !== '';
        }
      }),
    );
    const deep = fc
      .tuple(fc.integer({ min: 1_000, max: 120_000 }), fc.constantFrom('array', 'object', 'variant', 'parts'))
      .map(([depth, where]) => {
        const nested =
          where === 'object'
            ? `${'{"a":'.repeat(depth / 2)}1${'}'.repeat(depth / 2)}`
            : `${'['.repeat(depth)}${']'.repeat(depth)}`;
        if (where === 'array') return nested;
        if (where === 'object') return `{"name":${nested}}`;
        if (where === 'variant')
          return JSON.stringify({ variants: [] }).replace('[]', `[${nested},${nested}]`);
        return JSON.stringify({ variants: [{ id: 'a', text: 'x', parts: 0 }, variants[1]] }).replace(
          '0',
          nested,
        );
      });
    const variantList = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: `v${i}`, text: `text ${i}` }));
    const structured = fc.oneof(
      fc.constant({ variants: variantList(500) }),
      fc.constant({ variants: [{ id: 'a', text: 'x'.repeat(100 * 1024) }, variants[1]] }),
      fc.constant({ name: 'é'.repeat(100 * 1024), variants }),
      notString.map((text) => ({ variants: [{ id: 'a', text }, variants[1]] })),
      notString.map((name) => ({ name, variants })),
      fc.constant({ variants: [variants[0], variants[0]] }),
      fc.string().map((metric) => ({ metric, variants })),
      fc.constant({ metric: 'opens', variants }),
      fc.constant({ id: 'other', variants }),
      fc.constant({ variants, floor: 0.9 }),
      fc.constant({ variants, min_sends: -1 }),
      fc.constant({ variants, refresh_seconds: 1.5 }),
      fc.constant({ variants, half_life_hours: 0 }),
      fc.constant({ variants, auto_finish: 'yes' }),
      fc.constant({ variants: [{ id: 'a', text: 'x', parts: { 'Bad Key': 'y' } }, variants[1]] }),
      fc.constant({ variants: [{ id: 'a', text: 'x', control: 'yes' }, variants[1]] }),
      fc
        .tuple(fc.string({ minLength: 1 }), fc.jsonValue())
        .filter(([key]) => !['name', 'metric', 'variants', 'id'].includes(key))
        .map(([key, value]) => ({ ...definition, [key]: value })),
    );
    const body = fc.oneof(
      { weight: 3, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
      { weight: 2, arbitrary: invalidJson },
      { weight: 1, arbitrary: deep },
      { weight: 4, arbitrary: structured.map((value) => JSON.stringify(value)) },
      // An own `__proto__` key, as JSON.parse makes it: must be rejected as unknown, never merged.
      {
        weight: 1,
        arbitrary: fc.constant(`{"__proto__":{"status":"finished"},"variants":${JSON.stringify(variants)}}`),
      },
      {
        weight: 1,
        arbitrary: fc.constant(JSON.stringify({ ...definition, name: 'x'.repeat(2 * 1024 * 1024) })),
      },
    );

    it('rejects every malformed definition with a 4xx in the error shape and leaves the experiment as it was', async () => {
      const before = await stored();
      const statuses = new Set<number>();
      await fc.assert(
        fc.asyncProperty(body, async (raw) => {
          const result = await call('PUT', '/v1/experiments/spring', raw);
          statuses.add(result.status);
          expect([400, 413]).toContain(result.status);
          expectErrorShape(JSON.parse(result.raw));
          expect((await call('GET', '/v1/experiments/spring')).raw).toBe(before.one);
        }),
        { seed: SEED, numRuns: 200 },
      );
      expect(statuses).toEqual(new Set([400, 413]));
      expect(await stored()).toEqual(before);
    });

    it('rejects malformed status changes the same way', async () => {
      const before = await stored();
      const statusBody = fc
        .oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          invalidJson,
          fc.string().map((status) => JSON.stringify({ status })),
        )
        .filter((raw) => {
          try {
            const parsed = JSON.parse(raw);
            return !['running', 'paused', 'finished'].includes(parsed?.status);
          } catch {
            return true;
          }
        });
      await fc.assert(
        fc.asyncProperty(statusBody, async (raw) => {
          const result = await call('POST', '/v1/experiments/spring/status', raw);
          expect(result.status).toBe(400);
          expectErrorShape(JSON.parse(result.raw));
        }),
        { seed: SEED, numRuns: 100 },
      );
      expect(await stored()).toEqual(before);
    });

    it('rejects odd experiment ids with a 4xx and creates nothing', async () => {
      const before = await stored();
      const decodes = (segment: string) => {
        try {
          return decodeURIComponent(segment);
        } catch {
          return segment;
        }
      };
      const oddId = fc
        .oneof(
          fc.constantFrom(
            'café',
            'ü',
            '😀',
            '..',
            '.',
            '%00',
            '\u0000',
            '%2e%2e',
            '%2F',
            'a%2Fb',
            'a/b',
            'A',
            'a b',
            ' ',
          ),
          fc.constant('x'.repeat(65)),
          fc.stringMatching(/^[a-z0-9_-]{65,80}$/),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 70 }),
          percentGarbage.filter((s) => s !== ''),
        )
        .filter((id) => !EXPERIMENT_ID.test(decodes(id)));
      const validBody = JSON.stringify(definition);
      await fc.assert(
        fc.asyncProperty(
          oddId,
          fc.boolean(),
          fc.constantFrom('PUT', 'GET', 'POST'),
          async (id, encode, method) => {
            const segment = encode ? encodeURIComponent(id.replace(/[\uD800-\uDFFF]/g, '\uFFFD')) : id;
            const suffix = method === 'POST' ? '/status' : '';
            const raw = method === 'GET' ? undefined : method === 'PUT' ? validBody : '{"status":"paused"}';
            const result = await call(method, `/v1/experiments/${segment}${suffix}`, raw);
            expect(result.status).toBeGreaterThanOrEqual(400);
            expect(result.status).toBeLessThan(500);
            expectErrorShape(JSON.parse(result.raw));
          },
        ),
        { seed: SEED, numRuns: 200 },
      );
      expect(await stored()).toEqual(before);
    });
  });
});

describe('tracking tokens (pure)', () => {
  const id = fc.stringMatching(/^[a-z0-9_-]{1,64}$/);
  const claims: fc.Arbitrary<TrackingClaims> = fc.record({
    tenantId: id,
    experimentId: id,
    variantId: id,
    recipientKey: fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    sentAt: fc.integer({ min: 0, max: 2 ** 40 }),
  });
  const secret = fc.string({ minLength: 1, maxLength: 64 });

  type Mutation = (token: string) => string;
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc
      .tuple(
        fc.nat(),
        fc.oneof(
          fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.='),
          fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
        ),
      )
      .map(
        ([at, char]): Mutation =>
          (t) => {
            const i = at % t.length;
            return t.slice(0, i) + char + t.slice(i + 1);
          },
      ),
    fc.nat().map(
      (at): Mutation =>
        (t) =>
          t.slice(0, at % t.length),
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).map(
      (extra): Mutation =>
        (t) =>
          t + extra,
    ),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).map(
      (extra): Mutation =>
        (t) =>
          extra + t,
    ),
    fc.tuple(fc.nat(6), fc.nat(6)).map(
      ([i, j]): Mutation =>
        (t) => {
          const fields = t.split('.');
          [fields[i], fields[j]] = [fields[j]!, fields[i]!];
          return fields.join('.');
        },
    ),
    fc.nat(6).map(
      (i): Mutation =>
        (t) =>
          t
            .split('.')
            .filter((_, k) => k !== i)
            .join('.'),
    ),
    fc.nat(6).map(
      (i): Mutation =>
        (t) => {
          const fields = t.split('.');
          fields.splice(i, 0, fields[i]!);
          return fields.join('.');
        },
    ),
    fc.nat().map(
      (at): Mutation =>
        (t) => {
          const i = at % t.length;
          const c = t[i]!;
          return t.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + t.slice(i + 1);
        },
    ),
  );

  it('verifies what it signed, and any change to a token fails verification', () => {
    fc.assert(
      fc.property(claims, secret, mutation, (c, s, mutate) => {
        const token = signTrackingToken(c, s);
        expect(verifyTrackingToken(token, [s])).toEqual(c);
        const changed = mutate(token);
        fc.pre(changed !== token);
        expect(verifyTrackingToken(changed, [s])).toBeNull();
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('a token signed with another secret, or re-signed claims of another tenant, fails', () => {
    fc.assert(
      fc.property(claims, secret, secret, id, (c, s, other, tenant) => {
        fc.pre(s !== other);
        expect(verifyTrackingToken(signTrackingToken(c, other), [s])).toBeNull();
        fc.pre(tenant !== c.tenantId);
        const signed = signTrackingToken(c, s).split('.');
        signed[1] = tenant;
        expect(verifyTrackingToken(signed.join('.'), [s])).toBeNull();
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
