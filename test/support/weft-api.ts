// A small typed client for the local stack's public HTTP API (DESIGN §3), shared by the e2e tests that drive
// content, the pixel, the landing beacon and the report: one place for the request shapes they all use.
import { createHash, randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { LocalStack } from './local-stack';

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** An experiment id of its own for each run: a count that is not 201/exact then says something about this run. */
export const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex')}`;

/** The content answer (GET /v1/content). */
export interface ContentAnswer {
  experiment: string;
  variant: string | null;
  text: string;
  parts: Record<string, string>;
  token: string | null;
  pixel_url: string | null;
  link_param: string;
  fallback: boolean;
}

export interface Served {
  status: number;
  /** Null when the answer was not JSON (a 504 from the emulator, say); `raw` then holds its text. */
  body: ContentAnswer | null;
  raw: string;
}

export interface ReportVariant {
  id: string;
  text: string;
  state: 'active' | 'retired';
  sends: number;
  opens: number;
  machine_opens: number;
  observable_sends: number;
  clicks: number;
  beacon_clicks: number;
  currents_clicks: number;
  conversions: number;
  open_rate: number | null;
  observable_open_rate: number | null;
  click_rate: number | null;
  conversion_rate: number | null;
  allocation: number;
}

export interface Report {
  experiment: string;
  metric: string;
  status: 'running' | 'paused' | 'finished';
  winner: string | null;
  has_data: boolean;
  leader: string | null;
  variants: ReportVariant[];
}

export interface IngestionFile {
  key: string;
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  events: number;
  attributed: number;
  duplicates: number;
  bots: number;
}

export interface EventAnswer {
  status: number;
  body: unknown;
}

export function weftApi(stack: LocalStack) {
  const admin = { authorization: `Bearer ${stack.tenantFile.admin_token}` };
  const connect = { authorization: `Bearer ${stack.tenantFile.connect_token}` };

  const adminJson = async <T>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${stack.baseUrl}${path}`, {
      method,
      headers: { ...admin, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
    return { status: response.status, body: JSON.parse(text) as T };
  };

  return {
    /** PUT /v1/experiments/{id}; returns the status (201 created, 200 updated). */
    async putExperiment(id: string, definition: Record<string, unknown>): Promise<number> {
      return (await adminJson('PUT', `/v1/experiments/${id}`, definition)).status;
    },

    async setStatus(id: string, status: 'running' | 'paused' | 'finished', winner?: string): Promise<number> {
      const body = winner === undefined ? { status } : { status, winner };
      return (await adminJson('POST', `/v1/experiments/${id}/status`, body)).status;
    },

    async report(id: string): Promise<Report> {
      return (await adminJson<Report>('GET', `/v1/experiments/${id}/report`)).body;
    },

    async ingestion(): Promise<IngestionFile[]> {
      return (await adminJson<{ files: IngestionFile[] }>('GET', '/v1/ingestion')).body.files;
    },

    /** One Connected Content call as Braze makes it (recipient already hashed, as `| sha2` does). */
    async content(experiment: string, recipientDigest: string, campaign?: string): Promise<Served> {
      const query = new URLSearchParams({ experiment, recipient: recipientDigest });
      if (campaign) query.set('campaign', campaign);
      const response = await fetch(`${stack.baseUrl}/v1/content?${query}`, { headers: connect });
      const raw = await response.text();
      let body: ContentAnswer | null = null;
      try {
        body = JSON.parse(raw) as ContentAnswer;
      } catch {
        body = null;
      }
      return { status: response.status, body: response.status === 200 ? body : null, raw };
    },

    /** POST /v1/events; `server` posts with the connect token as the customer's server would. */
    async postEvent(
      token: string,
      type: 'click' | 'conversion',
      options: { server?: boolean; userAgent?: string } = {},
    ): Promise<EventAnswer> {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.server) Object.assign(headers, connect);
      if (options.userAgent) headers['user-agent'] = options.userAgent;
      const response = await fetch(`${stack.baseUrl}/v1/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ token, type }),
      });
      const text = await response.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as text.
      }
      return { status: response.status, body };
    },
  };
}

export type WeftApi = ReturnType<typeof weftApi>;

/** `size` calls at a time, in order. */
export async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size)
    results.push(...(await Promise.all(items.slice(i, i + size).map(work))));
  return results;
}

/** Sleeps until the wall clock reaches `epochMs` (at once if it already has). */
export async function sleepUntil(epochMs: number): Promise<void> {
  const wait = epochMs - Date.now();
  if (wait > 0) await delay(wait);
}

/** The figures of each variant a test asserts, by variant id. */
export function byVariant<K extends keyof ReportVariant>(
  report: Report,
  fields: readonly K[],
): Record<string, Pick<ReportVariant, K>> {
  return Object.fromEntries(
    report.variants.map((v) => [
      v.id,
      Object.fromEntries(fields.map((f) => [f, v[f]])) as Pick<ReportVariant, K>,
    ]),
  );
}

/**
 * The token with one character of its signature (the last dot-separated part) changed. The first character,
 * not the last: a 16-byte signature's last base64url character carries padding bits a decoder may ignore.
 */
export function forgeToken(token: string): string {
  const at = token.lastIndexOf('.') + 1;
  const original = token[at]!;
  const replacement = original === 'A' ? 'B' : 'A';
  return token.slice(0, at) + replacement + token.slice(at + 1);
}
