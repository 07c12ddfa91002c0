import {
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError } from '../../domain/errors';
import { DEFAULT_OPTIONS, type Experiment } from '../../domain/experiment';
import { decodeCursor, encodeCursor, type PageRequest } from '../../domain/paging';
import type { ExperimentPage, ExperimentStore } from '../../domain/ports/experiment-store';
import { type Item, key, n, s, str } from './attributes';
import { storeFailure } from './errors';
import { COUNTER_SHARDS, keys } from './keys';

/** A stored definition; options added since it was stored read as their defaults. */
function toExperiment(item: Item | undefined): Experiment | null {
  const data = str(item, 'data');
  if (!data) return null;
  const stored = JSON.parse(data) as Experiment;
  return { ...stored, options: { ...DEFAULT_OPTIONS, ...stored.options } };
}

const LIST_PAGE = 100;

export class DynamoDbExperimentStore implements ExperimentStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(tenantId: string, experimentId: string): Promise<Experiment | null> {
    try {
      const result = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: key(keys.experiment(tenantId, experimentId)),
          ConsistentRead: true,
        }),
      );
      return toExperiment(result.Item);
    } catch (error) {
      throw storeFailure('experiment read', error);
    }
  }

  /** Every experiment of the tenant (CLI, reconcile): the pages, followed to the end. */
  async list(tenantId: string): Promise<Experiment[]> {
    const experiments: Experiment[] = [];
    let cursor: string | null = null;
    do {
      const page: ExperimentPage = await this.listPage(tenantId, { limit: LIST_PAGE, cursor });
      experiments.push(...page.experiments);
      cursor = page.nextCursor;
    } while (cursor);
    return experiments;
  }

  async listPage(tenantId: string, { limit, cursor }: PageRequest): Promise<ExperimentPage> {
    // The start key is rebuilt inside this tenant's partition: a cursor can position a page, never reach out of it.
    let startKey: Item | undefined =
      cursor === null ? undefined : key(keys.experiment(tenantId, decodeCursor(cursor)));
    const found: Experiment[] = [];
    try {
      // Reading one item past the page says whether another follows, so the last page never points at an empty
      // one. A query page can also stop short (1 MB), hence the loop.
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
            ExpressionAttributeValues: { ':pk': s(keys.experimentPk(tenantId)), ':e': s('E#') },
            ExclusiveStartKey: startKey,
            Limit: limit + 1 - found.length,
          }),
        );
        for (const item of page.Items ?? []) {
          const experiment = toExperiment(item);
          if (experiment) found.push(experiment);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey && found.length <= limit);
    } catch (error) {
      throw storeFailure('experiment list', error);
    }
    const experiments = found.slice(0, limit);
    const last = experiments.at(-1);
    return { experiments, nextCursor: found.length > limit && last ? encodeCursor(last.id) : null };
  }

  /**
   * Writes the definition and, in the same transaction, bumps the head's definition version: every content
   * container checks that small item every few seconds and rereads the definition only when it moved. A new
   * experiment's head also records its counter shard count.
   */
  async save(experiment: Experiment): Promise<void> {
    const created = experiment.version === 1;
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...key(keys.experiment(experiment.tenantId, experiment.id)),
                  data: s(JSON.stringify(experiment)),
                  version: n(experiment.version),
                },
                ConditionExpression: created
                  ? 'attribute_not_exists(pk)'
                  : 'attribute_exists(pk) AND version = :previous',
                ExpressionAttributeValues: created ? undefined : { ':previous': n(experiment.version - 1) },
              },
            },
            {
              Update: {
                TableName: this.tableName,
                Key: key(keys.head(experiment.tenantId, experiment.id)),
                UpdateExpression: created
                  ? 'SET definition_version = :v, counter_shards = :shards'
                  : 'SET definition_version = :v',
                ExpressionAttributeValues: created
                  ? { ':v': n(experiment.version), ':shards': n(COUNTER_SHARDS) }
                  : { ':v': n(experiment.version) },
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.some(
          (reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict',
        )
      ) {
        throw new ConflictError(
          'version_conflict',
          'the experiment changed meanwhile; read it again and retry',
        );
      }
      throw storeFailure('experiment write', error);
    }
  }
}
