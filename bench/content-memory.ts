// What the content function's per-container caches keep alive once every one of them is filled past its bound
// with the largest definitions the API accepts (DESIGN §9, "Bounded everything"). Run in its own process:
//   node --expose-gc --import tsx bench/content-memory.ts [--raised-bounds]
// and it prints one JSON line (ContentMemoryReport). `--raised-bounds` lifts the content service's byte bounds
// (its `cacheBytes` seam) to show what the same traffic would cost unbounded. `benchMemory` runs it for
// `npm run bench`; test/integration/content-memory.test.ts asserts on it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type ContentMemoryReport, measure } from './content-memory-measure';
import { ratioLine } from './harness';

const run = promisify(execFile);

/** Runs the measurement in a fresh child process (a clean heap, and gc exposed). */
export async function measureContentMemory(
  options: { raisedBounds?: boolean } = {},
): Promise<ContentMemoryReport> {
  const { stdout } = await run(
    process.execPath,
    [
      '--expose-gc',
      '--max-old-space-size=3072',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      ...(options.raisedBounds ? ['--raised-bounds'] : []),
    ],
    {
      // `--import tsx` resolves from the working directory: the project's root.
      cwd: join(import.meta.dirname, '..'),
      env: {
        ...process.env,
        WEFT_TABLE: process.env.WEFT_TABLE ?? 'memory',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      maxBuffer: 1024 * 1024,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ContentMemoryReport;
}

/** `npm run bench memory`: the heap the caches hold, filled past their bounds, against the function's memory. */
export async function benchMemory(): Promise<string[]> {
  const report = await measureContentMemory();
  return [
    ratioLine(
      'content caches heap vs function memory',
      report.growthMb,
      report.functionMemoryMb,
      'MB',
      '≤ 0.5 (DESIGN §9)',
    ),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  measure(process.argv.includes('--raised-bounds')).then(
    (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
