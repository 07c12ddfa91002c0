// `weft simulate`: campaigns in simulated time through the real policy, against the usual alternatives and the
// delay bound, at the product's own refresh cadence. The campaigns are spread over worker threads (this very
// module, loaded again in each worker).
import { availableParallelism } from 'node:os';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { Command } from 'commander';
import { DEFAULT_OPTIONS, OPTION_RANGES } from '../domain/experiment';
import { TUNED_SHARE_EXPONENT } from '../domain/policy';
import type { CampaignResult } from '../simulation/campaign';
import {
  type AudienceOverrides,
  POLICIES,
  POLICY_DESCRIPTIONS,
  type PolicyName,
  SCENARIOS,
  type Scenario,
  SIMULATED_REFRESH_SECONDS,
  withAudience,
} from '../simulation/scenarios';
import {
  campaignJobs,
  DEFAULT_SEEDS,
  runJob,
  type ScenarioSummary,
  type SimulationOptions,
  type SimulationResult,
  summarize,
} from '../simulation/simulate';
import { progressBar } from './progress';

const MINUTE = 60;
const MAX_DELAY_MEDIAN_MINUTES = 7 * 24 * 60;
const MAX_FLUSH_MINUTES = 24 * 60;

export interface SimulateFlags {
  readonly json?: boolean;
  readonly seeds?: string;
  readonly scenario?: string;
  readonly policies?: string;
  readonly delayMedian?: string;
  readonly flush?: string;
  readonly beaconShare?: string;
  readonly refreshSeconds?: string;
  readonly shareExponent?: string;
  readonly workers?: string;
}

export interface SimulateRun {
  readonly options: SimulationOptions;
  readonly overrides: AudienceOverrides;
  readonly workers: number;
}

/** A plain decimal number (no hex, no exponent games, no empty string), or NaN. */
function decimal(text: string): number {
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
}

function wholeNumber(flag: string, text: string, min: number, max: number, what: string): number {
  const value = decimal(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new Error(`${flag} must be a whole number from ${min} to ${max} (${what}); got "${text}"`);
  return value;
}

/** A comma-separated list of names, each one of `known`; else an Error naming the flag and the first stranger. */
function namesAmong(flag: string, what: string, text: string, known: readonly string[]): string[] {
  const names = text.split(',').map((name) => name.trim());
  const unknown = names.find((name) => !known.includes(name));
  if (unknown !== undefined)
    throw new Error(
      `${flag} must name ${what}, comma-separated, among ${known.join(', ')}; got "${unknown}"`,
    );
  return names;
}

/** The flags, checked: an Error naming the flag and saying why, for the first bad one. */
export function parseSimulateFlags(flags: SimulateFlags): SimulateRun {
  const seeds =
    flags.seeds === undefined
      ? DEFAULT_SEEDS
      : wholeNumber('--seeds', flags.seeds, 1, 10_000, 'campaigns per scenario and policy');
  let scenarios: readonly Scenario[] = SCENARIOS;
  if (flags.scenario !== undefined) {
    const names = namesAmong(
      '--scenario',
      'scenarios',
      flags.scenario,
      SCENARIOS.map((s) => s.name),
    );
    scenarios = SCENARIOS.filter((s) => names.includes(s.name));
  }
  let policies: readonly PolicyName[] | undefined;
  if (flags.policies !== undefined) {
    const names = namesAmong('--policies', 'policies', flags.policies, POLICIES);
    // The equal split is what every loss is a % of: always run.
    policies = POLICIES.filter((p) => p === 'uniform' || names.includes(p));
  }
  let overrides: AudienceOverrides = {};
  if (flags.delayMedian !== undefined) {
    const minutes = decimal(flags.delayMedian);
    if (!(minutes > 0 && minutes <= MAX_DELAY_MEDIAN_MINUTES))
      throw new Error(
        `--delay-median must be a number of minutes above 0 and at most ${MAX_DELAY_MEDIAN_MINUTES} (half of your recipients open or click within it); got "${flags.delayMedian}"`,
      );
    overrides = { ...overrides, delayMedianSeconds: minutes * MINUTE };
  }
  if (flags.flush !== undefined) {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?$/.exec(flags.flush);
    const low = match ? Number(match[1]) : Number.NaN;
    const high = match ? Number(match[2] ?? match[1]) : Number.NaN;
    if (!(low >= 0 && high >= low && high <= MAX_FLUSH_MINUTES))
      throw new Error(
        `--flush must be minutes from a click to its Currents file, as MIN-MAX (e.g. 5-30) or one number, 0 to ${MAX_FLUSH_MINUTES} with MIN ≤ MAX; got "${flags.flush}"`,
      );
    overrides = { ...overrides, flush: { minSeconds: low * MINUTE, maxSeconds: high * MINUTE } };
  }
  if (flags.beaconShare !== undefined) {
    const share = decimal(flags.beaconShare);
    if (!(share >= 0 && share <= 1))
      throw new Error(
        `--beacon-share must be a share from 0 to 1 (of clicks your landing pages report by the beacon, e.g. 0.5); got "${flags.beaconShare}"`,
      );
    overrides = { ...overrides, beaconShare: share };
  }
  const range = OPTION_RANGES.refresh_seconds;
  const refresh =
    flags.refreshSeconds === undefined
      ? undefined
      : wholeNumber(
          '--refresh-seconds',
          flags.refreshSeconds,
          range.min,
          range.max,
          'the experiments’ refresh_seconds',
        );
  const exponentRange = OPTION_RANGES.share_exponent;
  const shareExponent = flags.shareExponent === undefined ? undefined : decimal(flags.shareExponent);
  if (
    shareExponent !== undefined &&
    !(shareExponent >= exponentRange.min && shareExponent <= exponentRange.max)
  )
    throw new Error(
      `--share-exponent must be a number from ${exponentRange.min} to ${exponentRange.max} (the experiments' share_exponent); got "${flags.shareExponent}"`,
    );
  const tuned = {
    ...(refresh === undefined ? {} : { refresh_seconds: refresh }),
    ...(shareExponent === undefined ? {} : { share_exponent: shareExponent }),
  };
  const workers =
    flags.workers === undefined
      ? Math.max(1, Math.min(availableParallelism(), 8))
      : wholeNumber('--workers', flags.workers, 1, 64, 'threads running campaigns');
  return {
    options: {
      scenarios: scenarios.map((s) => withAudience(s, overrides)),
      ...(policies === undefined ? {} : { policies }),
      seeds,
      ...(Object.keys(tuned).length === 0 ? {} : { tuning: { options: tuned } }),
    },
    overrides,
    workers,
  };
}

interface WorkerTask {
  readonly weftSimulate: true;
  readonly options: SimulationOptions;
  readonly jobs: readonly number[];
}

type WorkerReport = { readonly done: number } | { readonly results: ReadonlyArray<[number, CampaignResult]> };

async function runWorkerTask(task: WorkerTask): Promise<void> {
  const jobs = campaignJobs(task.options);
  const results: Array<[number, CampaignResult]> = [];
  for (const index of task.jobs) {
    results.push([index, await runJob(task.options, jobs[index]!)]);
    parentPort!.postMessage({ done: 1 } satisfies WorkerReport);
  }
  parentPort!.postMessage({ results } satisfies WorkerReport);
}

if (!isMainThread && (workerData as WorkerTask | undefined)?.weftSimulate) {
  void runWorkerTask(workerData as WorkerTask);
}

/** Every campaign of `options`, on `workers` threads (this one when 1); the summary in job order. */
export async function simulate(
  options: SimulationOptions,
  workers: number,
  onProgress: (done: number, total: number) => void = () => undefined,
): Promise<SimulationResult> {
  const jobs = campaignJobs(options);
  const results: CampaignResult[] = new Array(jobs.length);
  let done = 0;
  if (workers <= 1) {
    for (let i = 0; i < jobs.length; i++) {
      results[i] = await runJob(options, jobs[i]!);
      onProgress(++done, jobs.length);
    }
    return summarize(options, results);
  }
  // Round-robin, so each thread gets its share of the long campaigns.
  const tasks = Array.from({ length: Math.min(workers, jobs.length) }, (_, w) =>
    jobs.flatMap((_, i) => (i % workers === w ? [i] : [])),
  );
  const loader = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(__filename)});`;
  await Promise.all(
    tasks.map(
      (indices) =>
        new Promise<void>((resolve, reject) => {
          const task: WorkerTask = { weftSimulate: true, options, jobs: indices };
          const worker = new Worker(loader, { eval: true, workerData: task });
          worker.on('message', (report: WorkerReport) => {
            if ('done' in report) onProgress(++done, jobs.length);
            else for (const [index, result] of report.results) results[index] = result;
          });
          worker.on('error', reject);
          worker.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`A simulation worker stopped (exit code ${code})`)),
          );
        }),
    ),
  );
  return summarize(options, results);
}

const pct = (value: number | null, digits = 1) => (value === null ? '—' : value.toFixed(digits));

export function formatScenario(scenario: ScenarioSummary): string {
  const lines = [
    `${scenario.name}: ${scenario.description} [${scenario.metric}, refresh ${scenario.refresh_seconds} s]`,
    `  ${'policy'.padEnd(16)}${'mean %'.padStart(8)}${'± se'.padStart(7)}${'worst %'.padStart(9)}${`lost ${scenario.metric}`.padStart(18)}${'% of oracle'.padStart(13)}${'leader best'.padStart(13)}`,
  ];
  for (const policy of scenario.policies) {
    lines.push(
      `  ${policy.name.padEnd(16)}${pct(policy.lost_pct_of_uniform).padStart(8)}${pct(policy.lost_pct_standard_error).padStart(7)}${pct(policy.worst_lost_pct_of_uniform).padStart(9)}${policy.lost_rewards
        .toFixed(0)
        .padStart(
          18,
        )}${policy.rewards_pct_of_oracle.toFixed(2).padStart(13)}${(policy.best_leader_pct === null ? '—' : `${pct(policy.best_leader_pct, 0)}%`).padStart(13)}`,
    );
  }
  return lines.join('\n');
}

function describeOverrides(overrides: AudienceOverrides): string[] {
  const parts: string[] = [];
  if (overrides.delayMedianSeconds !== undefined)
    parts.push(`median delay to open or click ${overrides.delayMedianSeconds / MINUTE} min`);
  if (overrides.flush)
    parts.push(
      `Currents flush ${overrides.flush.minSeconds / MINUTE}–${overrides.flush.maxSeconds / MINUTE} min`,
    );
  if (overrides.beaconShare !== undefined)
    parts.push(`${overrides.beaconShare * 100}% of clicks by the beacon`);
  return parts.length ? [`Your list: ${parts.join(', ')} (in every scenario where it applies).`] : [];
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'simulate campaigns with delayed rewards: weft against uniform, A/B-then-winner, the delay bound and others',
    )
    .option('--json', 'machine-readable output')
    .option('--seeds <n>', `campaigns per scenario and policy (default ${DEFAULT_SEEDS})`)
    .option('--scenario <names>', `scenarios, comma-separated: ${SCENARIOS.map((s) => s.name).join(', ')}`)
    .option(
      '--policies <names>',
      `policies, comma-separated (uniform always runs: losses are a % of it): ${POLICIES.join(', ')}`,
    )
    .option(
      '--delay-median <minutes>',
      'your list: half of the recipients open or click within this many minutes',
    )
    .option('--flush <min-max>', 'your list: minutes from a click to its Currents file, e.g. 5-30 (0: none)')
    .option(
      '--beacon-share <share>',
      'your list: share of clicks your landing pages report by the beacon, 0-1',
    )
    .option(
      '--refresh-seconds <s>',
      `the experiments' refresh_seconds (default: each scenario's, else ${SIMULATED_REFRESH_SECONDS}: the product's ${DEFAULT_OPTIONS.refresh_seconds}, at most once a minute)`,
    )
    .option(
      '--share-exponent <x>',
      `the experiments' share_exponent, 1-4 (default ${DEFAULT_OPTIONS.share_exponent}: shares by P(best); ${TUNED_SHARE_EXPONENT} lost the fewest clicks on average, with a heavier tail)`,
    )
    .option('--workers <n>', 'threads running campaigns (default: the CPUs, at most 8)')
    .action(async (flags: SimulateFlags) => {
      const run = parseSimulateFlags(flags);
      const startedAt = Date.now();
      const bar = progressBar('campaigns');
      const result = await simulate(run.options, run.workers, bar.update).finally(bar.done);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const text = [
        `Lost rewards (expected rewards of always sending the true best, minus the policy's), as a % of what an`,
        `equal split loses: mean over ${result.seeds} seeds with its standard error ("± se": means closer than about`,
        `twice it are not told apart by these seeds), and the worst seed. "leader best": seeds whose report names the`,
        `true best at the end. ${((Date.now() - startedAt) / 1000).toFixed(1)} s on ${run.workers} thread(s).`,
        ...describeOverrides(run.overrides),
        '',
        ...result.scenarios.map(formatScenario).flatMap((block) => [block, '']),
        'Policies:',
        ...Object.entries(POLICY_DESCRIPTIONS).map(([name, text]) => `  ${name.padEnd(16)}${text}`),
      ];
      process.stdout.write(`${text.join('\n')}\n`);
    });
}
