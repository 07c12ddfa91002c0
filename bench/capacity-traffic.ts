// The simulated traffic driver: content and pixel containers (each its own service, caches and adapters, as
// Lambda runs them) on the shared clock, driven at a fleet's rate one simulated second at a time.
import { createHash } from 'node:crypto';
import { TokenRewards } from '../domain/rewards';
import { createSelectContent } from '../handlers/select-content';
import { httpHandler } from '../handlers/shared/http';
import { contentService, createStores } from '../handlers/shared/stage';
import { createTrackOpen } from '../handlers/track-open';
import { httpEvent, lambdaContext } from '../test/support/events';
import { RECOMPUTE_READS, RECOMPUTE_WRITES, Tally } from './capacity-tally';
import {
  CALLS_PER_EMAIL,
  type Campaign,
  CONCURRENCY,
  type Env,
  limited,
  MACHINE_OPEN_SHARE,
  OPEN_RATE,
  REFRESH_SECONDS,
  REOPEN_RATE,
  random,
  WINDOW_SECONDS,
} from './capacity-world';

type ContentCall = (recipient: string) => Promise<void>;
type PixelCall = (token: string, machine: boolean) => Promise<void>;

function contentContainer(env: Env, campaign: Campaign, tally: () => Tally | null): ContentCall {
  const clock = () => env.now;
  const stores = createStores(env.config, env.content, clock);
  const handler = httpHandler(
    createSelectContent(env.config, stores, contentService(env.config, stores, clock)),
  );
  const context = lambdaContext();
  const authorization = `Bearer ${campaign.connectToken}`;
  return async (recipient) => {
    const result = await handler(
      httpEvent({
        path: '/v1/content',
        query: { experiment: campaign.experimentId, recipient, campaign: campaign.campaignId },
        headers: { authorization },
      }),
      context,
    );
    const t = tally();
    if (!t) return;
    t.contentCalls++;
    if (result.statusCode !== 200) t.errors++;
    else if (result.body?.includes('"fallback":true')) t.fallbacks++;
  };
}

function pixelContainer(env: Env, tally: () => Tally | null): PixelCall {
  const clock = () => env.now;
  const stores = createStores(env.config, env.pixel, clock);
  const track = createTrackOpen(
    new TokenRewards(stores.tenants, stores.ledger, clock, env.config.assignmentTtlSeconds),
    clock,
  );
  return async (token, machine) => {
    await track(
      httpEvent({
        path: `/v1/pixel/${token}.gif`,
        pathParameters: { token: `${token}.gif` },
        // Apple's Privacy Protection proxy sends a bare agent; the rest are people's mail clients.
        ...(machine ? { headers: { 'user-agent': 'Mozilla/5.0' } } : {}),
      }),
    );
    const t = tally();
    if (t) t.pixelHits++;
  };
}

export interface Fleet {
  readonly content: number;
  readonly pixel: number;
  readonly emailsPerSecond: number;
}

export interface Probe {
  readonly reads: number;
  readonly writes: number;
}

export interface Scenario {
  readonly fleet: Fleet;
  readonly tally: Tally;
  readonly seconds: number;
  readonly realSeconds: number;
}

/**
 * A fresh fleet on `campaign`: each container's first call is staggered over one refresh period (containers
 * start at different moments, so their refreshes spread evenly), then the measured window at the fleet's rate.
 */
export async function runFleet(
  env: Env,
  campaign: Campaign,
  fleet: Fleet,
  from: number,
  seed: number,
): Promise<Scenario> {
  const rng = random(seed);
  const current = () => env.tally;
  const content = Array.from({ length: fleet.content }, () => contentContainer(env, campaign, current));
  const pixel = Array.from({ length: fleet.pixel }, () => pixelContainer(env, current));
  const refresh = REFRESH_SECONDS;
  let emailIndex = 0;
  const recipient = () =>
    createHash('sha256').update(`${campaign.tenant.id}-${seed}-${emailIndex++}`).digest('hex');
  const email = (): (() => Promise<void>) => {
    const digest = recipient();
    const calls = CALLS_PER_EMAIL[Math.floor(rng() * CALLS_PER_EMAIL.length)]!;
    const targets = Array.from({ length: calls }, () => content[Math.floor(rng() * content.length)]!);
    return async () => {
      for (const call of targets) await call(digest);
      if (env.tally) env.tally.emails++;
    };
  };
  const take = (pool: string[]) => {
    const token = pool.pop();
    if (!token) throw new Error('capacity bench: the seeded open pool ran out');
    return token;
  };

  for (let phase = 0; phase < refresh; phase++) {
    env.now = from + phase;
    await limited(
      [
        ...content.filter((_, i) => i % refresh === phase).map((call) => () => call(recipient())),
        ...pixel
          .filter((_, i) => i % refresh === phase)
          .map((call) => () => call(take(campaign.unopened), false)),
      ],
      CONCURRENCY,
    );
  }

  const tally = new Tally(env.classifier, () => env.now);
  env.tally = tally;
  const started = Date.now();
  const windowStart = from + refresh;
  let carried = { emails: 0, opens: 0, reopens: 0 };
  for (let second = 0; second < WINDOW_SECONDS; second++) {
    env.now = windowStart + second;
    // Exact rates over the window: what each second adds to the running totals.
    const due = (rate: number) => Math.floor(rate * (second + 1));
    const emails = due(fleet.emailsPerSecond) - carried.emails;
    const opens = due(fleet.emailsPerSecond * OPEN_RATE) - carried.opens;
    const reopens = due(fleet.emailsPerSecond * REOPEN_RATE) - carried.reopens;
    carried = {
      emails: carried.emails + emails,
      opens: carried.opens + opens,
      reopens: carried.reopens + reopens,
    };
    const tasks: Array<() => Promise<void>> = Array.from({ length: emails }, email);
    for (let i = 0; i < opens + reopens; i++) {
      const token = take(i < opens ? campaign.unopened : campaign.opened);
      const machine = i < opens && rng() < MACHINE_OPEN_SHARE;
      const call = pixel[Math.floor(rng() * pixel.length)]!;
      // Pixel hits land among the second's emails.
      tasks.splice(Math.floor(rng() * (tasks.length + 1)), 0, () => call(token, machine));
    }
    await limited(tasks, CONCURRENCY);
  }
  env.tally = null;
  return { fleet, tally, seconds: WINDOW_SECONDS, realSeconds: (Date.now() - started) / 1000 };
}

/** One call on one fresh container at `at`, alone: whatever recompute it runs is measured by itself. */
export async function probe(env: Env, campaign: Campaign, at: number, seed: number): Promise<Probe> {
  const tally = new Tally(env.classifier, () => env.now);
  const call = contentContainer(env, campaign, () => env.tally);
  env.now = at;
  env.tally = tally;
  await call(createHash('sha256').update(`${campaign.tenant.id}-probe-${seed}`).digest('hex'));
  env.tally = null;
  if (tally.recomputes !== 1)
    throw new Error(`capacity bench: probe at ${at} ran ${tally.recomputes} recomputes`);
  return {
    reads: tally.sum(tally.reads, RECOMPUTE_READS),
    writes: tally.sum(tally.writes, RECOMPUTE_WRITES),
  };
}
