// The local stack's processes: DynamoDB Local and serverless-offline started, watched, awaited and stopped.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';
import { type Config, LOOPBACK, PROJECT_ROOT, portSettings, STAGE, StartError } from './config';
// Types only: `./dynamodb-local` loads the AWS SDK (a few hundred ms), so it is imported once serverless is
// already starting.
import type { RunningDynamoDb } from './dynamodb-local';

const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 5_000;

/** Fails with the variable to change when one of the stack's ports is taken. */
export async function assertPortsFree(config: Config): Promise<void> {
  for (const [port, variable] of portSettings(config)) {
    await new Promise<void>((resolvePort, reject) => {
      const server = createServer();
      server.once('error', () =>
        reject(
          new StartError(`port ${port} is in use; stop what holds it or set ${variable} to another port`),
        ),
      );
      server.listen(port, LOOPBACK, () => server.close(() => resolvePort()));
    });
  }
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
export class Stack {
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

/**
 * Stops the children before this process exits, whatever ends it: a signal, a closed terminal, a crash, or
 * (WEFT_STOP_ON_STDIN_END=1, for tests) the end of stdin. Returns how to report a failed start.
 */
export function superviseShutdown(stack: Stack, config: Config): (error: unknown) => void {
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
  return fail;
}

export async function waitForHttp(url: string, stack: Stack): Promise<void> {
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

/**
 * One read-only request, to load a handler before its first real request: a cold container can take seconds
 * here, and the content handler answers within its budget or falls back.
 */
export async function warm(baseUrl: string, path: string, token?: string): Promise<void> {
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
