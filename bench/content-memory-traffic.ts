// The traffic that fills every cache of a measured container past its bound: content requests for the service's
// and the tenant directory's caches, and assignments for the DynamoDB adapters' own.
import { httpEvent, lambdaContext } from '../test/support/events';
import { type Container, config, longId, TENANTS, type World } from './content-memory-world';

const RECIPIENTS_PER_LARGE = 40;
/** With the recipients above, 57,000 distinct ones: about twice what the 32 MB answers cache holds. */
const RECIPIENTS = 30_000;
const RECENT_LARGE = 40;
/** DynamoDB adapters: distinct experiments and campaign links, three times their 10,000-entry bounds. */
const ADAPTER_KEYS = 30_000;

const context = lambdaContext();

export interface Traffic {
  requests: number;
  failedRequests: number;
  /** Per served variant, the bytes its rendered fragment is counted at. */
  readonly offered: Map<string, number>;
}

async function request(
  container: Container,
  world: World,
  traffic: Traffic,
  tenant: number,
  experiment: string,
  recipient: string,
  inspect = false,
) {
  const n = traffic.requests++;
  // Hosts of varied length: the base URL goes into every pixel URL.
  const host = `${'cdn'.repeat(n % 300)}.weft.example.com`;
  const result = await container.handler!(
    httpEvent({
      path: '/v1/content',
      query: {
        experiment,
        recipient,
        campaign: `Campagne d'été ☀️ ${n % 5000}`.padEnd(120, '·'),
        dispatch: `dispatch-${n % 97}`,
      },
      headers: { authorization: `Bearer ${world.tokens[tenant]}`, host },
    }),
    context,
  );
  if (result.statusCode !== 200) {
    traffic.failedRequests++;
    return;
  }
  if (!inspect) return;
  // The fragment before the token is rendered once per variant and counted at two bytes per character.
  const body = result.body ?? '';
  const tail = body.lastIndexOf(',"token":"');
  const token = body.slice(tail + 10, body.indexOf('"', tail + 10));
  traffic.offered.set(`${tenant}/${experiment}/${token.split('.')[3]}`, tail * 2);
}

export async function fillContent(container: Container, world: World, traffic: Traffic) {
  // Every tenant once (more than the directory's 10,000), each recomputing its small experiment's allocation.
  for (let t = 0; t < TENANTS; t++)
    await request(container, world, traffic, t, longId('small', t), `first-${t}@exemple.fr`);
  // Every large experiment with enough recipients to render most of its 20 active variants.
  for (const [n, { tenant, id }] of world.large.entries()) {
    for (let r = 0; r < RECIPIENTS_PER_LARGE; r++)
      await request(container, world, traffic, tenant, id, `large-${n}-${r}-ñandú`, true);
  }
  // Far more distinct recipients than the answers cache holds, on experiments the state cache still holds.
  const recent = world.large.slice(-RECENT_LARGE);
  for (let r = 0; r < RECIPIENTS; r++) {
    const { tenant, id } = recent[r % recent.length]!;
    await request(container, world, traffic, tenant, id, `recipient-${r}-Zoë-🙂`);
  }
}

export async function fillAdapters(container: Container, world: World) {
  for (let k = 0; k < ADAPTER_KEYS; k++) {
    const tenantId = longId('tenant', k % TENANTS);
    container.shards!.learn(tenantId, longId('exp', k), 4);
    // A campaign link per call (up to 128 characters, two-byte), and a shard count read per experiment.
    await container.ledger!.assign({
      tenantId,
      experimentId: longId('exp', ADAPTER_KEYS + k),
      recipientKey: 'k'.repeat(43),
      variantId: longId('v', 0),
      sentAt: world.now,
      campaignId: `Campagne ${k} — soldes d'hiver ❄️`.padEnd(128, '·'),
      dispatchId: null,
      expiresAt: world.now + config.assignmentTtlSeconds,
    });
  }
}
