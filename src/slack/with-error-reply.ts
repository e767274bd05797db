import { isGastownError } from '../errors.js';
import type { GtReply } from './run-gt-command.js';
import type { StructuredLogger } from '../structured-logger.js';

const MAX_MESSAGE = 500;

/** The message a person sees for an error: coded errors verbatim, anything else marked unexpected. */
export function errorReplyText(err: unknown): string {
  if (isGastownError(err)) return `:no_entry: ${err.message}`;
  const message = err instanceof Error ? err.message : String(err);
  return `:warning: Something went wrong: ${message.slice(0, MAX_MESSAGE)}`;
}

/**
 * The one error boundary of every Slack entry point (command, button, modal): an error
 * becomes an ephemeral reply with its message and one structured log line. `fields` must
 * never hold tokens or whole payloads (Slack payloads carry a verification token).
 */
export async function withErrorReply(
  logger: StructuredLogger,
  fields: Record<string, unknown>,
  reply: (r: GtReply) => Promise<unknown>,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (err) {
    if (isGastownError(err)) {
      // Refusals and bad input are expected outcomes, not faults.
      logger.warn({ ...fields, code: err.code, details: err.details }, 'slack request refused');
    } else {
      const e = err instanceof Error ? { message: err.message, stack: err.stack } : { message: String(err) };
      logger.error({ ...fields, code: 'gastown_internal', err: e }, 'slack request failed');
    }
    try {
      await reply({ response_type: 'ephemeral', text: errorReplyText(err) });
    } catch (replyErr) {
      logger.error({ ...fields, err: { message: (replyErr as Error).message } }, 'slack error reply failed');
    }
  }
}
