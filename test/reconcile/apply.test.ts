import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import { deepEqual } from '../../src/plan/diff.js';
import type { DesiredItem, LiveItem } from '../../src/plan/types.js';
import { applyDesired, applySucceeded, type ApplyOptions } from '../../src/reconcile/apply.js';
import { DynamoApplyLock } from '../../src/reconcile/lock.js';
import { DynamoAuditTrail, MemoryAuditTrail } from '../../src/store/audit.js';
import type { DynamoClients } from '../../src/store/dynamo.js';
import { DynamoRegistrationStore, type RegistrationStore } from '../../src/store/registrations.js';
import type { TableNames } from '../../src/store/tables.js';
import { freshTables, startDynalite, type LocalDynamo } from '../helpers/dynalite.js';
import { desired, spec } from '../plan/fixtures.js';

let dynamo: LocalDynamo;
const opened: DynamoClients[] = [];
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => {
  for (const c of opened) c.destroy();
  await dynamo.close();
});

async function setup(label: string): Promise<{ store: DynamoRegistrationStore; clients: DynamoClients; names: TableNames }> {
  const { clients, names } = await freshTables(label);
  opened.push(clients);
  return { store: new DynamoRegistrationStore(clients.doc, names.registrations), clients, names };
}

const base: ApplyOptions = { actor: 'apply', host: 'test-host' };

/** The table's managed content as comparable {name → spec/metadata}. */
async function content(store: RegistrationStore): Promise<Record<string, unknown>> {
  const items = await store.scan();
  return Object.fromEntries(items.map((i) => [i.name, { managedBy: i.managedBy, metadata: i.metadata, spec: i.spec }]));
}

function expected(items: DesiredItem[]): Record<string, unknown> {
  return Object.fromEntries(items.map((i) => [i.name, { managedBy: 'git', metadata: i.metadata, spec: i.spec }]));
}

describe('applyDesired', () => {
  it('creates, updates, deletes and then has nothing to do, recording every change', async () => {
    const { store, clients, names } = await setup('crud');
    const first = [desired('a'), desired('b'), desired('c', { source: { file: 'registrations/c.yaml', commit: '1111111' } })];
    const t0 = new Date('2026-03-01T10:00:00.000Z');
    const t1 = new Date('2026-03-02T10:00:00.000Z');
    // entries expire after 90 days of the trail's clock
    const audit = new DynamoAuditTrail(clients.doc, names.state, { now: () => t1 });
    const r1 = await applyDesired(first, store, { ...base, audit, now: () => t0 });
    expect(applySucceeded(r1)).toBe(true);
    expect(r1.applied.map((c) => [c.action, c.name, c.versionAfter])).toEqual([['create', 'a', 1], ['create', 'b', 1], ['create', 'c', 1]]);
    expect(await content(store)).toEqual(expected(first));

    const second = [desired('a'), desired('b', { spec: spec({ events: ['Failed'] }), source: { file: 'registrations/b.yaml', commit: '2222222' } }), desired('d')];
    const r2 = await applyDesired(second, store, { ...base, audit, actor: 'daemon', now: () => t1 });
    expect(r2.applied.map((c) => [c.action, c.name, c.versionBefore, c.versionAfter])).toEqual([
      ['update', 'b', 1, 2],
      ['delete', 'c', 1, undefined],
      ['create', 'd', undefined, 1],
    ]);
    expect(r2.unchanged).toBe(1);
    expect(await content(store)).toEqual(expected(second));
    const b = await store.get('b');
    expect(b).toMatchObject({ version: 2, createdAt: t0.toISOString(), updatedAt: t1.toISOString(), source: { file: 'registrations/b.yaml', commit: '2222222' } });

    const r3 = await applyDesired(second, store, { ...base, audit });
    expect(r3.applied).toEqual([]);
    expect(r3.unchanged).toBe(3);

    const log = await audit.recentChanges(10);
    expect(log).toHaveLength(6);
    const update = log.find((e) => e.name === 'b' && e.action === 'update');
    expect(update).toMatchObject({
      actor: 'daemon', host: 'test-host', commit: '2222222', file: 'registrations/b.yaml', versionBefore: 1, versionAfter: 2,
      fields: [{ path: 'spec.events', before: ['Succeeded', 'Failed', 'Stopped'], after: ['Failed'] }],
    });
    expect(log.find((e) => e.name === 'c' && e.action === 'delete')?.fields.map((f) => f.path)).toEqual(['metadata.owner', 'spec.application', 'spec.channels', 'spec.events']);
  });

  it('leaves unmanaged items alone, also when pruning and when a file wants the same name', async () => {
    const { store, clients, names } = await setup('unmanaged');
    const foreign = { name: 'foreign', managedBy: 'console', version: 4, spec: { application: 'hand-made' } };
    const wanted = { name: 'wanted', managedBy: 'terraform', version: 2, spec: { application: 'tf' } };
    for (const Item of [foreign, wanted]) await clients.doc.send(new PutCommand({ TableName: names.registrations, Item }));
    const result = await applyDesired([desired('mine'), desired('wanted')], store, base);
    expect(result.applied.map((c) => c.name)).toEqual(['mine']);
    expect(result.unmanaged).toEqual([{ name: 'foreign', managedBy: 'console' }, { name: 'wanted', managedBy: 'terraform', desiredFile: 'registrations/wanted.yaml' }]);
    expect(await store.get('foreign')).toEqual(foreign);
    expect(await store.get('wanted')).toEqual(wanted);
  });

  it('refuses an empty desired set and too many deletes, writing nothing', async () => {
    const { store } = await setup('guards');
    const items = Array.from({ length: 12 }, (_, i) => desired(`r${String(i).padStart(2, '0')}`));
    await applyDesired(items, store, base);
    const before = await content(store);

    const empty = await applyDesired([], store, base);
    expect(empty.status).toBe('refused');
    expect(empty.refusal).toBe('the desired set is empty: refusing to delete all 12 managed registrations; pass --allow-empty if that is intended');
    expect(empty.applied).toEqual([]);

    const tooMany = await applyDesired(items.slice(0, 1), store, base);
    expect(tooMany.refusal).toMatch(/^refusing to delete 11 registrations \(r01, r02, .*, …\): more than --max-deletes 10; raise --max-deletes/);
    expect(await content(store)).toEqual(before);

    const kept = await applyDesired([], store, { ...base, prune: false });
    expect(kept.status).toBe('applied');
    expect(kept.skippedDeletes).toHaveLength(12);
    expect(await content(store)).toEqual(before);

    const allowed = await applyDesired(items.slice(0, 1), store, { ...base, maxDeletes: 11 });
    expect(allowed.applied).toHaveLength(11);
    const wiped = await applyDesired([], store, { ...base, allowEmpty: true });
    expect(wiped.applied.map((c) => c.action)).toEqual(['delete']);
    expect(await store.scan()).toEqual([]);
  });

  it('re-reads and re-plans after losing a conditional write, and reports each conflict', async () => {
    const { store, clients, names } = await setup('conflict');
    const rival = new DynamoRegistrationStore(clients.doc, names.registrations);
    await applyDesired([desired('same'), desired('other'), desired('gone'), desired('taken')], store, base);
    const target = [desired('same', { spec: spec({ events: ['Failed'] }) }), desired('other', { spec: spec({ events: ['Stopped'] }) }), desired('taken', { metadata: { owner: 'x' } })];
    // between our read and our write, a rival makes the same change, a different one, deletes, and hands an item over
    const racing = withHook(store, { everyWrite: false }, async (name) => {
      if (name === 'same') await rival.update(target[0] as DesiredItem, 1, new Date());
      if (name === 'other') await rival.update(desired('other', { metadata: { owner: 'rival' } }), 1, new Date());
      if (name === 'gone') await rival.remove('gone', 1);
      if (name === 'taken') await clients.doc.send(new UpdateCommand({ TableName: names.registrations, Key: { name: 'taken' }, UpdateExpression: 'SET managedBy = :c', ExpressionAttributeValues: { ':c': 'console' } }));
    });
    const result = await applyDesired(target, racing, base);
    expect(result.conflicts).toEqual([
      { name: 'gone', action: 'delete', attempts: 1, outcome: 'already-done' },
      { name: 'other', action: 'update', attempts: 2, outcome: 'retried' },
      { name: 'same', action: 'update', attempts: 1, outcome: 'already-done' },
      { name: 'taken', action: 'update', attempts: 1, outcome: 'left-alone' },
    ]);
    expect(applySucceeded(result)).toBe(true);
    expect(result.applied).toEqual([
      { action: 'update', name: 'other', versionBefore: 2, versionAfter: 3, fields: [
        { path: 'metadata.owner', before: 'rival', after: 'team-checkout' },
        { path: 'spec.events', before: ['Succeeded', 'Failed', 'Stopped'], after: ['Stopped'] },
      ] },
    ]);
    const other = await store.get('other');
    expect(other).toMatchObject({ version: 3, metadata: { owner: 'team-checkout' }, spec: target[1]?.spec });
    expect((await store.get('taken'))?.managedBy).toBe('console');
  });

  it('gives up on an item that keeps changing, and the apply does not succeed', async () => {
    const { store, clients, names } = await setup('giveup');
    await applyDesired([desired('hot')], store, base);
    const churn = withHook(store, { everyWrite: true }, async () => {
      await clients.doc.send(new UpdateCommand({ TableName: names.registrations, Key: { name: 'hot' }, UpdateExpression: 'SET #v = #v + :one', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':one': 1 } }));
    });
    const result = await applyDesired([desired('hot', { metadata: {} })], churn, { ...base, maxConflictRetries: 2 });
    expect(result.conflicts).toEqual([{ name: 'hot', action: 'update', attempts: 3, outcome: 'gave-up' }]);
    expect(applySucceeded(result)).toBe(false);
  });

  it('stops writing after a store failure and reports what was not done', async () => {
    const { store } = await setup('failing');
    const failing = withHook(store, { everyWrite: false }, async (name) => {
      if (name === 'b') throw new StoreError('DynamoDB update on table t failed: socket hang up');
    });
    const result = await applyDesired(['a', 'b', 'c', 'd'].map((n) => desired(n)), failing, { ...base, concurrency: 1 });
    expect(result.applied.map((c) => c.name)).toEqual(['a']);
    expect(result.failures).toEqual([
      { name: 'b', action: 'create', message: 'DynamoDB update on table t failed: socket hang up' },
      { name: 'c', action: 'create', message: 'not attempted: an earlier store failure' },
      { name: 'd', action: 'create', message: 'not attempted: an earlier store failure' },
    ]);
    expect(applySucceeded(result)).toBe(false);
  });

  it('stops writing when its signal is aborted', async () => {
    const { store } = await setup('abort');
    const controller = new AbortController();
    const stopping = withHook(store, { everyWrite: false }, async (name) => {
      if (name === 'b') controller.abort();
    });
    const result = await applyDesired(['a', 'b', 'c'].map((n) => desired(n)), stopping, { ...base, concurrency: 1, signal: controller.signal });
    expect(result.applied.map((c) => c.name)).toEqual(['a', 'b']);
    expect(result.failures).toEqual([{ name: 'c', action: 'create', message: 'not attempted: the apply was stopped' }]);
    expect(applySucceeded(result)).toBe(false);
  });

  it('counts audit entries it could not record without failing the apply', async () => {
    const { store } = await setup('auditfail');
    const audit = new MemoryAuditTrail();
    audit.record = async () => {
      throw new StoreError('throttled');
    };
    const result = await applyDesired([desired('a'), desired('b')], store, { ...base, audit });
    expect(result.applied).toHaveLength(2);
    expect(result.auditFailures).toBe(2);
    expect(applySucceeded(result)).toBe(true);
  });

  it('serialises two applies started at the same moment: the table ends equal to one desired set', async () => {
    const { store, clients, names } = await setup('race');
    const start = Array.from({ length: 40 }, (_, i) => desired(`r${String(i).padStart(2, '0')}`));
    await applyDesired(start, store, base);
    // A edits the first half and adds one, B edits the second half and removes one
    const a = start.map((d, i) => (i < 20 ? { ...d, spec: spec({ events: ['Failed'] }) } : d)).concat([desired('from-a')]);
    const b = start.slice(1).map((d, i) => (i >= 19 ? { ...d, metadata: { owner: 'team-b' } } : d));
    const lockA = new DynamoApplyLock(clients.doc, names.state, { pollMs: 20 });
    const lockB = new DynamoApplyLock(clients.doc, names.state, { pollMs: 20 });
    const storeB = new DynamoRegistrationStore(clients.doc, names.registrations);
    const [ra, rb] = await Promise.all([
      applyDesired(a, store, { ...base, lock: lockA, concurrency: 4 }),
      applyDesired(b, storeB, { ...base, lock: lockB, concurrency: 4 }),
    ]);
    expect(applySucceeded(ra) && applySucceeded(rb)).toBe(true);
    const final = await content(store);
    const equalsA = deepEqual(final, expected(a));
    const equalsB = deepEqual(final, expected(b));
    expect(equalsA || equalsB).toBe(true);
    // whoever went second saw the first one's table and undid its edits
    const second = equalsA ? ra : rb;
    expect(second.applied.length).toBeGreaterThan(20);
  });
});

/** A store that runs `before(name)` ahead of the first write attempt per name (or every one): a rival sneaking in between read and write. */
function withHook(store: RegistrationStore, options: { everyWrite: boolean }, before: (name: string) => Promise<void>): RegistrationStore {
  const seen = new Set<string>();
  const run = async (name: string) => {
    if (!options.everyWrite && seen.has(name)) return;
    seen.add(name);
    await before(name);
  };
  return {
    table: store.table,
    scan: () => store.scan(),
    list: () => store.list(),
    get: (name) => store.get(name),
    create: async (item, now) => (await run(item.name), store.create(item, now)),
    update: async (item, v, now): Promise<LiveItem> => (await run(item.name), store.update(item, v, now)),
    remove: async (name, v) => (await run(name), store.remove(name, v)),
  };
}
