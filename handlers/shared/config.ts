// Configuration from the environment, read once per container; a missing required value stops the cold start.
import { ValidationError } from '../../domain/errors';
import { type AddressRanges, parseAddressRanges } from '../../domain/machine-classifier';
import { SIGNING_GRACE_SECONDS } from '../../domain/tenant';

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
  /**
   * WEFT_NEW_RECIPIENTS_PER_SECOND_PER_TENANT: optional cap on new recipients per tenant and second, per
   * container (off when unset). See README, Security › Limits.
   */
  readonly newRecipientsPerSecondPerTenant?: number | null;
  /** Published address ranges of machines (mail scanners) that fetch images and links: the classifier's list. */
  readonly machineAddressRanges?: AddressRanges;
  /** Tracking tokens count for this long after their send (default: the assignment TTL). */
  readonly tokenMaxAgeSeconds?: number;
  /** The KMS key tenant secrets are sealed under (every deployed stage); none locally (a key file instead). */
  readonly secretsKeyArn?: string | null;
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new ValidationError(name, 'must be a positive number');
  return value;
}

function parseMachineRanges(env: NodeJS.ProcessEnv): AddressRanges | undefined {
  const raw = optional(env.WEFT_MACHINE_ADDRESS_RANGES);
  if (!raw) return undefined;
  return parseAddressRanges(raw, 'WEFT_MACHINE_ADDRESS_RANGES');
}

const optional = (value: string | undefined) => (value && value.trim() !== '' ? value.trim() : null);

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const tableName = optional(env.WEFT_TABLE);
  if (!tableName) throw new ValidationError('WEFT_TABLE', 'environment variable is required');
  const accessKeyId = optional(env.WEFT_S3_ACCESS_KEY_ID);
  const secretAccessKey = optional(env.WEFT_S3_SECRET_ACCESS_KEY);
  const secretsKeyArn = optional(env.WEFT_SECRETS_KEY_ARN);
  // On AWS a missing key leaves tenant secrets nothing to open them with: stop the cold start (locally a key file).
  const onAws = env.AWS_LAMBDA_FUNCTION_NAME && !env.IS_OFFLINE && !optional(env.WEFT_DYNAMODB_ENDPOINT);
  if (!secretsKeyArn && onAws) {
    throw new ValidationError('WEFT_SECRETS_KEY_ARN', 'environment variable is required on AWS Lambda');
  }
  const assignmentTtlDays = positiveNumber(env, 'WEFT_ASSIGNMENT_TTL_DAYS', 30);
  // A replaced signing secret verifies for 90 days: no tracking token may count longer than that.
  const maxTokenAgeDays = SIGNING_GRACE_SECONDS / 86_400;
  const defaultTokenAgeDays = Math.min(assignmentTtlDays, maxTokenAgeDays);
  const tokenMaxAgeDays = positiveNumber(env, 'WEFT_TOKEN_MAX_AGE_DAYS', defaultTokenAgeDays);
  if (tokenMaxAgeDays > maxTokenAgeDays) {
    throw new ValidationError('WEFT_TOKEN_MAX_AGE_DAYS', `must be at most ${maxTokenAgeDays} days`);
  }
  return {
    tableName,
    currentsBucket: optional(env.WEFT_CURRENTS_BUCKET),
    publicBaseUrl: optional(env.WEFT_PUBLIC_BASE_URL)?.replace(/\/+$/, '') ?? null,
    contentBudgetMs: positiveNumber(env, 'WEFT_CONTENT_BUDGET_MS', 800),
    assignmentTtlSeconds: assignmentTtlDays * 86_400,
    tokenMaxAgeSeconds: tokenMaxAgeDays * 86_400,
    secretsKeyArn,
    dynamodbEndpoint: optional(env.WEFT_DYNAMODB_ENDPOINT),
    s3Endpoint: optional(env.WEFT_S3_ENDPOINT),
    s3Credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : null,
    region: optional(env.AWS_REGION) ?? optional(env.AWS_DEFAULT_REGION) ?? 'eu-west-1',
    newRecipientsPerSecondPerTenant: optional(env.WEFT_NEW_RECIPIENTS_PER_SECOND_PER_TENANT)
      ? positiveNumber(env, 'WEFT_NEW_RECIPIENTS_PER_SECOND_PER_TENANT', 0)
      : null,
    machineAddressRanges: parseMachineRanges(env),
  };
}
