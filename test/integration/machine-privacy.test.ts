// The machine classifier's address rules through the real pixel and beacon handlers (built events: the local
// stack only ever sees 127.0.0.1), and the privacy promise that goes with it: the address and the agent decide in
// memory, and neither reaches a stored item or a log line.
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAddressRanges } from '../../domain/machine-classifier';
import { TokenRewards } from '../../domain/rewards';
import { nowSeconds } from '../../domain/time';
import { httpHandler } from '../../handlers/shared/http';
import { logger } from '../../handlers/shared/logger';
import { createTrackEvent } from '../../handlers/track-event';
import { createTrackOpen } from '../../handlers/track-open';
import { httpEvent, lambdaContext } from '../support/events';
import { serviceOnLocalDynamoDb } from '../support/service';

const SCANNER_RANGES = '203.0.113.0/24, 2001:db8:5ca9::/48';
const AGENT_CANARY = 'Mozilla/5.0 (Windows NT 10.0) Thunderbird/128.0 CANARY-agent-91c7';
const PERSON_ADDRESS = '198.51.100.23';
const SCANNER_V4 = '203.0.113.77';
const SCANNER_V6 = '2001:db8:5ca9::17';

function from(event: APIGatewayProxyEventV2, sourceIp: string): APIGatewayProxyEventV2 {
  return {
    ...event,
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, sourceIp } },
  };
}

describe('machine rules by address, and no address or agent kept', () => {
  let service: Awaited<ReturnType<typeof serviceOnLocalDynamoDb>>;
  let connectToken: string;
  let adminToken: string;
  let output = '';

  const tokenFor = async (recipient: string) => {
    const answer = await service.content(connectToken, { experiment: 'spring', recipient });
    return (answer.body as { token: string }).token;
  };
  const variantTotals = async () => {
    const report = await service.admin(adminToken, { method: 'GET', path: '/v1/experiments/spring/report' });
    const variants = (report.body as { variants: Array<Record<string, number>> }).variants;
    const sum = (field: string) => variants.reduce((total, v) => total + (v[field] ?? 0), 0);
    return {
      opens: sum('opens'),
      machine_opens: sum('machine_opens'),
      clicks: sum('clicks'),
      beacon_clicks: sum('beacon_clicks'),
    };
  };

  beforeAll(async () => {
    service = await serviceOnLocalDynamoDb();
    const acme = await service.createTenant('acme');
    connectToken = acme.connectToken;
    adminToken = acme.adminToken;
    await service.admin(adminToken, {
      method: 'PUT',
      path: '/v1/experiments/spring',
      body: {
        name: 'Spring',
        metric: 'opens',
        variants: [
          { id: 'a', text: 'A' },
          { id: 'b', text: 'B' },
        ],
      },
    });
  });

  it('counts hits from published scanner ranges as machines, the same agent elsewhere as a person', async () => {
    const ranges = parseAddressRanges(SCANNER_RANGES, 'WEFT_MACHINE_ADDRESS_RANGES');
    // An hour after the send, so the timing rule stays out of it: only the address differs.
    const later = () => nowSeconds() + 3600;
    const pixel = createTrackOpen(
      new TokenRewards(service.stores.tenants, service.stores.ledger, later),
      later,
      ranges,
    );
    const beacon = httpHandler(
      createTrackEvent({ ...service.config, machineAddressRanges: ranges }, service.stores, later),
    );
    const pixelEvent = (token: string) =>
      httpEvent({
        path: `/v1/pixel/${token}.gif`,
        pathParameters: { token: `${token}.gif` },
        headers: { 'user-agent': AGENT_CANARY },
      });
    const beaconEvent = (token: string) =>
      httpEvent({
        method: 'POST',
        path: '/v1/events',
        headers: { 'user-agent': AGENT_CANARY, 'content-type': 'text/plain' },
        rawBody: JSON.stringify({ token, type: 'click' }),
      });
    const [scannedV4, scannedV6, person] = await Promise.all(['r-v4', 'r-v6', 'r-person'].map(tokenFor));

    const chunks: string[] = [];
    const sink = ((chunk: unknown) => {
      chunks.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(sink);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(sink);
    const level = logger.getLevelName();
    logger.setLogLevel('DEBUG');
    try {
      await pixel(from(pixelEvent(scannedV4!), SCANNER_V4));
      await pixel(from(pixelEvent(scannedV6!), SCANNER_V6));
      await pixel(from(pixelEvent(person!), PERSON_ADDRESS));
      const statuses = [
        (await beacon(from(beaconEvent(scannedV4!), SCANNER_V4), lambdaContext())).statusCode,
        (await beacon(from(beaconEvent(person!), PERSON_ADDRESS), lambdaContext())).statusCode,
      ];
      expect(statuses).toEqual([204, 204]);
    } finally {
      logger.setLogLevel(level);
      out.mockRestore();
      err.mockRestore();
    }
    output = chunks.join('');

    expect(await variantTotals()).toEqual({ opens: 1, machine_opens: 2, clicks: 1, beacon_clicks: 1 });
  });

  it('stores and logs neither the address nor the agent', async () => {
    const items = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await service.client.send(
        new ScanCommand({ TableName: service.tableName, ExclusiveStartKey: startKey as never }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    const stored = JSON.stringify(items);
    expect(items.length).toBeGreaterThan(5);
    expect(stored).toContain('machine_opened_at');
    for (const needle of [SCANNER_V4, SCANNER_V6, PERSON_ADDRESS, 'CANARY-agent', 'Thunderbird']) {
      expect(stored, needle).not.toContain(needle);
      expect(output, needle).not.toContain(needle);
    }
  });
});
