// The two adapters of a port, built fresh for every contract case: the in-memory fake, and the DynamoDB adapter
// on a new table of the run's DynamoDB Local. A case that passes on one and fails on the other is a fake to fix.
import { freshTable } from '../support/dynamodb';

export type LocalTable = Awaited<ReturnType<typeof freshTable>>;

export function bothAdapters<T>(
  memory: () => T,
  dynamodb: (table: LocalTable) => T,
): Array<[name: 'memory' | 'dynamodb', make: () => Promise<T>]> {
  return [
    ['memory', async () => memory()],
    ['dynamodb', async () => dynamodb(await freshTable())],
  ];
}

/** Sorts a copy by the given key: the ports promise sets, not an order, where DynamoDB returns scan or hash order. */
export function sortedBy<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  return [...items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}
