// Braze Currents email engagement as the rest of weft sees it: ids, a time and two flags, nothing personal.
import { recipientDigest } from './recipient';

export type EngagementKind = 'click' | 'open';

/** The only shape of a Currents event that leaves the reader; it carries nothing that identifies a person. */
export interface EngagementEvent {
  /** Currents `id`: the dedupe key, since Currents delivers at least once. */
  eventId: string;
  kind: EngagementKind;
  /** Currents `time`, unix seconds. */
  time: number;
  /** SHA-256 hex of `user_id`; null when it is missing or redacted. */
  recipientDigest: string | null;
  /** `campaign_id`, else `canvas_step_id` (a Canvas step plays the campaign's role). */
  campaignId: string | null;
  /** The `weft` query parameter of the clicked URL (clicks only). */
  trackingToken: string | null;
  /** Click: `is_suspected_bot_click === true`; open: `machine_open === "true"` (e.g. Apple Mail prefetch). */
  suspectedBot: boolean;
}

/** What an object key in the Currents bucket says about the file; `kind` is null for event types weft skips. */
export interface CurrentsKey {
  folder: string;
  eventType: string;
  kind: EngagementKind | null;
}

/**
 * The Currents fields weft reads, by name, as the Avro reader hands them over. Everything else in a record
 * (email address, external id, user agent, …) never reaches this module.
 */
export interface CurrentsEngagementRecord {
  id: string;
  time: number;
  user_id?: string | null;
  campaign_id?: string | null;
  canvas_step_id?: string | null;
  url?: string | null;
  is_suspected_bot_click?: boolean | null;
  /** A string in Braze's schema; a boolean is accepted too in case the type is ever tightened. */
  machine_open?: string | boolean | null;
}

const EVENT_TYPE_PREFIX = 'event_type=';
const KIND_BY_EVENT_TYPE: Readonly<Record<string, EngagementKind>> = {
  'users.messages.email.click': 'click',
  'users.messages.email.open': 'open',
};

/**
 * Reads folder and event type from a (URL-decoded) Currents object key. Braze has used more than one key
 * layout and warns it may change again, so the event type is found by its `event_type=` segment wherever it
 * sits rather than by position.
 */
export function parseCurrentsKey(key: string): CurrentsKey | null {
  const segments = key.split('/');
  const folder = segments[0];
  if (folder === undefined || folder === '' || isEventTypeSegment(folder)) return null;
  const segment = segments.find(isEventTypeSegment);
  if (segment === undefined) return null;
  const eventType = segment.slice(EVENT_TYPE_PREFIX.length);
  if (eventType === '') return null;
  return { folder, eventType, kind: KIND_BY_EVENT_TYPE[eventType.toLowerCase()] ?? null };
}

function isEventTypeSegment(segment: string): boolean {
  return segment.slice(0, EVENT_TYPE_PREFIX.length).toLowerCase() === EVENT_TYPE_PREFIX;
}

const TRACKING_PARAM = 'weft';
const TRACKING_TOKEN = /^[A-Za-z0-9._-]{1,512}$/;
// Click-tracking redirects nest the destination inside a parameter, sometimes encoded twice; three levels
// cover every wrapper seen in practice while keeping hostile input cheap.
const MAX_NESTING = 3;
// Browsers cope with URLs of a few tens of kilobytes; anything longer is not a link a person clicked.
const MAX_URL_LENGTH = 64 * 1024;
const ABSOLUTE_URL = /^https?:\/\//i;
const ENCODED_ABSOLUTE_URL = /^https?%3a%2f%2f/i;

/** The tracking token in a clicked URL's `weft` parameter, looking through click-tracking redirects. */
export function extractTrackingToken(url: string | null | undefined): string | null {
  // The parameter spells `weft` plainly or inside an encoded redirect target (only a percent-encoded name,
  // which no template writes, would not), so links without a token skip URL parsing altogether.
  if (typeof url !== 'string' || url.length > MAX_URL_LENGTH || !url.includes(TRACKING_PARAM)) return null;
  return findToken(url.trim(), 0);
}

function findToken(candidate: string, depth: number): string | null {
  const parsed = parseUrl(candidate);
  if (parsed === null) return null;
  const plain = plainTrackingToken(parsed.search);
  if (plain !== null) return plain;
  const query = parsed.searchParams;
  const direct = firstToken(query);
  if (direct !== null) return direct;
  const fragment = fragmentParameters(parsed.hash);
  const inFragment = fragment === null ? null : firstToken(fragment);
  if (inFragment !== null) return inFragment;
  if (depth >= MAX_NESTING) return null;
  for (const parameters of fragment === null ? [query] : [query, fragment]) {
    for (const [name, value] of parameters) {
      if (name === TRACKING_PARAM) continue;
      const nested = nestedUrl(value);
      if (nested === null) continue;
      const token = findToken(nested, depth + 1);
      if (token !== null) return token;
    }
  }
  return null;
}

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PERCENT = 0x25;

/**
 * The common case, decided without decoding the query: the first `weft` parameter of `search` (a URL's query,
 * `?` included), written as a plain token. Null means undecided (an encoded name before it, an encoded value,
 * or no such parameter), left to URLSearchParams.
 *
 * One forward walk that reads each character once, so a hostile query (`&&&&…`, thousands of names without
 * `=`, runs of `%`) costs time in proportion to its length. Looking ahead for the next `=` or back for a `%`
 * at every parameter, as this once did, made a 64 KB query take most of a second.
 */
export function plainTrackingToken(search: string): string | null {
  let nameStart = 1;
  /** Where the current parameter's name ends (its first `=`); -1 while still reading the name. */
  let nameEnd = -1;
  for (let at = 1; at <= search.length; at++) {
    const code = at === search.length ? AMPERSAND : search.charCodeAt(at);
    if (code === AMPERSAND) {
      const end = nameEnd === -1 ? at : nameEnd;
      if (end - nameStart === TRACKING_PARAM.length && search.startsWith(TRACKING_PARAM, nameStart)) {
        const value = nameEnd === -1 ? '' : search.slice(nameEnd + 1, at);
        return TRACKING_TOKEN.test(value) ? value : null;
      }
      nameStart = at + 1;
      nameEnd = -1;
    } else if (nameEnd === -1) {
      if (code === EQUALS) nameEnd = at;
      // An encoded name might spell `weft`: only URLSearchParams can tell.
      else if (code === PERCENT) return null;
    }
  }
  return null;
}

function firstToken(parameters: URLSearchParams): string | null {
  for (const value of parameters.getAll(TRACKING_PARAM)) {
    if (TRACKING_TOKEN.test(value)) return value;
  }
  return null;
}

/** A single-page app's link can carry its query after the hash (`/#/sale?weft=…`). */
function fragmentParameters(hash: string): URLSearchParams | null {
  if (!hash.includes(TRACKING_PARAM)) return null;
  const query = hash.indexOf('?');
  return new URLSearchParams(query === -1 ? hash.slice(1) : hash.slice(query + 1));
}

/** A parameter value that is itself a URL, undoing one extra layer of percent-encoding if needed. */
function nestedUrl(value: string): string | null {
  const trimmed = value.trim();
  if (ABSOLUTE_URL.test(trimmed)) return trimmed;
  if (!ENCODED_ABSOLUTE_URL.test(trimmed)) return null;
  try {
    return decodeURIComponent(trimmed);
  } catch {
    return null;
  }
}

function parseUrl(candidate: string): URL | null {
  if (!ABSOLUTE_URL.test(candidate)) return null;
  try {
    return new URL(candidate);
  } catch {
    return null;
  }
}

/** Reduces a Currents record to the engagement event weft keeps; the raw user id only passes through a hash. */
export function toEngagementEvent(kind: EngagementKind, record: CurrentsEngagementRecord): EngagementEvent {
  const userId = nonEmpty(record.user_id);
  return {
    eventId: record.id,
    kind,
    time: record.time,
    recipientDigest: userId === null ? null : recipientDigest(userId),
    campaignId: nonEmpty(record.campaign_id) ?? nonEmpty(record.canvas_step_id),
    trackingToken: kind === 'click' ? extractTrackingToken(record.url) : null,
    suspectedBot:
      kind === 'click'
        ? record.is_suspected_bot_click === true
        : record.machine_open === true ||
          (typeof record.machine_open === 'string' && record.machine_open.toLowerCase() === 'true'),
  };
}

function nonEmpty(value: string | null | undefined): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
