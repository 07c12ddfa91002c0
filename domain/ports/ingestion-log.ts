// One line per Currents file processed: what the ingestion log endpoint lists.

export type IngestionStatus = 'ok' | 'skipped' | 'failed';

export interface IngestionEntry {
  readonly key: string;
  readonly status: IngestionStatus;
  /** Plain-language reason for skipped and failed files; never contains record data. */
  readonly reason: string | null;
  readonly events: number;
  readonly attributed: number;
  readonly duplicates: number;
  readonly bots: number;
  /** Unix milliseconds. */
  readonly ingestedAt: number;
}

export interface IngestionLog {
  /** `tenantId` null: a file no tenant owns (unknown folder), logged but listed to nobody. */
  record(tenantId: string | null, entry: IngestionEntry): Promise<void>;
  /** Newest first. */
  list(tenantId: string, limit: number): Promise<IngestionEntry[]>;
}
