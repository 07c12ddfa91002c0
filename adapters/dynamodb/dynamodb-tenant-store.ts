// Tenants in the single table. Secrets are stored sealed by the SecretSealer (`*_sealed` attributes, each bound
// to its tenant and field); items written by older versions may still hold them in plain text (`signing_secrets`,
// `recipient_key`), which reads accept and `upgrade` (`weft tenant seal-secrets`) seals.
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError, StoreUnavailableError } from '../../domain/errors';
import type { SecretSealer } from '../../domain/ports/secret-sealer';
import type { CredentialsVersion, TenantStore } from '../../domain/ports/tenant-store';
import type { RetiredToken, SigningSecret, Tenant } from '../../domain/tenant';
import { type Item, key, n, num, s, str } from './attributes';
import { storeFailure } from './errors';
import { keys } from './keys';

/** The secret fields: each stored sealed as `<field>_sealed`, or (written by older versions) plain as `<field>`. */
export const SECRET_FIELDS = ['signing_secrets', 'recipient_key'] as const;
type SecretField = (typeof SECRET_FIELDS)[number];

const sealedName = (field: SecretField) => `${field}_sealed`;
/** What a sealed value is bound to: a value copied to another tenant or field does not open. */
export const sealContext = (tenantId: string, field: SecretField) => `tenant/${tenantId}/${field}`;

/** Upgrades retried when a rotation lands between the read and the write. */
const UPGRADE_ATTEMPTS = 3;

function encodeSigningSecrets(secrets: readonly SigningSecret[]): string {
  return JSON.stringify(
    secrets.map((s) =>
      s.retiresAt === undefined ? { secret: s.secret } : { secret: s.secret, retiresAt: s.retiresAt },
    ),
  );
}

function encodeRetired(tokens: readonly RetiredToken[]): string {
  return JSON.stringify(tokens.map((t) => ({ hash: t.hash, retires_at: t.retiresAt })));
}

function decodeRetired(value: string | null): RetiredToken[] {
  if (!value) return [];
  return (JSON.parse(value) as Array<{ hash: string; retires_at: number }>).map((t) => ({
    hash: t.hash,
    retiresAt: t.retires_at,
  }));
}

export class DynamoDbTenantStore implements TenantStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly sealer: SecretSealer,
  ) {}

  private seal(tenantId: string, field: SecretField, plaintext: string): Promise<string> {
    return this.sealer.seal(plaintext, sealContext(tenantId, field));
  }

  /** The plain text of a secret field: opened when sealed, as stored when an older version wrote it plain. */
  private async open(item: Item, tenantId: string, field: SecretField): Promise<string | null> {
    const sealed = str(item, sealedName(field));
    if (sealed === null) return str(item, field);
    try {
      return await this.sealer.unseal(sealed, sealContext(tenantId, field));
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError('tenant secrets', { cause: error });
    }
  }

  private async toTenant(item: Item | undefined): Promise<Tenant | null> {
    const id = str(item, 'tenant');
    if (!item || !id) return null;
    const [signingSecrets, recipientKey] = await Promise.all([
      this.open(item, id, 'signing_secrets'),
      this.open(item, id, 'recipient_key'),
    ]);
    return {
      id,
      folder: str(item, 'folder') ?? '',
      connectTokenHash: str(item, 'connect_token_hash') ?? '',
      retiredConnectTokens: decodeRetired(str(item, 'retired_connect_tokens')),
      adminTokenHash: str(item, 'admin_token_hash') ?? '',
      signingSecrets: JSON.parse(signingSecrets ?? '[]') as SigningSecret[],
      recipientKey: recipientKey ?? '',
      experimentPseudonymsSince: num(item, 'experiment_pseudonyms_since'),
      createdAt: num(item, 'created_at') ?? 0,
    };
  }

  async create(tenant: Tenant): Promise<void> {
    const [signingSecrets, recipientKey] = await Promise.all([
      this.seal(tenant.id, 'signing_secrets', encodeSigningSecrets(tenant.signingSecrets)),
      this.seal(tenant.id, 'recipient_key', tenant.recipientKey),
    ]);
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...key(keys.tenant(tenant.id)),
                  tenant: s(tenant.id),
                  folder: s(tenant.folder),
                  connect_token_hash: s(tenant.connectTokenHash),
                  retired_connect_tokens: s(encodeRetired(tenant.retiredConnectTokens)),
                  admin_token_hash: s(tenant.adminTokenHash),
                  [sealedName('signing_secrets')]: s(signingSecrets),
                  [sealedName('recipient_key')]: s(recipientKey),
                  ...(tenant.experimentPseudonymsSince === null
                    ? {}
                    : { experiment_pseudonyms_since: n(tenant.experimentPseudonymsSince) }),
                  created_at: n(tenant.createdAt),
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { ...key(keys.folder(tenant.folder)), tenant: s(tenant.id) },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const [tenantReason, folderReason] = error.CancellationReasons ?? [];
        if (tenantReason?.Code === 'ConditionalCheckFailed') {
          throw new ConflictError('tenant_exists', `tenant ${tenant.id} already exists`);
        }
        if (folderReason?.Code === 'ConditionalCheckFailed') {
          throw new ConflictError('folder_taken', `folder ${tenant.folder} belongs to another tenant`);
        }
      }
      throw storeFailure('tenant create', error);
    }
  }

  private async item(id: string, signal?: AbortSignal): Promise<Item | undefined> {
    try {
      const result = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(keys.tenant(id)), ConsistentRead: true }),
        signal ? { abortSignal: signal } : {},
      );
      return result.Item;
    } catch (error) {
      throw storeFailure('tenant read', error);
    }
  }

  async get(id: string, options: { readonly signal?: AbortSignal } = {}): Promise<Tenant | null> {
    return this.toTenant(await this.item(id, options.signal));
  }

  async findByFolder(folder: string): Promise<Tenant | null> {
    let tenantId: string | null;
    try {
      const result = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: key(keys.folder(folder)),
          ConsistentRead: true,
        }),
      );
      tenantId = str(result.Item, 'tenant');
    } catch (error) {
      throw storeFailure('folder lookup', error);
    }
    return tenantId ? this.get(tenantId) : null;
  }

  async replaceCredentials(tenant: Tenant, expected?: CredentialsVersion): Promise<void> {
    const signingSecrets = await this.seal(
      tenant.id,
      'signing_secrets',
      encodeSigningSecrets(tenant.signingSecrets),
    );
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(keys.tenant(tenant.id)),
          UpdateExpression:
            'SET connect_token_hash = :c, retired_connect_tokens = :r, admin_token_hash = :a, #sealed = :s REMOVE #plain',
          ConditionExpression: expected
            ? 'attribute_exists(pk) AND connect_token_hash = :ec AND admin_token_hash = :ea'
            : 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#sealed': sealedName('signing_secrets'), '#plain': 'signing_secrets' },
          ExpressionAttributeValues: {
            ':c': s(tenant.connectTokenHash),
            ':r': s(encodeRetired(tenant.retiredConnectTokens)),
            ':a': s(tenant.adminTokenHash),
            ':s': s(signingSecrets),
            ...(expected ? { ':ec': s(expected.connectTokenHash), ':ea': s(expected.adminTokenHash) } : {}),
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        if (expected && (await this.item(tenant.id))) {
          throw new ConflictError(
            'tenant_changed',
            `tenant ${tenant.id} was rotated meanwhile; read it again and retry`,
          );
        }
        throw new ConflictError('tenant_missing', `tenant ${tenant.id} does not exist`);
      }
      throw storeFailure('tenant rotate', error);
    }
  }

  async upgrade(id: string, experimentPseudonymsSince: number): Promise<'upgraded' | 'current'> {
    for (let attempt = 1; ; attempt++) {
      const item = await this.item(id);
      if (!item) throw new ConflictError('tenant_missing', `tenant ${id} does not exist`);
      const set: string[] = [];
      const remove: string[] = [];
      const conditions = ['attribute_exists(pk)'];
      const names: Record<string, string> = {};
      const values: Item = {};
      for (const [i, field] of SECRET_FIELDS.entries()) {
        const plain = str(item, field);
        if (plain === null) continue;
        names[`#p${i}`] = field;
        values[`:p${i}`] = s(plain);
        remove.push(`#p${i}`);
        conditions.push(`#p${i} = :p${i}`);
        if (str(item, sealedName(field)) !== null) continue; // sealed already: only the plain copy goes
        const canonical =
          field === 'signing_secrets' ? encodeSigningSecrets(JSON.parse(plain) as SigningSecret[]) : plain;
        names[`#s${i}`] = sealedName(field);
        values[`:s${i}`] = s(await this.seal(id, field, canonical));
        set.push(`#s${i} = :s${i}`);
      }
      if (num(item, 'experiment_pseudonyms_since') === null) {
        values[':since'] = n(experimentPseudonymsSince);
        set.push('experiment_pseudonyms_since = :since');
        conditions.push('attribute_not_exists(experiment_pseudonyms_since)');
      }
      if (set.length === 0 && remove.length === 0) return 'current';
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: key(keys.tenant(id)),
            UpdateExpression: [
              set.length ? `SET ${set.join(', ')}` : '',
              remove.length ? `REMOVE ${remove.join(', ')}` : '',
            ]
              .filter(Boolean)
              .join(' '),
            ConditionExpression: conditions.join(' AND '),
            ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
          }),
        );
        return 'upgraded';
      } catch (error) {
        // Rotated (or upgraded) between the read and the write: read again.
        if (error instanceof ConditionalCheckFailedException && attempt < UPGRADE_ATTEMPTS) continue;
        throw storeFailure('tenant upgrade', error);
      }
    }
  }

  async list(): Promise<Tenant[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    try {
      do {
        const page = await this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: 'sk = :sk',
            ExpressionAttributeValues: { ':sk': s('TENANT') },
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      throw storeFailure('tenant list', error);
    }
    const tenants = await Promise.all(items.map((item) => this.toTenant(item)));
    return tenants.filter((t): t is Tenant => t !== null);
  }
}
