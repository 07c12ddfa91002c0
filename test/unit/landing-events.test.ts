// The landing beacon's events through the real content service, token rewards and machine classifier on the
// in-memory stores: a person's click and conversion count once, a machine's and a forged token's nothing, a
// server posting with the connect token is trusted, another tenant's token is not.
import { describe, expect, it } from 'vitest';
import {
  MemoryAllocationStore,
  MemoryExperimentStore,
  MemoryLedger,
  MemoryTenantStore,
} from '../../adapters/memory/memory-stores';
import { ContentService } from '../../domain/content';
import { UnauthorizedError, ValidationError } from '../../domain/errors';
import { defineExperiment } from '../../domain/experiment';
import { type EventRequest, LandingEvents, parseLandingEvent } from '../../domain/landing-events';
import { recipientDigest } from '../../domain/recipient';
import { TokenRewards } from '../../domain/rewards';
import { issueTenant } from '../../domain/tenant';
import { TenantDirectory } from '../../domain/tenant-directory';

const NOW = 1_767_225_600;
const BROWSER =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

async function world() {
  const tenants = new MemoryTenantStore();
  const acme = issueTenant('acme', 'acme', NOW - 86_400);
  const globex = issueTenant('globex', 'globex', NOW - 86_400);
  await tenants.create(acme.tenant);
  await tenants.create(globex.tenant);
  const experiments = new MemoryExperimentStore();
  const variants = [
    { id: 'a', text: 'A' },
    { id: 'b', text: 'B' },
  ];
  await experiments.save(defineExperiment('acme', 'spring', { metric: 'conversions', variants }, null, NOW));
  const ledger = new MemoryLedger();
  let now = NOW;
  const clock = () => now;
  const directory = new TenantDirectory(tenants, clock);
  const content = new ContentService({
    tenants: directory,
    experiments,
    allocations: new MemoryAllocationStore(experiments),
    ledger,
    counters: ledger,
    delays: ledger,
    clock,
    budgetMs: 500,
    assignmentTtlSeconds: 30 * 86_400,
  });
  const tokenFor = async (recipient: string) =>
    (
      await content.select(acme.connectToken, {
        experimentId: 'spring',
        recipientDigest: recipientDigest(recipient)!,
        campaignId: null,
        dispatchId: null,
      })
    ).token!;
  const events = new LandingEvents(new TokenRewards(directory, ledger, clock), directory);
  const request = (overrides: Partial<EventRequest> = {}): EventRequest => ({
    method: 'POST',
    userAgent: BROWSER,
    sourceAddress: '198.51.100.7',
    receivedAt: now,
    bearer: null,
    ...overrides,
  });
  const totals = async () => {
    const rows = await ledger.read('acme', 'spring');
    return {
      clicks: rows.reduce((sum, r) => sum + r.clicks, 0),
      beaconClicks: rows.reduce((sum, r) => sum + r.beaconClicks, 0),
      conversions: rows.reduce((sum, r) => sum + r.conversions, 0),
    };
  };
  return {
    events,
    tokenFor,
    request,
    totals,
    acme,
    globex,
    later: (seconds: number) => {
      now += seconds;
    },
  };
}

describe('landing events', () => {
  it('parses the body and names the field that is wrong', () => {
    expect(parseLandingEvent({ token: 't', type: 'click' })).toEqual({ token: 't', type: 'click' });
    const fieldOf = (body: unknown) => {
      try {
        parseLandingEvent(body);
        return null;
      } catch (error) {
        return error instanceof ValidationError ? error.field : 'other';
      }
    };
    expect(fieldOf([])).toBe('body');
    expect(fieldOf({ type: 'click' })).toBe('token');
    expect(fieldOf({ token: 'x'.repeat(2000), type: 'click' })).toBe('token');
    expect(fieldOf({ token: 't', type: 'open' })).toBe('type');
  });

  it('counts a person’s click and conversion once each, as beacon rewards', async () => {
    const w = await world();
    const token = await w.tokenFor('user-1');
    w.later(30);

    expect(await w.events.record({ token, type: 'click' }, w.request())).toBe('counted');
    expect(await w.events.record({ token, type: 'click' }, w.request())).toBe('duplicate');
    expect(await w.events.record({ token, type: 'conversion' }, w.request())).toBe('counted');
    expect(await w.events.record({ token, type: 'conversion' }, w.request())).toBe('duplicate');
    expect(await w.totals()).toEqual({ clicks: 1, beaconClicks: 1, conversions: 1 });
  });

  it('counts nothing for a machine, a forged token or another tenant’s bearer', async () => {
    const w = await world();
    const token = await w.tokenFor('user-1');
    w.later(30);

    expect(await w.events.record({ token, type: 'click' }, w.request({ userAgent: 'Mozilla/5.0' }))).toBe(
      'machine',
    );
    expect(
      await w.events.record({ token, type: 'click' }, w.request({ userAgent: 'HeadlessChrome/131.0' })),
    ).toBe('machine');
    const forged = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await w.events.record({ token: forged, type: 'click' }, w.request())).toBe('invalid_token');
    // A server posting with globex's connect token cannot count acme's recipients.
    expect(
      await w.events.record({ token, type: 'click' }, w.request({ bearer: w.globex.connectToken })),
    ).toBe('invalid_token');
    await expect(
      w.events.record({ token, type: 'click' }, w.request({ bearer: 'wc.acme.not-the-token' })),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    expect(await w.totals()).toEqual({ clicks: 0, beaconClicks: 0, conversions: 0 });
  });

  it('trusts a server that posts with the connect token, whatever its agent', async () => {
    const w = await world();
    const token = await w.tokenFor('user-2');

    const server = w.request({ userAgent: 'node', bearer: w.acme.connectToken });
    expect(await w.events.record({ token, type: 'conversion' }, server)).toBe('counted');
    expect(await w.totals()).toEqual({ clicks: 0, beaconClicks: 0, conversions: 1 });
  });
});
