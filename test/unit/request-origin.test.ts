// Response URLs (pixel URLs, snippets) are built on the request's origin when no public base URL is set: it
// must come from API Gateway's domain, never from a header the caller writes.
import { describe, expect, it } from 'vitest';
import { parseRequest } from '../../handlers/shared/http';
import { httpEvent } from '../support/events';

const FORGED = {
  host: 'attacker.example',
  'x-forwarded-host': 'attacker.example',
  'X-Forwarded-Proto': 'http',
  forwarded: 'host=attacker.example;proto=http',
};

function eventFor(domainName: string | undefined, headers: Record<string, string>) {
  const event = httpEvent({ path: '/v1/content', headers });
  if (domainName === undefined) delete (event.requestContext as { domainName?: string }).domainName;
  else event.requestContext.domainName = domainName;
  return event;
}

describe('the origin response URLs are built on', () => {
  it('is the domain API Gateway names, whatever Host and X-Forwarded-* say', () => {
    const origin = parseRequest(eventFor('weft.example.com', FORGED)).origin;

    expect(origin).toBe('https://weft.example.com');
  });

  it('keeps a custom domain API Gateway names, with its port', () => {
    expect(parseRequest(eventFor('API.Shop.Example:8443', FORGED)).origin).toBe(
      'https://api.shop.example:8443',
    );
  });

  it.each([
    ['a placeholder (serverless-offline)', 'offlineContext_domainName'],
    ['no domain at all', undefined],
    ['something that is no host name', 'evil.example/path?x=@'],
  ])('with %s, takes neither a forged Host nor X-Forwarded-Host', (_case, domain) => {
    expect(parseRequest(eventFor(domain, FORGED)).origin).toBe('http://localhost');
  });

  it('serves the local stack on its loopback address and port', () => {
    const local = { ...FORGED, host: '127.0.0.1:3000' };

    expect(parseRequest(eventFor('offlineContext_domainName', local)).origin).toBe('http://127.0.0.1:3000');
    expect(parseRequest(eventFor('127.0.0.1:4100', FORGED)).origin).toBe('http://127.0.0.1:4100');
  });
});
