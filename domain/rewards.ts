// Rewards from tracking tokens: the pixel's opens and the clicks whose links carried `weft=`. A token is
// verified with its tenant's secrets (no store read) and counts at most once per recipient and kind.
import { delayBucket } from './delay';
import type { AssignmentLedger, RewardKind, RewardOutcome } from './ports/assignment-ledger';
import { type Tenant, verificationSecrets } from './tenant';
import type { TenantDirectory } from './tenant-directory';
import { readTrackingToken, type TrackingClaims, verifyTrackingToken } from './tracking-token';

export type TokenRewardOutcome = RewardOutcome | 'invalid_token';

/** Default assignment TTL (30 days), as in the handlers' config. */
const DEFAULT_ASSIGNMENT_TTL_SECONDS = 30 * 86_400;

export class TokenRewards {
  constructor(
    private readonly tenants: TenantDirectory,
    private readonly ledger: AssignmentLedger,
    private readonly clock: () => number,
    private readonly assignmentTtlSeconds = DEFAULT_ASSIGNMENT_TTL_SECONDS,
  ) {}

  /** The token's claims if it is genuine (and, when given, belongs to `expectedTenantId`). */
  async verify(token: string, expectedTenantId?: string): Promise<TrackingClaims | null> {
    const claimed = readTrackingToken(token);
    if (!claimed || (expectedTenantId !== undefined && claimed.tenantId !== expectedTenantId)) return null;
    const tenant = await this.tenants.byId(claimed.tenantId);
    return tenant ? this.verifyFor(tenant, token) : null;
  }

  /** The claims of a token of this very tenant (one the caller already holds), if genuine; no store read. */
  verifyFor(tenant: Tenant, token: string): TrackingClaims | null {
    const claimed = readTrackingToken(token);
    if (!claimed || claimed.tenantId !== tenant.id) return null;
    return verifyTrackingToken(token, verificationSecrets(tenant, this.clock()));
  }

  async record(
    token: string,
    kind: RewardKind,
    at: number,
    expectedTenantId?: string,
  ): Promise<TokenRewardOutcome> {
    const claims = await this.verify(token, expectedTenantId);
    if (!claims) return 'invalid_token';
    return this.recordVerified(claims, kind, at, { fromToken: true });
  }

  /**
   * The delay since the send is counted with the reward: the delay model learns from first rewards only. A
   * verified token names the variant shown and the send time, so when the send's own write never landed (a
   * content call that timed out) the reward records it, within the assignment TTL.
   */
  recordVerified(
    claims: TrackingClaims,
    kind: RewardKind,
    at: number,
    { fromToken }: { fromToken: boolean },
  ): Promise<RewardOutcome> {
    const expiresAt = claims.sentAt + this.assignmentTtlSeconds;
    return this.ledger.reward({
      tenantId: claims.tenantId,
      experimentId: claims.experimentId,
      recipientKey: claims.recipientKey,
      variantId: claims.variantId,
      sentAt: claims.sentAt,
      kind,
      at,
      delayBucket: delayBucket(at - claims.sentAt),
      ...(fromToken && expiresAt > this.clock() ? { expiresAt } : {}),
    });
  }
}
