import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import type { DynamoClients } from '../../src/store/dynamo.js';
import { DEFAULT_TERMINAL_TTL_SECONDS, DynamoLedger, type Claim } from '../../src/store/ledger.js';
import { freshLedgerTable, makePending, TestClock } from '../dispatch/fixtures.js';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite.js';

const LEASE = 30_000;

describe('DynamoLedger', () => {
  let dynamo: LocalDynamo;
  let clients: DynamoClients;
  let table: string;
  let clock: TestClock;
  let ledger: DynamoLedger;

  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => dynamo.close());
  beforeEach(async () => {
    const fresh = await freshLedgerTable('ledger');
    clients = fresh.clients;
    table = fresh.table;
    clock = new TestClock();
    ledger = new DynamoLedger({ doc: clients.doc, table: table, clock: clock.read });
  });
  afterEach(() => clients.destroy());

  const claimOne = async (owner = 'a'): Promise<Claim> => {
    const [claim] = await ledger.claimDue({ owner, leaseMs: LEASE, limit: 1 });
    if (!claim) throw new Error('expected a claim');
    return claim;
  };

  it('enqueues each delivery once; repeats leave the item untouched', async () => {
    const items = [makePending('d-1'), makePending('d-2'), makePending('d-2', 'other-registration')];
    expect(await ledger.add(items)).toEqual({ created: 3, existing: 0 });
    const entry = await ledger.get(items[0]!.deliveryId);
    expect(entry).toMatchObject({ state: 'pending', attempts: 0, dueAt: clock.now, createdAt: clock.now, updatedAt: clock.now, channelName: 'hook', channelType: 'webhook' });
    expect(entry?.event).toEqual(items[0]!.event);
    expect(entry?.registration).toEqual({ name: 'checkout-production', owner: 'team-checkout' });

    const claim = await claimOne();
    await ledger.recordSent(claim, { messageId: 'm-1' });
    clock.advance(1_000);
    expect(await ledger.add(items)).toEqual({ created: 0, existing: 3 });
    await ledger.enqueue(items);
    const after = await ledger.get(claim.entry.deliveryId);
    expect(after).toMatchObject({ state: 'sent', messageId: 'm-1', attempts: 1 });
    expect(after?.dueAt).toBeUndefined();
  });

  it('claims due items once, with a lease, and again only after the lease expires', async () => {
    await ledger.enqueue([makePending('d-1')]);
    const first = await claimOne('replica-a');
    expect(first.entry).toMatchObject({ state: 'sending', attempts: 1, leaseOwner: 'replica-a', leaseToken: first.token, leaseUntil: clock.now + LEASE, dueAt: clock.now + LEASE });
    expect(first.leaseUntil).toBe(clock.now + LEASE);

    expect(await ledger.claimDue({ owner: 'replica-b', leaseMs: LEASE, limit: 10 })).toEqual([]);
    clock.advance(LEASE - 1);
    expect(await ledger.claimDue({ owner: 'replica-b', leaseMs: LEASE, limit: 10 })).toEqual([]);
    clock.advance(1);
    const second = await claimOne('replica-b');
    expect(second.entry).toMatchObject({ state: 'sending', attempts: 2, leaseOwner: 'replica-b' });
    expect(second.token).not.toBe(first.token);
  });

  it('does not claim items scheduled for later, and honours exclude and limit', async () => {
    const items = ['d-1', 'd-2', 'd-3', 'd-4'].map((id) => makePending(id));
    await ledger.enqueue(items);
    const excluded = new Set([items[0]!.deliveryId]);
    const claims = await ledger.claimDue({ owner: 'a', leaseMs: LEASE, limit: 2, exclude: excluded });
    expect(claims).toHaveLength(2);
    expect(claims.map((c) => c.entry.deliveryId)).not.toContain(items[0]!.deliveryId);
    const rest = await ledger.claimDue({ owner: 'a', leaseMs: LEASE, limit: 10 });
    expect(rest).toHaveLength(2);
    expect(await ledger.queueStats()).toEqual({ due: 0, scheduled: 4 });
  });

  it('pages through the queue past items that are excluded', async () => {
    const small = new DynamoLedger({ doc: clients.doc, table: table, clock: clock.read, claimPageSize: 2 });
    const items = Array.from({ length: 7 }, (_, i) => makePending(`d-${i}`));
    await small.enqueue(items);
    const exclude = new Set(items.slice(0, 5).map((i) => i.deliveryId));
    const claims = await small.claimDue({ owner: 'a', leaseMs: LEASE, limit: 1, exclude });
    expect(claims).toHaveLength(1);
    expect(exclude.has(claims[0]!.entry.deliveryId)).toBe(false);
  });

  it('records a send: out of the queue, message id kept, TTL set; a second record says already sent', async () => {
    await ledger.enqueue([makePending('d-1')]);
    const claim = await claimOne();
    clock.advance(250);
    expect(await ledger.recordSent(claim, { messageId: 'ts-1' })).toBe('sent');
    const entry = await ledger.get(claim.entry.deliveryId);
    expect(entry).toMatchObject({ state: 'sent', messageId: 'ts-1', sentAt: clock.now, updatedAt: clock.now, expiresAt: Math.floor(clock.now / 1000) + DEFAULT_TERMINAL_TTL_SECONDS });
    expect(entry?.leaseToken).toBeUndefined();
    expect(entry?.dueAt).toBeUndefined();
    expect(await ledger.recordSent(claim, {})).toBe('already-sent');
    clock.advance(LEASE * 10);
    expect(await ledger.claimDue({ owner: 'b', leaseMs: LEASE, limit: 10 })).toEqual([]);
    expect(await ledger.queueStats()).toEqual({ due: 0, scheduled: 0 });
  });

  it('schedules a retry and fails for good, each only under the current lease', async () => {
    await ledger.enqueue([makePending('d-1'), makePending('d-2')]);
    const [a, b] = await ledger.claimDue({ owner: 'a', leaseMs: LEASE, limit: 2 });
    expect(await ledger.recordRetry(a!, { at: clock.now + 5_000, error: 'HTTP 503' })).toBe(true);
    expect(await ledger.get(a!.entry.deliveryId)).toMatchObject({ state: 'retrying', dueAt: clock.now + 5_000, lastError: 'HTTP 503', attempts: 1 });
    // the lease is gone with the retry: a late retry or failure from the same claim is refused
    expect(await ledger.recordFailed(a!, { reason: 'late' })).toBe(false);

    expect(await ledger.recordFailed(b!, { reason: 'HTTP 404 channel_not_found' })).toBe(true);
    const failed = await ledger.get(b!.entry.deliveryId);
    expect(failed).toMatchObject({ state: 'failed', reason: 'HTTP 404 channel_not_found' });
    expect(failed?.expiresAt).toBeGreaterThan(clock.now / 1000);
    expect(failed?.dueAt).toBeUndefined();

    expect(await ledger.claimDue({ owner: 'a', leaseMs: LEASE, limit: 10 })).toEqual([]);
    clock.advance(5_000);
    const again = await claimOne('b');
    expect(again.entry).toMatchObject({ deliveryId: a!.entry.deliveryId, attempts: 2, lastError: 'HTTP 503' });
  });

  it('lets a stale owner record a send that happened, but nothing else', async () => {
    await ledger.enqueue([makePending('d-1')]);
    const stale = await claimOne('a');
    clock.advance(LEASE);
    const fresh = await claimOne('b');
    expect(await ledger.recordRetry(stale, { at: clock.now, error: 'x' })).toBe(false);
    expect(await ledger.recordFailed(stale, { reason: 'x' })).toBe(false);
    expect(await ledger.release(stale)).toBe(false);
    // the stale owner's send did happen: record it, and the new owner's outcome loses
    expect(await ledger.recordSent(stale, { messageId: 'late' })).toBe('sent-late');
    expect(await ledger.recordSent(fresh, { messageId: 'dup' })).toBe('already-sent');
    expect(await ledger.recordRetry(fresh, { at: clock.now, error: 'x' })).toBe(false);
    expect(await ledger.get(fresh.entry.deliveryId)).toMatchObject({ state: 'sent', messageId: 'late', attempts: 2 });
  });

  it('records a late send over a failure recorded by the next owner', async () => {
    await ledger.enqueue([makePending('d-1')]);
    const stale = await claimOne('a');
    clock.advance(LEASE);
    const fresh = await claimOne('b');
    expect(await ledger.recordFailed(fresh, { reason: 'HTTP 404' })).toBe(true);
    expect(await ledger.recordSent(stale, {})).toBe('sent-late');
    expect(await ledger.get(stale.entry.deliveryId)).toMatchObject({ state: 'sent', reason: 'HTTP 404' });
  });

  it('releases a claim without counting the attempt, due now or at a given time', async () => {
    await ledger.enqueue([makePending('d-1'), makePending('d-2')]);
    const [a, b] = await ledger.claimDue({ owner: 'a', leaseMs: LEASE, limit: 2 });
    expect(await ledger.release(a!)).toBe(true);
    expect(await ledger.get(a!.entry.deliveryId)).toMatchObject({ state: 'pending', attempts: 0, dueAt: clock.now });
    expect(await ledger.release(b!, { at: clock.now + 1_500 })).toBe(true);
    const claims = await ledger.claimDue({ owner: 'b', leaseMs: LEASE, limit: 10 });
    expect(claims.map((c) => c.entry.deliveryId)).toEqual([a!.entry.deliveryId]);
    // a released retry goes back to retrying
    expect(await ledger.recordRetry(claims[0]!, { at: clock.now, error: 'HTTP 500' })).toBe(true);
    const again = await claimOne('c');
    expect(again.entry.attempts).toBe(2);
    expect(await ledger.release(again)).toBe(true);
    expect(await ledger.get(again.entry.deliveryId)).toMatchObject({ state: 'retrying', attempts: 1 });
    clock.advance(1_500);
    expect((await ledger.claimDue({ owner: 'b', leaseMs: LEASE, limit: 10 })).map((c) => c.entry.deliveryId).sort()).toEqual([a!.entry.deliveryId, b!.entry.deliveryId].sort());
  });

  it('with takeOver false claims pending and retrying items but leaves expired claims to their holders', async () => {
    const items = [makePending('d-1'), makePending('d-2'), makePending('d-3')];
    await ledger.enqueue(items);
    const [expired, retried] = await ledger.claimDue({ owner: 'a', leaseMs: 1_000, limit: 2 });
    const untouched = items.map((i) => i.deliveryId).find((id) => id !== expired!.entry.deliveryId && id !== retried!.entry.deliveryId);
    expect(await ledger.recordRetry(retried!, { at: clock.now, error: 'HTTP 503' })).toBe(true);
    clock.advance(1_000); // the first claim's lease ran out unrecorded
    const cautious = await ledger.claimDue({ owner: 'b', leaseMs: LEASE, limit: 10, takeOver: false });
    expect(cautious.map((c) => c.entry.deliveryId).sort()).toEqual([retried!.entry.deliveryId, untouched].sort());
    expect(await ledger.get(expired!.entry.deliveryId)).toMatchObject({ state: 'sending', leaseOwner: 'a' });
    // the holder can still record its send; had it not, the default takes the claim over
    expect(await ledger.recordSent(expired!, {})).toBe('sent');
    await ledger.enqueue([makePending('d-4')]);
    const [orphan] = await ledger.claimDue({ owner: 'c', leaseMs: 1_000, limit: 1 });
    clock.advance(1_000);
    expect(await ledger.claimDue({ owner: 'b', leaseMs: LEASE, limit: 10, takeOver: false })).toEqual([]);
    expect((await ledger.claimDue({ owner: 'b', leaseMs: LEASE, limit: 10 })).map((c) => c.entry.deliveryId)).toEqual([orphan!.entry.deliveryId]);
  });

  it('gives each item to exactly one of two replicas claiming at once', async () => {
    const items = Array.from({ length: 40 }, (_, i) => makePending(`d-${i}`));
    await ledger.enqueue(items);
    const other = new DynamoLedger({ doc: clients.doc, table: table, clock: clock.read });
    const [a, b] = await Promise.all([
      ledger.claimDue({ owner: 'a', leaseMs: LEASE, limit: 40 }),
      other.claimDue({ owner: 'b', leaseMs: LEASE, limit: 40 }),
    ]);
    const ids = [...a, ...b].map((c) => c.entry.deliveryId);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
  });

  it('lists recent notifications newest first and leaves out expired ones', async () => {
    const ttl = new DynamoLedger({ doc: clients.doc, table: table, clock: clock.read, terminalTtlSeconds: 60 });
    await ttl.enqueue([makePending('d-1'), makePending('d-2'), makePending('d-3')]);
    const claims = await ttl.claimDue({ owner: 'a', leaseMs: LEASE, limit: 3 });
    const [first, second, third] = claims;
    clock.advance(10);
    await ttl.recordSent(first!, {});
    clock.advance(10);
    await ttl.recordFailed(second!, { reason: 'HTTP 404 channel_not_found' });
    clock.advance(10);
    await ttl.recordRetry(third!, { at: clock.now + 60_000, error: 'HTTP 503' });
    const recent = await ttl.recent(10);
    expect(recent.map((e) => [e.deliveryId, e.state])).toEqual([
      [third!.entry.deliveryId, 'retrying'],
      [second!.entry.deliveryId, 'failed'],
      [first!.entry.deliveryId, 'sent'],
    ]);
    expect(await ttl.recent(1)).toHaveLength(1);
    clock.advance(61_000);
    expect((await ttl.recent(10)).map((e) => e.state)).toEqual(['retrying']);
    expect(await ttl.get(first!.entry.deliveryId)).toBeUndefined();
    expect(await ttl.get(third!.entry.deliveryId)).toMatchObject({ state: 'retrying' });
  });

  it('throws StoreError naming the table when the store fails', async () => {
    const broken = new DynamoLedger({ doc: clients.doc, table: `${table}-missing`, clock: clock.read });
    await expect(broken.enqueue([makePending('d-1')])).rejects.toThrow(StoreError);
    await expect(broken.enqueue([makePending('d-1')])).rejects.toThrow(/could not enqueue 1 of 1 notifications in ledger table .*-missing/);
    await expect(broken.claimDue({ owner: 'a', leaseMs: LEASE, limit: 1 })).rejects.toThrow(/could not read the queue of ledger table/);
    await expect(broken.recent(5)).rejects.toThrow(StoreError);
  });

  it('checks its options', () => {
    expect(() => new DynamoLedger({ doc: clients.doc, table: table, terminalTtlSeconds: 0 })).toThrow('ledger terminalTtlSeconds must be positive, got 0');
    expect(() => new DynamoLedger({ doc: clients.doc, table: table, enqueueConcurrency: 0 })).toThrow(/enqueueConcurrency must be a whole number/);
  });
});
