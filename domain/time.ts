// Time in weft is unix seconds. Counters bucket sends by the ten minutes they were made in: fine enough for
// the delay correction to know how old unrewarded sends are (hourly buckets mislead it, see README).
export const HOUR = 3600;
export const SEND_BUCKET_SECONDS = 600;

export function hourOf(unixSeconds: number): number {
  return Math.floor(unixSeconds / HOUR) * HOUR;
}

export function sendBucketOf(unixSeconds: number): number {
  return Math.floor(unixSeconds / SEND_BUCKET_SECONDS) * SEND_BUCKET_SECONDS;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
