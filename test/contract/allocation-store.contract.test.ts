// AllocationStore: the same cases against MemoryAllocationStore (over MemoryExperimentStore) and
// DynamoDbAllocationStore (over DynamoDbExperimentStore, one DynamoDB Local table): head, lease, publish, settled.
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAllocationStore } from '../../adapters/dynamodb/dynamodb-allocation-store';
import { DynamoDbExperimentStore } from '../../adapters/dynamodb/dynamodb-experiment-store';
import { ShardCounts } from '../../adapters/dynamodb/shard-counts';
import { MemoryAllocationStore, MemoryExperimentStore } from '../../adapters/memory/memory-stores';
import { emptyDelayHistogram } from '../../domain/delay';
import { changeStatus, defineExperiment, type Experiment } from '../../domain/experiment';
import type { AllocationSnapshot, AllocationStore, SettledCounts } from '../../domain/ports/allocation-store';
import type { ExperimentStore } from '../../domain/ports/experiment-store';
import { bothAdapters } from './adapters';

const NOW = 1_767_225_600;

interface Stores {
  readonly experiments: ExperimentStore;
  readonly allocations: AllocationStore;
}

function experiment(id: string): Experiment {
  const body = {
    variants: [
      { id: 'a', text: 'A' },
      { id: 'b', text: 'B' },
    ],
  };
  return defineExperiment('t', id, body, null, NOW);
}

function snapshot(experimentVersion: number, shareOfA: number): AllocationSnapshot {
  return {
    experimentVersion,
    computedAt: NOW + 5,
    phase: 'learning',
    shares: { a: shareOfA, b: 1 - shareOfA },
    posteriors: { a: [3.5, 20.25], b: [1, 30] },
  };
}

function settled(readAt: number): SettledCounts {
  const counts = [...emptyDelayHistogram().counts];
  counts[3] = 7;
  return {
    halfLifeHours: 24,
    windowStart: NOW - 3600,
    recentStart: NOW - 48 * 3600,
    recent: {
      readAt,
      evidence: { a: { sends: 10.5, rewards: 2, alpha: 2.5, beta: 9.25 } },
      totals: { a: { sends: 11, opens: 0, clicks: 2 } },
    },
    old: { readAt: readAt - 600, evidence: {}, totals: {} },
    delays: { counts },
  };
}

describe.each(
  bothAdapters<Stores>(
    () => {
      const experiments = new MemoryExperimentStore();
      return { experiments, allocations: new MemoryAllocationStore(experiments) };
    },
    ({ client, tableName }) => ({
      experiments: new DynamoDbExperimentStore(client, tableName),
      allocations: new DynamoDbAllocationStore(client, tableName, new ShardCounts(client, tableName)),
    }),
  ),
)('AllocationStore contract: %s', (_name, makeStores) => {
  let experiments: ExperimentStore;
  let allocations: AllocationStore;
  beforeEach(async () => {
    ({ experiments, allocations } = await makeStores());
  });

  describe('head', () => {
    it('of an experiment never saved: version 0, no snapshot, no lease', async () => {
      expect(await allocations.head('t', 'never')).toEqual({
        definitionVersion: 0,
        snapshot: null,
        leaseUntil: 0,
      });
    });

    it('follows every save of the definition, per experiment', async () => {
      const v1 = experiment('spring');
      await experiments.save(v1);
      await experiments.save(experiment('autumn'));
      expect(await allocations.head('t', 'spring')).toMatchObject({ definitionVersion: 1 });

      await experiments.save(changeStatus(v1, { status: 'paused' }, NOW + 60));

      expect(await allocations.head('t', 'spring')).toMatchObject({ definitionVersion: 2 });
      expect(await allocations.head('t', 'autumn')).toMatchObject({ definitionVersion: 1 });
      expect(await allocations.head('other', 'spring')).toMatchObject({ definitionVersion: 0 });
    });

    it('a save keeps the published snapshot and the lease', async () => {
      const v1 = experiment('spring');
      await experiments.save(v1);
      const epoch = await allocations.acquireLease('t', 'spring', NOW, NOW + 30);
      await allocations.publish('t', 'spring', epoch ?? -1, snapshot(1, 0.5), null);
      await allocations.acquireLease('t', 'spring', NOW + 1, NOW + 31);

      await experiments.save(changeStatus(v1, { status: 'paused' }, NOW + 2));

      expect(await allocations.head('t', 'spring')).toEqual({
        definitionVersion: 2,
        snapshot: snapshot(1, 0.5),
        leaseUntil: NOW + 31,
      });
    });
  });

  describe('acquireLease', () => {
    it('one holder at a time: refused while held, taken again from its end on, with a new epoch', async () => {
      await experiments.save(experiment('spring'));

      expect(await allocations.acquireLease('t', 'spring', NOW, NOW + 30)).toBe(1);
      expect(await allocations.head('t', 'spring')).toMatchObject({ leaseUntil: NOW + 30 });
      expect(await allocations.acquireLease('t', 'spring', NOW + 29, NOW + 59)).toBeNull();
      expect(await allocations.acquireLease('t', 'spring', NOW + 30, NOW + 60)).toBe(2);
      expect(await allocations.acquireLease('t', 'spring', NOW + 100, NOW + 130)).toBe(3);
      expect(await allocations.head('t', 'spring')).toMatchObject({
        definitionVersion: 1,
        leaseUntil: NOW + 130,
      });
    });

    it('concurrent takers: exactly one gets the lease', async () => {
      await experiments.save(experiment('spring'));

      const epochs = await Promise.all(
        Array.from({ length: 6 }, () => allocations.acquireLease('t', 'spring', NOW, NOW + 30)),
      );

      expect(epochs.filter((e) => e !== null)).toEqual([1]);
    });

    it('published holds until next due; an edit takes over once per new version; no snapshot, no takeover', async () => {
      await experiments.save(experiment('spring'));
      // No snapshot yet: a version does not let anyone past a held lease.
      expect(await allocations.acquireLease('t', 'spring', NOW, NOW + 30, { experimentVersion: 1 })).toBe(1);
      expect(
        await allocations.acquireLease('t', 'spring', NOW, NOW + 30, { experimentVersion: 1 }),
      ).toBeNull();
      expect(
        await allocations.publish('t', 'spring', 1, { ...snapshot(1, 0.5), nextDueAt: NOW + 60 }, null),
      ).toBe(true);
      expect(await allocations.head('t', 'spring')).toMatchObject({ leaseUntil: NOW + 60 });
      expect(
        await allocations.acquireLease('t', 'spring', NOW + 5, NOW + 35, { experimentVersion: 1 }),
      ).toBeNull();
      // Version 2 (an edit): one container takes over at once, the next one for version 2 is refused.
      expect(await allocations.acquireLease('t', 'spring', NOW + 5, NOW + 35, { experimentVersion: 2 })).toBe(
        2,
      );
      expect(
        await allocations.acquireLease('t', 'spring', NOW + 6, NOW + 36, { experimentVersion: 2 }),
      ).toBeNull();
    });

    it('leases are per experiment and tenant, and work before the experiment is saved', async () => {
      expect(await allocations.acquireLease('t', 'spring', NOW, NOW + 30)).toBe(1);
      expect(await allocations.acquireLease('t', 'autumn', NOW, NOW + 30)).toBe(1);
      expect(await allocations.acquireLease('other', 'spring', NOW, NOW + 30)).toBe(1);
      expect(await allocations.head('t', 'spring')).toEqual({
        definitionVersion: 0,
        snapshot: null,
        leaseUntil: NOW + 30,
      });
    });
  });

  describe('publish', () => {
    it('the current holder publishes: the head serves the snapshot and the lease is free at once', async () => {
      await experiments.save(experiment('spring'));
      const epoch = await allocations.acquireLease('t', 'spring', NOW, NOW + 30);

      expect(await allocations.publish('t', 'spring', epoch ?? -1, snapshot(1, 0.7), null)).toBe(true);

      expect(await allocations.head('t', 'spring')).toEqual({
        definitionVersion: 1,
        snapshot: snapshot(1, 0.7),
        leaseUntil: 0,
      });
      expect(await allocations.acquireLease('t', 'spring', NOW + 1, NOW + 31)).toBe(2);
    });

    it('a holder whose lease was taken over cannot publish, with or without settled sums', async () => {
      await experiments.save(experiment('spring'));
      const stale = await allocations.acquireLease('t', 'spring', NOW, NOW + 30);
      const current = await allocations.acquireLease('t', 'spring', NOW + 40, NOW + 70);
      expect(await allocations.publish('t', 'spring', current ?? -1, snapshot(1, 0.6), settled(NOW))).toBe(
        true,
      );

      expect(await allocations.publish('t', 'spring', stale ?? -1, snapshot(1, 0.1), null)).toBe(false);
      expect(await allocations.publish('t', 'spring', stale ?? -1, snapshot(1, 0.2), settled(NOW + 99))).toBe(
        false,
      );

      expect(await allocations.head('t', 'spring')).toMatchObject({ snapshot: snapshot(1, 0.6) });
      expect(await allocations.settled('t', 'spring')).toEqual(settled(NOW));
    });

    it('nobody publishes without having taken a lease', async () => {
      await experiments.save(experiment('spring'));

      expect(await allocations.publish('t', 'spring', 0, snapshot(1, 0.5), null)).toBe(false);
      expect(await allocations.publish('t', 'spring', 1, snapshot(1, 0.5), settled(NOW))).toBe(false);

      expect(await allocations.head('t', 'spring')).toEqual({
        definitionVersion: 1,
        snapshot: null,
        leaseUntil: 0,
      });
      expect(await allocations.settled('t', 'spring')).toBeNull();
    });
  });

  describe('settled', () => {
    it('is null until published, then what was published; a publish without sums keeps the last ones', async () => {
      await experiments.save(experiment('spring'));
      expect(await allocations.settled('t', 'spring')).toBeNull();

      const first = await allocations.acquireLease('t', 'spring', NOW, NOW + 30);
      await allocations.publish('t', 'spring', first ?? -1, snapshot(1, 0.5), settled(NOW));
      expect(await allocations.settled('t', 'spring')).toEqual(settled(NOW));

      const second = await allocations.acquireLease('t', 'spring', NOW + 5, NOW + 35);
      await allocations.publish('t', 'spring', second ?? -1, snapshot(1, 0.4), null);
      expect(await allocations.settled('t', 'spring')).toEqual(settled(NOW));

      const third = await allocations.acquireLease('t', 'spring', NOW + 10, NOW + 40);
      await allocations.publish('t', 'spring', third ?? -1, snapshot(1, 0.3), settled(NOW + 10));
      expect(await allocations.settled('t', 'spring')).toEqual(settled(NOW + 10));
      expect(await allocations.settled('t', 'autumn')).toBeNull();
    });
  });
});
