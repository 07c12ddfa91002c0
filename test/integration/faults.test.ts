// Faults around ingestion and content, injected with aws-sdk-client-mock on top of the real DynamoDB Local and
// local S3: an S3 stream failing mid-file, the store throttling in the middle of a batch (a Lambda retry of a
// half-done batch), and throttling on every store call of the content path. After each: nothing lost, nothing
// counted twice (reconcile finds zero drift), and content never answers 5xx.
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbExperimentStore } from '../../adapters/dynamodb/dynamodb-experiment-store';
import { DynamoDbLedger } from '../../adapters/dynamodb/dynamodb-ledger';
import { StoreUnavailableError } from '../../domain/errors';
import { createIngestCurrents } from '../../handlers/ingest-currents';
import { createSelectContent } from '../../handlers/select-content';
import { httpHandler } from '../../handlers/shared/http';
import { createStores, reconcileTable } from '../../handlers/shared/stage';
import { clickRecord, clickSchema, currentsKey, writeCurrentsFile } from '../support/currents-fixtures';
import { bearer, httpEvent, lambdaContext, parseJson, s3Event } from '../support/events';
import { startLocalS3 } from '../support/local-s3';
import { serviceOnLocalDynamoDb } from '../support/service';

const BUCKET = 'weft-currents-test';
const sha = (value: string) => createHash('sha256').update(value).digest('hex');

describe('fault injection', () => {
  let service: Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;
  let s3: Awaited<ReturnType<typeof startLocalS3>>;
  let acme: Awaited<ReturnType<typeof service.createTenant>>;
  const tokens: string[] = [];

  const drift = async () => (await reconcileTable(service.client, service.tableName)).drift;

  async function clicks() {
    const report = await service.admin(acme.adminToken, { path: '/v1/experiments/faults/report' });
    return (report.body.variants as Array<{ clicks: number }>).reduce((s, v) => s + v.clicks, 0);
  }

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    s3 = await startLocalS3(BUCKET);
    acme = await service.createTenant('acme');
    await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/faults',
      body: {
        metric: 'clicks',
        variants: [
          { id: 'a', text: 'A' },
          { id: 'b', text: 'B' },
        ],
      },
    });
    for (let i = 0; i < 40; i++) {
      const served = await service.content(acme.connectToken, {
        experiment: 'faults',
        recipient: sha(`f${i}`),
      });
      tokens.push(served.body.token as string);
    }
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('an S3 stream failing mid-file fails the invocation (Lambda retries); the retry counts each click once', async () => {
    const records = tokens
      .slice(0, 20)
      .map((token, i) => clickRecord({ id: `s${i}`, url: `https://x.example/?weft=${token}` }));
    const file = await writeCurrentsFile(clickSchema(), records, { codec: 'null', blockSize: 512 });
    const key = currentsKey({ folder: 'acme', layout: 'schema-id', date: '2026-11-30-01' });
    await s3.put(key, file);

    const broken = new S3Client({ region: 'us-east-1' });
    const brokenMock = mockClient(broken);
    brokenMock.on(GetObjectCommand).callsFake(() => {
      const body = new PassThrough();
      body.write(file.subarray(0, Math.floor(file.length * 0.7)));
      setTimeout(() => body.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 20);
      return { Body: body };
    });
    const failing = createIngestCurrents(service.stores, broken);
    await expect(failing(s3Event(BUCKET, [key]))).rejects.toBeInstanceOf(StoreUnavailableError);
    // Rewards are written in batches: whatever was written before the failure stays, nothing more.
    expect(await clicks()).toBeLessThan(20);

    const retry = createIngestCurrents(service.stores, s3.client);
    await retry(s3Event(BUCKET, [key]));
    await retry(s3Event(BUCKET, [key]));
    expect(await clicks()).toBe(20);
    expect(await drift()).toBe(0);
  });

  it('a store throttling in the middle of a batch fails the invocation; the Lambda retry finishes it exactly', async () => {
    const records = tokens
      .slice(20)
      .map((token, i) => clickRecord({ id: `t${i}`, url: `https://x.example/?weft=${token}` }));
    const key = currentsKey({ folder: 'acme', layout: 'version', date: '2026-11-30-02' });
    await s3.put(key, await writeCurrentsFile(clickSchema(), records, { codec: 'deflate' }));

    // The store starts throttling after seven reward writes, as DynamoDB does under a hot partition.
    const realLedger = service.stores.ledger;
    let writes = 0;
    const flakyLedger = Object.create(realLedger) as DynamoDbLedger;
    flakyLedger.reward = async (reward) => {
      writes++;
      if (writes > 7) {
        throw new StoreUnavailableError('reward', {
          cause: Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
        });
      }
      return realLedger.reward(reward);
    };
    const flakyStores = { ...service.stores, ledger: flakyLedger };
    const half = createIngestCurrents(flakyStores, s3.client);
    const before = await clicks();
    await expect(half(s3Event(BUCKET, [key]))).rejects.toBeInstanceOf(StoreUnavailableError);
    // Writes already in flight when the invocation failed may still land; none beyond the seven let through.
    await new Promise((r) => setTimeout(r, 500));
    const afterHalf = await clicks();
    expect(afterHalf - before).toBeGreaterThan(0);
    expect(afterHalf - before).toBeLessThanOrEqual(7);

    const retry = createIngestCurrents(service.stores, s3.client);
    await retry(s3Event(BUCKET, [key]));
    expect((await clicks()) - before).toBe(20);
    expect(await drift()).toBe(0);
  });

  it('throttling and timeouts on every store call of the content path never give a 5xx', async () => {
    for (const failure of [
      'ThrottlingException',
      'TimeoutError',
      'InternalServerError',
      'ProvisionedThroughputExceededException',
    ]) {
      const client = new DynamoDBClient({
        region: 'local',
        endpoint: service.endpoint,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      });
      const mock = mockClient(client);
      mock.onAnyCommand().rejects(Object.assign(new Error(failure), { name: failure }));
      // Warm caches from the real store, then fail every call.
      const stores = createStores(service.config, service.client);
      const warm = httpHandler(createSelectContent(service.config, stores));
      const call = (handler: typeof warm, recipient: string) =>
        handler(
          httpEvent({
            path: '/v1/content',
            query: { experiment: 'faults', recipient: sha(recipient) },
            headers: bearer(acme.connectToken),
          }),
          lambdaContext(),
        );
      expect((await call(warm, 'warm-up')).statusCode).toBe(200);
      const failingStores = {
        ...stores,
        experiments: new DynamoDbExperimentStore(client, service.tableName),
        ledger: new DynamoDbLedger(client, service.tableName),
      };
      const cold = httpHandler(createSelectContent(service.config, createStores(service.config, client)));
      for (const handler of [httpHandler(createSelectContent(service.config, failingStores)), cold]) {
        const result = await call(handler, `during-${failure}`);
        expect(result.statusCode).toBe(200);
        expect(parseJson(result).fallback).toBe(true);
      }
      mock.restore();
    }
    expect(await drift()).toBe(0);
  });
});
