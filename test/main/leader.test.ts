import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.js';
import { LeaderElector, type LeasePort } from '../../src/main/leader.js';
import { DynamoLease } from '../../src/store/lease.js';
import { freshTables, startDynalite, type LocalDynamo } from '../helpers/dynalite.js';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterAll(async () => dynamo.close());

const DURATION = 10_000;
const RENEW = 3_000;

async function setup() {
  const { names, clients } = await freshTables('lease');
  let now = 1_000_000;
  const clock = () => now;
  const changes: string[] = [];
  const elector = (owner: string) =>
    new LeaderElector({
      lease: new DynamoLease(clients.doc, names.state, 'leader'),
      owner,
      durationMs: DURATION,
      renewEveryMs: RENEW,
      clock,
      logger: silentLogger(),
      onChange: (leader) => changes.push(`${owner}:${leader}`),
    });
  return { clients, names, elector, changes, advance: (ms: number) => (now += ms), lease: new DynamoLease(clients.doc, names.state, 'leader') };
}

describe('leader election on a DynamoDB lease', () => {
  it('exactly one of two replicas leads; the standby takes over after the leader dies, within two lease periods', async () => {
    const { elector, changes, advance, lease, clients } = await setup();
    const a = elector('a');
    const b = elector('b');
    await a.tick();
    await b.tick();
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    // a keeps renewing; b stays standby
    for (let i = 0; i < 5; i++) {
      advance(RENEW);
      await a.tick();
      await b.tick();
      expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    }
    // a dies (no more ticks, no release): b takes over once the lease has expired
    let waited = 0;
    while (!b.isLeader) {
      advance(RENEW);
      waited += RENEW;
      await b.tick();
      expect(waited).toBeLessThanOrEqual(2 * DURATION);
    }
    expect(waited).toBeGreaterThan(DURATION - RENEW);
    expect(changes).toEqual(['a:true', 'b:true']);
    expect((await lease.read())?.epoch).toBe(2);
    // a comes back from a long pause: its renewal is refused and it steps down
    await a.tick();
    expect(a.isLeader).toBe(false);
    expect(changes).toEqual(['a:true', 'b:true', 'a:false']);
    clients.destroy();
  });

  it('stop() releases the lease so a standby takes over at once', async () => {
    const { elector, clients } = await setup();
    const a = elector('a');
    const b = elector('b');
    await a.tick();
    await b.tick();
    expect(b.isLeader).toBe(false);
    await a.stop();
    expect(a.isLeader).toBe(false);
    await b.tick();
    expect(b.isLeader).toBe(true);
    clients.destroy();
  });

  it('a leader that cannot reach the store steps down before its lease could have expired', async () => {
    let now = 0;
    let reachable = true;
    const flaky: LeasePort = {
      acquire: async () => {
        if (!reachable) throw new Error('connect ECONNREFUSED 127.0.0.1');
        return true;
      },
      renew: async () => {
        if (!reachable) throw new Error('connect ECONNREFUSED 127.0.0.1');
        return true;
      },
      release: async () => {},
    };
    const changes: boolean[] = [];
    const a = new LeaderElector({ lease: flaky, owner: 'a', durationMs: DURATION, renewEveryMs: RENEW, clock: () => now, logger: silentLogger(), onChange: (l) => changes.push(l) });
    await a.tick(); // confirmed until 10 s
    expect(a.isLeader).toBe(true);
    reachable = false;
    now = RENEW;
    await a.tick();
    expect(a.isLeader).toBe(true); // still well inside its confirmed lease
    now = DURATION - RENEW;
    await a.tick();
    expect(a.isLeader).toBe(false); // can no longer vouch for the lease: steps down before it expires
    expect(changes).toEqual([true, false]);
    reachable = true;
    now += RENEW;
    await a.tick();
    expect(a.isLeader).toBe(true);
  });
});
