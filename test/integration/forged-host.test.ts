// A forged Host or X-Forwarded-Host must not reach the URLs weft hands out when no public base URL is set:
// Braze would render the caller's host into every email's pixel, and the snippet would send it the token.
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdmin } from '../../handlers/admin';
import { createSelectContent } from '../../handlers/select-content';
import { httpHandler } from '../../handlers/shared/http';
import { bearer, type HttpEventInput, httpEvent, lambdaContext, parseJson } from '../support/events';
import { serviceOnLocalDynamoDb } from '../support/service';

const FORGED = {
  host: 'attacker.example',
  'x-forwarded-host': 'attacker.example',
  'x-forwarded-proto': 'http',
};

describe('response URLs under a forged Host header', () => {
  let service: Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;
  let acme: Awaited<ReturnType<typeof service.createTenant>>;
  let handlers: Record<'content' | 'admin', ReturnType<typeof httpHandler>>;

  async function call(handler: 'content' | 'admin', input: HttpEventInput) {
    const result = await handlers[handler](httpEvent(input), lambdaContext());
    return { status: result.statusCode, body: parseJson(result) };
  }

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    handlers = {
      content: httpHandler(createSelectContent(service.config, service.stores)),
      admin: httpHandler(createAdmin(service.config, service.stores)),
    };
    acme = await service.createTenant('acme');
    expect(service.config.publicBaseUrl).toBeNull();
    await service.admin(acme.adminToken, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      body: {
        metric: 'clicks',
        variants: [
          { id: 'a', text: 'A' },
          { id: 'b', text: 'B' },
        ],
      },
    });
  });

  it('builds the pixel URL on the API Gateway domain', async () => {
    const answer = await call('content', {
      path: '/v1/content',
      query: { experiment: 'spring', recipient: 'user-1' },
      headers: { ...bearer(acme.connectToken), ...FORGED },
    });

    expect(answer.status).toBe(200);
    expect(answer.body.pixel_url).toMatch(/^https:\/\/weft\.example\.com\/v1\/pixel\//);
  });

  it('builds the Connected Content snippet on the API Gateway domain', async () => {
    const answer = await call('admin', {
      path: '/v1/experiments/spring',
      headers: { ...bearer(acme.adminToken), ...FORGED },
    });

    expect(answer.status).toBe(200);
    expect(JSON.stringify(answer.body.snippet)).toContain('https://weft.example.com/v1/content?');
    expect(JSON.stringify(answer.body)).not.toContain('attacker.example');
  });
});
