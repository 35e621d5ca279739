// Fault matrix, channel faults (GitHub issue 7, item 2): a receiver answering 503 for 60 s, a 429
// with Retry-After, a receiver that hangs past the send timeout, and a missing secret. Each case
// runs the built CLI's `run` against dynalite, the fake CodeDeploy and fake receivers, produces
// deployments during the fault, and checks: every subscribed notification delivered, exactly one
// successful delivery each (no process dies here, so SPEC's one allowed repeat cannot occur), the
// ledger's final state, and the metrics that should move. The cases run concurrently (each in its
// own world) so the file takes about as long as its longest case.
import { beforeAll, describe, it } from 'vitest';
import { deliveryId } from '../../src/core/events.js';
import { startHttpRecorder } from '../fakes/http-recorder.js';
import { requireBuiltCli } from '../helpers/cli.js';
import { eventually } from '../helpers/daemon.js';
import {
  about,
  answering,
  delivered,
  deploy,
  expectAlive,
  finish,
  ledgerEntry,
  liveRegistration,
  registrationYaml,
  scrape,
  settle,
  slackChannel,
  startDeployment,
  startHangingReceiver,
  startWorld,
  Teardown,
  valueOf,
  webhookChannel,
} from './support.js';

beforeAll(() => requireBuiltCli());

const DELIVERY_HEADER = 'x-codedeploy-notify-delivery';

describe.concurrent('channel faults', () => {
  it('a webhook answering 503 for 60 s: retried through the outage, each notification delivered once after it', async ({ expect, onTestFinished }) => {
    const t = new Teardown();
    onTestFinished(() => t.run());
    const world = await startWorld('f503');
    t.add(() => world.close());
    const hook = await startHttpRecorder();
    t.add(() => hook.close());
    let outage = true;
    const answers = answering(hook, () => (outage ? { status: 503, body: 'service unavailable' } : { status: 200, body: 'ok' }));
    await world.write('checkout.yaml', registrationYaml('checkout', 'checkout-service', [webhookChannel('hook', 'HOOK_URL')]));
    const daemon = t.daemon(world, { HOOK_URL: `${hook.url}/deploys` });
    const port = await daemon.port();
    await liveRegistration(world, 'checkout');

    const outageStart = Date.now();
    // one deployment fails at the start of the outage; another, already running, succeeds half way through
    const early = deploy(world, 'checkout-service', 'Failed');
    const running = startDeployment(world, 'checkout-service');
    await hook.waitForRequests(1, 15_000);
    await settle(30_000 - (Date.now() - outageStart));
    finish(world, running, 'Succeeded');
    const ids = [deliveryId(early, 'Failed', 'checkout', 'hook'), deliveryId(running, 'Succeeded', 'checkout', 'hook')];
    await eventually(() => answers.some((a) => a.request.headers[DELIVERY_HEADER] === ids[1]), 15_000, 'the mid-outage deployment sent (and refused)');
    await settle(60_000 - (Date.now() - outageStart));
    expectAlive(daemon);
    for (const id of ids) expect((await ledgerEntry(world, id, () => true)).state).not.toBe('sent');
    // still trying in the last 15 s of the outage: backoff is capped (5 s here), nothing was given up
    expect(answers.some((a) => a.status === 503 && a.request.headers[DELIVERY_HEADER] === ids[0] && a.at >= outageStart + 45_000)).toBe(true);
    outage = false;

    for (const id of ids) {
      const entry = await ledgerEntry(world, id, (e) => e.state === 'sent', 20_000, `${id} sent after the outage`);
      expect(entry.attempts).toBeGreaterThan(1);
      expect(entry.lastError).toMatch(/answered 503/);
    }
    await settle();
    for (const id of ids) expect(delivered(answers, (r) => r.headers[DELIVERY_HEADER] === id)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(2);
    for (const answer of answers) expect(ids).toContain(answer.request.headers[DELIVERY_HEADER]);

    const samples = await scrape(port);
    const retries = valueOf(samples, 'codedeploy_notify_retries_total', { channel_type: 'webhook' });
    expect(retries).toBe(answers.length - 2); // every refused attempt scheduled a retry
    expect(valueOf(samples, 'codedeploy_notify_notifications_total', { channel_type: 'webhook', outcome: 'retry' })).toBe(retries);
    expect(valueOf(samples, 'codedeploy_notify_notifications_total', { channel_type: 'webhook', outcome: 'sent' })).toBe(2);
    expect(valueOf(samples, 'codedeploy_notify_dead_letters_total')).toBe(0);
  }, 120_000);

  it('429 with Retry-After: 2: the retry waits at least the 2 s asked, then delivers once', async ({ expect, onTestFinished }) => {
    const t = new Teardown();
    onTestFinished(() => t.run());
    const world = await startWorld('f429');
    t.add(() => world.close());
    const slack = await startHttpRecorder();
    t.add(() => slack.close());
    let first = true;
    const answers = answering(slack, () => {
      if (!first) return { status: 200, body: 'ok' };
      first = false;
      return { status: 429, headers: { 'retry-after': '2' }, body: 'rate_limited' };
    });
    await world.write('checkout.yaml', registrationYaml('checkout', 'checkout-service', [slackChannel('chat', 'SLACK_URL')]));
    const daemon = t.daemon(world, { SLACK_URL: `${slack.url}/services/T0/B0/token` });
    const port = await daemon.port();
    await liveRegistration(world, 'checkout');

    const id = deploy(world, 'checkout-service', 'Failed');
    const entry = await ledgerEntry(world, deliveryId(id, 'Failed', 'checkout', 'chat'), (e) => e.state === 'sent');
    expect(entry.attempts).toBe(2);
    expect(entry.lastError).toMatch(/answered 429/);
    await settle();
    expect(answers.map((a) => a.status)).toEqual([429, 200]);
    for (const answer of answers) expect(answer.request.body).toContain(id);
    const [limited, retried] = answers as [(typeof answers)[0], (typeof answers)[0]];
    // the daemon learns of the 429 after the receiver logged it, so this is a strict lower bound
    // (10 ms of slack for millisecond rounding); no upper bound: the machine may be busy
    expect(retried.at - limited.at).toBeGreaterThanOrEqual(2_000 - 10);

    const samples = await scrape(port);
    expect(valueOf(samples, 'codedeploy_notify_retries_total', { channel_type: 'slack' })).toBe(1);
    expect(valueOf(samples, 'codedeploy_notify_notifications_total', { channel_type: 'slack', outcome: 'retry' })).toBe(1);
    expect(valueOf(samples, 'codedeploy_notify_notifications_total', { channel_type: 'slack', outcome: 'sent' })).toBe(1);
    expect(valueOf(samples, 'codedeploy_notify_dead_letters_total')).toBe(0);
    expectAlive(daemon);
  }, 60_000);

  it('a webhook that hangs: each send times out and is retried, Slack and other deployments are not held up, all delivered once it answers', async ({ expect, onTestFinished }) => {
    const t = new Teardown();
    onTestFinished(() => t.run());
    const world = await startWorld('fhang');
    t.add(() => world.close());
    const hook = await startHangingReceiver();
    t.add(() => hook.close());
    const slack = await startHttpRecorder();
    t.add(() => slack.close());
    await world.write('checkout.yaml', registrationYaml('checkout', 'checkout-service', [webhookChannel('hook', 'HOOK_URL'), slackChannel('chat', 'SLACK_URL')]));
    const daemon = t.daemon(world, { HOOK_URL: `${hook.url}/deploys`, SLACK_URL: `${slack.url}/services/T0/B0/token`, CODEDEPLOY_NOTIFY_SEND_TIMEOUT: '1s' });
    const port = await daemon.port();
    await liveRegistration(world, 'checkout');

    const first = deploy(world, 'checkout-service', 'Succeeded');
    const hookIds = [deliveryId(first, 'Succeeded', 'checkout', 'hook')];
    await eventually(() => hook.requests.length >= 1, 15_000, 'the webhook called');
    const second = deploy(world, 'checkout-service', 'Failed');
    hookIds.push(deliveryId(second, 'Failed', 'checkout', 'hook'));
    // while the webhook hangs, Slack hears about both deployments
    await slack.waitForRequests(2, 15_000);
    expect(hook.hanging).toBe(true);
    expect(hook.answered()).toBe(0);
    expect(about(slack.requests, first)).toHaveLength(1);
    expect(about(slack.requests, second)).toHaveLength(1);
    // and the webhook's sends time out and are tried again
    await eventually(() => hook.requests.filter((r) => r.headers[DELIVERY_HEADER] === hookIds[0]).length >= 2, 20_000, 'the hung send retried');
    for (const id of hookIds) expect((await ledgerEntry(world, id, () => true)).state).not.toBe('sent');

    hook.hanging = false;
    for (const id of hookIds) {
      const entry = await ledgerEntry(world, id, (e) => e.state === 'sent', 20_000, `${id} sent once the webhook answers`);
      expect(entry.attempts).toBeGreaterThan(1);
      expect(entry.lastError).toMatch(/within 1000 ms/);
    }
    for (const id of [first, second]) expect((await ledgerEntry(world, deliveryId(id, id === first ? 'Succeeded' : 'Failed', 'checkout', 'chat'), () => true)).attempts).toBe(1);
    await settle();
    for (const id of hookIds) expect(hook.requests.filter((r) => !r.held && r.headers[DELIVERY_HEADER] === id)).toHaveLength(1);
    expect(slack.requests).toHaveLength(2);

    const samples = await scrape(port);
    const held = hook.requests.filter((r) => r.held).length;
    expect(valueOf(samples, 'codedeploy_notify_retries_total', { channel_type: 'webhook' })).toBe(held);
    expect(valueOf(samples, 'codedeploy_notify_notifications_total', { channel_type: 'webhook', outcome: 'sent' })).toBe(2);
    expect(valueOf(samples, 'codedeploy_notify_notifications_total', { channel_type: 'slack', outcome: 'sent' })).toBe(2);
    expect(valueOf(samples, 'codedeploy_notify_retries_total', { channel_type: 'slack' })).toBe(0);
    expect(valueOf(samples, 'codedeploy_notify_dead_letters_total')).toBe(0);
    expectAlive(daemon);
  }, 90_000);

  it('a missing secret: that channel fails at once with a reason naming the variable (no value), the other channel delivers', async ({ expect, onTestFinished }) => {
    const t = new Teardown();
    onTestFinished(() => t.run());
    const world = await startWorld('fsecret');
    t.add(() => world.close());
    const slack = await startHttpRecorder();
    t.add(() => slack.close());
    const slackToken = 'XOXB-slack-token-must-not-leak';
    const signingSecret = 'hmac-signing-secret-must-not-leak';
    await world.write(
      'checkout.yaml',
      registrationYaml('checkout', 'checkout-service', [slackChannel('chat', 'SLACK_URL'), webhookChannel('hook', 'HOOK_URL_UNSET', 'HOOK_SIGNING_SECRET')]),
    );
    // HOOK_URL_UNSET is referenced and not set; the webhook's signing secret is set (and must not leak)
    const daemon = t.daemon(world, { SLACK_URL: `${slack.url}/services/T0/B0/${slackToken}`, HOOK_SIGNING_SECRET: signingSecret });
    const port = await daemon.port();
    await liveRegistration(world, 'checkout');

    const ids = [deploy(world, 'checkout-service', 'Succeeded'), deploy(world, 'checkout-service', 'Failed')];
    const events = ['Succeeded', 'Failed'] as const;
    for (const [i, id] of ids.entries()) {
      const failed = await ledgerEntry(world, deliveryId(id, events[i] as 'Succeeded' | 'Failed', 'checkout', 'hook'), (e) => e.state === 'failed');
      expect(failed.attempts).toBe(1);
      expect(failed.reason).toContain('HOOK_URL_UNSET');
      expect(failed.reason).toMatch(/not set/);
      expect(failed.reason).not.toContain(signingSecret);
      expect(failed.reason).not.toContain(slackToken);
      const sent = await ledgerEntry(world, deliveryId(id, events[i] as 'Succeeded' | 'Failed', 'checkout', 'chat'), (e) => e.state === 'sent');
      expect(sent.attempts).toBe(1);
    }
    await settle();
    expect(slack.requests).toHaveLength(2);
    for (const id of ids) expect(about(slack.requests, id)).toHaveLength(1);

    const samples = await scrape(port);
    expect(valueOf(samples, 'codedeploy_notify_dead_letters_total', { channel_type: 'webhook' })).toBe(2);
    expect(valueOf(samples, 'codedeploy_notify_notifications_total', { channel_type: 'webhook', outcome: 'failed' })).toBe(2);
    expect(valueOf(samples, 'codedeploy_notify_retries_total')).toBe(0);
    expect(valueOf(samples, 'codedeploy_notify_notifications_total', { channel_type: 'slack', outcome: 'sent' })).toBe(2);
    // the failure is logged with the variable's name; no secret value anywhere in logs or metrics
    const failure = await daemon.waitForLog((l) => l.msg === 'notification failed' && l.channel === 'hook');
    expect(String(failure.reason)).toContain('HOOK_URL_UNSET');
    const metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const text of [daemon.stdout(), daemon.stderr(), metricsText]) {
      expect(text).not.toContain(slackToken);
      expect(text).not.toContain(signingSecret);
    }
    expectAlive(daemon);
  }, 60_000);
});
