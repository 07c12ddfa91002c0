// The layer rules of .dependency-cruiser.cjs (domain pure, adapters per technology, handlers as composition
// roots, entry points on top, no cycles) over the whole tree, and over a fixture tree that breaks them, so a rule
// that silently matches nothing shows up here.
import { join } from 'node:path';
import { cruise, type ICruiseOptions } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const FIXTURE = join(ROOT, 'test', 'fixtures', 'layers');

let options: ICruiseOptions;

/** Every broken rule, as `rule: from → to`, for the tree under `baseDir`. */
async function violations(baseDir: string, tsConfigFile?: string): Promise<string[]> {
  const { output } = await cruise(
    ['.'],
    { ...options, baseDir },
    {},
    tsConfigFile ? { tsConfig: extractTSConfig(tsConfigFile) } : {},
  );
  if (typeof output === 'string') throw new Error('dependency-cruiser returned a report, not a result');
  return output.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
}

describe('layer rules', () => {
  beforeAll(async () => {
    options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
  });

  it('reports a domain file importing an adapter, a handler importing a handler, and a cycle', async () => {
    expect(await violations(FIXTURE)).toEqual([
      'domain-is-pure: domain/pricing.ts → adapters/dynamodb/price-store.ts',
      // A cycle is reported once, at whichever of its edges the cruise meets first.
      expect.stringMatching(/^no-circular: domain\/(pricing|discount)\.ts → domain\/(pricing|discount)\.ts$/),
      'no-handler-imports-a-handler: handlers/checkout.ts → handlers/receipt.ts',
    ]);
  });

  it('finds no violation in the tree', { timeout: 120_000 }, async () => {
    expect(await violations(ROOT, join(ROOT, 'tsconfig.json'))).toEqual([]);
  });
});
