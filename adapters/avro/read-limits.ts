// The caller's limits on one Currents file, checked and filled with defaults before anything is read.

export interface CurrentsReadLimits {
  /** Largest block, compressed or not, and largest file header (default 16 MiB). */
  maxBlockBytes?: number;
  /** Largest string or bytes value in a record (default 1 MiB; Braze drops events over 900 KB). */
  maxStringBytes?: number;
  /** Most events one file may declare (default 2,000,000). */
  maxEvents?: number;
}

/** CurrentsReadLimits with every limit set. */
export interface Limits {
  maxBlockBytes: number;
  maxStringBytes: number;
  maxEvents: number;
}

const DEFAULT_LIMITS: Limits = {
  maxBlockBytes: 16 * 1024 * 1024,
  maxStringBytes: 1024 * 1024,
  maxEvents: 2_000_000,
};

export function resolveLimits(limits: CurrentsReadLimits): Limits {
  const resolved = { ...DEFAULT_LIMITS };
  for (const name of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = limits[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`${name} must be a positive integer`);
    }
    resolved[name] = value;
  }
  return resolved;
}
