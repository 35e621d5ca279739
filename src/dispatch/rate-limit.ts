/**
 * Per-destination rate limiting for chat webhooks (Slack allows about one message per second per
 * webhook and answers 429 beyond that). A GCRA token bucket per destination key, driven by the
 * caller's clock, so it is pure apart from its own small map.
 *
 * A destination is identified without holding the secret: Slack and Teams webhooks by the name of
 * the environment variable holding the URL (`slack:env:SLACK_WEBHOOK_X`), so two registrations
 * sharing one webhook variable share one bucket. The limit is per process: with several replicas
 * each replica allows the rate on its own (Slack's 429 + Retry-After, which pauses the bucket,
 * covers the rest).
 */
import { createHash } from 'node:crypto';
import type { ChannelConfig, ChannelType } from '../channels/channel.js';

/** A sustained rate and a burst: `burst` sends may go back to back, then `ratePerSecond`. */
export interface RateLimit {
  ratePerSecond: number;
  burst: number;
}

/** Rate limits by channel type; a type that is absent (or `null`) is not limited. */
export type RateLimits = Partial<Record<ChannelType, RateLimit | null>>;

/** Slack: about one message per second per webhook; Teams Workflows: the same, to be safe. */
export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = {
  slack: { ratePerSecond: 1, burst: 1 },
  teams: { ratePerSecond: 1, burst: 1 },
};

/** The result of `reserve`: go after `waitMs` (a slot is held), or not within the wait allowed. */
export type Reservation = { ok: true; waitMs: number } | { ok: false; at: number };

interface Bucket {
  /** GCRA theoretical arrival time: when the bucket is empty again, epoch ms. */
  tat: number;
  /** No sends before this (the provider asked us to back off). */
  pausedUntil: number;
  /** Where the next refused caller is told to come back, so refused callers spread out in time. */
  deferTat: number;
}

/**
 * The identity of a channel's destination, free of secret values: the environment variable name
 * for secret refs, a short hash for a plain URL, the topic or entity otherwise.
 */
export function destinationKey(config: ChannelConfig): string {
  switch (config.type) {
    case 'slack':
    case 'teams':
      return `${config.type}:env:${config.webhookUrl.fromEnv}`;
    case 'webhook':
      return typeof config.url === 'string' ? `webhook:url:${createHash('sha256').update(config.url).digest('hex').slice(0, 16)}` : `webhook:env:${config.url.fromEnv}`;
    case 'sns':
      return `sns:${config.topicArn}`;
    case 'email':
      return `email:${config.from}`;
    case 'newrelic':
      return `newrelic:${config.entityGuid}`;
  }
}

/**
 * Token buckets keyed by destination. Not shared between processes. Buckets that are full again
 * are forgotten, so memory follows the number of busy destinations.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  /** Checks a limit; throws a RangeError saying what to fix. */
  static check(limit: RateLimit, label: string): RateLimit {
    if (!(Number.isFinite(limit.ratePerSecond) && limit.ratePerSecond > 0)) throw new RangeError(`rate limit for ${label}: ratePerSecond must be a positive number, got ${limit.ratePerSecond}`);
    if (!(Number.isInteger(limit.burst) && limit.burst >= 1)) throw new RangeError(`rate limit for ${label}: burst must be a whole number of at least 1, got ${limit.burst}`);
    return limit;
  }

  /**
   * Reserves one send to `key` at or after `now`. When the send may go within `maxWaitMs`, the slot
   * is taken and `{ ok: true, waitMs }` says how long to wait first; otherwise no slot is taken and
   * `{ ok: false, at }` says when to come back: refused callers are told successive slots (one
   * interval apart), so a burst to one destination comes back spread out instead of all at once.
   */
  reserve(key: string, limit: RateLimit, now: number, maxWaitMs: number): Reservation {
    this.prune(now);
    const interval = 1000 / limit.ratePerSecond;
    const tolerance = (limit.burst - 1) * interval;
    const bucket = this.buckets.get(key) ?? { tat: now, pausedUntil: 0, deferTat: 0 };
    const at = Math.max(now, bucket.tat - tolerance, bucket.pausedUntil);
    if (at - now > maxWaitMs) {
      const comeBack = Math.max(at, bucket.deferTat);
      bucket.deferTat = comeBack + interval;
      this.buckets.set(key, bucket);
      return { ok: false, at: Math.ceil(comeBack) };
    }
    bucket.tat = Math.max(bucket.tat, at) + interval;
    this.buckets.set(key, bucket);
    return { ok: true, waitMs: Math.ceil(at - now) };
  }

  /** The provider asked to back off (429 with Retry-After): no reservation for `key` before `until`. */
  pause(key: string, until: number): void {
    const bucket = this.buckets.get(key) ?? { tat: 0, pausedUntil: 0, deferTat: 0 };
    bucket.pausedUntil = Math.max(bucket.pausedUntil, until);
    this.buckets.set(key, bucket);
  }

  /** Number of destinations currently remembered (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  private prune(now: number): void {
    if (this.buckets.size < 256) return;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tat <= now && bucket.pausedUntil <= now && bucket.deferTat <= now) this.buckets.delete(key);
    }
  }
}
