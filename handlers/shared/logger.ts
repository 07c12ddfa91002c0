// Structured JSON logs. Log ids and counts, never tokens, recipients, request bodies or error stacks.
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'weft' });

/**
 * Middleware for every handler: each log line carries the request id and whether this was a cold start. The
 * event itself is never logged (it holds tokens and recipients).
 */
export const lambdaLogContext = () => injectLambdaContext(logger, { logEvent: false, resetKeys: true });

/** What may be logged of an error: its class and code, not its message (which may quote input) or stack. */
export function describeError(error: unknown): {
  error_name: string;
  error_code?: string;
  cause_name?: string;
} {
  const named = (value: unknown) =>
    typeof value === 'object' && value !== null && 'name' in value ? String(value.name) : typeof value;
  const code =
    typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
  const cause =
    typeof error === 'object' && error !== null && 'cause' in error ? named(error.cause) : undefined;
  return {
    error_name: named(error),
    ...(code ? { error_code: code } : {}),
    ...(cause ? { cause_name: cause } : {}),
  };
}
