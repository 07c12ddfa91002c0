// `npm start`: weft's whole local stack (DESIGN §7) — DynamoDB Local, serverless-offline with a local S3 whose
// ObjectCreated events invoke the ingestion handler, and a `demo` tenant whose tokens go to local-tenant.json.
// Run it as `node --import tsx local/start.ts`: the tsx CLI would put a second process in front that SIGKILLs
// this one when it is slow to acknowledge Ctrl-C, leaving DynamoDB Local and serverless running.
// Settings (env): WEFT_DATA_DIR, WEFT_PORT, WEFT_LAMBDA_PORT, WEFT_S3_PORT, WEFT_DYNAMODB_PORT,
// WEFT_PUBLIC_BASE_URL, WEFT_VERBOSE=1 (show serverless output while starting).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';
// Types only: `./dynamodb-local` and the table module load the AWS SDK (a few hundred ms), so they are
// imported once serverless is already starting.
import type { RunningDynamoDb } from './dynamodb-local';
import { type LocalTenant, localTenantPath, readLocalTenant, writeLocalTenant } from './local-tenant';

const PROJECT_ROOT = resolve(__dirname, '..');
const STAGE = 'local';
// Both follow serverless.yml: `custom.tableName` and the `currentsBucket` param's default.
const TABLE = `weft-${STAGE}`;
const BUCKET = `weft-currents-${STAGE}`;
const TENANT = 'demo';
const FOLDER = 'demo';
// serverless-s3-local's (s3rver's) fixed credentials.
const S3_KEY = 'S3RVER';
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 5_000;

class StartError extends Error {
  override readonly name = 'StartError';
}

interface Config {
  readonly dataDir: string;
  readonly httpPort: number;
  readonly lambdaPort: number;
  readonly s3Port: number;
  readonly dynamodbPort: number;
  readonly publicBaseUrl: string;
  readonly esbuildDir: string;
  readonly verbose: boolean;
  readonly stopOnStdinEnd: boolean;
}

function readConfig(env: NodeJS.ProcessEnv): Config {
  const port = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 65535) {
      throw new StartError(`${name} must be a TCP port (1-65535), not "${raw}"`);
    }
    return value;
  };
  const config: Config = {
    dataDir: env['WEFT_DATA_DIR'] ? resolve(env['WEFT_DATA_DIR']) : join(PROJECT_ROOT, '.weft'),
    httpPort: port('WEFT_PORT', 3000),
    lambdaPort: port('WEFT_LAMBDA_PORT', 3002),
    s3Port: port('WEFT_S3_PORT', 4569),
    dynamodbPort: port('WEFT_DYNAMODB_PORT', 8000),
    publicBaseUrl: (env['WEFT_PUBLIC_BASE_URL'] ?? '').replace(/\/+$/, ''),
    esbuildDir: normalize(env['WEFT_ESBUILD_DIR'] || '.esbuild'),
    verbose: env['WEFT_VERBOSE'] === '1',
    stopOnStdinEnd: env['WEFT_STOP_ON_STDIN_END'] === '1',
  };
  const ports = [config.httpPort, config.lambdaPort, config.s3Port, config.dynamodbPort];
  if (new Set(ports).size !== ports.length) {
    throw new StartError(
      `WEFT_PORT, WEFT_LAMBDA_PORT, WEFT_S3_PORT and WEFT_DYNAMODB_PORT must differ (${ports.join(', ')})`,
    );
  }
  // serverless-esbuild joins it to the project directory; keep it inside.
  if (isAbsolute(config.esbuildDir) || config.esbuildDir.startsWith('..')) {
    throw new StartError(`WEFT_ESBUILD_DIR must be a folder inside the project, not "${config.esbuildDir}"`);
  }
  return config;
}

async function assertPortFree(port: number, variable: string): Promise<void> {
  await new Promise<void>((resolvePort, reject) => {
    const server = createServer();
    server.once('error', () =>
      reject(new StartError(`port ${port} is in use; stop what holds it or set ${variable} to another port`)),
    );
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort()));
  });
}

/** Calls `onLine` for each complete line the stream writes. */
function eachLine(stream: Readable | null, onLine: (line: string) => void): void {
  if (!stream) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (rest) onLine(rest);
  });
}

/** The children and their shutdown. Every child runs in its own process group so a stop reaches all of it. */
class Stack {
  private offline: ChildProcess | undefined;
  private offlineExit: Promise<void> = Promise.resolve();
  private dynamodb: Promise<RunningDynamoDb> | undefined;
  private stopping: Promise<void> | undefined;
  private readonly tail: string[] = [];
  private streaming = false;

  constructor(private readonly config: Config) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  /** The last lines serverless printed, for an error report. */
  outputTail(): string {
    return this.tail.join('\n');
  }

  /** From here on serverless output (handler logs) goes straight to the terminal. */
  streamOutput(): void {
    this.streaming = true;
  }

  startDynamoDb(onUnexpectedExit: (message: string) => void): Promise<RunningDynamoDb> {
    const dataPath = join(this.config.dataDir, 'dynamodb');
    const starting = mkdir(dataPath, { recursive: true }).then(async () => {
      const { startDynamoDbLocal } = await import('./dynamodb-local');
      return startDynamoDbLocal({ port: this.config.dynamodbPort, dataPath, detached: true });
    });
    this.dynamodb = starting;
    return starting.then((dynamodb) => {
      dynamodb.process.once('exit', (code, signal) => {
        if (!this.isStopping) onUnexpectedExit(`DynamoDB Local exited (${signal ?? `code ${code}`})`);
      });
      return dynamodb;
    });
  }

  startOffline(env: NodeJS.ProcessEnv, onUnexpectedExit: (message: string) => void): void {
    // `node …/serverless`, not npx: the PID we hold must be the server's own (see TOOLCHAIN.md).
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, 'node_modules', '.bin', 'serverless'), 'offline', 'start', '--stage', STAGE],
      { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.offline = child;
    this.offlineExit = new Promise((resolveExit) => child.once('exit', () => resolveExit()));
    let reportedFailure = false;
    const onLine = (toStderr: boolean) => (line: string) => {
      this.tail.push(line);
      if (this.tail.length > 60) this.tail.shift();
      // The framework reports a fatal error (a bundle that does not build, a bad serverless.yml) with an
      // `Error:` line but keeps running while watchers are open; no point waiting for it to answer.
      if (!this.streaming && !reportedFailure && /^Error:/.test(stripVTControlCharacters(line))) {
        reportedFailure = true;
        setTimeout(() => onUnexpectedExit('serverless offline failed to start'), 300).unref();
      }
      if (this.streaming || this.config.verbose)
        (toStderr ? process.stderr : process.stdout).write(`${line}\n`);
    };
    eachLine(child.stdout, onLine(false));
    eachLine(child.stderr, onLine(true));
    child.once('error', (error) => {
      if (!this.isStopping) onUnexpectedExit(`could not start serverless offline: ${error.message}`);
    });
    child.once('exit', (code, signal) => {
      if (!this.isStopping) onUnexpectedExit(`serverless offline exited (${signal ?? `code ${code}`})`);
    });
  }

  offlineRunning(): boolean {
    return this.offline !== undefined && this.offline.exitCode === null && this.offline.signalCode === null;
  }

  stop(): Promise<void> {
    if (!this.stopping) {
      // A DynamoDB Local still starting is waited for, then stopped: it runs detached and would outlive us.
      const stopDynamoDb = this.dynamodb?.then(
        (dynamodb) => dynamodb.stop(),
        () => undefined,
      );
      this.stopping = Promise.all([this.stopOffline(), stopDynamoDb]).then(() => undefined);
    }
    return this.stopping;
  }

  private async stopOffline(): Promise<void> {
    const child = this.offline;
    if (!child?.pid || !this.offlineRunning()) return;
    const group = -child.pid;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(group, signal);
      } catch {
        // The group is already gone.
      }
    };
    signalGroup('SIGTERM');
    const exited = await Promise.race([this.offlineExit.then(() => true), delay(STOP_GRACE_MS, false)]);
    if (!exited) {
      signalGroup('SIGKILL');
      await this.offlineExit;
    }
  }
}

interface Tokens {
  readonly connect_token: string;
  readonly admin_token: string;
}

function parseTokens(stdout: string): Tokens | null {
  const start = stdout.indexOf('{');
  const end = stdout.lastIndexOf('}');
  if (start < 0 || end < start) return null;
  try {
    const parsed = JSON.parse(stdout.slice(start, end + 1)) as Record<string, unknown>;
    const { connect_token, admin_token } = parsed;
    return typeof connect_token === 'string' && typeof admin_token === 'string'
      ? { connect_token, admin_token }
      : null;
  } catch {
    return null;
  }
}

function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ok: boolean; out: string; err: string }> {
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      [join(PROJECT_ROOT, 'bin', 'weft.js'), ...args],
      { cwd: PROJECT_ROOT, env, timeout: 60_000, maxBuffer: 1024 * 1024 },
      (error, stdout, stderr) => resolveRun({ ok: !error, out: String(stdout), err: String(stderr).trim() }),
    );
  });
}

/**
 * Tokens exist only where they were printed, so a first start creates the tenant and later starts reuse the file.
 * When the tenant exists but its tokens were lost (or the file's are stale), rotation issues new ones.
 */
async function issueTenantTokens(env: NodeJS.ProcessEnv): Promise<Tokens> {
  const created = await runCli(['tenant', 'create', TENANT, '--folder', FOLDER, '--json'], env);
  const fromCreate = created.ok ? parseTokens(created.out) : null;
  if (fromCreate) return fromCreate;
  const rotated = await runCli(['tenant', 'rotate', TENANT, '--json'], env);
  const fromRotate = rotated.ok ? parseTokens(rotated.out) : null;
  if (fromRotate) return fromRotate;
  throw new StartError(
    [
      `could not create the ${TENANT} tenant with the CLI (bin/weft.js).`,
      `  tenant create: ${created.err || created.out.trim() || 'no JSON output'}`,
      `  tenant rotate: ${rotated.err || rotated.out.trim() || 'no JSON output'}`,
    ].join('\n'),
  );
}

/** 401 with the saved admin token means the tokens no longer match the data (rotated, or data deleted). */
async function tokensStillValid(baseUrl: string, tokens: Tokens): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/v1/experiments`, {
      headers: { authorization: `Bearer ${tokens.admin_token}` },
      signal: AbortSignal.timeout(10_000),
    });
    await response.arrayBuffer();
    return response.status !== 401;
  } catch {
    return true;
  }
}

/**
 * One read-only request, to load a handler before its first real request: a cold container can take seconds
 * here, and the content handler answers within its budget or falls back.
 */
async function warm(baseUrl: string, path: string, token?: string): Promise<void> {
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(15_000),
    });
    await response.arrayBuffer();
  } catch {
    // Warming is best effort.
  }
}

async function waitForHttp(url: string, stack: Stack): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!stack.offlineRunning()) throw new StartError('serverless offline stopped while starting');
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      await response.arrayBuffer();
      return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new StartError(`serverless offline did not answer on ${url} within ${READY_TIMEOUT_MS / 1000} s`);
    }
    await delay(100);
  }
}

function localEnv(config: Config, dynamodbEndpoint: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Real AWS credentials, profiles and regions must not reach the local stack (or leak into handler env).
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    WEFT_TABLE: TABLE,
    WEFT_CURRENTS_BUCKET: BUCKET,
    WEFT_DATA_DIR: config.dataDir,
    WEFT_PORT: String(config.httpPort),
    WEFT_LAMBDA_PORT: String(config.lambdaPort),
    WEFT_S3_PORT: String(config.s3Port),
    WEFT_DYNAMODB_ENDPOINT: dynamodbEndpoint,
    WEFT_PUBLIC_BASE_URL: config.publicBaseUrl,
    WEFT_ESBUILD_DIR: config.esbuildDir,
  };
}

function banner(tenant: LocalTenant, config: Config, took: string): string {
  const snippet =
    `{% connected_content ${tenant.base_url}/v1/content?experiment=spring-sale&recipient={{\${braze_id} | sha2}}` +
    `&campaign={{campaign.\${api_id}}} :headers {"Authorization": "Bearer ${tenant.connect_token}"} :save weft :retry %}`;
  return [
    '',
    `weft local stack is up (${took}). Ctrl-C stops it.`,
    '',
    `  API            ${tenant.base_url}`,
    `  Dashboard      ${tenant.base_url}/dashboard#token=${tenant.admin_token}`,
    `  Tenant         ${tenant.tenant} (Currents folder "${tenant.folder}")`,
    `  Connect token  ${tenant.connect_token}`,
    `  Admin token    ${tenant.admin_token}`,
    `  Currents S3    ${tenant.s3_endpoint}  bucket ${tenant.bucket}  key ${tenant.s3_access_key_id} / ${tenant.s3_secret_access_key}`,
    `  DynamoDB       ${tenant.dynamodb_endpoint}  table ${TABLE}`,
    `  Data           ${config.dataDir}  (these values: ${localTenantPath(config.dataDir)})`,
    '',
    'Connected Content (Braze must be able to reach the URL: set WEFT_PUBLIC_BASE_URL to a tunnel for that):',
    '',
    snippet,
    'Subject: {{weft.text}}',
    'Body:    <a href="https://shop.example/sale?utm_source=braze&{{weft.link_param}}">Shop now</a>',
    '         <img src="{{weft.pixel_url}}" width="1" height="1" alt="">',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  // Node 20 is what runs here; the SDK's notice about Node 22 is noise in a local stack.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const config = readConfig(process.env);
  const stack = new Stack(config);

  const exitAfterStop = (code: number) => {
    void stack.stop().finally(() => process.exit(code));
  };
  const fail = (error: unknown) => {
    if (stack.isStopping) return;
    const message =
      error instanceof StartError ? error.message : error instanceof Error ? error.stack : error;
    process.stderr.write(`\nweft local stack: ${message}\n`);
    const tail = stack.outputTail();
    if (tail) process.stderr.write(`\nLast serverless output:\n${tail}\n`);
    exitAfterStop(1);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => exitAfterStop(0));
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  // A closed stdout (the parent went away) must not crash us before the children are stopped.
  process.stdout.on('error', () => exitAfterStop(0));
  process.stderr.on('error', () => exitAfterStop(0));
  if (config.stopOnStdinEnd) {
    process.stdin.on('end', () => exitAfterStop(0));
    process.stdin.on('error', () => exitAfterStop(0));
    process.stdin.resume();
  }

  try {
    await assertPortFree(config.httpPort, 'WEFT_PORT');
    await assertPortFree(config.lambdaPort, 'WEFT_LAMBDA_PORT');
    await assertPortFree(config.s3Port, 'WEFT_S3_PORT');
    await assertPortFree(config.dynamodbPort, 'WEFT_DYNAMODB_PORT');
    await mkdir(join(config.dataDir, 's3'), { recursive: true });

    const dynamodbEndpoint = `http://127.0.0.1:${config.dynamodbPort}`;
    const env = localEnv(config, dynamodbEndpoint);
    const localUrl = `http://127.0.0.1:${config.httpPort}`;
    const baseUrl = config.publicBaseUrl || localUrl;

    // serverless-offline needs no database to start, so both come up at once.
    const since = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;
    const started = performance.now();
    stack.startOffline(env, (message) => fail(new StartError(message)));
    const dynamodb = await stack.startDynamoDb((message) => fail(new StartError(message)));
    const dynamodbTook = since(started);
    const { localDynamoDbClient } = await import('./dynamodb-local');
    const { ensureTable } = await import('../adapters/dynamodb/table');
    const client = localDynamoDbClient(dynamodb.endpoint);
    try {
      await ensureTable(client, TABLE);
    } finally {
      client.destroy();
    }
    const saved = await readLocalTenant(config.dataDir);
    const reusable = saved?.tenant === TENANT ? saved : null;
    // A first start creates the tenant while serverless is still coming up.
    const issuing = reusable ? null : issueTenantTokens(env);
    issuing?.catch(() => undefined); // Awaited below; an early failure is not an unhandled rejection.

    await waitForHttp(`${localUrl}/dashboard`, stack);
    const offlineTook = since(started);
    const warmingPixel = warm(localUrl, '/v1/pixel/warmup.gif');
    let tokens: Tokens;
    if (issuing) tokens = await issuing;
    else if (reusable && (await tokensStillValid(localUrl, reusable))) tokens = reusable;
    else tokens = await issueTenantTokens(env);
    await Promise.all([
      warmingPixel,
      warm(localUrl, '/v1/content?experiment=warmup&recipient=warmup', tokens.connect_token),
      warm(localUrl, '/v1/experiments', tokens.admin_token),
    ]);

    const tenant: LocalTenant = {
      base_url: baseUrl,
      tenant: TENANT,
      folder: FOLDER,
      bucket: BUCKET,
      s3_endpoint: `http://127.0.0.1:${config.s3Port}`,
      s3_access_key_id: S3_KEY,
      s3_secret_access_key: S3_KEY,
      dynamodb_endpoint: dynamodbEndpoint,
      connect_token: tokens.connect_token,
      admin_token: tokens.admin_token,
      table: TABLE,
    };
    await writeLocalTenant(config.dataDir, tenant);
    const took = `${process.uptime().toFixed(1)} s: DynamoDB Local ${dynamodbTook}, serverless offline ${offlineTook}`;
    process.stdout.write(`${banner(tenant, config, took)}\n`);
    stack.streamOutput();
  } catch (error) {
    fail(error);
  }
}

void main();
