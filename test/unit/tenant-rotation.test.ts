// Rotation that never breaks a send, on the in-memory stores as the CLI drives them: the admin token alone, the
// connect token alone (with its grace period), or everything (a new signing secret too). Content is served and
// rewards are counted by the real services, on an injected clock.
import { describe, expect, it } from 'vitest';
import {
  MemoryAllocationStore,
  MemoryExperimentStore,
  MemoryLedger,
  MemoryTenantStore,
} from '../../adapters/memory/memory-stores';
import { ContentService } from '../../domain/content';
import { UnauthorizedError } from '../../domain/errors';
import { defineExperiment } from '../../domain/experiment';
import { recipientDigest } from '../../domain/recipient';
import { TokenRewards } from '../../domain/rewards';
import {
  DEFAULT_CONNECT_GRACE_SECONDS,
  DEFAULT_MAX_TOKEN_AGE_SECONDS,
  graceSecondsFromDays,
  issueTenant,
  rotateAdminToken,
  rotateConnectToken,
  rotateSigningSecret,
  rotateTenant,
  type Tenant,
  validateTenantId,
  verificationSecrets,
} from '../../domain/tenant';
import { TenantDirectory } from '../../domain/tenant-directory';

const NOW = 1_767_225_600;
const DAY = 86_400;
const open = (at: number) => () => ({ kind: 'open' as const, source: 'pixel' as const, at });

async function world() {
  const tenants = new MemoryTenantStore();
  const issued = issueTenant('acme', 'acme', NOW - DAY);
  await tenants.create(issued.tenant);
  const experiments = new MemoryExperimentStore();
  const body = {
    variants: [
      { id: 'a', text: 'A' },
      { id: 'b', text: 'B' },
    ],
  };
  await experiments.save(defineExperiment('acme', 'spring', body, null, NOW - DAY));
  const ledger = new MemoryLedger();
  const allocations = new MemoryAllocationStore(experiments);
  let now = NOW;
  const clock = () => now;
  /** A fresh container: its own tenant directory and caches. */
  const container = () => {
    const directory = new TenantDirectory(tenants, clock);
    const content = new ContentService({
      tenants: directory,
      experiments,
      allocations,
      ledger,
      counters: ledger,
      delays: ledger,
      clock,
      budgetMs: 500,
      assignmentTtlSeconds: 30 * DAY,
    });
    const select = (token: string, recipient: string) =>
      content.select(token, {
        experimentId: 'spring',
        recipientDigest: recipientDigest(recipient)!,
        campaignId: 'campaign',
        dispatchId: null,
      });
    return { directory, select, rewards: new TokenRewards(directory, ledger, clock) };
  };
  const rotate = async <R extends { tenant: Tenant }>(change: (t: Tenant) => R): Promise<R> => {
    const current = (await tenants.get('acme'))!;
    const next = change(current);
    await tenants.replaceCredentials(next.tenant, current);
    return next;
  };
  const opens = async () => (await ledger.read('acme', 'spring')).reduce((sum, c) => sum + c.opens, 0);
  return {
    tenants,
    issued,
    container,
    rotate,
    opens,
    advance: (seconds: number) => {
      now += seconds;
    },
  };
}

describe('rotating the connect token', () => {
  it('during the grace period old and new connect tokens both serve content and old tracking tokens still count; after it the old one is refused', async () => {
    const w = await world();
    const before = await w.container().select(w.issued.connectToken, 'alice');
    expect(before.fallback).toBe(false);

    const { connectToken, graceUntil } = await w.rotate((t) => rotateConnectToken(t, NOW, 7 * DAY));
    expect(graceUntil).toBe(NOW + 7 * DAY);

    // Six days on, on a new container: Braze still sends the old token from templates not yet updated.
    w.advance(6 * DAY);
    const c = w.container();
    const old = await c.select(w.issued.connectToken, 'bob');
    const fresh = await c.select(connectToken, 'carol');
    expect([old.fallback, fresh.fallback]).toEqual([false, false]);
    expect((await c.select(connectToken, 'alice')).variant!.id).toBe(before.variant!.id);
    // Tracking tokens handed out before the rotation still count.
    expect(await c.rewards.record(before.token!, open(NOW + 6 * DAY))).toBe('counted');
    expect(await c.rewards.record(old.token!, open(NOW + 6 * DAY))).toBe('counted');
    expect(await w.opens()).toBe(2);

    // Past the grace period the old token is refused; the new one and every tracking token keep working.
    w.advance(DAY);
    const later = w.container();
    await expect(later.select(w.issued.connectToken, 'dave')).rejects.toBeInstanceOf(UnauthorizedError);
    expect((await later.select(connectToken, 'dave')).fallback).toBe(false);
    expect(await later.rewards.record(fresh.token!, open(NOW + 7 * DAY))).toBe('counted');
  });

  it('with no grace, it revokes every older connect token at once, those still in an earlier grace too', async () => {
    const w = await world();
    const first = await w.rotate((t) => rotateConnectToken(t, NOW)); // default grace: 7 days
    const second = await w.rotate((t) => rotateConnectToken(t, NOW + 60, 0));
    w.advance(60);
    const directory = w.container().directory;

    for (const token of [w.issued.connectToken, first.connectToken]) {
      await expect(directory.authenticate(token, 'connect')).rejects.toBeInstanceOf(UnauthorizedError);
    }
    expect(await directory.authenticate(second.connectToken, 'connect')).toMatchObject({ id: 'acme' });
    expect((await w.tenants.get('acme'))!.retiredConnectTokens).toEqual([]);
  });

  it('leaves the admin token, the signing secret and the recipient key as they were', async () => {
    const w = await world();
    const { tenant } = await w.rotate((t) => rotateConnectToken(t, NOW));

    expect(tenant.adminTokenHash).toBe(w.issued.tenant.adminTokenHash);
    expect(tenant.signingSecrets).toEqual(w.issued.tenant.signingSecrets);
    expect(tenant.recipientKey).toBe(w.issued.tenant.recipientKey);
    expect(await w.container().directory.authenticate(w.issued.adminToken, 'admin')).toMatchObject({
      id: 'acme',
    });
  });
});

describe('rotating the admin token', () => {
  it('alone: the old admin token is refused at once, and no send is affected (no 401 for Braze)', async () => {
    const w = await world();
    const served = await w.container().select(w.issued.connectToken, 'alice');
    const { adminToken } = await w.rotate((t) => rotateAdminToken(t, NOW));

    const c = w.container();
    await expect(c.directory.authenticate(w.issued.adminToken, 'admin')).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect(await c.directory.authenticate(adminToken, 'admin')).toMatchObject({ id: 'acme' });
    expect((await c.select(w.issued.connectToken, 'alice')).variant!.id).toBe(served.variant!.id);
    expect((await c.select(w.issued.connectToken, 'bob')).fallback).toBe(false);
    expect(await c.rewards.record(served.token!, open(NOW + 10))).toBe('counted');
  });
});

describe('rotating everything', () => {
  it('a new signing secret; tokens signed with the old one count until their maximum age', async () => {
    const w = await world();
    const served = await w.container().select(w.issued.connectToken, 'alice');
    const rotated = await w.rotate((t) => rotateTenant(t, NOW));

    // The old connect token is in its grace period, the old admin token is refused at once.
    const c = w.container();
    expect((await c.select(w.issued.connectToken, 'bob')).fallback).toBe(false);
    await expect(c.directory.authenticate(w.issued.adminToken, 'admin')).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect(rotated.connectGraceUntil).toBe(NOW + DEFAULT_CONNECT_GRACE_SECONDS);
    // New tokens are signed with the new secret; the old secret still verifies what it signed...
    const signedAfter = await c.select(rotated.connectToken, 'carol');
    w.advance(DEFAULT_MAX_TOKEN_AGE_SECONDS - 1);
    const late = w.container();
    expect(await late.rewards.record(served.token!, open(NOW))).toBe('counted');
    expect(await late.rewards.record(signedAfter.token!, open(NOW))).toBe('counted');
    // ...for at least as long as any token it signed may count.
    const retired = rotated.tenant.signingSecrets.find((s) => s.retiresAt !== undefined)!;
    expect(retired.retiresAt! - NOW).toBeGreaterThanOrEqual(DEFAULT_MAX_TOKEN_AGE_SECONDS);
    expect(verificationSecrets(rotated.tenant, NOW + DEFAULT_MAX_TOKEN_AGE_SECONDS)).toContain(
      retired.secret,
    );
  });

  it('keeps an old signing secret as long as a longer maximum token age says', () => {
    const { tenant } = issueTenant('acme', 'acme', NOW);
    const rotated = rotateSigningSecret(tenant, NOW, 200 * DAY);
    const retired = rotated.signingSecrets[1]!;
    expect(retired).toEqual({ secret: tenant.signingSecrets[0]!.secret, retiresAt: NOW + 200 * DAY });
  });
});

describe('rotation options and tenant names', () => {
  it('reads grace periods in days, from 0 to 90', () => {
    expect(graceSecondsFromDays('7')).toBe(7 * DAY);
    expect(graceSecondsFromDays('0')).toBe(0);
    expect(graceSecondsFromDays('0.5')).toBe(DAY / 2);
    for (const bad of ['-1', '91', 'soon', '', 'NaN']) {
      expect(() => graceSecondsFromDays(bad)).toThrow(/^grace-days: must be a number of days from 0 to 90/);
    }
  });

  it('refuses internal tenant names with a clear validation error', () => {
    for (const id of ['_unowned', '_anything', '_', 'null', 'undefined']) {
      expect(() => issueTenant(id, 'folder', NOW)).toThrow(/^tenant: "[^"]+" is reserved for weft's own use/);
      expect(() => validateTenantId(id)).toThrow(/reserved/);
    }
    expect(validateTenantId('acme_eu')).toBe('acme_eu');
    expect(validateTenantId('nullable')).toBe('nullable');
  });
});
