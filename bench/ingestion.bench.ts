// Currents ingestion (DESIGN §6): decode + attribution against a bare avsc decode of the same bytes, store
// writes per file (new rewards only, none on a second pass), and peak RSS for a small and a large file, each
// measured in its own child process (bench/ingestion-rss.ts) so that one size's heap cannot hide the other's.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { streams } from 'avsc';
import { readCurrentsEvents } from '../adapters/avro/currents-reader';
import {
  MemoryExperimentStore,
  MemoryIngestionLog,
  MemoryLedger,
  MemoryTenantStore,
} from '../adapters/memory/memory-stores';
import { defineExperiment } from '../domain/experiment';
import { CurrentsIngestion } from '../domain/ingestion';
import { recipientPseudonym } from '../domain/recipient';
import { TokenRewards } from '../domain/rewards';
import { issueTenant, type Tenant } from '../domain/tenant';
import { TenantDirectory } from '../domain/tenant-directory';
import { nowSeconds } from '../domain/time';
import { signTrackingToken } from '../domain/tracking-token';
import {
  CAMPAIGN_ID,
  type CurrentsRecord,
  clickRecord,
  clickSchema,
  currentsKey,
  writeCurrentsFile,
} from '../test/support/currents-fixtures';

const run = promisify(execFile);

export const BENCH_EVENTS = 100_000;
export const BENCH_RECIPIENTS = 2_000;
export const BENCH_KEY = currentsKey({ folder: 'bench', layout: 'schema-id' });
const EXPERIMENT = 'subject';
const VARIANTS = ['a', 'b', 'c'];
const RSS_SMALL = 10_000;
// 1M events took over a minute to write and ingest on a loaded 2-core machine; 500k (50× the small file)
// shows the same trend in half the time.
const RSS_LARGE = 500_000;
/** The day before the fixtures' click time. */
const SENT_AT = 1_743_440_400;

/**
 * A deterministic tenant (fixed secrets), so a file written by one process carries tokens another process's
 * world verifies.
 */
function benchTenant(now: number): Tenant {
  const { tenant } = issueTenant('bench', 'bench', now);
  return {
    ...tenant,
    signingSecrets: [{ secret: 'bench-signing-secret-0123456789abcdef0123' }],
    recipientKey: 'bench-recipient-key-0123456789abcdef01234',
  };
}

export interface BenchWorld {
  readonly ingestion: CurrentsIngestion;
  readonly ledger: MemoryLedger;
  /** Reward writes made so far (every `ledger.reward` call). */
  rewardWrites(): number;
  /** `weft=` tokens of the assigned recipients, by recipient index. */
  readonly tokens: readonly string[];
  readonly sentAt: number;
}

/** In-memory stores with one tenant, one experiment and BENCH_RECIPIENTS assigned recipients. */
export async function benchWorld(): Promise<BenchWorld> {
  // Fixed, so that every process builds the same world and the same tokens.
  const sentAt = SENT_AT;
  const tenant = benchTenant(nowSeconds());
  const tenantStore = new MemoryTenantStore();
  await tenantStore.create(tenant);
  const experiments = new MemoryExperimentStore();
  await experiments.save(
    defineExperiment(
      tenant.id,
      EXPERIMENT,
      { variants: VARIANTS.map((id) => ({ id, text: `Subject ${id}` })) },
      null,
      sentAt,
    ),
  );
  const ledger = new MemoryLedger();
  const secret = tenant.signingSecrets[0]!.secret;
  const tokens: string[] = [];
  for (let i = 0; i < BENCH_RECIPIENTS; i++) {
    const key = recipientPseudonym(tenant, { id: EXPERIMENT }, digest(i));
    const variantId = VARIANTS[i % VARIANTS.length]!;
    await ledger.assign({
      tenantId: tenant.id,
      experimentId: EXPERIMENT,
      recipientKey: key,
      variantId,
      sentAt,
      campaignId: CAMPAIGN_ID,
      dispatchId: null,
      expiresAt: sentAt + 30 * 86_400,
    });
    tokens.push(
      signTrackingToken(
        { tenantId: tenant.id, experimentId: EXPERIMENT, variantId, recipientKey: key, sentAt },
        secret,
      ),
    );
  }
  let writes = 0;
  const reward = ledger.reward.bind(ledger);
  ledger.reward = (r) => {
    writes++;
    return reward(r);
  };
  const ingestion = new CurrentsIngestion({
    tenants: tenantStore,
    experiments,
    ledger,
    // The files arrive within a day of the fixed send time: its tokens have not reached their maximum age.
    rewards: new TokenRewards(new TenantDirectory(tenantStore, nowSeconds), ledger, () => sentAt + 86_400),
    log: new MemoryIngestionLog(),
    clockMs: Date.now,
  });
  return { ingestion, ledger, rewardWrites: () => writes, tokens, sentAt };
}

const userId = (i: number) => `braze-user-${i}`;
const digest = (i: number) => createHash('sha256').update(userId(i)).digest('hex');

/** A UUID-shaped event id, as Currents writes them. */
function eventId(n: number): string {
  const hex = n.toString(16).padStart(12, '0');
  return `a1b2c3d4-0000-4000-8000-${hex}`;
}

/**
 * Click records: 70% carry a recipient's `weft=` token, 20% only the campaign and user id (fallback
 * attribution), 10% are clicks weft cannot attribute (another campaign, no token). Every recipient clicks.
 */
export function* benchRecords(
  events: number,
  world: Pick<BenchWorld, 'tokens' | 'sentAt'>,
): Generator<CurrentsRecord> {
  for (let n = 0; n < events; n++) {
    const recipient = n % BENCH_RECIPIENTS;
    const slot = Math.floor(n / BENCH_RECIPIENTS) % 10;
    const base = { id: eventId(n), time: world.sentAt + 600 + (n % 7200), user_id: userId(recipient) };
    if (slot < 7 || n < BENCH_RECIPIENTS) {
      yield clickRecord({
        ...base,
        url: `https://shop.example/sale?utm_source=braze&weft=${world.tokens[recipient]}`,
      });
    } else if (slot < 9) {
      yield clickRecord({ ...base, url: 'https://shop.example/sale?utm_source=braze' });
    } else {
      yield clickRecord({
        ...base,
        user_id: `someone-else-${n}`,
        campaign_id: 'another-campaign-0000-4abc-8def-0123456789ab',
        url: 'https://shop.example/other',
      });
    }
  }
}

async function bareDecode(file: Buffer): Promise<number> {
  let records = 0;
  const decoder = new streams.BlockDecoder();
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('data', () => {
      records++;
    });
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  Readable.from([file]).pipe(decoder);
  await done;
  return records;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchIngestion(): Promise<string[]> {
  const lines: string[] = [];
  const template = await benchWorld();
  const file = await writeCurrentsFile(clickSchema(), benchRecords(BENCH_EVENTS, template), {
    codec: 'deflate',
  });

  // Writes per file, then the same file again.
  const first = await template.ingestion.ingest(BENCH_KEY, async (kind) =>
    readCurrentsEvents(Readable.from([file]), kind),
  );
  if (first.status !== 'ok') throw new Error(`bench file not ingested: ${first.reason}`);
  const firstWrites = template.rewardWrites();
  const again = await template.ingestion.ingest(BENCH_KEY, async (kind) =>
    readCurrentsEvents(Readable.from([file]), kind),
  );
  const againWrites = template.rewardWrites() - firstWrites;

  // Throughput: alternating rounds, each ingestion round on a fresh world (nothing rewarded yet).
  const ingestRates: number[] = [];
  const decodeRates: number[] = [];
  await bareDecode(file);
  for (let round = 0; round < 5; round++) {
    const world = await benchWorld();
    let start = performance.now();
    const result = await world.ingestion.ingest(BENCH_KEY, async (kind) =>
      readCurrentsEvents(Readable.from([file]), kind),
    );
    ingestRates.push(result.events / ((performance.now() - start) / 1000));
    start = performance.now();
    const decoded = await bareDecode(file);
    decodeRates.push(decoded / ((performance.now() - start) / 1000));
  }
  const ingestRate = median(ingestRates);
  const decodeRate = median(decodeRates);
  const rate = (value: number) => Math.round(value).toLocaleString('en');
  lines.push(
    `ratio ingestion decode+attribution vs bare avsc decode: ${(ingestRate / decodeRate).toFixed(2)} (${rate(ingestRate)} events/s vs ${rate(decodeRate)} events/s) target ≥ 0.5 (DESIGN §6)`,
  );
  lines.push(
    `writes per file: ${firstWrites} for ${first.events.toLocaleString('en')} events (${first.attributed} new rewards; ${(file.length / 1024 / 1024).toFixed(1)} MB deflate file) target ≈ new rewards`,
  );
  lines.push(
    `writes per file, same file again: ${againWrites} for ${again.events.toLocaleString('en')} events (${again.attributed} new rewards) target 0`,
  );

  // Peak RSS, each size in a fresh child process: write the file as a stream, then ingest it from disk.
  const directory = await mkdtemp(join(tmpdir(), 'weft-bench-'));
  try {
    const small = await peakRss(RSS_SMALL, directory);
    const large = await peakRss(RSS_LARGE, directory);
    lines.push(
      `ratio ingestion peak RSS ${label(RSS_LARGE)} vs ${label(RSS_SMALL)} events: ${(large.maxRssMb / small.maxRssMb).toFixed(2)} (${large.maxRssMb.toFixed(0)} MB vs ${small.maxRssMb.toFixed(0)} MB; ingest ${large.seconds.toFixed(1)} s vs ${small.seconds.toFixed(1)} s) target ≈ 1 (DESIGN §6)`,
    );
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
  return lines;
}

const label = (events: number) => (events >= 1_000_000 ? `${events / 1_000_000}M` : `${events / 1000}k`);

interface RssResult {
  events: number;
  attributed: number;
  maxRssMb: number;
  seconds: number;
}

async function peakRss(events: number, directory: string): Promise<RssResult> {
  const path = join(directory, `clicks-${events}.avro`);
  const script = join(import.meta.dirname, 'ingestion-rss.ts');
  const node = (args: string[]) =>
    run(process.execPath, ['--import', 'tsx', script, ...args], {
      // `--import tsx` resolves from the working directory: the project's root.
      cwd: join(import.meta.dirname, '..'),
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      maxBuffer: 1024 * 1024,
    });
  await node(['write', String(events), path]);
  const { stdout } = await node(['ingest', path]);
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as RssResult;
  if (result.events !== events) throw new Error(`child ingested ${result.events} of ${events} events`);
  return result;
}
