// Benchmark helpers: every figure is a ratio against a baseline measured in the same run, on the same machine.
import { performance } from 'node:perf_hooks';

export interface Measurement {
  readonly perCallMicros: number;
  readonly callsPerSecond: number;
}

/** CPU time per call (user + system), the median of several rounds after a warm-up. */
export async function measureCpu(
  call: () => Promise<unknown> | unknown,
  calls: number,
  rounds = 5,
): Promise<Measurement> {
  for (let i = 0; i < Math.min(calls, 2000); i++) await call();
  const perRound: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < calls; i++) await call();
    const used = process.cpuUsage(start);
    perRound.push((used.user + used.system) / calls);
  }
  perRound.sort((a, b) => a - b);
  const median = perRound[Math.floor(perRound.length / 2)]!;
  return { perCallMicros: median, callsPerSecond: 1e6 / median };
}

export async function measureWall(call: () => Promise<unknown> | unknown, calls: number): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < calls; i++) await call();
  return (performance.now() - start) / calls;
}

export function ratioLine(
  name: string,
  value: number,
  baseline: number,
  unit: string,
  target?: string,
): string {
  const ratio = value / baseline;
  return `ratio ${name}: ${ratio.toFixed(2)} (${value.toFixed(2)} ${unit} vs baseline ${baseline.toFixed(2)} ${unit})${target ? ` target ${target}` : ''}`;
}
