// Child process of bench/ingestion.bench.ts: `write <events> <file>` streams a Click file to disk (never
// holding it in memory); `ingest <file>` streams it through CurrentsIngestion on in-memory stores and prints
// the peak RSS, as one JSON line.

import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { type Schema, streams } from 'avsc';
import { readCurrentsEvents } from '../adapters/avro/currents-reader';
import { clickSchema } from '../test/support/currents-fixtures';
import { BENCH_KEY, benchRecords, benchWorld } from './ingestion.bench';

async function write(events: number, path: string) {
  const world = await benchWorld();
  const encoder = new streams.BlockEncoder(clickSchema() as Schema, { codec: 'deflate' });
  const written = pipeline(encoder, createWriteStream(path));
  for (const record of benchRecords(events, world)) {
    if (!encoder.write(record)) await once(encoder, 'drain');
  }
  encoder.end();
  await written;
}

async function ingest(path: string) {
  const world = await benchWorld();
  const start = performance.now();
  const result = await world.ingestion.ingest(BENCH_KEY, async (kind) =>
    readCurrentsEvents(createReadStream(path), kind),
  );
  const seconds = (performance.now() - start) / 1000;
  if (result.status !== 'ok') throw new Error(`not ingested: ${result.reason}`);
  process.stdout.write(
    `${JSON.stringify({
      events: result.events,
      attributed: result.attributed,
      maxRssMb: peakRssKb() / 1024,
      seconds,
    })}\n`,
  );
}

/**
 * Peak RSS of this process image in KB. On Linux, getrusage's maxRSS (process.resourceUsage) survives execve,
 * so a child spawned by a large parent reports the parent's size at fork; VmHWM belongs to this image alone.
 */
function peakRssKb(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch {
    // Not Linux: fall back to getrusage.
  }
  return process.resourceUsage().maxRSS;
}

const [command, ...args] = process.argv.slice(2);
const done =
  command === 'write'
    ? write(Number(args[0]), args[1]!)
    : command === 'ingest'
      ? ingest(args[0]!)
      : Promise.reject(new Error('usage: ingestion-rss.ts write <events> <file> | ingest <file>'));
done.catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
