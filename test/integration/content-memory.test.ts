// DESIGN §9, "Bounded everything": with every per-container cache of the content function filled past its
// bound by the largest definitions the API accepts, the heap they hold stays under half the function's memory.
// Each measurement runs in a child process of its own (bench/content-memory.ts), both at once: ~30 s.
import { beforeAll, describe, expect, it } from 'vitest';
import { measureContentMemory } from '../../bench/content-memory';
import { type ContentMemoryReport, FUNCTION_MEMORY_MB } from '../../bench/content-memory-measure';
import { CONTENT_CACHE_BYTES } from '../../domain/content';
import { RENDERED_CACHE_BYTES } from '../../handlers/shared/rendered-variants';

const MB = 1024 * 1024;
const LIMIT_MB = FUNCTION_MEMORY_MB / 2;

describe('content function memory, every cache filled with the largest variants', () => {
  let bounded: ContentMemoryReport;
  let raised: ContentMemoryReport;

  beforeAll(async () => {
    [bounded, raised] = await Promise.all([
      measureContentMemory(),
      measureContentMemory({ raisedBounds: true }),
    ]);
  }, 150_000);

  it('fills every cache to its bound: all requests served normally, no fallback', () => {
    const { caches } = bounded;
    expect(bounded.failedRequests).toBe(0);
    expect(bounded.fallbacks).toBe(0);
    expect(caches.experiments.bytes).toBeGreaterThanOrEqual(0.9 * CONTENT_CACHE_BYTES.experiments);
    expect(caches.experiments.bytes).toBeLessThanOrEqual(CONTENT_CACHE_BYTES.experiments);
    expect(caches.answers.bytes).toBeGreaterThanOrEqual(0.9 * CONTENT_CACHE_BYTES.answers);
    expect(caches.answers.bytes).toBeLessThanOrEqual(CONTENT_CACHE_BYTES.answers);
    expect(caches.renderedVariants.offeredBytes).toBeGreaterThan(2 * RENDERED_CACHE_BYTES);
    expect(bounded.heldMb.renderedVariants).toBeGreaterThanOrEqual((0.9 * RENDERED_CACHE_BYTES) / MB);
    for (const cache of [
      caches.recomputeTried,
      caches.tenants,
      caches.verifiedTokens,
      caches.shardCounts,
      caches.knownCampaigns,
    ]) {
      expect(cache.entries).toBe(cache.bound);
    }
  });

  it('holds less than half the function memory, and really holds the filled caches', () => {
    expect(bounded.growthMb).toBeLessThan(LIMIT_MB);
    const byteBoundsMb =
      (CONTENT_CACHE_BYTES.experiments + CONTENT_CACHE_BYTES.answers + RENDERED_CACHE_BYTES) / MB;
    expect(bounded.growthMb).toBeGreaterThan(0.75 * byteBoundsMb);
  });

  it('would fail with the content service unbounded: the same traffic then holds more than the limit', () => {
    expect(raised.failedRequests).toBe(0);
    expect(raised.caches.experiments.bytes).toBeGreaterThan(4 * CONTENT_CACHE_BYTES.experiments);
    expect(raised.caches.answers.bytes).toBeGreaterThan(1.5 * CONTENT_CACHE_BYTES.answers);
    expect(raised.growthMb).toBeGreaterThan(LIMIT_MB);
  });
});
