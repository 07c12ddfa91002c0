// What decides the shares at each refresh of a simulated campaign: weft through the real recompute (the one
// shared snapshot every container serves), and the baselines it is measured against.
import { recomputeSnapshot, sharesFor } from '../domain/allocation-snapshot';
import { observableSendsOf, rewardsOf } from '../domain/counting';
import { defaultDelayOf, NO_DELAY } from '../domain/delay';
import type { Experiment } from '../domain/experiment';
import { allocate, allocateFrom, evidenceByVariant } from '../domain/policy';
import { HOUR, SEND_BUCKET_SECONDS } from '../domain/time';
import {
  type CampaignAllocations,
  type CampaignCounters,
  fixedExperiment,
  type MutableCount,
  type TenantDelays,
} from './campaign-stores';
import type { Random } from './random';
import type { PolicyName } from './scenarios';

/** What a policy may look at: the counters as the store holds them, and (for the references) the truth. */
export interface CampaignView {
  readonly experiment: Experiment;
  readonly counters: CampaignCounters;
  readonly delays: TenantDelays;
  readonly allocations: CampaignAllocations;
  readonly random: Random;
  /** Recipients sent so far, of `recipients`. */
  readonly sentSoFar: () => number;
  readonly recipients: number;
  /** When the last send is made (seconds since the first). */
  readonly end: number;
  /** Rewards of the experiment's metric visible so far. */
  readonly rewardsSeen: () => number;
  /** The true rates at `now`: only the reference policies (oracle, delay-bound) read them. */
  readonly trueRates: (now: number) => readonly number[];
}

export interface Policy {
  /** The shares of new recipients from `now` until the next refresh, per variant in definition order. */
  readonly decide: (now: number) => Promise<readonly number[]> | readonly number[];
  /**
   * Whether anything sent from `now` on can still change a decision: when not, the campaign need not draw its
   * rewards (the loss depends on the sends alone).
   */
  readonly watching: (now: number) => boolean;
}

const always = () => true;
const never = () => false;

const TWELVE_HOURS = 12 * HOUR;
const AB_TEST_SHARE = 0.1;

function equalAmong(indices: readonly number[], variants: number): number[] {
  const shares = new Array<number>(variants).fill(0);
  for (const i of indices) shares[i] = 1 / indices.length;
  return shares;
}

function bestOf(rates: readonly number[]): number {
  return rates.indexOf(Math.max(...rates));
}

/** The variant with the best observed rate (rewards seen over observable sends); ties broken at random. */
function observedLeader(view: CampaignView): number {
  const { experiment, counters } = view;
  const rates = counters.totals.map((row) => {
    const base = observableSendsOf(row, experiment.metric);
    return base > 0 ? rewardsOf(row, experiment.metric) / base : 0;
  });
  const best = Math.max(...rates);
  const leaders = rates.flatMap((rate, v) => (rate === best ? [v] : []));
  return leaders[Math.floor(view.random() * leaders.length)]!;
}

/**
 * Thompson sampling without delay correction, exactly as allocate(…, NO_DELAY) over every row, without reading
 * every row at every refresh: a finished send bucket b weighs 1 × its decay 0.5^((now − m_b) / h) (m_b its
 * middle), so its evidence is 0.5^(now / h) · 2^(m_b / h) · counts, and the sums of 2^(m_b / h) · counts are
 * carried from refresh to refresh (late rewards in old buckets added as they come). Only the current bucket is
 * weighed by the policy at each refresh.
 */
function naiveThompson(view: CampaignView): (now: number) => readonly number[] {
  const { experiment, counters } = view;
  const ids = experiment.variants.map((v) => v.id);
  const halfLife = experiment.options.half_life_hours ? experiment.options.half_life_hours * HOUR : null;
  const growth = (bucket: number) =>
    halfLife ? 2 ** ((bucket * SEND_BUCKET_SECONDS + SEND_BUCKET_SECONDS / 2) / halfLife) : 1;
  const sums = ids.map(() => ({ sends: 0, rewards: 0, alpha: 0, beta: 0 }));
  let finished = 0;
  const fold = (row: MutableCount, sign: 1 | -1, bucket: number) => {
    const sum = sums[ids.indexOf(row.variantId)]!;
    const observable = observableSendsOf(row, experiment.metric);
    const rewards = Math.min(rewardsOf(row, experiment.metric), observable);
    const g = growth(bucket);
    sum.sends += sign * observable;
    sum.rewards += sign * rewards;
    sum.alpha += sign * g * rewards;
    sum.beta += sign * g * (observable - rewards);
  };
  counters.onChange = (row, field, count) => {
    const bucket = Math.floor(row / ids.length);
    if (bucket >= finished) return;
    const after = counters.rows[row]!;
    fold({ ...after, [field]: after[field] - count }, -1, bucket);
    fold(after, 1, bucket);
  };
  return (now) => {
    const current = Math.floor(now / SEND_BUCKET_SECONDS);
    for (; finished < current && finished * ids.length < counters.rows.length; finished++)
      for (let v = 0; v < ids.length; v++) fold(counters.rows[finished * ids.length + v]!, 1, finished);
    const scale = halfLife ? 0.5 ** (now / halfLife) : 1;
    const settled = new Map(
      ids.map((id, v) => {
        const sum = sums[v]!;
        return [
          id,
          { sends: sum.sends, rewards: sum.rewards, alpha: scale * sum.alpha, beta: scale * sum.beta },
        ];
      }),
    );
    const open = counters.rows.slice(finished * ids.length);
    const allocation = allocateFrom(
      experiment,
      evidenceByVariant(experiment, open, now, NO_DELAY, settled),
      now,
    );
    return ids.map((id) => allocation.shares.get(id) ?? 0);
  };
}

export function createPolicy(name: PolicyName, view: CampaignView): Policy {
  const { experiment, counters } = view;
  const variants = experiment.variants.length;
  const ids = experiment.variants.map((v) => v.id);
  const uniform = equalAmong(
    ids.map((_, i) => i),
    variants,
  );
  const sharesOf = (allocation: { shares: ReadonlyMap<string, number> }) =>
    ids.map((id) => allocation.shares.get(id) ?? 0);
  switch (name) {
    case 'weft': {
      const deps = {
        allocations: view.allocations,
        counters,
        delays: view.delays,
        experiments: fixedExperiment(experiment),
      };
      let shares: readonly number[] = uniform;
      const decide = async (now: number) => {
        const snapshot = await recomputeSnapshot(deps, experiment, now);
        if (snapshot) shares = sharesFor(experiment, snapshot).map(([, share]) => share);
        return shares;
      };
      return { decide, watching: always };
    }
    case 'naive-ts':
      return { decide: naiveThompson(view), watching: always };
    case 'twice-daily': {
      let shares: readonly number[] = uniform;
      const delay = defaultDelayOf(experiment.metric);
      let last = Number.NEGATIVE_INFINITY;
      const decide = (now: number) => {
        if (now - last >= TWELVE_HOURS) {
          last = now;
          shares = sharesOf(allocate(experiment, counters.rows, now, delay));
        }
        return shares;
      };
      return { decide, watching: () => last + TWELVE_HOURS < view.end };
    }
    case 'ab-then-winner': {
      let winner: number | null = null;
      // The test ends at the first refresh with 10% sent; the winner is picked then, once.
      const decide = () => {
        if (winner === null && view.sentSoFar() >= AB_TEST_SHARE * view.recipients)
          winner = observedLeader(view);
        return winner === null ? uniform : equalAmong([winner], variants);
      };
      return { decide, watching: () => winner === null };
    }
    case 'delay-bound': {
      const decide = (now: number) =>
        view.rewardsSeen() > 0 ? equalAmong([bestOf(view.trueRates(now))], variants) : uniform;
      return { decide, watching: () => view.rewardsSeen() === 0 };
    }
    case 'oracle':
      return { decide: (now) => equalAmong([bestOf(view.trueRates(now))], variants), watching: never };
    case 'uniform':
      return { decide: () => uniform, watching: never };
  }
}
