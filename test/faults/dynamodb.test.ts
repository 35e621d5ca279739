// Fault matrix, DynamoDB down for 20 s and back (GitHub issue 7, item 2). dynalite keeps its data in
// a temp folder and runs in a process of its own (dynalite-process.mjs), which is killed for 20 s
// (connections refused) while deployments finish, then started again on the same port with the
// same data. The daemon must stay up, say it is not ready, and deliver everything after the store
// returns: exactly once each, recorded as sent.
//
// Why a process and not the in-process helper: closing an in-process dynalite while a daemon is
// talking to it makes dynalite throw "Database is closed" from requests it is still handling, an
// uncaught error in the test process; a killed process is also what an outage looks like.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/core/events.js';
import { startCodeDeployServer } from '../../src/local/codedeploy-server.js';
import { createDynamoClients } from '../../src/store/dynamo.js';
import { ensureTables, tableNames } from '../../src/store/tables.js';
import { startHttpRecorder } from '../fakes/http-recorder.js';
import { requireBuiltCli } from '../helpers/cli.js';
import { eventually, type DaemonWorld } from '../helpers/daemon.js';
import { uniquePrefix } from '../helpers/dynalite.js';
import { about, deploy, expectAlive, finish, ledgerEntry, ledgerOf, liveRegistration, metric, readiness, registrationYaml, settle, slackChannel, startDeployment, Teardown } from './support.js';

const OUTAGE_MS = 20_000;
const DYNALITE_PROCESS = fileURLToPath(new URL('./dynalite-process.mjs', import.meta.url));

/** A dynalite process: its port, and a kill that resolves once the process is gone. */
interface DynaliteProcess {
  port: number;
  kill(): Promise<void>;
}

/** Starts dynalite-process.mjs on `port` (0: any) with its data in `data`; resolves once it listens. */
function startDynaliteProcess(data: string, port = 0): Promise<DynaliteProcess> {
  const child: ChildProcess = spawn(process.execPath, [DYNALITE_PROCESS, data, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (!line) return;
      resolve({
        port: (JSON.parse(line) as { port: number }).port,
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
    void exited.then(() => reject(new Error(`dynalite process exited before listening: ${stderr}`)));
  });
}

/** A daemon world whose dynalite keeps its data on disk and can be stopped and restarted on the same port. */
interface RestartableWorld extends DaemonWorld {
  /** Kills dynalite: connections to its port are refused until `restartDynamo`. */
  stopDynamo(): Promise<void>;
  /** Starts dynalite again on the same port with the same data. */
  restartDynamo(): Promise<void>;
}

async function startRestartableWorld(): Promise<RestartableWorld> {
  const data = await mkdtemp(path.join(tmpdir(), 'cdn-fdynamo-data-'));
  let dynamo: DynaliteProcess | undefined = await startDynaliteProcess(data);
  const { port } = dynamo;
  const endpoint = `http://127.0.0.1:${port}`;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint; // for this test's own clients
  const codeDeploy = await startCodeDeployServer({});
  const clients = createDynamoClients({ maxAttempts: 2 });
  const prefix = uniquePrefix('fdynamo');
  const names = tableNames(prefix);
  await ensureTables(clients.client, names);
  const dir = await mkdtemp(path.join(tmpdir(), 'cdn-fdynamo-'));
  return {
    dynamo: { endpoint, env: { AWS_ENDPOINT_URL_DYNAMODB: endpoint }, close: async () => dynamo?.kill() },
    codeDeploy,
    clients,
    prefix,
    names,
    dir,
    env: (extra = {}) => ({
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_CODEDEPLOY: codeDeploy.url,
      CODEDEPLOY_NOTIFY_TABLE_PREFIX: prefix,
      CODEDEPLOY_NOTIFY_DIR: dir,
      CODEDEPLOY_NOTIFY_ACCOUNT_ID: '123456789012',
      ...extra,
    }),
    write: (file, yaml) => writeFile(path.join(dir, file), yaml),
    stopDynamo: async () => {
      await dynamo?.kill();
      dynamo = undefined;
    },
    restartDynamo: async () => {
      dynamo = await startDynaliteProcess(data, port);
    },
    close: async () => {
      clients.destroy();
      await codeDeploy.close();
      await dynamo?.kill();
      await rm(dir, { recursive: true, force: true });
      await rm(data, { recursive: true, force: true });
    },
  };
}

beforeAll(() => requireBuiltCli());

const teardown = new Teardown();
afterEach(() => teardown.run());

describe('DynamoDB down for 20 s and back', () => {
  it('the daemon stays up and not ready during the outage, records the send in flight when it began, then delivers every deployment that finished meanwhile, once each', async () => {
    const world = await startRestartableWorld();
    teardown.add(() => world.close());
    const slack = await startHttpRecorder();
    teardown.add(() => slack.close());
    await world.write('checkout.yaml', registrationYaml('checkout', 'checkout-service', [slackChannel('chat', 'SLACK_URL')]));
    // a claim lease shorter than the outage (it must exceed 2 s + 3 × the send timeout)
    const daemon = teardown.daemon(world, { SLACK_URL: `${slack.url}/services/T0/B0/token`, CODEDEPLOY_NOTIFY_SEND_TIMEOUT: '4s', CODEDEPLOY_NOTIFY_CLAIM_LEASE: '15s' });
    const port = await daemon.port();
    await liveRegistration(world, 'checkout');
    const before = deploy(world, 'checkout-service', 'Succeeded');
    await eventually(() => about(slack.requests, before).length === 1, 15_000, 'the deployment before the outage delivered');
    await eventually(async () => (await readiness(port)).status === 200, 10_000, 'ready before the outage');
    const long = startDeployment(world, 'checkout-service'); // runs into the outage
    // a send in flight when the store goes down: it completes during the outage, so its record waits
    slack.respondWith({ status: 200, body: 'ok', delayMs: 3_000 });
    const inFlight = deploy(world, 'checkout-service', 'Failed');
    await eventually(() => about(slack.requests, inFlight).length === 1, 15_000, 'the slow send started');

    await world.stopDynamo();
    const outageStart = Date.now();
    await settle(2_000);
    finish(world, long, 'Failed');
    const during = [deploy(world, 'checkout-service', 'Succeeded')];
    const notReady = await eventually(async () => {
      const r = await readiness(port);
      return r.status === 503 ? r : undefined;
    }, 10_000, '/readyz reporting the outage');
    expect(notReady.body.ready).toBe(false);
    expect(notReady.body.checks.store?.ok).toBe(false);
    expect(notReady.body.checks.store?.detail).toMatch(/DynamoDB unreachable/);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    // a leader that cannot renew its lease steps down rather than act on a lease it cannot vouch for
    await eventually(async () => (await metric(port, 'codedeploy_notify_leader')) === 0, 10_000, 'the leader stepping down');
    await settle(OUTAGE_MS / 2 - (Date.now() - outageStart));
    during.push(deploy(world, 'checkout-service', 'Failed'));
    await settle(OUTAGE_MS - (Date.now() - outageStart));
    expectAlive(daemon);
    expect((await readiness(port)).status).toBe(503);
    expect(slack.requests).toHaveLength(2); // nothing could be claimed, so nothing more was sent

    await world.restartDynamo();
    // the same data: what was recorded before the outage is still there
    expect((await ledgerOf(world).get(deliveryId(before, 'Succeeded', 'checkout', 'chat')))?.state).toBe('sent');
    const inFlightEntry = await ledgerEntry(world, deliveryId(inFlight, 'Failed', 'checkout', 'chat'), (e) => e.state === 'sent', 45_000, 'the send made during the outage recorded');
    expect(inFlightEntry.attempts).toBe(1);
    const expected = [
      { id: long, event: 'Failed' as const },
      { id: during[0] as string, event: 'Succeeded' as const },
      { id: during[1] as string, event: 'Failed' as const },
    ];
    for (const { id, event } of expected) {
      const entry = await ledgerEntry(world, deliveryId(id, event, 'checkout', 'chat'), (e) => e.state === 'sent', 45_000, `${id} delivered after the outage`);
      expect(entry.attempts).toBe(1);
    }
    await eventually(async () => (await readiness(port)).status === 200, 15_000, 'ready again after the outage');
    await eventually(async () => (await metric(port, 'codedeploy_notify_leader')) === 1, 15_000, 'leading again after the outage');
    // the in-flight send's 15 s lease ran out during the outage: claim rounds since must not have sent it again
    await settle(2_000);
    for (const id of [before, inFlight, ...expected.map((e) => e.id)]) expect(about(slack.requests, id), `messages about ${id}`).toHaveLength(1);
    expect(slack.requests).toHaveLength(5);
    expect(await metric(port, 'codedeploy_notify_notifications_total', { channel_type: 'slack', outcome: 'sent' })).toBe(5);
    expect(await metric(port, 'codedeploy_notify_dead_letters_total')).toBe(0);
    // the outage was seen and logged, and survived
    expect(daemon.logs.some((l) => l.msg === 'dispatcher could not claim notifications')).toBe(true);
    expectAlive(daemon);
  }, 120_000);
});
