// Builders for the events Lambda receives: API Gateway HTTP API (v2) requests and S3 notifications.
import type { APIGatewayProxyEventV2, Context, S3Event } from 'aws-lambda';
import { matchRoute } from '../../handlers/shared/routes';

export interface HttpEventInput {
  method?: string;
  path: string;
  query?: Record<string, string> | string;
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  pathParameters?: Record<string, string>;
}

/**
 * A desktop mail client's agent: requests look like a person's unless a test says otherwise (the machine
 * classifier counts bare agents, HTTP libraries and HEADs as machines).
 */
export const MAIL_CLIENT_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Thunderbird/128.0';

export function httpEvent(input: HttpEventInput): APIGatewayProxyEventV2 {
  const method = input.method ?? 'GET';
  // As API Gateway does: the matched route key and path parameters, `$default` when no route matches.
  const matched = matchRoute(method, input.path);
  const routeKey = matched.routeKey ?? '$default';
  const pathParameters = input.pathParameters ?? (matched.routeKey ? matched.pathParameters : undefined);
  const rawQueryString =
    typeof input.query === 'string' ? input.query : new URLSearchParams(input.query ?? {}).toString();
  const body = input.rawBody ?? (input.body === undefined ? undefined : JSON.stringify(input.body));
  return {
    version: '2.0',
    routeKey,
    rawPath: input.path,
    rawQueryString,
    headers: { host: 'weft.example.com', 'user-agent': MAIL_CLIENT_AGENT, ...(input.headers ?? {}) },
    pathParameters,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'weft.example.com',
      domainPrefix: 'weft',
      http: {
        method,
        path: input.path,
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: MAIL_CLIENT_AGENT,
      },
      requestId: 'request',
      routeKey,
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    body,
    isBase64Encoded: false,
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export function s3Event(bucket: string, keys: string[]): S3Event {
  return {
    Records: keys.map((key) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventTime: new Date(0).toISOString(),
      eventName: 'ObjectCreated:Put',
      userIdentity: { principalId: 'braze' },
      requestParameters: { sourceIPAddress: '192.0.2.1' },
      responseElements: { 'x-amz-request-id': 'r', 'x-amz-id-2': 'r' },
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: 'currents',
        bucket: { name: bucket, ownerIdentity: { principalId: 'o' }, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 1, eTag: 'e', sequencer: '1' },
      },
    })),
  };
}

export function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:test',
    memoryLimitInMB: '256',
    awsRequestId: 'request',
    logGroupName: 'group',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export function parseJson(result: { body?: string }): Record<string, unknown> {
  return JSON.parse(result.body ?? 'null') as Record<string, unknown>;
}
