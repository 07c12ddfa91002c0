// DynamoDB item sizes by the service's rules (AWS Developer Guide, "DynamoDB item sizes and formats"), and the
// item an UpdateExpression leaves, so the meter can size a write before it reads the item back.
//
// item size = Σ attribute name bytes + value bytes (strings UTF-8, numbers ≈ 1 byte per 2 significant digits + 1,
// binary raw bytes, null/bool 1, list/map 3 + 1 per element + elements).
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

export function numberBytes(value: string): number {
  const significant = value
    .replace(/^[+-]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, significant.length) / 2) + 1;
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

export function valueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberBytes(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueBytes(v), 0);
  if (value.M !== undefined)
    return 3 + Object.entries(value.M).reduce((sum, [name, v]) => sum + 1 + utf8(name) + valueBytes(v), 0);
  return 0;
}

export function itemBytes(item: Item | null | undefined): number {
  if (!item) return 0;
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) bytes += utf8(name) + valueBytes(value);
  return bytes;
}

/**
 * The item an UpdateExpression leaves, for the expressions this service writes (SET path = :value, ADD path
 * :number-or-set, REMOVE path, on top-level attributes); undefined for anything else (the meter then reads the
 * item back).
 */
export function applyUpdate(
  before: Item | null,
  key: Item,
  expression: string,
  names: Record<string, string> = {},
  values: Item = {},
): Item | undefined {
  const item: Item = { ...(before ?? {}), ...key };
  const clauses = expression.split(/\b(SET|ADD|REMOVE|DELETE)\b/i).slice(1);
  const path = (text: string) => {
    const trimmed = text.trim();
    if (/[.[\]()]/.test(trimmed)) return undefined;
    return trimmed.startsWith('#') ? names[trimmed] : trimmed;
  };
  for (let i = 0; i < clauses.length; i += 2) {
    const verb = clauses[i]!.toUpperCase();
    for (const action of (clauses[i + 1] ?? '').split(',')) {
      if (action.trim() === '') continue;
      if (verb === 'SET') {
        const [left, right] = action.split('=');
        const name = path(left ?? '');
        const value = values[(right ?? '').trim()];
        if (!name || !value) return undefined;
        item[name] = value;
      } else if (verb === 'ADD') {
        const [left, right] = action.trim().split(/\s+/);
        const name = path(left ?? '');
        const value = values[right ?? ''];
        if (!name || !value) return undefined;
        const current = item[name];
        if (value.N !== undefined) {
          item[name] = { N: String(Number(current?.N ?? 0) + Number(value.N)) };
        } else if (value.SS !== undefined) {
          item[name] = { SS: [...new Set([...(current?.SS ?? []), ...value.SS])] };
        } else if (value.NS !== undefined) {
          item[name] = { NS: [...new Set([...(current?.NS ?? []), ...value.NS])] };
        } else return undefined;
      } else if (verb === 'REMOVE') {
        const name = path(action);
        if (!name) return undefined;
        delete item[name];
      } else return undefined;
    }
  }
  return item;
}
