// One campaign in simulated time, driven through the real policy (allocate() over SendBucketCount counters),
// with realistic reward delays. Sends are aggregated per tick and split over variants by the current
// allocation; each click gets a sampled delay (human log-normal delay plus the Currents flush) and becomes
// visible to the policy only once it has arrived, counted in its send bucket (SEND_BUCKET_SECONDS).
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
} from '../domain/delay';
import { defineExperiment, type Experiment, type PolicyOptions } from '../domain/experiment';
import { allocate } from '../domain/policy';
import type { SendBucketCount } from '../domain/ports/counter-reader';
import { HOUR, sendBucketOf } from '../domain/time';
import { createRandom, type Random, sampleBinomial, sampleLogNormal } from './random';
import { type PolicyName, type Scenario, SIMULATED_CLICK_SHAPE } from './scenarios';

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
