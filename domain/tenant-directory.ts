// Tenants as the hot path sees them: from a small cache re-read from the store every few seconds, within the
// caller's deadline. The store adapter opens the tenant's sealed secrets as it loads it, so a request never
// waits on the key service once its tenant is cached.
//
// Revocation bounds (a rotation is seen by every container within these, whatever it did meanwhile):
// - admin tokens fail closed: a copy older than TENANT_MAX_AGE_SECONDS is never used to admit an admin, and
//   while the store cannot be read the admin API answers 503 rather than trust it. Revoked within ~6 s.
// - connect tokens favour availability (a send must never fail because the store is down): the last copy is
//   served through an outage, but re-read within RETRY_AFTER_SECONDS of the store answering again, so a revoked
//   connect token stops within a few seconds of the store coming back.
// Lookups of ids that name no tenant are cached apart, in a small bound: forged bearer tokens never push a real
// tenant out of the cache.
import { BoundedMap, withDeadline } from './cache';
import { StoreUnavailableError, UnauthorizedError } from './errors';
import type { TenantStore } from './ports/tenant-store';
import { acceptedTokenHashes, matchingHash, parseBearerToken, type Tenant, type TokenScope } from './tenant';

/** A cached tenant is re-read once it is this old (whole seconds of the clock, so under 6 s in fact). */
export const TENANT_MAX_AGE_SECONDS = 5;
/** After a failed read, the stale tenant is served (connect, rewards) this long before the store is asked again. */
const RETRY_AFTER_SECONDS = 1;
/** A tenant item is a few hundred bytes (ids, hashes, a few secrets): 10,000 of them stay under ~10 MB. */
const MAX_TENANTS = 10_000;
/** Ids found to name no tenant: kept apart, so a flood of forged ids evicts only each other. */
const MAX_ABSENT = 1_000;
/** A read that takes longer is abandoned (and the store call aborted): a hung store never pins a tenant. */
const DEFAULT_LOAD_TIMEOUT_MS = 2_000;

interface Entry {
  /** Null only when a tenant this container knew has gone from the store. */
  readonly tenant: Tenant | null;
  /** Clock time (unix seconds) when the read that produced this copy started. */
  readonly readAt: number;
  /** When the store is asked again. */
  readonly checkAt: number;
}

interface Load {
  readonly promise: Promise<{ tenant: Tenant | null; readAt: number }>;
}

/** `fresh`: a copy younger than TENANT_MAX_AGE_SECONDS or none (admin); `available`: stale through an outage. */
export type Freshness = 'fresh' | 'available';

export interface TenantDirectoryOptions {
  /** How long one store read may take before it is abandoned, in milliseconds. */
  readonly loadTimeoutMs?: number;
}

export class TenantDirectory {
  private readonly cache = new BoundedMap<Entry>(MAX_TENANTS);
  private readonly absent = new BoundedMap<number>(MAX_ABSENT);
  private readonly loading = new Map<string, Load>();
  /** Tokens that already verified, with the stored hash they matched: saves a SHA-256 per warm request. */
  private readonly verified = new BoundedMap<string>(1000);
  private readonly loadTimeoutMs: number;

  constructor(
    private readonly store: TenantStore,
    private readonly clock: () => number,
    private readonly onBackgroundError: (error: unknown) => void = () => {},
    options: TenantDirectoryOptions = {},
  ) {
    this.loadTimeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
  }

  /**
   * The tenant, read again when the cached copy is older than a few seconds; within `deadlineMs` (epoch
   * milliseconds) if given. `available` (the default) serves the last copy while the store cannot be read;
   * `fresh` throws StoreUnavailableError instead.
   */
  async byId(id: string, deadlineMs?: number, freshness: Freshness = 'available'): Promise<Tenant | null> {
    const now = this.clock();
    const cached = this.cache.get(id);
    if (cached && now < cached.checkAt && (freshness === 'available' || isFresh(cached, now))) {
      return cached.tenant;
    }
    if (!cached) {
      const absentUntil = this.absent.get(id);
      if (absentUntil !== undefined && now < absentUntil) return null;
    }
    const load = this.load(id, now);
    try {
      const { tenant, readAt } =
        deadlineMs === undefined
          ? await load.promise
          : await withDeadline(
              deadlineMs,
              () => load.promise,
              () => new StoreUnavailableError('tenant read timed out'),
            );
      this.remember(id, tenant, readAt);
      return tenant;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      // Fail closed for admins, and for anyone when nothing is known.
      if (freshness === 'fresh' || !cached) throw error;
      this.onBackgroundError(error);
      this.cache.set(id, { ...cached, checkAt: now + RETRY_AFTER_SECONDS });
      return cached.tenant;
    }
  }

  /** The tenant a bearer token belongs to, if the token is genuine and of the wanted scope. */
  async authenticate(token: string | null, scope: TokenScope, deadlineMs?: number): Promise<Tenant> {
    const claimed = token ? parseBearerToken(token) : null;
    if (!token || !claimed || claimed.scope !== scope) throw new UnauthorizedError();
    const tenant = await this.byId(claimed.tenantId, deadlineMs, scope === 'admin' ? 'fresh' : 'available');
    if (!tenant) throw new UnauthorizedError();
    const known = this.verified.get(token);
    // The hot path: the current token, verified before on this container.
    if (
      known !== undefined &&
      known === (scope === 'admin' ? tenant.adminTokenHash : tenant.connectTokenHash)
    ) {
      return tenant;
    }
    const hashes = acceptedTokenHashes(tenant, scope, this.clock());
    if (known !== undefined && hashes.includes(known)) return tenant;
    const matched = matchingHash(token, hashes);
    if (!matched) throw new UnauthorizedError();
    this.verified.set(token, matched);
    return tenant;
  }

  /** One read per id at a time; each gives up after `loadTimeoutMs`, aborting the store call. */
  private load(id: string, now: number): Load {
    const running = this.loading.get(id);
    if (running) return running;
    const promise = withDeadline(
      Date.now() + this.loadTimeoutMs,
      (signal) => this.store.get(id, { signal }),
      () => new StoreUnavailableError('tenant read timed out'),
    )
      .then((tenant) => ({ tenant, readAt: now }))
      .finally(() => this.loading.delete(id));
    // A caller whose own deadline passed first is gone; the load must not be an unhandled rejection.
    promise.catch(() => {});
    const load = { promise };
    this.loading.set(id, load);
    return load;
  }

  private remember(id: string, tenant: Tenant | null, readAt: number) {
    const cached = this.cache.get(id);
    if (cached && cached.readAt > readAt) return; // a newer read landed first
    if (tenant || cached) {
      this.cache.set(id, { tenant, readAt, checkAt: readAt + TENANT_MAX_AGE_SECONDS });
    } else {
      this.absent.set(id, readAt + TENANT_MAX_AGE_SECONDS);
    }
  }
}

function isFresh(entry: Entry, now: number): boolean {
  return now - entry.readAt < TENANT_MAX_AGE_SECONDS;
}
