import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError } from '../../domain/errors';
import type { Experiment } from '../../domain/experiment';
import type { ExperimentStore } from '../../domain/ports/experiment-store';
import { type Item, key, n, s, str } from './attributes';
import { storeFailure } from './errors';
import { keys } from './keys';

function toExperiment(item: Item | undefined): Experiment | null {
  const data = str(item, 'data');
  return data ? (JSON.parse(data) as Experiment) : null;
}

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

  async list(tenantId: string): Promise<Experiment[]> {
    const experiments: Experiment[] = [];
    let startKey: Item | undefined;
    try {
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
            ExpressionAttributeValues: { ':pk': s(keys.experimentPk(tenantId)), ':e': s('E#') },
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) {
          const experiment = toExperiment(item);
          if (experiment) experiments.push(experiment);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      throw storeFailure('experiment list', error);
    }
    return experiments;
  }

  async save(experiment: Experiment): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...key(keys.experiment(experiment.tenantId, experiment.id)),
            data: s(JSON.stringify(experiment)),
            version: n(experiment.version),
          },
          ConditionExpression:
            experiment.version === 1
              ? 'attribute_not_exists(pk)'
              : 'attribute_exists(pk) AND version = :previous',
          ExpressionAttributeValues:
            experiment.version === 1 ? undefined : { ':previous': n(experiment.version - 1) },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError(
          'version_conflict',
          'the experiment changed meanwhile; read it again and retry',
        );
      }
      throw storeFailure('experiment write', error);
    }
  }
}
