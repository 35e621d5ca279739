import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { createDynamoClients, type DynamoClients } from '../../src/store/dynamo.js';
import { ensureTables, tableNames, type TableNames } from '../../src/store/tables.js';

/** A running in-process dynalite on 127.0.0.1 with AWS_ENDPOINT_URL_DYNAMODB pointing at it. */
export interface LocalDynamo {
  endpoint: string;
  /** Environment for child processes (the built CLI) that should use this dynalite. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts dynalite on a free port (in memory unless `path` is given) and points this process's
 * SDK clients at it through AWS_ENDPOINT_URL_DYNAMODB (read by each client on its first request).
 */
export async function startDynalite(options: { path?: string } = {}): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.path ? { path: options.path } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  return {
    endpoint,
    env: { AWS_ENDPOINT_URL_DYNAMODB: endpoint },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

let counter = 0;

/** A unique table prefix per test, so tests can share one dynalite without seeing each other. */
export function uniquePrefix(label = 't'): string {
  counter += 1;
  return `${label}${process.pid}-${counter}-`;
}

/** Creates the tables for a fresh prefix and returns clients plus names; `destroy()` the clients in teardown. */
export async function freshTables(label?: string): Promise<{ prefix: string; names: TableNames; clients: DynamoClients }> {
  const prefix = uniquePrefix(label);
  const names = tableNames(prefix);
  const clients = createDynamoClients({ maxAttempts: 1 });
  await ensureTables(clients.client, names);
  return { prefix, names, clients };
}
