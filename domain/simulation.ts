// The simulator behind `weft simulate`: campaigns in simulated time, driven through the real policy
// (allocate() over SendBucketCount counters), with realistic reward delays. Sends are aggregated per tick and
// split over variants by the current allocation; each click gets a sampled delay (human log-normal delay plus
// the Currents flush) and becomes visible to the policy only once it has arrived, counted in its send bucket (SEND_BUCKET_SECONDS).
//
// Lost clicks = expected clicks of always sending the true best variant − the policy's expected clicks (the
// true rates times the policy's sends), so they measure the allocation, not the luck of the click draws.
import {
  DEFAULT_CLICK_DELAY,
  DELAY_BUCKETS,
  type DelayModel,
  type DelayShape,
  delayBucket,
  learnedDelayModel,
  NO_DELAY,
} from './delay';
import { defineExperiment, type Experiment, type PolicyOptions } from './experiment';
import { allocate } from './policy';
import type { SendBucketCount } from './ports/counter-reader';
import { createRandom, type Random, sampleBinomial, sampleLogNormal } from './random';
import { HOUR, sendBucketOf } from './time';

export type PolicyName = 'weft' | 'naive-ts' | 'twice-daily' | 'ab-then-winner' | 'uniform' | 'oracle';

export const POLICIES: readonly PolicyName[] = [
  'weft',
  'naive-ts',
  'twice-daily',
  'ab-then-winner',
  'uniform',
  'oracle',
];

export const POLICY_DESCRIPTIONS: Readonly<Record<PolicyName, string>> = {
  weft: 'delay-aware Thompson sampling, learned delay model, refreshed every tick',
  'naive-ts': 'Thompson sampling without delay correction (fresh sends count as failures)',
  'twice-daily': 'delay-aware Thompson sampling, reweighted every 12 h',
  'ab-then-winner':
    'equal split for the first 10% of recipients, then all the rest to the leader on clicks arrived by then',
  uniform: 'equal split throughout',
  oracle: 'always the true best variant',
};

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly recipients: number;
  /** Sends are spread evenly over this many hours. */
  readonly spreadHours: number;
  /** True click rates per variant. */
  readonly rates: readonly number[];
  /** True click rates from half-way through (a drifting, always-on campaign). */
  readonly ratesAfterSwitch?: readonly number[];
  /** Evidence half-life for the bandit policies (always-on campaigns). */
  readonly halfLifeHours?: number;
  /** Simulated time step, seconds: the allocation refresh of `weft` and the send aggregation. */
  readonly tickSeconds: number;
}

/** The tenant's true click delay in the simulation: a little faster than weft's default, so learning matters. */
export const SIMULATED_CLICK_SHAPE: DelayShape = {
  medianSeconds: 40 * 60,
  sigma: 1.4,
  flushMinSeconds: 5 * 60,
  flushMaxSeconds: 30 * 60,
};

function spread(count: number, low: number, high: number): number[] {
  return Array.from({ length: count }, (_, i) => low + ((high - low) * i) / (count - 1));
}

const TEN_RATES = spread(10, 0.01, 0.05);

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'broadcast-6h-10',
    description: '1M recipients over 6 h, 10 variants at 1–5% (default)',
    recipients: 1_000_000,
    spreadHours: 6,
    rates: TEN_RATES,
    tickSeconds: 300,
  },
  {
    name: 'broadcast-1h-10',
    description: '1M recipients over 1 h, 10 variants at 1–5%',
    recipients: 1_000_000,
    spreadHours: 1,
    rates: TEN_RATES,
    tickSeconds: 60,
  },
  {
    name: 'broadcast-24h-10',
    description: '1M recipients over 24 h, 10 variants at 1–5%',
    recipients: 1_000_000,
    spreadHours: 24,
    rates: TEN_RATES,
    tickSeconds: 300,
  },
  {
    name: 'broadcast-6h-3',
    description: '1M recipients over 6 h, 3 variants at 1%, 3%, 5%',
    recipients: 1_000_000,
    spreadHours: 6,
    rates: [0.01, 0.03, 0.05],
    tickSeconds: 300,
  },
  {
    name: 'close-6h-5',
    description: '1M recipients over 6 h, 5 close variants at 2.6–3.0%',
    recipients: 1_000_000,
    spreadHours: 6,
    rates: [0.026, 0.027, 0.028, 0.029, 0.03],
    tickSeconds: 300,
  },
  {
    name: 'always-on-switch',
    description: '20k sends a day for 14 days, 5 variants at 2–4%, best variant changes half-way',
    recipients: 280_000,
    spreadHours: 14 * 24,
    rates: [0.04, 0.035, 0.03, 0.025, 0.02],
    ratesAfterSwitch: [0.02, 0.025, 0.03, 0.035, 0.04],
    halfLifeHours: 48,
    tickSeconds: 900,
  },
];

export const DEFAULT_SCENARIO = 'broadcast-6h-10';

/** One campaign under one policy and one seed. */
export interface CampaignResult {
  readonly expectedClicks: number;
  readonly bestClicks: number;
  readonly lostClicks: number;
}

const TWELVE_HOURS = 12 * HOUR;
const AB_TEST_SHARE = 0.1;

function sampleDelay(random: Random, shape: DelayShape): number {
  return (
    sampleLogNormal(random, Math.log(shape.medianSeconds), shape.sigma) +
    shape.flushMinSeconds +
    random() * (shape.flushMaxSeconds - shape.flushMinSeconds)
  );
}

function equalAmong(indices: readonly number[], variants: number): number[] {
  const shares = new Array<number>(variants).fill(0);
  for (const i of indices) shares[i] = 1 / indices.length;
  return shares;
}

/** The variant with the best observed rate (arrived clicks over sends); ties broken at random. */
function observedLeader(counts: readonly MutableCount[], variants: number, random: Random): number {
  const sends = new Array<number>(variants).fill(0);
  const clicks = new Array<number>(variants).fill(0);
  counts.forEach((row, i) => {
    sends[i % variants]! += row.sends;
    clicks[i % variants]! += row.clicks;
  });
  const rates = sends.map((n, v) => (n > 0 ? clicks[v]! / n : 0));
  const best = Math.max(...rates);
  const leaders = rates.flatMap((rate, v) => (rate === best ? [v] : []));
  return leaders[Math.floor(random() * leaders.length)]!;
}

interface MutableCount {
  bucketStart: number;
  variantId: string;
  sends: number;
  opens: number;
  clicks: number;
}

export function simulationExperiment(
  scenario: Scenario,
  options: Partial<PolicyOptions> = {},
  tickSeconds = scenario.tickSeconds,
): Experiment {
  return defineExperiment(
    'simulation',
    'simulation',
    {
      metric: 'clicks',
      variants: scenario.rates.map((_, i) => ({ id: `v${i + 1}`, text: `Variant ${i + 1}` })),
      half_life_hours: scenario.halfLifeHours ?? null,
      refresh_seconds: Math.min(300, tickSeconds),
      ...options,
    },
    null,
    0,
  );
}

/** Knobs for experiments with the simulator; the defaults are what `weft simulate` runs. */
export interface SimulationTuning {
  /** weft learns its delay model (true) or keeps DEFAULT_CLICK_DELAY (false). */
  readonly learn?: boolean;
  /** weft uses this delay model throughout instead (e.g. the true one): a diagnostic. */
  readonly delayModel?: DelayModel;
  /** Recorded delays of the tenant's earlier campaigns that weft starts from. */
  readonly historyClicks?: number;
  readonly tickSeconds?: number;
  /** Policy options other than the defaults (e.g. min_sends). */
  readonly options?: Partial<PolicyOptions>;
  readonly trace?: (now: number, shares: readonly number[]) => void;
}

/**
 * A click's delay enters the tenant's histogram once its send is this old (or when it arrives, if later), so
 * every click is recorded exactly once and recent sends do not bias the histogram towards short delays (the
 * clicks of a send that arrive first are the fast ones).
 */
export const DELAY_RECORDING_AGE = 48 * HOUR;
/** The tenant's earlier campaigns: weft starts from this many recorded delays. */
export const HISTORY_CLICKS = 100;

/** Runs one campaign of `scenario` under `policy`, deterministic per seed. */
export function runCampaign(
  scenario: Scenario,
  policy: PolicyName,
  seed: number,
  delayShape: DelayShape = SIMULATED_CLICK_SHAPE,
  tuning: SimulationTuning = {},
): CampaignResult {
  const random = createRandom(seed);
  const variants = scenario.rates.length;
  const tick = tuning.tickSeconds ?? scenario.tickSeconds;
  const experiment = simulationExperiment(scenario, tuning.options, tick);
  const ids = experiment.variants.map((v) => v.id);
  const ticks = Math.ceil((scenario.spreadHours * HOUR) / tick);
  const switchTick = scenario.ratesAfterSwitch ? Math.floor(ticks / 2) : ticks;
  const counts: MutableCount[] = [];
  // Send bucket start -> index in `counts` of its first row (one row per variant, in variant order).
  const bucketRows = new Map<number, number>();
  // Clicks by the tick at whose start they become visible, as counter row indices.
  const arrivals: number[][] = Array.from({ length: ticks }, () => []);
  const histogram = new Array<number>(DELAY_BUCKETS).fill(0);
  const history = createRandom(seed + 0.5);
  for (let i = 0; i < (tuning.historyClicks ?? HISTORY_CLICKS); i++)
    histogram[delayBucket(sampleDelay(history, delayShape))]!++;
  let histogramChanged = true;
  // Delay buckets by the tick at whose start they enter the histogram.
  const recordings: number[][] = Array.from({ length: ticks }, () => []);
  let delayModel: DelayModel = tuning.delayModel ?? DEFAULT_CLICK_DELAY;
  let abWinner: number | null = null;
  const abTestSize = AB_TEST_SHARE * scenario.recipients;
  let sentSoFar = 0;
  let shares = equalAmong(
    ids.map((_, i) => i),
    variants,
  );
  let expectedClicks = 0;
  let bestClicks = 0;

  const allocated = (model: DelayModel, now: number): number[] => {
    const allocation = allocate(experiment, counts as readonly SendBucketCount[], now, model);
    return ids.map((id) => allocation.shares.get(id) ?? 0);
  };

  for (let k = 0; k < ticks; k++) {
    const now = k * tick;
    const rates = k < switchTick ? scenario.rates : scenario.ratesAfterSwitch!;
    const arrived = arrivals[k]!;
    for (const row of arrived) counts[row]!.clicks++;
    arrivals[k] = [];
    for (const bucket of recordings[k]!) {
      histogram[bucket]!++;
      histogramChanged = true;
    }
    recordings[k] = [];

    switch (policy) {
      case 'weft':
        if (histogramChanged && tuning.learn !== false && !tuning.delayModel) {
          delayModel = learnedDelayModel({ counts: histogram }, DEFAULT_CLICK_DELAY);
          histogramChanged = false;
        }
        shares = allocated(delayModel, now);
        break;
      case 'naive-ts':
        shares = allocated(NO_DELAY, now);
        break;
      case 'twice-daily':
        if (now % TWELVE_HOURS < tick) shares = allocated(DEFAULT_CLICK_DELAY, now);
        break;
      case 'ab-then-winner':
        // The test ends at the first tick boundary with 10% sent; the winner is picked then, once.
        if (abWinner === null && sentSoFar >= abTestSize) {
          abWinner = observedLeader(counts, variants, random);
          shares = equalAmong([abWinner], variants);
        }
        break;
      case 'oracle':
        shares = equalAmong([rates.indexOf(Math.max(...rates))], variants);
        break;
      case 'uniform':
        break;
    }

    tuning.trace?.(now, shares);
    const bucketStart = sendBucketOf(now);
    let firstRow = bucketRows.get(bucketStart);
    if (firstRow === undefined) {
      firstRow = counts.length;
      bucketRows.set(bucketStart, firstRow);
      counts.push(...ids.map((variantId) => ({ bucketStart, variantId, sends: 0, opens: 0, clicks: 0 })));
    }
    const tickSends =
      Math.round(((k + 1) * scenario.recipients) / ticks) - Math.round((k * scenario.recipients) / ticks);
    const bestRate = Math.max(...rates);
    // Multinomial split of the tick's sends by successive binomials.
    let remaining = tickSends;
    let remainingShare = 1;
    for (let v = 0; v < variants; v++) {
      const share = shares[v]!;
      const sends =
        v === variants - 1 || remainingShare <= share
          ? remaining
          : sampleBinomial(random, remaining, Math.min(1, Math.max(0, share / remainingShare)));
      remaining -= sends;
      remainingShare -= share;
      if (sends === 0) continue;
      counts[firstRow + v]!.sends += sends;
      expectedClicks += sends * rates[v]!;
      bestClicks += sends * bestRate;
      const clicks = sampleBinomial(random, sends, rates[v]!);
      for (let c = 0; c < clicks; c++) {
        const delay = sampleDelay(random, delayShape);
        const sentAt = now + random() * tick;
        const arrivalTick = Math.floor((sentAt + delay) / tick) + 1;
        if (arrivalTick < ticks) arrivals[arrivalTick]!.push(firstRow + v);
        const recordTick = Math.floor((sentAt + Math.max(delay, DELAY_RECORDING_AGE)) / tick) + 1;
        if (recordTick < ticks) recordings[recordTick]!.push(delayBucket(delay));
      }
    }
    sentSoFar += tickSends;
  }
  return { expectedClicks, bestClicks, lostClicks: bestClicks - expectedClicks };
}

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
