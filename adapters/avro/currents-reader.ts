// Streams a Braze Currents Avro file into EngagementEvents: avsc decodes, guarded where it is not (see below).
import { pipeline, type Readable, Transform, type TransformCallback } from 'node:stream';
import { inflateRawSync } from 'node:zlib';
import { type Schema, streams, Type, types } from 'avsc';
import {
  type CurrentsEngagementRecord,
  type EngagementEvent,
  type EngagementKind,
  toEngagementEvent,
} from '../../domain/currents';
import { UnreadableFileError } from '../../domain/errors';
import { type AvroCodec, SnappyBlockError, snappyDecoderCodec } from './snappy-codec';

export interface CurrentsReadLimits {
  /** Largest block, compressed or not, and largest file header (default 16 MiB). */
  maxBlockBytes?: number;
  /** Largest string or bytes value in a record (default 1 MiB; Braze drops events over 900 KB). */
  maxStringBytes?: number;
  /** Most events one file may declare (default 2,000,000). */
  maxEvents?: number;
}

/** A Currents file that cannot be read. The message is plain English and never quotes record content. */
export class CurrentsDecodeError extends UnreadableFileError {
  /** Byte offset in the file of the header or block at fault, when known. */
  readonly offset: number | null;

  constructor(message: string, offset: number | null, options?: ErrorOptions) {
    super(message, options);
    this.offset = offset;
  }
}

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
// ContainerGuard checks framing and sizes before avsc sees a byte, the codecs are bounded, and the writer
// type is built with bounded string, bytes, array and map types.

interface Limits {
  maxBlockBytes: number;
  maxStringBytes: number;
  maxEvents: number;
}

const DEFAULT_LIMITS: Limits = {
  maxBlockBytes: 16 * 1024 * 1024,
  maxStringBytes: 1024 * 1024,
  maxEvents: 2_000_000,
};

function resolveLimits(limits: CurrentsReadLimits): Limits {
  const resolved = { ...DEFAULT_LIMITS };
  for (const name of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = limits[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(`${name} must be a positive integer`);
    }
    resolved[name] = value;
  }
  return resolved;
}

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

// ---------------------------------------------------------------------------------------------------------
// Container framing

const MAGIC = Buffer.from('Obj\x01', 'latin1');
const SYNC_BYTES = 16;
const MAX_HEADER_ENTRIES = 64;
const MAX_VARINT_BYTES = 10;

interface ContainerHeader {
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
class ContainerGuard extends Transform {
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

/** File offsets of the blocks handed to avsc, so codec and record failures can name their block. */
class BlockLedger {
  private blocks: { offset: number; count: number }[] = [];
  private codecIndex = 0;
  private recordIndex = 0;

  add(offset: number, count: number): void {
    this.blocks.push({ offset, count });
  }

  /** avsc decompresses every block exactly once, in file order. */
  nextCodecOffset(): number | null {
    return this.blocks[this.codecIndex++]?.offset ?? null;
  }

  /** avsc reads records block after block, skipping empty blocks. */
  nextRecordBlock(): { offset: number; count: number } | null {
    let block = this.blocks[this.recordIndex++];
    while (block !== undefined && block.count === 0) block = this.blocks[this.recordIndex++];
    if (this.recordIndex > 256) {
      this.blocks = this.blocks.slice(this.recordIndex);
      this.codecIndex -= this.recordIndex;
      this.recordIndex = 0;
    }
    return block ?? null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Codecs

function decoderCodecs(limits: Limits, ledger: BlockLedger): Record<string, AvroCodec> {
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

// ---------------------------------------------------------------------------------------------------------
// Reading records: writer schema of each file, projected to the fields weft needs

interface AvroTap {
  buf: Buffer;
  pos: number;
  readLong(): number;
}

interface AvroSkippable {
  _skip(tap: AvroTap): void;
}

type FieldShape = 'string' | 'time' | 'boolean' | 'string-or-boolean';

const PROJECTED_FIELDS: Readonly<Record<keyof CurrentsEngagementRecord, FieldShape>> = {
  id: 'string',
  time: 'time',
  user_id: 'string',
  campaign_id: 'string',
  canvas_step_id: 'string',
  url: 'string',
  is_suspected_bot_click: 'boolean',
  machine_open: 'string-or-boolean',
};
const REQUIRED_FIELDS = ['id', 'time'] as const;
const SCALARS_BY_SHAPE: Readonly<Record<FieldShape, readonly string[]>> = {
  string: ['string'],
  time: ['int', 'long'],
  boolean: ['boolean'],
  'string-or-boolean': ['string', 'boolean'],
};

/** Builds the type avsc reads records with: each record is projected, checked and reduced in one step. */
function buildReaderType(
  header: ContainerHeader,
  kind: EngagementKind,
  limits: Limits,
  ledger: BlockLedger,
): Type {
  if (!Object.hasOwn(streams.BlockDecoder.defaultCodecs(), header.codec) && header.codec !== 'snappy') {
    const named = /^[A-Za-z0-9_.-]{1,32}$/.test(header.codec) ? ` ${header.codec}` : '';
    throw new CurrentsDecodeError(`the file uses an unsupported codec${named}`, 0);
  }
  let schema: unknown;
  try {
    schema = JSON.parse(header.schemaJson.toString('utf8'));
  } catch (cause) {
    throw new CurrentsDecodeError("the file header's avro.schema is not valid JSON", 0, { cause });
  }
  const typeHook = boundedTypeHook(limits.maxStringBytes);
  let writer: Type;
  try {
    writer = Type.forSchema(schema as Schema, { typeHook });
  } catch (cause) {
    throw new CurrentsDecodeError("the file header's avro.schema is not a valid Avro schema", 0, { cause });
  }
  if (!(writer instanceof types.RecordType)) {
    throw new CurrentsDecodeError("the file's schema is not a record", 0);
  }
  checkEventKind(writer, kind);
  checkArrays(writer);

  const fields: { name: string; type: Schema }[] = [];
  for (const [name, shape] of Object.entries(PROJECTED_FIELDS) as [
    keyof CurrentsEngagementRecord,
    FieldShape,
  ][]) {
    const field = writer.fields.find((candidate) => candidate.name === name);
    if (field === undefined) {
      if ((REQUIRED_FIELDS as readonly string[]).includes(name)) {
        throw new CurrentsDecodeError(`schema lacks field ${name}`, 0);
      }
      continue;
    }
    if (!hasShape(field.type, shape)) {
      throw new CurrentsDecodeError(`schema field ${name} has an unsupported type`, 0);
    }
    fields.push({ name, type: field.type.schema() });
  }
  // Same record name as the writer, so avsc resolves one against the other; unused writer fields are skipped.
  const projection = Type.forSchema({ type: 'record', name: writer.name ?? 'Event', fields } as Schema, {
    typeHook,
  });
  const resolver = projection.createResolver(writer);
  return new EngagementReaderType(writer, recordReader(projection, resolver, kind, ledger));
}

/** A file whose record name says the other engagement kind is a misfiled object, not data to count. */
function checkEventKind(writer: Type, kind: EngagementKind): void {
  const named = /\.(click|open)$/i.exec(writer.name ?? '')?.[1]?.toLowerCase();
  if (named !== undefined && named !== kind) {
    throw new CurrentsDecodeError(`the file's schema is for email ${named}s, but ${kind}s were expected`, 0);
  }
}

function hasShape(type: Type, shape: FieldShape): boolean {
  const allowed = SCALARS_BY_SHAPE[shape];
  if (type instanceof types.UnwrappedUnionType || type instanceof types.WrappedUnionType) {
    const branches = type.types.map((branch) => branch.typeName);
    return (
      branches.length === 2 &&
      branches.includes('null') &&
      branches.some((branch) => branch !== 'null' && allowed.includes(branch))
    );
  }
  return allowed.includes(type.typeName);
}

/**
 * Rejects arrays of items that take no bytes (null, empty records): their declared length is bounded by
 * nothing in the file, so no byte budget can stop a hostile count.
 */
function checkArrays(writer: Type): void {
  const seen = new Set<Type>();
  const visit = (type: Type): void => {
    if (seen.has(type)) return;
    seen.add(type);
    if (type instanceof types.ArrayType) {
      if (takesNoBytes(type.itemsType, new Set())) {
        throw new CurrentsDecodeError("the file's schema has an array whose items take no bytes", 0);
      }
      visit(type.itemsType);
    } else if (type instanceof types.MapType) {
      visit(type.valuesType as Type);
    } else if (type instanceof types.RecordType) {
      for (const field of type.fields) visit(field.type);
    } else if (type instanceof types.UnwrappedUnionType || type instanceof types.WrappedUnionType) {
      for (const branch of type.types) visit(branch);
    }
  };
  visit(writer);
}

function takesNoBytes(type: Type, visiting: Set<Type>): boolean {
  if (type instanceof types.NullType) return true;
  if (type instanceof types.FixedType) return type.size === 0;
  if (type instanceof types.RecordType) {
    if (visiting.has(type)) return false;
    visiting.add(type);
    return type.fields.every((field) => takesNoBytes(field.type, visiting));
  }
  return false;
}

/** Raised inside avsc's decoding by the bounded types; turned into a CurrentsDecodeError naming the block. */
class ValueLimitError extends Error {}

/**
 * avsc types with limits, swapped in through `typeHook`. avsc freezes type instances, so the checks live on
 * subclasses; strings and bytes read with closures because avsc calls their `_read` unbound.
 */
function boundedTypeHook(maxStringBytes: number): (schema: Schema, opts: unknown) => Type | undefined {
  const declaredLength = (tap: AvroTap): number => {
    const length = tap.readLong();
    if (length < 0) throw new ValueLimitError('a string or bytes value declares a negative length');
    if (length > maxStringBytes) {
      throw new ValueLimitError(
        `a string or bytes value declares ${length} bytes, over the ${maxStringBytes}-byte limit`,
      );
    }
    return length;
  };
  const skipLengthPrefixed = (tap: AvroTap): void => {
    // Not `tap.pos += declaredLength(tap)`: that would add to the position from before the length was read.
    const length = declaredLength(tap);
    tap.pos += length;
  };
  const skipBlocks = (tap: AvroTap, skipItem: (tap: AvroTap) => void): void => {
    for (;;) {
      let count = tap.readLong();
      if (count === 0 || tap.pos > tap.buf.length) return;
      if (count < 0) {
        const size = tap.readLong();
        if (size < 0) throw new ValueLimitError('an array or map block declares a negative size');
        tap.pos += size;
        continue;
      }
      // Every item takes at least one byte (checkArrays refuses the rest), which bounds the count.
      if (count > tap.buf.length - tap.pos) {
        throw new ValueLimitError(`an array or map declares ${count} items, more than its block holds`);
      }
      while (count-- > 0) skipItem(tap);
    }
  };

  class BoundedStringType extends types.StringType {
    _read(tap: AvroTap): string | undefined {
      const length = declaredLength(tap);
      const start = tap.pos;
      tap.pos += length;
      return tap.pos > tap.buf.length ? undefined : tap.buf.toString('utf8', start, tap.pos);
    }
    _skip(tap: AvroTap): void {
      skipLengthPrefixed(tap);
    }
  }
  class BoundedBytesType extends types.BytesType {
    _read(tap: AvroTap): Buffer | undefined {
      const length = declaredLength(tap);
      const start = tap.pos;
      tap.pos += length;
      return tap.pos > tap.buf.length ? undefined : Buffer.from(tap.buf.subarray(start, tap.pos));
    }
    _skip(tap: AvroTap): void {
      skipLengthPrefixed(tap);
    }
  }
  // Only skipping is bounded: the projection reads scalar fields, so avsc never reads an array or a map.
  class BoundedArrayType extends types.ArrayType {
    _skip(tap: AvroTap): void {
      const items = this.itemsType as unknown as AvroSkippable;
      skipBlocks(tap, (itemTap) => items._skip(itemTap));
    }
  }
  class BoundedMapType extends types.MapType {
    _skip(tap: AvroTap): void {
      const values = this.valuesType as AvroSkippable;
      skipBlocks(tap, (entryTap) => {
        skipLengthPrefixed(entryTap);
        values._skip(entryTap);
      });
    }
  }

  return (schema, opts) => {
    const typeName = typeof schema === 'string' ? schema : isSchemaObject(schema) ? schema.type : undefined;
    switch (typeName) {
      case 'string':
        return new BoundedStringType();
      case 'bytes':
        return new BoundedBytesType();
      case 'array':
        return new BoundedArrayType(schema, opts);
      case 'map':
        return new BoundedMapType(schema, opts);
      default:
        return undefined;
    }
  };
}

function isSchemaObject(schema: unknown): schema is { type: unknown } {
  return typeof schema === 'object' && schema !== null && !Array.isArray(schema);
}

/**
 * The type avsc's BlockDecoder reads each record with (handed over through `parseHook`). avsc calls its
 * `_read` once per record with the block's tap, which lets weft project, check and reduce the record in place
 * and know which block it came from. A derived (logical) type because avsc freezes its built-in types.
 */
class EngagementReaderType extends types.LogicalType {
  private readonly readRecord: (tap: AvroTap) => EngagementEvent;

  constructor(writer: Type, readRecord: (tap: AvroTap) => EngagementEvent) {
    super(writer);
    this.readRecord = readRecord;
  }

  _read(tap: AvroTap): EngagementEvent {
    return this.readRecord(tap);
  }

  protected override _fromValue(value: unknown): unknown {
    return value;
  }

  protected override _toValue(value: unknown): unknown {
    return value;
  }

  protected override _resolve(): undefined {
    return undefined;
  }
}

type Resolver = ReturnType<Type['createResolver']>;

function recordReader(
  projection: Type,
  resolver: Resolver,
  kind: EngagementKind,
  ledger: BlockLedger,
): (tap: AvroTap) => EngagementEvent {
  let remaining = 0;
  let blockOffset: number | null = null;
  const fail = (problem: string, cause?: unknown): CurrentsDecodeError => {
    const at = blockOffset === null ? 'a block' : `the block at byte ${blockOffset}`;
    return new CurrentsDecodeError(
      problem.replace('{block}', at),
      blockOffset,
      cause ? { cause } : undefined,
    );
  };
  return (tap) => {
    if (remaining === 0) {
      const block = ledger.nextRecordBlock();
      blockOffset = block?.offset ?? null;
      // Without a ledger entry (never expected) the record is still read; errors then name no offset.
      remaining = block?.count ?? 1;
    }
    remaining--;
    let decoded: { value: unknown; offset: number };
    try {
      decoded = projection.decode(tap.buf, tap.pos, resolver);
    } catch (cause) {
      const detail = cause instanceof ValueLimitError ? cause.message : 'its bytes do not match the schema';
      throw fail(`a record in {block} could not be decoded: ${detail}`, cause);
    }
    if (decoded.offset < 0) throw fail('a record in {block} runs past the end of the block (corrupt block)');
    tap.pos = decoded.offset;
    if (remaining === 0 && tap.pos !== tap.buf.length) {
      throw fail('{block} has bytes left after its last record (corrupt block)');
    }
    const record = decoded.value as Record<string, unknown>;
    if (typeof record['id'] !== 'string' || record['id'] === '') throw fail('a record in {block} has no id');
    if (typeof record['time'] !== 'number' || !Number.isFinite(record['time'])) {
      throw fail('a record in {block} has no time');
    }
    return toEngagementEvent(kind, record as unknown as CurrentsEngagementRecord);
  };
}
