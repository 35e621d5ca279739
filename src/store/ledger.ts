/**
 * The notification ledger: one DynamoDB item per delivery (deployment, event, registration,
 * channel), keyed by the delivery id, that makes sending exactly-once in effect across crashes
 * and replicas with single-item conditional writes only (no transactions: dynalite has none).
 *
 * Protocol: enqueue (conditional put) → claim (conditional update taking a lease) → send →
 * record sent / retrying / failed (conditional on the lease token). A crash between claim and
 * record leaves the lease to expire; the item is then due again and is claimed once more: one
 * redelivery, never silence.
 *
 * Item attributes (stable; `status` and the benchmark read them):
 * | attribute     | type | meaning |
 * |---------------|------|---------|
 * | id            | S    | the delivery id (`deliveryId()` of core/events.ts); partition key |
 * | state         | S    | pending · sending · retrying · sent · failed |
 * | attempts      | N    | sends started so far (a claim counts one; a release gives it back) |
 * | queue         | S    | `due` while the item still has to be sent (pending, retrying, sending); absent once sent or failed. Hash key of the sparse GSI `queue` |
 * | dueAt         | N    | epoch ms when the item may be claimed: enqueue time, the next attempt time (retrying) or the lease expiry (sending). Present exactly when `queue` is. Range key of GSI `queue` |
 * | leaseOwner    | S    | replica holding the lease (sending only) |
 * | leaseToken    | S    | random token of the current claim (sending only) |
 * | leaseUntil    | N    | epoch ms when the lease expires (sending only; equals dueAt) |
 * | lastError     | S    | why the last attempt did not deliver (retrying; kept afterwards) |
 * | reason        | S    | why the notification failed for good (failed) |
 * | messageId     | S    | the provider's message id, when it gave one (sent) |
 * | sentAt        | N    | epoch ms of the record of the send (sent) |
 * | event         | M    | the DeploymentEvent as the poller saw it |
 * | registration  | M    | the RegistrationRef {name, owner?, labels?} at enqueue time |
 * | registrationName, deploymentId, eventType | S | copies for reading without the maps |
 * | channelName, channelType | S | the channel within the registration |
 * | feed          | S    | always `all`: hash key of GSI `feed` (recent notifications for `status`) |
 * | createdAt     | N    | epoch ms of the enqueue |
 * | updatedAt     | N    | epoch ms of the last write; range key of GSI `feed` |
 * | expiresAt     | N    | epoch seconds; set when the item reaches sent or failed (TTL). Expired items are filtered on read, since TTL deletion is best effort and absent on dynalite |
 *
 * Both GSIs use one constant partition key (`due`, `all`), so the ledger's write rate is bounded
 * by one index partition (about 1,000 writes/s on DynamoDB, two to three per notification):
 * ample for deployment notifications; shard the key if that ever stops being true.
 *
 * Lease-token rule for writes after a send:
 * - `recordRetry`, `recordFailed` and `release` need the caller's lease token to still be on the
 *   item: a replica whose lease expired and was reclaimed cannot overwrite the new owner's work.
 * - `recordSent` needs only that the item is not already `sent`. A send that happened is the truth,
 *   even when it is recorded late (the lease expired, or another replica has reclaimed the item and
 *   is sending or has failed it): marking it sent stops every further attempt, and the other
 *   replica's own record then loses its condition. The only duplicate this allows is a send that
 *   was in flight when its lease ran out or its process died — the repeat SPEC allows, and the one
 *   webhook receivers can drop by delivery id.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ChannelType } from '../channels/channel.js';
import { StoreError, errorMessage } from '../core/errors.js';
import type { DeploymentEvent, RegistrationRef } from '../core/events.js';
import type { NotificationSink, PendingNotification } from './ports.js';
import { LEDGER_FEED_INDEX, LEDGER_QUEUE_INDEX, TTL_ATTRIBUTE } from './tables.js';
import { mapLimit } from '../util/concurrency.js';

/** Where a notification stands. `sent` and `failed` are terminal. */
export type LedgerState = 'pending' | 'sending' | 'retrying' | 'sent' | 'failed';

/** Every state, in lifecycle order. */
export const LEDGER_STATES: readonly LedgerState[] = ['pending', 'sending', 'retrying', 'sent', 'failed'];

/** Value of `queue` on items still to send. */
export const QUEUE_DUE = 'due';
/** Value of `feed` on every item. */
export const FEED_ALL = 'all';
/** Default time to keep sent and failed items: 30 days. */
export const DEFAULT_TERMINAL_TTL_SECONDS = 30 * 24 * 3600;

/** One ledger item, as read. Times are epoch milliseconds (`expiresAt`: epoch seconds). */
export interface LedgerEntry {
  deliveryId: string;
  state: LedgerState;
  attempts: number;
  event: DeploymentEvent;
  registration: RegistrationRef;
  channelName: string;
  channelType: ChannelType;
  dueAt?: number;
  leaseOwner?: string;
  leaseToken?: string;
  leaseUntil?: number;
  lastError?: string;
  reason?: string;
  messageId?: string;
  sentAt?: number;
  createdAt: number;
  updatedAt: number;
  expiresAt?: number;
}

/** A notification this replica holds the lease on. `entry` is the item as the claim left it. */
export interface Claim {
  entry: LedgerEntry;
  owner: string;
  token: string;
  leaseUntil: number;
}

/** What `enqueue` did: new items, and items that were already there (left untouched). */
export interface EnqueueResult {
  created: number;
  existing: number;
}

/** What `recordSent` found: recorded under our lease, recorded late, or someone had already recorded the send. */
export type SentRecord = 'sent' | 'sent-late' | 'already-sent';

/** Counts of the `queue` index: items due now and items scheduled later (retrying, or leased). */
export interface QueueStats {
  due: number;
  scheduled: number;
}

/**
 * The ledger operations the dispatcher needs. Every method throws `StoreError` when DynamoDB
 * fails; a `false` / `already-sent` answer means a concurrent writer won, which is normal.
 */
export interface NotificationLedger extends NotificationSink {
  /** Claims up to `limit` due items (not in `exclude`) for `owner`, with a lease of `leaseMs`. */
  claimDue(options: ClaimOptions): Promise<Claim[]>;
  recordSent(claim: Claim, result: { messageId?: string }): Promise<SentRecord>;
  recordRetry(claim: Claim, retry: { at: number; error: string }): Promise<boolean>;
  recordFailed(claim: Claim, failure: { reason: string }): Promise<boolean>;
  release(claim: Claim, options?: { at?: number }): Promise<boolean>;
}

/** Options of `NotificationLedger.claimDue`. */
export interface ClaimOptions {
  owner: string;
  leaseMs: number;
  limit: number;
  /** Delivery ids not to claim (the caller's own claims). */
  exclude?: ReadonlySet<string>;
  /**
   * Also take over items whose previous claim expired unrecorded (state `sending`); default true.
   * False claims only `pending` and `retrying` items: what a replica does right after the store
   * came back, while the holder of an expired claim may still be recording a send it made.
   */
  takeOver?: boolean;
}

/** Options of `DynamoLedger`. */
export interface LedgerOptions {
  /** A document client from `createDynamoClients` (it drops undefined values, which events have). */
  doc: DynamoDBDocumentClient;
  /** The ledger table name (`tableNames(prefix).ledger`). */
  table: string;
  /** Epoch milliseconds; injected in tests. */
  clock?: () => number;
  /** How long sent and failed items are kept, in seconds (TTL). */
  terminalTtlSeconds?: number;
  /** Conditional puts in flight during `enqueue`. */
  enqueueConcurrency?: number;
  /** Items read per page of the `queue` index when claiming. */
  claimPageSize?: number;
}

const NAMES = {
  '#id': 'id',
  '#state': 'state',
  '#attempts': 'attempts',
  '#queue': 'queue',
  '#dueAt': 'dueAt',
  '#leaseOwner': 'leaseOwner',
  '#leaseToken': 'leaseToken',
  '#leaseUntil': 'leaseUntil',
  '#lastError': 'lastError',
  '#reason': 'reason',
  '#messageId': 'messageId',
  '#sentAt': 'sentAt',
  '#updatedAt': 'updatedAt',
  '#expiresAt': TTL_ATTRIBUTE,
  '#feed': 'feed',
} as const;

type Name = keyof typeof NAMES;

/** ExpressionAttributeNames with only the aliases an expression uses (DynamoDB rejects unused ones). */
function names(...expressions: (string | undefined)[]): Record<string, string> {
  const text = expressions.join(' ');
  const used: Record<string, string> = {};
  for (const alias of Object.keys(NAMES) as Name[]) {
    if (new RegExp(`${alias}\\b`).test(text)) used[alias] = NAMES[alias];
  }
  return used;
}

/**
 * The ledger on DynamoDB. Implements `NotificationSink` for the poller and the claim/record
 * protocol for the dispatcher; see the module header for the item layout and the lease rule.
 */
export class DynamoLedger implements NotificationLedger {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly clock: () => number;
  private readonly ttlSeconds: number;
  private readonly enqueueConcurrency: number;
  private readonly claimPageSize: number;

  constructor(options: LedgerOptions) {
    this.doc = options.doc;
    this.table = options.table;
    this.clock = options.clock ?? Date.now;
    this.ttlSeconds = options.terminalTtlSeconds ?? DEFAULT_TERMINAL_TTL_SECONDS;
    this.enqueueConcurrency = options.enqueueConcurrency ?? 8;
    this.claimPageSize = options.claimPageSize ?? 50;
    if (!(this.ttlSeconds > 0)) throw new RangeError(`ledger terminalTtlSeconds must be positive, got ${this.ttlSeconds}`);
    if (!(Number.isInteger(this.enqueueConcurrency) && this.enqueueConcurrency >= 1)) throw new RangeError(`ledger enqueueConcurrency must be a whole number of at least 1, got ${this.enqueueConcurrency}`);
  }

  /**
   * Adds each notification as `pending` and due now, unless an item with its delivery id exists
   * (then it is left untouched: a repeated poll is harmless). Resolves when every item is stored;
   * throws `StoreError` if any put failed for another reason than "already there", after the
   * others have settled, so the caller keeps its cursor and enqueues again.
   */
  async enqueue(items: readonly PendingNotification[]): Promise<void> {
    await this.add(items);
  }

  /** `enqueue`, telling how many items were new and how many were already there. Same guarantees. */
  async add(items: readonly PendingNotification[]): Promise<EnqueueResult> {
    const now = this.clock();
    const result: EnqueueResult = { created: 0, existing: 0 };
    const errors: unknown[] = [];
    await mapLimit(items, this.enqueueConcurrency, async (item) => {
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: {
              id: item.deliveryId,
              state: 'pending',
              attempts: 0,
              queue: QUEUE_DUE,
              dueAt: now,
              event: item.event,
              registration: item.registration,
              registrationName: item.registration.name,
              deploymentId: item.event.deploymentId,
              eventType: item.event.type,
              channelName: item.channelName,
              channelType: item.channelType,
              feed: FEED_ALL,
              createdAt: now,
              updatedAt: now,
            },
            ConditionExpression: 'attribute_not_exists(#id)',
            ExpressionAttributeNames: names('#id'),
          }),
        );
        result.created += 1;
      } catch (error) {
        if (isConditionFailed(error)) result.existing += 1;
        else errors.push(error);
      }
    });
    if (errors.length > 0) {
      throw new StoreError(`could not enqueue ${errors.length} of ${items.length} notifications in ledger table ${this.table}: ${errorMessage(errors[0])}; they are enqueued again on the next poll`, { cause: errors[0] });
    }
    return result;
  }

  /**
   * Claims due items: reads the `queue` index for `dueAt <= now` (oldest first, a page at a time)
   * and takes each with a conditional update (still queued, still due, not terminal) that sets
   * state `sending`, a fresh lease token, `dueAt = leaseUntil = now + leaseMs` and counts an
   * attempt. Items another replica took first are skipped. Returns at most `limit` claims.
   * Throws `StoreError` when the queue cannot be read, or when no item could be claimed because
   * of store errors.
   */
  async claimDue(options: ClaimOptions): Promise<Claim[]> {
    const { owner, leaseMs, limit } = options;
    const claims: Claim[] = [];
    if (limit <= 0) return claims;
    const now = this.clock();
    let startKey: Record<string, unknown> | undefined;
    let failure: unknown;
    do {
      let page;
      try {
        page = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: LEDGER_QUEUE_INDEX,
            KeyConditionExpression: '#queue = :due AND #dueAt <= :now',
            ExpressionAttributeNames: names('#queue', '#dueAt'),
            ExpressionAttributeValues: { ':due': QUEUE_DUE, ':now': now },
            Limit: Math.max(this.claimPageSize, limit),
            ExclusiveStartKey: startKey,
          }),
        );
      } catch (error) {
        throw new StoreError(`could not read the queue of ledger table ${this.table}: ${errorMessage(error)}`, { cause: error });
      }
      startKey = page.LastEvaluatedKey;
      const candidates = (page.Items ?? []).map((item) => String(item.id)).filter((id) => !options.exclude?.has(id));
      for (let i = 0; i < candidates.length && claims.length < limit; ) {
        const batch = candidates.slice(i, i + (limit - claims.length));
        i += batch.length;
        const taken = await Promise.allSettled(batch.map((id) => this.claimOne(id, owner, now, now + leaseMs, options.takeOver ?? true)));
        for (const outcome of taken) {
          if (outcome.status === 'fulfilled') {
            if (outcome.value) claims.push(outcome.value);
          } else {
            failure ??= outcome.reason;
          }
        }
      }
    } while (startKey && claims.length < limit && failure === undefined);
    // Claims already taken are returned even if others failed: dropping them would strand them
    // until their lease expires. Only a round that took nothing reports the store error.
    if (claims.length === 0 && failure !== undefined) throw failure;
    return claims;
  }

  private async claimOne(id: string, owner: string, now: number, leaseUntil: number, takeOver: boolean): Promise<Claim | undefined> {
    const token = randomUUID();
    const update = 'SET #state = :sending, #leaseOwner = :owner, #leaseToken = :token, #leaseUntil = :until, #dueAt = :until, #attempts = #attempts + :one, #updatedAt = :now';
    const condition = `attribute_exists(#queue) AND #dueAt <= :now AND #state IN (:pending, :retrying${takeOver ? ', :sending' : ''})`;
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names(update, condition),
          ExpressionAttributeValues: { ':sending': 'sending', ':pending': 'pending', ':retrying': 'retrying', ':owner': owner, ':token': token, ':until': leaseUntil, ':one': 1, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { entry: toEntry(out.Attributes ?? {}), owner, token, leaseUntil };
    } catch (error) {
      if (isConditionFailed(error)) return undefined;
      throw new StoreError(`could not claim notification ${id} in ledger table ${this.table}: ${errorMessage(error)}`, { cause: error });
    }
  }

  /**
   * Records a delivered notification: state `sent`, the message id, out of the queue, TTL set.
   * Allowed unless the item is already `sent` (see the lease-token rule in the module header).
   */
  async recordSent(claim: Claim, result: { messageId?: string }): Promise<SentRecord> {
    const now = this.clock();
    const update = `SET #state = :sent, #sentAt = :now, #updatedAt = :now, #expiresAt = :expires${result.messageId !== undefined ? ', #messageId = :messageId' : ''} REMOVE #queue, #dueAt, #leaseOwner, #leaseToken, #leaseUntil`;
    const condition = 'attribute_exists(#id) AND #state <> :sent';
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id: claim.entry.deliveryId },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names(update, condition),
          ExpressionAttributeValues: {
            ':sent': 'sent',
            ':now': now,
            ':expires': this.expiresAt(now),
            ...(result.messageId !== undefined ? { ':messageId': result.messageId } : {}),
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return out.Attributes?.leaseToken === claim.token ? 'sent' : 'sent-late';
    } catch (error) {
      if (isConditionFailed(error)) return 'already-sent';
      throw this.writeError('record the send of', claim, error);
    }
  }

  /** Schedules the next attempt at `at` (state `retrying`, lease dropped). False when the lease was lost. */
  async recordRetry(claim: Claim, retry: { at: number; error: string }): Promise<boolean> {
    const update = 'SET #state = :retrying, #dueAt = :at, #lastError = :error, #updatedAt = :now REMOVE #leaseOwner, #leaseToken, #leaseUntil';
    return this.leasedUpdate(claim, 'record a retry of', update, { ':retrying': 'retrying', ':at': Math.round(retry.at), ':error': retry.error, ':now': this.clock() });
  }

  /** Records a permanent failure with its reason: state `failed`, out of the queue, TTL set. False when the lease was lost. */
  async recordFailed(claim: Claim, failure: { reason: string }): Promise<boolean> {
    const now = this.clock();
    const update = 'SET #state = :failed, #reason = :reason, #updatedAt = :now, #expiresAt = :expires REMOVE #queue, #dueAt, #leaseOwner, #leaseToken, #leaseUntil';
    return this.leasedUpdate(claim, 'record the failure of', update, { ':failed': 'failed', ':reason': failure.reason, ':now': now, ':expires': this.expiresAt(now) });
  }

  /**
   * Gives a claim back without counting the attempt: state `pending` (or `retrying` if it had been
   * tried before), due at `at` (default: now) so another replica can take it at once. Used on
   * shutdown and to defer rate-limited sends. False when the lease was lost.
   */
  async release(claim: Claim, options: { at?: number } = {}): Promise<boolean> {
    const now = this.clock();
    const previous = claim.entry.attempts - 1 > 0 ? 'retrying' : 'pending';
    const update = 'SET #state = :previous, #dueAt = :at, #attempts = #attempts - :one, #updatedAt = :now REMOVE #leaseOwner, #leaseToken, #leaseUntil';
    return this.leasedUpdate(claim, 'release', update, { ':previous': previous, ':at': Math.round(options.at ?? now), ':one': 1, ':now': now });
  }

  /** The item of a delivery id (strongly consistent), or undefined when absent or expired. */
  async get(deliveryId: string): Promise<LedgerEntry | undefined> {
    try {
      const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { id: deliveryId }, ConsistentRead: true }));
      if (!out.Item) return undefined;
      const entry = toEntry(out.Item);
      return this.isExpired(entry) ? undefined : entry;
    } catch (error) {
      throw new StoreError(`could not read notification ${deliveryId} from ledger table ${this.table}: ${errorMessage(error)}`, { cause: error });
    }
  }

  /**
   * The `limit` most recently updated notifications, newest first, from the `feed` index
   * (eventually consistent); expired items are left out.
   */
  async recent(limit: number): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: LEDGER_FEED_INDEX,
            KeyConditionExpression: '#feed = :all',
            ExpressionAttributeNames: names('#feed'),
            ExpressionAttributeValues: { ':all': FEED_ALL },
            ScanIndexForward: false,
            Limit: Math.max(1, Math.min(limit, 100)),
            ExclusiveStartKey: startKey,
          }),
        );
        startKey = page.LastEvaluatedKey;
        for (const item of page.Items ?? []) {
          const entry = toEntry(item);
          if (!this.isExpired(entry) && entries.length < limit) entries.push(entry);
        }
      } while (startKey && entries.length < limit);
    } catch (error) {
      throw new StoreError(`could not read recent notifications from ledger table ${this.table}: ${errorMessage(error)}`, { cause: error });
    }
    return entries;
  }

  /** Counts the queue: items due now and items scheduled for later (reads the keys-only index). */
  async queueStats(): Promise<QueueStats> {
    const now = this.clock();
    const count = async (condition: string): Promise<number> => {
      let total = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: LEDGER_QUEUE_INDEX,
            KeyConditionExpression: `#queue = :due AND ${condition}`,
            ExpressionAttributeNames: names('#queue', '#dueAt'),
            ExpressionAttributeValues: { ':due': QUEUE_DUE, ':now': now },
            Select: 'COUNT',
            ExclusiveStartKey: startKey,
          }),
        );
        total += page.Count ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return total;
    };
    try {
      const [due, scheduled] = await Promise.all([count('#dueAt <= :now'), count('#dueAt > :now')]);
      return { due, scheduled };
    } catch (error) {
      throw new StoreError(`could not count the queue of ledger table ${this.table}: ${errorMessage(error)}`, { cause: error });
    }
  }

  private async leasedUpdate(claim: Claim, what: string, update: string, values: Record<string, unknown>): Promise<boolean> {
    const condition = '#leaseToken = :token';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id: claim.entry.deliveryId },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names(update, condition),
          ExpressionAttributeValues: { ...values, ':token': claim.token },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw this.writeError(what, claim, error);
    }
  }

  private writeError(what: string, claim: Claim, error: unknown): StoreError {
    return new StoreError(`could not ${what} notification ${claim.entry.deliveryId} in ledger table ${this.table}: ${errorMessage(error)}; its lease expires and it is tried again`, { cause: error });
  }

  private expiresAt(now: number): number {
    return Math.floor(now / 1000) + this.ttlSeconds;
  }

  private isExpired(entry: LedgerEntry): boolean {
    return entry.expiresAt !== undefined && entry.expiresAt * 1000 <= this.clock();
  }
}

/** True for DynamoDB's "the condition did not hold" (the SDK does not retry it). */
export function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

function toEntry(item: Record<string, unknown>): LedgerEntry {
  const optionalNumber = (key: string) => (typeof item[key] === 'number' ? (item[key] as number) : undefined);
  const optionalString = (key: string) => (typeof item[key] === 'string' ? (item[key] as string) : undefined);
  const entry: LedgerEntry = {
    deliveryId: String(item.id),
    state: String(item.state) as LedgerState,
    attempts: Number(item.attempts ?? 0),
    event: item.event as DeploymentEvent,
    registration: (item.registration ?? { name: optionalString('registrationName') ?? '' }) as RegistrationRef,
    channelName: String(item.channelName),
    channelType: String(item.channelType) as ChannelType,
    createdAt: Number(item.createdAt ?? 0),
    updatedAt: Number(item.updatedAt ?? 0),
  };
  const extra = {
    dueAt: optionalNumber('dueAt'),
    leaseOwner: optionalString('leaseOwner'),
    leaseToken: optionalString('leaseToken'),
    leaseUntil: optionalNumber('leaseUntil'),
    lastError: optionalString('lastError'),
    reason: optionalString('reason'),
    messageId: optionalString('messageId'),
    sentAt: optionalNumber('sentAt'),
    expiresAt: optionalNumber(TTL_ATTRIBUTE),
  };
  for (const [key, value] of Object.entries(extra)) {
    if (value !== undefined) (entry as unknown as Record<string, unknown>)[key] = value;
  }
  return entry;
}
