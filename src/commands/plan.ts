import { Option, type Command } from 'commander';
import { dirSetting } from '../config/settings.js';
import { diff, isEmptyPlan } from '../plan/diff.js';
import { PLAN_FORMATS, renderPlan, type PlanFormat } from '../plan/render.js';
import { openStoreContext, reportInvalid, withEndpoint, type StoreFlags } from '../reconcile/cli-support.js';
import { loadDesired } from '../reconcile/desired.js';
import { addCommonOptions, addStoreOptions, type CliIO, type CommandModule } from './io.js';

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
          .description('show what apply would change in the registrations table (writes nothing)')
          .addOption(new Option('--format <format>', 'output format').choices(PLAN_FORMATS).default('text'))
          .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when there are none'),
      ),
    ).action(async (flags: PlanFlags) => {
      const dir = dirSetting(flags.dir, io.env);
      const context = openStoreContext(flags, io);
      try {
        const desired = await loadDesired(dir);
        if (!desired.valid) {
          reportInvalid(io, desired.load, 'nothing was planned');
          process.exitCode = 1;
          return;
        }
        const live = await context.store.scan().catch((error: unknown) => {
          throw withEndpoint(error, context.endpoint);
        });
        const plan = diff(desired.items, live);
        io.out(renderPlan(plan, flags.format, { title: 'codedeploy-notify plan', subtitle: `Registrations in \`${dir}\` against table \`${context.names.registrations}\`.` }));
        process.exitCode = flags.detailedExitcode && !isEmptyPlan(plan) ? 2 : 0;
      } finally {
        context.close();
      }
    });
  },
};
