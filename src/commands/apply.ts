import { InvalidArgumentError, Option, type Command } from 'commander';
import { dirSetting } from '../config/settings.js';
import { applyDesired, applySucceeded, DEFAULT_MAX_DELETES } from '../reconcile/apply.js';
import { openStoreContext, reportInvalid, withEndpoint, type StoreFlags } from '../reconcile/cli-support.js';
import { loadDesired } from '../reconcile/desired.js';
import { APPLY_FORMATS, renderApplyResult, type ApplyFormat } from '../reconcile/report.js';
import { addCommonOptions, addStoreOptions, type CliIO, type CommandModule } from './io.js';
import { COMMAND_SUMMARIES } from './summaries.js';

interface ApplyFlags extends StoreFlags {
  dir?: string;
  format: ApplyFormat;
  prune: boolean;
  maxDeletes: number;
  allowEmpty?: boolean;
}

/**
 * `apply`: converges the registrations table to the files once and prints what it did.
 * Nothing is written when any file is invalid or a guard refuses (exit 1); only items managed by
 * git are updated or deleted; writes are conditional on each item's version. Exit 0 when the table
 * converged; 1 on invalid files, refusal, store errors, conflicts that did not settle, or a file
 * whose name is held by an unmanaged item (left alone, so that registration is not live).
 */
export const applyCommand: CommandModule = {
  register(program: Command, io: CliIO) {
    addStoreOptions(
      addCommonOptions(
        program
          .command('apply')
          .description(COMMAND_SUMMARIES['apply'])
          .option('--no-prune', 'do not delete managed registrations that no file wants any more')
          .option('--max-deletes <n>', 'refuse (writing nothing) to delete more than N registrations', parseCount, DEFAULT_MAX_DELETES)
          .option('--allow-empty', 'allow an empty registrations directory to delete every managed registration')
          .addOption(new Option('--format <format>', 'output format').choices(APPLY_FORMATS).default('text')),
      ),
    ).action(async (flags: ApplyFlags) => {
      const dir = dirSetting(flags.dir, io.env);
      const context = openStoreContext(flags, io);
      try {
        const desired = await loadDesired(dir);
        if (!desired.valid) {
          reportInvalid(io, desired.load, 'nothing was written');
          process.exitCode = 1;
          return;
        }
        const result = await applyDesired(desired.items, context.store, {
          prune: flags.prune,
          maxDeletes: flags.maxDeletes,
          allowEmpty: flags.allowEmpty === true,
          actor: 'apply',
          ...(desired.commit !== undefined ? { commit: desired.commit } : {}),
          audit: context.audit,
          lock: context.lock,
          logger: context.logger,
        }).catch((error: unknown) => {
          throw withEndpoint(error, context.endpoint);
        });
        if (result.status === 'refused') {
          if (flags.format === 'json') io.out(renderApplyResult(result, 'json'));
          io.err(`error: ${result.refusal ?? 'refused'}; nothing was written\n`);
          process.exitCode = 1;
          return;
        }
        io.out(renderApplyResult(result, flags.format));
        // a file whose name is taken by an item someone else manages is not live: the table did not converge
        const blocked = result.unmanaged.filter((item) => item.desiredFile !== undefined);
        if (blocked.length > 0) {
          io.err(`error: ${blocked.length} ${blocked.length === 1 ? 'registration is' : 'registrations are'} not live because an item not managed by codedeploy-notify has the same name: ${blocked.map((b) => b.name).join(', ')}\n`);
        }
        process.exitCode = applySucceeded(result) && blocked.length === 0 ? 0 : 1;
      } finally {
        context.close();
      }
    });
  },
};

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('use a whole number, such as 10');
  return Number(value);
}
