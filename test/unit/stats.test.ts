// Beta statistics checked against closed forms, independent methods computed here (binomial sums, series,
// Evan Miller's exact formula, Monte Carlo) and 40-digit mpmath references.
import { describe, expect, it } from 'vitest';
import { betaCdf, betaQuantile, logBeta } from '../../domain/special-functions';
import {
  type BetaParams,
  betaMean,
  credibleInterval,
  expectedLoss,
  probabilityBest,
} from '../../domain/stats';
import { createRandom, sampleBeta } from '../../simulation/random';

const beta = (alpha: number, b: number): BetaParams => ({ alpha, beta: b });

function logFactorial(n: number): number {
  // Compensated sum: the plain running sum of a few thousand logs drifts by ~1e-12.
  let sum = 0;
  let carry = 0;
  for (let i = 2; i <= n; i++) {
    const term = Math.log(i) - carry;
    const next = sum + term;
    carry = next - sum - term;
    sum = next;
  }
  return sum;
}

/** I_x(a, b) for whole a, b as P(Binomial(a + b − 1, x) ≥ a): a finite sum, independent of betaCdf. */
function binomialTail(x: number, a: number, b: number): number {
  const n = a + b - 1;
  let choose = 1;
  for (let i = 1; i <= a; i++) choose = (choose * (n - a + i)) / i;
  let sum = 0;
  for (let j = a; j <= n; j++) {
    sum += choose * x ** j * (1 - x) ** (n - j);
    choose = (choose * (n - j)) / (j + 1);
  }
  return sum;
}

function bisect(f: (x: number) => number, target: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Evan Miller's exact P(θ_B > θ_A) for a whole-number αB. */
function millerProbability(a: BetaParams, b: BetaParams): number {
  let sum = 0;
  for (let i = 0; i < b.alpha; i++) {
    sum += Math.exp(
      logBeta(a.alpha + i, a.beta + b.beta) -
        Math.log(b.beta + i) -
        logBeta(1 + i, b.beta) -
        logBeta(a.alpha, a.beta),
    );
  }
  return sum;
}

function monteCarlo(posts: readonly BetaParams[], draws: number, seed: number) {
  const random = createRandom(seed);
  const wins = new Array<number>(posts.length).fill(0);
  const regret = new Array<number>(posts.length).fill(0);
  const regretSquares = new Array<number>(posts.length).fill(0);
  const theta = new Array<number>(posts.length).fill(0);
  for (let d = 0; d < draws; d++) {
    let best = 0;
    for (let i = 0; i < posts.length; i++) {
      theta[i] = sampleBeta(random, posts[i]!.alpha, posts[i]!.beta);
      if (theta[i]! > theta[best]!) best = i;
    }
    wins[best]!++;
    for (let i = 0; i < posts.length; i++) {
      const r = theta[best]! - theta[i]!;
      regret[i]! += r;
      regretSquares[i]! += r * r;
    }
  }
  return {
    best: wins.map((w) => w / draws),
    bestError: wins.map((w) => Math.sqrt((w / draws) * (1 - w / draws) * (1 / draws))),
    loss: regret.map((r) => r / draws),
    lossError: regret.map((r, i) => Math.sqrt((regretSquares[i]! / draws - (r / draws) ** 2) / draws)),
  };
}

const sum = (values: readonly number[]) => values.reduce((total, v) => total + v, 0);

describe('logBeta', () => {
  it('matches factorial closed forms for whole arguments', () => {
    // Prepare
    const cases: [number, number][] = [
      [1, 1],
      [3, 5],
      [20, 30],
      [200, 3000],
    ];

    // Act / Assess
    for (const [a, b] of cases) {
      const exact = logFactorial(a - 1) + logFactorial(b - 1) - logFactorial(a + b - 1);
      expect(Math.abs(logBeta(a, b) - exact)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(exact)));
    }
  });

  it('matches 40-digit references for fractional and huge arguments, symmetrically', () => {
    // Prepare (mpmath at 40 digits, rounded to doubles: loggamma(a) + loggamma(b) − loggamma(a + b))
    const references: [number, number, number][] = [
      [0.5, 0.5, 1.1447298858494002],
      [2.5, 7.25, -4.905336618839304],
      [12.3, 300.7, -52.17435312991649],
      [1e6, 2e7, -4020331.6855336432],
    ];

    // Act / Assess
    for (const [a, b, expected] of references) {
      expect(Math.abs(logBeta(a, b) - expected)).toBeLessThanOrEqual(2e-15 * Math.max(1, Math.abs(expected)));
      expect(logBeta(b, a)).toBe(logBeta(a, b));
    }
  });

  it('rejects shapes that are not finite and positive', () => {
    expect(() => logBeta(0, 1)).toThrow(RangeError);
    expect(() => logBeta(1, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});

describe('betaCdf', () => {
  it('is the identity for Beta(1, 1) and the closed forms x^a and 1 − (1 − x)^b', () => {
    // Prepare
    const xs = [1e-9, 0.001, 0.1, 0.37, 0.5, 0.9, 0.999, 1 - 1e-7];

    // Act / Assess
    for (const x of xs) {
      expect(Math.abs(betaCdf(x, 1, 1) - x)).toBeLessThan(1e-15);
      for (const a of [0.3, 2.5, 40, 1e5, 1e6]) {
        expect(Math.abs(betaCdf(x, a, 1) - x ** a)).toBeLessThan(1e-13);
        expect(Math.abs(betaCdf(x, 1, a) + Math.expm1(a * Math.log1p(-x)))).toBeLessThan(1e-13);
      }
    }
  });

  it('agrees with binomial tail sums for whole shapes', () => {
    // Prepare
    const shapes: [number, number][] = [
      [11, 91],
      [3, 50],
      [41, 961],
      [7, 2],
    ];

    // Act / Assess
    for (const [a, b] of shapes) {
      for (const x of [0.001, 0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 0.97]) {
        expect(Math.abs(betaCdf(x, a, b) - binomialTail(x, a, b))).toBeLessThan(1e-13);
      }
    }
  });

  it('matches 40-digit quadrature references for huge and fractional shapes', () => {
    // Prepare (mpmath quad of the density with breakpoints every standard deviation)
    const references: [number, number, number, number][] = [
      [0.12323297054126531, 2.5, 7.25, 0.1641290161632029],
      [0.3229988993447519, 2.5, 7.25, 0.7128489462064702],
      [0.4932918128379476, 1e5, 1e5, 9.850848334921416e-10],
      [0.49888196880632457, 1e5, 1e5, 0.15865585885750702],
      [0.5033540935810262, 1e5, 1e5, 0.9986502016841697],
      [0.04978205516179536, 5e4, 9.5e5, 0.15865468531750082],
      [0.050108972419102324, 5e4, 9.5e5, 0.6918257711609725],
      [0.047340219033415384, 1e6, 2e7, 9.227387973210259e-10],
      [0.04764228333451697, 1e6, 2e7, 0.6915440543244991],
      [0.4993291796235206, 1e7, 1e7, 9.86572607325064e-10],
      [0.5000559016980399, 1e7, 1e7, 0.6914624552228155],
      [0.5003354101882397, 1e7, 1e7, 0.9986501029655345],
    ];

    // Act / Assess
    for (const [x, a, b, expected] of references) {
      const got = betaCdf(x, a, b);
      expect(Math.abs(got - expected)).toBeLessThan(1e-11);
      expect(Math.abs(got - expected) / expected).toBeLessThan(1e-9);
    }
  });

  it('keeps relative precision deep in the lower tail', () => {
    // Prepare: I_x(a, b) = x^a / (a B(a, b)) · Σ_k (a)_k (1 − b)_k / ((a + 1)_k k!) x^k
    const a = 2.5;
    const b = 7.25;
    const x = 1e-6;
    let series = 0;
    let term = 1;
    for (let k = 0; k < 20; k++) {
      series += term;
      term *= (((a + k) * (1 - b + k)) / ((a + 1 + k) * (k + 1))) * x;
    }
    const expected = (Math.exp(a * Math.log(x) - logBeta(a, b)) / a) * series;

    // Act
    const got = betaCdf(x, a, b);

    // Assess
    expect(expected).toBeLessThan(1e-13);
    expect(Math.abs(got / expected - 1)).toBeLessThan(1e-12);
  });

  it('is monotone across a narrow posterior and clamps outside [0, 1]', () => {
    // Prepare
    const values: number[] = [];

    // Act
    for (let i = 0; i <= 400; i++) values.push(betaCdf(0.048 + i * 1e-5, 5e4, 9.5e5));

    // Assess
    for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
    expect(values[0]!).toBeLessThan(1e-6);
    expect(values[400]!).toBeGreaterThan(1 - 1e-6);
    expect(betaCdf(0, 2, 3)).toBe(0);
    expect(betaCdf(-0.5, 2, 3)).toBe(0);
    expect(betaCdf(1, 2, 3)).toBe(1);
    expect(betaCdf(2, 2, 3)).toBe(1);
    expect(betaCdf(Number.NaN, 2, 3)).toBeNaN();
    expect(() => betaCdf(0.5, -1, 3)).toThrow(RangeError);
  });
});

describe('betaQuantile', () => {
  it('inverts the closed forms exactly', () => {
    for (const p of [1e-12, 1e-6, 0.025, 0.3, 0.5, 0.8, 0.975, 1 - 1e-9]) {
      expect(betaQuantile(p, 1, 1)).toBeCloseTo(p, 14);
      for (const a of [0.4, 3, 250, 1e6]) {
        expect(Math.abs(betaQuantile(p, a, 1) - p ** (1 / a))).toBeLessThan(1e-12);
        expect(Math.abs(betaQuantile(p, 1, a) + Math.expm1(Math.log1p(-p) / a))).toBeLessThan(1e-12);
      }
    }
  });

  it('puts the median of a symmetric Beta at one half', () => {
    for (const a of [0.5, 3, 1e6]) expect(Math.abs(betaQuantile(0.5, a, a) - 0.5)).toBeLessThan(1e-12);
  });

  it('agrees with bisection on binomial tail sums for whole shapes', () => {
    // Prepare
    const cases: [number, number, number][] = [
      [0.025, 11, 91],
      [0.5, 11, 91],
      [0.975, 11, 91],
      [1e-6, 3, 50],
      [0.3, 3, 50],
    ];

    // Act / Assess
    for (const [p, a, b] of cases) {
      const expected = bisect((x) => binomialTail(x, a, b), p);
      expect(Math.abs(betaQuantile(p, a, b) - expected)).toBeLessThan(1e-10);
    }
  });

  it('matches 40-digit references', () => {
    // Prepare (mpmath bisection on betainc)
    const references: [number, number, number, number][] = [
      [0.025, 11, 91, 0.055637223835302986],
      [0.975, 11, 91, 0.17455282607711903],
      [0.025, 2.5, 7.25, 0.05081420549563448],
      [0.5, 2.5, 7.25, 0.2392773717892126],
      [1e-6, 0.7, 3.2, 7.653365895549836e-10],
    ];

    // Act / Assess
    for (const [p, a, b, expected] of references) {
      expect(Math.abs(betaQuantile(p, a, b) / expected - 1)).toBeLessThan(1e-12);
    }
  });

  it('round-trips through betaCdf for small, huge and lopsided shapes', () => {
    // Prepare
    const shapes: [number, number][] = [
      [0.3, 2],
      [2.5, 7.25],
      [1e5, 1e5],
      [5e4, 9.5e5],
      [1e6, 2e7],
      [3, 1e7],
      [0.7, 1e7],
    ];
    const ps = [1e-12, 1e-6, 0.01, 0.3, 0.5, 0.7, 0.99, 1 - 1e-6];

    // Act / Assess
    for (const [a, b] of shapes) {
      for (const p of ps) {
        const x = betaQuantile(p, a, b);
        expect(x).toBeGreaterThan(0);
        expect(x).toBeLessThan(1);
        expect(Math.abs(betaCdf(x, a, b) - p)).toBeLessThan(1e-12 + 1e-9 * p);
      }
    }
  });

  it('reflects for answers near one, where only 1 − x carries precision', () => {
    // I_x(a, b) = 1 − I_{1−x}(b, a): quantiles within 4e-7 of 1 are exact up to the spacing of doubles there.
    for (const [a, b] of [
      [1e7, 0.7],
      [1e7, 3],
      [91, 11],
    ] as const) {
      // Dyadic probabilities, so that p and 1 − p are exact complements.
      for (const p of [2 ** -30, 2 ** -7, 0.5, 1 - 2 ** -7]) {
        expect(Math.abs(betaQuantile(p, a, b) - (1 - betaQuantile(1 - p, b, a)))).toBeLessThanOrEqual(
          2 * Number.EPSILON,
        );
      }
    }
  });

  it('maps 0 and 1 to the ends and rejects other probabilities outside [0, 1]', () => {
    expect(betaQuantile(0, 2, 3)).toBe(0);
    expect(betaQuantile(1, 2, 3)).toBe(1);
    for (const p of [-0.1, 1.1, Number.NaN]) expect(() => betaQuantile(p, 2, 3)).toThrow(RangeError);
  });
});

describe('betaMean and credibleInterval', () => {
  it('gives the posterior mean', () => {
    expect(betaMean(beta(11, 91))).toBe(11 / 102);
    expect(() => betaMean(beta(0, 1))).toThrow(RangeError);
  });

  it('uses exact quantiles, not a normal approximation', () => {
    // Prepare
    const post = beta(11, 91);
    const mean = betaMean(post);

    // Act
    const interval = credibleInterval(post);

    // Assess
    expect(Math.abs(interval.low - 0.055637223835302986)).toBeLessThan(1e-12);
    expect(Math.abs(interval.high - 0.17455282607711903)).toBeLessThan(1e-12);
    expect(interval.high - mean).toBeGreaterThan(1.2 * (mean - interval.low));
  });

  it('honours the level', () => {
    // Act
    const uniform = credibleInterval(beta(1, 1), 0.5);
    const power = credibleInterval(beta(2, 1), 0.9);

    // Assess
    expect(uniform.low).toBeCloseTo(0.25, 14);
    expect(uniform.high).toBeCloseTo(0.75, 14);
    expect(power.low).toBeCloseTo(Math.sqrt(0.05), 14);
    expect(power.high).toBeCloseTo(Math.sqrt(0.95), 14);
    for (const level of [0, 1, 1.5, Number.NaN])
      expect(() => credibleInterval(beta(2, 3), level)).toThrow(RangeError);
  });
});

describe('probabilityBest', () => {
  it('handles no variant and one variant', () => {
    expect(probabilityBest([])).toEqual([]);
    expect(probabilityBest([beta(3, 4)])).toEqual([1]);
    expect(() => probabilityBest([beta(3, 4), beta(1, 0)])).toThrow(RangeError);
  });

  it("matches Evan Miller's exact formula for two variants, wide to very narrow", () => {
    // Prepare
    const pairs: [BetaParams, BetaParams][] = [
      [beta(1, 1), beta(2, 1)],
      [beta(3, 50), beta(7, 40)],
      [beta(41, 961), beta(56, 946)],
      [beta(401, 9601), beta(451, 9551)],
      [beta(1, 1), beta(50, 950)],
      [beta(1, 1000), beta(3, 2)],
      [beta(2, 1e6), beta(5, 1e6)],
      [beta(50_000, 950_000), beta(50_300, 949_700)],
    ];

    // Act / Assess
    for (const [a, b] of pairs) {
      const [pa, pb] = probabilityBest([a, b]);
      expect(Math.abs(pb! - millerProbability(a, b))).toBeLessThan(1e-9);
      expect(Math.abs(pa! - millerProbability(b, a))).toBeLessThan(1e-9);
    }
  });

  it('finds the tiny chance of a posterior that barely overlaps the leader', () => {
    // Prepare
    const behind = beta(1000, 9000);
    const ahead = beta(1180, 8820);

    // Act
    const [pBehind, pAhead] = probabilityBest([behind, ahead]);

    // Assess
    const exact = millerProbability(ahead, behind);
    expect(exact).toBeGreaterThan(1e-8);
    expect(exact).toBeLessThan(1e-4);
    expect(Math.abs(pBehind! / exact - 1)).toBeLessThan(1e-7);
    expect(Math.abs(pAhead! + pBehind! - 1)).toBeLessThanOrEqual(Number.EPSILON);
  });

  it('gives a_i / Σa for twenty Beta(a_i, 1) posteriors of very different widths', () => {
    // Prepare: cdf_i = x^a_i, so ∫ a_i x^(a_i − 1) ∏_{j≠i} x^a_j dx = a_i / Σ_j a_j.
    const shapes = [0.5, 0.9, 1, 1.5, 2, 3, 4.5, 7, 10, 15, 22, 33, 50, 80, 120, 200, 400, 900, 3000, 20_000];
    const total = sum(shapes);

    // Act
    const best = probabilityBest(shapes.map((a) => beta(a, 1)));

    // Assess
    best.forEach((p, i) => {
      expect(Math.abs(p - shapes[i]! / total)).toBeLessThan(1e-10);
    });
  });

  it('handles shapes below one, whose densities are unbounded at an end', () => {
    // P(Beta(0.5, 1) > U) = E[Beta(0.5, 1)] = 1/3; P(Beta(1, 0.5) > U) = 2/3.
    const [low] = probabilityBest([beta(0.5, 1), beta(1, 1)]);
    const [high] = probabilityBest([beta(1, 0.5), beta(1, 1)]);
    expect(Math.abs(low! - 1 / 3)).toBeLessThan(1e-10);
    expect(Math.abs(high! - 2 / 3)).toBeLessThan(1e-10);
  });

  it('matches 40-digit quadrature references for fractional shapes', () => {
    // Prepare (mpmath quad of pdf_i · ∏ cdf_j)
    const cases: [BetaParams[], number[]][] = [
      [
        [beta(3.5, 40.25), beta(5.1, 39.7), beta(4.2, 41.3)],
        [0.1924435175598977, 0.5206005408533168, 0.2869559415867856],
      ],
      [
        [beta(12.3, 300.7), beta(15.9, 310.2), beta(9.1, 280.4), beta(14.4, 305.5)],
        [0.15965440806303627, 0.4708087066581017, 0.051022813074975054, 0.318514072203887],
      ],
    ];

    // Act / Assess
    for (const [posts, expected] of cases) {
      probabilityBest(posts).forEach((p, i) => {
        expect(Math.abs(p - expected[i]!)).toBeLessThan(1e-10);
      });
    }
  });

  it('agrees with a seeded Monte Carlo for three and ten variants', () => {
    // Prepare
    const three = [beta(31, 970), beta(38, 963), beta(27, 974)];
    const ten = Array.from({ length: 10 }, (_, i) => beta(20 + 2 * i + (i % 3), 400 - 3 * i));

    for (const [posts, seed] of [
      [three, 11],
      [ten, 12],
    ] as const) {
      // Act
      const best = probabilityBest(posts);
      const simulated = monteCarlo(posts, 400_000, seed);

      // Assess
      best.forEach((p, i) => {
        expect(Math.abs(p - simulated.best[i]!)).toBeLessThan(4 * simulated.bestError[i]! + 1e-6);
      });
    }
  });

  it('returns non-negative shares that sum to one, and follows a permutation of its input', () => {
    // Prepare
    const sets: BetaParams[][] = [
      [beta(1, 1), beta(5e4, 9.5e5), beta(2, 30)],
      Array.from({ length: 20 }, (_, i) => beta(1 + 7 * i, 200 + 13 * (i % 5))),
      Array.from({ length: 20 }, (_, i) => (i % 2 ? beta(1 + i, 1 + 20 * i) : beta(5e4 + 100 * i, 9.5e5))),
      Array.from({ length: 12 }, (_, i) => beta(1000 * (i + 1), 1e5)),
    ];

    for (const posts of sets) {
      // Act
      const best = probabilityBest(posts);
      const reversed = probabilityBest([...posts].reverse()).reverse();

      // Assess
      expect(best).toHaveLength(posts.length);
      for (const p of best) expect(p).toBeGreaterThanOrEqual(0);
      expect(Math.abs(sum(best) - 1)).toBeLessThanOrEqual(2 * Number.EPSILON);
      best.forEach((p, i) => {
        expect(Math.abs(p - reversed[i]!)).toBeLessThan(1e-14);
      });
    }
  });

  it('splits exactly evenly between identical posteriors', () => {
    // Act
    const twenty = probabilityBest(Array.from({ length: 20 }, () => beta(50_000, 950_000)));
    const [first, second, third] = probabilityBest([beta(30, 70), beta(30, 70), beta(35, 65)]);

    // Assess
    for (const p of twenty) expect(p).toBe(1 / 20);
    expect(first).toBe(second);
    expect(third).toBeGreaterThan(first!);
  });
});

describe('expectedLoss', () => {
  it('handles no variant and one variant', () => {
    expect(expectedLoss([])).toEqual([]);
    expect(expectedLoss([beta(3, 4)])).toEqual([0]);
  });

  it('matches the closed form for Beta(a_i, 1) posteriors', () => {
    // Prepare: the maximum has cdf x^Σa, so E[max] = A / (A + 1) and E[θ_i] = a_i / (a_i + 1).
    const shapes = [0.7, 2, 5, 12, 40, 300];
    const total = sum(shapes);

    // Act
    const loss = expectedLoss(shapes.map((a) => beta(a, 1)));

    // Assess
    loss.forEach((l, i) => {
      expect(Math.abs(l - (total / (total + 1) - shapes[i]! / (shapes[i]! + 1)))).toBeLessThan(1e-12);
    });
  });

  it('gives 1/6 each for two uniform posteriors', () => {
    for (const l of expectedLoss([beta(1, 1), beta(1, 1)])) expect(l).toBeCloseTo(1 / 6, 14);
  });

  it('agrees with a seeded Monte Carlo for two variants', () => {
    // Prepare
    const posts = [beta(45, 955), beta(52, 948)];

    // Act
    const loss = expectedLoss(posts);
    const simulated = monteCarlo(posts, 400_000, 21);

    // Assess
    loss.forEach((l, i) => {
      expect(Math.abs(l - simulated.loss[i]!)).toBeLessThan(4 * simulated.lossError[i]!);
    });
  });

  it('is zero for a dominant variant and the gap in means for a dominated one', () => {
    // Prepare
    const posts = [beta(1000, 9000), beta(3000, 7000)];

    // Act
    const [dominated, dominant] = expectedLoss(posts);

    // Assess
    expect(dominant).toBeGreaterThanOrEqual(0);
    expect(dominant).toBeLessThan(1e-12);
    expect(Math.abs(dominated! - 0.2)).toBeLessThan(1e-12);
  });
});
