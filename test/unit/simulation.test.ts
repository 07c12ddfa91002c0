// The simulator: deterministic per seed, and the real policy beats an equal split on a small campaign.
import { describe, expect, it } from 'vitest';
import { runCampaign } from '../../simulation/campaign';
import { SCENARIOS, type Scenario } from '../../simulation/scenarios';
import { runSimulation } from '../../simulation/simulate';

const SMALL: Scenario = {
  name: 'small',
  description: '30k recipients over 6 h, 3 variants',
  recipients: 30_000,
  spreadHours: 6,
  rates: [0.02, 0.035, 0.05],
  tickSeconds: 600,
};

describe('runCampaign', () => {
  it('is deterministic per seed', () => {
    expect(runCampaign(SMALL, 'weft', 42)).toEqual(runCampaign(SMALL, 'weft', 42));
    expect(runCampaign(SMALL, 'weft', 42)).not.toEqual(runCampaign(SMALL, 'weft', 43));
  });

  it('sends every recipient and loses nothing under the oracle', () => {
    const oracle = runCampaign(SMALL, 'oracle', 1);
    expect(oracle.lostClicks).toBeCloseTo(0, 9);
    expect(oracle.bestClicks).toBeCloseTo(30_000 * 0.05, 6);
    const uniform = runCampaign(SMALL, 'uniform', 1);
    expect(uniform.lostClicks).toBeGreaterThan(30_000 * 0.01);
  });
});

describe('ab-then-winner', () => {
  it('splits the first 10% equally, then sends everything else to one variant picked once', () => {
    const shares: number[][] = [];
    runCampaign(SMALL, 'ab-then-winner', 5, undefined, { trace: (_, s) => shares.push([...s]) });
    const testTicks = Math.ceil(0.1 * shares.length);
    for (const s of shares.slice(0, testTicks)) expect(s).toEqual([1 / 3, 1 / 3, 1 / 3]);
    const after = shares.slice(testTicks);
    const winner = after[0]!.indexOf(1);
    expect(winner).toBeGreaterThanOrEqual(0);
    for (const s of after) expect(s.indexOf(1)).toBe(winner);
  });
});

describe('runSimulation', () => {
  it('shows weft losing far fewer clicks than uniform, and reports per scenario', () => {
    const done: number[] = [];
    const result = runSimulation({
      scenarios: [SMALL],
      policies: ['weft', 'naive-ts', 'uniform', 'oracle'],
      seeds: 3,
      onProgress: (count) => done.push(count),
    });
    expect(done).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(result.scenarios).toHaveLength(1);
    const pct = Object.fromEntries(result.policies.map((p) => [p.name, p.lost_clicks_pct_of_uniform]));
    expect(pct.uniform).toBeCloseTo(100, 9);
    expect(pct.oracle).toBeCloseTo(0, 9);
    expect(pct.weft).toBeLessThan(60);
    expect(runSimulation({ scenarios: [SMALL], policies: ['weft', 'uniform'], seeds: 2 })).toEqual(
      runSimulation({ scenarios: [SMALL], policies: ['weft', 'uniform'], seeds: 2 }),
    );
  });

  it('has the scenarios the issue asks for', () => {
    const names = SCENARIOS.map((s) => s.name);
    expect(names).toContain('broadcast-6h-10');
    expect(SCENARIOS.map((s) => s.spreadHours)).toEqual(expect.arrayContaining([1, 6, 24]));
    expect(SCENARIOS.some((s) => s.ratesAfterSwitch)).toBe(true);
  });
});
