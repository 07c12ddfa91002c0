// Client for the admin JSON API on this origin: bearer token from the state, errors as short readable text.
import { truncate } from './format.js';
import { state } from './state.js';

/** The API's largest page: the fewest round trips for the whole list. */
const EXPERIMENTS_PAGE_SIZE = 100;

/** Everything before `/dashboard` in the page's path, so the page also works behind a stage prefix. */
export const BASE_PATH = location.pathname.replace(/\/dashboard\/?.*$/, '');

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Server text is shown to people: never echo the token, never dump JSON, keep it short. */
function scrub(text) {
  let value = String(text ?? '');
  if (state.token) value = value.split(state.token).join('•••');
  return truncate(value.replace(/\s+/g, ' ').trim(), 240);
}

export function describeError(status, serverMessage) {
  if (status >= 500) return `The weft API had a problem (HTTP ${status}). The page will try again shortly.`;
  if (status === 401) return 'The admin token was not accepted. Check it and sign in again.';
  const [title, fallback] = {
    400: ['The request was rejected', 'check the values and try again.'],
    403: ['Not allowed', 'this token may not do that.'],
    404: ['Not found', 'this experiment does not exist for this tenant.'],
    405: ['Not allowed', 'the API does not offer that action.'],
    409: ['Conflict', 'the experiment changed meanwhile; refresh and try again.'],
    413: ['Too large', 'the request was too large.'],
    429: ['Busy', 'too many requests; the page will try again shortly.'],
  }[status] ?? [`The request failed (HTTP ${status})`, 'try again.'];
  const detail = serverMessage ? scrub(serverMessage) : '';
  return `${title}: ${detail || fallback}`;
}

export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json', Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`${BASE_PATH}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(
      0,
      'network',
      'Could not reach the weft API. Check your connection; the page keeps trying.',
    );
  }
  const text = await response.text();
  let payload = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const error = payload && typeof payload.error === 'object' ? payload.error : {};
    throw new ApiError(response.status, error.code ?? '', describeError(response.status, error.message));
  }
  return payload;
}

export const experimentPath = (id) => `/v1/experiments/${encodeURIComponent(id)}`;

/** Every experiment of the tenant: the list is paged, so follow `next_cursor` until the last page. */
export async function fetchAllExperiments() {
  const all = [];
  const seen = new Set();
  let cursor = null;
  do {
    const query = new URLSearchParams({ limit: String(EXPERIMENTS_PAGE_SIZE) });
    if (cursor) query.set('cursor', cursor);
    const payload = await api(`/v1/experiments?${query}`);
    if (Array.isArray(payload?.experiments)) all.push(...payload.experiments);
    cursor = typeof payload?.next_cursor === 'string' ? payload.next_cursor : null;
    // A cursor seen before would loop for ever; stop with what we have.
    if (cursor && seen.has(cursor)) break;
    if (cursor) seen.add(cursor);
  } while (cursor);
  return all;
}
