// The IAM actions an AWS SDK v3 command needs. Most commands authorise as `<prefix>:<operation>`; the table
// below holds the ones that do not. A command this module cannot map is reported, never guessed.

/** IAM service prefix of each SDK package weft may use (`@aws-sdk/<package>`). */
const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  'client-dynamodb': 'dynamodb',
  'lib-dynamodb': 'dynamodb',
  'client-s3': 's3',
  'client-sqs': 'sqs',
  'client-sns': 'sns',
  'client-kms': 'kms',
  'client-cloudwatch': 'cloudwatch',
  'client-cloudwatch-logs': 'logs',
  'client-lambda': 'lambda',
  'client-eventbridge': 'events',
  'client-ssm': 'ssm',
  'client-secrets-manager': 'secretsmanager',
  'client-sts': 'sts',
};

/** Operations whose IAM action has another name, or that need several actions. `null`: no fixed mapping. */
const SPECIAL: Readonly<Record<string, readonly string[] | null>> = {
  // S3 authorises many operations through a handful of object and bucket actions.
  's3:ListObjectsV2': ['s3:ListBucket'],
  's3:ListObjects': ['s3:ListBucket'],
  's3:HeadObject': ['s3:GetObject'],
  's3:HeadBucket': ['s3:ListBucket'],
  's3:GetObjectAttributes': ['s3:GetObject'],
  's3:CopyObject': ['s3:GetObject', 's3:PutObject'],
  's3:DeleteObjects': ['s3:DeleteObject'],
  's3:CreateMultipartUpload': ['s3:PutObject'],
  's3:UploadPart': ['s3:PutObject'],
  's3:CompleteMultipartUpload': ['s3:PutObject'],
  's3:ListParts': ['s3:ListMultipartUploadParts'],
  // The document client (lib-dynamodb) names its commands after the low-level ones, minus "Item".
  'dynamodb:Get': ['dynamodb:GetItem'],
  'dynamodb:Put': ['dynamodb:PutItem'],
  'dynamodb:Update': ['dynamodb:UpdateItem'],
  'dynamodb:Delete': ['dynamodb:DeleteItem'],
  'dynamodb:BatchGet': ['dynamodb:BatchGetItem'],
  'dynamodb:BatchWrite': ['dynamodb:BatchWriteItem'],
  // Transactions are authorised item by item: see TRANSACT_ITEM_ACTIONS.
  'dynamodb:TransactWriteItems': [],
  'dynamodb:TransactWrite': [],
  'dynamodb:TransactGetItems': ['dynamodb:GetItem'],
  'dynamodb:TransactGet': ['dynamodb:GetItem'],
  // PartiQL maps to different actions by statement kind.
  'dynamodb:ExecuteStatement': null,
  'dynamodb:BatchExecuteStatement': null,
  'dynamodb:ExecuteTransaction': null,
};

/** The item kinds of a DynamoDB write transaction (`TransactItems: [{ Put: … }]`) and what each needs. */
export const TRANSACT_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** Commands whose item kinds decide their actions. */
export const TRANSACTION_COMMANDS: ReadonlySet<string> = new Set([
  'dynamodb:TransactWriteItems',
  'dynamodb:TransactWrite',
]);

export interface SdkCommand {
  /** `@aws-sdk/<package>` without the scope, e.g. `client-dynamodb`. */
  readonly sdkPackage: string;
  /** The class name, e.g. `GetItemCommand`. */
  readonly command: string;
}

/** `dynamodb:GetItem` for `GetItemCommand` of client-dynamodb; null when the package is unknown. */
export function operationOf({ sdkPackage, command }: SdkCommand): string | null {
  const prefix = SERVICE_PREFIX[sdkPackage];
  if (!prefix || !command.endsWith('Command')) return null;
  return `${prefix}:${command.slice(0, -'Command'.length)}`;
}

/**
 * The IAM actions a command needs, or null when it has no fixed mapping (unknown package, PartiQL). For a
 * transaction this is empty: its items' actions are added where the items are found.
 */
export function actionsOf(command: SdkCommand): readonly string[] | null {
  const operation = operationOf(command);
  if (!operation) return null;
  if (operation in SPECIAL) return SPECIAL[operation] ?? null;
  return [operation];
}
