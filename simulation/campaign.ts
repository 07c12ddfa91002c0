// One campaign in simulated time at the product's own cadence: every `refresh_seconds` the policy sets the shares
// (weft: the real recompute of the shared snapshot), and the sends until the next refresh are split by them.
// Each reward gets the time it becomes visible to weft (the pixel and the landing beacon at once, Currents in a
// file minutes later) and is counted then, in its send's bucket, with its send-to-visibility delay recorded in
// the tenant's histogram in the same step: exactly what the ledger does.
//
// Lost rewards = expected rewards of always sending the true best variant − the policy's expected rewards (the
// true rates times the policy's sends), so they measure the allocation, not the luck of the draws.
import type { RewardKind } from '../domain/counting';
import { DELAY_BUCKETS, defaultDelayOf, delayBucket, learnedDelayModel } from '../domain/delay';
import { defineExperiment, type Experiment, type PolicyOptions } from '../domain/experiment';
import { evidenceByVariant, verdict } from '../domain/policy';
import { HOUR, SEND_BUCKET_SECONDS } from '../domain/time';
import { CampaignAllocations, CampaignCounters, TenantDelays } from './campaign-stores';
import { createPolicy } from './policies';
import { createRandom, type Random, sampleBinomial, sampleLogNormal } from './random';
import {
  type Audience,
  type LogNormalDelay,
  type PolicyName,
  type Scenario,
  SIMULATED_REFRESH_SECONDS,
  type UniformDelay,
} from './scenarios';

/** One campaign under one policy and one seed. */
export interface CampaignResult {
  readonly expectedRewards: number;
  readonly bestRewards: number;
  readonly lostRewards: number;
  /**
   * The report's leader at the end is the true best variant; null for policies that stop reading rewards
   * before the end (their campaigns do not draw the rewards they would not read).
   */
  readonly leaderIsBest: boolean | null;
}

/** Knobs for experiments with the simulator; the defaults are what `weft simulate` runs. */
export interface SimulationTuning {
  /** Policy options other than the product's defaults (e.g. min_sends, refresh_seconds). */
  readonly options?: Partial<PolicyOptions>;
  /** Recorded delays of the tenant's earlier campaigns that weft starts from. */
  readonly historyRewards?: number;
  readonly trace?: (now: number, shares: readonly number[]) => void;
}

/** The tenant's earlier campaigns: weft starts from this many recorded delays of the scenario's metric. */
export const HISTORY_REWARDS = 100;

// Events, packed in one number: ((counter row × 8 + event) × 32 + delay bucket).
const OPEN = 0;
const MACHINE_OPEN = 1;
const CURRENTS_CLICK = 2;
const BEACON_CLICK = 3;
const CONVERSION = 4;
const BUCKET_SLOTS = 32;
if (DELAY_BUCKETS > BUCKET_SLOTS) throw new Error('Delay buckets do not fit the event encoding');

const KIND_OF_METRIC: Readonly<Record<Experiment['metric'], RewardKind>> = {
  clicks: 'click',
  opens: 'open',
  conversions: 'conversion',
};

export function simulationExperiment(scenario: Scenario, options: Partial<PolicyOptions> = {}): Experiment {
  return defineExperiment(
    'simulation',
    'simulation',
    {
      metric: scenario.metric,
      variants: scenario.rates.map((_, i) => ({ id: `v${i + 1}`, text: `Variant ${i + 1}` })),
      half_life_hours: scenario.halfLifeHours ?? null,
      refresh_seconds: scenario.refreshSeconds ?? SIMULATED_REFRESH_SECONDS,
      ...options,
    },
    null,
    0,
  );
}

const logNormal = (random: Random, d: LogNormalDelay) =>
  sampleLogNormal(random, Math.log(d.medianSeconds), d.sigma);
const uniformIn = (random: Random, d: UniformDelay) =>
  d.minSeconds + random() * (d.maxSeconds - d.minSeconds);

/** Send to visibility of one reward of the metric, and whether the beacon saw it (clicks). */
export function sampleVisibility(
  random: Random,
  metric: Experiment['metric'],
  audience: Audience,
): { delay: number; beacon: boolean } {
  const human = logNormal(random, audience.delay);
  if (metric === 'opens') return { delay: human, beacon: false };
  if (metric === 'conversions') return { delay: human + logNormal(random, audience.checkout), beacon: true };
  const beacon = audience.beaconShare >= 1 || random() < audience.beaconShare;
  return { delay: beacon ? human : human + uniformIn(random, audience.flush), beacon };
}

/** Runs one campaign of `scenario` under `policy`, deterministic per seed. */
export async function runCampaign(
  scenario: Scenario,
  policy: PolicyName,
  seed: number,
  tuning: SimulationTuning = {},
): Promise<CampaignResult> {
  const random = createRandom(seed);
  const { audience, metric } = scenario;
  const experiment = simulationExperiment(scenario, tuning.options);
  const variants = experiment.variants.length;
  const step = experiment.options.refresh_seconds;
  const end = scenario.spreadHours * HOUR;
  const steps = Math.ceil(end / step);
  const switchAt = scenario.ratesAfterSwitch ? end / 2 : Number.POSITIVE_INFINITY;
  const ratesAt = (now: number) => (now < switchAt ? scenario.rates : scenario.ratesAfterSwitch!);
  const counters = new CampaignCounters(experiment.variants.map((v) => v.id));
  const delays = new TenantDelays();
  const kind = KIND_OF_METRIC[metric];
  const history = createRandom(seed + 0.5);
  for (let i = 0; i < (tuning.historyRewards ?? HISTORY_REWARDS); i++)
    delays.record(kind, delayBucket(sampleVisibility(history, metric, audience).delay));

  // Events by the refresh at which they are first visible (visible at or before its time).
  const events: number[][] = Array.from({ length: steps + 1 }, () => []);
  const schedule = (visibleAt: number, row: number, event: number, bucket: number) => {
    const at = Math.ceil(visibleAt / step);
    if (at <= steps) events[at]!.push((row * 8 + event) * BUCKET_SLOTS + bucket);
  };
  let rewardsSeen = 0;
  let sentSoFar = 0;
  const apply = (packed: number) => {
    const bucket = packed % BUCKET_SLOTS;
    const event = Math.floor(packed / BUCKET_SLOTS) % 8;
    const row = Math.floor(packed / BUCKET_SLOTS / 8);
    if (event === MACHINE_OPEN) {
      // Never an open and never a delay: the recipient leaves the observable base.
      counters.add(row, 'machineOpens');
      counters.add(row, 'machineOnly');
      return;
    }
    if (event === OPEN) counters.add(row, 'opens');
    else if (event === CONVERSION) counters.add(row, 'conversions');
    else {
      counters.add(row, 'clicks');
      if (event === BEACON_CLICK) counters.add(row, 'beaconClicks');
    }
    delays.record(event === OPEN ? 'open' : event === CONVERSION ? 'conversion' : 'click', bucket);
    rewardsSeen++;
  };

  /** The rewards of `sends` sends of variant `v` made evenly over [from, to). */
  const sampleRewards = (row: number, sends: number, rate: number, from: number, to: number) => {
    let people = sends;
    if (metric === 'opens' && audience.privacyShare > 0) {
      const hidden = sampleBinomial(random, sends, audience.privacyShare);
      for (let i = 0; i < hidden; i++)
        schedule(from + random() * (to - from) + uniformIn(random, audience.prefetch), row, MACHINE_OPEN, 0);
      people -= hidden;
    }
    const rewards = sampleBinomial(random, people, rate);
    for (let i = 0; i < rewards; i++) {
      const sentAt = from + random() * (to - from);
      const { delay, beacon } = sampleVisibility(random, metric, audience);
      const event =
        metric === 'opens'
          ? OPEN
          : metric === 'conversions'
            ? CONVERSION
            : beacon
              ? BEACON_CLICK
              : CURRENTS_CLICK;
      schedule(sentAt + delay, row, event, delayBucket(delay));
    }
  };

  const { decide, watching } = createPolicy(policy, {
    experiment,
    counters,
    delays,
    allocations: new CampaignAllocations(),
    random,
    sentSoFar: () => sentSoFar,
    recipients: scenario.recipients,
    end,
    rewardsSeen: () => rewardsSeen,
    trueRates: ratesAt,
  });
  const sentBy = (t: number) => Math.round((scenario.recipients * Math.min(t, end)) / end);
  let expectedRewards = 0;
  let bestRewards = 0;
  let unwatchedSince = Number.POSITIVE_INFINITY;
  for (let k = 0; k < steps; k++) {
    const now = k * step;
    for (const packed of events[k]!) apply(packed);
    events[k] = [];
    const shares = await decide(now);
    tuning.trace?.(now, shares);
    if (!watching(now)) unwatchedSince = Math.min(unwatchedSince, now);
    // The sends until the next refresh, cut at send-bucket boundaries (each is counted in its own bucket).
    const stepEnd = Math.min(now + step, end);
    for (let from = now; from < stepEnd; ) {
      const to = Math.min(stepEnd, (Math.floor(from / SEND_BUCKET_SECONDS) + 1) * SEND_BUCKET_SECONDS);
      const rates = ratesAt(from);
      const bestRate = Math.max(...rates);
      // Multinomial split by successive binomials.
      let remaining = sentBy(to) - sentBy(from);
      sentSoFar += remaining;
      let remainingShare = 1;
      for (let v = 0; v < variants && remaining > 0; v++) {
        const share = shares[v]!;
        const sends =
          v === variants - 1 || remainingShare <= share
            ? remaining
            : sampleBinomial(random, remaining, Math.min(1, Math.max(0, share / remainingShare)));
        remaining -= sends;
        remainingShare -= share;
        if (sends === 0) continue;
        const row = counters.rowIndex(from, v);
        counters.addSends(row, sends, from, to);
        expectedRewards += sends * rates[v]!;
        bestRewards += sends * bestRate;
        if (unwatchedSince === Number.POSITIVE_INFINITY) sampleRewards(row, sends, rates[v]!, from, to);
      }
      from = to;
    }
  }
  for (const packed of events[steps]!) apply(packed);

  const expected = { expectedRewards, bestRewards, lostRewards: bestRewards - expectedRewards };
  if (unwatchedSince < end) return { ...expected, leaderIsBest: null };
  const model = learnedDelayModel(delays.current(kind), defaultDelayOf(metric));
  const { leader } = verdict(experiment, evidenceByVariant(experiment, counters.rows, end, model));
  const finalRates = ratesAt(end);
  return {
    ...expected,
    leaderIsBest: leader === experiment.variants[finalRates.indexOf(Math.max(...finalRates))]!.id,
  };
}
