// The world a measured container serves — tenants and the largest definitions the API accepts, in the in-memory
// stores standing in for DynamoDB — and the container itself, built as one warm content Lambda keeps it.
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbLedger } from '../adapters/dynamodb/dynamodb-ledger';
import { ShardCounts } from '../adapters/dynamodb/shard-counts';
import {
  MemoryAllocationStore,
  MemoryExperimentStore,
  MemoryLedger,
  MemoryTenantStore,
} from '../adapters/memory/memory-stores';
import { ContentService } from '../domain/content';
import { defineExperiment, type Experiment, LIMITS } from '../domain/experiment';
import { issueTenant } from '../domain/tenant';
import { TenantDirectory } from '../domain/tenant-directory';
import { nowSeconds } from '../domain/time';
import { createSelectContent } from '../handlers/select-content';
import type { Config } from '../handlers/shared/config';
import { httpHandler } from '../handlers/shared/http';

/** Past each count bound (10,000 tenants and recompute marks, 1,000 verified tokens). */
export const TENANTS = 11_000;
/** About five times what the 48 MB experiment cache holds. */
const LARGE_EXPERIMENTS = 400;
const LARGE_TENANTS = 40;

export const MB = 1024 * 1024;
/** The raised-bounds mode: far above anything this traffic can fill. */
export const RAISED_BYTES = 4096 * MB;

export const config: Config = {
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
export const longId = (prefix: string, i: number) => `${prefix}-${i}-`.padEnd(64, 'z');

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
export interface World {
  readonly now: number;
  readonly tenantStore: MemoryTenantStore;
  readonly experiments: MemoryExperimentStore;
  readonly allocations: MemoryAllocationStore;
  readonly ledger: MemoryLedger;
  readonly tokens: readonly string[];
  readonly large: ReadonlyArray<{ tenant: number; id: string }>;
}

export async function buildWorld(): Promise<World> {
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
export interface Container {
  tenants: TenantDirectory | null;
  service: ContentService | null;
  handler: ReturnType<typeof httpHandler> | null;
  client: DynamoDBClient | null;
  shards: ShardCounts | null;
  ledger: DynamoDbLedger | null;
  fallbacks: number;
}

/** Built in its own function, so that no local variable of the caller keeps a piece alive once dropped. */
export function buildContainer(world: World, raised: boolean): Container {
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
