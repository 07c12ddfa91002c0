// The sweep behind `weft simulate`: every scenario × policy × seed through runCampaign, summarised per scenario
// and policy (mean and worst seed). The campaigns are independent jobs, so a caller may run them anywhere (the
// CLI spreads them over worker threads) and summarise the results in job order.
import { type CampaignResult, runCampaign, type SimulationTuning, simulationExperiment } from './campaign';
import { DEFAULT_SCENARIO, POLICIES, type PolicyName, SCENARIOS, type Scenario } from './scenarios';

export interface PolicySummary {
  readonly name: PolicyName;
  /** Mean over seeds of the rewards lost against always sending the true best. */
  readonly lost_rewards: number;
  /** The mean as a % of what an equal split loses (mean over seeds). */
  readonly lost_pct_of_uniform: number;
  /** The worst seed's loss, as a % of the equal split's mean loss. */
  readonly worst_lost_pct_of_uniform: number;
  /**
   * The standard error of that mean (the seeds' standard deviation over √seeds; 0 for one seed): two policies
   * or settings whose means differ by less than about twice it are not told apart by this many seeds.
   */
  readonly lost_pct_standard_error: number;
  readonly expected_rewards: number;
  readonly rewards_pct_of_oracle: number;
  /** % of seeds whose report names the true best as the leader at the end (null: rewards not drawn to the end). */
  readonly best_leader_pct: number | null;
}

export interface ScenarioSummary {
  readonly name: string;
  readonly description: string;
  readonly metric: Scenario['metric'];
  readonly recipients: number;
  readonly spread_hours: number;
  readonly variants: number;
  readonly refresh_seconds: number;
  readonly policies: readonly PolicySummary[];
}

export interface SimulationResult {
  readonly seeds: number;
  readonly default_scenario: string;
  /** The default scenario's policies (or the first simulated scenario's). */
  readonly policies: readonly PolicySummary[];
  readonly scenarios: readonly ScenarioSummary[];
}

/** Plain data (it crosses to worker threads): what to run. */
export interface SimulationOptions {
  readonly scenarios?: readonly Scenario[];
  readonly policies?: readonly PolicyName[];
  readonly seeds?: number;
  readonly firstSeed?: number;
  readonly tuning?: Omit<SimulationTuning, 'trace'>;
}

export interface CampaignJob {
  readonly scenario: number;
  readonly policy: number;
  readonly seedIndex: number;
}

export const DEFAULT_SEEDS = 20;

/** FNV-1a: a scenario's seeds depend on its name, so one scenario alone gives the same figures as the sweep. */
function hashName(name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

export function campaignJobs(options: SimulationOptions = {}): CampaignJob[] {
  const scenarios = options.scenarios ?? SCENARIOS;
  const policies = options.policies ?? POLICIES;
  const seeds = options.seeds ?? DEFAULT_SEEDS;
  const jobs: CampaignJob[] = [];
  scenarios.forEach((_, scenario) => {
    policies.forEach((_, policy) => {
      for (let seedIndex = 0; seedIndex < seeds; seedIndex++) jobs.push({ scenario, policy, seedIndex });
    });
  });
  return jobs;
}

/** The seed of a campaign: the same for every policy (common random numbers), distinct per scenario and seed. */
export function campaignSeed(scenario: Scenario, seedIndex: number, firstSeed = 1): number {
  return (firstSeed + seedIndex) * 2 ** 32 + hashName(scenario.name);
}

export function runJob(options: SimulationOptions, job: CampaignJob): Promise<CampaignResult> {
  const scenario = (options.scenarios ?? SCENARIOS)[job.scenario]!;
  const policy = (options.policies ?? POLICIES)[job.policy]!;
  return runCampaign(
    scenario,
    policy,
    campaignSeed(scenario, job.seedIndex, options.firstSeed),
    options.tuning,
  );
}

const mean = (values: readonly number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

/** The standard error of the mean of `values`: their sample standard deviation over √n (0 for fewer than 2). */
export function standardError(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  const variance = values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length);
}

/** The summary of `results`, given in the order of campaignJobs(options). */
export function summarize(options: SimulationOptions, results: readonly CampaignResult[]): SimulationResult {
  const scenarios = options.scenarios ?? SCENARIOS;
  const policies = options.policies ?? POLICIES;
  const seeds = options.seeds ?? DEFAULT_SEEDS;
  const jobs = campaignJobs(options);
  if (results.length !== jobs.length)
    throw new Error(`Expected ${jobs.length} results, got ${results.length}`);
  const of = (scenario: number, policy: number) =>
    results.filter((_, i) => jobs[i]!.scenario === scenario && jobs[i]!.policy === policy);
  const summaries: ScenarioSummary[] = scenarios.map((scenario, s) => {
    const uniformIndex = policies.indexOf('uniform');
    const uniformLost = uniformIndex >= 0 ? mean(of(s, uniformIndex).map((r) => r.lostRewards)) : Number.NaN;
    return {
      name: scenario.name,
      description: scenario.description,
      metric: scenario.metric,
      recipients: scenario.recipients,
      spread_hours: scenario.spreadHours,
      variants: scenario.rates.length,
      refresh_seconds: runRefreshSeconds(scenario, options),
      policies: policies.map((name, p) => {
        const runs = of(s, p);
        const lost = mean(runs.map((r) => r.lostRewards));
        const expected = mean(runs.map((r) => r.expectedRewards));
        return {
          name,
          lost_rewards: lost,
          lost_pct_of_uniform: (100 * lost) / uniformLost,
          worst_lost_pct_of_uniform: (100 * Math.max(...runs.map((r) => r.lostRewards))) / uniformLost,
          lost_pct_standard_error: (100 * standardError(runs.map((r) => r.lostRewards))) / uniformLost,
          expected_rewards: expected,
          rewards_pct_of_oracle: (100 * expected) / mean(runs.map((r) => r.bestRewards)),
          best_leader_pct: runs.some((r) => r.leaderIsBest === null)
            ? null
            : (100 * runs.filter((r) => r.leaderIsBest).length) / runs.length,
        };
      }),
    };
  });
  const defaultSummary = summaries.find((s) => s.name === DEFAULT_SCENARIO) ?? summaries[0];
  return {
    seeds,
    default_scenario: defaultSummary?.name ?? DEFAULT_SCENARIO,
    policies: defaultSummary?.policies ?? [],
    scenarios: summaries,
  };
}

/** The refresh a scenario runs at: the experiment's (the product default unless the scenario or tuning says). */
export function runRefreshSeconds(scenario: Scenario, options: SimulationOptions): number {
  return simulationExperiment(scenario, options.tuning?.options).options.refresh_seconds;
}

/** Every scenario × policy × seed in this thread. Pure: same options, same result. */
export async function runSimulation(
  options: SimulationOptions = {},
  onProgress?: (done: number, total: number) => void,
): Promise<SimulationResult> {
  const jobs = campaignJobs(options);
  const results: CampaignResult[] = [];
  for (const job of jobs) {
    results.push(await runJob(options, job));
    onProgress?.(results.length, jobs.length);
  }
  return summarize(options, results);
}
