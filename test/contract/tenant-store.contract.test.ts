// TenantStore: the same cases against the in-memory fake and the DynamoDB adapter (DynamoDB Local, its secrets
// sealed with a key file of the test's own).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbTenantStore } from '../../adapters/dynamodb/dynamodb-tenant-store';
import { KeyFileSealer } from '../../adapters/file/key-file-sealer';
import { MemoryTenantStore } from '../../adapters/memory/memory-stores';
import { ConflictError } from '../../domain/errors';
import type { TenantStore } from '../../domain/ports/tenant-store';
import type { Tenant } from '../../domain/tenant';
import { bothAdapters, sortedBy } from './adapters';

const NOW = 1_767_225_600;

function tenant(id: string, folder = id, overrides: Partial<Tenant> = {}): Tenant {
  return {
    id,
    folder,
    connectTokenHash: `connect-${id}`,
    retiredConnectTokens: [{ hash: `old-connect-${id}`, retiresAt: NOW + 600 }],
    adminTokenHash: `admin-${id}`,
    signingSecrets: [{ secret: `secret-${id}` }, { secret: `old-${id}`, retiresAt: NOW + 60 }],
    recipientKey: `recipient-key-${id}`,
    experimentPseudonymsSince: 0,
    createdAt: NOW,
    ...overrides,
  };
}

const conflictOf = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe.each(
  bothAdapters<TenantStore>(
    () => new MemoryTenantStore(),
    ({ client, tableName }) =>
      new DynamoDbTenantStore(
        client,
        tableName,
        new KeyFileSealer(join(mkdtempSync(join(tmpdir(), 'weft-contract-')), 'secrets.key')),
      ),
  ),
)('TenantStore contract: %s', (_name, makeStore) => {
  let store: TenantStore;
  beforeEach(async () => {
    store = await makeStore();
  });

  it('get returns the tenant as created, and null for an unknown id', async () => {
    const acme = tenant('acme');
    await store.create(acme);

    expect(await store.get('acme')).toEqual(acme);
    expect(await store.get('globex')).toBeNull();
  });

  it('refuses a second tenant with a used id (tenant_exists) and keeps the first', async () => {
    await store.create(tenant('acme', 'acme-folder'));

    const refusal = await conflictOf(store.create(tenant('acme', 'other-folder')));

    expect(refusal).toBeInstanceOf(ConflictError);
    expect(refusal).toMatchObject({ code: 'tenant_exists' });
    expect(await store.get('acme')).toMatchObject({ folder: 'acme-folder' });
    expect(await store.findByFolder('other-folder')).toBeNull();
  });

  it('refuses a tenant whose folder another owns (folder_taken) and stores nothing of it', async () => {
    await store.create(tenant('acme', 'shared'));

    const refusal = await conflictOf(store.create(tenant('globex', 'shared')));

    expect(refusal).toBeInstanceOf(ConflictError);
    expect(refusal).toMatchObject({ code: 'folder_taken' });
    expect(await store.get('globex')).toBeNull();
    expect(await store.findByFolder('shared')).toMatchObject({ id: 'acme' });
  });

  it('names the id first when both the id and the folder are taken', async () => {
    await store.create(tenant('acme', 'shared'));

    await expect(store.create(tenant('acme', 'shared'))).rejects.toMatchObject({ code: 'tenant_exists' });
  });

  it('findByFolder finds the owner by the exact folder, and null for any other', async () => {
    await store.create(tenant('acme', 'Acme.Prod'));
    await store.create(tenant('globex', 'globex'));

    expect(await store.findByFolder('Acme.Prod')).toEqual(tenant('acme', 'Acme.Prod'));
    expect(await store.findByFolder('acme.prod')).toBeNull();
    expect(await store.findByFolder('Acme')).toBeNull();
  });

  it('replaceCredentials replaces tokens and secrets, and keeps folder, recipient key, pseudonyms and creation time', async () => {
    await store.create(tenant('acme', 'acme-folder'));
    const rotated = tenant('acme', 'somewhere-else', {
      connectTokenHash: 'new-connect',
      retiredConnectTokens: [{ hash: 'connect-acme', retiresAt: NOW + 700 }],
      adminTokenHash: 'new-admin',
      signingSecrets: [{ secret: 'new-secret' }, { secret: 'secret-acme', retiresAt: NOW + 90 }],
      recipientKey: 'must-not-change',
      experimentPseudonymsSince: NOW + 5,
      createdAt: NOW + 1000,
    });

    await store.replaceCredentials(rotated);

    expect(await store.get('acme')).toEqual({
      ...tenant('acme', 'acme-folder'),
      connectTokenHash: 'new-connect',
      retiredConnectTokens: [{ hash: 'connect-acme', retiresAt: NOW + 700 }],
      adminTokenHash: 'new-admin',
      signingSecrets: [{ secret: 'new-secret' }, { secret: 'secret-acme', retiresAt: NOW + 90 }],
    });
    expect(await store.findByFolder('acme-folder')).toMatchObject({
      id: 'acme',
      adminTokenHash: 'new-admin',
    });
    expect(await store.findByFolder('somewhere-else')).toBeNull();
  });

  it('replaceCredentials with the credentials it read refuses (tenant_changed) when another rotation landed first', async () => {
    await store.create(tenant('acme'));
    const read = (await store.get('acme'))!;
    await store.replaceCredentials({ ...read, adminTokenHash: 'first-rotation' }, read);

    const second = await conflictOf(store.replaceCredentials({ ...read, connectTokenHash: 'second' }, read));

    expect(second).toBeInstanceOf(ConflictError);
    expect(second).toMatchObject({ code: 'tenant_changed' });
    // The first rotation stands: the admin token it revoked is not brought back.
    expect(await store.get('acme')).toMatchObject({
      adminTokenHash: 'first-rotation',
      connectTokenHash: 'connect-acme',
    });
    expect(await conflictOf(store.replaceCredentials(tenant('ghost'), read))).toMatchObject({
      code: 'tenant_missing',
    });
  });

  it('upgrade gives a tenant without per-experiment pseudonyms a start time, once, and changes nothing else', async () => {
    const legacy = tenant('acme', 'acme', { experimentPseudonymsSince: null });
    await store.create(legacy);
    await store.create(tenant('globex'));

    expect(await store.upgrade('acme', NOW + 300)).toBe('upgraded');
    expect(await store.upgrade('acme', NOW + 900)).toBe('current');
    expect(await store.upgrade('globex', NOW + 300)).toBe('current');

    expect(await store.get('acme')).toEqual({ ...legacy, experimentPseudonymsSince: NOW + 300 });
    expect(await store.get('globex')).toEqual(tenant('globex'));
    expect(await conflictOf(store.upgrade('ghost', NOW))).toMatchObject({ code: 'tenant_missing' });
  });

  it('replaceCredentials of an unknown tenant is a ConflictError (tenant_missing) and creates nothing', async () => {
    const refusal = await conflictOf(store.replaceCredentials(tenant('ghost')));

    expect(refusal).toBeInstanceOf(ConflictError);
    expect(refusal).toMatchObject({ code: 'tenant_missing' });
    expect(await store.get('ghost')).toBeNull();
    expect(await store.list()).toEqual([]);
  });

  it('list returns every tenant once, and nothing when there are none', async () => {
    expect(await store.list()).toEqual([]);
    const tenants = [tenant('acme'), tenant('globex'), tenant('initech', 'initech-eu')];
    for (const t of tenants) await store.create(t);
    await store.create(tenant('acme', 'refused')).catch(() => undefined);

    expect(sortedBy(await store.list(), (t) => t.id)).toEqual(tenants);
  });

  it('hands out copies: changing a returned tenant changes nothing stored', async () => {
    await store.create(tenant('acme'));
    const copy = (await store.get('acme')) as unknown as {
      adminTokenHash: string;
      signingSecrets: unknown[];
    };
    copy.adminTokenHash = 'tampered';
    copy.signingSecrets.length = 0;

    expect(await store.get('acme')).toEqual(tenant('acme'));
  });
});
