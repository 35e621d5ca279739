import { randomBytes } from 'node:crypto';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NotifyError, StoreError, errorMessage } from '../core/errors.js';
import { MissingTableError } from '../store/registrations.js';
import { DynamoLease } from '../store/lease.js';
import { sleep } from '../util/concurrency.js';

/** Name of the apply lock's lease in the state table (`pk: "lease"`, `sk: "apply"`). */
export const APPLY_LEASE = 'apply';

/** Another process holds the apply lock and did not release it in time. */
export class LockBusyError extends NotifyError {
  constructor(message: string) {
    super('apply-busy', message);
  }
}

/** A held lock. `lost` turns true when a renewal found the lock taken (the lease ran out): stop writing. */
export interface LockHandle {
  readonly lost: boolean;
  /** Stops renewing and deletes the lock if still ours. Never throws. */
  release(): Promise<void>;
}

/**
 * Serialises appliers of one registrations table (the `apply` command, the daemon's loop), so two
 * of them started at the same moment run one after the other and the table ends equal to one
 * desired set rather than a mix of both. It is a lease: a crashed holder's lock expires after
 * `leaseMs`. Per-item version conditions stay the real safety net; this only orders whole applies.
 */
export interface ApplyLock {
  /** Takes the lock, waiting up to `waitMs` for a holder to finish; throws LockBusyError after that. */
  acquire(owner: string, waitMs: number): Promise<LockHandle>;
}

/** Options of the DynamoDB lease. */
export interface DynamoApplyLockOptions {
  /** How long a lease lasts without renewal (default 30 s); renewed every third of it. */
  leaseMs?: number;
  /** How often a waiting acquirer looks again (default 250 ms, jittered). */
  pollMs?: number;
  now?: () => number;
}

/** The apply lock as a lease in the state table (DynamoLease), renewed while held. */
export class DynamoApplyLock implements ApplyLock {
  readonly #lease: DynamoLease;
  readonly #table: string;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #now: () => number;

  constructor(doc: DynamoDBDocumentClient, stateTable: string, options: DynamoApplyLockOptions = {}) {
    this.#lease = new DynamoLease(doc, stateTable, APPLY_LEASE);
    this.#table = stateTable;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 250;
    this.#now = options.now ?? Date.now;
  }

  async acquire(owner: string, waitMs: number): Promise<LockHandle> {
    // A token per acquisition: two applies from one host and process are still two holders.
    const holder = `${owner}#${randomBytes(8).toString('hex')}`;
    const deadline = this.#now() + waitMs;
    for (;;) {
      if (await this.#store(() => this.#lease.acquire(holder, this.#now(), this.#leaseMs))) return this.#held(holder);
      if (this.#now() >= deadline) {
        const current = await this.#lease.read().catch(() => undefined);
        const who = current ? ` (${current.owner.replace(/#[0-9a-f]+$/, '')}, since ${new Date(current.acquiredAt).toISOString()})` : '';
        throw new LockBusyError(`another apply is converging the registrations table${who}; waited ${Math.round(waitMs / 1000)}s — try again when it has finished`);
      }
      await sleep(this.#pollMs * (0.5 + Math.random()));
    }
  }

  #held(holder: string): LockHandle {
    let lost = false;
    let released = false;
    const renew = async () => {
      // A refused renewal means someone took the expired lease; a failed call is retried next time.
      if (!(await this.#lease.renew(holder, this.#now(), this.#leaseMs).catch(() => true))) lost = true;
    };
    const timer = setInterval(() => void renew(), Math.max(10, Math.floor(this.#leaseMs / 3)));
    timer.unref();
    return {
      get lost() {
        return lost;
      },
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        // already taken over or unreachable: the lease expires on its own
        await this.#lease.release(holder).catch(() => undefined);
      },
    };
  }

  async #store<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof ResourceNotFoundException) throw new MissingTableError(this.#table, { cause: error });
      throw new StoreError(`could not take the apply lock in DynamoDB table ${this.#table}: ${errorMessage(error)}`, { cause: error });
    }
  }
}

/** A lock for one process (tests, and callers that need no cross-process ordering). */
export class LocalApplyLock implements ApplyLock {
  #tail: Promise<void> = Promise.resolve();

  async acquire(_owner: string, waitMs: number): Promise<LockHandle> {
    let release!: () => void;
    const previous = this.#tail;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)));
    const outcome = await Promise.race([previous.then(() => 'ok' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      // hand our place in the queue on once the holder is done, so later acquirers are not stuck behind us
      void previous.then(release);
      throw new LockBusyError('another apply is converging the registrations table in this process; try again when it has finished');
    }
    return { lost: false, release: async () => release() };
  }
}
