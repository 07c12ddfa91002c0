// Revocation bounds, container by container: several tenant directories (each a warm container with its own
// cache) over one store, on an injected clock stepped second by second. A revoked admin token is refused on every
// container within 10 s, also while the store throws or hangs (fail closed); a revoked connect token keeps
// serving through an outage (a send must not fail) but is refused within 10 s once the store answers; forged
// bearer tokens never push a real tenant out of a cache.
import { describe, expect, it } from 'vitest';
import { MemoryTenantStore } from '../../adapters/memory/memory-stores';
import { StoreUnavailableError, UnauthorizedError } from '../../domain/errors';
import type { TenantStore } from '../../domain/ports/tenant-store';
import {
  issueTenant,
  rotateAdminToken,
  rotateConnectToken,
  type Tenant,
  type TokenScope,
} from '../../domain/tenant';
import { TenantDirectory } from '../../domain/tenant-directory';

const NOW = 1_767_225_600;
const BOUND_SECONDS = 10;
const CONTAINERS = 6;

type Mode = 'answering' | 'throwing' | 'hanging';

/** A store that can be frozen: reads throw (an outage) or never answer (a hung connection). Counts reads. */
class FreezableStore {
  mode: Mode = 'answering';
  reads = 0;
  constructor(readonly inner: MemoryTenantStore) {}
  readonly store: TenantStore = {
    create: (t) => this.inner.create(t),
    get: (id, options) => {
      this.reads++;
      if (this.mode === 'throwing') return Promise.reject(new StoreUnavailableError('tenant read'));
      if (this.mode === 'hanging') {
        return new Promise((_, reject) =>
          options?.signal?.addEventListener('abort', () => reject(new StoreUnavailableError('aborted'))),
        );
      }
      return this.inner.get(id);
    },
    findByFolder: (f) => this.inner.findByFolder(f),
    replaceCredentials: (t, e) => this.inner.replaceCredentials(t, e),
    upgrade: (id, since) => this.inner.upgrade(id, since),
    list: () => this.inner.list(),
  };
}

async function world() {
  const inner = new MemoryTenantStore();
  const issued = issueTenant('acme', 'acme', NOW - 86_400);
  await inner.create(issued.tenant);
  const frozen = new FreezableStore(inner);
  let now = NOW;
  const clock = () => now;
  // Each container warmed its cache at a different moment before the rotation (0-5 s before NOW).
  const containers: TenantDirectory[] = [];
  for (let c = 0; c < CONTAINERS; c++) {
    now = NOW - (c % 6);
    const directory = new TenantDirectory(frozen.store, clock, () => {}, { loadTimeoutMs: 50 });
    await directory.authenticate(issued.adminToken, 'admin');
    await directory.authenticate(issued.connectToken, 'connect');
    containers.push(directory);
  }
  now = NOW;
  const accepted = async (directory: TenantDirectory, token: string, scope: TokenScope) => {
    try {
      await directory.authenticate(token, scope, Date.now() + 200);
      return true;
    } catch (error) {
      if (error instanceof UnauthorizedError || error instanceof StoreUnavailableError) return false;
      throw error;
    }
  };
  /** For each container, the first second after now at which `predicate` holds (asked every second). */
  const firstSecond = async (predicate: (directory: TenantDirectory) => Promise<boolean>, limit = 60) => {
    const start = now;
    const found: Array<number | null> = containers.map(() => null);
    for (let t = 0; t <= limit; t++) {
      now = start + t;
      for (const [c, directory] of containers.entries()) {
        if (found[c] === null && (await predicate(directory))) found[c] = t;
      }
    }
    now = start;
    return found;
  };
  return {
    inner,
    frozen,
    issued,
    containers,
    accepted,
    firstSecond,
    clock,
    set: (t: number) => {
      now = t;
    },
  };
}

async function rotate<R extends { tenant: Tenant }>(
  store: MemoryTenantStore,
  change: (t: Tenant) => R,
): Promise<R> {
  const current = (await store.get('acme'))!;
  const next = change(current);
  await store.replaceCredentials(next.tenant, current);
  return next;
}

describe('admin token revocation', () => {
  it('a revoked admin token is refused on every container within 10 s; the new one works within 10 s', async () => {
    const w = await world();
    const { adminToken } = await rotate(w.inner, (t) => rotateAdminToken(t, NOW));

    const refusedAt = await w.firstSecond(async (d) => !(await w.accepted(d, w.issued.adminToken, 'admin')));
    const newWorksAt = await w.firstSecond((d) => w.accepted(d, adminToken, 'admin'));

    for (const t of refusedAt) expect(t).not.toBeNull();
    expect(Math.max(...(refusedAt as number[]))).toBeLessThanOrEqual(BOUND_SECONDS);
    expect(Math.max(...(newWorksAt as number[]))).toBeLessThanOrEqual(BOUND_SECONDS);
    // And once refused, it stays refused.
    for (const d of w.containers) expect(await w.accepted(d, w.issued.adminToken, 'admin')).toBe(false);
  });

  it.each<Mode>(['throwing', 'hanging'])(
    'while the store is %s, every container refuses a revoked admin token within 10 s (fails closed)',
    async (mode) => {
      const w = await world();
      await rotate(w.inner, (t) => rotateAdminToken(t, NOW));
      w.frozen.mode = mode;

      const started = Date.now();
      const refusedAt = await w.firstSecond(
        async (d) => !(await w.accepted(d, w.issued.adminToken, 'admin')),
        BOUND_SECONDS,
      );

      for (const t of refusedAt) expect(t).not.toBeNull();
      expect(Math.max(...(refusedAt as number[]))).toBeLessThanOrEqual(BOUND_SECONDS);
      // No request waits on a hung store past its own deadline (66 checks, 200 ms each at most).
      expect(Date.now() - started).toBeLessThan(66 * 250);
      // Not even a stale copy admits it: every later check is refused while the store stays down.
      w.set(NOW + 3600);
      for (const d of w.containers) expect(await w.accepted(d, w.issued.adminToken, 'admin')).toBe(false);
    },
  );

  it('once the store answers again after a hang, every container reads it within 10 s (no read stays pinned)', async () => {
    const w = await world();
    w.frozen.mode = 'hanging';
    w.set(NOW + 30);
    for (const d of w.containers) expect(await w.accepted(d, w.issued.adminToken, 'admin')).toBe(false);
    const { adminToken } = await rotate(w.inner, (t) => rotateAdminToken(t, NOW + 30));
    await new Promise((resolve) => setTimeout(resolve, 60)); // the hung reads are abandoned

    w.frozen.mode = 'answering';
    const newWorksAt = await w.firstSecond((d) => w.accepted(d, adminToken, 'admin'));

    expect(Math.max(...(newWorksAt as number[]))).toBeLessThanOrEqual(BOUND_SECONDS);
  });
});

describe('connect token revocation', () => {
  it('a connect token revoked without grace is refused on every container within 10 s', async () => {
    const w = await world();
    const { connectToken } = await rotate(w.inner, (t) => rotateConnectToken(t, NOW, 0));

    const refusedAt = await w.firstSecond(
      async (d) => !(await w.accepted(d, w.issued.connectToken, 'connect')),
    );
    const newWorksAt = await w.firstSecond((d) => w.accepted(d, connectToken, 'connect'));

    expect(Math.max(...(refusedAt as number[]))).toBeLessThanOrEqual(BOUND_SECONDS);
    expect(Math.max(...(newWorksAt as number[]))).toBeLessThanOrEqual(BOUND_SECONDS);
  });

  it('keeps serving from cache through an outage, and stops within 10 s once the store answers', async () => {
    const w = await world();
    await rotate(w.inner, (t) => rotateConnectToken(t, NOW, 0));
    w.frozen.mode = 'throwing';

    // Availability: an hour of outage, and every container still admits the cached connect token.
    const servedAt = await w.firstSecond((d) => w.accepted(d, w.issued.connectToken, 'connect'), 0);
    expect(servedAt.every((t) => t === 0)).toBe(true);
    w.set(NOW + 3600);
    for (const d of w.containers) expect(await w.accepted(d, w.issued.connectToken, 'connect')).toBe(true);

    w.frozen.mode = 'answering';
    const refusedAt = await w.firstSecond(
      async (d) => !(await w.accepted(d, w.issued.connectToken, 'connect')),
    );
    expect(Math.max(...(refusedAt as number[]))).toBeLessThanOrEqual(BOUND_SECONDS);
  });

  it('the same, when the outage is a hung store: the hung reads are abandoned, not waited on forever', async () => {
    const w = await world();
    await rotate(w.inner, (t) => rotateConnectToken(t, NOW, 0));
    w.frozen.mode = 'hanging';
    w.set(NOW + 60);
    for (const d of w.containers) expect(await w.accepted(d, w.issued.connectToken, 'connect')).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 60));
    w.frozen.mode = 'answering';
    const refusedAt = await w.firstSecond(
      async (d) => !(await w.accepted(d, w.issued.connectToken, 'connect')),
    );
    expect(Math.max(...(refusedAt as number[]))).toBeLessThanOrEqual(BOUND_SECONDS);
  });
});

describe('forged bearer tokens', () => {
  it('never evict real tenants from the cache: a flood of forged ids costs them no store read', async () => {
    const inner = new MemoryTenantStore();
    const frozen = new FreezableStore(inner);
    const tenants = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const issued = issueTenant(`tenant-${i}`, `folder-${i}`, NOW);
        await inner.create(issued.tenant);
        return issued;
      }),
    );
    const directory = new TenantDirectory(frozen.store, () => NOW);
    for (const t of tenants) await directory.authenticate(t.connectToken, 'connect');
    const warmReads = frozen.reads;

    // More forged ids than the whole cache holds (10,000), each a store read that finds nothing.
    for (let i = 0; i < 12_000; i++) {
      await expect(
        directory.authenticate(`wc.forged-${i}.${'x'.repeat(43)}`, 'connect'),
      ).rejects.toBeInstanceOf(UnauthorizedError);
    }
    expect(frozen.reads - warmReads).toBe(12_000);

    const before = frozen.reads;
    for (const t of tenants) await directory.authenticate(t.connectToken, 'connect');
    expect(frozen.reads).toBe(before);
  });

  it('a forged token naming a real tenant is refused, and a repeated forged id is not read again at once', async () => {
    const inner = new MemoryTenantStore();
    const frozen = new FreezableStore(inner);
    const issued = issueTenant('acme', 'acme', NOW);
    await inner.create(issued.tenant);
    const directory = new TenantDirectory(frozen.store, () => NOW);

    await expect(directory.authenticate(`wc.acme.${'y'.repeat(43)}`, 'connect')).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    for (let i = 0; i < 5; i++) {
      await expect(directory.authenticate(`wc.ghost.${'y'.repeat(43)}`, 'connect')).rejects.toBeInstanceOf(
        UnauthorizedError,
      );
    }
    expect(frozen.reads).toBe(2);
    expect(await directory.authenticate(issued.connectToken, 'connect')).toMatchObject({ id: 'acme' });
  });

  it('tokens naming reserved ids are refused without a store read', async () => {
    const frozen = new FreezableStore(new MemoryTenantStore());
    const directory = new TenantDirectory(frozen.store, () => NOW);
    for (const id of ['_unowned', '_internal', '__proto__', 'null', 'undefined']) {
      await expect(directory.authenticate(`wa.${id}.${'z'.repeat(43)}`, 'admin')).rejects.toBeInstanceOf(
        UnauthorizedError,
      );
    }
    expect(frozen.reads).toBe(0);
  });
});
