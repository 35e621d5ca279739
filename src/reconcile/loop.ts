import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { Issue, LoadResult } from '../config/types.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { deepEqual } from '../plan/diff.js';
import type { DesiredItem } from '../plan/types.js';
import type { RegistrationStore } from '../store/registrations.js';
import { applyDesired, applySucceeded, type AppliedChange, type ApplyOptions } from './apply.js';
import { loadDesired, type DesiredState } from './desired.js';
import { LockBusyError } from './lock.js';
import { formatIssueLine } from '../config/report.js';

/** Time and timers, injectable for tests. */
export interface Clock {
  now(): Date;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock; its timers do not keep the process alive on their own. */
export const systemClock: Clock = {
  now: () => new Date(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Why a reconcile ran. */
export type ReconcileTrigger = 'initial' | 'watch' | 'resync' | 'retry' | 'manual';

/**
 * How one reconcile ended:
 * - `applied`: changes were written; `in-sync`: nothing to do;
 * - `invalid`: some file has errors, nothing was written (the last good live state stays);
 * - `refused`: a guard stopped it (empty desired set, too many deletes), nothing was written;
 * - `incomplete`: some writes failed or kept conflicting (retried with backoff);
 * - `busy`: another applier held the lock (retried); `error`: files or table unreadable (retried).
 */
export type ReconcileStatus = 'applied' | 'in-sync' | 'invalid' | 'refused' | 'incomplete' | 'busy' | 'error';

/** The result of one reconcile. */
export interface ReconcileOutcome {
  trigger: ReconcileTrigger;
  status: ReconcileStatus;
  /** When it finished (ISO-8601). */
  at: string;
  durationMs: number;
  /** Writes made. */
  applied: AppliedChange[];
  /** The writes that undid changes made to the table by hand (the files had not changed since the last converge). */
  drift: AppliedChange[];
  /** Valid registrations in the files (0 when invalid). */
  registrations: number;
  /** The loader's issues (errors and warnings). */
  issues: Issue[];
  /** Refusal or error message. */
  message?: string;
}

/** Callbacks for metrics; each is optional and must not throw. */
export interface ReconcileObserver {
  /** After every reconcile. */
  reconciled?(outcome: ReconcileOutcome): void;
  /** What the files held at the last load: `documents` counts registrations valid or not. */
  registrations?(counts: { valid: number; documents: number; files: number; errors: number; warnings: number }): void;
  /** Writes made by one reconcile (not called when there were none). */
  changesApplied?(changes: AppliedChange[], trigger: ReconcileTrigger): void;
  /** Writes that corrected drift (not called when there were none). */
  driftCorrected?(changes: AppliedChange[]): void;
}

/** What the loop passes on to `applyDesired` (the rest it decides itself). `lockWaitMs` defaults to 5 s here. */
export type LoopApplyOptions = Omit<ApplyOptions, 'actor' | 'commit' | 'logger' | 'now' | 'signal'>;

/** Options of the reconcile loop. */
export interface ReconcileLoopOptions {
  dir: string;
  store: RegistrationStore;
  logger: Logger;
  /** How often the table is re-read and drift corrected, even without file events. */
  resyncIntervalMs: number;
  /** The loader (default: `loadRegistrations`). */
  load?: (dir: string) => Promise<LoadResult>;
  /** Guards, audit trail, lock, concurrency for each apply. */
  apply?: LoopApplyOptions;
  clock?: Clock;
  /** Quiet time after the last file event before reconciling (default 250 ms). */
  debounceMs?: number;
  /** Watch the directory (default true); without it only resyncs and `reconcileNow` run. */
  watch?: boolean;
  /** Record git provenance (default true). */
  git?: boolean;
  observer?: ReconcileObserver;
  /** Longest wait between retries after an error (default: the resync interval). */
  maxBackoffMs?: number;
}

/**
 * The desired-versus-live loop the daemon runs on the elected leader. Level-triggered: a file
 * event or a resync only marks the state dirty; the single worker then re-reads the files and the
 * table and applies the difference, so duplicate, lost or reordered events do no harm. File events
 * are debounced; a periodic resync finds drift (items edited by hand) and restores the files'
 * state, logging the field diff. Invalid files keep the last good live state (nothing written, the
 * issues exposed). Failures are retried with exponential backoff. `start` and `stop` are
 * idempotent; `start` resolves once the initial reconcile has run.
 */
export class ReconcileLoop {
  readonly #options: ReconcileLoopOptions;
  readonly #clock: Clock;
  readonly #debounceMs: number;
  readonly #logger: Logger;
  #watcher: FSWatcher | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #active = false;
  #timer: unknown;
  #timerDue = 0;
  #resyncTimer: unknown;
  #pending: ReconcileTrigger | undefined;
  #firstDirtyAt = 0;
  #busy: Promise<ReconcileOutcome> | undefined;
  #failures = 0;
  #lastConverged: Array<ReturnType<typeof comparable>> | undefined;
  #lastOutcome: ReconcileOutcome | undefined;
  #issues: Issue[] = [];
  #abort = new AbortController();

  constructor(options: ReconcileLoopOptions) {
    if (!(options.resyncIntervalMs > 0)) throw new RangeError(`resyncIntervalMs must be positive, got ${options.resyncIntervalMs}`);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#debounceMs = options.debounceMs ?? 250;
    this.#logger = options.logger;
  }

  /** The last reconcile's outcome, if any ran. */
  get lastOutcome(): ReconcileOutcome | undefined {
    return this.#lastOutcome;
  }

  /** The issues of the last load (empty when the files were clean). */
  get issues(): readonly Issue[] {
    return this.#issues;
  }

  /** True between `start` and `stop`. */
  get active(): boolean {
    return this.#active;
  }

  /** Starts watching, schedules resyncs, runs the initial reconcile. Idempotent. */
  start(): Promise<void> {
    if (this.#active && this.#starting) return this.#starting;
    this.#active = true;
    this.#stopping = undefined;
    this.#abort = new AbortController();
    this.#starting = (async () => {
      if (this.#options.watch !== false) await this.#startWatcher();
      this.#armResync();
      if (!this.#active) return;
      await this.reconcileNow('initial');
    })();
    return this.#starting;
  }

  /**
   * Stops watching and timers and waits for an in-flight reconcile, whose apply finishes the writes
   * already started and attempts no more (the next start converges the rest). Idempotent.
   */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    this.#active = false;
    // an apply in flight finishes the writes it has started and attempts no more
    this.#abort.abort();
    this.#stopping = (async () => {
      this.#clearTimer();
      if (this.#resyncTimer !== undefined) this.#clock.clearTimeout(this.#resyncTimer);
      this.#resyncTimer = undefined;
      const watcher = this.#watcher;
      this.#watcher = undefined;
      await watcher?.close();
      await this.#busy?.catch(() => undefined);
      this.#starting = undefined;
    })();
    return this.#stopping;
  }

  /** Marks the state dirty (e.g. a webhook from the git host); the worker reconciles after the debounce. */
  kick(trigger: ReconcileTrigger = 'manual'): void {
    this.#markDirty(trigger, this.#debounceMs);
  }

  /**
   * Runs one reconcile now (after any in-flight one) and resolves its outcome; never rejects.
   * Used for the initial reconcile and `run --once`.
   */
  async reconcileNow(trigger: ReconcileTrigger = 'manual'): Promise<ReconcileOutcome> {
    while (this.#busy) await this.#busy.catch(() => undefined);
    this.#clearTimer();
    this.#pending = undefined;
    const run = this.#reconcile(trigger);
    this.#busy = run;
    try {
      return await run;
    } finally {
      this.#busy = undefined;
      this.#afterRun();
    }
  }

  async #startWatcher(): Promise<void> {
    const root = path.resolve(this.#options.dir);
    const watcher = watch(root, {
      ignoreInitial: true,
      persistent: true,
      // hidden files and folders and anything but *.yaml / *.yml files: editors' swap and
      // backup files never trigger a reconcile (a stray event would be harmless anyway)
      ignored: (file: string, stats?: { isFile(): boolean }) => {
        const relative = path.relative(root, file);
        if (relative === '') return false;
        if (relative.split(path.sep).some((part) => part.startsWith('.'))) return true;
        return stats?.isFile() === true && !/\.ya?ml$/i.test(file);
      },
    });
    watcher.on('all', (event: string, file: string) => {
      this.#logger.debug({ event, file }, 'registrations directory changed');
      this.#markDirty('watch', this.#debounceMs);
    });
    watcher.on('error', (error: unknown) => this.#logger.warn({ err: errorMessage(error), dir: this.#options.dir }, 'watching the registrations directory failed'));
    this.#watcher = watcher;
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  #armResync(): void {
    if (!this.#active) return;
    this.#resyncTimer = this.#clock.setTimeout(() => {
      this.#markDirty('resync', 0);
      this.#armResync();
    }, this.#options.resyncIntervalMs);
  }

  /** Level-triggered: remember that something may have changed and (re)arm the worker. */
  #markDirty(trigger: ReconcileTrigger, delayMs: number): void {
    if (!this.#active) return;
    const now = this.#clock.now().getTime();
    if (this.#pending === undefined) this.#firstDirtyAt = now;
    // a file event beats a retry or resync label: it is what the log should say
    if (this.#pending === undefined || trigger === 'watch') this.#pending = trigger;
    if (this.#busy) return; // the worker looks again when it finishes
    // debounce: each event pushes the run back, but never beyond 4 debounce periods after the first
    const latest = this.#firstDirtyAt + 4 * Math.max(this.#debounceMs, 1);
    const due = Math.min(now + delayMs, Math.max(latest, now));
    if (this.#timer !== undefined && this.#timerDue <= due && trigger !== 'watch') return;
    this.#schedule(due - now);
  }

  #schedule(delayMs: number): void {
    this.#clearTimer();
    this.#timerDue = this.#clock.now().getTime() + delayMs;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      const trigger = this.#pending;
      if (!this.#active || trigger === undefined || this.#busy) return;
      void this.reconcileNow(trigger);
    }, Math.max(0, delayMs));
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** After a reconcile: look again if something happened meanwhile, or retry a failure with backoff. */
  #afterRun(): void {
    if (!this.#active) return;
    const outcome = this.#lastOutcome;
    const failed = outcome !== undefined && (outcome.status === 'error' || outcome.status === 'busy' || outcome.status === 'incomplete');
    if (failed) {
      this.#failures += 1;
      const backoff = Math.min(1_000 * 2 ** (this.#failures - 1), this.#options.maxBackoffMs ?? this.#options.resyncIntervalMs);
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      this.#pending ??= 'retry';
      this.#schedule(this.#pending === 'watch' ? Math.min(jittered, this.#debounceMs) : jittered);
      return;
    }
    this.#failures = 0;
    if (this.#pending !== undefined) this.#schedule(this.#debounceMs);
  }

  async #reconcile(trigger: ReconcileTrigger): Promise<ReconcileOutcome> {
    const started = Date.now();
    const outcome: ReconcileOutcome = { trigger, status: 'in-sync', at: '', durationMs: 0, applied: [], drift: [], registrations: 0, issues: [] };
    try {
      await this.#reconcileInto(outcome);
    } catch (error) {
      outcome.status = error instanceof LockBusyError ? 'busy' : 'error';
      outcome.message = errorMessage(error);
      this.#logger.error({ trigger, err: outcome.message, dir: this.#options.dir, table: this.#options.store.table }, 'reconcile failed; will retry');
    }
    outcome.at = this.#clock.now().toISOString();
    outcome.durationMs = Date.now() - started;
    this.#lastOutcome = outcome;
    this.#notify(() => this.#options.observer?.reconciled?.(outcome));
    return outcome;
  }

  async #reconcileInto(outcome: ReconcileOutcome): Promise<void> {
    const { trigger } = outcome;
    const desired: DesiredState = await loadDesired(this.#options.dir, { ...(this.#options.load ? { load: this.#options.load } : {}), git: this.#options.git ?? true });
    const errors = desired.load.issues.filter((i) => i.severity === 'error').length;
    this.#issues = desired.load.issues;
    outcome.issues = desired.load.issues;
    this.#notify(() =>
      this.#options.observer?.registrations?.({ valid: desired.load.registrations.length, documents: desired.load.documents, files: desired.load.files.length, errors, warnings: desired.load.issues.length - errors }),
    );
    if (!desired.valid) {
      outcome.status = 'invalid';
      this.#logger.error(
        { trigger, errors, issues: desired.load.issues.slice(0, 20).map(formatIssueLine) },
        'registration files are invalid; keeping the last good live state',
      );
      return;
    }
    outcome.registrations = desired.items.length;
    // when the files match what was last converged, any write now undoes a hand edit: drift
    const filesUnchanged = this.#lastConverged !== undefined && deepEqual(this.#lastConverged, desired.items.map(comparable));
    const result = await applyDesired(desired.items, this.#options.store, {
      ...this.#options.apply,
      // the loop must stay stoppable within the daemon's shutdown budget: wait briefly for a CLI apply
      lockWaitMs: this.#options.apply?.lockWaitMs ?? 5_000,
      signal: this.#abort.signal,
      actor: filesUnchanged ? 'drift' : 'daemon',
      ...(desired.commit !== undefined ? { commit: desired.commit } : {}),
      logger: this.#logger,
      now: () => this.#clock.now(),
    });
    outcome.applied = result.applied;
    for (const item of result.unmanaged.filter((u) => u.desiredFile !== undefined)) {
      this.#logger.warn({ trigger, registration: item.name, file: item.desiredFile, managedBy: item.managedBy }, 'registration not applied: an unmanaged live item has the same name');
    }
    if (result.status === 'refused') {
      outcome.status = 'refused';
      outcome.message = result.refusal ?? 'refused';
      this.#logger.error({ trigger, reason: outcome.message }, 'reconcile refused; nothing was written');
      return;
    }
    if (filesUnchanged) outcome.drift = result.applied;
    for (const change of result.applied) {
      const fields = { trigger, registration: change.name, action: change.action, versionBefore: change.versionBefore, versionAfter: change.versionAfter, changes: change.fields };
      if (filesUnchanged) this.#logger.warn(fields, 'drift corrected: live registration restored to the files');
      else this.#logger.info(fields, 'registration applied');
    }
    for (const conflict of result.conflicts) this.#logger.info({ trigger, registration: conflict.name, outcome: conflict.outcome, attempts: conflict.attempts }, 'write conflict resolved');
    if (!applySucceeded(result)) {
      outcome.status = 'incomplete';
      outcome.message = result.failures[0]?.message ?? 'conflicting writes did not settle';
      this.#logger.error({ trigger, failures: result.failures, conflicts: result.conflicts.filter((c) => c.outcome === 'gave-up').map((c) => c.name) }, 'reconcile incomplete; will retry');
      return;
    }
    this.#lastConverged = desired.items.map(comparable);
    outcome.status = result.applied.length > 0 ? 'applied' : 'in-sync';
    if (result.applied.length > 0) this.#notify(() => this.#options.observer?.changesApplied?.(result.applied, trigger));
    if (outcome.drift.length > 0) this.#notify(() => this.#options.observer?.driftCorrected?.(outcome.drift));
  }

  #notify(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.#logger.warn({ err: errorMessage(error) }, 'reconcile observer threw');
    }
  }
}

/** What counts as "the files changed": content, not provenance (a new commit alone changes nothing). */
function comparable(item: DesiredItem): { name: string; metadata: unknown; spec: unknown } {
  return { name: item.name, metadata: item.metadata, spec: item.spec };
}
