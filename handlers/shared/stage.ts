// The composition of a stage: its clients, adapters and use cases, built the same way for every Lambda
// function, the CLI, the local stack, benchmarks and tests. Each use case has its own builder, so a function's
// bundle (and its IAM role) holds only what that function builds.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbAllocationStore } from '../../adapters/dynamodb/dynamodb-allocation-store';
import { DynamoDbExperimentStore } from '../../adapters/dynamodb/dynamodb-experiment-store';
import { DynamoDbIngestionLog } from '../../adapters/dynamodb/dynamodb-ingestion-log';
import { DynamoDbLedger } from '../../adapters/dynamodb/dynamodb-ledger';
import { DynamoDbTenantStore } from '../../adapters/dynamodb/dynamodb-tenant-store';
import { ShardCounts } from '../../adapters/dynamodb/shard-counts';
import { AdminService } from '../../domain/admin';
import { ContentService } from '../../domain/content';
import { DelayModels } from '../../domain/delay-models';
import { CurrentsIngestion } from '../../domain/ingestion';
import type { AllocationStore } from '../../domain/ports/allocation-store';
import type { AssignmentLedger } from '../../domain/ports/assignment-ledger';
import type { CounterReader } from '../../domain/ports/counter-reader';
import type { DelayReader } from '../../domain/ports/delay-reader';
import type { ExperimentStore } from '../../domain/ports/experiment-store';
import { type ReconcileOptions, type ReconcileResult, reconcile } from '../../domain/reconcile';
import { TokenRewards } from '../../domain/rewards';
import { TenantDirectory } from '../../domain/tenant-directory';
import { nowSeconds } from '../../domain/time';
import { createDynamoDbClient } from './clients';
import type { Config } from './config';
import { describeError, logger } from './logger';
import { count } from './metrics';

/** Every adapter of the stage's table. `clock` (unix seconds) is injected by benchmarks in simulated time. */
export function createStores(
  config: Config,
  client: DynamoDBClient = createDynamoDbClient(config),
  clock: () => number = nowSeconds,
) {
  const tenantStore = new DynamoDbTenantStore(client, config.tableName);
  // Head reads teach the ledger each experiment's shard count, so writes need no read of their own.
  const shards = new ShardCounts(client, config.tableName);
  return {
    config,
    client,
    clock,
    tenantStore,
    tenants: new TenantDirectory(tenantStore, clock, logBackgroundError),
    experiments: new DynamoDbExperimentStore(client, config.tableName),
    allocations: new DynamoDbAllocationStore(client, config.tableName, shards),
    ledger: new DynamoDbLedger(client, config.tableName, shards),
    ingestionLog: new DynamoDbIngestionLog(client, config.tableName),
  };
}

export type Stores = ReturnType<typeof createStores>;

/** What content selection needs from the stores; the benchmark passes in-memory ones. */
export interface ContentStores {
  readonly tenants: TenantDirectory;
  readonly experiments: ExperimentStore;
  readonly allocations: AllocationStore;
  readonly ledger: AssignmentLedger & CounterReader & DelayReader;
}

/** Content selection; its fallbacks are counted and logged here, the one place they are reported. */
export function contentService(
  config: Config,
  stores: ContentStores,
  clock: () => number = nowSeconds,
): ContentService {
  return new ContentService({
    tenants: stores.tenants,
    experiments: stores.experiments,
    allocations: stores.allocations,
    ledger: stores.ledger,
    counters: stores.ledger,
    delays: stores.ledger,
    clock,
    budgetMs: config.contentBudgetMs,
    assignmentTtlSeconds: config.assignmentTtlSeconds,
    onFallback: (reason, error) => {
      count('ContentFallback');
      if (reason === 'assignment_unconfirmed') count('SendUnconfirmed');
      logger.warn('content fallback', { reason, ...(error ? describeError(error) : {}) });
    },
    onBackgroundError: logBackgroundError,
  });
}

export function tokenRewards(stores: Stores): TokenRewards {
  return new TokenRewards(stores.tenants, stores.ledger, stores.clock, stores.config.assignmentTtlSeconds);
}

export function currentsIngestion(stores: Stores): CurrentsIngestion {
  return new CurrentsIngestion({
    tenants: stores.tenantStore,
    experiments: stores.experiments,
    ledger: stores.ledger,
    rewards: tokenRewards(stores),
    log: stores.ingestionLog,
    clockMs: Date.now,
  });
}

export function adminService(stores: Stores): AdminService {
  const delays = new DelayModels(stores.ledger, stores.clock, logBackgroundError);
  return new AdminService({
    experiments: stores.experiments,
    allocations: stores.allocations,
    counters: stores.ledger,
    clock: stores.clock,
    delayModel: (tenantId, experiment) => delays.forMetric(tenantId, experiment.metric),
  });
}

/** Reconcile over one table: the CLI, the load test and the tests. */
export function reconcileTable(
  client: DynamoDBClient,
  tableName: string,
  options: ReconcileOptions = { fix: false, since: 0 },
): Promise<ReconcileResult> {
  const stores = createStores(storeConfig(tableName), client);
  return reconcile(
    {
      tenants: stores.tenantStore,
      experiments: stores.experiments,
      counters: stores.ledger,
      maintenance: stores.ledger,
    },
    options,
  );
}

/** A config for tools that only know the table (CLI, local stack): the handlers' defaults for the rest. */
export function storeConfig(tableName: string, overrides: Partial<Config> = {}): Config {
  return {
    tableName,
    currentsBucket: null,
    publicBaseUrl: null,
    contentBudgetMs: 800,
    assignmentTtlSeconds: 30 * 86_400,
    dynamodbEndpoint: null,
    s3Endpoint: null,
    s3Credentials: null,
    region: 'eu-west-1',
    ...overrides,
  };
}

export function logBackgroundError(error: unknown): void {
  logger.warn('background refresh failed', describeError(error));
}
