// The one HTTP edge: every HTTP handler goes through it. It parses the API Gateway (HTTP API, v2) event,
// enforces size limits, and turns domain errors into status codes — here and nowhere else.
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type ErrorKind, PayloadTooLargeError, ValidationError, WeftError } from '../../domain/errors';
import { describeError, lambdaLogContext, logger } from './logger';
import { publishMetrics } from './metrics';

export const MAX_BODY_BYTES = 256 * 1024;
const MAX_QUERY_BYTES = 8 * 1024;

const STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  not_found: 404,
  not_allowed: 405,
  conflict: 409,
  too_large: 413,
  unavailable: 503,
};

export interface HttpRequest {
  /** The route API Gateway matched (`GET /v1/experiments/{id}`), `$default` when none. */
  readonly routeKey: string;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly pathParameters: Readonly<Record<string, string | undefined>>;
  /** Parsed JSON body, or undefined when there is none. */
  readonly body: unknown;
  /** `https://<domain>` the request came to, as API Gateway names it: never from a header the caller writes. */
  readonly origin: string;
  /** The caller's address as API Gateway saw it: for the machine classifier, in memory only. */
  readonly sourceAddress: string | undefined;
}

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number };

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function errorResult(statusCode: number, code: string, message: string): HttpResult {
  return json(statusCode, { error: { code, message } });
}

/** The status and body for any error. Unknown errors are 500 with a generic message and no details. */
export function errorToResult(error: unknown): HttpResult {
  if (error instanceof WeftError) return errorResult(STATUS[error.kind], error.code, error.message);
  return errorResult(500, 'internal_error', 'internal error');
}

function decodeBody(event: APIGatewayProxyEventV2): string | undefined {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  return raw.toString('utf8');
}

/** A DNS name with an optional port: nothing that could end the authority part of a URL. */
const HOST_NAME = /^[a-z0-9][a-z0-9.-]{0,252}(?::\d{1,5})?$/i;
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

/**
 * Where response URLs point (pixel URLs, snippets) when no public base URL is configured: the domain API
 * Gateway says the request came to. `Host`, `X-Forwarded-Host` and `X-Forwarded-Proto` are the caller's to
 * write, and a forged one would send other people's pixels and snippets to the caller's host. Only an emulator
 * names no real domain (serverless-offline passes a placeholder): there a loopback `Host` is taken, since the
 * local stack listens on loopback and such a header can point nowhere else.
 */
function requestOrigin(event: APIGatewayProxyEventV2, headers: Record<string, string | undefined>): string {
  const domain = event.requestContext?.domainName ?? '';
  if (LOOPBACK.test(domain)) return `http://${domain}`;
  if (HOST_NAME.test(domain)) return `https://${domain.toLowerCase()}`;
  const host = headers.host ?? '';
  return LOOPBACK.test(host) ? `http://${host}` : 'http://localhost';
}

export function parseRequest(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const declaredLength = Number(headers['content-length'] ?? 0);
  if (declaredLength > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  const rawQuery = event.rawQueryString ?? '';
  if (rawQuery.length > MAX_QUERY_BYTES)
    throw new ValidationError('query', `must be at most ${MAX_QUERY_BYTES} bytes`);
  const text = decodeBody(event);
  let body: unknown;
  if (text !== undefined) {
    try {
      body = JSON.parse(text);
    } catch {
      throw new ValidationError('body', 'must be valid JSON', 'invalid_json');
    }
  }
  return {
    routeKey: event.routeKey ?? event.requestContext?.routeKey ?? '$default',
    method: (event.requestContext?.http?.method ?? 'GET').toUpperCase(),
    path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
    query: new URLSearchParams(rawQuery),
    headers,
    pathParameters: event.pathParameters ?? {},
    body,
    origin: requestOrigin(event, headers),
    sourceAddress: event.requestContext?.http?.sourceIp,
  };
}

export type HttpCore = (request: HttpRequest, context: Context) => Promise<HttpResult>;

/** Wraps a handler core with the shared plumbing: parsing, limits, error mapping, logging without secrets. */
export function httpHandler(core: HttpCore) {
  return middy<APIGatewayProxyEventV2, HttpResult>()
    .use(lambdaLogContext())
    .use(publishMetrics())
    .handler(async (event, context) => {
      try {
        return await core(parseRequest(event), context);
      } catch (error) {
        const result = errorToResult(error);
        if (result.statusCode >= 500)
          logger.error('request failed', { status: result.statusCode, ...describeError(error) });
        else logger.info('request rejected', { status: result.statusCode, ...describeError(error) });
        return result;
      }
    });
}

/** The token of an `Authorization: Bearer <token>` header, or null (HTTP knows headers; the domain knows tokens). */
export function bearerToken(request: HttpRequest): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1] ?? null;
}

/** A required query parameter, bounded in length; its absence or excess is a 400 naming it. */
export function queryParam(
  request: HttpRequest,
  name: string,
  options: { required: true; maxLength: number },
): string;
export function queryParam(
  request: HttpRequest,
  name: string,
  options: { required?: false; maxLength: number },
): string | null;
export function queryParam(
  request: HttpRequest,
  name: string,
  options: { required?: boolean; maxLength: number },
): string | null {
  const values = request.query.getAll(name);
  if (values.length > 1) throw new ValidationError(name, 'must be given once');
  const value = values[0]?.trim();
  if (value === undefined || value === '') {
    if (options.required) throw new ValidationError(name, 'is required');
    return null;
  }
  if (value.length > options.maxLength)
    throw new ValidationError(name, `must be at most ${options.maxLength} characters`);
  return value;
}
