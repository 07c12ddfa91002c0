// GET /v1/weft.js — the landing-page beacon script; POST /v1/events — the click and conversion events it reports
// (or that the customer's server posts with its connect token). CORS is open: the landing page is on the
// customer's domain, and the body is sent as text/plain so browsers make no preflight request.
import type { Context } from 'aws-lambda';
import { LandingEvents, parseLandingEvent } from '../domain/landing-events';
import { nowSeconds } from '../domain/time';
import { BEACON_SCRIPT } from './shared/beacon-script';
import { type Config, readConfig } from './shared/config';
import { bearerToken, type HttpRequest, type HttpResult, httpHandler } from './shared/http';
import { count } from './shared/metrics';
import { createStores, type Stores, tokenRewards } from './shared/stage';

const CORS = { 'access-control-allow-origin': '*' };

const SCRIPT_RESULT: HttpResult = {
  statusCode: 200,
  headers: {
    'content-type': 'text/javascript; charset=utf-8',
    // The same for everyone, long-cached (a day, then revalidated in the background for a week).
    'cache-control': 'public, max-age=86400, stale-while-revalidate=604800',
    'x-content-type-options': 'nosniff',
    ...CORS,
  },
  body: BEACON_SCRIPT,
};

export function createTrackEvent(config: Config, stores: Stores, clock: () => number = nowSeconds) {
  const events = new LandingEvents(tokenRewards(stores), stores.tenants, config.machineAddressRanges);
  return async function trackEvent(request: HttpRequest, _context?: Context): Promise<HttpResult> {
    if (request.routeKey === 'GET /v1/weft.js') return SCRIPT_RESULT;
    const event = parseLandingEvent(request.body);
    const outcome = await events.record(event, {
      method: request.method,
      userAgent: request.headers['user-agent'],
      sourceAddress: request.sourceAddress,
      receivedAt: clock(),
      bearer: bearerToken(request),
    });
    if (outcome === 'machine') count('MachineEvents');
    if (outcome === 'counted' || outcome === 'counted_with_send') count('EventsCounted');
    if (outcome === 'counted_with_send') count('SendRecordedFromReward');
    // Always 204, whatever the token: what counted shows in the report and the metrics, never to the caller.
    return { statusCode: 204, headers: { ...CORS, 'cache-control': 'no-store' }, body: '' };
  };
}

const config = readConfig();
export const trackEvent = createTrackEvent(config, createStores(config));
export const handler = httpHandler(trackEvent);
