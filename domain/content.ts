// Content selection: which variant a recipient gets. Sticky per (experiment, recipient), one store round trip
// for a new recipient, none for one this container has just served, and never a failed send: when the store
// is slow or down the answer is the recipient's known variant or the default one, flagged as a fallback.
import { BoundedMap, RefreshingCache, withDeadline } from './cache';
import type { DelayModel } from './delay';
import { ConflictError, NotFoundError, StoreUnavailableError } from './errors';
import {
  activeVariants,
  changeStatus,
  defaultVariant,
  type Experiment,
  findVariant,
  type Variant,
} from './experiment';
import { type Allocation, allocate, evidenceByVariant, verdict } from './policy';
import type { AssignmentLedger } from './ports/assignment-ledger';
import type { CounterReader, SendBucketCount } from './ports/counter-reader';
import type { ExperimentStore } from './ports/experiment-store';
import { pickWeighted, type Random } from './random';
import { recipientKey } from './recipient';
import type { Tenant } from './tenant';
import { signTrackingToken } from './tracking-token';

const EXPERIMENT_MAX_AGE_SECONDS = 5;

export interface ContentRequest {
  readonly experimentId: string;
  readonly recipientDigest: string;
  readonly campaignId: string | null;
  readonly dispatchId: string | null;
}

export interface ContentAnswer {
  readonly experimentId: string;
  readonly variant: Variant | null;
  readonly token: string | null;
  readonly fallback: boolean;
}

export type FallbackReason = 'store_unavailable' | 'experiment_unavailable';

export interface ContentServiceDeps {
  readonly experiments: ExperimentStore;
  readonly ledger: AssignmentLedger;
  readonly counters: CounterReader;
  readonly random: Random;
  /** Unix seconds. */
  readonly clock: () => number;
  /** Wall-clock budget for store calls of one request, in milliseconds. */
  readonly budgetMs: number;
  readonly assignmentTtlSeconds: number;
  readonly delayModel: (tenantId: string, experiment: Experiment) => DelayModel | Promise<DelayModel>;
  readonly onFallback?: (reason: FallbackReason, error: unknown) => void;
  readonly onBackgroundError?: (error: unknown) => void;
}

interface Served {
  readonly variantId: string;
  readonly sentAt: number;
}

export class ContentService {
  private readonly experiments: RefreshingCache<Experiment | null>;
  private readonly allocations: RefreshingCache<Allocation>;
  /** Recipients this container served lately (keyed by digest): repeats cost no store call and no hashing. */
  private readonly recent = new BoundedMap<ContentAnswer>(50_000);

  constructor(private readonly deps: ContentServiceDeps) {
    this.experiments = new RefreshingCache(10_000, deps.onBackgroundError);
    this.allocations = new RefreshingCache(10_000, deps.onBackgroundError);
  }

  /**
   * The allocation now served for an experiment, computed from the counters at most every `refresh_seconds`.
   * A cold container waits for the counters at most half the budget; past that it serves equal shares for
   * this request while the read finishes in the background.
   */
  async allocation(tenantId: string, experiment: Experiment, deadlineMs = Date.now() + this.deps.budgetMs) {
    const key = `${tenantId}/${experiment.id}/${experiment.version}`;
    const cold = this.allocations.peek(key) === undefined;
    const loading = this.allocations.get(
      key,
      async () => {
        const counts = await this.deps.counters.read(tenantId, experiment.id);
        const delay = await this.deps.delayModel(tenantId, experiment);
        const allocation = allocate(experiment, counts, this.deps.clock(), delay);
        if (experiment.options.auto_finish && allocation.phase !== 'burn_in') {
          await this.finishIfConfident(experiment, counts, delay);
        }
        return allocation;
      },
      this.deps.clock(),
      experiment.options.refresh_seconds,
    );
    if (!cold) return loading;
    loading.catch((error) => this.deps.onBackgroundError?.(error));
    const waitMs = Math.max(0, Math.min(deadlineMs - Date.now(), this.deps.budgetMs / 2));
    let timer: NodeJS.Timeout | undefined;
    const interim = new Promise<Allocation>((resolve) => {
      timer = setTimeout(() => resolve(equalShares(experiment, this.deps.clock())), waitMs);
    });
    try {
      return await Promise.race([loading, interim]);
    } finally {
      clearTimeout(timer);
    }
  }

  async select(tenant: Tenant, request: ContentRequest): Promise<ContentAnswer> {
    const deadline = Date.now() + this.deps.budgetMs;
    const experimentKey = `${tenant.id}/${request.experimentId}`;
    let experiment = this.experiments.fresh(experimentKey, this.deps.clock(), EXPERIMENT_MAX_AGE_SECONDS);
    try {
      experiment ??= await this.experiments.get(
        experimentKey,
        () =>
          withDeadline(deadline, () => this.deps.experiments.get(tenant.id, request.experimentId), timeout),
        this.deps.clock(),
        EXPERIMENT_MAX_AGE_SECONDS,
      );
    } catch (error) {
      // Cold container and no store: nothing to serve but an honest fallback with no text.
      this.deps.onFallback?.('experiment_unavailable', error);
      return { experimentId: request.experimentId, variant: null, token: null, fallback: true };
    }
    if (!experiment) throw new NotFoundError('experiment');

    const recentKey = `${tenant.id}/${experiment.id}/${experiment.version}/${request.recipientDigest}`;
    const known = this.recent.get(recentKey);
    if (known) return known;
    const key = recipientKey(tenant.recipientKey, request.recipientDigest);
    const now = this.deps.clock();
    const remember = (served: Served): ContentAnswer => {
      const result = answer(served, false);
      this.recent.set(recentKey, result);
      return result;
    };
    const answer = (served: Served, fallback: boolean): ContentAnswer => {
      const variant = servable(experiment, served.variantId);
      return {
        experimentId: experiment.id,
        variant,
        fallback,
        token: signTrackingToken(
          {
            tenantId: tenant.id,
            experimentId: experiment.id,
            variantId: variant.id,
            recipientKey: key,
            sentAt: served.sentAt,
          },
          tenant.signingSecrets[0]!.secret,
        ),
      };
    };

    try {
      if (experiment.status !== 'running') {
        const existing = await withDeadline(
          deadline,
          (signal) =>
            this.deps.ledger.find(
              { tenantId: tenant.id, experimentId: experiment.id, recipientKey: key },
              { signal },
            ),
          timeout,
        );
        return existing
          ? remember(existing)
          : answer({ variantId: defaultVariant(experiment).id, sentAt: now }, false);
      }
      const allocation = await this.allocation(tenant.id, experiment, deadline);
      const active = activeVariants(experiment);
      const chosen =
        active[
          pickWeighted(
            this.deps.random,
            active.map((v) => allocation.shares.get(v.id) ?? 0),
          )
        ] ?? active[0]!;
      const outcome = await withDeadline(
        deadline,
        (signal) =>
          this.deps.ledger.assign(
            {
              tenantId: tenant.id,
              experimentId: experiment.id,
              recipientKey: key,
              variantId: chosen.id,
              sentAt: now,
              campaignId: request.campaignId,
              dispatchId: request.dispatchId,
              expiresAt: now + this.deps.assignmentTtlSeconds,
            },
            { signal },
          ),
        timeout,
      );
      return remember(outcome.created ? { variantId: chosen.id, sentAt: now } : outcome.existing);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.deps.onFallback?.('store_unavailable', error);
      return answer({ variantId: defaultVariant(experiment).id, sentAt: now }, true);
    }
  }

  /** `auto_finish`: once a variant is confidently best, the experiment finishes with it as the winner. */
  private async finishIfConfident(experiment: Experiment, counts: SendBucketCount[], delay: DelayModel) {
    const now = this.deps.clock();
    const { leader, confident } = verdict(experiment, evidenceByVariant(experiment, counts, now, delay));
    if (!confident || !leader) return;
    try {
      await this.deps.experiments.save(changeStatus(experiment, { status: 'finished', winner: leader }, now));
      this.invalidate(experiment.tenantId, experiment.id);
    } catch (error) {
      // Another container finished it first, or the marketer changed it meanwhile: theirs stands.
      if (!(error instanceof ConflictError)) throw error;
    }
  }

  /** Forget cached state of an experiment (after an admin change in the same container). */
  invalidate(tenantId: string, experimentId: string): void {
    this.experiments.delete(`${tenantId}/${experimentId}`);
  }
}

function equalShares(experiment: Experiment, now: number): Allocation {
  const active = activeVariants(experiment);
  return { shares: new Map(active.map((v) => [v.id, 1 / active.length])), phase: 'burn_in', computedAt: now };
}

function timeout(): StoreUnavailableError {
  return new StoreUnavailableError('request budget exceeded');
}

/** A retired variant is no longer served; its recipients get the default variant instead. */
function servable(experiment: Experiment, variantId: string): Variant {
  const variant = findVariant(experiment, variantId);
  return variant && variant.state === 'active' ? variant : defaultVariant(experiment);
}
