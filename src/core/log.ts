import { pino, type DestinationStream, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type { Logger };

/** Paths pino removes from every log line, wherever a secret or a token-bearing URL could sit. */
export const REDACT_PATHS = [
  'secret', '*.secret', 'token', '*.token', 'apiKey', '*.apiKey', 'authorization', '*.authorization',
  'headers.authorization', 'headers["api-key"]', 'webhookUrl', '*.webhookUrl', 'url', '*.url',
];

/** Options for the process logger. */
export interface LoggerOptions {
  level?: string;
  /** Human-readable lines instead of JSON; default: when the output is a terminal. */
  pretty?: boolean;
  /** Where lines go (default stdout). */
  destination?: DestinationStream;
  /** File descriptor for the default destination: 1 (stdout, default) or 2 (stderr). */
  fd?: 1 | 2;
}

/**
 * The process logger: pino JSON lines by default, readable output when writing to a terminal;
 * secrets redacted by path. Writes synchronously, so nothing logged before exit is lost. Messages
 * are static strings with data in fields.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (options.destination) return pino({ level, redact }, options.destination);
  const fd = options.fd ?? 1;
  const tty = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  if (options.pretty ?? Boolean(tty)) {
    return pino({ level, redact }, PinoPretty({ colorize: Boolean(tty), translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', destination: fd, sync: true }));
  }
  return pino({ level, redact }, pino.destination({ dest: fd, sync: true }));
}

/** A logger that drops everything (tests and library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
