// The statistics the policy and the report read off Beta posteriors: mean, credible interval, and P(best) and
// expected loss by deterministic numerical integration.
import {
  assertBetaShape,
  buildQuadrature,
  logBeta,
  type Quadrature,
  quantileOfTail,
} from './special-functions';

/** A Beta posterior; both parameters are positive and may be fractional (delay-weighted) or very large. */
export interface BetaParams {
  alpha: number;
  beta: number;
}

export function betaMean(post: BetaParams): number {
  assertBetaShape(post.alpha, post.beta);
  return post.alpha / (post.alpha + post.beta);
}

/** The equal-tailed credible interval from exact quantiles (a normal approximation is wrong at low counts). */
export function credibleInterval(post: BetaParams, level = 0.95): { low: number; high: number } {
  const { alpha, beta } = post;
  assertBetaShape(alpha, beta);
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
    assertBetaShape(alpha, beta);
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
    assertBetaShape(posts[0]!.alpha, posts[0]!.beta);
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
    assertBetaShape(posts[0]!.alpha, posts[0]!.beta);
    return [0];
  }
  const { expectedMax } = compare(posts);
  return posts.map((post) => Math.max(0, expectedMax - betaMean(post)));
}
