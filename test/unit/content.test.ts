// Content selection on in-memory adapters: stickiness, deterministic picks, the shared snapshot, freshness of
// definitions, fallbacks within the budget and sends recorded exactly once whatever the store does.
import { describe, expect, it } from 'vitest';
import {
  MemoryAllocationStore,
  MemoryExperimentStore,
  MemoryLedger,
  MemoryTenantStore,
} from '../../adapters/memory/memory-stores';
import {
  OLD_READ_SECONDS,
  pickUnit,
  pickVariant,
  RECENT_READ_SECONDS,
  RECENT_TIER_SECONDS,
  WINDOW_SECONDS,
} from '../../domain/allocation-snapshot';
import { ContentService, type ContentServiceDeps, DEFINITION_MAX_AGE_SECONDS } from '../../domain/content';
import { StoreUnavailableError } from '../../domain/errors';
import { changeStatus, defineExperiment } from '../../domain/experiment';
import { recipientDigest } from '../../domain/recipient';
import { TokenRewards } from '../../domain/rewards';
import { issueTenant } from '../../domain/tenant';
import { TenantDirectory } from '../../domain/tenant-directory';
import { readTrackingToken, verifyTrackingToken } from '../../domain/tracking-token';

const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const issued = issueTenant('acme', 'acme', NOW);
const tenant = issued.tenant;
const AUTH = issued.connectToken;
const variants = [
  { id: 'a', text: 'A' },
  { id: 'b', text: 'B' },
  { id: 'c', text: 'C' },
];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function world(body: Record<string, unknown> = {}) {
  const tenants = new MemoryTenantStore();
  await tenants.create(tenant);
  const experiments = new MemoryExperimentStore();
  const ledger = new MemoryLedger();
  const allocations = new MemoryAllocationStore(experiments);
  await experiments.save(defineExperiment('acme', 'spring', { variants, ...body }, null, NOW));
  let now = NOW;
  const clock = () => now;
  const container = (overrides: Partial<ContentServiceDeps> = {}) => {
    const service = new ContentService({
      tenants: new TenantDirectory(tenants, clock),
      experiments,
      allocations,
      ledger,
      counters: ledger,
      delays: ledger,
      clock,
      budgetMs: 200,
      assignmentTtlSeconds: 86_400,
      ...overrides,
    });
    const select = (recipient: string, experimentId = 'spring') =>
      service.select(AUTH, {
        experimentId,
        recipientDigest: recipientDigest(recipient)!,
        campaignId: 'cmp',
        dispatchId: null,
      });
    return { service, select };
  };
  const sends = async () => sum((await ledger.read('acme', 'spring')).map((c) => c.sends));
  return {
    tenants,
    experiments,
    ledger,
    allocations,
    container,
    sends,
    advance: (seconds: number) => {
      now += seconds;
    },
    clock,
  };
}

/** How many counter reads (recomputes) the ledger has served since this call. */
function countCounterReads(ledger: MemoryLedger): () => number {
  let reads = 0;
  const read = ledger.read.bind(ledger);
  ledger.read = (t, e, o) => {
    reads++;
    return read(t, e, o);
  };
  return () => reads;
}

describe('ContentService', () => {
  it('spreads 300 new recipients evenly over 3 variants during burn-in', async () => {
    const { container, sends } = await world();
    const { select } = container();
    const tally: Record<string, number> = {};
    for (let i = 0; i < 300; i++) {
      const answer = await select(`r${i}`);
      tally[answer.variant!.id] = (tally[answer.variant!.id] ?? 0) + 1;
    }
    for (const id of ['a', 'b', 'c']) expect(tally[id]).toBeGreaterThanOrEqual(75);
    expect(await sends()).toBe(300);
  });

  it('gives a recipient the same variant every time, including 40 concurrent first calls, counting one send', async () => {
    const { container, sends } = await world();
    const { select } = container();
    const answers = await Promise.all(Array.from({ length: 40 }, () => select('same-person')));
    expect(new Set(answers.map((a) => a.variant!.id)).size).toBe(1);
    expect(await sends()).toBe(1);
  });

  it('answers a repeat from the container cache without any store call', async () => {
    const { container, ledger, allocations } = await world();
    const { select } = container();
    await select('repeat');
    const before = ledger.roundTrips + allocations.calls;
    const again = await select('repeat');
    expect(again.fallback).toBe(false);
    expect(ledger.roundTrips + allocations.calls).toBe(before);
  });

  it('a repeat served by another container costs one read and no write', async () => {
    const { container, ledger } = await world();
    await container().select('elsewhere');
    const other = container();
    await other.select('warm-up'); // the other container's head and tenant are warm
    const assigns = ledger.roundTrips;
    let writes = 0;
    const assign = ledger.assign.bind(ledger);
    ledger.assign = (a) => {
      writes++;
      return assign(a);
    };
    await other.select('elsewhere');
    expect(writes).toBe(0);
    expect(ledger.roundTrips - assigns).toBe(1);
  });

  it('signs a token that verifies with the tenant secret and names the served variant', async () => {
    const { container } = await world();
    const answer = await container().select('tokened');
    const claims = verifyTrackingToken(answer.token!, [tenant.signingSecrets[0]!.secret]);
    expect(claims).toMatchObject({ tenantId: 'acme', experimentId: 'spring', variantId: answer.variant!.id });
    expect(verifyTrackingToken(answer.token!, ['another-secret'])).toBeNull();
  });

  it('picks the same variant for a new recipient on every container holding the same snapshot, store or not', async () => {
    const { container, allocations, experiments } = await world({ min_sends: 0 });
    const experiment = (await experiments.get('acme', 'spring'))!;
    const epoch = (await allocations.acquireLease('acme', 'spring', NOW, NOW + 10))!;
    const snapshot = {
      experimentVersion: experiment.version,
      computedAt: NOW,
      phase: 'learning' as const,
      shares: { a: 0.2, b: 0.3, c: 0.5 },
      posteriors: {},
    };
    expect(await allocations.publish('acme', 'spring', epoch, snapshot, null)).toBe(true);
    const picks: string[][] = [];
    for (let c = 0; c < 4; c++) {
      const { select } = container({ budgetMs: 50 });
      await select('warm');
      picks.push([]);
      for (let i = 0; i < 60; i++) picks[c]!.push((await select(`person-${c}-${i}`)).variant!.id);
    }
    // Every answer is the keyed-hash pick on that snapshot: what any other container would pick.
    for (let c = 0; c < 4; c++) {
      for (let i = 0; i < 60; i++) {
        const digest = recipientDigest(`person-${c}-${i}`)!;
        expect(picks[c]![i]).toBe(
          pickVariant(experiment, snapshot, pickUnit(tenant.recipientKey, 'spring', digest)).id,
        );
      }
    }
    const counts: Record<string, number> = {};
    for (const v of picks.flat()) counts[v] = (counts[v] ?? 0) + 1;
    expect(counts.c).toBeGreaterThan(counts.a!);
  });

  it('a send whose write times out serves the pick, signed; its first reward records the send once', async () => {
    const { container, ledger, tenants, sends, clock } = await world();
    const hanging = Object.create(ledger) as MemoryLedger;
    hanging.assign = () => new Promise(() => {});
    const reasons: string[] = [];
    const slow = container({ ledger: hanging, budgetMs: 100, onFallback: (reason) => reasons.push(reason) });
    const started = Date.now();
    const answer = await slow.select('slow');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(answer.fallback).toBe(true);
    expect(reasons).toEqual(['assignment_unconfirmed']);
    // Another container on the same (empty) snapshot would pick the same variant for this person.
    expect((await container().select('slow')).variant!.id).toBe(answer.variant!.id);
    expect(readTrackingToken(answer.token!)!.variantId).toBe(answer.variant!.id);
    expect(await sends()).toBe(1);

    // And when no write ever lands, the token's first reward records the send, once.
    const lost = await slow.select('never-recorded');
    expect(await sends()).toBe(1);
    const rewards = new TokenRewards(new TenantDirectory(tenants, clock), ledger, clock);
    const seen = (kind: 'open' | 'click', at: number) => () => ({ kind, source: 'pixel' as const, at });
    expect(await rewards.record(lost.token!, seen('open', NOW + 60))).toBe('counted_with_send');
    expect(await rewards.record(lost.token!, seen('open', NOW + 90))).toBe('duplicate');
    expect(await rewards.record(lost.token!, seen('click', NOW + 90))).toBe('counted');
    expect(await sends()).toBe(2);
    const recorded = ledger
      .allAssignments()
      .find((a) => a.recipientKey === readTrackingToken(lost.token!)!.recipientKey);
    expect(recorded?.variantId).toBe(lost.variant!.id);
  });

  it('sees an edit and a pause on every container within DEFINITION_MAX_AGE_SECONDS, however long idle', async () => {
    const { container, experiments, advance, sends } = await world({ refresh_seconds: 300 });
    const containers = Array.from({ length: 5 }, () => container());
    for (const [i, c] of containers.entries()) await c.select(`warm-${i}`);
    const stored = (await experiments.get('acme', 'spring'))!;
    await experiments.save(
      defineExperiment(
        'acme',
        'spring',
        { variants: variants.map((v) => ({ ...v, text: `${v.text}2` })) },
        stored,
        NOW,
      ),
    );
    advance(DEFINITION_MAX_AGE_SECONDS);
    for (const [i, c] of containers.entries()) {
      expect((await c.select(`after-edit-${i}`)).variant!.text).toMatch(/2$/);
      expect((await c.select(`warm-${i}`)).variant!.text).toMatch(/2$/);
    }
    const before = await sends();
    await experiments.save(
      changeStatus((await experiments.get('acme', 'spring'))!, { status: 'paused' }, NOW),
    );
    advance(3600); // idle for an hour: the first request after that already sees the pause
    for (const [i, c] of containers.entries()) {
      const answer = await c.select(`after-pause-${i}`);
      expect(answer.token).toBeNull();
    }
    expect(await sends()).toBe(before);
  });

  it('serves existing assignments of a finished experiment, else its winner, and records nothing', async () => {
    const { container, experiments, ledger } = await world();
    const { select } = container();
    const before = await select('early');
    await experiments.save(
      changeStatus((await experiments.get('acme', 'spring'))!, { status: 'finished', winner: 'c' }, NOW),
    );
    const fresh = container();
    expect((await fresh.select('early')).variant!.id).toBe(before.variant!.id);
    expect((await fresh.select('late')).variant!.id).toBe('c');
    expect(ledger.allAssignments()).toHaveLength(1);
  });

  it('keeps serving the last known state, flagged, when the store fails after warm-up', async () => {
    const { container, experiments, ledger, allocations, advance } = await world();
    const { select } = container();
    await select('warm');
    const down = () => Promise.reject(new StoreUnavailableError('test'));
    experiments.get = down;
    allocations.head = down;
    ledger.assign = down;
    ledger.find = down;
    advance(DEFINITION_MAX_AGE_SECONDS);
    const known = await select('warm');
    expect(known).toMatchObject({ fallback: true, variant: { id: expect.any(String) } });
    const unknown = await select('cold-recipient');
    expect(unknown.fallback).toBe(true);
    expect(unknown.variant).not.toBeNull();
    expect(unknown.token).not.toBeNull();
  });

  it('a cold container with no store answers an empty fallback within the budget', async () => {
    const { container, tenants } = await world();
    tenants.get = () => new Promise(() => {});
    const started = Date.now();
    const answer = await container({ budgetMs: 80 }).select('anyone');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(answer).toMatchObject({ fallback: true, variant: null, token: null });
  });

  it('recomputes the snapshot once per refresh for all containers, reading only recent buckets between full reads', async () => {
    const { container, ledger, allocations, advance } = await world({ refresh_seconds: 5, min_sends: 0 });
    const reads: Array<number | undefined> = [];
    const read = ledger.read.bind(ledger);
    ledger.read = (t, e, o) => {
      reads.push(o?.since);
      return read(t, e, o);
    };
    const containers = Array.from({ length: 10 }, () => container());
    for (const [i, c] of containers.entries()) await c.select(`first-${i}`);
    expect(reads).toEqual([undefined]); // one full read, by one container
    advance(5);
    for (const [i, c] of containers.entries()) await c.select(`second-${i}`);
    expect(reads).toHaveLength(2);
    const windowStart = Math.floor(NOW / 600) * 600 - WINDOW_SECONDS;
    expect(reads[1]).toBe(windowStart);
    advance(RECENT_READ_SECONDS);
    await containers[0]!.select('third');
    expect(reads[2]).toBe(windowStart - RECENT_TIER_SECONDS); // the recent tier and the window, not the rest
    advance(OLD_READ_SECONDS);
    await containers[1]!.select('fourth');
    expect(reads).toHaveLength(4);
    expect(reads[3]).toBeUndefined(); // the whole history, hourly
    expect((await allocations.head('acme', 'spring')).snapshot?.computedAt).toBe(
      NOW + 5 + RECENT_READ_SECONDS + OLD_READ_SECONDS,
    );
  });

  it('a container holding a head read before the last publish does not recompute again', async () => {
    const { container, ledger, advance } = await world({ refresh_seconds: 5, min_sends: 0 });
    const counterReads = countCounterReads(ledger);
    const [a, b] = [container(), container()];
    await a.select('a-0'); // computes the first snapshot at NOW
    advance(3);
    await b.select('b-0'); // b holds that head until NOW + 8
    advance(2);
    await a.select('a-1'); // due at NOW + 5: a recomputes and publishes
    expect(counterReads()).toBe(2);
    await b.select('b-1'); // b's cached head still shows the old snapshot as due; the store says not yet
    expect(counterReads()).toBe(2);
  });

  it('a cold fleet with no snapshot yet recomputes once, not once per container', async () => {
    const { container, ledger } = await world({ refresh_seconds: 5, min_sends: 0 });
    const counterReads = countCounterReads(ledger);
    const fleet = Array.from({ length: 10 }, () => container());
    await Promise.all(fleet.map((c, i) => c.select(`cold-${i}`)));
    expect(counterReads()).toBe(1);
  });

  it('an edit does not wait for the next refresh: the first new recipient after it recomputes', async () => {
    const { container, ledger, experiments, advance, allocations } = await world({
      refresh_seconds: 60,
      min_sends: 0,
    });
    const counterReads = countCounterReads(ledger);
    const [a, b] = [container(), container()];
    await a.select('a-0');
    await b.select('b-0');
    expect(counterReads()).toBe(1);
    const stored = (await experiments.get('acme', 'spring'))!;
    await experiments.save(
      defineExperiment('acme', 'spring', { variants: variants.slice(0, 2) }, stored, NOW),
    );
    advance(DEFINITION_MAX_AGE_SECONDS);
    await a.select('a-1');
    await b.select('b-1');
    expect(counterReads()).toBe(2);
    expect((await allocations.head('acme', 'spring')).snapshot?.experimentVersion).toBe(stored.version + 1);
  });

  it('a lease holder that thaws after a newer one took over cannot publish', async () => {
    const { allocations } = await world();
    const late = (await allocations.acquireLease('acme', 'spring', NOW, NOW + 10))!;
    expect(await allocations.acquireLease('acme', 'spring', NOW + 5, NOW + 15)).toBeNull();
    const newer = (await allocations.acquireLease('acme', 'spring', NOW + 10, NOW + 20))!;
    const snapshot = {
      experimentVersion: 1,
      computedAt: NOW,
      phase: 'burn_in' as const,
      shares: {},
      posteriors: {},
    };
    expect(await allocations.publish('acme', 'spring', late, snapshot, null)).toBe(false);
    expect(
      await allocations.publish('acme', 'spring', newer, { ...snapshot, computedAt: NOW + 10 }, null),
    ).toBe(true);
    expect((await allocations.head('acme', 'spring')).snapshot?.computedAt).toBe(NOW + 10);
  });

  it('finishes by itself with auto_finish once a variant is confidently best, and not before', async () => {
    const { container, experiments, ledger, advance } = await world({
      auto_finish: true,
      min_sends: 10,
      refresh_seconds: 1,
    });
    await container().select('first');
    expect((await experiments.get('acme', 'spring'))!.status).toBe('running');
    for (const [variantId, sends, clicks] of [
      ['a', 3000, 30],
      ['b', 3000, 33],
      ['c', 3000, 240],
    ] as const) {
      await ledger.adjustCounters('acme', 'spring', NOW - 7200, variantId, { sends, opens: 0, clicks });
    }
    advance(RECENT_READ_SECONDS);
    await container().select('second');
    expect(await experiments.get('acme', 'spring')).toMatchObject({ status: 'finished', winner: 'c' });
  });

  it('keeps the recipients it remembers within its byte bound', async () => {
    const { container, ledger } = await world();
    const bound = { answers: 200_000, experiments: 100_000 };
    const { service, select } = container({ cacheBytes: bound });
    for (let i = 0; i < 2000; i++) await select(`many-${i}`);
    expect(service.cachedBytes()).toBeGreaterThan(150_000);
    expect(service.cachedBytes()).toBeLessThanOrEqual(bound.answers + bound.experiments);
    // The oldest recipients were forgotten (a store read again), the newest are still answered from memory.
    const before = ledger.roundTrips;
    await select('many-1999');
    expect(ledger.roundTrips).toBe(before);
    await select('many-0');
    expect(ledger.roundTrips).toBe(before + 1);
  });
});
