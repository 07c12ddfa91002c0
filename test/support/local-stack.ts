// Runs the whole local stack (`local/start.ts`, what `npm start` runs) for an e2e test: its own data dir, free
// ports and esbuild folder, so test files can each have one at the same time.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../../local/dynamodb-local';
import { type LocalTenant, localTenantPath, readLocalTenant } from '../../local/local-tenant';

export type { LocalTenant };

export interface LocalStackPorts {
  readonly http: number;
  readonly lambda: number;
  readonly s3: number;
  readonly dynamodb: number;
}

export interface LocalStack {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly baseUrl: string;
  readonly dataDir: string;
  /** The content of `<dataDir>/local-tenant.json`. */
  readonly tenantFile: LocalTenant;
  /** Configured for the local S3 (path style, s3rver credentials, checksums only when required). */
  readonly s3Client: S3Client;
  readonly ports: LocalStackPorts;
  /** Stops every process of the stack; idempotent. Removes the data dir unless the caller passed one. */
  stop(): Promise<void>;
}

const PROJECT_ROOT = resolve(__dirname, '..', '..');
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** Set WEFT_STACK_LOG=1 to see the stack's output as it runs; on failure the last lines are in the error. */
export async function startLocalStack(options: { dataDir?: string } = {}): Promise<LocalStack> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ? resolve(options.dataDir) : await mkdtemp(join(tmpdir(), 'weft-stack-'));
  const [http, lambda, s3, dynamodb] = (await distinctFreePorts(4)) as [number, number, number, number];
  const ports: LocalStackPorts = { http, lambda, s3, dynamodb };
  const baseUrl = `http://127.0.0.1:${http}`;
  const esbuildDir = join('.esbuild', `stack-${http}`);

  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('WEFT_')) env[key] = value;
  Object.assign(env, {
    WEFT_DATA_DIR: dataDir,
    WEFT_PORT: String(http),
    WEFT_LAMBDA_PORT: String(lambda),
    WEFT_S3_PORT: String(s3),
    WEFT_DYNAMODB_PORT: String(dynamodb),
    WEFT_ESBUILD_DIR: esbuildDir,
    // If this test process dies without stop(), the stack notices its stdin close and stops itself.
    WEFT_STOP_ON_STDIN_END: '1',
  });

  const startedAt = Date.now();
  // `node --import tsx`, not the tsx CLI: the CLI runs the script in a second process and SIGKILLs it when it is
  // slow (>60 ms on a busy machine) to acknowledge a signal, which would orphan the stack's own children.
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'local', 'start.ts')], {
    cwd: PROJECT_ROOT,
    env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const output = captureOutput(child);

  let stopping: Promise<void> | undefined;
  let s3Client: S3Client | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await stopProcessGroup(child, exited);
      child.stdin?.destroy();
      s3Client?.destroy();
      await rm(join(PROJECT_ROOT, esbuildDir), { recursive: true, force: true });
      if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    const tenantFile = await waitForTenantFile(dataDir, baseUrl, startedAt, child, output);
    s3Client = new S3Client({
      endpoint: tenantFile.s3_endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: {
        accessKeyId: tenantFile.s3_access_key_id,
        secretAccessKey: tenantFile.s3_secret_access_key,
      },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return { baseUrl, dataDir, tenantFile, s3Client, ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function captureOutput(child: ChildProcess): () => string {
  const lines: string[] = [];
  const echo = process.env['WEFT_STACK_LOG'] === '1';
  const keep = (chunk: Buffer) => {
    if (echo) process.stderr.write(chunk);
    lines.push(...chunk.toString('utf8').split('\n'));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => lines.join('\n');
}

async function waitForTenantFile(
  dataDir: string,
  baseUrl: string,
  startedAt: number,
  child: ChildProcess,
  output: () => string,
): Promise<LocalTenant> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `the local stack exited while starting (${child.exitCode ?? child.signalCode}):\n${output()}`,
      );
    }
    // The file is written once the stack answers; one left from an earlier run has another port or is older.
    const tenant = await readLocalTenant(dataDir);
    if (tenant?.base_url === baseUrl) {
      const { mtimeMs } = await stat(localTenantPath(dataDir));
      if (mtimeMs >= startedAt - 1_000) return tenant;
    }
    if (Date.now() > deadline) {
      throw new Error(`the local stack did not start within ${START_TIMEOUT_MS / 1000} s:\n${output()}`);
    }
    await delay(100);
  }
}

async function stopProcessGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  const group = -child.pid;
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    return;
  }
  const stopped = await Promise.race([exited.then(() => true), delay(STOP_TIMEOUT_MS, false)]);
  if (!stopped) {
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // Gone in the meantime.
    }
    await exited;
  }
}
