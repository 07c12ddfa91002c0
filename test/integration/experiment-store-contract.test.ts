// One contract for ExperimentStore.listPage, run against the DynamoDB adapter (on DynamoDB Local) and the
// in-memory fake: same order, same pages, same cursors, same refusals. Plus both side by side on the same data.
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbExperimentStore } from '../../adapters/dynamodb/dynamodb-experiment-store';
import { MemoryExperimentStore } from '../../adapters/memory/memory-stores';
import { ValidationError } from '../../domain/errors';
import { DEFAULT_OPTIONS, defineExperiment, type Experiment } from '../../domain/experiment';
import { encodeCursor } from '../../domain/paging';
import type { ExperimentStore } from '../../domain/ports/experiment-store';
import { freshTable } from '../support/dynamodb';

const NOW = 1_767_225_600;

function experiment(tenantId: string, id: string, variantCount = 2, textLength = 10): Experiment {
  const variants = Array.from({ length: variantCount }, (_, i) => ({
    id: `v${i}`,
    text: 't'.repeat(textLength),
  }));
  return defineExperiment(tenantId, id, { name: `${tenantId} ${id}`, variants }, null, NOW);
}

/** Every page from the first, as (ids, nextCursor). Stops after 100 pages so a looping cursor fails, not hangs. */
async function allPages(store: ExperimentStore, tenantId: string, limit: number) {
  const pages: Array<{ ids: string[]; nextCursor: string | null }> = [];
  let cursor: string | null = null;
  do {
    const page = await store.listPage(tenantId, { limit, cursor });
    pages.push({ ids: page.experiments.map((e) => e.id), nextCursor: page.nextCursor });
    cursor = page.nextCursor;
  } while (cursor && pages.length < 100);
  return pages;
}

/** Byte order of ASCII ids, as DynamoDB sorts `E#<id>`: '-' < digits < '_' < letters, a prefix first. */
const IDS = ['zulu', 'a', 'a-1', 'a_1', 'a1', 'ab', '0', '-x', '9', 'b'];
const SORTED = ['-x', '0', '9', 'a', 'a-1', 'a1', 'a_1', 'ab', 'b', 'zulu'];

const adapters: Array<[string, () => Promise<ExperimentStore>]> = [
  ['memory', async () => new MemoryExperimentStore()],
  [
    'dynamodb',
    async () => {
      const { client, tableName } = await freshTable();
      return new DynamoDbExperimentStore(client, tableName);
    },
  ],
];

describe.each(adapters)('ExperimentStore.listPage contract: %s', (_name, makeStore) => {
  let store: ExperimentStore;

  beforeAll(async () => {
    store = await makeStore();
    for (const id of IDS) await store.save(experiment('acme', id));
    for (const id of ['a', 'aa', 'c']) await store.save(experiment('globex', id));
  });

  it('an empty tenant is one empty last page', async () => {
    expect(await store.listPage('nobody', { limit: 5, cursor: null })).toEqual({
      experiments: [],
      nextCursor: null,
    });
  });

  it.each([1, 2, 3, 4, 9, 10, 11, 100])(
    'limit %i: every experiment once, in id order, no empty last page',
    async (limit) => {
      const pages = await allPages(store, 'acme', limit);
      expect(pages.flatMap((p) => p.ids)).toEqual(SORTED);
      expect(pages.map((p) => p.ids.length)).toEqual(
        Array.from({ length: Math.ceil(SORTED.length / limit) }, (_, i) =>
          Math.min(limit, SORTED.length - i * limit),
        ),
      );
      expect(pages.at(-1)?.nextCursor).toBeNull();
      for (const page of pages.slice(0, -1))
        expect(page.nextCursor).toBe(encodeCursor(page.ids.at(-1) ?? ''));
    },
  );

  it('returns whole experiments, equal to what get returns', async () => {
    const page = await store.listPage('acme', { limit: 2, cursor: null });
    expect(page.experiments).toEqual([await store.get('acme', '-x'), await store.get('acme', '0')]);
  });

  it('a cursor for an id that is not stored starts right after where that id would be', async () => {
    const page = await store.listPage('acme', { limit: 3, cursor: encodeCursor('a0') });
    expect(page.experiments.map((e) => e.id)).toEqual(['a1', 'a_1', 'ab']);
    expect(page.nextCursor).toBe(encodeCursor('ab'));
    const end = await store.listPage('acme', { limit: 3, cursor: encodeCursor('zzz') });
    expect(end).toEqual({ experiments: [], nextCursor: null });
  });

  it("another tenant's cursor only positions the page inside the caller's own experiments", async () => {
    const acmePage = await store.listPage('acme', { limit: 4, cursor: null });
    expect(acmePage.nextCursor).toBe(encodeCursor('a'));
    const globexPage = await store.listPage('globex', { limit: 4, cursor: acmePage.nextCursor });
    expect(globexPage.experiments.map((e) => [e.tenantId, e.id])).toEqual([
      ['globex', 'aa'],
      ['globex', 'c'],
    ]);
    expect(globexPage.nextCursor).toBeNull();
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['padding', `${encodeCursor('ab')}=`],
    ['not canonical (trailing bits)', 'YWJ'],
    ['an invalid id', encodeCursor('Not Valid')],
    ['an id too long', encodeCursor('a'.repeat(65))],
    ['a path', encodeCursor('../x')],
    ['a key fragment', encodeCursor('a#E#b')],
    ['empty', ''],
  ])('refuses a cursor that is %s, naming the field', async (_case, cursor) => {
    const refusal = await store.listPage('acme', { limit: 3, cursor }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ValidationError);
    expect(refusal).toMatchObject({ field: 'cursor', code: 'invalid_request' });
  });

  it('pages of large experiments are still full pages (a query stopping at 1 MB is continued)', async () => {
    // ~240 KB each: DynamoDB stops a query at 1 MB (five of these), so a page of six needs a second query.
    const big = Array.from({ length: 7 }, (_, i) => {
      const e = experiment('bulky', `big-${i}`, 20, 2000);
      return { ...e, variants: e.variants.map((v) => ({ ...v, parts: partsOf(2000) })) };
    });
    for (const e of big) await store.save(e);
    const pages = await allPages(store, 'bulky', 6);
    expect(pages.map((p) => p.ids)).toEqual([big.slice(0, 6).map((e) => e.id), ['big-6']]);
    expect(pages.at(-1)?.nextCursor).toBeNull();
  });
});

function partsOf(length: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`p${i}`, 'p'.repeat(length)]));
}

describe('memory and DynamoDB give the same pages for the same data', () => {
  it('for every limit from 1 to 12, over two tenants with interleaved ids', async () => {
    const memory = new MemoryExperimentStore();
    const { client, tableName } = await freshTable();
    const dynamodb = new DynamoDbExperimentStore(client, tableName);
    const data = [
      ...IDS.map((id) => experiment('acme', id)),
      ...['-a', '00', 'a-0', 'a2', 'b_', 'zz'].map((id) => experiment('globex', id)),
    ];
    for (const e of data) {
      await memory.save(e);
      await dynamodb.save(e);
    }
    for (const tenantId of ['acme', 'globex', 'initech']) {
      for (let limit = 1; limit <= 12; limit++) {
        const [fromMemory, fromDynamoDb] = await Promise.all([
          allPages(memory, tenantId, limit),
          allPages(dynamodb, tenantId, limit),
        ]);
        expect(fromDynamoDb, `${tenantId} limit ${limit}`).toEqual(fromMemory);
      }
      // And from a foreign cursor: acme's ids position globex's pages the same way in both.
      for (const id of SORTED) {
        const cursor = encodeCursor(id);
        const [fromMemory, fromDynamoDb] = await Promise.all([
          memory.listPage(tenantId, { limit: 2, cursor }),
          dynamodb.listPage(tenantId, { limit: 2, cursor }),
        ]);
        expect(fromDynamoDb, `${tenantId} after ${id}`).toEqual(fromMemory);
      }
    }
  });
});

describe('DynamoDbExperimentStore.listPage queries', () => {
  it("reads one past the page, inside the tenant's partition, and keeps reading when a query stops short", async () => {
    const client = new DynamoDBClient({ region: 'local' });
    const mock = mockClient(client);
    const item = (id: string) => ({
      pk: { S: 'T#acme' },
      sk: { S: `E#${id}` },
      data: { S: JSON.stringify(experiment('acme', id)) },
    });
    mock
      .on(QueryCommand)
      .resolvesOnce({
        Items: [item('b'), item('c')],
        LastEvaluatedKey: { pk: { S: 'T#acme' }, sk: { S: 'E#c' } },
      })
      .resolvesOnce({
        Items: [item('d'), item('e')],
        LastEvaluatedKey: { pk: { S: 'T#acme' }, sk: { S: 'E#e' } },
      });
    const store = new DynamoDbExperimentStore(client, 'weft');

    const page = await store.listPage('acme', { limit: 3, cursor: encodeCursor('a') });

    expect(page.experiments.map((e) => e.id)).toEqual(['b', 'c', 'd']);
    expect(page.nextCursor).toBe(encodeCursor('d'));
    const inputs = mock.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs).toEqual([
      {
        TableName: 'weft',
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
        ExpressionAttributeValues: { ':pk': { S: 'T#acme' }, ':e': { S: 'E#' } },
        ExclusiveStartKey: { pk: { S: 'T#acme' }, sk: { S: 'E#a' } },
        Limit: 4,
      },
      expect.objectContaining({ ExclusiveStartKey: { pk: { S: 'T#acme' }, sk: { S: 'E#c' } }, Limit: 2 }),
    ]);
  });

  it('reads a definition stored before an option existed with that option at its default', async () => {
    const { client, tableName } = await freshTable();
    const store = new DynamoDbExperimentStore(client, tableName);
    const current = experiment('acme', 'older');
    const { share_exponent: _added, ...before } = current.options;
    // As an earlier version wrote it: the definition JSON without the newer option.
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: 'T#acme' },
          sk: { S: 'E#older' },
          data: { S: JSON.stringify({ ...current, options: before }) },
        },
      }),
    );

    const read = await store.get('acme', 'older');

    expect(read?.options).toEqual({ ...before, share_exponent: DEFAULT_OPTIONS.share_exponent });
    expect(read).toEqual(current);
  });

  it('sends nothing for a bad cursor', async () => {
    const client = new DynamoDBClient({ region: 'local' });
    const mock = mockClient(client);
    const store = new DynamoDbExperimentStore(client, 'weft');
    await expect(store.listPage('acme', { limit: 3, cursor: '!!' })).rejects.toBeInstanceOf(ValidationError);
    expect(mock.commandCalls(QueryCommand)).toHaveLength(0);
  });
});
