// Per-experiment recipient pseudonyms and the maximum age of tracking tokens, through the real content service,
// token rewards and Currents ingestion on the in-memory stores, on an injected clock. Tenants from before
// per-experiment pseudonyms keep their experiments' assignments (and version 1 tokens) working.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MemoryAllocationStore,
  MemoryExperimentStore,
  MemoryIngestionLog,
  MemoryLedger,
  MemoryTenantStore,
} from '../../adapters/memory/memory-stores';
import { pickUnit } from '../../domain/allocation-snapshot';
import { ContentService } from '../../domain/content';
import type { EngagementEvent } from '../../domain/currents';
import { defineExperiment } from '../../domain/experiment';
import { CurrentsIngestion } from '../../domain/ingestion';
import { experimentRecipientKey, recipientDigest, recipientKey } from '../../domain/recipient';
import { TokenRewards } from '../../domain/rewards';
import { issueTenant, PSEUDONYM_UPGRADE_MARGIN_SECONDS, type Tenant } from '../../domain/tenant';
import { TenantDirectory } from '../../domain/tenant-directory';
import { readTrackingToken, signTrackingToken, verifyTrackingToken } from '../../domain/tracking-token';

const NOW = 1_767_225_600;
const DAY = 86_400;
const CLICKS =
  'acme/dataexport.prod-01.S3.integration.x/event_type=users.messages.email.Click/date=2026-01-01-00/f.avro';
const variants = [
  { id: 'a', text: 'A' },
  { id: 'b', text: 'B' },
];
const open = (at: number) => () => ({ kind: 'open' as const, source: 'pixel' as const, at });

/** A tenant from before per-experiment pseudonyms, as an older version stored it. */
function legacyTenant(): { tenant: Tenant; connectToken: string } {
  const issued = issueTenant('acme', 'acme', NOW - 90 * DAY);
  return { tenant: { ...issued.tenant, experimentPseudonymsSince: null }, connectToken: issued.connectToken };
}

async function world(tenant: Tenant, options: { tokenMaxAgeSeconds?: number } = {}) {
  const tenants = new MemoryTenantStore();
  await tenants.create(tenant);
  const experiments = new MemoryExperimentStore();
  const ledger = new MemoryLedger();
  const allocations = new MemoryAllocationStore(experiments);
  let now = NOW;
  const clock = () => now;
  const define = (id: string, createdAt: number) =>
    experiments.save(defineExperiment('acme', id, { variants }, null, createdAt));
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
      ...options,
    });
    return {
      select: (token: string, experimentId: string, recipient: string) =>
        content.select(token, {
          experimentId,
          recipientDigest: recipientDigest(recipient)!,
          campaignId: `campaign-${experimentId}`,
          dispatchId: null,
        }),
    };
  };
  const rewards = (maxTokenAgeSeconds?: number) =>
    new TokenRewards(new TenantDirectory(tenants, clock), ledger, clock, 30 * DAY, maxTokenAgeSeconds);
  const ingestion = new CurrentsIngestion({
    tenants,
    experiments,
    ledger,
    rewards: rewards(),
    log: new MemoryIngestionLog(),
    clockMs: () => now * 1000,
  });
  const totals = async (experimentId: string) =>
    (await ledger.read('acme', experimentId)).reduce(
      (sum, c) => ({ sends: sum.sends + c.sends, clicks: sum.clicks + c.clicks, opens: sum.opens + c.opens }),
      { sends: 0, clicks: 0, opens: 0 },
    );
  return {
    tenants,
    ledger,
    define,
    container,
    rewards,
    ingestion,
    totals,
    set: (t: number) => {
      now = t;
    },
  };
}

let nextEvent = 0;
function click(overrides: Partial<EngagementEvent>): EngagementEvent {
  return {
    eventId: `ev-${nextEvent++}`,
    kind: 'click',
    time: NOW + 600,
    recipientDigest: null,
    campaignId: null,
    trackingToken: null,
    suspectedBot: false,
    ...overrides,
  };
}
const events = (list: EngagementEvent[]) => async () =>
  (async function* () {
    yield* list;
  })();

/** A version 1 token, as weft signed them before version 2 (no expiry, time in the clear). */
function signV1(
  claims: { experimentId: string; variantId: string; recipientKey: string; sentAt: number },
  secret: string,
) {
  const payload = [
    '1',
    'acme',
    claims.experimentId,
    claims.variantId,
    claims.recipientKey,
    claims.sentAt.toString(36),
  ].join('.');
  const signature = createHmac('sha256', secret)
    .update(payload)
    .digest()
    .subarray(0, 16)
    .toString('base64url');
  return `${payload}.${signature}`;
}

describe('per-experiment pseudonyms', () => {
  it('tokens for the same recipient in two new experiments share no component beyond tenant and experiment ids', async () => {
    const issued = issueTenant('acme', 'acme', NOW - DAY);
    const w = await world(issued.tenant);
    await w.define('spring', NOW - DAY);
    await w.define('summer', NOW - DAY);
    // A recipient both experiments serve the same variant, in the same second: the hardest case to tell apart.
    const recipient = Array.from({ length: 200 }, (_, i) => `person-${i}`).find((r) =>
      ['spring', 'summer'].every((e) => pickUnit(issued.tenant.recipientKey, e, recipientDigest(r)!) < 0.5),
    )!;

    const c = w.container();
    const spring = (await c.select(issued.connectToken, 'spring', recipient)).token!;
    const summer = (await c.select(issued.connectToken, 'summer', recipient)).token!;

    const [s, u] = [spring.split('.'), summer.split('.')];
    expect(s).toHaveLength(7);
    // version, tenant, experiment, variant, pseudonym, sealed times, signature
    expect([s[0], s[1], s[2], s[3]]).toEqual(['2', 'acme', 'spring', 'a']);
    expect([u[0], u[1], u[2], u[3]]).toEqual(['2', 'acme', 'summer', 'a']);
    // What could tie the two to one person differs: pseudonym, send time (sealed) and signature.
    for (const part of [4, 5, 6]) expect(s[part]).not.toBe(u[part]);
    // Beyond tenant and experiment, both share only the format version and the variant's label, which every
    // token of that variant carries: nothing of the recipient.
    expect(s.filter((part, i) => i !== 1 && i !== 2 && u.includes(part))).toEqual(['2', 'a']);
    // The pseudonyms are the experiments' own, not the tenant-wide hash.
    const digest = recipientDigest(recipient)!;
    expect(s[4]).toBe(experimentRecipientKey(issued.tenant.recipientKey, 'spring', digest));
    expect(u[4]).toBe(experimentRecipientKey(issued.tenant.recipientKey, 'summer', digest));
    expect([s[4], u[4]]).not.toContain(recipientKey(issued.tenant.recipientKey, digest));
  });

  it('keeps each recipient sticky, and Currents attributes campaign clicks to the per-experiment pseudonym', async () => {
    const issued = issueTenant('acme', 'acme', NOW - DAY);
    const w = await world(issued.tenant);
    await w.define('spring', NOW - DAY);
    const first = await w.container().select(issued.connectToken, 'spring', 'alice');
    for (let i = 0; i < 3; i++) {
      const again = await w.container().select(issued.connectToken, 'spring', 'alice');
      expect([again.variant!.id, again.token]).toEqual([first.variant!.id, first.token]);
    }

    // A click without a token, from the campaign alice was sent with: found by her pseudonym in `spring`.
    const result = await w.ingestion.ingest(
      CLICKS,
      events([click({ campaignId: 'campaign-spring', recipientDigest: recipientDigest('alice') })]),
    );

    expect(result).toMatchObject({ attributed: 1, unattributed: 0 });
    expect(await w.totals('spring')).toMatchObject({ sends: 1, clicks: 1 });
  });

  it('an upgraded tenant keeps its older experiments’ assignments (tenant-wide pseudonyms), new ones get their own', async () => {
    const { tenant, connectToken } = legacyTenant();
    const w = await world(tenant);
    await w.define('old', NOW - 10 * DAY);
    const before = await w.container().select(connectToken, 'old', 'alice');
    const digest = recipientDigest('alice')!;
    expect(readTrackingToken(before.token!)!.recipientKey).toBe(recipientKey(tenant.recipientKey, digest));

    // `weft tenant seal-secrets`: experiments created from a few minutes on get per-experiment pseudonyms.
    expect(await w.tenants.upgrade('acme', NOW + PSEUDONYM_UPGRADE_MARGIN_SECONDS)).toBe('upgraded');
    w.set(NOW + 3600);
    await w.define('new', NOW + 3600);

    // A cold container guesses, reads again for the older experiment, and finds alice's assignment.
    const after = await w.container().select(connectToken, 'old', 'alice');
    expect(after.variant!.id).toBe(before.variant!.id);
    expect(readTrackingToken(after.token!)!.recipientKey).toBe(
      readTrackingToken(before.token!)!.recipientKey,
    );
    expect((await w.totals('old')).sends).toBe(1);

    const fresh = await w.container().select(connectToken, 'new', 'alice');
    expect(readTrackingToken(fresh.token!)!.recipientKey).toBe(
      experimentRecipientKey(tenant.recipientKey, 'new', digest),
    );

    // Currents attributes a campaign click in each with the pseudonym that experiment stores.
    const result = await w.ingestion.ingest(
      CLICKS,
      events([
        click({ campaignId: 'campaign-old', recipientDigest: digest, time: NOW + 3700 }),
        click({ campaignId: 'campaign-new', recipientDigest: digest, time: NOW + 3700 }),
      ]),
    );
    expect(result).toMatchObject({ attributed: 2, unattributed: 0 });
    expect(await w.totals('old')).toMatchObject({ sends: 1, clicks: 1 });
    expect(await w.totals('new')).toMatchObject({ sends: 1, clicks: 1 });
  });

  it('a tenant never upgraded keeps tenant-wide pseudonyms for every experiment', async () => {
    const { tenant, connectToken } = legacyTenant();
    const w = await world(tenant);
    await w.define('spring', NOW);
    const answer = await w.container().select(connectToken, 'spring', 'bob');
    expect(readTrackingToken(answer.token!)!.recipientKey).toBe(
      recipientKey(tenant.recipientKey, recipientDigest('bob')!),
    );
  });
});

describe('maximum token age', () => {
  it('a token older than its maximum age counts nothing', async () => {
    const issued = issueTenant('acme', 'acme', NOW - DAY);
    const w = await world(issued.tenant, { tokenMaxAgeSeconds: 2 * DAY });
    await w.define('spring', NOW - DAY);
    const c = w.container();
    const early = (await c.select(issued.connectToken, 'spring', 'alice')).token!;
    const late = (await c.select(issued.connectToken, 'spring', 'bob')).token!;
    expect(verifyTrackingToken(early, [issued.tenant.signingSecrets[0]!.secret])).toMatchObject({
      sentAt: NOW,
      expiresAt: NOW + 2 * DAY,
    });

    w.set(NOW + 2 * DAY - 1);
    expect(await w.rewards().record(early, open(NOW + 2 * DAY - 1))).toBe('counted');
    w.set(NOW + 2 * DAY);
    expect(await w.rewards().record(late, open(NOW + 2 * DAY))).toBe('invalid_token');
    // Nor through Currents: the click carries a genuine token, too old to count.
    const result = await w.ingestion.ingest(
      CLICKS,
      events([click({ trackingToken: late, time: NOW + 2 * DAY })]),
    );
    expect(result).toMatchObject({ attributed: 0 });
    expect(await w.totals('spring')).toEqual({ sends: 2, opens: 1, clicks: 0 });
  });

  it('the age a token carries binds even a verifier configured for longer; a shorter configured age binds it too', async () => {
    const issued = issueTenant('acme', 'acme', NOW - DAY);
    const secret = issued.tenant.signingSecrets[0]!.secret;
    const w = await world(issued.tenant);
    const token = signTrackingToken(
      {
        tenantId: 'acme',
        experimentId: 'spring',
        variantId: 'a',
        recipientKey: 'k'.repeat(43),
        sentAt: NOW,
        expiresAt: NOW + DAY,
      },
      secret,
    );
    w.set(NOW + DAY);
    expect(await w.rewards(30 * DAY).verify(token)).toBeNull();
    w.set(NOW + DAY - 1);
    expect(await w.rewards(30 * DAY).verify(token)).toMatchObject({ sentAt: NOW });
    expect(await w.rewards(3600).verify(token)).toBeNull();
  });

  it('version 1 tokens already in inboxes keep counting, until the configured maximum age after their send', async () => {
    const { tenant, connectToken } = legacyTenant();
    const w = await world(tenant);
    await w.define('spring', NOW - DAY);
    const answer = await w.container().select(connectToken, 'spring', 'alice');
    const claims = verifyTrackingToken(answer.token!, [tenant.signingSecrets[0]!.secret])!;
    const v1 = signV1(claims, tenant.signingSecrets[0]!.secret);
    expect(readTrackingToken(v1)).toMatchObject({ version: 1, recipientKey: claims.recipientKey });

    w.set(NOW + 30 * DAY - 1);
    expect(await w.rewards().record(v1, open(NOW + 30 * DAY - 1))).toBe('counted');
    w.set(NOW + 30 * DAY);
    expect(await w.rewards().verify(v1)).toBeNull();
  });
});
