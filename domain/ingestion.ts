// Currents ingestion: a file of engagement events becomes unique rewards. Events are attributed by their
// signed `weft` token, or else by (campaign or Canvas step, hashed user id) against a recorded assignment.
// Reads grow with events (batched), writes only with new rewards; every reward is a conditional write, so a
// file processed twice, or by two invocations at once, counts each recipient once.

import { BoundedMap } from './cache';
import { FIRST_REWARD_FIELD, type RewardKind } from './counting';
import type { EngagementEvent, EngagementKind } from './currents';
import { parseCurrentsKey } from './currents';
import { UnreadableFileError } from './errors';
import type { Assignment, AssignmentKey, AssignmentLedger } from './ports/assignment-ledger';
import type { ExperimentStore } from './ports/experiment-store';
import type { IngestionEntry, IngestionLog } from './ports/ingestion-log';
import type { TenantStore } from './ports/tenant-store';
import { recipientPseudonym } from './recipient';
import type { TokenRewards } from './rewards';
import type { Tenant } from './tenant';
import { readTrackingToken } from './tracking-token';

const BATCH_SIZE = 500;
const WRITE_CONCURRENCY = 16;
const SEEN_LIMIT = 20_000;

export interface IngestionDeps {
  readonly tenants: TenantStore;
  readonly experiments: ExperimentStore;
  readonly ledger: AssignmentLedger;
  readonly rewards: TokenRewards;
  readonly log: IngestionLog;
  /** Unix milliseconds. */
  readonly clockMs: () => number;
}

/** Opens the file's events; decoding errors surface while iterating. Transient read errors are StoreUnavailableError. */
export type EventSource = (kind: EngagementKind) => Promise<AsyncIterable<EngagementEvent>>;

interface Candidate {
  readonly key: AssignmentKey;
  /** Known from a verified token; null when the assignment must be looked up (campaign attribution). */
  readonly variantId: string | null;
  readonly sentAt: number | null;
  readonly kind: RewardKind;
  readonly at: number;
}

/**
 * What a Currents event rewards: Braze's `machine_open` opens (Apple's Privacy Protection prefetch and the
 * like) are machine opens, counted apart and never as opens; suspected bot clicks count nothing.
 */
function rewardKindOf(event: EngagementEvent): RewardKind | null {
  if (event.kind === 'open') return event.suspectedBot ? 'machine_open' : 'open';
  return event.suspectedBot ? null : 'click';
}

interface Tally {
  events: number;
  attributed: number;
  duplicates: number;
  bots: number;
  unattributed: number;
  /** Sends recorded by their token's first reward (their content write never landed). */
  sendsRecorded: number;
}

/**
 * The one place that decides what a failed file means. A file no retry can read is listed as failed, with its
 * plain reason; everything else (the store or S3 unavailable, or an error nobody expected) is thrown, so Lambda
 * retries the event and, after two retries, keeps it in the dead-letter queue for `weft replay`. An unexpected
 * error's message is never shown as a reason: it may quote anything.
 */
export function classifyIngestionFailure(
  error: unknown,
): { readonly retry: true } | { readonly retry: false; readonly reason: string } {
  if (error instanceof UnreadableFileError) return { retry: false, reason: error.reason };
  return { retry: true };
}

export class CurrentsIngestion {
  constructor(private readonly deps: IngestionDeps) {}

  /** Ingests one object. Throws (so Lambda retries) only what `classifyIngestionFailure` says to retry. */
  async ingest(
    objectKey: string,
    open: EventSource,
  ): Promise<IngestionEntry & { tenantId: string | null; unattributed: number; sendsRecorded: number }> {
    const parsed = parseCurrentsKey(objectKey);
    const finish = async (
      tenantId: string | null,
      tally: Tally,
      status: IngestionEntry['status'],
      reason: string | null,
    ) => {
      const entry: IngestionEntry = {
        key: objectKey,
        status,
        reason,
        events: tally.events,
        attributed: tally.attributed,
        duplicates: tally.duplicates,
        bots: tally.bots,
        ingestedAt: this.deps.clockMs(),
      };
      await this.deps.log.record(tenantId, entry);
      return { ...entry, tenantId, unattributed: tally.unattributed, sendsRecorded: tally.sendsRecorded };
    };
    const tally: Tally = {
      events: 0,
      attributed: 0,
      duplicates: 0,
      bots: 0,
      unattributed: 0,
      sendsRecorded: 0,
    };
    if (!parsed) return finish(null, tally, 'skipped', 'not a Currents object key (no event_type= segment)');
    const tenant = await this.deps.tenants.findByFolder(parsed.folder);
    if (!tenant) return finish(null, tally, 'skipped', 'no tenant owns this folder');
    if (!parsed.kind)
      return finish(tenant.id, tally, 'skipped', `event type ${parsed.eventType} is not used by weft`);

    try {
      const events = await open(parsed.kind);
      await this.attribute(tenant, events, tally);
    } catch (error) {
      const failure = classifyIngestionFailure(error);
      if (failure.retry) throw error;
      return finish(tenant.id, tally, 'failed', failure.reason);
    }
    return finish(tenant.id, tally, 'ok', null);
  }

  /**
   * Lists an object that cannot even be opened (the event garbled its key) as failed, with the plain reason:
   * under the tenant whose folder the key starts with, when one does, so its operator sees it.
   */
  async fail(
    objectKey: string,
    reason: string,
  ): Promise<IngestionEntry & { tenantId: string | null; unattributed: number; sendsRecorded: number }> {
    const parsed = parseCurrentsKey(objectKey);
    const tenantId = parsed ? ((await this.deps.tenants.findByFolder(parsed.folder))?.id ?? null) : null;
    const entry: IngestionEntry = {
      key: objectKey,
      status: 'failed',
      reason,
      events: 0,
      attributed: 0,
      duplicates: 0,
      bots: 0,
      ingestedAt: this.deps.clockMs(),
    };
    await this.deps.log.record(tenantId, entry);
    return { ...entry, tenantId, unattributed: 0, sendsRecorded: 0 };
  }

  private async attribute(tenant: Tenant, events: AsyncIterable<EngagementEvent>, tally: Tally) {
    // Bounded: memory stays flat however large the file. Exactness never depends on it (the ledger's
    // conditional writes do that); it saves store reads for repeats close together, as Currents has them. A
    // repeated event (same id) names the same recipient, so it is caught here too.
    const seenRecipients = new BoundedMap<true>(SEEN_LIMIT);
    const campaignExperiments = new Map<string, Promise<string[]>>();
    // A clicker's events repeat within a file (several links, duplicates): hash each recipient once (per
    // experiment).
    const recipientKeys = new BoundedMap<string>(SEEN_LIMIT);
    // Each experiment the file names, read once: its creation time (which pseudonym it keys recipients by), or
    // null when there is no such experiment.
    const knownExperiments = new Map<string, number | null>();
    let batch: Candidate[] = [];

    const experimentCreatedAt = async (id: string) => {
      let known = knownExperiments.get(id);
      if (known === undefined) {
        known = (await this.deps.experiments.get(tenant.id, id))?.createdAt ?? null;
        knownExperiments.set(id, known);
      }
      return known;
    };

    for await (const event of events) {
      tally.events++;
      if (event.suspectedBot) tally.bots++;
      const rewardKind = rewardKindOf(event);
      if (!rewardKind) continue;
      // A token naming a recipient already handled in this file needs no signature check: the claim only
      // routes the event to "duplicate", and a forged one could not count anything either way.
      const claimed = event.trackingToken ? readTrackingToken(event.trackingToken) : null;
      if (
        claimed &&
        claimed.tenantId === tenant.id &&
        seenRecipients.get(`${rewardKind}/${claimed.experimentId}/${claimed.recipientKey}`)
      ) {
        tally.duplicates++;
        continue;
      }
      const candidates = await this.candidatesFor(
        tenant,
        event,
        rewardKind,
        campaignExperiments,
        recipientKeys,
        experimentCreatedAt,
      );
      if (candidates.length === 0) tally.unattributed++;
      for (const candidate of candidates) {
        const id = `${rewardKind}/${candidate.key.experimentId}/${candidate.key.recipientKey}`;
        if (seenRecipients.get(id)) {
          tally.duplicates++;
          continue;
        }
        const createdAt = knownExperiments.has(candidate.key.experimentId)
          ? knownExperiments.get(candidate.key.experimentId)
          : await experimentCreatedAt(candidate.key.experimentId);
        if (createdAt === null) continue;
        seenRecipients.set(id, true);
        batch.push(candidate);
      }
      if (batch.length >= BATCH_SIZE) {
        await this.reward(batch, tally);
        batch = [];
      }
    }
    if (batch.length > 0) await this.reward(batch, tally);
  }

  private async candidatesFor(
    tenant: Tenant,
    event: EngagementEvent,
    kind: RewardKind,
    campaignExperiments: Map<string, Promise<string[]>>,
    recipientKeys: BoundedMap<string>,
    experimentCreatedAt: (experimentId: string) => Promise<number | null>,
  ): Promise<Candidate[]> {
    if (event.trackingToken) {
      // The file's folder already named the tenant: its secrets verify the token, no second lookup.
      const claims = this.deps.rewards.verifyFor(tenant, event.trackingToken);
      if (claims) {
        return [{ key: claims, variantId: claims.variantId, sentAt: claims.sentAt, kind, at: event.time }];
      }
    }
    if (!event.campaignId || !event.recipientDigest) return [];
    let experiments = campaignExperiments.get(event.campaignId);
    if (!experiments) {
      experiments = this.deps.ledger.experimentsForCampaign(tenant.id, event.campaignId);
      campaignExperiments.set(event.campaignId, experiments);
    }
    const digest = event.recipientDigest;
    const candidates: Candidate[] = [];
    for (const experimentId of await experiments) {
      // The recipient's pseudonym in this experiment: per experiment, or tenant-wide for experiments older than
      // the tenant's per-experiment pseudonyms (only an upgraded tenant has both, and needs the creation time).
      const since = tenant.experimentPseudonymsSince;
      const createdAt = since !== null && since > 0 ? await experimentCreatedAt(experimentId) : undefined;
      if (createdAt === null) continue;
      const cacheKey = `${experimentId}\u0000${digest}`;
      let key = recipientKeys.get(cacheKey);
      if (!key) {
        key = recipientPseudonym(tenant, { id: experimentId, createdAt }, digest);
        recipientKeys.set(cacheKey, key);
      }
      candidates.push({
        key: { tenantId: tenant.id, experimentId, recipientKey: key },
        variantId: null,
        sentAt: null,
        kind,
        at: event.time,
      });
    }
    return candidates;
  }

  /** One batched read finds what is already rewarded; only new rewards are written. */
  private async reward(batch: Candidate[], tally: Tally) {
    const found = await this.deps.ledger.findMany(batch.map((c) => c.key));
    const byKey = new Map<string, Assignment>(found.map((a) => [`${a.experimentId}/${a.recipientKey}`, a]));
    // Seen now: the file's ingestion is when its rewards become visible (Currents writes files minutes late).
    const visibleAt = Math.floor(this.deps.clockMs() / 1000);
    const writes: Array<() => Promise<void>> = [];
    for (const candidate of batch) {
      const observed = {
        kind: candidate.kind,
        source: 'currents',
        at: candidate.at,
        visibleAt: Math.max(visibleAt, candidate.at),
      } as const;
      const assignment = byKey.get(`${candidate.key.experimentId}/${candidate.key.recipientKey}`);
      if (!assignment && candidate.variantId !== null && candidate.sentAt !== null) {
        // A verified token whose send was never recorded (its content write timed out): it records it now.
        const claims = { ...candidate.key, variantId: candidate.variantId, sentAt: candidate.sentAt };
        writes.push(async () => {
          const outcome = await this.deps.rewards.recordVerified(claims, observed, { fromToken: true });
          if (outcome === 'counted_with_send') tally.sendsRecorded++;
          if (outcome === 'counted' || outcome === 'counted_with_send') tally.attributed++;
          else if (outcome === 'duplicate') tally.duplicates++;
          else tally.unattributed++;
        });
        continue;
      }
      if (!assignment) {
        tally.unattributed++;
        continue;
      }
      if (
        candidate.variantId !== null &&
        (assignment.variantId !== candidate.variantId || assignment.sentAt !== candidate.sentAt)
      ) {
        tally.unattributed++;
        continue;
      }
      if (assignment[FIRST_REWARD_FIELD[candidate.kind]] !== null) {
        tally.duplicates++;
        continue;
      }
      writes.push(async () => {
        const outcome = await this.deps.rewards.recordVerified(
          { ...candidate.key, variantId: assignment.variantId, sentAt: assignment.sentAt },
          observed,
          { fromToken: candidate.variantId !== null },
        );
        if (outcome === 'counted' || outcome === 'counted_with_send') tally.attributed++;
        else if (outcome === 'duplicate') tally.duplicates++;
        else tally.unattributed++;
      });
    }
    for (let start = 0; start < writes.length; start += WRITE_CONCURRENCY) {
      await Promise.all(writes.slice(start, start + WRITE_CONCURRENCY).map((write) => write()));
    }
  }
}
