// Random histories against an oracle: whatever deployments do and whenever registrations become
// live, both strategies deliver exactly the events the SPEC promises, once each, even with
// throttling and a restart in the middle. Ready is left out of the histories: it is defined by
// observation (see dueTransitions), so no history-only oracle exists for it.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVENTS, type EventType } from '../../src/core/events.js';
import { seededRandom, startCodeDeployServer, type SimStatus } from '../../src/local/codedeploy-server.js';
import { Poller, type PollStrategyName } from '../../src/poll/poller.js';
import { MemoryPollStateStore } from '../../src/store/poll-state.js';
import type { LiveRegistration } from '../../src/store/ports.js';
import { liveRegistration, MemorySink, TestClock } from './fixtures.js';

const T0 = Date.UTC(2026, 10, 23, 0, 0, 0);
const MINUTE = 60_000;
const POLL_EVERY = 10 * MINUTE;
const HORIZON = 8 * 60 * MINUTE;
const APPS = ['a', 'b', 'c'] as const;
const GROUPS = ['g1', 'g2'] as const;

interface DeploymentPlan {
  application: (typeof APPS)[number];
  group: (typeof GROUPS)[number];
  createAt: number;
  /** Statuses after Created, each with the delay before it. */
  path: Array<{ status: SimStatus; after: number }>;
}

interface RegistrationPlan {
  application: (typeof APPS)[number];
  groups?: Array<(typeof GROUPS)[number]>;
  events?: EventType[];
  liveAt: number;
}

const minutes = (max: number) => fc.integer({ min: 0, max }).map((m) => m * MINUTE);

const pathArb: fc.Arbitrary<DeploymentPlan['path']> = fc.oneof(
  fc.tuple(minutes(120), minutes(240), fc.constantFrom<SimStatus>('Succeeded', 'Failed', 'Stopped')).map(([a, b, end]) => [
    { status: 'InProgress' as SimStatus, after: a },
    { status: end, after: b },
  ]),
  fc.tuple(minutes(60), minutes(60)).map(([a, b]) => [{ status: 'Queued' as SimStatus, after: a }, { status: 'Stopped' as SimStatus, after: b }]),
  minutes(120).map((a) => [{ status: 'InProgress' as SimStatus, after: a }]),
  fc.constant<DeploymentPlan['path']>([]),
);

const deploymentArb: fc.Arbitrary<DeploymentPlan> = fc.record({
  application: fc.constantFrom(...APPS),
  group: fc.constantFrom(...GROUPS),
  createAt: minutes(HORIZON / MINUTE - 60),
  path: pathArb,
});

const registrationArb: fc.Arbitrary<RegistrationPlan> = fc.record(
  {
    application: fc.constantFrom(...APPS),
    groups: fc.subarray([...GROUPS], { minLength: 1 }),
    events: fc.subarray<EventType>(['Started', 'Succeeded', 'Failed', 'Stopped'], { minLength: 1 }),
    liveAt: fc.oneof(fc.constant(-MINUTE), minutes(HORIZON / MINUTE)),
  },
  { requiredKeys: ['application', 'liveAt'] },
);

const historyArb: fc.Arbitrary<History> = fc.record({
  deployments: fc.array(deploymentArb, { minLength: 1, maxLength: 8 }),
  registrations: fc.array(registrationArb, { minLength: 1, maxLength: 3 }),
  restartAt: fc.option(fc.integer({ min: 1, max: HORIZON / POLL_EVERY - 1 }), { nil: undefined }),
  throttleSeed: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: undefined }),
});

interface History {
  deployments: DeploymentPlan[];
  registrations: RegistrationPlan[];
  /** Poll number at which the poller is replaced by a new instance (a restart). */
  restartAt: number | undefined;
  /** When set, 30% of CodeDeploy calls are throttled (seeded). */
  throttleSeed: number | undefined;
}

function registrationsOf(history: History): LiveRegistration[] {
  return history.registrations.map((r, i) =>
    liveRegistration(`r${i}`, {
      application: r.application,
      ...(r.groups ? { deploymentGroups: r.groups } : {}),
      channels: [{ name: 'hook', type: 'webhook', url: 'https://hooks.example.com/x', ...(r.events ? { events: r.events } : {}) }],
    }, { createdAt: T0 + r.liveAt }),
  );
}

/** What the SPEC promises for a history: every subscribed transition at or after the registration became live. */
function oracle(history: History): string[] {
  const keys: string[] = [];
  history.deployments.forEach((d, i) => {
    const id = `d-${i}`;
    let t = T0 + d.createAt;
    const transitions: Array<{ type: EventType; at: number }> = [];
    let started = false;
    for (const step of d.path) {
      t += step.after;
      if (step.status === 'InProgress' && !started) {
        started = true;
        transitions.push({ type: 'Started', at: t });
      }
      if (step.status === 'Succeeded' || step.status === 'Failed' || step.status === 'Stopped') transitions.push({ type: step.status, at: t });
    }
    history.registrations.forEach((r, j) => {
      if (r.application !== d.application || (r.groups && !r.groups.includes(d.group))) return;
      const events = r.events ?? DEFAULT_EVENTS;
      for (const tr of transitions) if (events.includes(tr.type) && tr.at >= T0 + r.liveAt) keys.push(`${id}:${tr.type}:r${j}/hook`);
    });
  });
  return keys.sort();
}

/** Replays a history against the fake CodeDeploy, polling every 10 simulated minutes. */
async function replay(history: History, strategy: PollStrategyName): Promise<MemorySink> {
  const clock = new TestClock(T0);
  const server = await startCodeDeployServer({ clock: clock.now, pageSize: 3 });
  process.env.AWS_ENDPOINT_URL_CODEDEPLOY = server.url;
  if (history.throttleSeed !== undefined) {
    server.faults.random = seededRandom(history.throttleSeed);
    server.faults.throttleRate = 0.3;
  }
  const state = new MemoryPollStateStore({ clock: clock.now });
  const sink = new MemorySink();
  // concurrency 1: the seeded throttling hits the same calls on every run of a history.
  const make = () => new Poller({ state, sink, defaultRegion: 'us-east-1', strategy, clock: clock.now, maxAttempts: 1, groupCacheMs: 0, concurrency: 1 });
  let poller = make();
  const actions: Array<{ at: number; run: () => void }> = [];
  history.deployments.forEach((d, i) => {
    let t = T0 + d.createAt;
    actions.push({ at: t, run: () => void server.model.createDeployment({ deploymentId: `d-${i}`, application: d.application, group: d.group }) });
    for (const step of d.path) {
      t += step.after;
      actions.push({ at: t, run: () => void server.model.setStatus(`d-${i}`, step.status) });
    }
  });
  actions.sort((a, b) => a.at - b.at);
  const all = registrationsOf(history);
  try {
    // Ten extra hours of polls after the last action so that everything settles even when throttled.
    const end = Math.max(T0 + HORIZON, ...actions.map((a) => a.at)) + 10 * 60 * MINUTE;
    let next = 0;
    for (let tick = 1; T0 + tick * POLL_EVERY <= end; tick += 1) {
      const pollAt = T0 + tick * POLL_EVERY;
      while (next < actions.length && (actions[next] as (typeof actions)[number]).at <= pollAt) {
        const action = actions[next] as (typeof actions)[number];
        clock.ms = action.at;
        action.run();
        next += 1;
      }
      clock.ms = pollAt;
      if (history.restartAt === tick) {
        poller.close();
        poller = make();
      }
      await poller.pollOnce(all.filter((r) => Date.parse(r.createdAt) <= pollAt));
    }
  } finally {
    poller.close();
    await server.close();
  }
  return sink;
}

describe('poller against random histories', () => {
  afterAll(() => {
    delete process.env.AWS_ENDPOINT_URL_CODEDEPLOY;
  });

  it('delivers exactly the promised events, once, with both strategies', async () => {
    await fc.assert(
      fc.asyncProperty(historyArb, async (history) => {
        const want = oracle(history);
        for (const strategy of ['account', 'application'] as const) {
          const sink = await replay(history, strategy);
          expect(sink.keys(), strategy).toEqual(want);
          expect(sink.all().length, `${strategy}: nothing enqueued twice`).toBe(sink.byId.size);
        }
      }),
      { numRuns: 30, endOnFailure: true },
    );
  });
});
