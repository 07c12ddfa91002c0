// The parts of a CloudFormation template the checks read: resources, references between them, and the policy
// documents they carry.

export interface Resource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly DependsOn?: string | readonly string[];
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface Template {
  readonly Resources: Readonly<Record<string, Resource>>;
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface PolicyDocument {
  /** The logical id of the resource that holds it. */
  readonly resource: string;
  /**
   * `identity`: what a role may do (inline or attached policy); `resource`: who may use a resource (bucket,
   * queue, key policy); `trust`: who may assume a role.
   */
  readonly kind: 'identity' | 'resource' | 'trust';
  /** For identity documents: the roles it applies to (logical ids). */
  readonly roles: readonly string[];
  readonly statements: readonly Statement[];
}

export const asArray = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];

export const prop = <T = unknown>(resource: Resource | undefined, name: string): T | undefined =>
  resource?.Properties?.[name] as T | undefined;

/** The logical id a `Ref` or `Fn::GetAtt` points at, else undefined. */
export function referencedId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (typeof record['Ref'] === 'string') return record['Ref'];
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  return undefined;
}

export function resourcesOfType(template: Template, type: string): Array<[string, Resource]> {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

function statementsOf(document: unknown): readonly Statement[] {
  return asArray((document as { Statement?: Statement | Statement[] } | undefined)?.Statement);
}

/** Every policy document in the template, with what it governs. */
export function policyDocuments(template: Template): PolicyDocument[] {
  const documents: PolicyDocument[] = [];
  for (const [id, resource] of Object.entries(template.Resources)) {
    const add = (kind: PolicyDocument['kind'], document: unknown, roles: readonly string[] = []) =>
      documents.push({ resource: id, kind, roles, statements: statementsOf(document) });
    switch (resource.Type) {
      case 'AWS::IAM::Role':
        add('trust', prop(resource, 'AssumeRolePolicyDocument'));
        for (const policy of asArray(prop<{ PolicyDocument: unknown }[]>(resource, 'Policies'))) {
          add('identity', policy.PolicyDocument, [id]);
        }
        break;
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy':
      case 'AWS::IAM::RolePolicy': {
        const roles = [
          ...asArray(prop<unknown[]>(resource, 'Roles')),
          ...asArray(prop<unknown>(resource, 'RoleName')),
        ]
          .map((role) => referencedId(role))
          .filter((role): role is string => role !== undefined);
        add('identity', prop(resource, 'PolicyDocument'), roles);
        break;
      }
      case 'AWS::S3::BucketPolicy':
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
        add('resource', prop(resource, 'PolicyDocument'));
        break;
      case 'AWS::KMS::Key':
        add('resource', prop(resource, 'KeyPolicy'));
        break;
    }
  }
  return documents;
}

/** The resource ids that `value` refers to anywhere inside (Ref, GetAtt, and `${Id}` / `${Id.Arn}` in Fn::Sub). */
export function referencesIn(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value !== 'object' || value === null) return into;
  const direct = referencedId(value);
  if (direct) into.add(direct);
  const sub = (value as Record<string, unknown>)['Fn::Sub'];
  const text = Array.isArray(sub) ? sub[0] : sub;
  if (typeof text === 'string') {
    for (const match of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}/g)) into.add(match[1]!);
  }
  for (const child of Object.values(value)) referencesIn(child, into);
  return into;
}
