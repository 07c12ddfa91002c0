// The shared allocation on DynamoDB Local: the lease and its epoch, the published snapshot every container
// reads, settled sums that keep recomputes cheap, and the head's definition version that keeps definitions fresh.
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbAllocationStore } from '../../adapters/dynamodb/dynamodb-allocation-store';
import { ShardCounts } from '../../adapters/dynamodb/shard-counts';
import { AdminService } from '../../domain/admin';
import {
  DELAY_READ_SECONDS,
  OLD_READ_SECONDS,
  RECENT_READ_SECONDS,
  recomputeSnapshot,
} from '../../domain/allocation-snapshot';
import { NO_DELAY } from '../../domain/delay';
import { changeStatus, defineExperiment, type Experiment } from '../../domain/experiment';
import type { Tenant } from '../../domain/tenant';
import { nowSeconds, sendBucketOf } from '../../domain/time';
import { createStores } from '../../handlers/shared/stage';
import { freshTable } from '../support/dynamodb';

describe('allocation snapshot on DynamoDB Local', () => {
  let table: Awaited<ReturnType<typeof freshTable>>;
  let stores: ReturnType<typeof createStores>;
  beforeAll(async () => {
    table = await freshTable();
    stores = createStores(table.config, table.client);
  });

  const define = async (id: string, body: Record<string, unknown> = {}) => {
    const experiment = defineExperiment(
      't',
      id,
      {
        variants: [
          { id: 'a', text: 'A' },
          { id: 'b', text: 'B' },
        ],
        min_sends: 10,
        ...body,
      },
      null,
      nowSeconds(),
    );
    await stores.experiments.save(experiment);
    return experiment;
  };

  it('the head carries the definition version and the new experiment’s shard count', async () => {
    const experiment = await define('heads');
    expect(await stores.allocations.head('t', 'heads')).toEqual({
      definitionVersion: 1,
      snapshot: null,
      leaseUntil: 0,
    });
    await stores.experiments.save(changeStatus(experiment, { status: 'paused' }, nowSeconds()));
    expect((await stores.allocations.head('t', 'heads')).definitionVersion).toBe(2);
    const shards = new ShardCounts(table.client, table.tableName);
    expect(await shards.of('t', 'heads')).toBe(128);
    expect(await shards.of('t', 'from-before-heads')).toBe(32);
  });

  it('one lease at a time; a holder that thaws after a newer one cannot publish', async () => {
    await define('lease');
    const store = new DynamoDbAllocationStore(
      table.client,
      table.tableName,
      new ShardCounts(table.client, table.tableName),
    );
    const now = nowSeconds();
    const late = await store.acquireLease('t', 'lease', now, now + 10);
    expect(late).not.toBeNull();
    expect(await store.acquireLease('t', 'lease', now + 5, now + 15)).toBeNull();
    const newer = await store.acquireLease('t', 'lease', now + 10, now + 20);
    expect(newer).toBe(late! + 1);
    const snapshot = {
      experimentVersion: 1,
      computedAt: now,
      phase: 'burn_in' as const,
      shares: {},
      posteriors: {},
    };
    expect(await store.publish('t', 'lease', late!, snapshot, null)).toBe(false);
    expect(await store.publish('t', 'lease', newer!, { ...snapshot, computedAt: now + 10 }, null)).toBe(true);
    expect((await store.head('t', 'lease')).snapshot?.computedAt).toBe(now + 10);
    expect((await store.head('t', 'lease')).leaseUntil).toBe(0);
  });

  it('recomputes from the counters, then reads only recent buckets until the next full read', async () => {
    const experiment: Experiment = await define('learn', { min_sends: 10 });
    const now = nowSeconds();
    const old = sendBucketOf(now) - 6 * 3600;
    // Old evidence: b far better.
    await stores.ledger.adjustCounters('t', 'learn', old, 'a', { sends: 2000, opens: 0, clicks: 20 });
    await stores.ledger.adjustCounters('t', 'learn', old, 'b', { sends: 2000, opens: 0, clicks: 200 });
    const deps = { ...stores, counters: stores.ledger, delays: stores.ledger };
    const first = await recomputeSnapshot(deps, experiment, now);
    expect(first?.phase).not.toBe('burn_in');
    expect(first!.shares.b).toBeGreaterThan(0.99);
    const settled = await stores.allocations.settled('t', 'learn');
    expect(settled?.recent.totals.b).toEqual({ sends: 2000, opens: 0, clicks: 200 });

    // A late reward in the recent tier joins at its next read, not before.
    await stores.ledger.adjustCounters('t', 'learn', old, 'a', { sends: 0, opens: 0, clicks: 300 });
    const between = await recomputeSnapshot(deps, experiment, now + 20);
    expect(between!.posteriors.a![0]).toBeCloseTo(first!.posteriors.a![0], 6);
    const recentRead = await recomputeSnapshot(deps, experiment, now + 20 + RECENT_READ_SECONDS);
    expect(recentRead!.posteriors.a![0]).toBeGreaterThan(first!.posteriors.a![0] + 299);
    expect(recentRead!.shares.a).toBeGreaterThan(0.99);

    // Three days old: in the old tier, re-read hourly.
    const ancient = sendBucketOf(now) - 72 * 3600;
    await stores.ledger.adjustCounters('t', 'learn', ancient, 'b', {
      sends: 100_000,
      opens: 0,
      clicks: 30_000,
    });
    const soon = await recomputeSnapshot(deps, experiment, now + 40 + RECENT_READ_SECONDS);
    expect(soon!.shares.a).toBeGreaterThan(0.99);
    const hourly = await recomputeSnapshot(deps, experiment, now + 40 + OLD_READ_SECONDS);
    expect(hourly!.shares.b).toBeGreaterThan(0.99);
  });

  it('reads the delay histogram again every minute, between the recent tier’s reads', async () => {
    const experiment = await define('delays', { min_sends: 10 });
    const now = nowSeconds();
    await stores.ledger.adjustCounters('t', 'delays', sendBucketOf(now) - 600, 'a', { sends: 500 });
    const reads: number[] = [];
    let at = now;
    const deps = {
      ...stores,
      counters: stores.ledger,
      delays: {
        histogram: (tenantId: string, kind: Parameters<typeof stores.ledger.histogram>[1]) => {
          reads.push(at - now);
          return stores.ledger.histogram(tenantId, kind);
        },
      },
    };
    for (at = now; at <= now + 2 * DELAY_READ_SECONDS; at += 10) {
      expect(await recomputeSnapshot(deps, experiment, at)).not.toBeNull();
    }
    expect(reads).toEqual([0, DELAY_READ_SECONDS, 2 * DELAY_READ_SECONDS]);
    const settled = await stores.allocations.settled('t', 'delays');
    expect(settled?.delaysReadAt).toBe(now + 2 * DELAY_READ_SECONDS);
    expect(settled?.recent.readAt).toBe(now);
  });

  it('the report reads two days of buckets plus the settled sums, and shows the served shares', async () => {
    const experiment = await define('reported', { min_sends: 10 });
    const now = nowSeconds();
    await stores.ledger.adjustCounters('t', 'reported', sendBucketOf(now) - 72 * 3600, 'a', {
      sends: 1000,
      opens: 5,
      clicks: 10,
    });
    await stores.ledger.adjustCounters('t', 'reported', sendBucketOf(now) - 2 * 3600, 'b', {
      sends: 1000,
      opens: 7,
      clicks: 100,
    });
    const deps = { ...stores, counters: stores.ledger, delays: stores.ledger };
    const snapshot = (await recomputeSnapshot(deps, experiment, now))!;
    const since: Array<number | undefined> = [];
    const admin = new AdminService({
      experiments: stores.experiments,
      allocations: stores.allocations,
      counters: {
        read: (tenantId, id, options) => {
          since.push(options?.since);
          return stores.ledger.read(tenantId, id, options);
        },
      },
      clock: () => now,
      delayModel: () => NO_DELAY,
    });
    const report = await admin.report({ id: 't' } as Tenant, 'reported');
    const settled = (await stores.allocations.settled('t', 'reported'))!;
    expect(since).toEqual([settled.recentStart]);
    const byId = Object.fromEntries(report.variants.map((v) => [v.id, v]));
    expect(byId.a).toMatchObject({ sends: 1000, opens: 5, clicks: 10 });
    expect(byId.b).toMatchObject({ sends: 1000, opens: 7, clicks: 100 });
    expect(byId.b!.allocation).toBeCloseTo(snapshot.shares.b!, 9);
    expect(report.series.length).toBeLessThanOrEqual(49);
  });
});
