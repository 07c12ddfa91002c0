// The report's statistics are honest: P(best) can be recomputed from the posterior it shows, intervals hold
// the posterior mean, shares sum to 1, and the leader is the highest P(best).

import { describe, expect, it } from 'vitest';
import { zeroCounts } from '../../domain/counting';
import { NO_DELAY } from '../../domain/delay';
import { defineExperiment } from '../../domain/experiment';
import { allocate } from '../../domain/policy';
import type { SendBucketCount } from '../../domain/ports/counter-reader';
import { buildReport } from '../../domain/report';
import { createRandom, sampleBeta } from '../../simulation/random';

const NOW = 1_767_225_600;

function counts(rows: Array<[string, number, number, number]>): SendBucketCount[] {
  return rows.map(([variantId, sends, opens, clicks]) => ({
    ...zeroCounts(),
    bucketStart: NOW - 7200,
    variantId,
    sends,
    opens,
    clicks,
  }));
}

describe('buildReport', () => {
  const experiment = defineExperiment(
    'acme',
    'spring',
    {
      metric: 'clicks',
      min_sends: 50,
      variants: [
        { id: 'a', text: 'A', control: true },
        { id: 'b', text: 'B' },
        { id: 'c', text: 'C' },
      ],
    },
    null,
    NOW - 10_000,
  );
  const data = counts([
    ['a', 1000, 300, 30],
    ['b', 1000, 320, 45],
    ['c', 1000, 310, 36],
  ]);
  const report = buildReport(experiment, data, allocate(experiment, data, NOW, NO_DELAY), NOW, NO_DELAY);

  it('has every key of the contract', () => {
    expect(Object.keys(report)).toEqual(
      expect.arrayContaining([
        'experiment',
        'metric',
        'status',
        'leader',
        'confident',
        'updated_at',
        'variants',
        'series',
      ]),
    );
    for (const v of report.variants) {
      expect(Object.keys(v)).toEqual(
        expect.arrayContaining([
          'id',
          'text',
          'state',
          'control',
          'sends',
          'opens',
          'clicks',
          'open_rate',
          'click_rate',
          'ci_low',
          'ci_high',
          'p_best',
          'expected_loss',
          'allocation',
          'uplift_vs_control',
          'posterior',
        ]),
      );
    }
  });

  it('p_best is what a Monte Carlo over the reported posteriors gives', () => {
    const random = createRandom(11);
    const wins = new Map<string, number>();
    const draws = 200_000;
    for (let i = 0; i < draws; i++) {
      let best = '';
      let bestValue = -1;
      for (const v of report.variants) {
        const x = sampleBeta(random, v.posterior.alpha, v.posterior.beta);
        if (x > bestValue) {
          bestValue = x;
          best = v.id;
        }
      }
      wins.set(best, (wins.get(best) ?? 0) + 1);
    }
    for (const v of report.variants) {
      const p = (wins.get(v.id) ?? 0) / draws;
      const se = Math.sqrt((p * (1 - p)) / draws) + 1e-4;
      expect(Math.abs(v.p_best - p)).toBeLessThan(4 * se);
    }
  });

  it('intervals contain the posterior mean; p_best and allocation each sum to 1; leader has the top p_best', () => {
    for (const v of report.variants) {
      const mean = v.posterior.alpha / (v.posterior.alpha + v.posterior.beta);
      expect(v.ci_low).toBeLessThan(mean);
      expect(v.ci_high).toBeGreaterThan(mean);
    }
    expect(report.variants.reduce((s, v) => s + v.p_best, 0)).toBeCloseTo(1, 9);
    expect(report.variants.reduce((s, v) => s + v.allocation, 0)).toBeCloseTo(1, 9);
    const top = [...report.variants].sort((x, y) => y.p_best - x.p_best)[0]!;
    expect(report.leader).toBe(top.id);
    expect(report.leader).toBe('b');
    expect(report.variants.find((v) => v.id === 'a')!.allocation).toBeCloseTo(0.1, 9);
    expect(report.variants.find((v) => v.id === 'b')!.uplift_vs_control).toBeGreaterThan(0.3);
  });

  it('is confident only when P(best) ≥ 0.95 and the expected loss is small', () => {
    expect(report.confident).toBe(false);
    const decisive = counts([
      ['a', 20_000, 0, 400],
      ['b', 20_000, 0, 700],
      ['c', 20_000, 0, 420],
    ]);
    const strong = buildReport(
      experiment,
      decisive,
      allocate(experiment, decisive, NOW, NO_DELAY),
      NOW,
      NO_DELAY,
    );
    expect(strong.leader).toBe('b');
    expect(strong.confident).toBe(true);
  });

  it('keeps retired variants, with no traffic and no part of p_best', () => {
    const updated = defineExperiment(
      'acme',
      'spring',
      {
        variants: [
          { id: 'a', text: 'A' },
          { id: 'b', text: 'B' },
        ],
      },
      experiment,
      NOW,
    );
    const r = buildReport(updated, data, allocate(updated, data, NOW, NO_DELAY), NOW, NO_DELAY);
    const retired = r.variants.find((v) => v.id === 'c')!;
    expect(retired).toMatchObject({ state: 'retired', p_best: 0, allocation: 0, sends: 1000 });
    expect(r.variants.reduce((s, v) => s + v.p_best, 0)).toBeCloseTo(1, 9);
  });
});
