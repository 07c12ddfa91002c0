// What `weft simulate` compares: the policies, and the campaigns they run (scenarios): who gets which true rate,
// how long people take to open, click or buy, and how each reward reaches weft (pixel, landing beacon, Currents).
import type { Metric } from '../domain/counting';
import { DEFAULT_OPTIONS } from '../domain/experiment';

export type PolicyName =
  | 'weft'
  | 'naive-ts'
  | 'twice-daily'
  | 'ab-then-winner'
  | 'delay-bound'
  | 'uniform'
  | 'oracle';

export const POLICIES: readonly PolicyName[] = [
  'weft',
  'naive-ts',
  'twice-daily',
  'ab-then-winner',
  'delay-bound',
  'uniform',
  'oracle',
];

export const POLICY_DESCRIPTIONS: Readonly<Record<PolicyName, string>> = {
  weft: 'the product: the shared snapshot recomputed every refresh by the real recompute, learned visibility delay',
  'naive-ts': 'Thompson sampling without delay correction (fresh sends count as failures), every refresh',
  'twice-daily': 'delay-aware Thompson sampling (default delay), reweighted every 12 h',
  'ab-then-winner':
    'equal split for the first 10% of recipients, then all the rest to the leader on rewards seen by then',
  'delay-bound':
    'reference: equal split until the first reward is visible, then the true best (no policy without prior knowledge loses less in expectation)',
  uniform: 'equal split throughout',
  oracle: 'always the true best variant',
};

/** A log-normal delay: half of the people act within `medianSeconds`. */
export interface LogNormalDelay {
  readonly medianSeconds: number;
  /** Standard deviation of the log of the delay. */
  readonly sigma: number;
}

/** A uniform delay in [minSeconds, maxSeconds]. */
export interface UniformDelay {
  readonly minSeconds: number;
  readonly maxSeconds: number;
}

/** How the list behaves and how its rewards reach weft; one set per scenario, overridable from the CLI. */
export interface Audience {
  /** Send to the person's open (opens) or click (clicks, conversions). */
  readonly delay: LogNormalDelay;
  /** Click to conversion (checkout); conversions are reported in real time by the beacon or the server. */
  readonly checkout: LogNormalDelay;
  /** Clicks not reported by the beacon reach weft in a Currents file this long after they happened. */
  readonly flush: UniformDelay;
  /** Share of clicks the landing-page beacon reports within seconds (the rest come only by Currents). */
  readonly beaconShare: number;
  /**
   * Share of recipients behind Apple Mail Privacy Protection: their mail is prefetched at delivery (a machine
   * open, whatever the variant) and their real opens are never seen.
   */
  readonly privacyShare: number;
  /** Send to the prefetch of Privacy Protection (delivery). */
  readonly prefetch: UniformDelay;
}

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly metric: Metric;
  readonly recipients: number;
  /** Sends are spread evenly over this many hours. */
  readonly spreadHours: number;
  /** True rates of the metric per variant (for opens: of every recipient, seen or not). */
  readonly rates: readonly number[];
  /** True rates from half-way through (a drifting, always-on campaign). */
  readonly ratesAfterSwitch?: readonly number[];
  /** Evidence half-life for the bandit policies (always-on campaigns). */
  readonly halfLifeHours?: number;
  /** The experiment's refresh_seconds when not SIMULATED_REFRESH_SECONDS (a low-volume always-on experiment). */
  readonly refreshSeconds?: number;
  readonly audience: Audience;
}

const MINUTE = 60;

/**
 * The refresh the scenarios' experiments use unless they say otherwise: the product's default refresh_seconds,
 * but no faster than once a minute, so that the default run stays within about two minutes on two cores. At the
 * product's own 5 s weft loses less (`--refresh-seconds 5`; README).
 */
export const SIMULATED_REFRESH_SECONDS = Math.max(DEFAULT_OPTIONS.refresh_seconds, MINUTE);

/** The list the figures are about: clicks half within 40 minutes, a tail of days; Currents 5–30 min. */
export const DEFAULT_AUDIENCE: Audience = {
  delay: { medianSeconds: 40 * MINUTE, sigma: 1.4 },
  checkout: { medianSeconds: 10 * MINUTE, sigma: 1 },
  flush: { minSeconds: 5 * MINUTE, maxSeconds: 30 * MINUTE },
  beaconShare: 0,
  privacyShare: 0,
  prefetch: { minSeconds: 5, maxSeconds: 2 * MINUTE },
};

/** Opens: half within half an hour of the send, seen by the pixel as they happen. */
const OPENS_AUDIENCE: Audience = { ...DEFAULT_AUDIENCE, delay: { medianSeconds: 30 * MINUTE, sigma: 1.5 } };

function spread(count: number, low: number, high: number): number[] {
  return Array.from({ length: count }, (_, i) => low + ((high - low) * i) / (count - 1));
}

const TEN_CLICK_RATES = spread(10, 0.01, 0.05);
const TEN_CONVERSION_RATES = spread(10, 0.002, 0.01);
const TEN_OPEN_RATES = spread(10, 0.15, 0.25);
const MILLION = 1_000_000;

function clicks(
  name: string,
  description: string,
  spreadHours: number,
  rates: readonly number[],
  beaconShare: number,
): Scenario {
  return {
    name,
    description,
    metric: 'clicks',
    recipients: MILLION,
    spreadHours,
    rates,
    audience: { ...DEFAULT_AUDIENCE, beaconShare },
  };
}

export const SCENARIOS: readonly Scenario[] = [
  clicks(
    'broadcast-6h-10',
    '1M over 6 h, 10 variants at 1–5% clicks, Currents only (default)',
    6,
    TEN_CLICK_RATES,
    0,
  ),
  clicks('broadcast-1h-10', '1M over 1 h, 10 variants at 1–5%, Currents only', 1, TEN_CLICK_RATES, 0),
  clicks('broadcast-24h-10', '1M over 24 h, 10 variants at 1–5%, Currents only', 24, TEN_CLICK_RATES, 0),
  clicks(
    'realtime-6h-10',
    '1M over 6 h, 10 variants at 1–5%, every click by the beacon',
    6,
    TEN_CLICK_RATES,
    1,
  ),
  clicks(
    'realtime-1h-10',
    '1M over 1 h, 10 variants at 1–5%, every click by the beacon',
    1,
    TEN_CLICK_RATES,
    1,
  ),
  clicks(
    'realtime-24h-10',
    '1M over 24 h, 10 variants at 1–5%, every click by the beacon',
    24,
    TEN_CLICK_RATES,
    1,
  ),
  clicks(
    'half-beacon-6h-10',
    '1M over 6 h, 10 variants at 1–5%, half the clicks by the beacon',
    6,
    TEN_CLICK_RATES,
    0.5,
  ),
  clicks('broadcast-6h-3', '1M over 6 h, 3 variants at 1%, 3%, 5%, Currents only', 6, [0.01, 0.03, 0.05], 0),
  clicks(
    'close-6h-5',
    '1M over 6 h, 5 close variants at 2.6–3.0%, Currents only',
    6,
    [0.026, 0.027, 0.028, 0.029, 0.03],
    0,
  ),
  {
    name: 'conversions-6h-10',
    description: '1M over 6 h, 10 variants at 0.2–1% conversions (beacon or server, ~10 min after the click)',
    metric: 'conversions',
    recipients: MILLION,
    spreadHours: 6,
    rates: TEN_CONVERSION_RATES,
    audience: DEFAULT_AUDIENCE,
  },
  {
    name: 'opens-6h-10',
    description: '1M over 6 h, 10 variants at 15–25% opens, no Privacy Protection',
    metric: 'opens',
    recipients: MILLION,
    spreadHours: 6,
    rates: TEN_OPEN_RATES,
    audience: OPENS_AUDIENCE,
  },
  {
    name: 'opens-privacy-6h-10',
    description:
      'the same with half the list behind Apple Mail Privacy Protection (prefetched, opens unseen)',
    metric: 'opens',
    recipients: MILLION,
    spreadHours: 6,
    rates: TEN_OPEN_RATES,
    audience: { ...OPENS_AUDIENCE, privacyShare: 0.5 },
  },
  {
    name: 'always-on-switch',
    description:
      '20k sends a day for 7 days, 5 variants at 2–4% clicks, best changes half-way (refresh 300 s)',
    metric: 'clicks',
    recipients: 140_000,
    spreadHours: 7 * 24,
    rates: [0.04, 0.035, 0.03, 0.025, 0.02],
    ratesAfterSwitch: [0.02, 0.025, 0.03, 0.035, 0.04],
    halfLifeHours: 48,
    // A low-volume always-on experiment raises its refresh (README): 20k a day is one send every 4 s.
    refreshSeconds: 300,
    audience: DEFAULT_AUDIENCE,
  },
];

export const DEFAULT_SCENARIO = 'broadcast-6h-10';

/** What the user says about their own list (CLI flags); absent fields keep each scenario's own. */
export interface AudienceOverrides {
  readonly delayMedianSeconds?: number;
  readonly flush?: UniformDelay;
  readonly beaconShare?: number;
}

/** The scenario with the user's own list (its description says so when anything changed). */
export function withAudience(scenario: Scenario, overrides: AudienceOverrides): Scenario {
  const a = scenario.audience;
  const audience: Audience = {
    ...a,
    delay:
      overrides.delayMedianSeconds === undefined
        ? a.delay
        : { ...a.delay, medianSeconds: overrides.delayMedianSeconds },
    flush: overrides.flush ?? a.flush,
    beaconShare: overrides.beaconShare ?? a.beaconShare,
  };
  const changed = JSON.stringify(audience) !== JSON.stringify(a);
  return {
    ...scenario,
    description: changed ? `${scenario.description}; with your list` : scenario.description,
    audience,
  };
}
