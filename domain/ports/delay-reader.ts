import type { DelayHistogram } from '../delay';
import type { RewardKind } from './assignment-ledger';

/** The delays from send to first reward recorded for a tenant: what the delay model learns from. */
export interface DelayReader {
  histogram(tenantId: string, kind: RewardKind): Promise<DelayHistogram>;
}
