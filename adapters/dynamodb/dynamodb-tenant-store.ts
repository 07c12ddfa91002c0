import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ConflictError } from '../../domain/errors';
import type { TenantStore } from '../../domain/ports/tenant-store';
import type { Tenant } from '../../domain/tenant';
import { type Item, key, n, num, s, str } from './attributes';
import { storeFailure } from './errors';
import { keys } from './keys';

function toTenant(item: Item | undefined): Tenant | null {
  const id = str(item, 'tenant');
  if (!item || !id) return null;
  return {
    id,
    folder: str(item, 'folder') ?? '',
    connectTokenHash: str(item, 'connect_token_hash') ?? '',
    adminTokenHash: str(item, 'admin_token_hash') ?? '',
    signingSecrets: JSON.parse(str(item, 'signing_secrets') ?? '[]'),
    recipientKey: str(item, 'recipient_key') ?? '',
    createdAt: num(item, 'created_at') ?? 0,
  };
}

export class DynamoDbTenantStore implements TenantStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async create(tenant: Tenant): Promise<void> {
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
                  admin_token_hash: s(tenant.adminTokenHash),
                  signing_secrets: s(JSON.stringify(tenant.signingSecrets)),
                  recipient_key: s(tenant.recipientKey),
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

  async get(id: string): Promise<Tenant | null> {
    try {
      const result = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(keys.tenant(id)), ConsistentRead: true }),
      );
      return toTenant(result.Item);
    } catch (error) {
      throw storeFailure('tenant read', error);
    }
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

  async replaceCredentials(tenant: Tenant): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: key(keys.tenant(tenant.id)),
          UpdateExpression: 'SET connect_token_hash = :c, admin_token_hash = :a, signing_secrets = :s',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: {
            ':c': s(tenant.connectTokenHash),
            ':a': s(tenant.adminTokenHash),
            ':s': s(JSON.stringify(tenant.signingSecrets)),
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError('tenant_missing', `tenant ${tenant.id} does not exist`);
      }
      throw storeFailure('tenant rotate', error);
    }
  }

  async list(): Promise<Tenant[]> {
    const tenants: Tenant[] = [];
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
        for (const item of page.Items ?? []) {
          const tenant = toTenant(item);
          if (tenant) tenants.push(tenant);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      throw storeFailure('tenant list', error);
    }
    return tenants;
  }
}
