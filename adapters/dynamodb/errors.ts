import { StoreUnavailableError } from '../../domain/errors';

/** Anything the store throws that is not an expected outcome becomes a domain error with its cause kept. */
export function storeFailure(operation: string, error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(operation, { cause: error });
}

export function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : undefined;
}
