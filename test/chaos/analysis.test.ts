// The chaos run's checks on their own: each kind of failure the run must catch is shown to be caught.
import { describe, expect, it } from 'vitest';
import { deliveryId, EVENT_TYPES, type EventType } from '../../src/core/events.js';
import { analyzeDeliveries, deploymentEvents, expectedDeliveries, problemsOf, type Arrival, type DeploymentFacts, type Subscription } from './analysis.js';

const LIVE = 1_000_000;
const sub = (registration: string, application: string, extra: Partial<Subscription> = {}): Subscription => ({
  registration,
  application,
  channel: 'hook',
  events: EVENT_TYPES,
  createdAt: LIVE,
  ...extra,
});

function arrival(id: string, event: EventType, at: number, source: string, deploymentId = 'd-1', registration = 'reg-a'): Arrival {
  return { at, source, deliveryId: id, eventHeader: event, body: { deploymentId, event, registration, channel: 'hook' }, answeredAt: at + 100 };
}

describe('deploymentEvents', () => {
  it('Started only when the deployment started; Ready only when held in Ready; the terminal status', () => {
    expect(deploymentEvents({ deploymentId: 'd', application: 'a', group: 'g', status: 'Stopped', completeTime: 5 }).map((e) => e.type)).toEqual(['Stopped']);
    expect(deploymentEvents({ deploymentId: 'd', application: 'a', group: 'g', status: 'Succeeded', startTime: 2, readyAt: 3, completeTime: 5 })).toEqual([
      { type: 'Started', occurredAt: 2 },
      { type: 'Ready', occurredAt: 3 },
      { type: 'Succeeded', occurredAt: 5 },
    ]);
  });
});

describe('expectedDeliveries', () => {
  const deployments: DeploymentFacts[] = [
    { deploymentId: 'd-1', application: 'app-a', group: 'production', status: 'Failed', startTime: LIVE + 1, completeTime: LIVE + 2 },
    // started before the registration was live, finished after: only the terminal event is owed
    { deploymentId: 'd-2', application: 'app-a', group: 'staging', status: 'Succeeded', startTime: LIVE - 10, completeTime: LIVE + 5 },
    // entirely before: nothing
    { deploymentId: 'd-3', application: 'app-a', group: 'production', status: 'Succeeded', startTime: LIVE - 10, completeTime: LIVE - 5 },
    // nobody registers app-x
    { deploymentId: 'd-4', application: 'app-x', group: 'production', status: 'Succeeded', startTime: LIVE + 1, completeTime: LIVE + 2 },
  ];

  it('owes each subscribed event after the registration went live, per registration and channel', () => {
    const expected = expectedDeliveries(deployments, [sub('reg-a', 'app-a'), sub('reg-b', 'app-a', { groups: ['production'], events: ['Failed'] })]);
    const tuples = [...expected.values()].map((e) => `${e.deploymentId} ${e.event} ${e.registration}`).sort();
    expect(tuples).toEqual(['d-1 Failed reg-a', 'd-1 Failed reg-b', 'd-1 Started reg-a', 'd-2 Succeeded reg-a']);
    expect(expected.has(deliveryId('d-1', 'Failed', 'reg-b', 'hook'))).toBe(true);
  });
});

describe('analyzeDeliveries', () => {
  const started = deliveryId('d-1', 'Started', 'reg-a', 'hook');
  const failed = deliveryId('d-1', 'Failed', 'reg-a', 'hook');
  const expected = expectedDeliveries([{ deploymentId: 'd-1', application: 'app-a', group: 'g', status: 'Failed', startTime: LIVE + 1, completeTime: LIVE + 2 }], [sub('reg-a', 'app-a')]);
  const options = { recordSlackMs: 1_000 };

  it('passes a clean timeline, and counts a repeat whose first send was in flight when its sender was killed', () => {
    const arrivals = [arrival(started, 'Started', 100, 'r0-1'), arrival(failed, 'Failed', 200, 'r0-1'), arrival(failed, 'Failed', 9_000, 'r1-1')];
    const result = analyzeDeliveries(expected, arrivals, [{ at: 250, victim: 'r0-1' }], options);
    expect(problemsOf(result)).toEqual([]);
    expect(result.repeatCount).toBe(1);
    expect(result.repeats[0]?.arrivals[0]?.beforeKillMs).toBe(50);
    expect(result.maxInFlightGapMs).toBe(50);
    expect(result.cutOff).toEqual({ beforeAnswer: 1, afterAnswer: 0 });
    // killed after the answer, before the outcome could be recorded: cut off too
    const late = analyzeDeliveries(expected, arrivals, [{ at: 200 + 100 + 1_000, victim: 'r0-1' }], options);
    expect(late.unexplainedRepeats).toEqual([]);
    expect(late.cutOff).toEqual({ beforeAnswer: 0, afterAnswer: 1 });
    expect(result.dedup).toEqual({ accepted: 2, dropped: 1, missing: 0, extra: 0, repeatedTuples: 0 });
  });

  it('flags a missing delivery', () => {
    const result = analyzeDeliveries(expected, [arrival(started, 'Started', 100, 'r0-1')], [], options);
    expect(result.missing.map((m) => m.event)).toEqual(['Failed']);
    expect(result.dedup.missing).toBe(1);
    expect(problemsOf(result).join('\n')).toMatch(/1 expected deliveries never arrived: d-1 Failed/);
  });

  it('flags a repeat without a kill, a kill long after the send, or a kill of another process', () => {
    const twice = [arrival(started, 'Started', 100, 'r0-1'), arrival(failed, 'Failed', 200, 'r0-1'), arrival(failed, 'Failed', 9_000, 'r1-1')];
    expect(analyzeDeliveries(expected, twice, [], options).unexplainedRepeats).toHaveLength(1);
    expect(analyzeDeliveries(expected, twice, [{ at: 200 + 100 + 1_001, victim: 'r0-1' }], options).unexplainedRepeats).toHaveLength(1);
    expect(analyzeDeliveries(expected, twice, [{ at: 250, victim: 'r1-1' }], options).unexplainedRepeats).toHaveLength(1);
    expect(problemsOf(analyzeDeliveries(expected, twice, [], options)).join('\n')).toMatch(/repeated without a kill/);
    // the later sender dying does not excuse the earlier send
    expect(analyzeDeliveries(expected, twice, [{ at: 9_010, victim: 'r1-1' }], options).unexplainedRepeats).toHaveLength(1);
  });

  it('flags an unexpected delivery: an unsubscribed deployment, or an event before the registration was live', () => {
    const early = deliveryId('d-0', 'Succeeded', 'reg-a', 'hook');
    const arrivals = [arrival(started, 'Started', 100, 'r0-1'), arrival(failed, 'Failed', 200, 'r0-1'), arrival(early, 'Succeeded', 300, 'r0-1', 'd-0')];
    const result = analyzeDeliveries(expected, arrivals, [], options);
    expect(result.unexpected.map((a) => a.deliveryId)).toEqual([early]);
    expect(result.dedup.extra).toBe(1);
    expect(problemsOf(result).join('\n')).toMatch(/1 unexpected deliveries: d-0 Succeeded/);
  });

  it('flags a delivery header that does not match the body, which a deduping receiver could not drop', () => {
    const unstable = { ...arrival(failed, 'Failed', 9_000, 'r1-1'), deliveryId: 'f'.repeat(32) };
    const arrivals = [arrival(started, 'Started', 100, 'r0-1'), arrival(failed, 'Failed', 200, 'r0-1'), unstable];
    const result = analyzeDeliveries(expected, arrivals, [{ at: 250, victim: 'r0-1' }], options);
    expect(result.malformed).toHaveLength(1);
    expect(result.dedup.repeatedTuples).toBe(1);
    expect(problemsOf(result).length).toBeGreaterThanOrEqual(2);
  });

  it('flags an event header that disagrees with the body', () => {
    const wrong = { ...arrival(started, 'Started', 100, 'r0-1'), eventHeader: 'Ready' };
    expect(analyzeDeliveries(expected, [wrong, arrival(failed, 'Failed', 200, 'r0-1')], [], options).malformed).toHaveLength(1);
  });
});
