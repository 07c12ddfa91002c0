// AssignmentLedger, CounterReader, DelayReader and LedgerMaintenance: the same cases against MemoryLedger and
// DynamoDbLedger (DynamoDB Local). Counts are read back through the ports, never from the table.

import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbLedger } from '../../adapters/dynamodb/dynamodb-ledger';
import { MemoryLedger } from '../../adapters/memory/memory-stores';
import { delayBucket, emptyDelayHistogram } from '../../domain/delay';
import type {
  Assignment,
  AssignmentLedger,
  NewAssignment,
  Reward,
  RewardKind,
} from '../../domain/ports/assignment-ledger';
import type { CounterReader, SendBucketCount } from '../../domain/ports/counter-reader';
import type { DelayReader } from '../../domain/ports/delay-reader';
import type { LedgerMaintenance } from '../../domain/ports/ledger-maintenance';
import { SEND_BUCKET_SECONDS } from '../../domain/time';
import { counts } from '../support/counts';
import { bothAdapters, sortedBy } from './adapters';

type Ledger = AssignmentLedger & CounterReader & DelayReader & LedgerMaintenance;

/** A send bucket's start. */
const NOW = 1_767_225_600;
const BUCKET = SEND_BUCKET_SECONDS;
/** Far from now: DynamoDB Local applies the TTL, and NOW + 30 days may already be past on the test machine. */
const EXPIRES_AT = 4_102_444_800;

function newAssignment(recipientKey: string, variantId: string, overrides: Partial<NewAssignment> = {}) {
  return {
    tenantId: 't',
    experimentId: 'e',
    recipientKey,
    variantId,
    sentAt: NOW + 10,
    campaignId: 'camp-1',
    dispatchId: 'dispatch-1',
    expiresAt: EXPIRES_AT,
    ...overrides,
  } satisfies NewAssignment;
}

/** The reward of `a`'s own send, `delay` seconds later. */
function rewardOf(a: NewAssignment, kind: RewardKind, delay = 120, overrides: Partial<Reward> = {}): Reward {
  return {
    tenantId: a.tenantId,
    experimentId: a.experimentId,
    recipientKey: a.recipientKey,
    variantId: a.variantId,
    sentAt: a.sentAt,
    kind,
    source: kind === 'open' || kind === 'machine_open' ? 'pixel' : 'currents',
    at: a.sentAt + delay,
    visibleAt: a.sentAt + delay,
    delayBucket: kind === 'machine_open' ? null : delayBucket(delay),
    ...overrides,
  };
}

const keyOf = (a: Pick<NewAssignment, 'tenantId' | 'experimentId' | 'recipientKey'>) => ({
  tenantId: a.tenantId,
  experimentId: a.experimentId,
  recipientKey: a.recipientKey,
});

function assignmentOf(a: NewAssignment, rewarded: Partial<Assignment> = {}): Assignment {
  return {
    ...keyOf(a),
    variantId: a.variantId,
    sentAt: a.sentAt,
    campaignId: a.campaignId,
    openedAt: null,
    machineOpenedAt: null,
    clickedAt: null,
    clickSource: null,
    convertedAt: null,
    ...(rewarded.clickedAt != null ? { clickSource: 'currents' as const } : {}),
    ...rewarded,
  };
}

const byRecipient = (assignments: readonly Assignment[]) =>
  sortedBy(assignments, (a) => `${a.tenantId}/${a.experimentId}/${a.recipientKey}`);
const byBucket = (counts: readonly SendBucketCount[]) =>
  sortedBy(counts, (c) => `${c.bucketStart}/${c.variantId}`);

describe.each(
  bothAdapters<Ledger>(
    () => new MemoryLedger(),
    ({ client, tableName }) => new DynamoDbLedger(client, tableName),
  ),
)('AssignmentLedger and its readers, contract: %s', (_name, makeLedger) => {
  let ledger: Ledger;
  beforeEach(async () => {
    ledger = await makeLedger();
  });

  describe('assign', () => {
    it('creates the assignment once and counts one send; a later assign returns the existing one', async () => {
      const first = newAssignment('r1', 'a');

      expect(await ledger.assign(first)).toEqual({ created: true });
      expect(
        await ledger.assign(newAssignment('r1', 'b', { sentAt: NOW + 500, campaignId: 'camp-2' })),
      ).toEqual({ created: false, existing: assignmentOf(first) });
      expect(await ledger.read('t', 'e')).toEqual([
        { bucketStart: NOW, variantId: 'a', ...counts(1, 0, 0, 10) },
      ]);
    });

    it('returns the existing assignment with its rewards', async () => {
      const first = newAssignment('r1', 'a', { campaignId: null });
      await ledger.assign(first);
      await ledger.reward(rewardOf(first, 'click', 300));

      expect(await ledger.assign(newAssignment('r1', 'b'))).toEqual({
        created: false,
        existing: assignmentOf(first, { clickedAt: first.sentAt + 300 }),
      });
    });

    it('concurrent assigns of one recipient create one assignment, count one send, and agree on it', async () => {
      const variants = ['a', 'b', 'c', 'd', 'a', 'b', 'c', 'd'];

      const outcomes = await Promise.all(variants.map((v) => ledger.assign(newAssignment('busy', v))));

      const created = outcomes.filter((o) => o.created);
      expect(created).toHaveLength(1);
      const stored = await ledger.find(keyOf(newAssignment('busy', 'a')));
      for (const outcome of outcomes) {
        if (!outcome.created) expect(outcome.existing).toEqual(stored);
      }
      expect(await ledger.read('t', 'e')).toEqual([
        { bucketStart: NOW, variantId: stored?.variantId, ...counts(1, 0, 0, 10) },
      ]);
    });
  });

  describe('find and findMany', () => {
    it('find returns the assignment of exactly that tenant, experiment and recipient', async () => {
      const a = newAssignment('r1', 'a');
      await ledger.assign(a);

      expect(await ledger.find(keyOf(a))).toEqual(assignmentOf(a));
      expect(await ledger.find({ ...keyOf(a), recipientKey: 'r2' })).toBeNull();
      expect(await ledger.find({ ...keyOf(a), experimentId: 'other' })).toBeNull();
      expect(await ledger.find({ ...keyOf(a), tenantId: 'other' })).toBeNull();
    });

    it('findMany returns the stored ones among the keys, each once, across experiments', async () => {
      const r1 = newAssignment('r1', 'a');
      const r2 = newAssignment('r2', 'b', { experimentId: 'e2', campaignId: null });
      await ledger.assign(r1);
      await ledger.assign(r2);

      const found = await ledger.findMany([
        keyOf(r1),
        keyOf(r2),
        keyOf(r1),
        { ...keyOf(r1), recipientKey: 'nobody' },
      ]);

      expect(byRecipient(found)).toEqual([assignmentOf(r1), assignmentOf(r2)]);
      expect(await ledger.findMany([])).toEqual([]);
    });

    it('findMany reads more keys than one batch holds', async () => {
      const all = Array.from({ length: 130 }, (_, i) =>
        newAssignment(`bulk-${String(i).padStart(3, '0')}`, 'a'),
      );
      for (const a of all.slice(0, 120)) await ledger.assign(a);

      const found = await ledger.findMany(all.map(keyOf));

      expect(byRecipient(found)).toEqual(all.slice(0, 120).map((a) => assignmentOf(a)));
    });
  });

  describe('reward', () => {
    it('counts the first reward of each kind in the send’s bucket; every later one is a duplicate', async () => {
      const a = newAssignment('r1', 'a');
      await ledger.assign(a);

      expect(await ledger.reward(rewardOf(a, 'open', 60))).toBe('counted');
      expect(await ledger.reward(rewardOf(a, 'open', 900))).toBe('duplicate');
      expect(await ledger.reward(rewardOf(a, 'click', 4 * 3600))).toBe('counted');
      expect(await ledger.reward(rewardOf(a, 'click', 5 * 3600))).toBe('duplicate');

      expect(await ledger.find(keyOf(a))).toEqual(
        assignmentOf(a, { openedAt: a.sentAt + 60, clickedAt: a.sentAt + 4 * 3600 }),
      );
      expect(await ledger.read('t', 'e')).toEqual([
        { bucketStart: NOW, variantId: 'a', ...counts(1, 1, 1, 10) },
      ]);
    });

    it('machine opens count apart, never as opens, and a later human open takes the recipient out of machine-only', async () => {
      const a = newAssignment('r1', 'a');
      const b = newAssignment('r2', 'a');
      await ledger.assign(a);
      await ledger.assign(b);

      expect(await ledger.reward(rewardOf(a, 'machine_open', 5))).toBe('counted');
      expect(await ledger.reward(rewardOf(a, 'machine_open', 6))).toBe('duplicate');
      expect(await ledger.reward(rewardOf(b, 'open', 60))).toBe('counted');
      expect(await ledger.reward(rewardOf(b, 'machine_open', 70))).toBe('counted');
      expect((await ledger.read('t', 'e'))[0]).toMatchObject({
        sends: 2,
        opens: 1,
        machineOpens: 2,
        machineOnly: 1,
      });

      expect(await ledger.reward(rewardOf(a, 'open', 3600))).toBe('counted');
      expect((await ledger.read('t', 'e'))[0]).toMatchObject({
        sends: 2,
        opens: 2,
        machineOpens: 2,
        machineOnly: 0,
      });
      // Machine opens never teach the delay model: only the two human opens are in it.
      const histogram = await ledger.histogram('t', 'open');
      expect(histogram.counts.reduce((sum, n) => sum + n, 0)).toBe(2);
      expect(await ledger.find(keyOf(a))).toEqual(
        assignmentOf(a, { openedAt: a.sentAt + 3600, machineOpenedAt: a.sentAt + 5 }),
      );
    });

    it('a click counts once whether the beacon or Currents saw it first; conversions count apart', async () => {
      const a = newAssignment('r1', 'a');
      const b = newAssignment('r2', 'a');
      await ledger.assign(a);
      await ledger.assign(b);

      expect(await ledger.reward(rewardOf(a, 'click', 60, { source: 'beacon' }))).toBe('counted');
      expect(await ledger.reward(rewardOf(a, 'click', 900))).toBe('duplicate');
      expect(await ledger.reward(rewardOf(b, 'click', 90))).toBe('counted');
      expect(await ledger.reward(rewardOf(b, 'click', 95, { source: 'beacon' }))).toBe('duplicate');
      expect(await ledger.reward(rewardOf(a, 'conversion', 600, { source: 'beacon' }))).toBe('counted');
      expect(await ledger.reward(rewardOf(a, 'conversion', 700, { source: 'beacon' }))).toBe('duplicate');

      expect((await ledger.read('t', 'e'))[0]).toMatchObject({
        sends: 2,
        clicks: 2,
        beaconClicks: 1,
        conversions: 1,
      });
      expect(await ledger.find(keyOf(a))).toMatchObject({
        clickSource: 'beacon',
        convertedAt: a.sentAt + 600,
      });
      expect(await ledger.find(keyOf(b))).toMatchObject({ clickSource: 'currents' });
    });

    it('no_assignment when nothing was sent and the reward has no send to record; nothing is stored', async () => {
      const never = newAssignment('never', 'a');

      expect(await ledger.reward(rewardOf(never, 'click'))).toBe('no_assignment');

      expect(await ledger.find(keyOf(never))).toBeNull();
      expect(await ledger.read('t', 'e')).toEqual([]);
      expect(await ledger.histogram('t', 'click')).toEqual(emptyDelayHistogram());
    });

    it('a reward with expiresAt records the missing send with it (counted_with_send), once', async () => {
      const lost = newAssignment('lost', 'b');
      const reward = rewardOf(lost, 'open', 600, { expiresAt: lost.expiresAt });

      expect(await ledger.reward(reward)).toBe('counted_with_send');
      expect(await ledger.reward(reward)).toBe('duplicate');
      expect(await ledger.reward(rewardOf(lost, 'click', 700, { expiresAt: lost.expiresAt }))).toBe(
        'counted',
      );

      expect(await ledger.find(keyOf(lost))).toEqual(
        assignmentOf(lost, { campaignId: null, openedAt: lost.sentAt + 600, clickedAt: lost.sentAt + 700 }),
      );
      expect(await ledger.read('t', 'e')).toEqual([
        { bucketStart: NOW, variantId: 'b', ...counts(1, 1, 1, 10) },
      ]);
      expect(await ledger.assign(newAssignment('lost', 'a'))).toMatchObject({
        created: false,
        existing: { variantId: 'b' },
      });
    });

    it('rewards only the send they name: another variant or send time is no_assignment, even with expiresAt', async () => {
      const a = newAssignment('r1', 'a');
      await ledger.assign(a);

      expect(await ledger.reward(rewardOf(a, 'click', 60, { variantId: 'b' }))).toBe('no_assignment');
      expect(await ledger.reward(rewardOf(a, 'click', 60, { sentAt: a.sentAt + 1 }))).toBe('no_assignment');
      expect(await ledger.reward(rewardOf(a, 'click', 60, { variantId: 'b', expiresAt: a.expiresAt }))).toBe(
        'no_assignment',
      );
      expect(
        await ledger.reward(rewardOf(a, 'open', 60, { sentAt: a.sentAt - BUCKET, expiresAt: a.expiresAt })),
      ).toBe('no_assignment');

      expect(await ledger.find(keyOf(a))).toEqual(assignmentOf(a));
      expect(byBucket(await ledger.read('t', 'e'))).toEqual([
        { bucketStart: NOW, variantId: 'a', ...counts(1, 0, 0, 10) },
      ]);
      expect(await ledger.reward(rewardOf(a, 'click', 60))).toBe('counted');
    });
  });

  describe('counters', () => {
    async function sendAcrossBuckets() {
      const sends = [
        newAssignment('r1', 'a', { sentAt: NOW - BUCKET + 5 }),
        newAssignment('r2', 'a', { sentAt: NOW + 1 }),
        newAssignment('r3', 'b', { sentAt: NOW + BUCKET - 1 }),
        newAssignment('r4', 'a', { sentAt: NOW + 2 * BUCKET }),
        newAssignment('r5', 'a', { sentAt: NOW + 2 * BUCKET + 30 }),
        newAssignment('r6', 'a', { experimentId: 'other' }),
        newAssignment('r7', 'a', { tenantId: 'other' }),
      ];
      for (const a of sends) await ledger.assign(a);
      // Rewards land in their send's bucket, however late they come.
      await ledger.reward(rewardOf(sends[0]!, 'open', 3 * 3600));
      await ledger.reward(rewardOf(sends[3]!, 'click', 86_400));
    }

    it('read sums each send bucket and variant of the experiment', async () => {
      await sendAcrossBuckets();

      expect(byBucket(await ledger.read('t', 'e'))).toEqual([
        { bucketStart: NOW - BUCKET, variantId: 'a', ...counts(1, 1, 0, 5) },
        { bucketStart: NOW, variantId: 'a', ...counts(1, 0, 0, 1) },
        { bucketStart: NOW, variantId: 'b', ...counts(1, 0, 0, BUCKET - 1) },
        { bucketStart: NOW + 2 * BUCKET, variantId: 'a', ...counts(2, 0, 1, 0, 30) },
      ]);
      expect(await ledger.read('t', 'missing')).toEqual([]);
    });

    it('read with since keeps the buckets starting at or after it', async () => {
      await sendAcrossBuckets();

      expect(byBucket(await ledger.read('t', 'e', { since: NOW }))).toEqual([
        { bucketStart: NOW, variantId: 'a', ...counts(1, 0, 0, 1) },
        { bucketStart: NOW, variantId: 'b', ...counts(1, 0, 0, BUCKET - 1) },
        { bucketStart: NOW + 2 * BUCKET, variantId: 'a', ...counts(2, 0, 1, 0, 30) },
      ]);
      expect(byBucket(await ledger.read('t', 'e', { since: NOW + 1 }))).toEqual([
        { bucketStart: NOW + 2 * BUCKET, variantId: 'a', ...counts(2, 0, 1, 0, 30) },
      ]);
      expect(await ledger.read('t', 'e', { since: NOW + 3 * BUCKET })).toEqual([]);
    });

    it('adjustCounters adds a delta, negative parts included, to one bucket and variant', async () => {
      await ledger.assign(newAssignment('r1', 'a'));

      await ledger.adjustCounters('t', 'e', NOW, 'a', { sends: 2, opens: 1, clicks: -1 });
      await ledger.adjustCounters('t', 'e', NOW, 'a', { sends: -1, opens: 0, clicks: 0 });
      await ledger.adjustCounters('t', 'e', NOW + BUCKET, 'c', { sends: 4, opens: 0, clicks: 0 });

      expect(byBucket(await ledger.read('t', 'e'))).toEqual([
        { bucketStart: NOW, variantId: 'a', ...counts(2, 1, -1, 10) },
        { bucketStart: NOW + BUCKET, variantId: 'c', ...counts(4, 0, 0) },
      ]);
    });
  });

  describe('delay histogram', () => {
    it('counts the delay of first rewards per tenant and kind; duplicates and refusals add nothing', async () => {
      const a = newAssignment('r1', 'a');
      const b = newAssignment('r2', 'b');
      const lost = newAssignment('lost', 'a');
      await ledger.assign(a);
      await ledger.assign(b);
      await ledger.reward(rewardOf(a, 'click', 90));
      await ledger.reward(rewardOf(a, 'click', 5000)); // duplicate
      await ledger.reward(rewardOf(b, 'click', 7200));
      await ledger.reward(rewardOf(b, 'click', 90, { variantId: 'a' })); // another send: no_assignment
      await ledger.reward(rewardOf(lost, 'click', 90, { expiresAt: lost.expiresAt })); // counted_with_send
      await ledger.reward(rewardOf(a, 'open', 30));

      const clicks = [...emptyDelayHistogram().counts];
      clicks[delayBucket(90)]! += 2;
      clicks[delayBucket(7200)]! += 1;
      const opens = [...emptyDelayHistogram().counts];
      opens[delayBucket(30)]! += 1;
      expect(await ledger.histogram('t', 'click')).toEqual({ counts: clicks });
      expect(await ledger.histogram('t', 'open')).toEqual({ counts: opens });
      expect(await ledger.histogram('other', 'click')).toEqual(emptyDelayHistogram());
    });
  });

  describe('maintenance', () => {
    it('scanAssignments yields every assignment of every tenant, with its rewards', async () => {
      const a = newAssignment('r1', 'a');
      const b = newAssignment('r2', 'b', { tenantId: 'globex', campaignId: null });
      const lost = newAssignment('lost', 'a', { experimentId: 'e2' });
      await ledger.assign(a);
      await ledger.assign(b);
      await ledger.reward(rewardOf(a, 'click', 60));
      await ledger.reward(rewardOf(lost, 'open', 30, { expiresAt: lost.expiresAt }));

      const scanned: Assignment[] = [];
      for await (const page of ledger.scanAssignments()) scanned.push(...page);

      expect(byRecipient(scanned)).toEqual(
        byRecipient([
          assignmentOf(a, { clickedAt: a.sentAt + 60 }),
          assignmentOf(b),
          assignmentOf(lost, { campaignId: null, openedAt: lost.sentAt + 30 }),
        ]),
      );
    });

    it('scanAssignments of an empty ledger yields no assignment', async () => {
      const scanned: Assignment[] = [];
      for await (const page of ledger.scanAssignments()) scanned.push(...page);

      expect(scanned).toEqual([]);
    });
  });

  describe('experimentsForCampaign', () => {
    it('lists each experiment sent with the campaign once, inside the tenant', async () => {
      await ledger.assign(newAssignment('r1', 'a', { experimentId: 'spring' }));
      await ledger.assign(newAssignment('r2', 'a', { experimentId: 'spring' }));
      await ledger.assign(newAssignment('r1', 'a', { experimentId: 'autumn' }));
      await ledger.assign(newAssignment('r3', 'a', { experimentId: 'winter', campaignId: 'camp-2' }));
      await ledger.assign(newAssignment('r4', 'a', { experimentId: 'summer', campaignId: null }));
      await ledger.assign(newAssignment('r5', 'a', { experimentId: 'globex-only', tenantId: 'globex' }));
      // An assign that finds an existing assignment links nothing.
      await ledger.assign(newAssignment('r4', 'a', { experimentId: 'summer', campaignId: 'camp-1' }));

      expect((await ledger.experimentsForCampaign('t', 'camp-1')).sort()).toEqual(['autumn', 'spring']);
      expect(await ledger.experimentsForCampaign('t', 'camp-2')).toEqual(['winter']);
      expect(await ledger.experimentsForCampaign('globex', 'camp-1')).toEqual(['globex-only']);
      expect(await ledger.experimentsForCampaign('t', 'unknown')).toEqual([]);
    });
  });
});
