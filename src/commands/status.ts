import { Option, type Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { openStoreContext, withEndpoint, type StoreFlags } from '../reconcile/cli-support.js';
import type { AuditEntry } from '../store/audit.js';
import { DynamoLease, type LeaseState } from '../store/lease.js';
import { DynamoLedger, type LedgerEntry, type QueueStats } from '../store/ledger.js';
import { DynamoPollStateStore, type ScopeCursor } from '../store/poll-state.js';
import { MANAGED_BY_GIT } from '../store/ports.js';
import { addCommonOptions, addStoreOptions, type CliIO, type CommandModule } from './io.js';
import { COMMAND_SUMMARIES } from './summaries.js';

interface StatusFlags extends StoreFlags {
  format: 'text' | 'json';
  limit: string;
}

/** One registration as `status` shows it. */
interface RegistrationStatus {
  name: string;
  managed: boolean;
  application?: string;
  version?: number;
  lastApplied?: string;
  liveSince?: string;
  file?: string;
  commit?: string;
}

/** Everything `status` reports; the json format prints exactly this. */
export interface StatusReport {
  tables: { registrations: string; ledger: string; state: string };
  leader?: { owner: string; active: boolean; leaseUntil: string; since: string; epoch: number };
  registrations: RegistrationStatus[];
  poller: ScopeCursor[];
  queue: QueueStats;
  notifications: Array<{
    deliveryId: string;
    state: LedgerEntry['state'];
    registration: string;
    channel: string;
    channelType: string;
    deploymentId: string;
    application: string;
    event: string;
    attempts: number;
    updatedAt: string;
    reason?: string;
  }>;
  changes: AuditEntry[];
}

/**
 * `status`: what the daemon is doing, read from the tables (no CodeDeploy calls): registrations
 * (managed or not, last applied, source commit), the leader, the poller's position and last
 * successful poll per region/account, recent notifications with their state and failure reasons,
 * and recent changes from the audit trail. Secrets never appear: reasons are redacted when
 * recorded and secret refs are shown by name.
 */
export const statusCommand: CommandModule = {
  register(program: Command, io: CliIO) {
    addStoreOptions(
      addCommonOptions(
        program
          .command('status')
          .description(COMMAND_SUMMARIES['status'])
          .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
          .option('--limit <n>', 'recent notifications and changes to show', '20'),
      ),
    ).action(async (flags: StatusFlags) => {
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`invalid --limit "${flags.limit}": use a whole number from 1 to 1000`);
      const context = openStoreContext(flags, io);
      try {
        const { doc } = context.clients;
        const { names } = context;
        const [items, lease, cursors, queue, recent, changes] = await Promise.all([
          context.store.scan(),
          new DynamoLease(doc, names.state, 'leader').read(),
          new DynamoPollStateStore({ doc, table: names.state }).listCursors(),
          new DynamoLedger({ doc, table: names.ledger }).queueStats(),
          new DynamoLedger({ doc, table: names.ledger }).recent(limit),
          context.audit.recentChanges(limit),
        ]).catch((error: unknown) => {
          throw withEndpoint(error, context.endpoint);
        });
        const report: StatusReport = {
          tables: names,
          ...(lease ? { leader: leaderStatus(lease) } : {}),
          registrations: items.map((item) => ({
            name: item.name,
            managed: item.managedBy === MANAGED_BY_GIT,
            ...(typeof (item.spec as { application?: unknown } | undefined)?.application === 'string'
              ? { application: (item.spec as { application: string }).application }
              : {}),
            ...(item.version !== undefined ? { version: item.version } : {}),
            ...(item.updatedAt ? { lastApplied: item.updatedAt } : {}),
            ...(item.createdAt ? { liveSince: item.createdAt } : {}),
            ...(item.source?.file ? { file: item.source.file } : {}),
            ...(item.source?.commit ? { commit: item.source.commit } : {}),
          })),
          poller: cursors,
          queue,
          notifications: recent.map((n) => ({
            deliveryId: n.deliveryId,
            state: n.state,
            registration: n.registration.name,
            channel: n.channelName,
            channelType: n.channelType,
            deploymentId: n.event.deploymentId,
            application: n.event.application,
            event: n.event.type,
            attempts: n.attempts,
            updatedAt: new Date(n.updatedAt).toISOString(),
            ...((n.reason ?? n.lastError) ? { reason: n.reason ?? n.lastError } : {}),
          })),
          changes,
        };
        io.out(flags.format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
        process.exitCode = 0;
      } finally {
        context.close();
      }
    });
  },
};

function leaderStatus(lease: LeaseState): NonNullable<StatusReport['leader']> {
  return {
    owner: lease.owner,
    active: lease.leaseUntil > Date.now(),
    leaseUntil: new Date(lease.leaseUntil).toISOString(),
    since: new Date(lease.acquiredAt).toISOString(),
    epoch: lease.epoch,
  };
}

/** The text form: one section per subject, aligned columns, times in ISO-8601. Pure. */
export function renderStatus(report: StatusReport): string {
  const out: string[] = [];
  const managed = report.registrations.filter((r) => r.managed).length;
  out.push(`Registrations (${report.registrations.length}: ${managed} managed, ${report.registrations.length - managed} unmanaged) in ${report.tables.registrations}`);
  if (report.registrations.length === 0) out.push('  none: run codedeploy-notify apply, or the daemon, to converge the table to the files');
  out.push(
    ...table(
      report.registrations.map((r) => [
        r.name,
        r.managed ? 'managed' : 'unmanaged',
        r.application ?? '',
        r.version !== undefined ? `v${r.version}` : '',
        r.lastApplied ? `applied ${r.lastApplied}` : '',
        r.commit ? `commit ${r.commit.slice(0, 12)}` : '',
        r.file ?? '',
      ]),
    ),
  );
  out.push('');
  if (report.leader) {
    const l = report.leader;
    const gone = l.leaseUntil === new Date(0).toISOString() ? 'released its lease when it stopped' : `lease expired ${l.leaseUntil}`;
    out.push(l.active ? `Leader: ${l.owner} since ${l.since}, lease until ${l.leaseUntil}` : `Leader: none (last leader ${l.owner} ${gone})`);
  } else {
    out.push('Leader: none yet (no daemon has run against these tables)');
  }
  out.push('');
  out.push(`Poller (${report.poller.length} region/account scope${report.poller.length === 1 ? '' : 's'})`);
  if (report.poller.length === 0) out.push('  no poll yet');
  out.push(
    ...table(
      report.poller.map((c) => [
        `${c.region} ${c.accountId ?? c.roleArn ?? 'default credentials'}`,
        c.strategy ?? '',
        c.cursor ? `cursor ${c.cursor}` : 'no cursor',
        c.lastSuccessAt ? `last success ${c.lastSuccessAt}` : 'never succeeded',
        c.consecutiveFailures > 0 ? `${c.consecutiveFailures} failed poll(s): ${c.lastError ?? ''}` : 'ok',
      ]),
    ),
  );
  out.push('');
  out.push(`Notifications (queue: ${report.queue.due} due, ${report.queue.scheduled} scheduled; ${report.notifications.length} most recent)`);
  if (report.notifications.length === 0) out.push('  none yet');
  out.push(
    ...table(
      report.notifications.map((n) => [
        n.updatedAt,
        n.state,
        `${n.registration}/${n.channel} (${n.channelType})`,
        `${n.application} ${n.deploymentId} ${n.event}`,
        `attempt ${n.attempts}`,
        n.reason ?? '',
      ]),
    ),
  );
  out.push('');
  out.push(`Recent changes (${report.changes.length})`);
  if (report.changes.length === 0) out.push('  none yet');
  out.push(
    ...table(
      report.changes.map((c) => [
        c.at,
        c.action,
        c.name,
        c.versionAfter !== undefined ? `v${c.versionBefore ?? 0}→v${c.versionAfter}` : `v${c.versionBefore ?? '?'}→deleted`,
        `${c.actor}@${c.host}`,
        c.commit ? `commit ${c.commit.slice(0, 12)}` : '',
        c.fields.length > 0 ? c.fields.map((f) => f.path).join(', ') : '',
      ]),
    ),
  );
  return `${out.join('\n')}\n`;
}

/** Rows as left-aligned columns, indented two spaces; empty trailing cells dropped. */
function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `  ${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`.trimEnd());
}
