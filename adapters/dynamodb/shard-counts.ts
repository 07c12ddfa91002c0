// How many counter shards an experiment's counters are spread over: stored on its head at creation, never
// changed, so it is cached for the container's life (a bounded number of experiments).
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { BoundedMap } from '../../domain/cache';
import { key, num } from './attributes';
import { storeFailure } from './errors';
import { keys, LEGACY_COUNTER_SHARDS } from './keys';

export class ShardCounts {
  private readonly known = new BoundedMap<number>(10_000);

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /** Records what a head read showed (absent: an experiment from before heads recorded it). */
  learn(tenantId: string, experimentId: string, count: number | null): void {
    if (count !== null || this.known.get(`${tenantId}/${experimentId}`) === undefined)
      this.known.set(`${tenantId}/${experimentId}`, count ?? LEGACY_COUNTER_SHARDS);
  }

  async of(tenantId: string, experimentId: string, signal?: AbortSignal): Promise<number> {
    const known = this.known.get(`${tenantId}/${experimentId}`);
    if (known !== undefined) return known;
    try {
      const result = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: key(keys.head(tenantId, experimentId)),
          ProjectionExpression: 'counter_shards',
        }),
        { abortSignal: signal },
      );
      const count = num(result.Item, 'counter_shards');
      this.learn(tenantId, experimentId, count);
      return count ?? LEGACY_COUNTER_SHARDS;
    } catch (error) {
      throw storeFailure('counter shard count read', error);
    }
  }
}
