// The per-container caches: bounded in entries or bytes, oldest first out, reads never reorder.
import { describe, expect, it } from 'vitest';
import { approximateBytes, BoundedMap, ByteBoundedMap } from '../../domain/cache';

describe('BoundedMap', () => {
  it('keeps at most maxEntries, forgetting the oldest first; setting a key again makes it the newest', () => {
    const map = new BoundedMap<number>(3);
    for (const key of ['a', 'b', 'c']) map.set(key, 1);
    map.set('a', 2); // a is now the newest
    map.set('d', 1);
    expect(map.get('b')).toBeUndefined();
    expect([map.get('a'), map.get('c'), map.get('d')]).toEqual([2, 1, 1]);
    expect(map.size).toBe(3);
  });

  it('stays exact through many replacements and evictions (the eviction queue compacts)', () => {
    const map = new BoundedMap<number>(100);
    for (let i = 0; i < 50_000; i++) map.set(`k${i % 150}`, i);
    expect(map.size).toBe(100);
    // The last 100 keys written are the ones kept.
    for (let i = 49_900; i < 50_000; i++) expect(map.get(`k${i % 150}`)).toBe(i);
  });
});

describe('ByteBoundedMap', () => {
  it('bounds the declared bytes, counting keys and per-entry overhead, oldest out first', () => {
    const map = new ByteBoundedMap<string>(2_000);
    for (let i = 0; i < 100; i++) map.set(`key-${i}`, 'v', 100);
    expect(map.bytes).toBeLessThanOrEqual(2_000);
    expect(map.size).toBeGreaterThan(5);
    expect(map.get('key-0')).toBeUndefined();
    expect(map.get('key-99')).toBe('v');
  });

  it('refuses an entry larger than the whole bound, and replacing an entry replaces its bytes', () => {
    const map = new ByteBoundedMap<string>(1_000);
    map.set('big', 'x', 5_000);
    expect(map.get('big')).toBeUndefined();
    map.set('k', 'small', 10);
    const small = map.bytes;
    map.set('k', 'larger', 500);
    expect(map.bytes - small).toBe(490);
    map.delete('k');
    expect(map.bytes).toBe(0);
  });

  it('estimates UTF-16 strings at two bytes a character, nested objects included', () => {
    expect(approximateBytes('abcd')).toBe(16 + 8);
    expect(approximateBytes({ text: 'x'.repeat(1000) })).toBeGreaterThan(2000);
  });
});
