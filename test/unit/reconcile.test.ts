// Reconcile on MemoryLedger: counters recounted from the assignments; drift found, reported per variant, fixed.
import { describe, expect, it } from 'vitest';
import { MemoryExperimentStore, MemoryLedger, MemoryTenantStore } from '../../adapters/memory/memory-stores';
import { delayBucket } from '../../domain/delay';
import { defineExperiment } from '../../domain/experiment';
import { reconcile } from '../../domain/reconcile';
import { issueTenant } from '../../domain/tenant';
import { SEND_BUCKET_SECONDS, sendBucketOf } from '../../domain/time';
import { counts } from '../support/counts';

const NOW = 1_767_225_600;
const BUCKET = sendBucketOf(NOW);

async function world() {
  const tenants = new MemoryTenantStore();
  const experiments = new MemoryExperimentStore();
  const ledger = new MemoryLedger();
  await tenants.create(issueTenant('acme', 'acme', NOW).tenant);
  const body = {
    variants: [
      { id: 'a', text: 'A' },
      { id: 'b', text: 'B' },
    ],
  };
  await experiments.save(defineExperiment('acme', 'spring', body, null, NOW));
  await experiments.save(defineExperiment('acme', 'quiet', body, null, NOW));
  const send = async (recipientKey: string, variantId: string, sentAt = NOW + 5, experimentId = 'spring') => {
    await ledger.assign({
      tenantId: 'acme',
      experimentId,
      recipientKey,
      variantId,
      sentAt,
      campaignId: null,
      dispatchId: null,
      expiresAt: NOW + 86_400,
    });
    return { tenantId: 'acme', experimentId, recipientKey, variantId, sentAt };
  };
  const click = async (sent: Awaited<ReturnType<typeof send>>) =>
    ledger.reward({
      ...sent,
      kind: 'click',
      source: 'currents',
      at: sent.sentAt + 60,
      visibleAt: sent.sentAt + 60,
      delayBucket: delayBucket(60),
    });
  const deps = { tenants, experiments, counters: ledger, maintenance: ledger };
  return { ledger, send, click, deps };
}

describe('reconcile on MemoryLedger', () => {
  it('finds no drift when every count came with its assignment', async () => {
    const w = await world();
    await w.click(await w.send('r1', 'a'));
    await w.send('r2', 'b');

    const result = await reconcile(w.deps, { fix: false, since: 0 });

    expect(result.drift).toBe(0);
    expect(result.experiments.map((e) => [e.experiment, e.drift, e.fixed])).toEqual([
      ['spring', 0, false],
      ['quiet', 0, false],
    ]);
  });

  it('reports drift per variant without touching the counters when not fixing', async () => {
    const w = await world();
    await w.click(await w.send('r1', 'a'));
    await w.send('r2', 'a');
    await w.ledger.adjustCounters('acme', 'spring', BUCKET, 'a', { sends: 3, opens: 1, clicks: -1 });

    const result = await reconcile(w.deps, { fix: false, since: 0 });

    expect(result.drift).toBe(5);
    expect(result.experiments.find((e) => e.experiment === 'spring')).toEqual({
      tenant: 'acme',
      experiment: 'spring',
      variants: [
        {
          variant: 'a',
          counted: counts(5, 1, 0, 5, 5),
          recounted: counts(2, 0, 1, 5, 5),
        },
      ],
      drift: 5,
      fixed: false,
    });
    expect(await w.ledger.read('acme', 'spring')).toEqual([
      { bucketStart: BUCKET, variantId: 'a', ...counts(5, 1, 0, 5, 5) },
    ]);
  });

  it('fix makes the counters agree with the assignments, and a second run finds nothing', async () => {
    const w = await world();
    await w.click(await w.send('r1', 'a'));
    await w.send('r2', 'b');
    await w.ledger.adjustCounters('acme', 'spring', BUCKET, 'b', { sends: -1, opens: 0, clicks: 2 });
    // Counters with no assignment behind them, in an experiment nobody sent.
    await w.ledger.adjustCounters('acme', 'quiet', BUCKET, 'a', { sends: 7, opens: 0, clicks: 0 });

    const fixed = await reconcile(w.deps, { fix: true, since: 0 });
    const again = await reconcile(w.deps, { fix: false, since: 0 });

    expect(fixed.drift).toBe(10);
    expect(fixed.experiments.map((e) => [e.experiment, e.drift, e.fixed])).toEqual([
      ['spring', 3, true],
      ['quiet', 7, true],
    ]);
    expect(again.drift).toBe(0);
    expect(await w.ledger.read('acme', 'spring')).toEqual(
      expect.arrayContaining([
        { bucketStart: BUCKET, variantId: 'a', ...counts(1, 0, 1, 5) },
        { bucketStart: BUCKET, variantId: 'b', ...counts(1, 0, 0, 5) },
      ]),
    );
    expect(await w.ledger.read('acme', 'quiet')).toEqual([
      { bucketStart: BUCKET, variantId: 'a', ...counts(0, 0, 0) },
    ]);
  });

  it('leaves out buckets before `since` (their assignments may have expired), and counts them', async () => {
    const w = await world();
    const old = BUCKET - 10 * SEND_BUCKET_SECONDS;
    await w.send('r1', 'a', old + 1);
    await w.ledger.adjustCounters('acme', 'spring', old, 'a', { sends: 4, opens: 0, clicks: 0 });
    await w.ledger.adjustCounters('acme', 'spring', BUCKET, 'a', { sends: 2, opens: 0, clicks: 0 });

    const result = await reconcile(w.deps, { fix: true, since: BUCKET });

    expect(result.skippedExpiredBuckets).toBe(1);
    expect(result.drift).toBe(2);
    expect(await w.ledger.read('acme', 'spring')).toEqual(
      expect.arrayContaining([
        { bucketStart: old, variantId: 'a', ...counts(5, 0, 0, 1) },
        { bucketStart: BUCKET, variantId: 'a', ...counts(0, 0, 0) },
      ]),
    );
  });

  it('restores send times counted before they were recorded, without calling them drift', async () => {
    const w = await world();
    await w.send('r1', 'a');
    await w.send('r2', 'a', NOW + 70);
    // As a counter written before send times were recorded holds it.
    const [row] = await w.ledger.read('acme', 'spring');
    await w.ledger.adjustCounters('acme', 'spring', BUCKET, 'a', {
      sendSeconds: -row!.sendSeconds,
      sendSecondsSquared: -row!.sendSecondsSquared,
    });

    const looked = await reconcile(w.deps, { fix: false, since: 0 });
    const fixed = await reconcile(w.deps, { fix: true, since: 0 });

    expect([looked.drift, fixed.drift]).toEqual([0, 0]);
    expect(await w.ledger.read('acme', 'spring')).toEqual([
      { bucketStart: BUCKET, variantId: 'a', ...counts(2, 0, 0, 5, 70) },
    ]);
  });

  it('reconciles assignments of an experiment no longer in the store, and reports progress', async () => {
    const w = await world();
    await w.send('r1', 'a', NOW + 5, 'deleted');
    const progress: Array<[number, number | null]> = [];

    const result = await reconcile(w.deps, {
      fix: true,
      since: 0,
      onProgress: (done, total) => progress.push([done, total]),
    });

    expect(result.experiments.map((e) => e.experiment)).toEqual(['spring', 'quiet', 'deleted']);
    expect(result.experiments.find((e) => e.experiment === 'deleted')).toMatchObject({ drift: 0 });
    expect(progress).toEqual([
      [1, null],
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });
});
