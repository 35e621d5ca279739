import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { createChannel } from '../channels/registry.js';
import { createChannelContext } from '../channels/context.js';
import { createLogger, type Logger } from '../core/log.js';
import type { LocalEnvironment } from '../local/environment.js';
import { resolveDaemonConfig, type DaemonConfig, type RunFlags } from '../main/config.js';
import { Daemon, type OnceReport } from '../main/daemon.js';
import { Metrics } from '../main/metrics.js';
import { lookupAccountId } from '../poll/credentials.js';
import { channelEvents } from '../poll/match.js';
import { createDynamoClients } from '../store/dynamo.js';
import { ensureTables, tableNames } from '../store/tables.js';
import { addCommonOptions, addStoreOptions, type CliIO, type CommandModule } from './io.js';
import { COMMAND_SUMMARIES } from './summaries.js';

/** `run`: the daemon (SPEC "run"), or one round with `--once`, or everything on this machine with `--local`. */
export const runCommand: CommandModule = {
  register(program: Command, io: CliIO) {
    addStoreOptions(
      addCommonOptions(
        program
          .command('run')
          .description(COMMAND_SUMMARIES['run'])
          .option('--local', 'no AWS account: embedded DynamoDB under .codedeploy-notify/, a CodeDeploy simulator, notifications printed to the console')
          .option('--once', 'one reconcile, one poll and one dispatch round, then exit (scheduled jobs, tests)')
          .option('--poll-interval <duration>', 'how often CodeDeploy is polled (env CODEDEPLOY_NOTIFY_POLL_INTERVAL, default 5s)')
          .option('--resync-interval <duration>', 'how often the table is re-read and drift corrected (env CODEDEPLOY_NOTIFY_RESYNC_INTERVAL, default 60s)')
          .option('--max-lookback <duration>', 'longest downtime caught up after a restart (env CODEDEPLOY_NOTIFY_MAX_LOOKBACK, default 24h)')
          .option('--poll-strategy <strategy>', 'account (one listing per region and account) or application (env CODEDEPLOY_NOTIFY_POLL_STRATEGY, default account)')
          .option('--http-port <port>', 'port of /healthz, /readyz and /metrics (env CODEDEPLOY_NOTIFY_HTTP_PORT, default 8080)')
          .option('--leader-lease <duration>', 'leader lease; a standby takes over within two of these (env CODEDEPLOY_NOTIFY_LEADER_LEASE, default 15s)'),
      ),
    ).action(async (flags: RunFlags) => {
      const config = resolveDaemonConfig(flags, io.env);
      process.exitCode = await runDaemon(config, io);
    });
  },
};

/**
 * Runs the daemon until SIGTERM/SIGINT (or one round with --once) and resolves the exit code.
 * Configuration errors were already thrown as UsageError (exit 2) by resolveDaemonConfig.
 */
export async function runDaemon(config: DaemonConfig, io: CliIO): Promise<number> {
  // Local mode prints notifications on stdout, so its logs go to stderr.
  const logger = createLogger({ level: config.logLevel, fd: config.local ? 2 : 1 });
  let local: LocalEnvironment | undefined;
  const cleanup: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const step of cleanup.splice(0).reverse()) await Promise.resolve(step()).catch(() => undefined);
  };
  try {
    // local mode's modules (dynalite and LevelDB, the simulator) are loaded only in local mode
    const localModules = config.local
      ? { ...(await import('../local/environment.js')), ...(await import('../local/outbox.js')), ...(await import('../local/simulator.js')) }
      : undefined;
    if (localModules) {
      local = await localModules.startLocalEnvironment(process.env, logger);
      cleanup.push(() => local?.close());
    }
    const names = tableNames(config.tablePrefix);
    const clients = createDynamoClients({ region: config.region, maxAttempts: 3, requestTimeoutMs: 5_000 });
    cleanup.push(() => clients.destroy());
    if (local) await ensureTables(clients.client, names);

    const owner = `${hostname()}#${process.pid}#${randomUUID().slice(0, 8)}`;
    const channelContext = local ? undefined : createChannelContext({ logger, defaultRegion: config.region, sendTimeoutMs: config.sendTimeoutMs });
    if (channelContext) cleanup.push(() => channelContext.destroy());
    const daemon = new Daemon({
      config,
      logger,
      metrics: new Metrics(),
      clients,
      names,
      owner,
      channels: localModules ? localModules.consoleChannels((text) => io.out(text)) : (channel) => createChannel(channel, channelContext as NonNullable<typeof channelContext>),
      ...(local ? { roles: local.roles, defaultAccountId: '000000000000' } : await accountId(config, io.env, logger)),
    });

    if (config.once) {
      const report = await daemon.runOnce();
      io.out(`${onceSummary(report)}\n`);
      return onceFailed(report) ? 1 : 0;
    }

    await daemon.start();
    cleanup.push(() => daemon.stop());
    if (local && localModules) {
      const simulator = new localModules.DeploymentSimulator({
        model: local.codeDeploy.model,
        logger,
        applications: async () =>
          (await daemon.liveRegistrations()).map((r) => ({
            application: r.spec.application,
            groups: r.spec.deploymentGroups ?? ['production', 'staging'],
            events: r.spec.channels.flatMap((c) => channelEvents(c, r.spec)),
          })),
      });
      simulator.start();
      cleanup.push(() => simulator.stop());
      logger.info({ port: daemon.httpPort }, 'local mode running: deployments are simulated and notifications printed below; Ctrl-C stops');
    }
    const signal = await waitForSignal(logger);
    logger.info({ signal }, 'signal received: finishing in-flight sends, then exiting');
    await closeAll();
    return 0;
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** Resolves on the first SIGTERM or SIGINT; a second one forces an immediate exit. */
function waitForSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) {
        logger.warn({ signal }, 'second signal: exiting now without waiting');
        process.exit(130);
      }
      received = true;
      // a safety net: whatever still holds the event loop open, exit once shutdown has had its time
      setTimeout(() => process.exit(process.exitCode ?? 0), 12_000).unref();
      resolve(signal);
    };
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}

/** The account id events carry for the daemon's own credentials: CODEDEPLOY_NOTIFY_ACCOUNT_ID, else STS GetCallerIdentity. */
async function accountId(config: DaemonConfig, env: NodeJS.ProcessEnv, logger: Logger): Promise<{ defaultAccountId?: string }> {
  const fromEnv = env.CODEDEPLOY_NOTIFY_ACCOUNT_ID;
  if (fromEnv) return { defaultAccountId: fromEnv };
  const found = await lookupAccountId({ region: config.region, logger });
  return found ? { defaultAccountId: found } : {};
}

function onceSummary(report: OnceReport): string {
  const parts = [report.leader ? 'leader' : 'standby (another replica holds the leader lease: no reconcile or poll)'];
  if (report.reconcile) parts.push(`reconcile ${report.reconcile.status} (${report.reconcile.applied.length} changes)`);
  if (report.poll) parts.push(`poll ${report.poll.ok ? 'ok' : 'failed'} (${report.poll.events} events, ${report.poll.notifications} notifications)`);
  const d = report.dispatch;
  parts.push(`dispatch: ${d.sent} sent, ${d.retried} retrying, ${d.failed} failed`);
  return `run --once: ${parts.join('; ')}`;
}

function onceFailed(report: OnceReport): boolean {
  const badReconcile = report.reconcile && ['invalid', 'refused', 'error', 'incomplete'].includes(report.reconcile.status);
  return Boolean(badReconcile || (report.poll && !report.poll.ok));
}
