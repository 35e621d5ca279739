import type { Command } from 'commander';

/** Where a command writes and what it reads from its surroundings; tests can pass their own. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

/** A command module: adds one subcommand to the program. The action sets `process.exitCode`. */
export interface CommandModule {
  register(program: Command, io: CliIO): void;
}

/** `--dir` and `--log-level`, which every command takes. */
export function addCommonOptions(command: Command): Command {
  return command
    .option('--dir <path>', 'registrations directory (env CODEDEPLOY_NOTIFY_DIR, default "registrations")')
    .option('--log-level <level>', 'trace, debug, info, warn, error or silent (env LOG_LEVEL, default "info")');
}

/** `--table-prefix`, for commands that read or write the tables. */
export function addStoreOptions(command: Command): Command {
  return command.option('--table-prefix <prefix>', 'DynamoDB table name prefix (env CODEDEPLOY_NOTIFY_TABLE_PREFIX, default "codedeploy-notify-")');
}

/** Checks a `--format` value against the allowed ones (commander's choices give exit 2 through the CLI too). */
export function formatChoices(values: readonly string[]): string[] {
  return [...values];
}
