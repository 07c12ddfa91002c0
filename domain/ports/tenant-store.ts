import type { Tenant } from '../tenant';

/** The credentials a rotation read, so that two rotations at once never undo each other. */
export type CredentialsVersion = Pick<Tenant, 'connectTokenHash' | 'adminTokenHash'>;

/**
 * Where tenants live. Ids and Currents folders are each unique across tenants. Secrets (signing secrets, the
 * recipient key) are kept sealed wherever the store persists them; tenants come back with them open.
 * A read throws StoreUnavailableError when the store, or the key service that opens the secrets, fails.
 */
export interface TenantStore {
  /** Throws ConflictError (`tenant_exists` / `folder_taken`) when the id or the folder is already used. */
  create(tenant: Tenant): Promise<void>;
  /** `signal` abandons the read (the directory gives up on a store that hangs). */
  get(id: string, options?: { readonly signal?: AbortSignal }): Promise<Tenant | null>;
  findByFolder(folder: string): Promise<Tenant | null>;
  /**
   * Replaces the credentials of an existing tenant (rotation): token hashes, replaced connect tokens in their
   * grace period, signing secrets. Folder, recipient key, pseudonym scheme and creation time stay as stored.
   * With `expected`, only while the stored token hashes are still those: ConflictError `tenant_changed` when
   * another rotation landed first, `tenant_missing` when there is no such tenant.
   */
  replaceCredentials(tenant: Tenant, expected?: CredentialsVersion): Promise<void>;
  /**
   * Brings a tenant stored by an older weft up to date, idempotently: secrets still stored in plain text are
   * sealed (and the plain text removed), and a tenant without per-experiment pseudonyms gets them for
   * experiments created from `experimentPseudonymsSince` on. `current` when there was nothing to do;
   * ConflictError `tenant_missing` when there is no such tenant.
   */
  upgrade(id: string, experimentPseudonymsSince: number): Promise<'upgraded' | 'current'>;
  list(): Promise<Tenant[]>;
}
