import { UsageError } from '../core/errors.js';
import {
  choiceSetting,
  dirSetting,
  durationSetting,
  logLevelSetting,
  portSetting,
  tablePrefixSetting,
} from '../config/settings.js';
import { POLL_STRATEGIES, type PollStrategyName } from '../poll/poller.js';
import { parseDuration } from '../util/duration.js';

/** Everything `run` needs, validated. */
export interface DaemonConfig {
  dir: string;
  tablePrefix: string;
  pollIntervalMs: number;
  resyncIntervalMs: number;
  maxLookbackMs: number;
  pollStrategy: PollStrategyName;
  httpPort: number;
  /** Interface the ops listener binds: all interfaces in a container, loopback in local mode. */
  httpHost: string;
  logLevel: string;
  /** The daemon's AWS region (registrations without spec.region, SES, STS). */
  region: string;
  /** Leader lease duration; a standby takes over within two of these after the leader dies. */
  leaderLeaseMs: number;
  /** How long SIGTERM waits for in-flight sends before releasing them (SPEC: all done within 10 s). */
  shutdownGraceMs: number;
  /** Advanced tuning (environment only): longest single send, claim lease, retry delay cap. */
  sendTimeoutMs: number;
  claimLeaseMs: number;
  retryMaxDelayMs: number;
  local: boolean;
  once: boolean;
}

/** The raw flags of `run` (strings as commander gives them). */
export interface RunFlags {
  dir?: string;
  tablePrefix?: string;
  pollInterval?: string;
  resyncInterval?: string;
  maxLookback?: string;
  pollStrategy?: string;
  httpPort?: string;
  logLevel?: string;
  leaderLease?: string;
  local?: boolean;
  once?: boolean;
}

/**
 * Validates every setting of `run` at start (flags over environment over defaults, SPEC's table);
 * throws UsageError with one line naming the flag or variable and how to fix it. `env` is read for
 * settings only; AWS settings stay with the SDK's own sources.
 */
export function resolveDaemonConfig(flags: RunFlags, env: NodeJS.ProcessEnv): DaemonConfig {
  const local = flags.local === true;
  const pollIntervalMs = durationSetting('pollInterval', flags.pollInterval, env, 100);
  const resyncIntervalMs = durationSetting('resyncInterval', flags.resyncInterval, env, 1_000);
  const maxLookbackMs = durationSetting('maxLookback', flags.maxLookback, env, 60_000);
  const leaderLeaseMs = leaseSetting(flags.leaderLease, env);
  const sendTimeoutMs = envDuration(env, 'CODEDEPLOY_NOTIFY_SEND_TIMEOUT', 10_000, 500);
  const claimLeaseMs = envDuration(env, 'CODEDEPLOY_NOTIFY_CLAIM_LEASE', 60_000, 1_000);
  const retryMaxDelayMs = envDuration(env, 'CODEDEPLOY_NOTIFY_RETRY_MAX_DELAY', 5 * 60_000, 1_000);
  // a claim must outlive its longest possible hold (see Dispatcher): rate-limit wait + three send timeouts
  if (claimLeaseMs <= 2_000 + 3 * sendTimeoutMs) {
    throw new UsageError(`CODEDEPLOY_NOTIFY_CLAIM_LEASE (${claimLeaseMs} ms) must exceed 2s + 3 × CODEDEPLOY_NOTIFY_SEND_TIMEOUT (${2_000 + 3 * sendTimeoutMs} ms)`);
  }
  const region = env.AWS_REGION ?? (local ? 'us-east-1' : undefined);
  if (!region) throw new UsageError('AWS_REGION is not set: set it to the region the daemon runs in (for example us-east-1)');
  return {
    dir: dirSetting(flags.dir, env),
    tablePrefix: tablePrefixSetting(flags.tablePrefix, env),
    pollIntervalMs,
    resyncIntervalMs,
    maxLookbackMs,
    pollStrategy: choiceSetting('pollStrategy', flags.pollStrategy, env, POLL_STRATEGIES),
    httpPort: portSetting('httpPort', flags.httpPort, env),
    httpHost: local ? '127.0.0.1' : '0.0.0.0',
    logLevel: logLevelSetting(flags.logLevel, env),
    region,
    leaderLeaseMs,
    shutdownGraceMs: 8_000,
    sendTimeoutMs,
    claimLeaseMs,
    retryMaxDelayMs,
    local,
    once: flags.once === true,
  };
}

/** A duration read only from the environment (advanced tuning), at least `min` ms. */
function envDuration(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const ms = parseDuration(value);
  if (ms === undefined || ms < min) throw new UsageError(`invalid ${name} (environment) "${value}": use a duration of at least ${min} ms, such as 10s`);
  return ms;
}

/** `--leader-lease` / CODEDEPLOY_NOTIFY_LEADER_LEASE: at least 3 s, default 15 s. */
function leaseSetting(flag: string | undefined, env: NodeJS.ProcessEnv): number {
  const origin = flag !== undefined ? '--leader-lease' : 'CODEDEPLOY_NOTIFY_LEADER_LEASE (environment)';
  const value = flag ?? env.CODEDEPLOY_NOTIFY_LEADER_LEASE;
  if (value === undefined || value === '') return 15_000;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 3_000) throw new UsageError(`invalid ${origin} "${value}": use a duration of at least 3s, such as 15s`);
  return ms;
}
