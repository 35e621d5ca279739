import { randomBytes } from 'node:crypto';
import { ConditionalCheckFailedException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NotifyError, StoreError, errorMessage } from '../core/errors.js';
import { MissingTableError } from '../store/registrations.js';
import { TTL_ATTRIBUTE } from '../store/tables.js';
import { sleep } from '../util/concurrency.js';

/** Key of the apply lock in the state table. */
export const APPLY_LOCK_KEY = { pk: 'apply-lock', sk: 'registrations' } as const;

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

/** The apply lock as one item of the state table, taken and renewed with conditional writes. */
export class DynamoApplyLock implements ApplyLock {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #now: () => number;

  constructor(doc: DynamoDBDocumentClient, stateTable: string, options: DynamoApplyLockOptions = {}) {
    this.#doc = doc;
    this.#table = stateTable;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 250;
    this.#now = options.now ?? Date.now;
  }

  async acquire(owner: string, waitMs: number): Promise<LockHandle> {
    const token = randomBytes(8).toString('hex');
    const deadline = this.#now() + waitMs;
    for (;;) {
      const now = this.#now();
      try {
        await this.#doc.send(
          new PutCommand({
            TableName: this.#table,
            Item: { ...APPLY_LOCK_KEY, owner, token, since: new Date(now).toISOString(), leaseUntil: now + this.#leaseMs, [TTL_ATTRIBUTE]: Math.ceil((now + this.#leaseMs) / 1000) + 3600 },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        return this.#held(token);
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw storeError(error, this.#table);
      }
      if (this.#now() >= deadline) {
        const holder = await this.#holder();
        throw new LockBusyError(
          `another apply is converging the registrations table${holder ? ` (${holder.owner}, since ${holder.since})` : ''}; waited ${Math.round(waitMs / 1000)}s — try again when it has finished`,
        );
      }
      await sleep(this.#pollMs * (0.5 + Math.random()));
    }
  }

  #held(token: string): LockHandle {
    let lost = false;
    let released = false;
    const renew = async () => {
      const now = this.#now();
      try {
        await this.#doc.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: APPLY_LOCK_KEY,
            UpdateExpression: 'SET leaseUntil = :until, #ttl = :ttl',
            ConditionExpression: '#token = :token',
            ExpressionAttributeNames: { '#token': 'token', '#ttl': TTL_ATTRIBUTE },
            ExpressionAttributeValues: { ':until': now + this.#leaseMs, ':ttl': Math.ceil((now + this.#leaseMs) / 1000) + 3600, ':token': token },
          }),
        );
      } catch (error) {
        // a lost condition means someone took the expired lease; a failed call may mean the same soon
        if (error instanceof ConditionalCheckFailedException) lost = true;
      }
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
        try {
          await this.#doc.send(
            new DeleteCommand({
              TableName: this.#table,
              Key: APPLY_LOCK_KEY,
              ConditionExpression: '#token = :token',
              ExpressionAttributeNames: { '#token': 'token' },
              ExpressionAttributeValues: { ':token': token },
            }),
          );
        } catch {
          // already taken over or unreachable: the lease expires on its own
        }
      },
    };
  }

  async #holder(): Promise<{ owner: string; since: string } | undefined> {
    try {
      const result = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: APPLY_LOCK_KEY, ConsistentRead: true }));
      if (!result.Item) return undefined;
      return { owner: String(result.Item.owner), since: String(result.Item.since) };
    } catch {
      return undefined;
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

function storeError(error: unknown, table: string): Error {
  if (error instanceof ResourceNotFoundException) return new MissingTableError(table, { cause: error });
  return new StoreError(`could not take the apply lock in DynamoDB table ${table}: ${errorMessage(error)}`, { cause: error });
}
