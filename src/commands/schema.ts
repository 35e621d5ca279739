import type { Command } from 'commander';
import { schemaText } from '../config/schema.js';
import type { CliIO, CommandModule } from './io.js';

/** `schema`: prints the registration JSON Schema. */
export const schemaCommand: CommandModule = {
  register(program: Command, io: CliIO) {
    program
      .command('schema')
      .description('print the JSON Schema of registration files')
      .option('--dir <path>', 'accepted for symmetry with other commands; not used')
      .action(() => {
        io.out(schemaText());
        process.exitCode = 0;
      });
  },
};
