// Minimal typed marshalling for the few attribute shapes weft stores.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

export const s = (value: string): AttributeValue => ({ S: value });
export const n = (value: number): AttributeValue => ({ N: String(value) });

export function key(k: { pk: string; sk: string }): Item {
  return { pk: s(k.pk), sk: s(k.sk) };
}

export function str(item: Item | undefined, name: string): string | null {
  const value = item?.[name];
  return value && 'S' in value && value.S !== undefined ? value.S : null;
}

export function num(item: Item | undefined, name: string): number | null {
  const value = item?.[name];
  return value && 'N' in value && value.N !== undefined ? Number(value.N) : null;
}
