// Delay models: sane defaults, a histogram of recorded delays, and a learned model that follows the data.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLICK_DELAY,
  DEFAULT_OPEN_DELAY,
  DELAY_BUCKET_EDGES,
  DELAY_BUCKETS,
  delayBucket,
  emptyDelayHistogram,
  learnedDelayModel,
  meanArrivedBy,
  NO_DELAY,
  withDelay,
} from '../../domain/delay';
import { createRandom } from '../../simulation/random';

const HOUR = 3600;
const AGES = [
  0,
  1,
  10,
  30,
  60,
  120,
  300,
  600,
  1800,
  HOUR,
  3 * HOUR,
  12 * HOUR,
  86_400,
  7 * 86_400,
  30 * 86_400,
];

function expectMonotone(arrivedBy: (age: number) => number) {
  let previous = -1;
  for (let age = 0; age < 40 * 86_400; age = age * 1.1 + 5) {
    const value = arrivedBy(age);
    expect(value).toBeGreaterThanOrEqual(previous - 1e-12);
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(1);
    previous = value;
  }
}

describe('default delay models', () => {
  it('are 0 at age 0, about half by the median, and near 1 after a week', () => {
    expect(DEFAULT_CLICK_DELAY.arrivedBy(0)).toBe(0);
    expect(DEFAULT_CLICK_DELAY.arrivedBy(4 * 60)).toBe(0); // the Currents flush takes at least 5 minutes
    expect(DEFAULT_CLICK_DELAY.arrivedBy(80 * 60)).toBeGreaterThan(0.4);
    expect(DEFAULT_CLICK_DELAY.arrivedBy(80 * 60)).toBeLessThan(0.6);
    expect(DEFAULT_CLICK_DELAY.arrivedBy(7 * 86_400)).toBeGreaterThan(0.99);
    expect(DEFAULT_OPEN_DELAY.arrivedBy(HOUR)).toBeGreaterThan(DEFAULT_CLICK_DELAY.arrivedBy(HOUR));
    expect(NO_DELAY.arrivedBy(0)).toBe(1);
  });

  it('are monotone in age', () => {
    expectMonotone((age) => DEFAULT_CLICK_DELAY.arrivedBy(age));
    expectMonotone((age) => DEFAULT_OPEN_DELAY.arrivedBy(age));
  });
});

describe('delayBucket', () => {
  it('has about two dozen log-spaced buckets from 30 s to 7 days', () => {
    expect(DELAY_BUCKETS).toBeGreaterThanOrEqual(20);
    expect(DELAY_BUCKETS).toBeLessThanOrEqual(30);
    expect(DELAY_BUCKET_EDGES[1]).toBe(30);
    expect(DELAY_BUCKET_EDGES[DELAY_BUCKETS - 1]).toBe(7 * 86_400);
  });

  it('puts every delay in the bucket whose edges contain it', () => {
    expect(delayBucket(-5)).toBe(0);
    expect(delayBucket(0)).toBe(0);
    expect(delayBucket(29.9)).toBe(0);
    expect(delayBucket(30)).toBe(1);
    expect(delayBucket(7 * 86_400)).toBe(DELAY_BUCKETS - 1);
    expect(delayBucket(1e9)).toBe(DELAY_BUCKETS - 1);
    for (let i = 1; i < DELAY_BUCKETS; i++) expect(delayBucket(DELAY_BUCKET_EDGES[i]!)).toBe(i);
    const random = createRandom(3);
    for (let n = 0; n < 1000; n++) {
      const delay = Math.exp(random() * 14);
      const bucket = delayBucket(delay);
      expect(delay).toBeGreaterThanOrEqual(DELAY_BUCKET_EDGES[bucket]!);
      if (bucket < DELAY_BUCKETS - 1) expect(delay).toBeLessThan(DELAY_BUCKET_EDGES[bucket + 1]!);
    }
  });
});

describe('learnedDelayModel', () => {
  it('is the fallback without observations', () => {
    const model = learnedDelayModel(emptyDelayHistogram(), DEFAULT_CLICK_DELAY);
    for (const age of AGES) expect(model.arrivedBy(age)).toBe(DEFAULT_CLICK_DELAY.arrivedBy(age));
  });

  it('follows the data within a few dozen observations', () => {
    let histogram = emptyDelayHistogram();
    const random = createRandom(11);
    for (let i = 0; i < 40; i++) histogram = withDelay(histogram, 20 + random() * 20);
    const model = learnedDelayModel(histogram, DEFAULT_CLICK_DELAY);
    expect(DEFAULT_CLICK_DELAY.arrivedBy(120)).toBeLessThan(0.2);
    expect(model.arrivedBy(120)).toBeGreaterThan(0.9);
    expect(model.arrivedBy(0)).toBe(0);
  });

  it('follows slow tenants too', () => {
    const histogram = withDelay(emptyDelayHistogram(), 2 * 86_400, 50);
    const model = learnedDelayModel(histogram, DEFAULT_CLICK_DELAY);
    expect(DEFAULT_CLICK_DELAY.arrivedBy(12 * HOUR)).toBeGreaterThan(0.8);
    expect(model.arrivedBy(12 * HOUR)).toBeLessThan(0.2);
  });

  it('is monotone, within [0, 1] and reaches 1 at large ages', () => {
    let histogram = emptyDelayHistogram();
    const random = createRandom(5);
    for (let i = 0; i < 200; i++) histogram = withDelay(histogram, Math.exp(2 + random() * 13));
    const model = learnedDelayModel(histogram, DEFAULT_CLICK_DELAY);
    expectMonotone((age) => model.arrivedBy(age));
    expect(model.arrivedBy(60 * 86_400)).toBeGreaterThan(0.999);
  });
});

describe('meanArrivedBy', () => {
  it('averages over a span and is at least the value at the mid age early in the distribution', () => {
    const mid = DEFAULT_CLICK_DELAY.arrivedBy(30 * 60);
    const mean = meanArrivedBy(DEFAULT_CLICK_DELAY, 0, HOUR);
    expect(mean).toBeGreaterThan(mid);
    expect(mean).toBeLessThan(DEFAULT_CLICK_DELAY.arrivedBy(HOUR));
    expect(meanArrivedBy(DEFAULT_CLICK_DELAY, HOUR, HOUR)).toBeCloseTo(
      DEFAULT_CLICK_DELAY.arrivedBy(HOUR),
      12,
    );
  });

  it('agrees with a fine midpoint average for old, short spans (where it uses three points)', () => {
    for (const youngest of [1200, HOUR, 5 * HOUR, 86_400, 9 * 86_400]) {
      const oldest = youngest + 600;
      let fine = 0;
      for (let i = 0; i < 2000; i++)
        fine += DEFAULT_CLICK_DELAY.arrivedBy(youngest + ((i + 0.5) / 2000) * 600);
      expect(meanArrivedBy(DEFAULT_CLICK_DELAY, youngest, oldest)).toBeCloseTo(fine / 2000, 4);
    }
  });
});
