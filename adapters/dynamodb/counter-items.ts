// Counter items: the attribute each counter of domain/counting.ts is stored under, and how counts are added
// and read back.
import type { Update } from '@aws-sdk/client-dynamodb';
import { COUNTER_FIELDS, type CounterField, type Counts, zeroCounts } from '../../domain/counting';
import { type Item, n, num } from './attributes';

export const COUNTER_ATTRIBUTE: Readonly<Record<CounterField, string>> = {
  sends: 'sends',
  opens: 'opens',
  clicks: 'clicks',
  machineOpens: 'machine_opens',
  machineOnly: 'machine_only',
  beaconClicks: 'beacon_clicks',
  conversions: 'conversions',
  // Short: every counter read carries them, on every row of the window.
  sendSeconds: 'sent_sec',
  sendSecondsSquared: 'sent_sec2',
};

/** An `ADD` of every non-zero increment (a counter missing from an item reads as 0). */
export function counterAdd(
  increments: Partial<Counts>,
): Pick<Update, 'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> {
  const fields = COUNTER_FIELDS.filter((field) => (increments[field] ?? 0) !== 0);
  return {
    UpdateExpression: `ADD ${fields.map((_, i) => `#c${i} :c${i}`).join(', ')}`,
    ExpressionAttributeNames: Object.fromEntries(
      fields.map((field, i) => [`#c${i}`, COUNTER_ATTRIBUTE[field]]),
    ),
    ExpressionAttributeValues: Object.fromEntries(
      fields.map((field, i) => [`:c${i}`, n(increments[field]!)]),
    ),
  };
}

/** The counts a counter item holds. */
export function countsOf(item: Item): Counts {
  const counts = zeroCounts();
  for (const field of COUNTER_FIELDS) counts[field] = num(item, COUNTER_ATTRIBUTE[field]) ?? 0;
  return counts;
}
