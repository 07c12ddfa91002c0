// AWS clients for a handler's container. Local endpoints (DynamoDB Local, local S3) come from config only.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from './config';

/**
 * Connection and request timeouts: a call that would outlive the content budget is abandoned by the SDK too,
 * not only by the caller, so a stuck socket never holds a Lambda until its own timeout.
 */
export function requestTimeouts(budgetMs: number) {
  return {
    connectionTimeout: Math.max(100, Math.round(budgetMs / 2)),
    requestTimeout: Math.max(200, budgetMs),
  };
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** `budgetMs`: how long any one call may take (the content path passes its request budget). */
export function createDynamoDbClient(config: Config, budgetMs = 3000): DynamoDBClient {
  return new DynamoDBClient({
    region: config.dynamodbEndpoint ? 'local' : config.region,
    maxAttempts: 2,
    requestHandler: requestTimeouts(budgetMs),
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
}
