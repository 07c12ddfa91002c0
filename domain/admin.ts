// The admin use cases behind the experiments API: define, read, change status, report.
import { settledEvidence, visibilityModel } from './allocation-snapshot';
import { type DelayModel, defaultDelayOf } from './delay';
import { NotFoundError } from './errors';
import { changeStatus, defineExperiment, type Experiment, validateExperimentId } from './experiment';
import { parseLimit } from './paging';
import { allocate } from './policy';
import type { AllocationStore, SettledTier } from './ports/allocation-store';
import type { CounterReader } from './ports/counter-reader';
import type { ExperimentPage, ExperimentStore } from './ports/experiment-store';
import { buildReport, type Report } from './report';
import type { Tenant } from './tenant';

export interface AdminDeps {
  readonly experiments: ExperimentStore;
  readonly allocations: AllocationStore;
  readonly counters: CounterReader;
  readonly clock: () => number;
  readonly delayModel: (tenantId: string, experiment: Experiment) => Promise<DelayModel> | DelayModel;
}

const EMPTY_TIER: SettledTier = { readAt: 0, evidence: {}, totals: {} };

export class AdminService {
  constructor(private readonly deps: AdminDeps) {}

  async get(tenant: Tenant, id: string): Promise<Experiment> {
    const experiment = await this.deps.experiments.get(tenant.id, validateExperimentId(id, 'id'));
    if (!experiment) throw new NotFoundError('experiment');
    return experiment;
  }

  /** One page of the tenant's experiments; `query` is the request's `limit` and `cursor`, as given. */
  listPage(tenant: Tenant, query: { limit: string | null; cursor: string | null }): Promise<ExperimentPage> {
    return this.deps.experiments.listPage(tenant.id, {
      limit: parseLimit(query.limit),
      cursor: query.cursor,
    });
  }

  /** Creates or updates; `created` tells which. Validation happens before any write. */
  async put(
    tenant: Tenant,
    id: string,
    body: unknown,
  ): Promise<{ experiment: Experiment; created: boolean }> {
    const existing = await this.deps.experiments.get(tenant.id, validateExperimentId(id, 'id'));
    const experiment = defineExperiment(tenant.id, id, body, existing, this.deps.clock());
    await this.deps.experiments.save(experiment);
    return { experiment, created: existing === null };
  }

  async setStatus(tenant: Tenant, id: string, body: unknown): Promise<Experiment> {
    const experiment = changeStatus(await this.get(tenant, id), body, this.deps.clock());
    await this.deps.experiments.save(experiment);
    return experiment;
  }

  /**
   * Bounded reads: the experiment's head and settled sums (two small items), then only the send buckets of the
   * last two days; older buckets come from the settled sums (re-read hourly by the policy). `allocation` is
   * what containers serve now: the published snapshot's shares.
   */
  async report(tenant: Tenant, id: string): Promise<Report> {
    const experiment = await this.get(tenant, id);
    const now = this.deps.clock();
    const [head, settled] = await Promise.all([
      this.deps.allocations.head(tenant.id, experiment.id),
      this.deps.allocations.settled(tenant.id, experiment.id),
    ]);
    const counts = await this.deps.counters.read(
      tenant.id,
      experiment.id,
      settled ? { since: settled.recentStart } : {},
    );
    const delay = settled
      ? visibilityModel(settled, defaultDelayOf(experiment.metric))
      : await this.deps.delayModel(tenant.id, experiment);
    const older = settled
      ? { evidence: settledEvidence({ ...settled, recent: EMPTY_TIER }, now), totals: settled.old.totals }
      : undefined;
    const snapshot = head.snapshot?.experimentVersion === experiment.version ? head.snapshot : null;
    const allocation =
      experiment.status !== 'running'
        ? null
        : snapshot
          ? {
              shares: new Map(Object.entries(snapshot.shares)),
              phase: snapshot.phase,
              computedAt: snapshot.computedAt,
            }
          : allocate(experiment, counts, now, delay, older?.evidence);
    return buildReport(experiment, counts, allocation, now, delay, older);
  }
}
