import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PollBusyError } from '../../src/poll/poller.js';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite.js';
import { liveRegistration } from './fixtures.js';
import { expectedKeys, initialRegistrations, STEPS } from './scenario.js';
import { HOUR, MINUTE, runScenario, SECOND, startWorld, T0, type World } from './world.js';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  await dynamo.close();
  delete process.env.AWS_ENDPOINT_URL_CODEDEPLOY;
});

describe('poller scenarios', () => {
  let world: World | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it.each(['account', 'application'] as const)('notifies a deployment created before the window that finishes hours later (%s)', async (strategy) => {
    world = await startWorld();
    const registrations = [liveRegistration('shop-all', { application: 'shop' }, { createdAt: T0 - HOUR })];
    const poller = world.poller({ strategy });
    world.model.createDeployment({ deploymentId: 'd-bg', application: 'shop', group: 'prod', status: 'InProgress' });
    world.clock.advance(5 * SECOND);
    expect((await poller.pollOnce(registrations)).scopes[0]).toMatchObject({ ok: true, first: true, new: 1, events: [{ deploymentId: 'd-bg', type: 'Started' }] });

    // Five simulated hours of polls every 10 minutes: the deployment is long out of the listing
    // window but is re-read from the in-flight set every poll.
    for (let i = 0; i < 30; i += 1) {
      world.clock.advance(10 * MINUTE);
      if (i === 20) world.model.setStatus('d-bg', 'Ready');
      const report = await poller.pollOnce(registrations);
      expect(report.ok).toBe(true);
      expect(report.scopes[0]?.inFlight).toBe(1);
      if (strategy === 'account') expect(report.calls).toEqual({ ListDeployments: 1, BatchGetDeployments: 1, ListDeploymentGroups: 0 });
    }
    world.model.setStatus('d-bg', 'Succeeded');
    world.clock.advance(10 * MINUTE);
    const last = await poller.pollOnce(registrations);
    expect(last.scopes[0]?.events).toEqual([{ deploymentId: 'd-bg', type: 'Succeeded' }]);
    expect(world.sink.keys()).toEqual(['d-bg:Ready:shop-all/hook', 'd-bg:Started:shop-all/hook', 'd-bg:Succeeded:shop-all/hook']);
    const succeeded = world.sink.all().find((n) => n.event.type === 'Succeeded');
    expect(succeeded?.event).toMatchObject({ application: 'shop', deploymentGroup: 'prod', status: 'Succeeded', region: 'us-east-1', accountId: '123456789012', durationSeconds: 5 * 3600 + 5 });
    expect(await world.state.listInFlight('us-east-1|default')).toEqual([]);
    world.clock.advance(10 * MINUTE);
    expect((await poller.pollOnce(registrations)).scopes[0]).toMatchObject({ inFlight: 0, fetched: 0, events: [] });
  });

  it.each(['account', 'application'] as const)('ignores deployments of unregistered applications and filtered groups (%s)', async (strategy) => {
    world = await startWorld();
    const registrations = [liveRegistration('shop-prod', { application: 'shop', deploymentGroups: ['prod'] }, { createdAt: T0 - HOUR })];
    world.model.createDeploymentGroup('shop', 'staging');
    const poller = world.poller({ strategy });
    expect((await poller.pollOnce(registrations)).ok).toBe(true);
    for (const [id, application, group] of [['d-p', 'shop', 'prod'], ['d-s', 'shop', 'staging'], ['d-o', 'other', 'prod']] as const) {
      world.model.createDeployment({ deploymentId: id, application, group, status: 'InProgress' });
    }
    world.clock.advance(MINUTE);
    const first = await poller.pollOnce(registrations);
    world.clock.advance(MINUTE);
    const second = await poller.pollOnce(registrations);
    for (const id of ['d-p', 'd-s', 'd-o']) world.model.setStatus(id, 'Failed');
    world.clock.advance(MINUTE);
    await poller.pollOnce(registrations);

    expect(world.sink.keys()).toEqual(['d-p:Failed:shop-prod/hook', 'd-p:Started:shop-prod/hook']);
    if (strategy === 'account') {
      // The account-wide listing sees all three once; the two nobody watches stay dormant, never re-read.
      expect(first.scopes[0]).toMatchObject({ listed: 3, new: 3, fetched: 3 });
      expect(second.scopes[0]).toMatchObject({ new: 0, inFlight: 1, dormant: 2, fetched: 1 });
      expect(second.calls).toEqual({ ListDeployments: 1, BatchGetDeployments: 1, ListDeploymentGroups: 0 });
    } else {
      // Only shop/prod is listed at all.
      expect(first.scopes[0]).toMatchObject({ listed: 1, new: 1, fetched: 1 });
      expect(second.calls).toEqual({ ListDeployments: 1, BatchGetDeployments: 1, ListDeploymentGroups: 0 });
    }
  });

  it('delivers the reference scenario, and both strategies yield identical notifications', async () => {
    const account = await runScenario(initialRegistrations, STEPS, { strategy: 'account' });
    const application = await runScenario(initialRegistrations, STEPS, { strategy: 'application' });
    const rollbackId = account.world.model.all().find((d) => d.creator === 'codeDeployRollback')?.deploymentId as string;
    expect(account.sink.keys()).toEqual(expectedKeys(rollbackId));
    expect(application.sink.keys()).toEqual(account.sink.keys());
    // Same payloads too (same observation times), not just the same keys.
    const byId = (n: { deliveryId: string }) => n.deliveryId;
    const sorted = (items: ReturnType<typeof account.sink.all>) => [...items].sort((a, b) => byId(a).localeCompare(byId(b)));
    expect(sorted(application.sink.all())).toEqual(sorted(account.sink.all()));
    // Each delivery was enqueued exactly once.
    expect(account.sink.all()).toHaveLength(account.sink.byId.size);
    expect(application.sink.all()).toHaveLength(application.sink.byId.size);
    expect(account.reports.every((r) => r.ok)).toBe(true);
    expect(application.reports.every((r) => r.ok)).toBe(true);

    const all = account.sink.all();
    const failed = all.find((n) => n.deliveryId && n.event.deploymentId === 'd-2' && n.channelName === 'chat');
    expect(failed?.event).toMatchObject({ type: 'Failed', error: { code: 'HEALTH_CONSTRAINTS' }, rollback: { isRollback: false, rolledBackBy: rollbackId } });
    expect(failed?.channelType).toBe('slack');
    const rollback = all.find((n) => n.event.deploymentId === rollbackId);
    expect(rollback?.event).toMatchObject({ creator: 'codeDeployRollback', rollback: { isRollback: true, rollsBack: 'd-2' } });
    const shop = all.find((n) => n.event.deploymentId === 'd-1' && n.event.type === 'Succeeded');
    expect(shop?.registration).toEqual({ name: 'shop-all', owner: 'team-shop', labels: { tier: 'critical' } });
    expect(shop?.event.revision).toEqual({ type: 'GitHub', repository: 'acme/shop', commitId: 'a1b2c3d4e5' });
  });

  it('a registration added after a deployment finished hears nothing about it', async () => {
    for (const strategy of ['account', 'application'] as const) {
      world = await startWorld();
      const registrations = [liveRegistration('early', { application: 'shop' }, { createdAt: T0 - HOUR })];
      const poller = world.poller({ strategy });
      world.model.createDeployment({ deploymentId: 'd-old', application: 'shop', group: 'prod', status: 'InProgress' });
      // A deployment of an application nobody has registered yet, finished before anyone did.
      world.model.createDeployment({ deploymentId: 'd-x', application: 'fresh', group: 'prod', status: 'InProgress' });
      world.clock.advance(MINUTE);
      await poller.pollOnce(registrations);
      world.model.setStatus('d-old', 'Succeeded');
      world.model.setStatus('d-x', 'Failed');
      world.clock.advance(MINUTE);
      await poller.pollOnce(registrations);

      world.clock.advance(HOUR);
      registrations.push(liveRegistration('late', { application: 'shop' }, { createdAt: world.clock.now() }));
      registrations.push(liveRegistration('fresh-late', { application: 'fresh' }, { createdAt: world.clock.now() }));
      for (let i = 0; i < 3; i += 1) {
        world.clock.advance(MINUTE);
        expect((await poller.pollOnce(registrations)).notifications).toBe(0);
      }
      expect(world.sink.keys()).toEqual(['d-old:Started:early/hook', 'd-old:Succeeded:early/hook']);

      // And the late registration does hear the next deployment.
      world.model.createDeployment({ deploymentId: 'd-new', application: 'shop', group: 'prod', status: 'InProgress' });
      world.clock.advance(MINUTE);
      await poller.pollOnce(registrations);
      expect(world.sink.keys()).toContain('d-new:Started:late/hook');
      await world.close();
      world = undefined;
    }
  });

  it.each(['account', 'application'] as const)('a registration added while a deployment has been running for hours hears how it ends (%s)', async (strategy) => {
    world = await startWorld();
    const registrations = [liveRegistration('billing', { application: 'billing' }, { createdAt: T0 - HOUR })];
    const poller = world.poller({ strategy });
    world.model.createDeployment({ deploymentId: 'd-long', application: 'shop', group: 'prod', status: 'InProgress' });
    for (let i = 0; i < 18; i += 1) {
      world.clock.advance(10 * MINUTE);
      await poller.pollOnce(registrations);
    }
    // Three hours in, long past any overlap, the shop registration becomes live.
    registrations.push(liveRegistration('shop-new', { application: 'shop' }, { createdAt: world.clock.now() }));
    world.clock.advance(10 * MINUTE);
    await poller.pollOnce(registrations);
    world.model.setStatus('d-long', 'Succeeded');
    world.clock.advance(10 * MINUTE);
    await poller.pollOnce(registrations);
    // It started before the registration existed, so only its end is news.
    expect(world.sink.keys()).toEqual(['d-long:Succeeded:shop-new/hook']);
  });

  it('catches a deployment that shows up in the listing late, through the overlap', async () => {
    world = await startWorld();
    const registrations = [liveRegistration('shop-all', { application: 'shop' }, { createdAt: T0 - HOUR })];
    const poller = world.poller({ overlapMs: 5 * MINUTE });
    await poller.pollOnce(registrations);
    world.model.createDeployment({ deploymentId: 'd-lag', application: 'shop', group: 'prod', status: 'InProgress', listingDelayMs: 3 * MINUTE });
    for (let i = 0; i < 6; i += 1) {
      world.clock.advance(MINUTE);
      const report = await poller.pollOnce(registrations);
      expect(report.scopes[0]?.listed).toBe(i >= 2 ? 1 : 0);
    }
    expect(world.sink.keys()).toEqual(['d-lag:Started:shop-all/hook']);
  });

  it('costs one call per region and account when idle with the account strategy, whatever the number of applications', async () => {
    world = await startWorld();
    const registrations = Array.from({ length: 30 }, (_, i) => liveRegistration(`app-${i}`, { application: `app-${i}`, ...(i % 3 === 0 ? { region: 'eu-west-1' } : {}) }));
    for (let i = 0; i < 30; i += 1) for (const g of ['a', 'b', 'c']) world.model.createDeploymentGroup(`app-${i}`, g);
    const account = world.poller();
    const perApp = world.poller({ strategy: 'application' });
    await account.pollOnce(registrations);
    world.clock.advance(5 * SECOND);
    const idle = await account.pollOnce(registrations);
    expect(idle.scopes.map((s) => [s.scope, s.calls])).toEqual([
      ['eu-west-1|default', { ListDeployments: 1, BatchGetDeployments: 0, ListDeploymentGroups: 0 }],
      ['us-east-1|default', { ListDeployments: 1, BatchGetDeployments: 0, ListDeploymentGroups: 0 }],
    ]);
    const firstPerApp = await perApp.pollOnce(registrations);
    expect(firstPerApp.calls).toEqual({ ListDeployments: 90, BatchGetDeployments: 0, ListDeploymentGroups: 30 });
    world.clock.advance(5 * SECOND);
    expect((await perApp.pollOnce(registrations)).calls).toEqual({ ListDeployments: 90, BatchGetDeployments: 0, ListDeploymentGroups: 0 });
    // The server counted the same calls the reports did.
    expect(world.server.counts()).toEqual({ ListDeployments: 2 + 2 + 90 + 90, ListDeploymentGroups: 30 });
  });

  it('reads 25 ids per BatchGetDeployments call and follows every listing page', async () => {
    world = await startWorld({ pageSize: 20 });
    const registrations = [liveRegistration('shop-all', { application: 'shop' }, { createdAt: T0 - HOUR })];
    const poller = world.poller();
    await poller.pollOnce(registrations);
    for (let i = 0; i < 60; i += 1) world.model.createDeployment({ deploymentId: `d-${String(i).padStart(3, '0')}`, application: 'shop', group: 'prod', status: 'InProgress' });
    world.clock.advance(5 * SECOND);
    const busy = await poller.pollOnce(registrations);
    expect(busy.calls).toEqual({ ListDeployments: 3, BatchGetDeployments: 3, ListDeploymentGroups: 0 });
    expect(busy.scopes[0]).toMatchObject({ listed: 60, new: 60, notifications: 60 });
    // Next poll: 60 in flight, nothing new: ceil(60 / 25) = 3 reads, plus the overlapping listing.
    world.clock.advance(5 * SECOND);
    const inFlight = await poller.pollOnce(registrations);
    expect(inFlight.calls).toEqual({ ListDeployments: 3, BatchGetDeployments: 3, ListDeploymentGroups: 0 });
    expect(inFlight.scopes[0]).toMatchObject({ new: 0, inFlight: 60, notifications: 0 });
  });

  it('refuses a second pollOnce while one is running', async () => {
    world = await startWorld({ state: 'memory' });
    const poller = world.poller();
    world.server.faults.latencyMs = 50;
    const registrations = [liveRegistration('shop-all', { application: 'shop' })];
    const first = poller.pollOnce(registrations);
    await expect(poller.pollOnce(registrations)).rejects.toBeInstanceOf(PollBusyError);
    expect((await first).ok).toBe(true);
  });
});
