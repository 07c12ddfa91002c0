// The one place sends and rewards are counted. Each method is a single atomic step: the record of who got
// what and the counters that sum it change together or not at all, which keeps the counts exact.

import type { RewardKind, RewardSource } from '../counting';

export type { RewardKind, RewardSource } from '../counting';

export interface AssignmentKey {
  readonly tenantId: string;
  readonly experimentId: string;
  /** Keyed hash of the recipient (never the raw id). */
  readonly recipientKey: string;
}

export interface Assignment extends AssignmentKey {
  readonly variantId: string;
  /** Unix seconds of the first assignment: the send. A reward must name it, which ties the reward to that very send. */
  readonly sentAt: number;
  readonly campaignId: string | null;
  /** Unix seconds of the first reward of each kind (when it happened), null until then. */
  readonly openedAt: number | null;
  readonly machineOpenedAt: number | null;
  readonly clickedAt: number | null;
  /** Where the first click was seen. */
  readonly clickSource: RewardSource | null;
  readonly convertedAt: number | null;
}

export interface NewAssignment extends AssignmentKey {
  readonly variantId: string;
  readonly sentAt: number;
  readonly campaignId: string | null;
  readonly dispatchId: string | null;
  /** Unix seconds after which the store may forget the assignment (TTL). */
  readonly expiresAt: number;
}

export type AssignOutcome =
  | { readonly created: true }
  | { readonly created: false; readonly existing: Assignment };

export interface Reward extends AssignmentKey {
  readonly variantId: string;
  /** The send's time, so the reward is counted in the send's hour (what delay correction needs). */
  readonly sentAt: number;
  readonly kind: RewardKind;
  readonly source: RewardSource;
  /** Unix seconds the reward happened. */
  readonly at: number;
  /**
   * Unix seconds weft saw it: receipt for the pixel and the beacon, ingestion for Currents (whose files come
   * minutes later). The policy weighs unrewarded sends by the chance their reward would be visible by now.
   */
  readonly visibleAt: number;
  /**
   * Bucket of the delay from send to visibility, counted with the reward so the delay model learns exactly
   * once; null for rewards that never teach it (machine opens).
   */
  readonly delayBucket: number | null;
  /**
   * Set only when the reward comes with a verified token (which names the variant shown and the send time):
   * if the send's own write never landed, the send is recorded with this TTL, together with the reward.
   */
  readonly expiresAt?: number;
}

/**
 * `no_assignment`: nothing was sent to this recipient with that variant, so there is nothing to reward.
 * `counted_with_send`: the send had not been recorded (its write never landed); both are now, once.
 */
export type RewardOutcome = 'counted' | 'counted_with_send' | 'duplicate' | 'no_assignment';

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface AssignmentLedger {
  /** Records the assignment and counts the send, unless the recipient already has one (returned instead). */
  assign(assignment: NewAssignment, options?: CallOptions): Promise<AssignOutcome>;
  find(key: AssignmentKey, options?: CallOptions): Promise<Assignment | null>;
  findMany(keys: readonly AssignmentKey[]): Promise<Assignment[]>;
  /** Counts the first reward of its kind for an assignment; every later one is a `duplicate`. */
  reward(reward: Reward): Promise<RewardOutcome>;
  /** Experiments whose content was requested with this Braze campaign or Canvas step id. */
  experimentsForCampaign(tenantId: string, campaignId: string): Promise<string[]>;
}
