// The allocation: each active variant's traffic share, from its counters. Beta-Bernoulli Thompson sampling in
// expectation: a variant's share is its probability of being best, computed (not sampled per request).
import { type DelayModel, meanArrivedBy } from './delay';
import { activeVariants, type Experiment } from './experiment';
import type { SendBucketCount } from './ports/counter-reader';
import { type BetaParams, betaMean, expectedLoss, probabilityBest } from './stats';
import { HOUR, SEND_BUCKET_SECONDS } from './time';

export type AllocationPhase = 'burn_in' | 'learning' | 'settled';

export interface Allocation {
  /** Active variant id -> share; shares sum to 1. */
  readonly shares: ReadonlyMap<string, number>;
  readonly phase: AllocationPhase;
  readonly computedAt: number;
}

export interface VariantEvidence {
  readonly sends: number;
  readonly rewards: number;
  /** The Beta posterior of the variant's rate after delay correction and decay: what the policy uses. */
  readonly posterior: BetaParams;
}

export function rewardsOf(count: SendBucketCount, metric: Experiment['metric']): number {
  return metric === 'clicks' ? count.clicks : count.opens;
}

/**
 * What older send buckets contribute, summed once (see allocation-snapshot.ts): raw sends and rewards, and their
 * weighted additions to the Beta parameters (prior excluded).
 */
export interface SettledEvidence {
  readonly sends: number;
  readonly rewards: number;
  readonly alpha: number;
  readonly beta: number;
}

/**
 * Beta(1, 1) prior; each send bucket's rewarded sends count fully, its unrewarded sends only by the probability
 * that their reward would have arrived by their age; with a half-life, older buckets weigh less.
 */
export function evidenceByVariant(
  experiment: Experiment,
  counts: readonly SendBucketCount[],
  now: number,
  delay: DelayModel,
  settled?: ReadonlyMap<string, SettledEvidence>,
): Map<string, VariantEvidence> {
  const index = new Map(experiment.variants.map((v, i) => [v.id, i]));
  const n = experiment.variants.length;
  const sends = new Float64Array(n);
  const rewardSums = new Float64Array(n);
  const alpha = new Float64Array(n).fill(1);
  const beta = new Float64Array(n).fill(1);
  experiment.variants.forEach((v, i) => {
    const earlier = settled?.get(v.id);
    if (!earlier) return;
    sends[i]! += earlier.sends;
    rewardSums[i]! += earlier.rewards;
    alpha[i]! += earlier.alpha;
    beta[i]! += earlier.beta;
  });
  const halfLifeSeconds = experiment.options.half_life_hours
    ? experiment.options.half_life_hours * HOUR
    : null;
  // Every variant has a row per send bucket, usually adjacent: weigh each bucket once.
  const weights = new Map<number, { decay: number; arrived: number }>();
  let lastBucket = Number.NaN;
  let weight = { decay: 1, arrived: 1 };
  for (const count of counts) {
    const i = index.get(count.variantId);
    if (i === undefined) continue;
    if (count.bucketStart !== lastBucket) {
      lastBucket = count.bucketStart;
      let cached = weights.get(lastBucket);
      if (!cached) {
        const oldest = Math.max(0, now - lastBucket);
        const youngest = Math.max(0, oldest - SEND_BUCKET_SECONDS);
        cached = {
          decay: halfLifeSeconds ? 0.5 ** ((oldest + youngest) / 2 / halfLifeSeconds) : 1,
          // Sends spread over the bucket: average the arrival probability over their ages (convex early on).
          arrived: meanArrivedBy(delay, youngest, oldest),
        };
        weights.set(lastBucket, cached);
      }
      weight = cached;
    }
    const rewards = Math.min(rewardsOf(count, experiment.metric), count.sends);
    sends[i]! += count.sends;
    rewardSums[i]! += rewards;
    alpha[i]! += weight.decay * rewards;
    beta[i]! += weight.decay * (count.sends - rewards) * weight.arrived;
  }
  return new Map(
    experiment.variants.map((v, i) => [
      v.id,
      { sends: sends[i]!, rewards: rewardSums[i]!, posterior: { alpha: alpha[i]!, beta: beta[i]! } },
    ]),
  );
}

/** Raises every share below `floor` to it, taking the difference proportionally from the others. */
export function applyFloor(shares: number[], floor: number): number[] {
  if (floor <= 0 || shares.length === 0 || floor * shares.length >= 1) {
    return floor * shares.length >= 1 ? shares.map(() => 1 / shares.length) : shares;
  }
  const pinned = new Set<number>();
  let result = shares;
  for (let round = 0; round < shares.length; round++) {
    const below = result.flatMap((share, i) => (!pinned.has(i) && share < floor ? [i] : []));
    if (below.length === 0) break;
    for (const i of below) pinned.add(i);
    const free = 1 - pinned.size * floor;
    const unpinnedMass = shares.reduce((sum, share, i) => (pinned.has(i) ? sum : sum + share), 0);
    result = shares.map((share, i) =>
      pinned.has(i)
        ? floor
        : unpinnedMass > 0
          ? (share / unpinnedMass) * free
          : free / (shares.length - pinned.size),
    );
  }
  return result;
}

export function allocate(
  experiment: Experiment,
  counts: readonly SendBucketCount[],
  now: number,
  delay: DelayModel,
  settled?: ReadonlyMap<string, SettledEvidence>,
): Allocation {
  return allocateFrom(experiment, evidenceByVariant(experiment, counts, now, delay, settled), now);
}

export function allocateFrom(
  experiment: Experiment,
  evidence: ReadonlyMap<string, VariantEvidence>,
  now: number,
): Allocation {
  const active = activeVariants(experiment);
  const sendsOf = (id: string) => evidence.get(id)?.sends ?? 0;
  const equal = () => new Map(active.map((v) => [v.id, 1 / active.length]));
  if (active.some((v) => sendsOf(v.id) < experiment.options.min_sends)) {
    return { shares: equal(), phase: 'burn_in', computedAt: now };
  }
  const control = active.find((v) => v.control);
  const contenders = control && active.length > 2 ? active.filter((v) => v !== control) : active;
  const controlShare = control && contenders.length < active.length ? experiment.options.control_share : 0;
  const best = probabilityBest(contenders.map((v) => evidence.get(v.id)!.posterior));
  const floored = applyFloor(best, experiment.options.floor);
  const shares = new Map<string, number>();
  if (control && controlShare > 0) shares.set(control.id, controlShare);
  contenders.forEach((v, i) => {
    shares.set(v.id, (floored[i] ?? 0) * (1 - controlShare));
  });
  const settled = best.some((p) => p >= 0.95);
  return { shares, phase: settled ? 'settled' : 'learning', computedAt: now };
}

const CONFIDENT_P_BEST = 0.95;
const CONFIDENT_LOSS_FRACTION = 0.01;

export interface Verdict {
  /** The active variant most likely to be best. */
  readonly leader: string | null;
  /** P(best) ≥ 0.95 and expected loss ≤ 1% of the leader's rate (Braze's own criterion). */
  readonly confident: boolean;
  readonly pBest: ReadonlyMap<string, number>;
  readonly losses: ReadonlyMap<string, number>;
}

export function verdict(experiment: Experiment, evidence: ReadonlyMap<string, VariantEvidence>): Verdict {
  const active = activeVariants(experiment);
  const posteriors = active.map((v) => evidence.get(v.id)!.posterior);
  const best = probabilityBest(posteriors);
  const loss = expectedLoss(posteriors);
  const pBest = new Map(active.map((v, i) => [v.id, best[i] ?? 0]));
  const losses = new Map(active.map((v, i) => [v.id, loss[i] ?? 0]));
  const leader = active.reduce<string | null>(
    (top, v) => (top === null || (pBest.get(v.id) ?? 0) > (pBest.get(top) ?? 0) ? v.id : top),
    null,
  );
  const leaderMean = leader ? betaMean(evidence.get(leader)!.posterior) : 0;
  const confident =
    leader !== null &&
    (pBest.get(leader) ?? 0) >= CONFIDENT_P_BEST &&
    (losses.get(leader) ?? 1) <= CONFIDENT_LOSS_FRACTION * leaderMean;
  return { leader, confident, pBest, losses };
}
