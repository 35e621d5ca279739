import type { Channel, RegistrationSpec } from '../config/registration.generated.js';
import { DEFAULT_EVENTS, deliveryId, type DeploymentEvent, type EventType, type RegistrationRef } from '../core/events.js';
import type { LiveRegistration, PendingNotification } from '../store/ports.js';

/** True when a registration's spec watches deployments of `application` in `group`. */
export function watches(spec: RegistrationSpec, application: string, group: string): boolean {
  if (spec.application !== application) return false;
  return spec.deploymentGroups === undefined || spec.deploymentGroups.includes(group);
}

/** The events one channel hears: its own `events`, else the registration's, else DEFAULT_EVENTS. */
export function channelEvents(channel: Channel, spec: RegistrationSpec): readonly EventType[] {
  return channel.events ?? spec.events ?? DEFAULT_EVENTS;
}

/** The registration fields carried with each notification. */
export function registrationRef(registration: LiveRegistration): RegistrationRef {
  const labels = registration.metadata.labels;
  return {
    name: registration.name,
    ...(registration.metadata.owner !== undefined ? { owner: registration.metadata.owner } : {}),
    ...(labels && Object.keys(labels).length > 0 ? { labels: { ...labels } } : {}),
  };
}

/**
 * Events × registrations → notifications, as a pure function. `registrations` must be those of
 * the scope (region and credentials) the events were read in. A notification is built for each
 * event and each (registration, channel) where the application matches exactly, the
 * registration's deploymentGroups (if set) contain the group, the channel's events contain the
 * event type, and the event did not happen before the registration became live (`occurredAt >=
 * createdAt`; a registration with an unreadable createdAt hears nothing rather than history).
 */
export function matchNotifications(events: readonly DeploymentEvent[], registrations: readonly LiveRegistration[]): PendingNotification[] {
  const out: PendingNotification[] = [];
  for (const event of events) {
    const occurred = Date.parse(event.occurredAt);
    for (const registration of registrations) {
      const spec = registration.spec;
      if (!watches(spec, event.application, event.deploymentGroup)) continue;
      if (!(occurred >= Date.parse(registration.createdAt))) continue;
      const ref = registrationRef(registration);
      for (const channel of spec.channels) {
        if (!channelEvents(channel, spec).includes(event.type)) continue;
        out.push({
          deliveryId: deliveryId(event.deploymentId, event.type, registration.name, channel.name),
          event,
          registration: ref,
          channelName: channel.name,
          channelType: channel.type,
        });
      }
    }
  }
  return out;
}
