// `serverless package` needs no AWS account, so the CloudFormation that `serverless deploy` would submit is checked
// here: runtimes, the table, the Currents notification, the dead-letter queue, least-privilege IAM, bundle sizes.

import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_FILE_PATHS } from '../../handlers/dashboard';
import { HTTP_ROUTES } from '../../handlers/shared/routes';
import { packageService } from '../../tools/template-checks/package-service';

const PROJECT_ROOT = resolve(__dirname, '..', '..');
const MAX_ZIP_BYTES = 2 * 1024 * 1024;

type CfValue = unknown;
interface CfResource {
  Type: string;
  Properties: Record<string, CfValue>;
  DependsOn?: string | string[];
  DeletionPolicy?: string;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: CfValue | CfValue[];
}

/** The IAM each handler needs, exactly (DynamoDB TransactWriteItems is authorised through the item actions). */
const EXPECTED_ACTIONS: Record<string, string[]> = {
  'handlers/select-content.handler': [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
    'kms:Decrypt',
  ],
  'handlers/track-open.handler': [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'kms:Decrypt',
  ],
  'handlers/track-event.handler': [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'kms:Decrypt',
  ],
  'handlers/ingest-currents.handler': [
    'dynamodb:BatchGetItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
    'kms:Decrypt',
    's3:GetObject',
    'sqs:SendMessage',
  ],
  'handlers/admin.handler': [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
    'kms:Decrypt',
  ],
  'handlers/dashboard.handler': [],
};

/** Declared once, in handlers/shared/routes.ts. */
const EXPECTED_ROUTES = Object.keys(HTTP_ROUTES).sort();

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const getAtt = (value: CfValue): string[] | undefined =>
  (value as { 'Fn::GetAtt'?: string[] } | null)?.['Fn::GetAtt'];

/** The files in a zip, from its central directory (stored or deflated, as the packager writes them). */
function unzip(zip: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let at = zip.indexOf('PK\x01\x02', 0, 'latin1'); at >= 0; ) {
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const dataStart =
      localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    const data = zip.subarray(dataStart, dataStart + compressedSize);
    files.set(name, method === 8 ? inflateRawSync(data) : data);
    at = zip.indexOf('PK\x01\x02', at + 46 + nameLength, 'latin1');
  }
  return files;
}

/** AWS SDK clients a handler may bundle: the ones its role lets it call, no others (cold start, DESIGN §6). */
const SDK_CLIENTS: Record<string, string[]> = {
  'handlers/select-content.handler': ['DynamoDBClient', 'KMSClient'],
  'handlers/track-open.handler': ['DynamoDBClient', 'KMSClient'],
  'handlers/track-event.handler': ['DynamoDBClient', 'KMSClient'],
  'handlers/ingest-currents.handler': ['DynamoDBClient', 'KMSClient', 'S3Client'],
  'handlers/admin.handler': ['DynamoDBClient', 'KMSClient'],
  'handlers/dashboard.handler': [],
};

describe('serverless package --stage ci', () => {
  let outDir: string;
  let resources: Record<string, CfResource>;
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const functions = () => ofType('AWS::Lambda::Function');

  beforeAll(async () => {
    // Packaged once per source state and shared with the template checks (tools/template-checks).
    const packaged = await packageService(PROJECT_ROOT);
    outDir = packaged.dir;
    resources = packaged.template.Resources as Record<string, CfResource>;
  }, 320_000);

  it('has one arm64 nodejs22.x function per handler', () => {
    const handlers = functions().map(([, fn]) => fn.Properties['Handler']);

    expect(handlers.sort()).toEqual(Object.keys(EXPECTED_ACTIONS).sort());
    for (const [id, fn] of functions()) {
      expect(fn.Properties['Runtime'], id).toBe('nodejs22.x');
      expect(fn.Properties['Architectures'], id).toEqual(['arm64']);
    }
  });

  it('tells every function its table and bucket, and no emulator endpoint', () => {
    for (const [id, fn] of functions()) {
      const variables = (fn.Properties['Environment'] as { Variables: Record<string, string> }).Variables;
      expect(variables, id).toMatchObject({
        WEFT_TABLE: 'weft-ci',
        WEFT_CURRENTS_BUCKET: 'weft-currents-ci',
        WEFT_DYNAMODB_ENDPOINT: '',
        WEFT_S3_ENDPOINT: '',
        WEFT_S3_ACCESS_KEY_ID: '',
        WEFT_S3_SECRET_ACCESS_KEY: '',
      });
    }
  });

  it('routes the HTTP API of the contract, and logs routes, never paths, queries or headers', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties['RouteKey']);
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0] ?? [];
    const format = String(
      (stage?.Properties['AccessLogSettings'] as { Format?: string } | undefined)?.Format,
    );

    expect(routes.sort()).toEqual(EXPECTED_ROUTES);
    expect(format).toContain('$context.routeKey');
    expect(format.toLowerCase()).not.toMatch(/path|querystring|header|sourceip|useragent|authorizer/);
  });

  it('declares the single table with its key schema, TTL on expires_at, PITR, and retained on delete', () => {
    const tables = ofType('AWS::DynamoDB::Table');

    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      TableName: 'weft-ci',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  it('creates one private, encrypted Currents bucket whose .avro ObjectCreated events invoke ingestion', () => {
    const buckets = ofType('AWS::S3::Bucket').filter(([id]) => id !== 'ServerlessDeploymentBucket');
    const [ingestionId] = functions().find(
      ([, fn]) => fn.Properties['Handler'] === 'handlers/ingest-currents.handler',
    )!;

    expect(buckets).toHaveLength(1);
    const [, bucket] = buckets[0]!;
    expect(bucket.Properties).toMatchObject({
      BucketName: 'weft-currents-ci',
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: { ServerSideEncryptionConfiguration: [expect.anything()] },
      NotificationConfiguration: {
        LambdaConfigurations: [
          {
            Event: 's3:ObjectCreated:*',
            Filter: { S3Key: { Rules: [{ Name: 'suffix', Value: '.avro' }] } },
            Function: { 'Fn::GetAtt': [ingestionId, 'Arn'] },
          },
        ],
      },
    });
    const permissions = ofType('AWS::Lambda::Permission').map(([, permission]) => permission.Properties);
    expect(permissions).toContainEqual(
      expect.objectContaining({
        FunctionName: { 'Fn::GetAtt': [ingestionId, 'Arn'] },
        Principal: 's3.amazonaws.com',
      }),
    );
  });

  it('retries a failed ingestion twice, then sends the event to an SQS dead-letter queue', () => {
    const [ingestionId] = functions().find(
      ([, fn]) => fn.Properties['Handler'] === 'handlers/ingest-currents.handler',
    )!;
    const configs = ofType('AWS::Lambda::EventInvokeConfig').map(([, config]) => config.Properties);

    expect(configs).toHaveLength(1);
    const config = configs[0]!;
    expect(config['FunctionName']).toEqual({ Ref: ingestionId });
    expect(config['MaximumRetryAttempts']).toBe(2);
    const destination = (config['DestinationConfig'] as { OnFailure: { Destination: CfValue } }).OnFailure
      .Destination;
    const [queueId] = getAtt(destination) ?? [];
    expect(resources[queueId ?? '']?.Type).toBe('AWS::SQS::Queue');
  });

  it('gives every function its own role, allowed exactly what its handler calls, on exact resources', () => {
    const [tableId] = ofType('AWS::DynamoDB::Table')[0]!;
    const roles = new Set<string>();

    for (const [id, fn] of functions()) {
      const [roleId] = getAtt(fn.Properties['Role']) ?? [];
      const role = resources[roleId ?? ''];
      expect(role?.Type, `${id} role`).toBe('AWS::IAM::Role');
      expect(roles.has(roleId!), `${id} shares its role`).toBe(false);
      roles.add(roleId!);
      const statements = (
        role!.Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[]
      ).flatMap((policy) => policy.PolicyDocument.Statement);
      const logGroupId = `${id.replace(/LambdaFunction$/, '')}LogGroup`;
      const granted: string[] = [];
      for (const statement of statements) {
        const actions = asArray(statement.Action);
        const targets = asArray(statement.Resource);
        expect(statement.Effect).toBe('Allow');
        for (const action of actions) expect(action, `${id}: ${action}`).not.toContain('*');
        for (const target of targets) expect(target, id).not.toBe('*');
        if (actions.some((action) => action.startsWith('dynamodb:'))) {
          expect(
            actions.every((action) => action.startsWith('dynamodb:')),
            id,
          ).toBe(true);
          expect(targets, `${id} DynamoDB resources`).toEqual([{ 'Fn::GetAtt': [tableId, 'Arn'] }]);
        }
        if (actions.some((action) => action.startsWith('logs:'))) {
          expect(actions.sort(), id).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
          expect(targets, `${id} writes only its own log group`).toEqual([
            { 'Fn::GetAtt': [logGroupId, 'Arn'] },
          ]);
        } else {
          granted.push(...actions);
        }
      }
      expect(granted.sort(), id).toEqual(EXPECTED_ACTIONS[String(fn.Properties['Handler'])]);
    }
    expect(ofType('AWS::IAM::Role')).toHaveLength(roles.size);
  });

  it('reads Currents objects only from the Currents bucket and writes only to its own dead-letter queue', () => {
    const statements = ofType('AWS::IAM::Role').flatMap(([, role]) =>
      (role.Properties['Policies'] as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
        (policy) => policy.PolicyDocument.Statement,
      ),
    );
    const s3 = statements.filter((statement) => asArray(statement.Action).includes('s3:GetObject'));
    const sqs = statements.filter((statement) => asArray(statement.Action).includes('sqs:SendMessage'));

    expect(s3).toHaveLength(1);
    expect(JSON.stringify(s3[0]!.Resource)).toContain(':s3:::weft-currents-ci/*');
    expect(sqs).toHaveLength(1);
    const [queueId] = getAtt(asArray(sqs[0]!.Resource)[0]) ?? [];
    expect(resources[queueId ?? '']?.Type).toBe('AWS::SQS::Queue');
  });

  it('alarms on content fallbacks, failed Currents files, attribution misses and dead letters', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(
      ([, resource]) => resource.Properties as Record<string, unknown>,
    );
    const metrics = alarms.map((alarm) => `${alarm.Namespace}/${alarm.MetricName}`).sort();
    expect(metrics).toEqual([
      'AWS/SQS/ApproximateNumberOfMessagesVisible',
      'weft/AttributionMisses',
      'weft/ContentFallback',
      'weft/FailedFiles',
    ]);
    for (const alarm of alarms.filter((a) => a.Namespace === 'weft')) {
      expect(alarm.Dimensions).toEqual([{ Name: 'service', Value: 'weft' }]);
    }
  });

  it('bundles each handler alone into a small zip with only the SDK clients it may call, dashboard files only in its zip', async () => {
    const sizes: Record<string, number> = {};
    // Exactly what the dashboard serves (the page, its stylesheet, the built bundle): no sources, no build script.
    const dashboardFiles = DASHBOARD_FILE_PATHS.map((file) => `dashboard/${file}`);

    for (const [id, fn] of functions()) {
      const handlerFile = String(fn.Properties['Handler']).replace(/\.handler$/, '.js');
      const zipName = basename(String((fn.Properties['Code'] as { S3Key: string }).S3Key));
      const zip = await readFile(join(outDir, zipName));
      sizes[zipName] = (await stat(join(outDir, zipName))).size;
      const files = unzip(zip);
      const expected = [handlerFile, `${handlerFile}.map`];
      if (handlerFile === 'handlers/dashboard.js') expected.push(...dashboardFiles);

      expect([...files.keys()].sort(), id).toEqual(expected.sort());
      expect(sizes[zipName], zipName).toBeLessThan(MAX_ZIP_BYTES);
      // keepNames keeps class names in the minified bundle, so a bundled client shows by name.
      const bundle = files.get(handlerFile)?.toString('utf8') ?? '';
      const clients = ['DynamoDBClient', 'KMSClient', 'S3Client', 'SQSClient'].filter((name) =>
        bundle.includes(`"${name}"`),
      );
      expect(clients, `${id} bundles`).toEqual(SDK_CLIENTS[String(fn.Properties['Handler'])]);
    }
    console.info(`zip sizes (bytes): ${JSON.stringify(sizes)}`);
  });
});
