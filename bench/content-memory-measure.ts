// Measuring a container's heap: fill its caches (bench/content-memory-traffic.ts), read what each reports against
// its bound, then drop it piece by piece to see what each piece held. Needs node --expose-gc.
import { CONTENT_CACHE_BYTES } from '../domain/content';
import { RENDERED_CACHE_BYTES } from '../handlers/shared/rendered-variants';
import { fillAdapters, fillContent, type Traffic } from './content-memory-traffic';
import { buildContainer, buildWorld, type Container, MB, RAISED_BYTES } from './content-memory-world';

/** The content function's memory (serverless.yml); the caches together must stay under half of it. */
export const FUNCTION_MEMORY_MB = 512;

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

const round = (mb: number) => Math.round(mb * 10) / 10;

export async function measure(raised: boolean): Promise<ContentMemoryReport> {
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
