// Content selection: handler CPU per warm call against a do-nothing middy handler, store round trips per call
// (counted on DynamoDB Local), and tracking-token sign/verify throughput.
import { createHash } from 'node:crypto';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DynamoDbExperimentStore } from '../adapters/dynamodb/dynamodb-experiment-store';
import { DynamoDbTenantStore } from '../adapters/dynamodb/dynamodb-tenant-store';
import { ensureTable } from '../adapters/dynamodb/table';
import {
  MemoryAllocationStore,
  MemoryExperimentStore,
  MemoryLedger,
  MemoryTenantStore,
} from '../adapters/memory/memory-stores';
import { defineExperiment } from '../domain/experiment';
import { issueTenant } from '../domain/tenant';
import { TenantDirectory } from '../domain/tenant-directory';
import { nowSeconds } from '../domain/time';
import { signTrackingToken, verifyTrackingToken } from '../domain/tracking-token';
import { createSelectContent } from '../handlers/select-content';
import type { Config } from '../handlers/shared/config';
import { httpHandler } from '../handlers/shared/http';
import { createStores, secretSealer } from '../handlers/shared/stage';
import { localDynamoDbClient, startDynamoDbLocal } from '../local/dynamodb-local';
import { httpEvent, lambdaContext } from '../test/support/events';
import { compareCpu, measureCpu, ratioLine } from './harness';

const CALLS = 20_000;

const config: Config = {
  tableName: 'bench',
  currentsBucket: null,
  publicBaseUrl: null,
  contentBudgetMs: 800,
  assignmentTtlSeconds: 86_400,
  dynamodbEndpoint: null,
  s3Endpoint: null,
  s3Credentials: null,
  region: 'local',
};

const variants = Array.from({ length: 5 }, (_, i) => ({ id: `v${i}`, text: `Subject line number ${i}` }));

export async function benchContent(): Promise<string[]> {
  const lines: string[] = [];
  const now = nowSeconds();
  const issued = issueTenant('bench', 'bench', now);

  // CPU: the real handler (middy, auth, validation, allocation, token, JSON) on in-memory stores.
  const tenantStore = new MemoryTenantStore();
  await tenantStore.create(issued.tenant);
  const experiments = new MemoryExperimentStore();
  await experiments.save(defineExperiment('bench', 'exp', { variants, min_sends: 0 }, null, now));
  const ledger = new MemoryLedger();
  const content = httpHandler(
    createSelectContent(config, {
      tenants: new TenantDirectory(tenantStore, nowSeconds),
      experiments,
      allocations: new MemoryAllocationStore(experiments),
      ledger,
    }),
  );
  const baseline = middy<APIGatewayProxyEventV2, unknown>().handler(async () => ({
    statusCode: 200,
    body: '{}',
  }));
  const context = lambdaContext();
  const events = Array.from({ length: 1000 }, (_, i) =>
    httpEvent({
      path: '/v1/content',
      // Braze sends the SHA-256 of the id (`| sha2`), as the README's snippet does.
      query: { experiment: 'exp', recipient: createHash('sha256').update(`recipient-${i}`).digest('hex') },
      headers: { authorization: `Bearer ${issued.connectToken}` },
    }),
  );
  let i = 0;
  let j = 0;
  const { candidate: warm, baseline: noop } = await compareCpu(
    () => content(events[i++ % events.length]!, context),
    () => baseline(events[j++ % events.length]!, context),
    CALLS,
  );
  lines.push(
    ratioLine(
      'content handler CPU vs do-nothing middy handler',
      warm.perCallMicros,
      noop.perCallMicros,
      'µs/call',
      '≤ 2 (DESIGN §6)',
    ),
  );

  // Round trips on a real DynamoDB Local, counted at the client.
  const dynamodb = await startDynamoDbLocal();
  try {
    const client = localDynamoDbClient(dynamodb.endpoint);
    // Every command is counted; "sequential" counts only commands that start after the previous one ended
    // (parallel reads of one request are one round trip of latency).
    let commands = 0;
    let inFlight = 0;
    let roundTrips = 0;
    client.middlewareStack.add(
      (next) => async (args) => {
        commands++;
        if (inFlight === 0) roundTrips++;
        inFlight++;
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: 'initialize', name: 'countRoundTrips' },
    );
    await ensureTable(client, 'bench');
    await new DynamoDbTenantStore(client, 'bench', secretSealer(config)).create(issued.tenant);
    await new DynamoDbExperimentStore(client, 'bench').save(
      defineExperiment('bench', 'exp', { variants, min_sends: 0 }, null, now),
    );
    /** A content "container": its own handler and caches, on the shared counted client. */
    const container = () => {
      const handler = httpHandler(
        createSelectContent(config, createStores({ ...config, dynamodbEndpoint: dynamodb.endpoint }, client)),
      );
      return (recipient: string) =>
        handler(
          httpEvent({
            path: '/v1/content',
            query: { experiment: 'exp', recipient },
            headers: { authorization: `Bearer ${issued.connectToken}` },
          }),
          context,
        );
    };
    const call = container();
    await call('warm-up');
    // Sequential calls on one warm container: new recipients, then the same recipients again (repeats this
    // container served), then recipients another container served (a fresh handler with warm caches).
    const N = 200;
    const measure = async (label: string, recipients: string[], target: string, on = call) => {
      const [c0, r0] = [commands, roundTrips];
      for (const recipient of recipients) await on(recipient);
      lines.push(
        `roundtrips content ${label}: ${((roundTrips - r0) / recipients.length).toFixed(2)} sequential, ${((commands - c0) / recipients.length).toFixed(2)} commands per call (${target})`,
      );
    };
    const fresh = Array.from({ length: N }, (_, r) => `new-${r}`);
    await measure('new recipient, warm container', fresh, 'target ≤ 2, plus amortised head reads');
    await measure('repeat this container served', fresh, 'target 0');
    const onOther = container();
    await onOther('warm-up-other');
    await measure('repeat another container served', fresh, 'target 1 read, no write', onOther);
    client.destroy();
  } finally {
    await dynamodb.stop();
  }

  // Tokens.
  const claims = {
    tenantId: 'bench',
    experimentId: 'exp',
    variantId: 'v1',
    recipientKey: 'k'.repeat(43),
    sentAt: now,
  };
  const secret = issued.tenant.signingSecrets[0]!.secret;
  const token = signTrackingToken(claims, secret);
  const sign = await measureCpu(() => signTrackingToken(claims, secret), CALLS);
  const verify = await measureCpu(() => verifyTrackingToken(token, [secret]), CALLS);
  lines.push(
    `tokens sign: ${Math.round(sign.callsPerSecond).toLocaleString('en')} /s, verify: ${Math.round(verify.callsPerSecond).toLocaleString('en')} /s`,
  );
  return lines;
}
