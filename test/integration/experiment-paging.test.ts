// GET /v1/experiments pages (limit, cursor, next_cursor) through the real admin handler on DynamoDB Local.
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../domain/paging';
import { serviceOnLocalDynamoDb } from '../support/service';

type Service = Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;
type Tenant = Awaited<ReturnType<Service['createTenant']>>;

const definition = {
  metric: 'clicks',
  variants: [
    { id: 'a', text: 'Spring savings start now' },
    { id: 'b', text: 'Your spring picks are here' },
  ],
};

interface ListBody {
  experiments: Array<{ id: string; snippet: unknown }>;
  next_cursor: string | null;
}

describe('GET /v1/experiments paging', () => {
  let service: Service;
  let acme: Tenant;
  let globex: Tenant;
  const acmeIds = ['exp-4', 'exp-1', 'exp-7', 'exp-3', 'exp-6', 'exp-2', 'exp-5'];
  const globexIds = ['exp-0', 'exp-2b', 'exp-9'];

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    acme = await service.createTenant('acme');
    globex = await service.createTenant('globex');
    for (const id of acmeIds)
      await service.admin(acme.adminToken, {
        method: 'PUT',
        path: `/v1/experiments/${id}`,
        body: definition,
      });
    for (const id of globexIds)
      await service.admin(globex.adminToken, {
        method: 'PUT',
        path: `/v1/experiments/${id}`,
        body: definition,
      });
  });

  const list = async (tenant: Tenant, query: Record<string, string>) =>
    service.admin(tenant.adminToken, { path: '/v1/experiments', query });

  /** Follows next_cursor from the first page; at most 20 pages, so a looping cursor fails instead of hanging. */
  async function pages(tenant: Tenant, limit: string, first: string | null = null) {
    const seen: ListBody[] = [];
    let cursor = first;
    do {
      const result = await list(tenant, { limit, ...(cursor ? { cursor } : {}) });
      expect(result.status).toBe(200);
      const body = result.body as unknown as ListBody;
      seen.push(body);
      cursor = body.next_cursor;
    } while (cursor && seen.length < 20);
    return seen;
  }

  it('7 experiments at limit=3 come as 3, 3, 1: each once, in a stable id order, with their snippets', async () => {
    const first = await pages(acme, '3');
    expect(first.map((p) => p.experiments.length)).toEqual([3, 3, 1]);
    expect(first.at(-1)?.next_cursor).toBeNull();
    const ids = first.flatMap((p) => p.experiments.map((e) => e.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual([...acmeIds].sort());
    for (const page of first) for (const e of page.experiments) expect(e.snippet).toBeTruthy();

    const again = await pages(acme, '3');
    expect(again).toEqual(first);
  });

  it('without limit: the default page of 50 holds them all, and next_cursor is null', async () => {
    const result = await service.admin(acme.adminToken, { path: '/v1/experiments' });
    expect(result.status).toBe(200);
    expect((result.body as unknown as ListBody).experiments).toHaveLength(7);
    expect(result.body.next_cursor).toBeNull();
  });

  it.each([
    ['limit', { limit: '0' }],
    ['limit', { limit: '101' }],
    ['limit', { limit: 'x' }],
    ['limit', { limit: '2.5' }],
    ['limit', { limit: '-1' }],
    ['limit', { limit: '1e2' }],
    ['limit', 'limit=3&limit=4'],
    ['cursor', { cursor: 'not a cursor' }],
    ['cursor', { limit: '3', cursor: encodeCursor('Bad Id') }],
    ['cursor', { cursor: `${encodeCursor('exp-3')}=` }],
    ['cursor', { cursor: 'x'.repeat(200) }],
  ])('400 naming %s for %j, and nothing else', async (field, query) => {
    const result = await service.admin(acme.adminToken, { path: '/v1/experiments', query });
    expect(result.status).toBe(400);
    expect(result.body).toEqual({
      error: { code: 'invalid_request', message: expect.stringMatching(new RegExp(`^${field}: `)) },
    });
  });

  it("a cursor from tenant A's page, used by tenant B, shows B only its own experiments", async () => {
    const acmeFirst = await list(acme, { limit: '3' });
    const cursor = (acmeFirst.body as unknown as ListBody).next_cursor;
    expect(cursor).toEqual(expect.any(String));

    const globexPages = await pages(globex, '3', cursor);

    const ids = globexPages.flatMap((p) => p.experiments.map((e) => e.id));
    expect(ids).toEqual(['exp-9']);
    expect(ids.filter((id) => acmeIds.includes(id))).toEqual([]);
    const everything = (await pages(globex, '100')).flatMap((p) => p.experiments.map((e) => e.id));
    expect(everything).toEqual([...globexIds].sort());
  });
});
