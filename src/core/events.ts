import { createHash } from 'node:crypto';
import type { EventType } from '../config/registration.generated.js';

export type { EventType };

/** Every event type, in lifecycle order. */
export const EVENT_TYPES: readonly EventType[] = ['Started', 'Ready', 'Succeeded', 'Failed', 'Stopped'];

/** Events a registration or channel hears when it names none (SPEC: the default). */
export const DEFAULT_EVENTS: readonly EventType[] = ['Succeeded', 'Failed', 'Stopped'];

/** The deployment revision, as CodeDeploy describes it. */
export type Revision =
  | { type: 'GitHub'; repository?: string; commitId?: string }
  | { type: 'S3'; bucket?: string; key?: string; version?: string; eTag?: string; bundleType?: string }
  | { type: 'Other'; summary: string };

/** Instance (or task/function) counts from CodeDeploy's deploymentOverview. */
export interface InstanceCounts {
  pending: number;
  inProgress: number;
  succeeded: number;
  failed: number;
  skipped: number;
  ready: number;
}

/**
 * One deployment transition, with everything a good message needs. Produced by the poller
 * (poll/), persisted in the ledger with each notification, rendered by channels. All times are
 * ISO-8601 strings so the value survives JSON and DynamoDB unchanged.
 */
export interface DeploymentEvent {
  type: EventType;
  deploymentId: string;
  application: string;
  deploymentGroup: string;
  /** CodeDeploy status when the event was observed (Created, Queued, InProgress, Baking, Ready, Succeeded, Failed, Stopped). */
  status: string;
  region: string;
  /** AWS account id when known (from spec.roleArn, or the daemon's identity). */
  accountId?: string;
  /** user | autoscaling | codeDeployRollback | CloudFormation | ... */
  creator?: string;
  description?: string;
  revision?: Revision;
  error?: { code?: string; message?: string };
  instances?: InstanceCounts;
  computePlatform?: string;
  createTime: string;
  startTime?: string;
  completeTime?: string;
  /** completeTime - (startTime ?? createTime), when the deployment has ended. */
  durationSeconds?: number;
  /** When this transition happened: completeTime for terminal events, start or first sight otherwise. */
  occurredAt: string;
  /** Set when this deployment is a rollback, or was rolled back. */
  rollback?: {
    /** True when this deployment itself is an automatic rollback (creator codeDeployRollback). */
    isRollback: boolean;
    /** The deployment this one rolls back (rollbackInfo.rollbackTriggeringDeploymentId). */
    rollsBack?: string;
    /** The rollback deployment started because this one failed (rollbackInfo.rollbackDeploymentId). */
    rolledBackBy?: string;
    message?: string;
  };
  consoleUrl: string;
}

/** The registration fields a message shows. */
export interface RegistrationRef {
  name: string;
  owner?: string;
  labels?: Record<string, string>;
}

/**
 * One delivery: an event for one channel of one registration. `deliveryId` is stable for the
 * (deployment, event, registration, channel) tuple, so every retry, replica and restart agrees on
 * it; webhook receivers use it to drop repeats.
 */
export interface Notification {
  deliveryId: string;
  event: DeploymentEvent;
  registration: RegistrationRef;
  channelName: string;
  /** 1 for the first try. */
  attempt: number;
  /** True for `send-test`: channels label the message clearly as a test. */
  test: boolean;
}

/** The stable delivery id of (deployment, event, registration, channel): 32 hex characters. */
export function deliveryId(deploymentId: string, type: EventType, registration: string, channel: string): string {
  return createHash('sha256').update(`${deploymentId}\u0000${type}\u0000${registration}\u0000${channel}`).digest('hex').slice(0, 32);
}

/** The AWS console page of a deployment. */
export function consoleUrl(region: string, deploymentId: string): string {
  return `https://${region}.console.aws.amazon.com/codesuite/codedeploy/deployments/${encodeURIComponent(deploymentId)}?region=${region}`;
}
