// `weft replay`: Currents files under a prefix in a real local S3, re-ingested into DynamoDB Local through the
// Lambda's CurrentsIngestion; a second replay counts nothing twice.
import { createHash } from 'node:crypto';
import { type GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseS3Prefix, type ReplayFileResult, replayIngestion, replayPrefix } from '../../cli/replay';
import {
  CAMPAIGN_ID,
  clickRecord,
  clickSchema,
  currentsKey,
  writeCurrentsFile,
} from '../support/currents-fixtures';
import { startLocalS3 } from '../support/local-s3';
import { serviceOnLocalDynamoDb } from '../support/service';

const BUCKET = 'weft-currents-replay';
const sha = (value: string) => createHash('sha256').update(value).digest('hex');
const url = (token: string) => `https://shop.example/sale?utm_source=braze&weft=${token}`;

describe('weft replay', () => {
  let service: Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;
  let s3: Awaited<ReturnType<typeof startLocalS3>>;
  let acme: Awaited<ReturnType<typeof service.createTenant>>;
  const tokens = new Map<string, string>();

  async function clicks() {
    const report = await service.admin(acme.adminToken, { path: '/v1/experiments/spring/report' });
    const rows = report.body.variants as Array<{ sends: number; clicks: number }>;
    return {
      sends: rows.reduce((sum, v) => sum + v.sends, 0),
      clicks: rows.reduce((sum, v) => sum + v.clicks, 0),
    };
  }

  function replay(progress: Array<[number, number]> = [], client: S3Client = s3.client) {
    return replayPrefix({
      s3: client,
      bucket: BUCKET,
      prefix: 'acme/',
      ingestion: replayIngestion(service.client, service.tableName),
      onProgress: (done, total) => progress.push([done, total]),
    });
  }

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    s3 = await startLocalS3(BUCKET);
    acme = await service.createTenant('acme');
    const globex = await service.createTenant('globex');
    await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      body: {
        metric: 'clicks',
        variants: [
          { id: 'a', text: 'A' },
          { id: 'b', text: 'B' },
        ],
      },
    });
    for (let i = 0; i < 6; i++) {
      const served = await service.content(acme.connectToken, {
        experiment: 'spring',
        recipient: sha(`user-${i}`),
        campaign: CAMPAIGN_ID,
      });
      expect(served.status).toBe(200);
      tokens.set(`user-${i}`, served.body.token as string);
    }

    // File 1: user-0 (token, twice), user-1 (token), user-2 (campaign fallback), a stranger.
    const first = await writeCurrentsFile(
      clickSchema(),
      [
        clickRecord({ id: 'f1-e1', user_id: 'user-0', url: url(tokens.get('user-0')!) }),
        clickRecord({ id: 'f1-e2', user_id: 'user-0', url: url(tokens.get('user-0')!) }),
        clickRecord({ id: 'f1-e3', user_id: 'user-1', url: url(tokens.get('user-1')!) }),
        clickRecord({ id: 'f1-e4', user_id: 'user-2', url: 'https://shop.example/sale' }),
        clickRecord({ id: 'f1-e5', user_id: 'stranger', url: 'https://shop.example/' }),
      ],
      { codec: 'deflate' },
    );
    // File 2 (an hour later): user-1 again (already counted by file 1), user-3 (token), user-4 (fallback).
    const second = await writeCurrentsFile(
      clickSchema(),
      [
        clickRecord({ id: 'f2-e1', user_id: 'user-1', url: url(tokens.get('user-1')!) }),
        clickRecord({ id: 'f2-e2', user_id: 'user-3', url: url(tokens.get('user-3')!) }),
        clickRecord({ id: 'f2-e3', user_id: 'user-4', url: 'https://shop.example/sale' }),
      ],
      { codec: 'snappy' },
    );
    await s3.put(currentsKey({ folder: 'acme', layout: 'schema-id', date: '2025-04-01-17' }), first);
    await s3.put(currentsKey({ folder: 'acme', layout: 'version', date: '2025-04-01-18' }), second);
    // Skipped: an event type weft does not use. Failed: not Avro. Ignored: not `.avro`, or another prefix.
    await s3.put(
      currentsKey({ folder: 'acme', layout: 'schema-id', eventType: 'users.messages.email.Send' }),
      first,
    );
    await s3.put(
      currentsKey({ folder: 'acme', layout: 'schema-id', date: '2025-04-01-19' }),
      Buffer.from('junk'),
    );
    await s3.put('acme/README.txt', Buffer.from('not a Currents file'));
    await s3.put(
      currentsKey({ folder: 'globex', layout: 'schema-id' }),
      await writeCurrentsFile(clickSchema(), [clickRecord({ id: 'g1', user_id: 'user-5' })]),
    );
    expect(globex.tenant.id).toBe('globex');
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('counts each rewarded recipient once, and nothing more on a second replay', async () => {
    expect(await clicks()).toEqual({ sends: 6, clicks: 0 });

    const progress: Array<[number, number]> = [];
    const first = await replay(progress);
    expect(first).toMatchObject({ files: 4, ok: 2, skipped: 1, failed: 1, attributed: 5 });
    // user-0 twice in file 1, user-1 again in file 2.
    expect(first.duplicates).toBe(2);
    expect(byStatus(first.results)).toEqual({
      failed: [expect.stringContaining('2025-04-01-19')],
      ok: [expect.stringContaining('2025-04-01-17'), expect.stringContaining('2025-04-01-18')],
      skipped: [expect.stringContaining('event_type=users.messages.email.Send')],
    });
    expect(progress[0]).toEqual([0, 4]);
    expect(progress.at(-1)).toEqual([4, 4]);
    expect(await clicks()).toEqual({ sends: 6, clicks: 5 });

    // Listed two keys a page: the listing follows continuation tokens.
    const paged = pagedListing(s3.client, 2);
    const second = await replay([], paged.client);
    expect(second).toMatchObject({ files: 4, ok: 2, skipped: 1, failed: 1, attributed: 0 });
    expect(second.duplicates).toBeGreaterThanOrEqual(5);
    // 5 objects under acme/ (one not .avro), two a page.
    expect(paged.pages()).toBe(3);
    expect(await clicks()).toEqual({ sends: 6, clicks: 5 });
  });

  it('reads a bucket from an s3:// prefix', () => {
    expect(parseS3Prefix('s3://weft-currents-prod/acme/')).toEqual({
      bucket: 'weft-currents-prod',
      prefix: 'acme/',
    });
    expect(parseS3Prefix('acme/')).toEqual({ bucket: null, prefix: 'acme/' });
  });
});

/**
 * s3rver cannot truncate a ListObjectsV2 listing on OpenSSL 3 (its continuation tokens use DES), so pages
 * are cut here from its full listing; every other command reaches s3rver unchanged.
 */
function pagedListing(client: S3Client, pageSize: number): { client: S3Client; pages: () => number } {
  const paged = Object.create(client) as S3Client;
  let pages = 0;
  paged.send = (async (command: unknown) => {
    if (!(command instanceof ListObjectsV2Command)) return client.send(command as GetObjectCommand);
    const { ContinuationToken, ...input } = command.input;
    const all = await client.send(new ListObjectsV2Command({ ...input, MaxKeys: undefined }));
    const start = ContinuationToken === undefined ? 0 : Number(ContinuationToken);
    const end = start + pageSize;
    const contents = all.Contents ?? [];
    pages++;
    return {
      ...all,
      Contents: contents.slice(start, end),
      IsTruncated: end < contents.length,
      NextContinuationToken: end < contents.length ? String(end) : undefined,
    };
  }) as S3Client['send'];
  return { client: paged, pages: () => pages };
}

function byStatus(results: ReplayFileResult[]): Record<string, string[]> {
  const grouped: Record<string, string[]> = {};
  for (const result of results) grouped[result.status] = [...(grouped[result.status] ?? []), result.key];
  for (const keys of Object.values(grouped)) keys.sort();
  return grouped;
}
