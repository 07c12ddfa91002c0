// The allocation: burn-in, shares by P(best) (or a power of it), control and floor, the delay correction and decay.

import { describe, expect, it } from 'vitest';
import { addCounts, sendIncrements, zeroCounts } from '../../domain/counting';
import { DEFAULT_CLICK_DELAY, NO_DELAY } from '../../domain/delay';
import { defineExperiment, type Experiment } from '../../domain/experiment';
import { allocate, evidenceByVariant, sharpened, TUNED_SHARE_EXPONENT } from '../../domain/policy';
import type { SendBucketCount } from '../../domain/ports/counter-reader';
import { probabilityBest } from '../../domain/stats';
import { HOUR, SEND_BUCKET_SECONDS, sendBucketOf } from '../../domain/time';

const NOW = sendBucketOf(1_800_000_000) + 120;

function experiment(variants: number, options: Record<string, unknown> = {}, control = false): Experiment {
  return defineExperiment(
    't1',
    'e1',
    {
      variants: Array.from({ length: variants }, (_, i) => ({
        id: `v${i + 1}`,
        text: `Variant ${i + 1}`,
        control: control && i === 0,
      })),
      ...options,
    },
    null,
    0,
  );
}

/** A send bucket `ageHours` before NOW with `sends` sends and `clicks` (arrived) clicks. */
function bucket(variantId: string, ageHours: number, sends: number, clicks: number): SendBucketCount {
  return {
    ...zeroCounts(),
    bucketStart: sendBucketOf(NOW - ageHours * HOUR),
    variantId,
    sends,
    opens: clicks,
    clicks,
  };
}

function total(shares: ReadonlyMap<string, number>): number {
  return [...shares.values()].reduce((sum, share) => sum + share, 0);
}

describe('allocate', () => {
  it('gives equal shares during burn-in, until every active variant has min_sends sends', () => {
    const exp = experiment(3, { min_sends: 100 });
    const counts = [bucket('v1', 5, 1000, 80), bucket('v2', 5, 1000, 10), bucket('v3', 5, 99, 1)];
    const burnIn = allocate(exp, counts, NOW, DEFAULT_CLICK_DELAY);
    expect(burnIn.phase).toBe('burn_in');
    expect([...burnIn.shares.values()]).toEqual([1 / 3, 1 / 3, 1 / 3]);
    expect(burnIn.computedAt).toBe(NOW);

    const learning = allocate(exp, [...counts, bucket('v3', 4, 1, 0)], NOW, DEFAULT_CLICK_DELAY);
    expect(learning.phase).not.toBe('burn_in');
    expect(learning.shares.get('v1')!).toBeGreaterThan(0.9);
  });

  it('has shares that sum to one and settles once a variant is confidently best', () => {
    const cases: [Experiment, SendBucketCount[]][] = [
      [experiment(2), []],
      [experiment(4), [1, 2, 3, 4].map((i) => bucket(`v${i}`, 3, 2000, 20 * i))],
      [experiment(4, { floor: 0.05 }), [1, 2, 3, 4].map((i) => bucket(`v${i}`, 3, 2000, 20 * i))],
      [experiment(5, {}, true), [1, 2, 3, 4, 5].map((i) => bucket(`v${i}`, 3, 2000, 10 * i))],
    ];
    for (const [exp, counts] of cases) {
      const allocation = allocate(exp, counts, NOW, DEFAULT_CLICK_DELAY);
      expect(allocation.shares.size).toBe(exp.variants.length);
      expect(total(allocation.shares)).toBeCloseTo(1, 12);
      for (const share of allocation.shares.values()) expect(share).toBeGreaterThanOrEqual(0);
    }
    const clear = allocate(
      experiment(2),
      [bucket('v1', 30, 20_000, 200), bucket('v2', 30, 20_000, 600)],
      NOW,
      DEFAULT_CLICK_DELAY,
    );
    expect(clear.phase).toBe('settled');
    expect(clear.shares.get('v2')!).toBeGreaterThan(0.99);
  });

  it('gives shares by P(best), or by P(best)^share_exponent: the likely best gains sooner, a possible best keeps some', () => {
    const counts = [bucket('v1', 30, 2000, 40), bucket('v2', 30, 2000, 46), bucket('v3', 30, 2000, 30)];
    const evidence = evidenceByVariant(experiment(3), counts, NOW, DEFAULT_CLICK_DELAY);
    const pBest = probabilityBest(['v1', 'v2', 'v3'].map((id) => evidence.get(id)!.posterior));
    const plain = [...allocate(experiment(3), counts, NOW, DEFAULT_CLICK_DELAY).shares.values()];
    plain.forEach((share, i) => {
      expect(share).toBeCloseTo(pBest[i]!, 12);
    });
    const exp = experiment(3, { share_exponent: TUNED_SHARE_EXPONENT });
    const shares = [...allocate(exp, counts, NOW, DEFAULT_CLICK_DELAY).shares.values()];
    const powers = pBest.map((p) => p ** 2.5);
    const sum = powers.reduce((a, b) => a + b, 0);
    shares.forEach((share, i) => {
      expect(share).toBeCloseTo(powers[i]! / sum, 9);
    });
    // The leader gains against plain probability matching, the runner-up keeps a real share.
    expect(shares[1]!).toBeGreaterThan(pBest[1]!);
    expect(pBest[0]!).toBeGreaterThan(0.1);
    expect(shares[0]!).toBeGreaterThan(0.05);
    expect(shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 12);
    // P(best), not the sharpened share, decides when the experiment has settled.
    expect(sharpened([0.9, 0.1], TUNED_SHARE_EXPONENT)[0]!).toBeGreaterThan(0.95);
    const close = allocate(
      experiment(2, { share_exponent: TUNED_SHARE_EXPONENT }),
      [bucket('v1', 30, 20_000, 600), bucket('v2', 30, 20_000, 640)],
      NOW,
      DEFAULT_CLICK_DELAY,
    );
    expect(close.phase).toBe('learning');
  });

  it('keeps the control at control_share and splits the rest by P(best)', () => {
    const exp = experiment(3, { control_share: 0.1 }, true);
    const counts = [
      bucket('v1', 30, 20_000, 1000),
      bucket('v2', 30, 20_000, 200),
      bucket('v3', 30, 20_000, 600),
    ];
    const allocation = allocate(exp, counts, NOW, DEFAULT_CLICK_DELAY);
    // The control is the best here, and still gets exactly its fixed share.
    expect(allocation.shares.get('v1')).toBe(0.1);
    expect(allocation.shares.get('v3')!).toBeCloseTo(0.9, 6);
    expect(total(allocation.shares)).toBeCloseTo(1, 12);
  });

  it('raises every active variant to the floor', () => {
    const counts = [1, 2, 3, 4].map((i) => bucket(`v${i}`, 30, 20_000, i === 4 ? 800 : 200));
    const without = allocate(experiment(4), counts, NOW, DEFAULT_CLICK_DELAY);
    expect(without.shares.get('v1')!).toBeLessThan(0.01);
    const floored = allocate(experiment(4, { floor: 0.05 }), counts, NOW, DEFAULT_CLICK_DELAY);
    for (const id of ['v1', 'v2', 'v3']) expect(floored.shares.get(id)!).toBeCloseTo(0.05, 12);
    expect(floored.shares.get('v4')!).toBeCloseTo(0.85, 12);
  });

  it('does not count a fresh send bucket without arrived clicks as failures, unless told there is no delay', () => {
    const exp = experiment(2);
    const history = [bucket('v1', 48, 10_000, 300), bucket('v2', 48, 10_000, 300)];
    // v1 is the variant being sent right now: 5000 sends in the current bucket, none of their clicks in yet.
    const fresh = { ...zeroCounts(), bucketStart: sendBucketOf(NOW), variantId: 'v1', sends: 5000 };
    expect(NOW - fresh.bucketStart).toBeLessThan(SEND_BUCKET_SECONDS);
    const corrected = allocate(exp, [...history, fresh], NOW, DEFAULT_CLICK_DELAY);
    expect(corrected.shares.get('v1')!).toBeCloseTo(0.5, 1);
    const evidence = evidenceByVariant(exp, [...history, fresh], NOW, DEFAULT_CLICK_DELAY).get('v1')!;
    expect(evidence.sends).toBe(15_000);
    expect(evidence.posterior.beta).toBeLessThan(1 + 9700 + 1);

    const naive = allocate(exp, [...history, fresh], NOW, NO_DELAY);
    expect(naive.shares.get('v1')!).toBeLessThan(0.001);

    // Once the bucket is days old its clicks have all but arrived, and its unrewarded sends count fully.
    const old = { ...fresh, bucketStart: sendBucketOf(NOW - 30 * 24 * HOUR) };
    expect(allocate(exp, [...history, old], NOW, DEFAULT_CLICK_DELAY).shares.get('v1')!).toBeLessThan(0.001);
  });

  it('weighs unrewarded sends by when in their bucket they were made, when that was recorded', () => {
    const exp = experiment(2);
    // Both variants: 3000 sends in the bucket that ended 20 minutes ago, 30 clicks in so far.
    const start = sendBucketOf(NOW) - 3 * SEND_BUCKET_SECONDS;
    const sentAt = (...seconds: number[]) => {
      const counts = { ...zeroCounts(), bucketStart: start, sends: 0, clicks: 30 };
      for (const second of seconds) addCounts(counts, sendIncrements(start + second), 3000 / seconds.length);
      return counts;
    };
    const evenly = Array.from({ length: 600 }, (_, second) => second);
    const early = Array.from({ length: 60 }, (_, second) => second);
    const late = Array.from({ length: 60 }, (_, second) => 540 + second);
    const betaOf = (count: ReturnType<typeof sentAt>) =>
      evidenceByVariant(exp, [{ ...count, variantId: 'v1' }], NOW, DEFAULT_CLICK_DELAY).get('v1')!.posterior
        .beta;
    const untimed = { ...sentAt(...evenly), sendSeconds: 0, sendSecondsSquared: 0 };

    // Sent evenly: as the bucket without times (sends taken as spread over it).
    expect(betaOf(sentAt(...evenly))).toBeCloseTo(betaOf(untimed), 0);
    // Sent in its first minute (the variant then lost its traffic): older, so more of its clicks should be in.
    expect(betaOf(sentAt(...early))).toBeGreaterThan(1.15 * betaOf(untimed));
    // Sent in its last minute (the variant gained traffic): younger, so fewer of its clicks can be in yet.
    expect(betaOf(sentAt(...late))).toBeLessThan(0.85 * betaOf(untimed));
    // And the younger variant's rate is judged the higher for the same clicks.
    const both = [
      { ...sentAt(...early), variantId: 'v1' },
      { ...sentAt(...late), variantId: 'v2' },
    ];
    expect(allocate(exp, both, NOW, DEFAULT_CLICK_DELAY).shares.get('v2')!).toBeGreaterThan(0.6);
  });

  it('follows a change of winner with a half-life, and not without one', () => {
    const counts = [
      // Ten days ago v1 was clearly better ...
      bucket('v1', 240, 20_000, 600),
      bucket('v2', 240, 20_000, 400),
      // ... and over the last day v2 is.
      bucket('v1', 12, 10_000, 200),
      bucket('v2', 12, 10_000, 300),
    ];
    const plain = allocate(experiment(2), counts, NOW, DEFAULT_CLICK_DELAY);
    expect(plain.shares.get('v1')!).toBeGreaterThan(0.99);
    const decayed = allocate(experiment(2, { half_life_hours: 24 }), counts, NOW, DEFAULT_CLICK_DELAY);
    expect(decayed.shares.get('v2')!).toBeGreaterThan(0.95);
  });
});
