// The chaos run's verdict, as pure functions: which deliveries were owed (from what the fake
// CodeDeploy did and the subscriptions), and what the receiver's timeline says about them
// (missing, unexpected, malformed, repeats and whether each repeat was a send in flight at a kill,
// and what a receiver that drops repeated delivery ids would have seen). No I/O, so the checks are
// tested on their own (analysis.test.ts) and cannot pass by accident.
import { deliveryId, type EventType } from '../../src/core/events.js';

/** What one deployment went through, read from the fake CodeDeploy's model and the driver's journal. Times are epoch ms. */
export interface DeploymentFacts {
  deploymentId: string;
  application: string;
  group: string;
  /** Final status (every deployment has ended when the verdict is taken). */
  status: string;
  startTime?: number;
  completeTime?: number;
  /** When the driver put the deployment in status Ready (blue/green), if it did. */
  readyAt?: number;
}

/** One channel of one live registration, and when that registration became live (epoch ms). */
export interface Subscription {
  registration: string;
  application: string;
  /** Undefined: every group. */
  groups?: readonly string[];
  channel: string;
  events: readonly EventType[];
  createdAt: number;
}

/** One delivery that must arrive (at least once). */
export interface ExpectedDelivery {
  deliveryId: string;
  deploymentId: string;
  event: EventType;
  registration: string;
  channel: string;
  /** When the event happened (epoch ms); at or after the registration's createdAt. */
  occurredAt: number;
}

const TERMINAL: readonly string[] = ['Succeeded', 'Failed', 'Stopped'];

/**
 * The events a finished deployment owes, independently of the product's code: Started when it
 * ever started (startTime set), Ready when it was held in Ready (the driver holds it there until
 * the Ready delivery arrives, so observing it is not left to chance), and its terminal status.
 */
export function deploymentEvents(d: DeploymentFacts): Array<{ type: EventType; occurredAt: number }> {
  const out: Array<{ type: EventType; occurredAt: number }> = [];
  if (d.startTime !== undefined) out.push({ type: 'Started', occurredAt: d.startTime });
  if (d.readyAt !== undefined) out.push({ type: 'Ready', occurredAt: d.readyAt });
  if (TERMINAL.includes(d.status)) out.push({ type: d.status as EventType, occurredAt: d.completeTime ?? Number.NaN });
  return out;
}

/**
 * Deployments × subscriptions → every delivery owed, keyed by delivery id: the application
 * matches, the group is watched, the channel hears the event, and the event happened at or after
 * the registration became live (SPEC: a registration hears only events after it is live).
 */
export function expectedDeliveries(deployments: readonly DeploymentFacts[], subscriptions: readonly Subscription[]): Map<string, ExpectedDelivery> {
  const out = new Map<string, ExpectedDelivery>();
  for (const d of deployments) {
    for (const event of deploymentEvents(d)) {
      for (const s of subscriptions) {
        if (s.application !== d.application) continue;
        if (s.groups !== undefined && !s.groups.includes(d.group)) continue;
        if (!s.events.includes(event.type)) continue;
        if (!(event.occurredAt >= s.createdAt)) continue;
        const id = deliveryId(d.deploymentId, event.type, s.registration, s.channel);
        out.set(id, { deliveryId: id, deploymentId: d.deploymentId, event: event.type, registration: s.registration, channel: s.channel, occurredAt: event.occurredAt });
      }
    }
  }
  return out;
}

/** One request as the webhook receiver saw it. */
export interface Arrival {
  /** Epoch ms when the whole request had arrived. */
  at: number;
  /** The process incarnation that sent it (each incarnation has its own receiver path). */
  source: string;
  /** X-CodeDeploy-Notify-Delivery. */
  deliveryId: string;
  /** X-CodeDeploy-Notify-Event. */
  eventHeader: string;
  /** The body's identifying fields; undefined when the body was not a webhook document. */
  body?: { deploymentId: string; event: string; registration: string; channel: string };
  /** Epoch ms when the receiver answered (or would have, had the sender still been there); default `at`. */
  answeredAt?: number;
}

/** One SIGKILL. */
export interface Kill {
  /** Epoch ms when the signal was sent. */
  at: number;
  /** The incarnation killed. */
  victim: string;
}

/** A delivery id that arrived more than once. */
export interface Repeat {
  deliveryId: string;
  arrivals: Array<{
    at: number;
    source: string;
    /** ms from this arrival to the kill of its sender, when the kill cut this send off. */
    beforeKillMs?: number;
    /** True when the kill came before the receiver's answer (the send was still waiting for it). */
    beforeAnswer?: boolean;
  }>;
  /** Arrivals before the last one whose sender was not killed while that send could still be in flight. Must be 0. */
  unexplained: number;
}

/** The verdict on a receiver's timeline. */
export interface DeliveryAnalysis {
  expected: number;
  arrivals: number;
  /** Expected deliveries that arrived at least once. */
  delivered: number;
  missing: ExpectedDelivery[];
  /** Arrivals whose delivery id nobody was owed (an unsubscribed event, or one before the registration was live). */
  unexpected: Arrival[];
  /** Arrivals whose delivery header does not match the body's (deployment, event, registration, channel), or whose event header disagrees. */
  malformed: Arrival[];
  repeats: Repeat[];
  /** Extra arrivals in total (arrivals of a delivery id beyond its first). */
  repeatCount: number;
  /** Repeats with an earlier arrival not explained by a kill: sends repeated without their process dying. */
  unexplainedRepeats: Repeat[];
  /** Largest gap between a cut-off send's arrival and the kill of its sender. */
  maxInFlightGapMs: number;
  /** Cut-off sends whose sender was killed before the receiver answered, and after it answered but before the outcome could be recorded. */
  cutOff: { beforeAnswer: number; afterAnswer: number };
  /** A receiver that keeps the first arrival of each delivery id and drops the rest. */
  dedup: {
    accepted: number;
    dropped: number;
    /** Expected deliveries it never accepted. */
    missing: number;
    /** Accepted deliveries nobody was owed. */
    extra: number;
    /** (deployment, event, registration, channel) accepted more than once (under different delivery ids). */
    repeatedTuples: number;
  };
}

/**
 * Judges a receiver timeline. An arrival is a send cut off by a kill when its sender incarnation
 * was SIGKILLed after it arrived and no later than `recordSlackMs` after the receiver answered it:
 * the sender had no answer yet, or no time to record it in the ledger. (An arrival seen up to
 * `graceMs` after its sender's kill counts too: bytes the process wrote before it died can be read
 * a moment later.) Every arrival of a delivery id but the last must be such a cut-off send: the
 * last is the send that counted.
 */
export function analyzeDeliveries(
  expected: ReadonlyMap<string, ExpectedDelivery>,
  arrivals: readonly Arrival[],
  kills: readonly Kill[],
  options: { recordSlackMs: number; graceMs?: number },
): DeliveryAnalysis {
  const graceMs = options.graceMs ?? 250;
  const ordered = [...arrivals].sort((a, b) => a.at - b.at);
  const byId = new Map<string, Arrival[]>();
  for (const a of ordered) {
    const list = byId.get(a.deliveryId);
    if (list) list.push(a);
    else byId.set(a.deliveryId, [a]);
  }

  const missing = [...expected.values()].filter((e) => !byId.has(e.deliveryId));
  const unexpected = ordered.filter((a) => !expected.has(a.deliveryId));
  const malformed = ordered.filter((a) => {
    if (!a.body) return true;
    if (a.eventHeader !== a.body.event) return true;
    return deliveryId(a.body.deploymentId, a.body.event as EventType, a.body.registration, a.body.channel) !== a.deliveryId;
  });

  const killsOf = new Map<string, number[]>();
  for (const k of kills) killsOf.set(k.victim, [...(killsOf.get(k.victim) ?? []), k.at]);
  let maxInFlightGapMs = 0;
  const cutOff = { beforeAnswer: 0, afterAnswer: 0 };
  const repeats: Repeat[] = [];
  for (const [id, list] of byId) {
    if (list.length < 2) continue;
    let unexplained = 0;
    const detail = list.map((a, i) => {
      const answeredAt = a.answeredAt ?? a.at;
      const kill = (killsOf.get(a.source) ?? []).find((at) => at >= a.at - graceMs && at <= answeredAt + options.recordSlackMs);
      const last = i === list.length - 1;
      // the last arrival is the send that counted; every earlier one must have been cut off by a kill
      if (kill === undefined && !last) unexplained += 1;
      if (kill !== undefined && !last) {
        maxInFlightGapMs = Math.max(maxInFlightGapMs, kill - a.at);
        cutOff[kill < answeredAt ? 'beforeAnswer' : 'afterAnswer'] += 1;
      }
      return { at: a.at, source: a.source, ...(kill !== undefined ? { beforeKillMs: kill - a.at, beforeAnswer: kill < answeredAt } : {}) };
    });
    repeats.push({ deliveryId: id, arrivals: detail, unexplained });
  }

  const acceptedIds = new Set<string>();
  const acceptedTuples = new Map<string, number>();
  let dropped = 0;
  for (const a of ordered) {
    if (acceptedIds.has(a.deliveryId)) {
      dropped += 1;
      continue;
    }
    acceptedIds.add(a.deliveryId);
    const tuple = a.body ? `${a.body.deploymentId}\u0000${a.body.event}\u0000${a.body.registration}\u0000${a.body.channel}` : `?${a.deliveryId}`;
    acceptedTuples.set(tuple, (acceptedTuples.get(tuple) ?? 0) + 1);
  }

  return {
    expected: expected.size,
    arrivals: ordered.length,
    delivered: expected.size - missing.length,
    missing,
    unexpected,
    malformed,
    repeats,
    repeatCount: repeats.reduce((sum, r) => sum + r.arrivals.length - 1, 0),
    unexplainedRepeats: repeats.filter((r) => r.unexplained > 0),
    maxInFlightGapMs,
    cutOff,
    dedup: {
      accepted: acceptedIds.size,
      dropped,
      missing: [...expected.keys()].filter((id) => !acceptedIds.has(id)).length,
      extra: [...acceptedIds].filter((id) => !expected.has(id)).length,
      repeatedTuples: [...acceptedTuples.values()].filter((n) => n > 1).length,
    },
  };
}

/** Every way the verdict can fail, as one line each; empty when the run met every guarantee. */
export function problemsOf(analysis: DeliveryAnalysis): string[] {
  const problems: string[] = [];
  const show = <T>(items: readonly T[], format: (item: T) => string) => items.slice(0, 5).map(format).join('; ') + (items.length > 5 ? `; … (${items.length - 5} more)` : '');
  if (analysis.missing.length > 0) {
    problems.push(`${analysis.missing.length} expected deliveries never arrived: ${show(analysis.missing, (m) => `${m.deploymentId} ${m.event} → ${m.registration}/${m.channel}`)}`);
  }
  if (analysis.unexpected.length > 0) {
    problems.push(`${analysis.unexpected.length} unexpected deliveries: ${show(analysis.unexpected, (a) => `${a.body?.deploymentId ?? '?'} ${a.eventHeader} → ${a.body?.registration ?? '?'} from ${a.source}`)}`);
  }
  if (analysis.malformed.length > 0) {
    problems.push(`${analysis.malformed.length} deliveries whose delivery id or event header does not match their body: ${show(analysis.malformed, (a) => a.deliveryId)}`);
  }
  if (analysis.unexplainedRepeats.length > 0) {
    problems.push(
      `${analysis.unexplainedRepeats.length} delivery ids repeated without a kill of their sender while in flight: ${show(analysis.unexplainedRepeats, (r) => `${r.deliveryId} (${r.arrivals.map((a) => `${a.source}@${a.at}`).join(', ')})`)}`,
    );
  }
  const { dedup } = analysis;
  if (dedup.missing > 0 || dedup.extra > 0 || dedup.repeatedTuples > 0) {
    problems.push(`the deduping receiver saw ${dedup.missing} missing, ${dedup.extra} extra and ${dedup.repeatedTuples} repeated (deployment, event, registration, channel)`);
  }
  return problems;
}
