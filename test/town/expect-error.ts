import { expect } from 'vitest';
import { GastownError, type ErrorCode } from '../../src/errors.js';

/** Runs fn, asserts it threw a GastownError with `code`, and returns the error. */
export function expectGastownError(fn: () => unknown, code: ErrorCode): GastownError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(GastownError);
  expect((thrown as GastownError).code).toBe(code);
  return thrown as GastownError;
}
