// Routes are declared once (handlers/shared/routes.ts): serverless.yml deploys exactly those, each to its
// function, the admin function dispatches every one of its keys, and test events match as API Gateway does.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HTTP_ROUTES, matchRoute, routesOf } from '../../handlers/shared/routes';

const PROJECT_ROOT = join(__dirname, '..', '..');
const yaml = createRequire(join(PROJECT_ROOT, 'node_modules', 'osls', 'package.json'))('js-yaml') as {
  load(text: string): unknown;
};

function deployed(): Record<string, string> {
  const config = yaml.load(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as {
    functions: Record<string, { events?: Array<{ httpApi?: string }> }>;
  };
  const routes: Record<string, string> = {};
  for (const [name, fn] of Object.entries(config.functions)) {
    for (const event of fn.events ?? []) if (typeof event.httpApi === 'string') routes[event.httpApi] = name;
  }
  return routes;
}

describe('HTTP routes', () => {
  it('serverless.yml deploys exactly the declared routes, each to its function', () => {
    expect(deployed()).toEqual(HTTP_ROUTES);
  });

  it('matches paths to route keys and parameters as API Gateway does, and tells 405 from 404', () => {
    expect(matchRoute('GET', '/v1/experiments/spring/report')).toEqual({
      routeKey: 'GET /v1/experiments/{id}/report',
      pathParameters: { id: 'spring' },
    });
    expect(matchRoute('GET', '/dashboard/assets/js/app.js')).toEqual({
      routeKey: 'GET /dashboard/assets/{file+}',
      pathParameters: { file: 'js/app.js' },
    });
    expect(matchRoute('DELETE', '/v1/experiments/spring')).toEqual({
      routeKey: null,
      allowed: ['GET', 'PUT'],
    });
    expect(matchRoute('GET', '/v1/nothing')).toEqual({ routeKey: null, allowed: [] });
  });

  it('gives every function at least one route and the admin function all of /v1/experiments', () => {
    expect(new Set(Object.values(HTTP_ROUTES))).toEqual(
      new Set(['selectContent', 'trackOpen', 'trackEvent', 'admin', 'dashboard']),
    );
    expect(routesOf('admin').filter((key) => key.includes('/v1/experiments'))).toHaveLength(5);
  });
});
