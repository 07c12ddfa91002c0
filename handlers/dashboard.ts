// Serves the marketer's dashboard: one HTML page and a whitelist of static assets under a strict CSP.
// The page holds no secrets; it asks for the admin token in the browser and calls the JSON API itself.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { json } from './shared/http';
import { lambdaLogContext } from './shared/logger';

type Result = APIGatewayProxyStructuredResultV2 & { statusCode: number; headers: Record<string, string> };

/**
 * What each servable file is and where it lies under `dashboard/`; anything not listed here is a 404, so `..` can
 * never reach the disk. `dashboard/build.cjs` writes both built files: `app.js` bundles `dashboard/src/` with Chart.js,
 * `style.css` bundles `dashboard/styles/`.
 */
const FILES = {
  'index.html': { file: 'index.html', type: 'text/html; charset=utf-8', cache: 'no-cache' },
  'app.js': { file: 'dist/app.js', type: 'text/javascript; charset=utf-8', cache: 'public, max-age=300' },
  'style.css': { file: 'dist/style.css', type: 'text/css; charset=utf-8', cache: 'public, max-age=300' },
} as const;

export type DashboardFileName = keyof typeof FILES;

/** On every answer, errors included. Lower-case names, as the shared HTTP plumbing writes them. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

interface DashboardFile {
  readonly body: string;
  /** Pre-compressed once per container: the bundle is ~200 kB raw, ~70 kB gzipped, and phones feel the difference. */
  readonly gzipBase64: string;
  readonly etag: string;
  readonly type: string;
  readonly cache: string;
}

export type DashboardFiles = ReadonlyMap<DashboardFileName, DashboardFile>;

/** The `dashboard/` folder: beside the package root on Lambda and locally, else next to this file's parent. */
export function locateDashboardDir(): string {
  const candidates = [path.join(process.cwd(), 'dashboard'), path.join(__dirname, '..', 'dashboard')];
  const found = candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
  if (!found) throw new Error(`dashboard files not found; looked in ${candidates.join(' and ')}`);
  return found;
}

/** The files a deployment of the dashboard consists of, relative to `dashboard/`: exactly what is served. */
export const DASHBOARD_FILE_PATHS: readonly string[] = Object.values(FILES).map((meta) => meta.file);

export function loadDashboardFiles(dir: string): DashboardFiles {
  const files = new Map<DashboardFileName, DashboardFile>();
  for (const [name, { file, type, cache }] of Object.entries(FILES) as [
    DashboardFileName,
    (typeof FILES)[DashboardFileName],
  ][]) {
    const filePath = path.join(dir, file);
    if (!existsSync(filePath)) {
      throw new Error(
        `dashboard file ${filePath} not found` +
          (file.startsWith('dist/') ? '; build it with `npm run build:dashboard`' : ''),
      );
    }
    const body = readFileSync(filePath, 'utf8');
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    files.set(name, { body, gzipBase64: gzipSync(body).toString('base64'), etag, type, cache });
  }
  return files;
}

function isDashboardFileName(name: string): name is DashboardFileName {
  return Object.hasOwn(FILES, name);
}

const ASSET_PATH = /\/dashboard\/assets\/(.+)$/;
const PAGE_PATH = /\/dashboard\/?$/;

/** Which file a request asks for, or null. Prefers the route's `{file+}` parameter, else reads the raw path. */
function requestedFile(event: APIGatewayProxyEventV2): string | null {
  const param = event.pathParameters?.['file'];
  if (param !== undefined) return safeDecode(param);
  const rawPath = event.rawPath ?? '';
  const asset = ASSET_PATH.exec(rawPath);
  if (asset) return safeDecode(asset[1] ?? '');
  return PAGE_PATH.test(rawPath) ? 'index.html' : null;
}

function safeDecode(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}

function header(event: APIGatewayProxyEventV2, name: string): string {
  const headers = event.headers ?? {};
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key ? (headers[key] ?? '') : '';
}

/** Proxies may weaken the tag (`W/`) or mark the encoding (`-gzip`, hapi does); the content is the same. */
function matchesEtag(ifNoneMatch: string, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = etag.slice(1, -1);
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, '').replace(/^"|"$/g, ''))
    .some((tag) => tag === '*' || tag === bare || tag === `${bare}-gzip`);
}

function errorResult(
  statusCode: number,
  code: string,
  message: string,
  extra: Record<string, string> = {},
): Result {
  const result = json(statusCode, { error: { code, message } }, { ...SECURITY_HEADERS, ...extra });
  return { ...result, headers: (result.headers ?? {}) as Record<string, string> };
}

/** The dashboard's core: a pure function of the request and the loaded files. */
export function serveDashboard(event: APIGatewayProxyEventV2, files: DashboardFiles): Result {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    return errorResult(405, 'method_not_allowed', `${method} is not allowed here; use GET`, {
      Allow: 'GET, HEAD',
    });
  }
  const name = requestedFile(event);
  const file = name !== null && isDashboardFileName(name) ? files.get(name) : undefined;
  if (!file) return errorResult(404, 'not_found', 'No such dashboard file');

  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'content-type': file.type,
    'cache-control': file.cache,
    etag: file.etag,
    vary: 'Accept-Encoding',
  };
  if (matchesEtag(header(event, 'if-none-match'), file.etag)) return { statusCode: 304, headers };
  const body = method === 'HEAD' ? '' : undefined;
  if (/\bgzip\b/.test(header(event, 'accept-encoding'))) {
    return {
      statusCode: 200,
      headers: { ...headers, 'content-encoding': 'gzip' },
      body: body ?? file.gzipBase64,
      isBase64Encoded: body === undefined,
    };
  }
  return { statusCode: 200, headers, body: body ?? file.body };
}

let cachedFiles: DashboardFiles | undefined;

/** Read once per container, on first use, so a missing folder fails the request rather than every import. */
function dashboardFiles(): DashboardFiles {
  cachedFiles ??= loadDashboardFiles(locateDashboardDir());
  return cachedFiles;
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .use(lambdaLogContext())
  .handler(async (event) => serveDashboard(event, dashboardFiles()));
