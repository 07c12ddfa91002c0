// The experiment report: raw unique-recipient rates, the posterior the policy uses, and what follows from it.
import { addCounts, type Counts, observableSendsOf, rewardsOf, zeroCounts } from './counting';
import type { DelayModel } from './delay';
import type { Experiment } from './experiment';
import { defaultVariant } from './experiment';
import { type Allocation, evidenceByVariant, type SettledEvidence, verdict } from './policy';
import type { SendBucketCount } from './ports/counter-reader';
import { betaMean, credibleInterval } from './stats';
import { hourOf } from './time';

const round = (value: number, digits = 6) => Number(value.toFixed(digits));
const rate = (numerator: number, denominator: number) =>
  denominator > 0 ? round(numerator / denominator) : null;

/** What new recipients get now: the policy's shares while running, else everything to the default variant. */
export function servedShares(experiment: Experiment, allocation: Allocation | null): Map<string, number> {
  if (experiment.status === 'running' && allocation) return new Map(allocation.shares);
  return new Map([[defaultVariant(experiment).id, 1]]);
}

export function buildReport(
  experiment: Experiment,
  counts: readonly SendBucketCount[],
  allocation: Allocation | null,
  now: number,
  delay: DelayModel,
  older?: {
    readonly evidence: ReadonlyMap<string, SettledEvidence>;
    readonly totals: Readonly<Record<string, Partial<Counts>>>;
  },
) {
  const evidence = evidenceByVariant(experiment, counts, now, delay, older?.evidence);
  const totals = new Map(
    experiment.variants.map((v) => [v.id, addCounts(zeroCounts(), older?.totals[v.id] ?? {})]),
  );
  for (const { bucketStart: _, variantId, ...count } of counts) {
    const total = totals.get(variantId);
    if (total) addCounts(total, count);
  }
  const active = experiment.variants.filter((v) => v.state === 'active');
  const verdictNow = verdict(experiment, evidence);
  const { pBest, losses } = verdictNow;
  // With no reward seen yet, every P(best) is ~1/k: naming a leader would be noise.
  const hasData = active.some((v) => rewardsOf(totals.get(v.id)!, experiment.metric) > 0);
  const leader = hasData ? verdictNow.leader : null;
  const confident = hasData && verdictNow.confident;
  const shares = servedShares(experiment, allocation);
  const control = active.find((v) => v.control);
  const controlMean = control ? betaMean(evidence.get(control.id)!.posterior) : null;

  const variants = experiment.variants.map((v) => {
    const total = totals.get(v.id)!;
    const posterior = evidence.get(v.id)!.posterior;
    const interval = credibleInterval(posterior, 0.95);
    const mean = betaMean(posterior);
    return {
      id: v.id,
      text: v.text,
      state: v.state,
      control: v.control,
      sends: total.sends,
      opens: total.opens,
      machine_opens: total.machineOpens,
      // Sends whose opens could be seen at all: less recipients whose only open was a machine's.
      observable_sends: observableSendsOf(total, 'opens'),
      clicks: total.clicks,
      beacon_clicks: total.beaconClicks,
      currents_clicks: total.clicks - total.beaconClicks,
      conversions: total.conversions,
      open_rate: rate(total.opens, total.sends),
      observable_open_rate: rate(total.opens, observableSendsOf(total, 'opens')),
      click_rate: rate(total.clicks, total.sends),
      conversion_rate: rate(total.conversions, total.sends),
      ci_low: round(interval.low),
      ci_high: round(interval.high),
      p_best: v.state === 'active' ? round(pBest.get(v.id) ?? 0, 9) : 0,
      expected_loss: v.state === 'active' ? round(losses.get(v.id) ?? 0, 9) : null,
      allocation: round(shares.get(v.id) ?? 0, 9),
      uplift_vs_control:
        control && v.id !== control.id && controlMean && controlMean > 0
          ? round(mean / controlMean - 1)
          : null,
      posterior: { alpha: round(posterior.alpha, 9), beta: round(posterior.beta, 9) },
    };
  });

  const hours = [...new Set(counts.map((c) => hourOf(c.bucketStart)))].sort((a, b) => a - b);
  const series = hours.map((hour) => {
    const inHour = counts.filter((c) => hourOf(c.bucketStart) === hour);
    const hourSends = inHour.reduce((sum, c) => sum + c.sends, 0);
    const perVariant: Record<
      string,
      {
        sends: number;
        opens: number;
        machine_opens: number;
        clicks: number;
        conversions: number;
        rewards: number;
        allocation: number;
      }
    > = {};
    for (const v of experiment.variants) {
      const sum = zeroCounts();
      for (const { bucketStart: _, variantId, ...x } of inHour) if (variantId === v.id) addCounts(sum, x);
      perVariant[v.id] = {
        sends: sum.sends,
        opens: sum.opens,
        machine_opens: sum.machineOpens,
        clicks: sum.clicks,
        conversions: sum.conversions,
        rewards: rewardsOf(sum, experiment.metric),
        // The share of that hour's sends this variant actually got: the allocation as it was served.
        allocation: hourSends > 0 ? round(sum.sends / hourSends) : 0,
      };
    }
    return { hour: new Date(hour * 1000).toISOString(), variants: perVariant };
  });

  return {
    experiment: experiment.id,
    name: experiment.name,
    metric: experiment.metric,
    status: experiment.status,
    winner: experiment.winner,
    has_data: hasData,
    leader,
    confident,
    phase: experiment.status === 'running' ? (allocation?.phase ?? null) : null,
    updated_at: new Date(now * 1000).toISOString(),
    variants,
    series,
  };
}

export type Report = ReturnType<typeof buildReport>;
