// Tenants as the hot path sees them: from a small cache checked against the store every few seconds, within
// the caller's deadline; served stale only when the store cannot answer, so an outage never turns into 401s.
import { BoundedMap, withDeadline } from './cache';
import { StoreUnavailableError, UnauthorizedError } from './errors';
import type { TenantStore } from './ports/tenant-store';
import { parseBearerToken, type Tenant, type TokenScope, tokenMatches } from './tenant';

const TENANT_MAX_AGE_SECONDS = 5;
/** After a failed read, the stale tenant is served this long before the store is asked again. */
const RETRY_AFTER_SECONDS = 1;
/** A tenant item is a few hundred bytes (ids, hashes, a few secrets): 10,000 of them stay under ~10 MB. */
const MAX_TENANTS = 10_000;

interface Entry {
  readonly tenant: Tenant | null;
  readonly checkAt: number;
}

export class TenantDirectory {
  private readonly cache = new BoundedMap<Entry>(MAX_TENANTS);
  private readonly loading = new Map<string, Promise<Tenant | null>>();
  /** Tokens that already verified, with the stored hash they matched: saves a SHA-256 per warm request. */
  private readonly verified = new BoundedMap<string>(1000);

  constructor(
    private readonly store: TenantStore,
    private readonly clock: () => number,
    private readonly onBackgroundError: (error: unknown) => void = () => {},
  ) {}

  /** The tenant, read again when the cached copy is older than a few seconds; within `deadlineMs` if given. */
  async byId(id: string, deadlineMs?: number): Promise<Tenant | null> {
    const now = this.clock();
    const cached = this.cache.get(id);
    if (cached && now < cached.checkAt) return cached.tenant;
    let load = this.loading.get(id);
    if (!load) {
      load = this.store.get(id).finally(() => this.loading.delete(id));
      this.loading.set(id, load);
    }
    try {
      const tenant =
        deadlineMs === undefined
          ? await load
          : await withDeadline(
              deadlineMs,
              () => load,
              () => new StoreUnavailableError('tenant read timed out'),
            );
      this.cache.set(id, { tenant, checkAt: now + TENANT_MAX_AGE_SECONDS });
      return tenant;
    } catch (error) {
      if (!cached || !(error instanceof StoreUnavailableError)) throw error;
      this.onBackgroundError(error);
      this.cache.set(id, { tenant: cached.tenant, checkAt: now + RETRY_AFTER_SECONDS });
      return cached.tenant;
    }
  }

  /** The tenant a bearer token belongs to, if the token is genuine and of the wanted scope. */
  async authenticate(token: string | null, scope: TokenScope, deadlineMs?: number): Promise<Tenant> {
    const claimed = token ? parseBearerToken(token) : null;
    if (!token || !claimed || claimed.scope !== scope) throw new UnauthorizedError();
    const tenant = await this.byId(claimed.tenantId, deadlineMs);
    const hash = tenant ? (scope === 'connect' ? tenant.connectTokenHash : tenant.adminTokenHash) : null;
    if (!tenant || !hash) throw new UnauthorizedError();
    if (this.verified.get(token) === hash) return tenant;
    if (!tokenMatches(token, hash)) throw new UnauthorizedError();
    this.verified.set(token, hash);
    return tenant;
  }
}
