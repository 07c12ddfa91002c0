// The simulator: deterministic per seed, every policy does what it says, the scenarios the issue asks for, and
// on a small fast campaign the policies come out in the order the product promises.
import { describe, expect, it } from 'vitest';
import { DEFAULT_OPTIONS } from '../../domain/experiment';
import { runCampaign, sampleVisibility } from '../../simulation/campaign';
import { createRandom } from '../../simulation/random';
import {
  DEFAULT_AUDIENCE,
  SCENARIOS,
  type Scenario,
  SIMULATED_REFRESH_SECONDS,
  withAudience,
} from '../../simulation/scenarios';
import { campaignJobs, runSimulation, standardError } from '../../simulation/simulate';

const MINUTE = 60;

// Prepare: 40k recipients over 2 h, 4 variants, refreshed every minute: a few hundred refreshes per campaign.
const SMALL: Scenario = {
  name: 'small',
  description: '40k recipients over 2 h, 4 variants, every click by the beacon',
  metric: 'clicks',
  recipients: 40_000,
  spreadHours: 2,
  rates: [0.02, 0.03, 0.04, 0.06],
  refreshSeconds: 60,
  audience: { ...DEFAULT_AUDIENCE, beaconShare: 1 },
};

const byName = (name: string) => SCENARIOS.find((s) => s.name === name)!;

describe('runCampaign', () => {
  it('is deterministic per seed', async () => {
    expect(await runCampaign(SMALL, 'weft', 42)).toEqual(await runCampaign(SMALL, 'weft', 42));
    expect(await runCampaign(SMALL, 'weft', 42)).not.toEqual(await runCampaign(SMALL, 'weft', 43));
  });

  it('sends every recipient and loses nothing under the oracle', async () => {
    const oracle = await runCampaign(SMALL, 'oracle', 1);
    expect(oracle.lostRewards).toBeCloseTo(0, 9);
    expect(oracle.bestRewards).toBeCloseTo(40_000 * 0.06, 6);
    const uniform = await runCampaign(SMALL, 'uniform', 1);
    expect(uniform.lostRewards).toBeCloseTo(40_000 * (0.06 - 0.0375), -1);
  });

  it('refreshes at the experiment’s refresh_seconds: the scenario’s, else the product default but once a minute at most', async () => {
    const times: number[] = [];
    const { refreshSeconds: _, ...withDefault } = SMALL;
    await runCampaign({ ...withDefault, spreadHours: 0.5 }, 'uniform', 1, {
      trace: (now) => times.push(now),
    });
    expect(SIMULATED_REFRESH_SECONDS).toBe(Math.max(60, DEFAULT_OPTIONS.refresh_seconds));
    expect(times[1]! - times[0]!).toBe(SIMULATED_REFRESH_SECONDS);
    const own: number[] = [];
    await runCampaign({ ...SMALL, refreshSeconds: 300 }, 'uniform', 1, { trace: (now) => own.push(now) });
    expect(own).toHaveLength(24);
    const asked: number[] = [];
    await runCampaign(SMALL, 'uniform', 1, {
      options: { refresh_seconds: 5 },
      trace: (now) => asked.push(now),
    });
    expect(asked[1]).toBe(5);
  });
});

describe('the policies', () => {
  it('ab-then-winner splits the first 10% equally, then sends everything else to one variant picked once', async () => {
    const shares: number[][] = [];
    await runCampaign(SMALL, 'ab-then-winner', 5, { trace: (_, s) => shares.push([...s]) });
    const testSteps = Math.ceil(0.1 * shares.length);
    for (const s of shares.slice(0, testSteps)) expect(s).toEqual([0.25, 0.25, 0.25, 0.25]);
    const winner = shares[testSteps]!.indexOf(1);
    expect(winner).toBeGreaterThanOrEqual(0);
    for (const s of shares.slice(testSteps)) expect(s.indexOf(1)).toBe(winner);
  });

  it('delay-bound splits equally until the first reward is visible, then sends all to the true best', async () => {
    // Currents only, at least 20 minutes: nothing can be visible in the first 20 refreshes.
    const slow = withAudience(SMALL, {
      beaconShare: 0,
      flush: { minSeconds: 20 * MINUTE, maxSeconds: 30 * MINUTE },
    });
    const shares: number[][] = [];
    await runCampaign(slow, 'delay-bound', 3, { trace: (_, s) => shares.push([...s]) });
    for (const s of shares.slice(0, 20)) expect(s).toEqual([0.25, 0.25, 0.25, 0.25]);
    const switched = shares.findIndex((s) => s[3] === 1);
    expect(switched).toBeGreaterThan(20);
    expect(switched).toBeLessThan(40);
    for (const s of shares.slice(switched)) expect(s).toEqual([0, 0, 0, 1]);
  });

  it('weft learns nothing when every recipient is behind Privacy Protection: machine opens are no opens', async () => {
    const hidden: Scenario = {
      ...SMALL,
      metric: 'opens',
      rates: [0.1, 0.2, 0.3, 0.4],
      audience: { ...DEFAULT_AUDIENCE, privacyShare: 1 },
    };
    const shares: number[][] = [];
    const weft = await runCampaign(hidden, 'weft', 2, { trace: (_, s) => shares.push([...s]) });
    for (const s of shares) expect(s).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(weft.lostRewards).toBeCloseTo((await runCampaign(hidden, 'uniform', 2)).lostRewards, -2);
  });
});

describe('visibility', () => {
  const random = createRandom(9);
  const draws = (n: number, f: () => { delay: number; beacon: boolean }) => Array.from({ length: n }, f);

  it('is the click itself for the beacon, the click plus the Currents flush otherwise', () => {
    const beacon = draws(2000, () =>
      sampleVisibility(random, 'clicks', { ...DEFAULT_AUDIENCE, beaconShare: 1 }),
    );
    expect(beacon.every((d) => d.beacon)).toBe(true);
    expect(beacon.some((d) => d.delay < 5 * MINUTE)).toBe(true);
    const currents = draws(2000, () => sampleVisibility(random, 'clicks', DEFAULT_AUDIENCE));
    expect(currents.every((d) => !d.beacon && d.delay >= 5 * MINUTE)).toBe(true);
    const half = draws(4000, () =>
      sampleVisibility(random, 'clicks', { ...DEFAULT_AUDIENCE, beaconShare: 0.5 }),
    );
    expect(half.filter((d) => d.beacon).length / 4000).toBeCloseTo(0.5, 1);
  });

  it('comes in real time for conversions, after the click and the checkout', () => {
    const conversions = draws(4000, () => sampleVisibility(random, 'conversions', DEFAULT_AUDIENCE));
    const clicks = draws(4000, () =>
      sampleVisibility(random, 'clicks', { ...DEFAULT_AUDIENCE, beaconShare: 1 }),
    );
    const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
    expect(conversions.every((d) => d.beacon)).toBe(true);
    expect(median(conversions.map((d) => d.delay))).toBeGreaterThan(median(clicks.map((d) => d.delay)));
  });
});

describe('scenarios', () => {
  it('has the scenarios the issue asks for', () => {
    for (const spread of [1, 6, 24]) {
      const currents = SCENARIOS.find((s) => s.spreadHours === spread && s.audience.beaconShare === 0);
      const realtime = SCENARIOS.find((s) => s.spreadHours === spread && s.audience.beaconShare === 1);
      expect(currents?.rates).toHaveLength(10);
      expect(realtime?.rates).toHaveLength(10);
    }
    expect(SCENARIOS.some((s) => s.audience.beaconShare === 0.5)).toBe(true);
    expect(SCENARIOS.some((s) => s.metric === 'conversions')).toBe(true);
    expect(SCENARIOS.some((s) => s.ratesAfterSwitch)).toBe(true);
    const privacy = byName('opens-privacy-6h-10');
    const twin = byName('opens-6h-10');
    expect(privacy.audience.privacyShare).toBe(0.5);
    expect({
      ...privacy,
      name: '',
      description: '',
      audience: { ...privacy.audience, privacyShare: 0 },
    }).toEqual({
      ...twin,
      name: '',
      description: '',
    });
  });

  it('takes the user’s own list where it applies', () => {
    const mine = withAudience(byName('broadcast-6h-10'), {
      delayMedianSeconds: 90 * MINUTE,
      flush: { minSeconds: 0, maxSeconds: 0 },
      beaconShare: 0.25,
    });
    expect(mine.audience.delay.medianSeconds).toBe(90 * MINUTE);
    expect(mine.audience.flush).toEqual({ minSeconds: 0, maxSeconds: 0 });
    expect(mine.audience.beaconShare).toBe(0.25);
    expect(mine.description).toMatch(/; with your list$/);
    expect(withAudience(byName('broadcast-6h-10'), {})).toEqual(byName('broadcast-6h-10'));
  });
});

describe('standardError', () => {
  it('is the sample standard deviation over √n', () => {
    // mean 5, squared deviations 9 + 1 + 1 + 9 = 20, sample variance 20 / 3, over n = 4.
    expect(standardError([2, 4, 6, 8])).toBeCloseTo(Math.sqrt(20 / 3 / 4), 12);
    expect(standardError([7, 7, 7])).toBe(0);
    expect(standardError([3])).toBe(0);
  });
});

describe('runSimulation', () => {
  it('reports the mean and the worst seed per scenario and policy, deterministically', async () => {
    const done: number[] = [];
    const options = { scenarios: [SMALL], policies: ['weft', 'uniform', 'oracle'] as const, seeds: 3 };
    const result = await runSimulation(options, (count) => done.push(count));
    expect(done).toEqual(Array.from({ length: 9 }, (_, i) => i + 1));
    expect(campaignJobs(options)).toHaveLength(9);
    const pct = Object.fromEntries(result.policies.map((p) => [p.name, p]));
    expect(pct.uniform!.lost_pct_of_uniform).toBeCloseTo(100, 9);
    expect(pct.oracle!.lost_pct_of_uniform).toBeCloseTo(0, 9);
    expect(pct.weft!.worst_lost_pct_of_uniform).toBeGreaterThanOrEqual(pct.weft!.lost_pct_of_uniform);
    expect(pct.weft!.best_leader_pct).not.toBeNull();
    expect(pct.uniform!.best_leader_pct).toBeNull();
    // The oracle loses nothing in every seed; the bandit's seeds differ, and their spread shows.
    expect(pct.oracle!.lost_pct_standard_error).toBe(0);
    expect(pct.weft!.lost_pct_standard_error).toBeGreaterThan(0);
    expect(await runSimulation(options)).toEqual(result);
  });

  it('gives a scenario the same figures alone as in a sweep', async () => {
    const tiny = { ...SMALL, name: 'tiny', spreadHours: 0.5 };
    const alone = await runSimulation({ scenarios: [tiny], policies: ['weft', 'uniform'], seeds: 2 });
    const swept = await runSimulation({ scenarios: [SMALL, tiny], policies: ['weft', 'uniform'], seeds: 2 });
    expect(swept.scenarios[1]).toEqual(alone.scenarios[0]);
  });
});

describe('the order the product promises, on a small campaign', () => {
  it('delay-bound < weft < naive-ts, ab-then-winner < uniform; and weft’s place is earned', async () => {
    const seeds = 6;
    const { policies } = await runSimulation({
      scenarios: [SMALL],
      policies: ['weft', 'naive-ts', 'ab-then-winner', 'delay-bound', 'uniform'],
      seeds,
    });
    const lost = Object.fromEntries(policies.map((p) => [p.name, p.lost_pct_of_uniform]));
    expect(lost['delay-bound']).toBeLessThan(lost.weft!);
    expect(lost.weft).toBeLessThan(lost['naive-ts']!);
    expect(lost.weft).toBeLessThan(lost['ab-then-winner']!);
    expect(lost['naive-ts']).toBeLessThan(100);
    // The same assertion fails for a weft that never leaves its burn-in: the order above is not a given.
    const stuck = await runSimulation({
      scenarios: [SMALL],
      policies: ['weft', 'uniform'],
      seeds,
      tuning: { options: { min_sends: 1_000_000 } },
    });
    expect(stuck.policies[0]!.lost_pct_of_uniform).toBeGreaterThan(lost['naive-ts']!);
  }, 60_000);
});
