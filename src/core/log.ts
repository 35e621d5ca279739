import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths pino removes from every log line, wherever a secret or a token-bearing URL could sit. */
export const REDACT_PATHS = [
  'secret', '*.secret', 'token', '*.token', 'apiKey', '*.apiKey', 'authorization', '*.authorization',
  'headers.authorization', 'headers["api-key"]', 'webhookUrl', '*.webhookUrl', 'url', '*.url',
];

/** Options for the process logger. */
export interface LoggerOptions {
  level?: string;
  /** Human-readable lines (pino-pretty) instead of JSON; default: when stdout is a terminal. */
  pretty?: boolean;
  destination?: DestinationStream;
}

/**
 * The process logger: pino JSON by default, readable output when stdout is a terminal; secrets
 * redacted by path. Messages are static strings with data in fields.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const redact = { paths: REDACT_PATHS, censor: '[redacted]' };
  if (options.destination) return pino({ level, redact }, options.destination);
  if (options.pretty ?? Boolean(process.stdout.isTTY)) {
    return pino({ level, redact, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } });
  }
  return pino({ level, redact });
}

/** A logger that drops everything (tests and library use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
