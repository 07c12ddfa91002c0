// `serverless package` once for any number of callers: the output is kept in the system's temp folder under a
// hash of everything that shapes it, so test files of one run (each in its own worker) and later runs with the
// same sources share one packaging (~30-60 s on a small machine). A lock makes concurrent callers wait for the
// first one instead of packaging in parallel.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { Template } from './cloudformation';

export interface PackagedService {
  /** The folder with the template and the functions' zips. */
  readonly dir: string;
  readonly template: Template;
}

const CACHE_PREFIX = 'weft-package-cache-';
const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';
const DONE_FILE = '.complete';
/** A lock older than this is a crashed packager's. */
const STALE_LOCK_MS = 10 * 60_000;
const PACKAGE_TIMEOUT_MS = 300_000;
const STALE_CACHE_MS = 24 * 60 * 60_000;

/** What shapes the package: configuration, lockfile, and every source the bundles or the plugins read. */
const INPUT_FILES = ['serverless.yml', 'package.json', 'package-lock.json', 'tsconfig.json'];
const INPUT_FOLDERS = ['handlers', 'domain', 'adapters', 'dashboard', 'local'];
const IGNORED = /(^|\/)(node_modules|dist|\.esbuild[^/]*|\.serverless|\.weft)(\/|$)/;

async function filesUnder(root: string, folder: string): Promise<string[]> {
  const entries = await readdir(join(root, folder), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .filter((path) => !IGNORED.test(path));
}

async function inputsHash(projectRoot: string, stage: string): Promise<string> {
  const hash = createHash('sha256').update(`stage=${stage}\n`);
  const folders = await Promise.all(INPUT_FOLDERS.map((folder) => filesUnder(projectRoot, folder)));
  for (const path of [...INPUT_FILES, ...folders.flat()].sort()) {
    const content = await readFile(join(projectRoot, path)).catch(() => Buffer.alloc(0));
    hash.update(`${path}\n${content.length}\n`).update(content);
  }
  return hash.digest('hex').slice(0, 16);
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

async function runPackage(projectRoot: string, stage: string, outDir: string): Promise<void> {
  // No AWS credentials, profile or region: packaging must not need an account.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  const esbuildDir = join('.esbuild', `template-checks-${process.pid}`);
  Object.assign(env, {
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    WEFT_ESBUILD_DIR: esbuildDir,
  });
  const serverless = join(projectRoot, 'node_modules', '.bin', 'serverless');
  try {
    await promisify(execFile)(
      process.execPath,
      [serverless, 'package', '--stage', stage, '--package', outDir],
      {
        cwd: projectRoot,
        env,
        timeout: PACKAGE_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`serverless package failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  } finally {
    await rm(join(projectRoot, esbuildDir), { recursive: true, force: true });
  }
}

async function readPackaged(dir: string): Promise<PackagedService> {
  return { dir, template: JSON.parse(await readFile(join(dir, TEMPLATE_FILE), 'utf8')) as Template };
}

/** The packaged service for `stage`, packaging only when no caller has for these exact sources. */
export async function packageService(projectRoot: string, stage = 'ci'): Promise<PackagedService> {
  const dir = join(tmpdir(), `${CACHE_PREFIX}${await inputsHash(projectRoot, stage)}`);
  const lock = `${dir}.lock`;
  const deadline = Date.now() + PACKAGE_TIMEOUT_MS + 60_000;
  for (;;) {
    if (await exists(join(dir, DONE_FILE))) return readPackaged(dir);
    try {
      await mkdir(lock);
      break;
    } catch {
      const held = await stat(lock).catch(() => null);
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`gave up waiting for another packaging (${lock})`);
      await delay(500);
    }
  }
  try {
    if (await exists(join(dir, DONE_FILE))) return readPackaged(dir);
    await removeOtherCaches(dir);
    await rm(dir, { recursive: true, force: true });
    await runPackage(projectRoot, stage, dir);
    await writeFile(join(dir, DONE_FILE), '');
    return readPackaged(dir);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Packages of earlier sources, once no run can still be reading them (another checkout may share the folder). */
async function removeOtherCaches(keep: string): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(tmpdir(), name);
    if (!name.startsWith(CACHE_PREFIX) || name.endsWith('.lock') || path === keep) continue;
    const info = await stat(path).catch(() => null);
    if (info && Date.now() - info.mtimeMs > STALE_CACHE_MS) await rm(path, { recursive: true, force: true });
  }
}
