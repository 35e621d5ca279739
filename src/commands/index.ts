import type { CommandModule } from './io.js';
import type { CommandName } from './summaries.js';

/**
 * Every subcommand's module, loaded on demand: a command's dependencies (the AWS SDK, dynalite,
 * prom-client...) cost hundreds of milliseconds to load, and `validate` in CI needs none of them.
 */
export const COMMAND_LOADERS: Record<CommandName, () => Promise<CommandModule>> = {
  validate: async () => (await import('./validate.js')).validateCommand,
  plan: async () => (await import('./plan.js')).planCommand,
  diff: async () => (await import('./diff.js')).diffCommand,
  apply: async () => (await import('./apply.js')).applyCommand,
  run: async () => (await import('./run.js')).runCommand,
  status: async () => (await import('./status.js')).statusCommand,
  'send-test': async () => (await import('./send-test.js')).sendTestCommand,
  init: async () => (await import('./init.js')).initCommand,
  schema: async () => (await import('./schema.js')).schemaCommand,
};
