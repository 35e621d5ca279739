import { createHmac } from 'node:crypto';
import type { MessageTemplate } from '../config/registration.generated.js';
import type { EventType, InstanceCounts, Notification, Revision } from '../core/events.js';
import { CONSOLE_LINK_LABEL, composeMessage, formatPreview, messageFacts } from '../templates/messages.js';
import { redactUrl } from '../util/redact.js';
import type { ChannelConfigOf, ChannelFactory, HttpResponse } from './channel.js';
import { postJson, type HttpProviderHooks } from './http.js';
import { abortedBeforeSend, assertValidTemplate, invalidChannel, isHttpUrl, resolveSecret } from './support.js';
import { isSecretRef } from './secrets.js';

/**
 * A generic HTTP webhook: a versioned JSON document (documented field by field in
 * docs/webhook.md), POSTed with headers that name the event and a stable delivery id for
 * receiver-side dedupe, plus an HMAC-SHA256 signature when `secret` is set, and the channel's
 * custom headers. 2xx is success; 429/5xx/network retry; any other 4xx fails.
 */

type WebhookConfig = ChannelConfigOf<'webhook'>;

/** The version of the webhook body; bumped only for incompatible changes (fields may be added). */
export const WEBHOOK_SCHEMA_VERSION = '1';

/** Header names (lower case on the wire; HTTP header names are case-insensitive). */
export const WEBHOOK_HEADERS = {
  event: 'X-CodeDeploy-Notify-Event',
  delivery: 'X-CodeDeploy-Notify-Delivery',
  attempt: 'X-CodeDeploy-Notify-Attempt',
  timestamp: 'X-CodeDeploy-Notify-Timestamp',
  signature: 'X-CodeDeploy-Notify-Signature',
} as const;

/**
 * The webhook body, schema version 1. Every field is always present; unknown values are `null`.
 * The SNS channel publishes the same document as its default message.
 */
export interface WebhookBodyV1 {
  schemaVersion: '1';
  deliveryId: string;
  test: boolean;
  event: EventType;
  occurredAt: string;
  registration: { name: string; owner: string | null; labels: Record<string, string> };
  channel: string;
  deployment: {
    id: string;
    application: string;
    deploymentGroup: string;
    status: string;
    region: string;
    accountId: string | null;
    creator: string | null;
    description: string | null;
    computePlatform: string | null;
    revision: WebhookRevision | null;
    error: { code: string | null; message: string | null } | null;
    instances: InstanceCounts | null;
    createTime: string;
    startTime: string | null;
    completeTime: string | null;
    durationSeconds: number | null;
    rollback: { isRollback: boolean; rollsBack: string | null; rolledBackBy: string | null; message: string | null } | null;
    consoleUrl: string;
  };
  message: { title: string; text: string };
}

/** The revision in the body: every field of its variant present, `null` when unknown. */
export type WebhookRevision =
  | { type: 'GitHub'; repository: string | null; commitId: string | null }
  | { type: 'S3'; bucket: string | null; key: string | null; version: string | null; eTag: string | null; bundleType: string | null }
  | { type: 'Other'; summary: string };

function webhookRevision(revision: Revision): WebhookRevision {
  switch (revision.type) {
    case 'GitHub':
      return { type: 'GitHub', repository: revision.repository ?? null, commitId: revision.commitId ?? null };
    case 'S3':
      return { type: 'S3', bucket: revision.bucket ?? null, key: revision.key ?? null, version: revision.version ?? null, eTag: revision.eTag ?? null, bundleType: revision.bundleType ?? null };
    default:
      return { type: 'Other', summary: revision.summary };
  }
}

/** Builds the versioned body for a notification (message text as plain text). Pure. */
export function webhookBody(notification: Notification, template: MessageTemplate | undefined): WebhookBodyV1 {
  const { event, registration } = notification;
  const message = composeMessage(notification, template);
  return {
    schemaVersion: WEBHOOK_SCHEMA_VERSION,
    deliveryId: notification.deliveryId,
    test: notification.test,
    event: event.type,
    occurredAt: event.occurredAt,
    registration: { name: registration.name, owner: registration.owner ?? null, labels: { ...registration.labels } },
    channel: notification.channelName,
    deployment: {
      id: event.deploymentId,
      application: event.application,
      deploymentGroup: event.deploymentGroup,
      status: event.status,
      region: event.region,
      accountId: event.accountId ?? null,
      creator: event.creator ?? null,
      description: event.description ?? null,
      computePlatform: event.computePlatform ?? null,
      revision: event.revision ? webhookRevision(event.revision) : null,
      error: event.error ? { code: event.error.code ?? null, message: event.error.message ?? null } : null,
      instances: event.instances ?? null,
      createTime: event.createTime,
      startTime: event.startTime ?? null,
      completeTime: event.completeTime ?? null,
      durationSeconds: event.durationSeconds ?? null,
      rollback: event.rollback
        ? { isRollback: event.rollback.isRollback, rollsBack: event.rollback.rollsBack ?? null, rolledBackBy: event.rollback.rolledBackBy ?? null, message: event.rollback.message ?? null }
        : null,
      consoleUrl: event.consoleUrl,
    },
    message,
  };
}

/**
 * The signature header value: `sha256=` + hex HMAC-SHA256, keyed with the secret, of
 * `<timestamp>.<raw body>` (the timestamp header's value, a dot, then the exact body bytes).
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Headers a channel's `headers` may not set: transport headers and our own. */
const RESERVED = /^(host|content-length|content-type|transfer-encoding|connection|keep-alive|upgrade|te|trailer|x-codedeploy-notify-.*)$/i;

/** Values resolved at send time. */
export interface WebhookSecrets {
  url: string;
  secret?: string;
  headers: Record<string, string>;
}

/** The exact request for a notification, given the resolved secrets and the send time. Pure. */
export function webhookRequest(
  config: WebhookConfig,
  notification: Notification,
  resolved: WebhookSecrets,
  nowMs: number,
): { url: string; headers: Record<string, string>; body: string } {
  const body = JSON.stringify(webhookBody(notification, config.template));
  const timestamp = String(Math.floor(nowMs / 1000));
  const headers: Record<string, string> = {
    ...resolved.headers,
    [WEBHOOK_HEADERS.event]: notification.event.type,
    [WEBHOOK_HEADERS.delivery]: notification.deliveryId,
    [WEBHOOK_HEADERS.attempt]: String(notification.attempt),
    [WEBHOOK_HEADERS.timestamp]: timestamp,
  };
  if (resolved.secret !== undefined) headers[WEBHOOK_HEADERS.signature] = webhookSignature(resolved.secret, timestamp, body);
  return { url: resolved.url, headers, body };
}

function webhookHooks(config: WebhookConfig): HttpProviderHooks {
  const urlVar = isSecretRef(config.url) ? config.url.fromEnv : undefined;
  return {
    provider: 'webhook',
    hint(response: HttpResponse) {
      if (response.status === 401 || response.status === 403) {
        return `the receiver refused the request: check ${config.secret ? `the signing secret (${config.secret.fromEnv}) and ` : ''}the channel's headers`;
      }
      if (response.status === 404 || response.status === 410) return `the receiver has no such endpoint: check the channel's url${urlVar ? ` (${urlVar})` : ''}`;
      if (response.status === 413) return 'the receiver refused the body size; raise its limit';
      return undefined;
    },
  };
}

/**
 * Builds a webhook channel. Checks at construction: a plain `url` must be http(s); custom headers
 * may not replace transport headers or the X-CodeDeploy-Notify-* headers; template overrides must
 * use known variables. The url (when a secret ref), the signing secret and secret header values
 * are resolved at every send; a missing one fails the delivery naming its variable.
 */
export const createWebhookChannel: ChannelFactory<'webhook'> = (config, context) => {
  assertValidTemplate(config);
  if (typeof config.url === 'string' && !isHttpUrl(config.url)) throw invalidChannel(config, `url ${redactUrl(config.url)} is not an http(s) URL`);
  for (const name of Object.keys(config.headers ?? {})) {
    if (RESERVED.test(name)) throw invalidChannel(config, `headers: ${name} is set by codedeploy-notify itself; remove it from the channel's headers`);
  }
  return {
    async send(notification, signal) {
      if (signal.aborted) return abortedBeforeSend('webhook');
      const secrets: string[] = [];
      let url: string;
      if (isSecretRef(config.url)) {
        const resolved = resolveSecret(context, config.url, `the url of channel "${config.name}"`);
        if (!resolved.ok) return resolved.result;
        if (!isHttpUrl(resolved.value)) return { outcome: 'failed', reason: `${config.url.fromEnv} does not hold an http(s) URL: set it to the receiver's URL` };
        url = resolved.value;
        secrets.push(url);
      } else {
        url = config.url;
        // A plain URL may still carry a token in its path or query: keep it out of reasons too.
        secrets.push(url);
      }
      let secret: string | undefined;
      if (config.secret) {
        const resolved = resolveSecret(context, config.secret, `the signing secret of channel "${config.name}"`);
        if (!resolved.ok) return resolved.result;
        secret = resolved.value;
        secrets.push(secret);
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(config.headers ?? {})) {
        if (value === undefined) continue;
        if (typeof value === 'string') {
          headers[name] = value;
          continue;
        }
        const resolved = resolveSecret(context, value, `header ${name} of channel "${config.name}"`);
        if (!resolved.ok) return resolved.result;
        headers[name] = resolved.value;
        secrets.push(resolved.value);
      }
      const request = webhookRequest(config, notification, { url, headers, ...(secret === undefined ? {} : { secret }) }, Date.now());
      const result = await postJson(context.http, { ...request, signal, timeoutMs: context.sendTimeoutMs }, webhookHooks(config), secrets);
      context.logger.debug({ channel: config.name, type: 'webhook', deliveryId: notification.deliveryId, outcome: result.outcome }, 'webhook send finished');
      return result;
    },
  };
};

/** What the receiver gets, summarised for a terminal: target (origin only), headers and message. Pure. */
export function previewWebhook(config: WebhookConfig, notification: Notification): string {
  const message = composeMessage(notification, config.template);
  const target = isSecretRef(config.url) ? `{ fromEnv: ${config.url.fromEnv} }` : redactUrl(config.url);
  return formatPreview(`webhook · ${notification.channelName} → POST ${target}`, message, messageFacts(notification), [
    { label: CONSOLE_LINK_LABEL, value: notification.event.consoleUrl },
    { label: 'Delivery id', value: notification.deliveryId },
    { label: 'Body', value: `schemaVersion ${WEBHOOK_SCHEMA_VERSION}${config.secret ? ', signed (HMAC-SHA256)' : ''}` },
  ]);
}
