import { Option, type Command } from 'commander';
import { loadRegistrations } from '../config/load.js';
import { ISSUE_FORMATS, renderIssues, type IssueFormat } from '../config/report.js';
import { dirSetting } from '../config/settings.js';
import { hasErrors } from '../config/types.js';
import { addCommonOptions, type CliIO, type CommandModule } from './io.js';
import { COMMAND_SUMMARIES } from './summaries.js';

interface ValidateFlags {
  dir?: string;
  format: IssueFormat;
  checkEnv?: boolean;
}

/** `validate`: loads and checks every registration file; never needs AWS. Exit 0 without errors, 1 with. */
export const validateCommand: CommandModule = {
  register(program: Command, io: CliIO) {
    addCommonOptions(
      program
        .command('validate')
        .description(COMMAND_SUMMARIES['validate'])
        .addOption(new Option('--format <format>', 'output format').choices(ISSUE_FORMATS).default('text'))
        .option('--check-env', 'also report secret references whose environment variable is unset'),
    ).action(async (flags: ValidateFlags) => {
      const dir = dirSetting(flags.dir, io.env);
      const result = await loadRegistrations(dir, { checkEnv: flags.checkEnv === true, env: io.env });
      io.out(renderIssues(result, flags.format));
      process.exitCode = hasErrors(result) ? 1 : 0;
    });
  },
};
