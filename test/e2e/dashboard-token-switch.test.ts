// A link carrying another admin token must not switch the dashboard's tenant silently: any page that can
// navigate the tab could otherwise swap tenants under a person mid-task. Real Chromium, the page served by
// handlers/dashboard.ts, and a two-tenant fixture of the admin API.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as dashboardHandler } from '../../handlers/dashboard';

const TENANTS = {
  acme: {
    token: `wa_${randomBytes(18).toString('base64url')}`,
    experiment: 'acme-spring',
    name: 'Acme spring',
  },
  globex: {
    token: `wa_${randomBytes(18).toString('base64url')}`,
    experiment: 'globex-winter',
    name: 'Globex winter',
  },
} as const;
type TenantName = keyof typeof TENANTS;

/** Chromium from WEFT_CHROMIUM or the PATH (no machine path written here). */
function findChromium(): string {
  const named = process.env['WEFT_CHROMIUM'];
  if (named) return named;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable']) {
      const candidate = path.join(dir, name);
      if (dir && existsSync(candidate)) return candidate;
    }
  }
  throw new Error('no Chromium found: put it on the PATH or set WEFT_CHROMIUM');
}

function report(tenant: TenantName) {
  const { experiment } = TENANTS[tenant];
  const variant = (id: string, control: boolean) => ({
    id,
    text: `${tenant} ${id}`,
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
    experiment,
    metric: 'clicks',
    status: 'running',
    leader: null,
    confident: false,
    updated_at: new Date().toISOString(),
    variants: [variant('a', true), variant('b', false)],
    series: [],
  };
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

async function serveDashboard(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const file = url.pathname.startsWith('/dashboard/assets/')
    ? url.pathname.slice('/dashboard/assets/'.length)
    : undefined;
  const event = {
    version: '2.0',
    routeKey: file === undefined ? 'GET /dashboard' : 'GET /dashboard/assets/{file+}',
    rawPath: url.pathname,
    rawQueryString: '',
    headers: { 'accept-encoding': String(req.headers['accept-encoding'] ?? '') },
    pathParameters: file === undefined ? undefined : { file },
    isBase64Encoded: false,
    requestContext: {
      accountId: 'offline',
      apiId: 'fixture',
      domainName: url.host,
      domainPrefix: 'fixture',
      http: { method: 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: '' },
      requestId: 'e2e',
      routeKey: '',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  } satisfies APIGatewayProxyEventV2;
  const result = (await dashboardHandler(event, lambdaContext)) as APIGatewayProxyStructuredResultV2;
  res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
  res.end(
    result.body === undefined
      ? undefined
      : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8'),
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

describe('dashboard: switching tenants by link', () => {
  let browser: Browser;
  let baseUrl = '';
  /** Which tenant's token each API call carried, in order. */
  const calls: TenantName[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname === '/dashboard' || url.pathname.startsWith('/dashboard/')) {
      serveDashboard(req, res, url).catch(() => sendJson(res, 500, {}));
      return;
    }
    const tenant = (Object.keys(TENANTS) as TenantName[]).find(
      (name) => req.headers.authorization === `Bearer ${TENANTS[name].token}`,
    );
    if (!tenant) return sendJson(res, 401, { error: { code: 'unauthorized', message: 'wrong token' } });
    calls.push(tenant);
    const { experiment, name } = TENANTS[tenant];
    if (url.pathname === '/v1/experiments') {
      return sendJson(res, 200, {
        experiments: [{ id: experiment, name, metric: 'clicks', status: 'running' }],
        next_cursor: null,
      });
    }
    if (url.pathname === `/v1/experiments/${experiment}/report`) return sendJson(res, 200, report(tenant));
    return sendJson(res, 404, { error: { code: 'not_found', message: 'no such experiment' } });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: findChromium(),
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const link = (tenant: TenantName) =>
    new URLSearchParams({ token: TENANTS[tenant].token, experiment: TENANTS[tenant].experiment }).toString();

  async function signedInAs(page: Page, tenant: TenantName): Promise<void> {
    const list = page.locator('#experiment-list');
    await list.getByText(TENANTS[tenant].name).waitFor({ state: 'visible' });
    await page.locator('#variants-body tr').first().waitFor({ state: 'visible' });
  }

  const savedToken = (page: Page) =>
    page.evaluate(() =>
      (
        globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }
      ).sessionStorage.getItem('weft.adminToken'),
    );

  it('asks before following a link with another tenant’s token, and stays when told to', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${baseUrl}/dashboard#${link('acme')}`);
    await signedInAs(page, 'acme');
    calls.length = 0;

    await page.evaluate((hash) => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = hash;
    }, link('globex'));
    const dialog = page.getByRole('dialog', { name: 'Sign in with a different admin token?' });
    await dialog.waitFor({ state: 'visible' });

    expect(page.url()).not.toContain(TENANTS.globex.token);
    expect(await page.content()).not.toContain(TENANTS.globex.token);
    expect(await savedToken(page)).toBe(TENANTS.acme.token);
    expect(calls).not.toContain('globex');

    await dialog.getByRole('button', { name: 'Stay signed in' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Refresh now' }).click();
    await expect.poll(() => calls.length).toBeGreaterThan(0);

    expect(calls).not.toContain('globex');
    expect(await page.locator('#experiment-list').textContent()).toContain(TENANTS.acme.name);
    expect(await savedToken(page)).toBe(TENANTS.acme.token);
    await context.close();
  });

  it('switches by reloading into a clean page when told to', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${baseUrl}/dashboard#${link('acme')}`);
    await signedInAs(page, 'acme');

    await page.evaluate((hash) => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = hash;
    }, link('globex'));
    const dialog = page.getByRole('dialog', { name: 'Sign in with a different admin token?' });
    await Promise.all([
      page.waitForEvent('load'),
      dialog.getByRole('button', { name: 'Switch tenant' }).click(),
    ]);
    await signedInAs(page, 'globex');

    expect(await page.locator('#experiment-list').textContent()).not.toContain(TENANTS.acme.name);
    expect(new URL(page.url()).hash).toBe(`#experiment=${TENANTS.globex.experiment}`);
    expect(await savedToken(page)).toBe(TENANTS.globex.token);
    await context.close();
  });

  it('asks too when a tab already signed in is sent to a new page with another token', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${baseUrl}/dashboard#${link('acme')}`);
    await signedInAs(page, 'acme');

    await page.goto(`${baseUrl}/dashboard?from=elsewhere#${link('globex')}`);
    const dialog = page.getByRole('dialog', { name: 'Sign in with a different admin token?' });
    await dialog.waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await signedInAs(page, 'acme');

    expect(page.url()).not.toContain(TENANTS.globex.token);
    expect(await savedToken(page)).toBe(TENANTS.acme.token);
    await context.close();
  });

  it('follows a link with the same token without asking', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${baseUrl}/dashboard#${link('acme')}`);
    await signedInAs(page, 'acme');

    await page.evaluate(
      (hash) => {
        (globalThis as unknown as { location: { hash: string } }).location.hash = hash;
      },
      `${link('acme')}&x=1`,
    );
    await expect.poll(() => new URL(page.url()).hash).toBe(`#experiment=${TENANTS.acme.experiment}`);

    expect(await page.getByRole('dialog').count()).toBe(0);
    await context.close();
  });
});
