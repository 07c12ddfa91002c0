// Beta-distribution statistics for Beta-Bernoulli Thompson sampling: the incomplete beta function and its
// inverse, credible intervals, and P(best) / expected loss by deterministic numerical integration.

/** A Beta posterior; both parameters are positive and may be fractional (delay-weighted) or very large. */
export interface BetaParams {
  alpha: number;
  beta: number;
}

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const EPSILON = Number.EPSILON;
const TINY = 1e-300;
// Below this both Stirling's series and the centred power term lose accuracy, so exact gamma values are used.
const STIRLING_MIN = 10;

function assertShape(a: number, b: number): void {
  if (!(a > 0 && b > 0 && Number.isFinite(a) && Number.isFinite(b))) {
    throw new RangeError(`Beta parameters must be finite and positive (got ${a}, ${b})`);
  }
}

// Lanczos (g = 7, n = 9): about 15 significant digits for x >= 0.5, which is all logGamma needs below 10.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** The remainder of Stirling's series, ln Γ(x) − [(x − ½) ln x − x + ln √(2π)], for x ≥ 10. */
function stirlingCorrection(x: number): number {
  const r = 1 / x;
  const r2 = r * r;
  return (
    r *
    (1 / 12 +
      r2 *
        (-1 / 360 +
          r2 *
            (1 / 1260 +
              r2 *
                (-1 / 1680 +
                  r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156 + r2 * (-3617 / 122400))))))))
  );
}

function logGamma(x: number): number {
  if (x >= STIRLING_MIN) return (x - 0.5) * Math.log(x) - x + LN_SQRT_2PI + stirlingCorrection(x);
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) sum += LANCZOS[i]! / (z + i);
  const t = z + 7.5;
  return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** ln B(a, b), without the cancellation of ln Γ(a) + ln Γ(b) − ln Γ(a + b) when either argument is large. */
export function logBeta(a: number, b: number): number {
  assertShape(a, b);
  const p = Math.min(a, b);
  const q = Math.max(a, b);
  const pq = p + q;
  if (p >= STIRLING_MIN) {
    const corr = stirlingCorrection(p) + stirlingCorrection(q) - stirlingCorrection(pq);
    return -0.5 * Math.log(q) + LN_SQRT_2PI + corr + (p - 0.5) * Math.log(p / pq) + q * Math.log1p(-p / pq);
  }
  if (q >= STIRLING_MIN) {
    const corr = stirlingCorrection(q) - stirlingCorrection(pq);
    return logGamma(p) + corr + p - p * Math.log(pq) + (q - 0.5) * Math.log1p(-p / pq);
  }
  return logGamma(p) + logGamma(q) - logGamma(pq);
}

/** e − ln(1 + e), the quadratic remainder that the centred power term needs without cancellation. */
function logRemainder(e: number): number {
  if (Math.abs(e) > 0.1) return e - Math.log1p(e);
  // The series keeps full relative accuracy where e − log1p(e) would cancel.
  const t = -e;
  let power = t;
  let sum = 0;
  for (let k = 2; k < 40; k++) {
    power *= t;
    const add = power / k;
    sum += add;
    if (Math.abs(add) <= EPSILON * sum) break;
  }
  return sum;
}

/**
 * x^a · y^b / B(a, b) with y = 1 − x supplied separately (whichever of the two is smaller carries the
 * precision). For large shapes it is centred on the mean, as in DiDonato & Morris (1992), so 1e7-sized
 * parameters do not turn rounding in a·ln x into relative error.
 */
function powerTerm(x: number, y: number, a: number, b: number): number {
  if (x <= 0 || y <= 0) return 0;
  if (a >= STIRLING_MIN && b >= STIRLING_MIN) {
    const lambda = x <= y ? a - (a + b) * x : (a + b) * y - b;
    const u = logRemainder(-lambda / a);
    const v = logRemainder(lambda / b);
    const corr = stirlingCorrection(a) + stirlingCorrection(b) - stirlingCorrection(a + b);
    return INV_SQRT_2PI * Math.sqrt((a * b) / (a + b)) * Math.exp(-(a * u + b * v) - corr);
  }
  const lx = x <= y ? Math.log(x) : Math.log1p(-y);
  const ly = x <= y ? Math.log1p(-x) : Math.log(y);
  return Math.exp(a * lx + b * ly - logBeta(a, b));
}

/** Modified Lentz evaluation of the continued fraction for I_x(a, b) (Numerical Recipes' betacf). */
function incompleteBetaFraction(x: number, a: number, b: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  // Convergence takes O(√max(a, b)) terms near the mean, so the cap must allow for 1e7-sized shapes.
  for (let m = 1; m <= 200_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 2 * EPSILON) return h;
  }
  return h;
}

/** Lower and upper tails of Beta(a, b) at x, each computed without subtracting from 1 where it is small. */
function betaTails(x: number, a: number, b: number): { lower: number; upper: number } {
  if (x <= 0) return { lower: 0, upper: 1 };
  if (x >= 1) return { lower: 1, upper: 0 };
  const y = 1 - x;
  const front = powerTerm(x, y, a, b);
  if (x < (a + 1) / (a + b + 2)) {
    const lower = Math.min(1, (front * incompleteBetaFraction(x, a, b)) / a);
    return { lower, upper: 1 - lower };
  }
  const upper = Math.min(1, (front * incompleteBetaFraction(y, b, a)) / b);
  return { lower: 1 - upper, upper };
}

/** The regularized incomplete beta function I_x(a, b): the CDF of Beta(a, b) at x. */
export function betaCdf(x: number, a: number, b: number): number {
  assertShape(a, b);
  if (Number.isNaN(x)) return Number.NaN;
  return betaTails(x, a, b).lower;
}

/** Numerical Recipes' starting point for the inverse (Abramowitz & Stegun 26.5.22, or power-law tails). */
function quantileGuess(p: number, a: number, b: number): number {
  if (a >= 1 && b >= 1) {
    const t = Math.sqrt(-2 * Math.log(Math.min(p, 1 - p)));
    const z0 = (2.30753 + t * 0.27061) / (1 + t * (0.99229 + t * 0.04481)) - t;
    const z = p < 0.5 ? -z0 : z0;
    const al = (z * z - 3) / 6;
    const h = 2 / (1 / (2 * a - 1) + 1 / (2 * b - 1));
    const w = (z * Math.sqrt(al + h)) / h - (1 / (2 * b - 1) - 1 / (2 * a - 1)) * (al + 5 / 6 - 2 / (3 * h));
    return a / (a + b * Math.exp(2 * w));
  }
  const lna = Math.log(a / (a + b));
  const lnb = Math.log(b / (a + b));
  const t = Math.exp(a * lna) / a;
  const u = Math.exp(b * lnb) / b;
  const w = t + u;
  if (p < t / w) return (a * w * p) ** (1 / a);
  return 1 - (b * w * (1 - p)) ** (1 / b);
}

/**
 * The x at which the lower (or upper) tail of Beta(a, b) equals target: Newton's method on ln tail against
 * ln x, which is exact for a power-law tail, kept inside a shrinking bracket. Callers pick the side of ½ so
 * that x, not 1 − x, is the small number and keeps full relative precision.
 */
function solveTail(target: number, lower: boolean, a: number, b: number, guess: number): number {
  let lo = 0;
  let hi = 1;
  let x = guess > 0 && guess < 1 ? guess : 0.5;
  const logTarget = Math.log(target);
  for (let iteration = 0; iteration < 200; iteration++) {
    const tails = betaTails(x, a, b);
    const tail = lower ? tails.lower : tails.upper;
    if (tail === target) return x;
    if (tail < target === lower) lo = x;
    else hi = x;
    const density = powerTerm(x, 1 - x, a, b) / (x * (1 - x));
    let next = Number.NaN;
    if (tail > 0 && density > 0) {
      const slope = ((lower ? 1 : -1) * x * density) / tail;
      next = x * Math.exp(-(Math.log(tail) - logTarget) / slope);
    }
    if (!(next > lo && next < hi)) next = lo > 0 ? Math.sqrt(lo * hi) : hi / 1024;
    if (Math.abs(next - x) <= 2 * EPSILON * x || hi - lo <= 2 * EPSILON * hi) return next;
    x = next;
  }
  return x;
}

/** The quantile whose lower (or upper) tail probability is target, taking the tail as given to avoid 1 − p. */
function quantileOfTail(target: number, lower: boolean, a: number, b: number): number {
  const guess = quantileGuess(lower ? target : 1 - target, a, b);
  if (guess <= 0.5) return solveTail(target, lower, a, b, guess);
  // Near 1, solve for 1 − x instead: it is a Beta(b, a) variable, whose tails are swapped.
  return 1 - solveTail(target, !lower, b, a, 1 - guess);
}

/** The p-quantile of Beta(a, b), the inverse of betaCdf. */
export function betaQuantile(p: number, a: number, b: number): number {
  assertShape(a, b);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`Probability must lie in [0, 1] (got ${p})`);
  if (p === 0) return 0;
  if (p === 1) return 1;
  return p <= 0.5 ? quantileOfTail(p, true, a, b) : quantileOfTail(1 - p, false, a, b);
}

export function betaMean(post: BetaParams): number {
  assertShape(post.alpha, post.beta);
  return post.alpha / (post.alpha + post.beta);
}

/** The equal-tailed credible interval from exact quantiles (a normal approximation is wrong at low counts). */
export function credibleInterval(post: BetaParams, level = 0.95): { low: number; high: number } {
  const { alpha, beta } = post;
  assertShape(alpha, beta);
  if (!(level > 0 && level < 1)) throw new RangeError(`Credible level must lie in (0, 1) (got ${level})`);
  const tail = (1 - level) / 2;
  return { low: quantileOfTail(tail, true, alpha, beta), high: quantileOfTail(tail, false, alpha, beta) };
}

// ---------------------------------------------------------------------------------------------------------
// P(best) and expected loss.
//
// Each posterior is integrated in z = logit(θ), where the density of Beta(a, b) is θ^a (1 − θ)^b / B(a, b):
// log-concave, free of endpoint singularities for any a, b > 0, and with every endpoint tail decaying
// exponentially. The z-axis is cut into panels no wider than two standard deviations of the narrowest
// posterior alive there; each panel gets a 16-point Gauss–Legendre rule. Every CDF is built by integrating
// its own density through the same nodes (a spectral integration matrix inside each panel), so each density
// is evaluated once per node and the continued fraction is never needed here.

const GL_POINTS = 16;
// The density falls by e^-40 from its mode at the edge of a posterior's range: less mass than rounding.
const LOG_DROP = 40;
const PANEL_SDS = 2;
const BRANCH_ELLIPSE = 6 + 1 / 6;
const MAX_EDGES = 100_000;

interface Quadrature {
  nodes: Float64Array;
  weights: Float64Array;
  /** integration[k * n + m]: weight of node m in ∫_{-1}^{node k} of the interpolating polynomial. */
  integration: Float64Array;
}

function legendre(n: number, t: number): { value: number; previous: number } {
  let previous = 1;
  let value = t;
  for (let k = 2; k <= n; k++) {
    const next = ((2 * k - 1) * t * value - (k - 1) * previous) / k;
    previous = value;
    value = next;
  }
  return { value, previous };
}

function buildQuadrature(n: number): Quadrature {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    for (let iteration = 0; iteration < 100; iteration++) {
      const { value, previous } = legendre(n, t);
      const derivative = (n * (t * value - previous)) / (t * t - 1);
      const step = value / derivative;
      t -= step;
      if (Math.abs(step) < 1e-16) break;
    }
    const { value, previous } = legendre(n, t);
    const derivative = (n * (t * value - previous)) / (t * t - 1);
    nodes[n - 1 - i] = t;
    weights[n - 1 - i] = 2 / ((1 - t * t) * derivative * derivative);
  }
  // The Lagrange basis in Legendre form is exact under the rule, and ∫_{-1}^t P_p = (P_{p+1} − P_{p−1})/(2p+1).
  const table = (t: number): number[] => {
    const values = [1, t];
    for (let k = 2; k <= n; k++)
      values.push(((2 * k - 1) * t * values[k - 1]! - (k - 1) * values[k - 2]!) / k);
    return values;
  };
  const tables = Array.from(nodes, table);
  const integration = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const tk = tables[k]!;
    for (let m = 0; m < n; m++) {
      const tm = tables[m]!;
      let sum = (nodes[k]! + 1) / 2;
      for (let p = 1; p < n; p++) sum += (tm[p]! * (tk[p + 1]! - tk[p - 1]!)) / 2;
      integration[k * n + m] = weights[m]! * sum;
    }
  }
  return { nodes, weights, integration };
}

let quadrature: Quadrature | undefined;

interface Posterior {
  a: number;
  b: number;
  /** How many of the compared variants share exactly these parameters. */
  count: number;
  logNorm: number;
  zLow: number;
  zHigh: number;
  sd: number;
}

/** ln θ and ln(1 − θ) at z = logit θ, both to full relative precision. */
function logOdds(z: number): { lx: number; ly: number } {
  const soft = Math.log1p(Math.exp(-Math.abs(z)));
  return z >= 0 ? { lx: -soft, ly: -z - soft } : { lx: z - soft, ly: -soft };
}

/** Where the log-density in z falls LOG_DROP below its mode; Newton from outside is monotone (concavity). */
function rangeEdge(a: number, b: number, mode: number, modeLog: number, start: number): number {
  let z = start;
  for (let iteration = 0; iteration < 100; iteration++) {
    const { lx, ly } = logOdds(z);
    const gap = a * lx + b * ly - modeLog + LOG_DROP;
    const slope = a - (a + b) * Math.exp(lx);
    const step = gap / slope;
    if (!Number.isFinite(step)) break;
    z -= step;
    if (Math.abs(step) < 1e-3 * Math.abs(z - mode) + 1e-12) break;
  }
  return z;
}

function inLogOdds(a: number, b: number, count: number): Posterior {
  const mode = Math.log(a / b);
  const sd = Math.sqrt(1 / a + 1 / b);
  const { lx, ly } = logOdds(mode);
  const modeLog = a * lx + b * ly;
  const reach = Math.sqrt(2 * LOG_DROP) * sd;
  return {
    a,
    b,
    count,
    logNorm: logBeta(a, b),
    zLow: rangeEdge(a, b, mode, modeLog, mode - reach),
    zHigh: rangeEdge(a, b, mode, modeLog, mode + reach),
    sd,
  };
}

/** Panel edges over the union of ranges, skipping gaps where every density is below rounding. */
function panelEdges(groups: readonly Posterior[]): number[] {
  const edges: number[] = [];
  let z = Math.min(...groups.map((g) => g.zLow));
  const end = Math.max(...groups.map((g) => g.zHigh));
  edges.push(z);
  while (z < end) {
    let width = Number.POSITIVE_INFINITY;
    let nextStart = Number.POSITIVE_INFINITY;
    for (const g of groups) {
      if (g.zLow <= z && z < g.zHigh) width = Math.min(width, PANEL_SDS * g.sd);
      else if (g.zLow > z) nextStart = Math.min(nextStart, g.zLow);
    }
    if (width === Number.POSITIVE_INFINITY) {
      // A gap: close the open panel run with a NaN marker so the caller knows nothing lies in between.
      edges.push(Number.NaN, nextStart);
      z = nextStart;
      continue;
    }
    // ln(1 + e^z) has branch points at ±iπ. Keeping them outside the panel's Bernstein ellipse ρ = 6
    // (sum of focal distances ≥ (ρ + 1/ρ) · half-width) bounds interpolation error by ~6^-16 for small shapes.
    while (Math.hypot(z, Math.PI) + Math.hypot(z + width, Math.PI) < BRANCH_ELLIPSE * (width / 2))
      width *= 0.8;
    const next = Math.min(z + width, nextStart, end);
    // Only shapes far beyond any real count (sd below the spacing of doubles) can stall the sweep.
    if (!(next > z) || edges.length > MAX_EDGES)
      throw new RangeError('Beta parameters too extreme to compare');
    z = next;
    edges.push(z);
  }
  return edges;
}

interface Comparison {
  probabilities: number[];
  /** Whether each variant's posterior is shared with another variant (its share must not be nudged alone). */
  shared: boolean[];
  expectedMax: number;
}

function compare(posts: readonly BetaParams[]): Comparison {
  quadrature ??= buildQuadrature(GL_POINTS);
  const { nodes, weights, integration } = quadrature;
  const n = GL_POINTS;

  // Identical posteriors share one integral and split it, so they get exactly equal shares.
  const byKey = new Map<string, number>();
  const groupOf: number[] = [];
  const shapes: { a: number; b: number; count: number }[] = [];
  for (const { alpha, beta } of posts) {
    assertShape(alpha, beta);
    const key = `${alpha}/${beta}`;
    let index = byKey.get(key);
    if (index === undefined) {
      index = shapes.length;
      byKey.set(key, index);
      shapes.push({ a: alpha, b: beta, count: 0 });
    }
    shapes[index]!.count++;
    groupOf.push(index);
  }
  const groups = shapes.map((s) => inLogOdds(s.a, s.b, s.count));
  const k = groups.length;

  const edges = panelEdges(groups);
  const starts: number[] = [];
  const halves: number[] = [];
  const alive: number[][] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const start = edges[i]!;
    const stop = edges[i + 1]!;
    if (Number.isNaN(start) || Number.isNaN(stop)) continue;
    starts.push(start);
    halves.push((stop - start) / 2);
    alive.push(groups.flatMap((g, index) => (g.zLow < stop && g.zHigh > start ? [index] : [])));
  }
  const panelCount = starts.length;

  // Pass 1: densities at every node (zero outside a posterior's range) and their total mass, which is
  // renormalised to one so that the rounding in ln B(a, b) for huge shapes cancels.
  const density = new Float64Array(panelCount * n * k);
  const panelMass = new Float64Array(panelCount * k);
  const theta = new Float64Array(panelCount * n);
  const lx = new Float64Array(n);
  const ly = new Float64Array(n);
  const mass = new Float64Array(k);
  for (let p = 0; p < panelCount; p++) {
    const start = starts[p]!;
    const half = halves[p]!;
    for (let j = 0; j < n; j++) {
      const z = start + half * (nodes[j]! + 1);
      const soft = Math.log1p(Math.exp(-Math.abs(z)));
      lx[j] = z >= 0 ? -soft : z - soft;
      ly[j] = z >= 0 ? -z - soft : -soft;
      theta[p * n + j] = Math.exp(lx[j]!);
    }
    for (const g of alive[p]!) {
      const { a, b, logNorm } = groups[g]!;
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const value = Math.exp(a * lx[j]! + b * ly[j]! - logNorm);
        density[(p * n + j) * k + g] = value;
        sum += weights[j]! * value;
      }
      panelMass[p * k + g] = half * sum;
      mass[g]! += half * sum;
    }
  }
  const scale = Array.from(mass, (m) => (m > 0 ? 1 / m : 0));

  // Below the highest lower edge every product contains a CDF that is exactly zero, so integration starts
  // there, with each CDF carried in as the mass already passed.
  const lowest = Math.max(...groups.map((g) => g.zLow));
  let first = 0;
  while (first < panelCount - 1 && starts[first + 1]! <= lowest) first++;
  const cdfStart = new Float64Array(k);
  for (let p = 0; p < first; p++)
    for (const g of alive[p]!) cdfStart[g]! += scale[g]! * panelMass[p * k + g]!;

  // Pass 2: CDFs at the nodes, then the density of the maximum split by which variant attains it.
  const cdf = new Float64Array(n * k);
  const power = new Float64Array(n * k);
  const prefix = new Float64Array(k + 1);
  const wins = new Float64Array(k);
  let expectedMax = 0;
  for (let p = first; p < panelCount; p++) {
    const half = halves[p]!;
    const base = p * n;
    for (let g = 0; g < k; g++) {
      for (let j = 0; j < n; j++) cdf[j * k + g] = Math.min(1, cdfStart[g]!);
    }
    for (const g of alive[p]!) {
      const from = cdfStart[g]!;
      const factor = half * scale[g]!;
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let m = 0; m < n; m++) sum += integration[j * n + m]! * density[(base + m) * k + g]!;
        cdf[j * k + g] = Math.min(1, Math.max(0, from + factor * sum));
      }
      cdfStart[g] = from + scale[g]! * panelMass[p * k + g]!;
    }
    for (let i = 0; i < n * k; i++) {
      const count = groups[i % k]!.count;
      power[i] = count === 1 ? cdf[i]! : cdf[i]! ** count;
    }
    for (let j = 0; j < n; j++) {
      const row = j * k;
      prefix[0] = 1;
      for (let g = 0; g < k; g++) prefix[g + 1] = prefix[g]! * power[row + g]!;
      const w = half * weights[j]!;
      const x = theta[base + j]!;
      let suffix = 1;
      for (let g = k - 1; g >= 0; g--) {
        const f = density[(base + j) * k + g]!;
        if (f > 0) {
          const count = groups[g]!.count;
          const others = count === 1 ? 1 : count * cdf[row + g]! ** (count - 1);
          const term = scale[g]! * f * others * prefix[g]! * suffix;
          wins[g]! += w * term;
          expectedMax += w * x * term;
        }
        suffix *= power[row + g]!;
      }
    }
  }

  let total = 0;
  for (let g = 0; g < k; g++) total += wins[g]!;
  const probabilities = groupOf.map((g) => wins[g]! / total / groups[g]!.count);
  return {
    probabilities,
    shared: groupOf.map((g) => groups[g]!.count > 1),
    expectedMax: expectedMax / total,
  };
}

/**
 * P(variant i has the highest rate) for independent Beta posteriors: ∫ pdf_i(x) ∏_{j≠i} cdf_j(x) dx by
 * quadrature. Non-negative and summing to one; identical posteriors get identical shares.
 */
export function probabilityBest(posts: readonly BetaParams[]): number[] {
  if (posts.length === 0) return [];
  if (posts.length === 1) {
    assertShape(posts[0]!.alpha, posts[0]!.beta);
    return [1];
  }
  const { probabilities, shared } = compare(posts);
  // Hand the rounding residue to the leader so the shares add up to one as exactly as floating point allows,
  // unless that would break the tie between identical posteriors.
  let leader = 0;
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) {
    sum += probabilities[i]!;
    if (probabilities[i]! > probabilities[leader]!) leader = i;
  }
  if (!shared[leader]) probabilities[leader] = Math.max(0, probabilities[leader]! + (1 - sum));
  return probabilities;
}

/** E[max_j θ_j − θ_i] for each variant i: what choosing i would cost against the unknown best, in rate. */
export function expectedLoss(posts: readonly BetaParams[]): number[] {
  if (posts.length === 0) return [];
  if (posts.length === 1) {
    assertShape(posts[0]!.alpha, posts[0]!.beta);
    return [0];
  }
  const { expectedMax } = compare(posts);
  return posts.map((post) => Math.max(0, expectedMax - betaMean(post)));
}
