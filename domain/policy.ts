// The allocation: each active variant's traffic share, from its counters. Beta-Bernoulli Thompson sampling in
// expectation: a variant's share is its probability of being best, computed (not sampled per request).
import type { DelayModel } from './delay';
import { activeVariants, type Experiment } from './experiment';
import type { HourlyCount } from './ports/counter-reader';
import { type BetaParams, probabilityBest } from './stats';
import { HOUR } from './time';

export type AllocationPhase = 'burn_in' | 'learning' | 'settled';

export interface Allocation {
  /** Active variant id -> share; shares sum to 1. */
  readonly shares: ReadonlyMap<string, number>;
  readonly phase: AllocationPhase;
  readonly computedAt: number;
}

export interface VariantEvidence {
  readonly sends: number;
  readonly rewards: number;
  /** The Beta posterior of the variant's rate after delay correction and decay: what the policy uses. */
  readonly posterior: BetaParams;
}

export function rewardsOf(count: HourlyCount, metric: Experiment['metric']): number {
  return metric === 'clicks' ? count.clicks : count.opens;
}

/**
 * Beta(1, 1) prior; each hour's rewarded sends count fully, its unrewarded sends only by the probability that
 * their reward would have arrived by their age; with a half-life, older hours weigh less.
 */
export function evidenceByVariant(
  experiment: Experiment,
  counts: readonly HourlyCount[],
  now: number,
  delay: DelayModel,
): Map<string, VariantEvidence> {
  const evidence = new Map<string, { sends: number; rewards: number; alpha: number; beta: number }>();
  for (const variant of experiment.variants)
    evidence.set(variant.id, { sends: 0, rewards: 0, alpha: 1, beta: 1 });
  const halfLifeSeconds = experiment.options.half_life_hours
    ? experiment.options.half_life_hours * HOUR
    : null;
  for (const count of counts) {
    const entry = evidence.get(count.variantId);
    if (!entry) continue;
    const rewards = Math.min(rewardsOf(count, experiment.metric), count.sends);
    const age = Math.max(0, now - (count.hour + HOUR / 2));
    const weight = halfLifeSeconds ? 0.5 ** (age / halfLifeSeconds) : 1;
    entry.sends += count.sends;
    entry.rewards += rewards;
    entry.alpha += weight * rewards;
    entry.beta += weight * (count.sends - rewards) * delay.arrivedBy(age);
  }
  return new Map(
    [...evidence].map(([id, e]) => [
      id,
      { sends: e.sends, rewards: e.rewards, posterior: { alpha: e.alpha, beta: e.beta } },
    ]),
  );
}

/** Raises every share below `floor` to it, taking the difference proportionally from the others. */
export function applyFloor(shares: number[], floor: number): number[] {
  if (floor <= 0 || shares.length === 0 || floor * shares.length >= 1) {
    return floor * shares.length >= 1 ? shares.map(() => 1 / shares.length) : shares;
  }
  const pinned = new Set<number>();
  let result = shares;
  for (let round = 0; round < shares.length; round++) {
    const below = result.flatMap((share, i) => (!pinned.has(i) && share < floor ? [i] : []));
    if (below.length === 0) break;
    for (const i of below) pinned.add(i);
    const free = 1 - pinned.size * floor;
    const unpinnedMass = shares.reduce((sum, share, i) => (pinned.has(i) ? sum : sum + share), 0);
    result = shares.map((share, i) =>
      pinned.has(i)
        ? floor
        : unpinnedMass > 0
          ? (share / unpinnedMass) * free
          : free / (shares.length - pinned.size),
    );
  }
  return result;
}

export function allocate(
  experiment: Experiment,
  counts: readonly HourlyCount[],
  now: number,
  delay: DelayModel,
): Allocation {
  const active = activeVariants(experiment);
  const evidence = evidenceByVariant(experiment, counts, now, delay);
  const sendsOf = (id: string) => evidence.get(id)?.sends ?? 0;
  const equal = () => new Map(active.map((v) => [v.id, 1 / active.length]));
  if (active.some((v) => sendsOf(v.id) < experiment.options.min_sends)) {
    return { shares: equal(), phase: 'burn_in', computedAt: now };
  }
  const control = active.find((v) => v.control);
  const contenders = control && active.length > 2 ? active.filter((v) => v !== control) : active;
  const controlShare = control && contenders.length < active.length ? experiment.options.control_share : 0;
  const best = probabilityBest(contenders.map((v) => evidence.get(v.id)!.posterior));
  const floored = applyFloor(best, experiment.options.floor);
  const shares = new Map<string, number>();
  if (control && controlShare > 0) shares.set(control.id, controlShare);
  contenders.forEach((v, i) => {
    shares.set(v.id, (floored[i] ?? 0) * (1 - controlShare));
  });
  const settled = best.some((p) => p >= 0.95);
  return { shares, phase: settled ? 'settled' : 'learning', computedAt: now };
}
