import type { CommandModule } from './io.js';
import { schemaCommand } from './schema.js';
import { validateCommand } from './validate.js';

/** Every subcommand, in the order `--help` lists them. Each lives in its own module. */
export const COMMANDS: readonly CommandModule[] = [validateCommand, schemaCommand];
