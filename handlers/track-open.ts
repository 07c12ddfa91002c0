// GET and HEAD /v1/pixel/{token}.gif — the open pixel. Always the same GIF, whatever the token: a forged or
// foreign token is not distinguishable from a genuine one from the outside. What fetched it decides what it
// counts: a person's mail client an open, a machine (Privacy Protection prefetch, a scanner) a machine open.
// The address and user agent are looked at in memory, never stored or logged.

import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { withDeadline } from '../domain/cache';
import { StoreUnavailableError } from '../domain/errors';
import { type AddressRanges, classifyRequest } from '../domain/machine-classifier';
import type { Observed, TokenRewards } from '../domain/rewards';
import { nowSeconds } from '../domain/time';
import type { TrackingClaims } from '../domain/tracking-token';
import { readConfig } from './shared/config';
import type { HttpResult } from './shared/http';
import { describeError, lambdaLogContext, logger } from './shared/logger';
import { count, publishMetrics } from './shared/metrics';
import { createStores, tokenRewards } from './shared/stage';

/** A 1×1 transparent GIF (43 bytes). */
export const PIXEL_GIF = Buffer.from(
  'R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==',
  'base64',
);

const PIXEL_RESULT: HttpResult = {
  statusCode: 200,
  headers: {
    'content-type': 'image/gif',
    'cache-control': 'no-store, private',
    'x-content-type-options': 'nosniff',
    'content-length': String(PIXEL_GIF.length),
  },
  body: PIXEL_GIF.toString('base64'),
  isBase64Encoded: true,
};

const PIXEL_BUDGET_MS = 2000;

export function tokenFromPath(path: string | undefined): string {
  const last = (path ?? '').split('/').pop() ?? '';
  return last.endsWith('.gif') ? last.slice(0, -4) : last;
}

/** What the pixel's request shows: one open, of a person or of a machine. */
export function observeOpen(
  event: APIGatewayProxyEventV2,
  receivedAt: number,
  ranges: AddressRanges | undefined,
): (claims: TrackingClaims) => Observed {
  return (claims) => {
    const headers = event.headers ?? {};
    const classification = classifyRequest(
      {
        channel: 'pixel',
        method: event.requestContext?.http?.method ?? 'GET',
        userAgent: headers['user-agent'] ?? headers['User-Agent'],
        sourceAddress: event.requestContext?.http?.sourceIp,
        receivedAt,
        sentAt: claims.sentAt,
      },
      ranges,
    );
    if (classification.machine) count('MachineOpens');
    return { kind: classification.machine ? 'machine_open' : 'open', source: 'pixel', at: receivedAt };
  };
}

export function createTrackOpen(
  rewards: TokenRewards,
  clock: () => number = nowSeconds,
  ranges?: AddressRanges,
) {
  return async function trackOpen(event: APIGatewayProxyEventV2): Promise<HttpResult> {
    const token = tokenFromPath(event.pathParameters?.token ?? event.rawPath);
    try {
      const now = clock();
      const outcome = await withDeadline(
        Date.now() + PIXEL_BUDGET_MS,
        () => rewards.record(token, observeOpen(event, now, ranges)),
        () => new StoreUnavailableError('pixel budget exceeded'),
      );
      logger.debug('pixel', { outcome });
      if (outcome === 'counted_with_send') count('SendRecordedFromReward');
    } catch (error) {
      count('PixelNotRecorded');
      logger.warn('pixel open not recorded', describeError(error));
    }
    return event.requestContext?.http?.method === 'HEAD' ? { ...PIXEL_RESULT, body: '' } : PIXEL_RESULT;
  };
}

const config = readConfig();
const stores = createStores(config);
export const trackOpen = createTrackOpen(tokenRewards(stores), nowSeconds, config.machineAddressRanges);
export const handler = middy<APIGatewayProxyEventV2, HttpResult>()
  .use(lambdaLogContext())
  .use(publishMetrics())
  .handler(trackOpen);
