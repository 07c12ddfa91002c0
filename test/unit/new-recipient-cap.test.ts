// The optional cap on new recipients per tenant and second: off by default; over it, a new recipient gets the
// pick they would get anyway, flagged as a fallback, and nothing is written.
import { describe, expect, it } from 'vitest';
import {
  MemoryAllocationStore,
  MemoryExperimentStore,
  MemoryLedger,
  MemoryTenantStore,
} from '../../adapters/memory/memory-stores';
import { ContentService, type ContentServiceDeps, type FallbackReason } from '../../domain/content';
import { defineExperiment } from '../../domain/experiment';
import { recipientDigest } from '../../domain/recipient';
import { issueTenant } from '../../domain/tenant';
import { TenantDirectory } from '../../domain/tenant-directory';
import { readConfig } from '../../handlers/shared/config';

const NOW = 1_767_225_600; // 2026-01-01T00:00:00Z
const acme = issueTenant('acme', 'acme', NOW);
const globex = issueTenant('globex', 'globex', NOW);
const variants = [
  { id: 'a', text: 'A' },
  { id: 'b', text: 'B' },
  { id: 'c', text: 'C' },
];

async function world() {
  const tenants = new MemoryTenantStore();
  const experiments = new MemoryExperimentStore();
  for (const issued of [acme, globex]) {
    await tenants.create(issued.tenant);
    await experiments.save(defineExperiment(issued.tenant.id, 'spring', { variants }, null, NOW));
  }
  const ledger = new MemoryLedger();
  const writes: string[] = [];
  const assign = ledger.assign.bind(ledger);
  ledger.assign = (...args: Parameters<MemoryLedger['assign']>) => {
    writes.push(`${args[0].tenantId}/${args[0].variantId}`);
    return assign(...args);
  };
  let nowMs = NOW * 1000;
  const fallbacks: FallbackReason[] = [];

  const container = (overrides: Partial<ContentServiceDeps> = {}) => {
    const service = new ContentService({
      tenants: new TenantDirectory(tenants, () => NOW),
      experiments,
      allocations: new MemoryAllocationStore(experiments),
      ledger,
      counters: ledger,
      delays: ledger,
      clock: () => Math.floor(nowMs / 1000),
      budgetMs: 200,
      assignmentTtlSeconds: 86_400,
      onFallback: (reason) => fallbacks.push(reason),
      ...overrides,
    });
    return (recipient: string, issued = acme) =>
      service.select(issued.connectToken, {
        experimentId: 'spring',
        recipientDigest: recipientDigest(recipient)!,
        campaignId: 'cmp',
        dispatchId: null,
      });
  };
  const capped = (perSecond: number) => container({ newRecipientCap: { perSecond, nowMs: () => nowMs } });
  return {
    container,
    capped,
    writes,
    fallbacks,
    advanceMs: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe('the cap on new recipients per second', () => {
  it('is off by default: a burst of new recipients is recorded in full', async () => {
    const { container, writes, fallbacks } = await world();
    const select = container();

    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => select(`r${i}`)));

    expect(answers.every((answer) => !answer.fallback && answer.token !== null)).toBe(true);
    expect(writes).toHaveLength(60);
    expect(fallbacks).toEqual([]);
  });

  it('over the cap, answers the deterministic pick as a fallback, writes nothing and reports it', async () => {
    const { capped, container, writes, fallbacks } = await world();
    const select = capped(5);
    const uncapped = container();

    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await select(`r${i}`));

    expect(answers.slice(0, 5).every((answer) => !answer.fallback && answer.token !== null)).toBe(true);
    const over = answers.slice(5);
    expect(over.every((answer) => answer.fallback && answer.token === null && answer.variant !== null)).toBe(
      true,
    );
    expect(writes).toHaveLength(5);
    expect(fallbacks).toEqual(Array(7).fill('new_recipient_cap'));
    // The pick is the one the recipient gets once recorded (same snapshot, same keyed hash).
    for (let i = 5; i < 12; i++) {
      expect((await uncapped(`r${i}`)).variant?.id).toBe(answers[i]!.variant?.id);
    }
  });

  it('never holds back a recipient who already has a variant', async () => {
    const { capped, container, writes } = await world();
    const first = container();
    for (let i = 0; i < 4; i++) await first(`known-${i}`);
    const select = capped(1);
    await select('newcomer'); // spends this second's only token

    const repeats = await Promise.all(Array.from({ length: 4 }, (_, i) => select(`known-${i}`)));

    expect(repeats.every((answer) => !answer.fallback && answer.token !== null)).toBe(true);
    expect(writes).toHaveLength(5);
  });

  it('refills at the configured rate and keeps each tenant’s bucket apart', async () => {
    const { capped, writes, advanceMs } = await world();
    const select = capped(2);
    const recorded = async (prefix: string, count: number, issued = acme) => {
      let fresh = 0;
      for (let i = 0; i < count; i++) if (!(await select(`${prefix}-${i}`, issued)).fallback) fresh++;
      return fresh;
    };

    expect(await recorded('t0', 5)).toBe(2);
    expect(await recorded('g0', 5, globex)).toBe(2); // another tenant: its own two
    advanceMs(500);
    expect(await recorded('t1', 5)).toBe(1);
    advanceMs(10_000); // a quiet spell banks one second's worth, no more
    expect(await recorded('t2', 5)).toBe(2);
    expect(writes.filter((w) => w.startsWith('acme/'))).toHaveLength(5);
  });

  it('is read from WEFT_NEW_RECIPIENTS_PER_SECOND_PER_TENANT, unset by default, and must be positive', () => {
    const env = { WEFT_TABLE: 'weft' };

    expect(readConfig(env).newRecipientsPerSecondPerTenant).toBeNull();
    expect(
      readConfig({ ...env, WEFT_NEW_RECIPIENTS_PER_SECOND_PER_TENANT: '' }).newRecipientsPerSecondPerTenant,
    ).toBeNull();
    expect(
      readConfig({ ...env, WEFT_NEW_RECIPIENTS_PER_SECOND_PER_TENANT: '250' })
        .newRecipientsPerSecondPerTenant,
    ).toBe(250);
    for (const bad of ['0', '-3', 'lots'])
      expect(() => readConfig({ ...env, WEFT_NEW_RECIPIENTS_PER_SECOND_PER_TENANT: bad })).toThrow(
        /WEFT_NEW_RECIPIENTS_PER_SECOND_PER_TENANT/,
      );
  });
});
