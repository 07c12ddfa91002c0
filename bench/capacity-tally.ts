// What the capacity bench counts: which item each billed charge fell on (by the adapter's own key builders), and
// the units by category, by client and by partition and simulated second.
import { COUNTER_SHARDS, DELAY_SHARDS, keys } from '../adapters/dynamodb/keys';
import type { BilledCommand, Charge } from './billing-units';

export type Category =
  | 'tenant'
  | 'definition'
  | 'head'
  | 'settled'
  | 'counter'
  | 'delay'
  | 'assignment'
  | 'campaign link'
  | 'other';

export const RECOMPUTE_READS: ReadonlySet<Category> = new Set(['counter', 'settled', 'delay']);
export const RECOMPUTE_WRITES: ReadonlySet<Category> = new Set(['head', 'settled']);

/** Which item a charge fell on, from the adapter's own key builders. */
export class Classifier {
  private readonly exact = new Map<string, Category>();
  private readonly prefixes: Array<[string, Category]> = [];
  private readonly heads = new Map<string, string>();

  add(campaign: {
    readonly tenant: { readonly id: string };
    readonly experimentId: string;
    readonly campaignId: string;
  }) {
    const t = campaign.tenant.id;
    const e = campaign.experimentId;
    this.exact.set(keys.tenant(t).pk, 'tenant');
    this.exact.set(keys.experimentPk(t), 'definition');
    this.heads.set(keys.head(t, e).pk, keys.head(t, e).sk);
    this.exact.set(keys.campaignPk(t, campaign.campaignId), 'campaign link');
    for (let shard = 0; shard < COUNTER_SHARDS; shard++)
      this.exact.set(keys.counterPk(t, e, shard), 'counter');
    for (const kind of ['open', 'click'])
      for (let shard = 0; shard < DELAY_SHARDS; shard++)
        this.exact.set(keys.delayPk(t, kind, shard), 'delay');
    this.prefixes.push([keys.assignment(t, e, '').pk, 'assignment']);
  }

  of(charge: Charge): Category {
    const head = this.heads.get(charge.partitionKey);
    if (head !== undefined) return charge.sortKey === null || charge.sortKey === head ? 'head' : 'settled';
    const exact = this.exact.get(charge.partitionKey);
    if (exact) return exact;
    for (const [prefix, category] of this.prefixes)
      if (charge.partitionKey.startsWith(prefix)) return category;
    return 'other';
  }
}

/** Everything billed while it listens, by category, source and simulated second. */
export class Tally {
  emails = 0;
  contentCalls = 0;
  pixelHits = 0;
  fallbacks = 0;
  errors = 0;
  readonly reads = new Map<Category, number>();
  readonly writes = new Map<Category, number>();
  readonly contentReads = new Map<Category, number>();
  /** Head reads by content containers: each is one container refresh. */
  refreshes = 0;
  /** Settled-sums reads: each recompute makes exactly one. */
  recomputes = 0;
  /** Units of the transactions a send and its first rewards need: the floor for write units. */
  minimumWrites = 0;
  /** Units of writes that failed their condition or were cancelled. */
  failedWrites = 0;
  readonly perSecond = new Map<string, { read: number; write: number }>();

  constructor(
    private readonly classify: Classifier,
    private readonly second: () => number,
  ) {}

  record(billed: BilledCommand) {
    const categories = billed.charges.map((c) => this.classify.of(c));
    billed.charges.forEach((c, i) => {
      const category = categories[i]!;
      add(this.reads, category, c.readUnits);
      add(this.writes, category, c.writeUnits);
      if (billed.source === 'content') add(this.contentReads, category, c.readUnits);
      const slot = `${c.partitionKey}\u0000${this.second()}`;
      const units = this.perSecond.get(slot) ?? { read: 0, write: 0 };
      units.read += c.readUnits;
      units.write += c.writeUnits;
      this.perSecond.set(slot, units);
      if (c.action === 'Get' && category === 'head' && billed.source === 'content') this.refreshes++;
      if (c.action === 'Get' && category === 'settled') this.recomputes++;
    });
    if (billed.failed) this.failedWrites += billed.writeUnits;
    if (billed.command !== 'TransactWriteItems' || billed.failed) return;
    const [first, second] = billed.charges;
    if (first && categories[0] === 'assignment' && first.action === 'Put') {
      // A send (assignment + counter), or a send recorded with its first reward (all of it).
      this.minimumWrites +=
        categories[2] === 'delay' ? billed.writeUnits : first.writeUnits + (second?.writeUnits ?? 0);
    } else if (first && categories[0] === 'assignment' && first.action === 'Update') {
      this.minimumWrites += billed.writeUnits;
    }
  }

  sum(map: ReadonlyMap<Category, number>, only?: ReadonlySet<Category>): number {
    let total = 0;
    for (const [category, units] of map) if (!only || only.has(category)) total += units;
    return total;
  }

  /** The busiest partition key in any one simulated second. */
  hottest(kind: 'read' | 'write'): { key: string; units: number } {
    let best = { key: '', units: 0 };
    for (const [slot, units] of this.perSecond)
      if (units[kind] > best.units) best = { key: slot.split('\u0000')[0]!, units: units[kind] };
    return best;
  }
}

function add<K>(map: Map<K, number>, key: K, units: number) {
  map.set(key, (map.get(key) ?? 0) + units);
}
