// The few ways a request can fail that a caller should hear about. Status codes are chosen at the HTTP edge only.

export type ErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'not_found'
  | 'not_allowed'
  | 'conflict'
  | 'too_large'
  | 'unavailable';

export abstract class WeftError extends Error {
  abstract readonly kind: ErrorKind;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad input: the message names the field and the rule it broke. */
export class ValidationError extends WeftError {
  readonly kind = 'invalid';
  constructor(
    readonly field: string,
    message: string,
    code = 'invalid_request',
  ) {
    super(code, `${field}: ${message}`);
  }
}

export class UnauthorizedError extends WeftError {
  readonly kind = 'unauthorized';
  constructor(message = 'missing or invalid bearer token') {
    super('unauthorized', message);
  }
}

export class NotFoundError extends WeftError {
  readonly kind = 'not_found';
  constructor(what: string) {
    super('not_found', `${what} not found`);
  }
}

export class MethodNotAllowedError extends WeftError {
  readonly kind = 'not_allowed';
  constructor(method: string) {
    super('method_not_allowed', `method ${method} is not allowed here`);
  }
}

export class ConflictError extends WeftError {
  readonly kind = 'conflict';
  constructor(code: string, message: string) {
    super(code, message);
  }
}

export class PayloadTooLargeError extends WeftError {
  readonly kind = 'too_large';
  constructor(limitBytes: number) {
    super('payload_too_large', `request body is larger than ${limitBytes} bytes`);
  }
}

/** The store failed or timed out: infrastructure, not the caller's fault. Keeps the cause for logs. */
export class StoreUnavailableError extends WeftError {
  readonly kind = 'unavailable';
  constructor(operation: string, options?: { cause?: unknown }) {
    super('store_unavailable', `store unavailable during ${operation}`, options);
  }
}

/**
 * A file (a Currents object) that no retry will ever read: listed as failed with `reason`, plain English that
 * never quotes the file's content. Adapters throw it (or a subclass) for malformed files.
 */
export class UnreadableFileError extends WeftError {
  readonly kind = 'invalid';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super('unreadable_file', reason, options);
  }
}
