/**
 * The retry policy: what to do after a send attempt that did not deliver. Pure — the clock and the
 * random source are arguments — so every branch is a table test.
 *
 * - Retryable results (`retry`: 5xx, 429, network errors, AWS throttling, timeouts) wait an
 *   exponential backoff with full jitter: a uniform delay in [0, min(cap, base · 2^(attempt-1))),
 *   raised to `minDelayMs` so a zero draw does not hammer the provider.
 * - `Retry-After` is honoured: the delay is never below what the provider asked for (jitter may add
 *   to it, never take from it); absurd values are limited to `maxRetryAfterMs`.
 * - After `maxAttempts` attempts the notification fails with the last error as the reason.
 * - Permanent results (`failed`) fail at once with their reason.
 */
import type { DeliveryResult } from '../channels/channel.js';

/** Tunables of the retry policy. */
export interface RetryPolicy {
  /** Backoff ceiling for the first retry, in milliseconds; it doubles each attempt. */
  baseDelayMs: number;
  /** The backoff ceiling never grows beyond this. */
  maxDelayMs: number;
  /** Shortest delay, whatever the jitter draws. */
  minDelayMs: number;
  /** Attempts in total (the first send included) before giving up. */
  maxAttempts: number;
  /** Longest `Retry-After` honoured; longer requests wait this long. */
  maxRetryAfterMs: number;
}

/**
 * Defaults: 1 s base, 5 min cap, 60 attempts in all. With full jitter the expected time before
 * giving up is about 2.5 hours of continuous failures (at most about 4.5): a provider outage of a
 * couple of hours still ends in delivery, as SPEC's "no lost notification" asks; only a channel
 * that stays broken for hours is given up on, with the reason recorded.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  minDelayMs: 100,
  maxAttempts: 60,
  maxRetryAfterMs: 60 * 60_000,
};

/** The input of `nextAttempt`. */
export interface AttemptInput {
  /** The attempt that just ended: 1 for the first send. */
  attempt: number;
  /** What the attempt came to (anything but `sent`). */
  result: Exclude<DeliveryResult, { outcome: 'sent' }>;
  /** Now, epoch milliseconds. */
  now: number;
  /** A uniform random number in [0, 1), such as `Math.random`. */
  random: () => number;
}

/** The decision: try again at `at` (epoch ms, after `delayMs`), or fail for good with `reason`. */
export type AttemptDecision = { action: 'retry'; at: number; delayMs: number } | { action: 'fail'; reason: string };

/** The backoff ceiling before retry number `attempt` (1-based): min(cap, base · 2^(attempt-1)). */
export function backoffCeiling(attempt: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  const exponent = Math.max(0, Math.min(attempt - 1, 52));
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
}

/**
 * Decides what happens after an attempt that did not deliver. Pure: same input, same decision.
 * Throws nothing; a non-finite `retryAfterMs` is ignored.
 */
export function nextAttempt(input: AttemptInput, policy: RetryPolicy = DEFAULT_RETRY_POLICY): AttemptDecision {
  const { attempt, result, now } = input;
  if (result.outcome === 'failed') return { action: 'fail', reason: result.reason };
  if (attempt >= policy.maxAttempts) {
    return { action: 'fail', reason: `gave up after ${attempt} attempts: ${result.reason}` };
  }
  const jittered = Math.floor(clampUnit(input.random()) * backoffCeiling(attempt, policy));
  let delayMs = Math.max(policy.minDelayMs, jittered);
  const asked = result.retryAfterMs;
  if (asked !== undefined && Number.isFinite(asked) && asked > 0) {
    delayMs = Math.max(delayMs, Math.min(Math.ceil(asked), policy.maxRetryAfterMs));
  }
  return { action: 'retry', at: now + delayMs, delayMs };
}

/**
 * Checks a policy and returns it; throws a RangeError naming the field and how to fix it. Call at
 * construction so a bad setting fails at start, not at the first retry.
 */
export function checkRetryPolicy(policy: RetryPolicy): RetryPolicy {
  const positive: (keyof RetryPolicy)[] = ['baseDelayMs', 'maxDelayMs', 'maxAttempts', 'maxRetryAfterMs'];
  for (const key of positive) {
    if (!Number.isFinite(policy[key]) || policy[key] <= 0) throw new RangeError(`retry policy ${key} must be a positive number, got ${policy[key]}`);
  }
  if (!Number.isInteger(policy.maxAttempts)) throw new RangeError(`retry policy maxAttempts must be a whole number, got ${policy.maxAttempts}`);
  if (!Number.isFinite(policy.minDelayMs) || policy.minDelayMs < 0) throw new RangeError(`retry policy minDelayMs must be 0 or more, got ${policy.minDelayMs}`);
  if (policy.maxDelayMs < policy.baseDelayMs) throw new RangeError(`retry policy maxDelayMs (${policy.maxDelayMs}) must be at least baseDelayMs (${policy.baseDelayMs})`);
  return policy;
}

function clampUnit(x: number): number {
  if (!Number.isFinite(x) || x < 0) return 0;
  return x >= 1 ? 1 - Number.EPSILON : x;
}
