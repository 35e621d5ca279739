import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import type { EventType } from '../core/events.js';

/** CodeDeploy statuses after which a deployment never changes. */
export const TERMINAL_STATUSES: readonly string[] = ['Succeeded', 'Failed', 'Stopped'];

/** Statuses in which a deployment is running (it has started and not ended). */
export const RUNNING_STATUSES: readonly string[] = ['InProgress', 'Baking', 'Ready'];

/** True for Succeeded, Failed and Stopped. */
export function isTerminal(status: string | undefined): boolean {
  return status !== undefined && TERMINAL_STATUSES.includes(status);
}

/** One event a deployment went through, and when (epoch milliseconds). */
export interface Transition {
  type: EventType;
  occurredAt: number;
}

/** The deployment fields the mapping reads. */
export type TransitionInput = Pick<DeploymentInfo, 'status' | 'createTime' | 'startTime' | 'completeTime'>;

/**
 * Status → events, as a pure function: the transitions a deployment has gone through, as far as
 * one observation at `observedAt` can tell, minus those in `emitted` (already handled for this
 * deployment), in lifecycle order.
 *
 * - `Started` once the deployment runs (InProgress, Baking, Ready) or has ended after starting
 *   (a startTime is set); occurredAt = startTime, else createTime. A deployment that ended without
 *   ever starting (stopped while queued) has no Started.
 * - `Ready` only when this observation sees status Ready; occurredAt = `observedAt`, since
 *   CodeDeploy records no time for it. A deployment that passes through Ready between two polls,
 *   or is first seen after it, gets no Ready event: inventing one would announce a wait that may
 *   never have happened (only blue/green deployments with manual reroute wait in Ready).
 * - `Succeeded`, `Failed`, `Stopped` when the status is terminal; occurredAt = completeTime, else
 *   `observedAt`.
 * - Created and Queued produce nothing yet.
 */
export function dueTransitions(info: TransitionInput, emitted: Iterable<EventType>, observedAt: number): Transition[] {
  const done = new Set(emitted);
  const status = info.status;
  const all: Transition[] = [];
  if (status === undefined) return all;
  const started = RUNNING_STATUSES.includes(status) || (isTerminal(status) && info.startTime !== undefined);
  if (started) all.push({ type: 'Started', occurredAt: time(info.startTime) ?? time(info.createTime) ?? observedAt });
  if (status === 'Ready') all.push({ type: 'Ready', occurredAt: observedAt });
  if (isTerminal(status)) all.push({ type: status as EventType, occurredAt: time(info.completeTime) ?? observedAt });
  return all.filter((t) => !done.has(t.type));
}

function time(value: Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value.getTime();
  return Number.isFinite(ms) ? ms : undefined;
}
