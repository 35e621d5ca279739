import { describe, expect, it } from 'vitest';
import { RegistrationCache, RegistrationsUnavailableError } from '../../src/dispatch/registrations.js';
import { Semaphore, sleep } from '../../src/util/concurrency.js';
import { makeRegistration, MemoryRegistrations, TestClock } from './fixtures.js';

const reg = (name: string) => makeRegistration(name, [{ name: 'hook', type: 'webhook', url: 'http://127.0.0.1:1/x' }]);

describe('RegistrationCache', () => {
  it('loads once, serves from the cache, and reloads when the list is old', async () => {
    const clock = new TestClock(0);
    const reader = new MemoryRegistrations([reg('a')]);
    const cache = new RegistrationCache(reader, { refreshMs: 30_000, missRefreshMs: 1_000, clock: clock.read });
    expect((await cache.find('a'))?.name).toBe('a');
    expect((await cache.find('a'))?.name).toBe('a');
    expect(reader.calls).toBe(1);
    reader.items = [];
    clock.advance(29_999);
    expect((await cache.find('a'))?.name).toBe('a');
    clock.advance(1);
    expect(await cache.find('a')).toBeUndefined();
    expect(reader.calls).toBe(2);
  });

  it('takes a primed list (the reconciler\'s scan) as a fresh load, unless it is older than what it holds', async () => {
    const clock = new TestClock(0);
    const reader = new MemoryRegistrations([reg('a')]);
    const cache = new RegistrationCache(reader, { refreshMs: 30_000, missRefreshMs: 1_000, clock: clock.read });
    cache.prime([reg('b')], clock.now);
    expect((await cache.find('b'))?.name).toBe('b');
    expect(reader.calls).toBe(0);
    clock.advance(29_000);
    cache.prime([reg('c')], clock.now - 100); // read 100 ms ago: 30 s more before the cache reloads itself
    clock.advance(29_000);
    expect((await cache.all()).map((r) => r.name)).toEqual(['c']);
    expect(reader.calls).toBe(0);
    // a list read before the one held is ignored
    cache.prime([reg('old')], clock.now - 60_000);
    expect((await cache.all()).map((r) => r.name)).toEqual(['c']);
    // a notification enqueued after the primed list was read still forces a reload on a miss
    reader.items = [reg('c'), reg('d')];
    expect((await cache.find('d', { notBefore: clock.now }))?.name).toBe('d');
    expect(reader.calls).toBe(1);
  });

  it('reloads on a miss, at most once per missRefreshMs', async () => {
    const clock = new TestClock(0);
    const reader = new MemoryRegistrations([reg('a')]);
    const cache = new RegistrationCache(reader, { missRefreshMs: 1_000, clock: clock.read });
    await cache.find('a');
    reader.items.push(reg('b'));
    expect(await cache.find('b')).toBeUndefined();
    expect(reader.calls).toBe(1);
    clock.advance(1_000);
    expect((await cache.find('b'))?.name).toBe('b');
    expect(reader.calls).toBe(2);
    expect(await cache.find('gone')).toBeUndefined();
    expect(await cache.find('gone')).toBeUndefined();
    expect(reader.calls).toBe(2);
  });

  it('shares one load between concurrent lookups', async () => {
    const reader = new MemoryRegistrations([reg('a'), reg('b')]);
    const cache = new RegistrationCache(reader);
    const found = await Promise.all(['a', 'b', 'a', 'b'].map((n) => cache.find(n)));
    expect(found.map((r) => r?.name)).toEqual(['a', 'b', 'a', 'b']);
    expect(reader.calls).toBe(1);
  });

  it('keeps serving the last good list when a reload fails, and refuses to call a miss "removed"', async () => {
    const clock = new TestClock(0);
    const reader = new MemoryRegistrations([reg('a')]);
    const cache = new RegistrationCache(reader, { refreshMs: 10_000, missRefreshMs: 1_000, clock: clock.read });
    await cache.find('a');
    reader.failWith = new Error('ThrottlingException: Rate exceeded');
    clock.advance(10_000);
    expect((await cache.find('a'))?.name).toBe('a');
    await expect(cache.find('b')).rejects.toThrow(RegistrationsUnavailableError);
    await expect(cache.find('b')).rejects.toThrow('could not read the registrations to find "b": ThrottlingException: Rate exceeded');
    reader.failWith = undefined;
    clock.advance(1_000);
    expect(await cache.find('b')).toBeUndefined();
  });

  it('looks again when the registration lacks what the caller needs and the list was read before notBefore', async () => {
    const clock = new TestClock(0);
    const reader = new MemoryRegistrations([reg('a')]);
    const cache = new RegistrationCache(reader, { missRefreshMs: 1_000, clock: clock.read });
    const hasAdded = { accept: (r: { spec: { channels: Array<{ name: string }> } }) => r.spec.channels.some((c) => c.name === 'added') };
    await cache.find('a');
    const updated = makeRegistration('a', [{ name: 'hook', type: 'webhook', url: 'http://127.0.0.1:1/x' }, { name: 'added', type: 'webhook', url: 'http://127.0.0.1:1/y' }], 2);
    reader.items = [updated];
    clock.advance(10);
    // within missRefreshMs, a list read at or after notBefore is trusted as it is
    expect((await cache.find('a', { ...hasAdded, notBefore: 0 }))?.version).toBe(1);
    expect(reader.calls).toBe(1);
    // a list read before notBefore (the notification's enqueue) is not: the newer registration is found
    expect((await cache.find('a', { ...hasAdded, notBefore: 5 }))?.version).toBe(2);
    expect(reader.calls).toBe(2);
    // once the list is fresh, a registration that still fails `accept` is returned as it is, without more loads
    expect((await cache.find('a', { accept: () => false, notBefore: 10 }))?.version).toBe(2);
    expect(reader.calls).toBe(2);
  });

  it('fails lookups when the first load fails', async () => {
    const reader = new MemoryRegistrations([reg('a')]);
    reader.failWith = new Error('no route to host');
    const cache = new RegistrationCache(reader);
    const error = await cache.find('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistrationsUnavailableError);
    expect((error as RegistrationsUnavailableError).code).toBe('registrations-unavailable');
    reader.failWith = undefined;
    cache.invalidate();
    expect((await cache.find('a'))?.name).toBe('a');
  });
});

describe('Semaphore', () => {
  it('serves waiters in arrival order and hands a released permit straight on', async () => {
    const semaphore = new Semaphore(1);
    const order: string[] = [];
    expect(await semaphore.acquire()).toBe(true);
    const b = semaphore.acquire().then((ok) => order.push(`b:${ok}`));
    const c = semaphore.acquire().then((ok) => order.push(`c:${ok}`));
    expect(semaphore.free).toBe(0);
    semaphore.release();
    await b;
    semaphore.release();
    await c;
    expect(order).toEqual(['b:true', 'c:true']);
    semaphore.release();
    expect(semaphore.free).toBe(1);
  });

  it('gives up a wait on abort without taking a permit', async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    const next = semaphore.acquire();
    controller.abort();
    expect(await waiting).toBe(false);
    semaphore.release();
    expect(await next).toBe(true);
    expect(await semaphore.acquire(AbortSignal.abort())).toBe(false);
  });

  it('checks its permits', () => {
    expect(() => new Semaphore(0)).toThrow('semaphore permits must be a whole number of at least 1, got 0');
  });
});

describe('sleep', () => {
  it('resolves true after the time, false on abort', async () => {
    expect(await sleep(1)).toBe(true);
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort();
    expect(await pending).toBe(false);
    expect(await sleep(10, AbortSignal.abort())).toBe(false);
  });
});
