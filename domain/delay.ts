// How long rewards take to arrive after a send. The policy weighs each unrewarded send by the probability
// that its reward would have arrived by now; a fresh send is not yet evidence of failure.
//
// The delay of a reward is a human delay (log-normal: most clicks within the hour, a tail of days) plus the
// Currents flush (Braze writes event files every few minutes). weft starts from a sane default per metric and
// follows each tenant's recorded delays (token issue to reward) once a few dozen have been seen.

export interface DelayModel {
  /** P(a reward that will come has arrived within `ageSeconds` of the send). */
  arrivedBy(ageSeconds: number): number;
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

/** Clicks: median about an hour after the send, a tail of days, plus the Currents flush of 5–30 minutes. */
export const DEFAULT_CLICK_SHAPE: DelayShape = {
  medianSeconds: 60 * MINUTE,
  sigma: 1.6,
  flushMinSeconds: 5 * MINUTE,
  flushMaxSeconds: 30 * MINUTE,
};

/** Opens: median about 40 minutes, plus the Currents flush. */
export const DEFAULT_OPEN_SHAPE: DelayShape = {
  medianSeconds: 40 * MINUTE,
  sigma: 1.5,
  flushMinSeconds: 5 * MINUTE,
  flushMaxSeconds: 30 * MINUTE,
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

export const DEFAULT_CLICK_DELAY: DelayModel = delayModelOf(DEFAULT_CLICK_SHAPE);
export const DEFAULT_OPEN_DELAY: DelayModel = delayModelOf(DEFAULT_OPEN_SHAPE);

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
 */
export function learnedDelayModel(
  histogram: DelayHistogram,
  fallback: DelayModel,
  priorWeight = PRIOR_PSEUDO_COUNT,
): DelayModel {
  const counts = histogram.counts;
  let total = 0;
  for (let i = 0; i < DELAY_BUCKETS; i++) total += Math.max(0, counts[i] ?? 0);
  if (total <= 0) return fallback;
  // cumulative[i] = empirical P(delay < edge i); cumulative[DELAY_BUCKETS] = 1.
  const cumulative = new Float64Array(DELAY_BUCKETS + 1);
  for (let i = 0; i < DELAY_BUCKETS; i++)
    cumulative[i + 1] = cumulative[i]! + Math.max(0, counts[i] ?? 0) / total;
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
