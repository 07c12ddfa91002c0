// The exact commands the DynamoDB adapters send for their conditional writes, on a mocked client: the condition,
// the keys and the counter update travel in the one request that makes them atomic. Inputs are compared whole
// (toEqual), which is stricter than aws-sdk-client-mock-vitest's objectContaining matchers.
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbAllocationStore } from '../../adapters/dynamodb/dynamodb-allocation-store';
import { DynamoDbExperimentStore } from '../../adapters/dynamodb/dynamodb-experiment-store';
import { DynamoDbLedger } from '../../adapters/dynamodb/dynamodb-ledger';
import { COUNTER_SHARDS } from '../../adapters/dynamodb/keys';
import { ShardCounts } from '../../adapters/dynamodb/shard-counts';
import { ConflictError } from '../../domain/errors';
import { changeStatus, defineExperiment } from '../../domain/experiment';

const NOW = 1_767_225_600;
const TABLE = 'weft';

const client = new DynamoDBClient({ region: 'eu-west-1' });
const dynamodb = mockClient(client);
beforeEach(() => {
  dynamodb.reset();
});

const transactions = () => dynamodb.commandCalls(TransactWriteItemsCommand).map((call) => call.args[0].input);
const updates = () => dynamodb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input);

/** Counters on one shard, already known: no head read, and the counter's key is deterministic. */
function oneShard() {
  const shards = new ShardCounts(client, TABLE);
  shards.learn('acme', 'spring', 1);
  return shards;
}

const send = {
  tenantId: 'acme',
  experimentId: 'spring',
  recipientKey: 'rk-1',
  variantId: 'b',
  sentAt: NOW + 10,
  campaignId: 'camp-1',
  dispatchId: 'dispatch-1',
  expiresAt: NOW + 86_400,
};

const assignmentPut = {
  Put: {
    TableName: TABLE,
    Item: {
      pk: { S: 'T#acme#E#spring#R#rk-1' },
      sk: { S: 'A' },
      variant: { S: 'b' },
      sent_at: { N: String(NOW + 10) },
      expires_at: { N: String(NOW + 86_400) },
      campaign: { S: 'camp-1' },
      dispatch: { S: 'dispatch-1' },
    },
    ConditionExpression: 'attribute_not_exists(pk)',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  },
};

const sendCounterAdd = {
  Update: {
    TableName: TABLE,
    Key: { pk: { S: 'T#acme#E#spring#C#0' }, sk: { S: `B#${NOW}#V#b` } },
    // One send, and when in its bucket it was made: 10 s in, recorded as second 11 (and its square).
    UpdateExpression: 'ADD #c0 :c0, #c1 :c1, #c2 :c2',
    ExpressionAttributeNames: { '#c0': 'sends', '#c1': 'sent_sec', '#c2': 'sent_sec2' },
    ExpressionAttributeValues: { ':c0': { N: '1' }, ':c1': { N: '11' }, ':c2': { N: '121' } },
  },
};

const campaignLink = {
  Put: {
    TableName: TABLE,
    Item: { pk: { S: 'T#acme#CAMPAIGN#camp-1' }, sk: { S: 'E#spring' }, experiment: { S: 'spring' } },
  },
};

describe('DynamoDbLedger.assign', () => {
  it('sends one transaction: the conditional Put, the send counter ADD, and the campaign link', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    const ledger = new DynamoDbLedger(client, TABLE, oneShard());

    expect(await ledger.assign(send)).toEqual({ created: true });

    expect(transactions()).toEqual([{ TransactItems: [assignmentPut, sendCounterAdd, campaignLink] }]);
    expect(dynamodb.calls()).toHaveLength(1);
  });

  it('links a campaign once per container, and not at all without one', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    const ledger = new DynamoDbLedger(client, TABLE, oneShard());

    await ledger.assign(send);
    await ledger.assign({ ...send, recipientKey: 'rk-2' });
    await ledger.assign({ ...send, recipientKey: 'rk-3', campaignId: null, dispatchId: null });

    const sent = transactions();
    expect(sent.map((input) => input.TransactItems?.length)).toEqual([3, 2, 2]);
    expect(sent[2]).toEqual({
      TransactItems: [
        {
          Put: {
            ...assignmentPut.Put,
            Item: {
              pk: { S: 'T#acme#E#spring#R#rk-3' },
              sk: { S: 'A' },
              variant: { S: 'b' },
              sent_at: { N: String(NOW + 10) },
              expires_at: { N: String(NOW + 86_400) },
            },
          },
        },
        sendCounterAdd,
      ],
    });
  });

  it('a failed condition returns the stored assignment, without a retry', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: [
          {
            Code: 'ConditionalCheckFailed',
            Item: { variant: { S: 'a' }, sent_at: { N: String(NOW) }, opened_at: { N: String(NOW + 5) } },
          },
          { Code: 'None' },
          { Code: 'None' },
        ],
      }),
    );
    const ledger = new DynamoDbLedger(client, TABLE, oneShard());

    expect(await ledger.assign(send)).toEqual({
      created: false,
      existing: {
        tenantId: 'acme',
        experimentId: 'spring',
        recipientKey: 'rk-1',
        variantId: 'a',
        sentAt: NOW,
        campaignId: null,
        openedAt: NOW + 5,
        machineOpenedAt: null,
        clickedAt: null,
        clickSource: null,
        convertedAt: null,
      },
    });
    expect(transactions()).toHaveLength(1);
  });
});

describe('DynamoDbAllocationStore.acquireLease', () => {
  it('sends the conditional UpdateItem that bumps the epoch, and returns the new epoch', async () => {
    dynamodb.on(UpdateItemCommand).resolves({ Attributes: { lease_epoch: { N: '4' } } });
    const store = new DynamoDbAllocationStore(client, TABLE, oneShard());

    expect(await store.acquireLease('acme', 'spring', NOW, NOW + 10)).toBe(4);

    expect(updates()).toEqual([
      {
        TableName: TABLE,
        Key: { pk: { S: 'T#acme#E#spring#HEAD' }, sk: { S: 'H' } },
        UpdateExpression: 'SET lease_until = :until ADD lease_epoch :one',
        ConditionExpression: 'attribute_not_exists(lease_until) OR lease_until <= :now',
        ExpressionAttributeValues: {
          ':until': { N: String(NOW + 10) },
          ':now': { N: String(NOW) },
          ':one': { N: '1' },
        },
        ReturnValues: 'UPDATED_NEW',
      },
    ]);
    expect(dynamodb.calls()).toHaveLength(1);
  });

  it('a failed condition (someone holds the lease) is null, not an error', async () => {
    dynamodb
      .on(UpdateItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    const store = new DynamoDbAllocationStore(client, TABLE, oneShard());

    expect(await store.acquireLease('acme', 'spring', NOW, NOW + 10)).toBeNull();
    expect(updates()).toHaveLength(1);
  });
});

describe('DynamoDbExperimentStore.save', () => {
  const body = {
    variants: [
      { id: 'a', text: 'A' },
      { id: 'b', text: 'B' },
    ],
  };
  const created = defineExperiment('acme', 'spring', body, null, NOW);

  it('a new experiment: Put if absent, and the head update with version and counter shards, in one transaction', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    const store = new DynamoDbExperimentStore(client, TABLE);

    await store.save(created);

    expect(transactions()).toEqual([
      {
        TransactItems: [
          {
            Put: {
              TableName: TABLE,
              Item: {
                pk: { S: 'T#acme' },
                sk: { S: 'E#spring' },
                data: { S: JSON.stringify(created) },
                version: { N: '1' },
              },
              ConditionExpression: 'attribute_not_exists(pk)',
              ExpressionAttributeValues: undefined,
            },
          },
          {
            Update: {
              TableName: TABLE,
              Key: { pk: { S: 'T#acme#E#spring#HEAD' }, sk: { S: 'H' } },
              UpdateExpression: 'SET definition_version = :v, counter_shards = :shards',
              ExpressionAttributeValues: { ':v': { N: '1' }, ':shards': { N: String(COUNTER_SHARDS) } },
            },
          },
        ],
      },
    ]);
  });

  it('an update: Put guarded by the previous version, and the head’s version only', async () => {
    dynamodb.on(TransactWriteItemsCommand).resolves({});
    const store = new DynamoDbExperimentStore(client, TABLE);
    const paused = changeStatus(created, { status: 'paused' }, NOW + 60);

    await store.save(paused);

    expect(transactions()).toEqual([
      {
        TransactItems: [
          {
            Put: {
              TableName: TABLE,
              Item: {
                pk: { S: 'T#acme' },
                sk: { S: 'E#spring' },
                data: { S: JSON.stringify(paused) },
                version: { N: '2' },
              },
              ConditionExpression: 'attribute_exists(pk) AND version = :previous',
              ExpressionAttributeValues: { ':previous': { N: '1' } },
            },
          },
          {
            Update: {
              TableName: TABLE,
              Key: { pk: { S: 'T#acme#E#spring#HEAD' }, sk: { S: 'H' } },
              UpdateExpression: 'SET definition_version = :v',
              ExpressionAttributeValues: { ':v': { N: '2' } },
            },
          },
        ],
      },
    ]);
  });

  it('a cancelled condition is a version conflict', async () => {
    dynamodb.on(TransactWriteItemsCommand).rejects(
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
      }),
    );
    const store = new DynamoDbExperimentStore(client, TABLE);

    await expect(store.save(created)).rejects.toMatchObject({ code: 'version_conflict' });
    await expect(store.save(created)).rejects.toBeInstanceOf(ConflictError);
    expect(transactions()).toHaveLength(2);
    expect(dynamodb.commandCalls(GetItemCommand)).toHaveLength(0);
  });
});
