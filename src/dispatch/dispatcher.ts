/**
 * The dispatcher: claims due notifications from the ledger, sends each over its channel, and
 * records the outcome. Every replica runs one; the ledger's leases keep deliveries unique.
 *
 * For one claimed notification:
 * 1. resolve its registration and channel as they are now (a removed registration or channel
 *    fails the notification with the reason "registration removed" / "channel removed");
 * 2. rate limit per destination (Slack: about 1/s per webhook): a short wait is awaited without
 *    holding a send slot, a longer one gives the claim back with a later `dueAt` ("deferred");
 * 3. send with a global concurrency limit, an AbortSignal and a timeout well below the lease
 *    (a hanging channel counts as a retryable failure and never holds its lease forever);
 * 4. record: sent (with the provider's message id), retrying at the time the retry policy
 *    chooses, or failed with the reason. A retrying item only gets a later `dueAt`: nothing waits
 *    behind it, so one failing channel never delays other channels or deployments.
 *
 * If the process dies between claim and record, the lease expires and a replica sends again: the
 * one repeat SPEC allows. `stop` avoids even that on a clean shutdown: it stops claiming, lets
 * sends in flight finish until the deadline, then aborts them and releases their claims (due now,
 * the attempt not counted) for another replica or the next start. A store outage is not a death:
 * a send whose record failed is recorded as soon as the store answers, and a replica that saw the
 * outage leaves expired claims alone for `recoveryGraceMs` after it, so it does not send them again.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { Channel, ChannelConfig, ChannelType, DeliveryResult } from '../channels/channel.js';
import { errorMessage } from '../core/errors.js';
import type { Notification } from '../core/events.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { Claim, NotificationLedger } from '../store/ledger.js';
import { redactText } from '../util/redact.js';
import type { LiveRegistration, RegistrationReader } from '../store/ports.js';
import { DEFAULT_RATE_LIMITS, destinationKey, RateLimiter, type RateLimits } from './rate-limit.js';
import { RegistrationCache } from './registrations.js';
import { checkRetryPolicy, DEFAULT_RETRY_POLICY, nextAttempt, type RetryPolicy } from './retry.js';
import { Semaphore, sleep } from '../util/concurrency.js';

/**
 * Builds the channel instance for a channel config of a registration. The real one wraps
 * `createChannel` of channels/registry.ts with the process's ChannelContext. May throw (an
 * `invalid-channel` NotifyError): the notification then fails with that message.
 */
export type ChannelProvider = (config: ChannelConfig, registrationName: string) => Channel;

/**
 * How one claimed notification left this replica:
 * `sent`; `retry` (scheduled again); `failed` (for good: a dead letter); `deferred` (rate limited,
 * given back for later); `released` (given back on stop or when registrations could not be read);
 * `duplicate` (sent, but another replica had already recorded a send); `lost` (the outcome could
 * not be recorded: lease lost or store error; the lease expiry brings it back).
 */
export type DispatchOutcome = 'sent' | 'retry' | 'failed' | 'deferred' | 'released' | 'duplicate' | 'lost';

/** Hooks for metrics (prom-client is wired by the daemon). Each is optional; a throwing hook is ignored. */
export interface DispatchObserver {
  /** Every claimed notification, once, when it leaves this replica. */
  outcome?(event: { channelType: ChannelType; outcome: DispatchOutcome }): void;
  /** A retry was scheduled after attempt `attempt`. */
  retry?(event: { channelType: ChannelType; attempt: number; delayMs: number; reason: string }): void;
  /** A notification failed for good. */
  deadLetter?(event: { channelType: ChannelType; deliveryId: string; reason: string }): void;
  /** How long one `channel.send` took, and what it came to. */
  sendLatency?(event: { channelType: ChannelType; ms: number; outcome: DeliveryResult['outcome'] }): void;
}

/** Counts of one `runOnce`, by outcome. */
export interface DispatchReport {
  claimed: number;
  sent: number;
  retried: number;
  failed: number;
  deferred: number;
  released: number;
  duplicates: number;
  lost: number;
}

/** What `stop` found and did. */
export interface StopReport {
  /** Notifications still in flight when `stop` was called. */
  inFlight: number;
  /** Sends aborted at the deadline (their claims released). */
  aborted: number;
}

/** Options of `Dispatcher`. Durations are milliseconds. */
export interface DispatcherOptions {
  ledger: NotificationLedger;
  /**
   * Where registrations are read at send time: a reader (the dispatcher caches it), or a cache
   * shared with the rest of the daemon (one copy in memory, one table scan per refresh).
   */
  registrations: RegistrationReader | RegistrationCache;
  channels: ChannelProvider;
  logger?: Logger;
  observer?: DispatchObserver;
  /** Epoch milliseconds; injected in tests. */
  clock?: () => number;
  /** Uniform in [0, 1), for retry jitter. */
  random?: () => number;
  /** This replica's name in `leaseOwner` (default: host, pid and a random suffix). */
  owner?: string;
  /** Lease on a claimed notification (default 60 s). */
  leaseMs?: number;
  /** Longest single send (default 10 s). */
  sendTimeoutMs?: number;
  /** Sends in flight at once (default 16). */
  concurrency?: number;
  /** Claimed notifications held at once, sending or waiting (default 2 × concurrency). */
  maxClaimed?: number;
  /** Retry policy overrides. */
  retry?: Partial<RetryPolicy>;
  /** Rate limits by channel type (default: Slack and Teams, 1/s per webhook); `null` turns one off. */
  rateLimits?: RateLimits;
  /** Longest rate-limit wait done in process; longer waits defer the claim (default 2 s). */
  maxRateWaitMs?: number;
  /** How often the daemon loop looks for due work when idle (default 1 s). */
  pollIntervalMs?: number;
  /** How often the registrations are reloaded (default 30 s; also reloaded on a miss). */
  registrationRefreshMs?: number;
  /** When a claim is given back because registrations could not be read, it is due again after this (default 5 s). */
  unavailableDelayMs?: number;
  /**
   * After the store comes back from an outage, how long the daemon loop leaves expired claims to
   * their holders (default 10 s): a replica that sent during the outage records the send within
   * its 2 s retry cap, instead of another replica taking the claim over and sending again.
   */
  recoveryGraceMs?: number;
}

interface Resolved {
  registration: LiveRegistration;
  config: ChannelConfig;
  channel: Channel;
}

const EMPTY_REPORT: DispatchReport = { claimed: 0, sent: 0, retried: 0, failed: 0, deferred: 0, released: 0, duplicates: 0, lost: 0 };
const REPORT_KEY: Record<DispatchOutcome, Exclude<keyof DispatchReport, 'claimed'>> = {
  sent: 'sent',
  retry: 'retried',
  failed: 'failed',
  deferred: 'deferred',
  released: 'released',
  duplicate: 'duplicates',
  lost: 'lost',
};

/**
 * Sends ledger notifications over their channels. `runOnce` for one round (`run --once`, tests),
 * `start`/`stop` for the daemon. See the module header for the guarantees.
 */
export class Dispatcher {
  /** This replica's lease owner name. */
  readonly owner: string;
  private readonly ledger: NotificationLedger;
  private readonly channelProvider: ChannelProvider;
  private readonly registrations: RegistrationCache;
  private readonly logger: Logger;
  private readonly observer: DispatchObserver;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly leaseMs: number;
  private readonly sendTimeoutMs: number;
  private readonly maxClaimed: number;
  private readonly policy: RetryPolicy;
  private readonly rateLimits: RateLimits;
  private readonly maxRateWaitMs: number;
  private readonly pollIntervalMs: number;
  private readonly unavailableDelayMs: number;
  private readonly recoveryGraceMs: number;
  private readonly slots: Semaphore;
  private readonly limiter = new RateLimiter();
  private readonly channelCache = new Map<string, { fingerprint: string; channel: Channel } | { fingerprint: string; error: string }>();
  private readonly active = new Map<string, Promise<DispatchOutcome>>();

  /** Aborted when stopping: no more claims, no more waits; sends in flight continue. */
  private soft = new AbortController();
  /** Aborted at the stop deadline: sends in flight are aborted and their claims released. */
  private hard = new AbortController();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** True while the daemon loop waits because it holds `maxClaimed` claims. */
  private full = false;

  constructor(options: DispatcherOptions) {
    this.ledger = options.ledger;
    this.channelProvider = options.channels;
    this.logger = options.logger ?? silentLogger();
    this.observer = options.observer ?? {};
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.owner = options.owner ?? `${hostname()}#${process.pid}#${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 10_000;
    const concurrency = options.concurrency ?? 16;
    this.slots = new Semaphore(concurrency);
    this.maxClaimed = options.maxClaimed ?? concurrency * 2;
    this.policy = checkRetryPolicy({ ...DEFAULT_RETRY_POLICY, ...options.retry });
    this.rateLimits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
    for (const [type, limit] of Object.entries(this.rateLimits)) if (limit) RateLimiter.check(limit, type);
    this.maxRateWaitMs = options.maxRateWaitMs ?? 2_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.unavailableDelayMs = options.unavailableDelayMs ?? 5_000;
    this.recoveryGraceMs = options.recoveryGraceMs ?? 10_000;
    this.registrations =
      options.registrations instanceof RegistrationCache
        ? options.registrations
        : new RegistrationCache(options.registrations, { refreshMs: options.registrationRefreshMs ?? 30_000, clock: this.clock });
    this.raiseListenerLimits();

    if (!(Number.isInteger(this.maxClaimed) && this.maxClaimed >= concurrency)) {
      throw new RangeError(`dispatcher maxClaimed (${this.maxClaimed}) must be a whole number of at least concurrency (${concurrency})`);
    }
    for (const [name, value] of Object.entries({ leaseMs: this.leaseMs, sendTimeoutMs: this.sendTimeoutMs, pollIntervalMs: this.pollIntervalMs })) {
      if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`dispatcher ${name} must be a positive number of milliseconds, got ${value}`);
    }
    if (!(Number.isFinite(this.recoveryGraceMs) && this.recoveryGraceMs >= 0)) throw new RangeError(`dispatcher recoveryGraceMs must be zero or more milliseconds, got ${this.recoveryGraceMs}`);
    // A claimed notification may wait for the rate limiter, then behind every other claim for a
    // send slot, then send: all of it must fit in the lease, or another replica would take it over
    // while it is still ours and send it twice.
    const worstCase = this.maxRateWaitMs + this.sendTimeoutMs * (Math.ceil((this.maxClaimed - 1) / concurrency) + 1);
    if (worstCase >= this.leaseMs) {
      throw new RangeError(
        `dispatcher leaseMs (${this.leaseMs}) must exceed the longest time a claim can be held (${worstCase} ms: maxRateWaitMs + sendTimeoutMs × (ceil((maxClaimed-1)/concurrency) + 1)); raise leaseMs or lower sendTimeoutMs, maxClaimed or maxRateWaitMs`,
      );
    }
  }

  /**
   * One round: claims every notification due now (in batches of `maxClaimed`), sends them and
   * records the outcomes; resolves when all are settled. A notification is handled at most once
   * per round, even if its retry falls due during the round. Throws `StoreError` only when the
   * queue cannot be read; failures of single notifications are counted, not thrown.
   */
  async runOnce(): Promise<DispatchReport> {
    this.resetAfterStop();
    const report = { ...EMPTY_REPORT };
    const seen = new Set<string>();
    while (!this.soft.signal.aborted) {
      const claims = await this.ledger.claimDue({ owner: this.owner, leaseMs: this.leaseMs, limit: this.maxClaimed, exclude: seen });
      if (claims.length === 0) break;
      report.claimed += claims.length;
      for (const claim of claims) seen.add(claim.entry.deliveryId);
      const outcomes = await Promise.all(claims.map((claim) => this.track(claim)));
      for (const outcome of outcomes) report[REPORT_KEY[outcome]] += 1;
    }
    return report;
  }

  /** Starts the daemon loop (idempotent): claims due work whenever a claim slot is free. */
  start(): void {
    if (this.loop) return;
    this.resetAfterStop();
    this.loop = this.runLoop();
  }

  /** After a finished `stop`, new stop signals so the dispatcher can run again. */
  private resetAfterStop(): void {
    if (!this.soft.signal.aborted || this.loop || this.active.size > 0) return;
    this.soft = new AbortController();
    this.hard = new AbortController();
    this.raiseListenerLimits();
  }

  /** True between `start` and the end of `stop`. */
  get running(): boolean {
    return this.loop !== undefined;
  }

  /** Notifications claimed and not yet recorded. */
  get inFlight(): number {
    return this.active.size;
  }

  /** Looks for due work now instead of at the next poll (call after an enqueue). */
  nudge(): void {
    this.wake?.();
  }

  /**
   * Stops taking new work; notifications waiting for a slot or the rate limiter are released at
   * once; sends in flight may finish until `deadlineMs`, then are aborted and released (due now,
   * the attempt not counted). Resolves when every claim is recorded or released (or could not be:
   * then its lease expires). Never throws.
   */
  async stop(options: { deadlineMs?: number } = {}): Promise<StopReport> {
    const deadlineMs = options.deadlineMs ?? 10_000;
    const inFlight = this.active.size;
    this.soft.abort();
    this.wake?.();
    await this.loop;
    let aborted = 0;
    const settled = Promise.allSettled([...this.active.values()]);
    // The deadline's timer is cancelled once everything settled, so it cannot hold the process open.
    const deadline = new AbortController();
    const finished = await Promise.race([settled.then(() => true), sleep(deadlineMs, deadline.signal).then(() => false)]);
    deadline.abort();
    if (!finished) {
      aborted = this.active.size;
      this.hard.abort();
      await settled;
    }
    this.loop = undefined;
    this.logger.info({ owner: this.owner, inFlight, aborted }, 'dispatcher stopped');
    return { inFlight, aborted };
  }

  /**
   * Each claim held listens on the stop signals (one wait or one send at a time, listener removed
   * after), so up to `maxClaimed` listeners are expected; Node warns above 10 by default.
   */
  private raiseListenerLimits(): void {
    setMaxListeners(this.maxClaimed + 8, this.soft.signal, this.hard.signal);
  }

  private async runLoop(): Promise<void> {
    let failures = 0;
    /** Expired claims are taken over only from this time on (epoch ms; set when the store comes back). */
    let takeOverFrom = Number.NEGATIVE_INFINITY;
    this.logger.info({ owner: this.owner }, 'dispatcher started');
    while (!this.soft.signal.aborted) {
      const free = this.maxClaimed - this.active.size;
      if (free <= 0) {
        this.full = true;
        await this.idle(this.pollIntervalMs);
        this.full = false;
        continue;
      }
      let claims: Claim[];
      try {
        // never our own claims again: one whose record waits for the store may outlive its lease
        const takeOver = failures === 0 && this.clock() >= takeOverFrom;
        claims = await this.ledger.claimDue({ owner: this.owner, leaseMs: this.leaseMs, limit: free, exclude: new Set(this.active.keys()), takeOver });
        if (failures > 0) {
          takeOverFrom = this.clock() + this.recoveryGraceMs;
          this.logger.info({ failures, graceMs: this.recoveryGraceMs }, 'dispatcher reached the store again; expired claims are left to their holders for the grace period');
        }
        failures = 0;
      } catch (error) {
        failures += 1;
        const delayMs = Math.min(30_000, this.pollIntervalMs * 2 ** Math.min(failures, 5));
        this.logger.warn({ err: errorMessage(error), failures, delayMs }, 'dispatcher could not claim notifications');
        await this.idle(delayMs);
        continue;
      }
      // A finished claim wakes the loop only when it was waiting for room: an idle loop found no
      // more due work, and new work arrives by nudge() or the next poll.
      for (const claim of claims) void this.track(claim).then(() => (this.full ? this.wake?.() : undefined));
      if (claims.length < free) await this.idle(this.pollIntervalMs);
    }
  }

  /** Sleeps up to `ms`, or until nudged, a slot frees up, or stop. */
  private idle(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
      if (this.soft.signal.aborted) done();
    });
  }

  private track(claim: Claim): Promise<DispatchOutcome> {
    const id = claim.entry.deliveryId;
    const work = this.handle(claim)
      .catch((error: unknown): DispatchOutcome => {
        // handle() catches what it expects; this is a bug, and the lease expiry brings the item back.
        this.logger.error({ deliveryId: id, err: errorMessage(error) }, 'notification handling failed unexpectedly');
        return 'lost';
      })
      .then((outcome) => {
        this.active.delete(id);
        this.notify('outcome', { channelType: claim.entry.channelType, outcome });
        return outcome;
      });
    this.active.set(id, work);
    return work;
  }

  private async handle(claim: Claim): Promise<DispatchOutcome> {
    const { entry } = claim;
    if (entry.attempts > this.policy.maxAttempts) {
      // Only claims whose process died before recording get here (every recorded attempt goes
      // through the retry policy): a notification that kills its sender must not loop forever.
      const reason = `gave up after ${entry.attempts - 1} attempts${entry.lastError ? `: ${entry.lastError}` : ''} (earlier attempts ended without a result: the sending process stopped or lost its lease)`;
      return this.recordOutcome(claim, { outcome: 'failed', reason }, undefined);
    }
    let resolved: Resolved | { reason: string };
    try {
      resolved = await this.resolve(claim);
    } catch (error) {
      this.logger.warn({ ...fields(claim), err: errorMessage(error) }, 'registrations unavailable; notification given back');
      return this.giveBack(claim, 'released', this.clock() + this.unavailableDelayMs);
    }
    if ('reason' in resolved) return this.recordOutcome(claim, { outcome: 'failed', reason: resolved.reason }, undefined);

    const limit = this.rateLimits[resolved.config.type];
    const key = limit ? destinationKey(resolved.config) : undefined;
    if (limit && key) {
      const reservation = this.limiter.reserve(key, limit, this.clock(), this.maxRateWaitMs);
      if (!reservation.ok) return this.giveBack(claim, 'deferred', reservation.at);
      if (reservation.waitMs > 0 && !(await sleep(reservation.waitMs, this.soft.signal))) return this.giveBack(claim, 'released');
    }
    if (!(await this.slots.acquire(this.soft.signal))) return this.giveBack(claim, 'released');
    let sent: { result: DeliveryResult; abortedByStop: boolean };
    try {
      sent = await this.send(resolved.channel, this.notification(claim, resolved.registration), entry.channelType);
    } finally {
      this.slots.release();
    }
    if (sent.abortedByStop && sent.result.outcome !== 'sent') return this.giveBack(claim, 'released');
    return this.recordOutcome(claim, sent.result, key);
  }

  private async resolve(claim: Claim): Promise<Resolved | { reason: string }> {
    const { entry } = claim;
    // the poller may have enqueued this from a newer list than ours (a channel just added): a list
    // read before the enqueue cannot prove the registration or channel removed
    const registration = await this.registrations.find(entry.registration.name, {
      accept: (r) => r.spec.channels.some((c) => c.name === entry.channelName),
      notBefore: entry.createdAt,
    });
    if (!registration) {
      return { reason: `registration removed: "${entry.registration.name}" is no longer live, so channel "${entry.channelName}" was not notified` };
    }
    const config = registration.spec.channels.find((c) => c.name === entry.channelName);
    if (!config) {
      return { reason: `channel removed: registration "${registration.name}" no longer has a channel named "${entry.channelName}"` };
    }
    const cacheKey = `${registration.name}\u0000${config.name}`;
    const fingerprint = JSON.stringify(config);
    let cached = this.channelCache.get(cacheKey);
    if (!cached || cached.fingerprint !== fingerprint) {
      try {
        cached = { fingerprint, channel: this.channelProvider(config, registration.name) };
      } catch (error) {
        cached = { fingerprint, error: redactText(errorMessage(error)) };
      }
      this.channelCache.set(cacheKey, cached);
    }
    if ('error' in cached) return { reason: `invalid channel: ${cached.error}` };
    return { registration, config, channel: cached.channel };
  }

  private notification(claim: Claim, registration: LiveRegistration): Notification {
    const { entry } = claim;
    const { owner, labels } = registration.metadata;
    return {
      deliveryId: entry.deliveryId,
      event: entry.event,
      registration: { name: registration.name, ...(owner !== undefined ? { owner } : {}), ...(labels !== undefined ? { labels } : {}) },
      channelName: entry.channelName,
      attempt: entry.attempts,
      test: false,
    };
  }

  /** One send, bounded by the timeout and the stop deadline. Never throws. */
  private async send(channel: Channel, notification: Notification, channelType: ChannelType): Promise<{ result: DeliveryResult; abortedByStop: boolean }> {
    const controller = new AbortController();
    const hard = this.hard.signal;
    const onHard = () => controller.abort(new Error('dispatcher stopping'));
    hard.addEventListener('abort', onHard, { once: true });
    const timer = setTimeout(() => controller.abort(new Error(`send timed out after ${this.sendTimeoutMs} ms`)), this.sendTimeoutMs);
    const started = performance.now();
    try {
      // A channel that ignores its signal must not hold the dispatcher: the abort settles the race.
      const abandoned = new Promise<DeliveryResult>((resolve) => {
        const settle = () =>
          resolve({ outcome: 'retry', reason: hard.aborted ? 'send aborted: the dispatcher is stopping' : `no answer within ${this.sendTimeoutMs} ms (send timed out)` });
        if (controller.signal.aborted) settle();
        else controller.signal.addEventListener('abort', settle, { once: true });
      });
      const attempt = (async () => channel.send(notification, controller.signal))().catch(
        // Channels classify instead of throwing; a throw is a bug, and its message may quote a URL.
        (error: unknown): DeliveryResult => ({ outcome: 'retry', reason: `channel error: ${redactText(errorMessage(error))}` }),
      );
      const result = await Promise.race([attempt, abandoned]);
      this.notify('sendLatency', { channelType, ms: performance.now() - started, outcome: result.outcome });
      return { result, abortedByStop: hard.aborted };
    } finally {
      clearTimeout(timer);
      hard.removeEventListener('abort', onHard);
    }
  }

  private async recordOutcome(claim: Claim, result: DeliveryResult, key: string | undefined): Promise<DispatchOutcome> {
    const { entry } = claim;
    const log = fields(claim);
    try {
      if (result.outcome === 'sent') {
        const recorded = await this.recordSent(claim, result.messageId);
        if (recorded === 'already-sent') {
          this.logger.warn(log, 'notification sent, but another replica had already recorded a send');
          return 'duplicate';
        }
        if (recorded === 'sent-late') this.logger.warn(log, 'notification sent after its lease expired');
        else this.logger.info({ ...log, messageId: result.messageId }, 'notification sent');
        return 'sent';
      }
      if (result.outcome === 'retry' && result.retryAfterMs !== undefined && key) this.limiter.pause(key, this.clock() + result.retryAfterMs);
      const decision = nextAttempt({ attempt: entry.attempts, result, now: this.clock(), random: this.random }, this.policy);
      if (decision.action === 'retry') {
        if (!(await this.ledger.recordRetry(claim, { at: decision.at, error: result.reason }))) return this.leaseLost(claim);
        this.logger.info({ ...log, reason: result.reason, delayMs: decision.delayMs }, 'notification will be retried');
        this.notify('retry', { channelType: entry.channelType, attempt: entry.attempts, delayMs: decision.delayMs, reason: result.reason });
        return 'retry';
      }
      if (!(await this.ledger.recordFailed(claim, { reason: decision.reason }))) return this.leaseLost(claim);
      this.logger.warn({ ...log, reason: decision.reason }, 'notification failed');
      this.notify('deadLetter', { channelType: entry.channelType, deliveryId: entry.deliveryId, reason: decision.reason });
      return 'failed';
    } catch (error) {
      this.logger.error({ ...log, outcome: result.outcome, err: errorMessage(error) }, 'could not record the notification outcome; it is tried again when its lease expires');
      return 'lost';
    }
  }

  /**
   * recordSent, tried until the store answers: a send that is not recorded is repeated once its
   * lease expires, so a store outage must not turn into a duplicate (while the store is down
   * nobody can claim the item; once it is back this lands within the 2 s backoff cap). Gives up
   * only when the dispatcher is stopped hard; the lease expiry then brings the item back, the
   * repeat SPEC allows for a process that stops mid-send.
   */
  private async recordSent(claim: Claim, messageId: string | undefined): Promise<Awaited<ReturnType<NotificationLedger['recordSent']>>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ledger.recordSent(claim, messageId !== undefined ? { messageId } : {});
      } catch (error) {
        if (this.hard.signal.aborted) throw error;
        if (attempt === 3) this.logger.warn({ ...fields(claim), err: errorMessage(error) }, 'could not record a send yet; retrying until the store answers');
        await sleep(Math.min(2_000, 200 * 2 ** (attempt - 1)), this.hard.signal);
      }
    }
  }

  private leaseLost(claim: Claim): DispatchOutcome {
    this.logger.warn(fields(claim), 'notification lease lost to another replica; its outcome is theirs to record');
    return 'lost';
  }

  private async giveBack(claim: Claim, outcome: 'released' | 'deferred', at?: number): Promise<DispatchOutcome> {
    try {
      if (await this.ledger.release(claim, at !== undefined ? { at } : {})) return outcome;
      return this.leaseLost(claim);
    } catch (error) {
      this.logger.error({ ...fields(claim), err: errorMessage(error) }, 'could not release the notification; it is tried again when its lease expires');
      return 'lost';
    }
  }

  private notify<K extends keyof DispatchObserver>(hook: K, event: Parameters<NonNullable<DispatchObserver[K]>>[0]): void {
    try {
      (this.observer[hook] as ((e: typeof event) => void) | undefined)?.(event);
    } catch (error) {
      this.logger.warn({ hook, err: errorMessage(error) }, 'dispatch observer hook threw');
    }
  }
}

function fields(claim: Claim): Record<string, unknown> {
  const { entry } = claim;
  return {
    deliveryId: entry.deliveryId,
    registration: entry.registration.name,
    channel: entry.channelName,
    channelType: entry.channelType,
    deploymentId: entry.event.deploymentId,
    event: entry.event.type,
    attempt: entry.attempts,
  };
}
