import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients, type DynamoClients } from '../../src/store/dynamo.js';
import { DynamoPollStateStore, MemoryPollStateStore, type PollStateStore, type TrackedDeployment } from '../../src/store/poll-state.js';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite.js';
import { TestClock } from './fixtures.js';
import { freshStateTable } from './world.js';

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const hour = 3_600_000;

let dynamo: LocalDynamo;
const clients: DynamoClients[] = [];

beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  for (const c of clients) c.destroy();
  await dynamo.close();
});

const adapters: Array<[string, (clock: TestClock) => Promise<PollStateStore>]> = [
  ['DynamoPollStateStore (dynalite)', async (clock) => {
    const { clients: c, table } = await freshStateTable();
    clients.push(c);
    return new DynamoPollStateStore({ doc: c.doc, table, clock: clock.now });
  }],
  ['MemoryPollStateStore', async (clock) => new MemoryPollStateStore({ clock: clock.now })],
];

const tracked = (id: string, extra: Partial<TrackedDeployment> = {}): TrackedDeployment => ({
  deploymentId: id,
  application: 'shop',
  deploymentGroup: 'prod',
  createTime: new Date(T0).toISOString(),
  status: 'InProgress',
  emitted: [],
  firstSeenAt: new Date(T0).toISOString(),
  expiresAt: T0 + 100 * hour,
  ...extra,
});

describe.each(adapters)('%s', (_name, make) => {
  it('records polls: the cursor advances on success, never backwards, and errors are counted', async () => {
    const clock = new TestClock(T0);
    const store = await make(clock);
    const identity = { scope: 'us-east-1|default', region: 'us-east-1', strategy: 'account' };
    expect(await store.getCursor(identity.scope)).toBeUndefined();

    await store.recordPoll(identity, { at: '2026-11-23T10:00:00.000Z', cursor: '2026-11-23T10:00:00.000Z' });
    await store.recordPoll(identity, { at: '2026-11-23T10:00:05.000Z', error: 'ThrottlingException: Rate exceeded' });
    await store.recordPoll(identity, { at: '2026-11-23T10:00:10.000Z', error: 'ThrottlingException: Rate exceeded' });
    expect(await store.getCursor(identity.scope)).toEqual({
      scope: identity.scope, region: 'us-east-1', strategy: 'account', cursor: '2026-11-23T10:00:00.000Z',
      lastPollAt: '2026-11-23T10:00:10.000Z', lastSuccessAt: '2026-11-23T10:00:00.000Z',
      lastError: 'ThrottlingException: Rate exceeded', lastErrorAt: '2026-11-23T10:00:10.000Z', consecutiveFailures: 2,
    });

    await store.recordPoll(identity, { at: '2026-11-23T10:00:15.000Z', cursor: '2026-11-23T10:00:15.000Z' });
    // A late writer with an older cursor (a previous leader) does not move it back.
    await store.recordPoll(identity, { at: '2026-11-23T10:00:16.000Z', cursor: '2026-11-23T09:00:00.000Z' });
    const after = await store.getCursor(identity.scope);
    expect(after).toMatchObject({ cursor: '2026-11-23T10:00:15.000Z', lastSuccessAt: '2026-11-23T10:00:16.000Z', consecutiveFailures: 0 });

    const role = { scope: 'eu-west-1|arn:aws:iam::210987654321:role/r', region: 'eu-west-1', roleArn: 'arn:aws:iam::210987654321:role/r', accountId: '210987654321', strategy: 'application' };
    await store.recordPoll(role, { at: '2026-11-23T10:00:20.000Z', cursor: '2026-11-23T10:00:20.000Z' });
    expect((await store.listCursors()).map((c) => [c.scope, c.accountId, c.roleArn, c.strategy])).toEqual([
      [role.scope, '210987654321', role.roleArn, 'application'],
      [identity.scope, undefined, undefined, 'account'],
    ]);
  });

  it('merges emitted events, keeps the first sighting, and moves finished deployments out of the in-flight set', async () => {
    const clock = new TestClock(T0);
    const store = await make(clock);
    const scope = 'us-east-1|default';
    await store.saveDeployments(scope, { inFlight: [tracked('d-1', { emitted: ['Started'] }), tracked('d-2'), { deploymentId: 'd-3', emitted: [], firstSeenAt: new Date(T0).toISOString(), expiresAt: T0 + hour }], finished: [] });
    await store.saveDeployments(scope, { inFlight: [tracked('d-1', { status: 'Ready', emitted: ['Ready'], firstSeenAt: new Date(T0 + hour).toISOString() })], finished: [] });
    const inFlight = await store.listInFlight(scope);
    expect(inFlight.sort((a, b) => a.deploymentId.localeCompare(b.deploymentId))).toEqual([
      tracked('d-1', { status: 'Ready', emitted: ['Ready', 'Started'] }),
      tracked('d-2'),
      { deploymentId: 'd-3', emitted: [], firstSeenAt: new Date(T0).toISOString(), expiresAt: T0 + hour },
    ]);

    await store.saveDeployments(scope, {
      inFlight: [],
      finished: [{ deploymentId: 'd-1', createTime: new Date(T0).toISOString(), status: 'Succeeded', expiresAt: T0 + 30 * hour }],
    });
    expect((await store.listInFlight(scope)).map((d) => d.deploymentId).sort()).toEqual(['d-2', 'd-3']);
    expect(await store.listFinished(scope, T0)).toEqual(new Set(['d-1']));
    expect(await store.listFinished(scope, T0 + 1)).toEqual(new Set());
    expect(await store.listInFlight('other|default')).toEqual([]);
  });

  it('hides expired items (dynalite has no TTL)', async () => {
    const clock = new TestClock(T0);
    const store = await make(clock);
    const scope = 'us-east-1|default';
    await store.saveDeployments(scope, {
      inFlight: [tracked('d-short', { expiresAt: T0 + hour }), tracked('d-long', { expiresAt: T0 + 10 * hour })],
      finished: [{ deploymentId: 'd-done', createTime: new Date(T0).toISOString(), status: 'Failed', expiresAt: T0 + 2 * hour }],
    });
    clock.advance(90 * 60_000);
    expect((await store.listInFlight(scope)).map((d) => d.deploymentId)).toEqual(['d-long']);
    expect(await store.listFinished(scope, 0)).toEqual(new Set(['d-done']));
    clock.advance(hour);
    expect(await store.listFinished(scope, 0)).toEqual(new Set());
  });

  it('replaces the watched set', async () => {
    const store = await make(new TestClock(T0));
    expect(await store.getWatched('s')).toEqual(new Set());
    await store.setWatched('s', new Set(['shop\u001fprod', 'shop\u001fstaging']));
    await store.setWatched('s', new Set(['shop\u001fprod']));
    expect(await store.getWatched('s')).toEqual(new Set(['shop\u001fprod']));
    await store.setWatched('s', new Set());
    expect(await store.getWatched('s')).toEqual(new Set());
  });

  it('saves many finished deployments in batches of 25', async () => {
    const store = await make(new TestClock(T0));
    const ids = Array.from({ length: 60 }, (_, i) => `d-${String(i).padStart(3, '0')}`);
    await store.saveDeployments('s', { inFlight: ids.map((id) => tracked(id)), finished: [] });
    await store.saveDeployments('s', { inFlight: [], finished: ids.map((id, i) => ({ deploymentId: id, createTime: new Date(T0 + i).toISOString(), status: 'Succeeded', expiresAt: T0 + hour })) });
    expect(await store.listInFlight('s')).toEqual([]);
    expect((await store.listFinished('s', T0 + 10)).size).toBe(50);
  });
});

describe('DynamoPollStateStore errors', () => {
  it('throws StoreError naming the table and how to fix it', async () => {
    const c = createDynamoClients({ maxAttempts: 1 });
    clients.push(c);
    const store = new DynamoPollStateStore({ doc: c.doc, table: 'no-such-table' });
    await expect(store.getCursor('s')).rejects.toMatchObject({ code: 'store-unavailable', message: expect.stringContaining('no-such-table') });
    await expect(store.listInFlight('s')).rejects.toMatchObject({ message: expect.stringContaining('codedeploy-notify init') });
  });
});
