import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  DASHBOARD_FILE_PATHS,
  handler,
  loadDashboardFiles,
  locateDashboardDir,
  serveDashboard,
} from '../../handlers/dashboard';

const DASHBOARD_DIR = path.join(__dirname, '..', '..', 'dashboard');
/** The bundle of dashboard/src and Chart.js, built by the test run's global setup (test/support/build-dashboard.ts). */
const BUNDLE = path.join(DASHBOARD_DIR, 'dist', 'app.js');
const CHART_JS_VERSION = (
  JSON.parse(
    readFileSync(path.join(__dirname, '..', '..', 'node_modules', 'chart.js', 'package.json'), 'utf8'),
  ) as {
    version: string;
  }
).version;

function httpEvent(
  rawPath: string,
  options: { method?: string; file?: string; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const method = options.method ?? 'GET';
  return {
    version: '2.0',
    routeKey: `${method} ${rawPath}`,
    rawPath,
    rawQueryString: '',
    headers: options.headers ?? {},
    pathParameters: options.file === undefined ? undefined : { file: options.file },
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'weft.example',
      domainPrefix: 'weft',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'vitest' },
      requestId: 'req-1',
      routeKey: `${method} ${rawPath}`,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 1_767_225_600_000,
    },
  };
}

const fakeContext = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'weft-dashboard',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:weft-dashboard',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/weft-dashboard',
  logStreamName: 'stream',
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

/** Header names are case-insensitive on the wire: compare them lower-cased. */
function lowerCased(headers: APIGatewayProxyStructuredResultV2['headers']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), String(value)]),
  );
}

async function invoke(event: APIGatewayProxyEventV2) {
  const result = (await handler(event, fakeContext)) as APIGatewayProxyStructuredResultV2;
  return { ...result, headers: lowerCased(result.headers) };
}

function serve(event: APIGatewayProxyEventV2) {
  const result = serveDashboard(event, files);
  return { ...result, headers: lowerCased(result.headers) };
}

const files = loadDashboardFiles(DASHBOARD_DIR);

function expectSecurityHeaders(headers: Record<string, string>) {
  expect(headers['content-security-policy']).toBe(
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  );
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
}

describe('dashboard handler', () => {
  it('serves the page with the security headers and no caching', async () => {
    const result = await invoke(httpEvent('/dashboard'));

    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(result.headers['cache-control']).toBe('no-cache');
    expectSecurityHeaders(result.headers);
    expect(result.body).toContain('<title>weft');
    expect(result.isBase64Encoded).toBeFalsy();
  });

  it('references its assets under /dashboard/assets, one bundled script, and carries no inline script or handler', () => {
    const html = readFileSync(path.join(DASHBOARD_DIR, 'index.html'), 'utf8');

    expect(html).toContain('<script type="module" src="/dashboard/assets/app.js"></script>');
    expect(html).toContain('href="/dashboard/assets/style.css"');
    expect(html.match(/<script\b/gi)).toHaveLength(1);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/\sstyle\s*=/i);
  });

  it.each([
    ['app.js', 'dist/app.js', 'text/javascript; charset=utf-8'],
    ['style.css', 'dist/style.css', 'text/css; charset=utf-8'],
  ])('serves %s (from dashboard/%s) with its type and a short max-age', async (name, file, type) => {
    const result = await invoke(httpEvent(`/dashboard/assets/${name}`));

    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toBe(type);
    expect(result.headers['cache-control']).toMatch(/^public, max-age=\d{1,4}$/);
    expectSecurityHeaders(result.headers);
    expect(result.body).toBe(readFileSync(path.join(DASHBOARD_DIR, file), 'utf8'));
  });

  it('deploys exactly the files it serves: the page, the stylesheet and the bundle, no sources', () => {
    expect([...DASHBOARD_FILE_PATHS].sort()).toEqual(['dist/app.js', 'dist/style.css', 'index.html']);
  });

  it('prefers the {file+} path parameter, decoded', async () => {
    const result = await invoke(httpEvent('/ignored', { file: 'app%2Ejs' }));

    expect(result.statusCode).toBe(200);
    expect(result.body).toBe(readFileSync(BUNDLE, 'utf8'));
  });

  it('serves one minified bundle with Chart.js from the pinned package, its licence kept, needing no eval', () => {
    const bundle = readFileSync(BUNDLE, 'utf8');

    expect(bundle).toContain(`Chart.js v${CHART_JS_VERSION}`);
    expect(bundle).toContain('Released under the MIT License');
    // Tree-shaken: only what the charts register (bar and line); other chart types stay out.
    expect(bundle).not.toMatch(/["']doughnut["']|["']polarArea["']|["']bubble["']/);
    // script-src 'self' without 'unsafe-eval'.
    expect(bundle).not.toMatch(/\beval\(|new Function\(/);
    expect(bundle.split('\n').length).toBeLessThan(40);
  });

  it('gzips for clients that accept it', async () => {
    const result = await invoke(
      httpEvent('/dashboard/assets/app.js', { headers: { 'accept-encoding': 'gzip, br' } }),
    );

    expect(result.statusCode).toBe(200);
    expect(result.isBase64Encoded).toBe(true);
    expect(result.headers['content-encoding']).toBe('gzip');
    expect(result.headers.vary).toBe('Accept-Encoding');
    const body = gunzipSync(Buffer.from(result.body ?? '', 'base64')).toString('utf8');
    expect(body).toBe(readFileSync(BUNDLE, 'utf8'));
  });

  it('answers 304 when the client already has the current version', async () => {
    const first = await invoke(httpEvent('/dashboard/assets/app.js'));

    const second = await invoke(
      httpEvent('/dashboard/assets/app.js', { headers: { 'If-None-Match': first.headers.etag ?? '' } }),
    );

    expect(second.statusCode).toBe(304);
    expect(second.body).toBeUndefined();
    expectSecurityHeaders(second.headers);
  });

  it('accepts the tag back weakened or marked gzip by a proxy, and ignores other tags', async () => {
    const etag = (await invoke(httpEvent('/dashboard'))).headers.etag ?? '';
    const ifNoneMatch = (value: string) =>
      invoke(httpEvent('/dashboard', { headers: { 'if-none-match': value } }));

    expect((await ifNoneMatch(`W/${etag}`)).statusCode).toBe(304);
    expect((await ifNoneMatch(`"other", ${etag.slice(0, -1)}-gzip"`)).statusCode).toBe(304);
    expect((await ifNoneMatch('"other"')).statusCode).toBe(200);
  });

  it.each([
    ['unknown file', '/dashboard/assets/secret.txt', undefined],
    ['parent path', '/dashboard/assets/../../package.json', undefined],
    ['encoded parent path', '/dashboard/assets/..%2F..%2Fpackage.json', undefined],
    ['parent path in the parameter', '/dashboard/assets/x', '../handlers/dashboard.ts'],
    ['a source map', '/dashboard/assets/app.js.map', undefined],
    ['the bundle by its build path', '/dashboard/assets/dist/app.js', undefined],
    ['a bundle source', '/dashboard/assets/src/main.js', undefined],
    ['the build script', '/dashboard/assets/build.cjs', undefined],
    ['the vendored Chart.js that is gone', '/dashboard/assets/vendor/chart.umd.min.js', undefined],
    ['a dot segment', '/dashboard/assets/./app.js', undefined],
    ['an undecodable name', '/dashboard/assets/%E0%A4%A', undefined],
    ['another route', '/v1/experiments', undefined],
  ])('404s %s with the JSON error shape', async (_name, rawPath, file) => {
    const result = await invoke(httpEvent(rawPath, { file }));

    expect(result.statusCode).toBe(404);
    expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
    expectSecurityHeaders(result.headers);
    const body = JSON.parse(result.body ?? '{}');
    expect(body.error.code).toBe('not_found');
    expect(typeof body.error.message).toBe('string');
  });

  it('rejects other methods with 405 and an Allow header', () => {
    const result = serve(httpEvent('/dashboard', { method: 'POST' }));

    expect(result.statusCode).toBe(405);
    expect(result.headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(result.body ?? '{}').error.code).toBe('method_not_allowed');
  });

  it('answers HEAD with headers only', () => {
    const result = serve(httpEvent('/dashboard', { method: 'HEAD' }));

    expect(result.statusCode).toBe(200);
    expect(result.body).toBe('');
    expect(result.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('finds the dashboard folder from the working directory', () => {
    expect(locateDashboardDir()).toBe(path.join(process.cwd(), 'dashboard'));
  });

  it('serves no secrets: the page and app hold no tokens', () => {
    for (const name of ['index.html', 'app.js'] as const) {
      const body = files.get(name)?.body ?? '';
      expect(body).not.toMatch(/Bearer [A-Za-z0-9_-]{16,}/);
    }
  });
});

describe('dashboard sources', () => {
  const SOURCE_DIR = path.join(DASHBOARD_DIR, 'src');

  it('are small ES modules, each opening with a comment on its job', () => {
    const modules = readdirSync(SOURCE_DIR).filter((name) => name.endsWith('.js'));

    expect(modules.length).toBeGreaterThan(1);
    for (const name of modules) {
      const lines = readFileSync(path.join(SOURCE_DIR, name), 'utf8').trimEnd().split('\n');
      expect(lines.length, name).toBeLessThanOrEqual(400);
      expect(lines[0], name).toMatch(/^\/\/ \S/);
    }
  });
});
