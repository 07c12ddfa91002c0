// Every HTTP route, declared once: serverless.yml's httpApi events, the admin dispatch and the OpenAPI
// document are checked against this list (test/integration/serverless-package.test.ts, openapi.test.ts).
// API Gateway passes the matched route key (`GET /v1/experiments/{id}`) and the path parameters; handlers
// dispatch on the key and never parse paths themselves.

export const HTTP_ROUTES = {
  'GET /v1/content': 'selectContent',
  'GET /v1/pixel/{token}': 'trackOpen',
  'HEAD /v1/pixel/{token}': 'trackOpen',
  'GET /v1/weft.js': 'trackEvent',
  'POST /v1/events': 'trackEvent',
  'GET /v1/experiments': 'admin',
  'GET /v1/experiments/{id}': 'admin',
  'PUT /v1/experiments/{id}': 'admin',
  'POST /v1/experiments/{id}/status': 'admin',
  'GET /v1/experiments/{id}/report': 'admin',
  'GET /v1/ingestion': 'admin',
  'GET /openapi.json': 'admin',
  'GET /dashboard': 'dashboard',
  'GET /dashboard/assets/{file+}': 'dashboard',
} as const;

export type RouteKey = keyof typeof HTTP_ROUTES;
export type RoutedFunction = (typeof HTTP_ROUTES)[RouteKey];

/** The route keys of one function. */
export function routesOf(fn: RoutedFunction): RouteKey[] {
  return (Object.keys(HTTP_ROUTES) as RouteKey[]).filter((key) => HTTP_ROUTES[key] === fn);
}

function templatePattern(template: string): RegExp {
  const source = template
    .split('/')
    .map((segment) => {
      if (/^\{\w+\+\}$/.test(segment)) return '(.+)';
      if (/^\{\w+\}$/.test(segment)) return '([^/]+)';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}/?$`);
}

const MATCHERS = (Object.keys(HTTP_ROUTES) as RouteKey[]).map((key) => {
  const [method, template] = key.split(' ') as [string, string];
  const names = [...template.matchAll(/\{(\w+)\+?\}/g)].map((m) => m[1]!);
  return { key, method, pattern: templatePattern(template), names };
});

/**
 * What API Gateway does before a Lambda runs: the route a (method, path) matches, with its path parameters, or
 * the methods the path allows when only the method is wrong. Used by test event builders and for 404/405s.
 */
export function matchRoute(
  method: string,
  path: string,
):
  | { readonly routeKey: RouteKey; readonly pathParameters: Record<string, string> }
  | { readonly routeKey: null; readonly allowed: string[] } {
  const allowed: string[] = [];
  for (const route of MATCHERS) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    if (route.method !== method.toUpperCase()) {
      allowed.push(route.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    route.names.forEach((name, i) => {
      pathParameters[name] = match[i + 1]!;
    });
    return { routeKey: route.key, pathParameters };
  }
  return { routeKey: null, allowed };
}
