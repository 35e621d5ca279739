import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoApplyLock, LocalApplyLock, LockBusyError } from '../../src/reconcile/lock.js';
import type { DynamoClients } from '../../src/store/dynamo.js';
import type { TableNames } from '../../src/store/tables.js';
import { freshTables, startDynalite, type LocalDynamo } from '../helpers/dynalite.js';

let dynamo: LocalDynamo;
let clients: DynamoClients;
let names: TableNames;
beforeAll(async () => {
  dynamo = await startDynalite();
  ({ clients, names } = await freshTables('lock'));
});
afterAll(async () => {
  clients.destroy();
  await dynamo.close();
});

describe('DynamoApplyLock', () => {
  it('lets one holder in at a time and names the holder to whoever gives up waiting', async () => {
    const lock = new DynamoApplyLock(clients.doc, names.state, { pollMs: 10 });
    const held = await lock.acquire('host-a:1', 0);
    const error = await lock.acquire('host-b:2', 50).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockBusyError);
    expect((error as Error).message).toMatch(/^another apply is converging the registrations table \(host-a:1, since \d{4}-\d\d-\d\dT.*\); waited 0s/);
    const waiting = lock.acquire('host-b:2', 5_000);
    await held.release();
    const next = await waiting;
    expect(next.lost).toBe(false);
    await next.release();
  });

  it('lets a new holder take an expired lease; the old holder learns it lost the lock', async () => {
    const old = await new DynamoApplyLock(clients.doc, names.state, { leaseMs: 90 }).acquire('crashed:1', 0);
    const later = new DynamoApplyLock(clients.doc, names.state, { now: () => Date.now() + 3_600_000 });
    const taken = await later.acquire('fresh:2', 0);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(old.lost).toBe(true);
    await old.release(); // must not delete the new holder's lock
    await expect(new DynamoApplyLock(clients.doc, names.state).acquire('third:3', 0)).rejects.toBeInstanceOf(LockBusyError);
    await taken.release();
  });
});

describe('LocalApplyLock', () => {
  it('queues holders in order and times out a waiter without blocking the ones after it', async () => {
    const lock = new LocalApplyLock();
    const order: string[] = [];
    const first = await lock.acquire('a', 0);
    const timedOut = lock.acquire('b', 10).catch((e: unknown) => (order.push('b timed out'), e));
    const third = lock.acquire('c', 1_000).then((h) => (order.push('c'), h));
    expect(await timedOut).toBeInstanceOf(LockBusyError);
    order.push('a releases');
    await first.release();
    await (await third).release();
    expect(order).toEqual(['b timed out', 'a releases', 'c']);
  });
});
