import type { Command } from 'commander';
import { createChannelContext } from '../channels/context.js';
import { createChannel } from '../channels/registry.js';
import { loadRegistrations } from '../config/load.js';
import { renderIssues } from '../config/report.js';
import { dirSetting, logLevelSetting } from '../config/settings.js';
import { UsageError, errorMessage } from '../core/errors.js';
import { consoleUrl, type DeploymentEvent, type Notification } from '../core/events.js';
import { createLogger } from '../core/log.js';
import { addCommonOptions, type CliIO, type CommandModule } from './io.js';
import { randomUUID } from 'node:crypto';
import { COMMAND_SUMMARIES } from './summaries.js';

interface SendTestFlags {
  dir?: string;
  logLevel?: string;
  channel?: string;
}

/**
 * `send-test <registration> [--channel <name>]`: sends one clearly labelled test message through the
 * registration's real channel(s), secrets resolved from this environment, no ledger involved, one
 * attempt each. Exit 0 when every channel accepted it, 1 when any did not (each reason printed),
 * 2 for an unknown registration or channel.
 */
export const sendTestCommand: CommandModule = {
  register(program: Command, io: CliIO) {
    addCommonOptions(
      program
        .command('send-test')
        .description(COMMAND_SUMMARIES['send-test'])
        .argument('<registration>', 'metadata.name of a registration in --dir')
        .option('--channel <name>', 'only this channel of the registration'),
    ).action(async (name: string, flags: SendTestFlags) => {
      const dir = dirSetting(flags.dir, io.env);
      const loaded = await loadRegistrations(dir, { env: io.env });
      const found = loaded.registrations.find((r) => r.registration.metadata.name === name);
      if (!found) {
        const mine = loaded.issues.filter((i) => i.severity === 'error');
        if (mine.length > 0) io.err(renderIssues({ ...loaded, issues: mine }, 'text'));
        const known = loaded.registrations.map((r) => r.registration.metadata.name);
        throw new UsageError(`no valid registration named "${name}" in ${dir}${known.length > 0 ? ` (valid ones: ${known.join(', ')})` : ''}`);
      }
      const { registration } = found;
      const channels = registration.spec.channels.filter((c) => flags.channel === undefined || c.name === flags.channel);
      if (channels.length === 0) {
        throw new UsageError(`registration "${name}" has no channel "${flags.channel}" (its channels: ${registration.spec.channels.map((c) => c.name).join(', ')})`);
      }
      const region = registration.spec.region ?? io.env.AWS_REGION;
      if (!region) throw new UsageError('AWS_REGION is not set: email (SES) and SNS channels need a region');

      const logger = createLogger({ level: logLevelSetting(flags.logLevel, io.env), fd: 2 });
      const context = createChannelContext({ logger, defaultRegion: io.env.AWS_REGION ?? region, env: io.env });
      const event = testEvent(registration.spec.application, registration.spec.deploymentGroups?.[0] ?? 'test', region);
      let failures = 0;
      try {
        for (const config of channels) {
          const notification: Notification = {
            deliveryId: `test-${randomUUID().replace(/-/g, '')}`,
            event,
            registration: { name, ...(registration.metadata.owner ? { owner: registration.metadata.owner } : {}), ...(registration.metadata.labels ? { labels: registration.metadata.labels as Record<string, string> } : {}) },
            channelName: config.name,
            attempt: 1,
            test: true,
          };
          let line: string;
          try {
            const result = await createChannel(config, context).send(notification, AbortSignal.timeout(30_000));
            if (result.outcome === 'sent') line = `✓ ${config.name} (${config.type}): sent${result.messageId ? ` (message id ${result.messageId})` : ''}`;
            else {
              failures += 1;
              line = `✗ ${config.name} (${config.type}): ${result.outcome === 'retry' ? 'not sent (temporary failure)' : 'failed'}: ${result.reason}`;
            }
          } catch (error) {
            failures += 1;
            line = `✗ ${config.name} (${config.type}): ${errorMessage(error)}`;
          }
          io.out(`${line}\n`);
        }
      } finally {
        context.destroy();
      }
      io.out(`${channels.length - failures} of ${channels.length} channel${channels.length === 1 ? '' : 's'} accepted the test message\n`);
      process.exitCode = failures > 0 ? 1 : 0;
    });
  },
};

/** A made-up succeeded deployment for the test message; the channels label it as a test. */
function testEvent(application: string, group: string, region: string): DeploymentEvent {
  const now = new Date();
  const start = new Date(now.getTime() - 95_000);
  const deploymentId = 'd-TEST00000';
  return {
    type: 'Succeeded',
    deploymentId,
    application,
    deploymentGroup: group,
    status: 'Succeeded',
    region,
    creator: 'user',
    description: 'Test notification from codedeploy-notify send-test',
    instances: { pending: 0, inProgress: 0, succeeded: 2, failed: 0, skipped: 0, ready: 0 },
    createTime: start.toISOString(),
    startTime: start.toISOString(),
    completeTime: now.toISOString(),
    durationSeconds: 95,
    occurredAt: now.toISOString(),
    consoleUrl: consoleUrl(region, deploymentId),
  };
}
