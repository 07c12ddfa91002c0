// Checks on the CloudFormation template `serverless package` writes: data encrypted at rest, the table
// recoverable, the Currents bucket private, TLS-only and expiring after its dead letters, and IAM that allows
// exactly what the code calls (no wildcard, nothing unused, nothing missing). Pure: the template and the
// actions each handler's code calls come in, findings go out.
import {
  asArray,
  type PolicyDocument,
  policyDocuments,
  prop,
  type Resource,
  referencedId,
  resourcesOfType,
  type Statement,
  type Template,
} from './cloudformation';
import { platformActions } from './platform-actions';

export type Rule =
  | 'dynamodb-encryption'
  | 'dynamodb-pitr'
  | 's3-encryption'
  | 's3-public-access-block'
  | 's3-tls-only'
  | 's3-lifecycle'
  | 's3-lifecycle-outlives-dlq'
  | 'sqs-encryption'
  | 'kms-rotation'
  | 'iam-wildcard-action'
  | 'iam-unused-action'
  | 'iam-missing-action'
  | 'iam-underivable';

export interface Finding {
  readonly rule: Rule;
  /** The logical id of the resource at fault. */
  readonly resource: string;
  readonly message: string;
}

export interface HandlerActions {
  /** The IAM actions the handler's code can call. */
  readonly actions: readonly string[];
  /** SDK commands whose actions cannot be told (`file:line Command`): reported, never guessed. */
  readonly unmapped?: readonly string[];
}

export interface CheckOptions {
  /**
   * Buckets that need no lifecycle expiry (logical ids). Default: the framework's deployment bucket, whose
   * artifacts the framework prunes itself and whose expiry would break rollbacks.
   */
  readonly lifecycleExempt?: readonly string[];
  /**
   * What the code of a function's handler calls, from its `Handler` property (`handlers/admin.handler`), or null
   * when the handler is not code of this project.
   */
  readonly codeActions: (handler: string) => HandlerActions | null;
}

const SECONDS_PER_DAY = 86_400;
/** SQS's default retention when a queue does not set one: 4 days. */
const SQS_DEFAULT_RETENTION_SECONDS = 345_600;

export function checkTemplate(template: Template, options: CheckOptions): Finding[] {
  return [
    ...checkTables(template),
    ...checkBuckets(template, options.lifecycleExempt ?? ['ServerlessDeploymentBucket']),
    ...checkQueuesAndKeys(template),
    ...checkWildcards(template),
    ...checkRoles(template, options),
  ];
}

function checkTables(template: Template): Finding[] {
  const findings: Finding[] = [];
  for (const [id, table] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    if (prop<{ SSEEnabled?: boolean }>(table, 'SSESpecification')?.SSEEnabled !== true) {
      findings.push({
        rule: 'dynamodb-encryption',
        resource: id,
        message: 'table does not enable SSE with KMS (SSESpecification.SSEEnabled: true)',
      });
    }
    const pitr = prop<{ PointInTimeRecoveryEnabled?: boolean }>(table, 'PointInTimeRecoverySpecification');
    if (pitr?.PointInTimeRecoveryEnabled !== true) {
      findings.push({ rule: 'dynamodb-pitr', resource: id, message: 'point-in-time recovery is off' });
    }
  }
  return findings;
}

/** Every bucket, the framework's own deployment bucket too (but for the lifecycle exemptions). */
function checkBuckets(template: Template, lifecycleExempt: readonly string[]): Finding[] {
  const findings: Finding[] = [];
  for (const [id, bucket] of resourcesOfType(template, 'AWS::S3::Bucket')) {
    const add = (rule: Rule, message: string) => findings.push({ rule, resource: id, message });
    const encryption = prop<{ ServerSideEncryptionConfiguration?: unknown[] }>(bucket, 'BucketEncryption');
    const algorithms = asArray(encryption?.ServerSideEncryptionConfiguration).map(
      (rule) =>
        (rule as { ServerSideEncryptionByDefault?: { SSEAlgorithm?: string } }).ServerSideEncryptionByDefault
          ?.SSEAlgorithm,
    );
    if (!algorithms.some((a) => a === 'AES256' || a === 'aws:kms' || a === 'aws:kms:dsse')) {
      add('s3-encryption', 'bucket has no default encryption');
    }
    const block = prop<Record<string, unknown>>(bucket, 'PublicAccessBlockConfiguration') ?? {};
    const open = ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].filter(
      (flag) => block[flag] !== true,
    );
    if (open.length > 0) add('s3-public-access-block', `public access block lacks ${open.join(', ')}`);
    if (!bucketPolicies(template, id, bucket).some(isTlsOnlyStatement)) {
      add('s3-tls-only', 'no bucket policy denies requests without TLS (aws:SecureTransport false)');
    }
    if (lifecycleExempt.includes(id)) continue;
    const expiryDays = lifecycleExpiryDays(bucket);
    if (expiryDays === null) {
      add('s3-lifecycle', 'no enabled lifecycle rule expires every object');
      continue;
    }
    for (const [queueId, retention] of deadLetterQueuesOf(template, bucket)) {
      if (expiryDays * SECONDS_PER_DAY <= retention) {
        add(
          's3-lifecycle-outlives-dlq',
          `objects expire after ${expiryDays} days, but the dead-letter queue ${queueId} keeps events ` +
            `${retention / SECONDS_PER_DAY} days: a replayed event would find no file`,
        );
      }
    }
  }
  return findings;
}

function bucketPolicies(template: Template, id: string, bucket: Resource): Statement[] {
  const name = prop(bucket, 'BucketName');
  return resourcesOfType(template, 'AWS::S3::BucketPolicy')
    .filter(([, policy]) => {
      const target = prop(policy, 'Bucket');
      return referencedId(target) === id || (name !== undefined && target === name);
    })
    .flatMap(([, policy]) => asArray(prop<{ Statement?: Statement[] }>(policy, 'PolicyDocument')?.Statement));
}

function isTlsOnlyStatement(statement: Statement): boolean {
  const principal = statement.Principal;
  const everyone =
    principal === '*' || asArray((principal as { AWS?: unknown } | undefined)?.AWS).includes('*');
  const secure = statement.Condition?.['Bool']?.['aws:SecureTransport'];
  const targets = asArray(statement.Resource).map((target) => JSON.stringify(target));
  return (
    statement.Effect === 'Deny' &&
    everyone &&
    asArray(statement.Action).some((action) => action === 's3:*' || action === '*') &&
    (secure === 'false' || secure === false) &&
    targets.some((target) => target.includes('/*')) &&
    targets.some((target) => !target.includes('/*'))
  );
}

/** Days after which an enabled rule with no prefix or filter expires every object, or null. */
function lifecycleExpiryDays(bucket: Resource): number | null {
  const rules = asArray(prop<{ Rules?: unknown[] }>(bucket, 'LifecycleConfiguration')?.Rules) as Array<{
    Status?: string;
    ExpirationInDays?: number;
    Prefix?: string;
    Filter?: unknown;
  }>;
  const days = rules
    .filter((rule) => rule.Status === 'Enabled' && !rule.Prefix && rule.Filter === undefined)
    .map((rule) => Number(rule.ExpirationInDays))
    .filter((value) => Number.isFinite(value) && value > 0);
  return days.length > 0 ? Math.min(...days) : null;
}

/** The queues that keep failed events of the functions this bucket notifies, with their retention (s). */
function deadLetterQueuesOf(template: Template, bucket: Resource): Array<[string, number]> {
  const notified = asArray(
    prop<{ LambdaConfigurations?: Array<{ Function?: unknown }> }>(bucket, 'NotificationConfiguration')
      ?.LambdaConfigurations,
  ).map((config) => referencedId(config.Function));
  const queues: Array<[string, number]> = [];
  for (const [, config] of resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')) {
    if (!notified.includes(referencedId(prop(config, 'FunctionName')))) continue;
    const failure = prop<{ OnFailure?: { Destination?: unknown } }>(config, 'DestinationConfig')?.OnFailure;
    const queueId = referencedId(failure?.Destination);
    const queue = template.Resources[queueId ?? ''];
    if (queueId && queue?.Type === 'AWS::SQS::Queue') {
      queues.push([queueId, Number(prop(queue, 'MessageRetentionPeriod') ?? SQS_DEFAULT_RETENTION_SECONDS)]);
    }
  }
  return queues;
}

function checkQueuesAndKeys(template: Template): Finding[] {
  const findings: Finding[] = [];
  for (const [id, queue] of resourcesOfType(template, 'AWS::SQS::Queue')) {
    if (prop(queue, 'SqsManagedSseEnabled') !== true && prop(queue, 'KmsMasterKeyId') === undefined) {
      findings.push({
        rule: 'sqs-encryption',
        resource: id,
        message: 'queue is not encrypted (SqsManagedSseEnabled or KmsMasterKeyId)',
      });
    }
  }
  for (const [id, key] of resourcesOfType(template, 'AWS::KMS::Key')) {
    const symmetric = (prop<string>(key, 'KeySpec') ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT';
    if (symmetric && prop(key, 'EnableKeyRotation') !== true) {
      findings.push({ rule: 'kms-rotation', resource: id, message: 'key rotation is off' });
    }
  }
  return findings;
}

/** `*`, `s3:*`, `dynamodb:Get*`, `dynamodb:*Item`, and any NotAction: each allows more than it names. */
function checkWildcards(template: Template): Finding[] {
  const findings: Finding[] = [];
  for (const document of policyDocuments(template)) {
    for (const statement of document.statements) {
      if (statement.Effect !== 'Allow') continue;
      const wild = asArray(statement.Action).filter((action) => action.includes('*') || action.includes('?'));
      if (statement.NotAction !== undefined) wild.push(`NotAction ${JSON.stringify(statement.NotAction)}`);
      for (const action of wild) {
        findings.push({
          rule: 'iam-wildcard-action',
          resource: document.resource,
          message: `${document.kind} policy allows ${action}${statement.Sid ? ` (${statement.Sid})` : ''}`,
        });
      }
    }
  }
  return findings;
}

interface RoleNeeds {
  readonly functions: string[];
  readonly needed: Map<string, string>;
}

/** Per role: what its functions' code and Lambda itself need, against what its identity policies allow. */
function checkRoles(template: Template, options: CheckOptions): Finding[] {
  const findings: Finding[] = [];
  const needs = new Map<string, RoleNeeds>();
  for (const [functionId, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const roleId = referencedId(prop(fn, 'Role'));
    const role = roleId ? template.Resources[roleId] : undefined;
    if (!roleId || role?.Type !== 'AWS::IAM::Role') {
      findings.push({
        rule: 'iam-underivable',
        resource: functionId,
        message: 'the function does not use a role of this template',
      });
      continue;
    }
    const entry = needs.get(roleId) ?? { functions: [], needed: new Map<string, string>() };
    needs.set(roleId, entry);
    entry.functions.push(functionId);
    const handler = String(prop(fn, 'Handler') ?? '');
    const code = options.codeActions(handler);
    if (!code) {
      findings.push({
        rule: 'iam-underivable',
        resource: functionId,
        message: `handler ${handler} is not code of this project: its role cannot be derived`,
      });
    }
    for (const action of code?.actions ?? []) entry.needed.set(action.toLowerCase(), action);
    for (const command of code?.unmapped ?? []) {
      findings.push({
        rule: 'iam-underivable',
        resource: functionId,
        message: `${command}: no known IAM mapping for this command`,
      });
    }
    const platform = platformActions(template, functionId);
    for (const action of platform.actions) entry.needed.set(action.toLowerCase(), action);
    for (const unknown of platform.unknown) {
      findings.push({ rule: 'iam-underivable', resource: functionId, message: `${unknown}: unknown needs` });
    }
  }

  const identity = policyDocuments(template).filter((document) => document.kind === 'identity');
  for (const [roleId, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
    const entry = needs.get(roleId) ?? { functions: [], needed: new Map<string, string>() };
    const users = entry.functions.length > 0 ? entry.functions.join(', ') : 'no function';
    for (const arn of asArray(prop<unknown[]>(role, 'ManagedPolicyArns'))) {
      findings.push({
        rule: 'iam-underivable',
        resource: roleId,
        message: `managed policy ${JSON.stringify(arn)} cannot be checked against the code`,
      });
    }
    const allowed = allowedActions(identity.filter((document) => document.roles.includes(roleId)));
    for (const [key, action] of allowed) {
      if (!entry.needed.has(key)) {
        findings.push({
          rule: 'iam-unused-action',
          resource: roleId,
          message: `allows ${action}, which the code and platform of ${users} never need`,
        });
      }
    }
    for (const [key, action] of entry.needed) {
      if (!allowed.has(key) && entry.functions.length > 0) {
        findings.push({
          rule: 'iam-missing-action',
          resource: roleId,
          message: `does not allow ${action}, which ${users} needs`,
        });
      }
    }
  }
  return findings;
}

function allowedActions(documents: readonly PolicyDocument[]): Map<string, string> {
  const allowed = new Map<string, string>();
  for (const document of documents) {
    for (const statement of document.statements) {
      if (statement.Effect !== 'Allow') continue;
      for (const action of asArray(statement.Action)) allowed.set(action.toLowerCase(), action);
    }
  }
  return allowed;
}
