// Time in weft is unix seconds; counters bucket sends by the hour they were made.
export const HOUR = 3600;

export function hourOf(unixSeconds: number): number {
  return Math.floor(unixSeconds / HOUR) * HOUR;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
