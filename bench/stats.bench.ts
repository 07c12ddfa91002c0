// P(best) by quadrature: CPU per call for 10 and 20 variants against 2 variants, measured in the same run.
import { type BetaParams, probabilityBest } from '../domain/stats';
import { measureCpu, ratioLine } from './harness';

const CALLS = 2000;

function posteriors(count: number): BetaParams[] {
  // Realistic mid-campaign posteriors: ~20k sends per variant at click rates spread over 1–5%.
  return Array.from({ length: count }, (_, i) => {
    const rate = 0.01 + (0.04 * i) / Math.max(1, count - 1);
    const sends = 20_000 + 137 * i;
    return { alpha: 1 + rate * sends, beta: 1 + (1 - rate) * sends };
  });
}

export async function benchStats(): Promise<string[]> {
  const two = posteriors(2);
  const baseline = await measureCpu(() => probabilityBest(two), CALLS);
  const lines: string[] = [];
  for (const count of [10, 20]) {
    const posts = posteriors(count);
    const measured = await measureCpu(() => probabilityBest(posts), CALLS);
    lines.push(
      ratioLine(
        `probabilityBest ${count} variants vs 2 variants`,
        measured.perCallMicros,
        baseline.perCallMicros,
        'µs/call',
      ),
    );
  }
  lines.push(`probabilityBest 2 variants: ${baseline.perCallMicros.toFixed(2)} µs/call (baseline)`);
  return lines;
}
