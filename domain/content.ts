// Content selection: which variant a recipient gets. Sticky per (experiment, recipient); no store call for a
// repeat this container served, at most two sequential ones otherwise (the assignment read, then the send
// transaction), plus the experiment's head read at most every few seconds. Every store call, the tenant lookup
// included, runs inside the request budget. When the store is slow or down the answer is the recipient's
// deterministic pick, signed, flagged as a fallback: the same variant a late-landing write records.
import { pickUnit, pickVariant, recomputeSnapshot, snapshotDue } from './allocation-snapshot';
import { approximateBytes, BoundedMap, ByteBoundedMap, withDeadline } from './cache';
import { NotFoundError, StoreUnavailableError } from './errors';
import { defaultVariant, type Experiment, findVariant, type Variant } from './experiment';
import type { AllocationHead, AllocationSnapshot, AllocationStore } from './ports/allocation-store';
import type { Assignment, AssignmentLedger } from './ports/assignment-ledger';
import type { CounterReader } from './ports/counter-reader';
import type { DelayReader } from './ports/delay-reader';
import type { ExperimentStore } from './ports/experiment-store';
import { recipientPseudonym } from './recipient';
import type { Tenant } from './tenant';
import type { TenantDirectory } from './tenant-directory';
import { signTrackingToken } from './tracking-token';

/** Definitions (status, texts, options) are checked at least this often, whatever `refresh_seconds` says. */
export const DEFINITION_MAX_AGE_SECONDS = 5;
/** After a failed check, the last known state is served (flagged) this long before the store is asked again. */
const RETRY_AFTER_SECONDS = 1;

/** Byte bounds of the per-container caches (the content function has 512 MB; these stay far below). */
export const CONTENT_CACHE_BYTES = {
  /** Experiment definitions with their heads: the largest definition is bounded by the 256 KB request body. */
  experiments: 48 * 1024 * 1024,
  /** Recipients this container served: about 450 bytes each (key, variant id, token). */
  answers: 32 * 1024 * 1024,
} as const;

export interface ContentRequest {
  readonly experimentId: string;
  readonly recipientDigest: string;
  readonly campaignId: string | null;
  readonly dispatchId: string | null;
}

export interface ContentAnswer {
  /** Null when no tenant could be read (an empty fallback). */
  readonly tenantId: string | null;
  readonly experimentId: string;
  /** Definition version the variant was taken from (renderers key their caches by it). */
  readonly experimentVersion: number;
  readonly variant: Variant | null;
  readonly token: string | null;
  readonly fallback: boolean;
}

export type FallbackReason =
  | 'tenant_unavailable'
  | 'experiment_unavailable'
  | 'state_stale'
  | 'assignment_unconfirmed'
  /** Over the optional cap on new recipients per second: the recipient's pick, not recorded. */
  | 'new_recipient_cap';

export interface ContentServiceDeps {
  readonly tenants: TenantDirectory;
  readonly experiments: ExperimentStore;
  readonly allocations: AllocationStore;
  readonly ledger: AssignmentLedger;
  readonly counters: CounterReader;
  readonly delays: DelayReader;
  /** Unix seconds. */
  readonly clock: () => number;
  /** Wall-clock budget for every store call of one request, the tenant lookup included, in milliseconds. */
  readonly budgetMs: number;
  readonly assignmentTtlSeconds: number;
  /** Tokens count for this long after their send (they carry it); default the assignment TTL. */
  readonly tokenMaxAgeSeconds?: number;
  readonly cacheBytes?: Partial<Record<keyof typeof CONTENT_CACHE_BYTES, number>>;
  /**
   * Optional cap on new recipients (first assignments) per tenant and second, enforced by this container
   * alone: a fleet of N containers admits up to N times as many. Off (null) by default.
   */
  readonly newRecipientCap?: NewRecipientCap | null;
  /** The one place a fallback is reported (metric, log). */
  readonly onFallback?: (reason: FallbackReason, error: unknown) => void;
  readonly onBackgroundError?: (error: unknown) => void;
}

interface ExperimentState {
  readonly experiment: Experiment | null;
  readonly head: AllocationHead;
  /** Unix seconds at which the store is asked again. */
  readonly checkAt: number;
  /** True while this is the last known state because the store could not be read. */
  readonly stale: boolean;
}

interface Remembered {
  readonly variantId: string;
  readonly token: string;
}

export class ContentService {
  private readonly states: ByteBoundedMap<ExperimentState>;
  /** Recipients this container served lately: repeats cost no store call. Keyed by experiment version too. */
  private readonly answers: ByteBoundedMap<Remembered>;
  private readonly stateLoads = new Map<string, Promise<ExperimentState>>();
  /** Experiments this container last tried to recompute, and when: one attempt per second at most. */
  private readonly recomputeTried = new BoundedMap<number>(10_000);
  private readonly newRecipients: NewRecipientLimiter | null;

  constructor(private readonly deps: ContentServiceDeps) {
    this.states = new ByteBoundedMap(deps.cacheBytes?.experiments ?? CONTENT_CACHE_BYTES.experiments);
    this.answers = new ByteBoundedMap(deps.cacheBytes?.answers ?? CONTENT_CACHE_BYTES.answers);
    this.newRecipients = deps.newRecipientCap ? new NewRecipientLimiter(deps.newRecipientCap) : null;
  }

  /** Bytes held by the caches, for benchmarks and tests. */
  cachedBytes(): number {
    return this.states.bytes + this.answers.bytes;
  }

  /**
   * `request` may be a function: it is then read only after the caller is authenticated, so a caller without a
   * valid token learns nothing about which parameters are valid (401 before 400).
   */
  async select(
    bearerToken: string | null,
    requested: ContentRequest | (() => ContentRequest),
  ): Promise<ContentAnswer> {
    const deadline = Date.now() + this.deps.budgetMs;
    let tenant: Tenant;
    try {
      tenant = await this.deps.tenants.authenticate(bearerToken, 'connect', deadline);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      const request = typeof requested === 'function' ? requested() : requested;
      // Nothing known: no secret to pick or sign with. An honest empty answer rather than a failed send.
      return this.fallback('tenant_unavailable', error, emptyAnswer(request.experimentId));
    }
    const request = typeof requested === 'function' ? requested() : requested;

    const stateKey = `${tenant.id}/${request.experimentId}`;
    const now = this.deps.clock();
    let state = this.states.get(stateKey);
    if (state?.experiment && !state.stale && now < state.checkAt) {
      const known = this.answers.get(answerKey(state.experiment, request.recipientDigest));
      if (known) return this.answerFor(state.experiment, known, false);
    }

    // The recipient's pseudonym depends on the experiment's age (per experiment since the tenant has them): a
    // container that does not know the experiment yet guesses, and checks once it is read (below).
    const guessed = { id: request.experimentId, createdAt: state?.experiment?.createdAt };
    let key = recipientPseudonym(tenant, guessed, request.recipientDigest);
    let assignmentKey = { tenantId: tenant.id, experimentId: request.experimentId, recipientKey: key };
    const readExisting = () => {
      const read = withDeadline(
        deadline,
        (signal) => this.deps.ledger.find(assignmentKey, { signal }),
        timeout,
      );
      read.catch(() => {});
      return read;
    };
    // The assignment read runs beside the state check (both one round trip), unless this container remembers
    // the recipient: then it is only needed if the definition moved, and a repeat costs no read.
    const remembersRecipient = state?.experiment
      ? this.answers.get(answerKey(state.experiment, request.recipientDigest)) !== undefined
      : false;
    let existingRead = remembersRecipient ? null : readExisting();
    if (!state || now >= state.checkAt) {
      try {
        state = await this.refreshState(tenant.id, request.experimentId, state, deadline, now);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        return this.fallback('experiment_unavailable', error, emptyAnswer(request.experimentId));
      }
    }
    const experiment = state.experiment;
    if (!experiment) throw new NotFoundError('experiment');
    const staleState = state.stale;

    const remembered = this.answers.get(answerKey(experiment, request.recipientDigest));
    if (remembered) return this.answerFor(experiment, remembered, staleState);
    if (guessed.createdAt === undefined) {
      const pseudonym = recipientPseudonym(tenant, experiment, request.recipientDigest);
      if (pseudonym !== key) {
        // Guessed wrong (an experiment older than the tenant's per-experiment pseudonyms): read again, once.
        key = pseudonym;
        assignmentKey = { ...assignmentKey, recipientKey: key };
        existingRead = null;
      }
    }

    let existing: Assignment | null | undefined;
    try {
      existingRead ??= readExisting();
      existing = await existingRead;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      existing = undefined; // unknown: the send transaction below still finds an existing assignment
    }
    if (existing) return this.remember(tenant, experiment, request.recipientDigest, existing, staleState);

    if (experiment.status !== 'running') {
      // Paused or finished: no new assignment, so no token (a reward could not be tied to a send).
      const answer = {
        tenantId: tenant.id,
        experimentId: experiment.id,
        experimentVersion: experiment.version,
        variant: defaultVariant(experiment),
        token: null,
        fallback: staleState || existing === undefined,
      };
      return answer.fallback ? this.fallback('state_stale', null, answer) : answer;
    }

    const chosen = pickVariant(
      experiment,
      state.head.snapshot,
      pickUnit(tenant.recipientKey, experiment.id, request.recipientDigest),
    );
    if (this.newRecipients && !this.newRecipients.admit(tenant.id)) {
      // Over the cap: the pick this recipient would get, recorded nowhere and so without a token (a token's
      // first reward would record the send, for engaged recipients only, and skew the rates).
      return this.fallback('new_recipient_cap', null, {
        tenantId: tenant.id,
        experimentId: experiment.id,
        experimentVersion: experiment.version,
        variant: chosen,
        token: null,
        fallback: true,
      });
    }
    const recompute = this.recomputeIfDue(stateKey, experiment, state, deadline, now);
    try {
      const outcome = await withDeadline(
        deadline,
        (signal) =>
          this.deps.ledger.assign(
            {
              ...assignmentKey,
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
      const served = outcome.created ? { variantId: chosen.id, sentAt: now } : outcome.existing;
      return this.remember(
        tenant,
        experiment,
        request.recipientDigest,
        { ...assignmentKey, ...served },
        staleState,
      );
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      // The write may still land, with this very variant; if it never does, the token's first reward records
      // the send (see TokenRewards). Either way the recipient is counted once, on the variant shown.
      const token = this.sign(tenant, experiment.id, chosen.id, key, now);
      return this.fallback('assignment_unconfirmed', error, {
        tenantId: tenant.id,
        experimentId: experiment.id,
        experimentVersion: experiment.version,
        variant: chosen,
        token,
        fallback: true,
      });
    } finally {
      await recompute;
    }
  }

  /** Reads the head (and the definition when its version moved) within the deadline; stale state on failure. */
  private async refreshState(
    tenantId: string,
    experimentId: string,
    cached: ExperimentState | undefined,
    deadline: number,
    now: number,
  ): Promise<ExperimentState> {
    const key = `${tenantId}/${experimentId}`;
    let load = this.stateLoads.get(key);
    if (!load) {
      load = this.loadState(tenantId, experimentId, cached, now).finally(() => this.stateLoads.delete(key));
      this.stateLoads.set(key, load);
    }
    try {
      const state = await withDeadline(deadline, () => load, timeout);
      this.states.set(key, state, approximateBytes(state.experiment) + 512);
      return state;
    } catch (error) {
      if (!cached || !(error instanceof StoreUnavailableError)) throw error;
      const stale = { ...cached, stale: true, checkAt: now + RETRY_AFTER_SECONDS };
      this.states.set(key, stale, approximateBytes(stale.experiment) + 512);
      return stale;
    }
  }

  private async loadState(
    tenantId: string,
    experimentId: string,
    cached: ExperimentState | undefined,
    now: number,
  ): Promise<ExperimentState> {
    const known = cached?.experiment ?? null;
    // A cold container reads head and definition side by side; a warm one reads the definition only when the
    // head says it changed (or when there is no head: an experiment saved before heads existed).
    const [head, fresh] = await Promise.all([
      this.deps.allocations.head(tenantId, experimentId),
      cached ? Promise.resolve(undefined) : this.deps.experiments.get(tenantId, experimentId),
    ]);
    let experiment: Experiment | null = fresh === undefined ? known : fresh;
    if (fresh === undefined && (head.definitionVersion === 0 || head.definitionVersion !== known?.version)) {
      experiment = await this.deps.experiments.get(tenantId, experimentId);
    }
    const period = Math.min(
      DEFINITION_MAX_AGE_SECONDS,
      experiment?.options.refresh_seconds ?? DEFINITION_MAX_AGE_SECONDS,
    );
    return { experiment, head, checkAt: now + period, stale: false };
  }

  /**
   * When the shared snapshot is due and nobody holds the lease, this request recomputes it, side by side with
   * its own send, within its deadline. Never throws: a failed recompute is retried by the next request.
   */
  private async recomputeIfDue(
    stateKey: string,
    experiment: Experiment,
    state: ExperimentState,
    deadline: number,
    now: number,
  ): Promise<void> {
    if (state.stale || !snapshotDue(experiment, state.head.snapshot, now)) return;
    // Held by a recomputing container, or published and not yet due: unless an edit made it obsolete.
    const edited =
      state.head.snapshot !== null && state.head.snapshot.experimentVersion !== experiment.version;
    if (state.head.leaseUntil > now && !edited) return;
    if ((this.recomputeTried.get(stateKey) ?? -1) >= now) return;
    this.recomputeTried.set(stateKey, now);
    try {
      const snapshot = await withDeadline(
        deadline,
        (signal) => recomputeSnapshot(this.deps, experiment, now, { signal }),
        timeout,
      );
      if (snapshot) this.adoptSnapshot(stateKey, snapshot);
    } catch (error) {
      this.deps.onBackgroundError?.(error);
    }
  }

  private adoptSnapshot(stateKey: string, snapshot: AllocationSnapshot) {
    const state = this.states.get(stateKey);
    if (!state || state.experiment?.version !== snapshot.experimentVersion) return;
    const head = { ...state.head, snapshot, leaseUntil: snapshot.nextDueAt ?? 0 };
    this.states.set(stateKey, { ...state, head }, approximateBytes(state.experiment) + 512);
  }

  private remember(
    tenant: Tenant,
    experiment: Experiment,
    digest: string,
    assignment: Pick<Assignment, 'variantId' | 'sentAt' | 'recipientKey'>,
    stale: boolean,
  ): ContentAnswer {
    const token = this.sign(
      tenant,
      experiment.id,
      assignment.variantId,
      assignment.recipientKey,
      assignment.sentAt,
    );
    const remembered = { variantId: assignment.variantId, token };
    const key = answerKey(experiment, digest);
    this.answers.set(key, remembered, 64 + assignment.variantId.length * 2 + token.length * 2);
    return this.answerFor(experiment, remembered, stale);
  }

  private answerFor(experiment: Experiment, known: Remembered, stale: boolean): ContentAnswer {
    const answer = {
      tenantId: experiment.tenantId,
      experimentId: experiment.id,
      experimentVersion: experiment.version,
      variant: servable(experiment, known.variantId),
      token: known.token,
      fallback: stale,
    };
    return stale ? this.fallback('state_stale', null, answer) : answer;
  }

  private sign(tenant: Tenant, experimentId: string, variantId: string, key: string, sentAt: number): string {
    const expiresAt = sentAt + (this.deps.tokenMaxAgeSeconds ?? this.deps.assignmentTtlSeconds);
    return signTrackingToken(
      { tenantId: tenant.id, experimentId, variantId, recipientKey: key, sentAt, expiresAt },
      tenant.signingSecrets[0]!.secret,
    );
  }

  private fallback(reason: FallbackReason, error: unknown, answer: ContentAnswer): ContentAnswer {
    this.deps.onFallback?.(reason, error);
    return answer;
  }
}

function answerKey(experiment: Experiment, digest: string): string {
  return `${experiment.tenantId}/${experiment.id}/${experiment.version}/${digest}`;
}

function emptyAnswer(experimentId: string): ContentAnswer {
  return { tenantId: null, experimentId, experimentVersion: 0, variant: null, token: null, fallback: true };
}

function timeout(): StoreUnavailableError {
  return new StoreUnavailableError('request budget exceeded');
}

/** A retired variant is no longer served; its recipients get the default variant instead. */
function servable(experiment: Experiment, variantId: string): Variant {
  const variant = findVariant(experiment, variantId);
  return variant && variant.state === 'active' ? variant : defaultVariant(experiment);
}

export interface NewRecipientCap {
  /** New recipients admitted per tenant and second, on average. */
  readonly perSecond: number;
  /** Unix milliseconds, for tests; default Date.now. */
  readonly nowMs?: () => number;
}

/**
 * A token bucket per tenant: `perSecond` tokens a second, holding at most one second's worth, so a burst
 * after a quiet spell is admitted up to the cap and no further. Per container, and bounded in tenants.
 */
class NewRecipientLimiter {
  private readonly buckets = new BoundedMap<{ tokens: number; atMs: number }>(10_000);
  private readonly capacity: number;

  constructor(private readonly cap: NewRecipientCap) {
    this.capacity = Math.max(1, cap.perSecond);
  }

  /** True (and one token spent) when the tenant may record another new recipient now. */
  admit(tenantId: string): boolean {
    const now = this.cap.nowMs?.() ?? Date.now();
    let bucket = this.buckets.get(tenantId);
    if (!bucket) {
      bucket = { tokens: this.capacity, atMs: now };
      this.buckets.set(tenantId, bucket);
    }
    const elapsed = Math.max(0, now - bucket.atMs);
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (elapsed / 1000) * this.cap.perSecond);
    bucket.atMs = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
