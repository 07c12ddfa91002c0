// The allocation: each active variant's traffic share, from its counters. Beta-Bernoulli Thompson sampling in
// expectation: a variant's share is its probability of being best, computed (not sampled per request), or that
// probability raised to the experiment's `share_exponent`, renormalised.
import { observableSendsOf, rewardsOf, sendTimesOf } from './counting';
import { type DelayModel, type InFlight, meanArrivedBy } from './delay';
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

export { rewardsOf } from './counting';

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
 * that their reward would be visible by their age; with a half-life, older buckets weigh less. A learned delay
 * model is first corrected for this experiment's own rewards still in flight (see inFlightOf).
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
  const visibility = delay.withInFlight
    ? delay.withInFlight(inFlightOf(experiment, counts, now, settled))
    : delay;
  // Every variant has a row per send bucket, usually adjacent: weigh each bucket once.
  const weights = new Map<number, BucketWeight>();
  let lastBucket = Number.NaN;
  let weight: BucketWeight = { decay: 1, youngest: 0, oldest: 0 };
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
          youngest,
          oldest,
        };
        weights.set(lastBucket, cached);
      }
      weight = cached;
    }
    // For opens, recipients whose only open was a machine's cannot be observed: they are not failures.
    const observable = observableSendsOf(count, experiment.metric);
    const rewards = Math.min(rewardsOf(count, experiment.metric), observable);
    sends[i]! += observable;
    rewardSums[i]! += rewards;
    alpha[i]! += weight.decay * rewards;
    const times = sendTimesOf(count);
    // Not recorded: sends spread over the whole bucket, averaged over their ages (convex early on).
    if (!times) weight.evenly ??= meanArrivedBy(visibility, weight.youngest, weight.oldest);
    const arrived = times ? arrivedBySendTimes(times, now - count.bucketStart, visibility) : weight.evenly!;
    beta[i]! += weight.decay * (observable - rewards) * arrived;
  }
  return new Map(
    experiment.variants.map((v, i) => [
      v.id,
      { sends: sends[i]!, rewards: rewardSums[i]!, posterior: { alpha: alpha[i]!, beta: beta[i]! } },
    ]),
  );
}

/** A send bucket's decay and the span of its sends' ages; `evenly` is worked out only for rows that need it. */
interface BucketWeight {
  readonly decay: number;
  readonly youngest: number;
  readonly oldest: number;
  evenly?: number;
}

/**
 * The mean chance that a row's rewards are visible by now, from when in its bucket its sends were made: a
 * variant's traffic is not even over a bucket once the shares move, so sends taken as spread over the whole
 * bucket misjudge a variant that lost traffic mid-bucket (older sends) or gained it (younger). Taken as spread
 * evenly over the span with the recorded mean and deviation.
 */
function arrivedBySendTimes(
  times: { mean: number; deviation: number },
  bucketAge: number,
  visibility: DelayModel,
): number {
  const halfSpan = Math.sqrt(3) * times.deviation;
  const first = Math.max(0, times.mean - halfSpan);
  const last = Math.min(SEND_BUCKET_SECONDS, times.mean + halfSpan);
  return meanArrivedBy(visibility, Math.max(0, bucketAge - last), Math.max(0, bucketAge - first));
}

/**
 * How far this experiment's own rewards are from all being visible: its recorded rewards and how old its sends
 * are. Sends in `counts` are spread over their bucket; those summed in `settled` (older than every bucket in
 * `counts`) are taken as spread evenly since the experiment was created.
 */
export function inFlightOf(
  experiment: Experiment,
  counts: readonly SendBucketCount[],
  now: number,
  settled?: ReadonlyMap<string, SettledEvidence>,
): InFlight {
  const sendsByBucket = new Map<number, number>();
  let rewards = 0;
  let firstBucket = now;
  for (const count of counts) {
    const observable = observableSendsOf(count, experiment.metric);
    sendsByBucket.set(count.bucketStart, (sendsByBucket.get(count.bucketStart) ?? 0) + observable);
    rewards += Math.min(rewardsOf(count, experiment.metric), observable);
    firstBucket = Math.min(firstBucket, count.bucketStart);
  }
  let settledSends = 0;
  for (const earlier of settled?.values() ?? []) {
    settledSends += earlier.sends;
    rewards += earlier.rewards;
  }
  // Buckets by age, youngest first: they do not overlap, so at most one straddles a given age and every
  // younger-starting one is wholly younger, every older-starting one wholly older.
  const buckets = [...sendsByBucket]
    .map(([bucketStart, sends]) => {
      const oldest = Math.max(0, now - bucketStart);
      return { sends, youngest: Math.max(0, oldest - SEND_BUCKET_SECONDS), oldest };
    })
    .sort((a, b) => a.youngest - b.youngest);
  const olderSends = new Float64Array(buckets.length + 1);
  for (let i = buckets.length - 1; i >= 0; i--) olderSends[i] = olderSends[i + 1]! + buckets[i]!.sends;
  const settledYoungest = Math.max(0, now - firstBucket);
  const settledOldest = Math.max(settledYoungest, now - experiment.createdAt);
  const total = olderSends[0]! + settledSends;
  const partOlder = (age: number, youngest: number, oldest: number) =>
    oldest <= youngest
      ? oldest > age
        ? 1
        : 0
      : Math.min(1, Math.max(0, (oldest - age) / (oldest - youngest)));
  return {
    rewards,
    olderThan(ageSeconds: number): number {
      if (!(total > 0)) return 1;
      let low = 0;
      let high = buckets.length;
      while (low < high) {
        const mid = (low + high) >> 1;
        if (buckets[mid]!.youngest >= ageSeconds) high = mid;
        else low = mid + 1;
      }
      let older = olderSends[low]! + settledSends * partOlder(ageSeconds, settledYoungest, settledOldest);
      const straddling = buckets[low - 1];
      if (straddling)
        older += straddling.sends * partOlder(ageSeconds, straddling.youngest, straddling.oldest);
      return older / total;
    },
  };
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
  const pBest = probabilityBestOfContenders(contenders.map((v) => evidence.get(v.id)!.posterior));
  const floored = applyFloor(sharpened(pBest, experiment.options.share_exponent), experiment.options.floor);
  const shares = new Map<string, number>();
  if (control && controlShare > 0) shares.set(control.id, controlShare);
  contenders.forEach((v, i) => {
    shares.set(v.id, (floored[i] ?? 0) * (1 - controlShare));
  });
  const settled = pBest.some((p) => p >= 0.95);
  return { shares, phase: settled ? 'settled' : 'learning', computedAt: now };
}

/**
 * The exponent that lost the fewest rewards on average in the simulator (`share_exponent`; the default stays 1,
 * plain probability matching, as DESIGN §5 specifies). Probability matching explores as if each send were the
 * last chance to learn; but a send's reward comes minutes to hours later, and every send already made keeps
 * reporting for that long, so while a campaign sends, what it has sent is still teaching it. The power moves
 * traffic to the likely best sooner; over every scenario of `weft simulate`, 2 and 3 lose more than 2.5 on
 * average. The price is the tail: a variant that may still win is all but starved (P(best) 0.05 against 0.95
 * gets 0.0006 of the traffic), so now and then a campaign settles on the second best for hours (README).
 */
export const TUNED_SHARE_EXPONENT = 2.5;

/** Each probability raised to `exponent`, renormalised to sum to 1. */
export function sharpened(pBest: readonly number[], exponent: number): number[] {
  if (exponent === 1) return [...pBest];
  const raised = pBest.map((p) => p ** exponent);
  const total = raised.reduce((sum, p) => sum + p, 0);
  return total > 0 ? raised.map((p) => p / total) : [...pBest];
}

// Where a posterior's log-density, in log-odds, is this far below its mode: further out than probabilityBest
// itself integrates (40), so a posterior whose whole range lies below another's has P(best) exactly 0 there.
const RANGE_LOG_DROP = 50;

/** The log-odds where Beta(a, b)'s log-density is RANGE_LOG_DROP below its mode, on one side (−1 or +1). */
function rangeEdge(a: number, b: number, side: -1 | 1): number {
  const logDensity = (z: number) => -a * Math.log1p(Math.exp(-z)) - b * Math.log1p(Math.exp(z));
  const mode = Math.log(a / b);
  const target = logDensity(mode) - RANGE_LOG_DROP;
  let step = Math.sqrt(2 * RANGE_LOG_DROP * (1 / a + 1 / b));
  let z = mode + side * step;
  // Out past the edge first (the log-density is concave, so Newton then walks back monotonically).
  while (logDensity(z) > target) {
    step *= 2;
    z = mode + side * step;
  }
  for (let i = 0; i < 60; i++) {
    const slope = a - (a + b) / (1 + Math.exp(-z));
    const move = (logDensity(z) - target) / slope;
    if (!Number.isFinite(move)) break;
    z -= move;
    if (Math.abs(move) < 1e-9 * (1 + Math.abs(z))) break;
  }
  return z;
}

/**
 * probabilityBest, without integrating the posteriors that cannot be best: one whose range ends below where
 * another's begins gets 0, as the full integration gives it. Late in a campaign most variants are such, and
 * the integration's cost grows with every posterior it carries.
 */
function probabilityBestOfContenders(posts: readonly BetaParams[]): number[] {
  if (posts.length < 3) return probabilityBest(posts);
  const lows = posts.map((p) => rangeEdge(p.alpha, p.beta, -1));
  let top = 0;
  for (let i = 1; i < lows.length; i++) if (lows[i]! > lows[top]!) top = i;
  const secondLow = Math.max(...lows.filter((_, i) => i !== top));
  const alive = posts.flatMap((p, i) =>
    rangeEdge(p.alpha, p.beta, 1) >= (i === top ? secondLow : lows[top]!) ? [i] : [],
  );
  if (alive.length === posts.length) return probabilityBest(posts);
  const shares = new Array<number>(posts.length).fill(0);
  const alivePosts = alive.map((i) => posts[i]!);
  probabilityBest(alivePosts).forEach((share, k) => {
    shares[alive[k]!] = share;
  });
  return shares;
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
