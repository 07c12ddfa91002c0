// A frozen store under the running local stack: DynamoDB Local stopped with SIGSTOP. Content keeps answering
// 200 inside its budget with `fallback: true`, the pixel keeps answering its GIF, ingestion fails and is
// retried once the store thaws, and nothing is lost or double counted.
import { createHash } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickRecord, clickSchema, currentsKey, writeCurrentsFile } from '../support/currents-fixtures';
import { type LocalStack, startLocalStack } from '../support/local-stack';
import { pidListeningOn } from '../support/processes';

const sha = (value: string) => createHash('sha256').update(value).digest('hex');

interface ContentBody {
  variant: string | null;
  token: string;
  fallback: boolean;
}

describe('frozen store', () => {
  let stack: LocalStack;
  let dynamodbPid = 0;
  const get = (path: string, token: string) =>
    fetch(`${stack.baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    stack = await startLocalStack();
    dynamodbPid = pidListeningOn(stack.ports.dynamodb);
    const put = await fetch(`${stack.baseUrl}/v1/experiments/frozen`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.tenantFile.admin_token}` },
      body: JSON.stringify({
        metric: 'clicks',
        variants: [
          { id: 'a', text: 'A' },
          { id: 'b', text: 'B' },
        ],
      }),
    });
    expect(put.status).toBe(201);
    // Warm the container: auth, experiment and allocation are cached from here on.
    for (let i = 0; i < 5; i++) {
      expect(
        (
          await get(
            `/v1/content?experiment=frozen&recipient=${sha(`warm-${i}`)}`,
            stack.tenantFile.connect_token,
          )
        ).status,
      ).toBe(200);
    }
  }, 240_000);

  afterAll(async () => {
    if (dynamodbPid) process.kill(dynamodbPid, 'SIGCONT');
    await stack?.stop();
  });

  it('serves content and pixels while frozen, and catches up on ingestion after the thaw', async () => {
    const warm = (await (
      await get(`/v1/content?experiment=frozen&recipient=${sha('clicker')}`, stack.tenantFile.connect_token)
    ).json()) as ContentBody;
    expect(warm.fallback).toBe(false);

    process.kill(dynamodbPid, 'SIGSTOP');
    try {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const response = await get(
          `/v1/content?experiment=frozen&recipient=${sha(`frozen-${i}`)}`,
          stack.tenantFile.connect_token,
        );
        const elapsed = Date.now() - started;
        expect(response.status).toBe(200);
        const body = (await response.json()) as ContentBody;
        expect(body.fallback).toBe(true);
        expect(['a', 'b']).toContain(body.variant);
        expect(elapsed).toBeLessThan(2000);
      }
      const pixel = await fetch(`${stack.baseUrl}/v1/pixel/${warm.token}.gif`);
      expect(pixel.status).toBe(200);
      expect(pixel.headers.get('content-type')).toBe('image/gif');
      expect((await pixel.arrayBuffer()).byteLength).toBe(43);
      const file = await writeCurrentsFile(clickSchema(), [
        clickRecord({
          id: 'frozen-click',
          url: `https://shop.example/?weft=${warm.token}`,
          time: Math.floor(Date.now() / 1000),
        }),
      ]);
      await stack.s3Client.send(
        new PutObjectCommand({
          Bucket: stack.tenantFile.bucket,
          Key: currentsKey({ folder: stack.tenantFile.folder, layout: 'schema-id' }),
          Body: file,
        }),
      );
      await new Promise((r) => setTimeout(r, 3000));
    } finally {
      process.kill(dynamodbPid, 'SIGCONT');
    }

    const report = async () =>
      (await (await get('/v1/experiments/frozen/report', stack.tenantFile.admin_token)).json()) as {
        variants: Array<{ clicks: number; sends: number }>;
      };
    let clicks = 0;
    for (let i = 0; i < 60 && clicks === 0; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      clicks = (await report()).variants.reduce((s, v) => s + v.clicks, 0);
    }
    expect(clicks).toBe(1);
    const after = (await (
      await get(
        `/v1/content?experiment=frozen&recipient=${sha('after-thaw')}`,
        stack.tenantFile.connect_token,
      )
    ).json()) as ContentBody;
    expect(after.fallback).toBe(false);
  }, 180_000);
});
