import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import dynalite from 'dynalite';
import { UsageError } from '../core/errors.js';

/** A running embedded DynamoDB (dynalite on 127.0.0.1, persisted under `dataDir`). */
export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts dynalite persisted in `<dataDir>/dynamodb`, guarded by a pid lock file: dynalite crashes
 * when two processes open one data path, so a second `run --local` in the same folder gets a clear
 * usage error instead. A lock left by a dead process is taken over.
 */
export async function startEmbeddedDynamo(dataDir: string): Promise<EmbeddedDynamo> {
  mkdirSync(dataDir, { recursive: true });
  const lock = path.join(dataDir, 'lock');
  const holder = readPid(lock);
  if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
    throw new UsageError(`another codedeploy-notify run --local (pid ${holder}) is using ${dataDir}; stop it first, or run from another folder`);
  }
  writeFileSync(lock, `${process.pid}\n`);
  const server = dynalite({ path: path.join(dataDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          if (readPid(lock) === process.pid) rmSync(lock, { force: true });
          resolve();
        });
      }),
  };
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
