// Fault matrix, CodeDeploy faults (GitHub issue 7, item 2): throttling of 30 % of requests, bursts of
// 5xx answers, a 5xx outage longer than the readiness limit, and 2 s of latency on every call. The
// built CLI's `run` polls the fake CodeDeploy while deployments happen under the fault; every
// subscribed notification must reach the fake Slack exactly once, be recorded as sent, and the
// metrics and /readyz must tell what happened. Cases run concurrently, each in its own world.
import { beforeAll, describe, it, type ExpectStatic } from 'vitest';
import { deliveryId, type EventType } from '../../src/core/events.js';
import { seededRandom, type CodeDeployServer } from '../../src/local/codedeploy-server.js';
import { startHttpRecorder, type HttpRecorder } from '../fakes/http-recorder.js';
import { requireBuiltCli } from '../helpers/cli.js';
import { eventually, type DaemonProcess, type DaemonWorld } from '../helpers/daemon.js';
import { about, deploy, expectAlive, finish, ledgerEntry, liveRegistration, readiness, registrationYaml, scrape, settle, slackChannel, startDeployment, startWorld, Teardown, valueOf } from './support.js';

beforeAll(() => requireBuiltCli());

interface Setup {
  world: DaemonWorld;
  slack: HttpRecorder;
  daemon: DaemonProcess;
  port: number;
}

/** A world with one registration (Slack, Succeeded and Failed) and a running daemon, the registration live. */
async function setup(t: Teardown, label: string, before: (world: DaemonWorld) => void = () => undefined): Promise<Setup> {
  const world = await startWorld(label);
  t.add(() => world.close());
  const slack = await startHttpRecorder();
  t.add(() => slack.close());
  before(world);
  await world.write('checkout.yaml', registrationYaml('checkout', 'checkout-service', [slackChannel('chat', 'SLACK_URL')]));
  const daemon = t.daemon(world, { SLACK_URL: `${slack.url}/services/T0/B0/token` });
  const port = await daemon.port();
  await liveRegistration(world, 'checkout', () => true, 30_000);
  return { world, slack, daemon, port };
}

/** Waits until each deployment's notification is recorded as sent, then checks Slack got exactly one message for each. */
async function expectDeliveredOnce(s: Setup, deployments: ReadonlyArray<{ id: string; event: EventType }>, expect: ExpectStatic, timeoutMs = 30_000): Promise<void> {
  for (const { id, event } of deployments) {
    const entry = await ledgerEntry(s.world, deliveryId(id, event, 'checkout', 'chat'), (e) => e.state === 'sent', timeoutMs, `${event} of ${id} sent`);
    expect(entry.attempts).toBe(1); // the channel never failed: CodeDeploy faults cost no send retries
  }
  await settle();
  for (const { id } of deployments) expect(about(s.slack.requests, id), `messages about ${id}`).toHaveLength(1);
  expect(s.slack.requests).toHaveLength(deployments.length);
}

/**
 * Keeps 5xx answers queued on the fake CodeDeploy until the returned function is called: every
 * request in between fails. Counts requests to know how many queued errors are left.
 */
function sustained5xx(server: CodeDeployServer): () => void {
  let queued = 0;
  let seen = server.total();
  const topUp = () => {
    const now = server.total();
    queued = Math.max(0, queued - (now - seen));
    seen = now;
    if (queued < 4) {
      server.burst(8, 503);
      queued += 8;
    }
  };
  topUp();
  const timer = setInterval(topUp, 20);
  return () => clearInterval(timer);
}

describe.concurrent('CodeDeploy faults', () => {
  it('30 % of CodeDeploy requests throttled: every deployment notified once, the SDK retries absorb it, still ready', async ({ expect, onTestFinished }) => {
    const t = new Teardown();
    onTestFinished(() => t.run());
    const s = await setup(t, 'fthrottle', (world) => {
      world.codeDeploy.faults.random = seededRandom(20_240_607);
      world.codeDeploy.faults.throttleRate = 0.3;
    });
    const deployments: Array<{ id: string; event: EventType }> = [];
    const running = startDeployment(s.world, 'checkout-service');
    for (let i = 0; i < 4; i += 1) {
      deployments.push({ id: deploy(s.world, 'checkout-service', i % 2 ? 'Failed' : 'Succeeded', i % 2 ? 'staging' : 'production'), event: i % 2 ? 'Failed' : 'Succeeded' });
      await settle(700);
    }
    finish(s.world, running, 'Succeeded');
    deployments.push({ id: running, event: 'Succeeded' });
    await expectDeliveredOnce(s, deployments, expect);

    const samples = await scrape(s.port);
    const calls = valueOf(samples, 'codedeploy_notify_codedeploy_calls_total');
    const requests = s.world.codeDeploy.total();
    expect(calls).toBeGreaterThan(10);
    // throttled requests were retried by the SDK inside the poller's calls: more requests than calls
    expect(requests).toBeGreaterThan(calls);
    expect((await readiness(s.port)).status).toBe(200);
    expectAlive(s.daemon);
  }, 90_000);

  it('bursts of 5xx answers: the polls they hit fail and are counted, the next ones catch up, every deployment notified once', async ({ expect, onTestFinished }) => {
    const t = new Teardown();
    onTestFinished(() => t.run());
    const s = await setup(t, 'fburst');
    const deployments: Array<{ id: string; event: EventType }> = [];
    const running = startDeployment(s.world, 'checkout-service');
    for (const [i, status] of ([503, 500, 503] as const).entries()) {
      s.world.codeDeploy.burst(9, status); // three calls' worth of SDK attempts
      deployments.push({ id: deploy(s.world, 'checkout-service', i === 1 ? 'Failed' : 'Succeeded'), event: i === 1 ? 'Failed' : 'Succeeded' });
      await eventually(() => s.daemon.logs.filter((l) => l.msg === 'poll of scope failed; nothing advanced and the next poll retries' || l.msg === 'poll of scope incomplete; the cursor stays and the next poll retries').length > i, 20_000, `burst ${i + 1} seen by the poller`);
    }
    finish(s.world, running, 'Failed');
    deployments.push({ id: running, event: 'Failed' });
    await expectDeliveredOnce(s, deployments, expect);

    const samples = await scrape(s.port);
    expect(valueOf(samples, 'codedeploy_notify_poll_duration_seconds_count', { outcome: 'error' })).toBeGreaterThanOrEqual(3);
    expect(valueOf(samples, 'codedeploy_notify_poll_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    expect((await readiness(s.port)).status).toBe(200); // short bursts do not make the daemon unready
    expectAlive(s.daemon);
  }, 90_000);

  it('5xx on every request for longer than the readiness limit: /readyz says the poller is failing, then recovers and the deployments of the outage are notified', async ({ expect, onTestFinished }) => {
    const t = new Teardown();
    onTestFinished(() => t.run());
    const s = await setup(t, 'f5xx');
    await eventually(async () => (await readiness(s.port)).status === 200, 15_000, 'ready before the outage');
    const stop = sustained5xx(s.world.codeDeploy);
    t.add(stop);
    const deployments = [
      { id: deploy(s.world, 'checkout-service', 'Succeeded'), event: 'Succeeded' as const },
      { id: deploy(s.world, 'checkout-service', 'Failed', 'staging'), event: 'Failed' as const },
    ];
    // the poller check fails once no poll has succeeded for max(3 × poll interval, 30 s)
    const notReady = await eventually(async () => {
      const r = await readiness(s.port);
      return r.status === 503 ? r : undefined;
    }, 45_000, '/readyz reporting the failing poller');
    expect(notReady.body.checks.poller?.ok).toBe(false);
    expect(notReady.body.checks.poller?.detail).toMatch(/no successful poll/);
    expect(notReady.body.checks.store?.ok).toBe(true);
    expect(s.slack.requests).toHaveLength(0);
    expectAlive(s.daemon);
    stop();

    await expectDeliveredOnce(s, deployments, expect);
    await eventually(async () => (await readiness(s.port)).status === 200, 15_000, 'ready again after the outage');
    expect(await scrape(s.port).then((samples) => valueOf(samples, 'codedeploy_notify_poll_duration_seconds_count', { outcome: 'error' }))).toBeGreaterThan(5);
  }, 120_000);

  it('2 s of latency on every CodeDeploy call: slower polls, still ready, every deployment notified once', async ({ expect, onTestFinished }) => {
    const t = new Teardown();
    onTestFinished(() => t.run());
    const s = await setup(t, 'flatency', (world) => {
      world.codeDeploy.faults.latencyMs = 2_000;
    });
    const running = startDeployment(s.world, 'checkout-service');
    const deployments: Array<{ id: string; event: EventType }> = [{ id: deploy(s.world, 'checkout-service', 'Succeeded'), event: 'Succeeded' }];
    await settle(3_000);
    deployments.push({ id: deploy(s.world, 'checkout-service', 'Failed', 'staging'), event: 'Failed' });
    finish(s.world, running, 'Succeeded');
    deployments.push({ id: running, event: 'Succeeded' });
    await expectDeliveredOnce(s, deployments, expect, 45_000);

    const samples = await scrape(s.port);
    const polls = valueOf(samples, 'codedeploy_notify_poll_duration_seconds_count', { outcome: 'ok' });
    expect(polls).toBeGreaterThan(0);
    // each poll makes at least one call that takes 2 s
    expect(valueOf(samples, 'codedeploy_notify_poll_duration_seconds_sum', { outcome: 'ok' }) / polls).toBeGreaterThanOrEqual(2);
    expect(valueOf(samples, 'codedeploy_notify_poll_duration_seconds_count', { outcome: 'error' })).toBe(0);
    expect((await readiness(s.port)).status).toBe(200);
    expectAlive(s.daemon);
  }, 90_000);
});
