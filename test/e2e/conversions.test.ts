// Issue 13, through the local stack: an experiment that optimises conversions, learning from events the
// customer's server posts (`POST /v1/events` with the connect token) within seconds of each send. Traffic comes
// in waves so the shared allocation can refresh between them; the last wave goes mostly to the variant with the
// best true conversion rate, and the report's sends, clicks and conversions are exactly the distinct
// recipients served, clicked and converted — repeats and duplicate posts included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileTable } from '../../handlers/shared/stage';
import { localDynamoDbClient } from '../../local/dynamodb-local';
import { createRandom } from '../../simulation/random';
import { type LocalStack, startLocalStack } from '../support/local-stack';
import {
  type ContentAnswer,
  type EventAnswer,
  inBatches,
  sha256Hex,
  uniqueId,
  type WeftApi,
  weftApi,
} from '../support/weft-api';

const EXPERIMENT = uniqueId('checkout-conversions');
/** True conversion rates: `c` converts five to ten times as often as the others. */
const CONVERSION_RATE: Record<string, number> = { a: 0.02, b: 0.04, c: 0.2 };
/** Recipients who do not convert still click now and then; every converter clicked first. */
const CLICK_ONLY_RATE = 0.05;
const WAVES = 4;
const PER_WAVE = 400;
const CONCURRENCY = 16;
/** Longer than `refresh_seconds` (1): the next wave is served from a snapshot that saw this wave's events. */
const BETWEEN_WAVES_MS = 2_500;
const MAX_RERENDERS = 5;

interface Served {
  readonly recipient: string;
  /** The answer the recipient's email was rendered with last (a fallback is rendered again, as Braze retries). */
  readonly answer: ContentAnswer;
  readonly fallbacks: number;
}

describe('an experiment optimising conversions through the local stack', () => {
  let stack: LocalStack;
  let api: WeftApi;
  const random = createRandom(1307);

  beforeAll(async () => {
    stack = await startLocalStack();
    api = weftApi(stack);
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  it('sends the late waves mostly to the best converter and counts every conversion exactly once', async () => {
    expect(
      await api.putExperiment(EXPERIMENT, {
        name: 'Checkout subject line',
        metric: 'conversions',
        min_sends: 30,
        refresh_seconds: 1,
        variants: Object.keys(CONVERSION_RATE).map((id) => ({ id, text: `Subject ${id}` })),
      }),
    ).toBe(201);

    const problems: string[] = [];
    /** Final variant of every recipient served, and who clicked and converted. */
    const shownTo = new Map<string, string>();
    const clicked = new Set<string>();
    const converted = new Set<string>();
    const waveShares: Array<Record<string, number>> = [];
    let fallbackAnswers = 0;

    const serve = async (recipient: string): Promise<Served> => {
      let fallbacks = 0;
      for (let attempt = 0; ; attempt++) {
        const served = await api.content(EXPERIMENT, sha256Hex(recipient), 'cmp-conversions');
        if (served.status !== 200 || !served.body) {
          problems.push(`content for ${recipient}: ${served.status} ${served.raw.slice(0, 200)}`);
        } else if (!served.body.fallback || attempt >= MAX_RERENDERS) {
          return { recipient, answer: served.body, fallbacks };
        } else {
          fallbacks++;
        }
        if (attempt >= MAX_RERENDERS) throw new Error(`no answer for ${recipient}: ${problems.at(-1)}`);
      }
    };

    const post = async (token: string, type: 'click' | 'conversion', expected: string): Promise<void> => {
      const answer: EventAnswer = await api.postEvent(token, type, { server: true });
      // Always 204 (DESIGN §3): what counted is checked exactly in the report below.
      if (answer.status !== 204) {
        problems.push(`${type} ${expected}: ${answer.status} ${JSON.stringify(answer.body)}`);
      }
    };

    for (let wave = 0; wave < WAVES; wave++) {
      const recipients = Array.from({ length: PER_WAVE }, (_, i) => `conversions-w${wave}-r${i}`);
      const startedAt = Date.now();
      const served = await inBatches(recipients, CONCURRENCY, serve);
      const servedAt = Date.now();
      const tally: Record<string, number> = { a: 0, b: 0, c: 0 };
      const posts: Array<() => Promise<void>> = [];
      for (const { recipient, answer, fallbacks } of served) {
        fallbackAnswers += fallbacks;
        if (answer.fallback || !answer.variant || !answer.token) {
          problems.push(`still a fallback after ${MAX_RERENDERS} renders: ${recipient}`);
          continue;
        }
        shownTo.set(recipient, answer.variant);
        tally[answer.variant] = (tally[answer.variant] ?? 0) + 1;
        const token = answer.token;
        const converts = random() < CONVERSION_RATE[answer.variant]!;
        const clicks = converts || random() < CLICK_ONLY_RATE;
        if (clicks) {
          clicked.add(recipient);
          posts.push(() => post(token, 'click', 'counted'));
        }
        if (converts) {
          converted.add(recipient);
          // The customer's server retries now and then: a repeat is a duplicate, never a second conversion.
          const repeat = converted.size % 4 === 0;
          posts.push(async () => {
            await post(token, 'conversion', 'counted');
            if (repeat) await post(token, 'conversion', 'duplicate');
          });
        }
      }
      await inBatches(posts, CONCURRENCY, (send) => send());
      waveShares.push(Object.fromEntries(Object.entries(tally).map(([id, n]) => [id, n / PER_WAVE])));
      const seconds = (from: number, to: number) => `${((to - from) / 1000).toFixed(1)} s`;
      console.log(
        `wave ${wave}: ${JSON.stringify(tally)} served in ${seconds(startedAt, servedAt)}, ` +
          `${posts.length} recipients posted in ${seconds(servedAt, Date.now())}`,
      );
      if (wave < WAVES - 1) await new Promise((resolve) => setTimeout(resolve, BETWEEN_WAVES_MS));
    }
    console.log(`fallback answers rendered again: ${fallbackAnswers}`);
    expect(problems).toEqual([]);
    expect(shownTo.size).toBe(WAVES * PER_WAVE);

    // Exact: each counter is the number of distinct recipients it claims to count, per variant.
    const report = await api.report(EXPERIMENT);
    const count = (recipients: Iterable<string>) => {
      const byVariant: Record<string, number> = { a: 0, b: 0, c: 0 };
      for (const r of recipients) byVariant[shownTo.get(r)!]! += 1;
      return byVariant;
    };
    const figures = (field: 'sends' | 'clicks' | 'conversions') =>
      Object.fromEntries(report.variants.map((v) => [v.id, v[field]]));
    expect(figures('sends')).toEqual(count(shownTo.keys()));
    expect(figures('conversions')).toEqual(count(converted));
    expect(figures('clicks')).toEqual(count(clicked));
    expect(report.variants.reduce((s, v) => s + v.sends, 0)).toBe(shownTo.size);
    expect(report.variants.reduce((s, v) => s + v.conversions, 0)).toBe(converted.size);
    expect(report.variants.reduce((s, v) => s + v.beacon_clicks, 0)).toBe(clicked.size);
    for (const v of report.variants) {
      expect(v.conversion_rate, v.id).toBe(Number((v.conversions / v.sends).toFixed(6)));
    }
    expect(report).toMatchObject({ metric: 'conversions', has_data: true, leader: 'c' });

    // Learning: burn-in spreads the first wave; the last goes mostly to the best converter.
    console.log(`shares by wave: ${JSON.stringify(waveShares)}`);
    expect(waveShares[0]!['c']).toBeLessThan(0.5);
    expect(waveShares.at(-1)!['c']).toBeGreaterThan(0.5);

    const client = localDynamoDbClient(stack.tenantFile.dynamodb_endpoint);
    try {
      expect((await reconcileTable(client, stack.tenantFile.table ?? 'weft-local')).drift).toBe(0);
    } finally {
      client.destroy();
    }
  }, 240_000);
});
