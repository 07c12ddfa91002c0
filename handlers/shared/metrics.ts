// CloudWatch metrics (embedded metric format) for what operators alarm on: fallbacks, attribution misses,
// failed Currents files, pixels not recorded. Published once per invocation by the middy middleware.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';

export const metrics = new Metrics({ namespace: 'weft', serviceName: 'weft' });

export type MetricName =
  | 'ContentFallback'
  | 'AttributionMisses'
  | 'FailedFiles'
  | 'PixelNotRecorded'
  | 'RewardsCounted'
  /** A send whose write did not confirm within the budget: its token's first reward records it. */
  | 'SendUnconfirmed'
  /** Sends recorded at their first reward because the content write never landed. */
  | 'SendRecordedFromReward'
  /** Pixel hits and beacon events the machine classifier judged a machine's (not a person's). */
  | 'MachineOpens'
  | 'MachineEvents'
  /** Beacon events and server-side posts that counted (clicks and conversions). */
  | 'EventsCounted'
  /** New recipients answered without an assignment because the tenant's per-container cap was reached. */
  | 'NewRecipientCapped';

export function count(name: MetricName, value = 1): void {
  if (value > 0) metrics.addMetric(name, MetricUnit.Count, value);
}

/** Publishes what an invocation counted; quiet when it counted nothing (no empty-metrics warning per request). */
export function publishMetrics(): MiddlewareObj {
  const publish = async () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: publish, onError: publish };
}
