// Rewards from tracking tokens: the pixel's opens and the clicks whose links carried `weft=`. A token is
// verified with its tenant's secrets (no store read) and counts at most once per recipient and kind.
import { feedsDelayModel, type RewardKind, type RewardSource } from './counting';
import { delayBucket } from './delay';
import type { AssignmentLedger, RewardOutcome } from './ports/assignment-ledger';
import { type Tenant, verificationSecrets } from './tenant';
import type { TenantDirectory } from './tenant-directory';
import {
  readTrackingToken,
  type TrackingClaims,
  trackingTokenExpiry,
  verifyTrackingToken,
} from './tracking-token';

export type TokenRewardOutcome = RewardOutcome | 'invalid_token';

/** A reward as a request or a Currents event shows it. */
export interface Observed {
  readonly kind: RewardKind;
  readonly source: RewardSource;
  /** Unix seconds it happened. */
  readonly at: number;
  /** Unix seconds weft saw it (defaults to `at`: the pixel and the beacon see it as it happens). */
  readonly visibleAt?: number;
}

/** Default assignment TTL (30 days), as in the handlers' config. */
const DEFAULT_ASSIGNMENT_TTL_SECONDS = 30 * 86_400;

export class TokenRewards {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly ledger: AssignmentLedger,
    private readonly clock: () => number,
    private readonly assignmentTtlSeconds = DEFAULT_ASSIGNMENT_TTL_SECONDS,
    /** A token counts nothing once this old (its own expiry may come sooner). */
    private readonly maxTokenAgeSeconds = assignmentTtlSeconds,
  ) {}

  /** The token's claims if it is genuine (and, when given, belongs to `expectedTenantId`). */
  async verify(token: string, expectedTenantId?: string): Promise<TrackingClaims | null> {
    const claimed = readTrackingToken(token);
    if (!claimed || (expectedTenantId !== undefined && claimed.tenantId !== expectedTenantId)) return null;
    const tenant = await this.tenants.byId(claimed.tenantId);
    return tenant ? this.verifyFor(tenant, token) : null;
  }

  /**
   * The claims of a token of this very tenant (one the caller already holds), if genuine and not past its
   * maximum age; no store read.
   */
  verifyFor(tenant: Tenant, token: string): TrackingClaims | null {
    const now = this.clock();
    const claims = verifyTrackingToken(token, verificationSecrets(tenant, now));
    if (!claims || claims.tenantId !== tenant.id) return null;
    return now < trackingTokenExpiry(claims, this.maxTokenAgeSeconds) ? claims : null;
  }

  /**
   * Records what the request shows for a genuine token: `observe` sees the verified claims (the send's time
   * among them) and says what the reward is, or null when it counts nothing.
   */
  async record(
    token: string,
    observe: (claims: TrackingClaims) => Observed | null,
    expectedTenantId?: string,
  ): Promise<TokenRewardOutcome | 'ignored'> {
    const claims = await this.verify(token, expectedTenantId);
    if (!claims) return 'invalid_token';
    const observed = observe(claims);
    if (!observed) return 'ignored';
    return this.recordVerified(claims, observed, { fromToken: true });
  }

  /**
   * The delay from the send until the reward became visible is counted with it (first rewards only, machine
   * opens never): the policy weighs unrewarded sends by the chance their reward would be visible by now. A
   * verified token names the variant shown and the send time, so when the send's own write never landed (a
   * content call that timed out) the reward records it, within the assignment TTL.
   */
  recordVerified(
    claims: TrackingClaims,
    observed: Observed,
    { fromToken }: { fromToken: boolean },
  ): Promise<RewardOutcome> {
    const expiresAt = claims.sentAt + this.assignmentTtlSeconds;
    const visibleAt = observed.visibleAt ?? observed.at;
    return this.ledger.reward({
      tenantId: claims.tenantId,
      experimentId: claims.experimentId,
      recipientKey: claims.recipientKey,
      variantId: claims.variantId,
      sentAt: claims.sentAt,
      kind: observed.kind,
      source: observed.source,
      at: observed.at,
      visibleAt,
      delayBucket: feedsDelayModel(observed.kind) ? delayBucket(visibleAt - claims.sentAt) : null,
      ...(fromToken && expiresAt > this.clock() ? { expiresAt } : {}),
    });
  }
}
