import { applyCommand } from './apply.js';
import { diffCommand } from './diff.js';
import { initCommand } from './init.js';
import type { CommandModule } from './io.js';
import { planCommand } from './plan.js';
import { runCommand } from './run.js';
import { schemaCommand } from './schema.js';
import { sendTestCommand } from './send-test.js';
import { statusCommand } from './status.js';
import { validateCommand } from './validate.js';

/** Every subcommand, in the order `--help` lists them. Each lives in its own module. */
export const COMMANDS: readonly CommandModule[] = [validateCommand, planCommand, diffCommand, applyCommand, runCommand, statusCommand, sendTestCommand, initCommand, schemaCommand];
