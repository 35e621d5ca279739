import type { ChannelType, RegistrationSpec } from '../config/registration.generated.js';
import type { DeploymentEvent, RegistrationRef } from '../core/events.js';

/** Value of `managedBy` on items the reconciler owns (SPEC). */
export const MANAGED_BY_GIT = 'git';

/**
 * A registration as it lives in the `<prefix>registrations` table. Items written by other tools
 * (`managedBy` other than "git") are read too, and served when their spec is valid.
 */
export interface LiveRegistration {
  name: string;
  metadata: { owner?: string; labels?: Record<string, string> };
  spec: RegistrationSpec;
  /** "git" for items the reconciler owns; anything else (or absent) is unmanaged. */
  managedBy?: string;
  /** Incremented on every write; writes are conditional on it. */
  version: number;
  /** When the registration first became live (ISO-8601): it hears only events after this. */
  createdAt: string;
  updatedAt: string;
  /** Where the desired state came from. */
  source?: { file: string; commit?: string };
}

/** Read side of the registrations table, used by the poller and dispatcher. */
export interface RegistrationReader {
  /** Every registration with a valid spec (invalid items are skipped and logged). */
  list(): Promise<LiveRegistration[]>;
}

/** One notification to deliver: an event for one channel of one registration. */
export interface PendingNotification {
  deliveryId: string;
  event: DeploymentEvent;
  registration: RegistrationRef;
  channelName: string;
  channelType: ChannelType;
}

/**
 * Where the poller hands notifications to the dispatcher (the ledger). `enqueue` is idempotent per
 * `deliveryId` (a conditional put) and throws when the store fails, so the poller keeps its cursor
 * and tries again; an enqueue that succeeded is never lost.
 */
export interface NotificationSink {
  enqueue(items: readonly PendingNotification[]): Promise<void>;
}
