// In-memory adapters with the same conditional semantics as the DynamoDB ones, for domain tests and the simulator.

import {
  addCounts,
  type Counts,
  FIRST_REWARD_FIELD,
  rewardIncrements,
  sendIncrements,
  zeroCounts,
} from '../../domain/counting';
import { type DelayHistogram, emptyDelayHistogram } from '../../domain/delay';
import { ConflictError } from '../../domain/errors';
import type { Experiment } from '../../domain/experiment';
import { decodeCursor, encodeCursor, type PageRequest } from '../../domain/paging';
import type {
  AllocationHead,
  AllocationSnapshot,
  AllocationStore,
  SettledCounts,
} from '../../domain/ports/allocation-store';
import type {
  Assignment,
  AssignmentKey,
  AssignmentLedger,
  AssignOutcome,
  NewAssignment,
  Reward,
  RewardKind,
  RewardOutcome,
} from '../../domain/ports/assignment-ledger';
import type { CounterReader, CounterReadOptions, SendBucketCount } from '../../domain/ports/counter-reader';
import type { DelayReader } from '../../domain/ports/delay-reader';
import type { ExperimentPage, ExperimentStore } from '../../domain/ports/experiment-store';
import type { IngestionEntry, IngestionLog } from '../../domain/ports/ingestion-log';
import type { CounterDelta, LedgerMaintenance } from '../../domain/ports/ledger-maintenance';
import type { CredentialsVersion, TenantStore } from '../../domain/ports/tenant-store';
import type { Tenant } from '../../domain/tenant';
import { sendBucketOf } from '../../domain/time';

const clone = <T>(value: T): T => structuredClone(value);

export class MemoryTenantStore implements TenantStore {
  private readonly tenants = new Map<string, Tenant>();

  async create(tenant: Tenant): Promise<void> {
    if (this.tenants.has(tenant.id))
      throw new ConflictError('tenant_exists', `tenant ${tenant.id} already exists`);
    if ([...this.tenants.values()].some((t) => t.folder === tenant.folder)) {
      throw new ConflictError('folder_taken', `folder ${tenant.folder} belongs to another tenant`);
    }
    this.tenants.set(tenant.id, clone(tenant));
  }
  async get(id: string) {
    const tenant = this.tenants.get(id);
    return tenant ? clone(tenant) : null;
  }
  async findByFolder(folder: string) {
    const tenant = [...this.tenants.values()].find((t) => t.folder === folder);
    return tenant ? clone(tenant) : null;
  }
  async replaceCredentials(tenant: Tenant, expected?: CredentialsVersion) {
    const existing = this.tenants.get(tenant.id);
    if (!existing) throw new ConflictError('tenant_missing', `tenant ${tenant.id} does not exist`);
    if (
      expected &&
      (existing.connectTokenHash !== expected.connectTokenHash ||
        existing.adminTokenHash !== expected.adminTokenHash)
    ) {
      throw new ConflictError(
        'tenant_changed',
        `tenant ${tenant.id} was rotated meanwhile; read it again and retry`,
      );
    }
    // Only the credentials: folder, recipient key, pseudonyms and creation time stay, as the table's update does.
    const { connectTokenHash, retiredConnectTokens, adminTokenHash, signingSecrets } = tenant;
    const credentials = { connectTokenHash, retiredConnectTokens, adminTokenHash, signingSecrets };
    this.tenants.set(tenant.id, clone({ ...existing, ...credentials }));
  }
  /** Nothing is stored in plain text here (nothing is stored at all); only the pseudonym scheme can be old. */
  async upgrade(id: string, experimentPseudonymsSince: number): Promise<'upgraded' | 'current'> {
    const existing = this.tenants.get(id);
    if (!existing) throw new ConflictError('tenant_missing', `tenant ${id} does not exist`);
    if (existing.experimentPseudonymsSince !== null) return 'current';
    this.tenants.set(id, { ...existing, experimentPseudonymsSince });
    return 'upgraded';
  }
  async list() {
    return [...this.tenants.values()].map(clone);
  }
}

export class MemoryExperimentStore implements ExperimentStore {
  private readonly experiments = new Map<string, Experiment>();
  private key = (tenantId: string, id: string) => `${tenantId}\u0000${id}`;

  async get(tenantId: string, id: string) {
    const experiment = this.experiments.get(this.key(tenantId, id));
    return experiment ? clone(experiment) : null;
  }
  async list(tenantId: string) {
    return [...this.experiments.values()].filter((e) => e.tenantId === tenantId).map(clone);
  }
  /** Same order as the table's sort key (byte order of the ids), same cursor checks, same exact last page. */
  async listPage(tenantId: string, { limit, cursor }: PageRequest): Promise<ExperimentPage> {
    const after = cursor === null ? null : decodeCursor(cursor);
    const following = [...this.experiments.values()]
      .filter((e) => e.tenantId === tenantId && (after === null || e.id > after))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const experiments = following.slice(0, limit).map(clone);
    const last = experiments.at(-1);
    return { experiments, nextCursor: following.length > limit && last ? encodeCursor(last.id) : null };
  }
  async save(experiment: Experiment) {
    const stored = this.experiments.get(this.key(experiment.tenantId, experiment.id));
    if ((stored?.version ?? 0) !== experiment.version - 1) {
      throw new ConflictError(
        'version_conflict',
        'the experiment changed meanwhile; read it again and retry',
      );
    }
    this.experiments.set(this.key(experiment.tenantId, experiment.id), clone(experiment));
  }
  /** What the DynamoDB adapter writes to the experiment's head with every save. */
  definitionVersion(tenantId: string, id: string): number {
    return this.experiments.get(this.key(tenantId, id))?.version ?? 0;
  }
}

/** The head of each experiment: the definition version comes from the experiment store, as one item would. */
export class MemoryAllocationStore implements AllocationStore {
  private readonly heads = new Map<
    string,
    { snapshot: string | null; leaseUntil: number; epoch: number; leaseVersion?: number }
  >();
  private readonly settledCounts = new Map<string, string>();
  /** Store calls made so far. */
  calls = 0;

  constructor(private readonly experiments: MemoryExperimentStore) {}

  private entry(tenantId: string, id: string) {
    const key = `${tenantId}\u0000${id}`;
    let entry = this.heads.get(key);
    if (!entry) {
      entry = { snapshot: null, leaseUntil: 0, epoch: 0 };
      this.heads.set(key, entry);
    }
    return entry;
  }

  async head(tenantId: string, id: string): Promise<AllocationHead> {
    this.calls++;
    const entry = this.entry(tenantId, id);
    return {
      definitionVersion: this.experiments.definitionVersion(tenantId, id),
      snapshot: entry.snapshot ? (JSON.parse(entry.snapshot) as AllocationSnapshot) : null,
      leaseUntil: entry.leaseUntil,
    };
  }

  async acquireLease(
    tenantId: string,
    id: string,
    now: number,
    until: number,
    options: { readonly experimentVersion?: number } = {},
  ): Promise<number | null> {
    this.calls++;
    const entry = this.entry(tenantId, id);
    const publishedVersion = entry.snapshot
      ? (JSON.parse(entry.snapshot) as AllocationSnapshot).experimentVersion
      : null;
    const version = options.experimentVersion;
    // After an edit the lease may be taken over once per new version (the table records lease_version).
    const edited =
      version !== undefined &&
      publishedVersion !== null &&
      publishedVersion !== version &&
      entry.leaseVersion !== version;
    if (entry.leaseUntil > now && !edited) return null;
    if (version !== undefined) entry.leaseVersion = version;
    entry.leaseUntil = until;
    entry.epoch += 1;
    return entry.epoch;
  }

  async publish(
    tenantId: string,
    id: string,
    epoch: number,
    snapshot: AllocationSnapshot,
    settled: SettledCounts | null,
  ): Promise<boolean> {
    this.calls++;
    const entry = this.entry(tenantId, id);
    // Epoch 0 means no lease was ever taken: the table's condition finds no epoch to match.
    if (entry.epoch === 0 || entry.epoch !== epoch) return false;
    entry.snapshot = JSON.stringify(snapshot);
    entry.leaseUntil = snapshot.nextDueAt ?? 0;
    if (settled) this.settledCounts.set(`${tenantId}\u0000${id}`, JSON.stringify(settled));
    return true;
  }

  async settled(tenantId: string, id: string): Promise<SettledCounts | null> {
    this.calls++;
    const data = this.settledCounts.get(`${tenantId}\u0000${id}`);
    return data ? (JSON.parse(data) as SettledCounts) : null;
  }
}

type Counter = Counts;

const NO_REWARDS = {
  openedAt: null,
  machineOpenedAt: null,
  clickedAt: null,
  clickSource: null,
  convertedAt: null,
} as const;

export class MemoryLedger implements AssignmentLedger, CounterReader, DelayReader, LedgerMaintenance {
  private readonly delays = new Map<string, number[]>();
  private readonly assignments = new Map<string, Assignment>();
  private readonly counters = new Map<string, Counter>();
  private readonly campaigns = new Map<string, Set<string>>();
  /** Store calls made so far: lets tests and benchmarks count round trips. */
  roundTrips = 0;

  private key = (k: AssignmentKey) => `${k.tenantId}\u0000${k.experimentId}\u0000${k.recipientKey}`;
  private counterKey = (tenantId: string, experimentId: string, bucketStart: number, variantId: string) =>
    `${tenantId}\u0000${experimentId}\u0000${bucketStart}\u0000${variantId}`;

  private bump(
    tenantId: string,
    experimentId: string,
    sentAt: number,
    variantId: string,
    increments: Partial<Counts>,
  ) {
    const key = this.counterKey(tenantId, experimentId, sendBucketOf(sentAt), variantId);
    this.counters.set(key, addCounts(this.counters.get(key) ?? zeroCounts(), increments));
  }

  async assign(a: NewAssignment): Promise<AssignOutcome> {
    this.roundTrips++;
    const existing = this.assignments.get(this.key(a));
    if (existing) return { created: false, existing: clone(existing) };
    this.assignments.set(this.key(a), {
      tenantId: a.tenantId,
      experimentId: a.experimentId,
      recipientKey: a.recipientKey,
      variantId: a.variantId,
      sentAt: a.sentAt,
      campaignId: a.campaignId,
      ...NO_REWARDS,
    });
    this.bump(a.tenantId, a.experimentId, a.sentAt, a.variantId, sendIncrements(a.sentAt));
    if (a.campaignId) {
      const set = this.campaigns.get(`${a.tenantId}\u0000${a.campaignId}`) ?? new Set();
      set.add(a.experimentId);
      this.campaigns.set(`${a.tenantId}\u0000${a.campaignId}`, set);
    }
    return { created: true };
  }

  async find(key: AssignmentKey) {
    this.roundTrips++;
    const found = this.assignments.get(this.key(key));
    return found ? clone(found) : null;
  }

  async findMany(keys: readonly AssignmentKey[]) {
    this.roundTrips++;
    // A key asked for twice is answered once, as a batch read does.
    return [...new Set(keys.map(this.key))].flatMap((key) => {
      const found = this.assignments.get(key);
      return found ? [clone(found)] : [];
    });
  }

  async reward(r: Reward): Promise<RewardOutcome> {
    this.roundTrips++;
    let existing = this.assignments.get(this.key(r));
    let outcome: RewardOutcome = 'counted';
    if (!existing && r.expiresAt !== undefined) {
      // The send's own write never landed: the verified token records it, with the reward, once.
      existing = {
        tenantId: r.tenantId,
        experimentId: r.experimentId,
        recipientKey: r.recipientKey,
        variantId: r.variantId,
        sentAt: r.sentAt,
        campaignId: null,
        ...NO_REWARDS,
      };
      this.assignments.set(this.key(r), existing);
      this.bump(r.tenantId, r.experimentId, r.sentAt, r.variantId, sendIncrements(r.sentAt));
      outcome = 'counted_with_send';
    }
    if (!existing || existing.variantId !== r.variantId || existing.sentAt !== r.sentAt)
      return 'no_assignment';
    const field = FIRST_REWARD_FIELD[r.kind];
    if (existing[field] !== null) return 'duplicate';
    const state = { opened: existing.openedAt !== null, machineOpened: existing.machineOpenedAt !== null };
    this.assignments.set(this.key(r), {
      ...existing,
      [field]: r.at,
      ...(r.kind === 'click' ? { clickSource: r.source } : {}),
    });
    this.bump(r.tenantId, r.experimentId, r.sentAt, r.variantId, rewardIncrements(r.kind, r.source, state));
    if (r.delayBucket !== null) {
      const delays = this.delays.get(`${r.tenantId}\u0000${r.kind}`) ?? [...emptyDelayHistogram().counts];
      delays[r.delayBucket] = (delays[r.delayBucket] ?? 0) + 1;
      this.delays.set(`${r.tenantId}\u0000${r.kind}`, delays);
    }
    return outcome;
  }

  async histogram(tenantId: string, kind: RewardKind): Promise<DelayHistogram> {
    this.roundTrips++;
    return { counts: [...(this.delays.get(`${tenantId}\u0000${kind}`) ?? emptyDelayHistogram().counts)] };
  }

  async experimentsForCampaign(tenantId: string, campaignId: string) {
    this.roundTrips++;
    return [...(this.campaigns.get(`${tenantId}\u0000${campaignId}`) ?? [])];
  }

  async read(
    tenantId: string,
    experimentId: string,
    options: CounterReadOptions = {},
  ): Promise<SendBucketCount[]> {
    this.roundTrips++;
    const prefix = `${tenantId}\u0000${experimentId}\u0000`;
    return [...this.counters.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([key, counter]) => {
        const [, , bucketStart, variantId] = key.split('\u0000');
        return { bucketStart: Number(bucketStart), variantId: variantId!, ...counter };
      })
      .filter((count) => options.since === undefined || count.bucketStart >= options.since);
  }

  async *scanAssignments(): AsyncIterable<Assignment[]> {
    yield this.allAssignments();
  }

  async adjustCounters(
    tenantId: string,
    experimentId: string,
    bucketStart: number,
    variantId: string,
    delta: CounterDelta,
  ) {
    const key = this.counterKey(tenantId, experimentId, bucketStart, variantId);
    this.counters.set(key, addCounts(this.counters.get(key) ?? zeroCounts(), delta));
  }

  /** Every stored assignment (for reconcile-style assertions in tests). */
  allAssignments(): Assignment[] {
    return [...this.assignments.values()].map(clone);
  }
}

/** Longest reason the table keeps. */
const MAX_REASON_LENGTH = 500;

/**
 * The ingestion log as the DynamoDB one keeps it: one entry per tenant, time and key (the same again replaces
 * it), listed by ingestion time then key, newest first; reasons cut to 500 characters.
 */
export class MemoryIngestionLog implements IngestionLog {
  /** Most recently recorded first. */
  readonly entries: Array<IngestionEntry & { tenantId: string | null }> = [];
  async record(tenantId: string | null, entry: IngestionEntry): Promise<void> {
    const same = this.entries.findIndex(
      (e) => e.tenantId === tenantId && e.ingestedAt === entry.ingestedAt && e.key === entry.key,
    );
    if (same >= 0) this.entries.splice(same, 1);
    const reason = entry.reason ? entry.reason.slice(0, MAX_REASON_LENGTH) : null;
    this.entries.unshift({ ...entry, reason, tenantId });
  }
  async list(tenantId: string, limit: number): Promise<IngestionEntry[]> {
    return this.entries
      .filter((e) => e.tenantId === tenantId)
      .sort((a, b) => b.ingestedAt - a.ingestedAt || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0))
      .slice(0, limit)
      .map(({ tenantId: _tenantId, ...entry }) => entry);
  }
}
