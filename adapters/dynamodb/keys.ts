// Every key of the single table is built here and nowhere else.
//
//   TENANT#<id>                         TENANT            a tenant (token hashes, sealed secrets, retired connect tokens)
//   FOLDER#<folder>                     FOLDER            folder -> tenant (makes folders unique)
//   T#<tenant>                          E#<experiment>    an experiment's definition
//   T#<tenant>#CAMPAIGN#<campaign>      E#<experiment>    campaign or Canvas step seen with an experiment
//   T#<tenant>#E#<exp>#R#<recipient>    A                 an assignment (recipient = keyed hash), with TTL
//   T#<tenant>#E#<exp>#C#<shard>        B#<bucket>#V#<var> sharded atomic counters (domain/counting.ts)
//   T#<tenant>#E#<exp>#HEAD             H                 definition version, counter shards, allocation snapshot, lease
//   T#<tenant>#E#<exp>#HEAD             S                 settled sums of older send buckets (read by the recompute only)
//   T#<tenant>#DELAY#<kind>#<shard>     B#<bucket>        sharded histogram of send-to-reward delays
//   T#<tenant>#INGEST                   F#<time>#<key>    the per-file ingestion log

/**
 * Counter shards of a new experiment. Each shard is one partition key taking every bucket and variant, so at
 * 500,000 emails/min (8,333 sends/s) plus as many opens, each a transactional write of 2 units:
 * 2 × 16,667 / 128 ≈ 260 write units/s per shard, about a quarter of a partition's 1,000. The count is stored
 * on the experiment's head when it is created, so readers of older experiments use theirs.
 */
export const COUNTER_SHARDS = 128;
/** Experiments created before the head recorded a shard count used this many. */
export const LEGACY_COUNTER_SHARDS = 32;

/**
 * Delay-histogram shards per tenant and kind: one reward transaction each, so 8,333 rewards/s × 2 / 64 ≈ 260
 * write units/s per shard. Readers read all of them; the first 16 hold what older versions wrote.
 */
export const DELAY_SHARDS = 64;

export const keys = {
  tenant: (id: string) => ({ pk: `TENANT#${id}`, sk: 'TENANT' }),
  folder: (folder: string) => ({ pk: `FOLDER#${folder}`, sk: 'FOLDER' }),
  experimentPk: (tenantId: string) => `T#${tenantId}`,
  experiment: (tenantId: string, id: string) => ({ pk: `T#${tenantId}`, sk: `E#${id}` }),
  campaignPk: (tenantId: string, campaignId: string) => `T#${tenantId}#CAMPAIGN#${campaignId}`,
  campaign: (tenantId: string, campaignId: string, experimentId: string) => ({
    pk: `T#${tenantId}#CAMPAIGN#${campaignId}`,
    sk: `E#${experimentId}`,
  }),
  assignment: (tenantId: string, experimentId: string, recipientKey: string) => ({
    pk: `T#${tenantId}#E#${experimentId}#R#${recipientKey}`,
    sk: 'A',
  }),
  counterPk: (tenantId: string, experimentId: string, shard: number) =>
    `T#${tenantId}#E#${experimentId}#C#${shard}`,
  counter: (
    tenantId: string,
    experimentId: string,
    shard: number,
    bucketStart: number,
    variantId: string,
  ) => ({
    pk: `T#${tenantId}#E#${experimentId}#C#${shard}`,
    sk: `B#${bucketStart}#V#${variantId}`,
  }),
  head: (tenantId: string, experimentId: string) => ({ pk: `T#${tenantId}#E#${experimentId}#HEAD`, sk: 'H' }),
  settled: (tenantId: string, experimentId: string) => ({
    pk: `T#${tenantId}#E#${experimentId}#HEAD`,
    sk: 'S',
  }),
  /** Sort keys of send buckets from `bucketStart` on (unix seconds have 10 digits until 2286). */
  counterSkFrom: (bucketStart: number) => `B#${bucketStart}`,
  delayPk: (tenantId: string, kind: string, shard: number) => `T#${tenantId}#DELAY#${kind}#${shard}`,
  delay: (tenantId: string, kind: string, shard: number, bucket: number) => ({
    pk: `T#${tenantId}#DELAY#${kind}#${shard}`,
    sk: `B#${bucket}`,
  }),
  ingestionPk: (tenantId: string) => `T#${tenantId}#INGEST`,
  /** Zero-padded time first, so a descending query lists the newest files first. */
  ingestion: (tenantId: string, atMs: number, objectKey: string) => ({
    pk: `T#${tenantId}#INGEST`,
    sk: `F#${String(atMs).padStart(15, '0')}#${objectKey}`,
  }),
  parseAssignmentPk(pk: string): { tenantId: string; experimentId: string; recipientKey: string } | null {
    const match = /^T#([^#]+)#E#([^#]+)#R#(.+)$/.exec(pk);
    return match ? { tenantId: match[1]!, experimentId: match[2]!, recipientKey: match[3]! } : null;
  },
  /** The delay-histogram bucket of a delay item's sort key (`B#<bucket>`). */
  parseDelaySk(sk: string): number | null {
    const bucket = sk.startsWith('B#') ? Number(sk.slice(2)) : Number.NaN;
    return Number.isInteger(bucket) && bucket >= 0 ? bucket : null;
  },
  parseCounterSk(sk: string): { bucketStart: number; variantId: string } | null {
    const match = /^B#(\d+)#V#(.+)$/.exec(sk);
    return match ? { bucketStart: Number(match[1]), variantId: match[2]! } : null;
  },
  parseExperimentSk: (sk: string) => (sk.startsWith('E#') ? sk.slice(2) : null),
};
