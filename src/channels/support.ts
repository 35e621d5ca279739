import type { MessageTemplate, SecretRef } from '../config/registration.generated.js';
import { MissingSecretError, NotifyError, errorMessage } from '../core/errors.js';
import { checkMessageTemplate } from '../templates/messages.js';
import type { Notification } from '../core/events.js';
import { classifyAwsError } from './aws-clients.js';
import type { ChannelContext, DeliveryResult } from './channel.js';
import { postJson, type HttpProviderHooks } from './http.js';

/** Small helpers every channel shares: construction checks, secret resolution, abort handling. */

/** A channel's config as far as these helpers need it. */
interface NamedChannel {
  name: string;
  type: string;
  template?: MessageTemplate;
}

/** The `invalid-channel` error a factory throws for a setting the schema cannot check. */
export function invalidChannel(config: NamedChannel, message: string): NotifyError {
  return new NotifyError('invalid-channel', `channel "${config.name}" (${config.type}): ${message}`);
}

/**
 * Checks the channel's `template` overrides at construction; throws `invalid-channel` naming every
 * unknown variable or unbalanced brace (validate reports the same problems as Issues earlier).
 */
export function assertValidTemplate(config: NamedChannel): void {
  const problems = checkMessageTemplate(config.template);
  if (problems.length > 0) throw invalidChannel(config, problems.join('; '));
}

/** A resolved secret, or the `failed` result to return instead. */
export type Resolved = { ok: true; value: string } | { ok: false; result: DeliveryResult };

/**
 * Resolves a secret reference at send time. A missing variable is permanent (`failed`, naming the
 * variable and how to fix it, never a value); anything else a resolver throws is retried.
 */
export function resolveSecret(context: ChannelContext, ref: SecretRef, what: string): Resolved {
  try {
    return { ok: true, value: context.secrets.resolve(ref) };
  } catch (error) {
    if (error instanceof MissingSecretError) {
      return { ok: false, result: { outcome: 'failed', reason: `missing secret for ${what}: ${error.message}; set it in the daemon's environment` } };
    }
    return { ok: false, result: { outcome: 'retry', reason: `could not resolve the secret for ${what} (${ref.fromEnv}): ${errorMessage(error)}` } };
  }
}

/** True for an absolute http(s) URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/** The result for a send whose signal was aborted before anything went out: try again later. */
export function abortedBeforeSend(provider: string): DeliveryResult {
  return { outcome: 'retry', reason: `${provider}: send aborted before the request was made (shutting down or out of time)` };
}

/** The caller's signal combined with the per-send timeout of the context. */
export function sendSignal(signal: AbortSignal, context: ChannelContext): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(context.sendTimeoutMs)]);
}

/** A chat channel's config as far as `postChatMessage` needs it. */
interface ChatChannel extends NamedChannel {
  webhookUrl: SecretRef;
}

/**
 * The whole send of a chat webhook channel (Slack, Teams): resolve the URL from its secret, check
 * it is an http(s) URL, POST the JSON body, classify the answer with the provider's hooks, log the
 * outcome. Never throws; reasons never contain the URL's secret parts.
 */
export async function postChatMessage(
  context: ChannelContext,
  config: ChatChannel,
  notification: Notification,
  signal: AbortSignal,
  message: { provider: string; urlHint: string; body: unknown; hooks: HttpProviderHooks },
): Promise<DeliveryResult> {
  if (signal.aborted) return abortedBeforeSend(message.provider);
  const url = resolveSecret(context, config.webhookUrl, `the ${message.provider} webhook URL of channel "${config.name}"`);
  if (!url.ok) return url.result;
  if (!isHttpUrl(url.value)) {
    return { outcome: 'failed', reason: `${config.webhookUrl.fromEnv} does not hold an http(s) URL: set it to ${message.urlHint}` };
  }
  const body = JSON.stringify(message.body);
  const result = await postJson(context.http, { url: url.value, body, signal, timeoutMs: context.sendTimeoutMs }, message.hooks, [url.value]);
  logSend(context, config, notification, result);
  return result;
}

/**
 * The whole send of an AWS channel (SNS, SES): make the call with the per-send timeout, return the
 * provider's message id, or classify the error (`describe` words the reason). Never throws.
 */
export async function sendWithAws(
  context: ChannelContext,
  config: NamedChannel,
  notification: Notification,
  signal: AbortSignal,
  provider: string,
  call: (abortSignal: AbortSignal) => Promise<{ MessageId?: string }>,
  describe: (name: string, message: string) => string,
): Promise<DeliveryResult> {
  if (signal.aborted) return abortedBeforeSend(provider);
  let result: DeliveryResult;
  try {
    const output = await call(sendSignal(signal, context));
    result = output.MessageId ? { outcome: 'sent', messageId: output.MessageId } : { outcome: 'sent' };
  } catch (error) {
    result = classifyAwsError(error, describe);
  }
  logSend(context, config, notification, result);
  return result;
}

function logSend(context: ChannelContext, config: NamedChannel, notification: Notification, result: DeliveryResult): void {
  context.logger.debug({ channel: config.name, type: config.type, deliveryId: notification.deliveryId, outcome: result.outcome }, 'channel send finished');
}
