// Special functions of the Beta distribution, pure numerics with no notion of a variant: ln B(a, b), the
// regularized incomplete beta function and its inverse, and the Gauss–Legendre rule the P(best) integral uses.

const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const EPSILON = Number.EPSILON;
const TINY = 1e-300;
// Below this both Stirling's series and the centred power term lose accuracy, so exact gamma values are used.
const STIRLING_MIN = 10;

export function assertBetaShape(a: number, b: number): void {
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
  assertBetaShape(a, b);
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
  assertBetaShape(a, b);
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
export function quantileOfTail(target: number, lower: boolean, a: number, b: number): number {
  const guess = quantileGuess(lower ? target : 1 - target, a, b);
  if (guess <= 0.5) return solveTail(target, lower, a, b, guess);
  // Near 1, solve for 1 − x instead: it is a Beta(b, a) variable, whose tails are swapped.
  return 1 - solveTail(target, !lower, b, a, 1 - guess);
}

/** The p-quantile of Beta(a, b), the inverse of betaCdf. */
export function betaQuantile(p: number, a: number, b: number): number {
  assertBetaShape(a, b);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`Probability must lie in [0, 1] (got ${p})`);
  if (p === 0) return 0;
  if (p === 1) return 1;
  return p <= 0.5 ? quantileOfTail(p, true, a, b) : quantileOfTail(1 - p, false, a, b);
}

/** An n-point Gauss–Legendre rule on [−1, 1], with the matrix that integrates through its own nodes. */
export interface Quadrature {
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

export function buildQuadrature(n: number): Quadrature {
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
