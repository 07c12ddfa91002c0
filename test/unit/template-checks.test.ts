// The template checker (tools/template-checks) on templates built here, so each rule is seen to fire: unused and
// missing IAM actions, wildcards, unencrypted or unrecoverable data, an open or TLS-optional bucket, files that
// expire before their dead letters; and the code analysis that tells which actions a handler's code can call,
// on a small program whose reachability is known. No packaging: tests/integration/template-checks packages.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CheckOptions, checkTemplate, type Rule } from '../../tools/template-checks/check-template';
import type { Resource, Template } from '../../tools/template-checks/cloudformation';
import { createCodeAnalyzer } from '../../tools/template-checks/code-actions';

const PROJECT_ROOT = join(__dirname, '..', '..');
const TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

type Mutable<T> = { -readonly [K in keyof T]: T[K] extends object ? Mutable<T[K]> : T[K] };
type Resources = Record<string, Mutable<Resource> & { Properties: Record<string, unknown> }>;

/** A template every rule passes: one ingestion function on its own bucket, table, queue and key. */
function compliantTemplate(): { Resources: Resources } {
  const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
  return {
    Resources: {
      Table: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          SSESpecification: { SSEEnabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
      },
      Bucket: {
        Type: 'AWS::S3::Bucket',
        Properties: {
          BucketName: 'files',
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
            ],
          },
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          LifecycleConfiguration: { Rules: [{ Status: 'Enabled', ExpirationInDays: 30 }] },
          NotificationConfiguration: { LambdaConfigurations: [{ Function: getAtt('IngestLambdaFunction') }] },
        },
      },
      BucketPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: 'files',
          PolicyDocument: {
            Statement: [
              {
                Effect: 'Deny',
                Principal: { AWS: '*' },
                Action: 's3:*',
                Resource: ['arn:aws:s3:::files', 'arn:aws:s3:::files/*'],
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          },
        },
      },
      DeadLetters: {
        Type: 'AWS::SQS::Queue',
        Properties: { MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true },
      },
      Key: { Type: 'AWS::KMS::Key', Properties: { EnableKeyRotation: true } },
      IngestLogGroup: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/aws/lambda/ingest' } },
      IngestLambdaFunction: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: 'ingest',
          Handler: 'handlers/ingest.handler',
          Role: getAtt('IngestRole'),
        },
      },
      IngestEventInvokeConfig: {
        Type: 'AWS::Lambda::EventInvokeConfig',
        Properties: {
          FunctionName: { Ref: 'IngestLambdaFunction' },
          DestinationConfig: { OnFailure: { Destination: getAtt('DeadLetters') } },
        },
      },
      IngestRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
          Policies: [
            {
              PolicyName: 'ingest',
              PolicyDocument: {
                Statement: [
                  {
                    Effect: 'Allow',
                    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                    Resource: getAtt('IngestLogGroup'),
                  },
                  { Effect: 'Allow', Action: [...TABLE_ACTIONS], Resource: getAtt('Table') },
                  { Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::files/*' },
                  { Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: getAtt('DeadLetters') },
                ],
              },
            },
          ],
        },
      },
    },
  };
}

/** The ingestion handler's code calls the table and reads the bucket. */
const codeCalls: CheckOptions = {
  codeActions: (handler) =>
    handler === 'handlers/ingest.handler' ? { actions: [...TABLE_ACTIONS, 's3:GetObject'] } : null,
};

function roleStatements(template: { Resources: Resources }) {
  const [policy] = template.Resources['IngestRole']!.Properties['Policies'] as Array<{
    PolicyDocument: { Statement: Array<Record<string, unknown>> };
  }>;
  return policy!.PolicyDocument.Statement;
}

const findings = (template: { Resources: Resources }, options = codeCalls) =>
  checkTemplate(template as Template, options).map(({ rule, resource }) => `${rule} ${resource}`);

const rules = (template: { Resources: Resources }) =>
  new Set(checkTemplate(template as Template, codeCalls).map((finding) => finding.rule as Rule));

describe('template checks', () => {
  it('find nothing in a template that encrypts, blocks, expires and allows exactly what is called', () => {
    expect(checkTemplate(compliantTemplate() as Template, codeCalls)).toEqual([]);
  });

  it('report an allowed action the code never calls, per role', () => {
    const template = compliantTemplate();
    roleStatements(template).push({ Effect: 'Allow', Action: ['dynamodb:Scan'], Resource: '*' });

    expect(checkTemplate(template as Template, codeCalls)).toEqual([
      {
        rule: 'iam-unused-action',
        resource: 'IngestRole',
        message: 'allows dynamodb:Scan, which the code and platform of IngestLambdaFunction never need',
      },
    ]);
  });

  it('report an action the code calls that the role does not allow', () => {
    const calls: CheckOptions = {
      codeActions: () => ({ actions: [...TABLE_ACTIONS, 's3:GetObject', 'kms:Decrypt'] }),
    };

    expect(findings(compliantTemplate(), calls)).toEqual(['iam-missing-action IngestRole']);
  });

  it("count Lambda's own needs from the template: delivering a failed event to its dead-letter queue", () => {
    const template = compliantTemplate();
    roleStatements(template).pop();

    expect(
      checkTemplate(template as Template, codeCalls).map((f) => `${f.rule} ${f.resource}: ${f.message}`),
    ).toEqual([
      'iam-missing-action IngestRole: does not allow sqs:SendMessage, which IngestLambdaFunction needs',
    ]);
  });

  it('report an unencrypted table and an unencrypted queue', () => {
    const template = compliantTemplate();
    delete template.Resources['Table']!.Properties['SSESpecification'];
    delete template.Resources['DeadLetters']!.Properties['SqsManagedSseEnabled'];

    expect(findings(template)).toEqual(['dynamodb-encryption Table', 'sqs-encryption DeadLetters']);
  });

  it('report a table without point-in-time recovery and a key without rotation', () => {
    const template = compliantTemplate();
    template.Resources['Table']!.Properties['PointInTimeRecoverySpecification'] = {
      PointInTimeRecoveryEnabled: false,
    };
    template.Resources['Key']!.Properties['EnableKeyRotation'] = false;

    expect(findings(template)).toEqual(['dynamodb-pitr Table', 'kms-rotation Key']);
  });

  it('report wildcard actions and NotAction in Allow statements of any policy, never in a Deny', () => {
    const template = compliantTemplate();
    const statements = roleStatements(template);
    statements[1]!['Action'] = ['dynamodb:Get*', ...TABLE_ACTIONS];
    statements.push({ Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' });
    template.Resources['Key']!.Properties['KeyPolicy'] = {
      Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::1:root' }, Action: 'kms:*' }],
    };

    expect(
      checkTemplate(template as Template, codeCalls).filter((f) => f.rule === 'iam-wildcard-action'),
    ).toEqual([
      { rule: 'iam-wildcard-action', resource: 'Key', message: 'resource policy allows kms:*' },
      {
        rule: 'iam-wildcard-action',
        resource: 'IngestRole',
        message: 'identity policy allows dynamodb:Get*',
      },
      {
        rule: 'iam-wildcard-action',
        resource: 'IngestRole',
        message: 'identity policy allows NotAction ["iam:*"]',
      },
    ]);
  });

  it('report a bucket that is unencrypted, public, reachable without TLS and never expires its files', () => {
    const template = compliantTemplate();
    const bucket = template.Resources['Bucket']!.Properties;
    delete bucket['BucketEncryption'];
    bucket['PublicAccessBlockConfiguration'] = { BlockPublicAcls: true };
    delete bucket['LifecycleConfiguration'];
    delete template.Resources['BucketPolicy'];

    expect(findings(template)).toEqual([
      's3-encryption Bucket',
      's3-public-access-block Bucket',
      's3-tls-only Bucket',
      's3-lifecycle Bucket',
    ]);
  });

  it('report files that expire before the dead-letter queue lets go of their events (replay would miss them)', () => {
    const template = compliantTemplate();
    template.Resources['Bucket']!.Properties['LifecycleConfiguration'] = {
      Rules: [{ Status: 'Enabled', ExpirationInDays: 14 }],
    };

    expect(checkTemplate(template as Template, codeCalls)).toEqual([
      {
        rule: 's3-lifecycle-outlives-dlq',
        resource: 'Bucket',
        message:
          'objects expire after 14 days, but the dead-letter queue DeadLetters keeps events 14 days: ' +
          'a replayed event would find no file',
      },
    ]);
  });

  it('accept no lifecycle rule that spares part of the bucket, nor a TLS rule that covers only the objects', () => {
    const template = compliantTemplate();
    template.Resources['Bucket']!.Properties['LifecycleConfiguration'] = {
      Rules: [{ Status: 'Enabled', ExpirationInDays: 30, Prefix: 'tmp/' }],
    };
    const policy = template.Resources['BucketPolicy']!.Properties['PolicyDocument'] as {
      Statement: Array<{ Resource: string[] }>;
    };
    policy.Statement[0]!.Resource = ['arn:aws:s3:::files/*'];

    expect(rules(template)).toEqual(new Set(['s3-tls-only', 's3-lifecycle']));
  });

  it('cannot vouch for a handler outside the project nor for a managed policy', () => {
    const template = compliantTemplate();
    template.Resources['IngestRole']!.Properties['ManagedPolicyArns'] = [
      'arn:aws:iam::aws:policy/AdminAccess',
    ];

    expect(findings(template, { codeActions: () => null })).toEqual(
      expect.arrayContaining(['iam-underivable IngestLambdaFunction', 'iam-underivable IngestRole']),
    );
  });
});

// A small program: a handler that builds a service on a port; two adapters implement the port, only one is
// constructed. Methods nobody calls hold commands too, as does an object literal of the port's type.
const FIXTURE: Record<string, string> = {
  'fixture/ports.ts': `
export interface Store { read(id: string): Promise<string>; write(id: string): Promise<void> }
export interface Sealer { seal(text: string): Promise<string>; open(text: string): Promise<string> }
`,
  'fixture/dynamo-store.ts': `
import { type DynamoDBClient, GetItemCommand, ScanCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import type { Sealer, Store } from './ports';
export class DynamoStore implements Store {
  constructor(private readonly client: DynamoDBClient, private readonly sealer: Sealer) {}
  async read(id: string) {
    await this.client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: id } } }));
    return this.sealer.open(id);
  }
  async write(id: string) {
    await this.client.send(new TransactWriteItemsCommand({ TransactItems: [
      { Put: { TableName: 't', Item: { pk: { S: await this.sealer.seal(id) } } } },
      { ConditionCheck: { TableName: 't', Key: { pk: { S: 'x' } }, ConditionExpression: 'attribute_exists(pk)' } },
    ] }));
  }
  async scanAll() { await this.client.send(new ScanCommand({ TableName: 't' })); }
}
`,
  'fixture/bucket-store.ts': `
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Store } from './ports';
export class BucketStore implements Store {
  constructor(private readonly s3: S3Client) {}
  async read(id: string) { await this.s3.send(new GetObjectCommand({ Bucket: 'b', Key: id })); return id; }
  async write() {}
}
`,
  'fixture/sealer.ts': `
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Sealer } from './ports';
export function kmsSealer(kms: KMSClient): Sealer {
  return {
    seal: async (text) => { await kms.send(new GenerateDataKeyCommand({ KeyId: 'k' })); return text; },
    open: async (text) => { await kms.send(new DecryptCommand({ CiphertextBlob: new Uint8Array() })); return text; },
  };
}
`,
  'fixture/reader.ts': `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoStore } from './dynamo-store';
import type { Store } from './ports';
import { kmsSealer } from './sealer';
const store: Store = new DynamoStore(new DynamoDBClient({}), kmsSealer(new KMSClient({})));
export const handler = (event: { id: string }) => store.read(event.id);
`,
  'fixture/writer.ts': `
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoStore } from './dynamo-store';
import { kmsSealer } from './sealer';
const store = new DynamoStore(new DynamoDBClient({}), kmsSealer(new KMSClient({})));
export const handler = (event: { id: string }) => store.write(event.id);
`,
};

describe('code actions', () => {
  const analyzer = createCodeAnalyzer({
    projectRoot: PROJECT_ROOT,
    entries: ['fixture/reader.ts', 'fixture/writer.ts'],
    overlay: FIXTURE,
  });

  it("follow a call through a port to the constructed adapter only, and into the port's object literal", () => {
    const reader = analyzer.actionsOf('fixture/reader.ts');

    // Not s3:GetObject (BucketStore is never constructed), nor Scan, the transaction or GenerateDataKey.
    expect(reader.actions).toEqual(['dynamodb:GetItem', 'kms:Decrypt']);
    expect(reader.calls.find((call) => call.command === 'DecryptCommand')?.via).toEqual([
      'fixture/reader.ts (load)',
      'handler fixture/reader.ts:8',
      'DynamoStore.read fixture/dynamo-store.ts:6',
      'open fixture/sealer.ts:7',
    ]);
  });

  it('expand a write transaction into the item actions it carries', () => {
    expect(analyzer.actionsOf('fixture/writer.ts').actions).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:PutItem',
      'kms:GenerateDataKey',
    ]);
  });
});
