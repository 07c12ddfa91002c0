// A fresh table in the run's DynamoDB Local for each test file.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { ensureTable } from '../../adapters/dynamodb/table';
import type { Config } from '../../handlers/shared/config';
import { localDynamoDbClient } from '../../local/dynamodb-local';

export async function freshTable() {
  const endpoint = inject('dynamodbEndpoint');
  const client = localDynamoDbClient(endpoint);
  const tableName = `weft-test-${randomUUID().slice(0, 8)}`;
  await ensureTable(client, tableName);
  const config: Config = {
    tableName,
    currentsBucket: 'weft-currents-test',
    publicBaseUrl: null,
    // DynamoDB Local on a shared 2-core machine is far slower than DynamoDB; fallback tests set their own budget.
    contentBudgetMs: 3000,
    assignmentTtlSeconds: 30 * 86_400,
    dynamodbEndpoint: endpoint,
    s3Endpoint: null,
    s3Credentials: null,
    region: 'local',
  };
  return { client, tableName, endpoint, config };
}
