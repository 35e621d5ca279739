// SPEC "Guarantees under faults" for dispatch, against dynalite and a real HTTP receiver with the
// real Slack and webhook channels: racing replicas, a crash between claim and record, 503 until
// recovery, 404 with its reason, 429 with Retry-After, and shutdown releasing in-flight claims.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { DynamoLedger, type NotificationLedger } from '../../src/store/ledger.js';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite.js';
import { makePending, TestClock } from './fixtures.js';
import { deliveredIds, eventually, REGISTRATION, SLACK_ENV, startHarness, type Harness } from './harness.js';

const slackItem = (deploymentId: string) => makePending(deploymentId, REGISTRATION, 'team-slack', 'slack');

describe('dispatch under faults', () => {
  let dynamo: LocalDynamo;
  let h: Harness;
  const running: Dispatcher[] = [];

  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => dynamo.close());
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop({ deadlineMs: 100 })));
    await h.close();
  });

  const daemon = (options: Parameters<Harness['dispatcher']>[0] = {}): Dispatcher => {
    const d = h.dispatcher(options);
    running.push(d);
    d.start();
    return d;
  };
  const state = async (id: string) => (await h.ledger.get(id))?.state;

  describe('two replicas racing over the same queue', () => {
    it('deliver each notification once (one round each, at the same time)', async () => {
      const items = Array.from({ length: 30 }, (_, i) => makePending(`d-${i}`));
      await h.ledger.enqueue(items);
      const a = h.dispatcher({ owner: 'replica-a', concurrency: 2, maxClaimed: 4 });
      const b = h.dispatcher({ owner: 'replica-b', concurrency: 2, maxClaimed: 4 });
      const [ra, rb] = await Promise.all([a.runOnce(), b.runOnce()]);
      expect(ra.sent + rb.sent).toBe(30);
      expect(ra.duplicates + rb.duplicates + ra.lost + rb.lost).toBe(0);
      const ids = deliveredIds(h.receiver);
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
      const owners = new Set((await h.entries(items.map((i) => i.deliveryId))).map((e) => e.state));
      expect(owners).toEqual(new Set(['sent']));
    });

    it('deliver each notification once (two daemons, work arriving while they run)', async () => {
      daemon({ owner: 'replica-a', concurrency: 2, maxClaimed: 3 });
      daemon({ owner: 'replica-b', concurrency: 2, maxClaimed: 3 });
      const items = Array.from({ length: 36 }, (_, i) => makePending(`d-${i}`));
      for (let i = 0; i < items.length; i += 12) {
        // the poller enqueues the same batch twice, as it may after a crash; the ledger keeps one
        await h.ledger.enqueue(items.slice(i, i + 12));
        await h.ledger.enqueue(items.slice(i, i + 12));
        for (const d of running) d.nudge();
      }
      await eventually(
        async () => {
          const queue = await h.ledger.queueStats();
          return queue.due + queue.scheduled === 0 && running.every((d) => d.inFlight === 0);
        },
        20_000,
        'an empty queue',
      );
      // a few more polls of both daemons must not send anything again
      await new Promise((r) => setTimeout(r, 300));
      const ids = deliveredIds(h.receiver);
      expect(ids).toHaveLength(36);
      expect(new Set(ids)).toEqual(new Set(items.map((i) => i.deliveryId)));
      const owners = new Set((await h.entries(items.map((i) => i.deliveryId))).map((e) => e.state));
      expect(owners).toEqual(new Set(['sent']));
    });
  });

  describe('a crash between claim and record', () => {
    it('redelivers exactly once after the lease expires (ledger clock)', async () => {
      const clock = new TestClock(Date.now());
      const ledger = new DynamoLedger({ doc: h.clients.doc, table: h.table, clock: clock.read });
      const item = makePending('d-1');
      await ledger.enqueue([item]);

      // the replica that dies: claims, sends, and never records anything
      const [claim] = await ledger.claimDue({ owner: 'dying-replica', leaseMs: 10_000, limit: 1 });
      const registration = h.registrations.items[0]!;
      const channel = h.channels(registration.spec.channels[0]!, REGISTRATION);
      const first = await channel.send(
        { deliveryId: item.deliveryId, event: item.event, registration: item.registration, channelName: 'hook', attempt: claim!.entry.attempts, test: false },
        new AbortController().signal,
      );
      expect(first.outcome).toBe('sent');

      const survivor = h.dispatcher({ owner: 'survivor', leaseMs: 10_000, ledger, clock: clock.read });
      expect(await survivor.runOnce()).toMatchObject({ claimed: 0 });
      clock.advance(9_999);
      expect(await survivor.runOnce()).toMatchObject({ claimed: 0 });
      clock.advance(1);
      expect(await survivor.runOnce()).toMatchObject({ claimed: 1, sent: 1 });
      clock.advance(24 * 3_600_000);
      expect(await survivor.runOnce()).toMatchObject({ claimed: 0 });

      expect(deliveredIds(h.receiver)).toEqual([item.deliveryId, item.deliveryId]);
      expect(h.receiver.requests.map((r) => r.headers['x-codedeploy-notify-attempt'])).toEqual(['1', '2']);
      expect(await ledger.get(item.deliveryId)).toMatchObject({ state: 'sent', attempts: 2 });
    });

    it('redelivers exactly once when a running dispatcher dies right after its send (real time)', async () => {
      const item = makePending('d-1');
      await h.ledger.enqueue([item]);
      // A dispatcher whose process freezes for good after the send: no write reaches the ledger again.
      const frozen = new Promise<never>(() => undefined);
      const dying: NotificationLedger = {
        enqueue: (items) => h.ledger.enqueue(items),
        claimDue: (options) => h.ledger.claimDue(options),
        recordSent: () => frozen,
        recordRetry: () => frozen,
        recordFailed: () => frozen,
        release: () => frozen,
      };
      const claimedAt = Date.now();
      const dead = h.dispatcher({ owner: 'dying', ledger: dying, leaseMs: 1_000, sendTimeoutMs: 300, maxRateWaitMs: 0, concurrency: 1, maxClaimed: 1 });
      void dead.runOnce();
      await h.receiver.waitForRequests(1);

      const survivor = daemon({ owner: 'survivor' });
      await eventually(async () => (await state(item.deliveryId)) === 'sent', 10_000, 'the redelivery');
      const secondAt = Date.now();
      expect(secondAt - claimedAt).toBeGreaterThanOrEqual(1_000);
      await new Promise((r) => setTimeout(r, 300));
      expect(deliveredIds(h.receiver)).toEqual([item.deliveryId, item.deliveryId]);
      const entry = await h.ledger.get(item.deliveryId);
      expect(entry).toMatchObject({ state: 'sent', attempts: 2 });
      expect(entry?.leaseOwner).toBeUndefined();
      expect(survivor.inFlight).toBe(0);
    });
  });

  /** The harness ledger as one replica sees it: every call fails while `isDown()`. */
  const outageView = (isDown: () => boolean): NotificationLedger => {
    const unavailable = async (): Promise<never> => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:8000');
    };
    return {
      enqueue: (items) => (isDown() ? unavailable() : h.ledger.enqueue(items)),
      claimDue: (options) => (isDown() ? unavailable() : h.ledger.claimDue(options)),
      recordSent: (claim, result) => (isDown() ? unavailable() : h.ledger.recordSent(claim, result)),
      recordRetry: (claim, retry) => (isDown() ? unavailable() : h.ledger.recordRetry(claim, retry)),
      recordFailed: (claim, failure) => (isDown() ? unavailable() : h.ledger.recordFailed(claim, failure)),
      release: (claim, options) => (isDown() ? unavailable() : h.ledger.release(claim, options)),
    };
  };

  it('records a send made while the store is down once it is back, and never sends it again, even past its lease', async () => {
    const item = makePending('d-1');
    await h.ledger.enqueue([item]);
    // the store goes down as the receiver gets the send, and comes back after the 1 s lease ran out
    let down = false;
    h.receiver.respondWith(() => {
      down = true;
      setTimeout(() => (down = false), 2_500);
      return { status: 200, body: 'ok' };
    });
    daemon({ ledger: outageView(() => down), leaseMs: 1_000, sendTimeoutMs: 300, maxRateWaitMs: 0, concurrency: 1, maxClaimed: 1, pollIntervalMs: 100 });
    await h.receiver.waitForRequests(1);
    await eventually(async () => !down && (await state(item.deliveryId)) === 'sent', 10_000, 'the send recorded after the outage');
    await new Promise((r) => setTimeout(r, 1_500)); // several claim rounds past the lease
    expect(deliveredIds(h.receiver)).toEqual([item.deliveryId]);
    expect(await h.ledger.get(item.deliveryId)).toMatchObject({ state: 'sent', attempts: 1 });
  });

  it('a second replica that saw the outage leaves an expired claim to its holder until the holder records the send', async () => {
    const item = makePending('d-1');
    await h.ledger.enqueue([item]);
    // Replica A sends; the store goes down for both replicas as the receiver gets it, past A's 1 s
    // lease. B reaches the store again 2.5 s later, A only 5 s later (its record retries are due
    // then): B must not take the expired claim over meanwhile and send a second time.
    let downSince: number | undefined;
    const downFor = (ms: number) => () => downSince !== undefined && Date.now() - downSince < ms;
    h.receiver.respondWith(() => {
      downSince ??= Date.now();
      return { status: 200, body: 'ok' };
    });
    const options = { leaseMs: 1_000, sendTimeoutMs: 300, maxRateWaitMs: 0, concurrency: 1, maxClaimed: 1, pollIntervalMs: 100 };
    daemon({ ...options, owner: 'replica-a', ledger: outageView(downFor(5_000)) });
    await h.receiver.waitForRequests(1);
    // B's claim rounds back off to 3.2 s apart during the outage; A retries its record every 2 s
    daemon({ ...options, owner: 'replica-b', ledger: outageView(downFor(2_500)), recoveryGraceMs: 8_000 });
    await eventually(async () => (await state(item.deliveryId)) === 'sent', 15_000, 'the send recorded by replica A');
    await new Promise((r) => setTimeout(r, 1_500)); // claim rounds of both replicas after the record
    expect(deliveredIds(h.receiver)).toEqual([item.deliveryId]);
    expect(await h.ledger.get(item.deliveryId)).toMatchObject({ state: 'sent', attempts: 1 });
  });

  it('takes over an expired claim after the grace period when its holder never comes back', async () => {
    const item = makePending('d-1');
    await h.ledger.enqueue([item]);
    // a replica claimed it and died; the store was down for B meanwhile
    expect(await h.ledger.claimDue({ owner: 'dead-replica', leaseMs: 200, limit: 1 })).toHaveLength(1);
    const startedAt = Date.now();
    const down = () => Date.now() - startedAt < 500;
    const b = daemon({ leaseMs: 1_000, sendTimeoutMs: 300, maxRateWaitMs: 0, concurrency: 1, maxClaimed: 1, pollIntervalMs: 100, owner: 'replica-b', ledger: outageView(down), recoveryGraceMs: 1_500 });
    await eventually(async () => (await state(item.deliveryId)) === 'sent', 10_000, 'the claim taken over and sent');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(500 + 1_500);
    expect(deliveredIds(h.receiver)).toEqual([item.deliveryId]);
    expect(b.running).toBe(true);
  });

  it('keeps retrying a channel that answers 503 and delivers after it recovers, without holding up others', async () => {
    const recoverAt = Date.now() + 1_500;
    const retries: number[] = [];
    h.receiver.setDefault((request) =>
      request.path.endsWith('/slack') && Date.now() < recoverAt ? { status: 503, body: 'service unavailable' } : { status: 200, body: 'ok' },
    );
    const slack = slackItem('d-1');
    const hook = makePending('d-2');
    await h.ledger.enqueue([slack, hook]);
    daemon({ observer: { retry: (e) => retries.push(e.attempt) } });
    await eventually(async () => (await state(slack.deliveryId)) === 'sent', 15_000, 'delivery after recovery');

    const paths = h.receiver.requests.map((r) => r.path);
    const slackCalls = paths.filter((p) => p.endsWith('/slack')).length;
    expect(slackCalls).toBeGreaterThanOrEqual(3);
    // the webhook of the other deployment went out at once, before Slack recovered
    expect(paths.indexOf('/hook')).toBeLessThan(paths.lastIndexOf('/services/T000/B000/slack'));
    expect(await state(hook.deliveryId)).toBe('sent');
    const entry = await h.ledger.get(slack.deliveryId);
    expect(entry).toMatchObject({ state: 'sent', attempts: slackCalls });
    expect(entry!.lastError).toMatch(/^Slack \(http:\/\/127\.0\.0\.1:\d+\/…\) answered 503: service unavailable$/);
    expect(retries).toEqual(Array.from({ length: slackCalls - 1 }, (_, i) => i + 1));
  });

  it('fails a 404 channel_not_found at once, with the reason and how to fix it', async () => {
    h.receiver.setDefault({ status: 404, body: 'channel_not_found' });
    const item = slackItem('d-1');
    await h.ledger.enqueue([item]);
    const dead: string[] = [];
    const dispatcher = h.dispatcher({ observer: { deadLetter: (e) => dead.push(e.deliveryId) } });
    expect(await dispatcher.runOnce()).toMatchObject({ claimed: 1, failed: 1, retried: 0 });
    const entry = await h.ledger.get(item.deliveryId);
    expect(entry).toMatchObject({ state: 'failed', attempts: 1 });
    expect(entry!.reason).toMatch(/answered 404: channel_not_found/);
    expect(entry!.reason).toContain(`create a new incoming webhook and put its URL in ${SLACK_ENV}`);
    expect(entry!.reason).not.toContain('/services/T000');
    expect(dead).toEqual([item.deliveryId]);
    expect(await dispatcher.runOnce()).toMatchObject({ claimed: 0 });
    expect(h.receiver.requests).toHaveLength(1);
  });

  it('waits about 2 s after a 429 with Retry-After: 2, for that webhook only', async () => {
    const times: { path: string; at: number; status: number }[] = [];
    let answered429 = false;
    h.receiver.setDefault((request) => {
      const status = request.path.endsWith('/slack') && !answered429 ? 429 : 200;
      if (status === 429) answered429 = true;
      times.push({ path: request.path, at: Date.now(), status });
      return status === 429 ? { status, headers: { 'retry-after': '2' }, body: 'rate_limited' } : { status, body: 'ok' };
    });
    const first = slackItem('d-1');
    const second = slackItem('d-2');
    const other = makePending('d-3');
    await h.ledger.enqueue([first]);
    const delays: number[] = [];
    daemon({ random: () => 0, observer: { retry: (e) => delays.push(e.delayMs) } });
    await eventually(() => answered429, 5_000, 'the 429');
    await h.ledger.enqueue([second, other]);
    await eventually(async () => (await state(first.deliveryId)) === 'sent' && (await state(second.deliveryId)) === 'sent', 10_000, 'both Slack messages');

    expect(delays).toEqual([2_000]);
    const limited = times.find((t) => t.status === 429)!;
    const slackAfter = times.filter((t) => t.path.endsWith('/slack') && t.status === 200);
    expect(slackAfter).toHaveLength(2);
    for (const t of slackAfter) {
      // never before the 2 s the provider asked for; "about" 2 s: well within a few polls
      expect(t.at - limited.at).toBeGreaterThanOrEqual(2_000);
      expect(t.at - limited.at).toBeLessThan(6_000);
    }
    // Slack's pacing (1/s per webhook) spaces the two
    expect(Math.abs(slackAfter[1]!.at - slackAfter[0]!.at)).toBeGreaterThanOrEqual(900);
    // the webhook was not paused with Slack
    const hook = times.find((t) => t.path === '/hook')!;
    expect(hook.at - limited.at).toBeLessThan(2_000);
    expect(await h.ledger.get(first.deliveryId)).toMatchObject({ attempts: 2, lastError: expect.stringMatching(/answered 429: rate_limited/) });
  });

  describe('stop', () => {
    it('lets a send in flight finish before the deadline', async () => {
      h.receiver.setDefault({ status: 200, body: 'ok', delayMs: 300 });
      const item = makePending('d-1');
      await h.ledger.enqueue([item]);
      const d = daemon();
      await h.receiver.waitForRequests(1);
      expect(await d.stop({ deadlineMs: 5_000 })).toEqual({ inFlight: 1, aborted: 0 });
      expect(d.running).toBe(false);
      expect(await h.ledger.get(item.deliveryId)).toMatchObject({ state: 'sent', attempts: 1 });
    });

    it('aborts sends still in flight at the deadline and releases every claim for the next replica', async () => {
      h.receiver.setDefault({ status: 200, body: 'ok', delayMs: 4_000 });
      const items = [makePending('d-1'), makePending('d-2')];
      await h.ledger.enqueue(items);
      const d = daemon({ owner: 'stopping', concurrency: 1, maxClaimed: 2, sendTimeoutMs: 8_000, leaseMs: 30_000 });
      await h.receiver.waitForRequests(1);
      await eventually(() => d.inFlight === 2, 5_000, 'both claims');
      const started = Date.now();
      expect(await d.stop({ deadlineMs: 200 })).toEqual({ inFlight: 2, aborted: 1 });
      expect(Date.now() - started).toBeLessThan(3_000);
      for (const entry of await h.entries(items.map((i) => i.deliveryId))) {
        expect(entry).toMatchObject({ state: 'pending', attempts: 0 });
        expect(entry.leaseToken).toBeUndefined();
        expect(entry.dueAt).toBeLessThanOrEqual(Date.now());
      }
      // another replica takes them at once, well before the 30 s lease would have expired
      h.receiver.setDefault({ status: 200, body: 'ok' });
      expect(await h.dispatcher({ owner: 'next' }).runOnce()).toMatchObject({ claimed: 2, sent: 2 });
    });

    it('keeps the loop alive through store errors and stops cleanly; can start again', async () => {
      const lines: string[] = [];
      const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
      const broken = new DynamoLedger({ doc: h.clients.doc, table: 'no-such-ledger-table' });
      const d = h.dispatcher({ ledger: broken, logger, pollIntervalMs: 10 });
      d.start();
      await eventually(() => lines.length >= 2, 5_000, 'two warnings');
      expect(await d.stop({ deadlineMs: 100 })).toEqual({ inFlight: 0, aborted: 0 });
      const warning = JSON.parse(lines[0]!) as { msg: string; err: string };
      expect(warning.msg).toBe('dispatcher could not claim notifications');
      expect(warning.err).toMatch(/could not read the queue of ledger table no-such-ledger-table/);

      const item = makePending('d-1');
      await h.ledger.enqueue([item]);
      const again = h.dispatcher();
      again.start();
      await again.stop({ deadlineMs: 100 });
      again.start();
      running.push(again);
      await eventually(async () => (await state(item.deliveryId)) === 'sent', 5_000, 'delivery after restart');
    });
  });
});
