// Fault matrix, DynamoDB down for 20 s and back (GitHub issue 7, item 2). dynalite persists to a
// temp folder, is closed (connections refused) for 20 s while deployments finish, then restarted on
// the same port with the same data. The daemon must stay up, say it is not ready, and deliver
// everything after the store returns: exactly once each, recorded as sent.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/core/events.js';
import { startCodeDeployServer } from '../../src/local/codedeploy-server.js';
import { createDynamoClients } from '../../src/store/dynamo.js';
import { ensureTables, tableNames } from '../../src/store/tables.js';
import { startHttpRecorder } from '../fakes/http-recorder.js';
import { requireBuiltCli } from '../helpers/cli.js';
import { eventually, type DaemonWorld } from '../helpers/daemon.js';
import { startDynalite, uniquePrefix, type LocalDynamo } from '../helpers/dynalite.js';
import { about, deploy, expectAlive, finish, ledgerEntry, liveRegistration, metric, readiness, registrationYaml, settle, slackChannel, startDeployment, Teardown } from './support.js';

const OUTAGE_MS = 20_000;

/** A daemon world whose dynalite keeps its data on disk and can be stopped and restarted on the same port. */
interface RestartableWorld extends DaemonWorld {
  /** Closes dynalite: connections to its port are refused until `restartDynamo`. */
  stopDynamo(): Promise<void>;
  /** Starts dynalite again on the same port with the same data. */
  restartDynamo(): Promise<void>;
}

async function startRestartableWorld(): Promise<RestartableWorld> {
  const data = await mkdtemp(path.join(tmpdir(), 'cdn-fdynamo-data-'));
  let dynamo: LocalDynamo | undefined = await startDynalite({ path: data });
  const port = Number(new URL(dynamo.endpoint).port);
  const endpoint = dynamo.endpoint;
  const codeDeploy = await startCodeDeployServer({});
  const clients = createDynamoClients({ maxAttempts: 2 });
  const prefix = uniquePrefix('fdynamo');
  const names = tableNames(prefix);
  await ensureTables(clients.client, names);
  const dir = await mkdtemp(path.join(tmpdir(), 'cdn-fdynamo-'));
  return {
    get dynamo() {
      if (!dynamo) throw new Error('dynalite is stopped');
      return dynamo;
    },
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
      await dynamo?.close();
      dynamo = undefined;
    },
    restartDynamo: async () => {
      dynamo = await startDynalite({ path: data, port });
    },
    close: async () => {
      clients.destroy();
      await codeDeploy.close();
      await dynamo?.close();
      await rm(dir, { recursive: true, force: true });
      await rm(data, { recursive: true, force: true });
    },
  };
}

beforeAll(() => requireBuiltCli());

const teardown = new Teardown();
afterEach(() => teardown.run());

describe('DynamoDB down for 20 s and back', () => {
  it('the daemon stays up and not ready during the outage, then delivers every deployment that finished meanwhile, once each', async () => {
    const world = await startRestartableWorld();
    teardown.add(() => world.close());
    const slack = await startHttpRecorder();
    teardown.add(() => slack.close());
    await world.write('checkout.yaml', registrationYaml('checkout', 'checkout-service', [slackChannel('chat', 'SLACK_URL')]));
    const daemon = teardown.daemon(world, { SLACK_URL: `${slack.url}/services/T0/B0/token` });
    const port = await daemon.port();
    await liveRegistration(world, 'checkout');
    const before = deploy(world, 'checkout-service', 'Succeeded');
    await eventually(() => about(slack.requests, before).length === 1, 15_000, 'the deployment before the outage delivered');
    await eventually(async () => (await readiness(port)).status === 200, 10_000, 'ready before the outage');
    const long = startDeployment(world, 'checkout-service'); // runs into the outage

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
    await settle(OUTAGE_MS / 2 - (Date.now() - outageStart));
    during.push(deploy(world, 'checkout-service', 'Failed'));
    await settle(OUTAGE_MS - (Date.now() - outageStart));
    expectAlive(daemon);
    expect((await readiness(port)).status).toBe(503);
    expect(slack.requests).toHaveLength(1); // nothing could be claimed, so nothing was sent

    await world.restartDynamo();
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
    await settle();
    expect(slack.requests).toHaveLength(4);
    for (const id of [before, ...expected.map((e) => e.id)]) expect(about(slack.requests, id)).toHaveLength(1);
    expect(await metric(port, 'codedeploy_notify_notifications_total', { channel_type: 'slack', outcome: 'sent' })).toBe(4);
    expect(await metric(port, 'codedeploy_notify_dead_letters_total')).toBe(0);
    // the outage was seen and logged, and survived
    expect(daemon.logs.some((l) => l.msg === 'dispatcher could not claim notifications')).toBe(true);
    expectAlive(daemon);
  }, 120_000);
});
