// The OpenAPI document against the truth: the routes serverless.yml deploys, and the responses the real
// handlers give on DynamoDB Local (checked with the schemas the document promises, exact keys included).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbIngestionLog } from '../../adapters/dynamodb/dynamodb-ingestion-log';
import { handler as dashboardHandler } from '../../handlers/dashboard';
import {
  type HttpMethod,
  type OpenApiDocument,
  openApiDocument,
  type SchemaObject,
} from '../../handlers/shared/openapi';
import { httpEvent, lambdaContext } from '../support/events';
import { conformance, deref, type ObservedResponse, validate } from '../support/json-schema';
import { serviceOnLocalDynamoDb } from '../support/service';

type Service = Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;
type Tenant = Awaited<ReturnType<Service['createTenant']>>;

// js-yaml ships no types; it is what the serverless framework itself parses serverless.yml with.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };
const PROJECT_ROOT = join(__dirname, '..', '..');
const METHODS: readonly HttpMethod[] = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

const definition = {
  name: 'Spring sale',
  metric: 'opens',
  variants: [
    { id: 'a', text: 'Spring savings start now', control: true },
    { id: 'b', text: 'Your spring picks are here', parts: { preheader: 'Inside: 20% off' } },
    { id: 'c', text: 'Fresh for spring' },
  ],
  min_sends: 5,
};

function expectConforms(method: string, template: string, response: ObservedResponse) {
  expect(conformance(openApiDocument, method, template, response)).toEqual([]);
}

/** Every route serverless.yml gives API Gateway, as `METHOD /path` with `{x+}` written `{x}` as OpenAPI does. */
function deployedRoutes(): string[] {
  const config = yaml.load(readFileSync(join(PROJECT_ROOT, 'serverless.yml'), 'utf8')) as {
    functions: Record<string, { events?: Array<Record<string, unknown>> }>;
  };
  const routes: string[] = [];
  for (const fn of Object.values(config.functions)) {
    for (const event of fn.events ?? []) {
      const http = event.httpApi;
      if (http === undefined) continue;
      const route =
        typeof http === 'string'
          ? http
          : `${(http as { method: string }).method} ${(http as { path: string }).path}`;
      const [method, path] = route.trim().split(/\s+/) as [string, string];
      routes.push(`${method.toUpperCase()} ${path.replace(/\{(\w+)\+\}/g, '{$1}')}`);
    }
  }
  return routes.sort();
}

function documentedRoutes(document: OpenApiDocument): string[] {
  return Object.entries(document.paths)
    .flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

/** Every schema in the document, wherever it sits, with where it sits. */
function* schemasOf(node: unknown, at: string): Generator<[string, SchemaObject]> {
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'schema' || key === 'items' || key === 'propertyNames')
      yield [`${at}.${key}`, value as SchemaObject];
    if ((key === 'properties' || key === 'schemas') && typeof value === 'object' && value !== null) {
      for (const [name, child] of Object.entries(value))
        yield [`${at}.${key}.${name}`, child as SchemaObject];
    }
    if (key === 'additionalProperties' && typeof value === 'object')
      yield [`${at}.${key}`, value as SchemaObject];
    yield* schemasOf(value, `${at}.${key}`);
  }
}

describe('the OpenAPI document', () => {
  it('lists exactly the routes serverless.yml deploys', () => {
    expect(documentedRoutes(openApiDocument)).toEqual(deployedRoutes());
    expect(deployedRoutes()).toContain('GET /openapi.json');
  });

  it('is well formed: refs resolve, schemas use only what the checker knows, path parameters are declared', () => {
    const document = openApiDocument;
    expect(document.openapi).toBe('3.1.0');
    for (const [at, schema] of schemasOf(document, '#')) {
      // validate() throws on an unknown keyword or a dangling $ref; null is a cheap value to run it on.
      expect(() => validate(document, schema, null), at).not.toThrow();
    }
    for (const [path, item] of Object.entries(document.paths)) {
      const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const where = `${method.toUpperCase()} ${path}`;
        const declared = (op.parameters ?? [])
          .map((p) => deref(document, p))
          .filter((p) => p.in === 'path')
          .map((p) => p.name)
          .sort();
        expect(declared, where).toEqual(templated);
        for (const requirement of op.security) {
          for (const scheme of Object.keys(requirement))
            expect(document.components.securitySchemes, where).toHaveProperty(scheme);
        }
        for (const response of Object.values(op.responses)) {
          expect(() => deref(document, response), where).not.toThrow();
          expect(deref(document, response).description, where).toEqual(expect.any(String));
        }
      }
    }
    expect(document.components.securitySchemes).toMatchObject({
      connectToken: { type: 'http', scheme: 'bearer' },
      adminToken: { type: 'http', scheme: 'bearer' },
    });
    expect(document.paths['/v1/experiments/{id}']?.put?.responses).toHaveProperty('413');
  });

  it('rejects what the API does not promise (the checker is not a rubber stamp)', () => {
    const content = { $ref: '#/components/schemas/Content' };
    const good = {
      experiment: 'e',
      variant: null,
      text: '',
      parts: {},
      token: null,
      pixel_url: null,
      link_param: '',
      fallback: true,
    };
    expect(validate(openApiDocument, content, good)).toEqual([]);
    expect(validate(openApiDocument, content, { ...good, extra: 1 })).toHaveLength(1);
    expect(validate(openApiDocument, content, { ...good, variant: 3 })).toHaveLength(1);
    const { fallback: _dropped, ...missing } = good;
    expect(validate(openApiDocument, content, missing)).toHaveLength(1);
    expect(
      validate(openApiDocument, { $ref: '#/components/schemas/Error' }, { error: { code: 'X Y' } }),
    ).toHaveLength(2);
  });
});

describe('real responses conform to the document', () => {
  let service: Service;
  let acme: Tenant;
  let globex: Tenant;

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    acme = await service.createTenant('acme');
    globex = await service.createTenant('globex');
  });

  it('serves the document at GET /openapi.json without a token', async () => {
    const served = await service.admin('', { path: '/openapi.json' });
    expect(served.status).toBe(200);
    expect(served.headers['content-type']).toMatch(/^application\/json/);
    expect(served.body).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
    expectConforms('GET', '/openapi.json', served);
    const posted = await service.admin('', { method: 'POST', path: '/openapi.json', body: {} });
    expect(posted.status).toBe(405);
    expectConforms('GET', '/openapi.json', posted);
  });

  it('admin: PUT 201/200/400/413, GET 200/400/404, list, status, 401, 405', async () => {
    const created = await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      body: definition,
    });
    expect(created.status).toBe(201);
    expectConforms('PUT', '/v1/experiments/{id}', created);
    const updated = await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      body: { ...definition, half_life_hours: 48, auto_finish: true },
    });
    expect(updated.status).toBe(200);
    expectConforms('PUT', '/v1/experiments/{id}', updated);

    const rejected = [
      await service.admin(acme.adminToken, { method: 'PUT', path: '/v1/experiments/spring', rawBody: '{' }),
      await service.admin(acme.adminToken, {
        method: 'PUT',
        path: '/v1/experiments/spring',
        body: { ...definition, metric: 'revenue' },
      }),
      await service.admin(acme.adminToken, {
        method: 'PUT',
        path: '/v1/experiments/Not%20Ok',
        body: definition,
      }),
    ];
    for (const result of rejected) {
      expect(result.status).toBe(400);
      expectConforms('PUT', '/v1/experiments/{id}', result);
    }
    const tooLarge = await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      rawBody: JSON.stringify({ ...definition, name: 'x'.repeat(300 * 1024) }),
    });
    expect(tooLarge.status).toBe(413);
    expectConforms('PUT', '/v1/experiments/{id}', tooLarge);

    const got = await service.admin(acme.adminToken, { path: '/v1/experiments/spring' });
    expect(got.status).toBe(200);
    expectConforms('GET', '/v1/experiments/{id}', got);
    const missing = await service.admin(acme.adminToken, { path: '/v1/experiments/nope' });
    expect(missing.status).toBe(404);
    expectConforms('GET', '/v1/experiments/{id}', missing);
    const foreign = await service.admin(globex.adminToken, { path: '/v1/experiments/spring' });
    expect(foreign.status).toBe(404);
    expectConforms('GET', '/v1/experiments/{id}', foreign);
    const badId = await service.admin(acme.adminToken, { path: '/v1/experiments/..' });
    expect(badId.status).toBe(400);
    expectConforms('GET', '/v1/experiments/{id}', badId);

    const list = await service.admin(acme.adminToken, { path: '/v1/experiments' });
    expect(list.status).toBe(200);
    expectConforms('GET', '/v1/experiments', list);
    const emptyList = await service.admin(globex.adminToken, { path: '/v1/experiments' });
    expectConforms('GET', '/v1/experiments', emptyList);
    expect(emptyList.body).toEqual({ experiments: [], next_cursor: null });
    await service.admin(acme.adminToken, { method: 'PUT', path: '/v1/experiments/summer', body: definition });
    const paged = await service.admin(acme.adminToken, { path: '/v1/experiments', query: { limit: '1' } });
    expect(paged.body.next_cursor).toEqual(expect.any(String));
    expectConforms('GET', '/v1/experiments', paged);
    const lastPage = await service.admin(acme.adminToken, {
      path: '/v1/experiments',
      query: { limit: '1', cursor: paged.body.next_cursor as string },
    });
    expect(lastPage.status).toBe(200);
    expectConforms('GET', '/v1/experiments', lastPage);
    for (const query of [{ limit: '0' }, { cursor: '%%%' }] as Array<Record<string, string>>) {
      const badPage = await service.admin(acme.adminToken, { path: '/v1/experiments', query });
      expect(badPage.status).toBe(400);
      expectConforms('GET', '/v1/experiments', badPage);
    }

    const unauthorized = await service.admin(acme.connectToken, { path: '/v1/experiments' });
    expect(unauthorized.status).toBe(401);
    expectConforms('GET', '/v1/experiments', unauthorized);
    const notAllowed = await service.admin(acme.adminToken, {
      method: 'DELETE',
      path: '/v1/experiments/spring',
    });
    expect(notAllowed.status).toBe(405);
    expectConforms('GET', '/v1/experiments/{id}', notAllowed);
  });

  it('status changes 200/400/404', async () => {
    await service.admin(acme.adminToken, { method: 'PUT', path: '/v1/experiments/done', body: definition });
    const paused = await service.admin(acme.adminToken, {
      method: 'POST',
      path: '/v1/experiments/done/status',
      body: { status: 'paused' },
    });
    expect(paused.status).toBe(200);
    expectConforms('POST', '/v1/experiments/{id}/status', paused);
    const finished = await service.admin(acme.adminToken, {
      method: 'POST',
      path: '/v1/experiments/done/status',
      body: { status: 'finished', winner: 'b' },
    });
    expect(finished.body).toMatchObject({ status: 'finished', winner: 'b' });
    expectConforms('POST', '/v1/experiments/{id}/status', finished);
    const bad = await service.admin(acme.adminToken, {
      method: 'POST',
      path: '/v1/experiments/done/status',
      body: { status: 'deleted' },
    });
    expect(bad.status).toBe(400);
    expectConforms('POST', '/v1/experiments/{id}/status', bad);
    const missing = await service.admin(acme.adminToken, {
      method: 'POST',
      path: '/v1/experiments/nope/status',
      body: { status: 'paused' },
    });
    expect(missing.status).toBe(404);
    expectConforms('POST', '/v1/experiments/{id}/status', missing);
    const report = await service.admin(acme.adminToken, { path: '/v1/experiments/done/report' });
    expect(report.body).toMatchObject({ status: 'finished', phase: null });
    expectConforms('GET', '/v1/experiments/{id}/report', report);
  });

  it('content 200/400/401/404 and the pixel', async () => {
    await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/content',
      body: definition,
    });
    const served = await service.content(acme.connectToken, {
      experiment: 'content',
      recipient: 'user-1',
      campaign: 'cmp',
      dispatch: 'dsp',
    });
    expect(served.status).toBe(200);
    expectConforms('GET', '/v1/content', served);
    const cases: Array<[number, Awaited<ReturnType<Service['content']>>]> = [
      [400, await service.content(acme.connectToken, { experiment: 'content' })],
      [400, await service.content(acme.connectToken, { experiment: 'Bad!', recipient: 'r' })],
      [401, await service.content('', { experiment: 'content', recipient: 'r' })],
      [401, await service.content(acme.adminToken, { experiment: 'content', recipient: 'r' })],
      [404, await service.content(acme.connectToken, { experiment: 'nope', recipient: 'r' })],
      [404, await service.content(globex.connectToken, { experiment: 'content', recipient: 'r' })],
    ];
    for (const [status, result] of cases) {
      expect(result.status).toBe(status);
      expectConforms('GET', '/v1/content', result);
    }
    const pixel = await service.pixel(served.body.token as string);
    expectConforms('GET', '/v1/pixel/{token}', {
      status: pixel.statusCode,
      headers: pixel.headers ?? {},
      body: pixel.body,
    });
  });

  it('a report with sends, opens, a control, a retired variant and an hourly series', async () => {
    await service.admin(acme.adminToken, { method: 'PUT', path: '/v1/experiments/report', body: definition });
    for (let i = 0; i < 12; i++) {
      const served = await service.content(acme.connectToken, { experiment: 'report', recipient: `r${i}` });
      if (i % 3 === 0) await service.pixel(served.body.token as string);
    }
    await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/report',
      body: { ...definition, variants: definition.variants.slice(0, 2) },
    });
    const report = await service.admin(acme.adminToken, { path: '/v1/experiments/report/report' });
    expect(report.status).toBe(200);
    expectConforms('GET', '/v1/experiments/{id}/report', report);
    const variants = report.body.variants as Array<Record<string, unknown>>;
    expect(variants.reduce((sum, v) => sum + (v.sends as number), 0)).toBe(12);
    expect(variants.reduce((sum, v) => sum + (v.opens as number), 0)).toBe(4);
    expect(variants.map((v) => v.state)).toEqual(['active', 'active', 'retired']);
    expect(variants.find((v) => v.id === 'b')?.uplift_vs_control).toEqual(expect.any(Number));
    expect((report.body.series as unknown[]).length).toBeGreaterThan(0);
    const missing = await service.admin(acme.adminToken, { path: '/v1/experiments/nope/report' });
    expectConforms('GET', '/v1/experiments/{id}/report', missing);
  });

  it('the ingestion log, empty and with files', async () => {
    const empty = await service.admin(globex.adminToken, { path: '/v1/ingestion' });
    expect(empty.body).toEqual({ files: [] });
    expectConforms('GET', '/v1/ingestion', empty);
    const log = new DynamoDbIngestionLog(service.client, service.tableName);
    const base = { events: 10, attributed: 7, duplicates: 1, bots: 2 };
    await log.record('acme', {
      key: 'acme/a.avro',
      status: 'ok',
      reason: null,
      ingestedAt: Date.now() - 1000,
      ...base,
    });
    await log.record('acme', {
      key: 'acme/b.avro',
      status: 'skipped',
      reason: 'not an email event',
      ingestedAt: Date.now(),
      ...base,
    });
    const listed = await service.admin(acme.adminToken, { path: '/v1/ingestion' });
    expect(listed.status).toBe(200);
    expectConforms('GET', '/v1/ingestion', listed);
    expect((listed.body.files as Array<{ key: string }>).map((f) => f.key)).toEqual([
      'acme/b.avro',
      'acme/a.avro',
    ]);
  });

  it('the dashboard page', async () => {
    const page = await dashboardHandler(httpEvent({ path: '/dashboard' }), lambdaContext());
    expect(page.statusCode).toBe(200);
    expectConforms('GET', '/dashboard', {
      status: page.statusCode ?? 0,
      headers: page.headers ?? {},
      body: page.body,
    });
    const asset = await dashboardHandler(
      httpEvent({ path: '/dashboard/assets/nope.js', pathParameters: { file: 'nope.js' } }),
      lambdaContext(),
    );
    expect(asset.statusCode).toBe(404);
    expectConforms('GET', '/dashboard/assets/{file}', {
      status: asset.statusCode ?? 0,
      headers: asset.headers ?? {},
      body: JSON.parse(asset.body ?? 'null'),
    });
  });
});
