// avsc types that refuse values larger than the file can hold: strings and bytes over a limit, arrays and
// maps declaring more items than their block has bytes, and schemas whose arrays no byte budget can bound.
import { type Schema, type Type, types } from 'avsc';
import { CurrentsDecodeError } from './decode-error';

/** The part of avsc's Tap (its read cursor over a block) these types use. */
export interface AvroTap {
  buf: Buffer;
  pos: number;
  readLong(): number;
}

interface AvroSkippable {
  _skip(tap: AvroTap): void;
}

/**
 * Rejects arrays of items that take no bytes (null, empty records): their declared length is bounded by
 * nothing in the file, so no byte budget can stop a hostile count.
 */
export function checkArrays(writer: Type): void {
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
export class ValueLimitError extends Error {}

/**
 * avsc types with limits, swapped in through `typeHook`. avsc freezes type instances, so the checks live on
 * subclasses; strings and bytes read with closures because avsc calls their `_read` unbound.
 */
export function boundedTypeHook(maxStringBytes: number): (schema: Schema, opts: unknown) => Type | undefined {
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
