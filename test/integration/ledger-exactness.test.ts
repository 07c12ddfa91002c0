// Counting is exact on DynamoDB Local: concurrency, duplicates, and failures injected around every store call.

import {
  type DynamoDBClient,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbLedger } from '../../adapters/dynamodb/dynamodb-ledger';
import { ShardCounts } from '../../adapters/dynamodb/shard-counts';
import { zeroCounts } from '../../domain/counting';
import { StoreUnavailableError } from '../../domain/errors';
import type { NewAssignment } from '../../domain/ports/assignment-ledger';
import { reconcileTable } from '../../handlers/shared/stage';
import { localDynamoDbClient } from '../../local/dynamodb-local';
import { freshTable } from '../support/dynamodb';

// Real time: DynamoDB Local enforces TTL, so assignments must not be born expired.
const NOW = Math.floor(Date.now() / 1000);

function assignment(recipient: string, variantId = 'a'): NewAssignment {
  return {
    tenantId: 't',
    experimentId: 'e',
    recipientKey: recipient.padEnd(43, 'x').slice(0, 43),
    variantId,
    sentAt: NOW,
    campaignId: 'cmp',
    dispatchId: null,
    expiresAt: NOW + 86_400,
  };
}

/** Reconcile's recount from the stored assignments, against the counters. */
async function drift(client: DynamoDBClient, tableName: string) {
  const result = await reconcileTable(client, tableName);
  const sum = (pick: 'counted' | 'recounted') =>
    result.experiments
      .flatMap((e) => e.variants)
      .reduce(
        (total, v) => ({
          sends: total.sends + v[pick].sends,
          opens: total.opens + v[pick].opens,
          clicks: total.clicks + v[pick].clicks,
        }),
        { sends: 0, opens: 0, clicks: 0 },
      );
  return { recount: sum('recounted'), counters: sum('counted'), drift: result.drift };
}

describe('DynamoDbLedger exactness', () => {
  let table: Awaited<ReturnType<typeof freshTable>>;
  beforeAll(async () => {
    table = await freshTable();
  });

  it('40 concurrent first assignments of one recipient record one send and agree on the variant', async () => {
    const { client, tableName } = await freshTable();
    const ledger = new DynamoDbLedger(client, tableName);
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => ledger.assign(assignment('same', ['a', 'b', 'c'][i % 3]))),
    );
    const created = outcomes.filter((o) => o.created);
    expect(created).toHaveLength(1);
    const variants = new Set(outcomes.map((o) => (o.created ? null : o.existing.variantId)).filter(Boolean));
    expect(variants.size).toBe(1);
    const { recount, counters } = await drift(client, tableName);
    expect(counters).toEqual(recount);
    expect(counters.sends).toBe(1);
  });

  it('rewards count once per recipient and kind, under repeats and concurrency, only for the send they name', async () => {
    const { client, tableName } = await freshTable();
    const ledger = new DynamoDbLedger(client, tableName);
    await ledger.assign(assignment('r1', 'b'));
    const reward = {
      tenantId: 't',
      experimentId: 'e',
      recipientKey: assignment('r1').recipientKey,
      variantId: 'b',
      sentAt: NOW,
      source: 'currents',
      visibleAt: NOW + 60,
      delayBucket: 3,
    } as const;
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => ledger.reward({ ...reward, kind: 'click', at: NOW + 60 })),
    );
    expect(outcomes.filter((o) => o === 'counted')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(19);
    expect(await ledger.reward({ ...reward, kind: 'open', at: NOW + 30 })).toBe('counted');
    expect(await ledger.reward({ ...reward, variantId: 'a', kind: 'open', at: NOW })).toBe('no_assignment');
    expect(await ledger.reward({ ...reward, sentAt: NOW + 1, kind: 'click', at: NOW })).toBe('no_assignment');
    expect(await ledger.reward({ ...reward, recipientKey: 'n'.repeat(43), kind: 'click', at: NOW })).toBe(
      'no_assignment',
    );
    const { recount, counters } = await drift(client, tableName);
    expect(counters).toEqual(recount);
    expect(counters).toEqual({ sends: 1, opens: 1, clicks: 1 });
  });

  it('stays exact when store calls fail before or after they take effect, and callers retry', async () => {
    const real = table.client;
    const flaky = localDynamoDbClient(table.endpoint);
    const mock = mockClient(flaky);
    let call = 0;
    mock.on(TransactWriteItemsCommand).callsFake(async (input: TransactWriteItemsCommandInput) => {
      call++;
      if (call % 3 === 1) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      const result = await real.send(new TransactWriteItemsCommand(input));
      if (call % 3 === 2) throw Object.assign(new Error('response lost'), { name: 'TimeoutError' });
      return result;
    });
    // Only transactions are flaky here; the shard count comes from the real store.
    const ledger = new DynamoDbLedger(flaky, table.tableName, new ShardCounts(real, table.tableName));
    const truthLedger = new DynamoDbLedger(real, table.tableName);
    const recipients = Array.from({ length: 30 }, (_, i) => `crash${i}`);
    const served = new Map<string, string>();
    for (const recipient of recipients) {
      for (let attempt = 0; ; attempt++) {
        try {
          const outcome = await ledger.assign(assignment(recipient, ['a', 'b'][attempt % 2]));
          served.set(recipient, outcome.created ? ['a', 'b'][attempt % 2]! : outcome.existing.variantId);
          break;
        } catch (error) {
          expect(error).toBeInstanceOf(StoreUnavailableError);
          expect(attempt).toBeLessThan(5);
        }
      }
    }
    for (const recipient of recipients) {
      const key = assignment(recipient).recipientKey;
      const stored = await truthLedger.find({ tenantId: 't', experimentId: 'e', recipientKey: key });
      expect(stored?.variantId).toBe(served.get(recipient));
      for (;;) {
        try {
          await ledger.reward({
            tenantId: 't',
            experimentId: 'e',
            recipientKey: key,
            variantId: stored!.variantId,
            sentAt: NOW,
            kind: 'click',
            source: 'currents',
            visibleAt: NOW + 60,
            at: NOW + 5,
            delayBucket: 0,
          });
          break;
        } catch (error) {
          expect(error).toBeInstanceOf(StoreUnavailableError);
        }
      }
    }
    expect(call).toBeGreaterThan(60);
    const { recount, counters } = await drift(real, table.tableName);
    expect(counters).toEqual(recount);
    expect(counters).toEqual({ sends: 30, opens: 0, clicks: 30 });
    mock.restore();
  });

  it('reconcile finds drift someone introduced by hand, fixes it, and then reports zero', async () => {
    const { client, tableName } = await freshTable();
    const ledger = new DynamoDbLedger(client, tableName);
    for (const r of ['x1', 'x2', 'x3']) await ledger.assign(assignment(r, 'a'));
    await ledger.adjustCounters('t', 'e', NOW - (NOW % 600), 'a', { sends: 2, opens: 1, clicks: -1 });

    const before = await reconcileTable(client, tableName, { fix: true, since: 0 });
    expect(before.drift).toBe(4);
    expect(before.experiments[0]).toMatchObject({ tenant: 't', experiment: 'e', fixed: true });
    const after = await reconcileTable(client, tableName);
    expect(after.drift).toBe(0);
    // Three sends, each made at the same second of the bucket.
    const second = (NOW % 600) + 1;
    expect(after.experiments[0]!.variants[0]!.counted).toEqual({
      ...zeroCounts(),
      sends: 3,
      sendSeconds: 3 * second,
      sendSecondsSquared: 3 * second * second,
    });
  });

  it('a late content write and the token reward that records its send race: each send and open counted once', async () => {
    const { client, tableName } = await freshTable();
    const ledger = new DynamoDbLedger(client, tableName);
    const recipients = Array.from({ length: 40 }, (_, i) => `race${i}`);
    await Promise.all(
      recipients.flatMap((recipient) => {
        const a = assignment(recipient, 'b');
        const reward = {
          tenantId: a.tenantId,
          experimentId: a.experimentId,
          recipientKey: a.recipientKey,
          variantId: 'b',
          sentAt: a.sentAt,
          kind: 'open' as const,
          source: 'pixel' as const,
          at: NOW + 5,
          visibleAt: NOW + 5,
          delayBucket: 0,
          expiresAt: a.expiresAt,
        };
        return [ledger.assign(a), ledger.reward(reward), ledger.reward(reward)];
      }),
    );
    const { recount, counters } = await drift(client, tableName);
    expect(recount).toEqual({ sends: 40, opens: 40, clicks: 0 });
    expect(counters).toEqual(recount);
  });
});
