// Content selection on in-memory adapters: stickiness, burn-in spread, status handling and fallbacks.
import { describe, expect, it } from 'vitest';
import { MemoryExperimentStore, MemoryLedger } from '../../adapters/memory/memory-stores';
import { ContentService, type ContentServiceDeps } from '../../domain/content';
import { NO_DELAY } from '../../domain/delay';
import { StoreUnavailableError } from '../../domain/errors';
import { changeStatus, defineExperiment } from '../../domain/experiment';
import { createRandom } from '../../domain/random';
import { recipientDigest } from '../../domain/recipient';
import { issueTenant } from '../../domain/tenant';
import { verifyTrackingToken } from '../../domain/tracking-token';

const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const tenant = issueTenant('acme', 'acme', NOW).tenant;
const variants = [
  { id: 'a', text: 'A' },
  { id: 'b', text: 'B' },
  { id: 'c', text: 'C' },
];

async function setup(overrides: Partial<ContentServiceDeps> = {}, body: Record<string, unknown> = {}) {
  const experiments = new MemoryExperimentStore();
  const ledger = new MemoryLedger();
  await experiments.save(defineExperiment('acme', 'spring', { variants, ...body }, null, NOW));
  const service = new ContentService({
    experiments,
    ledger,
    counters: ledger,
    random: createRandom(7),
    clock: () => NOW,
    budgetMs: 200,
    assignmentTtlSeconds: 86_400,
    delayModel: () => NO_DELAY,
    ...overrides,
  });
  const select = (recipient: string) =>
    service.select(tenant, {
      experimentId: 'spring',
      recipientDigest: recipientDigest(recipient)!,
      campaignId: 'cmp',
      dispatchId: null,
    });
  return { experiments, ledger, service, select };
}

describe('ContentService', () => {
  it('spreads 300 new recipients evenly over 3 variants during burn-in', async () => {
    const { select, ledger } = await setup();
    const tally: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const answer = await select(`r${i}`);
      tally[answer.variant!.id] = (tally[answer.variant!.id] ?? 0) + 1;
    }
    for (const id of ['a', 'b', 'c']) expect(tally[id]).toBeGreaterThanOrEqual(75);
    const sends = (await ledger.read('acme', 'spring')).reduce((sum, c) => sum + c.sends, 0);
    expect(sends).toBe(300);
  });

  it('gives a recipient the same variant every time, including 40 concurrent first calls, counting one send', async () => {
    const { select, ledger } = await setup();
    const answers = await Promise.all(Array.from({ length: 40 }, () => select('same-person')));
    expect(new Set(answers.map((a) => a.variant!.id)).size).toBe(1);
    expect((await ledger.read('acme', 'spring')).reduce((sum, c) => sum + c.sends, 0)).toBe(1);
  });

  it('answers a repeat from the container cache without a store call', async () => {
    const { select, ledger } = await setup();
    await select('repeat');
    const before = ledger.roundTrips;
    await select('repeat');
    expect(ledger.roundTrips).toBe(before);
  });

  it('signs a token that verifies with the tenant secret and names the served variant', async () => {
    const { select } = await setup();
    const answer = await select('tokened');
    const claims = verifyTrackingToken(answer.token!, [tenant.signingSecrets[0]!.secret]);
    expect(claims).toMatchObject({
      tenantId: 'acme',
      experimentId: 'spring',
      variantId: answer.variant!.id,
      sentAt: NOW,
    });
    expect(verifyTrackingToken(answer.token!, ['another-secret'])).toBeNull();
  });

  it('serves existing assignments of a paused experiment, else its default, and records nothing', async () => {
    const { select, experiments, ledger, service } = await setup();
    const before = await select('early');
    const stored = await experiments.get('acme', 'spring');
    await experiments.save(changeStatus(stored!, { status: 'finished', winner: 'c' }, NOW));
    service.invalidate('acme', 'spring');
    const fresh = new ContentService({
      experiments,
      ledger,
      counters: ledger,
      random: createRandom(1),
      clock: () => NOW,
      budgetMs: 200,
      assignmentTtlSeconds: 86_400,
      delayModel: () => NO_DELAY,
    });
    const select2 = (r: string) =>
      fresh.select(tenant, {
        experimentId: 'spring',
        recipientDigest: recipientDigest(r)!,
        campaignId: null,
        dispatchId: null,
      });
    expect((await select2('early')).variant!.id).toBe(before.variant!.id);
    expect((await select2('late')).variant!.id).toBe('c');
    expect(ledger.allAssignments()).toHaveLength(1);
  });

  it('falls back to the default variant within the budget when the store hangs, and flags it', async () => {
    const { experiments, ledger } = await setup();
    const reasons: string[] = [];
    const hanging = Object.create(ledger) as MemoryLedger;
    hanging.assign = () => new Promise(() => {});
    const service = new ContentService({
      experiments,
      ledger: hanging,
      counters: ledger,
      random: createRandom(3),
      clock: () => NOW,
      budgetMs: 100,
      assignmentTtlSeconds: 86_400,
      delayModel: () => NO_DELAY,
      onFallback: (reason) => reasons.push(reason),
    });
    const started = Date.now();
    const answer = await service.select(tenant, {
      experimentId: 'spring',
      recipientDigest: recipientDigest('slow')!,
      campaignId: null,
      dispatchId: null,
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(answer).toMatchObject({ fallback: true, variant: { id: 'a' } });
    expect(reasons).toEqual(['store_unavailable']);
  });

  it('keeps serving from warm caches when the store fails after warm-up', async () => {
    const { experiments, ledger, select } = await setup();
    await select('warm');
    experiments.get = () => Promise.reject(new StoreUnavailableError('test'));
    ledger.assign = () => Promise.reject(new StoreUnavailableError('test'));
    const known = await select('warm');
    expect(known.fallback).toBe(false);
    const unknown = await select('cold-recipient');
    expect(unknown).toMatchObject({ fallback: true, variant: { id: 'a' } });
  });

  it('finishes by itself with auto_finish once a variant is confidently best, and not before', async () => {
    const { experiments, ledger, select } = await setup(
      {},
      { auto_finish: true, min_sends: 10, refresh_seconds: 1 },
    );
    await select('first');
    expect((await experiments.get('acme', 'spring'))!.status).toBe('running');
    // Seed decisive evidence straight into the counters: c is far better than a and b.
    const bucket = NOW - 3600;
    for (const [variantId, sends, clicks] of [
      ['a', 3000, 30],
      ['b', 3000, 33],
      ['c', 3000, 240],
    ] as const) {
      await ledger.adjustCounters('acme', 'spring', bucket, variantId, { sends, opens: 0, clicks });
    }
    const stored = (await experiments.get('acme', 'spring'))!;
    // A container whose allocation is due for a refresh recomputes it from the counters and decides.
    const fresh = new ContentService({
      experiments,
      ledger,
      counters: ledger,
      random: createRandom(5),
      clock: () => NOW + 10,
      budgetMs: 500,
      assignmentTtlSeconds: 86_400,
      delayModel: () => NO_DELAY,
    });
    await fresh.allocation('acme', stored);
    const finished = (await experiments.get('acme', 'spring'))!;
    expect(finished).toMatchObject({ status: 'finished', winner: 'c' });
  });
});
