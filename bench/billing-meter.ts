// Counts an AWS SDK v3 client's DynamoDB commands in capacity units (benchmarks only): a middleware bills every
// command by bench/billing-units.ts, per command and per partition key, with DynamoDB's own report beside it.
import { type DynamoDBClient, GetItemCommand, type TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { reportedUnits } from './billing-cross-check';
import { applyUpdate, type Item, itemBytes } from './billing-item-size';
import {
  type BilledCommand,
  billCommand,
  type ItemSizes,
  type KeyedInput,
  type KeySchema,
  keyOf,
  keyText,
  type Outcome,
  type ReadOutput,
  SINGLE_TABLE,
  transactTarget,
} from './billing-units';

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
