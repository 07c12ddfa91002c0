// AWS clients for a handler's container. Local endpoints (DynamoDB Local, local S3) come from config only.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from './config';

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export function createDynamoDbClient(config: Config): DynamoDBClient {
  return new DynamoDBClient({
    region: config.dynamodbEndpoint ? 'local' : config.region,
    maxAttempts: 2,
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
}
