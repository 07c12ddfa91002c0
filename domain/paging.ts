// Paging of the experiments list: the page-size rule and the cursor. A cursor is opaque to clients (base64url of
// the last experiment id a page returned); stores turn it back into a start key inside the caller's own tenant.
import { ValidationError } from './errors';
import { validateExperimentId } from './experiment';

export const PAGE_LIMIT = { min: 1, max: 100, default: 50 } as const;

/** Longest cursor a client can be handed: base64url of a 64-character id, with room to spare. */
export const MAX_CURSOR_LENGTH = 128;

export interface PageRequest {
  /** Already validated: PAGE_LIMIT.min–PAGE_LIMIT.max. */
  readonly limit: number;
  /** As the client sent it (opaque); null for the first page. */
  readonly cursor: string | null;
}

/** `?limit=` as given (null when absent) → the page size; anything but an integer in range is a 400 naming it. */
export function parseLimit(raw: string | null): number {
  if (raw === null) return PAGE_LIMIT.default;
  const limit = /^\d{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(limit >= PAGE_LIMIT.min && limit <= PAGE_LIMIT.max))
    throw new ValidationError('limit', `must be an integer from ${PAGE_LIMIT.min} to ${PAGE_LIMIT.max}`);
  return limit;
}

export function encodeCursor(lastExperimentId: string): string {
  return Buffer.from(lastExperimentId, 'utf8').toString('base64url');
}

/** The experiment id a cursor stands for. Only the canonical encoding of a valid id is accepted. */
export function decodeCursor(cursor: string): string {
  const invalid = () => new ValidationError('cursor', 'is not a cursor this API handed out');
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(cursor)) throw invalid();
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (encodeCursor(id) !== cursor) throw invalid();
  try {
    return validateExperimentId(id, 'cursor');
  } catch {
    throw invalid();
  }
}
