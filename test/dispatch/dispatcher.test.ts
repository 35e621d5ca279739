import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Channel, ChannelType, DeliveryResult } from '../../src/channels/channel.js';
import { Dispatcher, type DispatchObserver, type DispatchOutcome } from '../../src/dispatch/dispatcher.js';
import type { Notification } from '../../src/core/events.js';
import { deliveredIds, REGISTRATION, registrationFor, startHarness, type Harness } from './harness.js';
import { makePending, makeRegistration, TestClock } from './fixtures.js';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite.js';

describe('Dispatcher', () => {
  let dynamo: LocalDynamo;
  let h: Harness;
  let clock: TestClock;

  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => dynamo.close());
  beforeEach(async () => {
    clock = new TestClock(Date.now());
    h = await startHarness({ ledgerClock: clock.read });
  });
  afterEach(async () => h.close());

  it('sends every due notification once over its channel and records it', async () => {
    const items = Array.from({ length: 10 }, (_, i) => makePending(`d-${i}`));
    await h.ledger.enqueue(items);
    const seen: DispatchOutcome[] = [];
    const latencies: ChannelType[] = [];
    const dispatcher = h.dispatcher({ observer: { outcome: (e) => seen.push(e.outcome), sendLatency: (e) => latencies.push(e.channelType) } });

    const report = await dispatcher.runOnce();
    expect(report).toEqual({ claimed: 10, sent: 10, retried: 0, failed: 0, deferred: 0, released: 0, duplicates: 0, lost: 0 });
    expect(deliveredIds(h.receiver).sort()).toEqual(items.map((i) => i.deliveryId).sort());
    expect(h.receiver.requests.every((r) => r.path === '/hook')).toBe(true);
    const first = h.receiver.requests[0]!;
    expect(first.headers['x-codedeploy-notify-attempt']).toBe('1');
    expect(first.json<{ registration: { name: string; owner: string } }>().registration).toMatchObject({ name: REGISTRATION, owner: 'team-checkout' });
    for (const entry of await h.entries(items.map((i) => i.deliveryId))) {
      expect(entry).toMatchObject({ state: 'sent', attempts: 1 });
    }
    expect(seen).toEqual(Array(10).fill('sent'));
    expect(latencies).toEqual(Array(10).fill('webhook'));

    expect(await dispatcher.runOnce()).toMatchObject({ claimed: 0 });
    clock.advance(3_600_000);
    expect(await dispatcher.runOnce()).toMatchObject({ claimed: 0 });
    expect(h.receiver.requests).toHaveLength(10);
  });

  it('resolves the registration at send time: removed registration or channel fails with the reason', async () => {
    const gone = makePending('d-1', 'deleted-registration', 'hook');
    const noChannel = makePending('d-2', REGISTRATION, 'renamed-channel');
    const fine = makePending('d-3');
    await h.ledger.enqueue([gone, noChannel, fine]);
    const dead: string[] = [];
    const report = await h.dispatcher({ observer: { deadLetter: (e) => dead.push(e.reason) } }).runOnce();
    expect(report).toMatchObject({ claimed: 3, sent: 1, failed: 2 });
    const [a, b, c] = await h.entries([gone.deliveryId, noChannel.deliveryId, fine.deliveryId]);
    expect(a).toMatchObject({ state: 'failed', attempts: 1 });
    expect(a!.reason).toMatch(/^registration removed: "deleted-registration" is no longer live/);
    expect(b!.reason).toMatch(/^channel removed: registration "checkout-production" no longer has a channel named "renamed-channel"/);
    expect(c!.state).toBe('sent');
    expect(dead.sort()).toEqual([a!.reason, b!.reason].sort());
    expect(h.receiver.requests).toHaveLength(1);
  });

  it('finds a registration created after its list was cached (reload on a miss)', async () => {
    const dispatcher = h.dispatcher();
    await h.ledger.enqueue([makePending('d-1')]);
    await dispatcher.runOnce();
    h.registrations.items.push(makeRegistration('new-registration', [{ name: 'hook', type: 'webhook', url: `${h.receiver.url}/new` }]));
    const later = makePending('d-2', 'new-registration', 'hook');
    await h.ledger.enqueue([later]);
    clock.advance(1_000);
    expect(await dispatcher.runOnce()).toMatchObject({ sent: 1 });
    expect(h.receiver.requests.map((r) => r.path)).toEqual(['/hook', '/new']);
  });

  it('delivers over a channel added after its registration was cached, instead of failing it as removed', async () => {
    const dispatcher = h.dispatcher();
    await h.ledger.enqueue([makePending('d-1')]);
    await dispatcher.runOnce(); // caches the registration, without the channel "added"
    const updated = registrationFor(h.receiver, 2);
    updated.spec.channels.push({ name: 'added', type: 'webhook', url: `${h.receiver.url}/added` });
    h.registrations.items = [updated];
    clock.advance(10); // the poller saw the new channel and enqueued at once: well within the miss refresh
    const added = makePending('d-2', REGISTRATION, 'added');
    await h.ledger.enqueue([added]);
    expect(await dispatcher.runOnce()).toMatchObject({ sent: 1, failed: 0 });
    expect((await h.entries([added.deliveryId]))[0]).toMatchObject({ state: 'sent', attempts: 1 });
    expect(h.receiver.requests.map((r) => r.path)).toEqual(['/hook', '/added']);
  });

  it('uses the channel config as it is now, rebuilding the channel when it changed', async () => {
    let built = 0;
    const dispatcher = h.dispatcher({ channels: (config, name) => (built++, h.channels(config, name)), registrationRefreshMs: 1_000 });
    await h.ledger.enqueue([makePending('d-1'), makePending('d-2')]);
    await dispatcher.runOnce();
    expect(built).toBe(1);
    const changed = registrationFor(h.receiver, 2);
    changed.spec.channels[0] = { name: 'hook', type: 'webhook', url: `${h.receiver.url}/moved` };
    h.registrations.items = [changed];
    clock.advance(1_000);
    await h.ledger.enqueue([makePending('d-3')]);
    await dispatcher.runOnce();
    expect(built).toBe(2);
    expect(h.receiver.requests.map((r) => r.path)).toEqual(['/hook', '/hook', '/moved']);
  });

  it('fails a notification whose channel cannot be built, with the factory message', async () => {
    h.registrations.items = [makeRegistration(REGISTRATION, [{ name: 'hook', type: 'webhook', url: 'ftp://example.com/x' }])];
    await h.ledger.enqueue([makePending('d-1')]);
    expect(await h.dispatcher().runOnce()).toMatchObject({ failed: 1 });
    const [entry] = await h.entries([makePending('d-1').deliveryId]);
    expect(entry!.reason).toMatch(/^invalid channel: channel "hook" \(webhook\): url .* is not an http\(s\) URL/);
  });

  it('gives claims back, not failing them, while the registrations cannot be read', async () => {
    h.registrations.failWith = new Error('ProvisionedThroughputExceededException');
    await h.ledger.enqueue([makePending('d-1')]);
    const dispatcher = h.dispatcher({ unavailableDelayMs: 5_000 });
    expect(await dispatcher.runOnce()).toMatchObject({ claimed: 1, released: 1 });
    const [entry] = await h.entries([makePending('d-1').deliveryId]);
    expect(entry).toMatchObject({ state: 'pending', attempts: 0, dueAt: clock.now + 5_000 });
    h.registrations.failWith = undefined;
    clock.advance(5_000);
    expect(await dispatcher.runOnce()).toMatchObject({ sent: 1 });
  });

  it('times out a channel that never answers, without holding up other channels', async () => {
    const hanging: Channel = { send: () => new Promise<DeliveryResult>(() => undefined) };
    const order: string[] = [];
    const dispatcher = h.dispatcher({
      sendTimeoutMs: 1_000,
      concurrency: 2,
      maxClaimed: 2,
      leaseMs: 5_000,
      channels: (config, name) => (config.name === 'stuck' ? hanging : h.channels(config, name)),
      observer: { outcome: (e) => order.push(e.outcome) },
    });
    h.registrations.items[0]!.spec.channels.push({ name: 'stuck', type: 'webhook', url: `${h.receiver.url}/never` });
    const stuck = makePending('d-1', REGISTRATION, 'stuck');
    const fine = makePending('d-1', REGISTRATION, 'hook');
    await h.ledger.enqueue([stuck, fine]);
    const report = await dispatcher.runOnce();
    expect(report).toMatchObject({ claimed: 2, sent: 1, retried: 1 });
    // the healthy channel was done while the stuck one was still waiting for its timeout
    expect(order).toEqual(['sent', 'retry']);
    const [s, f] = await h.entries([stuck.deliveryId, fine.deliveryId]);
    expect(s).toMatchObject({ state: 'retrying', attempts: 1, lastError: 'no answer within 1000 ms (send timed out)' });
    expect(f).toMatchObject({ state: 'sent' });
  });

  it('treats a channel that throws as a retry, keeping URLs out of the reason', async () => {
    const throwing: Channel = {
      send: async () => {
        throw new Error('socket hang up calling https://hooks.slack.com/services/T0AAAA/B0BBBB/XyZsecretToken123');
      },
    };
    await h.ledger.enqueue([makePending('d-1')]);
    expect(await h.dispatcher({ channels: () => throwing }).runOnce()).toMatchObject({ retried: 1 });
    const [entry] = await h.entries([makePending('d-1').deliveryId]);
    expect(entry).toMatchObject({ state: 'retrying', lastError: 'channel error: socket hang up calling https://hooks.slack.com/…' });
  });

  it('retries with backoff until the policy gives up, then records the last error', async () => {
    h.receiver.setDefault({ status: 502, body: 'bad gateway' });
    await h.ledger.enqueue([makePending('d-1')]);
    const dispatcher = h.dispatcher({ retry: { baseDelayMs: 100, maxDelayMs: 100, minDelayMs: 100, maxAttempts: 3 }, random: () => 0.5 });
    expect(await dispatcher.runOnce()).toMatchObject({ retried: 1 });
    clock.advance(99);
    expect(await dispatcher.runOnce()).toMatchObject({ claimed: 0 });
    clock.advance(1);
    expect(await dispatcher.runOnce()).toMatchObject({ retried: 1 });
    clock.advance(100);
    expect(await dispatcher.runOnce()).toMatchObject({ failed: 1 });
    const [entry] = await h.entries([makePending('d-1').deliveryId]);
    expect(entry).toMatchObject({ state: 'failed', attempts: 3 });
    expect(entry!.reason).toMatch(/^gave up after 3 attempts: webhook \(http:\/\/127\.0\.0\.1:\d+\/…\) answered 502: bad gateway$/);
    expect(h.receiver.requests.map((r) => r.headers['x-codedeploy-notify-attempt'])).toEqual(['1', '2', '3']);
  });

  it('paces Slack messages to one webhook and defers what cannot go soon, without delaying other channels', async () => {
    const slack = ['d-1', 'd-2', 'd-3'].map((id) => makePending(id, REGISTRATION, 'team-slack', 'slack'));
    const hook = makePending('d-9');
    await h.ledger.enqueue([...slack, hook]);
    const dispatcher = h.dispatcher({ maxRateWaitMs: 0 });
    expect(await dispatcher.runOnce()).toMatchObject({ claimed: 4, sent: 2, deferred: 2 });
    expect(h.receiver.requests.map((r) => r.path).sort()).toEqual(['/hook', '/services/T000/B000/slack']);
    const deferred = (await h.entries(slack.map((s) => s.deliveryId))).filter((e) => e.state === 'pending');
    expect(deferred).toHaveLength(2);
    expect(deferred.map((e) => e.attempts)).toEqual([0, 0]);
    expect(deferred.map((e) => e.dueAt! - clock.now).sort()).toEqual([1_000, 2_000]);
    clock.advance(1_000);
    expect(await dispatcher.runOnce()).toMatchObject({ sent: 1, deferred: 0 });
    clock.advance(1_000);
    expect(await dispatcher.runOnce()).toMatchObject({ sent: 1 });
    expect(h.receiver.requests).toHaveLength(4);
  });

  it('gives up on a notification whose senders keep dying before they record anything', async () => {
    const item = makePending('d-1');
    await h.ledger.enqueue([item]);
    for (let i = 0; i < 3; i++) {
      expect(await h.ledger.claimDue({ owner: `dies-${i}`, leaseMs: 10_000, limit: 1 })).toHaveLength(1);
      clock.advance(10_000);
    }
    const dispatcher = h.dispatcher({ retry: { maxAttempts: 3 } });
    expect(await dispatcher.runOnce()).toMatchObject({ claimed: 1, failed: 1 });
    const [entry] = await h.entries([item.deliveryId]);
    expect(entry).toMatchObject({ state: 'failed', attempts: 4 });
    expect(entry!.reason).toBe('gave up after 3 attempts (earlier attempts ended without a result: the sending process stopped or lost its lease)');
    expect(h.receiver.requests).toHaveLength(0);
  });

  it('runs rounds again after a stop', async () => {
    const dispatcher = h.dispatcher();
    await dispatcher.stop({ deadlineMs: 10 });
    await h.ledger.enqueue([makePending('d-1')]);
    expect(await dispatcher.runOnce()).toMatchObject({ sent: 1 });
  });

  it('checks its options and says what to change', () => {
    const base = { ledger: h.ledger, registrations: h.registrations, channels: h.channels };
    expect(() => new Dispatcher({ ...base, leaseMs: 5_000, sendTimeoutMs: 3_000 })).toThrow(
      /dispatcher leaseMs \(5000\) must exceed the longest time a claim can be held \(11000 ms.*raise leaseMs or lower sendTimeoutMs/,
    );
    expect(() => new Dispatcher({ ...base, concurrency: 4, maxClaimed: 2 })).toThrow('dispatcher maxClaimed (2) must be a whole number of at least concurrency (4)');
    expect(() => new Dispatcher({ ...base, retry: { maxAttempts: 0 } })).toThrow('retry policy maxAttempts must be a positive number, got 0');
    expect(() => new Dispatcher({ ...base, rateLimits: { slack: { ratePerSecond: 0, burst: 1 } } })).toThrow(/rate limit for slack/);
    expect(() => new Dispatcher({ ...base, pollIntervalMs: 0 })).toThrow('dispatcher pollIntervalMs must be a positive number of milliseconds, got 0');
    expect(new Dispatcher(base).owner).toMatch(/#\d+#[0-9a-f]{8}$/);
  });

  it('ignores an observer that throws', async () => {
    const observer: DispatchObserver = {
      outcome: () => {
        throw new Error('metrics broke');
      },
    };
    await h.ledger.enqueue([makePending('d-1')]);
    expect(await h.dispatcher({ observer }).runOnce()).toMatchObject({ sent: 1 });
  });

  it('passes the attempt number and the live registration to the channel', async () => {
    const got: Notification[] = [];
    const recording: Channel = {
      send: async (n) => {
        got.push(n);
        return got.length === 1 ? { outcome: 'retry', reason: 'HTTP 500' } : { outcome: 'sent', messageId: 'm-7' };
      },
    };
    h.registrations.items[0]!.metadata = { owner: 'new-owner', labels: { tier: 'critical' } };
    await h.ledger.enqueue([makePending('d-1')]);
    const dispatcher = h.dispatcher({ channels: () => recording, random: () => 0 });
    await dispatcher.runOnce();
    clock.advance(1_000);
    await dispatcher.runOnce();
    expect(got.map((n) => n.attempt)).toEqual([1, 2]);
    expect(got[0]).toMatchObject({ deliveryId: makePending('d-1').deliveryId, channelName: 'hook', test: false, registration: { name: REGISTRATION, owner: 'new-owner', labels: { tier: 'critical' } } });
    const [entry] = await h.entries([makePending('d-1').deliveryId]);
    expect(entry).toMatchObject({ state: 'sent', messageId: 'm-7', attempts: 2, lastError: 'HTTP 500' });
  });
});

