// `npm start`'s stack, end to end: the tenant file, auth on the HTTP API, an experiment round trip, the local
// S3 notification reaching the ingestion handler, and a stop that leaves no port behind.
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_TENANT_KEYS } from '../../local/local-tenant';
import { clickRecord, clickSchema, currentsKey, writeCurrentsFile } from '../support/currents-fixtures';
import { type LocalStack, startLocalStack } from '../support/local-stack';

const ERROR_BODY = { error: { code: expect.any(String), message: expect.any(String) } };

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('local stack', () => {
  let stack: LocalStack;
  const call = (path: string, init: RequestInit = {}) => fetch(`${stack.baseUrl}${path}`, init);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    stack = await startLocalStack();
  }, 150_000);

  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  it('writes local-tenant.json with every key scripts rely on', () => {
    for (const key of LOCAL_TENANT_KEYS) expect(stack.tenantFile[key], key).toEqual(expect.any(String));
    expect(stack.tenantFile).toMatchObject({
      base_url: stack.baseUrl,
      tenant: 'demo',
      folder: 'demo',
      bucket: 'weft-currents-local',
      s3_endpoint: `http://127.0.0.1:${stack.ports.s3}`,
      dynamodb_endpoint: `http://127.0.0.1:${stack.ports.dynamodb}`,
    });
    expect(stack.tenantFile.connect_token).not.toBe('');
    expect(stack.tenantFile.admin_token).not.toBe(stack.tenantFile.connect_token);
  });

  it('answers GET /v1/content without a token with 401 and an error body', async () => {
    const response = await call('/v1/content?experiment=spring-sale&recipient=user-1');

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(ERROR_BODY);
  });

  it('stores an experiment with the admin token and gives it back', async () => {
    const experiment = {
      name: 'Spring sale',
      metric: 'clicks',
      variants: [
        { id: 'a', text: 'Spring savings start now', control: true },
        { id: 'b', text: 'Your spring sale is here' },
      ],
    };

    const put = await call('/v1/experiments/x', {
      method: 'PUT',
      headers: { ...bearer(stack.tenantFile.admin_token), 'content-type': 'application/json' },
      body: JSON.stringify(experiment),
    });
    const get = await call('/v1/experiments/x', { headers: bearer(stack.tenantFile.admin_token) });

    expect(put.status).toBeLessThan(300);
    expect(get.status).toBe(200);
    const stored = (await get.json()) as { variants: { id: string; text: string }[] };
    expect(stored).toMatchObject({ name: 'Spring sale', metric: 'clicks' });
    expect(stored.variants.map(({ id, text }) => ({ id, text }))).toEqual([
      { id: 'a', text: 'Spring savings start now' },
      { id: 'b', text: 'Your spring sale is here' },
    ]);
  });

  it('refuses the connect token on the admin API', async () => {
    const response = await call('/v1/experiments', { headers: bearer(stack.tenantFile.connect_token) });

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(ERROR_BODY);
  });

  it('runs the ingestion handler for an .avro object written to the local bucket, and only for those', async () => {
    const key = currentsKey({ folder: stack.tenantFile.folder, layout: 'version' });
    const ignoredKey = `${stack.tenantFile.folder}/not-currents/readme.json`;
    const body = await writeCurrentsFile(clickSchema(), [clickRecord()]);

    await stack.s3Client.send(
      new PutObjectCommand({ Bucket: stack.tenantFile.bucket, Key: ignoredKey, Body: '{}' }),
    );
    await stack.s3Client.send(
      new PutObjectCommand({ Bucket: stack.tenantFile.bucket, Key: key, Body: body }),
    );

    let keys: string[] = [];
    for (const deadline = Date.now() + 45_000; Date.now() < deadline && !keys.includes(key); ) {
      await delay(200);
      const response = await call('/v1/ingestion', { headers: bearer(stack.tenantFile.admin_token) });
      if (response.ok)
        keys = ((await response.json()) as { files: { key: string }[] }).files.map((f) => f.key);
    }
    // The key exactly as written: S3 URL-encodes keys in its events (the local stack does too), and the `+`
    // in Currents file names must survive the handler's decoding.
    expect(keys).toContain(key);
    expect(keys).not.toContain(ignoredKey);
  }, 60_000);

  it('stops every process and frees every port', async () => {
    await stack.stop();

    for (const [name, port] of Object.entries(stack.ports)) expect(await portIsFree(port), name).toBe(true);
  });
});
