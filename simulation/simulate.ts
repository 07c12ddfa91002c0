// The sweep behind `weft simulate`: every scenario × policy × seed through runCampaign, averaged into the
// summary the CLI prints.
import type { DelayShape } from '../domain/delay';
import { runCampaign } from './campaign';
import { DEFAULT_SCENARIO, POLICIES, type PolicyName, SCENARIOS, type Scenario } from './scenarios';

export interface PolicySummary {
  readonly name: PolicyName;
  readonly lost_clicks: number;
  readonly lost_clicks_pct_of_uniform: number;
  readonly expected_clicks: number;
  readonly clicks_pct_of_oracle: number;
}

export interface ScenarioSummary {
  readonly name: string;
  readonly description: string;
  readonly recipients: number;
  readonly spread_hours: number;
  readonly variants: number;
  readonly policies: readonly PolicySummary[];
}

export interface SimulationResult {
  readonly seeds: number;
  readonly default_scenario: string;
  /** The default scenario's policies (or the first simulated scenario's). */
  readonly policies: readonly PolicySummary[];
  readonly scenarios: readonly ScenarioSummary[];
}

export interface SimulationOptions {
  readonly scenarios?: readonly Scenario[];
  readonly policies?: readonly PolicyName[];
  readonly seeds?: number;
  readonly firstSeed?: number;
  readonly delayShape?: DelayShape;
  /** Called after every campaign with the number done and the total. */
  readonly onProgress?: (done: number, total: number) => void;
}

export const DEFAULT_SEEDS = 20;

/** Every scenario × policy × seed, averaged per scenario and policy. Pure: same options, same result. */
export function runSimulation(options: SimulationOptions = {}): SimulationResult {
  const scenarios = options.scenarios ?? SCENARIOS;
  const policies = options.policies ?? POLICIES;
  const seeds = options.seeds ?? DEFAULT_SEEDS;
  const firstSeed = options.firstSeed ?? 1;
  const total = scenarios.length * policies.length * seeds;
  let done = 0;
  const summaries: ScenarioSummary[] = scenarios.map((scenario, scenarioIndex) => {
    const sums = policies.map((policy, policyIndex) => {
      let lost = 0;
      let expected = 0;
      let best = 0;
      for (let s = 0; s < seeds; s++) {
        const seed = (firstSeed + s) * 1_000_003 + scenarioIndex * 101 + policyIndex;
        const result = runCampaign(scenario, policy, seed, options.delayShape);
        lost += result.lostClicks;
        expected += result.expectedClicks;
        best += result.bestClicks;
        options.onProgress?.(++done, total);
      }
      return { policy, lost: lost / seeds, expected: expected / seeds, best: best / seeds };
    });
    const uniform = sums.find((s) => s.policy === 'uniform');
    const uniformLost = uniform ? uniform.lost : Number.NaN;
    return {
      name: scenario.name,
      description: scenario.description,
      recipients: scenario.recipients,
      spread_hours: scenario.spreadHours,
      variants: scenario.rates.length,
      policies: sums.map((s) => ({
        name: s.policy,
        lost_clicks: s.lost,
        lost_clicks_pct_of_uniform: (100 * s.lost) / uniformLost,
        expected_clicks: s.expected,
        clicks_pct_of_oracle: (100 * s.expected) / s.best,
      })),
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
