// DynamoDB capacity units per command, by the service's rules: the charges of one command, per item (per partition
// for a Query or Scan page), given the sizes of the items it touches (bench/billing-item-size.ts).
//
// Rules (AWS Developer Guide, "DynamoDB read and write operations"):
// - reads: ⌈bytes / 4 KB⌉ units per item (at least 1, also for an item that is not there); ½ when eventually
//   consistent, 2× in TransactGetItems; a Query or Scan page is billed once on the summed size of its items;
//   BatchGetItem bills every item on its own;
// - writes: ⌈bytes / 1 KB⌉ of the larger of the item before and after (at least 1); 2× for every item of a
//   TransactWriteItems, ConditionCheck included; a failed condition and a cancelled transaction are billed too.
import type { AttributeValue, TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { type Item, itemBytes } from './billing-item-size';

const READ_UNIT_BYTES = 4096;
const WRITE_UNIT_BYTES = 1024;

export type ReadKind = 'eventual' | 'strong' | 'transactional';

const READ_FACTOR: Record<ReadKind, number> = { eventual: 0.5, strong: 1, transactional: 2 };

export function readUnits(bytes: number, kind: ReadKind): number {
  return Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES)) * READ_FACTOR[kind];
}

export function writeUnits(bytes: number, transactional: boolean): number {
  return Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES)) * (transactional ? 2 : 1);
}

export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey: string | null;
}

export const SINGLE_TABLE: KeySchema = { partitionKey: 'pk', sortKey: 'sk' };

/** What one command consumed on one item (or, for a Query or Scan page, on one partition). */
export interface Charge {
  readonly table: string;
  readonly partitionKey: string;
  /** Null for a Query or Scan page. */
  readonly sortKey: string | null;
  /** Get, Query, Scan, Put, Update, Delete, ConditionCheck. */
  readonly action: string;
  readonly readUnits: number;
  readonly writeUnits: number;
}

export interface BilledCommand {
  /** The label the counted client was attached with. */
  readonly source: string;
  /** GetItem, TransactWriteItems, … */
  readonly command: string;
  readonly failed: boolean;
  readonly charges: readonly Charge[];
  readonly readUnits: number;
  readonly writeUnits: number;
  /** DynamoDB's own ConsumedCapacity total; null when it reported none (a failed command). */
  readonly reportedUnits: number | null;
}

/** Item sizes as the meter knows them. */
export interface ItemSizes {
  /** Bytes of the stored item before the command (0 when there was none). */
  before(table: string, key: Item): number;
  /** Bytes of the item the write leaves (or, when it failed, would have left); 0 when it deletes it. */
  after(table: string, key: Item): number;
}

export interface Outcome {
  readonly output?: unknown;
  readonly failed: boolean;
}

// The SDK's inputs and outputs, as far as billing looks at them.
export interface KeyedInput {
  TableName?: string;
  Key?: Item;
  Item?: Item;
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
  RequestItems?: Record<string, unknown>;
  TransactItems?: Array<Record<string, KeyedInput | undefined>>;
}

export interface ReadOutput {
  Item?: Item;
  Items?: Item[];
  Responses?: Record<string, Item[]> | Array<{ Item?: Item }>;
  UnprocessedKeys?: Record<string, { Keys?: Item[] }>;
  UnprocessedItems?: Record<string, Array<{ PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }>>;
}

export function keyText(value: AttributeValue | undefined): string {
  if (!value) return '';
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return value.N;
  if (value.B !== undefined) return Buffer.from(value.B).toString('base64');
  return '';
}

export function keyOf(item: Item, schema: KeySchema): Item {
  const key: Item = { [schema.partitionKey]: item[schema.partitionKey]! };
  if (schema.sortKey) key[schema.sortKey] = item[schema.sortKey]!;
  return key;
}

/** The partition a Query reads: the value its key condition binds to the partition key. */
function queryPartition(input: KeyedInput, schema: KeySchema): string {
  const condition = input.KeyConditionExpression ?? '';
  for (const match of condition.matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
    const name = match[1]!.startsWith('#') ? input.ExpressionAttributeNames?.[match[1]!] : match[1];
    if (name === schema.partitionKey) return keyText(input.ExpressionAttributeValues?.[match[2]!]);
  }
  return '';
}

/**
 * The charges of one command, by the rules at the top of this file. `sizes` answers for items the command
 * writes, and for items it reads through a projection (billed on the whole item).
 */
export function billCommand(
  command: string,
  input: unknown,
  outcome: Outcome,
  sizes: ItemSizes,
  schema: KeySchema = SINGLE_TABLE,
): Charge[] {
  const request = input as KeyedInput;
  const output = (outcome.output ?? {}) as ReadOutput;
  const table = request.TableName ?? '';
  const charge = (
    tableName: string,
    key: Item,
    action: string,
    units: { read?: number; write?: number },
  ): Charge => ({
    table: tableName,
    partitionKey: keyText(key[schema.partitionKey]),
    sortKey: schema.sortKey ? keyText(key[schema.sortKey]) : null,
    action,
    readUnits: units.read ?? 0,
    writeUnits: units.write ?? 0,
  });
  const written = (tableName: string, key: Item, transactional: boolean) =>
    writeUnits(Math.max(sizes.before(tableName, key), sizes.after(tableName, key)), transactional);
  const readBytes = (tableName: string, item: Item, projected: boolean) =>
    projected ? sizes.before(tableName, keyOf(item, schema)) : itemBytes(item);

  switch (command) {
    case 'GetItem': {
      if (outcome.failed) return [];
      const key = request.Key ?? {};
      const bytes = output.Item
        ? request.ProjectionExpression
          ? sizes.before(table, key)
          : itemBytes(output.Item)
        : 0;
      return [
        charge(table, key, 'Get', { read: readUnits(bytes, request.ConsistentRead ? 'strong' : 'eventual') }),
      ];
    }
    case 'Query':
    case 'Scan': {
      if (outcome.failed) return [];
      const bytes = (output.Items ?? []).reduce(
        (sum, item) => sum + readBytes(table, item, Boolean(request.ProjectionExpression)),
        0,
      );
      const partition = command === 'Query' ? queryPartition(request, schema) : '(scan)';
      return [
        {
          table,
          partitionKey: partition,
          sortKey: null,
          action: command,
          readUnits: readUnits(bytes, request.ConsistentRead ? 'strong' : 'eventual'),
          writeUnits: 0,
        },
      ];
    }
    case 'BatchGetItem': {
      if (outcome.failed) return [];
      const charges: Charge[] = [];
      const requested = (request.RequestItems ?? {}) as Record<
        string,
        { Keys?: Item[]; ConsistentRead?: boolean; ProjectionExpression?: string }
      >;
      const responses = (output.Responses ?? {}) as Record<string, Item[]>;
      for (const [tableName, wanted] of Object.entries(requested)) {
        const id = (key: Item) => JSON.stringify(keyOf(key, schema));
        const found = new Map((responses[tableName] ?? []).map((item) => [id(item), item]));
        const unprocessed = new Set((output.UnprocessedKeys?.[tableName]?.Keys ?? []).map(id));
        const kind = wanted.ConsistentRead ? 'strong' : 'eventual';
        for (const key of wanted.Keys ?? []) {
          if (unprocessed.has(id(key))) continue;
          const item = found.get(id(key));
          const bytes = item ? readBytes(tableName, item, Boolean(wanted.ProjectionExpression)) : 0;
          charges.push(charge(tableName, key, 'Get', { read: readUnits(bytes, kind) }));
        }
      }
      return charges;
    }
    case 'TransactGetItems': {
      if (outcome.failed) return [];
      const responses = (output.Responses ?? []) as Array<{ Item?: Item }>;
      return (request.TransactItems ?? []).map((entry, i) => {
        const get = entry['Get'] ?? {};
        const item = responses[i]?.Item;
        const bytes = item ? readBytes(get.TableName ?? '', item, Boolean(get.ProjectionExpression)) : 0;
        return charge(get.TableName ?? '', get.Key ?? {}, 'Get', { read: readUnits(bytes, 'transactional') });
      });
    }
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem': {
      const key = command === 'PutItem' ? keyOf(request.Item ?? {}, schema) : (request.Key ?? {});
      const action = command.replace('Item', '');
      return [charge(table, key, action, { write: written(table, key, false) })];
    }
    case 'BatchWriteItem': {
      if (outcome.failed) return [];
      const charges: Charge[] = [];
      const requested = (request.RequestItems ?? {}) as Record<
        string,
        Array<{ PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }>
      >;
      for (const [tableName, writes] of Object.entries(requested)) {
        const id = (key: Item) => JSON.stringify(keyOf(key, schema));
        const unprocessed = new Set(
          (output.UnprocessedItems?.[tableName] ?? []).map((w) =>
            id(w.PutRequest?.Item ?? w.DeleteRequest?.Key ?? {}),
          ),
        );
        for (const w of writes) {
          const key = keyOf(w.PutRequest?.Item ?? w.DeleteRequest?.Key ?? {}, schema);
          if (unprocessed.has(id(key))) continue;
          charges.push(
            charge(tableName, key, w.PutRequest ? 'Put' : 'Delete', {
              write: written(tableName, key, false),
            }),
          );
        }
      }
      return charges;
    }
    case 'TransactWriteItems':
      return (request.TransactItems ?? []).map((entry) => {
        const [action, target] = transactTarget(entry as TransactWriteItem);
        const key = action === 'Put' ? keyOf(target.Item ?? {}, schema) : (target.Key ?? {});
        const tableName = target.TableName ?? '';
        const units =
          action === 'ConditionCheck'
            ? writeUnits(sizes.before(tableName, key), true)
            : written(tableName, key, true);
        return charge(tableName, key, action, { write: units });
      });
    default:
      return [];
  }
}

export function transactTarget(entry: TransactWriteItem): [string, KeyedInput] {
  if (entry.Put) return ['Put', entry.Put as KeyedInput];
  if (entry.Update) return ['Update', entry.Update as KeyedInput];
  if (entry.Delete) return ['Delete', entry.Delete as KeyedInput];
  return ['ConditionCheck', (entry.ConditionCheck ?? {}) as KeyedInput];
}
