import { StoreUnavailableError } from '../../domain/errors';

/** Anything the store throws that is not an expected outcome becomes a domain error with its cause kept. */
export function storeFailure(operation: string, error: unknown): StoreUnavailableError {
  return new StoreUnavailableError(operation, { cause: error });
}
