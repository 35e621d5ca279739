import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import type { EventType } from '../../src/core/events.js';
import { DynamoPollStateStore, type PollStateStore } from '../../src/store/poll-state.js';
import type { PendingNotification } from '../../src/store/ports.js';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite.js';
import { startFakeSts, type FakeSts } from '../fakes/sts.js';
import { liveRegistration } from './fixtures.js';
import { initialRegistrations, STEPS } from './scenario.js';
import { HOUR, MINUTE, runScenario, SECOND, startWorld, T0, type World } from './world.js';

let dynamo: LocalDynamo;
let sts: FakeSts;
let stsNow = T0;
beforeAll(async () => {
  dynamo = await startDynalite();
  sts = await startFakeSts({ clock: () => stsNow });
  process.env.AWS_ENDPOINT_URL_STS = sts.url;
});
afterAll(async () => {
  await sts.close();
  await dynamo.close();
  delete process.env.AWS_ENDPOINT_URL_STS;
  delete process.env.AWS_ENDPOINT_URL_CODEDEPLOY;
});

/** A PollStateStore that delegates to `inner` except where overridden. */
function wrapState(inner: PollStateStore, overrides: Partial<PollStateStore>): PollStateStore {
  return {
    getCursor: (s) => inner.getCursor(s),
    listCursors: () => inner.listCursors(),
    listInFlight: (s) => inner.listInFlight(s),
    listFinished: (s, since) => inner.listFinished(s, since),
    saveDeployments: (s, c) => inner.saveDeployments(s, c),
    recordPoll: (i, r) => inner.recordPoll(i, r),
    getWatched: (s) => inner.getWatched(s),
    setWatched: (s, k) => inner.setWatched(s, k),
    ...overrides,
  };
}

/** key → occurredAt, for every event type whose time comes from CodeDeploy (Ready's is the observation time). */
function times(items: readonly PendingNotification[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of items) if (n.event.type !== 'Ready') out[`${n.event.deploymentId}:${n.event.type}`] = n.event.occurredAt;
  return out;
}

describe('poller under faults', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it.each(['account', 'application'] as const)('converges to the same events with 30 percent of CodeDeploy calls throttled (%s)', async (strategy) => {
    const clean = await runScenario(initialRegistrations, STEPS, { strategy, state: 'memory' });
    const throttled = await runScenario(initialRegistrations, STEPS, { strategy, throttleRate: 0.3, seed: 42, pollsPerStep: 6, settlePolls: 30 });
    expect(throttled.reports.some((r) => !r.ok)).toBe(true);
    expect(throttled.reports.filter((r) => !r.ok).every((r) => /ThrottlingException/.test(r.scopes[0]?.error ?? ''))).toBe(true);
    expect(throttled.sink.keys()).toEqual(clean.sink.keys());
    expect(times(throttled.sink.all())).toEqual(times(clean.sink.all()));
    // Failed polls kept what they had done: nothing was enqueued twice.
    expect(throttled.sink.all()).toHaveLength(throttled.sink.byId.size);
  });

  it('lets the SDK retry a throttled call inside one poll', async () => {
    world = await startWorld();
    const poller = world.poller({ maxAttempts: 2 });
    const registrations = [liveRegistration('shop-all', { application: 'shop' })];
    world.model.createDeployment({ deploymentId: 'd-1', application: 'shop', group: 'prod', status: 'InProgress' });
    world.server.scriptErrors({ operation: 'BatchGetDeployments', type: 'ThrottlingException', message: 'Rate exceeded' });
    const report = await poller.pollOnce(registrations);
    expect(report.ok).toBe(true);
    expect(world.server.counts().BatchGetDeployments).toBe(2);
    expect(world.sink.keys()).toEqual(['d-1:Started:shop-all/hook']);
  });

  it('survives a burst of 5xx: the poll fails, the cursor stays, the next poll delivers', async () => {
    world = await startWorld();
    const poller = world.poller();
    const registrations = [liveRegistration('shop-all', { application: 'shop' })];
    expect((await poller.pollOnce(registrations)).ok).toBe(true);
    const cursor = (await world.state.getCursor('us-east-1|default'))?.cursor;
    world.model.createDeployment({ deploymentId: 'd-1', application: 'shop', group: 'prod', status: 'Succeeded' });
    world.server.burst(1);
    world.clock.advance(5 * SECOND);
    const failed = await poller.pollOnce(registrations);
    expect(failed.ok).toBe(false);
    expect(failed.scopes[0]?.error).toMatch(/ServiceUnavailable/);
    expect(await world.state.getCursor('us-east-1|default')).toMatchObject({ cursor, consecutiveFailures: 1, lastError: expect.stringMatching(/ServiceUnavailable/) });
    world.clock.advance(5 * SECOND);
    expect((await poller.pollOnce(registrations)).ok).toBe(true);
    expect(world.sink.keys()).toEqual(['d-1:Started:shop-all/hook', 'd-1:Succeeded:shop-all/hook']);
    expect(await world.state.getCursor('us-east-1|default')).toMatchObject({ cursor: new Date(world.clock.now()).toISOString(), consecutiveFailures: 0 });
  });

  it('restarts from the cursor after hours of downtime: nothing missed, nothing repeated', async () => {
    world = await startWorld();
    const registrations = [liveRegistration('shop-all', { application: 'shop' }, { createdAt: T0 - HOUR })];
    const first = world.poller();
    world.model.createDeployment({ deploymentId: 'd-a', application: 'shop', group: 'prod', status: 'InProgress' });
    world.clock.advance(5 * SECOND);
    await first.pollOnce(registrations);
    world.model.createDeployment({ deploymentId: 'd-b', application: 'shop', group: 'prod', status: 'InProgress' });
    world.clock.advance(5 * SECOND);
    await first.pollOnce(registrations);
    first.close();

    // Three hours down; meanwhile d-a ends, d-c runs start to finish, d-d starts.
    world.clock.advance(HOUR);
    world.model.setStatus('d-a', 'Succeeded');
    world.clock.advance(30 * MINUTE);
    world.model.createDeployment({ deploymentId: 'd-c', application: 'shop', group: 'prod', status: 'InProgress' });
    world.clock.advance(10 * MINUTE);
    world.model.setStatus('d-c', 'Failed');
    world.clock.advance(20 * MINUTE);
    world.model.createDeployment({ deploymentId: 'd-d', application: 'shop', group: 'prod', status: 'InProgress' });
    world.clock.advance(HOUR);

    // A new process: new poller, new store object on the same table.
    const dyn = world.dynamo as NonNullable<World['dynamo']>;
    const state = new DynamoPollStateStore({ doc: dyn.clients.doc, table: dyn.table, clock: world.clock.now });
    const second = world.poller({ state });
    const resumed = await second.pollOnce(registrations);
    expect(resumed.scopes[0]).toMatchObject({ ok: true, first: false, clamped: false });
    world.clock.advance(5 * SECOND);
    expect((await second.pollOnce(registrations)).notifications).toBe(0);
    world.model.setStatus('d-b', 'Stopped');
    world.model.setStatus('d-d', 'Succeeded');
    world.clock.advance(5 * SECOND);
    await second.pollOnce(registrations);

    expect(world.sink.keys()).toEqual([
      'd-a:Started:shop-all/hook', 'd-a:Succeeded:shop-all/hook',
      'd-b:Started:shop-all/hook', 'd-b:Stopped:shop-all/hook',
      'd-c:Failed:shop-all/hook', 'd-c:Started:shop-all/hook',
      'd-d:Started:shop-all/hook', 'd-d:Succeeded:shop-all/hook',
    ]);
    expect(world.sink.all()).toHaveLength(world.sink.byId.size);
  });

  it('keeps re-reading a listed deployment that BatchGetDeployments does not return yet, past the overlap', async () => {
    world = await startWorld();
    const registrations = [liveRegistration('shop-all', { application: 'shop' }, { createdAt: T0 - HOUR })];
    const poller = world.poller({ overlapMs: 5 * MINUTE });
    await poller.pollOnce(registrations);
    world.model.createDeployment({ deploymentId: 'd-slow', application: 'shop', group: 'prod', status: 'InProgress', readDelayMs: 12 * MINUTE });
    for (let i = 0; i < 15; i += 1) {
      world.clock.advance(MINUTE);
      const report = await poller.pollOnce(registrations);
      expect(report.ok).toBe(true);
      if (i === 0) expect(report.scopes[0]).toMatchObject({ new: 1, fetched: 1, notifications: 0 });
      if (i > 0 && i < 11) expect(report.scopes[0]).toMatchObject({ new: 0, inFlight: 1, notifications: 0 });
    }
    expect(world.sink.keys()).toEqual(['d-slow:Started:shop-all/hook']);
    expect((await world.state.listInFlight('us-east-1|default')).map((d) => [d.deploymentId, d.application])).toEqual([['d-slow', 'shop']]);
  });

  it('times out a CodeDeploy call that hangs, and recovers on the next poll', async () => {
    world = await startWorld();
    const poller = world.poller({ requestTimeoutMs: 100 });
    const registrations = [liveRegistration('shop-all', { application: 'shop' })];
    world.model.createDeployment({ deploymentId: 'd-1', application: 'shop', group: 'prod', status: 'InProgress' });
    world.server.faults.latencyMs = 1_000;
    const slow = await poller.pollOnce(registrations);
    expect(slow.ok).toBe(false);
    expect(slow.scopes[0]?.error).toMatch(/timeout|timed out/i);
    world.server.faults.latencyMs = 0;
    world.clock.advance(5 * SECOND);
    expect((await poller.pollOnce(registrations)).ok).toBe(true);
    expect(world.sink.keys()).toEqual(['d-1:Started:shop-all/hook']);
  });

  it('when enqueue fails nothing advances, and the next poll delivers', async () => {
    world = await startWorld();
    const poller = world.poller();
    const registrations = [liveRegistration('shop-all', { application: 'shop' })];
    world.model.createDeployment({ deploymentId: 'd-1', application: 'shop', group: 'prod', status: 'InProgress' });
    world.sink.failNext = 1;
    const failed = await poller.pollOnce(registrations);
    expect(failed.scopes[0]).toMatchObject({ ok: false, error: expect.stringContaining('ledger unavailable') });
    expect((await world.state.getCursor('us-east-1|default'))?.cursor).toBeUndefined();
    expect(await world.state.listInFlight('us-east-1|default')).toEqual([]);
    world.clock.advance(5 * SECOND);
    expect((await poller.pollOnce(registrations)).ok).toBe(true);
    expect(world.sink.keys()).toEqual(['d-1:Started:shop-all/hook']);
    expect((await world.state.listInFlight('us-east-1|default')).map((d) => [d.deploymentId, d.emitted])).toEqual([['d-1', ['Started']]]);
  });

  it('a crash between enqueue and saving state repeats only the same delivery ids', async () => {
    world = await startWorld();
    let failSaves = 1;
    const inner = world.state;
    const state = wrapState(inner, {
      saveDeployments: async (scope, changes) => {
        if (failSaves > 0) {
          failSaves -= 1;
          throw new StoreError('injected: process died before saving');
        }
        return inner.saveDeployments(scope, changes);
      },
    });
    const poller = world.poller({ state });
    const registrations = [liveRegistration('shop-all', { application: 'shop' })];
    world.model.createDeployment({ deploymentId: 'd-1', application: 'shop', group: 'prod', status: 'Succeeded' });
    expect((await poller.pollOnce(registrations)).ok).toBe(false);
    world.clock.advance(5 * SECOND);
    expect((await poller.pollOnce(registrations)).ok).toBe(true);
    world.clock.advance(5 * SECOND);
    expect((await poller.pollOnce(registrations)).notifications).toBe(0);
    const [firstBatch, secondBatch, ...rest] = world.sink.batches;
    expect(rest).toEqual([]);
    expect(secondBatch?.map((n) => n.deliveryId)).toEqual(firstBatch?.map((n) => n.deliveryId));
    expect(world.sink.keys()).toEqual(['d-1:Started:shop-all/hook', 'd-1:Succeeded:shop-all/hook']);
  });

  it('clamps to --max-lookback after longer downtime and warns, but still follows tracked deployments', async () => {
    world = await startWorld();
    const registrations = [liveRegistration('shop-all', { application: 'shop' }, { createdAt: T0 - HOUR })];
    const poller = world.poller({ maxLookbackMs: 24 * HOUR });
    world.model.createDeployment({ deploymentId: 'd-tracked', application: 'shop', group: 'prod', status: 'InProgress' });
    world.clock.advance(5 * SECOND);
    await poller.pollOnce(registrations);

    world.clock.advance(2 * HOUR);
    world.model.createDeployment({ deploymentId: 'd-lost', application: 'shop', group: 'prod', status: 'InProgress' });
    world.clock.advance(HOUR);
    world.model.setStatus('d-lost', 'Succeeded');
    world.clock.advance(17 * HOUR);
    world.model.createDeployment({ deploymentId: 'd-recent', application: 'shop', group: 'prod', status: 'InProgress' });
    world.clock.advance(HOUR);
    world.model.setStatus('d-recent', 'Succeeded');
    world.clock.advance(8 * HOUR);
    world.model.setStatus('d-tracked', 'Succeeded');
    world.clock.advance(MINUTE);

    const report = await poller.pollOnce(registrations);
    expect(report.scopes[0]).toMatchObject({ ok: true, clamped: true });
    const warning = world.logs.find((l) => l.level === 40 && /max-lookback/.test(l.msg));
    expect(warning).toMatchObject({ scope: 'us-east-1|default', maxLookbackMs: 24 * HOUR });
    expect(Number(warning?.lagMs)).toBeGreaterThan(24 * HOUR);
    expect(world.sink.keys()).toEqual([
      'd-recent:Started:shop-all/hook', 'd-recent:Succeeded:shop-all/hook',
      'd-tracked:Started:shop-all/hook', 'd-tracked:Succeeded:shop-all/hook',
    ]);
    world.clock.advance(5 * SECOND);
    expect((await poller.pollOnce(registrations)).scopes[0]?.clamped).toBe(false);
  });

  it('one failing scope does not stop the others', async () => {
    world = await startWorld();
    stsNow = world.clock.now();
    const denied = 'arn:aws:iam::210000000001:role/denied';
    const forbidden = 'arn:aws:iam::210000000002:role/no-codedeploy';
    sts.denied.add(denied);
    const callsBefore = sts.calls.length;
    const registrations = [
      liveRegistration('home', { application: 'shop' }),
      liveRegistration('sts-denied', { application: 'shop', roleArn: denied }),
      liveRegistration('cd-denied', { application: 'shop', roleArn: forbidden }),
    ];
    const poller = world.poller();
    const issued = `ASIAFAKE${String(sts.calls.filter((c) => c.issued).length + 1).padStart(4, '0')}`;
    world.server.faults.deniedAccessKeys.add(issued);
    world.model.createDeployment({ deploymentId: 'd-1', application: 'shop', group: 'prod', status: 'InProgress' });
    const report = await poller.pollOnce(registrations);
    const byScope = Object.fromEntries(report.scopes.map((s) => [s.scope, s]));
    expect(byScope['us-east-1|default']).toMatchObject({ ok: true, events: [{ deploymentId: 'd-1', type: 'Started' }] });
    expect(byScope[`us-east-1|${denied}`]).toMatchObject({ ok: false, error: expect.stringContaining(`could not assume role ${denied}`), accountId: '210000000001' });
    expect(byScope[`us-east-1|${forbidden}`]).toMatchObject({ ok: false, error: expect.stringContaining('AccessDeniedException') });
    expect(sts.calls.slice(callsBefore).map((c) => c.roleArn).sort()).toEqual([denied, forbidden].sort());
    expect(world.sink.keys()).toEqual(['d-1:Started:home/hook']);
    const cursors = await world.state.listCursors();
    expect(cursors.map((c) => [c.scope, c.consecutiveFailures, Boolean(c.cursor)])).toEqual([
      [`us-east-1|${denied}`, 1, false],
      [`us-east-1|${forbidden}`, 1, false],
      ['us-east-1|default', 0, true],
    ]);
  });

  it('reads another account with assumed-role credentials and refreshes them before they expire', async () => {
    world = await startWorld();
    stsNow = world.clock.now();
    const role = 'arn:aws:iam::345678901234:role/deploy-reader';
    const registrations = [liveRegistration('remote', { application: 'shop', roleArn: role, region: 'eu-central-1' })];
    const poller = world.poller();
    const callsBefore = sts.calls.length;
    world.model.createDeployment({ deploymentId: 'd-1', application: 'shop', group: 'prod', status: 'InProgress' });
    await poller.pollOnce(registrations);
    const firstKey = sts.calls.at(-1)?.issued as string;
    expect(Object.keys(world.server.accessKeys())).toEqual([firstKey]);
    expect(world.sink.all()[0]?.event).toMatchObject({ accountId: '345678901234', region: 'eu-central-1', consoleUrl: expect.stringContaining('eu-central-1.console.aws.amazon.com') });

    world.clock.advance(50 * MINUTE);
    stsNow = world.clock.now();
    await poller.pollOnce(registrations);
    expect(sts.calls.length - callsBefore).toBe(1);
    expect(Object.keys(world.server.accessKeys())).toEqual([firstKey]);

    // 56 minutes in, 4 minutes of validity left: refreshed before expiry.
    world.clock.advance(6 * MINUTE);
    stsNow = world.clock.now();
    world.server.resetCounts();
    await poller.pollOnce(registrations);
    expect(sts.calls.length - callsBefore).toBe(2);
    const secondKey = sts.calls.at(-1)?.issued as string;
    expect(secondKey).not.toBe(firstKey);
    expect(Object.keys(world.server.accessKeys())).toEqual([secondKey]);
  });

  it('tells the observer about calls, events and cycles', async () => {
    world = await startWorld();
    const calls: string[] = [];
    const events: EventType[] = [];
    const cycles: Array<{ scope: string; ok: boolean }> = [];
    const poller = world.poller({
      observer: {
        onCall: (operation, region, ok) => calls.push(`${operation}@${region}:${ok}`),
        onEvent: (type) => events.push(type),
        onCycle: (cycle) => cycles.push({ scope: cycle.scope, ok: cycle.ok }),
      },
    });
    world.model.createDeployment({ deploymentId: 'd-1', application: 'shop', group: 'prod', status: 'Succeeded' });
    world.server.scriptErrors({ operation: 'ListDeployments', type: 'AccessDeniedException' });
    const registrations = [liveRegistration('shop-all', { application: 'shop' })];
    await poller.pollOnce(registrations);
    world.clock.advance(5 * SECOND);
    await poller.pollOnce(registrations);
    expect(calls).toEqual(['ListDeployments@us-east-1:false', 'ListDeployments@us-east-1:true', 'BatchGetDeployments@us-east-1:true']);
    expect(events).toEqual(['Started', 'Succeeded']);
    expect(cycles).toEqual([{ scope: 'us-east-1|default', ok: false }, { scope: 'us-east-1|default', ok: true }]);

    // A hook that throws never breaks a poll.
    const boom = () => {
      throw new Error('metrics exploded');
    };
    const sturdy = world.poller({ observer: { onCall: boom, onEvent: boom, onCycle: boom } });
    world.model.createDeployment({ deploymentId: 'd-2', application: 'shop', group: 'prod', status: 'Failed' });
    world.clock.advance(5 * SECOND);
    expect((await sturdy.pollOnce(registrations)).ok).toBe(true);
    expect(world.sink.keys()).toContain('d-2:Failed:shop-all/hook');
  });

  it('a store failure in one scope leaves the other scopes polling', async () => {
    world = await startWorld();
    const inner = world.state;
    const state = wrapState(inner, {
      listInFlight: async (scope) => {
        if (scope.startsWith('eu-west-1')) throw new StoreError('injected: table unreachable');
        return inner.listInFlight(scope);
      },
    });
    const poller = world.poller({ state });
    world.model.createDeployment({ deploymentId: 'd-1', application: 'shop', group: 'prod', status: 'InProgress' });
    const report = await poller.pollOnce([liveRegistration('us', { application: 'shop' }), liveRegistration('eu', { application: 'shop', region: 'eu-west-1' })]);
    expect(report.scopes.map((s) => [s.scope, s.ok, s.error])).toEqual([
      ['eu-west-1|default', false, 'injected: table unreachable'],
      ['us-east-1|default', true, undefined],
    ]);
    expect(world.sink.keys()).toEqual(['d-1:Started:us/hook']);
  });
});
