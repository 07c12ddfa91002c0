// The shared allocation: one container at a time recomputes an experiment's snapshot from the counters and
// publishes it; every container maps a recipient onto the snapshot's shares with a keyed hash, so containers
// holding the same snapshot pick the same variant for the same person, with or without the store.
//
// Recomputing reads only recent send buckets (the last WINDOW_SECONDS). Older buckets are kept summed as
// `SettledCounts` in two tiers, each re-read at its own cadence, so a recompute costs the same at hour 1 and
// hour 24, and rewards that land late in old buckets still count: within RECENT_READ_SECONDS for sends of the
// last two days, within OLD_READ_SECONDS for older ones.
import { createHmac } from 'node:crypto';
import { rewardKindOf } from './counting';
import {
  type DelayModel,
  defaultDelayOf,
  delayModelWithInFlight,
  learnedDelayModel,
  rewardsInFlight,
} from './delay';
import { ConflictError } from './errors';
import { activeVariants, changeStatus, type Experiment, type Variant } from './experiment';
import { allocateFrom, evidenceByVariant, inFlightOf, type SettledEvidence, verdict } from './policy';
import type {
  AllocationSnapshot,
  AllocationStore,
  SettledCounts,
  SettledTier,
} from './ports/allocation-store';
import type { CallOptions } from './ports/assignment-ledger';
import type { CounterReader, SendBucketCount } from './ports/counter-reader';
import type { DelayReader } from './ports/delay-reader';
import type { ExperimentStore } from './ports/experiment-store';
import { HOUR, sendBucketOf } from './time';

/** Recent buckets read on every recompute: an hour covers the sends still collecting most of their rewards. */
export const WINDOW_SECONDS = HOUR;
/** The recent tier: the sends of the two days before the window, still collecting late rewards. */
export const RECENT_TIER_SECONDS = 47 * HOUR;
/** How often the recent tier is read again. */
export const RECENT_READ_SECONDS = 600;
/**
 * How often the tenant's delay histogram is read again: a minute, so a tenant whose rewards come within
 * minutes (landing beacon) is learned within minutes. One read of its shards (DELAY_SHARDS queries).
 */
export const DELAY_READ_SECONDS = 60;
/** How often the whole counter history is read again: its cost grows with the campaign's age, so rarely. */
export const OLD_READ_SECONDS = 3600;
/** A holder that has not published by then (crashed, frozen) lets the next container take over. */
export const LEASE_SECONDS = 10;

/** Each active variant with its share of new recipients, in definition order (what the pick walks). */
export function sharesFor(
  experiment: Experiment,
  snapshot: AllocationSnapshot | null,
): Array<[Variant, number]> {
  const active = activeVariants(experiment);
  const equal = (): Array<[Variant, number]> => active.map((v) => [v, 1 / active.length]);
  if (!snapshot) return equal();
  // Variants added since the snapshot join at an equal share until the next recompute; retired ones drop out.
  const joined = active.filter((v) => snapshot.shares[v.id] === undefined).length;
  const known = active.reduce((sum, v) => sum + (snapshot.shares[v.id] ?? 0), 0);
  if (known <= 0) return equal();
  const scale = (1 - joined / active.length) / known;
  return active.map((v) => {
    const share = snapshot.shares[v.id];
    return [v, share === undefined ? 1 / active.length : share * scale];
  });
}

/** A number in [0, 1) fixed for (experiment, recipient) and unpredictable without the tenant's secret. */
export function pickUnit(secret: string, experimentId: string, recipientDigest: string): number {
  const digest = createHmac('sha256', secret)
    .update(`pick\u0000${experimentId}\u0000${recipientDigest}`)
    .digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** The variant whose cumulative share interval holds `unit`. */
export function pickVariant(
  experiment: Experiment,
  snapshot: AllocationSnapshot | null,
  unit: number,
): Variant {
  const shares = sharesFor(experiment, snapshot);
  let cumulative = 0;
  for (const [variant, share] of shares) {
    cumulative += share;
    if (unit < cumulative) return variant;
  }
  return shares[shares.length - 1]![0];
}

/** True when the snapshot no longer describes the experiment as it is now. */
export function snapshotDue(
  experiment: Experiment,
  snapshot: AllocationSnapshot | null,
  now: number,
): boolean {
  return (
    !snapshot ||
    snapshot.experimentVersion !== experiment.version ||
    now >= snapshot.computedAt + experiment.options.refresh_seconds
  );
}

export interface RecomputeDeps {
  readonly allocations: AllocationStore;
  readonly counters: CounterReader;
  readonly delays: DelayReader;
  readonly experiments: ExperimentStore;
}

/**
 * Takes the lease, recomputes and publishes; null when another container holds the lease or a newer holder
 * published first. Runs inside a request (a Lambda container is frozen once it answers).
 */
export async function recomputeSnapshot(
  deps: RecomputeDeps,
  experiment: Experiment,
  now: number,
  options: CallOptions = {},
): Promise<AllocationSnapshot | null> {
  const { tenantId, id } = experiment;
  const epoch = await deps.allocations.acquireLease(tenantId, id, now, now + LEASE_SECONDS, {
    ...options,
    experimentVersion: experiment.version,
  });
  if (epoch === null) return null;
  const previous = await deps.allocations.settled(tenantId, id, options);
  const kind = rewardKindOf(experiment.metric);
  const fallbackDelay = defaultDelayOf(experiment.metric);
  const halfLife = experiment.options.half_life_hours;
  const oldDue =
    !previous || previous.halfLifeHours !== halfLife || now - previous.old.readAt >= OLD_READ_SECONDS;
  const recentDue = oldDue || now - previous.recent.readAt >= RECENT_READ_SECONDS;
  const delaysDue =
    recentDue || now - (previous.delaysReadAt ?? previous.recent.readAt) >= DELAY_READ_SECONDS;

  let settled: SettledCounts;
  let recent: SendBucketCount[];
  if (recentDue) {
    const [counts, delays] = await Promise.all([
      deps.counters.read(tenantId, id, oldDue ? options : { ...options, since: previous!.recentStart }),
      deps.delays.histogram(tenantId, kind),
    ]);
    const delay = learnedDelayModel(delays, fallbackDelay);
    const windowStart = sendBucketOf(now) - WINDOW_SECONDS;
    const recentStart = oldDue ? windowStart - RECENT_TIER_SECONDS : previous!.recentStart;
    const tier = (from: number, to: number) =>
      sumTier(
        experiment,
        counts.filter((c) => c.bucketStart >= from && c.bucketStart < to),
        now,
        delay,
      );
    settled = {
      halfLifeHours: halfLife,
      windowStart,
      recentStart,
      recent: tier(recentStart, windowStart),
      old: oldDue ? tier(Number.NEGATIVE_INFINITY, recentStart) : previous!.old,
      delays,
      delaysReadAt: now,
    };
    recent = counts.filter((c) => c.bucketStart >= windowStart);
  } else {
    const [counts, delays] = await Promise.all([
      deps.counters.read(tenantId, id, { ...options, since: previous!.windowStart }),
      delaysDue ? deps.delays.histogram(tenantId, kind) : null,
    ]);
    settled = delays ? { ...previous!, delays, delaysReadAt: now } : previous!;
    recent = counts;
  }

  const older = settledEvidence(settled, now);
  if (delaysDue) {
    // The histogram and the counters just read describe the same moment: put back the rewards in flight now,
    // and keep them with the histogram until its next read.
    const inFlight = rewardsInFlight(
      settled.delays,
      fallbackDelay,
      inFlightOf(experiment, recent, now, older),
    );
    settled = { ...settled, delaysInFlight: inFlight?.map((n) => Math.round(n * 1000) / 1000) ?? [] };
  }
  const delay = visibilityModel(settled, fallbackDelay);
  const evidence = evidenceByVariant(experiment, recent, now, delay, older);
  const allocation = allocateFrom(experiment, evidence, now);
  const snapshot: AllocationSnapshot = {
    experimentVersion: experiment.version,
    computedAt: now,
    nextDueAt: now + experiment.options.refresh_seconds,
    phase: allocation.phase,
    shares: Object.fromEntries(allocation.shares),
    posteriors: Object.fromEntries(
      [...evidence].map(([variantId, e]) => [variantId, [e.posterior.alpha, e.posterior.beta] as const]),
    ),
  };
  const published = await deps.allocations.publish(
    tenantId,
    id,
    epoch,
    snapshot,
    delaysDue ? settled : null,
    options,
  );
  if (!published) return null;
  if (experiment.options.auto_finish && allocation.phase !== 'burn_in') {
    await finishIfConfident(deps.experiments, experiment, verdict(experiment, evidence), now);
  }
  return snapshot;
}

/**
 * The chance, by a send's age, that its reward is visible by now: the tenant's histogram with the experiment's
 * rewards in flight as of the histogram's read put back (older settled items: corrected when used).
 */
export function visibilityModel(settled: SettledCounts, fallback: DelayModel): DelayModel {
  if (!settled.delaysInFlight) return learnedDelayModel(settled.delays, fallback);
  const inFlight = settled.delaysInFlight.length > 0 ? settled.delaysInFlight : null;
  return delayModelWithInFlight(settled.delays, fallback, inFlight);
}

/** One tier's sums: the weighted evidence (prior excluded) and raw totals per variant, as of `now`. */
function sumTier(
  experiment: Experiment,
  counts: readonly SendBucketCount[],
  now: number,
  delay: DelayModel,
): SettledTier {
  const evidence: Record<string, SettledEvidence> = {};
  for (const [variantId, e] of evidenceByVariant(experiment, counts, now, delay)) {
    if (e.sends === 0) continue;
    evidence[variantId] = {
      sends: e.sends,
      rewards: e.rewards,
      alpha: e.posterior.alpha - 1,
      beta: e.posterior.beta - 1,
    };
  }
  const totals: Record<string, { sends: number; opens: number; clicks: number }> = {};
  for (const c of counts) {
    const t = totals[c.variantId] ?? { sends: 0, opens: 0, clicks: 0 };
    totals[c.variantId] = t;
    t.sends += c.sends;
    t.opens += c.opens;
    t.clicks += c.clicks;
  }
  return { readAt: now, evidence, totals };
}

/** Both tiers' evidence per variant, decayed from their read times to `now` (decay is a common factor). */
export function settledEvidence(settled: SettledCounts, now: number): Map<string, SettledEvidence> {
  const merged = new Map<string, SettledEvidence>();
  for (const tier of [settled.old, settled.recent]) {
    const aged = settled.halfLifeHours ? 0.5 ** ((now - tier.readAt) / (settled.halfLifeHours * HOUR)) : 1;
    for (const [variantId, e] of Object.entries(tier.evidence)) {
      const sum = merged.get(variantId) ?? { sends: 0, rewards: 0, alpha: 0, beta: 0 };
      merged.set(variantId, {
        sends: sum.sends + e.sends,
        rewards: sum.rewards + e.rewards,
        alpha: sum.alpha + e.alpha * aged,
        beta: sum.beta + e.beta * aged,
      });
    }
  }
  return merged;
}

/** `auto_finish`: decided once, by the container that published the snapshot. */
async function finishIfConfident(
  experiments: ExperimentStore,
  experiment: Experiment,
  { leader, confident }: { leader: string | null; confident: boolean },
  now: number,
) {
  if (!confident || !leader) return;
  try {
    await experiments.save(changeStatus(experiment, { status: 'finished', winner: leader }, now));
  } catch (error) {
    // The marketer changed it meanwhile: theirs stands.
    if (!(error instanceof ConflictError)) throw error;
  }
}
