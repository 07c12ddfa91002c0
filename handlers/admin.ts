// The admin API (admin token): experiments, their status and report, and the Currents ingestion log.

import { DynamoDbIngestionLog } from '../adapters/dynamodb/dynamodb-ingestion-log';
import { AdminService } from '../domain/admin';
import { DelayModels } from '../domain/delay-models';
import { MethodNotAllowedError, NotFoundError } from '../domain/errors';
import { type Experiment, experimentView } from '../domain/experiment';
import { MAX_CURSOR_LENGTH } from '../domain/paging';
import { connectedContentSnippet } from '../domain/snippet';
import type { Tenant } from '../domain/tenant';
import { nowSeconds } from '../domain/time';
import { type Config, readConfig } from './shared/config';
import { type HttpRequest, type HttpResult, httpHandler, json, queryParam } from './shared/http';
import { openApiDocument } from './shared/openapi';
import { createStores, type Stores } from './shared/stores';

type Route = (tenant: Tenant, request: HttpRequest, id: string) => Promise<HttpResult>;

const INGESTION_LIST_LIMIT = 100;
/** Long enough that an out-of-range number is told its range rather than its length. */
const MAX_LIMIT_LENGTH = 16;
const OPENAPI_PATH = /^\/openapi\.json$/;

export function createAdmin(config: Config, stores: Stores) {
  const ingestionLog = new DynamoDbIngestionLog(stores.client, config.tableName);
  const delays = new DelayModels(stores.ledger, nowSeconds);
  const admin = new AdminService({
    experiments: stores.experiments,
    allocations: stores.allocations,
    counters: stores.ledger,
    clock: nowSeconds,
    delayModel: (tenantId, experiment) => delays.forMetric(tenantId, experiment.metric),
  });

  /** The experiment as the API shows it, with its ready-to-paste Connected Content (token left as a placeholder). */
  const withSnippet = (experiment: Experiment, request: HttpRequest) => ({
    ...experimentView(experiment),
    snippet: connectedContentSnippet({
      baseUrl: config.publicBaseUrl ?? request.origin,
      experimentId: experiment.id,
      connectToken: 'CONNECT_TOKEN',
    }),
  });

  const routes: Array<{ pattern: RegExp; methods: Record<string, Route> }> = [
    {
      pattern: /^\/v1\/experiments\/?$/,
      methods: {
        GET: async (tenant, request) => {
          const page = await admin.listPage(tenant, {
            limit: queryParam(request, 'limit', { maxLength: MAX_LIMIT_LENGTH }),
            cursor: queryParam(request, 'cursor', { maxLength: MAX_CURSOR_LENGTH }),
          });
          return json(200, {
            experiments: page.experiments.map((e) => withSnippet(e, request)),
            next_cursor: page.nextCursor,
          });
        },
      },
    },
    {
      pattern: /^\/v1\/experiments\/([^/]*)\/?$/,
      methods: {
        GET: async (tenant, request, id) => json(200, withSnippet(await admin.get(tenant, id), request)),
        PUT: async (tenant, request, id) => {
          const { experiment, created } = await admin.put(tenant, id, request.body);
          return json(created ? 201 : 200, withSnippet(experiment, request));
        },
      },
    },
    {
      pattern: /^\/v1\/experiments\/([^/]*)\/status\/?$/,
      methods: {
        POST: async (tenant, request, id) =>
          json(200, withSnippet(await admin.setStatus(tenant, id, request.body), request)),
      },
    },
    {
      pattern: /^\/v1\/experiments\/([^/]*)\/report\/?$/,
      methods: { GET: async (tenant, _request, id) => json(200, await admin.report(tenant, id)) },
    },
    {
      pattern: /^\/v1\/ingestion\/?$/,
      methods: {
        GET: async (tenant) => {
          const files = await ingestionLog.list(tenant.id, INGESTION_LIST_LIMIT);
          return json(200, {
            files: files.map((f) => ({
              key: f.key,
              status: f.status,
              ...(f.reason ? { reason: f.reason } : {}),
              events: f.events,
              attributed: f.attributed,
              duplicates: f.duplicates,
              bots: f.bots,
              ingested_at: new Date(f.ingestedAt).toISOString(),
            })),
          });
        },
      },
    },
  ];

  return async function adminApi(request: HttpRequest): Promise<HttpResult> {
    // The contract is public: no token, so clients and tools can read it before they have one.
    if (OPENAPI_PATH.test(request.path)) {
      if (request.method !== 'GET') throw new MethodNotAllowedError(request.method);
      return json(200, openApiDocument);
    }
    for (const route of routes) {
      const match = route.pattern.exec(request.path);
      if (!match) continue;
      const method = route.methods[request.method];
      const tenant = await stores.tenants.authenticate(request.headers.authorization, 'admin');
      if (!method) throw new MethodNotAllowedError(request.method);
      return method(tenant, request, safeDecode(match[1] ?? ''));
    }
    throw new NotFoundError('route');
  };
}

const config = readConfig();
export const adminApi = createAdmin(config, createStores(config));
export const handler = httpHandler(adminApi);

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
