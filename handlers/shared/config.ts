// Configuration from the environment, read once per container; a missing required value stops the cold start.
import { ValidationError } from '../../domain/errors';

export interface Config {
  readonly tableName: string;
  readonly currentsBucket: string | null;
  readonly publicBaseUrl: string | null;
  readonly contentBudgetMs: number;
  readonly assignmentTtlSeconds: number;
  readonly dynamodbEndpoint: string | null;
  readonly s3Endpoint: string | null;
  readonly s3Credentials: { accessKeyId: string; secretAccessKey: string } | null;
  readonly region: string;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ValidationError(name, 'must be a positive number');
  return value;
}

const optional = (value: string | undefined) => (value && value.trim() !== '' ? value.trim() : null);

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const tableName = optional(env.WEFT_TABLE);
  if (!tableName) throw new ValidationError('WEFT_TABLE', 'environment variable is required');
  const accessKeyId = optional(env.WEFT_S3_ACCESS_KEY_ID);
  const secretAccessKey = optional(env.WEFT_S3_SECRET_ACCESS_KEY);
  return {
    tableName,
    currentsBucket: optional(env.WEFT_CURRENTS_BUCKET),
    publicBaseUrl: optional(env.WEFT_PUBLIC_BASE_URL)?.replace(/\/+$/, '') ?? null,
    contentBudgetMs: positiveNumber(env, 'WEFT_CONTENT_BUDGET_MS', 800),
    assignmentTtlSeconds: positiveNumber(env, 'WEFT_ASSIGNMENT_TTL_DAYS', 30) * 86_400,
    dynamodbEndpoint: optional(env.WEFT_DYNAMODB_ENDPOINT),
    s3Endpoint: optional(env.WEFT_S3_ENDPOINT),
    s3Credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : null,
    region: optional(env.AWS_REGION) ?? optional(env.AWS_DEFAULT_REGION) ?? 'eu-west-1',
  };
}
