// The shared allocation: one container at a time recomputes an experiment's snapshot from the counters and
// publishes it; every container maps a recipient onto the snapshot's shares with a keyed hash, so containers
// holding the same snapshot pick the same variant for the same person, with or without the store.
//
// Recomputing reads only recent send buckets (the last WINDOW_SECONDS). Older buckets are summed at a full read
// every FULL_READ_SECONDS and kept as `SettledCounts`, so a recompute costs the same at hour 1 and hour 24,
// and rewards that land late in old buckets still count (within FULL_READ_SECONDS).
import { createHmac } from 'node:crypto';
import { DEFAULT_CLICK_DELAY, DEFAULT_OPEN_DELAY, learnedDelayModel } from './delay';
import { ConflictError } from './errors';
import { activeVariants, changeStatus, type Experiment, type Variant } from './experiment';
import { allocateFrom, evidenceByVariant, type SettledEvidence, verdict } from './policy';
import type { AllocationSnapshot, AllocationStore, SettledCounts } from './ports/allocation-store';
import type { CallOptions } from './ports/assignment-ledger';
import type { CounterReader } from './ports/counter-reader';
import type { DelayReader } from './ports/delay-reader';
import type { ExperimentStore } from './ports/experiment-store';
import { HOUR, sendBucketOf } from './time';

/** Recent buckets read on every recompute: an hour covers the sends still collecting most of their rewards. */
export const WINDOW_SECONDS = HOUR;
/** How often the whole counter history is read again (late rewards in old buckets, the delay histogram). */
export const FULL_READ_SECONDS = 300;
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
  const epoch = await deps.allocations.acquireLease(tenantId, id, now, now + LEASE_SECONDS, options);
  if (epoch === null) return null;
  const previous = await deps.allocations.settled(tenantId, id, options);
  const kind = experiment.metric === 'clicks' ? 'click' : 'open';
  const fallbackDelay = kind === 'click' ? DEFAULT_CLICK_DELAY : DEFAULT_OPEN_DELAY;
  const fullRead =
    !previous ||
    previous.experimentVersion !== experiment.version ||
    now - previous.readAt >= FULL_READ_SECONDS;

  let settled: SettledCounts;
  let recent: Awaited<ReturnType<CounterReader['read']>>;
  if (fullRead) {
    const [counts, delays] = await Promise.all([
      deps.counters.read(tenantId, id, options),
      deps.delays.histogram(tenantId, kind),
    ]);
    const windowStart = sendBucketOf(now) - WINDOW_SECONDS;
    const delay = learnedDelayModel(delays, fallbackDelay);
    const older = evidenceByVariant(
      experiment,
      counts.filter((c) => c.bucketStart < windowStart),
      now,
      delay,
    );
    const variants: Record<string, SettledEvidence> = {};
    for (const [variantId, e] of older) {
      variants[variantId] = {
        sends: e.sends,
        rewards: e.rewards,
        alpha: e.posterior.alpha - 1,
        beta: e.posterior.beta - 1,
      };
    }
    settled = { readAt: now, windowStart, experimentVersion: experiment.version, delays, variants };
    recent = counts.filter((c) => c.bucketStart >= windowStart);
  } else {
    settled = previous;
    recent = await deps.counters.read(tenantId, id, { ...options, since: previous.windowStart });
  }

  const delay = learnedDelayModel(settled.delays, fallbackDelay);
  const halfLife = experiment.options.half_life_hours;
  // Decay is a common factor for all older buckets: age the sums from their read time to now.
  const aged = halfLife ? 0.5 ** ((now - settled.readAt) / (halfLife * HOUR)) : 1;
  const older = new Map(
    Object.entries(settled.variants).map(([variantId, e]) => [
      variantId,
      { ...e, alpha: e.alpha * aged, beta: e.beta * aged },
    ]),
  );
  const evidence = evidenceByVariant(experiment, recent, now, delay, older);
  const allocation = allocateFrom(experiment, evidence, now);
  const snapshot: AllocationSnapshot = {
    experimentVersion: experiment.version,
    computedAt: now,
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
    fullRead ? settled : null,
    options,
  );
  if (!published) return null;
  if (experiment.options.auto_finish && allocation.phase !== 'burn_in') {
    await finishIfConfident(deps.experiments, experiment, verdict(experiment, evidence), now);
  }
  return snapshot;
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
