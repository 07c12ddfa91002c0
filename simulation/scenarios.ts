// What `weft simulate` compares: the policies, the campaigns they run (scenarios), and the tenant's true click
// delay, a little faster than weft's default so that learning it matters.
import type { DelayShape } from '../domain/delay';

export type PolicyName = 'weft' | 'naive-ts' | 'twice-daily' | 'ab-then-winner' | 'uniform' | 'oracle';

export const POLICIES: readonly PolicyName[] = [
  'weft',
  'naive-ts',
  'twice-daily',
  'ab-then-winner',
  'uniform',
  'oracle',
];

export const POLICY_DESCRIPTIONS: Readonly<Record<PolicyName, string>> = {
  weft: 'delay-aware Thompson sampling, learned delay model, refreshed every tick',
  'naive-ts': 'Thompson sampling without delay correction (fresh sends count as failures)',
  'twice-daily': 'delay-aware Thompson sampling, reweighted every 12 h',
  'ab-then-winner':
    'equal split for the first 10% of recipients, then all the rest to the leader on clicks arrived by then',
  uniform: 'equal split throughout',
  oracle: 'always the true best variant',
};

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly recipients: number;
  /** Sends are spread evenly over this many hours. */
  readonly spreadHours: number;
  /** True click rates per variant. */
  readonly rates: readonly number[];
  /** True click rates from half-way through (a drifting, always-on campaign). */
  readonly ratesAfterSwitch?: readonly number[];
  /** Evidence half-life for the bandit policies (always-on campaigns). */
  readonly halfLifeHours?: number;
  /** Simulated time step, seconds: the allocation refresh of `weft` and the send aggregation. */
  readonly tickSeconds: number;
}

/** The tenant's true click delay in the simulation: a little faster than weft's default, so learning matters. */
export const SIMULATED_CLICK_SHAPE: DelayShape = {
  medianSeconds: 40 * 60,
  sigma: 1.4,
  flushMinSeconds: 5 * 60,
  flushMaxSeconds: 30 * 60,
};

function spread(count: number, low: number, high: number): number[] {
  return Array.from({ length: count }, (_, i) => low + ((high - low) * i) / (count - 1));
}

const TEN_RATES = spread(10, 0.01, 0.05);

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'broadcast-6h-10',
    description: '1M recipients over 6 h, 10 variants at 1–5% (default)',
    recipients: 1_000_000,
    spreadHours: 6,
    rates: TEN_RATES,
    tickSeconds: 300,
  },
  {
    name: 'broadcast-1h-10',
    description: '1M recipients over 1 h, 10 variants at 1–5%',
    recipients: 1_000_000,
    spreadHours: 1,
    rates: TEN_RATES,
    tickSeconds: 60,
  },
  {
    name: 'broadcast-24h-10',
    description: '1M recipients over 24 h, 10 variants at 1–5%',
    recipients: 1_000_000,
    spreadHours: 24,
    rates: TEN_RATES,
    tickSeconds: 300,
  },
  {
    name: 'broadcast-6h-3',
    description: '1M recipients over 6 h, 3 variants at 1%, 3%, 5%',
    recipients: 1_000_000,
    spreadHours: 6,
    rates: [0.01, 0.03, 0.05],
    tickSeconds: 300,
  },
  {
    name: 'close-6h-5',
    description: '1M recipients over 6 h, 5 close variants at 2.6–3.0%',
    recipients: 1_000_000,
    spreadHours: 6,
    rates: [0.026, 0.027, 0.028, 0.029, 0.03],
    tickSeconds: 300,
  },
  {
    name: 'always-on-switch',
    description: '20k sends a day for 14 days, 5 variants at 2–4%, best variant changes half-way',
    recipients: 280_000,
    spreadHours: 14 * 24,
    rates: [0.04, 0.035, 0.03, 0.025, 0.02],
    ratesAfterSwitch: [0.02, 0.025, 0.03, 0.035, 0.04],
    halfLifeHours: 48,
    tickSeconds: 900,
  },
];

export const DEFAULT_SCENARIO = 'broadcast-6h-10';
