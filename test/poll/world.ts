// A test world for the poller: the fake CodeDeploy (real SDK client through
// AWS_ENDPOINT_URL_CODEDEPLOY), poll state on dynalite (or in memory), an in-memory sink, and one
// simulated clock shared by the fake and the poller.
import { Writable } from 'node:stream';
import type { CodeDeployModel } from '../../src/local/codedeploy-model.js';
import { seededRandom, startCodeDeployServer, type CodeDeployServer } from '../../src/local/codedeploy-server.js';
import { createLogger, type Logger } from '../../src/core/log.js';
import { Poller, type PollerOptions, type PollReport, type PollStrategyName } from '../../src/poll/poller.js';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoClients, type DynamoClients } from '../../src/store/dynamo.js';
import { DynamoPollStateStore, MemoryPollStateStore, type PollStateStore } from '../../src/store/poll-state.js';
import type { LiveRegistration } from '../../src/store/ports.js';
import { tableDefinitions, tableNames } from '../../src/store/tables.js';
import { uniquePrefix } from '../helpers/dynalite.js';
import { MemorySink, TestClock } from './fixtures.js';

/** 2026-11-23T10:00:00Z */
export const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** Log lines a world's logger wrote, parsed. */
export type LogLine = { level: number; msg: string } & Record<string, unknown>;

export interface World {
  server: CodeDeployServer;
  model: CodeDeployModel;
  clock: TestClock;
  sink: MemorySink;
  state: PollStateStore;
  /** The table's clients when the state is on dynalite. */
  dynamo?: { clients: DynamoClients; table: string };
  logs: LogLine[];
  logger: Logger;
  /** A new Poller on this world (closed with the world). */
  poller(options?: Partial<PollerOptions>): Poller;
  close(): Promise<void>;
}

/**
 * Creates only the state table under a fresh prefix and waits for it by polling every 5 ms
 * (ensureTables' waiter sleeps a whole second on dynalite's brief CREATING state).
 */
export async function freshStateTable(): Promise<{ clients: DynamoClients; table: string }> {
  const names = tableNames(uniquePrefix('poll'));
  const clients = createDynamoClients({ maxAttempts: 1 });
  const definition = tableDefinitions(names).find((d) => d.TableName === names.state);
  await clients.client.send(new CreateTableCommand(definition as NonNullable<typeof definition>));
  for (let i = 0; ; i += 1) {
    const out = await clients.client.send(new DescribeTableCommand({ TableName: names.state }));
    if (out.Table?.TableStatus === 'ACTIVE') break;
    if (i > 1000) throw new Error(`table ${names.state} did not become active`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { clients, table: names.state };
}

/** Options of `startWorld`. */
export interface WorldOptions {
  state?: 'dynamo' | 'memory';
  start?: number;
  pageSize?: number;
}

/** Starts a world. Needs a running dynalite (startDynalite) for `state: 'dynamo'` (the default). */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const clock = new TestClock(options.start ?? T0);
  const server = await startCodeDeployServer({ clock: clock.now, pageSize: options.pageSize ?? 100 });
  // Read by each SDK client on its first request: pollers created from here on use this fake.
  process.env.AWS_ENDPOINT_URL_CODEDEPLOY = server.url;
  const sink = new MemorySink();
  let state: PollStateStore;
  let dynamo: World['dynamo'];
  if ((options.state ?? 'dynamo') === 'dynamo') {
    dynamo = await freshStateTable();
    state = new DynamoPollStateStore({ doc: dynamo.clients.doc, table: dynamo.table, clock: clock.now });
  } else {
    state = new MemoryPollStateStore({ clock: clock.now });
  }
  const logs: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination });
  const pollers: Poller[] = [];
  return {
    server,
    model: server.model,
    clock,
    sink,
    state,
    ...(dynamo ? { dynamo } : {}),
    logs,
    logger,
    poller(overrides = {}) {
      const poller = new Poller({
        state,
        sink,
        defaultRegion: 'us-east-1',
        defaultAccountId: '123456789012',
        clock: clock.now,
        logger,
        maxAttempts: 1,
        requestTimeoutMs: 5_000,
        ...overrides,
      });
      pollers.push(poller);
      return poller;
    },
    async close() {
      for (const p of pollers) p.close();
      dynamo?.clients.destroy();
      await server.close();
    },
  };
}

/** One step of a scenario: changes CodeDeploy and/or the registrations at the current time. */
export type Step = (ctx: { model: CodeDeployModel; registrations: LiveRegistration[]; now: number }) => void;

/** Options of `runScenario`. */
export interface ScenarioOptions {
  strategy: PollStrategyName;
  /** Polls after each step; default 2. */
  pollsPerStep?: number;
  /** Simulated time per step; default 1 minute. */
  stepMs?: number;
  /** Polls after the last step; default 3. */
  settlePolls?: number;
  /** Fraction of CodeDeploy calls throttled (seeded). */
  throttleRate?: number;
  seed?: number;
  state?: 'dynamo' | 'memory';
}

/** Runs `steps` against a fresh world and returns what the sink got and every poll report. */
export async function runScenario(
  initial: () => LiveRegistration[],
  steps: readonly Step[],
  options: ScenarioOptions,
): Promise<{ sink: MemorySink; reports: PollReport[]; world: World }> {
  const world = await startWorld({ ...(options.state ? { state: options.state } : {}) });
  try {
    if (options.throttleRate) {
      world.server.faults.random = seededRandom(options.seed ?? 1);
      world.server.faults.throttleRate = options.throttleRate;
    }
    // One call at a time when throttling, so the seeded throttling hits the same calls every run.
    const poller = world.poller({ strategy: options.strategy, ...(options.throttleRate ? { concurrency: 1 } : {}) });
    const registrations = initial();
    const reports: PollReport[] = [];
    const pollsPerStep = options.pollsPerStep ?? 2;
    const stepMs = options.stepMs ?? MINUTE;
    for (const step of steps) {
      step({ model: world.model, registrations, now: world.clock.now() });
      for (let i = 0; i < pollsPerStep; i += 1) {
        world.clock.advance(stepMs / pollsPerStep);
        reports.push(await poller.pollOnce(registrations));
      }
    }
    for (let i = 0; i < (options.settlePolls ?? 3); i += 1) {
      world.clock.advance(stepMs);
      reports.push(await poller.pollOnce(registrations));
    }
    return { sink: world.sink, reports, world };
  } finally {
    await world.close();
  }
}
