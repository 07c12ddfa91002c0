// Seeded generator and samplers: determinism, and moments or frequencies within a few standard errors.
import { describe, expect, it } from 'vitest';
import {
  createRandom,
  pickWeighted,
  type Random,
  sampleBeta,
  sampleBinomial,
  sampleGamma,
  sampleLogNormal,
  sampleNormal,
} from '../../simulation/random';

function moments(draw: () => number, count: number) {
  let total = 0;
  let squares = 0;
  for (let i = 0; i < count; i++) {
    const x = draw();
    total += x;
    squares += x * x;
  }
  const mean = total / count;
  return { mean, variance: squares / count - mean * mean };
}

/** |observed − expected| within `sds` standard errors of a mean over `count` draws of variance `variance`. */
function expectMean(observed: number, expected: number, variance: number, count: number, sds = 5) {
  expect(Math.abs(observed - expected)).toBeLessThan(sds * Math.sqrt(variance / count));
}

/** Pearson's χ² of counts against expected probabilities. */
function chiSquare(counts: readonly number[], probabilities: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.reduce(
    (acc, c, i) => acc + (c - total * probabilities[i]!) ** 2 / (total * probabilities[i]!),
    0,
  );
}

const fixed =
  (...values: number[]): Random =>
  () =>
    values.shift() ?? 0;

describe('createRandom', () => {
  it('repeats its sequence for a seed and pins it across releases', () => {
    // Prepare
    const a = createRandom(1);
    const b = createRandom(1);

    // Act
    const first = Array.from({ length: 1000 }, a);
    const second = Array.from({ length: 1000 }, b);

    // Assess
    expect(second).toEqual(first);
    expect(first.slice(0, 3)).toEqual([0.28742867914420944, 0.7783468216727808, 0.2390992230843435]);
  });

  it('gives unrelated sequences for nearby, fractional and large seeds', () => {
    // Prepare
    const seeds = [0, 1, 2, 1.5, 2 ** 32, 2 ** 40 + 1, -1];

    // Act
    const heads = seeds.map((seed) => createRandom(seed)());

    // Assess
    expect(new Set(heads).size).toBe(seeds.length);
    expect(createRandom(-0)()).toBe(createRandom(0)());
    expect(() => createRandom(Number.NaN)).toThrow(RangeError);
  });

  it('is uniform on [0, 1)', () => {
    // Prepare
    const random = createRandom(7);
    const bins = new Array<number>(20).fill(0);
    let min = 1;
    let max = 0;

    // Act
    for (let i = 0; i < 200_000; i++) {
      const u = random();
      min = Math.min(min, u);
      max = Math.max(max, u);
      bins[Math.floor(u * 20)]!++;
    }

    // Assess: χ²(19) exceeds 43.8 with probability 0.001.
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(chiSquare(bins, new Array(20).fill(1 / 20))).toBeLessThan(43.8);
  });
});

describe('samplers', () => {
  it('draws standard normals', () => {
    // Prepare
    const random = createRandom(3);
    let beyondTwo = 0;

    // Act
    const { mean, variance } = moments(() => {
      const z = sampleNormal(random);
      if (Math.abs(z) > 2) beyondTwo++;
      return z;
    }, 100_000);

    // Assess
    expectMean(mean, 0, 1, 100_000);
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / 100_000));
    expectMean(beyondTwo / 100_000, 0.0455, 0.0455 * 0.9545, 100_000);
  });

  it('draws gammas with mean and variance equal to the shape, below and above one', () => {
    for (const shape of [0.3, 1, 5.5, 2000]) {
      // Prepare
      const random = createRandom(100 + shape);

      // Act
      const { mean, variance } = moments(() => sampleGamma(random, shape), 50_000);

      // Assess: Var(sample variance) ≈ (μ4 − σ⁴) / n with μ4 = 3σ⁴ + 6·shape for a gamma.
      expectMean(mean, shape, shape, 50_000);
      expect(Math.abs(variance - shape)).toBeLessThan(
        5 * Math.sqrt((2 * shape * shape + 6 * shape) / 50_000),
      );
    }
    expect(() => sampleGamma(createRandom(1), 0)).toThrow(RangeError);
  });

  it('draws betas with the right mean and variance, including tiny shapes and huge counts', () => {
    for (const [a, b] of [
      [2, 5],
      [0.5, 0.5],
      [0.05, 0.2],
      [50_000, 950_000],
    ] as const) {
      // Prepare
      const random = createRandom(a * 31 + b);
      const mean = a / (a + b);
      const variance = (a * b) / ((a + b) ** 2 * (a + b + 1));

      let outside = 0;

      // Act
      const observed = moments(() => {
        const x = sampleBeta(random, a, b);
        if (!(x >= 0 && x <= 1)) outside++;
        return x;
      }, 50_000);

      // Assess
      expect(outside).toBe(0);
      expectMean(observed.mean, mean, variance, 50_000);
      expect(Math.abs(observed.variance / variance - 1)).toBeLessThan(0.05);
    }
  });

  it('draws log-normals whose logarithm has the given mean and sd', () => {
    // Prepare
    const random = createRandom(5);
    const mu = Math.log(600);
    const sigma = 1.3;

    // Act
    const { mean, variance } = moments(() => Math.log(sampleLogNormal(random, mu, sigma)), 50_000);

    // Assess
    expectMean(mean, mu, sigma * sigma, 50_000);
    expect(Math.abs(Math.sqrt(variance) / sigma - 1)).toBeLessThan(0.02);
    expect(() => sampleLogNormal(random, 0, -1)).toThrow(RangeError);
  });
});

describe('sampleBinomial', () => {
  it('follows the exact distribution for small n', () => {
    // Prepare
    const random = createRandom(17);
    const n = 10;
    const p = 0.3;
    const pmf = Array.from({ length: n + 1 }, (_, k) => {
      let c = 1;
      for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1);
      return c * p ** k * (1 - p) ** (n - k);
    });
    const counts = new Array<number>(n + 1).fill(0);

    // Act
    for (let i = 0; i < 100_000; i++) counts[sampleBinomial(random, n, p)]!++;

    // Assess: merge the sparse top cells (k ≥ 8) and compare with χ²(8) at 0.001: 26.1.
    const merged = [...counts.slice(0, 8), counts.slice(8).reduce((a, b) => a + b, 0)];
    const mergedPmf = [...pmf.slice(0, 8), pmf.slice(8).reduce((a, b) => a + b, 0)];
    expect(chiSquare(merged, mergedPmf)).toBeLessThan(26.1);
  });

  it('has the binomial mean and variance for large n on both sides of one half', () => {
    for (const [n, p, draws] of [
      [1_000_000, 0.03, 4000],
      [1_000_000, 0.9999, 4000],
      [5000, 0.5, 20_000],
      [200_000, 0.00004, 20_000],
    ] as const) {
      // Prepare
      const random = createRandom(n + p);
      const variance = n * p * (1 - p);

      let impossible = 0;

      // Act
      const observed = moments(() => {
        const k = sampleBinomial(random, n, p);
        if (!(Number.isInteger(k) && k >= 0 && k <= n)) impossible++;
        return k;
      }, draws);

      // Assess
      expect(impossible).toBe(0);
      expectMean(observed.mean, n * p, variance, draws);
      expect(Math.abs(observed.variance / variance - 1)).toBeLessThan(5 * Math.sqrt(2 / draws));
    }
  });

  it('handles the edges and rejects impossible arguments', () => {
    const random = createRandom(1);
    expect(sampleBinomial(random, 0, 0.4)).toBe(0);
    expect(sampleBinomial(random, 1000, 0)).toBe(0);
    expect(sampleBinomial(random, 1000, 1)).toBe(1000);
    expect(() => sampleBinomial(random, 2.5, 0.4)).toThrow(RangeError);
    expect(() => sampleBinomial(random, -1, 0.4)).toThrow(RangeError);
    expect(() => sampleBinomial(random, 10, 1.2)).toThrow(RangeError);
  });
});

describe('pickWeighted', () => {
  it('picks indices in proportion to their weights and never a zero weight', () => {
    // Prepare
    const random = createRandom(23);
    const weights = [0.5, 0, 0.2, 0.25, 0.05];
    const counts = new Array<number>(weights.length).fill(0);

    // Act
    for (let i = 0; i < 100_000; i++) counts[pickWeighted(random, weights)]!++;

    // Assess: χ²(3) over the non-zero cells exceeds 16.3 with probability 0.001.
    expect(counts[1]).toBe(0);
    const live = [0, 2, 3, 4];
    expect(
      chiSquare(
        live.map((i) => counts[i]!),
        live.map((i) => weights[i]!),
      ),
    ).toBeLessThan(16.3);
  });

  it('tolerates shares that do not sum to exactly one', () => {
    // Prepare: a maximal uniform against shares that add to a little less than one.
    const shares = [0.3, 0.7 - 1e-12, 0];

    // Act / Assess
    expect(pickWeighted(fixed(1 - 2 ** -53), shares)).toBe(1);
    expect(pickWeighted(fixed(0), shares)).toBe(0);
    expect(pickWeighted(fixed(0.3), [0.3, 0.7])).toBe(1);
    expect(pickWeighted(fixed(0.2999999), [0.3, 0.7])).toBe(0);
  });

  it('rejects weights it cannot draw from', () => {
    const random = createRandom(1);
    expect(() => pickWeighted(random, [])).toThrow(RangeError);
    expect(() => pickWeighted(random, [0, 0])).toThrow(RangeError);
    expect(() => pickWeighted(random, [0.5, -0.1, 0.6])).toThrow(RangeError);
    expect(() => pickWeighted(random, [0.5, Number.NaN])).toThrow(RangeError);
  });
});
