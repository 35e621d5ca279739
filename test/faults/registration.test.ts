// Fault matrix, a registration file turned invalid mid-run (GitHub issue 7, item 2). The live
// registration must stay (nothing deleted or changed), its notifications must continue, the
// invalid state must show in the logs and in codedeploy_notify_registrations{state="invalid"}, and
// once the file is fixed its change must be applied.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deliveryId } from '../../src/core/events.js';
import { startHttpRecorder } from '../fakes/http-recorder.js';
import { requireBuiltCli } from '../helpers/cli.js';
import { eventually } from '../helpers/daemon.js';
import { about, deploy, expectAlive, ledgerEntry, liveRegistration, registrationYaml, scrape, settle, slackChannel, startWorld, Teardown, valueOf, webhookChannel } from './support.js';

beforeAll(() => requireBuiltCli());

const teardown = new Teardown();
afterEach(() => teardown.run());

const INVALID_MSG = 'registration files are invalid; keeping the last good live state';

describe('a registration file turned invalid mid-run', () => {
  it('keeps the live registration and its notifications, reports it in logs and metrics, applies the fixed file', async () => {
    const world = await startWorld('finvalid');
    teardown.add(() => world.close());
    const slack = await startHttpRecorder();
    teardown.add(() => slack.close());
    const hook = await startHttpRecorder();
    teardown.add(() => hook.close());
    const good = registrationYaml('checkout', 'checkout-service', [slackChannel('chat', 'SLACK_URL')]);
    await world.write('checkout.yaml', good);
    await world.write('billing.yaml', registrationYaml('billing', 'billing-service', [slackChannel('chat', 'SLACK_URL')]));
    const daemon = teardown.daemon(world, { SLACK_URL: `${slack.url}/services/T0/B0/token`, HOOK_URL: `${hook.url}/deploys` });
    const port = await daemon.port();
    const before = await liveRegistration(world, 'checkout');
    await liveRegistration(world, 'billing');
    const first = deploy(world, 'checkout-service', 'Succeeded');
    await eventually(() => about(slack.requests, first).length === 1, 15_000, 'the first deployment notified');
    let samples = await scrape(port);
    expect(valueOf(samples, 'codedeploy_notify_registrations', { state: 'valid' })).toBe(2);
    expect(valueOf(samples, 'codedeploy_notify_registrations', { state: 'invalid' })).toBe(0);

    // an edit that breaks the schema (an unknown event) and also adds a channel: none of it may apply
    const broken = registrationYaml('checkout', 'checkout-service', [slackChannel('chat', 'SLACK_URL'), webhookChannel('hook', 'HOOK_URL')], '[Succeeded, Failed, Exploded]');
    await world.write('checkout.yaml', broken);
    const reported = await daemon.waitForLog((l) => l.msg === INVALID_MSG, 15_000);
    expect(reported.trigger).toBe('watch');
    expect(String(reported.issues)).toContain('checkout.yaml');
    expect(String(reported.issues)).toContain('/spec/events/2');
    await eventually(async () => (await scrape(port).then((s) => valueOf(s, 'codedeploy_notify_registrations', { state: 'invalid' }))) > 0, 10_000, 'the invalid gauge raised');
    samples = await scrape(port);
    expect(valueOf(samples, 'codedeploy_notify_registrations', { state: 'invalid' })).toBe(1);
    expect(valueOf(samples, 'codedeploy_notify_registrations', { state: 'valid' })).toBe(1);
    expect(valueOf(samples, 'codedeploy_notify_reconcile_errors_total', { reason: 'invalid' })).toBeGreaterThanOrEqual(1);

    // notifications for the registration continue while its file is invalid, through a resync (5 s) too
    const during = deploy(world, 'checkout-service', 'Failed');
    await ledgerEntry(world, deliveryId(during, 'Failed', 'checkout', 'chat'), (e) => e.state === 'sent', 15_000);
    await eventually(() => daemon.logs.filter((l) => l.msg === INVALID_MSG && l.trigger === 'resync').length > 0, 15_000, 'a resync with the file still invalid');
    const kept = await liveRegistration(world, 'checkout');
    expect(kept.version).toBe(before.version);
    expect(kept.spec).toEqual(before.spec);
    expect((await liveRegistration(world, 'billing')).version).toBe(1);
    expect(daemon.logs.some((l) => l.msg === 'registration applied' && l.registration === 'checkout' && l.action !== 'create')).toBe(false);
    expect(hook.requests).toHaveLength(0);

    // the fix (with the new channel and the Stopped event) is applied and used
    await world.write('checkout.yaml', registrationYaml('checkout', 'checkout-service', [slackChannel('chat', 'SLACK_URL'), webhookChannel('hook', 'HOOK_URL')], '[Succeeded, Failed, Stopped]'));
    const updated = await liveRegistration(world, 'checkout', (item) => (item.version ?? 0) > (before.version ?? 0), 15_000);
    expect(updated.version).toBe((before.version ?? 0) + 1);
    await daemon.waitForLog((l) => l.msg === 'registration applied' && l.registration === 'checkout' && l.action === 'update', 5_000);
    samples = await scrape(port);
    expect(valueOf(samples, 'codedeploy_notify_registrations', { state: 'invalid' })).toBe(0);
    expect(valueOf(samples, 'codedeploy_notify_registrations', { state: 'valid' })).toBe(2);
    const after = deploy(world, 'checkout-service', 'Stopped');
    await ledgerEntry(world, deliveryId(after, 'Stopped', 'checkout', 'hook'), (e) => e.state === 'sent', 15_000);
    await ledgerEntry(world, deliveryId(after, 'Stopped', 'checkout', 'chat'), (e) => e.state === 'sent', 15_000);

    await settle();
    for (const id of [first, during, after]) expect(about(slack.requests, id)).toHaveLength(1);
    expect(slack.requests).toHaveLength(3);
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]?.headers['x-codedeploy-notify-delivery']).toBe(deliveryId(after, 'Stopped', 'checkout', 'hook'));
    expectAlive(daemon);
  }, 90_000);
});
