// The ReturnConsumedCapacity cross-check: what DynamoDB reports it consumed, beside the units our rules compute
// for the same commands (per command, and for transactions also by DynamoDB Local's own way of adding items).
import type { BilledCommand } from './billing-units';

/** What DynamoDB reported as consumed (ConsumedCapacity, one object or one per table), or null. */
export function reportedUnits(output: unknown): number | null {
  const consumed = (output as { ConsumedCapacity?: unknown } | undefined)?.ConsumedCapacity;
  if (!consumed) return null;
  const list = (Array.isArray(consumed) ? consumed : [consumed]) as Array<{
    CapacityUnits?: number;
    ReadCapacityUnits?: number;
    WriteCapacityUnits?: number;
  }>;
  return list.reduce(
    (sum, c) => sum + (c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0)),
    0,
  );
}

/** A command's totals as the meter keeps them: the part the cross-check compares. */
export interface ReportedTotals {
  readonly failed: number;
  /** Over the commands DynamoDB reported on: its figure, and ours for the same commands. */
  readonly reported: number;
  readonly computedWhereReported: number;
}

export interface Agreement {
  /** Per command DynamoDB reported on, its units over ours; for TransactWriteItems also over Local's rule. */
  readonly ratios: ReadonlyArray<{
    readonly command: string;
    readonly ratio: number;
    readonly localRule: number | null;
  }>;
  /** Failed commands: DynamoDB reports nothing for them. */
  readonly failed: number;
}

/**
 * DynamoDB Local applies the transactional 2× but adds items of equal unit count once ([1 KB, 1 KB] → 2 units,
 * [2 KB, 1 KB] → 6): our item sizes are checked against that rule too. Feed it every billed command.
 */
export class ConsumedCapacityCheck {
  private readonly localRule = { reported: 0, ours: 0 };

  observe(billed: BilledCommand): void {
    if (billed.command !== 'TransactWriteItems' || billed.reportedUnits === null) return;
    this.localRule.reported += billed.reportedUnits;
    this.localRule.ours +=
      2 * [...new Set(billed.charges.map((c) => c.writeUnits / 2))].reduce((a, b) => a + b, 0);
  }

  compare(commands: ReadonlyMap<string, ReportedTotals>): Agreement {
    const ratios: Array<Agreement['ratios'][number]> = [];
    let failed = 0;
    for (const [command, totals] of commands) {
      failed += totals.failed;
      if (totals.computedWhereReported === 0) continue;
      ratios.push({
        command,
        ratio: totals.reported / totals.computedWhereReported,
        localRule: command === 'TransactWriteItems' ? this.localRule.reported / this.localRule.ours : null,
      });
    }
    return { ratios, failed };
  }
}
