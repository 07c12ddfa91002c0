// The visibility delay as the simulator feeds it (recorded when each reward becomes visible, as the ledger does)
// and what the policy makes of it: a campaign's own rewards still in flight are put back before the model is
// used, and the allocation integrates only the variants that can still be best.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLICK_DELAY,
  delayBucket,
  delayModelOf,
  delayModelWithInFlight,
  emptyDelayHistogram,
  learnedDelayModel,
  rewardsInFlight,
  withDelay,
} from '../../domain/delay';
import { defineExperiment } from '../../domain/experiment';
import { allocateFrom, inFlightOf } from '../../domain/policy';
import type { SendBucketCount } from '../../domain/ports/counter-reader';
import { probabilityBest } from '../../domain/stats';
import { createRandom, sampleLogNormal } from '../../simulation/random';

/** Rows counted before send times were recorded: sends taken as spread over the whole bucket. */
const UNTIMED = { sendSeconds: 0, sendSecondsSquared: 0 };

const MINUTE = 60;
const HOUR = 3600;
const TRUE_SHAPE = { medianSeconds: 40 * MINUTE, sigma: 1.4, flushMinSeconds: 0, flushMaxSeconds: 0 };
const TRUTH = delayModelOf(TRUE_SHAPE);

const experiment = defineExperiment(
  't',
  'e',
  {
    variants: [
      { id: 'a', text: 'A' },
      { id: 'b', text: 'B' },
    ],
    min_sends: 0,
  },
  null,
  0,
);

/**
 * The tenant's 100 delays from earlier campaigns (complete), then a campaign sending `perBucket` recipients every
 * 10 minutes from 0 to `now`, at `rate`, each reward recorded when it is seen, as the ledger does.
 */
function campaignSoFar(now: number, perBucket: number, rate: number) {
  const random = createRandom(11);
  let histogram = emptyDelayHistogram();
  for (let i = 0; i < 100; i++)
    histogram = withDelay(
      histogram,
      sampleLogNormal(random, Math.log(TRUE_SHAPE.medianSeconds), TRUE_SHAPE.sigma),
    );
  const counts: SendBucketCount[] = [];
  for (let start = 0; start < now; start += 600) {
    let rewards = 0;
    for (let i = 0; i < perBucket * rate; i++) {
      const sentAt = start + random() * Math.min(600, now - start);
      const delay = sampleLogNormal(random, Math.log(TRUE_SHAPE.medianSeconds), TRUE_SHAPE.sigma);
      if (sentAt + delay > now) continue;
      histogram = withDelay(histogram, delay);
      rewards++;
    }
    const zero = { opens: 0, machineOpens: 0, machineOnly: 0, beaconClicks: 0, conversions: 0, ...UNTIMED };
    counts.push({ bucketStart: start, variantId: 'a', sends: perBucket, clicks: rewards, ...zero });
  }
  return { histogram, counts };
}

describe('a campaign’s own rewards in flight', () => {
  it('make the recorded delays look short, and putting them back restores the true delay', () => {
    // Prepare: 40 minutes into a campaign, only its fast rewards are recorded.
    const now = 40 * MINUTE;
    const { histogram, counts } = campaignSoFar(now, 20_000, 0.05);
    const naive = learnedDelayModel(histogram, DEFAULT_CLICK_DELAY);
    // Act
    const corrected = naive.withInFlight!(inFlightOf(experiment, counts, now));
    // Assess: the censored model says far more has arrived than has; the corrected one is close to the truth.
    for (const age of [5 * MINUTE, 20 * MINUTE, HOUR]) {
      expect(naive.arrivedBy(age)).toBeGreaterThan(1.5 * TRUTH.arrivedBy(age));
      expect(Math.abs(corrected.arrivedBy(age) - TRUTH.arrivedBy(age))).toBeLessThan(
        0.2 * TRUTH.arrivedBy(age),
      );
    }
  });

  it('are put back as of the histogram’s read: counters read later would put back too many', () => {
    // Prepare: the histogram as read 40 minutes in; the counters a minute later hold that minute's rewards too.
    const read = 40 * MINUTE;
    const atRead = campaignSoFar(read, 20_000, 0.05);
    const later = campaignSoFar(read + MINUTE, 20_000, 0.05);
    const atReadInFlight = inFlightOf(experiment, atRead.counts, read);
    // Act: corrected with the counters of the same moment (kept until the next read), or with the later ones.
    const kept = delayModelWithInFlight(
      atRead.histogram,
      DEFAULT_CLICK_DELAY,
      rewardsInFlight(atRead.histogram, DEFAULT_CLICK_DELAY, atReadInFlight),
    );
    const mixed = learnedDelayModel(atRead.histogram, DEFAULT_CLICK_DELAY).withInFlight!(
      inFlightOf(experiment, later.counts, read + MINUTE),
    );
    // Assess: the same-moment correction stays near the truth; the mixed one is further from it at every age.
    for (const age of [5 * MINUTE, 20 * MINUTE, HOUR]) {
      const truth = TRUTH.arrivedBy(age);
      expect(Math.abs(kept.arrivedBy(age) - truth)).toBeLessThan(0.2 * truth);
      expect(Math.abs(mixed.arrivedBy(age) - truth)).toBeGreaterThan(Math.abs(kept.arrivedBy(age) - truth));
    }
    expect(kept.withInFlight).toBeUndefined();
  });

  it('change nothing once the campaign’s sends are all old, or when the experiment has no rewards', () => {
    let histogram = emptyDelayHistogram();
    for (let d = 60; d < 10 * HOUR; d *= 1.3) histogram = withDelay(histogram, d, 5);
    const model = learnedDelayModel(histogram, DEFAULT_CLICK_DELAY);
    const zero = { opens: 0, machineOpens: 0, machineOnly: 0, beaconClicks: 0, conversions: 0, ...UNTIMED };
    const old: SendBucketCount[] = [{ bucketStart: 0, variantId: 'a', sends: 1000, clicks: 50, ...zero }];
    const later = model.withInFlight!(inFlightOf(experiment, old, 30 * 86_400));
    const none = model.withInFlight!(inFlightOf(experiment, [{ ...old[0]!, clicks: 0 }], 600));
    for (const age of [60, 600, HOUR, 5 * HOUR]) {
      expect(later.arrivedBy(age)).toBeCloseTo(model.arrivedBy(age), 3);
      expect(none.arrivedBy(age)).toBe(model.arrivedBy(age));
    }
    expect(learnedDelayModel(emptyDelayHistogram(), DEFAULT_CLICK_DELAY)).toBe(DEFAULT_CLICK_DELAY);
  });

  it('knows how old the sends are: by bucket, and evenly since the experiment began for settled ones', () => {
    const zero = { opens: 0, machineOpens: 0, machineOnly: 0, beaconClicks: 0, conversions: 0, ...UNTIMED };
    const window: SendBucketCount[] = [
      { bucketStart: 3000, variantId: 'a', sends: 100, clicks: 3, ...zero },
      { bucketStart: 3000, variantId: 'b', sends: 100, clicks: 1, ...zero },
    ];
    const settled = new Map([['a', { sends: 200, rewards: 6, alpha: 6, beta: 150 }]]);
    const inFlight = inFlightOf(experiment, window, 3600, settled);
    expect(inFlight.rewards).toBe(10);
    expect(inFlight.olderThan(0)).toBe(1);
    // The window's 200 sends are 0–10 minutes old; the 200 settled ones 10–60 minutes (created at 0).
    expect(inFlight.olderThan(600)).toBeCloseTo(0.5, 9);
    expect(inFlight.olderThan(1800)).toBeCloseTo(0.5 * (1800 / 3000), 9);
    expect(inFlight.olderThan(4000)).toBe(0);
    expect(delayBucket(inFlight.olderThan(300))).toBe(0);
  });
});

describe('allocateFrom', () => {
  it('gives the shares of the full integration while skipping variants that cannot be best', () => {
    const random = createRandom(5);
    for (let trial = 0; trial < 200; trial++) {
      const k = 3 + Math.floor(random() * 8);
      const variants = Array.from({ length: k }, (_, i) => ({ id: `v${i}`, text: `V${i}` }));
      const many = defineExperiment('t', 'e', { variants, min_sends: 0 }, null, 0);
      const scale = 10 ** (random() * 5);
      const posteriors = variants.map(() => {
        const n = scale * (0.1 + random());
        const rate = 0.01 + 0.05 * random();
        return { alpha: 1 + n * rate, beta: 1 + n * (1 - rate) };
      });
      const evidence = new Map(
        variants.map((v, i) => [v.id, { sends: 1e9, rewards: 0, posterior: posteriors[i]! }]),
      );
      const shares = allocateFrom(many, evidence, 0).shares;
      probabilityBest(posteriors).forEach((p, i) => {
        expect(Math.abs(shares.get(`v${i}`)! - p)).toBeLessThan(1e-12);
      });
    }
  });
});
