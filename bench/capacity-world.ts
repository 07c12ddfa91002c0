// The capacity bench's simulated world: its traffic rates, the clients, meter and clock every container shares
// (Env), a campaign with its seeded history, and the deterministic helpers the seeding and the driver both use.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_OPTIONS } from '../domain/experiment';
import type { Tenant } from '../domain/tenant';
import type { Config } from '../handlers/shared/config';
import type { BillingMeter } from './billing-meter';
import type { Classifier, Tally } from './capacity-tally';

export const TABLE = 'capacity';
export const EMAILS_PER_SECOND = 500_000 / 60;
export const VARIANTS = 10;
/** Content calls per email: subject, body and (for half of the emails) plain text. */
export const CALLS_PER_EMAIL = [2, 3] as const;
/** First opens (pixel) arriving per email sent, for sends of the past hours (opens lag sends). */
export const OPEN_RATE = 0.2;
/**
 * Of those first pixel hits, the share fetched by a machine (Apple Mail Privacy Protection's prefetch at
 * delivery, scanners): counted as machine opens, a cheaper write (no delay-histogram item).
 */
export const MACHINE_OPEN_SHARE = 0.5;
/** Pixel hits of an already counted open (re-opens), per email sent. */
export const REOPEN_RATE = 0.05;
/** Measured window in simulated seconds: one refresh cycle of every container by default. */
export const WINDOW_SECONDS = Number(process.env['WEFT_CAPACITY_SECONDS'] || 5);
/** Requests in flight against DynamoDB Local (two cores). */
export const CONCURRENCY = 64;

/** The experiments' refresh_seconds (the default), also every container's head-read period. */
export const REFRESH_SECONDS = DEFAULT_OPTIONS.refresh_seconds;

/** A tenant's experiment with its seeded history, and the open tokens its pixel hits will use. */
export interface Campaign {
  readonly tenant: Tenant;
  readonly connectToken: string;
  readonly experimentId: string;
  readonly campaignId: string;
  /** Simulated unix seconds of the campaign's first call to weft in this run (its history lies before). */
  readonly start: number;
  /** Tokens of seeded sends not opened yet, and of sends already opened (for re-opens). */
  readonly unopened: string[];
  readonly opened: string[];
  counterRows: number;
}

export interface Env {
  readonly config: Config;
  readonly sizer: DynamoDBClient;
  readonly content: DynamoDBClient;
  readonly pixel: DynamoDBClient;
  readonly meter: BillingMeter;
  readonly classifier: Classifier;
  /** The simulated clock every container reads. */
  now: number;
  tally: Tally | null;
}

/** A small deterministic generator: the same run sends the same traffic. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function limited(tasks: ReadonlyArray<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, tasks.length) }, async () => {
      while (next < tasks.length) await tasks[next++]!();
    }),
  );
}
