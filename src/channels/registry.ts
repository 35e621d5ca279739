import type { SecretRef } from '../config/registration.generated.js';
import type { Notification } from '../core/events.js';
import type { Channel, ChannelConfig, ChannelConfigOf, ChannelContext, ChannelFactory, ChannelType } from './channel.js';
import { createEmailChannel, previewEmail } from './email.js';
import { createNewRelicChannel, previewNewRelic } from './newrelic.js';
import { isSecretRef } from './secrets.js';
import { createSlackChannel, previewSlack } from './slack.js';
import { createSnsChannel, previewSns } from './sns.js';
import { invalidChannel } from './support.js';
import { createTeamsChannel, previewTeams } from './teams.js';
import { createWebhookChannel, previewWebhook } from './webhook.js';

/** Everything codedeploy-notify knows about one channel type. */
export interface ChannelDefinition<T extends ChannelType> {
  type: T;
  /** Builds a sending channel; throws `invalid-channel` for settings the schema cannot check. */
  create: ChannelFactory<T>;
  /** What the channel would show for a notification, rendered for a terminal. Pure; sends nothing. */
  preview(config: ChannelConfigOf<T>, notification: Notification): string;
  /** Every secret reference in a config (for `validate --check-env`), in field order. */
  secretRefs(config: ChannelConfigOf<T>): SecretRef[];
}

/**
 * The channel registry: one entry per type of the schema's Channel union. `satisfies` over the
 * mapped type makes a type added to the schema but not implemented here a compile error.
 */
export const CHANNELS = {
  slack: { type: 'slack', create: createSlackChannel, preview: previewSlack, secretRefs: (c) => [c.webhookUrl] },
  teams: { type: 'teams', create: createTeamsChannel, preview: previewTeams, secretRefs: (c) => [c.webhookUrl] },
  webhook: {
    type: 'webhook',
    create: createWebhookChannel,
    preview: previewWebhook,
    secretRefs: (c) => [
      ...(isSecretRef(c.url) ? [c.url] : []),
      ...(c.secret ? [c.secret] : []),
      ...Object.values(c.headers ?? {}).filter(isSecretRef),
    ],
  },
  sns: { type: 'sns', create: createSnsChannel, preview: previewSns, secretRefs: () => [] },
  email: { type: 'email', create: createEmailChannel, preview: previewEmail, secretRefs: () => [] },
  newrelic: { type: 'newrelic', create: createNewRelicChannel, preview: previewNewRelic, secretRefs: (c) => [c.apiKey] },
} satisfies { [T in ChannelType]: ChannelDefinition<T> };

/** Every channel type, in registry order. */
export const CHANNEL_TYPES = Object.keys(CHANNELS) as ChannelType[];

/** The definition of a type, or undefined for a type this build does not know. */
export function channelDefinition<T extends ChannelType>(type: T): ChannelDefinition<T> | undefined {
  if (!Object.hasOwn(CHANNELS, type)) return undefined;
  // TypeScript cannot correlate CHANNELS[type] with T through the mapped type; the satisfies
  // clause above guarantees each entry matches its key.
  return CHANNELS[type] as unknown as ChannelDefinition<T>;
}

function definitionFor(config: ChannelConfig): ChannelDefinition<ChannelType> {
  const definition = channelDefinition(config.type);
  if (!definition) throw invalidChannel(config, `unknown channel type "${String(config.type)}": use one of ${CHANNEL_TYPES.join(', ')}`);
  // Widened so one call site serves every member of the union; the entry was picked by config.type.
  return definition as ChannelDefinition<ChannelType>;
}

/**
 * Builds the channel for a config through the registry. Throws a NotifyError with code
 * `invalid-channel` for an unknown type or a setting the factory rejects.
 */
export function createChannel(config: ChannelConfig, context: ChannelContext): Channel {
  return definitionFor(config).create(config, context);
}

/** What a config's channel would show for a notification (local mode's console outbox). Pure. */
export function previewChannel(config: ChannelConfig, notification: Notification): string {
  return definitionFor(config).preview(config, notification);
}

/** Every secret reference of a channel config. */
export function channelSecretRefs(config: ChannelConfig): SecretRef[] {
  return definitionFor(config).secretRefs(config);
}
