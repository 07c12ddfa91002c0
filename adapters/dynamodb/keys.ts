// Every key of the single table is built here and nowhere else.
//
//   TENANT#<id>                         TENANT            a tenant (token hashes, signing secrets)
//   FOLDER#<folder>                     FOLDER            folder -> tenant (makes folders unique)
//   T#<tenant>                          E#<experiment>    an experiment's definition
//   T#<tenant>#CAMPAIGN#<campaign>      E#<experiment>    campaign or Canvas step seen with an experiment
//   T#<tenant>#E#<exp>#R#<recipient>    A                 an assignment (recipient = keyed hash), with TTL
//   T#<tenant>#E#<exp>#C#<shard>        B#<bucket>#V#<var> sharded atomic counters: sends, opens, clicks
//   T#<tenant>#DELAY#<kind>#<shard>     B#<bucket>        sharded histogram of send-to-reward delays
//   T#<tenant>#INGEST                   F#<time>#<key>    the per-file ingestion log

/** Counter shards per experiment: 25,000 new recipients/s over 32 shards stays under 1,000 writes/s per item. */
export const COUNTER_SHARDS = 32;

/** Delay-histogram shards per tenant and kind: rewards can arrive at thousands per second during a send. */
export const DELAY_SHARDS = 16;

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
  parseCounterSk(sk: string): { bucketStart: number; variantId: string } | null {
    const match = /^B#(\d+)#V#(.+)$/.exec(sk);
    return match ? { bucketStart: Number(match[1]), variantId: match[2]! } : null;
  },
  parseExperimentSk: (sk: string) => (sk.startsWith('E#') ? sk.slice(2) : null),
};
