// Benchmark helpers: every figure is a ratio against a baseline measured in the same run, on the same machine.

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

/**
 * CPU per call of `candidate` and `baseline`, measured in alternating rounds so both see the same machine
 * conditions; each figure is the fastest round (the least disturbed by other work and GC).
 */
export async function compareCpu(
  candidate: () => Promise<unknown> | unknown,
  baseline: () => Promise<unknown> | unknown,
  calls: number,
  rounds = 9,
): Promise<{ candidate: Measurement; baseline: Measurement }> {
  const round = async (call: () => Promise<unknown> | unknown) => {
    const start = process.cpuUsage();
    for (let i = 0; i < calls; i++) await call();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / calls;
  };
  await round(candidate);
  await round(baseline);
  let best = { candidate: Number.POSITIVE_INFINITY, baseline: Number.POSITIVE_INFINITY };
  for (let r = 0; r < rounds; r++) {
    best = {
      baseline: Math.min(best.baseline, await round(baseline)),
      candidate: Math.min(best.candidate, await round(candidate)),
    };
  }
  const measurement = (micros: number): Measurement => ({
    perCallMicros: micros,
    callsPerSecond: 1e6 / micros,
  });
  return { candidate: measurement(best.candidate), baseline: measurement(best.baseline) };
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
