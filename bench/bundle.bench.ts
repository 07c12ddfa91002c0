// Cold start (DESIGN §6): each handler bundled by esbuild with serverless.yml's `custom.esbuild` options, against
// a do-nothing middy handler bundled the same way: bundle bytes, module-init time (the median of several fresh
// `node` processes, `require` alone timed) and which AWS SDK clients each bundle holds, from esbuild's metafile.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type BuildOptions, build } from 'esbuild';
import { ratioLine } from './harness';

const run = promisify(execFile);

const PROJECT = join(__dirname, '..');
const HANDLERS = ['select-content', 'track-open', 'ingest-currents', 'admin', 'dashboard'] as const;
const INIT_RUNS = 7;

/** serverless.yml `custom.esbuild`, less what only the plugin reads (exclude, packager, watch, work folder). */
const OPTIONS: BuildOptions = {
  bundle: true,
  minify: true,
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  target: 'node22',
  platform: 'node',
  format: 'cjs',
  mainFields: ['module', 'main'],
  external: [],
  metafile: true,
  logLevel: 'silent',
  absWorkingDir: PROJECT,
};

const BASELINE_SOURCE = `import middy from '@middy/core';
export const handler = middy().handler(async () => ({ statusCode: 200, body: '' }));
`;

/** What Lambda gives every function (serverless.yml provider.environment), enough for module init to run. */
const INIT_ENV = {
  PATH: process.env['PATH'] ?? '',
  WEFT_TABLE: 'bench',
  AWS_REGION: 'eu-west-1',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

const INIT_SCRIPT =
  'const t=process.hrtime.bigint(); require(process.argv[1]); console.log(Number(process.hrtime.bigint()-t)/1e6)';

interface Bundle {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly clients: readonly string[];
  /** `@aws-sdk/nested-clients` submodules (sso, sts, …): what the default credential chain brings along. */
  readonly nested: readonly string[];
  readonly warnings: number;
}

async function bundle(name: string, entry: string, outDir: string): Promise<Bundle> {
  const file = join(outDir, `${name}.js`);
  const result = await build({ ...OPTIONS, entryPoints: [entry], outfile: file });
  const clients = new Set<string>();
  const nested = new Set<string>();
  for (const input of Object.keys(result.metafile?.inputs ?? {})) {
    const client = /node_modules\/@aws-sdk\/client-([^/]+)\//.exec(input)?.[1];
    if (client) clients.add(client);
    const submodule = /node_modules\/@aws-sdk\/nested-clients\/.*submodules\/([^/]+)\//.exec(input)?.[1];
    if (submodule) nested.add(submodule);
  }
  return {
    name,
    file,
    bytes: (await stat(file)).size,
    clients: [...clients].sort(),
    nested: [...nested].sort(),
    warnings: result.warnings.length,
  };
}

/** Milliseconds `require` takes in a fresh process; the process start itself is not counted. */
async function initMillis(file: string): Promise<number> {
  const { stdout } = await run(process.execPath, ['-e', INIT_SCRIPT, file], { env: INIT_ENV });
  const millis = Number(stdout.trim().split('\n').pop());
  if (!Number.isFinite(millis)) throw new Error(`no init time from ${file}: ${stdout}`);
  return millis;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function benchBundle(): Promise<string[]> {
  const lines: string[] = [];
  const outDir = await mkdtemp(join(tmpdir(), 'weft-bundle-'));
  // The baseline's source sits inside the project so that `@middy/core` resolves from its node_modules;
  // a folder of its own per run, so that parallel runs never delete each other's file.
  const sourceRoot = join(PROJECT, '.esbuild-bench');
  await mkdir(sourceRoot, { recursive: true });
  const sourceDir = await mkdtemp(join(sourceRoot, 'run-'));
  try {
    const baselineEntry = join(sourceDir, 'baseline.ts');
    await writeFile(baselineEntry, BASELINE_SOURCE);
    const baseline = await bundle('minimal-middy', baselineEntry, outDir);
    const handlers: Bundle[] = [];
    for (const name of HANDLERS)
      handlers.push(await bundle(name, join(PROJECT, 'handlers', `${name}.ts`), outDir));

    // Interleaved rounds, so that a noisy moment on the machine spreads over every bundle alike.
    const all = [baseline, ...handlers];
    const times = new Map<string, number[]>(all.map((b) => [b.name, []]));
    for (let round = 0; round < INIT_RUNS; round++) {
      for (const b of all) times.get(b.name)!.push(await initMillis(b.file));
    }
    const baselineInit = median(times.get(baseline.name)!);

    const describe = (b: Bundle) =>
      `bundle ${b.name}: ${b.bytes.toLocaleString('en')} bytes, clients ${b.clients.join(', ') || 'none'}` +
      (b.nested.length ? `; nested-clients ${b.nested.join(', ')} (default credential chain)` : '') +
      (b.warnings ? ` (${b.warnings} esbuild warnings)` : '');
    lines.push(describe(baseline));
    for (const b of handlers) {
      lines.push(describe(b));
      lines.push(
        ratioLine(
          `${b.name} bundle size vs minimal middy bundle`,
          b.bytes / 1024,
          baseline.bytes / 1024,
          'KB',
        ),
      );
      lines.push(
        ratioLine(
          `${b.name} module init vs minimal middy bundle`,
          median(times.get(b.name)!),
          baselineInit,
          'ms',
        ),
      );
    }
  } finally {
    await rm(outDir, { recursive: true, force: true });
    await rm(sourceDir, { recursive: true, force: true });
    // Only if empty: another run may be using it.
    await rmdir(sourceRoot).catch(() => undefined);
  }
  return lines;
}
