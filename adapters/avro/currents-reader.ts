// Streams a Braze Currents Avro file into EngagementEvents: avsc decodes, guarded where it is not (see below).
import { pipeline, type Readable } from 'node:stream';
import { streams, type Type } from 'avsc';
import type { EngagementEvent, EngagementKind } from '../../domain/currents';
import { BlockLedger } from './block-ledger';
import { decoderCodecs } from './codecs';
import { CurrentsDecodeError } from './decode-error';
import { ContainerGuard } from './framing';
import { buildReaderType } from './projection';
import { type CurrentsReadLimits, type Limits, resolveLimits } from './read-limits';

export { CurrentsDecodeError } from './decode-error';
export type { CurrentsReadLimits } from './read-limits';

/**
 * Reads engagement events from a Currents Avro object container file, one block in memory at a time. Each
 * record is reduced to an EngagementEvent as it is decoded; personal fields are skipped, never materialised.
 * A malformed file rejects the iteration with CurrentsDecodeError; an error of the source stream itself
 * (network, S3) is rethrown unchanged. Leaving the loop early destroys the source.
 */
export function readCurrentsEvents(
  source: NodeJS.ReadableStream | Readable,
  kind: EngagementKind,
  limits: CurrentsReadLimits = {},
): AsyncIterable<EngagementEvent> {
  const resolved = resolveLimits(limits);
  let events: AsyncIterator<EngagementEvent> | null = null;
  return {
    // Like a generator, the file is read once however many loops iterate it.
    [Symbol.asyncIterator]: () => {
      events ??= openEvents(source, kind, resolved);
      return events;
    },
  };
}

// What avsc does not guard (measured on 5.7.9):
// - a truncated file, a file cut inside its header and an empty file all end silently, as if shorter, and a
//   block or header value declaring gigabytes makes it buffer the rest of the file waiting for it;
// - `deflate` inflates without an output limit;
// - an array or map declaring 2^31 items allocates until the process dies (reading) or spins (skipping), and
//   a negative block size inside an array can loop forever.
// ContainerGuard (framing.ts) checks framing and sizes before avsc sees a byte, the codecs (codecs.ts) are
// bounded, and the writer type is built with bounded string, bytes, array and map types (bounded-types.ts).

/**
 * Plumbs source → ContainerGuard → avsc BlockDecoder and hands out the decoder's own iterator, translating
 * its errors; not an async generator, whose extra hop per event cost about a tenth of the throughput.
 */
function openEvents(
  source: NodeJS.ReadableStream | Readable,
  kind: EngagementKind,
  limits: Limits,
): AsyncIterator<EngagementEvent> {
  const ledger = new BlockLedger();
  let readerType: Type | null = null;
  const guard = new ContainerGuard(limits, ledger, (header) => {
    readerType = buildReaderType(header, kind, limits, ledger);
  });
  const decoder = new streams.BlockDecoder({
    codecs: decoderCodecs(limits, ledger),
    // The guard has already parsed and checked this same header and built the reader for it.
    parseHook: () => {
      if (readerType === null) throw new CurrentsDecodeError('the file header was not checked', 0);
      return readerType;
    },
  });
  let sourceError: unknown = null;
  const onSourceError = (error: unknown) => {
    sourceError ??= error;
  };
  source.on('error', onSourceError);
  // Failures reach the caller through the iterator; these keep a late duplicate from crashing the process.
  guard.on('error', ignore);
  decoder.on('error', ignore);
  pipeline(source, guard, decoder, ignore);

  const events = (decoder as AsyncIterable<EngagementEvent>)[Symbol.asyncIterator]();
  const settle = () => source.removeListener('error', onSourceError);
  return {
    next: () =>
      events.next().then(
        (result) => {
          if (result.done) settle();
          return result;
        },
        (error: unknown) => {
          settle();
          throw classify(error, sourceError);
        },
      ),
    // Leaving the loop early destroys the decoder, and the pipeline destroys the source with it.
    return: async (value?: unknown) => {
      settle();
      await events.return?.();
      return { done: true, value };
    },
  };
}

function ignore(): void {}

function classify(error: unknown, sourceError: unknown): unknown {
  const decodeError = findDecodeError(error);
  if (decodeError !== null) return decodeError;
  if (error === sourceError || isPrematureClose(error)) return error;
  return new CurrentsDecodeError('the file could not be decoded as Avro', null, { cause: error });
}

function findDecodeError(error: unknown): CurrentsDecodeError | null {
  let current = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof CurrentsDecodeError) return current;
    current = current.cause;
  }
  return null;
}

function isPrematureClose(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE';
}
