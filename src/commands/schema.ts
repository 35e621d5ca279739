import type { Command } from 'commander';
import { schemaText } from '../config/schema.js';
import type { CliIO, CommandModule } from './io.js';
import { COMMAND_SUMMARIES } from './summaries.js';

/** `schema`: prints the registration JSON Schema. */
export const schemaCommand: CommandModule = {
  register(program: Command, io: CliIO) {
    program
      .command('schema')
      .description(COMMAND_SUMMARIES['schema'])
      .option('--dir <path>', 'accepted for symmetry with other commands; not used')
      .action(() => {
        io.out(schemaText());
        process.exitCode = 0;
      });
  },
};
