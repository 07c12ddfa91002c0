// The experiment's head item: definition version and counter shards (written with every experiment save), the
// published allocation snapshot and the recompute lease. Everyone reads it eventually consistently (half a read
// unit while it stays under 4 KB); only the lease holder writes it, guarded by the lease epoch.
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type {
  AllocationHead,
  AllocationSnapshot,
  AllocationStore,
  SettledCounts,
} from '../../domain/ports/allocation-store';
import type { CallOptions } from '../../domain/ports/assignment-ledger';
import { type Item, key, n, num, s, str } from './attributes';
import { storeFailure } from './errors';
import { keys } from './keys';
import type { ShardCounts } from './shard-counts';

export class DynamoDbAllocationStore implements AllocationStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly shards: ShardCounts,
  ) {}

  async head(tenantId: string, experimentId: string, options: CallOptions = {}): Promise<AllocationHead> {
    let item: Item | undefined;
    try {
      const result = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(keys.head(tenantId, experimentId)) }),
        { abortSignal: options.signal },
      );
      item = result.Item;
    } catch (error) {
      throw storeFailure('experiment head read', error);
    }
    this.shards.learn(tenantId, experimentId, num(item, 'counter_shards'));
    const snapshot = str(item, 'snapshot');
    return {
      definitionVersion: num(item, 'definition_version') ?? 0,
      snapshot: snapshot ? (JSON.parse(snapshot) as AllocationSnapshot) : null,
      leaseUntil: num(item, 'lease_until') ?? 0,
    };
  }

  async acquireLease(
    tenantId: string,
    experimentId: string,
    now: number,
    until: number,
    options: CallOptions & { readonly experimentVersion?: number } = {},
  ): Promise<number | null> {
    const version = options.experimentVersion;
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(keys.head(tenantId, experimentId)),
          UpdateExpression:
            version === undefined
              ? 'SET lease_until = :until ADD lease_epoch :one'
              : 'SET lease_until = :until, lease_version = :version ADD lease_epoch :one',
          // Free, or (after an edit) the published snapshot is of another version and nobody holds the lease
          // for this one yet: an edit is followed at once, by one container.
          ConditionExpression:
            version === undefined
              ? 'attribute_not_exists(lease_until) OR lease_until <= :now'
              : 'attribute_not_exists(lease_until) OR lease_until <= :now OR (snapshot_version <> :version AND (attribute_not_exists(lease_version) OR lease_version <> :version))',
          ExpressionAttributeValues: {
            ':until': n(until),
            ':now': n(now),
            ':one': n(1),
            ...(version === undefined ? {} : { ':version': n(version) }),
          },
          ReturnValues: 'UPDATED_NEW',
        }),
        { abortSignal: options.signal },
      );
      return num(result.Attributes, 'lease_epoch');
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw storeFailure('allocation lease', error);
    }
  }

  async publish(
    tenantId: string,
    experimentId: string,
    epoch: number,
    snapshot: AllocationSnapshot,
    settled: SettledCounts | null,
    options: CallOptions = {},
  ): Promise<boolean> {
    const update = {
      TableName: this.tableName,
      Key: key(keys.head(tenantId, experimentId)),
      // Held until the snapshot is next due: containers whose head predates this publish do not recompute again.
      UpdateExpression: 'SET #snapshot = :snapshot, snapshot_version = :version, lease_until = :due',
      ConditionExpression: 'lease_epoch = :epoch',
      ExpressionAttributeNames: { '#snapshot': 'snapshot' },
      ExpressionAttributeValues: {
        ':snapshot': s(JSON.stringify(snapshot)),
        ':version': n(snapshot.experimentVersion),
        ':due': n(snapshot.nextDueAt ?? 0),
        ':epoch': n(epoch),
      },
    };
    try {
      if (!settled) {
        await this.client.send(new UpdateItemCommand(update), { abortSignal: options.signal });
        return true;
      }
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Update: update },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...key(keys.settled(tenantId, experimentId)), data: s(JSON.stringify(settled)) },
              },
            },
          ],
        }),
        { abortSignal: options.signal },
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed'
      )
        return false;
      throw storeFailure('allocation publish', error);
    }
  }

  async settled(
    tenantId: string,
    experimentId: string,
    options: CallOptions = {},
  ): Promise<SettledCounts | null> {
    try {
      const result = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: key(keys.settled(tenantId, experimentId)),
          ConsistentRead: true,
        }),
        { abortSignal: options.signal },
      );
      const data = str(result.Item, 'data');
      return data ? (JSON.parse(data) as SettledCounts) : null;
    } catch (error) {
      throw storeFailure('settled counts read', error);
    }
  }
}
