import type { SESClient } from '@aws-sdk/client-ses';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from 'pino';
import type { Channel as ChannelConfig, ChannelType, SecretRef } from '../config/registration.generated.js';
import type { Notification } from '../core/events.js';

export type { ChannelConfig, ChannelType };

/** The config of one channel type, narrowed from the schema's union. */
export type ChannelConfigOf<T extends ChannelType> = Extract<ChannelConfig, { type: T }>;

/**
 * What one send attempt came to. Channels never throw for delivery problems: they classify.
 * - `sent`: the provider accepted it; `messageId` when the provider returns one.
 * - `retry`: worth trying again later (5xx, 429, network, AWS throttling); `retryAfterMs` when
 *   the provider said how long to wait (Retry-After).
 * - `failed`: permanent (bad token, unknown channel, rejected message, missing secret); retrying
 *   cannot help, the reason is recorded for `status`.
 * Reasons never contain secret values (webhook URLs are redacted).
 */
export type DeliveryResult =
  | { outcome: 'sent'; messageId?: string }
  | { outcome: 'retry'; reason: string; retryAfterMs?: number }
  | { outcome: 'failed'; reason: string };

/** A configured channel of one registration: one method, like Flux's notifier `Post`. */
export interface Channel {
  /** Sends one notification; resolves to a classified result. Honours `signal` (abort = retry). */
  send(notification: Notification, signal: AbortSignal): Promise<DeliveryResult>;
}

/** Resolves `{ fromEnv: NAME }` at send time; throws MissingSecretError when unset or empty. */
export interface SecretResolver {
  resolve(ref: SecretRef): string;
}

/**
 * What channel factories may use. Everything that reaches the network is here, passed in by the
 * wiring (main/, local/, tests), never imported at module level.
 */
export interface ChannelContext {
  secrets: SecretResolver;
  /** The one way out to HTTP for chat and webhook channels (timeouts, redaction, response reading). */
  http: HttpSender;
  /** Region used for SES, and for SNS when a topic ARN does not say. */
  defaultRegion: string;
  /** AWS clients by region, created once and shared (endpoints from AWS_ENDPOINT_URL_*). */
  aws: AwsClients;
  logger: Logger;
  /** Per-attempt timeout for one send, in milliseconds. */
  sendTimeoutMs: number;
}

/** A minimal HTTP response, body read as text (bounded). */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends an HTTP request; rejects only on network errors and timeouts (as `HttpNetworkError`). */
export interface HttpSender {
  request(
    url: string,
    init: { method: 'POST' | 'GET'; headers: Record<string, string>; body?: string; signal: AbortSignal; timeoutMs: number },
  ): Promise<HttpResponse>;
}

/** AWS SDK clients by region. */
export interface AwsClients {
  sns(region: string): SNSClient;
  ses(region: string): SESClient;
}

/**
 * Builds a channel from its validated config. Checks settings that the schema cannot (and throws
 * a `NotifyError` with code `invalid-channel`) when config loads, not at first send.
 */
export type ChannelFactory<T extends ChannelType> = (config: ChannelConfigOf<T>, context: ChannelContext) => Channel;
