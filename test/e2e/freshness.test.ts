// Issue 10, through the local stack: "After an edit or pause, 10 s later, the next requests to every container
// see the new state — the local stack too." The stack keeps 16 warm content workers (local/config.ts,
// WEFT_WARM_CONTENT_WORKERS); the test warms each with the experiment (and with remembered recipients, the path
// that answers without a store read), edits a text, and 10 s later sends rounds of 16 concurrent requests:
// every answer shows the new text. Then a pause: 10 s later new recipients get the documented paused answer
// (the first variant, no token) and no send is recorded; the same for a finish with a winner. `refresh_seconds`
// is set to its maximum: definitions have their own clock (DESIGN §9), whatever the allocation's refresh says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../support/local-stack';
import { type Served, sha256Hex, sleepUntil, uniqueId, type WeftApi, weftApi } from '../support/weft-api';

const EXPERIMENT = uniqueId('freshness');
const WORKERS = 16;
const WARM_ROUNDS = 4;
const ROUNDS_AFTER = 3;
/** The product's bound for an edit, pause or finish to reach every container (DESIGN §3 Content). */
const FRESH_WITHIN_MS = 10_000;
const OLD_TEXT: Record<string, string> = { a: 'Spring savings start now', b: 'Your spring sale is here' };
const NEW_TEXT: Record<string, string> = { ...OLD_TEXT, a: 'Spring savings: 30% off until Sunday' };

interface Call {
  readonly recipient: string;
  readonly served: Served;
}

describe('freshness of edits, pauses and finishes on every warm worker of the local stack', () => {
  let stack: LocalStack;
  let api: WeftApi;

  beforeAll(async () => {
    stack = await startLocalStack();
    api = weftApi(stack);
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  /** One round: every recipient at once (16 concurrent requests, one per warm worker). */
  const round = (recipients: readonly string[]): Promise<Call[]> =>
    Promise.all(
      recipients.map(async (recipient) => ({
        recipient,
        served: await api.content(EXPERIMENT, sha256Hex(recipient)),
      })),
    );

  /** Everything about these answers that is not what `expect` wants, spelled out (504s, fallbacks, texts). */
  const anomalies = (calls: readonly Call[], want: (call: Call) => Record<string, unknown>): string[] =>
    calls.flatMap((call) => {
      const { status, body, raw } = call.served;
      if (status !== 200 || !body) return [`${call.recipient}: HTTP ${status} ${raw.slice(0, 160)}`];
      const expected = want(call);
      const wrong = Object.entries(expected).filter(
        ([k, v]) => (body as unknown as Record<string, unknown>)[k] !== v,
      );
      return wrong.length === 0
        ? []
        : [
            `${call.recipient}: ${wrong.map(([k, v]) => `${k} ${JSON.stringify((body as unknown as Record<string, unknown>)[k])} (want ${JSON.stringify(v)})`).join(', ')}`,
          ];
    });

  const totalSends = async () => (await api.report(EXPERIMENT)).variants.reduce((s, v) => s + v.sends, 0);

  it('shows an edited text, a pause and a finish on every worker 10 s later', async () => {
    expect(
      await api.putExperiment(EXPERIMENT, {
        name: 'Freshness',
        metric: 'clicks',
        refresh_seconds: 300,
        variants: Object.entries(OLD_TEXT).map(([id, text]) => ({ id, text })),
      }),
    ).toBe(201);

    // Warm every worker with the experiment: new recipients, then the same again (remembered answers).
    const assigned = new Map<string, string>();
    const warmRecipients = Array.from({ length: WARM_ROUNDS * WORKERS }, (_, i) => `fresh-warm-${i}`);
    const warm: Call[] = [];
    for (let r = 0; r < WARM_ROUNDS; r++)
      warm.push(...(await round(warmRecipients.slice(r * WORKERS, (r + 1) * WORKERS))));
    for (let r = 0; r < 2; r++)
      warm.push(...(await round(warmRecipients.slice(r * WORKERS, (r + 1) * WORKERS))));
    for (const { recipient, served } of warm)
      if (served.body?.variant) assigned.set(recipient, served.body.variant);
    expect(
      anomalies(warm, ({ recipient }) => ({
        fallback: false,
        variant: assigned.get(recipient),
        text: OLD_TEXT[assigned.get(recipient)!],
      })),
    ).toEqual([]);
    expect(assigned.size).toBe(WARM_ROUNDS * WORKERS);
    const sendsBeforeEdit = await totalSends();
    expect(sendsBeforeEdit).toBe(WARM_ROUNDS * WORKERS);

    // The edit: variant a's text.
    expect(
      await api.putExperiment(EXPERIMENT, {
        name: 'Freshness',
        metric: 'clicks',
        variants: Object.entries(NEW_TEXT).map(([id, text]) => ({ id, text })),
      }),
    ).toBe(200);
    await sleepUntil(Date.now() + FRESH_WITHIN_MS);

    // 3 rounds of 16 at once: 8 already assigned (a's recipients first: they must show the new text) + 8 new.
    const byA = [...assigned.keys()].sort(
      (x, y) => Number(assigned.get(x) !== 'a') - Number(assigned.get(y) !== 'a'),
    );
    const after: Call[] = [];
    for (let r = 0; r < ROUNDS_AFTER; r++) {
      const known = byA.slice(r * (WORKERS / 2), (r + 1) * (WORKERS / 2));
      const fresh = Array.from({ length: WORKERS / 2 }, (_, i) => `fresh-after-edit-${r}-${i}`);
      after.push(...(await round([...known, ...fresh])));
    }
    const afterEdit = anomalies(after, ({ recipient, served }) => {
      const variant = assigned.get(recipient) ?? served.body?.variant ?? '?';
      return { fallback: false, variant, text: NEW_TEXT[variant] };
    });
    expect(afterEdit, 'answers 10 s after the edit').toEqual([]);
    // Each round showed the edited variant, to recipients assigned before the edit.
    for (let r = 0; r < ROUNDS_AFTER; r++) {
      const inRound = after.slice(r * WORKERS, (r + 1) * WORKERS);
      expect(
        inRound.filter((c) => c.served.body?.variant === 'a' && c.recipient.startsWith('fresh-warm-')).length,
      ).toBeGreaterThan(0);
    }
    for (const { recipient, served } of after)
      if (served.body?.variant) assigned.set(recipient, served.body.variant);
    expect(await totalSends()).toBe(sendsBeforeEdit + ROUNDS_AFTER * (WORKERS / 2));

    // The pause.
    expect(await api.setStatus(EXPERIMENT, 'paused')).toBe(200);
    const sendsAtPause = await totalSends();
    await sleepUntil(Date.now() + FRESH_WITHIN_MS);

    const newcomers = await round(Array.from({ length: WORKERS }, (_, i) => `fresh-after-pause-${i}`));
    // DESIGN §3: no assignment, so the winner (none), else the first variant; no token, nothing recorded.
    const pausedNew = anomalies(newcomers, () => ({
      fallback: false,
      variant: 'a',
      text: NEW_TEXT['a'],
      token: null,
      pixel_url: null,
      link_param: '',
    }));
    expect(pausedNew, 'new recipients 10 s after the pause').toEqual([]);
    // Those already assigned keep their variant, with its (valid) token.
    const returning = await round([...assigned.keys()].slice(0, WORKERS));
    const pausedKnown = anomalies(returning, ({ recipient }) => ({
      fallback: false,
      variant: assigned.get(recipient),
      text: NEW_TEXT[assigned.get(recipient)!],
    }));
    expect(pausedKnown, 'assigned recipients while paused').toEqual([]);
    expect(returning.every((c) => typeof c.served.body?.token === 'string')).toBe(true);

    const report = await api.report(EXPERIMENT);
    expect(report.status).toBe('paused');
    expect(report.variants.reduce((s, v) => s + v.sends, 0)).toBe(sendsAtPause);
    expect(sendsAtPause).toBe(sendsBeforeEdit + ROUNDS_AFTER * (WORKERS / 2));
    expect(Object.fromEntries(report.variants.map((v) => [v.id, v.text]))).toEqual(NEW_TEXT);

    // Finished with a winner: 10 s later every new recipient gets the winner, still without a send.
    expect(await api.setStatus(EXPERIMENT, 'finished', 'b')).toBe(200);
    await sleepUntil(Date.now() + FRESH_WITHIN_MS);
    const afterFinish = await round(Array.from({ length: WORKERS }, (_, i) => `fresh-after-finish-${i}`));
    const finishedNew = anomalies(afterFinish, () => ({
      fallback: false,
      variant: 'b',
      text: NEW_TEXT['b'],
      token: null,
      pixel_url: null,
      link_param: '',
    }));
    expect(finishedNew, 'new recipients 10 s after finishing with b').toEqual([]);
    const finished = await api.report(EXPERIMENT);
    expect(finished).toMatchObject({ status: 'finished', winner: 'b' });
    expect(finished.variants.reduce((s, v) => s + v.sends, 0)).toBe(sendsAtPause);
  }, 120_000);
});
