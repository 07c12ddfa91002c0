// `npm start`: weft's whole local stack (DESIGN §7) — DynamoDB Local, serverless-offline with a local S3 whose
// ObjectCreated events invoke the ingestion handler, and a `demo` tenant whose tokens go to local-tenant.json.
// Run it as `node --import tsx local/start.ts`: the tsx CLI would put a second process in front that SIGKILLs
// this one when it is slow to acknowledge Ctrl-C, leaving DynamoDB Local and serverless running.
// Settings (env): WEFT_DATA_DIR, WEFT_PORT, WEFT_LAMBDA_PORT, WEFT_S3_PORT, WEFT_DYNAMODB_PORT,
// WEFT_PUBLIC_BASE_URL, WEFT_VERBOSE=1 (show serverless output while starting). Settings live in ./config,
// the processes in ./supervise, the table, tenant and tenant file in ./seed.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { localEnv, localUrl, readConfig, StartError } from './config';
import { assertPortsFree, Stack, superviseShutdown, waitForHttp, warm } from './supervise';

async function main(): Promise<void> {
  // Node 20 is what runs here; the SDK's notice about Node 22 is noise in a local stack.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  let fail = (error: unknown): void => {
    process.stderr.write(`\nweft local stack: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  };
  try {
    const config = readConfig(process.env);
    const stack = new Stack(config);
    fail = superviseShutdown(stack, config);

    await assertPortsFree(config);
    await mkdir(join(config.dataDir, 's3'), { recursive: true });

    // serverless-offline needs no database to start, so both come up at once, and the table and tenant are
    // seeded while serverless is still starting.
    const since = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;
    const started = performance.now();
    stack.startOffline(localEnv(config), (message) => fail(new StartError(message)));
    await stack.startDynamoDb((message) => fail(new StartError(message)));
    const dynamodbTook = since(started);
    const seed = await import('./seed');
    const demo = await seed.seedTable(config);

    await waitForHttp(`${localUrl(config)}/dashboard`, stack);
    const offlineTook = since(started);
    // serverless-offline starts a worker ("container") per concurrent request; a cold one takes seconds on a
    // small machine before the handler runs. Warm as many content workers as Braze's connections will use,
    // as provisioned concurrency would on AWS, so a broadcast's first burst is answered inside the budget.
    await Promise.all([
      warm(localUrl(config), '/v1/pixel/warmup.gif'),
      ...Array.from({ length: config.warmContentWorkers }, () =>
        warm(localUrl(config), '/v1/content?experiment=warmup&recipient=warmup', demo.connect_token),
      ),
      warm(localUrl(config), '/v1/experiments', demo.admin_token),
    ]);

    const tenant = await seed.writeTenantFile(config, demo);
    const took = `${process.uptime().toFixed(1)} s: DynamoDB Local ${dynamodbTook}, serverless offline ${offlineTook}`;
    process.stdout.write(`${seed.banner(tenant, config, took)}\n`);
    stack.streamOutput();
  } catch (error) {
    fail(error);
  }
}

void main();
