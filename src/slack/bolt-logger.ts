import { type Logger, LogLevel } from '@slack/bolt';
import type { StructuredLogger } from '../structured-logger.js';

function line(msg: unknown[]): string {
  return msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
}

/**
 * Bolt logs with `logger.info('text', ...)`; ours is pino-style (`{ meta }, 'message'`). This
 * adapter keeps Bolt's lines in our log stream, tagged, with the level left to our logger.
 */
export function boltLoggerFrom(target: StructuredLogger, name = 'bolt'): Logger {
  let level: LogLevel = LogLevel.INFO;
  let component = name;
  return {
    debug: (...msg) => target.debug({ component }, line(msg)),
    info: (...msg) => target.info({ component }, line(msg)),
    warn: (...msg) => target.warn({ component }, line(msg)),
    error: (...msg) => target.error({ component }, line(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: (n) => {
      component = n;
    },
  };
}
