import { hostname } from 'node:os';
import { ConflictError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { diff, planItem } from '../plan/diff.js';
import type { DesiredItem, FieldChange, Plan, PlannedChange, UnmanagedItem } from '../plan/types.js';
import type { AuditActor, AuditEntry, AuditTrail } from '../store/audit.js';
import { MANAGED_BY_GIT } from '../store/ports.js';
import type { RegistrationStore } from '../store/registrations.js';
import type { ApplyLock, LockHandle } from './lock.js';
import { mapLimit, sleep } from '../util/concurrency.js';

/** Default of `--max-deletes` (SPEC). */
export const DEFAULT_MAX_DELETES = 10;

/** How `applyDesired` converges. */
export interface ApplyOptions {
  /** Delete managed items no file wants (default true; `--no-prune` turns it off). */
  prune?: boolean;
  /** Refuse, writing nothing, when the plan deletes more than this (default 10). */
  maxDeletes?: number;
  /** Allow an empty desired set to delete every managed item (default false). */
  allowEmpty?: boolean;
  /** Recorded in the audit trail. */
  actor: AuditActor;
  /** Git commit of the desired state, for the audit trail. */
  commit?: string;
  /** Where changes are recorded; none = not recorded. */
  audit?: AuditTrail;
  /** Orders whole applies across processes; none = no lock. */
  lock?: ApplyLock;
  /** How long to wait for another applier's lock (default 60 s). */
  lockWaitMs?: number;
  /** Writes in flight at once (default 16); each stays a conditional single-item write. */
  concurrency?: number;
  /** Re-read and re-plan rounds per item after a lost conditional write (default 5). */
  maxConflictRetries?: number;
  /** Recorded as the audit host (default os.hostname()). */
  host?: string;
  now?: () => Date;
  logger?: Logger;
  /** Aborting stops further writes (those not attempted are reported as failures); in-flight writes finish. */
  signal?: AbortSignal;
}

/** One write that happened. */
export interface AppliedChange {
  action: PlannedChange['action'];
  name: string;
  fields: FieldChange[];
  versionBefore?: number;
  versionAfter?: number;
}

/**
 * A conditional write that lost against another writer, and what came of it after re-reading:
 * - `retried`: re-planned against the newer item and written;
 * - `already-done`: the other writer had made the same change;
 * - `left-alone`: the item is no longer managed by git;
 * - `gave-up`: still conflicting after every retry (the apply fails).
 */
export interface ConflictReport {
  name: string;
  action: PlannedChange['action'];
  attempts: number;
  outcome: 'retried' | 'already-done' | 'left-alone' | 'gave-up';
}

/** What `applyDesired` did. */
export interface ApplyResult {
  /** `refused`: a guard stopped it before any write (see `refusal`). */
  status: 'applied' | 'refused';
  refusal?: string;
  /** The plan computed at the start, against the table as read. */
  plan: Plan;
  /** Writes that happened, sorted by name. */
  applied: AppliedChange[];
  conflicts: ConflictReport[];
  /** Deletes not made because prune is off. */
  skippedDeletes: string[];
  /** Writes that failed for another reason (store errors), or were not attempted after one. */
  failures: Array<{ name: string; action: PlannedChange['action']; message: string }>;
  /** Audit entries that could not be recorded (the changes themselves happened). */
  auditFailures: number;
  unmanaged: UnmanagedItem[];
  unchanged: number;
}

/** True when the apply converged: nothing refused, failed or given up. */
export function applySucceeded(result: ApplyResult): boolean {
  return result.status === 'applied' && result.failures.length === 0 && !result.conflicts.some((c) => c.outcome === 'gave-up');
}

/**
 * Converges the registrations table to `desired` once: reads the table, plans, checks the guards
 * (empty desired set, `maxDeletes`) and then writes creates and updates, then deletes, each as a
 * conditional single-item write with `concurrency` in flight. A lost condition re-reads that item
 * and re-plans it (up to `maxConflictRetries` times) instead of failing the apply; other writers'
 * changes are never overwritten blindly. Every write is recorded in the audit trail.
 * Throws only when the table cannot be read (StoreError / MissingTableError) or the lock is busy
 * (LockBusyError); write failures come back in `failures`.
 */
export async function applyDesired(desired: readonly DesiredItem[], store: RegistrationStore, options: ApplyOptions): Promise<ApplyResult> {
  const lock: LockHandle | undefined = options.lock ? await options.lock.acquire(`${options.host ?? hostname()}:${process.pid}`, options.lockWaitMs ?? 60_000) : undefined;
  try {
    return await applyLocked(desired, store, options, lock);
  } finally {
    await lock?.release();
  }
}

async function applyLocked(desired: readonly DesiredItem[], store: RegistrationStore, options: ApplyOptions, lock: LockHandle | undefined): Promise<ApplyResult> {
  const prune = options.prune ?? true;
  const maxDeletes = options.maxDeletes ?? DEFAULT_MAX_DELETES;
  const now = options.now ?? (() => new Date());
  const live = await store.scan();
  const plan = diff(desired, live);
  const result: ApplyResult = {
    status: 'applied',
    plan,
    applied: [],
    conflicts: [],
    skippedDeletes: [],
    failures: [],
    auditFailures: 0,
    unmanaged: plan.unmanaged,
    unchanged: plan.unchanged.length,
  };

  const deletes = plan.changes.filter((c) => c.action === 'delete');
  const writes = plan.changes.filter((c) => c.action !== 'delete');
  if (prune) {
    const managed = live.filter((item) => item.managedBy === MANAGED_BY_GIT).length;
    if (desired.length === 0 && managed > 0 && !options.allowEmpty) {
      return refuse(result, `the desired set is empty: refusing to delete all ${managed} managed ${managed === 1 ? 'registration' : 'registrations'}; pass --allow-empty if that is intended`);
    }
    if (deletes.length > maxDeletes) {
      const names = deletes.slice(0, 10).map((c) => c.name).join(', ');
      return refuse(result, `refusing to delete ${deletes.length} registrations (${names}${deletes.length > 10 ? ', …' : ''}): more than --max-deletes ${maxDeletes}; raise --max-deletes if that is intended`);
    }
  } else {
    result.skippedDeletes = deletes.map((c) => c.name);
  }

  const audit = new AuditBuffer(options, result);
  const context: WriteContext = { store, options, result, audit, now, lock, maxRetries: options.maxConflictRetries ?? 5, stopped: false };
  // creates and updates before deletes: a renamed registration overlaps rather than leaving a gap
  await mapLimit(writes, options.concurrency ?? 16, (change) => converge(context, change));
  if (prune) await mapLimit(deletes, options.concurrency ?? 16, (change) => converge(context, change));
  await audit.flush();

  const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  result.applied.sort(byName);
  result.conflicts.sort(byName);
  result.failures.sort(byName);
  return result;
}

function refuse(result: ApplyResult, reason: string): ApplyResult {
  result.status = 'refused';
  result.refusal = reason;
  return result;
}

interface WriteContext {
  store: RegistrationStore;
  options: ApplyOptions;
  result: ApplyResult;
  audit: AuditBuffer;
  now: () => Date;
  lock: LockHandle | undefined;
  maxRetries: number;
  /** Set after a store failure (or a lost lock): the remaining writes are not attempted. */
  stopped: boolean;
}

/** Makes one name converge: write, and on a lost condition re-read, re-plan and write again. */
async function converge(context: WriteContext, initial: PlannedChange): Promise<void> {
  const { store, result, options } = context;
  let change = initial;
  let attempts = 0;
  for (;;) {
    if (context.stopped || context.lock?.lost || options.signal?.aborted) {
      const why = context.lock?.lost ? 'the apply lock was lost (another applier took over)' : options.signal?.aborted ? 'the apply was stopped' : 'an earlier store failure';
      result.failures.push({ name: change.name, action: change.action, message: `not attempted: ${why}` });
      return;
    }
    attempts += 1;
    try {
      const applied = await write(context, change);
      result.applied.push(applied);
      context.audit.add(applied, change);
      if (attempts > 1) result.conflicts.push({ name: change.name, action: initial.action, attempts, outcome: 'retried' });
      return;
    } catch (error) {
      if (!(error instanceof ConflictError)) {
        context.stopped = true;
        result.failures.push({ name: change.name, action: change.action, message: errorMessage(error) });
        options.logger?.error({ registration: change.name, action: change.action, err: errorMessage(error) }, 'registration write failed');
        return;
      }
      options.logger?.debug({ registration: change.name, action: change.action, attempt: attempts }, 'conditional write lost; re-reading');
    }
    // level-triggered: look at the item as it is now and plan it again
    let next;
    try {
      next = planItem(change.desired, await store.get(change.name));
    } catch (error) {
      context.stopped = true;
      result.failures.push({ name: change.name, action: change.action, message: errorMessage(error) });
      return;
    }
    if (next.kind !== 'change') {
      result.conflicts.push({ name: change.name, action: initial.action, attempts, outcome: next.kind === 'unmanaged' ? 'left-alone' : 'already-done' });
      return;
    }
    if (attempts > context.maxRetries) {
      result.conflicts.push({ name: change.name, action: initial.action, attempts, outcome: 'gave-up' });
      return;
    }
    change = next.change;
    await sleep(Math.random() * 20 * attempts);
  }
}

async function write(context: WriteContext, change: PlannedChange): Promise<AppliedChange> {
  const { store } = context;
  const applied: AppliedChange = { action: change.action, name: change.name, fields: change.fields };
  if (change.expectedVersion !== undefined) applied.versionBefore = change.expectedVersion;
  if (change.action === 'create' && change.desired) {
    const live = await store.create(change.desired, context.now());
    if (live.version !== undefined) applied.versionAfter = live.version;
  } else if (change.action === 'update' && change.desired) {
    const live = await store.update(change.desired, change.expectedVersion, context.now());
    if (live.version !== undefined) applied.versionAfter = live.version;
  } else {
    await store.remove(change.name, change.expectedVersion);
  }
  return applied;
}

/** Collects audit entries and writes them in batches; a failed batch is counted, never fatal. */
class AuditBuffer {
  readonly #options: ApplyOptions;
  readonly #result: ApplyResult;
  #pending: AuditEntry[] = [];
  #inflight: Promise<void> = Promise.resolve();

  constructor(options: ApplyOptions, result: ApplyResult) {
    this.#options = options;
    this.#result = result;
  }

  add(applied: AppliedChange, change: PlannedChange): void {
    if (!this.#options.audit) return;
    const entry: AuditEntry = {
      at: (this.#options.now ?? (() => new Date()))().toISOString(),
      action: applied.action,
      name: applied.name,
      fields: applied.fields,
      host: this.#options.host ?? hostname(),
      actor: this.#options.actor,
    };
    if (applied.versionBefore !== undefined) entry.versionBefore = applied.versionBefore;
    if (applied.versionAfter !== undefined) entry.versionAfter = applied.versionAfter;
    const commit = change.desired?.source.commit ?? this.#options.commit;
    if (commit !== undefined) entry.commit = commit;
    if (change.desired) entry.file = change.desired.source.file;
    this.#pending.push(entry);
    if (this.#pending.length >= 25) this.#send();
  }

  async flush(): Promise<void> {
    this.#send();
    await this.#inflight;
  }

  #send(): void {
    const audit = this.#options.audit;
    const batch = this.#pending;
    this.#pending = [];
    if (!audit || batch.length === 0) return;
    this.#inflight = this.#inflight.then(async () => {
      try {
        await audit.record(batch);
      } catch (error) {
        this.#result.auditFailures += batch.length;
        this.#options.logger?.warn({ entries: batch.length, err: errorMessage(error) }, 'audit entries not recorded');
      }
    });
  }
}
