import { createHash } from 'node:crypto';
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

/** DynamoDB's limit on a sort key, in UTF-8 bytes. */
const MAX_SORT_KEY_BYTES = 1024;
/** `#` and a base64url SHA-256 of the whole object key. */
const DIGEST_SUFFIX_BYTES = 44;

/**
 * The entry's sort key names the object, after its time. S3 keys run to 1,024 bytes, so a long one would push
 * the sort key past DynamoDB's 1,024-byte limit and every write of its entry would fail (and Lambda retry the
 * file into the dead-letter queue). A key that does not fit keeps its readable start, cut on a character, and
 * ends in a hash of the whole key, so two long keys with the same start stay two entries. The `key` attribute
 * keeps the key in full: that is what the log lists.
 */
function keysFor(tenantId: string, entry: Pick<IngestionEntry, 'ingestedAt' | 'key'>): Item {
  const whole = keys.ingestion(tenantId, entry.ingestedAt, entry.key);
  if (Buffer.byteLength(whole.sk, 'utf8') <= MAX_SORT_KEY_BYTES) return { pk: s(whole.pk), sk: s(whole.sk) };
  const timePrefixBytes = Buffer.byteLength(keys.ingestion(tenantId, entry.ingestedAt, '').sk, 'utf8');
  const start = utf8Prefix(entry.key, MAX_SORT_KEY_BYTES - timePrefixBytes - DIGEST_SUFFIX_BYTES);
  const digest = createHash('sha256').update(entry.key, 'utf8').digest('base64url');
  const cut = keys.ingestion(tenantId, entry.ingestedAt, `${start}#${digest}`);
  return { pk: s(cut.pk), sk: s(cut.sk) };
}

/** The longest start of `text` that fits in `maxBytes` of UTF-8 without splitting a character. */
function utf8Prefix(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end);
}
