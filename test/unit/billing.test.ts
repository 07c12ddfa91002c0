// The capacity benchmark's billing rules, on commands built as the adapters build them.
import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { reportedUnits } from '../../bench/billing-cross-check';
import { applyUpdate, type Item, itemBytes, numberBytes } from '../../bench/billing-item-size';
import { billCommand, type ItemSizes } from '../../bench/billing-units';

const TABLE = 'weft';

/** An item of exactly `bytes` bytes: pk, sk and a string attribute padding it out. */
function itemOf(bytes: number, pk = 'p', sk = 's'): Item {
  const overhead = 'pk'.length + pk.length + 'sk'.length + sk.length + 'data'.length;
  return { pk: { S: pk }, sk: { S: sk }, data: { S: 'x'.repeat(bytes - overhead) } };
}

/** Sizes from a map of stored items (before) and of written ones (after). */
function sizes(before: Record<string, Item> = {}, after: Record<string, Item> = {}): ItemSizes {
  const id = (key: Item) => `${key['pk']?.S}/${key['sk']?.S}`;
  return {
    before: (_table, key) => itemBytes(before[id(key)]),
    after: (_table, key) => itemBytes(after[id(key)]),
  };
}

describe('item size', () => {
  it('sums attribute names and values: UTF-8 strings, numbers by significant digits', () => {
    expect(itemBytes(itemOf(500))).toBe(500);
    expect(itemBytes({ é: { S: 'ü' } })).toBe(4);
    expect(numberBytes('12345')).toBe(4);
    expect(numberBytes('-0.0012300')).toBe(3);
    expect(itemBytes({ n: { N: '7' }, m: { M: { a: { BOOL: true } } }, l: { L: [{ S: 'ab' }] } })).toBe(
      1 + 2 + (1 + 3 + 1 + 1 + 1) + (1 + 3 + 1 + 2),
    );
  });
});

describe('reads', () => {
  it('GetItem: a whole 4 KB unit strongly consistent, half of it eventually consistent', () => {
    const key = { pk: { S: 'p' }, sk: { S: 's' } };
    const output = { Item: itemOf(3000) };
    const strong = new GetItemCommand({ TableName: TABLE, Key: key, ConsistentRead: true });
    const eventual = new GetItemCommand({ TableName: TABLE, Key: key });

    const [strongCharge] = billCommand('GetItem', strong.input, { output, failed: false }, sizes());
    const [eventualCharge] = billCommand('GetItem', eventual.input, { output, failed: false }, sizes());
    const [missing] = billCommand('GetItem', strong.input, { output: {}, failed: false }, sizes());
    const [large] = billCommand(
      'GetItem',
      eventual.input,
      { output: { Item: itemOf(5000) }, failed: false },
      sizes(),
    );

    expect(strongCharge).toMatchObject({ partitionKey: 'p', sortKey: 's', readUnits: 1, writeUnits: 0 });
    expect(eventualCharge?.readUnits).toBe(0.5);
    expect(missing?.readUnits).toBe(1);
    expect(large?.readUnits).toBe(1);
  });

  it('Query: one page of ten 500-byte items is billed once on 5,000 bytes', () => {
    const items = Array.from({ length: 10 }, (_, i) => itemOf(500, 'T#t#E#e#C#7', `B#${i}`));
    const query = (consistent: boolean) =>
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND sk >= :from',
        ExpressionAttributeValues: { ':pk': { S: 'T#t#E#e#C#7' }, ':from': { S: 'B#0' } },
        ConsistentRead: consistent,
      }).input;

    const eventual = billCommand('Query', query(false), { output: { Items: items }, failed: false }, sizes());
    const strong = billCommand('Query', query(true), { output: { Items: items }, failed: false }, sizes());

    expect(eventual).toEqual([
      {
        table: TABLE,
        partitionKey: 'T#t#E#e#C#7',
        sortKey: null,
        action: 'Query',
        readUnits: 1,
        writeUnits: 0,
      },
    ]);
    expect(strong[0]?.readUnits).toBe(2);
  });
});

describe('writes', () => {
  it('a 5 KB Put costs 5 units; overwriting a larger item costs the larger size', () => {
    const item = itemOf(5000);
    const put = new PutItemCommand({ TableName: TABLE, Item: item });

    const [fresh] = billCommand('PutItem', put.input, { failed: false }, sizes({}, { 'p/s': item }));
    const [over] = billCommand(
      'PutItem',
      put.input,
      { failed: false },
      sizes({ 'p/s': itemOf(7000) }, { 'p/s': item }),
    );

    expect(fresh).toMatchObject({ action: 'Put', partitionKey: 'p', writeUnits: 5, readUnits: 0 });
    expect(over?.writeUnits).toBe(7);
  });

  it('a failed conditional write is billed on the larger of the stored and the would-be item', () => {
    const put = new PutItemCommand({
      TableName: TABLE,
      Item: itemOf(300),
      ConditionExpression: 'attribute_not_exists(pk)',
    });

    const [charge] = billCommand(
      'PutItem',
      put.input,
      { failed: true },
      sizes({ 'p/s': itemOf(1500) }, { 'p/s': itemOf(300) }),
    );

    expect(charge?.writeUnits).toBe(2);
  });

  it('a transaction of 3 items costs 2 units per item, also when cancelled, ConditionCheck included', () => {
    const counterKey = { pk: { S: 'T#t#E#e#C#3' }, sk: { S: 'B#600#V#a' } };
    const transaction = new TransactWriteItemsCommand({
      TransactItems: [
        {
          Put: {
            TableName: TABLE,
            Item: itemOf(200, 'T#t#E#e#R#k', 'A'),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Update: {
            TableName: TABLE,
            Key: counterKey,
            UpdateExpression: 'ADD sends :one',
            ExpressionAttributeValues: { ':one': { N: '1' } },
          },
        },
        {
          ConditionCheck: {
            TableName: TABLE,
            Key: { pk: { S: 'T#t' }, sk: { S: 'E#e' } },
            ConditionExpression: 'attribute_exists(pk)',
          },
        },
      ],
    });
    const stored = sizes(
      { 'T#t/E#e': itemOf(900, 'T#t', 'E#e') },
      { 'T#t#E#e#R#k/A': itemOf(200, 'T#t#E#e#R#k', 'A') },
    );

    const committed = billCommand('TransactWriteItems', transaction.input, { failed: false }, stored);
    const cancelled = billCommand('TransactWriteItems', transaction.input, { failed: true }, stored);

    expect(committed.map((c) => [c.action, c.partitionKey, c.writeUnits])).toEqual([
      ['Put', 'T#t#E#e#R#k', 2],
      ['Update', 'T#t#E#e#C#3', 2],
      ['ConditionCheck', 'T#t', 2],
    ]);
    expect(cancelled.reduce((sum, c) => sum + c.writeUnits, 0)).toBe(6);
  });

  it('UpdateItem is billed on the item it leaves, modelled from the expression', () => {
    const key = { pk: { S: 'p' }, sk: { S: 's' } };
    const update = new UpdateItemCommand({
      TableName: TABLE,
      Key: key,
      UpdateExpression: 'SET #snapshot = :snapshot, lease_until = :zero ADD lease_epoch :one',
      ExpressionAttributeNames: { '#snapshot': 'snapshot' },
      ExpressionAttributeValues: {
        ':snapshot': { S: 'x'.repeat(1500) },
        ':zero': { N: '0' },
        ':one': { N: '1' },
      },
    });
    const before = { ...key, lease_epoch: { N: '41' } };

    const after = applyUpdate(
      before,
      key,
      update.input.UpdateExpression!,
      update.input.ExpressionAttributeNames,
      update.input.ExpressionAttributeValues,
    );
    const [charge] = billCommand(
      'UpdateItem',
      update.input,
      { failed: false },
      sizes({ 'p/s': before }, { 'p/s': after! }),
    );

    expect(after?.['lease_epoch']).toEqual({ N: '42' });
    expect(after?.['snapshot']?.S).toHaveLength(1500);
    expect(charge?.writeUnits).toBe(2);
    expect(applyUpdate(before, key, 'SET n = n + :one', {}, { ':one': { N: '1' } })).toBeUndefined();
  });

  it('reads what DynamoDB reports as consumed, per table or summed over tables', () => {
    expect(reportedUnits({ ConsumedCapacity: { TableName: TABLE, CapacityUnits: 0.5 } })).toBe(0.5);
    expect(reportedUnits({ ConsumedCapacity: [{ CapacityUnits: 4 }, { CapacityUnits: 2 }] })).toBe(6);
    expect(reportedUnits({})).toBeNull();
  });
});
