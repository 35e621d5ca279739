import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StoreError, errorMessage } from '../core/errors.js';
import type { ChangeAction, FieldChange } from '../plan/types.js';
import { TTL_ATTRIBUTE } from './tables.js';
import { MissingTableError } from './registrations.js';
import { sleep } from '../util/concurrency.js';

/** Partition of the state table that holds the audit trail. */
export const AUDIT_PK = 'audit';
/** How long audit entries are kept (DynamoDB TTL on `expiresAt`; filtered on read as TTL is lazy). */
export const AUDIT_RETENTION_DAYS = 90;

/** Who made a change: the `apply` command, the daemon's loop on file changes, or its resync correcting drift. */
export type AuditActor = 'apply' | 'daemon' | 'drift';

/** One change `apply` made to the registrations table. */
export interface AuditEntry {
  /** When the write succeeded (ISO-8601). */
  at: string;
  action: ChangeAction;
  name: string;
  /** The same structure as the plan's field changes; secret refs by name only. */
  fields: FieldChange[];
  versionBefore?: number;
  versionAfter?: number;
  /** The git commit of the desired state (with `-dirty` when the work tree had changes). */
  commit?: string;
  /** The file the desired state came from (create/update). */
  file?: string;
  host: string;
  actor: AuditActor;
}

/** Where changes are recorded and read back (for `status`). */
export interface AuditTrail {
  /** Records changes (in batches of 25 on DynamoDB). Throws StoreError when a write fails for good. */
  record(entries: readonly AuditEntry[]): Promise<void>;
  /** The most recent changes, newest first, at most `limit` (expired entries dropped). */
  recentChanges(limit: number): Promise<AuditEntry[]>;
}

/** Options of the DynamoDB audit trail. */
export interface DynamoAuditTrailOptions {
  retentionDays?: number;
  now?: () => Date;
}

/**
 * The audit trail in the state table: `pk = "audit"`, `sk = <ISO time>#<name>#<random>` so a
 * descending query lists the newest first; `expiresAt` (epoch seconds) lets DynamoDB TTL expire
 * entries after `retentionDays`. One partition is plenty for a change log written by applies.
 */
export class DynamoAuditTrail implements AuditTrail {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retentionMs: number;
  readonly #now: () => Date;

  constructor(doc: DynamoDBDocumentClient, stateTable: string, options: DynamoAuditTrailOptions = {}) {
    this.#doc = doc;
    this.#table = stateTable;
    this.#retentionMs = (options.retentionDays ?? AUDIT_RETENTION_DAYS) * 86_400_000;
    this.#now = options.now ?? (() => new Date());
  }

  async record(entries: readonly AuditEntry[]): Promise<void> {
    for (let i = 0; i < entries.length; i += 25) {
      let requests: Array<{ PutRequest: { Item: Record<string, unknown> } }> = entries.slice(i, i + 25).map((entry) => ({ PutRequest: { Item: this.#item(entry) } }));
      // BatchWriteItem hands back what was throttled; retry that with a short backoff
      for (let attempt = 0; requests.length > 0; attempt += 1) {
        if (attempt > 0) await sleep(Math.min(50 * 2 ** attempt, 2_000) * Math.random());
        if (attempt > 8) throw new StoreError(`could not record ${requests.length} audit entries in DynamoDB table ${this.#table}: still throttled after ${attempt} attempts`);
        try {
          const result = await this.#doc.send(new BatchWriteCommand({ RequestItems: { [this.#table]: requests } }));
          requests = (result.UnprocessedItems?.[this.#table] ?? []) as typeof requests;
        } catch (error) {
          throw storeError(error, this.#table, 'record audit entries');
        }
      }
    }
  }

  #item(entry: AuditEntry): Record<string, unknown> {
    const sk = `${entry.at}#${entry.name}#${randomBytes(4).toString('hex')}`;
    const expiresAt = Math.floor((Date.parse(entry.at) + this.#retentionMs) / 1000);
    return { pk: AUDIT_PK, sk, ...entry, [TTL_ATTRIBUTE]: expiresAt };
  }

  async recentChanges(limit: number): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    const nowSeconds = Math.floor(this.#now().getTime() / 1000);
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await this.#doc.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': AUDIT_PK },
            ScanIndexForward: false,
            Limit: Math.min(Math.max(limit - out.length, 1) * 2, 1000),
            ExclusiveStartKey: startKey,
          }),
        );
        for (const raw of page.Items ?? []) {
          if (typeof raw[TTL_ATTRIBUTE] === 'number' && raw[TTL_ATTRIBUTE] <= nowSeconds) continue;
          out.push(toEntry(raw));
          if (out.length >= limit) return out;
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    } catch (error) {
      throw storeError(error, this.#table, 'read the audit trail');
    }
    return out;
  }
}

/** An audit trail that keeps entries in memory (tests, and `--local` runs without a state table). */
export class MemoryAuditTrail implements AuditTrail {
  readonly entries: AuditEntry[] = [];

  async record(entries: readonly AuditEntry[]): Promise<void> {
    this.entries.push(...structuredClone(entries));
  }

  async recentChanges(limit: number): Promise<AuditEntry[]> {
    return [...this.entries].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)).slice(0, limit);
  }
}

/** This machine's name, as recorded in audit entries. */
export function auditHost(): string {
  return hostname();
}

function toEntry(raw: Record<string, unknown>): AuditEntry {
  const entry: AuditEntry = {
    at: String(raw.at ?? ''),
    action: raw.action as ChangeAction,
    name: String(raw.name ?? ''),
    fields: Array.isArray(raw.fields) ? (raw.fields as FieldChange[]) : [],
    host: String(raw.host ?? ''),
    actor: raw.actor as AuditActor,
  };
  if (typeof raw.versionBefore === 'number') entry.versionBefore = raw.versionBefore;
  if (typeof raw.versionAfter === 'number') entry.versionAfter = raw.versionAfter;
  if (typeof raw.commit === 'string') entry.commit = raw.commit;
  if (typeof raw.file === 'string') entry.file = raw.file;
  return entry;
}

function storeError(error: unknown, table: string, what: string): Error {
  if (error instanceof ResourceNotFoundException) return new MissingTableError(table, { cause: error });
  return new StoreError(`could not ${what} in DynamoDB table ${table}: ${errorMessage(error)}`, { cause: error });
}
