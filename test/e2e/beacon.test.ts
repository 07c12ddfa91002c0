// Issue 13, in a real browser against the local stack: the landing-page beacon (`/v1/weft.js`) on a customer's
// page opened from an email link reports one click per visit (once the page has been seen), takes `weft=` out
// of the address bar, reports `weft('conversion')` from a later page of the visit, and counts nothing for a
// forged token or a page nobody sees. A Currents click for a recipient the beacon already counted is a
// duplicate; one for another recipient counts as a Currents click.
//
// Headless Chromium through playwright-core, as test/e2e/dashboard.test.ts drives it, with a desktop browser's
// agent (the machine classifier rightly treats `HeadlessChrome` as a machine).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CAMPAIGN_ID,
  clickRecord,
  clickSchema,
  currentsKey,
  writeCurrentsFile,
} from '../support/currents-fixtures';
import { type LocalStack, startLocalStack } from '../support/local-stack';
import {
  byVariant,
  type ContentAnswer,
  forgeToken,
  type IngestionFile,
  sha256Hex,
  sleepUntil,
  uniqueId,
  type WeftApi,
  weftApi,
} from '../support/weft-api';

const EXPERIMENT = uniqueId('landing-beacon');
const VARIANTS = [
  { id: 'a', text: 'Spring savings start now' },
  { id: 'b', text: 'Your spring sale is here' },
];
/** Chrome on Windows, as a person's browser sends it (no "Headless"). */
const DESKTOP_BROWSER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
/** Past the classifier's prefetch window (10 s after the send): a person rarely clicks sooner. */
const AFTER_SEND_MS = 15_000;
/** The product's bound: a visit's click is in the report within 5 s of the page being opened. */
const CLICK_VISIBLE_MS = 5_000;
/** How long a page that should report nothing is given to report something anyway. */
const QUIET_MS = 5_000;
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];
const FIELDS = ['sends', 'clicks', 'beacon_clicks', 'currents_clicks', 'conversions'] as const;
type Figures = Record<string, Record<(typeof FIELDS)[number], number>>;

/** The recipients of the test, what they were shown and what should count for them. */
interface Recipient {
  readonly name: string;
  readonly userId: string;
  readonly answer: ContentAnswer;
  beaconClick: boolean;
  currentsClick: boolean;
  conversion: boolean;
}

function expected(recipients: readonly Recipient[]): Figures {
  const figures: Figures = {};
  for (const { id } of VARIANTS)
    figures[id] = { sends: 0, clicks: 0, beacon_clicks: 0, currents_clicks: 0, conversions: 0 };
  for (const r of recipients) {
    const f = figures[r.answer.variant!]!;
    f.sends += 1;
    if (r.beaconClick || r.currentsClick) f.clicks += 1;
    if (r.beaconClick) f.beacon_clicks += 1;
    else if (r.currentsClick) f.currents_clicks += 1;
    if (r.conversion) f.conversions += 1;
  }
  return figures;
}

/** What the browser posted to `/v1/events`. */
interface Beacon {
  readonly body: { token?: string; type?: string } | null;
}

interface BrowserGlobals {
  weft(type: string): void;
  cspViolations: string[];
  document: { visibilityState: string };
}

/** Init script: records CSP violations, so a beacon blocked by the page's policy is visible to the test. */
const CSP_RECORDER = `
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
`;
/** Init script: a page in a background tab that is never shown (Page Visibility API says hidden). */
const NEVER_VISIBLE = `
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => 'hidden' });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => true });
`;

/** The customer's site: a landing page and a checkout page, both loading the beacon under a strict CSP. */
async function startLandingSite(weftBaseUrl: string): Promise<{ server: Server; origin: string }> {
  const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<script src="${weftBaseUrl}/v1/weft.js"></script></head>
<body><h1>${title}</h1>${body}</body></html>`;
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const html =
      path === '/landing'
        ? page(
            'Spring sale',
            '<button id="buy" type="button">Add to basket</button><a href="/thanks">Checkout</a>',
          )
        : path === '/thanks'
          ? page('Thank you', '<p>Your order is confirmed.</p>')
          : null;
    if (html === null) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // Strict: nothing inline, only the weft origin for the script and its beacon.
      'content-security-policy': `default-src 'none'; script-src ${weftBaseUrl}; connect-src ${weftBaseUrl}`,
    });
    response.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('the landing beacon in a browser', () => {
  let stack: LocalStack;
  let api: WeftApi;
  let browser: Browser;
  let site: { server: Server; origin: string };
  const beacons: Beacon[] = [];
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const [started, launched] = await Promise.allSettled([
      startLocalStack(),
      chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS }),
    ]);
    if (started.status === 'fulfilled') stack = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    api = weftApi(stack);
    site = await startLandingSite(stack.baseUrl);
  }, 180_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    if (site) await new Promise((resolve) => site.server.close(resolve));
    await stack?.stop();
  }, 30_000);

  /** A fresh browser profile (its own sessionStorage), a person's desktop browser. */
  async function newVisitor(): Promise<BrowserContext> {
    const context = await browser.newContext({ userAgent: DESKTOP_BROWSER_AGENT });
    contexts.push(context);
    await context.addInitScript(CSP_RECORDER);
    context.on('request', (request) => {
      if (request.method() !== 'POST' || request.url() !== `${stack.baseUrl}/v1/events`) return;
      let body: Beacon['body'] = null;
      try {
        body = JSON.parse(request.postData() ?? 'null');
      } catch {
        body = null;
      }
      beacons.push({ body });
    });
    return context;
  }

  async function openPage(context: BrowserContext, url: string, initScript?: string): Promise<Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    if (initScript) await page.addInitScript(initScript);
    await page.goto(url);
    return page;
  }

  const figures = async () => byVariant(await api.report(EXPERIMENT), FIELDS);
  const beaconsFor = (token: string, type: string) =>
    beacons.filter((b) => b.body?.token === token && b.body?.type === type).length;

  it('counts one click per visit, a later conversion, nothing forged or unseen, and no Currents double', async () => {
    expect(
      await api.putExperiment(EXPERIMENT, { name: 'Landing beacon', metric: 'clicks', variants: VARIANTS }),
    ).toBe(201);
    const names = ['visitor', 'forged', 'background-tab', 'currents-only'];
    const contentAt = Date.now();
    const served = await Promise.all(
      names.map((name) => api.content(EXPERIMENT, sha256Hex(`beacon-${name}`), CAMPAIGN_ID)),
    );
    const [visitor, forged, hidden, currentsOnly] = served.map((s, i): Recipient => {
      expect(s.status, s.raw).toBe(200);
      expect(s.body?.token).toEqual(expect.any(String));
      expect(s.body?.link_param).toBe(`weft=${s.body?.token}`);
      return {
        name: names[i]!,
        userId: `beacon-${names[i]}`,
        answer: s.body!,
        beaconClick: false,
        currentsClick: false,
        conversion: false,
      };
    }) as [Recipient, Recipient, Recipient, Recipient];
    const everyone = [visitor, forged, hidden, currentsOnly];
    expect(everyone.filter((r) => r.answer.fallback).map((r) => r.name)).toEqual([]);
    expect(await figures()).toEqual(expected(everyone));

    // While the send ages: the script as browsers get it, and a forged token posted directly (204, ignored
    // silently: the answer never tells a genuine token from a forged one).
    const script = await fetch(`${stack.baseUrl}/v1/weft.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(script.headers.get('access-control-allow-origin')).toBe('*');
    expect(await script.text()).toContain('sendBeacon');
    const forgedToken = forgeToken(forged.answer.token!);
    expect(forgedToken).not.toBe(forged.answer.token);
    const direct = await api.postEvent(forgedToken, 'click', { userAgent: DESKTOP_BROWSER_AGENT });
    expect(direct.status).toBe(204);
    expect(await figures()).toEqual(expected(everyone));
    const malformed = await fetch(`${stack.baseUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'user-agent': DESKTOP_BROWSER_AGENT },
      body: JSON.stringify({ token: forgedToken, type: 'open' }),
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      error: { code: expect.any(String), message: expect.stringMatching(/^type/) },
    });
    await sleepUntil(contentAt + AFTER_SEND_MS);

    // The visit: the link's landing page, with the token and the customer's own parameter.
    const visit = await newVisitor();
    const openedAt = Date.now();
    const page = await openPage(visit, `${site.origin}/landing?weft=${visitor.answer.token}&utm=x`);
    visitor.beaconClick = true;
    await expect
      .poll(figures, {
        message: `one beacon click within ${CLICK_VISIBLE_MS / 1000} s of opening the page`,
        timeout: Math.max(0, openedAt + CLICK_VISIBLE_MS - Date.now()),
        interval: 200,
      })
      .toEqual(expected(everyone));
    const address = new URL(page.url());
    expect(page.url()).not.toContain('weft=');
    expect(address.pathname).toBe('/landing');
    expect(address.searchParams.get('utm')).toBe('x');
    expect(beaconsFor(visitor.answer.token!, 'click')).toBe(1);

    // A reload of the same page view's address: no second report.
    await page.reload();
    await delay(QUIET_MS / 2);
    expect(beaconsFor(visitor.answer.token!, 'click')).toBe(1);
    expect(await figures()).toEqual(expected(everyone));

    // The next page of the visit reports the conversion (and no click).
    await page.goto(`${site.origin}/thanks`);
    await page.evaluate(() => (globalThis as unknown as BrowserGlobals).weft('conversion'));
    visitor.conversion = true;
    await expect
      .poll(figures, {
        message: 'one conversion from the checkout page',
        timeout: CLICK_VISIBLE_MS,
        interval: 200,
      })
      .toEqual(expected(everyone));
    expect(beaconsFor(visitor.answer.token!, 'conversion')).toBe(1);
    expect(beaconsFor(visitor.answer.token!, 'click')).toBe(1);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).cspViolations)).toEqual([]);

    // A forged token (one character of the signature changed): the page reports, weft counts nothing.
    const forgedPage = await openPage(await newVisitor(), `${site.origin}/landing?weft=${forgedToken}&utm=x`);
    // A page nobody sees (a background tab, a scanner that renders without showing): nothing is reported.
    const hiddenPage = await openPage(
      await newVisitor(),
      `${site.origin}/landing?weft=${hidden.answer.token}&utm=x`,
      NEVER_VISIBLE,
    );
    expect(
      await hiddenPage.evaluate(() => (globalThis as unknown as BrowserGlobals).document.visibilityState),
    ).toBe('hidden');
    await delay(QUIET_MS);
    expect(beaconsFor(forgedToken, 'click')).toBe(1);
    expect(beaconsFor(hidden.answer.token!, 'click')).toBe(0);
    expect(new URL(forgedPage.url()).searchParams.has('weft')).toBe(false);
    expect(new URL(hiddenPage.url()).searchParams.has('weft')).toBe(false);
    expect(await figures()).toEqual(expected(everyone));

    // Currents, minutes later: the visitor's click again (by the token in the URL) and another recipient's.
    const now = Math.floor(Date.now() / 1000);
    const key = currentsKey({ folder: stack.tenantFile.folder, layout: 'version', date: '2026-04-01-09' });
    const file = await writeCurrentsFile(
      clickSchema(),
      [visitor, currentsOnly].map((r) =>
        clickRecord({
          id: `beacon-e2e-${r.name}`,
          user_id: r.userId,
          campaign_id: CAMPAIGN_ID,
          url: `https://shop.example/sale?utm=x&weft=${r.answer.token}`,
          time: now,
        }),
      ),
    );
    await stack.s3Client.send(
      new PutObjectCommand({ Bucket: stack.tenantFile.bucket, Key: key, Body: file }),
    );
    currentsOnly.currentsClick = true;
    visitor.currentsClick = true;
    let entry: IngestionFile | undefined;
    await expect
      .poll(
        async () => {
          entry = (await api.ingestion()).find((f) => f.key === key);
          return entry?.status;
        },
        { message: 'the Currents file is ingested', timeout: 45_000, interval: 300 },
      )
      .toBe('ok');
    expect(entry).toMatchObject({ events: 2, attributed: 1, duplicates: 1, bots: 0 });
    const final = await figures();
    expect(final).toEqual(expected(everyone));
    // The visitor's variant: still one click, and it is the beacon's.
    const visitorVariant = final[visitor.answer.variant!]!;
    const others = everyone.filter((r) => r !== visitor && r.answer.variant === visitor.answer.variant);
    expect(visitorVariant.beacon_clicks).toBe(1);
    expect(visitorVariant.clicks).toBe(1 + others.filter((r) => r.currentsClick).length);
    expect(visitorVariant.currents_clicks).toBe(others.filter((r) => r.currentsClick).length);
    expect(visitorVariant.conversions).toBe(1);
  }, 150_000);

  it("takes only `weft=` out of the address bar: the page's other parameters stay exactly as written", async () => {
    // The customer's own parameters, as an email link writes them: a space as %20, a path, a bare flag. The
    // page and its analytics read them after the beacon rewrote the address, so they must be the same text.
    const others = 'utm_source=braze&utm_campaign=spring%20sale&next=/cart&flag';
    // Never visible: this is about the address only, so no event is sent (the token is not a real one).
    const page = await openPage(
      await newVisitor(),
      `${site.origin}/landing?utm_source=braze&weft=not-a-token&utm_campaign=spring%20sale&next=/cart&flag#top`,
      NEVER_VISIBLE,
    );
    const address = new URL(page.url());
    expect(address.searchParams.has('weft')).toBe(false);
    expect(address.hash).toBe('#top');
    expect(address.search).toBe(`?${others}`);
  }, 30_000);
});
