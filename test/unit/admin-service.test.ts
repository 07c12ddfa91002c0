// AdminService on the in-memory stores: define, read, page, change status and report, per tenant.
import { describe, expect, it } from 'vitest';
import {
  MemoryAllocationStore,
  MemoryExperimentStore,
  MemoryLedger,
} from '../../adapters/memory/memory-stores';
import { AdminService } from '../../domain/admin';
import { NO_DELAY } from '../../domain/delay';
import { ConflictError, NotFoundError, ValidationError } from '../../domain/errors';
import { encodeCursor } from '../../domain/paging';
import { issueTenant } from '../../domain/tenant';
import { sendBucketOf } from '../../domain/time';

const NOW = 1_767_225_600;
const acme = issueTenant('acme', 'acme', NOW).tenant;
const globex = issueTenant('globex', 'globex', NOW).tenant;
const BODY = {
  metric: 'clicks',
  min_sends: 10,
  variants: [
    { id: 'a', text: 'Spring sale' },
    { id: 'b', text: 'Spring is here' },
  ],
};

function service() {
  const experiments = new MemoryExperimentStore();
  const allocations = new MemoryAllocationStore(experiments);
  const ledger = new MemoryLedger();
  let now = NOW;
  const admin = new AdminService({
    experiments,
    allocations,
    counters: ledger,
    clock: () => now,
    delayModel: () => NO_DELAY,
  });
  return { admin, experiments, allocations, ledger, advance: (seconds: number) => (now += seconds) };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error,
  );

describe('AdminService on in-memory stores', () => {
  it('put creates, then updates in place: version bumped, variants left out retired', async () => {
    const { admin, advance } = service();

    const created = await admin.put(acme, 'spring', BODY);
    advance(60);
    const updated = await admin.put(acme, 'spring', { variants: [BODY.variants[1], { id: 'c', text: 'C' }] });

    expect(created).toMatchObject({
      created: true,
      experiment: { tenantId: 'acme', version: 1, createdAt: NOW },
    });
    expect(updated.created).toBe(false);
    expect(updated.experiment).toMatchObject({ version: 2, createdAt: NOW, updatedAt: NOW + 60 });
    expect(updated.experiment.variants.map((v) => [v.id, v.state])).toEqual([
      ['b', 'active'],
      ['c', 'active'],
      ['a', 'retired'],
    ]);
    expect(await admin.get(acme, 'spring')).toEqual(updated.experiment);
  });

  it('put validates before writing: a bad id or body stores nothing', async () => {
    const { admin, experiments } = service();

    expect(await refusal(admin.put(acme, 'Not Valid', BODY))).toBeInstanceOf(ValidationError);
    expect(await refusal(admin.put(acme, 'spring', { variants: [{ id: 'a', text: 'A' }] }))).toMatchObject({
      field: 'variants',
    });
    expect(await experiments.list('acme')).toEqual([]);
  });

  it('get is NotFoundError for an unknown experiment and for another tenant’s', async () => {
    const { admin } = service();
    await admin.put(globex, 'spring', BODY);

    expect(await refusal(admin.get(acme, 'spring'))).toBeInstanceOf(NotFoundError);
    expect(await refusal(admin.get(acme, 'autumn'))).toBeInstanceOf(NotFoundError);
    expect(await admin.get(globex, 'spring')).toMatchObject({ tenantId: 'globex' });
  });

  it('listPage pages the tenant’s experiments by the query’s limit and cursor, and refuses a bad limit', async () => {
    const { admin } = service();
    for (const id of ['c', 'a', 'b']) await admin.put(acme, id, BODY);
    await admin.put(globex, 'aa', BODY);

    const first = await admin.listPage(acme, { limit: '2', cursor: null });
    const second = await admin.listPage(acme, { limit: '2', cursor: first.nextCursor });

    expect(first.experiments.map((e) => e.id)).toEqual(['a', 'b']);
    expect(first.nextCursor).toBe(encodeCursor('b'));
    expect(second).toMatchObject({ experiments: [{ id: 'c' }], nextCursor: null });
    expect((await admin.listPage(acme, { limit: null, cursor: null })).experiments).toHaveLength(3);
    expect(() => admin.listPage(acme, { limit: '0', cursor: null })).toThrow(ValidationError);
    expect(await refusal(admin.listPage(acme, { limit: '2', cursor: 'not a cursor' }))).toMatchObject({
      field: 'cursor',
    });
  });

  it('setStatus pauses and finishes with a winner, saving each change; unknown is NotFoundError', async () => {
    const { admin, allocations } = service();
    await admin.put(acme, 'spring', BODY);

    const paused = await admin.setStatus(acme, 'spring', { status: 'paused' });
    const finished = await admin.setStatus(acme, 'spring', { status: 'finished', winner: 'b' });

    expect(paused).toMatchObject({ status: 'paused', version: 2 });
    expect(finished).toMatchObject({ status: 'finished', winner: 'b', version: 3 });
    expect(await admin.get(acme, 'spring')).toEqual(finished);
    expect((await allocations.head('acme', 'spring')).definitionVersion).toBe(3);
    expect(await refusal(admin.setStatus(acme, 'spring', { status: 'running', winner: 'b' }))).toMatchObject({
      field: 'winner',
    });
    expect(await refusal(admin.setStatus(acme, 'autumn', { status: 'paused' }))).toBeInstanceOf(
      NotFoundError,
    );
  });

  it('a save racing another is a version conflict, not a silent overwrite', async () => {
    const { admin, experiments } = service();
    const { experiment } = await admin.put(acme, 'spring', BODY);
    await admin.setStatus(acme, 'spring', { status: 'paused' });

    expect(await refusal(experiments.save({ ...experiment, version: 2 }))).toBeInstanceOf(ConflictError);
  });

  it('report sums the counters per variant and computes the allocation when none is published', async () => {
    const { admin, ledger } = service();
    await admin.put(acme, 'spring', BODY);
    const bucket = sendBucketOf(NOW - 7200);
    await ledger.adjustCounters('acme', 'spring', bucket, 'a', { sends: 500, opens: 0, clicks: 5 });
    await ledger.adjustCounters('acme', 'spring', bucket, 'b', { sends: 500, opens: 0, clicks: 80 });
    await ledger.adjustCounters('acme', 'spring', bucket + 600, 'b', { sends: 10, opens: 2, clicks: 1 });

    const report = await admin.report(acme, 'spring');

    expect(report).toMatchObject({ experiment: 'spring', status: 'running', leader: 'b' });
    expect(report.variants.map((v) => [v.id, v.sends, v.opens, v.clicks])).toEqual([
      ['a', 500, 0, 5],
      ['b', 510, 2, 81],
    ]);
    const b = report.variants.find((v) => v.id === 'b')!;
    expect(b.allocation).toBeGreaterThan(0.9);
  });

  it('report shows the published shares for the current version only, and none once paused', async () => {
    const { admin, allocations } = service();
    await admin.put(acme, 'spring', BODY);
    const epoch = (await allocations.acquireLease('acme', 'spring', NOW, NOW + 10))!;
    const snapshot = {
      experimentVersion: 1,
      computedAt: NOW,
      phase: 'learning' as const,
      shares: { a: 0.25, b: 0.75 },
      posteriors: { a: [1, 1] as const, b: [1, 1] as const },
    };
    await allocations.publish('acme', 'spring', epoch, snapshot, null);

    const served = await admin.report(acme, 'spring');
    await admin.put(acme, 'spring', { ...BODY, min_sends: 20 });
    const stale = await admin.report(acme, 'spring');
    await admin.setStatus(acme, 'spring', { status: 'paused' });
    const paused = await admin.report(acme, 'spring');

    expect(served.variants.map((v) => v.allocation)).toEqual([0.25, 0.75]);
    expect(served.phase).toBe('learning');
    expect(stale.variants.map((v) => v.allocation)).toEqual([0.5, 0.5]);
    expect(stale.phase).toBe('burn_in');
    expect(paused).toMatchObject({ status: 'paused', phase: null });
    expect(paused.variants.map((v) => v.allocation)).toEqual([1, 0]);
  });
});
