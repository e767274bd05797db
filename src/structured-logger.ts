/**
 * The logging shape the Slack and chat layers need: a fixed message plus a metadata object,
 * so lines group well. pino's Logger satisfies it; tests pass a recording double.
 */
export interface StructuredLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** For callers that do not care about logs (CLI one-shots, tests that assert nothing about logs). */
export const silentLogger: StructuredLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
