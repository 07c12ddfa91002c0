// Assignments and their sharded counters. Every write that changes a count is one TransactWriteItems: the
// assignment's condition and the counter's ADD succeed or fail together, so counts stay exact through
// retries, duplicates and crashes between calls.
import {
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  type ScanCommandOutput,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { BoundedMap } from '../../domain/cache';
import {
  addCounts,
  type Counts,
  type RewardState,
  rewardIncrements,
  sendIncrements,
  stateReadBy,
  zeroCounts,
} from '../../domain/counting';
import { type DelayHistogram, emptyDelayHistogram } from '../../domain/delay';
import type {
  Assignment,
  AssignmentKey,
  AssignmentLedger,
  AssignOutcome,
  CallOptions,
  NewAssignment,
  Reward,
  RewardKind,
  RewardOutcome,
} from '../../domain/ports/assignment-ledger';
import type { CounterReader, CounterReadOptions, SendBucketCount } from '../../domain/ports/counter-reader';
import type { DelayReader } from '../../domain/ports/delay-reader';
import type { CounterDelta, LedgerMaintenance } from '../../domain/ports/ledger-maintenance';
import { sendBucketOf } from '../../domain/time';
import {
  newAssignmentPut,
  REWARD_ATTRIBUTE,
  rewardAttributes,
  stateOf,
  toAssignment,
} from './assignment-items';
import { type Item, key, n, num, s, str } from './attributes';
import { counterAdd, countsOf } from './counter-items';
import { storeFailure } from './errors';
import { DELAY_SHARDS, keys } from './keys';
import { ShardCounts } from './shard-counts';

const BATCH_GET_LIMIT = 100;
/** Transactions touching a busy counter can be cancelled by a concurrent one; they are retried this often. */
const CONFLICT_RETRIES = 5;

export class DynamoDbLedger implements AssignmentLedger, CounterReader, DelayReader, LedgerMaintenance {
  /** Campaign links this container already wrote: written once, not with every send (bounded: ~200 B each). */
  private readonly knownCampaigns = new BoundedMap<true>(10_000);
  private readonly pickDelayShard = () => Math.floor(Math.random() * DELAY_SHARDS);

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly shards: ShardCounts = new ShardCounts(client, tableName),
  ) {}

  /** Random shards spread a burst's writes; readers sum every shard, so the choice never affects a count. */
  private async counterUpdate(
    k: AssignmentKey,
    sentAt: number,
    variantId: string,
    increments: Partial<Counts>,
    signal?: AbortSignal,
  ): Promise<TransactWriteItem> {
    const shard = Math.floor(Math.random() * (await this.shards.of(k.tenantId, k.experimentId, signal)));
    return {
      Update: {
        TableName: this.tableName,
        Key: key(keys.counter(k.tenantId, k.experimentId, shard, sendBucketOf(sentAt), variantId)),
        ...counterAdd(increments),
      },
    };
  }

  /** The delay-model write of a reward that teaches it (none for machine opens). */
  private delayUpdates(r: Reward): TransactWriteItem[] {
    if (r.delayBucket === null) return [];
    return [
      {
        Update: {
          TableName: this.tableName,
          Key: key(keys.delay(r.tenantId, r.kind, this.pickDelayShard(), r.delayBucket)),
          UpdateExpression: 'ADD #n :one',
          ExpressionAttributeNames: { '#n': 'n' },
          ExpressionAttributeValues: { ':one': n(1) },
        },
      },
    ];
  }

  async assign(a: NewAssignment, options: CallOptions = {}): Promise<AssignOutcome> {
    const campaignLink = a.campaignId ? `${a.tenantId}#${a.campaignId}#${a.experimentId}` : null;
    const items: TransactWriteItem[] = [
      {
        Put: newAssignmentPut(this.tableName, a, {
          ...(a.campaignId ? { campaign: s(a.campaignId) } : {}),
          ...(a.dispatchId ? { dispatch: s(a.dispatchId) } : {}),
        }),
      },
      await this.counterUpdate(a, a.sentAt, a.variantId, sendIncrements(a.sentAt), options.signal),
    ];
    if (a.campaignId && campaignLink && !this.knownCampaigns.get(campaignLink)) {
      items.push({
        Put: {
          TableName: this.tableName,
          Item: {
            ...key(keys.campaign(a.tenantId, a.campaignId, a.experimentId)),
            experiment: s(a.experimentId),
          },
        },
      });
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }), {
          abortSignal: options.signal,
        });
        if (campaignLink) this.knownCampaigns.set(campaignLink, true);
        return { created: true };
      } catch (error) {
        const reasons =
          error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
        if (reasons[0]?.Code === 'ConditionalCheckFailed') {
          const existing = toAssignment(a, reasons[0].Item);
          if (existing) return { created: false, existing };
        }
        const contended =
          reasons.some((x) => x.Code === 'TransactionConflict') ||
          reasons[0]?.Code === 'ConditionalCheckFailed';
        if (!contended || attempt >= CONFLICT_RETRIES || options.signal?.aborted)
          throw storeFailure('assign', error);
        await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
      }
    }
  }

  async find(k: AssignmentKey, options: CallOptions = {}): Promise<Assignment | null> {
    try {
      const result = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: key(keys.assignment(k.tenantId, k.experimentId, k.recipientKey)),
          ConsistentRead: true,
        }),
        { abortSignal: options.signal },
      );
      return toAssignment(k, result.Item);
    } catch (error) {
      throw storeFailure('assignment read', error);
    }
  }

  async findMany(wanted: readonly AssignmentKey[]): Promise<Assignment[]> {
    const found: Assignment[] = [];
    const unique = [
      ...new Map(
        wanted.map((k) => [keys.assignment(k.tenantId, k.experimentId, k.recipientKey).pk, k]),
      ).values(),
    ];
    for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
      let request: Record<string, { Keys: Item[]; ConsistentRead: boolean }> | undefined = {
        [this.tableName]: {
          Keys: unique
            .slice(start, start + BATCH_GET_LIMIT)
            .map((k) => key(keys.assignment(k.tenantId, k.experimentId, k.recipientKey))),
          ConsistentRead: true,
        },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 8)
          throw storeFailure('assignment batch read', new Error('unprocessed keys after 8 retries'));
        if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
        try {
          const result: BatchGetItemCommandOutput = await this.client.send(
            new BatchGetItemCommand({ RequestItems: request }),
          );
          for (const item of result.Responses?.[this.tableName] ?? []) {
            const parsed = keys.parseAssignmentPk(str(item, 'pk') ?? '');
            const assignment = parsed ? toAssignment(parsed, item) : null;
            if (assignment) found.push(assignment);
          }
          const unprocessed = result.UnprocessedKeys?.[this.tableName];
          request = unprocessed?.Keys?.length
            ? { [this.tableName]: { Keys: unprocessed.Keys, ConsistentRead: true } }
            : undefined;
        } catch (error) {
          throw storeFailure('assignment batch read', error);
        }
      }
    }
    return found;
  }

  async reward(r: Reward): Promise<RewardOutcome> {
    const attribute = REWARD_ATTRIBUTE[r.kind];
    const dependsOn = stateReadBy(r.kind);
    // What the reward adds depends on the other open kind being there: guess not, learn otherwise from the item.
    let state: RewardState = { opened: false, machineOpened: false };
    let recordSend = false;
    for (let attempt = 1; ; attempt++) {
      const send = recordSend && r.expiresAt !== undefined;
      const items = send ? await this.sendWithReward(r) : await this.rewardOnAssignment(r, state);
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return send ? 'counted_with_send' : 'counted';
      } catch (error) {
        const reasons =
          error instanceof TransactionCanceledException ? (error.CancellationReasons ?? []) : [];
        const reason = reasons[0];
        if (reason?.Code === 'ConditionalCheckFailed') {
          const existing = toAssignment(r, reason.Item);
          if (!existing) {
            // No assignment: the content write never landed. A verified token still names the send it showed.
            if (r.expiresAt === undefined) return 'no_assignment';
            recordSend = true;
            continue;
          }
          recordSend = false;
          const sameSend = existing.variantId === r.variantId && existing.sentAt === r.sentAt;
          if (!sameSend) return 'no_assignment';
          if (num(reason.Item, attribute) !== null) return 'duplicate';
          const stored = stateOf(existing);
          if (dependsOn && stored[dependsOn] !== state[dependsOn]) {
            state = stored;
            continue;
          }
          // The stored item passes the condition now: it failed against a write in flight. Try again.
        } else if (!reasons.some((x) => x.Code === 'TransactionConflict')) {
          throw storeFailure('reward', error);
        }
        if (attempt >= CONFLICT_RETRIES) throw storeFailure('reward (contended)', error);
        await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
      }
    }
  }

  /**
   * The first reward of its kind on an existing assignment of this very send, with the counters it adds given
   * `state`; the condition checks that state too, so a reward never adds what another one already changed.
   */
  private async rewardOnAssignment(r: Reward, state: RewardState): Promise<TransactWriteItem[]> {
    const dependsOn = stateReadBy(r.kind);
    const names: Record<string, string> = { '#at': REWARD_ATTRIBUTE[r.kind] };
    const stored = rewardAttributes(r);
    let condition =
      'attribute_exists(pk) AND variant = :variant AND sent_at = :sent AND attribute_not_exists(#at)';
    if (dependsOn) {
      names['#dep'] = REWARD_ATTRIBUTE[dependsOn === 'opened' ? 'open' : 'machine_open'];
      condition += state[dependsOn] ? ' AND attribute_exists(#dep)' : ' AND attribute_not_exists(#dep)';
    }
    return [
      {
        Update: {
          TableName: this.tableName,
          Key: key(keys.assignment(r.tenantId, r.experimentId, r.recipientKey)),
          UpdateExpression: `SET ${Object.keys(stored)
            .map((_, i) => `#r${i} = :r${i}`)
            .join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            ...names,
            ...Object.fromEntries(Object.keys(stored).map((name, i) => [`#r${i}`, name])),
          },
          ExpressionAttributeValues: {
            ':variant': s(r.variantId),
            ':sent': n(r.sentAt),
            ...Object.fromEntries(Object.values(stored).map((value, i) => [`:r${i}`, value])),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
      await this.counterUpdate(r, r.sentAt, r.variantId, rewardIncrements(r.kind, r.source, state)),
      ...this.delayUpdates(r),
    ];
  }

  /** The send and its first reward in one transaction, for a send whose own write never landed. */
  private async sendWithReward(r: Reward): Promise<TransactWriteItem[]> {
    const nothingYet: RewardState = { opened: false, machineOpened: false };
    return [
      {
        Put: newAssignmentPut(
          this.tableName,
          { ...r, expiresAt: r.expiresAt ?? r.sentAt },
          rewardAttributes(r),
        ),
      },
      await this.counterUpdate(
        r,
        r.sentAt,
        r.variantId,
        addCounts(
          addCounts(zeroCounts(), sendIncrements(r.sentAt)),
          rewardIncrements(r.kind, r.source, nothingYet),
        ),
      ),
      ...this.delayUpdates(r),
    ];
  }

  async histogram(tenantId: string, kind: RewardKind): Promise<DelayHistogram> {
    const counts = emptyDelayHistogram().counts.slice();
    try {
      await Promise.all(
        Array.from({ length: DELAY_SHARDS }, async (_, shard) => {
          const result = await this.client.send(
            new QueryCommand({
              TableName: this.tableName,
              KeyConditionExpression: 'pk = :pk',
              ExpressionAttributeValues: { ':pk': s(keys.delayPk(tenantId, kind, shard)) },
            }),
          );
          for (const item of result.Items ?? []) {
            const bucket = keys.parseDelaySk(str(item, 'sk') ?? '');
            if (bucket !== null && bucket < counts.length) counts[bucket]! += num(item, 'n') ?? 0;
          }
        }),
      );
    } catch (error) {
      throw storeFailure('delay histogram read', error);
    }
    return { counts };
  }

  async *scanAssignments(): AsyncIterable<Assignment[]> {
    let startKey: Item | undefined;
    do {
      let page: ScanCommandOutput;
      try {
        page = await this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: 'sk = :a',
            ExpressionAttributeValues: { ':a': s('A') },
            ExclusiveStartKey: startKey,
          }),
        );
      } catch (error) {
        throw storeFailure('assignment scan', error);
      }
      yield (page.Items ?? []).flatMap((item) => {
        const parsed = keys.parseAssignmentPk(str(item, 'pk') ?? '');
        const assignment = parsed ? toAssignment(parsed, item) : null;
        return assignment ? [assignment] : [];
      });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  async adjustCounters(
    tenantId: string,
    experimentId: string,
    bucketStart: number,
    variantId: string,
    delta: CounterDelta,
  ): Promise<void> {
    if (!Object.values(delta).some((value) => value !== 0)) return;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(keys.counter(tenantId, experimentId, 0, bucketStart, variantId)),
          ...counterAdd(delta),
        }),
      );
    } catch (error) {
      throw storeFailure('counter repair', error);
    }
  }

  async experimentsForCampaign(tenantId: string, campaignId: string): Promise<string[]> {
    try {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': s(keys.campaignPk(tenantId, campaignId)) },
        }),
      );
      return (result.Items ?? []).flatMap((item) => {
        const id = keys.parseExperimentSk(str(item, 'sk') ?? '');
        return id ? [id] : [];
      });
    } catch (error) {
      throw storeFailure('campaign lookup', error);
    }
  }

  async read(
    tenantId: string,
    experimentId: string,
    options: CounterReadOptions = {},
  ): Promise<SendBucketCount[]> {
    const totals = new Map<string, { bucketStart: number; variantId: string } & Counts>();
    const readShard = async (shard: number) => {
      let startKey: Item | undefined;
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            ...(options.since === undefined
              ? {
                  KeyConditionExpression: 'pk = :pk',
                  ExpressionAttributeValues: { ':pk': s(keys.counterPk(tenantId, experimentId, shard)) },
                }
              : {
                  KeyConditionExpression: 'pk = :pk AND sk >= :from',
                  ExpressionAttributeValues: {
                    ':pk': s(keys.counterPk(tenantId, experimentId, shard)),
                    ':from': s(keys.counterSkFrom(options.since)),
                  },
                }),
            ExclusiveStartKey: startKey,
          }),
          { abortSignal: options.signal },
        );
        for (const item of page.Items ?? []) {
          const parsed = keys.parseCounterSk(str(item, 'sk') ?? '');
          if (!parsed) continue;
          const id = `${parsed.bucketStart}#${parsed.variantId}`;
          const total = totals.get(id) ?? { ...parsed, ...zeroCounts() };
          addCounts(total, countsOf(item));
          totals.set(id, total);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    };
    try {
      const shards = await this.shards.of(tenantId, experimentId, options.signal);
      await Promise.all(Array.from({ length: shards }, (_, shard) => readShard(shard)));
    } catch (error) {
      throw storeFailure('counter read', error);
    }
    return [...totals.values()];
  }
}
