import { type DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { IngestionEntry, IngestionLog } from '../../domain/ports/ingestion-log';
import { type Item, n, num, s, str } from './attributes';
import { storeFailure } from './errors';
import { keys } from './keys';

const LOG_RETENTION_SECONDS = 90 * 86_400;
const UNOWNED = '_unowned';

export class DynamoDbIngestionLog implements IngestionLog {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async record(tenantId: string | null, entry: IngestionEntry): Promise<void> {
    const item: Item = {
      ...keysFor(tenantId ?? UNOWNED, entry),
      key: s(entry.key),
      status: s(entry.status),
      events: n(entry.events),
      attributed: n(entry.attributed),
      duplicates: n(entry.duplicates),
      bots: n(entry.bots),
      ingested_at: n(entry.ingestedAt),
      expires_at: n(Math.floor(entry.ingestedAt / 1000) + LOG_RETENTION_SECONDS),
      ...(entry.reason ? { reason: s(entry.reason.slice(0, 500)) } : {}),
    };
    try {
      await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
    } catch (error) {
      throw storeFailure('ingestion log write', error);
    }
  }

  async list(tenantId: string, limit: number): Promise<IngestionEntry[]> {
    try {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': s(keys.ingestionPk(tenantId)) },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (result.Items ?? []).map((item) => ({
        key: str(item, 'key') ?? '',
        status: (str(item, 'status') ?? 'failed') as IngestionEntry['status'],
        reason: str(item, 'reason'),
        events: num(item, 'events') ?? 0,
        attributed: num(item, 'attributed') ?? 0,
        duplicates: num(item, 'duplicates') ?? 0,
        bots: num(item, 'bots') ?? 0,
        ingestedAt: num(item, 'ingested_at') ?? 0,
      }));
    } catch (error) {
      throw storeFailure('ingestion log read', error);
    }
  }
}

function keysFor(tenantId: string, entry: IngestionEntry): Item {
  const k = keys.ingestion(tenantId, entry.ingestedAt, entry.key);
  return { pk: s(k.pk), sk: s(k.sk) };
}
