// JSON Schema checks with ajv (2020-12, the dialect of OpenAPI 3.1), and helpers that find the schema the OpenAPI
// document promises for a response. Strict on purpose: an unknown keyword or format, or a dangling `$ref`, throws,
// so the document cannot quietly rely on something the checker ignores.
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type {
  OpenApiDocument,
  OperationObject,
  ReferenceObject,
  ResponseObject,
  SchemaObject,
} from '../../handlers/shared/openapi';

/** The formats the document uses; any other is an "unknown format" error. */
const FORMATS = ['date-time', 'uri'] as const;

interface Checker {
  readonly ajv: Ajv2020;
  readonly compiled: Map<string, ValidateFunction>;
}

const checkers = new WeakMap<OpenApiDocument, Checker>();

function checkerFor(document: OpenApiDocument): Checker {
  let checker = checkers.get(document);
  if (!checker) {
    // Strict about keywords, formats and types; `required` may name properties a schema leaves open
    // (`/openapi.json` promises `openapi` and `paths` without describing them).
    const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true, allowUnionTypes: true });
    addFormats(ajv, [...FORMATS]);
    // Each schema is compiled with the document's components beside it, so `#/components/…` refs resolve.
    ajv.addKeyword('components');
    checker = { ajv, compiled: new Map() };
    checkers.set(document, checker);
  }
  return checker;
}

function compile(document: OpenApiDocument, schema: SchemaObject | ReferenceObject): ValidateFunction {
  const { ajv, compiled } = checkerFor(document);
  const key = JSON.stringify(schema);
  let validateFn = compiled.get(key);
  if (!validateFn) {
    validateFn = ajv.compile({ ...schema, components: document.components });
    compiled.set(key, validateFn);
  }
  return validateFn;
}

function describeError(error: ErrorObject): string {
  const path = `$${error.instancePath}`;
  const extra = error.params['additionalProperty'];
  return `${path}: ${error.message ?? error.keyword}${extra === undefined ? '' : ` (${String(extra)})`}`;
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
export function deref<T extends object>(document: OpenApiDocument, value: T | ReferenceObject): T {
  let current: unknown = value;
  for (let hops = 0; hops < 10; hops++) {
    if (typeof current === 'object' && current !== null && '$ref' in current)
      current = resolvePointer(document, String((current as ReferenceObject).$ref));
    else return current as T;
  }
  throw new Error('$ref chain too long');
}

/**
 * Every way `value` breaks `schema`, as `path: problem` lines; empty when it conforms. Throws when the schema
 * itself is bad (unknown keyword or format, dangling `$ref`).
 */
export function validate(
  document: OpenApiDocument,
  schema: SchemaObject | ReferenceObject,
  value: unknown,
): string[] {
  const validateFn = compile(document, schema);
  return validateFn(value) ? [] : (validateFn.errors ?? []).map(describeError);
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
