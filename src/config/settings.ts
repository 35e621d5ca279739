import { statSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import { parseDuration } from '../util/duration.js';

/** Default table name prefix (SPEC: --table-prefix). */
export const DEFAULT_TABLE_PREFIX = 'codedeploy-notify-';

/** One setting of SPEC's configuration table: flag, environment variable and default. */
export interface SettingSpec {
  flag: string;
  env: string;
  default: string;
}

/** SPEC's configuration table. Flags override environment variables; both are validated. */
export const SETTINGS = {
  dir: { flag: '--dir', env: 'CODEDEPLOY_NOTIFY_DIR', default: 'registrations' },
  tablePrefix: { flag: '--table-prefix', env: 'CODEDEPLOY_NOTIFY_TABLE_PREFIX', default: DEFAULT_TABLE_PREFIX },
  pollInterval: { flag: '--poll-interval', env: 'CODEDEPLOY_NOTIFY_POLL_INTERVAL', default: '5s' },
  resyncInterval: { flag: '--resync-interval', env: 'CODEDEPLOY_NOTIFY_RESYNC_INTERVAL', default: '60s' },
  maxLookback: { flag: '--max-lookback', env: 'CODEDEPLOY_NOTIFY_MAX_LOOKBACK', default: '24h' },
  pollStrategy: { flag: '--poll-strategy', env: 'CODEDEPLOY_NOTIFY_POLL_STRATEGY', default: 'account' },
  httpPort: { flag: '--http-port', env: 'CODEDEPLOY_NOTIFY_HTTP_PORT', default: '8080' },
  logLevel: { flag: '--log-level', env: 'LOG_LEVEL', default: 'info' },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;

/** The raw value of a setting (flag, else env, else default) and where it came from, for messages. */
export function rawSetting(name: SettingName, flagValue: string | undefined, env: NodeJS.ProcessEnv): { value: string; origin: string } {
  const spec = SETTINGS[name];
  if (flagValue !== undefined) return { value: flagValue, origin: spec.flag };
  const fromEnv = env[spec.env];
  if (fromEnv !== undefined && fromEnv !== '') return { value: fromEnv, origin: `${spec.env} (environment)` };
  return { value: spec.default, origin: `${spec.flag} default` };
}

/** A duration setting in milliseconds; throws UsageError naming the flag or variable. */
export function durationSetting(name: SettingName, flagValue: string | undefined, env: NodeJS.ProcessEnv, min = 1): number {
  const { value, origin } = rawSetting(name, flagValue, env);
  const ms = parseDuration(value);
  if (ms === undefined || ms < min) {
    throw new UsageError(`invalid ${origin} "${value}": use a duration such as 500ms, 5s, 1m or 24h`);
  }
  return ms;
}

/** A TCP port setting (0 = any free port); throws UsageError naming the flag or variable. */
export function portSetting(name: SettingName, flagValue: string | undefined, env: NodeJS.ProcessEnv): number {
  const { value, origin } = rawSetting(name, flagValue, env);
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`invalid ${origin} "${value}": use a port number from 0 to 65535`);
  }
  return port;
}

/** A setting restricted to a fixed set of values. */
export function choiceSetting<T extends string>(name: SettingName, flagValue: string | undefined, env: NodeJS.ProcessEnv, choices: readonly T[]): T {
  const { value, origin } = rawSetting(name, flagValue, env);
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`invalid ${origin} "${value}": use one of ${choices.join(', ')}`);
  }
  return value as T;
}

/** The table prefix: letters, digits, '_', '-', '.'; the shortest table name must stay within DynamoDB's 3-255. */
export function tablePrefixSetting(flagValue: string | undefined, env: NodeJS.ProcessEnv): string {
  const { value, origin } = rawSetting('tablePrefix', flagValue, env);
  if (!/^[A-Za-z0-9_.-]{0,200}$/.test(value)) {
    throw new UsageError(`invalid ${origin} "${value}": table names may only use letters, digits, '_', '-' and '.'`);
  }
  return value;
}

/** The log level. */
export function logLevelSetting(flagValue: string | undefined, env: NodeJS.ProcessEnv): string {
  return choiceSetting('logLevel', flagValue, env, ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
}

/** The registrations directory; it must exist (else a usage error, exit 2). */
export function dirSetting(flagValue: string | undefined, env: NodeJS.ProcessEnv): string {
  const { value, origin } = rawSetting('dir', flagValue, env);
  let isDir: boolean;
  try {
    isDir = statSync(value).isDirectory();
  } catch {
    throw new UsageError(`registrations directory "${value}" does not exist (from ${origin}); create it or pass --dir <path>`);
  }
  if (!isDir) throw new UsageError(`"${value}" is not a directory (from ${origin}); pass --dir <path> to a directory of registration files`);
  return value;
}
