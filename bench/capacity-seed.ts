// Seeding a campaign's history the way its traffic would have left it: counter rows for every 10-minute bucket in
// every shard, the tenant's delay histogram, and the assignments whose opens arrive during the run.
import { createHash } from 'node:crypto';
import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { DynamoDbExperimentStore } from '../adapters/dynamodb/dynamodb-experiment-store';
import { DynamoDbTenantStore } from '../adapters/dynamodb/dynamodb-tenant-store';
import { COUNTER_SHARDS, DELAY_SHARDS, keys } from '../adapters/dynamodb/keys';
import { DELAY_BUCKETS, delayBucket } from '../domain/delay';
import { defineExperiment } from '../domain/experiment';
import { recipientKey } from '../domain/recipient';
import { issueTenant } from '../domain/tenant';
import { SEND_BUCKET_SECONDS, sendBucketOf } from '../domain/time';
import { signTrackingToken } from '../domain/tracking-token';
import { secretSealer, storeConfig } from '../handlers/shared/stage';
import type { Item } from './billing-item-size';
import type { BillingMeter } from './billing-meter';
import {
  type Campaign,
  EMAILS_PER_SECOND,
  type Env,
  limited,
  random,
  TABLE,
  VARIANTS,
} from './capacity-world';

/** Writes items through the uncounted client, 25 a request, a few requests at a time. */
export async function seed(client: DynamoDBClient, meter: BillingMeter, items: Item[]): Promise<void> {
  const batches: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await limited(
    batches.map((batch) => async () => {
      let pending: WriteRequest[] = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 10) throw new Error('seeding: unprocessed items after 10 attempts');
        const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: pending } }));
        pending = result.UnprocessedItems?.[TABLE] ?? [];
      }
      for (const item of batch) meter.learn(TABLE, item);
    }),
    8,
  );
}

const n = (value: number) => ({ N: String(value) });
const s = (value: string) => ({ S: value });

/**
 * Counter rows for the send buckets in [from, to], as the ledger's sharded ADDs leave them: every shard and
 * variant has a row in every bucket (at this rate a shard sees hundreds of sends per variant and bucket).
 * `seconds(bucket)` is how much of the bucket the campaign had sent.
 */
export function counterRows(
  campaign: Campaign,
  from: number,
  to: number,
  seconds: (bucket: number) => number,
): Item[] {
  const rows: Item[] = [];
  const t = campaign.tenant.id;
  const e = campaign.experimentId;
  for (let bucket = from; bucket <= to; bucket += SEND_BUCKET_SECONDS) {
    const perRow = (EMAILS_PER_SECOND * seconds(bucket)) / (VARIANTS * COUNTER_SHARDS);
    for (let shard = 0; shard < COUNTER_SHARDS; shard++) {
      for (let v = 0; v < VARIANTS; v++) {
        const sends = Math.max(1, Math.round(perRow * (0.9 + ((shard * 7 + v * 13) % 21) / 100)));
        const openRate = 0.18 + v * 0.006;
        rows.push({
          ...keyItem(keys.counter(t, e, shard, bucket, `v${v}`)),
          sends: n(sends),
          // When in the bucket they were sent: evenly over its seconds 1…B (the sums of k and k² over them).
          sent_sec: n(Math.round((sends * (SEND_BUCKET_SECONDS + 1)) / 2)),
          sent_sec2: n(Math.round((sends * (SEND_BUCKET_SECONDS + 1) * (2 * SEND_BUCKET_SECONDS + 1)) / 6)),
          opens: n(Math.round(sends * openRate)),
          clicks: n(Math.round(sends * openRate * 0.12)),
        });
      }
    }
  }
  return rows;
}

function keyItem(k: { pk: string; sk: string }): Item {
  return { pk: s(k.pk), sk: s(k.sk) };
}

/** Reward delays: log-normal, median 40 minutes (weft's default open model), within the campaign's age. */
function openDelay(rng: () => number, maxSeconds: number): number {
  const normal = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return Math.round(Math.min(maxSeconds - 60, Math.max(30, 2400 * Math.exp(1.5 * normal))));
}

/** A tenant, a 10-variant experiment and `ageSeconds` of history before `start`. */
export async function prepareCampaign(
  env: Env,
  tenantId: string,
  ageSeconds: number,
  start: number,
  pixelHits: { first: number; repeat: number },
): Promise<Campaign> {
  const rng = random(ageSeconds);
  const issued = issueTenant(tenantId, tenantId, start - ageSeconds - 86_400);
  await new DynamoDbTenantStore(env.sizer, TABLE, secretSealer(storeConfig(TABLE))).create(issued.tenant);
  const experimentId = 'subject-lines';
  const variants = Array.from({ length: VARIANTS }, (_, i) => ({
    id: `v${i}`,
    text: `Variant ${i}: our winter collection is here, with free delivery this week only`,
  }));
  await new DynamoDbExperimentStore(env.sizer, TABLE).save(
    defineExperiment(
      tenantId,
      experimentId,
      { name: 'Winter launch', metric: 'opens', variants },
      null,
      start - ageSeconds,
    ),
  );
  const campaign: Campaign = {
    tenant: issued.tenant,
    connectToken: issued.connectToken,
    experimentId,
    campaignId: '8c6f2a3e-5b1d-4f0a-9e7c-2d4b6a8c0e1f',
    start,
    unopened: [],
    opened: [],
    counterRows: 0,
  };
  env.classifier.add(campaign);

  // Counters: every bucket from the campaign's start up to `start` (the last one partly).
  const first = sendBucketOf(start - ageSeconds);
  const rows = counterRows(campaign, first, sendBucketOf(start), (bucket) =>
    Math.max(0, Math.min(bucket + SEND_BUCKET_SECONDS, start) - Math.max(bucket, start - ageSeconds)),
  );
  campaign.counterRows = rows.length;
  // The tenant's delay histogram: every bucket up to the campaign's age, in every shard.
  const delays: Item[] = [];
  for (let shard = 0; shard < DELAY_SHARDS; shard++)
    for (let bucket = 0; bucket <= Math.min(DELAY_BUCKETS - 1, delayBucket(ageSeconds)); bucket++)
      delays.push({
        ...keyItem(keys.delay(tenantId, 'open', shard, bucket)),
        n: n(50 + ((shard + bucket) % 40)),
      });
  // Assignments of earlier sends whose opens (and re-opens) arrive during the run, as the ledger writes them.
  const secret = issued.tenant.signingSecrets[0]!.secret;
  const assignments: Item[] = [];
  const sent = (index: number, opened: boolean) => {
    const digest = createHash('sha256').update(`${tenantId}-earlier-${index}`).digest('hex');
    const key = recipientKey(issued.tenant.recipientKey, digest);
    const variantId = `v${Math.floor(rng() * VARIANTS)}`;
    const sentAt = start - openDelay(rng, ageSeconds);
    assignments.push({
      ...keyItem(keys.assignment(tenantId, experimentId, key)),
      variant: s(variantId),
      sent_at: n(sentAt),
      expires_at: n(sentAt + env.config.assignmentTtlSeconds),
      campaign: s(campaign.campaignId),
      ...(opened ? { opened_at: n(sentAt + 600) } : {}),
    });
    return signTrackingToken({ tenantId, experimentId, variantId, recipientKey: key, sentAt }, secret);
  };
  for (let i = 0; i < pixelHits.first; i++) campaign.unopened.push(sent(i, false));
  for (let i = 0; i < pixelHits.repeat; i++) campaign.opened.push(sent(pixelHits.first + i, true));
  await seed(env.sizer, env.meter, [...rows, ...delays, ...assignments]);
  return campaign;
}
