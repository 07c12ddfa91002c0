// The admin API (admin token): experiments, their status and report, and the Currents ingestion log.

import { MethodNotAllowedError, NotFoundError } from '../domain/errors';
import type { Experiment } from '../domain/experiment';
import { MAX_CURSOR_LENGTH } from '../domain/paging';
import { connectedContentSnippet } from '../domain/snippet';
import type { Tenant } from '../domain/tenant';
import { experimentView, ingestionFileView } from '../domain/views';
import { type Config, readConfig } from './shared/config';
import { bearerToken, type HttpRequest, type HttpResult, httpHandler, json, queryParam } from './shared/http';
import { openApiDocument } from './shared/openapi';
import { type HTTP_ROUTES, matchRoute, type RouteKey } from './shared/routes';
import { adminService, createStores, type Stores } from './shared/stage';

type Route = (tenant: Tenant, request: HttpRequest, id: string) => Promise<HttpResult>;

/** The admin function's routes (declared in handlers/shared/routes.ts), but the public OpenAPI document. */
/** The admin function's routes that need a token (the OpenAPI document is public). */
type AdminRoute = Exclude<
  { [K in RouteKey]: (typeof HTTP_ROUTES)[K] extends 'admin' ? K : never }[RouteKey],
  'GET /openapi.json'
>;

const INGESTION_LIST_LIMIT = 100;
/** Long enough that an out-of-range number is told its range rather than its length. */
const MAX_LIMIT_LENGTH = 16;

export function createAdmin(config: Config, stores: Stores) {
  const admin = adminService(stores);

  /** The experiment as the API shows it, with its ready-to-paste Connected Content (token left as a placeholder). */
  const withSnippet = (experiment: Experiment, request: HttpRequest) => ({
    ...experimentView(experiment),
    snippet: connectedContentSnippet({
      baseUrl: config.publicBaseUrl ?? request.origin,
      experimentId: experiment.id,
      connectToken: 'CONNECT_TOKEN',
    }),
  });

  const routes: Record<AdminRoute, Route> = {
    'GET /v1/experiments': async (tenant, request) => {
      const page = await admin.listPage(tenant, {
        limit: queryParam(request, 'limit', { maxLength: MAX_LIMIT_LENGTH }),
        cursor: queryParam(request, 'cursor', { maxLength: MAX_CURSOR_LENGTH }),
      });
      return json(200, {
        experiments: page.experiments.map((e) => withSnippet(e, request)),
        next_cursor: page.nextCursor,
      });
    },
    'GET /v1/experiments/{id}': async (tenant, request, id) =>
      json(200, withSnippet(await admin.get(tenant, id), request)),
    'PUT /v1/experiments/{id}': async (tenant, request, id) => {
      const { experiment, created } = await admin.put(tenant, id, request.body);
      return json(created ? 201 : 200, withSnippet(experiment, request));
    },
    'POST /v1/experiments/{id}/status': async (tenant, request, id) =>
      json(200, withSnippet(await admin.setStatus(tenant, id, request.body), request)),
    'GET /v1/experiments/{id}/report': async (tenant, _request, id) =>
      json(200, await admin.report(tenant, id)),
    'GET /v1/ingestion': async (tenant) => {
      const files = await stores.ingestionLog.list(tenant.id, INGESTION_LIST_LIMIT);
      return json(200, { files: files.map(ingestionFileView) });
    },
  };

  return async function adminApi(request: HttpRequest): Promise<HttpResult> {
    // The contract is public: no token, so clients and tools can read it before they have one.
    if (request.routeKey === 'GET /openapi.json') return json(200, openApiDocument);
    const route = routes[request.routeKey as AdminRoute];
    if (route) {
      const tenant = await stores.tenants.authenticate(bearerToken(request), 'admin');
      return route(tenant, request, safeDecode(request.pathParameters.id ?? ''));
    }
    // Only reached off API Gateway (which answers unknown routes itself): tell a wrong method from a wrong path.
    const matched = matchRoute(request.method, request.path);
    if (matched.routeKey === null && matched.allowed.length > 0) {
      if (request.path !== '/openapi.json') await stores.tenants.authenticate(bearerToken(request), 'admin');
      throw new MethodNotAllowedError(request.method);
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
