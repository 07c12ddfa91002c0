// The error a Currents file that cannot be read ends in; every part of the reader throws it.
import { UnreadableFileError } from '../../domain/errors';

/** A Currents file that cannot be read. The message is plain English and never quotes record content. */
export class CurrentsDecodeError extends UnreadableFileError {
  /** Byte offset in the file of the header or block at fault, when known. */
  readonly offset: number | null;

  constructor(message: string, offset: number | null, options?: ErrorOptions) {
    super(message, options);
    this.offset = offset;
  }
}
