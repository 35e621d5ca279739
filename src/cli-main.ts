import { Command, CommanderError } from 'commander';
import { COMMAND_LOADERS } from './commands/index.js';
import { COMMAND_SUMMARIES, type CommandName } from './commands/summaries.js';
import type { CliIO } from './commands/io.js';
import { NotifyError, UsageError, errorMessage } from './core/errors.js';
import { VERSION } from './version.js';

/**
 * The `codedeploy-notify` entry point: parses argv, dispatches to a command, sets the exit code.
 * Usage errors (unknown flag, bad value, missing directory) print one line and exit 2; any other
 * failure prints one line (never a stack trace unless LOG_LEVEL=debug) and exits 1.
 */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  const program = new Command('codedeploy-notify')
    .description('GitOps-style notifications for AWS CodeDeploy deployments')
    .version(VERSION, '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text),
      writeErr: (text) => io.err(text),
      outputError: (text, write) => write(text.endsWith('\n') ? text : `${text}\n`),
    });
  // Only the invoked command (or the one `help <command>` asks about) is loaded and registered in
  // full; the others are listed by name and summary, which is all `--help` shows of them.
  const wanted = selectedCommand(argv);
  for (const name of Object.keys(COMMAND_SUMMARIES) as CommandName[]) {
    if (name === wanted) (await COMMAND_LOADERS[name]()).register(program, io);
    else program.command(name).description(COMMAND_SUMMARIES[name]);
  }
  program.commands.forEach((c) => c.exitOverride());

  process.exitCode = undefined;
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      // commander already printed its one-line reason (or the help, when no command was given)
      return 2;
    }
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}\n`);
      return 2;
    }
    io.err(`error: ${errorMessage(error)}${error instanceof NotifyError ? ` (${error.code})` : ''}\n`);
    if (io.env.LOG_LEVEL === 'debug' && error instanceof Error && error.stack) io.err(`${error.stack}\n`);
    return 1;
  }
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

/** The command argv invokes: its first word, or the word after `help`. */
function selectedCommand(argv: readonly string[]): string | undefined {
  const words = argv.filter((a) => !a.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}
