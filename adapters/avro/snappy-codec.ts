// Avro's `snappy` codec for avsc (which has none): snappy data, then a big-endian CRC32 of the uncompressed bytes.
import { crc32 } from 'node:zlib';
import { compress, uncompress } from 'snappyjs';

/** The callback-style codec avsc's BlockEncoder and BlockDecoder take in their `codecs` option. */
export type AvroCodec = (buffer: Buffer, callback: (error: Error | null, result?: Buffer) => void) => void;

export class SnappyBlockError extends Error {
  readonly code = 'snappy_block_error';
  override readonly name = 'SnappyBlockError';
}

const CHECKSUM_BYTES = 4;

/**
 * Decompresses one Avro snappy block. The declared length is checked before anything is allocated, so a block
 * that claims gigabytes fails at once instead of exhausting memory.
 */
export function decodeSnappyBlock(block: Uint8Array, maxUncompressedBytes: number): Buffer {
  if (block.length <= CHECKSUM_BYTES) {
    throw new SnappyBlockError('snappy block is shorter than its 4-byte checksum');
  }
  const compressed = block.subarray(0, block.length - CHECKSUM_BYTES);
  const declared = declaredLength(compressed);
  if (declared === null) throw new SnappyBlockError('snappy block has an unreadable length header');
  if (declared > maxUncompressedBytes) {
    throw new SnappyBlockError(
      `snappy block declares ${declared} uncompressed bytes, over the ${maxUncompressedBytes}-byte limit`,
    );
  }
  let raw: Uint8Array;
  try {
    raw = uncompress(compressed, maxUncompressedBytes);
  } catch (cause) {
    throw new SnappyBlockError('snappy block is not valid snappy data', { cause });
  }
  const view = new DataView(block.buffer, block.byteOffset + compressed.length, CHECKSUM_BYTES);
  if (crc32(raw) !== view.getUint32(0, false)) {
    throw new SnappyBlockError('snappy block checksum (CRC32 of the uncompressed data) does not match');
  }
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Compresses one Avro snappy block (used to write fixtures and test files). */
export function encodeSnappyBlock(raw: Uint8Array): Buffer {
  const compressed = compress(raw);
  const block = Buffer.alloc(compressed.length + CHECKSUM_BYTES);
  block.set(compressed, 0);
  block.writeUInt32BE(crc32(raw), compressed.length);
  return block;
}

/** avsc BlockDecoder codec; rejects blocks that would inflate past `maxUncompressedBytes`. */
export function snappyDecoderCodec(maxUncompressedBytes: number): AvroCodec {
  return (buffer, callback) => {
    let raw: Buffer;
    try {
      raw = decodeSnappyBlock(buffer, maxUncompressedBytes);
    } catch (error) {
      callback(error instanceof Error ? error : new SnappyBlockError('snappy block could not be decoded'));
      return;
    }
    callback(null, raw);
  };
}

/** avsc BlockEncoder codec. */
export function snappyEncoderCodec(): AvroCodec {
  return (buffer, callback) => {
    let block: Buffer;
    try {
      block = encodeSnappyBlock(buffer);
    } catch (error) {
      callback(error instanceof Error ? error : new SnappyBlockError('snappy block could not be encoded'));
      return;
    }
    callback(null, block);
  };
}

/** The uncompressed length snappy writes first (a little-endian base-128 varint of at most 32 bits). */
function declaredLength(compressed: Uint8Array): number | null {
  let length = 0;
  for (let index = 0; index < 5; index++) {
    const byte = compressed[index];
    if (byte === undefined) return null;
    length += (byte & 0x7f) * 2 ** (7 * index);
    if ((byte & 0x80) === 0) return length;
  }
  return null;
}
