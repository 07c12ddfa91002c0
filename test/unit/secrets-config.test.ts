// The configuration of tenant secrets and tracking tokens: a deployed function without its KMS key stops at cold
// start (it could open no tenant), and the maximum token age follows the assignment TTL within its bound.
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../handlers/shared/config';

const BASE = { WEFT_TABLE: 'weft-prod', AWS_REGION: 'eu-west-1' };
const DAY = 86_400;

describe('secrets and token configuration', () => {
  it('on AWS Lambda the KMS key is required; the local stack (serverless-offline, DynamoDB Local) needs none', () => {
    const onLambda = { ...BASE, AWS_LAMBDA_FUNCTION_NAME: 'weft-prod-selectContent' };
    expect(() => readConfig(onLambda)).toThrow(
      /^WEFT_SECRETS_KEY_ARN: environment variable is required on AWS Lambda/,
    );
    expect(
      readConfig({ ...onLambda, WEFT_SECRETS_KEY_ARN: 'arn:aws:kms:eu-west-1:1:key/k' }).secretsKeyArn,
    ).toBe('arn:aws:kms:eu-west-1:1:key/k');
    expect(
      readConfig({ ...onLambda, IS_OFFLINE: 'true', WEFT_SECRETS_KEY_ARN: '' }).secretsKeyArn,
    ).toBeNull();
    expect(
      readConfig({ ...onLambda, WEFT_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8000' }).secretsKeyArn,
    ).toBeNull();
  });

  it('tokens count for the assignment TTL by default, or as configured, and never past 90 days', () => {
    expect(readConfig(BASE).tokenMaxAgeSeconds).toBe(30 * DAY);
    expect(readConfig({ ...BASE, WEFT_ASSIGNMENT_TTL_DAYS: '14' }).tokenMaxAgeSeconds).toBe(14 * DAY);
    expect(readConfig({ ...BASE, WEFT_ASSIGNMENT_TTL_DAYS: '120' }).tokenMaxAgeSeconds).toBe(90 * DAY);
    expect(readConfig({ ...BASE, WEFT_TOKEN_MAX_AGE_DAYS: '7' }).tokenMaxAgeSeconds).toBe(7 * DAY);
    expect(() => readConfig({ ...BASE, WEFT_TOKEN_MAX_AGE_DAYS: '91' })).toThrow(
      /^WEFT_TOKEN_MAX_AGE_DAYS: must be at most 90 days/,
    );
  });
});
