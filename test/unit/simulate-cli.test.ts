// `weft simulate`'s flags: the user's own list, checked with an error that names the flag and says why.
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { formatScenario, parseSimulateFlags, registerSimulate, simulate } from '../../cli/simulate';
import { DEFAULT_AUDIENCE, SCENARIOS, type Scenario } from '../../simulation/scenarios';

const MINUTE = 60;

describe('parseSimulateFlags', () => {
  it('runs every scenario with its own list by default', () => {
    const run = parseSimulateFlags({ workers: '1' });
    expect(run.options.scenarios).toEqual(SCENARIOS);
    expect(run.options.seeds).toBe(20);
    expect(run.options.tuning).toBeUndefined();
    expect(run.options.policies).toBeUndefined();
    expect(run.workers).toBe(1);
  });

  it('runs the policies asked for, and always the equal split every loss is a % of', () => {
    expect(parseSimulateFlags({ policies: 'weft' }).options.policies).toEqual(['weft', 'uniform']);
    expect(parseSimulateFlags({ policies: 'delay-bound, weft,uniform' }).options.policies).toEqual([
      'weft',
      'delay-bound',
      'uniform',
    ]);
  });

  it('applies the user’s list to every scenario', () => {
    const run = parseSimulateFlags({
      delayMedian: '90',
      flush: '10-45',
      beaconShare: '0.25',
      scenario: 'broadcast-6h-10, realtime-1h-10',
      seeds: '3',
      refreshSeconds: '120',
      shareExponent: '2.5',
    });
    expect(run.options.scenarios!.map((s) => s.name)).toEqual(['broadcast-6h-10', 'realtime-1h-10']);
    for (const s of run.options.scenarios!) {
      expect(s.audience.delay.medianSeconds).toBe(90 * MINUTE);
      expect(s.audience.flush).toEqual({ minSeconds: 10 * MINUTE, maxSeconds: 45 * MINUTE });
      expect(s.audience.beaconShare).toBe(0.25);
    }
    expect(run.options.seeds).toBe(3);
    expect(run.options.tuning).toEqual({ options: { refresh_seconds: 120, share_exponent: 2.5 } });
    expect(parseSimulateFlags({}).options.tuning).toBeUndefined();
    expect(parseSimulateFlags({ flush: '0' }).overrides.flush).toEqual({ minSeconds: 0, maxSeconds: 0 });
  });

  it.each([
    [{ delayMedian: '0' }, /^--delay-median must be a number of minutes above 0 .*got "0"$/],
    [{ delayMedian: 'soon' }, /^--delay-median .*got "soon"$/],
    [{ delayMedian: '20000' }, /^--delay-median .*at most 10080/],
    [{ flush: '30-5' }, /^--flush must be minutes .*MIN ≤ MAX; got "30-5"$/],
    [{ flush: '-5' }, /^--flush .*got "-5"$/],
    [{ flush: '5-2000' }, /^--flush .*0 to 1440/],
    [{ beaconShare: '1.5' }, /^--beacon-share must be a share from 0 to 1 .*got "1.5"$/],
    [{ beaconShare: '50%' }, /^--beacon-share .*got "50%"$/],
    [{ beaconShare: '' }, /^--beacon-share .*got ""$/],
    [{ seeds: '2.5' }, /^--seeds must be a whole number from 1 to 10000 .*got "2.5"$/],
    [{ seeds: '0x10' }, /^--seeds .*got "0x10"$/],
    [{ refreshSeconds: '0' }, /^--refresh-seconds must be a whole number from 1 to 300 .*got "0"$/],
    [{ shareExponent: '0.5' }, /^--share-exponent must be a number from 1 to 4 .*got "0.5"$/],
    [{ shareExponent: 'sharp' }, /^--share-exponent .*got "sharp"$/],
    [{ workers: '0' }, /^--workers must be a whole number from 1 to 64/],
    [{ scenario: 'broadcast-6h-10,nope' }, /^--scenario must name scenarios, .*got "nope"$/],
    [{ policies: 'weft,thompson' }, /^--policies must name policies, .*got "thompson"$/],
    [{ policies: '' }, /^--policies .*got ""$/],
  ])('refuses %o, naming the flag and why', (flags, message) => {
    expect(() => parseSimulateFlags(flags)).toThrow(message);
  });
});

describe('the simulate command', () => {
  it('reports a bad flag before simulating anything', async () => {
    const program = new Command().exitOverride();
    registerSimulate(program);
    await expect(program.parseAsync(['node', 'weft', 'simulate', '--beacon-share', '2'])).rejects.toThrow(
      /--beacon-share/,
    );
  });

  it('prints the mean and the worst seed of every policy', async () => {
    const tiny: Scenario = {
      name: 'tiny',
      description: '5k recipients over 30 min',
      metric: 'clicks',
      recipients: 5_000,
      spreadHours: 0.5,
      rates: [0.02, 0.05],
      refreshSeconds: 60,
      audience: DEFAULT_AUDIENCE,
    };
    const result = await simulate({ scenarios: [tiny], seeds: 2 }, 1);
    const text = formatScenario(result.scenarios[0]!);
    expect(text).toContain('tiny: 5k recipients over 30 min [clicks, refresh 60 s]');
    expect(text).toMatch(/mean %\s+± se\s+worst %/);
    for (const policy of [
      'weft',
      'naive-ts',
      'twice-daily',
      'ab-then-winner',
      'delay-bound',
      'uniform',
      'oracle',
    ])
      expect(text).toMatch(new RegExp(`\\n  ${policy}\\s+\\d`));
  });
});
