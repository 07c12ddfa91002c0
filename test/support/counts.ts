// A counter row as the tests expect it: every counter zero but sends, opens and clicks, with the send times the
// ledger records (domain/counting.ts sendIncrements) for sends made at the given seconds of their bucket.
import { type Counts, zeroCounts } from '../../domain/counting';

export const counts = (sends: number, opens: number, clicks: number, ...sentAt: number[]): Counts => ({
  ...zeroCounts(),
  sends,
  opens,
  clicks,
  sendSeconds: sentAt.reduce((sum, second) => sum + second + 1, 0),
  sendSecondsSquared: sentAt.reduce((sum, second) => sum + (second + 1) ** 2, 0),
});
