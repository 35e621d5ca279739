import { Option, type Command } from 'commander';
import { dirSetting } from '../config/settings.js';
import { diff, isEmptyPlan } from '../plan/diff.js';
import { PLAN_FORMATS, renderPlan, type PlanFormat } from '../plan/render.js';
import { openStoreContext, reportInvalid, withEndpoint, type StoreFlags } from '../reconcile/cli-support.js';
import { loadDesired } from '../reconcile/desired.js';
import { addCommonOptions, addStoreOptions, type CliIO, type CommandModule } from './io.js';
import { COMMAND_SUMMARIES } from './summaries.js';

interface PlanFlags extends StoreFlags {
  dir?: string;
  format: PlanFormat;
  detailedExitcode?: boolean;
}

/**
 * `plan`: reads the files and the live table and prints what `apply` would do. Writes nothing.
 * Exit 0; 2 with `--detailed-exitcode` when there are changes; 1 on invalid files or a store error.
 */
export const planCommand: CommandModule = {
  register(program: Command, io: CliIO) {
    addStoreOptions(
      addCommonOptions(
        program
          .command('plan')
          .description(COMMAND_SUMMARIES['plan'])
          .addOption(new Option('--format <format>', 'output format').choices(PLAN_FORMATS).default('text'))
          .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when there are none'),
      ),
    ).action(async (flags: PlanFlags) => {
      const dir = dirSetting(flags.dir, io.env);
      const context = openStoreContext(flags, io);
      try {
        // read the table while the files load; its answer is only used when the files are valid
        const scanning = context.store.scan().then(
          (items) => ({ items }),
          (error: unknown) => ({ error }),
        );
        const desired = await loadDesired(dir);
        if (!desired.valid) {
          reportInvalid(io, desired.load, 'nothing was planned');
          process.exitCode = 1;
          return;
        }
        const scanned = await scanning;
        if ('error' in scanned) throw withEndpoint(scanned.error, context.endpoint);
        const live = scanned.items;
        const plan = diff(desired.items, live);
        io.out(renderPlan(plan, flags.format, { title: 'codedeploy-notify plan', subtitle: `Registrations in \`${dir}\` against table \`${context.names.registrations}\`.` }));
        process.exitCode = flags.detailedExitcode && !isEmptyPlan(plan) ? 2 : 0;
      } finally {
        context.close();
      }
    });
  },
};
