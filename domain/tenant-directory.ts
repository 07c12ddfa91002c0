// Tenants as the hot path sees them: from a warm cache, refreshed in the background, served stale when the
// store is unreachable so an outage never turns into 401s.
import { BoundedMap, RefreshingCache } from './cache';
import { UnauthorizedError } from './errors';
import type { TenantStore } from './ports/tenant-store';
import { parseBearerToken, type Tenant, type TokenScope, tokenMatches } from './tenant';

const TENANT_MAX_AGE_SECONDS = 5;

export class TenantDirectory {
  private readonly cache: RefreshingCache<Tenant | null>;
  /** Tokens that already verified, with the stored hash they matched: saves a SHA-256 per warm request. */
  private readonly verified = new BoundedMap<string>(1000);

  constructor(
    private readonly store: TenantStore,
    private readonly clock: () => number,
    onBackgroundError?: (error: unknown) => void,
  ) {
    this.cache = new RefreshingCache(10_000, onBackgroundError);
  }

  byId(id: string): Promise<Tenant | null> {
    return this.cache.get(id, () => this.store.get(id), this.clock(), TENANT_MAX_AGE_SECONDS);
  }

  /** The tenant a bearer token belongs to, if the token is genuine and of the wanted scope. */
  async authenticate(authorization: string | undefined, scope: TokenScope): Promise<Tenant> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    const token = match?.[1];
    const claimed = token ? parseBearerToken(token) : null;
    if (!token || !claimed || claimed.scope !== scope) throw new UnauthorizedError();
    const tenant =
      this.cache.fresh(claimed.tenantId, this.clock(), TENANT_MAX_AGE_SECONDS) ??
      (await this.byId(claimed.tenantId));
    const hash = tenant ? (scope === 'connect' ? tenant.connectTokenHash : tenant.adminTokenHash) : null;
    if (!tenant || !hash) throw new UnauthorizedError();
    if (this.verified.get(token) === hash) return tenant;
    if (!tokenMatches(token, hash)) throw new UnauthorizedError();
    this.verified.set(token, hash);
    return tenant;
  }
}
