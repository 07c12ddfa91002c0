// Seedable randomness and samplers for the simulator and tests: one seed, one sequence, on every platform.

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

const TWO_POW_26 = 67_108_864;
const TWO_POW_53 = 9_007_199_254_740_992;
// Below this mean, sequential inversion is short and exact; above it the beta split halves n per step.
const INVERSION_MAX_MEAN = 30;

/** MurmurHash3's 32-bit finaliser: every input bit flips about half of the output bits. */
function mix32(value: number): number {
  let z = value | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * sfc32 (Chris Doty-Humphrey's small fast chaotic generator) seeded through splitmix32, so nearby seeds give
 * unrelated streams. Each number takes 53 random bits from two outputs, enough to reach tails beyond 8 sd.
 */
export function createRandom(seed: number): Random {
  if (!Number.isFinite(seed)) throw new RangeError(`Seed must be a finite number (got ${seed})`);
  // The seed's IEEE-754 bits, so fractional and >2^32 seeds are as distinct as integers.
  const bits = new DataView(new ArrayBuffer(8));
  bits.setFloat64(0, seed === 0 ? 0 : seed, true);
  let state = mix32(bits.getUint32(0, true) ^ mix32(bits.getUint32(4, true) ^ 0x9e3779b9));
  const splitmix = (): number => {
    state = (state + 0x9e3779b9) | 0;
    return mix32(state);
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32();
  return () => ((next32() >>> 5) * TWO_POW_26 + (next32() >>> 6)) / TWO_POW_53;
}

// Marsaglia's polar method yields two independent normals; sampleBeta spends both (one per gamma deviate).
const normalPair = new Float64Array(2);

function fillNormalPair(random: Random): void {
  for (;;) {
    const u = 2 * random() - 1;
    const v = 2 * random() - 1;
    const s = u * u + v * v;
    if (s > 0 && s < 1) {
      const scale = Math.sqrt((-2 * Math.log(s)) / s);
      normalPair[0] = u * scale;
      normalPair[1] = v * scale;
      return;
    }
  }
}

/** A standard normal deviate. */
export function sampleNormal(random: Random): number {
  fillNormalPair(random);
  return normalPair[0]!;
}

/**
 * Marsaglia & Tsang (2000) for shape ≥ 1: d·v where v is a transformed normal, accepted ~98% of the time.
 * `normal` is an unused deviate for the first attempt, if the caller has one.
 */
function gammaAtLeastOne(random: Random, shape: number, normal = Number.NaN): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  let x = normal;
  for (;;) {
    if (Number.isNaN(x)) x = sampleNormal(random);
    let v = 1 + c * x;
    if (v > 0) {
      v = v * v * v;
      const u = 1 - random();
      const x2 = x * x;
      if (u < 1 - 0.0331 * x2 * x2 || Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) return d * v;
    }
    x = Number.NaN;
  }
}

/** ln of a Gamma(shape) deviate; for shape < 1 the deviate itself can underflow, its log cannot. */
function logGammaDeviate(random: Random, shape: number): number {
  if (shape >= 1) return Math.log(gammaAtLeastOne(random, shape));
  // Gamma(s) = Gamma(s + 1) · U^(1/s) (Marsaglia & Tsang's boost for small shapes).
  return Math.log(gammaAtLeastOne(random, shape + 1)) + Math.log(1 - random()) / shape;
}

function assertShape(name: string, value: number): void {
  if (!(value > 0 && Number.isFinite(value)))
    throw new RangeError(`${name} must be finite and positive (got ${value})`);
}

/** A Gamma(shape, 1) deviate. */
export function sampleGamma(random: Random, shape: number): number {
  assertShape('Gamma shape', shape);
  if (shape >= 1) return gammaAtLeastOne(random, shape);
  return Math.exp(logGammaDeviate(random, shape));
}

/** A Beta(a, b) deviate as X / (X + Y) of two gamma deviates, in log space when a shape is below one. */
export function sampleBeta(random: Random, a: number, b: number): number {
  assertShape('Beta alpha', a);
  assertShape('Beta beta', b);
  if (a >= 1 && b >= 1) {
    fillNormalPair(random);
    const spare = normalPair[1]!;
    const x = gammaAtLeastOne(random, a, normalPair[0]!);
    const y = gammaAtLeastOne(random, b, spare);
    return x / (x + y);
  }
  const diff = logGammaDeviate(random, a) - logGammaDeviate(random, b);
  return diff >= 0 ? 1 / (1 + Math.exp(-diff)) : Math.exp(diff) / (1 + Math.exp(diff));
}

export function sampleLogNormal(random: Random, mu: number, sigma: number): number {
  if (!Number.isFinite(mu) || !(sigma >= 0 && Number.isFinite(sigma))) {
    throw new RangeError(`Log-normal needs a finite mu and a finite sigma >= 0 (got ${mu}, ${sigma})`);
  }
  return Math.exp(mu + sigma * sampleNormal(random));
}

/** Sequential inversion from P(0) = (1 − p)^n, for p ≤ ½ and a small mean, so it ends after ~np steps. */
function binomialByInversion(random: Random, n: number, p: number): number {
  const s = p / (1 - p);
  const a = (n + 1) * s;
  let r = Math.exp(n * Math.log1p(-p));
  let u = random();
  let x = 0;
  while (u >= r && x < n && r > 0) {
    u -= r;
    x++;
    r *= a / x - s;
  }
  return x;
}

/**
 * A Binomial(n, p) deviate, exact for every n: while the mean is large, the a-th smallest of n uniforms
 * (a Beta(a, n + 1 − a) deviate) splits the problem into one binomial of about half the size (Knuth,
 * TAOCP 3.4.1), so n = 1e6 costs about a dozen beta deviates.
 */
export function sampleBinomial(random: Random, n: number, p: number): number {
  if (!(Number.isSafeInteger(n) && n >= 0))
    throw new RangeError(`Binomial n must be a whole number >= 0 (got ${n})`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`Binomial p must lie in [0, 1] (got ${p})`);
  // The answer is offset + sign · Binomial(trials, chance), narrowed step by step.
  let offset = 0;
  let sign = 1;
  let trials = n;
  let chance = p;
  for (;;) {
    if (trials === 0 || chance === 0) return offset;
    if (chance > 0.5) {
      offset += sign * trials;
      sign = -sign;
      chance = 1 - chance;
    }
    if (trials * chance < INVERSION_MAX_MEAN)
      return offset + sign * binomialByInversion(random, trials, chance);
    const a = 1 + Math.floor(trials / 2);
    const b = trials + 1 - a;
    const split = sampleBeta(random, a, b);
    if (split >= chance) {
      trials = a - 1;
      chance = chance / split;
    } else {
      offset += sign * a;
      trials = b - 1;
      chance = (chance - split) / (1 - split);
    }
  }
}

/**
 * An index drawn with probability proportional to its weight. Weights need not sum to exactly one: rounding
 * in a set of shares is absorbed by drawing against their actual total. Zero weights are never drawn.
 */
export function pickWeighted(random: Random, weights: readonly number[]): number {
  let total = 0;
  for (const weight of weights) {
    if (!(weight >= 0 && Number.isFinite(weight)))
      throw new RangeError(`Weights must be finite and >= 0 (got ${weight})`);
    total += weight;
  }
  if (!(total > 0)) throw new RangeError('At least one weight must be positive');
  let remaining = random() * total;
  for (let i = 0; i < weights.length; i++) {
    remaining -= weights[i]!;
    if (remaining < 0) return i;
  }
  // Only rounding in the running subtraction reaches this point: fall back to the last drawable index.
  for (let i = weights.length - 1; i >= 0; i--) if (weights[i]! > 0) return i;
  return weights.length - 1;
}
