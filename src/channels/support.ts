import type { MessageTemplate, SecretRef } from '../config/registration.generated.js';
import { MissingSecretError, NotifyError, errorMessage } from '../core/errors.js';
import { checkMessageTemplate } from '../templates/messages.js';
import type { ChannelContext, DeliveryResult } from './channel.js';

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
