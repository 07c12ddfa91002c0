// The HTTP API contract (DESIGN §3) as an OpenAPI 3.1 document, served at `GET /openapi.json`. Limits and
// option ranges come from the code that enforces them, so the document cannot drift from the validation.

import type { OpenAPIV3_1 } from 'openapi-types';
import { DEFAULT_OPTIONS, LIMITS, OPTION_RANGES } from '../../domain/experiment';
import { MAX_CURSOR_LENGTH, PAGE_LIMIT } from '../../domain/paging';
import { MAX_BODY_BYTES } from './http';

export type HttpMethod = `${OpenAPIV3_1.HttpMethods}`;
export type ReferenceObject = OpenAPIV3_1.ReferenceObject;

// openapi-types 12 (its latest) still gives parts of a 3.1 document their 3.0 shape: a path item's operations
// are also intersected with 3.0 operations (kogosoftwarellc/open-api#910), parameters and headers take 3.0
// schemas, and schemas lack JSON Schema's `propertyNames`. So a 3.1 schema (`type: [..., 'null']`, `const`,
// `contentMediaType`) in an operation fails to type-check. The types below correct exactly those places and
// require what every operation and this document always have (security, responses, paths, components).

/** A JSON Schema 2020-12 schema, as OpenAPI 3.1 has them. */
export type SchemaObject = OpenAPIV3_1.SchemaObject & { readonly propertyNames?: SchemaObject };
type ParameterObject = Omit<OpenAPIV3_1.ParameterObject, 'schema'> & { schema: SchemaObject };
type HeaderObject = Omit<OpenAPIV3_1.HeaderObject, 'schema'> & { schema: SchemaObject };
type MediaTypeObject = Omit<OpenAPIV3_1.MediaTypeObject, 'schema'> & {
  schema: SchemaObject | ReferenceObject;
};
export type ResponseObject = Omit<OpenAPIV3_1.ResponseObject, 'headers' | 'content'> & {
  headers?: Record<string, HeaderObject>;
  content?: Record<string, MediaTypeObject>;
};
export type OperationObject = Omit<
  OpenAPIV3_1.OperationObject,
  'parameters' | 'requestBody' | 'responses' | 'security'
> & {
  /** `[]` = no authentication. */
  security: OpenAPIV3_1.SecurityRequirementObject[];
  parameters?: Array<ParameterObject | ReferenceObject>;
  requestBody?: Omit<OpenAPIV3_1.RequestBodyObject, 'content'> & { content: Record<string, MediaTypeObject> };
  responses: Record<string, ResponseObject | ReferenceObject>;
};
type PathItemObject = { [M in HttpMethod]?: OperationObject };

/** OpenAPIV3_1.Document, with the corrections above. */
export type OpenApiDocument = Omit<OpenAPIV3_1.Document, 'paths' | 'components'> & {
  paths: Record<string, PathItemObject>;
  components: Omit<
    OpenAPIV3_1.ComponentsObject,
    'schemas' | 'responses' | 'parameters' | 'securitySchemes'
  > & {
    schemas: Record<string, SchemaObject>;
    responses: Record<string, ResponseObject>;
    parameters: Record<string, ParameterObject>;
    securitySchemes: Record<string, OpenAPIV3_1.HttpSecurityScheme>;
  };
};

const ref = (kind: 'schemas' | 'responses' | 'parameters', name: string): ReferenceObject => ({
  $ref: `#/components/${kind}/${name}`,
});
const schema = (name: string): ReferenceObject => ref('schemas', name);

const ID: SchemaObject = { type: 'string', pattern: '^[a-z0-9_-]{1,64}$' };
const COUNT: SchemaObject = { type: 'integer', minimum: 0 };
const RATE: SchemaObject = { type: 'number', minimum: 0, maximum: 1 };
const NULLABLE_RATE: SchemaObject = { type: ['number', 'null'], minimum: 0, maximum: 1 };
const TIMESTAMP: SchemaObject = { type: 'string', format: 'date-time' };

/** An object whose keys are exactly these (all required, no others). */
function exact(
  properties: Record<string, SchemaObject | ReferenceObject>,
  description?: string,
): SchemaObject {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

const PARTS: SchemaObject = {
  type: 'object',
  description: 'Extra named texts of the variant (preheader, call to action…).',
  maxProperties: LIMITS.maxParts,
  propertyNames: { type: 'string', pattern: LIMITS.partKey.source },
  additionalProperties: { type: 'string', minLength: 1, maxLength: LIMITS.maxTextLength },
};

function optionSchema(key: keyof typeof OPTION_RANGES, description: string): SchemaObject {
  const range = OPTION_RANGES[key];
  const type = range.integer ? 'integer' : 'number';
  return {
    type: range.nullable ? [type, 'null'] : type,
    minimum: range.min,
    maximum: range.max,
    default: DEFAULT_OPTIONS[key],
    description,
  };
}

const OPTIONS: Record<keyof typeof DEFAULT_OPTIONS, SchemaObject> = {
  min_sends: optionSchema(
    'min_sends',
    'Burn-in: equal shares until every active variant has this many sends.',
  ),
  floor: optionSchema('floor', 'Minimum share of each active variant after burn-in (0 = off).'),
  control_share: optionSchema(
    'control_share',
    'Fixed traffic share of the control variant, when one is marked.',
  ),
  half_life_hours: optionSchema(
    'half_life_hours',
    'Evidence this old counts half (always-on campaigns); null = no decay.',
  ),
  refresh_seconds: optionSchema('refresh_seconds', 'How often a warm container recomputes the allocation.'),
  share_exponent: optionSchema(
    'share_exponent',
    'Shares follow P(best) raised to this power: 1 is plain Thompson sampling; 2.5 moves traffic to the likely best sooner and lost the fewest clicks on average in the simulator, but now and then settles on the second best for hours (README).',
  ),
  auto_finish: {
    type: 'boolean',
    default: DEFAULT_OPTIONS.auto_finish,
    description: 'Finish automatically once a variant is confidently best.',
  },
};

const errorResponse = (description: string): ResponseObject => ({
  description,
  content: { 'application/json': { schema: schema('Error') } },
});

const jsonResponse = (description: string, name: string): ResponseObject => ({
  description,
  content: { 'application/json': { schema: schema(name) } },
});

const ADMIN_SECURITY = [{ adminToken: [] }];
const STANDARD_ADMIN_ERRORS = {
  '401': ref('responses', 'Unauthorized'),
  '405': ref('responses', 'MethodNotAllowed'),
  '503': ref('responses', 'Unavailable'),
};

export const openApiDocument: OpenApiDocument = {
  openapi: '3.1.0',
  jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
  info: {
    title: 'weft',
    version: '1',
    description:
      'Real-time language optimisation for Braze email. Braze calls `GET /v1/content` through Connected ' +
      'Content; opens arrive on the pixel; the admin API defines experiments and reports on them. Errors are ' +
      '`{"error": {"code", "message"}}`; never a stack trace, never a 500 for bad input.',
  },
  tags: [
    { name: 'content', description: 'What Braze calls at send time and what the email calls when opened.' },
    {
      name: 'admin',
      description: 'Experiments, their reports and the Currents ingestion log (admin token).',
    },
    { name: 'dashboard', description: 'The marketer’s dashboard and this document.' },
  ],
  paths: {
    '/v1/content': {
      get: {
        operationId: 'selectContent',
        summary: 'The variant for one recipient (Braze Connected Content)',
        description:
          'Sticky per (experiment, recipient). When the store is slow or down the answer is still 200, with ' +
          'the default variant (or, on a cold start, no variant) and `fallback: true`.',
        tags: ['content'],
        security: [{ connectToken: [] }],
        parameters: [
          {
            name: 'experiment',
            in: 'query',
            required: true,
            description: 'Experiment id.',
            schema: ID,
          },
          {
            name: 'recipient',
            in: 'query',
            required: true,
            description:
              'The recipient: preferably its SHA-256 hex digest (Liquid `| sha2`), else a raw id, which is ' +
              'hashed on arrival. Keeps Braze’s URL cache per recipient.',
            schema: { type: 'string', minLength: 1, maxLength: 512 },
          },
          {
            name: 'campaign',
            in: 'query',
            description: 'Braze campaign or Canvas step id, for click attribution without a link token.',
            schema: { type: 'string', maxLength: 128 },
          },
          {
            name: 'dispatch',
            in: 'query',
            description: 'Braze dispatch id.',
            schema: { type: 'string', maxLength: 128 },
          },
        ],
        responses: {
          '200': jsonResponse('The variant to render, with its tracking token.', 'Content'),
          '400': ref('responses', 'BadRequest'),
          '401': ref('responses', 'Unauthorized'),
          '404': errorResponse(
            'No such experiment for this tenant (another tenant’s experiment is also 404).',
          ),
        },
      },
    },
    '/v1/pixel/{token}': {
      head: {
        operationId: 'probeOpen',
        summary: 'The open pixel, probed',
        description:
          'The headers of the pixel. Privacy proxies and scanners probe images this way: a genuine token ' +
          'counts a machine open, never an open.',
        tags: ['content'],
        security: [],
        parameters: [
          {
            name: 'token',
            in: 'path',
            required: true,
            description: 'As for GET.',
            schema: { type: 'string' },
          },
        ],
        responses: { '200': { description: 'The GIF’s headers, no body.' } },
      },
      get: {
        operationId: 'trackOpen',
        summary: 'The open pixel',
        description:
          'Always the same 1×1 transparent GIF. Counts one unique open for a genuine token fetched by a ' +
          'person’s mail client, a machine open when a machine fetched it (see the machine classifier); ' +
          'forged, tampered and foreign tokens are ignored silently.',
        tags: ['content'],
        security: [],
        parameters: [
          {
            name: 'token',
            in: 'path',
            required: true,
            description: 'The tracking token from `/v1/content`, followed by `.gif`.',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'A 43-byte transparent GIF, whatever the token.',
            headers: {
              'Cache-Control': { schema: { type: 'string', const: 'no-store, private' } },
            },
            content: {
              'image/gif': { schema: { type: 'string', contentMediaType: 'image/gif' } },
            },
          },
        },
      },
    },
    '/v1/weft.js': {
      get: {
        operationId: 'beaconScript',
        summary: 'The landing-page beacon script',
        description:
          'Include on landing pages. Keeps the `weft` token for the visit, removes it from the address bar, ' +
          "reports the click once per visit from a visible page, and defines `weft('conversion')`.",
        tags: ['content'],
        security: [],
        responses: {
          '200': {
            description: 'JavaScript.',
            content: { 'text/javascript': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/v1/events': {
      post: {
        operationId: 'trackEvent',
        summary: 'A click or conversion from a landing page or the customer’s server',
        description:
          'The beacon posts as text/plain (no CORS preflight). A server may post with its connect token as ' +
          'bearer: it is trusted; anonymous posts pass the machine classifier. Counts the first click or ' +
          'conversion of the recipient once, whatever else reported it.',
        tags: ['content'],
        security: [{}, { connectToken: [] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: exact({
                token: { type: 'string', maxLength: 1024, description: 'The `weft` parameter of the link.' },
                type: { type: 'string', enum: ['click', 'conversion'] },
              }),
            },
          },
        },
        responses: {
          '204': {
            description:
              'Always, for a well-formed body: forged, tampered or foreign tokens are ignored silently; what ' +
              'counted shows in the report.',
          },
          '400': ref('responses', 'BadRequest'),
          '401': ref('responses', 'Unauthorized'),
        },
      },
    },
    '/v1/experiments': {
      get: {
        operationId: 'listExperiments',
        summary: 'The tenant’s experiments, a page at a time, in id order',
        description:
          'Follow `next_cursor` (pass it back as `cursor`, same `limit` or another) until it is null to see ' +
          'every experiment.',
        tags: ['admin'],
        security: ADMIN_SECURITY,
        parameters: [
          {
            name: 'limit',
            in: 'query',
            description: 'Most experiments in the page.',
            schema: {
              type: 'integer',
              minimum: PAGE_LIMIT.min,
              maximum: PAGE_LIMIT.max,
              default: PAGE_LIMIT.default,
            },
          },
          {
            name: 'cursor',
            in: 'query',
            description:
              'The `next_cursor` of the previous page, as given (opaque); absent for the first page.',
            schema: { type: 'string', maxLength: MAX_CURSOR_LENGTH },
          },
        ],
        responses: {
          '200': jsonResponse('One page of experiments.', 'ExperimentList'),
          '400': ref('responses', 'BadRequest'),
          ...STANDARD_ADMIN_ERRORS,
        },
      },
    },
    '/v1/experiments/{id}': {
      get: {
        operationId: 'getExperiment',
        summary: 'One experiment',
        tags: ['admin'],
        security: ADMIN_SECURITY,
        parameters: [ref('parameters', 'ExperimentId')],
        responses: {
          '200': jsonResponse('The experiment.', 'Experiment'),
          '400': ref('responses', 'BadRequest'),
          '404': ref('responses', 'NotFound'),
          ...STANDARD_ADMIN_ERRORS,
        },
      },
      put: {
        operationId: 'putExperiment',
        summary: 'Create or update an experiment',
        description:
          'Variants left out of the list are retired (no longer served, kept in reports); new ones join the ' +
          'running experiment. The metric cannot change once the experiment exists.',
        tags: ['admin'],
        security: ADMIN_SECURITY,
        parameters: [ref('parameters', 'ExperimentId')],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: schema('ExperimentDefinition') } },
        },
        responses: {
          '200': jsonResponse('Updated.', 'Experiment'),
          '201': jsonResponse('Created.', 'Experiment'),
          '400': ref('responses', 'BadRequest'),
          '409': errorResponse('Changed concurrently; read it again and retry.'),
          '413': errorResponse(`Body larger than ${MAX_BODY_BYTES} bytes.`),
          ...STANDARD_ADMIN_ERRORS,
        },
      },
    },
    '/v1/experiments/{id}/status': {
      post: {
        operationId: 'setExperimentStatus',
        summary: 'Run, pause or finish an experiment',
        description:
          'A paused or finished experiment serves each recipient’s existing assignment, else its winner (or ' +
          'first variant), and records nothing new. `winner` may be given only when finishing.',
        tags: ['admin'],
        security: ADMIN_SECURITY,
        parameters: [ref('parameters', 'ExperimentId')],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: schema('StatusChange') } },
        },
        responses: {
          '200': jsonResponse('The experiment after the change.', 'Experiment'),
          '400': ref('responses', 'BadRequest'),
          '404': ref('responses', 'NotFound'),
          '409': errorResponse('Changed concurrently; retry.'),
          '413': errorResponse(`Body larger than ${MAX_BODY_BYTES} bytes.`),
          ...STANDARD_ADMIN_ERRORS,
        },
      },
    },
    '/v1/experiments/{id}/report': {
      get: {
        operationId: 'getReport',
        summary: 'Rates, credible intervals, P(best), allocation and hourly series',
        tags: ['admin'],
        security: ADMIN_SECURITY,
        parameters: [ref('parameters', 'ExperimentId')],
        responses: {
          '200': jsonResponse('The report.', 'Report'),
          '400': ref('responses', 'BadRequest'),
          '404': ref('responses', 'NotFound'),
          ...STANDARD_ADMIN_ERRORS,
        },
      },
    },
    '/v1/ingestion': {
      get: {
        operationId: 'listIngestion',
        summary: 'The latest Currents files processed for the tenant, newest first',
        tags: ['admin'],
        security: ADMIN_SECURITY,
        responses: {
          '200': jsonResponse('The ingestion log.', 'IngestionLog'),
          ...STANDARD_ADMIN_ERRORS,
        },
      },
    },
    '/dashboard': {
      get: {
        operationId: 'dashboard',
        summary: 'The dashboard page',
        description:
          'Holds no secrets: it takes the admin token from a form or the URL fragment ' +
          '(`/dashboard#token=<admin token>&experiment=<id>`) and calls the JSON API from the browser.',
        tags: ['dashboard'],
        security: [],
        responses: {
          '200': {
            description: 'The page.',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
          '304': { description: 'Not modified (ETag).' },
          '405': ref('responses', 'MethodNotAllowed'),
        },
      },
    },
    '/dashboard/assets/{file}': {
      get: {
        operationId: 'dashboardAsset',
        summary: 'A static asset of the dashboard',
        tags: ['dashboard'],
        security: [],
        parameters: [
          {
            name: 'file',
            in: 'path',
            required: true,
            description: 'One of the dashboard’s own files (`app.js`, `style.css`).',
            schema: { type: 'string' },
          },
        ],
        responses: {
          '200': {
            description: 'The file.',
            content: {
              'text/javascript': { schema: { type: 'string' } },
              'text/css': { schema: { type: 'string' } },
            },
          },
          '304': { description: 'Not modified (ETag).' },
          '404': ref('responses', 'NotFound'),
          '405': ref('responses', 'MethodNotAllowed'),
        },
      },
    },
    '/openapi.json': {
      get: {
        operationId: 'openApi',
        summary: 'This document',
        tags: ['dashboard'],
        security: [],
        responses: {
          '200': {
            description: 'The OpenAPI 3.1 document.',
            content: { 'application/json': { schema: { type: 'object', required: ['openapi', 'paths'] } } },
          },
          '405': ref('responses', 'MethodNotAllowed'),
        },
      },
    },
  },
  components: {
    securitySchemes: {
      connectToken: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'wc.<tenant>.<secret>',
        description:
          'The tenant’s connect token (Braze “Connect Server Token”), for `/v1/content` and server-side `/v1/events`.',
      },
      adminToken: {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'wa.<tenant>.<secret>',
        description: 'The tenant’s admin token, for the admin API.',
      },
    },
    parameters: {
      ExperimentId: { name: 'id', in: 'path', required: true, description: 'Experiment id.', schema: ID },
    },
    responses: {
      BadRequest: errorResponse('Bad input; the message names the parameter and why (`<field>: <rule>`).'),
      Unauthorized: errorResponse('Missing or wrong bearer token, or a token of the wrong scope.'),
      NotFound: errorResponse('Unknown to this tenant.'),
      MethodNotAllowed: errorResponse('Method not allowed on this path.'),
      Unavailable: errorResponse('The store is unavailable; retry.'),
    },
    schemas: {
      Error: exact({
        error: exact({
          code: { type: 'string', pattern: '^[a-z_]+$', description: 'Stable machine-readable slug.' },
          message: { type: 'string', description: 'Human text; for 400 it starts with the field name.' },
        }),
      }),
      Content: exact({
        experiment: ID,
        variant: {
          type: ['string', 'null'],
          description: 'Variant id; null only when nothing could be served.',
        },
        text: { type: 'string', maxLength: LIMITS.maxTextLength },
        parts: PARTS,
        token: { type: ['string', 'null'], description: 'Signed tracking token.' },
        pixel_url: { type: ['string', 'null'], format: 'uri' },
        link_param: { type: 'string', description: '`weft=<token>` to append to links, or empty.' },
        fallback: { type: 'boolean', description: 'True when served without the store.' },
      }),
      VariantDefinition: {
        type: 'object',
        required: ['id', 'text'],
        properties: {
          id: ID,
          text: { type: 'string', minLength: 1, maxLength: LIMITS.maxTextLength },
          parts: { ...PARTS, type: ['object', 'null'] },
          control: { type: 'boolean' },
        },
      },
      ExperimentDefinition: {
        type: 'object',
        required: ['variants'],
        additionalProperties: false,
        properties: {
          id: { ...ID, description: 'Optional; must equal the id in the URL.' },
          name: { type: 'string', minLength: 1, maxLength: LIMITS.maxNameLength },
          metric: { type: 'string', enum: ['clicks', 'opens', 'conversions'], default: 'clicks' },
          variants: {
            type: 'array',
            minItems: LIMITS.minActiveVariants,
            maxItems: LIMITS.maxActiveVariants,
            items: schema('VariantDefinition'),
          },
          ...OPTIONS,
        },
      },
      StatusChange: {
        type: 'object',
        required: ['status'],
        properties: {
          status: { type: 'string', enum: ['running', 'paused', 'finished'] },
          winner: { type: ['string', 'null'], description: 'An active variant id; only when finishing.' },
        },
      },
      Variant: exact({
        id: ID,
        text: { type: 'string' },
        parts: PARTS,
        control: { type: 'boolean' },
        state: { type: 'string', enum: ['active', 'retired'] },
      }),
      Experiment: exact({
        id: ID,
        name: { type: 'string' },
        metric: { type: 'string', enum: ['clicks', 'opens', 'conversions'] },
        status: { type: 'string', enum: ['running', 'paused', 'finished'] },
        winner: { type: ['string', 'null'] },
        variants: { type: 'array', items: schema('Variant') },
        ...OPTIONS,
        created_at: TIMESTAMP,
        updated_at: TIMESTAMP,
        version: { type: 'integer', minimum: 1 },
        snippet: exact({
          subject: { type: 'string', description: 'Connected Content Liquid for a subject line.' },
          body: {
            type: 'string',
            description: 'Connected Content Liquid for a body: text, link parameter, pixel.',
          },
        }),
      }),
      ExperimentList: exact({
        experiments: { type: 'array', maxItems: PAGE_LIMIT.max, items: schema('Experiment') },
        next_cursor: {
          type: ['string', 'null'],
          maxLength: MAX_CURSOR_LENGTH,
          description: 'Pass as `cursor` for the next page; null on the last page.',
        },
      }),
      ReportVariant: exact({
        id: ID,
        text: { type: 'string' },
        state: { type: 'string', enum: ['active', 'retired'] },
        control: { type: 'boolean' },
        sends: COUNT,
        opens: { ...COUNT, description: 'Recipients with a human open (pixel or Currents, counted once).' },
        machine_opens: {
          ...COUNT,
          description:
            'Recipients whose mail a machine fetched (Privacy Protection prefetch, scanners): never an open.',
        },
        observable_sends: {
          ...COUNT,
          description: 'Sends whose opens could be seen: sends less recipients with a machine open only.',
        },
        clicks: { ...COUNT, description: 'Recipients with a click (beacon or Currents, counted once).' },
        beacon_clicks: { ...COUNT, description: 'Clicks first seen by the landing beacon.' },
        currents_clicks: { ...COUNT, description: 'Clicks first seen in Braze Currents.' },
        conversions: COUNT,
        open_rate: { ...NULLABLE_RATE, description: 'Unique opens / sends; null before the first send.' },
        observable_open_rate: {
          ...NULLABLE_RATE,
          description: 'Unique opens / observable sends; null while none is observable.',
        },
        click_rate: { ...NULLABLE_RATE, description: 'Unique clicks / sends; null before the first send.' },
        conversion_rate: { ...NULLABLE_RATE, description: 'Unique conversions / sends.' },
        ci_low: { ...RATE, description: 'Lower end of the 95% credible interval of the metric’s rate.' },
        ci_high: { ...RATE, description: 'Upper end of the 95% credible interval of the metric’s rate.' },
        p_best: { ...RATE, description: 'Probability of being best (0 for retired variants).' },
        expected_loss: { type: ['number', 'null'], minimum: 0, description: 'Null for retired variants.' },
        allocation: { ...RATE, description: 'Share of new recipients it gets now.' },
        uplift_vs_control: {
          type: ['number', 'null'],
          description: 'Relative to the control; null without one.',
        },
        posterior: exact(
          { alpha: { type: 'number', minimum: 0 }, beta: { type: 'number', minimum: 0 } },
          'Beta parameters after delay correction and decay, from which p_best can be recomputed.',
        ),
      }),
      ReportHour: exact({
        hour: TIMESTAMP,
        variants: {
          type: 'object',
          description: 'Per variant id.',
          additionalProperties: exact({
            sends: COUNT,
            opens: COUNT,
            machine_opens: COUNT,
            clicks: COUNT,
            conversions: COUNT,
            rewards: COUNT,
            allocation: { ...RATE, description: 'Share of that hour’s sends the variant got.' },
          }),
        },
      }),
      Report: exact({
        experiment: ID,
        name: { type: 'string' },
        metric: { type: 'string', enum: ['clicks', 'opens', 'conversions'] },
        status: { type: 'string', enum: ['running', 'paused', 'finished'] },
        winner: { type: ['string', 'null'] },
        has_data: { type: 'boolean', description: 'False until the first reward of the metric is seen.' },
        leader: {
          type: ['string', 'null'],
          description: 'The active variant most likely to be best; null until a reward is seen.',
        },
        confident: { type: 'boolean', description: 'P(best) ≥ 0.95 and expected loss ≤ 1% of its rate.' },
        phase: { type: ['string', 'null'], enum: ['burn_in', 'learning', 'settled', null] },
        updated_at: TIMESTAMP,
        variants: { type: 'array', items: schema('ReportVariant') },
        series: { type: 'array', items: schema('ReportHour') },
      }),
      IngestionFile: {
        type: 'object',
        required: ['key', 'status', 'events', 'attributed', 'duplicates', 'bots', 'ingested_at'],
        additionalProperties: false,
        properties: {
          key: { type: 'string', description: 'S3 key of the Currents file.' },
          status: { type: 'string', enum: ['ok', 'skipped', 'failed'] },
          reason: { type: 'string', description: 'Why a file was skipped or failed.' },
          events: COUNT,
          attributed: COUNT,
          duplicates: COUNT,
          bots: COUNT,
          ingested_at: TIMESTAMP,
        },
      },
      IngestionLog: exact({ files: { type: 'array', items: schema('IngestionFile') } }),
    },
  },
};
