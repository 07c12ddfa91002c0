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
 * Insertion-ordered entries with O(1) eviction of the oldest. (Evicting through `map.keys().next()` costs V8 a
 * walk over every deleted slot still in the table: ~25 µs per set at 30,000 entries, on the hot path.) A queue
 * of (key, sequence) pairs remembers the order; entries replaced or deleted since leave stale queue slots, skipped
 * on eviction and dropped when the queue compacts.
 */
class FifoEntries<V> {
  private readonly map = new Map<string, { value: V; bytes: number; seq: number }>();
  private keys: string[] = [];
  private seqs: number[] = [];
  private head = 0;
  private seq = 0;
  total = 0;

  get(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  get size(): number {
    return this.map.size;
  }

  add(key: string, value: V, bytes: number): void {
    this.delete(key);
    this.seq += 1;
    this.map.set(key, { value, bytes, seq: this.seq });
    this.keys.push(key);
    this.seqs.push(this.seq);
    this.total += bytes;
    if (this.keys.length - this.head > 2 * this.map.size + 1024) this.compact();
  }

  delete(key: string): void {
    const entry = this.map.get(key);
    if (!entry) return;
    this.map.delete(key);
    this.total -= entry.bytes;
  }

  evictOldest(): void {
    while (this.head < this.keys.length) {
      const key = this.keys[this.head]!;
      const seq = this.seqs[this.head++];
      const entry = this.map.get(key);
      if (entry && entry.seq === seq) {
        this.map.delete(key);
        this.total -= entry.bytes;
        break;
      }
    }
    if (this.head > 1024 && this.head * 2 > this.keys.length) this.compact();
  }

  private compact(): void {
    const keys: string[] = [];
    const seqs: number[] = [];
    for (let i = this.head; i < this.keys.length; i++) {
      if (this.map.get(this.keys[i]!)?.seq !== this.seqs[i]) continue;
      keys.push(this.keys[i]!);
      seqs.push(this.seqs[i]!);
    }
    this.keys = keys;
    this.seqs = seqs;
    this.head = 0;
  }
}

/**
 * A map with a size bound that forgets its oldest entries first. Reads do not reorder (unlike an LRU): on the
 * hot path a hit must cost one lookup, and recipients are asked for a few message fields within seconds.
 */
export class BoundedMap<V> {
  private readonly entries = new FifoEntries<V>();
  constructor(private readonly maxEntries: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    this.entries.add(key, value, 0);
    if (this.entries.size > this.maxEntries) this.entries.evictOldest();
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * A map bounded in bytes: each entry declares its size (an upper estimate of what it keeps alive), and the
 * oldest entries go first once the total passes `maxBytes`. Reads do not reorder, as for BoundedMap.
 */
export class ByteBoundedMap<V> {
  private readonly entries = new FifoEntries<V>();
  constructor(readonly maxBytes: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V, bytes: number): void {
    const size = bytes + key.length * 2 + ENTRY_OVERHEAD_BYTES;
    if (size > this.maxBytes) {
      this.entries.delete(key);
      return;
    }
    this.entries.add(key, value, size);
    while (this.entries.total > this.maxBytes) this.entries.evictOldest();
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get bytes(): number {
    return this.entries.total;
  }

  get size(): number {
    return this.entries.size;
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
