// `weft simulate`: campaigns in simulated time through the real policy, against the usual alternatives.
import type { Command } from 'commander';
import { POLICY_DESCRIPTIONS, SCENARIOS } from '../simulation/scenarios';
import { DEFAULT_SEEDS, runSimulation, type ScenarioSummary } from '../simulation/simulate';
import { progressBar } from './progress';

function formatScenario(scenario: ScenarioSummary): string {
  const lines = [`${scenario.name}: ${scenario.description}`];
  lines.push(
    `  ${'policy'.padEnd(16)}${'lost % of uniform'.padStart(18)}${'lost clicks'.padStart(14)}${'% of oracle'.padStart(13)}`,
  );
  for (const policy of scenario.policies) {
    lines.push(
      `  ${policy.name.padEnd(16)}${policy.lost_clicks_pct_of_uniform.toFixed(1).padStart(18)}${policy.lost_clicks
        .toFixed(0)
        .padStart(14)}${policy.clicks_pct_of_oracle.toFixed(2).padStart(13)}`,
    );
  }
  return lines.join('\n');
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate campaigns with delayed clicks: weft against uniform, A/B-then-winner and others')
    .option('--json', 'machine-readable output')
    .option('--seeds <n>', `seeds averaged per scenario and policy (default ${DEFAULT_SEEDS})`)
    .option('--scenario <name>', `one scenario: ${SCENARIOS.map((s) => s.name).join(', ')}`)
    .action((options: { json?: boolean; seeds?: string; scenario?: string }) => {
      const seeds = options.seeds === undefined ? DEFAULT_SEEDS : Number(options.seeds);
      if (!Number.isInteger(seeds) || seeds < 1 || seeds > 10_000) {
        throw new Error(`--seeds must be a whole number from 1 to 10000 (got ${options.seeds})`);
      }
      const scenarios = options.scenario ? SCENARIOS.filter((s) => s.name === options.scenario) : SCENARIOS;
      if (scenarios.length === 0) {
        throw new Error(
          `Unknown scenario "${options.scenario}" (one of ${SCENARIOS.map((s) => s.name).join(', ')})`,
        );
      }
      const startedAt = Date.now();
      const bar = progressBar('campaigns');
      const result = runSimulation({ scenarios, seeds, onProgress: bar.update });
      bar.done();
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const text = [
        `Lost clicks (expected clicks of always sending the true best, minus the policy's), as a % of uniform's;`,
        `mean over ${seeds} seeds. ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`,
        '',
        ...result.scenarios.map(formatScenario).flatMap((block) => [block, '']),
        'Policies:',
        ...Object.entries(POLICY_DESCRIPTIONS).map(([name, text]) => `  ${name.padEnd(16)}${text}`),
      ];
      process.stdout.write(`${text.join('\n')}\n`);
    });
}
