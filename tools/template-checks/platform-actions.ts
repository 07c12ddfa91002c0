// What Lambda itself does with a function's execution role, read from the template rather than the code: write
// its logs, deliver failed asynchronous events to their destination, poll its event sources.
import { asArray, prop, type Resource, referencedId, resourcesOfType, type Template } from './cloudformation';

/** Actions to deliver an asynchronous invocation's record to a destination of this resource type. */
const DESTINATION_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  'AWS::SQS::Queue': ['sqs:SendMessage'],
  'AWS::SNS::Topic': ['sns:Publish'],
  'AWS::Lambda::Function': ['lambda:InvokeFunction'],
  'AWS::Events::EventBus': ['events:PutEvents'],
};

/** The same, for a destination given as an ARN string: by the ARN's service. */
const DESTINATION_ARN_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  sqs: ['sqs:SendMessage'],
  sns: ['sns:Publish'],
  lambda: ['lambda:InvokeFunction'],
  events: ['events:PutEvents'],
};

const EVENT_SOURCE_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  'AWS::SQS::Queue': ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
  'AWS::DynamoDB::Table': [
    'dynamodb:DescribeStream',
    'dynamodb:GetRecords',
    'dynamodb:GetShardIterator',
    'dynamodb:ListStreams',
  ],
  'AWS::Kinesis::Stream': [
    'kinesis:DescribeStream',
    'kinesis:DescribeStreamSummary',
    'kinesis:GetRecords',
    'kinesis:GetShardIterator',
    'kinesis:ListShards',
    'kinesis:ListStreams',
  ],
};

const VPC_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

export interface PlatformActions {
  readonly actions: readonly string[];
  /** Destinations or sources whose needs cannot be told from the template. */
  readonly unknown: readonly string[];
}

const pointsAt = (value: unknown, functionId: string) => referencedId(value) === functionId;

/** The actions Lambda performs with the role of function `functionId` (a logical id). */
export function platformActions(template: Template, functionId: string): PlatformActions {
  const fn = template.Resources[functionId];
  const actions = new Set<string>(['logs:CreateLogStream', 'logs:PutLogEvents']);
  const unknown: string[] = [];
  const destination = (target: unknown) => {
    const targetId = referencedId(target);
    const byType = targetId ? DESTINATION_ACTIONS[template.Resources[targetId]?.Type ?? ''] : undefined;
    const service = typeof target === 'string' ? /^arn:[^:]+:([^:]+):/.exec(target)?.[1] : undefined;
    const needed = byType ?? (service ? DESTINATION_ARN_ACTIONS[service] : undefined);
    if (needed) for (const action of needed) actions.add(action);
    else unknown.push(`${functionId} destination ${JSON.stringify(target)}`);
  };

  // Lambda creates the log group itself only when the template does not.
  if (!hasLogGroup(template, fn)) actions.add('logs:CreateLogGroup');
  for (const [, config] of resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')) {
    if (!pointsAt(prop(config, 'FunctionName'), functionId)) continue;
    const destinations = prop<Record<string, { Destination?: unknown }>>(config, 'DestinationConfig') ?? {};
    for (const target of Object.values(destinations)) destination(target.Destination);
  }
  const deadLetter = prop<{ TargetArn?: unknown }>(fn, 'DeadLetterConfig');
  if (deadLetter?.TargetArn !== undefined) destination(deadLetter.TargetArn);
  for (const [, mapping] of resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')) {
    if (!pointsAt(prop(mapping, 'FunctionName'), functionId)) continue;
    const sourceId = referencedId(prop(mapping, 'EventSourceArn'));
    const needed = EVENT_SOURCE_ACTIONS[template.Resources[sourceId ?? '']?.Type ?? ''];
    if (needed) for (const action of needed) actions.add(action);
    else unknown.push(`${functionId} event source ${JSON.stringify(prop(mapping, 'EventSourceArn'))}`);
  }
  if (prop<{ Mode?: string }>(fn, 'TracingConfig')?.Mode === 'Active') {
    actions.add('xray:PutTraceSegments');
    actions.add('xray:PutTelemetryRecords');
  }
  if (prop(fn, 'VpcConfig') !== undefined) for (const action of VPC_ACTIONS) actions.add(action);
  if (prop(fn, 'KmsKeyArn') !== undefined) actions.add('kms:Decrypt');
  return { actions: [...actions].sort(), unknown };
}

/** Whether the template declares the function's log group (by name, or through its logging config). */
function hasLogGroup(template: Template, fn: Resource | undefined): boolean {
  const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');
  const configured = prop<{ LogGroup?: unknown }>(fn, 'LoggingConfig')?.LogGroup;
  if (configured !== undefined && logGroups.some(([id]) => referencedId(configured) === id)) return true;
  const name = prop(fn, 'FunctionName');
  // A generated name cannot be matched: Lambda may have to create the group.
  if (typeof name !== 'string') return false;
  return logGroups.some(([, group]) =>
    asArray(prop<unknown>(group, 'LogGroupName')).some((value) => value === `/aws/lambda/${name}`),
  );
}
