// Everything the handlers log, captured at the process's stdout/stderr (where Powertools Logger writes its JSON
// lines) while real requests run on DynamoDB Local — accepted, rejected, forged and during a store outage — must
// carry no bearer token, tracking token, raw recipient id, recipient digest or keyed hash, and no stack trace.
import { createHash } from 'node:crypto';
import {
  BatchGetItemCommand,
  type BatchGetItemCommandInput,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { recipientKey } from '../../domain/recipient';
import { TokenRewards } from '../../domain/rewards';
import { nowSeconds } from '../../domain/time';
import { createAdmin } from '../../handlers/admin';
import { createSelectContent } from '../../handlers/select-content';
import { httpHandler } from '../../handlers/shared/http';
import { logger } from '../../handlers/shared/logger';
import { createStores } from '../../handlers/shared/stage';
import { createTrackOpen } from '../../handlers/track-open';
import { localDynamoDbClient } from '../../local/dynamodb-local';
import { bearer, httpEvent, lambdaContext, parseJson } from '../support/events';
import { serviceOnLocalDynamoDb } from '../support/service';

type Service = Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;
type Tenant = Awaited<ReturnType<Service['createTenant']>>;

const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

const RAW_RECIPIENTS = [
  'alice.private@example.com',
  'braze-user-8f3a2c91',
  'bob+news@example.org',
  'user 42 ünïcode',
];
const BODY_CANARY = 'CANARY-body-5b1e0c';
const ERROR_CANARY = 'CANARY-store-error-77d2';

const definition = {
  name: 'Spring sale',
  metric: 'opens',
  variants: [
    { id: 'a', text: 'Spring savings start now' },
    { id: 'b', text: 'Your spring picks are here' },
  ],
};

/** Every chunk written to stdout and stderr while `run` runs; nothing reaches the terminal meanwhile. */
async function captureOutput(run: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const sink = (chunk: unknown) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(sink as typeof process.stdout.write);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(sink as typeof process.stderr.write);
  const level = logger.getLevelName();
  logger.setLogLevel('DEBUG');
  // injectLambdaContext puts the log level back to the configured one (SILENT in tests) on each warm call.
  const keepLevel = vi.spyOn(logger, 'refreshSampleRateCalculation').mockImplementation(() => {});
  try {
    await run();
  } finally {
    logger.setLogLevel(level);
    keepLevel.mockRestore();
    out.mockRestore();
    err.mockRestore();
  }
  return chunks.join('');
}

describe('logs never carry secrets or personal data', () => {
  let service: Service;
  let acme: Tenant;
  let globex: Tenant;
  let output = '';
  /** Everything that must never appear in a log line. */
  const secrets = new Set<string>();
  const seenStatuses: number[] = [];

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    acme = await service.createTenant('acme');
    globex = await service.createTenant('globex');
    for (const id of ['spring', 'cold']) {
      await service.admin(acme.adminToken, {
        method: 'PUT',
        path: `/v1/experiments/${id}`,
        body: definition,
      });
    }

    // A second set of handlers on a client whose every call fails on demand, with an error that quotes a key,
    // a token and a recipient (as careless infrastructure errors do): none of it may reach the logs.
    const flakyClient = localDynamoDbClient(service.endpoint);
    const mock = mockClient(flakyClient);
    let failing = false;
    const failure = () =>
      Object.assign(
        new Error(
          `${ERROR_CANARY} throttled on T#acme#E#spring#R#x, Authorization: Bearer ${acme.connectToken}, ` +
            `recipient ${RAW_RECIPIENTS[0]}`,
        ),
        { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } },
      );
    const relay =
      <I, O>(send: (input: I) => Promise<O>) =>
      async (input: I) => {
        if (failing) throw failure();
        return send(input);
      };
    const real = service.client;
    mock.on(GetItemCommand).callsFake(relay((i: GetItemCommandInput) => real.send(new GetItemCommand(i))));
    mock.on(QueryCommand).callsFake(relay((i: QueryCommandInput) => real.send(new QueryCommand(i))));
    mock.on(PutItemCommand).callsFake(relay((i: PutItemCommandInput) => real.send(new PutItemCommand(i))));
    mock
      .on(UpdateItemCommand)
      .callsFake(relay((i: UpdateItemCommandInput) => real.send(new UpdateItemCommand(i))));
    mock
      .on(BatchGetItemCommand)
      .callsFake(relay((i: BatchGetItemCommandInput) => real.send(new BatchGetItemCommand(i))));
    mock
      .on(TransactWriteItemsCommand)
      .callsFake(relay((i: TransactWriteItemsCommandInput) => real.send(new TransactWriteItemsCommand(i))));
    const flaky = createStores(service.config, flakyClient);
    const flakyContent = httpHandler(createSelectContent(service.config, flaky));
    const flakyAdmin = httpHandler(createAdmin(service.config, flaky));
    const flakyPixel = createTrackOpen(new TokenRewards(flaky.tenants, flaky.ledger, nowSeconds));

    for (const tenant of [acme, globex]) {
      secrets.add(tenant.connectToken).add(tenant.adminToken);
      for (const token of [tenant.connectToken, tenant.adminToken]) secrets.add(token.split('.')[2]!);
      secrets.add(tenant.tenant.recipientKey);
      for (const s of tenant.tenant.signingSecrets) secrets.add(s.secret);
    }
    for (const raw of RAW_RECIPIENTS) {
      secrets.add(raw).add(sha256(raw)).add(sha256(raw).toUpperCase());
      secrets.add(recipientKey(acme.tenant.recipientKey, sha256(raw)));
    }
    secrets.add(BODY_CANARY).add(ERROR_CANARY);
    const trackingToken = (token: string) => {
      const parts = token.split('.');
      secrets.add(token).add(parts[4]!).add(parts[6]!);
      return token;
    };
    const forgedBearer = `${acme.connectToken.slice(0, -4)}abcd`;
    secrets.add(forgedBearer).add(forgedBearer.split('.')[2]!);
    const status = (s: number) => seenStatuses.push(s);

    output = await captureOutput(async () => {
      // Content: raw ids and digests, with campaigns, then every kind of rejection.
      const tokens: string[] = [];
      for (const [i, raw] of RAW_RECIPIENTS.entries()) {
        const served = await service.content(acme.connectToken, {
          experiment: 'spring',
          recipient: i % 2 ? sha256(raw) : raw,
          campaign: `campaign-${i}`,
          dispatch: `dispatch-${i}`,
        });
        status(served.status);
        tokens.push(trackingToken(served.body.token as string));
      }
      const rejectedContent = [
        await service.content(forgedBearer, { experiment: 'spring', recipient: RAW_RECIPIENTS[0]! }),
        await service.content(acme.adminToken, { experiment: 'spring', recipient: RAW_RECIPIENTS[1]! }),
        await service.content(globex.connectToken, { experiment: 'spring', recipient: RAW_RECIPIENTS[2]! }),
        await service.content(acme.connectToken, { experiment: 'spring' }),
        await service.content(acme.connectToken, {
          experiment: 'spring',
          recipient: RAW_RECIPIENTS[0]!.repeat(40),
        }),
        await service.content(acme.connectToken, {
          experiment: RAW_RECIPIENTS[0]!,
          recipient: RAW_RECIPIENTS[1]!,
        }),
        await service.content(acme.connectToken, { experiment: 'spring', recipient: 'x'.repeat(9000) }),
      ];
      for (const r of rejectedContent) status(r.status);

      // Pixel: genuine (twice), tampered, forged, foreign-looking and garbage tokens.
      const [first] = tokens as [string];
      const tampered = first.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
      const forgedToken = `${first.split('.').slice(0, 6).join('.')}.${'Q'.repeat(22)}`;
      const foreign = first.replace(/^1\.acme\./, '1.globex.');
      for (const t of [tampered, forgedToken, foreign]) secrets.add(t);
      for (const t of [first, first, tampered, forgedToken, foreign, 'garbage', RAW_RECIPIENTS[0]!]) {
        status((await service.pixel(t)).statusCode);
      }

      // Admin: accepted and rejected, with a canary in the bodies.
      const adminCalls = [
        await service.admin(acme.adminToken, {
          method: 'PUT',
          path: '/v1/experiments/spring',
          body: { ...definition, name: `Spring ${BODY_CANARY}` },
        }),
        await service.admin(acme.adminToken, {
          method: 'PUT',
          path: '/v1/experiments/spring',
          rawBody: `{"name": "${BODY_CANARY}", `,
        }),
        await service.admin(acme.adminToken, {
          method: 'PUT',
          path: '/v1/experiments/spring',
          body: {
            variants: [
              { id: 'a', text: BODY_CANARY },
              { id: 'a', text: BODY_CANARY },
            ],
          },
        }),
        await service.admin(acme.adminToken, {
          method: 'PUT',
          path: '/v1/experiments/spring',
          rawBody: JSON.stringify({ ...definition, name: BODY_CANARY.repeat(30_000) }),
        }),
        await service.admin(acme.adminToken, {
          path: `/v1/experiments/${encodeURIComponent(RAW_RECIPIENTS[0]!)}`,
        }),
        await service.admin(`${acme.adminToken.slice(0, -4)}abcd`, { path: '/v1/experiments' }),
        await service.admin(acme.adminToken, { method: 'DELETE', path: '/v1/experiments/spring' }),
        await service.admin(acme.adminToken, { path: '/v1/experiments/spring/report' }),
      ];
      secrets.add(`${acme.adminToken.slice(0, -4)}abcd`);
      for (const r of adminCalls) status(r.status);

      // The store goes down: content falls back (warm experiment, and a cold one), the pixel and admin fail.
      const call = async (handler: typeof flakyContent, input: Parameters<typeof httpEvent>[0]) => {
        const result = await handler(httpEvent(input), lambdaContext());
        status(result.statusCode);
        return { status: result.statusCode, body: parseJson(result) };
      };
      const warm = await call(flakyContent, {
        path: '/v1/content',
        query: { experiment: 'spring', recipient: RAW_RECIPIENTS[0]! },
        headers: bearer(acme.connectToken),
      });
      trackingToken(warm.body.token as string);
      failing = true;
      const fellBack = await call(flakyContent, {
        path: '/v1/content',
        query: { experiment: 'spring', recipient: RAW_RECIPIENTS[2]!, campaign: 'campaign-x' },
        headers: bearer(acme.connectToken),
      });
      expect(fellBack.body).toMatchObject({ fallback: true, variant: expect.any(String) });
      trackingToken(fellBack.body.token as string);
      const cold = await call(flakyContent, {
        path: '/v1/content',
        query: { experiment: 'cold', recipient: RAW_RECIPIENTS[3]! },
        headers: bearer(acme.connectToken),
      });
      expect(cold.body).toMatchObject({ fallback: true, variant: null });
      status((await flakyPixel(httpEvent({ path: `/v1/pixel/${tokens[1]}.gif` }))).statusCode);
      await call(flakyAdmin, { path: '/v1/experiments/spring', headers: bearer(acme.adminToken) });
      await call(flakyAdmin, {
        method: 'PUT',
        path: '/v1/experiments/spring',
        headers: bearer(acme.adminToken),
        body: definition,
      });
      failing = false;
    });
  });

  afterAll(() => {
    vi.restoreAllMocks();
  });

  it('drove every kind of outcome, and logged each as a JSON line', () => {
    expect(new Set(seenStatuses)).toEqual(new Set([200, 400, 401, 404, 405, 413, 503]));
    const lines = output.split('\n').filter((line) => line.trim() !== '');
    const entries = lines.map((line) => JSON.parse(line) as { message: string; reason?: string });
    // Powertools' Lambda context on every handler: each line carries the request id and the cold-start flag.
    const handled = entries.filter((e) => e.message === 'request rejected') as Array<Record<string, unknown>>;
    expect(handled.every((e) => typeof e.function_request_id === 'string' && 'cold_start' in e)).toBe(true);
    const messages = new Set(entries.map((e) => e.message));
    for (const expected of [
      'request rejected',
      'content fallback',
      'pixel',
      'pixel open not recorded',
      'request failed',
    ])
      expect(messages).toContain(expected);
    expect(new Set(entries.filter((e) => e.message === 'content fallback').map((e) => e.reason))).toEqual(
      new Set(['assignment_unconfirmed', 'experiment_unavailable']),
    );
  });

  it('no line carries a bearer token, tracking token, recipient id, digest, keyed hash, body or error text', () => {
    const lines = output.split('\n');
    for (const secret of secrets) {
      const leaking = lines.find((line) => line.includes(secret));
      expect(leaking, `a log line contains ${secret.slice(0, 12)}…`).toBeUndefined();
    }
    // Encoded forms too: a URL-encoded recipient or a JSON-escaped one is the same leak.
    for (const raw of RAW_RECIPIENTS) {
      expect(output).not.toContain(encodeURIComponent(raw));
      expect(output).not.toContain(JSON.stringify(raw).slice(1, -1));
    }
  });

  it('no line carries a stack trace or a source path', () => {
    expect(output).not.toMatch(/\bat [\w.$<>[\] ]+ \(/);
    expect(output).not.toMatch(/\\n\s+at /);
    expect(output).not.toMatch(/\.(ts|js|mjs|cjs):\d+/);
    expect(output).not.toMatch(/node_modules|"stack"/);
    expect(output).not.toContain(process.cwd());
  });
});
