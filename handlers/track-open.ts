// GET /v1/pixel/{token}.gif — the open pixel. Always the same GIF, whatever the token: a forged or foreign
// token is not distinguishable from a genuine one from the outside.

import middy from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { withDeadline } from '../domain/cache';
import { StoreUnavailableError } from '../domain/errors';
import type { TokenRewards } from '../domain/rewards';
import { nowSeconds } from '../domain/time';
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

export function createTrackOpen(rewards: TokenRewards, clock: () => number = nowSeconds) {
  return async function trackOpen(event: APIGatewayProxyEventV2): Promise<HttpResult> {
    const token = tokenFromPath(event.pathParameters?.token ?? event.rawPath);
    try {
      const outcome = await withDeadline(
        Date.now() + PIXEL_BUDGET_MS,
        () => rewards.record(token, 'open', clock()),
        () => new StoreUnavailableError('pixel budget exceeded'),
      );
      logger.debug('pixel', { outcome });
      if (outcome === 'counted_with_send') count('SendRecordedFromReward');
    } catch (error) {
      count('PixelNotRecorded');
      logger.warn('pixel open not recorded', describeError(error));
    }
    return PIXEL_RESULT;
  };
}

const config = readConfig();
const stores = createStores(config);
export const trackOpen = createTrackOpen(tokenRewards(stores));
export const handler = middy<APIGatewayProxyEventV2, HttpResult>()
  .use(lambdaLogContext())
  .use(publishMetrics())
  .handler(trackOpen);
