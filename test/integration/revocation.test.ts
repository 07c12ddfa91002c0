// Revocation across warm containers, with the real admin and content handlers on DynamoDB Local: each container
// is its own composition (its own caches and client) on an injected clock. A revoked admin token is refused on
// every container within 10 s, also while the store fails; a connect token keeps serving through the outage.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueTenant, rotateAdminToken, type Tenant } from '../../domain/tenant';
import { nowSeconds } from '../../domain/time';
import { createAdmin } from '../../handlers/admin';
import { createSelectContent } from '../../handlers/select-content';
import { httpHandler } from '../../handlers/shared/http';
import { createStores } from '../../handlers/shared/stage';
import { freshTable } from '../support/dynamodb';
import { bearer, httpEvent, lambdaContext } from '../support/events';

const CONTAINERS = 4;
const BOUND_SECONDS = 10;

describe('revocation across containers (DynamoDB Local)', () => {
  let table: Awaited<ReturnType<typeof freshTable>>;
  beforeAll(async () => {
    table = await freshTable();
  });

  async function world(tenantId: string) {
    const setup = createStores(table.config, table.client);
    const issued = issueTenant(tenantId, tenantId, nowSeconds());
    await setup.tenantStore.create(issued.tenant);
    let now = nowSeconds();
    const clock = () => now;
    let storeDown = false;
    const containers = Array.from({ length: CONTAINERS }, () => {
      // Each container's own client: while the store is down, every call it makes fails.
      const client = new DynamoDBClient({
        region: 'local',
        endpoint: table.endpoint,
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      });
      client.middlewareStack.add(
        (next) => async (args) => {
          if (storeDown) throw new Error('store unreachable');
          return next(args);
        },
        { step: 'initialize', name: 'outage' },
      );
      const stores = createStores(table.config, client, clock);
      return {
        admin: httpHandler(createAdmin(table.config, stores)),
        content: httpHandler(createSelectContent(table.config, stores)),
      };
    });
    const status = async (
      handler: (typeof containers)[number]['admin'],
      input: Parameters<typeof httpEvent>[0],
    ) => (await handler(httpEvent(input), lambdaContext())).statusCode;
    const listAs = (c: (typeof containers)[number], token: string) =>
      status(c.admin, { path: '/v1/experiments', headers: bearer(token) });
    // Warm every container, and give the tenant an experiment to serve.
    await status(containers[0]!.admin, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      headers: bearer(issued.adminToken),
      body: {
        variants: [
          { id: 'a', text: 'A' },
          { id: 'b', text: 'B' },
        ],
      },
    });
    for (const c of containers) expect(await listAs(c, issued.adminToken)).toBe(200);
    /** For each container, the first second (from now, asked every second) at which `check` holds. */
    const firstSecond = async (check: (c: (typeof containers)[number]) => Promise<boolean>) => {
      const from = now;
      const found: Array<number | null> = containers.map(() => null);
      for (let t = 0; t <= BOUND_SECONDS + 2; t++) {
        now = from + t;
        for (const [i, c] of containers.entries()) if (found[i] === null && (await check(c))) found[i] = t;
      }
      return found;
    };
    const rotate = async <R extends { tenant: Tenant }>(change: (t: Tenant) => R): Promise<R> => {
      const current = (await setup.tenantStore.get(tenantId))!;
      const next = change(current);
      await setup.tenantStore.replaceCredentials(next.tenant, current);
      return next;
    };
    return {
      issued,
      containers,
      listAs,
      status,
      firstSecond,
      rotate,
      setStoreDown: (down: boolean) => {
        storeDown = down;
      },
    };
  }

  it('a revoked admin token is refused by every container within 10 s; the new one works within 10 s', async () => {
    const w = await world('acme');
    const { adminToken } = await w.rotate((t) => rotateAdminToken(t, nowSeconds()));

    const refused = await w.firstSecond(async (c) => (await w.listAs(c, w.issued.adminToken)) === 401);
    const works = await w.firstSecond(async (c) => (await w.listAs(c, adminToken)) === 200);

    expect(refused.every((t) => t !== null && t <= BOUND_SECONDS)).toBe(true);
    expect(works.every((t) => t !== null && t <= BOUND_SECONDS)).toBe(true);
  });

  it('with the store down, every container refuses the revoked admin token within 10 s; connect tokens still serve', async () => {
    const w = await world('globex');
    await w.rotate((t) => rotateAdminToken(t, nowSeconds()));
    w.setStoreDown(true);

    const refused = await w.firstSecond(async (c) => (await w.listAs(c, w.issued.adminToken)) !== 200);
    expect(refused.every((t) => t !== null && t <= BOUND_SECONDS)).toBe(true);
    // Braze keeps getting answers meanwhile: the cached connect token is accepted (a fallback, not a 401).
    for (const c of w.containers) {
      const served = await w.status(c.content, {
        path: '/v1/content',
        query: { experiment: 'spring', recipient: 'someone' },
        headers: bearer(w.issued.connectToken),
      });
      expect(served).toBe(200);
    }
    w.setStoreDown(false);
  });
});
