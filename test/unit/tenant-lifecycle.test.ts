// Issuing and rotating tenants through MemoryTenantStore, as the CLI does: what is stored, which bearer and
// tracking tokens work afterwards, and what a rotation must never change.
import { describe, expect, it } from 'vitest';
import { MemoryLedger, MemoryTenantStore } from '../../adapters/memory/memory-stores';
import { ConflictError, UnauthorizedError } from '../../domain/errors';
import { TokenRewards } from '../../domain/rewards';
import { issueTenant, rotateTenant, SIGNING_GRACE_SECONDS } from '../../domain/tenant';
import { TenantDirectory } from '../../domain/tenant-directory';
import { signTrackingToken } from '../../domain/tracking-token';

const NOW = 1_767_225_600;

function world() {
  const store = new MemoryTenantStore();
  let now = NOW;
  const clock = () => now;
  return {
    store,
    /** A fresh directory each time: no cached tenant hides what the store holds. */
    directory: () => new TenantDirectory(store, clock),
    /** Tokens here never reach a maximum age: only their signing secret's retirement decides. */
    rewards: () =>
      new TokenRewards(new TenantDirectory(store, clock), new MemoryLedger(), clock, 30 * 86_400, 10 ** 9),
    advance: (seconds: number) => (now += seconds),
  };
}

const trackingClaims = {
  tenantId: 'acme',
  experimentId: 'spring',
  variantId: 'a',
  recipientKey: 'k'.repeat(43),
  sentAt: NOW - 60,
};

describe('tenant issue and rotate, on MemoryTenantStore', () => {
  it('an issued tenant is stored with hashes only; its tokens authenticate in their own scope only', async () => {
    const w = world();
    const issued = issueTenant('acme', 'acme-folder', NOW);

    await w.store.create(issued.tenant);

    const stored = await w.store.get('acme');
    expect(stored).toEqual(issued.tenant);
    expect(JSON.stringify(stored)).not.toContain(issued.adminToken.split('.')[2]);
    expect(await w.store.findByFolder('acme-folder')).toEqual(issued.tenant);
    const directory = w.directory();
    expect(await directory.authenticate(issued.connectToken, 'connect')).toEqual(issued.tenant);
    expect(await directory.authenticate(issued.adminToken, 'admin')).toEqual(issued.tenant);
    await expect(directory.authenticate(issued.connectToken, 'admin')).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
  });

  it('issuing the same id or folder again is refused and leaves the first tenant’s tokens working', async () => {
    const w = world();
    const first = issueTenant('acme', 'acme', NOW);
    await w.store.create(first.tenant);

    const sameId = await w.store.create(issueTenant('acme', 'other', NOW).tenant).catch((e: unknown) => e);
    const sameFolder = await w.store
      .create(issueTenant('globex', 'acme', NOW).tenant)
      .catch((e: unknown) => e);

    expect(sameId).toBeInstanceOf(ConflictError);
    expect(sameFolder).toMatchObject({ code: 'folder_taken' });
    expect(await w.directory().authenticate(first.adminToken, 'admin')).toMatchObject({ id: 'acme' });
  });

  it('rotation without grace: old bearer tokens stop working, new ones work; folder and recipient key stay', async () => {
    const w = world();
    const issued = issueTenant('acme', 'acme', NOW);
    await w.store.create(issued.tenant);
    w.advance(100);

    const rotated = rotateTenant((await w.store.get('acme'))!, NOW + 100, { connectGraceSeconds: 0 });
    await w.store.replaceCredentials(rotated.tenant);

    const directory = w.directory();
    for (const [token, scope] of [
      [issued.connectToken, 'connect'],
      [issued.adminToken, 'admin'],
    ] as const) {
      await expect(directory.authenticate(token, scope)).rejects.toBeInstanceOf(UnauthorizedError);
    }
    expect(await directory.authenticate(rotated.connectToken, 'connect')).toMatchObject({
      id: 'acme',
    });
    expect(await directory.authenticate(rotated.adminToken, 'admin')).toMatchObject({ id: 'acme' });
    expect(await w.store.get('acme')).toMatchObject({
      folder: 'acme',
      recipientKey: issued.tenant.recipientKey,
      createdAt: NOW,
    });
  });

  it('tracking tokens signed before a rotation verify through the grace period, and not after', async () => {
    const w = world();
    const issued = issueTenant('acme', 'acme', NOW);
    await w.store.create(issued.tenant);
    const before = signTrackingToken(trackingClaims, issued.tenant.signingSecrets[0]!.secret);

    const rotated = rotateTenant(issued.tenant, NOW);
    await w.store.replaceCredentials(rotated.tenant);
    const after = signTrackingToken(trackingClaims, rotated.tenant.signingSecrets[0]!.secret);

    expect(await w.rewards().verify(before, 'acme')).toEqual(trackingClaims);
    expect(await w.rewards().verify(after, 'acme')).toEqual(trackingClaims);
    w.advance(SIGNING_GRACE_SECONDS + 1);
    expect(await w.rewards().verify(before, 'acme')).toBeNull();
    expect(await w.rewards().verify(after, 'acme')).toEqual(trackingClaims);
  });

  it('rotating a tenant that does not exist is a ConflictError and creates nothing', async () => {
    const w = world();
    const ghost = rotateTenant(issueTenant('ghost', 'ghost', NOW).tenant, NOW);

    await expect(w.store.replaceCredentials(ghost.tenant)).rejects.toMatchObject({ code: 'tenant_missing' });
    expect(await w.store.list()).toEqual([]);
  });
});
