// What a failed Currents file means is decided in one place: unreadable files are listed as failed with their
// plain reason; anything else is thrown for Lambda to retry, and its message never becomes a listed reason.
import { describe, expect, it } from 'vitest';
import {
  MemoryExperimentStore,
  MemoryIngestionLog,
  MemoryLedger,
  MemoryTenantStore,
} from '../../adapters/memory/memory-stores';
import { StoreUnavailableError, UnreadableFileError } from '../../domain/errors';
import { CurrentsIngestion, classifyIngestionFailure, type EventSource } from '../../domain/ingestion';
import { TokenRewards } from '../../domain/rewards';
import { issueTenant } from '../../domain/tenant';
import { TenantDirectory } from '../../domain/tenant-directory';

const NOW = 1_767_225_600;
const KEY =
  'acme/dataexport.prod-01.S3.integration.x/event_type=users.messages.email.Click/date=2026-01-01-00/1/prod/f.avro';

async function world() {
  const tenants = new MemoryTenantStore();
  await tenants.create(issueTenant('acme', 'acme', NOW).tenant);
  const ledger = new MemoryLedger();
  const log = new MemoryIngestionLog();
  const ingestion = new CurrentsIngestion({
    tenants,
    experiments: new MemoryExperimentStore(),
    ledger,
    rewards: new TokenRewards(new TenantDirectory(tenants, () => NOW), ledger, () => NOW),
    log,
    clockMs: () => NOW * 1000,
  });
  return { ingestion, log };
}

const failing =
  (error: unknown): EventSource =>
  async () => {
    throw error;
  };

describe('ingestion failures', () => {
  it('classifies: unreadable files fail with their reason; store trouble and surprises are retried', () => {
    expect(classifyIngestionFailure(new UnreadableFileError('the file is empty'))).toEqual({
      retry: false,
      reason: 'the file is empty',
    });
    expect(classifyIngestionFailure(new StoreUnavailableError('read'))).toEqual({ retry: true });
    expect(classifyIngestionFailure(new TypeError('x is undefined'))).toEqual({ retry: true });
  });

  it('lists an unreadable file as failed with its plain reason, and goes on', async () => {
    const { ingestion, log } = await world();
    const result = await ingestion.ingest(
      KEY,
      failing(new UnreadableFileError('the file ends inside its header')),
    );
    expect(result).toMatchObject({ status: 'failed', reason: 'the file ends inside its header' });
    expect(log.entries).toHaveLength(1);
  });

  it('throws anything else for Lambda to retry, and lists nothing with its message', async () => {
    const { ingestion, log } = await world();
    const surprise = new Error('person@example.com broke it');
    await expect(ingestion.ingest(KEY, failing(surprise))).rejects.toBe(surprise);
    await expect(ingestion.ingest(KEY, failing(new StoreUnavailableError('s3')))).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    expect(log.entries).toHaveLength(0);
  });
});
