// `npm run load`: autocannon against the local stack — content calls for many concurrent recipients with
// repeats (each recipient asked for several message fields), then a check that the counters are exact.
import { createHash } from 'node:crypto';
import autocannon from 'autocannon';
import { DynamoDbLedger } from '../adapters/dynamodb/dynamodb-ledger';
import { reconcileTable } from '../handlers/shared/stage';
import { localDynamoDbClient } from '../local/dynamodb-local';
import { startLocalStack } from '../test/support/local-stack';

const RECIPIENTS = Number(process.env.WEFT_LOAD_RECIPIENTS ?? 2000);
const REQUESTS = Number(process.env.WEFT_LOAD_REQUESTS ?? 6000);
const CONNECTIONS = Number(process.env.WEFT_LOAD_CONNECTIONS ?? 32);

async function main() {
  const stack = await startLocalStack();
  try {
    const admin = { authorization: `Bearer ${stack.tenantFile.admin_token}` };
    await fetch(`${stack.baseUrl}/v1/experiments/load`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({
        metric: 'clicks',
        variants: [
          { id: 'a', text: 'Spring savings start now' },
          { id: 'b', text: 'Your spring picks are here' },
          { id: 'c', text: 'Fresh for spring: 20% off' },
        ],
      }),
    });
    const digests = Array.from({ length: RECIPIENTS }, (_, i) =>
      createHash('sha256').update(`load-${i}`).digest('hex'),
    );
    // Warm the handler once so the run measures a warm container, as Braze's sustained sends do.
    await fetch(`${stack.baseUrl}/v1/content?experiment=load&recipient=${digests[0]}`, {
      headers: { authorization: `Bearer ${stack.tenantFile.connect_token}` },
    });
    let next = 0;
    const result = await autocannon({
      url: stack.baseUrl,
      connections: CONNECTIONS,
      amount: REQUESTS,
      headers: { authorization: `Bearer ${stack.tenantFile.connect_token}` },
      requests: [
        {
          method: 'GET',
          setupRequest: (request) => {
            // Each recipient comes back for another field (subject, body, plain text): repeats must count once.
            const recipient = digests[next++ % RECIPIENTS];
            return {
              ...request,
              path: `/v1/content?experiment=load&recipient=${recipient}&campaign=load-campaign`,
            };
          },
        },
      ],
    });
    const client = localDynamoDbClient(stack.tenantFile.dynamodb_endpoint);
    const table = stack.tenantFile.table ?? 'weft-local';
    const check = await reconcileTable(client, table);
    const ledger = new DynamoDbLedger(client, table);
    const sends = (await ledger.read(stack.tenantFile.tenant, 'load')).reduce((sum, c) => sum + c.sends, 0);
    client.destroy();
    const report = {
      requests: result.requests.total,
      connections: CONNECTIONS,
      requests_per_second: Math.round(result.requests.average),
      latency_ms: {
        p50: result.latency.p50,
        p90: result.latency.p90,
        p99: result.latency.p99,
        max: result.latency.max,
      },
      non_2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      distinct_recipients: RECIPIENTS,
      sends_counted: sends,
      drift: check.drift,
    };
    console.log(JSON.stringify(report, null, 2));
    const ok =
      result.non2xx === 0 &&
      result.errors === 0 &&
      result.timeouts === 0 &&
      check.drift === 0 &&
      sends <= RECIPIENTS;
    console.log(ok ? 'load: ok — no errors, counters exact' : 'load: FAILED');
    if (!ok) process.exitCode = 1;
  } finally {
    await stack.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
