import type { Experiment } from '../experiment';
import type { PageRequest } from '../paging';

export interface ExperimentPage {
  readonly experiments: Experiment[];
  /** Where the next page starts; null when no experiment follows this page. */
  readonly nextCursor: string | null;
}

export interface ExperimentStore {
  get(tenantId: string, experimentId: string): Promise<Experiment | null>;
  /** Every experiment of the tenant (maintenance: CLI, reconcile). The API pages with `listPage`. */
  list(tenantId: string): Promise<Experiment[]>;
  /**
   * The tenant's experiments in id order (byte order, as the table sorts them), at most `limit`, after the
   * cursor's experiment. The cursor only positions the page inside `tenantId`; one that does not decode to an
   * experiment id is a ValidationError on `cursor`.
   */
  listPage(tenantId: string, page: PageRequest): Promise<ExperimentPage>;
  /** Writes `experiment` only if the stored version is `experiment.version - 1`; else ConflictError `version_conflict`. */
  save(experiment: Experiment): Promise<void>;
}
