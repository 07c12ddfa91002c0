// Reconcile over one DynamoDB table: the domain's recount wired to the table's adapters (CLI, load test, tests).
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ReconcileOptions, type ReconcileResult, reconcile } from '../../domain/reconcile';
import { DynamoDbExperimentStore } from './dynamodb-experiment-store';
import { DynamoDbLedger } from './dynamodb-ledger';
import { DynamoDbTenantStore } from './dynamodb-tenant-store';

export function reconcileTable(
  client: DynamoDBClient,
  tableName: string,
  options: ReconcileOptions = { fix: false, since: 0 },
): Promise<ReconcileResult> {
  const ledger = new DynamoDbLedger(client, tableName);
  return reconcile(
    {
      tenants: new DynamoDbTenantStore(client, tableName),
      experiments: new DynamoDbExperimentStore(client, tableName),
      counters: ledger,
      maintenance: ledger,
    },
    options,
  );
}
