// A small JSON Schema checker for the subset `handlers/shared/openapi.ts` uses, and helpers that find the schema
// the OpenAPI document promises for a response. Strict on purpose: a keyword it does not know is an error, so
// the document cannot quietly rely on something this checker ignores.
import type {
  JsonType,
  OpenApiDocument,
  OperationObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '../../handlers/shared/openapi';

const KNOWN_KEYWORDS = new Set([
  '$ref',
  'type',
  'description',
  'enum',
  'const',
  'format',
  'pattern',
  'minLength',
  'maxLength',
  'minimum',
  'maximum',
  'properties',
  'required',
  'additionalProperties',
  'propertyNames',
  'maxProperties',
  'items',
  'minItems',
  'maxItems',
  'contentMediaType',
  'default',
  'examples',
]);

function typeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
}

function resolvePointer(document: unknown, pointer: string): unknown {
  if (!pointer.startsWith('#/')) throw new Error(`unsupported $ref ${pointer}`);
  let node: unknown = document;
  for (const part of pointer.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key))
      throw new Error(`dangling $ref ${pointer}`);
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Follows `$ref`s (components of the document) until a concrete object. */
export function deref<T>(document: OpenApiDocument, value: T | ReferenceObject): T {
  let current: unknown = value;
  for (let hops = 0; hops < 10; hops++) {
    if (typeof current === 'object' && current !== null && '$ref' in current)
      current = resolvePointer(document, String((current as ReferenceObject).$ref));
    else return current as T;
  }
  throw new Error('$ref chain too long');
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function checkFormat(format: string, value: string): boolean {
  if (format === 'date-time') return DATE_TIME.test(value) && !Number.isNaN(Date.parse(value));
  if (format === 'uri') return URL.canParse(value);
  throw new Error(`unknown format ${format}`);
}

/** Every way `value` breaks `schema`, as `path: problem` lines; empty when it conforms. */
export function validate(
  document: OpenApiDocument,
  schema: SchemaObject,
  value: unknown,
  path = '$',
): string[] {
  for (const keyword of Object.keys(schema)) {
    if (!KNOWN_KEYWORDS.has(keyword))
      throw new Error(`schema at ${path} uses unsupported keyword ${keyword}`);
  }
  if (schema.$ref) return validate(document, deref<SchemaObject>(document, schema), value, path);
  const errors: string[] = [];
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const allowed: readonly JsonType[] = typeof schema.type === 'string' ? [schema.type] : schema.type;
    const ok = allowed.includes(actual) || (actual === 'integer' && allowed.includes('number'));
    if (!ok) return [`${path}: expected ${allowed.join('|')}, got ${actual}`];
  }
  if (schema.enum && !schema.enum.some((option) => option === value))
    errors.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (schema.const !== undefined && schema.const !== value)
    errors.push(`${path}: must be ${JSON.stringify(schema.const)}`);

  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength)
      errors.push(`${path}: shorter than ${schema.minLength}`);
    if (schema.maxLength !== undefined && value.length > schema.maxLength)
      errors.push(`${path}: longer than ${schema.maxLength}`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
      errors.push(`${path}: does not match ${schema.pattern}`);
    if (schema.format !== undefined && !checkFormat(schema.format, value))
      errors.push(`${path}: not a ${schema.format}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      errors.push(`${path}: below ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      errors.push(`${path}: above ${schema.maximum}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems)
      errors.push(`${path}: fewer than ${schema.minItems} items`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems)
      errors.push(`${path}: more than ${schema.maxItems} items`);
    if (schema.items) {
      for (const [i, item] of value.entries())
        errors.push(...validate(document, schema.items, item, `${path}[${i}]`));
    }
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    for (const key of schema.required ?? []) {
      if (!Object.hasOwn(object, key)) errors.push(`${path}: missing required ${key}`);
    }
    if (schema.maxProperties !== undefined && keys.length > schema.maxProperties)
      errors.push(`${path}: more than ${schema.maxProperties} properties`);
    for (const key of keys) {
      const child = `${path}.${key}`;
      if (schema.propertyNames)
        errors.push(...validate(document, schema.propertyNames, key, `${child} (name)`));
      const declared = schema.properties?.[key];
      if (declared && Object.hasOwn(schema.properties!, key)) {
        errors.push(...validate(document, declared, object[key], child));
      } else if (schema.additionalProperties === false) {
        errors.push(`${path}: unexpected property ${key}`);
      } else if (typeof schema.additionalProperties === 'object') {
        errors.push(...validate(document, schema.additionalProperties, object[key], child));
      }
    }
  }
  return errors;
}

/** The operation the document declares for a method and templated path, or undefined. */
export function operation(
  document: OpenApiDocument,
  method: string,
  path: string,
): OperationObject | undefined {
  return document.paths[path]?.[method.toLowerCase() as 'get'];
}

/** The documented response of an operation for a status code, or undefined if that status is not documented. */
export function documentedResponse(
  document: OpenApiDocument,
  method: string,
  path: string,
  status: number,
): ResponseObject | undefined {
  const declared = operation(document, method, path)?.responses[String(status)];
  return declared ? deref<ResponseObject>(document, declared) : undefined;
}

export interface ObservedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body: unknown;
}

/** Problems with a real response against the document: undocumented status, wrong media type, body schema. */
export function conformance(
  document: OpenApiDocument,
  method: string,
  path: string,
  response: ObservedResponse,
): string[] {
  const declared = documentedResponse(document, method, path, response.status);
  if (!declared) return [`${method} ${path}: status ${response.status} is not documented`];
  const contentType = String(response.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim();
  const media = declared.content?.[contentType];
  if (!declared.content) return [];
  if (!media) return [`${method} ${path} ${response.status}: undocumented content type "${contentType}"`];
  if (contentType !== 'application/json') return [];
  return validate(document, media.schema, response.body).map(
    (e) => `${method} ${path} ${response.status}: ${e}`,
  );
}
