import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCodeDeployServer, type CodeDeployServer } from '../../src/local/codedeploy-server.js';
import { createDynamoClients, type DynamoClients } from '../../src/store/dynamo.js';
import { ensureTables, tableNames, type TableNames } from '../../src/store/tables.js';
import { CLI, cliEnv } from './cli.js';
import { startDynalite, uniquePrefix, type LocalDynamo } from './dynalite.js';

/** One JSON log line of a daemon. */
export type LogLine = Record<string, unknown> & { msg?: string; level?: number };

/** A `codedeploy-notify run` child process with its output parsed as it arrives. */
export interface DaemonProcess {
  child: ChildProcess;
  logs: LogLine[];
  stdout(): string;
  stderr(): string;
  /** The ops port, from the "daemon started" log line. */
  port(): Promise<number>;
  /** Resolves the first log line matching `predicate` (already seen or future). */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts the built CLI's `run` with `args`, fake AWS credentials and `env`. */
export function startDaemon(args: readonly string[], env: Record<string, string | undefined>, cwd?: string): DaemonProcess {
  const child = spawn(process.execPath, [CLI, 'run', ...args], { cwd, env: cliEnv({ LOG_LEVEL: 'info', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: LogLine[] = [];
  const text = { stdout: '', stderr: '' };
  const partial = { stdout: '', stderr: '' };
  const listeners = new Set<() => void>();
  // Log lines are JSON on stdout (stderr in local mode, whose stdout carries notifications).
  const collect = (stream: 'stdout' | 'stderr') => (chunk: string) => {
    text[stream] += chunk;
    partial[stream] += chunk;
    const lines = partial[stream].split('\n');
    partial[stream] = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
    for (const wake of listeners) wake();
  };
  child.stdout?.setEncoding('utf8').on('data', collect('stdout'));
  child.stderr?.setEncoding('utf8').on('data', collect('stderr'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitForLog = (predicate: (line: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = logs.find(predicate);
        if (found) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`log line not seen within ${timeoutMs} ms; stderr: ${text.stderr.slice(-2000)}; last logs: ${logs.slice(-5).map((l) => l.msg).join(' | ')}`));
      }, timeoutMs);
      listeners.add(check);
      void exited.then(() => setTimeout(check, 50));
      check();
    });
  return {
    child,
    logs,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    port: async () => Number((await waitForLog((l) => l.msg === 'daemon started')).port),
    waitForLog,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Everything a daemon test talks to: dynalite, the fake CodeDeploy, tables, a registrations folder. */
export interface DaemonWorld {
  dynamo: LocalDynamo;
  codeDeploy: CodeDeployServer;
  clients: DynamoClients;
  prefix: string;
  names: TableNames;
  dir: string;
  /** Environment for daemons of this world (endpoints, prefix, account id, plus `extra`). */
  env(extra?: Record<string, string | undefined>): Record<string, string | undefined>;
  /** Writes one registration file into the folder. */
  write(file: string, yaml: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts dynalite and the fake CodeDeploy on 127.0.0.1, creates the tables, makes a registrations folder. */
export async function startDaemonWorld(label = 'e2e'): Promise<DaemonWorld> {
  const dynamo = await startDynalite();
  const codeDeploy = await startCodeDeployServer({});
  const clients = createDynamoClients({ maxAttempts: 2 });
  const prefix = uniquePrefix(label);
  const names = tableNames(prefix);
  await ensureTables(clients.client, names);
  const dir = await mkdtemp(path.join(tmpdir(), `cdn-${label}-`));
  return {
    dynamo,
    codeDeploy,
    clients,
    prefix,
    names,
    dir,
    env: (extra = {}) => ({
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_CODEDEPLOY: codeDeploy.url,
      CODEDEPLOY_NOTIFY_TABLE_PREFIX: prefix,
      CODEDEPLOY_NOTIFY_DIR: dir,
      CODEDEPLOY_NOTIFY_ACCOUNT_ID: '123456789012',
      ...extra,
    }),
    write: (file, yaml) => writeFile(path.join(dir, file), yaml),
    close: async () => {
      clients.destroy();
      await codeDeploy.close();
      await dynamo.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A registration of `application` with one Slack channel whose URL is in SLACK_URL. */
export function slackRegistration(name: string, application: string, events = '[Succeeded, Failed]'): string {
  return `apiVersion: codedeploy-notify/v1
kind: Registration
metadata:
  name: ${name}
spec:
  application: ${application}
  events: ${events}
  channels:
    - name: chat
      type: slack
      webhookUrl: { fromEnv: SLACK_URL }
`;
}

/** Polls `check` every 50 ms until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
