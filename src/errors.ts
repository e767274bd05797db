/**
 * Coded errors: every error a person may see carries a stable `code`, so entry points
 * (CLI, webhook handlers, Slack listeners) can turn it into a clear message without
 * comparing message strings.
 */
export type ErrorCode =
  | 'gastown_bad_input'
  | 'gastown_not_found'
  | 'gastown_conflict'
  | 'gastown_illegal_transition'
  | 'gastown_cycle'
  | 'gastown_not_ready'
  | 'gastown_no_free_polecat'
  | 'gastown_not_a_rig'
  | 'gastown_git'
  | 'gastown_sync'
  | 'gastown_plan_invalid'
  | 'gastown_model'
  | 'gastown_forbidden'
  | 'gastown_config'
  | 'gastown_agent'
  | 'gastown_forge'
  | 'gastown_chat';

export class GastownError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

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
