// DynamoDB capacity units by the service's billing rules, counted at an AWS SDK v3 client (benchmarks only): every
// command, per command and per partition key, with what DynamoDB itself reports (ConsumedCapacity) beside it.
//
// Rules (AWS Developer Guide, "DynamoDB item sizes and formats" and "DynamoDB read and write operations"):
// - item size = Σ attribute name bytes + value bytes (strings UTF-8, numbers ≈ 1 byte per 2 significant digits
//   + 1, binary raw bytes, null/bool 1, list/map 3 + 1 per element + elements);
// - reads: ⌈bytes / 4 KB⌉ units per item (at least 1, also for an item that is not there); ½ when eventually
//   consistent, 2× in TransactGetItems; a Query or Scan page is billed once on the summed size of its items;
//   BatchGetItem bills every item on its own;
// - writes: ⌈bytes / 1 KB⌉ of the larger of the item before and after (at least 1); 2× for every item of a
//   TransactWriteItems, ConditionCheck included; a failed condition and a cancelled transaction are billed too.
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

const READ_UNIT_BYTES = 4096;
const WRITE_UNIT_BYTES = 1024;

export type ReadKind = 'eventual' | 'strong' | 'transactional';

const READ_FACTOR: Record<ReadKind, number> = { eventual: 0.5, strong: 1, transactional: 2 };

/** Commands that consume capacity (and accept ReturnConsumedCapacity). */
const BILLED = new Set([
  'GetItem',
  'BatchGetItem',
  'Query',
  'Scan',
  'TransactGetItems',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'BatchWriteItem',
  'TransactWriteItems',
]);

/** Errors after which DynamoDB has still consumed capacity: a failed condition, a cancelled transaction. */
const BILLED_ERRORS = new Set(['ConditionalCheckFailedException', 'TransactionCanceledException']);

export function numberBytes(value: string): number {
  const significant = value
    .replace(/^[+-]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, significant.length) / 2) + 1;
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

export function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 0);
  if (value.M !== undefined)
    return 3 + Object.entries(value.M).reduce((sum, [name, v]) => sum + 1 + utf8(name) + valueBytes(v), 0);
  return 0;
}

export function itemBytes(item: Item | null | undefined): number {
  if (!item) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += utf8(name) + valueBytes(value);
  return bytes;
}

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
interface KeyedInput {
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

interface ReadOutput {
  Item?: Item;
  Items?: Item[];
  Responses?: Record<string, Item[]> | Array<{ Item?: Item }>;
  UnprocessedKeys?: Record<string, { Keys?: Item[] }>;
  UnprocessedItems?: Record<string, Array<{ PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }>>;
}

function keyText(value: AttributeValue | undefined): string {
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

function transactTarget(entry: TransactWriteItem): [string, KeyedInput] {
  if (entry.Put) return ['Put', entry.Put as KeyedInput];
  if (entry.Update) return ['Update', entry.Update as KeyedInput];
  if (entry.Delete) return ['Delete', entry.Delete as KeyedInput];
  return ['ConditionCheck', (entry.ConditionCheck ?? {}) as KeyedInput];
}

/** What DynamoDB reported as consumed (ConsumedCapacity, one object or one per table), or null. */
export function reportedUnits(output: unknown): number | null {
  const consumed = (output as { ConsumedCapacity?: unknown } | undefined)?.ConsumedCapacity;
  if (!consumed) return null;
  const list = (Array.isArray(consumed) ? consumed : [consumed]) as Array<{
    CapacityUnits?: number;
    ReadCapacityUnits?: number;
    WriteCapacityUnits?: number;
  }>;
  return list.reduce(
    (sum, c) => sum + (c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0)),
    0,
  );
}

/**
 * The item an UpdateExpression leaves, for the expressions this service writes (SET path = :value, ADD path
 * :number-or-set, REMOVE path, on top-level attributes); undefined for anything else (the meter then reads the
 * item back).
 */
export function applyUpdate(
  before: Item | null,
  key: Item,
  expression: string,
  names: Record<string, string> = {},
  values: Item = {},
): Item | undefined {
  const item: Item = { ...(before ?? {}), ...key };
  const clauses = expression.split(/\b(SET|ADD|REMOVE|DELETE)\b/i).slice(1);
  const path = (text: string) => {
    const trimmed = text.trim();
    if (/[.[\]()]/.test(trimmed)) return undefined;
    return trimmed.startsWith('#') ? names[trimmed] : trimmed;
  };
  for (let i = 0; i < clauses.length; i += 2) {
    const verb = clauses[i]!.toUpperCase();
    for (const action of (clauses[i + 1] ?? '').split(',')) {
      if (action.trim() === '') continue;
      if (verb === 'SET') {
        const [left, right] = action.split('=');
        const name = path(left ?? '');
        const value = values[(right ?? '').trim()];
        if (!name || !value) return undefined;
        item[name] = value;
      } else if (verb === 'ADD') {
        const [left, right] = action.trim().split(/\s+/);
        const name = path(left ?? '');
        const value = values[right ?? ''];
        if (!name || !value) return undefined;
        const current = item[name];
        if (value.N !== undefined) {
          item[name] = { N: String(Number(current?.N ?? 0) + Number(value.N)) };
        } else if (value.SS !== undefined) {
          item[name] = { SS: [...new Set([...(current?.SS ?? []), ...value.SS])] };
        } else if (value.NS !== undefined) {
          item[name] = { NS: [...new Set([...(current?.NS ?? []), ...value.NS])] };
        } else return undefined;
      } else if (verb === 'REMOVE') {
        const name = path(action);
        if (!name) return undefined;
        delete item[name];
      } else return undefined;
    }
  }
  return item;
}

interface CommandTotals {
  count: number;
  failed: number;
  readUnits: number;
  writeUnits: number;
  /** Over the commands DynamoDB reported on: its figure, and ours for the same commands. */
  reported: number;
  computedWhereReported: number;
}

interface PartitionTotals {
  readUnits: number;
  writeUnits: number;
}

interface Write {
  readonly table: string;
  readonly key: Item;
  /** The item the write leaves given the one before it; undefined when only a read-back can tell. */
  readonly apply: (before: Item | null) => Item | null | undefined;
  /** True for a Put: the item it leaves does not depend on the one before. */
  readonly replaces?: boolean;
}

/**
 * Counts a client's DynamoDB commands and their capacity units. Item sizes for writes come from the meter's copy
 * of every item it has seen; an item it has not seen yet is read once on `sizer`, a separate client that is not
 * counted, so the counted client's command stream stays exactly what the code under test sends (with
 * ReturnConsumedCapacity added, for the cross-check).
 */
export class BillingMeter {
  readonly commands = new Map<string, CommandTotals>();
  readonly partitions = new Map<string, PartitionTotals>();
  private readonly items = new Map<string, Item | null>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly listeners: Array<(billed: BilledCommand) => void> = [];

  constructor(
    private readonly sizer: DynamoDBClient,
    private readonly schema: KeySchema = SINGLE_TABLE,
  ) {}

  /** `source` labels the client's commands for listeners (e.g. content vs pixel containers). */
  attach(client: DynamoDBClient, source = 'client'): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = String(context.commandName ?? '').replace(/Command$/, '');
        if (!BILLED.has(command)) return next(args);
        const input = args.input as KeyedInput & { ReturnConsumedCapacity?: string };
        const writes = this.writesOf(command, input);
        // A Put replaces the item whatever it was: its old size matters only when it is larger, which a failed
        // condition shows (ALL_OLD) and a successful `attribute_not_exists` rules out. Updates need the old item.
        await Promise.all(writes.filter((w) => !w.replaces).map((w) => this.load(w.table, w.key)));
        // A projected read is billed on the whole item.
        if (command === 'GetItem' && input.ProjectionExpression)
          await this.load(input.TableName ?? '', input.Key ?? {});
        const before = new Map<string, Item | null>();
        for (const w of writes) {
          const id = this.id(w.table, w.key);
          if (this.items.has(id)) before.set(id, this.items.get(id) ?? null);
        }
        const sent = {
          ...args,
          input: { ...input, ReturnConsumedCapacity: input.ReturnConsumedCapacity ?? 'TOTAL' },
        };
        let result: Awaited<ReturnType<typeof next>>;
        try {
          result = await next(sent);
        } catch (error) {
          const name = (error as { name?: string }).name ?? '';
          this.learnFromCancellation(input, error);
          if (BILLED_ERRORS.has(name)) {
            // Nothing changed; the would-be items still decide the units.
            const wouldBe = new Map(
              writes.map((w) => {
                const id = this.id(w.table, w.key);
                const old = before.get(id) ?? this.items.get(id) ?? null;
                return [id, w.apply(old) ?? old];
              }),
            );
            this.record(source, command, input, { failed: true }, before, wouldBe, null);
          } else {
            this.total(command).failed++;
            this.total(command).count++;
          }
          throw error;
        }
        const after = new Map<string, Item | null>();
        for (const w of writes) {
          const id = this.id(w.table, w.key);
          const left = w.apply(this.items.get(id) ?? null);
          if (left === undefined) {
            this.items.delete(id);
            await this.load(w.table, w.key);
          } else this.items.set(id, left);
          after.set(id, this.items.get(id) ?? null);
        }
        this.learnFromReads(command, input, result.output);
        this.record(
          source,
          command,
          input,
          { output: result.output, failed: false },
          before,
          after,
          reportedUnits(result.output),
        );
        return result;
      },
      { step: 'initialize', name: 'billingMeter' },
    );
  }

  onCommand(listener: (billed: BilledCommand) => void): void {
    this.listeners.push(listener);
  }

  /** An item written where the meter does not see it (seeding through another client), as it is stored now. */
  learn(table: string, item: Item): void {
    this.items.set(this.id(table, item), item);
  }

  resetTotals(): void {
    this.commands.clear();
    this.partitions.clear();
  }

  private record(
    source: string,
    command: string,
    input: KeyedInput,
    outcome: Outcome,
    before: ReadonlyMap<string, Item | null>,
    after: ReadonlyMap<string, Item | null>,
    reported: number | null,
  ) {
    const sizes: ItemSizes = {
      before: (table, key) => {
        const id = this.id(table, key);
        return itemBytes(before.has(id) ? before.get(id) : this.items.get(id));
      },
      after: (table, key) => itemBytes(after.get(this.id(table, key))),
    };
    const charges = billCommand(command, input, outcome, sizes, this.schema);
    const read = charges.reduce((sum, c) => sum + c.readUnits, 0);
    const write = charges.reduce((sum, c) => sum + c.writeUnits, 0);
    const totals = this.total(command);
    totals.count++;
    if (outcome.failed) totals.failed++;
    totals.readUnits += read;
    totals.writeUnits += write;
    if (reported !== null) {
      totals.reported += reported;
      totals.computedWhereReported += read + write;
    }
    for (const c of charges) {
      const partition = this.partitions.get(c.partitionKey) ?? { readUnits: 0, writeUnits: 0 };
      partition.readUnits += c.readUnits;
      partition.writeUnits += c.writeUnits;
      this.partitions.set(c.partitionKey, partition);
    }
    const billed: BilledCommand = {
      source,
      command,
      failed: outcome.failed,
      charges,
      readUnits: read,
      writeUnits: write,
      reportedUnits: reported,
    };
    for (const listener of this.listeners) listener(billed);
  }

  private total(command: string): CommandTotals {
    let totals = this.commands.get(command);
    if (!totals) {
      totals = { count: 0, failed: 0, readUnits: 0, writeUnits: 0, reported: 0, computedWhereReported: 0 };
      this.commands.set(command, totals);
    }
    return totals;
  }

  private id(table: string, key: Item): string {
    const k = keyOf(key, this.schema);
    return `${table}\u0000${keyText(k[this.schema.partitionKey])}\u0000${this.schema.sortKey ? keyText(k[this.schema.sortKey]) : ''}`;
  }

  /** Reads an item the meter has not seen, once, on the uncounted client. */
  private load(table: string, key: Item): Promise<void> {
    const id = this.id(table, key);
    if (this.items.has(id)) return Promise.resolve();
    let loading = this.loading.get(id);
    if (!loading) {
      loading = this.sizer
        .send(new GetItemCommand({ TableName: table, Key: keyOf(key, this.schema), ConsistentRead: true }))
        .then((result) => {
          if (!this.items.has(id)) this.items.set(id, result.Item ?? null);
        })
        .finally(() => this.loading.delete(id));
      this.loading.set(id, loading);
    }
    return loading;
  }

  private writesOf(command: string, input: KeyedInput): Write[] {
    const put = (table: string, item: Item): Write => ({
      table,
      key: keyOf(item, this.schema),
      apply: () => item,
      replaces: true,
    });
    const update = (target: KeyedInput & { UpdateExpression?: string }): Write => ({
      table: target.TableName ?? '',
      key: target.Key ?? {},
      apply: (old) =>
        applyUpdate(
          old,
          target.Key ?? {},
          target.UpdateExpression ?? '',
          target.ExpressionAttributeNames,
          target.ExpressionAttributeValues,
        ),
    });
    const remove = (table: string, key: Item): Write => ({ table, key, apply: () => null, replaces: true });
    switch (command) {
      case 'PutItem':
        return [put(input.TableName ?? '', input.Item ?? {})];
      case 'UpdateItem':
        return [update(input)];
      case 'DeleteItem':
        return [remove(input.TableName ?? '', input.Key ?? {})];
      case 'BatchWriteItem':
        return Object.entries(
          (input.RequestItems ?? {}) as Record<
            string,
            Array<{ PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }>
          >,
        ).flatMap(([table, writes]) =>
          writes.map((w) =>
            w.PutRequest ? put(table, w.PutRequest.Item ?? {}) : remove(table, w.DeleteRequest?.Key ?? {}),
          ),
        );
      case 'TransactWriteItems':
        return (input.TransactItems ?? []).flatMap((entry) => {
          const [action, target] = transactTarget(entry as TransactWriteItem);
          if (action === 'Put') return [put(target.TableName ?? '', target.Item ?? {})];
          if (action === 'Update') return [update(target)];
          if (action === 'Delete') return [remove(target.TableName ?? '', target.Key ?? {})];
          return [{ table: target.TableName ?? '', key: target.Key ?? {}, apply: (old: Item | null) => old }];
        });
      default:
        return [];
    }
  }

  /** Whole items a read returned are the stored items now: the meter's copy follows them. */
  private learnFromReads(command: string, input: KeyedInput, output: unknown) {
    const read = output as ReadOutput;
    if (command === 'GetItem' && !input.ProjectionExpression) {
      this.items.set(this.id(input.TableName ?? '', input.Key ?? {}), read.Item ?? null);
    } else if ((command === 'Query' || command === 'Scan') && !input.ProjectionExpression) {
      for (const item of read.Items ?? []) this.items.set(this.id(input.TableName ?? '', item), item);
    }
  }

  /** A failed condition that returned the stored item (ALL_OLD) shows what is stored now. */
  private learnFromCancellation(input: KeyedInput, error: unknown) {
    const reasons = (error as { CancellationReasons?: Array<{ Item?: Item }> }).CancellationReasons;
    if (!reasons) return;
    (input.TransactItems ?? []).forEach((entry, i) => {
      const item = reasons[i]?.Item;
      if (!item) return;
      const [, target] = transactTarget(entry as TransactWriteItem);
      this.items.set(this.id(target.TableName ?? '', item), item);
    });
  }
}
