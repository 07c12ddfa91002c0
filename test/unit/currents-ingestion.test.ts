// CurrentsIngestion on the in-memory stores: which events become rewards (by token, by campaign), which are
// duplicates, bots or unattributed, and which files are skipped. Events come from arrays, not Avro files.

import { describe, expect, it } from 'vitest';
import {
  MemoryExperimentStore,
  MemoryIngestionLog,
  MemoryLedger,
  MemoryTenantStore,
} from '../../adapters/memory/memory-stores';
import { zeroCounts } from '../../domain/counting';
import type { EngagementEvent, EngagementKind } from '../../domain/currents';
import { defineExperiment } from '../../domain/experiment';
import { CurrentsIngestion, type EventSource } from '../../domain/ingestion';
import { recipientDigest, recipientPseudonym } from '../../domain/recipient';
import { TokenRewards } from '../../domain/rewards';
import { issueTenant, type Tenant } from '../../domain/tenant';
import { TenantDirectory } from '../../domain/tenant-directory';
import { sendBucketOf } from '../../domain/time';
import { signTrackingToken } from '../../domain/tracking-token';

const NOW = 1_767_225_600;
const SENT_AT = NOW - 3600;
const CAMPAIGN = 'camp-1';
const CLICKS =
  'acme/dataexport.prod-01.S3.integration.x/event_type=users.messages.email.Click/date=2026-01-01-00/f.avro';
const OPENS =
  'acme/dataexport.prod-01.S3.integration.x/event_type=users.messages.email.Open/date=2026-01-01-00/f.avro';

async function world() {
  const tenants = new MemoryTenantStore();
  const acme = issueTenant('acme', 'acme', NOW).tenant;
  const globex = issueTenant('globex', 'globex', NOW).tenant;
  await tenants.create(acme);
  await tenants.create(globex);
  const experiments = new MemoryExperimentStore();
  const body = {
    variants: [
      { id: 'a', text: 'A' },
      { id: 'b', text: 'B' },
    ],
  };
  await experiments.save(defineExperiment('acme', 'spring', body, null, NOW - 86_400));
  await experiments.save(defineExperiment('acme', 'autumn', body, null, NOW - 86_400));
  const ledger = new MemoryLedger();
  const log = new MemoryIngestionLog();
  let opened = 0;
  const ingestion = new CurrentsIngestion({
    tenants,
    experiments,
    ledger,
    rewards: new TokenRewards(new TenantDirectory(tenants, () => NOW), ledger, () => NOW),
    log,
    clockMs: () => NOW * 1000,
  });

  /** The recipient's key and assignment in `experimentId`, sent with the campaign. */
  async function send(user: string, variantId: string, experimentId = 'spring', tenant: Tenant = acme) {
    const key = recipientPseudonym(tenant, { id: experimentId }, recipientDigest(user)!);
    await ledger.assign({
      tenantId: tenant.id,
      experimentId,
      recipientKey: key,
      variantId,
      sentAt: SENT_AT,
      campaignId: CAMPAIGN,
      dispatchId: null,
      expiresAt: NOW + 30 * 86_400,
    });
    return key;
  }

  function token(user: string, variantId: string, experimentId = 'spring', tenant: Tenant = acme) {
    const claims = {
      tenantId: tenant.id,
      experimentId,
      variantId,
      recipientKey: recipientPseudonym(tenant, { id: experimentId }, recipientDigest(user)!),
      sentAt: SENT_AT,
    };
    return signTrackingToken(claims, tenant.signingSecrets[0]!.secret);
  }

  /** An EventSource over fixed events; counts how often it is opened. */
  function source(events: EngagementEvent[]): EventSource {
    return async () => {
      opened++;
      return (async function* () {
        yield* events;
      })();
    };
  }

  const counts = async (experimentId = 'spring') =>
    (await ledger.read('acme', experimentId)).reduce(
      (sum, c) => ({ sends: sum.sends + c.sends, opens: sum.opens + c.opens, clicks: sum.clicks + c.clicks }),
      { sends: 0, opens: 0, clicks: 0 },
    );

  return { acme, globex, ledger, log, ingestion, send, token, source, counts, opens: () => opened };
}

let nextId = 0;
function event(
  overrides: Partial<EngagementEvent> & { user?: string; kind?: EngagementKind },
): EngagementEvent {
  const { user, ...rest } = overrides;
  return {
    eventId: `ev-${nextId++}`,
    kind: 'click',
    time: NOW - 600,
    recipientDigest: user ? recipientDigest(user) : null,
    campaignId: null,
    trackingToken: null,
    suspectedBot: false,
    ...rest,
  };
}

describe('CurrentsIngestion on in-memory stores', () => {
  it('attributes a click by its token to the send it names, in the send’s bucket', async () => {
    const w = await world();
    const key = await w.send('user-1', 'b');

    const result = await w.ingestion.ingest(
      CLICKS,
      w.source([event({ trackingToken: w.token('user-1', 'b') })]),
    );

    expect(result).toMatchObject({ tenantId: 'acme', status: 'ok', events: 1, attributed: 1, duplicates: 0 });
    expect(await w.ledger.read('acme', 'spring')).toEqual([
      {
        ...zeroCounts(),
        bucketStart: sendBucketOf(SENT_AT),
        variantId: 'b',
        sends: 1,
        clicks: 1,
        // Sent at the bucket's first second.
        sendSeconds: 1,
        sendSecondsSquared: 1,
      },
    ]);
    expect(
      await w.ledger.find({ tenantId: 'acme', experimentId: 'spring', recipientKey: key }),
    ).toMatchObject({
      clickedAt: NOW - 600,
    });
  });

  it('attributes an event without a token by campaign and hashed user, in every experiment sent with it', async () => {
    const w = await world();
    await w.send('user-1', 'a', 'spring');
    await w.send('user-1', 'b', 'autumn');
    await w.send('user-2', 'a', 'spring');

    const result = await w.ingestion.ingest(
      OPENS,
      w.source([
        event({ kind: 'open', user: 'user-1', campaignId: CAMPAIGN }),
        event({ kind: 'open', user: 'stranger', campaignId: CAMPAIGN }),
        event({ kind: 'open', user: 'user-2', campaignId: 'another-campaign' }),
        event({ kind: 'open', user: 'user-2', campaignId: null }),
      ]),
    );

    // The stranger is looked for in both experiments of the campaign: two misses.
    expect(result).toMatchObject({ status: 'ok', events: 4, attributed: 2, unattributed: 4, duplicates: 0 });
    expect(await w.counts('spring')).toEqual({ sends: 2, opens: 1, clicks: 0 });
    expect(await w.counts('autumn')).toEqual({ sends: 1, opens: 1, clicks: 0 });
  });

  it('counts each recipient once: repeats in the file and rewards from an earlier file are duplicates', async () => {
    const w = await world();
    await w.send('user-1', 'a');
    await w.send('user-2', 'b');
    const tokenOf1 = w.token('user-1', 'a');
    await w.ingestion.ingest(CLICKS, w.source([event({ trackingToken: tokenOf1 })]));

    const result = await w.ingestion.ingest(
      CLICKS,
      w.source([
        event({ trackingToken: tokenOf1 }), // rewarded by the first file
        event({ user: 'user-2', campaignId: CAMPAIGN }),
        event({ user: 'user-2', campaignId: CAMPAIGN }), // the same recipient again
        event({ trackingToken: w.token('user-2', 'b') }), // and again, by token
      ]),
    );

    expect(result).toMatchObject({ events: 4, attributed: 1, duplicates: 3 });
    expect(await w.counts()).toEqual({ sends: 2, opens: 0, clicks: 2 });
  });

  it('counts Braze machine opens as machine opens, never as opens, and a later human open still counts', async () => {
    const w = await world();
    const key = await w.send('user-1', 'a');

    const machine = await w.ingestion.ingest(
      OPENS,
      w.source([
        event({
          kind: 'open',
          trackingToken: null,
          user: 'user-1',
          campaignId: CAMPAIGN,
          suspectedBot: true,
        }),
        event({
          kind: 'open',
          trackingToken: null,
          user: 'user-1',
          campaignId: CAMPAIGN,
          suspectedBot: true,
        }),
      ]),
    );
    expect(machine).toMatchObject({ status: 'ok', events: 2, bots: 2, attributed: 1, duplicates: 1 });
    const [afterMachine] = await w.ledger.read('acme', 'spring');
    expect(afterMachine).toMatchObject({ sends: 1, opens: 0, machineOpens: 1, machineOnly: 1 });

    await w.ingestion.ingest(
      OPENS,
      w.source([event({ kind: 'open', trackingToken: null, user: 'user-1', campaignId: CAMPAIGN })]),
    );
    const [afterHuman] = await w.ledger.read('acme', 'spring');
    expect(afterHuman).toMatchObject({ sends: 1, opens: 1, machineOpens: 1, machineOnly: 0 });
    expect(
      await w.ledger.find({ tenantId: 'acme', experimentId: 'spring', recipientKey: key }),
    ).toMatchObject({ openedAt: expect.any(Number), machineOpenedAt: expect.any(Number) });
  });

  it('counts suspected bots as bots and rewards nothing for them', async () => {
    const w = await world();
    await w.send('user-1', 'a');

    const result = await w.ingestion.ingest(
      CLICKS,
      w.source([
        event({ trackingToken: w.token('user-1', 'a'), suspectedBot: true }),
        event({ user: 'user-1', campaignId: CAMPAIGN, suspectedBot: true }),
      ]),
    );

    expect(result).toMatchObject({ status: 'ok', events: 2, bots: 2, attributed: 0 });
    expect(await w.counts()).toEqual({ sends: 1, opens: 0, clicks: 0 });
  });

  it('rewards nothing for forged, foreign or unknown-experiment tokens, nor for another send', async () => {
    const w = await world();
    await w.send('user-1', 'a');
    await w.send('user-2', 'a', 'spring', w.globex);
    const genuine = w.token('user-1', 'a');

    const result = await w.ingestion.ingest(
      CLICKS,
      w.source([
        event({ trackingToken: `${genuine.slice(0, -3)}AAA` }),
        event({ trackingToken: w.token('user-2', 'a', 'spring', w.globex) }),
        event({ trackingToken: w.token('user-3', 'a', 'deleted') }),
        event({ trackingToken: w.token('user-1', 'b') }), // names a variant user-1 was not sent
      ]),
    );

    expect(result).toMatchObject({ status: 'ok', events: 4, attributed: 0 });
    expect(await w.counts()).toEqual({ sends: 1, opens: 0, clicks: 0 });
    expect(await w.ledger.read('globex', 'spring')).toEqual([
      expect.objectContaining({ sends: 1, clicks: 0 }),
    ]);
  });

  it('a verified token whose send was never recorded records the send with its reward', async () => {
    const w = await world();

    const result = await w.ingestion.ingest(
      CLICKS,
      w.source([event({ trackingToken: w.token('user-9', 'b') })]),
    );

    expect(result).toMatchObject({ status: 'ok', attributed: 1 });
    expect(await w.counts()).toEqual({ sends: 1, opens: 0, clicks: 1 });
  });

  // What the handler's SendRecordedFromReward metric counts.
  it('reports the send it recorded from a token in sendsRecorded', async () => {
    const w = await world();

    const result = await w.ingestion.ingest(
      CLICKS,
      w.source([event({ trackingToken: w.token('user-9', 'b') })]),
    );

    expect(result).toMatchObject({ attributed: 1, sendsRecorded: 1 });
  });

  it('skips a file in a folder no tenant owns, logging it to nobody and reading nothing', async () => {
    const w = await world();
    const key = CLICKS.replace(/^acme\//, 'stranger/');

    const result = await w.ingestion.ingest(
      key,
      w.source([event({ trackingToken: w.token('user-1', 'a') })]),
    );

    expect(result).toMatchObject({
      tenantId: null,
      status: 'skipped',
      reason: 'no tenant owns this folder',
      events: 0,
    });
    expect(w.opens()).toBe(0);
    expect(w.log.entries).toHaveLength(1);
    expect(await w.log.list('acme', 10)).toEqual([]);
  });

  it('skips keys that are not Currents files and event types weft does not use', async () => {
    const w = await world();

    const notCurrents = await w.ingestion.ingest('acme/readme.txt', w.source([]));
    const sends = await w.ingestion.ingest(CLICKS.replace('email.Click', 'email.Send'), w.source([]));

    expect(notCurrents).toMatchObject({ tenantId: null, status: 'skipped' });
    expect(sends).toMatchObject({
      tenantId: 'acme',
      status: 'skipped',
      reason: 'event type users.messages.email.Send is not used by weft',
    });
    expect(w.opens()).toBe(0);
    expect((await w.log.list('acme', 10)).map((e) => e.status)).toEqual(['skipped']);
  });

  it('logs the file’s tally for its tenant', async () => {
    const w = await world();
    await w.send('user-1', 'a');

    await w.ingestion.ingest(
      CLICKS,
      w.source([event({ user: 'user-1', campaignId: CAMPAIGN }), event({ suspectedBot: true })]),
    );

    expect(await w.log.list('acme', 10)).toEqual([
      {
        key: CLICKS,
        status: 'ok',
        reason: null,
        events: 2,
        attributed: 1,
        duplicates: 0,
        bots: 1,
        ingestedAt: NOW * 1000,
      },
    ]);
  });
});
