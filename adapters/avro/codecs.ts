// The codecs avsc's BlockDecoder decompresses blocks with: bounded in output, and failing with an error that
// names the block.
import { inflateRawSync } from 'node:zlib';
import { streams } from 'avsc';
import type { BlockLedger } from './block-ledger';
import { CurrentsDecodeError } from './decode-error';
import type { Limits } from './read-limits';
import { type AvroCodec, SnappyBlockError, snappyDecoderCodec } from './snappy-codec';

/** The codecs decoderCodecs supplies: avsc's own (bounded where they are not) and snappy. */
export function isSupportedCodec(name: string): boolean {
  return Object.hasOwn(streams.BlockDecoder.defaultCodecs(), name) || name === 'snappy';
}

export function decoderCodecs(limits: Limits, ledger: BlockLedger): Record<string, AvroCodec> {
  const codecs: Record<string, AvroCodec> = {
    ...streams.BlockDecoder.defaultCodecs(),
    deflate: boundedInflate(limits.maxBlockBytes),
    snappy: snappyDecoderCodec(limits.maxBlockBytes),
  };
  return Object.fromEntries(
    Object.entries(codecs).map(([name, codec]) => [name, attributeToBlock(name, codec, limits, ledger)]),
  );
}

/**
 * avsc's default inflates without an output limit (a few kilobytes can claim gigabytes). Synchronous: a block
 * is small, and a thread-pool round trip per block left the reader idle a third of the time.
 */
function boundedInflate(maxBytes: number): AvroCodec {
  return (buffer, callback) => {
    let raw: Buffer;
    try {
      raw = inflateRawSync(buffer, { maxOutputLength: maxBytes });
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback(null, raw);
  };
}

function attributeToBlock(name: string, codec: AvroCodec, limits: Limits, ledger: BlockLedger): AvroCodec {
  return (buffer, callback) => {
    const offset = ledger.nextCodecOffset();
    codec(buffer, (error, result) => {
      if (error) {
        const at = offset === null ? 'a block' : `the block at byte ${offset}`;
        const reason = codecFailure(error, limits);
        callback(
          new CurrentsDecodeError(`${at} could not be decompressed (${name}): ${reason}`, offset, {
            cause: error,
          }),
        );
        return;
      }
      callback(null, result);
    });
  };
}

function codecFailure(error: Error, limits: Limits): string {
  if (error instanceof SnappyBlockError) return error.message;
  if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
    return `it inflates past the ${limits.maxBlockBytes}-byte limit`;
  }
  return 'the compressed data is corrupt';
}
