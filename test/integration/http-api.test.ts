// The HTTP API through the real handlers and middy, on DynamoDB Local.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { serviceOnLocalDynamoDb } from '../support/service';

type Service = Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;

const threeVariants = {
  name: 'Spring sale',
  metric: 'clicks',
  variants: [
    { id: 'a', text: 'Spring savings start now' },
    { id: 'b', text: 'Your spring picks are here' },
    { id: 'c', text: 'Fresh for spring: 20% off' },
  ],
};

describe('admin API', () => {
  let service: Service;
  let acme: Awaited<ReturnType<Service['createTenant']>>;
  let other: Awaited<ReturnType<Service['createTenant']>>;

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    acme = await service.createTenant('acme');
    other = await service.createTenant('globex');
  });

  it('creates, reads and lists an experiment', async () => {
    const put = await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      body: threeVariants,
    });
    expect(put.status).toBe(201);
    const got = await service.admin(acme.adminToken, { path: '/v1/experiments/spring' });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id: 'spring',
      name: 'Spring sale',
      metric: 'clicks',
      status: 'running',
    });
    expect((got.body.variants as Array<{ id: string }>).map((v) => v.id)).toEqual(['a', 'b', 'c']);
    const list = await service.admin(acme.adminToken, { path: '/v1/experiments' });
    expect((list.body.experiments as Array<{ id: string }>).map((e) => e.id)).toEqual(['spring']);
  });

  it('updates in place and retires variants left out', async () => {
    await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/retire',
      body: threeVariants,
    });
    const update = await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/retire',
      body: { ...threeVariants, variants: threeVariants.variants.slice(0, 2) },
    });
    expect(update.status).toBe(200);
    const states = Object.fromEntries(
      (update.body.variants as Array<{ id: string; state: string }>).map((v) => [v.id, v.state]),
    );
    expect(states).toEqual({ a: 'active', b: 'active', c: 'retired' });
  });

  it.each([
    ['no variants', { metric: 'clicks' }, 'variants'],
    ['one variant', { variants: [{ id: 'a', text: 'x' }] }, 'variants'],
    [
      'duplicate ids',
      {
        variants: [
          { id: 'a', text: 'x' },
          { id: 'a', text: 'y' },
        ],
      },
      'variants',
    ],
    ['unknown metric', { metric: 'revenue', variants: threeVariants.variants }, 'metric'],
    [
      'empty text',
      {
        variants: [
          { id: 'a', text: '' },
          { id: 'b', text: 'y' },
        ],
      },
      'variants[0].text',
    ],
    [
      'non-string text',
      {
        variants: [
          { id: 'a', text: 42 },
          { id: 'b', text: 'y' },
        ],
      },
      'variants[0].text',
    ],
    [
      'bad variant id',
      {
        variants: [
          { id: 'A!', text: 'x' },
          { id: 'b', text: 'y' },
        ],
      },
      'variants[0].id',
    ],
    [
      'text over 2000',
      {
        variants: [
          { id: 'a', text: 'x'.repeat(2001) },
          { id: 'b', text: 'y' },
        ],
      },
      'variants[0].text',
    ],
    ['floor out of range', { variants: threeVariants.variants, floor: 0.9 }, 'floor'],
    [
      '21 variants',
      { variants: Array.from({ length: 21 }, (_, i) => ({ id: `v${i}`, text: 't' })) },
      'variants',
    ],
  ])('rejects %s with 400 naming the field, and stores nothing', async (_name, body, field) => {
    const result = await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/rejected',
      body,
    });
    expect(result.status).toBe(400);
    const error = result.body.error as { code: string; message: string };
    expect(error.code).toMatch(/^[a-z_]+$/);
    expect(error.message.startsWith(`${field}:`)).toBe(true);
    const after = await service.admin(acme.adminToken, { path: '/v1/experiments/rejected' });
    expect(after.status).toBe(404);
  });

  it('rejects invalid JSON, an odd id and a body over 256 KB', async () => {
    const invalid = await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/x',
      rawBody: '{"name":',
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ code: 'invalid_json' });
    const oddId = await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/Bad%20Id',
      body: threeVariants,
    });
    expect(oddId.status).toBe(400);
    const huge = await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/x',
      rawBody: JSON.stringify({ ...threeVariants, name: 'x'.repeat(300 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect((await service.admin(acme.adminToken, { path: '/v1/experiments/x' })).status).toBe(404);
  });

  it('refuses an update whose texts, retired variants included, would not fit one stored item', async () => {
    const big = (round: number) => ({
      variants: Array.from({ length: 10 }, (_, i) => ({
        id: `r${round}v${i}`,
        text: 't'.repeat(2000),
        parts: Object.fromEntries(Array.from({ length: 5 }, (_, p) => [`p${p}`, 'x'.repeat(2000)])),
      })),
    });
    const put = (round: number) =>
      service.admin(acme.adminToken, { method: 'PUT', path: '/v1/experiments/growing', body: big(round) });
    expect((await put(0)).status).toBe(201);
    expect((await put(1)).status).toBe(200); // round 0 retired, kept with its texts
    const third = await put(2);
    expect(third.status).toBe(400);
    expect((third.body.error as { message: string }).message).toMatch(/^variants: .* at most 300 KB/);
    const stored = await service.admin(acme.adminToken, { path: '/v1/experiments/growing' });
    expect(stored.body.version).toBe(2);
  });

  it('keeps tenants apart and tokens in their scope', async () => {
    await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/private',
      body: threeVariants,
    });
    const foreign = await service.admin(other.adminToken, { path: '/v1/experiments/private' });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatchObject({ code: 'not_found' });
    const connectOnAdmin = await service.admin(acme.connectToken, { path: '/v1/experiments' });
    expect(connectOnAdmin.status).toBe(401);
    const adminOnContent = await service.content(acme.adminToken, { experiment: 'private', recipient: 'r1' });
    expect(adminOnContent.status).toBe(401);
    const forged = await service.admin(`${acme.adminToken.slice(0, -2)}xx`, { path: '/v1/experiments' });
    expect(forged.status).toBe(401);
  });

  it('changes status and validates the winner', async () => {
    await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/status',
      body: threeVariants,
    });
    const bad = await service.admin(acme.adminToken, {
      method: 'POST',
      path: '/v1/experiments/status/status',
      body: { status: 'finished', winner: 'zzz' },
    });
    expect(bad.status).toBe(400);
    const finished = await service.admin(acme.adminToken, {
      method: 'POST',
      path: '/v1/experiments/status/status',
      body: { status: 'finished', winner: 'b' },
    });
    expect(finished.body).toMatchObject({ status: 'finished', winner: 'b' });
  });
});

describe('content and pixel', () => {
  let service: Service;
  let acme: Awaited<ReturnType<Service['createTenant']>>;
  let other: Awaited<ReturnType<Service['createTenant']>>;

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    acme = await service.createTenant('acme');
    other = await service.createTenant('globex');
    await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      body: threeVariants,
    });
  });

  it('answers 401 without a token, in the error shape', async () => {
    const result = await service.content('', { experiment: 'spring', recipient: 'r' });
    expect(result.status).toBe(401);
    expect(result.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
  });

  it('answers 400 for a missing recipient, 404 for unknown or foreign experiments, 4xx for oversized input', async () => {
    expect((await service.content(acme.connectToken, { experiment: 'spring' })).status).toBe(400);
    expect((await service.content(acme.connectToken, { experiment: 'nope', recipient: 'r' })).status).toBe(
      404,
    );
    expect((await service.content(other.connectToken, { experiment: 'spring', recipient: 'r' })).status).toBe(
      404,
    );
    const oversized = await service.content(acme.connectToken, {
      experiment: 'spring',
      recipient: 'r'.repeat(5000),
    });
    expect(oversized.status).toBe(400);
    expect((oversized.body.error as { message: string }).message).toMatch(/^recipient:/);
  });

  it('serves a sticky variant with token, pixel URL and link parameter; raw id and digest agree', async () => {
    const first = await service.content(acme.connectToken, {
      experiment: 'spring',
      recipient: 'user-42',
      campaign: 'cmp-1',
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ experiment: 'spring', fallback: false, parts: {} });
    const token = first.body.token as string;
    expect(first.body.pixel_url).toBe(`https://weft.example.com/v1/pixel/${token}.gif`);
    expect(first.body.link_param).toBe(`weft=${token}`);
    const digest = createHash('sha256').update('user-42').digest('hex');
    for (let i = 0; i < 3; i++) {
      const again = await service.content(acme.connectToken, {
        experiment: 'spring',
        recipient: i === 0 ? digest : 'user-42',
      });
      expect(again.body.variant).toBe(first.body.variant);
    }
  });

  it('counts one open for three pixel hits, nothing for tampered tokens, and always answers the GIF', async () => {
    const served = await service.content(acme.connectToken, { experiment: 'spring', recipient: 'opener' });
    const token = served.body.token as string;
    const tampered = token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    const results = [];
    for (const t of [
      token,
      token,
      token,
      tampered,
      'garbage',
      `${token.split('.').slice(0, 6).join('.')}.${'A'.repeat(22)}`,
    ]) {
      results.push(await service.pixel(t));
    }
    for (const result of results) {
      expect(result.statusCode).toBe(200);
      expect(result.headers?.['content-type']).toBe('image/gif');
      expect(result.headers?.['cache-control']).toBe('no-store, private');
      expect(Buffer.from(result.body as string, 'base64')).toHaveLength(43);
    }
    const report = await service.admin(acme.adminToken, { path: '/v1/experiments/spring/report' });
    const variants = report.body.variants as Array<{ id: string; opens: number }>;
    expect(variants.reduce((sum, v) => sum + v.opens, 0)).toBe(1);
    expect(variants.find((v) => v.id === served.body.variant)?.opens).toBe(1);
  });
});
