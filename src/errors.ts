/**
 * Coded errors: every error a person may see carries a stable `code`, so entry points
 * (CLI, webhook handlers, Slack listeners) can turn it into a clear message without
 * comparing message strings.
 */
export type ErrorCode =
  | 'gastown_bad_input'
  | 'gastown_not_found'
  | 'gastown_conflict'
  | 'gastown_locked'
  | 'gastown_illegal_transition'
  | 'gastown_cycle'
  | 'gastown_not_ready'
  | 'gastown_no_free_polecat'
  | 'gastown_not_a_rig'
  | 'gastown_git'
  | 'gastown_corrupt_entity'
  | 'gastown_sync'
  | 'gastown_plan_invalid'
  | 'gastown_model'
  | 'gastown_forbidden'
  | 'gastown_config'
  | 'gastown_agent'
  | 'gastown_forge'
  | 'gastown_chat';

const BRAND = Symbol.for('gastown.error');

export class GastownError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  readonly [BRAND] = true;

  /**
   * `instanceof` by brand, not by prototype: the CLI runs from two bundles (see
   * scripts/bundle-cli.mjs), each with its own copy of this class, and an error thrown by
   * one must still be recognised by the other.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: unknown })[BRAND] === true;
  }

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GastownError';
    this.code = code;
    this.details = details;
  }
}

export function isGastownError(err: unknown, code?: ErrorCode): err is GastownError {
  return err instanceof GastownError && (code === undefined || err.code === code);
}
