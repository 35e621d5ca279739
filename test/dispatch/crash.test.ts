// SPEC "no lost notification" for dispatch with a real crash: a dispatcher process (the built
// code, test/dispatch/crash-child.mjs) is killed with SIGKILL while its send is in flight; another
// dispatcher delivers the notification once more after the lease expires, and never again.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { startDynalite, type LocalDynamo } from '../helpers/dynalite.js';
import { makePending } from './fixtures.js';
import { deliveredIds, eventually, REGISTRATION, startHarness, type Harness } from './harness.js';

const CHILD = fileURLToPath(new URL('./crash-child.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/dispatch/dispatcher.js', import.meta.url));

describe('a dispatcher process killed with SIGKILL mid-send', () => {
  let dynamo: LocalDynamo;
  let h: Harness;
  let child: ChildProcess | undefined;
  let survivor: Dispatcher | undefined;

  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => dynamo.close());
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    child?.kill('SIGKILL');
    await survivor?.stop({ deadlineMs: 100 });
    await h.close();
  });

  it('is redelivered exactly once, after its lease', async () => {
    expect(existsSync(BUILT), 'dist/ is missing: run `npm run build` first (npm test does)').toBe(true);
    const item = makePending('d-1');
    await h.ledger.enqueue([item]);
    // The first request is held open, so the child is killed with its send in flight.
    h.receiver.respondWith({ status: 200, body: 'ok', delayMs: 10_000 });

    child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, LEDGER_TABLE: h.table, HOOK_URL: `${h.receiver.url}/hook`, REGISTRATION },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [first] = await h.receiver.waitForRequests(1, 15_000);
    const held = await h.ledger.get(item.deliveryId);
    expect(held).toMatchObject({ state: 'sending', leaseOwner: 'child', attempts: 1 });
    const killed = new Promise((resolve) => child!.once('exit', (code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await killed).toBe('SIGKILL');

    const arrivals: number[] = [];
    h.receiver.setDefault(() => (arrivals.push(Date.now()), { status: 200, body: 'ok' }));
    survivor = h.dispatcher({ owner: 'survivor', pollIntervalMs: 50 });
    survivor.start();
    await eventually(async () => (await h.ledger.get(item.deliveryId))?.state === 'sent', 15_000, 'the redelivery');
    // more polls by the survivor must not send it again
    await new Promise((r) => setTimeout(r, 300));

    expect(deliveredIds(h.receiver)).toEqual([item.deliveryId, item.deliveryId]);
    expect(first!.headers['x-codedeploy-notify-attempt']).toBe('1');
    expect(h.receiver.requests[1]!.headers['x-codedeploy-notify-attempt']).toBe('2');
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0]!).toBeGreaterThanOrEqual(held!.leaseUntil!);
    const entry = await h.ledger.get(item.deliveryId);
    expect(entry).toMatchObject({ state: 'sent', attempts: 2 });
  });
});
