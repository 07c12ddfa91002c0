// Issue 12, through the local stack: machine opens on the pixel (a bare `Mozilla/5.0` agent as Apple's
// Privacy Protection proxy sends, a HEAD probe, Node's own HTTP client) count `machine_opens`, never `opens`;
// a desktop mail client's fetch is a person's open. Each counts once per recipient, and a person's open after
// a machine's still counts and makes the recipient observable again. Every figure is exact, per variant.
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIL_CLIENT_AGENT } from '../support/events';
import { type LocalStack, startLocalStack } from '../support/local-stack';
import {
  byVariant,
  type ContentAnswer,
  type Report,
  sha256Hex,
  sleepUntil,
  uniqueId,
  type WeftApi,
  weftApi,
} from '../support/weft-api';

const EXPERIMENT = uniqueId('machine-opens');
const RACE_EXPERIMENT = uniqueId('open-races');
const RACERS = 12;
const VARIANTS = [
  { id: 'a', text: 'Spring savings start now' },
  { id: 'b', text: 'Your spring sale is here' },
];
/** Apple Mail Privacy Protection's prefetch agent: nothing after the product token. */
const BARE_AGENT = 'Mozilla/5.0';
/** Past the classifier's prefetch window (10 s after the send), so only the agent or method can decide. */
const AFTER_SEND_MS = 15_000;
const FIELDS = ['sends', 'opens', 'machine_opens', 'observable_sends'] as const;

/** What the test knows of one recipient: the variant it was shown and which opens the pixel has seen. */
interface Recipient {
  readonly name: string;
  readonly answer: ContentAnswer;
  opened: boolean;
  machineOpened: boolean;
}

/** Exact report figures from what each recipient has done: the rule of domain/counting.ts, restated. */
function expected(recipients: readonly Recipient[]) {
  const figures: Record<string, Record<(typeof FIELDS)[number], number>> = {};
  for (const { id } of VARIANTS) figures[id] = { sends: 0, opens: 0, machine_opens: 0, observable_sends: 0 };
  for (const r of recipients) {
    const f = figures[r.answer.variant!]!;
    f.sends += 1;
    if (r.opened) f.opens += 1;
    if (r.machineOpened) f.machine_opens += 1;
    if (!r.machineOpened || r.opened) f.observable_sends += 1;
  }
  return figures;
}

describe('machine opens through the local stack', () => {
  let stack: LocalStack;
  let api: WeftApi;

  beforeAll(async () => {
    stack = await startLocalStack();
    api = weftApi(stack);
  }, 180_000);
  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  const pixel = async (recipient: Recipient, method: 'GET' | 'HEAD', userAgent: string | null) => {
    const headers: Record<string, string> = userAgent === null ? {} : { 'user-agent': userAgent };
    const response = await fetch(recipient.answer.pixel_url!, { method, headers });
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.status, `${method} pixel of ${recipient.name}`).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/gif');
    expect(response.headers.get('cache-control')).toMatch(/no-store/);
    expect(body.length, `${method} pixel body of ${recipient.name}`).toBe(method === 'HEAD' ? 0 : 43);
  };

  const figures = async (experiment = EXPERIMENT) => byVariant(await api.report(experiment), FIELDS);

  /** The report reaches `want` (a write that missed the pixel's budget may land a moment later). */
  const expectFigures = async (
    want: ReturnType<typeof expected>,
    message: string,
    experiment = EXPERIMENT,
  ) => {
    await expect.poll(() => figures(experiment), { message, timeout: 10_000, interval: 250 }).toEqual(want);
  };

  /** Nothing moves: the report is `want` now and still `want` a moment later. */
  const expectUnchanged = async (want: ReturnType<typeof expected>, message: string) => {
    expect(await figures(), message).toEqual(want);
    await delay(1_500);
    expect(await figures(), message).toEqual(want);
  };

  it('counts bare agents, HEADs and HTTP libraries as machine opens, a mail client as an open, each once', async () => {
    expect(
      await api.putExperiment(EXPERIMENT, { name: 'Machine opens', metric: 'opens', variants: VARIANTS }),
    ).toBe(201);

    const names = ['apple-mpp-then-person', 'thunderbird', 'node-fetch', 'never-opened', 'head-probe'];
    const contentAt = Date.now();
    const served = await Promise.all(
      names.map((name) => api.content(EXPERIMENT, sha256Hex(`machine-opens-${name}`))),
    );
    const [a, b, c, d, e] = served.map((s, i): Recipient => {
      expect(s.status, s.raw).toBe(200);
      expect(s.body?.pixel_url).toEqual(expect.stringMatching(/\/v1\/pixel\/[^/]+\.gif$/));
      return { name: names[i]!, answer: s.body!, opened: false, machineOpened: false };
    }) as [Recipient, Recipient, Recipient, Recipient, Recipient];
    const everyone = [a, b, c, d, e];
    // A fallback answer's send may land late; none is expected on an idle stack, and the figures need them all.
    expect(everyone.filter((r) => r.answer.fallback).map((r) => r.name)).toEqual([]);
    await expectFigures(expected(everyone), 'sends only');

    await sleepUntil(contentAt + AFTER_SEND_MS);

    // A: Privacy Protection's prefetch (bare agent), then a HEAD probe carrying a mail client's agent: the
    // method alone must decide.
    await pixel(a, 'GET', BARE_AGENT);
    a.machineOpened = true;
    await expectFigures(expected(everyone), 'A: a bare Mozilla/5.0 GET is one machine open, no open');
    await pixel(a, 'HEAD', MAIL_CLIENT_AGENT);
    await expectUnchanged(expected(everyone), 'A: a HEAD adds nothing (machine, and A already counted)');

    // E: only a HEAD, with a mail client's agent: a machine open on its own.
    await pixel(e, 'HEAD', MAIL_CLIENT_AGENT);
    e.machineOpened = true;
    await expectFigures(expected(everyone), 'E: a HEAD alone is one machine open, no open');

    // C: Node's fetch with its own default agent, an HTTP library.
    await pixel(c, 'GET', null);
    c.machineOpened = true;
    await expectFigures(expected(everyone), "C: Node's default agent is a machine open");

    // B: a desktop mail client showing the message.
    await pixel(b, 'GET', MAIL_CLIENT_AGENT);
    b.opened = true;
    await expectFigures(expected(everyone), 'B: Thunderbird is an open');
    const afterFirst = await api.report(EXPERIMENT);
    for (const r of [a, b, c, e]) {
      const v = afterFirst.variants.find((x) => x.id === r.answer.variant)!;
      expect(v.opens, `opens of ${r.name}'s variant`).toBe(expected(everyone)[v.id]!.opens);
    }

    // Repeats of every request change nothing.
    await pixel(a, 'GET', BARE_AGENT);
    await pixel(a, 'HEAD', MAIL_CLIENT_AGENT);
    await pixel(a, 'HEAD', null);
    await pixel(b, 'GET', MAIL_CLIENT_AGENT);
    await pixel(c, 'GET', null);
    await pixel(e, 'HEAD', MAIL_CLIENT_AGENT);
    await expectUnchanged(expected(everyone), 'repeats count nothing');

    // A's person opens the message in Thunderbird: an open, the machine open stays, A is observable again.
    const before = byVariant(await api.report(EXPERIMENT), FIELDS)[a.answer.variant!]!;
    await pixel(a, 'GET', MAIL_CLIENT_AGENT);
    a.opened = true;
    await expectFigures(expected(everyone), "A: a person's open after the machine's counts");
    const after = byVariant(await api.report(EXPERIMENT), FIELDS)[a.answer.variant!]!;
    expect(after).toEqual({
      sends: before.sends,
      opens: before.opens + 1,
      machine_opens: before.machine_opens,
      observable_sends: before.observable_sends + 1,
    });
    await pixel(a, 'GET', MAIL_CLIENT_AGENT);
    await expectUnchanged(expected(everyone), "A's second human open counts nothing");

    // The rates follow the same figures: raw opens over sends, and over observable sends.
    const report: Report = await api.report(EXPERIMENT);
    for (const v of report.variants) {
      const want = expected(everyone)[v.id]!;
      expect(v.open_rate).toBe(want.sends > 0 ? Number((want.opens / want.sends).toFixed(6)) : null);
      expect(v.observable_open_rate).toBe(
        want.observable_sends > 0 ? Number((want.opens / want.observable_sends).toFixed(6)) : null,
      );
    }
    // Totals, whatever the split: 5 sends, 2 opens (A, B), 3 machine opens (A, C, E), 3 observable (not C, E).
    const total = (field: (typeof FIELDS)[number]) => report.variants.reduce((s, v) => s + v[field], 0);
    expect(FIELDS.map(total)).toEqual([5, 2, 3, 3]);
  }, 120_000);

  it("counts a machine's and a person's open arriving at the same moment once each", async () => {
    expect(
      await api.putExperiment(RACE_EXPERIMENT, { name: 'Open races', metric: 'opens', variants: VARIANTS }),
    ).toBe(201);
    const served = await Promise.all(
      Array.from({ length: RACERS }, (_, i) => api.content(RACE_EXPERIMENT, sha256Hex(`open-race-${i}`))),
    );
    const racers = served.map((s, i): Recipient => {
      expect(s.status, s.raw).toBe(200);
      expect(s.body?.fallback).toBe(false);
      return { name: `racer-${i}`, answer: s.body!, opened: true, machineOpened: true };
    });

    // Per recipient at once: a Privacy Protection prefetch, a HEAD probe, and the person's client twice. Both
    // open kinds change what the other adds (machine-only recipients), so the writes contend on each item.
    await Promise.all(
      racers.flatMap((r) => [
        pixel(r, 'GET', BARE_AGENT),
        pixel(r, 'HEAD', null),
        pixel(r, 'GET', MAIL_CLIENT_AGENT),
        pixel(r, 'GET', MAIL_CLIENT_AGENT),
      ]),
    );

    await expectFigures(expected(racers), 'one open and one machine open per recipient', RACE_EXPERIMENT);
    await delay(1_500);
    expect(await figures(RACE_EXPERIMENT)).toEqual(expected(racers));
    const total = (await api.report(RACE_EXPERIMENT)).variants.reduce(
      (sum, v) => [
        sum[0]! + v.sends,
        sum[1]! + v.opens,
        sum[2]! + v.machine_opens,
        sum[3]! + v.observable_sends,
      ],
      [0, 0, 0, 0],
    );
    expect(total).toEqual([RACERS, RACERS, RACERS, RACERS]);
  }, 60_000);
});
