import type { Notification } from '../core/events.js';
import { CONSOLE_LINK_LABEL, composeMessage, formatPreview, messageFacts, truncate } from '../templates/messages.js';
import { revisionSummary } from '../templates/template.js';
import type { ChannelConfigOf, ChannelFactory, DeliveryResult, HttpResponse } from './channel.js';
import { bodySnippet, postJson, type HttpProviderHooks } from './http.js';
import { abortedBeforeSend, assertValidTemplate, invalidChannel, resolveSecret } from './support.js';

/**
 * New Relic deployment markers through NerdGraph change tracking, with the mutation New Relic
 * recommends, `changeTrackingCreateEvent` (category "Deployment", type "Basic"; the older
 * `changeTrackingCreateDeployment` is legacy). The entity is found by `entitySearch` on its GUID.
 * Values travel as GraphQL variables, never spliced into the query. US and EU endpoints, or
 * `endpoint` for proxies and tests; the user API key goes in the `API-Key` header.
 *
 * Classification: HTTP as every channel (429/5xx/network retry, 401/403 and other 4xx fail). A 200
 * whose body has GraphQL `errors` is a failure: retried when every error is transient
 * (`extensions.errorClass` TIMEOUT, SERVER_ERROR, INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE,
 * TOO_MANY_REQUESTS or RATE_LIMITED, or a message saying "timed out" / "try again"), failed
 * otherwise (bad input, unknown entity, forbidden key). A 200 without a changeTrackingId is failed
 * with the `messages` New Relic returned; a 200 that is not JSON (a proxy page) is retried.
 */

type NewRelicConfig = ChannelConfigOf<'newrelic'>;

/** NerdGraph endpoints per New Relic data center. */
export const NERDGRAPH_ENDPOINTS = {
  US: 'https://api.newrelic.com/graphql',
  EU: 'https://api.eu.newrelic.com/graphql',
} as const;

/** The mutation: one change tracking event, returning its id and any messages. */
export const CHANGE_TRACKING_MUTATION = `mutation CreateDeploymentMarker($changeTrackingEvent: ChangeTrackingCreateEventInput!) {
  changeTrackingCreateEvent(changeTrackingEvent: $changeTrackingEvent) {
    changeTrackingEvent {
      changeTrackingId
    }
    messages
  }
}`;

/** The GraphQL request body. */
export interface NerdGraphRequest {
  query: string;
  variables: { changeTrackingEvent: ChangeTrackingEventInput };
}

/** The subset of ChangeTrackingCreateEventInput this channel sends. */
export interface ChangeTrackingEventInput {
  categoryAndTypeData: {
    kind: { category: 'Deployment'; type: 'Basic' };
    categoryFields: { deployment: { version: string; commit?: string; changelog?: string; deepLink: string } };
  };
  entitySearch: { query: string };
  shortDescription: string;
  description: string;
  user: string;
  groupId: string;
  /** Epoch milliseconds of the transition. */
  timestamp: number;
}

/** The NerdGraph URL a channel posts to. */
export function nerdGraphEndpoint(config: NewRelicConfig): string {
  return config.endpoint ?? NERDGRAPH_ENDPOINTS[config.region ?? 'US'];
}

/** Builds the GraphQL request for a notification. Pure. */
export function renderNewRelic(config: NewRelicConfig, notification: Notification): NerdGraphRequest {
  const { event } = notification;
  const message = composeMessage(notification, config.template);
  const github = event.revision?.type === 'GitHub' ? event.revision : undefined;
  const deployment: ChangeTrackingEventInput['categoryAndTypeData']['categoryFields']['deployment'] = {
    version: truncate(revisionSummary(event) || event.deploymentId, 255),
    deepLink: event.consoleUrl,
  };
  if (github?.commitId) deployment.commit = github.commitId;
  if (github?.commitId && github.repository) deployment.changelog = `https://github.com/${github.repository}/commit/${github.commitId}`;
  const error = [event.error?.code, event.error?.message].filter(Boolean).join(': ');
  const description = [message.text, error && !message.text.includes(error) ? `Error: ${error}` : ''].filter(Boolean).join('\n');
  return {
    query: CHANGE_TRACKING_MUTATION,
    variables: {
      changeTrackingEvent: {
        categoryAndTypeData: { kind: { category: 'Deployment', type: 'Basic' }, categoryFields: { deployment } },
        entitySearch: { query: `id = '${config.entityGuid}'` },
        shortDescription: truncate(message.title, 255),
        description: truncate(description, 4000),
        user: event.creator ? `codedeploy-notify (${event.creator})` : 'codedeploy-notify',
        groupId: event.deploymentId,
        timestamp: Date.parse(event.occurredAt),
      },
    },
  };
}

/** GraphQL error classes New Relic uses for transient failures. */
const TRANSIENT_CLASSES = new Set(['TIMEOUT', 'SERVER_ERROR', 'INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE', 'TOO_MANY_REQUESTS', 'RATE_LIMITED']);

interface GraphQLError {
  message?: unknown;
  extensions?: { errorClass?: unknown; code?: unknown };
}

interface NerdGraphResponse {
  data?: { changeTrackingCreateEvent?: { changeTrackingEvent?: { changeTrackingId?: unknown } | null; messages?: unknown } | null } | null;
  errors?: GraphQLError[];
}

function isTransient(error: GraphQLError): boolean {
  const errorClass = typeof error.extensions?.errorClass === 'string' ? error.extensions.errorClass : typeof error.extensions?.code === 'string' ? error.extensions.code : '';
  if (TRANSIENT_CLASSES.has(errorClass.toUpperCase())) return true;
  return typeof error.message === 'string' && /timed? ?out|try again|temporarily unavailable/i.test(error.message);
}

function describeErrors(errors: GraphQLError[]): string {
  return errors
    .map((e) => {
      const cls = typeof e.extensions?.errorClass === 'string' ? ` [${e.extensions.errorClass}]` : '';
      return `${typeof e.message === 'string' ? e.message : 'error'}${cls}`;
    })
    .join('; ');
}

function newRelicHooks(config: NewRelicConfig, secrets: readonly string[]): HttpProviderHooks {
  const variable = config.apiKey.fromEnv;
  return {
    provider: 'New Relic',
    classify(response: HttpResponse, describe): DeliveryResult | undefined {
      if (response.status !== 200) return undefined;
      let parsed: NerdGraphResponse;
      try {
        parsed = JSON.parse(response.body) as NerdGraphResponse;
      } catch {
        return { outcome: 'retry', reason: describe(`a body that is not JSON: ${bodySnippet(response.body, secrets)}`) };
      }
      const errors = Array.isArray(parsed.errors) ? parsed.errors : [];
      if (errors.length > 0) {
        const detail = `GraphQL errors: ${describeErrors(errors)}`;
        if (errors.every(isTransient)) return { outcome: 'retry', reason: describe(detail) };
        return { outcome: 'failed', reason: `${describe(detail)} (check entityGuid ${config.entityGuid}, that the key in ${variable} is a user key of an account that can see it, and the region)` };
      }
      const result = parsed.data?.changeTrackingCreateEvent;
      const id = result?.changeTrackingEvent?.changeTrackingId;
      if (typeof id === 'string' && id !== '') return { outcome: 'sent', messageId: id };
      const messages = Array.isArray(result?.messages) ? result.messages.filter((m): m is string => typeof m === 'string') : [];
      return {
        outcome: 'failed',
        reason: `${describe(`no change tracking event was created${messages.length > 0 ? `: ${messages.join('; ')}` : ''}`)} (check that entityGuid ${config.entityGuid} exists)`,
      };
    },
    hint(response) {
      if (response.status === 401 || response.status === 403) return `New Relic refused the API key: put a user key (NRAK-…) of the right account in ${variable}, and check region (US/EU)`;
      return undefined;
    },
  };
}

/**
 * Builds a New Relic channel. Checks at construction: the entity GUID has only GUID characters
 * (it goes inside the entity search query), the template overrides are valid. The API key is
 * resolved at every send; a missing one fails the delivery naming its variable.
 */
export const createNewRelicChannel: ChannelFactory<'newrelic'> = (config, context) => {
  assertValidTemplate(config);
  if (!/^[A-Za-z0-9+/=_-]+$/.test(config.entityGuid)) throw invalidChannel(config, `entityGuid ${JSON.stringify(config.entityGuid)} is not an entity GUID: copy it from the entity's metadata in New Relic`);
  const url = nerdGraphEndpoint(config);
  return {
    async send(notification, signal) {
      if (signal.aborted) return abortedBeforeSend('New Relic');
      const key = resolveSecret(context, config.apiKey, `the New Relic API key of channel "${config.name}"`);
      if (!key.ok) return key.result;
      const secrets = [key.value];
      const body = JSON.stringify(renderNewRelic(config, notification));
      const result = await postJson(
        context.http,
        { url, headers: { 'API-Key': key.value, accept: 'application/json' }, body, signal, timeoutMs: context.sendTimeoutMs },
        newRelicHooks(config, secrets),
        secrets,
      );
      context.logger.debug({ channel: config.name, type: 'newrelic', deliveryId: notification.deliveryId, outcome: result.outcome }, 'newrelic send finished');
      return result;
    },
  };
};

/** The deployment marker as New Relic would list it, for a terminal. Pure. */
export function previewNewRelic(config: NewRelicConfig, notification: Notification): string {
  const input = renderNewRelic(config, notification).variables.changeTrackingEvent;
  const deployment = input.categoryAndTypeData.categoryFields.deployment;
  const facts = [
    { label: 'Entity', value: config.entityGuid },
    { label: 'Version', value: deployment.version },
    ...(deployment.commit ? [{ label: 'Commit', value: deployment.commit }] : []),
    { label: 'User', value: input.user },
    { label: 'Group id', value: input.groupId },
    { label: 'Timestamp', value: new Date(input.timestamp).toISOString() },
    ...messageFacts(notification).filter((f) => f.label === 'Error'),
  ];
  return formatPreview(
    `newrelic · ${notification.channelName} → ${config.region ?? 'US'} deployment marker`,
    { title: input.shortDescription, text: composeMessage(notification, config.template).text },
    facts,
    [{ label: CONSOLE_LINK_LABEL, value: notification.event.consoleUrl }],
  );
}
