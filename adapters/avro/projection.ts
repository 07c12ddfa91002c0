// Projection of a Currents record to an EngagementEvent: the file's writer schema is checked (kind, required
// fields, field types) and each record is read, checked and reduced in one step.
import { type Schema, Type, types } from 'avsc';
import {
  type CurrentsEngagementRecord,
  type EngagementEvent,
  type EngagementKind,
  toEngagementEvent,
} from '../../domain/currents';
import type { BlockLedger } from './block-ledger';
import { type AvroTap, boundedTypeHook, checkArrays, ValueLimitError } from './bounded-types';
import { isSupportedCodec } from './codecs';
import { CurrentsDecodeError } from './decode-error';
import type { ContainerHeader } from './framing';
import type { Limits } from './read-limits';

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
export function buildReaderType(
  header: ContainerHeader,
  kind: EngagementKind,
  limits: Limits,
  ledger: BlockLedger,
): Type {
  if (!isSupportedCodec(header.codec)) {
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
