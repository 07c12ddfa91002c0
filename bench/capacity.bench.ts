// Capacity and cost at Braze's top rate (DESIGN §9): what DynamoDB bills per email, per container refresh and per
// partition, measured on DynamoDB Local with every command billed by the service's rules (bench/billing.ts).
//
// Content "containers" (each its own service, caches and adapters, as Lambda runs them) and pixel containers
// share one counted client each and a simulated clock. A campaign's history is seeded the way its traffic would
// have left it (counter rows for every 10-minute bucket in every shard, the tenant's delay histogram, the
// assignments whose opens arrive now), then a window of simulated seconds is driven at exactly 500,000 emails a
// minute, every second's calls finishing before the clock moves on.
import { createHash } from 'node:crypto';
import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { DynamoDbExperimentStore } from '../adapters/dynamodb/dynamodb-experiment-store';
import { DynamoDbTenantStore } from '../adapters/dynamodb/dynamodb-tenant-store';
import { COUNTER_SHARDS, DELAY_SHARDS, keys } from '../adapters/dynamodb/keys';
import { ensureTable } from '../adapters/dynamodb/table';
import { OLD_READ_SECONDS, RECENT_READ_SECONDS } from '../domain/allocation-snapshot';
import { DELAY_BUCKETS, delayBucket } from '../domain/delay';
import { DEFAULT_OPTIONS, defineExperiment } from '../domain/experiment';
import { recipientKey } from '../domain/recipient';
import { TokenRewards } from '../domain/rewards';
import { issueTenant, type Tenant } from '../domain/tenant';
import { nowSeconds, SEND_BUCKET_SECONDS, sendBucketOf } from '../domain/time';
import { signTrackingToken } from '../domain/tracking-token';
import { createSelectContent } from '../handlers/select-content';
import type { Config } from '../handlers/shared/config';
import { httpHandler } from '../handlers/shared/http';
import { contentService, createStores } from '../handlers/shared/stage';
import { createTrackOpen } from '../handlers/track-open';
import { localDynamoDbClient, startDynamoDbLocal } from '../local/dynamodb-local';
import { httpEvent, lambdaContext } from '../test/support/events';
import { type BilledCommand, BillingMeter, type Charge, type Item } from './billing';
import { ratioLine } from './harness';

const TABLE = 'capacity';
const EMAILS_PER_SECOND = 500_000 / 60;
const VARIANTS = 10;
/** Content calls per email: subject, body and (for half of the emails) plain text. */
const CALLS_PER_EMAIL = [2, 3] as const;
/** First opens (pixel) arriving per email sent, for sends of the past hours (opens lag sends). */
const OPEN_RATE = 0.2;
/** Pixel hits of an already counted open (re-opens), per email sent. */
const REOPEN_RATE = 0.05;
/** Measured window in simulated seconds: one refresh cycle of every container by default. */
const WINDOW_SECONDS = Number(process.env['WEFT_CAPACITY_SECONDS'] || 5);
/** Requests in flight against DynamoDB Local (two cores). */
const CONCURRENCY = 64;

/** DynamoDB's per-partition limits (units per second). */
const PARTITION_LIMIT = { write: 1000, read: 3000 };
/** The experiments' refresh_seconds (the default), also every container's head-read period. */
const REFRESH_SECONDS = DEFAULT_OPTIONS.refresh_seconds;

/**
 * Prices are assumptions, dated: DynamoDB on-demand (aws.amazon.com/dynamodb/pricing/on-demand, since the
 * November 2024 cut), Lambda arm64 and API Gateway HTTP API (aws.amazon.com/lambda/pricing, /api-gateway/pricing),
 * us-east-1, checked 2026-12-01. Lambda durations are assumed, not measured here (DynamoDB Local is no guide).
 */
const PRICES = {
  checked: '2026-12-01',
  writeUnit: 0.625 / 1e6,
  readUnit: 0.125 / 1e6,
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecond: 0.0000133334,
  httpApiRequest: 1.0 / 1e6,
  content: { gb: 0.5, billedMs: 10 },
  pixel: { gb: 0.25, billedMs: 10 },
};

/** A tenant's experiment with its seeded history, and the open tokens its pixel hits will use. */
interface Campaign {
  readonly tenant: Tenant;
  readonly connectToken: string;
  readonly experimentId: string;
  readonly campaignId: string;
  /** Simulated unix seconds of the campaign's first call to weft in this run (its history lies before). */
  readonly start: number;
  /** Tokens of seeded sends not opened yet, and of sends already opened (for re-opens). */
  readonly unopened: string[];
  readonly opened: string[];
  counterRows: number;
}

type Category =
  | 'tenant'
  | 'definition'
  | 'head'
  | 'settled'
  | 'counter'
  | 'delay'
  | 'assignment'
  | 'campaign link'
  | 'other';

const RECOMPUTE_READS: ReadonlySet<Category> = new Set(['counter', 'settled', 'delay']);
const RECOMPUTE_WRITES: ReadonlySet<Category> = new Set(['head', 'settled']);

/** Which item a charge fell on, from the adapter's own key builders. */
class Classifier {
  private readonly exact = new Map<string, Category>();
  private readonly prefixes: Array<[string, Category]> = [];
  private readonly heads = new Map<string, string>();

  add(campaign: Campaign) {
    const t = campaign.tenant.id;
    const e = campaign.experimentId;
    this.exact.set(keys.tenant(t).pk, 'tenant');
    this.exact.set(keys.experimentPk(t), 'definition');
    this.heads.set(keys.head(t, e).pk, keys.head(t, e).sk);
    this.exact.set(keys.campaignPk(t, campaign.campaignId), 'campaign link');
    for (let shard = 0; shard < COUNTER_SHARDS; shard++)
      this.exact.set(keys.counterPk(t, e, shard), 'counter');
    for (const kind of ['open', 'click'])
      for (let shard = 0; shard < DELAY_SHARDS; shard++)
        this.exact.set(keys.delayPk(t, kind, shard), 'delay');
    this.prefixes.push([keys.assignment(t, e, '').pk, 'assignment']);
  }

  of(charge: Charge): Category {
    const head = this.heads.get(charge.partitionKey);
    if (head !== undefined) return charge.sortKey === null || charge.sortKey === head ? 'head' : 'settled';
    const exact = this.exact.get(charge.partitionKey);
    if (exact) return exact;
    for (const [prefix, category] of this.prefixes)
      if (charge.partitionKey.startsWith(prefix)) return category;
    return 'other';
  }
}

/** Everything billed while it listens, by category, source and simulated second. */
class Tally {
  emails = 0;
  contentCalls = 0;
  pixelHits = 0;
  fallbacks = 0;
  errors = 0;
  readonly reads = new Map<Category, number>();
  readonly writes = new Map<Category, number>();
  readonly contentReads = new Map<Category, number>();
  /** Head reads by content containers: each is one container refresh. */
  refreshes = 0;
  /** Settled-sums reads: each recompute makes exactly one. */
  recomputes = 0;
  /** Units of the transactions a send and its first rewards need: the floor for write units. */
  minimumWrites = 0;
  /** Units of writes that failed their condition or were cancelled. */
  failedWrites = 0;
  readonly perSecond = new Map<string, { read: number; write: number }>();

  constructor(
    private readonly classify: Classifier,
    private readonly second: () => number,
  ) {}

  record(billed: BilledCommand) {
    const categories = billed.charges.map((c) => this.classify.of(c));
    billed.charges.forEach((c, i) => {
      const category = categories[i]!;
      add(this.reads, category, c.readUnits);
      add(this.writes, category, c.writeUnits);
      if (billed.source === 'content') add(this.contentReads, category, c.readUnits);
      const slot = `${c.partitionKey}\u0000${this.second()}`;
      const units = this.perSecond.get(slot) ?? { read: 0, write: 0 };
      units.read += c.readUnits;
      units.write += c.writeUnits;
      this.perSecond.set(slot, units);
      if (c.action === 'Get' && category === 'head' && billed.source === 'content') this.refreshes++;
      if (c.action === 'Get' && category === 'settled') this.recomputes++;
    });
    if (billed.failed) this.failedWrites += billed.writeUnits;
    if (billed.command !== 'TransactWriteItems' || billed.failed) return;
    const [first, second] = billed.charges;
    if (first && categories[0] === 'assignment' && first.action === 'Put') {
      // A send (assignment + counter), or a send recorded with its first reward (all of it).
      this.minimumWrites +=
        categories[2] === 'delay' ? billed.writeUnits : first.writeUnits + (second?.writeUnits ?? 0);
    } else if (first && categories[0] === 'assignment' && first.action === 'Update') {
      this.minimumWrites += billed.writeUnits;
    }
  }

  sum(map: ReadonlyMap<Category, number>, only?: ReadonlySet<Category>): number {
    let total = 0;
    for (const [category, units] of map) if (!only || only.has(category)) total += units;
    return total;
  }

  /** The busiest partition key in any one simulated second. */
  hottest(kind: 'read' | 'write'): { key: string; units: number } {
    let best = { key: '', units: 0 };
    for (const [slot, units] of this.perSecond)
      if (units[kind] > best.units) best = { key: slot.split('\u0000')[0]!, units: units[kind] };
    return best;
  }
}

function add<K>(map: Map<K, number>, key: K, units: number) {
  map.set(key, (map.get(key) ?? 0) + units);
}

/** A small deterministic generator: the same run sends the same traffic. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function limited(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}

/** Writes items through the uncounted client, 25 a request, a few requests at a time. */
async function seed(client: DynamoDBClient, meter: BillingMeter, items: Item[]): Promise<void> {
  const batches: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await limited(
    batches.map((batch) => async () => {
      let pending: WriteRequest[] = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 10) throw new Error('seeding: unprocessed items after 10 attempts');
        const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: pending } }));
        pending = result.UnprocessedItems?.[TABLE] ?? [];
      }
      for (const item of batch) meter.learn(TABLE, item);
    }),
    8,
  );
}

const n = (value: number) => ({ N: String(value) });
const s = (value: string) => ({ S: value });

/**
 * Counter rows for the send buckets in [from, to], as the ledger's sharded ADDs leave them: every shard and
 * variant has a row in every bucket (at this rate a shard sees hundreds of sends per variant and bucket).
 * `seconds(bucket)` is how much of the bucket the campaign had sent.
 */
function counterRows(
  campaign: Campaign,
  from: number,
  to: number,
  seconds: (bucket: number) => number,
): Item[] {
  const rows: Item[] = [];
  const t = campaign.tenant.id;
  const e = campaign.experimentId;
  for (let bucket = from; bucket <= to; bucket += SEND_BUCKET_SECONDS) {
    const perRow = (EMAILS_PER_SECOND * seconds(bucket)) / (VARIANTS * COUNTER_SHARDS);
    for (let shard = 0; shard < COUNTER_SHARDS; shard++) {
      for (let v = 0; v < VARIANTS; v++) {
        const sends = Math.max(1, Math.round(perRow * (0.9 + ((shard * 7 + v * 13) % 21) / 100)));
        const openRate = 0.18 + v * 0.006;
        rows.push({
          ...keyItem(keys.counter(t, e, shard, bucket, `v${v}`)),
          sends: n(sends),
          opens: n(Math.round(sends * openRate)),
          clicks: n(Math.round(sends * openRate * 0.12)),
        });
      }
    }
  }
  return rows;
}

function keyItem(k: { pk: string; sk: string }): Item {
  return { pk: s(k.pk), sk: s(k.sk) };
}

/** Reward delays: log-normal, median 40 minutes (weft's default open model), within the campaign's age. */
function openDelay(rng: () => number, maxSeconds: number): number {
  const normal = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return Math.round(Math.min(maxSeconds - 60, Math.max(30, 2400 * Math.exp(1.5 * normal))));
}

interface Env {
  readonly config: Config;
  readonly sizer: DynamoDBClient;
  readonly content: DynamoDBClient;
  readonly pixel: DynamoDBClient;
  readonly meter: BillingMeter;
  readonly classifier: Classifier;
  /** The simulated clock every container reads. */
  now: number;
  tally: Tally | null;
}

/** A tenant, a 10-variant experiment and `ageSeconds` of history before `start`. */
async function prepareCampaign(
  env: Env,
  tenantId: string,
  ageSeconds: number,
  start: number,
  pixelHits: { first: number; repeat: number },
): Promise<Campaign> {
  const rng = random(ageSeconds);
  const issued = issueTenant(tenantId, tenantId, start - ageSeconds - 86_400);
  await new DynamoDbTenantStore(env.sizer, TABLE).create(issued.tenant);
  const experimentId = 'subject-lines';
  const variants = Array.from({ length: VARIANTS }, (_, i) => ({
    id: `v${i}`,
    text: `Variant ${i}: our winter collection is here, with free delivery this week only`,
  }));
  await new DynamoDbExperimentStore(env.sizer, TABLE).save(
    defineExperiment(
      tenantId,
      experimentId,
      { name: 'Winter launch', metric: 'opens', variants },
      null,
      start - ageSeconds,
    ),
  );
  const campaign: Campaign = {
    tenant: issued.tenant,
    connectToken: issued.connectToken,
    experimentId,
    campaignId: '8c6f2a3e-5b1d-4f0a-9e7c-2d4b6a8c0e1f',
    start,
    unopened: [],
    opened: [],
    counterRows: 0,
  };
  env.classifier.add(campaign);

  // Counters: every bucket from the campaign's start up to `start` (the last one partly).
  const first = sendBucketOf(start - ageSeconds);
  const rows = counterRows(campaign, first, sendBucketOf(start), (bucket) =>
    Math.max(0, Math.min(bucket + SEND_BUCKET_SECONDS, start) - Math.max(bucket, start - ageSeconds)),
  );
  campaign.counterRows = rows.length;
  // The tenant's delay histogram: every bucket up to the campaign's age, in every shard.
  const delays: Item[] = [];
  for (let shard = 0; shard < DELAY_SHARDS; shard++)
    for (let bucket = 0; bucket <= Math.min(DELAY_BUCKETS - 1, delayBucket(ageSeconds)); bucket++)
      delays.push({
        ...keyItem(keys.delay(tenantId, 'open', shard, bucket)),
        n: n(50 + ((shard + bucket) % 40)),
      });
  // Assignments of earlier sends whose opens (and re-opens) arrive during the run, as the ledger writes them.
  const secret = issued.tenant.signingSecrets[0]!.secret;
  const assignments: Item[] = [];
  const sent = (index: number, opened: boolean) => {
    const digest = createHash('sha256').update(`${tenantId}-earlier-${index}`).digest('hex');
    const key = recipientKey(issued.tenant.recipientKey, digest);
    const variantId = `v${Math.floor(rng() * VARIANTS)}`;
    const sentAt = start - openDelay(rng, ageSeconds);
    assignments.push({
      ...keyItem(keys.assignment(tenantId, experimentId, key)),
      variant: s(variantId),
      sent_at: n(sentAt),
      expires_at: n(sentAt + env.config.assignmentTtlSeconds),
      campaign: s(campaign.campaignId),
      ...(opened ? { opened_at: n(sentAt + 600) } : {}),
    });
    return signTrackingToken({ tenantId, experimentId, variantId, recipientKey: key, sentAt }, secret);
  };
  for (let i = 0; i < pixelHits.first; i++) campaign.unopened.push(sent(i, false));
  for (let i = 0; i < pixelHits.repeat; i++) campaign.opened.push(sent(pixelHits.first + i, true));
  await seed(env.sizer, env.meter, [...rows, ...delays, ...assignments]);
  return campaign;
}

type ContentCall = (recipient: string) => Promise<void>;
type PixelCall = (token: string) => Promise<void>;

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
  return async (token) => {
    await track(httpEvent({ path: `/v1/pixel/${token}.gif`, pathParameters: { token: `${token}.gif` } }));
    const t = tally();
    if (t) t.pixelHits++;
  };
}

interface Fleet {
  readonly content: number;
  readonly pixel: number;
  readonly emailsPerSecond: number;
}

interface Probe {
  readonly reads: number;
  readonly writes: number;
}

interface Scenario {
  readonly fleet: Fleet;
  readonly tally: Tally;
  readonly seconds: number;
  readonly realSeconds: number;
}

/**
 * A fresh fleet on `campaign`: each container's first call is staggered over one refresh period (containers
 * start at different moments, so their refreshes spread evenly), then the measured window at the fleet's rate.
 */
async function runFleet(
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
        ...pixel.filter((_, i) => i % refresh === phase).map((call) => () => call(take(campaign.unopened))),
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
      const call = pixel[Math.floor(rng() * pixel.length)]!;
      // Pixel hits land among the second's emails.
      tasks.splice(Math.floor(rng() * (tasks.length + 1)), 0, () => call(token));
    }
    await limited(tasks, CONCURRENCY);
  }
  env.tally = null;
  return { fleet, tally, seconds: WINDOW_SECONDS, realSeconds: (Date.now() - started) / 1000 };
}

/** One call on one fresh container at `at`, alone: whatever recompute it runs is measured by itself. */
async function probe(env: Env, campaign: Campaign, at: number, seed: number): Promise<Probe> {
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

interface Figures {
  readonly emails: number;
  readonly readsPerEmail: number;
  readonly writesPerEmail: number;
  readonly minimumPerEmail: number;
  readonly contentCallsPerEmail: number;
  readonly pixelHitsPerEmail: number;
  /** Read units per container refresh, and its three terms. */
  readonly perRefresh: number;
  readonly fleetPerRefresh: number;
  readonly recomputesPerRefresh: number;
  readonly tiersPerRefresh: number;
  readonly recomputesPerCycle: number;
  /** Read units of one recompute of the last hour's buckets. */
  readonly windowRecompute: number;
  /** The slower tiers' extra read units, spread over every refresh cycle. */
  readonly tiersPerCycle: number;
}

/**
 * Per email and per container refresh. The window shows the fleet's refreshes and the recomputes of the last
 * hour's buckets; the slower tiers (the recent tier every RECENT_READ_SECONDS, the whole history every
 * OLD_READ_SECONDS, each replacing one window recompute) are measured by the probes and spread over the cycles
 * between them.
 */
function figures(scenario: Scenario, tiers: { old: Probe; recent: Probe }, refresh: number): Figures {
  const t = scenario.tally;
  const cycles = scenario.seconds / refresh;
  const recomputeReads = t.sum(t.contentReads, RECOMPUTE_READS);
  const windowRecompute = {
    reads: t.sum(t.reads, RECOMPUTE_READS) / Math.max(1, t.recomputes),
    writes: t.sum(t.writes, RECOMPUTE_WRITES) / Math.max(1, t.recomputes),
  };
  const extra = (kind: 'reads' | 'writes') =>
    ((tiers.recent[kind] - windowRecompute[kind]) * refresh) / RECENT_READ_SECONDS +
    ((tiers.old[kind] - tiers.recent[kind]) * refresh) / OLD_READ_SECONDS;
  const tierReads = extra('reads') * cycles;
  const fleetReads = t.sum(t.contentReads, new Set<Category>(['tenant', 'head', 'definition']));
  return {
    emails: t.emails,
    readsPerEmail: (t.sum(t.reads) + tierReads) / t.emails,
    writesPerEmail: (t.sum(t.writes) + extra('writes') * cycles) / t.emails,
    minimumPerEmail: t.minimumWrites / t.emails,
    contentCallsPerEmail: t.contentCalls / t.emails,
    pixelHitsPerEmail: t.pixelHits / t.emails,
    perRefresh: (fleetReads + recomputeReads + tierReads) / t.refreshes,
    fleetPerRefresh: fleetReads / t.refreshes,
    recomputesPerRefresh: recomputeReads / t.refreshes,
    tiersPerRefresh: tierReads / t.refreshes,
    recomputesPerCycle: t.recomputes / cycles,
    windowRecompute: windowRecompute.reads,
    tiersPerCycle: extra('reads'),
  };
}

const fmt = (value: number, digits = 2) =>
  value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function verdict(ratio: number, limit: number): string {
  return ratio <= limit ? ' — met' : ' — NOT MET';
}

export async function benchCapacity(): Promise<string[]> {
  const lines: string[] = [];
  const started = Date.now();
  const dynamodb = await startDynamoDbLocal();
  try {
    const sizer = localDynamoDbClient(dynamodb.endpoint);
    const meter = new BillingMeter(sizer);
    const content = localDynamoDbClient(dynamodb.endpoint);
    const pixel = localDynamoDbClient(dynamodb.endpoint);
    meter.attach(content, 'content');
    meter.attach(pixel, 'pixel');
    await ensureTable(sizer, TABLE);
    const env: Env = {
      config: {
        tableName: TABLE,
        currentsBucket: null,
        publicBaseUrl: 'https://weft.example.com',
        // DynamoDB Local on two cores answers in tens of milliseconds under this load, DynamoDB in a few: a
        // budget that never expires keeps the emulator's slowness out of the answers (no fallbacks).
        contentBudgetMs: 120_000,
        assignmentTtlSeconds: 30 * 86_400,
        dynamodbEndpoint: dynamodb.endpoint,
        s3Endpoint: null,
        s3Credentials: null,
        region: 'local',
      },
      sizer,
      content,
      pixel,
      meter,
      classifier: new Classifier(),
      now: 0,
      tally: null,
    };
    meter.onCommand((billed) => env.tally?.record(billed));
    // DynamoDB Local applies the transactional 2× but adds items of equal unit count once ([1 KB, 1 KB] → 2
    // units, [2 KB, 1 KB] → 6): our item sizes are checked against that rule too.
    const localRule = { reported: 0, ours: 0 };
    meter.onCommand((billed) => {
      if (billed.command !== 'TransactWriteItems' || billed.reportedUnits === null) return;
      localRule.reported += billed.reportedUnits;
      localRule.ours +=
        2 * [...new Set(billed.charges.map((c) => c.writeUnits / 2))].reduce((a, b) => a + b, 0);
    });

    const main: Fleet = { content: 100, pixel: 20, emailsPerSecond: EMAILS_PER_SECOND };
    const small: Fleet = { content: 10, pixel: 2, emailsPerSecond: EMAILS_PER_SECOND / 10 };
    const refresh = REFRESH_SECONDS;
    // Pixel hits each campaign's fleets need over their windows (both fleets run on the 24 h campaign).
    const hits = (fleets: Fleet[], rate: number) =>
      Math.ceil(
        fleets.reduce((sum, f) => sum + f.emailsPerSecond * rate * WINDOW_SECONDS + f.pixel, 0) * 1.01 + 10,
      );
    // Both campaigns start 60 s into a send bucket; the 1 h one after the 24 h one's last probe (at +600 s).
    const dayStart = sendBucketOf(nowSeconds()) + 60;
    const hourStart = dayStart + 6 * SEND_BUCKET_SECONDS;
    const day = await prepareCampaign(env, 'veteran', 86_400, dayStart, {
      first: hits([main, small], OPEN_RATE),
      repeat: hits([main, small], REOPEN_RATE),
    });
    const hour = await prepareCampaign(env, 'newcomer', 3_600, hourStart, {
      first: hits([small], OPEN_RATE),
      repeat: hits([small], REOPEN_RATE),
    });
    const seeded = (Date.now() - started) / 1000;

    // 24 h campaign: the first recompute reads the whole history (as every OLD_READ_SECONDS), then the fleets.
    const dayOld = await probe(env, day, day.start, 1);
    const dayMain = await runFleet(env, day, main, day.start + 1, 2);
    const daySmall = await runFleet(env, day, small, env.now + 1, 3);
    // The recent tier, re-read RECENT_READ_SECONDS after the first recompute (its buckets seeded meanwhile).
    await seed(
      sizer,
      meter,
      counterRows(
        day,
        sendBucketOf(day.start) + SEND_BUCKET_SECONDS,
        sendBucketOf(day.start + RECENT_READ_SECONDS),
        () => SEND_BUCKET_SECONDS,
      ),
    );
    const dayRecent = await probe(env, day, day.start + RECENT_READ_SECONDS, 4);

    // 1 h campaign, the small fleet (the recompute weighs most per container there).
    const hourOld = await probe(env, hour, hour.start, 5);
    const hourSmall = await runFleet(env, hour, small, hour.start + 1, 6);
    await seed(
      sizer,
      meter,
      counterRows(
        hour,
        sendBucketOf(hour.start) + SEND_BUCKET_SECONDS,
        sendBucketOf(hour.start + RECENT_READ_SECONDS),
        () => SEND_BUCKET_SECONDS,
      ),
    );
    const hourRecent = await probe(env, hour, hour.start + RECENT_READ_SECONDS, 7);

    const dayTiers = { old: dayOld, recent: dayRecent };
    const big = figures(dayMain, dayTiers, refresh);
    const ten = figures(daySmall, dayTiers, refresh);
    const young = figures(hourSmall, { old: hourOld, recent: hourRecent }, refresh);

    lines.push(
      `setup: DynamoDB Local; ${main.content} content + ${main.pixel} pixel containers (own services and caches, one counted client each kind), simulated clock; ${fmt(day.counterRows, 0)} counter rows seeded for 24 h (${COUNTER_SHARDS} shards × ${VARIANTS} variants × 10-min buckets), ${fmt(hour.counterRows, 0)} for 1 h; seeding ${fmt(seeded, 0)} s`,
      `window: ${WINDOW_SECONDS} simulated s at ${fmt(EMAILS_PER_SECOND)} emails/s = ${fmt(big.emails, 0)} emails, ${fmt(big.contentCallsPerEmail)} content calls and ${fmt(big.pixelHitsPerEmail)} pixel hits per email (first opens ${OPEN_RATE * 100}% of emails, re-opens ${REOPEN_RATE * 100}%), ${fmt(dayMain.realSeconds, 0)} s real; fallbacks ${dayMain.tally.fallbacks + daySmall.tally.fallbacks + hourSmall.tally.fallbacks}, errors ${dayMain.tally.errors + daySmall.tally.errors + hourSmall.tally.errors}`,
    );

    // Billing cross-check against what DynamoDB Local reports (over the commands it reported on).
    const agreement: string[] = [];
    let failed = 0;
    for (const [command, totals] of meter.commands) {
      failed += totals.failed;
      if (totals.computedWhereReported === 0) continue;
      const ratio = fmt(totals.reported / totals.computedWhereReported);
      agreement.push(
        command === 'TransactWriteItems'
          ? `${command} ${ratio} (${fmt(localRule.reported / localRule.ours)} by Local's own rule: it adds a transaction's items of equal unit count once)`
          : `${command} ${ratio}`,
      );
    }
    lines.push(
      `billing cross-check, DynamoDB Local's ConsumedCapacity / ours: ${agreement.join(', ')} (failed commands, no report: ${fmt(failed, 0)})`,
    );

    lines.push(
      ratioLine(
        'read units per container-refresh, campaign age 24 h vs 1 h (10 containers, 833 emails/s)',
        ten.perRefresh,
        young.perRefresh,
        'RRU',
        '≤ 1.2',
      ) + verdict(ten.perRefresh / young.perRefresh, 1.2),
      ratioLine(
        'read units per email, 100 vs 10 containers at the same per-container load',
        big.readsPerEmail,
        ten.readsPerEmail,
        'RRU',
        '≤ 1.2',
      ) + verdict(big.readsPerEmail / ten.readsPerEmail, 1.2),
      ratioLine(
        'write units per email vs the minimum (send + first-reward transactions)',
        big.writesPerEmail,
        big.minimumPerEmail,
        'WRU',
        '≤ 1.1',
      ) + verdict(big.writesPerEmail / big.minimumPerEmail, 1.1),
    );
    const hotWrite = dayMain.tally.hottest('write');
    const hotRead = dayMain.tally.hottest('read');
    const category = (key: string) => env.classifier.of({ partitionKey: key, sortKey: null } as Charge);
    lines.push(
      ratioLine(
        `hottest partition write units/s vs its limit (${category(hotWrite.key)} ${hotWrite.key})`,
        hotWrite.units,
        PARTITION_LIMIT.write,
        'WCU/s',
        '≤ 0.5',
      ) + verdict(hotWrite.units / PARTITION_LIMIT.write, 0.5),
      ratioLine(
        `hottest partition read units/s vs its limit (${category(hotRead.key)} ${hotRead.key})`,
        hotRead.units,
        PARTITION_LIMIT.read,
        'RCU/s',
        '≤ 0.5',
      ) + verdict(hotRead.units / PARTITION_LIMIT.read, 0.5),
    );

    // Where the units go, per email (100 containers, 24 h campaign).
    const t = dayMain.tally;
    const perEmail = (map: ReadonlyMap<Category, number>) =>
      [...map]
        .filter(([, units]) => units > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([c, units]) => `${c} ${fmt(units / t.emails, 3)}`)
        .join(', ');
    lines.push(
      `per email (100 containers, 24 h): ${fmt(big.readsPerEmail, 3)} read units (${perEmail(t.reads)}; slower recompute tiers amortised), ${fmt(big.writesPerEmail, 3)} write units (${perEmail(t.writes)}); minimum ${fmt(big.minimumPerEmail, 3)}, failed or cancelled writes ${fmt(t.failedWrites / t.emails, 3)}`,
      ...(
        [
          ['100 containers, 24 h', big, main.content],
          ['10 containers, 24 h', ten, small.content],
          ['10 containers, 1 h', young, small.content],
        ] as const
      ).map(
        ([label, f, containers]) =>
          `per container refresh (${label}): ${fmt(f.perRefresh)} read units = tenant + head + definition ${fmt(f.fleetPerRefresh)} + recomputes of the last hour ${fmt(f.recomputesPerRefresh)} (${fmt(f.recomputesPerCycle, 1)} per ${refresh} s cycle × ${fmt(f.windowRecompute, 1)}, shared by ${containers}) + slower tiers ${fmt(f.tiersPerRefresh)} (${fmt(f.tiersPerCycle, 1)} per cycle); with one recompute per cycle it would be ${fmt(f.fleetPerRefresh + (f.windowRecompute + f.tiersPerCycle) / containers)}`,
      ),
      `one recompute, measured alone: 24 h campaign — recent tier ${fmt(dayRecent.reads, 1)}, whole history ${fmt(dayOld.reads, 1)} read units; 1 h campaign — recent tier ${fmt(hourRecent.reads, 1)}, whole history ${fmt(hourOld.reads, 1)}`,
    );

    const dynamoCost = (big.readsPerEmail * PRICES.readUnit + big.writesPerEmail * PRICES.writeUnit) * 1e6;
    const invocation = (fn: { gb: number; billedMs: number }) =>
      PRICES.lambdaRequest + fn.gb * (fn.billedMs / 1000) * PRICES.lambdaGbSecond;
    const lambdaCost =
      (big.contentCallsPerEmail * invocation(PRICES.content) +
        big.pixelHitsPerEmail * invocation(PRICES.pixel)) *
      1e6;
    const httpApiCost = (big.contentCallsPerEmail + big.pixelHitsPerEmail) * PRICES.httpApiRequest * 1e6;
    lines.push(
      `cost per 1M emails: DynamoDB $${fmt(dynamoCost)} (writes $${fmt(big.writesPerEmail * PRICES.writeUnit * 1e6)}, reads $${fmt(big.readsPerEmail * PRICES.readUnit * 1e6)}; on-demand $0.625/M write and $0.125/M read request units, us-east-1, assumed, checked ${PRICES.checked}); Lambda $${fmt(lambdaCost)} (assumed: arm64, $0.20/M requests + $0.0000133334/GB-s, content 512 MB and pixel 256 MB, ${PRICES.content.billedMs} ms billed per call); API Gateway HTTP API $${fmt(httpApiCost)} (assumed $1.00/M requests)`,
      `run: ${fmt((Date.now() - started) / 1000, 0)} s real`,
    );
    for (const c of [content, pixel, sizer]) c.destroy();
  } finally {
    await dynamodb.stop();
  }
  return lines;
}
