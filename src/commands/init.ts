import type { Command } from 'commander';
import { openStoreContext, withEndpoint, type StoreFlags } from '../reconcile/cli-support.js';
import { ensureTables } from '../store/tables.js';
import { addCommonOptions, addStoreOptions, type CliIO, type CommandModule } from './io.js';
import { COMMAND_SUMMARIES } from './summaries.js';

/**
 * `init`: creates the registrations, ledger and state tables (on-demand billing) when absent and
 * prints which were created and which already existed. Idempotent; exit 1 on a store error.
 */
export const initCommand: CommandModule = {
  register(program: Command, io: CliIO) {
    addStoreOptions(addCommonOptions(program.command('init').description(COMMAND_SUMMARIES['init']))).action(
      async (flags: StoreFlags) => {
        const context = openStoreContext(flags, io);
        try {
          const result = await ensureTables(context.clients.client, context.names).catch((error: unknown) => {
            throw withEndpoint(error, context.endpoint);
          });
          for (const table of result.created) io.out(`created table ${table}\n`);
          for (const table of result.existing) io.out(`table ${table} already exists\n`);
          for (const table of result.ttlUnsupported) {
            io.out(`note: TTL not enabled on ${table}: this DynamoDB endpoint has no TTL API; expired items are still ignored on read\n`);
          }
          process.exitCode = 0;
        } finally {
          context.close();
        }
      },
    );
  },
};
