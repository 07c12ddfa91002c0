// How long rewards take to become visible after a send. The policy weighs each unrewarded send by the
// probability that its reward would be visible by now; a fresh send is not yet evidence of failure.
//
// What counts is when weft sees a reward, not when it happened: the pixel and the landing beacon at once, a
// Currents click only when its file is ingested (5–30 minutes later). So a visibility delay is a human delay
// (log-normal: most within the hour, a tail of days), plus the flush for rewards that come by Currents. weft
// starts from a sane default per metric and follows each tenant's recorded visibility delays once a few dozen
// have been seen.
import type { Metric } from './counting';

/**
 * One experiment's rewards still to come. The histogram records each reward when it becomes visible, so while
 * an experiment is sending, the delays it has recorded are the short ones only: its late rewards are still on
 * their way. How old its sends are tells how many are missing, and where.
 */
export interface InFlight {
  /** The experiment's rewards already recorded (visible). */
  readonly rewards: number;
  /** The share of the experiment's sends older than `ageSeconds`. */
  olderThan(ageSeconds: number): number;
}

export interface DelayModel {
  /** P(a reward that will come is visible within `ageSeconds` of the send). */
  arrivedBy(ageSeconds: number): number;
  /**
   * The model learned as if the experiment's rewards still in flight had been recorded as well. Only models
   * learned from recorded delays have it: the others were never biased by one experiment's youth.
   */
  withInFlight?(inFlight: InFlight): DelayModel;
}

/** Every reward is assumed to have arrived: the plain (naive) Beta-Bernoulli model. */
export const NO_DELAY: DelayModel = { arrivedBy: () => 1 };

const MINUTE = 60;
const DAY = 86_400;

/** The parameters of a reward delay: log-normal human delay plus a uniform flush delay. */
export interface DelayShape {
  /** Median of the human delay, seconds. */
  readonly medianSeconds: number;
  /** Standard deviation of the log of the human delay. */
  readonly sigma: number;
  /** The flush delay is uniform in [flushMinSeconds, flushMaxSeconds]. */
  readonly flushMinSeconds: number;
  readonly flushMaxSeconds: number;
}

/**
 * Clicks: median about an hour after the send, a tail of days, plus the Currents flush of 5–30 minutes (a
 * tenant whose landing pages report clicks by the beacon sees them sooner, and weft learns that).
 */
export const DEFAULT_CLICK_SHAPE: DelayShape = {
  medianSeconds: 60 * MINUTE,
  sigma: 1.6,
  flushMinSeconds: 5 * MINUTE,
  flushMaxSeconds: 30 * MINUTE,
};

/** Opens: median about 40 minutes, seen by the pixel as they happen (no Currents flush). */
export const DEFAULT_OPEN_SHAPE: DelayShape = {
  medianSeconds: 40 * MINUTE,
  sigma: 1.5,
  flushMinSeconds: 0,
  flushMaxSeconds: 0,
};

/** Φ(x) via the Chebyshev-fitted erfc of Numerical Recipes (erfcc): relative error below 1.2e-7. */
const ERFC_COEFFICIENTS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
];

function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  let poly = 0;
  for (let i = ERFC_COEFFICIENTS.length - 1; i >= 0; i--) poly = ERFC_COEFFICIENTS[i]! + t * poly;
  const erfc = t * Math.exp(-z * z + poly);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

const FLUSH_POINTS = 24;

/** P(human + flush delay ≤ t), the flush averaged by the midpoint rule. */
export function shapeCdf(shape: DelayShape, ageSeconds: number): number {
  if (!(ageSeconds > 0)) return 0;
  const mu = Math.log(shape.medianSeconds);
  const width = shape.flushMaxSeconds - shape.flushMinSeconds;
  const human = (t: number) => (t > 0 ? normalCdf((Math.log(t) - mu) / shape.sigma) : 0);
  if (width <= 0) return human(ageSeconds - shape.flushMinSeconds);
  let total = 0;
  for (let i = 0; i < FLUSH_POINTS; i++) {
    total += human(ageSeconds - shape.flushMinSeconds - ((i + 0.5) / FLUSH_POINTS) * width);
  }
  return total / FLUSH_POINTS;
}

// Tabulated CDFs: the policy calls arrivedBy for every send bucket on every refresh.
const TABLE_MIN_SECONDS = 1;
const TABLE_MAX_SECONDS = 60 * DAY;
const TABLE_POINTS = 512;
const TABLE_LOG_MIN = Math.log(TABLE_MIN_SECONDS);
const TABLE_LOG_STEP = (Math.log(TABLE_MAX_SECONDS) - TABLE_LOG_MIN) / (TABLE_POINTS - 1);

/** A delay model from a delay shape, tabulated on a log grid and interpolated; monotone, 0 at 0, → 1. */
export function delayModelOf(shape: DelayShape): DelayModel {
  const table = new Float64Array(TABLE_POINTS);
  let previous = 0;
  for (let i = 0; i < TABLE_POINTS; i++) {
    previous = Math.max(previous, shapeCdf(shape, Math.exp(TABLE_LOG_MIN + i * TABLE_LOG_STEP)));
    table[i] = previous;
  }
  return {
    arrivedBy(ageSeconds: number): number {
      if (!(ageSeconds > 0)) return 0;
      if (ageSeconds <= TABLE_MIN_SECONDS) return table[0]! * ageSeconds;
      if (ageSeconds >= TABLE_MAX_SECONDS) return table[TABLE_POINTS - 1]!;
      const position = (Math.log(ageSeconds) - TABLE_LOG_MIN) / TABLE_LOG_STEP;
      const i = Math.floor(position);
      const f = position - i;
      return table[i]! + f * (table[i + 1]! - table[i]!);
    },
  };
}

/** Conversions: reported in real time (beacon or server), a click's delay plus the checkout. */
export const DEFAULT_CONVERSION_SHAPE: DelayShape = {
  medianSeconds: 60 * MINUTE,
  sigma: 1.6,
  flushMinSeconds: 0,
  flushMaxSeconds: 0,
};

export const DEFAULT_CLICK_DELAY: DelayModel = delayModelOf(DEFAULT_CLICK_SHAPE);
export const DEFAULT_OPEN_DELAY: DelayModel = delayModelOf(DEFAULT_OPEN_SHAPE);
export const DEFAULT_CONVERSION_DELAY: DelayModel = delayModelOf(DEFAULT_CONVERSION_SHAPE);

/** The model a metric starts from, before the tenant's own delays are known. */
export function defaultDelayOf(metric: Metric): DelayModel {
  return metric === 'clicks'
    ? DEFAULT_CLICK_DELAY
    : metric === 'opens'
      ? DEFAULT_OPEN_DELAY
      : DEFAULT_CONVERSION_DELAY;
}

// Histogram buckets: [0, 30 s), then log-spaced edges from 30 s to 7 days, then [7 days, ∞).
const FIRST_EDGE_SECONDS = 30;
const LAST_EDGE_SECONDS = 7 * DAY;
const LOG_SPACED_BUCKETS = 23;
const EDGE_RATIO = (LAST_EDGE_SECONDS / FIRST_EDGE_SECONDS) ** (1 / LOG_SPACED_BUCKETS);

/** Lower edges of the histogram buckets, seconds; bucket i is [edge i, edge i + 1), the last is unbounded. */
export const DELAY_BUCKET_EDGES: readonly number[] = [
  0,
  ...Array.from({ length: LOG_SPACED_BUCKETS + 1 }, (_, i) =>
    i === LOG_SPACED_BUCKETS ? LAST_EDGE_SECONDS : FIRST_EDGE_SECONDS * EDGE_RATIO ** i,
  ),
];
export const DELAY_BUCKETS = DELAY_BUCKET_EDGES.length;

/** Observed reward delays, counted per bucket of DELAY_BUCKET_EDGES. Pure data, stored per tenant and metric. */
export interface DelayHistogram {
  readonly counts: readonly number[];
}

export function emptyDelayHistogram(): DelayHistogram {
  return { counts: new Array<number>(DELAY_BUCKETS).fill(0) };
}

/** The bucket of a delay (negative delays, from clock skew, count as 0). */
export function delayBucket(delaySeconds: number): number {
  if (!(delaySeconds >= FIRST_EDGE_SECONDS)) return 0;
  if (delaySeconds >= LAST_EDGE_SECONDS) return DELAY_BUCKETS - 1;
  let bucket = 1 + Math.floor(Math.log(delaySeconds / FIRST_EDGE_SECONDS) / Math.log(EDGE_RATIO));
  // Guard the floating-point edge cases on either side of a boundary.
  while (bucket > 1 && delaySeconds < DELAY_BUCKET_EDGES[bucket]!) bucket--;
  while (bucket < DELAY_BUCKETS - 2 && delaySeconds >= DELAY_BUCKET_EDGES[bucket + 1]!) bucket++;
  return bucket;
}

/** A new histogram with `count` more observations of `delaySeconds`. */
export function withDelay(histogram: DelayHistogram, delaySeconds: number, count = 1): DelayHistogram {
  const counts = [...histogram.counts];
  while (counts.length < DELAY_BUCKETS) counts.push(0);
  const bucket = delayBucket(delaySeconds);
  counts[bucket] = (counts[bucket] ?? 0) + count;
  return { counts };
}

/** Weight of the default model, in observations: a few dozen recorded delays outweigh it. */
export const PRIOR_PSEUDO_COUNT = 3;

/**
 * The default model blended with the empirical CDF of recorded delays, weighted by PRIOR_PSEUDO_COUNT against
 * the number of observations. Within a bucket the empirical CDF is interpolated linearly in log time (linearly
 * in time in the first bucket); mass beyond 7 days is spread up to 14 days. Monotone, 0 at 0, → 1.
 *
 * The model can also undo one experiment's censoring (`withInFlight`): see unseenRewards.
 */
export function learnedDelayModel(
  histogram: DelayHistogram,
  fallback: DelayModel,
  priorWeight = PRIOR_PSEUDO_COUNT,
): DelayModel {
  const model = blendedModel(countsOf(histogram), fallback, priorWeight);
  if (model === fallback) return fallback;
  return {
    arrivedBy: model.arrivedBy,
    withInFlight: (inFlight: InFlight) =>
      delayModelWithInFlight(
        histogram,
        fallback,
        rewardsInFlight(histogram, fallback, inFlight, priorWeight),
      ),
  };
}

function countsOf(histogram: DelayHistogram): number[] {
  return Array.from({ length: DELAY_BUCKETS }, (_, i) => Math.max(0, histogram.counts[i] ?? 0));
}

/**
 * One experiment's rewards still in flight, per histogram bucket (see unseenRewards), as of the histogram's
 * read; null when none are. Worked out with the counters read at the same time: a histogram read earlier than
 * the counters holds fewer of the experiment's rewards than they do, and the correction would put back too many.
 */
export function rewardsInFlight(
  histogram: DelayHistogram,
  fallback: DelayModel,
  inFlight: InFlight,
  priorWeight = PRIOR_PSEUDO_COUNT,
): number[] | null {
  return unseenRewards(countsOf(histogram), fallback, priorWeight, inFlight);
}

/** The learned model with rewards in flight put back (see rewardsInFlight): final, not corrected again. */
export function delayModelWithInFlight(
  histogram: DelayHistogram,
  fallback: DelayModel,
  inFlight: readonly number[] | null,
  priorWeight = PRIOR_PSEUDO_COUNT,
): DelayModel {
  const counts = countsOf(histogram);
  const model = blendedModel(
    inFlight ? counts.map((count, i) => count + Math.max(0, inFlight[i] ?? 0)) : counts,
    fallback,
    priorWeight,
  );
  return { arrivedBy: model.arrivedBy };
}

function blendedModel(counts: readonly number[], fallback: DelayModel, priorWeight: number): DelayModel {
  let total = 0;
  for (let i = 0; i < DELAY_BUCKETS; i++) total += counts[i]!;
  if (total <= 0) return fallback;
  // cumulative[i] = empirical P(delay < edge i); cumulative[DELAY_BUCKETS] = 1.
  const cumulative = new Float64Array(DELAY_BUCKETS + 1);
  for (let i = 0; i < DELAY_BUCKETS; i++) cumulative[i + 1] = cumulative[i]! + counts[i]! / total;
  const dataWeight = total / (total + priorWeight);
  const empirical = (age: number): number => {
    if (age >= 2 * LAST_EDGE_SECONDS) return 1;
    const bucket = delayBucket(age);
    const low = DELAY_BUCKET_EDGES[bucket]!;
    const high = bucket === DELAY_BUCKETS - 1 ? 2 * LAST_EDGE_SECONDS : DELAY_BUCKET_EDGES[bucket + 1]!;
    const f = bucket === 0 ? age / high : Math.log(age / low) / Math.log(high / low);
    return cumulative[bucket]! + f * (cumulative[bucket + 1]! - cumulative[bucket]!);
  };
  return {
    arrivedBy(ageSeconds: number): number {
      if (!(ageSeconds > 0)) return 0;
      return (1 - dataWeight) * fallback.arrivedBy(ageSeconds) + dataWeight * empirical(ageSeconds);
    },
  };
}

/** Delays spread over each histogram bucket (the last up to 14 days), where the chance of being visible is taken. */
const BUCKET_POINTS = 8;
const BUCKET_SAMPLES: readonly (readonly number[])[] = DELAY_BUCKET_EDGES.map((low, i) => {
  const high = i + 1 < DELAY_BUCKETS ? DELAY_BUCKET_EDGES[i + 1]! : 2 * LAST_EDGE_SECONDS;
  return Array.from({ length: BUCKET_POINTS }, (_, k) =>
    i === 0 ? ((k + 0.5) / BUCKET_POINTS) * high : low * (high / low) ** ((k + 0.5) / BUCKET_POINTS),
  );
});
const BISECTION_STEPS = 100;

/**
 * The experiment's rewards not yet visible, per delay bucket: the self-consistent (EM) estimate for
 * right-truncated data (Efron), solved exactly. A reward whose delay falls in bucket j is visible only if its
 * send is older than that delay (a share E_j of the sends), so the R recorded ones stand for R/Z in all, with
 * Z = Σ p_j E_j, and the missing ones lie where E_j < 1, in proportion to p_j (1 − E_j). With c_j the recorded
 * count plus the prior's pseudo-count and A the other rewards plus the prior's weight, the fixed point is
 * p_j = c_j / (A + R E_j / Z): one equation in Z, decreasing, solved by bisection. Beyond the oldest send the
 * data say nothing, and the prior (with the tenant's other recorded delays) decides: as it should.
 * Null when nothing is missing.
 */
function unseenRewards(
  counts: readonly number[],
  fallback: DelayModel,
  priorWeight: number,
  inFlight: InFlight,
): number[] | null {
  let total = 0;
  for (const count of counts) total += count;
  // The histogram is the tenant's, read a little before the counters: the experiment cannot own more of it.
  const own = Math.min(inFlight.rewards, total);
  if (!(own > 0) || !(priorWeight > 0)) return null;
  const visible = BUCKET_SAMPLES.map(
    (ages) =>
      ages.reduce((sum, age) => sum + Math.min(1, Math.max(0, inFlight.olderThan(age))), 0) / ages.length,
  );
  if (visible.every((e) => e >= 1)) return null;
  const c = counts.map((count, i) => {
    const next = i + 1 < DELAY_BUCKETS ? fallback.arrivedBy(DELAY_BUCKET_EDGES[i + 1]!) : 1;
    return count + priorWeight * (next - fallback.arrivedBy(DELAY_BUCKET_EDGES[i]!));
  });
  const others = total - own + priorWeight;
  const excess = (z: number) => {
    let sum = 0;
    for (let i = 0; i < DELAY_BUCKETS; i++) sum += (visible[i]! * c[i]!) / (others * z + own * visible[i]!);
    return sum - 1;
  };
  // No shortfall at all, or recorded delays the sends are too young to have shown (the histogram is ahead of
  // the counters): nothing to put back.
  if (excess(1) >= 0 || !(excess(1e-9) > 0)) return null;
  let low = 0;
  let high = 1;
  for (let step = 0; step < BISECTION_STEPS && high - low > 1e-12 * high; step++) {
    const mid = (low + high) / 2;
    if (excess(mid) > 0) low = mid;
    else high = mid;
  }
  const z = (low + high) / 2;
  if (!(z > 0)) return null;
  return c.map((ci, i) => (own * (ci / (others + (own * visible[i]!) / z)) * (1 - visible[i]!)) / z);
}

const SPAN_POINTS = 16;
// Three-point Gauss-Legendre nodes on [0, 1] and their weights: exact for quintics, ample for a span that is
// short next to its ages, where arrivedBy is smooth.
const GAUSS_NODES = [0.5 - Math.sqrt(0.15), 0.5, 0.5 + Math.sqrt(0.15)];
const GAUSS_WEIGHTS = [5 / 18, 8 / 18, 5 / 18];

/**
 * The mean of arrivedBy over sends spread evenly between two ages: the weight of a send bucket whose sends
 * span [youngestAge, oldestAge] (for the current bucket, youngestAge is 0 and oldestAge the time since it
 * began). Early in the delay distribution arrivedBy is convex, so arrivedBy(mid-age) understates it.
 */
export function meanArrivedBy(model: DelayModel, youngestAge: number, oldestAge: number): number {
  const low = Math.max(0, youngestAge);
  const high = Math.max(low, oldestAge);
  const span = high - low;
  if (span < 1) return model.arrivedBy(high);
  let total = 0;
  if (low >= 2 * span) {
    for (let i = 0; i < GAUSS_NODES.length; i++)
      total += GAUSS_WEIGHTS[i]! * model.arrivedBy(low + GAUSS_NODES[i]! * span);
    return total;
  }
  for (let i = 0; i < SPAN_POINTS; i++) total += model.arrivedBy(low + ((i + 0.5) / SPAN_POINTS) * span);
  return total / SPAN_POINTS;
}
