// What a send and each first reward add to an experiment's counters: one rule for every source (pixel, Currents,
// landing beacon), used by both ledger adapters when they count and by reconcile when it recounts.
//
// Per send bucket and variant:
//   sends          recipients assigned
//   opens          first human open (pixel or Currents, whichever comes first)
//   machineOpens   first machine open (Privacy Protection prefetch, scanners): never an open, never a delay
//   machineOnly    recipients with a machine open and no human open (yet): their opens cannot be observed
//   clicks         first click (beacon or Currents, whichever comes first)
//   beaconClicks   first clicks that came by the landing beacon (the rest came by Currents)
//   conversions    first conversion (landing beacon or a server-side event)
//   sendSeconds         Σ (1 + the second of the bucket each send was made in): with the squares, when in its
//   sendSecondsSquared  bucket each variant's sends were made, which the delay correction needs (a variant whose
//                       traffic fell away mid-bucket has older sends than one that gained it). 0: not recorded.
import { SEND_BUCKET_SECONDS, sendBucketOf } from './time';

export const COUNTER_FIELDS = [
  'sends',
  'opens',
  'clicks',
  'machineOpens',
  'machineOnly',
  'beaconClicks',
  'conversions',
  'sendSeconds',
  'sendSecondsSquared',
] as const;
export type CounterField = (typeof COUNTER_FIELDS)[number];
/** The counters that record when sends were made (sendIncrements); every other counter counts recipients. */
export const SEND_TIME_COUNTERS: readonly CounterField[] = ['sendSeconds', 'sendSecondsSquared'];
export const RECIPIENT_COUNTERS: readonly CounterField[] = COUNTER_FIELDS.filter(
  (field) => !SEND_TIME_COUNTERS.includes(field),
);
export type Counts = { [F in CounterField]: number };

export type Metric = 'clicks' | 'opens' | 'conversions';
export const METRICS: readonly Metric[] = ['clicks', 'opens', 'conversions'];

export type RewardKind = 'open' | 'machine_open' | 'click' | 'conversion';
export const REWARD_KINDS: readonly RewardKind[] = ['open', 'machine_open', 'click', 'conversion'];

/** The assignment field holding when the first reward of each kind happened. */
export const FIRST_REWARD_FIELD = {
  open: 'openedAt',
  machine_open: 'machineOpenedAt',
  click: 'clickedAt',
  conversion: 'convertedAt',
} as const satisfies Record<RewardKind, string>;

/** Where a reward was seen: the open pixel, a Braze Currents file, or the landing beacon (or a server-side post). */
export type RewardSource = 'pixel' | 'currents' | 'beacon';

export const zeroCounts = (): Counts => ({
  sends: 0,
  opens: 0,
  clicks: 0,
  machineOpens: 0,
  machineOnly: 0,
  beaconClicks: 0,
  conversions: 0,
  sendSeconds: 0,
  sendSecondsSquared: 0,
});

/** What one send made at `sentAt` adds: one recipient, and when in its send bucket it was made. */
export function sendIncrements(sentAt: number): Partial<Counts> {
  const second =
    1 + Math.max(0, Math.min(SEND_BUCKET_SECONDS - 1, Math.floor(sentAt - sendBucketOf(sentAt))));
  return { sends: 1, sendSeconds: second, sendSecondsSquared: second * second };
}

/**
 * When in their bucket a count's sends were made, as seconds from the bucket's start: the mean and the standard
 * deviation (each send taken at the middle of its second). Null when not recorded (counted before weft
 * recorded send times).
 */
export function sendTimesOf(count: Counts): { mean: number; deviation: number } | null {
  if (!(count.sends > 0) || !(count.sendSeconds > 0)) return null;
  const mean = count.sendSeconds / count.sends;
  const variance = count.sendSecondsSquared / count.sends - mean * mean + 1 / 12;
  return { mean: mean - 0.5, deviation: Math.sqrt(Math.max(0, variance)) };
}

export function addCounts(into: Counts, more: Partial<Counts>, factor = 1): Counts {
  for (const field of COUNTER_FIELDS) into[field] += (more[field] ?? 0) * factor;
  return into;
}

/** What the assignment holds that changes what a reward adds: an open and a machine open affect each other. */
export interface RewardState {
  readonly opened: boolean;
  readonly machineOpened: boolean;
}

/**
 * The counters a first reward of `kind` adds. A human open after a machine open takes the recipient out of
 * `machineOnly`; a machine open after a human open adds to `machineOpens` only.
 */
export function rewardIncrements(
  kind: RewardKind,
  source: RewardSource,
  state: RewardState,
): Partial<Counts> {
  switch (kind) {
    case 'open':
      return state.machineOpened ? { opens: 1, machineOnly: -1 } : { opens: 1 };
    case 'machine_open':
      return state.opened ? { machineOpens: 1 } : { machineOpens: 1, machineOnly: 1 };
    case 'click':
      return source === 'beacon' ? { clicks: 1, beaconClicks: 1 } : { clicks: 1 };
    case 'conversion':
      return { conversions: 1 };
  }
}

/** Which part of the state a reward's increments depend on (what its write must check), if any. */
export function stateReadBy(kind: RewardKind): keyof RewardState | null {
  return kind === 'open' ? 'machineOpened' : kind === 'machine_open' ? 'opened' : null;
}

/** Machine opens are not a human signal: they never teach the delay model. */
export const feedsDelayModel = (kind: RewardKind): boolean => kind !== 'machine_open';

/** What reconcile recounts from one assignment: the same rule, from the stored first-reward times. */
export function countsOfAssignment(a: {
  readonly sentAt: number;
  readonly openedAt: number | null;
  readonly machineOpenedAt: number | null;
  readonly clickedAt: number | null;
  readonly clickSource: RewardSource | null;
  readonly convertedAt: number | null;
}): Counts {
  return {
    ...zeroCounts(),
    ...sendIncrements(a.sentAt),
    opens: a.openedAt !== null ? 1 : 0,
    clicks: a.clickedAt !== null ? 1 : 0,
    machineOpens: a.machineOpenedAt !== null ? 1 : 0,
    machineOnly: a.machineOpenedAt !== null && a.openedAt === null ? 1 : 0,
    beaconClicks: a.clickedAt !== null && a.clickSource === 'beacon' ? 1 : 0,
    conversions: a.convertedAt !== null ? 1 : 0,
  };
}

/** The reward kind an experiment's metric learns from. */
export function rewardKindOf(metric: Metric): RewardKind {
  return metric === 'clicks' ? 'click' : metric === 'opens' ? 'open' : 'conversion';
}

/** The rewards an experiment learns from in one count. */
export function rewardsOf(count: Counts, metric: Metric): number {
  return metric === 'clicks' ? count.clicks : metric === 'opens' ? count.opens : count.conversions;
}

/**
 * The sends whose reward could be seen at all: for opens, recipients whose only open was a machine's (mail
 * prefetched by Apple's Privacy Protection, whose real opens are served from Apple's cache) are left out.
 */
export function observableSendsOf(count: Counts, metric: Metric): number {
  return metric === 'opens' ? Math.max(0, count.sends - count.machineOnly) : count.sends;
}
