// The composition of a stage: its clients, adapters and use cases, built the same way for every Lambda
// function, the CLI, the local stack, benchmarks and tests. Each use case has its own builder, so a function's
// bundle (and its IAM role) holds only what that function builds.
import { join, resolve } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDbAllocationStore } from '../../adapters/dynamodb/dynamodb-allocation-store';
import { DynamoDbExperimentStore } from '../../adapters/dynamodb/dynamodb-experiment-store';
import { DynamoDbIngestionLog } from '../../adapters/dynamodb/dynamodb-ingestion-log';
import { DynamoDbLedger } from '../../adapters/dynamodb/dynamodb-ledger';
import { DynamoDbTenantStore } from '../../adapters/dynamodb/dynamodb-tenant-store';
import { ShardCounts } from '../../adapters/dynamodb/shard-counts';
import { KEY_FILE_NAME, KeyFileSealer } from '../../adapters/file/key-file-sealer';
import { KmsSecretSealer } from '../../adapters/kms/kms-secret-sealer';
import { AdminService } from '../../domain/admin';
import { ContentService } from '../../domain/content';
import { DelayModels } from '../../domain/delay-models';
import { CurrentsIngestion } from '../../domain/ingestion';
import type { AllocationStore } from '../../domain/ports/allocation-store';
import type { AssignmentLedger } from '../../domain/ports/assignment-ledger';
import type { CounterReader } from '../../domain/ports/counter-reader';
import type { DelayReader } from '../../domain/ports/delay-reader';
import type { ExperimentStore } from '../../domain/ports/experiment-store';
import type { SecretSealer } from '../../domain/ports/secret-sealer';
import { type ReconcileOptions, type ReconcileResult, reconcile } from '../../domain/reconcile';
import { TokenRewards } from '../../domain/rewards';
import { TenantDirectory } from '../../domain/tenant-directory';
import { nowSeconds } from '../../domain/time';
import { createDynamoDbClient, requestTimeouts } from './clients';
import type { Config } from './config';
import { describeError, logger } from './logger';
import { count } from './metrics';

/** The project folder, from the sources (CLI, local stack, tests, benchmarks). */
const PROJECT_ROOT = resolve(__dirname, '..', '..');

/**
 * The local key file: WEFT_SECRETS_KEY_FILE, else `.weft/secrets.key` in the project folder, one per checkout
 * whatever WEFT_DATA_DIR says (serverless-offline hands its handlers neither variable: it runs them, bundled,
 * from the project folder, so they find the file the local stack's seed and the CLI sealed with).
 */
export function localSecretsKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WEFT_SECRETS_KEY_FILE) return env.WEFT_SECRETS_KEY_FILE;
  return join(env.IS_OFFLINE ? process.cwd() : PROJECT_ROOT, '.weft', KEY_FILE_NAME);
}

/**
 * How the stage seals tenant secrets: under its KMS key when it has one (every deployed stage), else with the
 * local key file. Each sealed value is opened by the kind of sealer that sealed it, so the CLI reads a deployed
 * stage's tenants without being told the key (it needs the key only to seal).
 */
export function secretSealer(config: Config, keyFile: string = localSecretsKeyFile()): SecretSealer {
  const keyId = config.secretsKeyArn ?? null;
  // A key ARN names its region; else the environment's (as for the CLI's DynamoDB client), else the config's.
  const region =
    /^arn:aws[\w-]*:kms:([\w-]+):/.exec(keyId ?? '')?.[1] ?? process.env.AWS_REGION ?? config.region;
  const kms = new KmsSecretSealer(
    new KMSClient({ region, maxAttempts: 2, requestHandler: requestTimeouts(3000) }),
    keyId,
  );
  const file = new KeyFileSealer(keyFile);
  const sealWith: SecretSealer = config.secretsKeyArn ? kms : file;
  return {
    seal: (plaintext, context) => sealWith.seal(plaintext, context),
    unseal: (sealed, context) => (KmsSecretSealer.opens(sealed) ? kms : file).unseal(sealed, context),
  };
}

/**
 * Every adapter of the stage's table. `clock` (unix seconds) is injected by benchmarks in simulated time;
 * `sealer` by tests.
 */
export function createStores(
  config: Config,
  client: DynamoDBClient = createDynamoDbClient(config),
  clock: () => number = nowSeconds,
  sealer: SecretSealer = secretSealer(config),
) {
  const tenantStore = new DynamoDbTenantStore(client, config.tableName, sealer);
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
    tokenMaxAgeSeconds: config.tokenMaxAgeSeconds ?? config.assignmentTtlSeconds,
    newRecipientCap: config.newRecipientsPerSecondPerTenant
      ? { perSecond: config.newRecipientsPerSecondPerTenant }
      : null,
    onFallback: (reason, error) => {
      count('ContentFallback');
      if (reason === 'assignment_unconfirmed') count('SendUnconfirmed');
      if (reason === 'new_recipient_cap') count('NewRecipientCapped');
      logger.warn('content fallback', { reason, ...(error ? describeError(error) : {}) });
    },
    onBackgroundError: logBackgroundError,
  });
}

export function tokenRewards(stores: Stores): TokenRewards {
  const { assignmentTtlSeconds, tokenMaxAgeSeconds } = stores.config;
  return new TokenRewards(
    stores.tenants,
    stores.ledger,
    stores.clock,
    assignmentTtlSeconds,
    tokenMaxAgeSeconds ?? assignmentTtlSeconds,
  );
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
