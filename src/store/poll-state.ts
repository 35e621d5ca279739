import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { StoreError, errorMessage } from '../core/errors.js';
import type { EventType } from '../core/events.js';
import { TTL_ATTRIBUTE } from './tables.js';
import { mapLimit } from '../util/concurrency.js';

/**
 * Where the poller of one scope (region + credentials) stands, as `status` shows it. Times are
 * ISO-8601 strings.
 */
export interface ScopeCursor {
  scope: string;
  region: string;
  roleArn?: string;
  accountId?: string;
  /** Listing strategy of the last poll: account or application. */
  strategy?: string;
  /** Every deployment created before `cursor - overlap` has been handled. */
  cursor?: string;
  lastPollAt?: string;
  lastSuccessAt?: string;
  lastError?: string;
  lastErrorAt?: string;
  /** Failed polls since the last successful one (0 when the last poll succeeded). */
  consecutiveFailures: number;
}

/** A deployment the poller has seen and that has not ended (or that it could not read yet). */
export interface TrackedDeployment {
  deploymentId: string;
  /** Absent while BatchGetDeployments has not returned the listed id yet. */
  application?: string;
  deploymentGroup?: string;
  /** ISO-8601. */
  createTime?: string;
  status?: string;
  /** Events already handled for this deployment. Saving merges (set union), never removes. */
  emitted: EventType[];
  /** ISO-8601; kept from the first save. */
  firstSeenAt: string;
  /** Epoch milliseconds after which the item is ignored and may be deleted (TTL). */
  expiresAt: number;
}

/** A deployment that has ended and been handled; remembered only so overlapping listings skip it. */
export interface FinishedDeployment {
  deploymentId: string;
  /** ISO-8601; finished deployments are read back by createTime range. */
  createTime: string;
  status: string;
  /** Epoch milliseconds (TTL). */
  expiresAt: number;
}

/** Which scope a cursor belongs to, written with every poll record. */
export interface ScopeIdentity {
  scope: string;
  region: string;
  roleArn?: string;
  accountId?: string;
  strategy: string;
}

/** The outcome of one poll of a scope. */
export interface PollRecord {
  /** ISO-8601 time of the poll. */
  at: string;
  /** New cursor (ISO-8601) when the poll succeeded; the stored cursor never moves backwards. */
  cursor?: string;
  /** Set when the poll failed; the cursor does not move. */
  error?: string;
}

/**
 * Persisted poll state: everything a poller needs to resume after a restart or on another
 * replica. Every method throws `StoreError` when the store fails; items past their `expiresAt`
 * are never returned (the store's TTL deletes them eventually, or never on dynalite).
 */
export interface PollStateStore {
  getCursor(scope: string): Promise<ScopeCursor | undefined>;
  /** Every scope's cursor, sorted by scope (for `status`). */
  listCursors(): Promise<ScopeCursor[]>;
  listInFlight(scope: string): Promise<TrackedDeployment[]>;
  /** Ids of finished deployments created at or after `createdSince` (epoch ms). */
  listFinished(scope: string, createdSince: number): Promise<Set<string>>;
  /**
   * Saves deployments: `inFlight` are upserted (emitted merged), then `finished` are written and
   * their in-flight items deleted. Safe to repeat; a crash midway leaves a state that the next
   * poll completes.
   */
  saveDeployments(scope: string, changes: { inFlight: readonly TrackedDeployment[]; finished: readonly FinishedDeployment[] }): Promise<void>;
  /** Records a poll: advances the cursor (never backwards) on success, or records the error. */
  recordPoll(identity: ScopeIdentity, record: PollRecord): Promise<void>;
  /** The (application, group) keys the per-application strategy listed without interruption. */
  getWatched(scope: string): Promise<Set<string>>;
  /** Replaces the watched keys of a scope. */
  setWatched(scope: string, keys: ReadonlySet<string>): Promise<void>;
}

const CURSOR_PK = 'cursor';
const WATCH_PK = 'poll-watch';
const inFlightPk = (scope: string) => `poll-inflight#${scope}`;
const finishedPk = (scope: string) => `poll-done#${scope}`;
const finishedSk = (createTime: string, deploymentId: string) => `${createTime}#${deploymentId}`;

/** Options of the DynamoDB adapter. */
export interface DynamoPollStateOptions {
  doc: DynamoDBDocumentClient;
  /** The state table (`tableNames(prefix).state`). */
  table: string;
  /** Epoch milliseconds, for filtering expired items; default Date.now. */
  clock?: () => number;
}

/**
 * The PollStateStore on the `state` table (pk + sk, TTL attribute `expiresAt` in epoch seconds).
 * Items: `cursor`/<scope> (cursor, last poll, last success, last error), `poll-inflight#<scope>`/
 * <deploymentId> (emitted events as a string set, merged with ADD so concurrent writers never lose
 * one), `poll-done#<scope>`/<createTime>#<deploymentId>, `poll-watch`/<scope>. Single-item writes
 * only (no transactions); reads are strongly consistent.
 */
export class DynamoPollStateStore implements PollStateStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly clock: () => number;

  constructor(options: DynamoPollStateOptions) {
    this.doc = options.doc;
    this.table = options.table;
    this.clock = options.clock ?? Date.now;
  }

  async getCursor(scope: string): Promise<ScopeCursor | undefined> {
    const out = await this.run('read the poll cursor', scope, () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: CURSOR_PK, sk: scope }, ConsistentRead: true })),
    );
    return out.Item ? toCursor(out.Item) : undefined;
  }

  async listCursors(): Promise<ScopeCursor[]> {
    const items = await this.query('list poll cursors', '*', { pk: CURSOR_PK });
    return items.map(toCursor).sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  }

  async listInFlight(scope: string): Promise<TrackedDeployment[]> {
    const items = await this.query('list in-flight deployments', scope, { pk: inFlightPk(scope) });
    const now = this.clock();
    return items.filter((item) => !expired(item, now)).map((item) => ({
      deploymentId: String(item.sk),
      ...(typeof item.application === 'string' ? { application: item.application } : {}),
      ...(typeof item.deploymentGroup === 'string' ? { deploymentGroup: item.deploymentGroup } : {}),
      ...(typeof item.createTime === 'string' ? { createTime: item.createTime } : {}),
      ...(typeof item.status === 'string' ? { status: item.status } : {}),
      emitted: item.emitted instanceof Set ? ([...item.emitted] as EventType[]).sort() : [],
      firstSeenAt: String(item.firstSeenAt ?? ''),
      expiresAt: Number(item[TTL_ATTRIBUTE] ?? 0) * 1000,
    }));
  }

  async listFinished(scope: string, createdSince: number): Promise<Set<string>> {
    const items = await this.query('list finished deployments', scope, { pk: finishedPk(scope), since: new Date(createdSince).toISOString() });
    const now = this.clock();
    return new Set(items.filter((item) => !expired(item, now)).map((item) => String(item.deploymentId)));
  }

  async saveDeployments(scope: string, changes: { inFlight: readonly TrackedDeployment[]; finished: readonly FinishedDeployment[] }): Promise<void> {
    await mapLimit(changes.inFlight, 8, (d) =>
      this.run('save an in-flight deployment', scope, () => {
        const names: Record<string, string> = { '#fs': 'firstSeenAt', '#exp': TTL_ATTRIBUTE };
        const values: Record<string, unknown> = { ':fs': d.firstSeenAt, ':exp': Math.ceil(d.expiresAt / 1000) };
        const sets = ['#fs = if_not_exists(#fs, :fs)', '#exp = :exp'];
        for (const [attr, value] of [['application', d.application], ['deploymentGroup', d.deploymentGroup], ['createTime', d.createTime], ['status', d.status]] as const) {
          if (value === undefined) continue;
          names[`#${attr}`] = attr;
          values[`:${attr}`] = value;
          sets.push(`#${attr} = :${attr}`);
        }
        let expression = `SET ${sets.join(', ')}`;
        if (d.emitted.length > 0) {
          names['#em'] = 'emitted';
          values[':em'] = new Set(d.emitted);
          expression += ' ADD #em :em';
        }
        return this.doc.send(new UpdateCommand({
          TableName: this.table,
          Key: { pk: inFlightPk(scope), sk: d.deploymentId },
          UpdateExpression: expression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }));
      }),
    );
    await this.batchWrite('save finished deployments', scope, changes.finished.map((d) => ({
      PutRequest: {
        Item: {
          pk: finishedPk(scope),
          sk: finishedSk(d.createTime, d.deploymentId),
          deploymentId: d.deploymentId,
          status: d.status,
          [TTL_ATTRIBUTE]: Math.ceil(d.expiresAt / 1000),
        },
      },
    })));
    await this.batchWrite('forget finished in-flight deployments', scope, changes.finished.map((d) => ({
      DeleteRequest: { Key: { pk: inFlightPk(scope), sk: d.deploymentId } },
    })));
  }

  async recordPoll(identity: ScopeIdentity, record: PollRecord): Promise<void> {
    const names: Record<string, string> = { '#region': 'region', '#strategy': 'strategy', '#lastPollAt': 'lastPollAt', '#failures': 'consecutiveFailures' };
    const values: Record<string, unknown> = { ':region': identity.region, ':strategy': identity.strategy, ':at': record.at };
    const sets = ['#region = :region', '#strategy = :strategy', '#lastPollAt = :at'];
    for (const [attr, value] of [['roleArn', identity.roleArn], ['accountId', identity.accountId]] as const) {
      if (value === undefined) continue;
      names[`#${attr}`] = attr;
      values[`:${attr}`] = value;
      sets.push(`#${attr} = :${attr}`);
    }
    let condition: string | undefined;
    if (record.error !== undefined) {
      names['#lastError'] = 'lastError';
      names['#lastErrorAt'] = 'lastErrorAt';
      values[':error'] = record.error.slice(0, 2000);
      values[':one'] = 1;
      sets.push('#lastError = :error', '#lastErrorAt = :at');
    } else {
      names['#lastSuccessAt'] = 'lastSuccessAt';
      values[':zero'] = 0;
      sets.push('#lastSuccessAt = :at', '#failures = :zero');
      if (record.cursor !== undefined) {
        names['#cursor'] = 'cursor';
        values[':cursor'] = record.cursor;
        sets.push('#cursor = :cursor');
        condition = 'attribute_not_exists(#cursor) OR #cursor <= :cursor';
      }
    }
    const update = (withCursor: boolean) => {
      const activeSets = withCursor ? sets : sets.filter((s) => !s.startsWith('#cursor'));
      const activeValues = { ...values };
      const activeNames = { ...names };
      if (!withCursor) {
        delete activeValues[':cursor'];
        delete activeNames['#cursor'];
      }
      const expression = `SET ${activeSets.join(', ')}${record.error !== undefined ? ' ADD #failures :one' : ''}`;
      return this.doc.send(new UpdateCommand({
        TableName: this.table,
        Key: { pk: CURSOR_PK, sk: identity.scope },
        UpdateExpression: expression,
        ExpressionAttributeNames: activeNames,
        ExpressionAttributeValues: activeValues,
        ...(withCursor && condition ? { ConditionExpression: condition } : {}),
      }));
    };
    await this.run('record a poll', identity.scope, async () => {
      try {
        await update(true);
      } catch (error) {
        // Another poller (a previous leader) already moved the cursor further: keep its value.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        await update(false);
      }
    });
  }

  async getWatched(scope: string): Promise<Set<string>> {
    const out = await this.run('read the watched groups', scope, () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: WATCH_PK, sk: scope }, ConsistentRead: true })),
    );
    const groups = out.Item?.groups;
    return groups instanceof Set ? new Set([...groups].map(String)) : new Set();
  }

  async setWatched(scope: string, keys: ReadonlySet<string>): Promise<void> {
    await this.run('save the watched groups', scope, () =>
      keys.size === 0
        ? this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: WATCH_PK, sk: scope } }))
        : this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: WATCH_PK, sk: scope, groups: new Set(keys) } })),
    );
  }

  private async query(what: string, scope: string, key: { pk: string; since?: string }): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.run(what, scope, () =>
        this.doc.send(new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: key.since !== undefined ? '#pk = :pk AND #sk >= :since' : '#pk = :pk',
          ExpressionAttributeNames: key.since !== undefined ? { '#pk': 'pk', '#sk': 'sk' } : { '#pk': 'pk' },
          ExpressionAttributeValues: key.since !== undefined ? { ':pk': key.pk, ':since': key.since } : { ':pk': key.pk },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        })),
      );
      items.push(...((out.Items ?? []) as Record<string, unknown>[]));
      start = out.LastEvaluatedKey as Record<string, unknown> | undefined;
    } while (start);
    return items;
  }

  private async batchWrite(what: string, scope: string, requests: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt >= 5) throw new StoreError(`poll state: could not ${what} for scope ${scope} in table ${this.table}: ${pending.length} writes stayed unprocessed; check the table's capacity`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const batch = pending;
        const out = await this.run(what, scope, () => this.doc.send(new BatchWriteCommand({ RequestItems: { [this.table]: batch as never } })));
        pending = (out.UnprocessedItems?.[this.table] ?? []) as Record<string, unknown>[];
      }
    }
  }

  private async run<T>(what: string, scope: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`poll state: could not ${what} for scope ${scope} in table ${this.table}: ${errorMessage(error)}; check that the table exists (codedeploy-notify init) and is reachable`, { cause: error });
    }
  }
}

/**
 * The PollStateStore in memory, with the same semantics as the DynamoDB adapter (emitted merged,
 * expired items hidden, cursor never moves backwards). For benchmarks and `--local` experiments;
 * state dies with the process.
 */
export class MemoryPollStateStore implements PollStateStore {
  private readonly clock: () => number;
  private readonly cursors = new Map<string, ScopeCursor>();
  private readonly inFlight = new Map<string, Map<string, TrackedDeployment>>();
  private readonly finished = new Map<string, Map<string, FinishedDeployment>>();
  private readonly watched = new Map<string, Set<string>>();

  constructor(options: { clock?: () => number } = {}) {
    this.clock = options.clock ?? Date.now;
  }

  async getCursor(scope: string): Promise<ScopeCursor | undefined> {
    const cursor = this.cursors.get(scope);
    return cursor ? { ...cursor } : undefined;
  }

  async listCursors(): Promise<ScopeCursor[]> {
    return [...this.cursors.values()].map((c) => ({ ...c })).sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
  }

  async listInFlight(scope: string): Promise<TrackedDeployment[]> {
    const now = this.clock();
    return [...(this.inFlight.get(scope)?.values() ?? [])].filter((d) => d.expiresAt > now).map((d) => ({ ...d, emitted: [...d.emitted] }));
  }

  async listFinished(scope: string, createdSince: number): Promise<Set<string>> {
    const now = this.clock();
    const since = new Date(createdSince).toISOString();
    return new Set([...(this.finished.get(scope)?.values() ?? [])].filter((d) => d.expiresAt > now && d.createTime >= since).map((d) => d.deploymentId));
  }

  async saveDeployments(scope: string, changes: { inFlight: readonly TrackedDeployment[]; finished: readonly FinishedDeployment[] }): Promise<void> {
    const inFlight = mapOf(this.inFlight, scope);
    for (const d of changes.inFlight) {
      const old = inFlight.get(d.deploymentId);
      inFlight.set(d.deploymentId, {
        ...old,
        ...d,
        firstSeenAt: old?.firstSeenAt ?? d.firstSeenAt,
        emitted: [...new Set([...(old?.emitted ?? []), ...d.emitted])].sort(),
      });
    }
    const finished = mapOf(this.finished, scope);
    for (const d of changes.finished) finished.set(finishedSk(d.createTime, d.deploymentId), { ...d });
    for (const d of changes.finished) inFlight.delete(d.deploymentId);
  }

  async recordPoll(identity: ScopeIdentity, record: PollRecord): Promise<void> {
    const old = this.cursors.get(identity.scope);
    const next: ScopeCursor = {
      ...old,
      scope: identity.scope,
      region: identity.region,
      strategy: identity.strategy,
      ...(identity.roleArn ? { roleArn: identity.roleArn } : {}),
      ...(identity.accountId ? { accountId: identity.accountId } : {}),
      lastPollAt: record.at,
      consecutiveFailures: old?.consecutiveFailures ?? 0,
    };
    if (record.error !== undefined) {
      next.lastError = record.error;
      next.lastErrorAt = record.at;
      next.consecutiveFailures += 1;
    } else {
      next.lastSuccessAt = record.at;
      next.consecutiveFailures = 0;
      if (record.cursor !== undefined && (old?.cursor === undefined || old.cursor <= record.cursor)) next.cursor = record.cursor;
    }
    this.cursors.set(identity.scope, next);
  }

  async getWatched(scope: string): Promise<Set<string>> {
    return new Set(this.watched.get(scope) ?? []);
  }

  async setWatched(scope: string, keys: ReadonlySet<string>): Promise<void> {
    this.watched.set(scope, new Set(keys));
  }
}

function mapOf<V>(maps: Map<string, Map<string, V>>, scope: string): Map<string, V> {
  let map = maps.get(scope);
  if (!map) {
    map = new Map();
    maps.set(scope, map);
  }
  return map;
}

function expired(item: Record<string, unknown>, now: number): boolean {
  const ttl = item[TTL_ATTRIBUTE];
  return typeof ttl === 'number' && ttl * 1000 <= now;
}

function toCursor(item: Record<string, unknown>): ScopeCursor {
  const str = (key: string) => (typeof item[key] === 'string' ? { [key]: item[key] as string } : {});
  return {
    scope: String(item.sk),
    region: String(item.region ?? ''),
    ...str('roleArn'),
    ...str('accountId'),
    ...str('strategy'),
    ...str('cursor'),
    ...str('lastPollAt'),
    ...str('lastSuccessAt'),
    ...str('lastError'),
    ...str('lastErrorAt'),
    consecutiveFailures: Number(item.consecutiveFailures ?? 0),
  };
}
