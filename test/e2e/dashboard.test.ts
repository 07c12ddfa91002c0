// The marketer's dashboard in a real browser (headless Chromium through playwright-core) against a backend
// that serves the page through handlers/dashboard.ts and answers the admin JSON API.
// Every expectation about data is read from the backend's own report, so any backend with the same API works.

import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as dashboardHandler } from '../../handlers/dashboard';
import { MAIL_CLIENT_AGENT } from '../support/events';
import { startLocalStack } from '../support/local-stack';

// ---------------------------------------------------------------------------------------------------------
// Backend seam: the test needs a base URL, an admin token, one experiment with traffic and one without.

interface Backend {
  readonly baseUrl: string;
  readonly adminToken: string;
  /** An experiment with traffic, a control and a retired variant: the one the test drives. */
  readonly experimentId: string;
  /** An experiment with (next to) no sends, whose statistics are still empty. */
  readonly earlyExperimentId: string;
  /** Status POSTs the server saw, when the backend can tell (the fixture can, a real stack need not). */
  readonly statusPosts?: readonly StatusPost[];
  stop(): Promise<void>;
}

interface StatusPost {
  readonly experiment: string;
  readonly body: unknown;
}

/**
 * The real local stack (`npm start`'s code) by default; `WEFT_E2E_BACKEND=fixture` swaps in a fixture server
 * with six hours of fixed data, for fast iteration on the page itself.
 */
async function startBackend(): Promise<Backend> {
  return process.env['WEFT_E2E_BACKEND'] === 'fixture' ? startFixtureBackend() : startLocalStackBackend();
}

// ---------------------------------------------------------------------------------------------------------
// The real local stack, seeded through the public API: experiments by the admin API, traffic through
// Connected Content calls and open pixels, a retired variant by leaving it out of a second PUT.

async function startLocalStackBackend(): Promise<Backend> {
  const stack = await startLocalStack();
  try {
    const { admin_token: adminToken, connect_token: connectToken } = stack.tenantFile;
    const call = async (method: string, route: string, token: string, body?: unknown) => {
      const response = await fetch(`${stack.baseUrl}${route}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok)
        throw new Error(`${method} ${route} answered ${response.status}: ${await response.text()}`);
      return response.json() as Promise<Record<string, unknown>>;
    };
    const experimentId = `spring-sale-${randomBytes(3).toString('hex')}`;
    const earlyExperimentId = `welcome-${randomBytes(3).toString('hex')}`;
    const variants = SPRING_SALE_VARIANTS.map(({ id, text, control }) => ({ id, text, control }));
    await call('PUT', `/v1/experiments/${experimentId}`, adminToken, {
      name: 'Spring sale subject line',
      metric: 'opens',
      variants,
    });
    await call('PUT', `/v1/experiments/${earlyExperimentId}`, adminToken, {
      name: 'Welcome series',
      metric: 'opens',
      variants: [
        { id: 'hello', text: 'Welcome aboard', control: true },
        { id: 'hi', text: 'Hi there, glad you are here' },
      ],
    });
    // Opens in proportion to each variant's made-up true rate, scaled up so a few hundred sends tell them apart.
    const openEvery: Record<string, number> = { a: 4, b: 2, c: 5, d: 6 };
    for (let i = 0; i < 240; i += 1) {
      const query = new URLSearchParams({ experiment: experimentId, recipient: `dashboard-e2e-${i}` });
      const content = await call('GET', `/v1/content?${query}`, connectToken);
      const every = openEvery[String(content['variant'])] ?? 10;
      if (i % every === 0 && typeof content['pixel_url'] === 'string')
        await fetch(content['pixel_url'], { headers: { 'user-agent': MAIL_CLIENT_AGENT } });
    }
    await call('PUT', `/v1/experiments/${experimentId}`, adminToken, {
      name: 'Spring sale subject line',
      metric: 'opens',
      variants: variants.filter((v) => v.id !== 'd'),
    });
    return { baseUrl: stack.baseUrl, adminToken, experimentId, earlyExperimentId, stop: () => stack.stop() };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report shape (DESIGN §3), as far as the test reads it.

interface ReportVariant {
  id: string;
  text: string;
  state: 'active' | 'retired';
  control: boolean;
  sends: number;
  opens: number;
  clicks: number;
  open_rate: number | null;
  click_rate: number | null;
  ci_low: number | null;
  ci_high: number | null;
  p_best: number | null;
  expected_loss: number | null;
  allocation: number | null;
  uplift_vs_control: number | null;
  posterior: { alpha: number; beta: number };
}

interface SeriesPoint {
  hour: string;
  variants: Record<string, { sends: number; opens: number; clicks: number; allocation: number }>;
}

interface Report {
  experiment: string;
  metric: 'clicks' | 'opens';
  status: 'running' | 'paused' | 'finished';
  leader: string | null;
  confident: boolean;
  updated_at: string;
  variants: ReportVariant[];
  series: SeriesPoint[];
  winner?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Throwaway fixture backend: the dashboard through the real handler, the JSON API from fixtures.

interface FixtureExperiment {
  id: string;
  name: string;
  metric: 'clicks' | 'opens';
  status: Report['status'];
  winner?: string;
  report: () => Omit<Report, 'status' | 'winner'>;
}

const SPRING_SALE_VARIANTS = [
  { id: 'a', text: 'Spring sale: 20% off everything', control: true, trueRate: 0.028 },
  { id: 'b', text: 'Spring’s here: savings start now', control: false, trueRate: 0.038 },
  { id: 'c', text: 'Your spring wardrobe, refreshed', control: false, trueRate: 0.025 },
  {
    id: 'd',
    text: 'Last chance: spring deals end Sunday',
    control: false,
    trueRate: 0.023,
    retiredAtHour: 3,
  },
] as const;

/** Hourly shares a bandit would plausibly produce: burn-in, then b pulls ahead; a (control) holds 20%. */
const HOURLY_SHARES: readonly Record<string, number>[] = [
  { a: 0.25, b: 0.25, c: 0.25, d: 0.25 },
  { a: 0.25, b: 0.25, c: 0.25, d: 0.25 },
  { a: 0.2, b: 0.42, c: 0.26, d: 0.12 },
  { a: 0.2, b: 0.55, c: 0.25, d: 0 },
  { a: 0.2, b: 0.66, c: 0.14, d: 0 },
  { a: 0.2, b: 0.74, c: 0.06, d: 0 },
];
const HOURLY_SENDS = [2400, 2600, 2800, 3000, 3200, 3400];
const FIXTURE_P_BEST: Record<string, number> = { a: 0.0131, b: 0.9821, c: 0.0048, d: 0 };
const FIXTURE_LOSS: Record<string, number> = { a: 0.0098, b: 0.000021, c: 0.0127, d: 0.0151 };

function springSaleReport(): Omit<Report, 'status' | 'winner'> {
  const start = Date.parse('2026-03-02T08:00:00Z');
  const series: SeriesPoint[] = HOURLY_SHARES.map((shares, hour) => {
    const variants: SeriesPoint['variants'] = {};
    for (const v of SPRING_SALE_VARIANTS) {
      const share = shares[v.id] ?? 0;
      const sends = Math.round((HOURLY_SENDS[hour] ?? 0) * share);
      variants[v.id] = {
        sends,
        opens: Math.round(sends * 0.31),
        clicks: Math.round(sends * v.trueRate * (0.85 + 0.05 * hour)),
        allocation: share,
      };
    }
    return { hour: new Date(start + hour * 3_600_000).toISOString(), variants };
  });
  const totals = (id: string) =>
    series.reduce(
      (sum, point) => {
        const entry = point.variants[id];
        return entry
          ? {
              sends: sum.sends + entry.sends,
              opens: sum.opens + entry.opens,
              clicks: sum.clicks + entry.clicks,
            }
          : sum;
      },
      { sends: 0, opens: 0, clicks: 0 },
    );
  const control = totals('a');
  const controlRate = control.clicks / control.sends;
  const variants = SPRING_SALE_VARIANTS.map((v): ReportVariant => {
    const t = totals(v.id);
    const alpha = 1 + t.clicks;
    const beta = 1 + t.sends - t.clicks;
    const mean = alpha / (alpha + beta);
    const sd = Math.sqrt((alpha * beta) / ((alpha + beta) ** 2 * (alpha + beta + 1)));
    const rate = t.clicks / t.sends;
    return {
      id: v.id,
      text: v.text,
      state: 'retiredAtHour' in v ? 'retired' : 'active',
      control: v.control,
      ...t,
      open_rate: t.opens / t.sends,
      click_rate: rate,
      ci_low: Math.max(0, mean - 1.96 * sd),
      ci_high: mean + 1.96 * sd,
      p_best: FIXTURE_P_BEST[v.id] ?? null,
      expected_loss: FIXTURE_LOSS[v.id] ?? null,
      allocation: HOURLY_SHARES.at(-1)?.[v.id] ?? 0,
      uplift_vs_control: v.control ? null : rate / controlRate - 1,
      posterior: { alpha, beta },
    };
  });
  return {
    experiment: 'spring-sale',
    metric: 'clicks',
    leader: 'b',
    confident: true,
    updated_at: new Date(start + 6 * 3_600_000 - 42_000).toISOString(),
    variants,
    series,
  };
}

/** Minutes old: hardly any sends, every statistic still null. The page must cope. */
function welcomeSeriesReport(): Omit<Report, 'status' | 'winner'> {
  const early = (id: string, text: string, control: boolean): ReportVariant => ({
    id,
    text,
    state: 'active',
    control,
    sends: 2,
    opens: 0,
    clicks: 0,
    open_rate: null,
    click_rate: null,
    ci_low: null,
    ci_high: null,
    p_best: null,
    expected_loss: null,
    allocation: 0.5,
    uplift_vs_control: null,
    posterior: { alpha: 1, beta: 1 },
  });
  return {
    experiment: 'welcome-series',
    metric: 'opens',
    leader: null,
    confident: false,
    updated_at: new Date().toISOString(),
    variants: [early('hello', 'Welcome aboard', true), early('hi', 'Hi there, glad you are here', false)],
    series: [],
  };
}

async function startFixtureBackend(): Promise<Backend> {
  const adminToken = `wa_${randomBytes(24).toString('base64url')}`;
  const statusPosts: StatusPost[] = [];
  const experiments = new Map<string, FixtureExperiment>([
    [
      'spring-sale',
      {
        id: 'spring-sale',
        name: 'Spring sale subject line',
        metric: 'clicks',
        status: 'running',
        report: springSaleReport,
      },
    ],
    [
      'welcome-series',
      {
        id: 'welcome-series',
        name: 'Welcome series',
        metric: 'opens',
        status: 'running',
        report: welcomeSeriesReport,
      },
    ],
  ]);

  const server = createServer((req, res) => {
    route(req, res).catch(() =>
      sendJson(res, 500, { error: { code: 'internal', message: 'fixture failed' } }),
    );
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fixture');
    if (url.pathname === '/dashboard' || url.pathname.startsWith('/dashboard/'))
      return serveThroughLambda(req, res);
    if (req.headers.authorization !== `Bearer ${adminToken}`) {
      return sendJson(res, 401, { error: { code: 'unauthorized', message: 'Missing or wrong admin token' } });
    }
    if (req.method === 'GET' && url.pathname === '/v1/experiments') {
      // Paged as the API pages: id order, `limit` per page, the cursor is base64url of the last id returned.
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const cursor = url.searchParams.get('cursor');
      const after = cursor === null ? '' : Buffer.from(cursor, 'base64url').toString('utf8');
      const following = [...experiments.values()]
        .filter((e) => e.id > after)
        .sort((a, b) => (a.id < b.id ? -1 : 1));
      const page = following.slice(0, limit);
      const last = page.at(-1);
      return sendJson(res, 200, {
        experiments: page.map(({ id, name, metric, status }) => ({ id, name, metric, status })),
        next_cursor:
          following.length > limit && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null,
      });
    }
    const match = /^\/v1\/experiments\/([^/]+)(\/report|\/status)?$/.exec(url.pathname);
    const experiment = match ? experiments.get(decodeURIComponent(match[1] ?? '')) : undefined;
    if (!match || !experiment) {
      return sendJson(res, 404, { error: { code: 'not_found', message: 'No such experiment' } });
    }
    const report = (): Report => ({
      ...experiment.report(),
      status: experiment.status,
      winner: experiment.winner,
    });
    if (req.method === 'GET' && match[2] === '/report') return sendJson(res, 200, report());
    if (req.method === 'GET' && match[2] === undefined) {
      const { id, name, metric, status } = experiment;
      const variants = report().variants.map(({ id: vid, text, control }) => ({ id: vid, text, control }));
      return sendJson(res, 200, { id, name, metric, status, variants });
    }
    if (req.method === 'POST' && match[2] === '/status') {
      const body = JSON.parse(await readBody(req)) as { status?: string; winner?: string };
      statusPosts.push({ experiment: experiment.id, body });
      if (body.status !== 'running' && body.status !== 'paused' && body.status !== 'finished') {
        return sendJson(res, 400, {
          error: { code: 'bad_request', message: 'status must be running, paused or finished' },
        });
      }
      const active = report().variants.filter((v) => v.state === 'active');
      if (body.winner !== undefined && !active.some((v) => v.id === body.winner)) {
        return sendJson(res, 400, {
          error: { code: 'bad_request', message: 'winner must be an active variant' },
        });
      }
      experiment.status = body.status;
      experiment.winner = body.winner;
      return sendJson(res, 200, {
        experiment: experiment.id,
        status: experiment.status,
        winner: body.winner ?? null,
      });
    }
    return sendJson(res, 405, { error: { code: 'method_not_allowed', message: 'Not allowed' } });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    adminToken,
    experimentId: 'spring-sale',
    earlyExperimentId: 'welcome-series',
    statusPosts,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}

const lambdaContext = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'weft-dashboard',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:weft-dashboard',
  memoryLimitInMB: '256',
  awsRequestId: 'e2e',
  logGroupName: '/aws/lambda/weft-dashboard',
  logStreamName: 'e2e',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

/** What API Gateway does for `GET /dashboard` and `GET /dashboard/assets/{file+}`. */
async function serveThroughLambda(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fixture');
  const method = req.method ?? 'GET';
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const file = url.pathname.startsWith('/dashboard/assets/')
    ? url.pathname.slice('/dashboard/assets/'.length)
    : undefined;
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: file === undefined ? 'GET /dashboard' : 'GET /dashboard/assets/{file+}',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    pathParameters: file === undefined ? undefined : { file },
    isBase64Encoded: false,
    requestContext: {
      accountId: 'offline',
      apiId: 'fixture',
      domainName: url.host,
      domainPrefix: 'fixture',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: '' },
      requestId: randomBytes(8).toString('hex'),
      routeKey: '',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
  const result = (await dashboardHandler(event, lambdaContext)) as APIGatewayProxyStructuredResultV2;
  res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
  res.end(
    result.body === undefined
      ? undefined
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Browser helpers. Page functions run in Chromium; these shapes stand in for the DOM types (not in tsconfig).

interface CanvasShape {
  width: number;
  height: number;
  getContext(type: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
  };
}
interface BrowserShape {
  document: {
    getElementById(id: string): unknown;
    documentElement: { scrollWidth: number; clientWidth: number };
    body: { scrollWidth: number };
  };
  innerWidth: number;
  Chart: { getChart(canvas: unknown): { data: { datasets: { data: unknown[] }[] } } | undefined };
  cspViolations?: string[];
}

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
const SCREENSHOT_DIR = path.join(process.cwd(), 'test-results');
const CSP_RECORDER = `
  window.cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
  });
`;

interface Problems {
  pageErrors: string[];
  consoleErrors: string[];
}

async function openPage(context: BrowserContext, url: string): Promise<{ page: Page; problems: Problems }> {
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: Problems = { pageErrors: [], consoleErrors: [] };
  page.on('pageerror', (error) => problems.pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.consoleErrors.push(message.text());
  });
  await page.goto(url);
  return { page, problems };
}

async function waitForReport(page: Page): Promise<void> {
  await page.locator('#experiment-content').waitFor({ state: 'visible' });
  await page.locator('#variants-body tr').first().waitFor({ state: 'visible' });
}

/**
 * Strongly coloured pixels on a canvas: the variants' bars, areas, lines and points. Axes, grid and labels
 * are grey, so a chart that drew only its frame counts (next to) nothing.
 */
async function colouredPixels(page: Page, canvasId: string): Promise<number> {
  return page.evaluate((id) => {
    const canvas = (globalThis as unknown as BrowserShape).document.getElementById(id) as CanvasShape | null;
    if (!canvas || canvas.width === 0 || canvas.height === 0) return 0;
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let coloured = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i] ?? 0, data[i + 1] ?? 0, data[i + 2] ?? 0, data[i + 3] ?? 0];
      if (a > 40 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured += 1;
    }
    return coloured;
  }, canvasId);
}

async function chartPointCounts(page: Page, canvasId: string): Promise<number[]> {
  return page.evaluate((id) => {
    const w = globalThis as unknown as BrowserShape;
    const chart = w.Chart.getChart(w.document.getElementById(id));
    return chart ? chart.data.datasets.map((d) => d.data.length) : [];
  }, canvasId);
}

async function fetchReport(backend: Backend, experimentId: string): Promise<Report> {
  const response = await fetch(
    `${backend.baseUrl}/v1/experiments/${encodeURIComponent(experimentId)}/report`,
    {
      headers: { Authorization: `Bearer ${backend.adminToken}` },
    },
  );
  expect(response.status).toBe(200);
  return (await response.json()) as Report;
}

function dashboardUrl(backend: Backend, experimentId = backend.experimentId): string {
  const fragment = new URLSearchParams({ token: backend.adminToken, experiment: experimentId });
  return `${backend.baseUrl}/dashboard#${fragment.toString()}`;
}

// ---------------------------------------------------------------------------------------------------------

describe('dashboard in a browser', () => {
  let backend: Backend;
  let browser: Browser;

  // The real local stack takes ~45 s to start and seed on a 2-core machine; the fixture well under 1 s.
  beforeAll(async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const [started, launched] = await Promise.allSettled([
      startBackend(),
      chromium.launch({ executablePath: '/usr/bin/chromium', args: LAUNCH_ARGS }),
    ]);
    // Keep whichever came up, so afterAll stops it even when the other failed.
    if (started.status === 'fulfilled') backend = started.value;
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  async function laptop(): Promise<BrowserContext> {
    const context = await browser.newContext({
      viewport: { width: 1440, height: 1000 },
      deviceScaleFactor: 1,
    });
    await context.addInitScript(CSP_RECORDER);
    return context;
  }

  it('shows every variant, the verdict and drawn charts, and keeps the token out of sight', async () => {
    const report = await fetchReport(backend, backend.experimentId);
    const context = await laptop();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: backend.baseUrl });
    const { page, problems } = await openPage(context, dashboardUrl(backend));

    await waitForReport(page);

    for (const variant of report.variants) {
      const cell = page.locator('#variants-body').getByText(variant.text, { exact: true });
      expect(await cell.isVisible(), variant.text).toBe(true);
    }
    expect(await page.locator('#variants-body tr.is-retired').count()).toBe(
      report.variants.filter((v) => v.state === 'retired').length,
    );
    const verdict = (await page.locator('#verdict').textContent()) ?? '';
    const leader = report.variants.find((v) => v.id === report.leader);
    if (leader && report.confident) expect(verdict).toMatch(/^Confident: yes/);
    else expect(verdict).toMatch(/^Confident: (not yet|no)/);
    if (leader) {
      expect(verdict).toContain(leader.id);
      expect(await page.locator('#leader-line').textContent()).toContain(leader.text);
    }
    expect(await page.locator('#exp-status').textContent()).toMatch(new RegExp(report.status, 'i'));

    for (const canvas of ['rate-chart', 'allocation-chart', 'cumulative-chart']) {
      await expect.poll(() => colouredPixels(page, canvas), { message: canvas }).toBeGreaterThan(500);
      expect(await page.locator(`#${canvas}`).getAttribute('aria-label')).toBeTruthy();
    }
    expect(await chartPointCounts(page, 'rate-chart')).toEqual([
      report.variants.length,
      report.variants.length,
    ]);
    expect(await chartPointCounts(page, 'allocation-chart')).toEqual(
      report.variants.map(() => report.series.length),
    );

    const snippet = (await page.locator('#snippet').textContent()) ?? '';
    expect(snippet).toContain(
      `{% connected_content ${backend.baseUrl}/v1/content?experiment=${encodeURIComponent(backend.experimentId)}` +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: `${braze_id}` is Braze Liquid, not a JS placeholder.
        '&recipient={{${braze_id} | sha2}}&campaign={{campaign.${api_id}}} ' +
        ':headers {"Authorization": "Bearer CONNECT_TOKEN"} :save weft :retry %}',
    );
    await page.getByRole('button', { name: 'Copy snippet' }).click();
    await expect.poll(() => page.locator('#copy-status').textContent()).toMatch(/Copied|Selected/);

    expect(new URL(page.url()).hash).toBe(`#experiment=${encodeURIComponent(backend.experimentId)}`);
    expect(await page.content()).not.toContain(backend.adminToken);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserShape).cspViolations)).toEqual([]);
    expect(problems).toEqual({ pageErrors: [], consoleErrors: [] });

    await page.evaluate(() =>
      (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0),
    );
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'dashboard-laptop.png'), fullPage: true });
    await context.close();
  });

  it('pauses and resumes through the status API and shows the new status', async () => {
    const context = await laptop();
    const { page, problems } = await openPage(context, dashboardUrl(backend));
    await waitForReport(page);
    const postsBefore = backend.statusPosts?.length ?? 0;

    const [pauseRequest] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/status')),
      page.getByRole('button', { name: 'Pause' }).click(),
    ]);

    expect(pauseRequest.url()).toBe(
      `${backend.baseUrl}/v1/experiments/${encodeURIComponent(backend.experimentId)}/status`,
    );
    expect(pauseRequest.postDataJSON()).toEqual({ status: 'paused' });
    expect(pauseRequest.headers()['authorization']).toBe(`Bearer ${backend.adminToken}`);
    await expect.poll(() => page.locator('#exp-status').textContent()).toBe('Paused');
    await expect.poll(() => page.locator('#status-note').textContent()).toMatch(/^Paused/);
    expect(await page.locator('#pause-btn').isDisabled()).toBe(true);
    expect((await fetchReport(backend, backend.experimentId)).status).toBe('paused');
    if (backend.statusPosts) {
      expect(backend.statusPosts.slice(postsBefore)).toEqual([
        { experiment: backend.experimentId, body: { status: 'paused' } },
      ]);
    }

    const [resumeRequest] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/status')),
      page.getByRole('button', { name: 'Resume' }).click(),
    ]);

    expect(resumeRequest.postDataJSON()).toEqual({ status: 'running' });
    await expect.poll(() => page.locator('#exp-status').textContent()).toBe('Running');
    expect(problems).toEqual({ pageErrors: [], consoleErrors: [] });
    await context.close();
  });

  it('fits a phone: no sideways page scroll, the table scrolls inside its box', async () => {
    const report = await fetchReport(backend, backend.experimentId);
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
    });
    await context.addInitScript(CSP_RECORDER);
    const { page, problems } = await openPage(context, dashboardUrl(backend));

    await waitForReport(page);
    await expect.poll(() => colouredPixels(page, 'rate-chart')).toBeGreaterThan(500);
    await expect.poll(() => colouredPixels(page, 'allocation-chart')).toBeGreaterThan(500);

    const widths = await page.evaluate(() => {
      const w = globalThis as unknown as BrowserShape;
      return {
        viewport: w.innerWidth,
        document: w.document.documentElement.scrollWidth,
        body: w.document.body.scrollWidth,
      };
    });
    expect(widths.viewport).toBe(390);
    expect(widths.document).toBeLessThanOrEqual(widths.viewport);
    expect(widths.body).toBeLessThanOrEqual(widths.viewport);
    const table = await page.locator('.table-scroll').evaluate((node) => {
      const box = node as unknown as { scrollWidth: number; clientWidth: number };
      return { scrollWidth: box.scrollWidth, clientWidth: box.clientWidth };
    });
    expect(table.scrollWidth).toBeGreaterThan(table.clientWidth);
    for (const variant of report.variants) {
      expect(await page.locator('#variants-body').getByText(variant.text, { exact: true }).isVisible()).toBe(
        true,
      );
    }
    expect(await page.evaluate(() => (globalThis as unknown as BrowserShape).cspViolations)).toEqual([]);
    expect(problems).toEqual({ pageErrors: [], consoleErrors: [] });

    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'dashboard-phone.png'), fullPage: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'dashboard-phone-top.png') });
    await page.locator('.table-scroll').evaluate((node) => {
      (node as unknown as { scrollLeft: number }).scrollLeft = 380;
    });
    await page
      .locator('.card', { has: page.locator('#variants-table') })
      .screenshot({ path: path.join(SCREENSHOT_DIR, 'dashboard-phone-table.png') });
    await context.close();
  });

  it('lists every experiment when the list comes one per page (follows next_cursor)', async () => {
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ limit: '100', ...(cursor ? { cursor } : {}) });
      const response = await fetch(`${backend.baseUrl}/v1/experiments?${query}`, {
        headers: { Authorization: `Bearer ${backend.adminToken}` },
      });
      const body = (await response.json()) as { experiments: { name: string }[]; next_cursor: string | null };
      names.push(...body.experiments.map((e) => e.name));
      cursor = body.next_cursor;
    } while (cursor);
    expect(names.length).toBeGreaterThan(1);
    const context = await laptop();
    const listQueries: URLSearchParams[] = [];
    await context.route(
      (url) => url.pathname.endsWith('/v1/experiments'),
      (route) => {
        const url = new URL(route.request().url());
        url.searchParams.set('limit', '1');
        listQueries.push(url.searchParams);
        return route.continue({ url: url.toString() });
      },
    );
    const { page, problems } = await openPage(context, dashboardUrl(backend));
    await waitForReport(page);

    const shown = await page.locator('#experiment-list .experiment-name').allTextContents();
    expect(shown).toEqual(names);
    expect(listQueries.filter((q) => q.has('cursor')).length).toBeGreaterThanOrEqual(names.length - 1);
    expect(problems).toEqual({ pageErrors: [], consoleErrors: [] });
    await context.close();
  });

  it('signs in through the form, and says so in words when the token is wrong', async () => {
    const context = await laptop();
    const { page } = await openPage(context, `${backend.baseUrl}/dashboard`);
    await page.getByLabel('Admin token').waitFor({ state: 'visible' });

    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Open dashboard' }).click();

    const error = page.locator('#signin-error');
    await error.waitFor({ state: 'visible' });
    const message = (await error.textContent()) ?? '';
    expect(message).toMatch(/admin token was not accepted/i);
    expect(message).not.toMatch(/[{}]/);
    expect(message).not.toContain('not-the-token');
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'dashboard-signin.png') });

    await page.getByLabel('Admin token').fill(backend.adminToken);
    await page.getByRole('button', { name: 'Open dashboard' }).click();

    await waitForReport(page);
    expect(await page.locator('#experiment-list li').count()).toBeGreaterThan(0);
    expect(await page.getByLabel('Admin token').inputValue()).toBe('');
    expect(page.url()).not.toContain(backend.adminToken);
    await context.close();
  });

  it('reports an unknown experiment as readable text', async () => {
    const context = await laptop();
    const { page } = await openPage(context, dashboardUrl(backend, 'no-such-experiment'));

    const banner = page.locator('#banner');
    await banner.waitFor({ state: 'visible' });

    expect(await banner.textContent()).toMatch(/^Not found/);
    expect(await banner.textContent()).not.toMatch(/[{}]/);
    await context.close();
  });

  it('copes with an experiment whose statistics are still empty', async () => {
    const context = await laptop();
    const { page, problems } = await openPage(context, dashboardUrl(backend, backend.earlyExperimentId));

    await waitForReport(page);

    expect(await page.locator('#verdict').textContent()).toMatch(/^Confident: no/);
    expect(await page.locator('#leader-line').textContent()).toMatch(/not enough data/i);
    expect(await page.locator('#variants-body').textContent()).toContain('—');
    expect(await page.locator('#allocation-empty').isVisible()).toBe(true);
    expect(problems).toEqual({ pageErrors: [], consoleErrors: [] });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'dashboard-early.png'), fullPage: true });
    await context.close();
  });

  it('finishes with the winner chosen from the active variants after a confirmation', async () => {
    const report = await fetchReport(backend, backend.experimentId);
    const active = report.variants.filter((v) => v.state === 'active');
    const context = await laptop();
    const { page, problems } = await openPage(context, dashboardUrl(backend));
    await waitForReport(page);
    const options = await page
      .locator('#winner-select option')
      .evaluateAll((nodes) => nodes.map((n) => (n as unknown as { value: string }).value));
    expect(options).toEqual(active.map((v) => v.id));
    const winner = active.find((v) => v.id === report.leader) ?? active[0];
    if (!winner) throw new Error('the backend experiment needs an active variant');

    await page.getByLabel('Winner').selectOption(winner.id);
    await page.getByRole('button', { name: /Finish with this winner/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ state: 'visible' });
    expect(await dialog.textContent()).toContain(winner.text);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'dashboard-finish-dialog.png') });
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/status')),
      dialog.getByRole('button', { name: 'Finish experiment' }).click(),
    ]);

    expect(request.postDataJSON()).toEqual({ status: 'finished', winner: winner.id });
    await expect.poll(() => page.locator('#exp-status').textContent()).toBe('Finished');
    expect(await page.locator('#finish-btn').isDisabled()).toBe(true);
    expect(problems).toEqual({ pageErrors: [], consoleErrors: [] });
    await context.close();
  });
});
