// What the content function's per-container caches keep alive once every one of them is filled past its bound
// with the largest definitions the API accepts (DESIGN §9, "Bounded everything"). Run in its own process:
//   node --expose-gc --import tsx bench/content-memory.ts [--raised-bounds]
// and it prints one JSON line (ContentMemoryReport). `--raised-bounds` lifts the content service's byte bounds
// (its `cacheBytes` seam) to show what the same traffic would cost unbounded. `benchMemory` runs it for
// `npm run bench`; test/integration/content-memory.test.ts asserts on it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbLedger } from '../adapters/dynamodb/dynamodb-ledger';
import { ShardCounts } from '../adapters/dynamodb/shard-counts';
import {
  MemoryAllocationStore,
  MemoryExperimentStore,
  MemoryLedger,
  MemoryTenantStore,
} from '../adapters/memory/memory-stores';
import { CONTENT_CACHE_BYTES, ContentService } from '../domain/content';
import { defineExperiment, type Experiment, LIMITS } from '../domain/experiment';
import { issueTenant } from '../domain/tenant';
import { TenantDirectory } from '../domain/tenant-directory';
import { nowSeconds } from '../domain/time';
import { createSelectContent } from '../handlers/select-content';
import type { Config } from '../handlers/shared/config';
import { httpHandler } from '../handlers/shared/http';
import { RENDERED_CACHE_BYTES } from '../handlers/shared/rendered-variants';
import { httpEvent, lambdaContext } from '../test/support/events';
import { ratioLine } from './harness';

/** The content function's memory (serverless.yml); the caches together must stay under half of it. */
export const FUNCTION_MEMORY_MB = 512;

/** Past each count bound (10,000 tenants and recompute marks, 1,000 verified tokens). */
const TENANTS = 11_000;
/** About five times what the 48 MB experiment cache holds. */
const LARGE_EXPERIMENTS = 400;
const LARGE_TENANTS = 40;
const RECIPIENTS_PER_LARGE = 40;
/** With the recipients above, 57,000 distinct ones: about twice what the 32 MB answers cache holds. */
const RECIPIENTS = 30_000;
const RECENT_LARGE = 40;
/** DynamoDB adapters: distinct experiments and campaign links, three times their 10,000-entry bounds. */
const ADAPTER_KEYS = 30_000;

const MB = 1024 * 1024;
/** The raised-bounds mode: far above anything this traffic can fill. */
const RAISED_BYTES = 4096 * MB;

export interface ContentMemoryReport {
  readonly mode: 'bounded' | 'raised-bounds';
  readonly functionMemoryMb: number;
  /** Heap the container's caches keep alive (the in-memory stores, standing in for DynamoDB, excluded). */
  readonly growthMb: number;
  readonly seconds: number;
  readonly requests: number;
  /** Responses other than 200, and fallbacks (served without caching): both 0, or the caches were not filled. */
  readonly failedRequests: number;
  readonly fallbacks: number;
  readonly heap: {
    readonly beforeMb: number;
    readonly afterMb: number;
    /** The in-memory stores' own growth (assignments, counters): DynamoDB's data, not the container's. */
    readonly fakeStoresMb: number;
  };
  /** Heap freed by dropping each part of the container in turn. */
  readonly heldMb: {
    /** The handler: its rendered-variants cache, and the few objects middy keeps. */
    readonly renderedVariants: number;
    readonly contentService: number;
    readonly tenantDirectory: number;
    readonly dynamoDbAdapters: number;
  };
  /** What each cache reports (bytes or entries) against its bound. */
  readonly caches: {
    readonly experiments: { readonly bytes: number; readonly boundBytes: number; readonly entries: number };
    readonly answers: { readonly bytes: number; readonly boundBytes: number; readonly entries: number };
    readonly recomputeTried: { readonly entries: number; readonly bound: number };
    /** Not reachable from createSelectContent: only its held heap is measured (heldMb.renderedVariants). */
    readonly renderedVariants: { readonly boundBytes: number; readonly offeredBytes: number };
    readonly tenants: { readonly entries: number; readonly bound: number };
    readonly verifiedTokens: { readonly entries: number; readonly bound: number };
    readonly shardCounts: { readonly entries: number; readonly bound: number };
    readonly knownCampaigns: { readonly entries: number; readonly bound: number };
  };
}

const config: Config = {
  tableName: 'memory',
  currentsBucket: null,
  publicBaseUrl: null,
  // Generous: a GC pause on a busy runner must not turn a request into a fallback (which caches less).
  contentBudgetMs: 30_000,
  assignmentTtlSeconds: 86_400,
  dynamodbEndpoint: null,
  s3Endpoint: null,
  s3Credentials: null,
  region: 'local',
};

/** A 64-character id (the longest the API accepts), so every key is as long as it can be. */
const longId = (prefix: string, i: number) => `${prefix}-${i}-`.padEnd(64, 'z');

// Mostly ASCII with one character above U+00FF: V8 then stores the whole string two bytes per character while
// it costs about one byte of the 300 KB stored-size budget, the most heap a definition can take. Latin-1
// accents (é, ü) alone would keep a string one byte per character.
const MARKERS = ['🎉', '€', '✓', 'Ω', '中'];
const FILLER = 'Exclusive offer for you, open soon! Only today, the best deal of the season. '.repeat(30);

/** A string of at most `units` UTF-16 units and `bytes` UTF-8 bytes, filled to whichever ends first. */
function text(label: string, units: number, bytes: number): string {
  const head = `${label} ${MARKERS[label.length % MARKERS.length]} `;
  const room = Math.min(units - head.length, bytes - Buffer.byteLength(head));
  return head + FILLER.slice(0, Math.max(0, room));
}

/** Fills a variant's share of the stored-size budget: text first, then parts, as defineExperiment counts them. */
function largestVariant(id: string, label: string, budget: number) {
  let left = budget - 120;
  const variantText = text(label, LIMITS.maxTextLength, left);
  left -= Buffer.byteLength(variantText);
  const parts: Record<string, string> = {};
  for (let p = 0; p < LIMITS.maxParts && left > 40 + 16; p++) {
    const part = text(`${label}/${p}`, LIMITS.maxTextLength, left - 40);
    parts[`part_${p}`.padEnd(32, '_')] = part;
    left -= Buffer.byteLength(part) + 40;
  }
  return { id, text: variantText, parts };
}

/**
 * The largest definitions the API accepts, two shapes: 20 active variants sharing the 300 KB, or 20 active
 * and 80 retired (100 in all). Built through defineExperiment, so every limit is checked.
 */
function largestExperiment(tenantId: string, id: string, n: number, now: number): Experiment {
  const wide = n % 2 === 1;
  const total = wide ? LIMITS.maxVariantsIncludingRetired : LIMITS.maxActiveVariants;
  const budget = Math.floor(LIMITS.maxStoredBytes / total);
  const variants = Array.from({ length: total }, (_, v) =>
    largestVariant(longId(`v${v}`, n), `Expérience ${n} variante ${v}`, budget),
  );
  const active = variants.slice(0, LIMITS.maxActiveVariants);
  // Retired variants come from earlier saves: a stand-in predecessor (version 0) holds them.
  const predecessor: Experiment | null = wide
    ? {
        ...defineExperiment(tenantId, id, { variants: variants.slice(0, 2) }, null, now),
        variants: variants
          .slice(LIMITS.maxActiveVariants)
          .map((v) => ({ ...v, control: false, state: 'active' as const })),
        version: 0,
      }
    : null;
  return defineExperiment(tenantId, id, { variants: active }, predecessor, now);
}

/** The stores stand in for DynamoDB: their contents are not the container's memory. */
interface World {
  readonly now: number;
  readonly tenantStore: MemoryTenantStore;
  readonly experiments: MemoryExperimentStore;
  readonly allocations: MemoryAllocationStore;
  readonly ledger: MemoryLedger;
  readonly tokens: readonly string[];
  readonly large: ReadonlyArray<{ tenant: number; id: string }>;
}

async function buildWorld(): Promise<World> {
  const now = nowSeconds();
  const tenantStore = new MemoryTenantStore();
  const experiments = new MemoryExperimentStore();
  const tokens: string[] = [];
  const smallVariants = Array.from({ length: 2 }, (_, v) => ({
    id: longId(`s${v}`, 0),
    text: `Bonjour ${v} 👋`,
  }));
  for (let t = 0; t < TENANTS; t++) {
    const issued = issueTenant(longId('tenant', t), `Folder-${t}.`.padEnd(128, 'x'), now);
    await tenantStore.create(issued.tenant);
    tokens.push(issued.connectToken);
    const small = { variants: smallVariants };
    await experiments.save(defineExperiment(issued.tenant.id, longId('small', t), small, null, now));
  }
  const large: Array<{ tenant: number; id: string }> = [];
  for (let n = 0; n < LARGE_EXPERIMENTS; n++) {
    const tenant = n % LARGE_TENANTS;
    const id = longId('large', n);
    await experiments.save(largestExperiment(longId('tenant', tenant), id, n, now));
    large.push({ tenant, id });
  }
  const allocations = new MemoryAllocationStore(experiments);
  return { now, tenantStore, experiments, allocations, ledger: new MemoryLedger(), tokens, large };
}

/** What one warm Lambda keeps between requests; each piece is dropped in turn to see what it held. */
interface Container {
  tenants: TenantDirectory | null;
  service: ContentService | null;
  handler: ReturnType<typeof httpHandler> | null;
  client: DynamoDBClient | null;
  shards: ShardCounts | null;
  ledger: DynamoDbLedger | null;
  fallbacks: number;
}

/** Built in its own function, so that no local variable of the caller keeps a piece alive once dropped. */
function buildContainer(world: World, raised: boolean): Container {
  const container: Container = {
    tenants: new TenantDirectory(world.tenantStore, nowSeconds),
    service: null,
    handler: null,
    client: null,
    shards: null,
    ledger: null,
    fallbacks: 0,
  };
  const stores = {
    tenants: container.tenants!,
    experiments: world.experiments,
    allocations: world.allocations,
    ledger: world.ledger,
  };
  // As createContentService wires it, with the fallbacks counted (a fallback caches less) and, in the
  // raised-bounds mode, the byte bounds lifted through the service's `cacheBytes` seam.
  container.service = new ContentService({
    ...stores,
    // Counts come from a second, empty fake: the in-memory ledger scans every counter on each read, quadratic
    // over this many sends, and the snapshot a recompute caches has the same shape whatever the counts say.
    counters: new MemoryLedger(),
    delays: world.ledger,
    clock: nowSeconds,
    budgetMs: config.contentBudgetMs,
    assignmentTtlSeconds: config.assignmentTtlSeconds,
    ...(raised ? { cacheBytes: { experiments: RAISED_BYTES, answers: RAISED_BYTES } } : {}),
    onFallback: () => {
      container.fallbacks++;
    },
  });
  container.handler = httpHandler(createSelectContent(config, stores, container.service));
  // The DynamoDB adapters' own caches, on a stub client: a shard count for every read, success for every write.
  container.client = {
    send: async (command: object) =>
      command instanceof GetItemCommand ? { Item: { counter_shards: { N: '8' } } } : {},
  } as unknown as DynamoDBClient;
  container.shards = new ShardCounts(container.client, config.tableName);
  container.ledger = new DynamoDbLedger(container.client, config.tableName, container.shards);
  return container;
}

interface Traffic {
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

async function fillContent(container: Container, world: World, traffic: Traffic) {
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

async function fillAdapters(container: Container, world: World) {
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

/** The product exposes neither the per-map bytes nor the entry counts: read from private fields, for the report. */
interface SizedMap {
  readonly size: number;
}
const internals = <T>(value: unknown) => value as T;
const boundedSize = (map: unknown) => internals<SizedMap>(map).size;

function cacheSizes(container: Container, traffic: Traffic, raised: boolean): ContentMemoryReport['caches'] {
  const content = internals<{
    states: { bytes: number; size: number };
    answers: { bytes: number; size: number };
    recomputeTried: SizedMap;
  }>(container.service);
  const directory = internals<{ cache: unknown; verified: unknown }>(container.tenants);
  return {
    experiments: {
      bytes: content.states.bytes,
      boundBytes: raised ? RAISED_BYTES : CONTENT_CACHE_BYTES.experiments,
      entries: content.states.size,
    },
    answers: {
      bytes: content.answers.bytes,
      boundBytes: raised ? RAISED_BYTES : CONTENT_CACHE_BYTES.answers,
      entries: content.answers.size,
    },
    recomputeTried: { entries: content.recomputeTried.size, bound: 10_000 },
    renderedVariants: {
      boundBytes: RENDERED_CACHE_BYTES,
      offeredBytes: [...traffic.offered.values()].reduce((a, b) => a + b, 0),
    },
    tenants: { entries: boundedSize(directory.cache), bound: 10_000 },
    verifiedTokens: { entries: boundedSize(directory.verified), bound: 1000 },
    shardCounts: {
      entries: boundedSize(internals<{ known: unknown }>(container.shards).known),
      bound: 10_000,
    },
    knownCampaigns: {
      entries: boundedSize(internals<{ knownCampaigns: unknown }>(container.ledger).knownCampaigns),
      bound: 10_000,
    },
  };
}

function heapMb(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  gc();
  return process.memoryUsage().heapUsed / MB;
}

const context = lambdaContext();
const round = (mb: number) => Math.round(mb * 10) / 10;

async function measure(raised: boolean): Promise<ContentMemoryReport> {
  const started = performance.now();
  const world = await buildWorld();
  const before = heapMb();
  const container = buildContainer(world, raised);
  const traffic: Traffic = { requests: 0, failedRequests: 0, offered: new Map() };
  await fillContent(container, world, traffic);
  await fillAdapters(container, world);
  const caches = cacheSizes(container, traffic, raised);
  traffic.offered.clear();

  // Drop the container piece by piece: what each piece frees is what it held.
  const after = heapMb();
  container.handler = null;
  const withoutHandler = heapMb();
  container.service = null;
  const withoutService = heapMb();
  container.tenants = null;
  const withoutTenants = heapMb();
  container.client = null;
  container.shards = null;
  container.ledger = null;
  const withoutAdapters = heapMb();

  return {
    mode: raised ? 'raised-bounds' : 'bounded',
    functionMemoryMb: FUNCTION_MEMORY_MB,
    growthMb: round(after - withoutAdapters),
    seconds: round((performance.now() - started) / 1000),
    requests: traffic.requests,
    failedRequests: traffic.failedRequests,
    fallbacks: container.fallbacks,
    heap: { beforeMb: round(before), afterMb: round(after), fakeStoresMb: round(withoutAdapters - before) },
    heldMb: {
      renderedVariants: round(after - withoutHandler),
      contentService: round(withoutHandler - withoutService),
      tenantDirectory: round(withoutService - withoutTenants),
      dynamoDbAdapters: round(withoutTenants - withoutAdapters),
    },
    caches,
  };
}

const run = promisify(execFile);

/** Runs the measurement in a fresh child process (a clean heap, and gc exposed). */
export async function measureContentMemory(
  options: { raisedBounds?: boolean } = {},
): Promise<ContentMemoryReport> {
  const { stdout } = await run(
    process.execPath,
    [
      '--expose-gc',
      '--max-old-space-size=3072',
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      ...(options.raisedBounds ? ['--raised-bounds'] : []),
    ],
    {
      // `--import tsx` resolves from the working directory: the project's root.
      cwd: join(import.meta.dirname, '..'),
      env: {
        ...process.env,
        WEFT_TABLE: process.env.WEFT_TABLE ?? 'memory',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        POWERTOOLS_METRICS_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      maxBuffer: 1024 * 1024,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ContentMemoryReport;
}

/** `npm run bench memory`: the heap the caches hold, filled past their bounds, against the function's memory. */
export async function benchMemory(): Promise<string[]> {
  const report = await measureContentMemory();
  return [
    ratioLine(
      'content caches heap vs function memory',
      report.growthMb,
      report.functionMemoryMb,
      'MB',
      '≤ 0.5 (DESIGN §9)',
    ),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  measure(process.argv.includes('--raised-bounds')).then(
    (report) => process.stdout.write(`${JSON.stringify(report)}\n`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
