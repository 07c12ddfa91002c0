// The capacity bench's figures and report: units per email and per container refresh, the hottest partitions
// against DynamoDB's limits, the billing cross-check, and the cost per million emails at assumed prices.
import { COUNTER_SHARDS } from '../adapters/dynamodb/keys';
import { OLD_READ_SECONDS, RECENT_READ_SECONDS } from '../domain/allocation-snapshot';
import type { Agreement } from './billing-cross-check';
import type { Charge } from './billing-units';
import { type Category, type Classifier, RECOMPUTE_READS, RECOMPUTE_WRITES } from './capacity-tally';
import type { Fleet, Probe, Scenario } from './capacity-traffic';
import {
  type Campaign,
  EMAILS_PER_SECOND,
  MACHINE_OPEN_SHARE,
  OPEN_RATE,
  REFRESH_SECONDS,
  REOPEN_RATE,
  VARIANTS,
  WINDOW_SECONDS,
} from './capacity-world';
import { ratioLine } from './harness';

/** DynamoDB's per-partition limits (units per second). */
const PARTITION_LIMIT = { write: 1000, read: 3000 };

/**
 * Prices are assumptions, dated: DynamoDB on-demand (aws.amazon.com/dynamodb/pricing/on-demand, since the
 * November 2024 cut), Lambda arm64 and API Gateway HTTP API (aws.amazon.com/lambda/pricing, /api-gateway/pricing),
 * us-east-1, checked 2026-12-01. Lambda durations are assumed, not measured here (DynamoDB Local is no guide).
 */
const PRICES = {
  checked: '2026-12-01',
  writeUnit: 0.625 / 1e6,
  readUnit: 0.125 / 1e6,
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecond: 0.0000133334,
  httpApiRequest: 1.0 / 1e6,
  content: { gb: 0.5, billedMs: 10 },
  pixel: { gb: 0.25, billedMs: 10 },
};

interface Figures {
  readonly emails: number;
  readonly readsPerEmail: number;
  readonly writesPerEmail: number;
  readonly minimumPerEmail: number;
  readonly contentCallsPerEmail: number;
  readonly pixelHitsPerEmail: number;
  /** Read units per container refresh, and its three terms. */
  readonly perRefresh: number;
  readonly fleetPerRefresh: number;
  readonly recomputesPerRefresh: number;
  readonly tiersPerRefresh: number;
  readonly recomputesPerCycle: number;
  /** Read units of one recompute of the last hour's buckets. */
  readonly windowRecompute: number;
  /** The slower tiers' extra read units, spread over every refresh cycle. */
  readonly tiersPerCycle: number;
}

/**
 * Per email and per container refresh. The window shows the fleet's refreshes and the recomputes of the last
 * hour's buckets; the slower tiers (the recent tier every RECENT_READ_SECONDS, the whole history every
 * OLD_READ_SECONDS, each replacing one window recompute) are measured by the probes and spread over the cycles
 * between them.
 */
function figures(scenario: Scenario, tiers: { old: Probe; recent: Probe }, refresh: number): Figures {
  const t = scenario.tally;
  const cycles = scenario.seconds / refresh;
  const recomputeReads = t.sum(t.contentReads, RECOMPUTE_READS);
  const windowRecompute = {
    reads: t.sum(t.reads, RECOMPUTE_READS) / Math.max(1, t.recomputes),
    writes: t.sum(t.writes, RECOMPUTE_WRITES) / Math.max(1, t.recomputes),
  };
  const extra = (kind: 'reads' | 'writes') =>
    ((tiers.recent[kind] - windowRecompute[kind]) * refresh) / RECENT_READ_SECONDS +
    ((tiers.old[kind] - tiers.recent[kind]) * refresh) / OLD_READ_SECONDS;
  const tierReads = extra('reads') * cycles;
  const fleetReads = t.sum(t.contentReads, new Set<Category>(['tenant', 'head', 'definition']));
  return {
    emails: t.emails,
    readsPerEmail: (t.sum(t.reads) + tierReads) / t.emails,
    writesPerEmail: (t.sum(t.writes) + extra('writes') * cycles) / t.emails,
    minimumPerEmail: t.minimumWrites / t.emails,
    contentCallsPerEmail: t.contentCalls / t.emails,
    pixelHitsPerEmail: t.pixelHits / t.emails,
    perRefresh: (fleetReads + recomputeReads + tierReads) / t.refreshes,
    fleetPerRefresh: fleetReads / t.refreshes,
    recomputesPerRefresh: recomputeReads / t.refreshes,
    tiersPerRefresh: tierReads / t.refreshes,
    recomputesPerCycle: t.recomputes / cycles,
    windowRecompute: windowRecompute.reads,
    tiersPerCycle: extra('reads'),
  };
}

const fmt = (value: number, digits = 2) =>
  value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function verdict(ratio: number, limit: number): string {
  return ratio <= limit ? ' — met' : ' — NOT MET';
}

/** Everything one capacity run measured. */
export interface CapacityRun {
  /** Date.now() when the bench started. */
  readonly started: number;
  readonly seededSeconds: number;
  readonly fleets: { readonly main: Fleet; readonly small: Fleet };
  /** The 24 h and the 1 h campaign. */
  readonly campaigns: { readonly day: Campaign; readonly hour: Campaign };
  /** The measured windows: both fleets on the 24 h campaign, the small one on the 1 h campaign. */
  readonly windows: { readonly dayMain: Scenario; readonly daySmall: Scenario; readonly hourSmall: Scenario };
  /** One recompute alone per campaign: of the whole history, and of the recent tier. */
  readonly probes: {
    readonly dayOld: Probe;
    readonly dayRecent: Probe;
    readonly hourOld: Probe;
    readonly hourRecent: Probe;
  };
  readonly agreement: Agreement;
  readonly classifier: Classifier;
}

export function capacityReport(run: CapacityRun): string[] {
  const lines: string[] = [];
  const { main, small } = run.fleets;
  const { day, hour } = run.campaigns;
  const { dayMain, daySmall, hourSmall } = run.windows;
  const { dayOld, dayRecent, hourOld, hourRecent } = run.probes;
  const refresh = REFRESH_SECONDS;
  const seeded = run.seededSeconds;
  const dayTiers = { old: dayOld, recent: dayRecent };
  const big = figures(dayMain, dayTiers, refresh);
  const ten = figures(daySmall, dayTiers, refresh);
  const young = figures(hourSmall, { old: hourOld, recent: hourRecent }, refresh);

  lines.push(
    `setup: DynamoDB Local; ${main.content} content + ${main.pixel} pixel containers (own services and caches, one counted client each kind), simulated clock; ${fmt(day.counterRows, 0)} counter rows seeded for 24 h (${COUNTER_SHARDS} shards × ${VARIANTS} variants × 10-min buckets), ${fmt(hour.counterRows, 0)} for 1 h; seeding ${fmt(seeded, 0)} s`,
    `window: ${WINDOW_SECONDS} simulated s at ${fmt(EMAILS_PER_SECOND)} emails/s = ${fmt(big.emails, 0)} emails, ${fmt(big.contentCallsPerEmail)} content calls and ${fmt(big.pixelHitsPerEmail)} pixel hits per email (first opens ${OPEN_RATE * 100}% of emails, ${MACHINE_OPEN_SHARE * 100}% of them machine opens, re-opens ${REOPEN_RATE * 100}%), ${fmt(dayMain.realSeconds, 0)} s real; fallbacks ${dayMain.tally.fallbacks + daySmall.tally.fallbacks + hourSmall.tally.fallbacks}, errors ${dayMain.tally.errors + daySmall.tally.errors + hourSmall.tally.errors}`,
  );

  // Billing cross-check against what DynamoDB Local reports (over the commands it reported on).
  const agreement = run.agreement.ratios.map(({ command, ratio, localRule }) =>
    localRule === null
      ? `${command} ${fmt(ratio)}`
      : `${command} ${fmt(ratio)} (${fmt(localRule)} by Local's own rule: it adds a transaction's items of equal unit count once)`,
  );
  lines.push(
    `billing cross-check, DynamoDB Local's ConsumedCapacity / ours: ${agreement.join(', ')} (failed commands, no report: ${fmt(run.agreement.failed, 0)})`,
  );

  lines.push(
    ratioLine(
      'read units per container-refresh, campaign age 24 h vs 1 h (10 containers, 833 emails/s)',
      ten.perRefresh,
      young.perRefresh,
      'RRU',
      '≤ 1.2',
    ) + verdict(ten.perRefresh / young.perRefresh, 1.2),
    ratioLine(
      'read units per email, 100 vs 10 containers at the same per-container load',
      big.readsPerEmail,
      ten.readsPerEmail,
      'RRU',
      '≤ 1.2',
    ) + verdict(big.readsPerEmail / ten.readsPerEmail, 1.2),
    ratioLine(
      'write units per email vs the minimum (send + first-reward transactions)',
      big.writesPerEmail,
      big.minimumPerEmail,
      'WRU',
      '≤ 1.1',
    ) + verdict(big.writesPerEmail / big.minimumPerEmail, 1.1),
  );
  const category = (key: string) => run.classifier.of({ partitionKey: key, sortKey: null } as Charge);
  const hottest = (kind: 'write' | 'read', unit: string) => {
    const hot = dayMain.tally.hottest(kind);
    return (
      ratioLine(
        `hottest partition ${kind} units/s vs its limit (${category(hot.key)} ${hot.key})`,
        hot.units,
        PARTITION_LIMIT[kind],
        unit,
        '≤ 0.5',
      ) + verdict(hot.units / PARTITION_LIMIT[kind], 0.5)
    );
  };
  lines.push(hottest('write', 'WCU/s'), hottest('read', 'RCU/s'));

  // Where the units go, per email (100 containers, 24 h campaign).
  const t = dayMain.tally;
  const perEmail = (map: ReadonlyMap<Category, number>) =>
    [...map]
      .filter(([, units]) => units > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([c, units]) => `${c} ${fmt(units / t.emails, 3)}`)
      .join(', ');
  lines.push(
    `per email (100 containers, 24 h): ${fmt(big.readsPerEmail, 3)} read units (${perEmail(t.reads)}; slower recompute tiers amortised), ${fmt(big.writesPerEmail, 3)} write units (${perEmail(t.writes)}); minimum ${fmt(big.minimumPerEmail, 3)}, failed or cancelled writes ${fmt(t.failedWrites / t.emails, 3)}`,
    ...(
      [
        ['100 containers, 24 h', big, main.content],
        ['10 containers, 24 h', ten, small.content],
        ['10 containers, 1 h', young, small.content],
      ] as const
    ).map(
      ([label, f, containers]) =>
        `per container refresh (${label}): ${fmt(f.perRefresh)} read units = tenant + head + definition ${fmt(f.fleetPerRefresh)} + recomputes of the last hour ${fmt(f.recomputesPerRefresh)} (${fmt(f.recomputesPerCycle, 1)} per ${refresh} s cycle × ${fmt(f.windowRecompute, 1)}, shared by ${containers}) + slower tiers ${fmt(f.tiersPerRefresh)} (${fmt(f.tiersPerCycle, 1)} per cycle); with one recompute per cycle it would be ${fmt(f.fleetPerRefresh + (f.windowRecompute + f.tiersPerCycle) / containers)}`,
    ),
    `one recompute, measured alone: 24 h campaign — recent tier ${fmt(dayRecent.reads, 1)}, whole history ${fmt(dayOld.reads, 1)} read units; 1 h campaign — recent tier ${fmt(hourRecent.reads, 1)}, whole history ${fmt(hourOld.reads, 1)}`,
  );

  const dynamoCost = (big.readsPerEmail * PRICES.readUnit + big.writesPerEmail * PRICES.writeUnit) * 1e6;
  const invocation = (fn: { gb: number; billedMs: number }) =>
    PRICES.lambdaRequest + fn.gb * (fn.billedMs / 1000) * PRICES.lambdaGbSecond;
  const lambdaCost =
    (big.contentCallsPerEmail * invocation(PRICES.content) +
      big.pixelHitsPerEmail * invocation(PRICES.pixel)) *
    1e6;
  const httpApiCost = (big.contentCallsPerEmail + big.pixelHitsPerEmail) * PRICES.httpApiRequest * 1e6;
  lines.push(
    `cost per 1M emails: DynamoDB $${fmt(dynamoCost)} (writes $${fmt(big.writesPerEmail * PRICES.writeUnit * 1e6)}, reads $${fmt(big.readsPerEmail * PRICES.readUnit * 1e6)}; on-demand $0.625/M write and $0.125/M read request units, us-east-1, assumed, checked ${PRICES.checked}); Lambda $${fmt(lambdaCost)} (assumed: arm64, $0.20/M requests + $0.0000133334/GB-s, content 512 MB and pixel 256 MB, ${PRICES.content.billedMs} ms billed per call); API Gateway HTTP API $${fmt(httpApiCost)} (assumed $1.00/M requests)`,
    `run: ${fmt((Date.now() - run.started) / 1000, 0)} s real`,
  );
  return lines;
}
