import { setMaxListeners } from 'node:events';

// Small caches for the hot path: a warm container answers from memory and refreshes in the background.

/**
 * Stale-while-revalidate: a fresh entry is served as is; a stale one is served at once while one background
 * load replaces it; only a missing entry waits for its load. A failed load keeps the old value, so a store
 * outage serves the last known state instead of errors.
 */
export class RefreshingCache<V> {
  private readonly entries = new Map<string, { value: V; loadedAt: number; refreshing?: Promise<void> }>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly onBackgroundError: (error: unknown) => void = () => {},
  ) {}

  async get(key: string, load: () => Promise<V>, now: number, maxAgeSeconds: number): Promise<V> {
    const entry = this.entries.get(key);
    if (!entry) {
      const value = await load();
      this.set(key, value, now);
      return value;
    }
    if (now - entry.loadedAt >= maxAgeSeconds && !entry.refreshing) {
      entry.refreshing = load().then(
        (value) => this.set(key, value, now),
        (error) => {
          entry.refreshing = undefined;
          this.onBackgroundError(error);
        },
      );
    }
    return entry.value;
  }

  /** The value if it is younger than `maxAgeSeconds`: the synchronous fast path of `get`. */
  fresh(key: string, now: number, maxAgeSeconds: number): V | undefined {
    const entry = this.entries.get(key);
    return entry && now - entry.loadedAt < maxAgeSeconds ? entry.value : undefined;
  }

  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  set(key: string, value: V, now: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, loadedAt: now });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/**
 * A map with a size bound that forgets its oldest entries first. Reads do not reorder (unlike an LRU): on the
 * hot path a hit must cost one lookup, and recipients are asked for a few message fields within seconds.
 */
export class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly maxEntries: number) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
  }
}

/**
 * A map bounded in bytes: each entry declares its size (an upper estimate of what it keeps alive), and the
 * oldest entries go first once the total passes `maxBytes`. Reads do not reorder, as for BoundedMap.
 */
export class ByteBoundedMap<V> {
  private readonly map = new Map<string, { value: V; bytes: number }>();
  private total = 0;
  constructor(readonly maxBytes: number) {}

  get(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  set(key: string, value: V, bytes: number): void {
    this.delete(key);
    const size = bytes + key.length * 2 + ENTRY_OVERHEAD_BYTES;
    if (size > this.maxBytes) return;
    this.map.set(key, { value, bytes: size });
    this.total += size;
    while (this.total > this.maxBytes) this.delete(this.map.keys().next().value as string);
  }

  delete(key: string): void {
    const entry = this.map.get(key);
    if (!entry) return;
    this.map.delete(key);
    this.total -= entry.bytes;
  }

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    return this.map.size;
  }
}

/** What a Map entry and its small wrapper object cost V8, roughly: counted so many tiny entries stay bounded. */
const ENTRY_OVERHEAD_BYTES = 96;

/** Upper estimate of the heap a JSON-shaped value keeps alive (strings as two bytes per character). */
export function approximateBytes(value: unknown): number {
  if (typeof value === 'string') return 16 + value.length * 2;
  if (typeof value !== 'object' || value === null) return 16;
  let bytes = 32;
  if (Array.isArray(value)) {
    for (const item of value) bytes += 8 + approximateBytes(item);
    return bytes;
  }
  for (const [key, item] of Object.entries(value)) bytes += 16 + key.length * 2 + approximateBytes(item);
  return bytes;
}

/** Runs a store call with a deadline: the call is aborted and the promise rejects when time runs out. */
export async function withDeadline<T>(
  deadlineMs: number,
  call: (signal: AbortSignal) => Promise<T>,
  onTimeout: () => Error,
): Promise<T> {
  const remaining = deadlineMs - Date.now();
  if (remaining <= 0) throw onTimeout();
  const controller = new AbortController();
  // One request's signal may guard many parallel calls (a recompute reads every counter shard at once).
  setMaxListeners(1000, controller.signal);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(onTimeout());
    }, remaining);
  });
  try {
    return await Promise.race([call(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
