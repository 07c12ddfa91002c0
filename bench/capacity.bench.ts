// Capacity and cost at Braze's top rate (DESIGN §9): what DynamoDB bills per email, per container refresh and per
// partition, measured on DynamoDB Local with every command billed by the service's rules (bench/billing-meter.ts).
//
// Content "containers" (each its own service, caches and adapters, as Lambda runs them) and pixel containers
// share one counted client each and a simulated clock. A campaign's history is seeded the way its traffic would
// have left it (counter rows for every 10-minute bucket in every shard, the tenant's delay histogram, the
// assignments whose opens arrive now), then a window of simulated seconds is driven at exactly 500,000 emails a
// minute, every second's calls finishing before the clock moves on.
import { ensureTable } from '../adapters/dynamodb/table';
import { RECENT_READ_SECONDS } from '../domain/allocation-snapshot';
import { nowSeconds, SEND_BUCKET_SECONDS, sendBucketOf } from '../domain/time';
import { localDynamoDbClient, startDynamoDbLocal } from '../local/dynamodb-local';
import { ConsumedCapacityCheck } from './billing-cross-check';
import { BillingMeter } from './billing-meter';
import { capacityReport } from './capacity-report';
import { counterRows, prepareCampaign, seed } from './capacity-seed';
import { Classifier } from './capacity-tally';
import { type Fleet, probe, runFleet } from './capacity-traffic';
import { EMAILS_PER_SECOND, type Env, OPEN_RATE, REOPEN_RATE, TABLE, WINDOW_SECONDS } from './capacity-world';

export async function benchCapacity(): Promise<string[]> {
  const lines: string[] = [];
  const started = Date.now();
  const dynamodb = await startDynamoDbLocal();
  try {
    const sizer = localDynamoDbClient(dynamodb.endpoint);
    const meter = new BillingMeter(sizer);
    const content = localDynamoDbClient(dynamodb.endpoint);
    const pixel = localDynamoDbClient(dynamodb.endpoint);
    meter.attach(content, 'content');
    meter.attach(pixel, 'pixel');
    await ensureTable(sizer, TABLE);
    const env: Env = {
      config: {
        tableName: TABLE,
        currentsBucket: null,
        publicBaseUrl: 'https://weft.example.com',
        // DynamoDB Local on two cores answers in tens of milliseconds under this load, DynamoDB in a few: a
        // budget that never expires keeps the emulator's slowness out of the answers (no fallbacks).
        contentBudgetMs: 120_000,
        assignmentTtlSeconds: 30 * 86_400,
        dynamodbEndpoint: dynamodb.endpoint,
        s3Endpoint: null,
        s3Credentials: null,
        region: 'local',
      },
      sizer,
      content,
      pixel,
      meter,
      classifier: new Classifier(),
      now: 0,
      tally: null,
    };
    meter.onCommand((billed) => env.tally?.record(billed));
    const crossCheck = new ConsumedCapacityCheck();
    meter.onCommand((billed) => crossCheck.observe(billed));

    const main: Fleet = { content: 100, pixel: 20, emailsPerSecond: EMAILS_PER_SECOND };
    const small: Fleet = { content: 10, pixel: 2, emailsPerSecond: EMAILS_PER_SECOND / 10 };
    // Pixel hits each campaign's fleets need over their windows (both fleets run on the 24 h campaign).
    const hits = (fleets: Fleet[], rate: number) =>
      Math.ceil(
        fleets.reduce((sum, f) => sum + f.emailsPerSecond * rate * WINDOW_SECONDS + f.pixel, 0) * 1.01 + 10,
      );
    // Both campaigns start 60 s into a send bucket; the 1 h one after the 24 h one's last probe (at +600 s).
    const dayStart = sendBucketOf(nowSeconds()) + 60;
    const hourStart = dayStart + 6 * SEND_BUCKET_SECONDS;
    const day = await prepareCampaign(env, 'veteran', 86_400, dayStart, {
      first: hits([main, small], OPEN_RATE),
      repeat: hits([main, small], REOPEN_RATE),
    });
    const hour = await prepareCampaign(env, 'newcomer', 3_600, hourStart, {
      first: hits([small], OPEN_RATE),
      repeat: hits([small], REOPEN_RATE),
    });
    const seeded = (Date.now() - started) / 1000;

    // 24 h campaign: the first recompute reads the whole history (as every OLD_READ_SECONDS), then the fleets.
    const dayOld = await probe(env, day, day.start, 1);
    const dayMain = await runFleet(env, day, main, day.start + 1, 2);
    const daySmall = await runFleet(env, day, small, env.now + 1, 3);
    // The recent tier, re-read RECENT_READ_SECONDS after the first recompute (its buckets seeded meanwhile).
    await seed(
      sizer,
      meter,
      counterRows(
        day,
        sendBucketOf(day.start) + SEND_BUCKET_SECONDS,
        sendBucketOf(day.start + RECENT_READ_SECONDS),
        () => SEND_BUCKET_SECONDS,
      ),
    );
    const dayRecent = await probe(env, day, day.start + RECENT_READ_SECONDS, 4);

    // 1 h campaign, the small fleet (the recompute weighs most per container there).
    const hourOld = await probe(env, hour, hour.start, 5);
    const hourSmall = await runFleet(env, hour, small, hour.start + 1, 6);
    await seed(
      sizer,
      meter,
      counterRows(
        hour,
        sendBucketOf(hour.start) + SEND_BUCKET_SECONDS,
        sendBucketOf(hour.start + RECENT_READ_SECONDS),
        () => SEND_BUCKET_SECONDS,
      ),
    );
    const hourRecent = await probe(env, hour, hour.start + RECENT_READ_SECONDS, 7);

    lines.push(
      ...capacityReport({
        started,
        seededSeconds: seeded,
        fleets: { main, small },
        campaigns: { day, hour },
        windows: { dayMain, daySmall, hourSmall },
        probes: { dayOld, dayRecent, hourOld, hourRecent },
        agreement: crossCheck.compare(meter.commands),
        classifier: env.classifier,
      }),
    );
    for (const c of [content, pixel, sizer]) c.destroy();
  } finally {
    await dynamodb.stop();
  }
  return lines;
}
