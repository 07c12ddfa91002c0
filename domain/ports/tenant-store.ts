import type { Tenant } from '../tenant';

/** Where tenants live. Ids and Currents folders are each unique across tenants. */
export interface TenantStore {
  /** Throws ConflictError (`tenant_exists` / `folder_taken`) when the id or the folder is already used. */
  create(tenant: Tenant): Promise<void>;
  get(id: string): Promise<Tenant | null>;
  findByFolder(folder: string): Promise<Tenant | null>;
  /** Replaces credentials of an existing tenant (rotation); the folder never changes. */
  replaceCredentials(tenant: Tenant): Promise<void>;
  list(): Promise<Tenant[]>;
}
