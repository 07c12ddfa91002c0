// Avro object container framing: header, block counts and sizes, sync markers, read from raw bytes with
// every declared length checked before it is waited for.
import { Transform, type TransformCallback } from 'node:stream';
import type { BlockLedger } from './block-ledger';
import { CurrentsDecodeError } from './decode-error';
import type { Limits } from './read-limits';

const MAGIC = Buffer.from('Obj\x01', 'latin1');
const SYNC_BYTES = 16;
const MAX_HEADER_ENTRIES = 64;
const MAX_VARINT_BYTES = 10;

export interface ContainerHeader {
  length: number;
  codec: string;
  schemaJson: Buffer;
  sync: Buffer;
}

type Parsed<T> = T | { need: number };

function needsMore<T extends object>(result: Parsed<T>): result is { need: number } {
  return 'need' in result;
}

/**
 * Checks the container's framing as bytes arrive and hands avsc whole headers and whole blocks only: sizes
 * are checked the moment their varints arrive, so a declared 4 GB block fails before it is waited for, and
 * avsc never re-copies a partial block on every chunk.
 */
export class ContainerGuard extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private neededBytes = 1;
  /** File offset of the first pending byte. */
  private offset = 0;
  private header: ContainerHeader | null = null;
  private declaredEvents = 0;

  constructor(
    private readonly limits: Limits,
    private readonly ledger: BlockLedger,
    private readonly onHeader: (header: ContainerHeader) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.neededBytes) {
      callback();
      return;
    }
    const buffer = this.pending.length === 1 ? chunk : Buffer.concat(this.pending, this.pendingBytes);
    let consumed: number;
    try {
      consumed = this.consume(buffer);
    } catch (error) {
      callback(error as Error);
      return;
    }
    const rest = buffer.subarray(consumed);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.header === null) {
      callback(
        this.pendingBytes === 0
          ? new CurrentsDecodeError('the file is empty', 0)
          : new CurrentsDecodeError('the file ends inside its header (truncated, or not an Avro file)', 0),
      );
    } else if (this.pendingBytes > 0) {
      callback(
        new CurrentsDecodeError(
          `the file ends inside the block at byte ${this.offset} (truncated)`,
          this.offset,
        ),
      );
    } else {
      callback();
    }
  }

  /** Pushes every complete unit in `buffer` and returns how many bytes were used. */
  private consume(buffer: Buffer): number {
    let position = 0;
    if (this.header === null) {
      const header = parseHeader(buffer, this.limits);
      if (needsMore(header)) {
        if (header.need > this.limits.maxBlockBytes) {
          throw new CurrentsDecodeError(
            `the file header is larger than the ${this.limits.maxBlockBytes}-byte limit`,
            0,
          );
        }
        this.neededBytes = header.need;
        return 0;
      }
      this.onHeader(header);
      this.header = header;
      this.push(buffer.subarray(0, header.length));
      position = header.length;
      this.offset = header.length;
    }
    for (;;) {
      const block = parseBlockFrame(
        buffer,
        position,
        this.offset,
        this.header.sync,
        this.limits,
        this.declaredEvents,
      );
      if (needsMore(block)) {
        this.neededBytes = block.need - position;
        return position;
      }
      this.declaredEvents += block.count;
      this.ledger.add(this.offset, block.count);
      this.push(buffer.subarray(position, block.end));
      this.offset += block.end - position;
      position = block.end;
    }
  }
}

function parseHeader(buffer: Buffer, limits: Limits): Parsed<ContainerHeader> {
  if (buffer.length < MAGIC.length) return { need: MAGIC.length };
  if (!buffer.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CurrentsDecodeError('not an Avro object container file (the magic bytes are missing)', 0);
  }
  const meta = new Map<string, Buffer>();
  let position = MAGIC.length;
  let entries = 0;
  for (;;) {
    const count = readVarint(buffer, position, 0);
    if (count === null) return { need: buffer.length + 1 };
    position = count.next;
    if (count.value === 0) break;
    let items = Math.abs(count.value);
    if (count.value < 0) {
      // A negative count is followed by the byte size of the entries, which the parser does not need.
      const size = readVarint(buffer, position, 0);
      if (size === null) return { need: buffer.length + 1 };
      position = size.next;
    }
    entries += items;
    if (entries > MAX_HEADER_ENTRIES) {
      throw new CurrentsDecodeError(
        `the file header declares more than ${MAX_HEADER_ENTRIES} metadata entries`,
        0,
      );
    }
    for (; items > 0; items--) {
      const key = readLengthPrefixed(buffer, position, limits.maxBlockBytes, 'a file header key');
      if (needsMore(key)) return key;
      const value = readLengthPrefixed(buffer, key.next, limits.maxBlockBytes, 'a file header value');
      if (needsMore(value)) return value;
      meta.set(key.bytes.toString('utf8'), value.bytes);
      position = value.next;
    }
  }
  if (buffer.length < position + SYNC_BYTES) return { need: position + SYNC_BYTES };
  const schemaJson = meta.get('avro.schema');
  if (schemaJson === undefined) throw new CurrentsDecodeError('the file header has no avro.schema', 0);
  return {
    length: position + SYNC_BYTES,
    codec: meta.get('avro.codec')?.toString('utf8') ?? 'null',
    schemaJson,
    sync: Buffer.from(buffer.subarray(position, position + SYNC_BYTES)),
  };
}

function readLengthPrefixed(
  buffer: Buffer,
  position: number,
  maxBytes: number,
  what: string,
): Parsed<{ bytes: Buffer; next: number }> {
  const length = readVarint(buffer, position, 0);
  if (length === null) return { need: buffer.length + 1 };
  if (length.value < 0) {
    throw new CurrentsDecodeError(`${what} at byte ${position} declares a negative length`, 0);
  }
  if (length.value > maxBytes) {
    throw new CurrentsDecodeError(
      `${what} at byte ${position} declares ${length.value} bytes, over the ${maxBytes}-byte limit`,
      0,
    );
  }
  const end = length.next + length.value;
  if (buffer.length < end) return { need: end };
  return { bytes: buffer.subarray(length.next, end), next: end };
}

function parseBlockFrame(
  buffer: Buffer,
  position: number,
  fileOffset: number,
  sync: Buffer,
  limits: Limits,
  eventsBefore: number,
): Parsed<{ count: number; end: number }> {
  const count = readVarint(buffer, position, fileOffset);
  if (count === null) return { need: buffer.length + 1 };
  const at = `the block at byte ${fileOffset}`;
  if (count.value < 0) throw new CurrentsDecodeError(`${at} declares a negative record count`, fileOffset);
  if (eventsBefore + count.value > limits.maxEvents) {
    throw new CurrentsDecodeError(
      `the file declares more than ${limits.maxEvents} events (block at byte ${fileOffset})`,
      fileOffset,
    );
  }
  const size = readVarint(buffer, count.next, fileOffset);
  if (size === null) return { need: buffer.length + 1 };
  if (size.value < 0) throw new CurrentsDecodeError(`${at} declares a negative size`, fileOffset);
  if (size.value > limits.maxBlockBytes) {
    throw new CurrentsDecodeError(
      `${at} declares ${size.value} bytes, over the ${limits.maxBlockBytes}-byte limit`,
      fileOffset,
    );
  }
  const end = size.next + size.value + SYNC_BYTES;
  if (buffer.length < end) return { need: end };
  if (!buffer.subarray(end - SYNC_BYTES, end).equals(sync)) {
    throw new CurrentsDecodeError(
      `${at} does not end with the file's sync marker (corrupt block)`,
      fileOffset,
    );
  }
  return { count: count.value, end };
}

/** An Avro zig-zag varint long; null when the buffer ends first. Precision past 2^53 is irrelevant here. */
function readVarint(
  buffer: Buffer,
  position: number,
  fileOffset: number,
): { value: number; next: number } | null {
  let magnitude = 0;
  let scale = 1;
  for (let index = 0; index < MAX_VARINT_BYTES; index++) {
    const byte = buffer[position + index];
    if (byte === undefined) return null;
    magnitude += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) {
      const value = magnitude % 2 === 0 ? magnitude / 2 : -(magnitude + 1) / 2;
      return { value, next: position + index + 1 };
    }
  }
  throw new CurrentsDecodeError(`malformed number near byte ${fileOffset} (corrupt file)`, fileOffset);
}
