// The DynamoDB adapters a handler needs, built once per container.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbAllocationStore } from '../../adapters/dynamodb/dynamodb-allocation-store';
import { DynamoDbExperimentStore } from '../../adapters/dynamodb/dynamodb-experiment-store';
import { DynamoDbLedger } from '../../adapters/dynamodb/dynamodb-ledger';
import { DynamoDbTenantStore } from '../../adapters/dynamodb/dynamodb-tenant-store';
import { ShardCounts } from '../../adapters/dynamodb/shard-counts';
import { TenantDirectory } from '../../domain/tenant-directory';
import { nowSeconds } from '../../domain/time';
import { createDynamoDbClient } from './clients';
import type { Config } from './config';
import { describeError, logger } from './logger';

export function createStores(
  config: Config,
  client: DynamoDBClient = createDynamoDbClient(config),
  clock: () => number = nowSeconds,
) {
  const tenantStore = new DynamoDbTenantStore(client, config.tableName);
  // Head reads teach the ledger each experiment's shard count, so writes need no read of their own.
  const shards = new ShardCounts(client, config.tableName);
  return {
    client,
    tenantStore,
    tenants: new TenantDirectory(tenantStore, clock, logBackgroundError),
    experiments: new DynamoDbExperimentStore(client, config.tableName),
    allocations: new DynamoDbAllocationStore(client, config.tableName, shards),
    ledger: new DynamoDbLedger(client, config.tableName, shards),
  };
}

export type Stores = ReturnType<typeof createStores>;

export function logBackgroundError(error: unknown): void {
  logger.warn('background refresh failed', describeError(error));
}
