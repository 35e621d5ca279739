// The daemon end to end: the built CLI's `run` as child processes, against dynalite, the fake
// CodeDeploy (src/local/codedeploy-server.ts) and a fake Slack (an HTTP recorder), all on 127.0.0.1.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger } from '../../src/store/ledger.js';
import { DynamoRegistrationStore } from '../../src/store/registrations.js';
import { deliveryId } from '../../src/core/events.js';
import { requireBuiltCli } from '../helpers/cli.js';
import { eventually, slackRegistration, startDaemon, startDaemonWorld, type DaemonProcess, type DaemonWorld } from '../helpers/daemon.js';
import { startHttpRecorder, type HttpRecorder } from '../fakes/http-recorder.js';

const FAST = ['--poll-interval', '300ms', '--http-port', '0', '--leader-lease', '3s', '--resync-interval', '5s'];

let world: DaemonWorld;
let slack: HttpRecorder;
const daemons: DaemonProcess[] = [];

beforeAll(() => requireBuiltCli());
afterEach(async () => {
  for (const d of daemons.splice(0)) d.kill('SIGKILL');
  await slack?.close();
  await world?.close();
});

async function setup(): Promise<void> {
  world = await startDaemonWorld();
  slack = await startHttpRecorder();
}

function daemon(extraEnv: Record<string, string> = {}): DaemonProcess {
  const d = startDaemon(FAST, world.env({ SLACK_URL: slack.url, ...extraEnv }));
  daemons.push(d);
  return d;
}

/** Runs a deployment of `application` to a successful end in the fake CodeDeploy. */
function succeed(application: string, group = 'production'): string {
  const { model } = world.codeDeploy;
  const deployment = model.createDeployment({ application, group });
  model.setStatus(deployment.deploymentId, 'InProgress');
  model.setStatus(deployment.deploymentId, 'Succeeded');
  return deployment.deploymentId;
}

async function registrationLive(name: string): Promise<void> {
  const store = new DynamoRegistrationStore(world.clients.doc, world.names.registrations);
  await eventually(async () => (await store.scan()).some((item) => item.name === name), 10_000, `registration ${name} live`);
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : NaN;
}

describe('codedeploy-notify run', () => {
  it('a registration file added, then a deployment finishes: exactly one Slack message; SIGTERM exits 0', async () => {
    await setup();
    const d = daemon();
    await d.waitForLog((l) => l.msg === 'became leader');
    await world.write('checkout.yaml', slackRegistration('checkout', 'checkout-service'));
    await registrationLive('checkout');
    const id = succeed('checkout-service');
    const [request] = await slack.waitForRequests(1, 10_000);
    expect(request?.body).toContain(id);
    expect(request?.body).toContain('checkout-service');
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // several more polls: nothing more arrives
    expect(slack.requests).toHaveLength(1);
    const port = await d.port();
    expect(await metric(port, 'codedeploy_notify_leader')).toBe(1);
    expect(await metric(port, 'codedeploy_notify_notifications_total{channel_type="slack",outcome="sent"}')).toBe(1);
    d.kill('SIGTERM');
    expect((await d.exited).code).toBe(0);
  });

  it('SIGTERM during a slow send: the send completes, the ledger records it, exit 0 within 10 s', async () => {
    await setup();
    await world.write('checkout.yaml', slackRegistration('checkout', 'checkout-service'));
    slack.setDefault({ status: 200, body: 'ok', delayMs: 3_000 });
    const d = daemon();
    await registrationLive('checkout');
    const id = succeed('checkout-service');
    await slack.waitForRequests(1, 10_000);
    const t0 = Date.now();
    d.kill('SIGTERM');
    const { code } = await d.exited;
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const ledger = new DynamoLedger({ doc: world.clients.doc, table: world.names.ledger });
    expect((await ledger.get(deliveryId(id, 'Succeeded', 'checkout', 'chat')))?.state).toBe('sent');
  });

  it('SIGTERM during a send that outlasts the grace period: the claim is released, exit 0 within 10 s, the next start delivers it', async () => {
    await setup();
    await world.write('checkout.yaml', slackRegistration('checkout', 'checkout-service'));
    slack.setDefault({ status: 200, body: 'ok', delayMs: 30_000 });
    const first = daemon();
    await registrationLive('checkout');
    const id = succeed('checkout-service');
    await slack.waitForRequests(1, 10_000);
    const t0 = Date.now();
    first.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const ledger = new DynamoLedger({ doc: world.clients.doc, table: world.names.ledger });
    const key = deliveryId(id, 'Succeeded', 'checkout', 'chat');
    expect((await ledger.get(key))?.state).not.toBe('sent');
    expect((await ledger.get(key))?.state).not.toBe('sending');

    slack.setDefault({ status: 200, body: 'ok' });
    daemon();
    await slack.waitForRequests(2, 10_000);
    await eventually(async () => (await ledger.get(key))?.state === 'sent', 5_000, 'recorded as sent');
    // the one allowed repeat: the same notification, sent again because its first send was cut off
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(slack.requests).toHaveLength(2);
    for (const request of slack.requests) expect(request.body).toContain(id);
  });

  it('two replicas: one leader, CodeDeploy polled once per interval, no duplicate messages', async () => {
    await setup();
    await world.write('checkout.yaml', slackRegistration('checkout', 'checkout-service'));
    const a = daemon();
    const b = daemon();
    const [portA, portB] = await Promise.all([a.port(), b.port()]);
    await registrationLive('checkout');
    await eventually(async () => (await metric(portA, 'codedeploy_notify_leader')) + (await metric(portB, 'codedeploy_notify_leader')) === 1, 10_000, 'one leader');

    world.codeDeploy.resetCounts();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const listings = world.codeDeploy.counts().ListDeployments ?? 0;
    // one poller every 300 ms makes ~10 listings in 3 s; two pollers would make ~20
    expect(listings).toBeGreaterThan(3);
    expect(listings).toBeLessThanOrEqual(14);

    const ids = [succeed('checkout-service'), succeed('checkout-service'), succeed('checkout-service', 'staging')];
    await slack.waitForRequests(3, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(slack.requests).toHaveLength(3);
    for (const id of ids) expect(slack.requests.filter((r) => r.body.includes(id))).toHaveLength(1);
  });

  it('kill -9 of the leader: the standby takes over within two lease periods and nothing is lost', async () => {
    await setup();
    await world.write('checkout.yaml', slackRegistration('checkout', 'checkout-service'));
    const a = daemon();
    await a.waitForLog((l) => l.msg === 'became leader');
    await registrationLive('checkout');
    const b = daemon();
    await b.port();
    a.kill('SIGKILL');
    await a.exited;
    const killedAt = Date.now();
    const id = succeed('checkout-service');
    await b.waitForLog((l) => l.msg === 'became leader', 10_000);
    expect(Date.now() - killedAt).toBeLessThan(2 * 3_000 + 1_000);
    const [request] = await slack.waitForRequests(1, 10_000);
    expect(request?.body).toContain(id);
  });
});
