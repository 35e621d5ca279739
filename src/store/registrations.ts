import { ConditionalCheckFailedException, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isValidRegistration } from '../config/validator.js';
import { ConflictError, NotifyError, StoreError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { isPlainObject } from '../plan/diff.js';
import type { DesiredItem, LiveItem } from '../plan/types.js';
import { MANAGED_BY_GIT, type LiveRegistration, type RegistrationReader } from './ports.js';

/**
 * The registrations table as the reconciler sees it. Reads are strongly consistent; every write is
 * a single-item conditional write:
 * - `create`: only when no item has that name (`attribute_not_exists(#name)`);
 * - `update` / `remove`: only when the item is still managed by git and still at `expectedVersion`.
 * A lost condition throws `ConflictError` (re-read and re-plan); a missing table throws
 * `MissingTableError`; anything else from DynamoDB throws `StoreError` (the SDK has already retried).
 */
export interface RegistrationStore extends RegistrationReader {
  /** The table name, for messages. */
  readonly table: string;
  /** Every item of the table, unvalidated, sorted by name; strongly consistent (plans are made from it). */
  scan(): Promise<LiveItem[]>;
  /** One item, or undefined. */
  get(name: string): Promise<LiveItem | undefined>;
  /** Writes a new managed item at version 1 with `createdAt = updatedAt = now`. */
  create(item: DesiredItem, now: Date): Promise<LiveItem>;
  /** Replaces metadata, spec and source of a managed item; version + 1; keeps `createdAt`. `expectedVersion` undefined = the item has no version attribute. */
  update(item: DesiredItem, expectedVersion: number | undefined, now: Date): Promise<LiveItem>;
  /** Deletes a managed item at `expectedVersion`. */
  remove(name: string, expectedVersion: number | undefined): Promise<void>;
}

/** The registrations table does not exist: the operator has to run `codedeploy-notify init`. */
export class MissingTableError extends NotifyError {
  readonly table: string;
  constructor(table: string, options?: { cause?: unknown }) {
    super('table-missing', `DynamoDB table ${table} does not exist; run "codedeploy-notify init" (with the same --table-prefix) to create the tables`, options);
    this.table = table;
  }
}

/** Options of the DynamoDB store. */
export interface DynamoRegistrationStoreOptions {
  /** Receives one warning per item `list()` skips. */
  logger?: Logger;
  /** Parallel scan segments (default 4): a full read of thousands of items is latency-bound. */
  scanSegments?: number;
  /**
   * Told of every `scan()` with the registrations `list()` would have returned and when the read
   * started (epoch ms, from `clock`), so a cache can take them instead of scanning again.
   */
  onScan?: (registrations: LiveRegistration[], readAt: number) => void;
  /** Epoch milliseconds, for `onScan` (default Date.now). */
  clock?: () => number;
}

/** `RegistrationStore` on the `<prefix>registrations` table (partition key `name`). */
export class DynamoRegistrationStore implements RegistrationStore {
  readonly table: string;
  readonly #doc: DynamoDBDocumentClient;
  readonly #logger: Logger | undefined;
  readonly #segments: number;
  readonly #onScan: DynamoRegistrationStoreOptions['onScan'];
  readonly #clock: () => number;

  constructor(doc: DynamoDBDocumentClient, table: string, options: DynamoRegistrationStoreOptions = {}) {
    this.#doc = doc;
    this.table = table;
    this.#logger = options.logger;
    this.#segments = Math.max(1, Math.min(16, options.scanSegments ?? 4));
    this.#onScan = options.onScan;
    this.#clock = options.clock ?? Date.now;
  }

  async scan(): Promise<LiveItem[]> {
    const readAt = this.#clock();
    const items = await this.#scanAll(true);
    this.#onScan?.(this.#usable(items), readAt);
    return items;
  }

  async #scanAll(consistent: boolean): Promise<LiveItem[]> {
    const segments = await Promise.all(Array.from({ length: this.#segments }, (_, segment) => this.#scanSegment(segment, consistent)));
    return segments.flat().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async #scanSegment(segment: number, consistent: boolean): Promise<LiveItem[]> {
    const items: LiveItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#call('scan', () =>
        this.#doc.send(new ScanCommand({ TableName: this.table, ConsistentRead: consistent, Segment: segment, TotalSegments: this.#segments, ExclusiveStartKey: startKey })),
      );
      for (const raw of page.Items ?? []) {
        const item = toLiveItem(raw);
        if (item) items.push(item);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async get(name: string): Promise<LiveItem | undefined> {
    const result = await this.#call('get', () => this.#doc.send(new GetCommand({ TableName: this.table, Key: { name }, ConsistentRead: true })));
    return result.Item ? toLiveItem(result.Item) : undefined;
  }

  async create(item: DesiredItem, now: Date): Promise<LiveItem> {
    const at = now.toISOString();
    const live: LiveItem = { name: item.name, managedBy: MANAGED_BY_GIT, version: 1, metadata: item.metadata, spec: item.spec, createdAt: at, updatedAt: at, source: item.source };
    await this.#call(
      'create',
      () =>
        this.#doc.send(
          new PutCommand({ TableName: this.table, Item: live, ConditionExpression: 'attribute_not_exists(#name)', ExpressionAttributeNames: { '#name': 'name' } }),
        ),
      item.name,
    );
    return live;
  }

  async update(item: DesiredItem, expectedVersion: number | undefined, now: Date): Promise<LiveItem> {
    const result = await this.#call(
      'update',
      () =>
        this.#doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { name: item.name },
            UpdateExpression: 'SET #metadata = :metadata, #spec = :spec, #source = :source, #version = :next, #updatedAt = :now, #createdAt = if_not_exists(#createdAt, :now)',
            ConditionExpression: `${versionCondition(expectedVersion)} AND #managedBy = :git`,
            ExpressionAttributeNames: {
              '#metadata': 'metadata', '#spec': 'spec', '#source': 'source', '#version': 'version',
              '#updatedAt': 'updatedAt', '#createdAt': 'createdAt', '#managedBy': 'managedBy',
            },
            ExpressionAttributeValues: {
              ':metadata': item.metadata, ':spec': item.spec, ':source': item.source, ':next': (expectedVersion ?? 0) + 1,
              ':now': now.toISOString(), ':git': MANAGED_BY_GIT, ...(expectedVersion === undefined ? {} : { ':expected': expectedVersion }),
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      item.name,
    );
    return toLiveItem(result.Attributes ?? {}) ?? { name: item.name, version: (expectedVersion ?? 0) + 1 };
  }

  async remove(name: string, expectedVersion: number | undefined): Promise<void> {
    await this.#call(
      'delete',
      () =>
        this.#doc.send(
          new DeleteCommand({
            TableName: this.table,
            Key: { name },
            ConditionExpression: `${versionCondition(expectedVersion)} AND #managedBy = :git`,
            ExpressionAttributeNames: { '#version': 'version', '#managedBy': 'managedBy' },
            ExpressionAttributeValues: { ':git': MANAGED_BY_GIT, ...(expectedVersion === undefined ? {} : { ':expected': expectedVersion }) },
          }),
        ),
      name,
    );
  }

  /**
   * Every registration whose item is a valid registration (any `managedBy`), sorted by name; the others are
   * skipped with a warning, so one bad hand-written item cannot stop the poller. Eventually
   * consistent (half the read cost of `scan`): a change shows up within a second or so. Each call
   * reads the whole table, so callers should not list on every poll of a large table.
   */
  async list(): Promise<LiveRegistration[]> {
    return this.#usable(await this.#scanAll(false));
  }

  /** The registrations among scanned items (unusable items skipped and logged). */
  #usable(items: readonly LiveItem[]): LiveRegistration[] {
    const out: LiveRegistration[] = [];
    for (const item of items) {
      const result = asLiveRegistration(item);
      if ('registration' in result) out.push(result.registration);
      else this.#logger?.warn({ table: this.table, registration: item.name, managedBy: item.managedBy, reason: result.reason }, 'skipping unusable live registration');
    }
    return out;
  }

  async #call<T>(operation: string, send: () => Promise<T>, name?: string): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError(`registration ${name ?? '?'} in ${this.table} changed since it was read (${operation} lost a conditional write); re-read and try again`, { cause: error });
      }
      if (error instanceof ResourceNotFoundException) throw new MissingTableError(this.table, { cause: error });
      throw new StoreError(`DynamoDB ${operation} on table ${this.table} failed: ${errorMessage(error)}`, { cause: error });
    }
  }
}

function versionCondition(expectedVersion: number | undefined): string {
  return expectedVersion === undefined ? 'attribute_not_exists(#version)' : '#version = :expected';
}

/** A raw DynamoDB item as a LiveItem; undefined when it has no string `name` (cannot happen with this key schema). */
export function toLiveItem(raw: Record<string, unknown>): LiveItem | undefined {
  if (typeof raw.name !== 'string') return undefined;
  const item: LiveItem = { name: raw.name };
  if (raw.managedBy !== undefined) item.managedBy = typeof raw.managedBy === 'string' ? raw.managedBy : String(raw.managedBy);
  if (typeof raw.version === 'number') item.version = raw.version;
  if (raw.metadata !== undefined) item.metadata = raw.metadata;
  if (raw.spec !== undefined) item.spec = raw.spec;
  if (typeof raw.createdAt === 'string') item.createdAt = raw.createdAt;
  if (typeof raw.updatedAt === 'string') item.updatedAt = raw.updatedAt;
  if (typeof raw.source === 'object' && raw.source !== null) {
    const source = raw.source as Record<string, unknown>;
    item.source = {};
    if (typeof source.file === 'string') item.source.file = source.file;
    if (typeof source.commit === 'string') item.source.commit = source.commit;
  }
  return item;
}

/**
 * The live item as a registration the poller and dispatcher can use, or the reason it cannot be:
 * its metadata and spec must pass the schema, and it needs `createdAt` (or at least SPEC's
 * `updatedAt`), since that is when it started hearing deployments.
 */
export function asLiveRegistration(item: LiveItem): { registration: LiveRegistration } | { reason: string } {
  const metadata = item.metadata ?? {};
  if (!isPlainObject(metadata)) return { reason: 'metadata is not a map' };
  const candidate = { apiVersion: 'codedeploy-notify/v1', kind: 'Registration', metadata: { ...metadata, name: item.name }, spec: item.spec };
  if (!isValidRegistration(candidate)) return { reason: 'metadata or spec does not match the registration schema' };
  const createdAt = item.createdAt ?? item.updatedAt;
  if (createdAt === undefined) return { reason: 'the item has neither createdAt nor updatedAt' };
  const { name: _name, ...rest } = candidate.metadata;
  const registration: LiveRegistration = {
    name: item.name,
    // validated: every label value is a string (the generated type allows undefined members)
    metadata: rest as LiveRegistration['metadata'],
    spec: candidate.spec,
    version: item.version ?? 0,
    createdAt,
    updatedAt: item.updatedAt ?? createdAt,
  };
  if (item.managedBy !== undefined) registration.managedBy = item.managedBy;
  if (item.source?.file !== undefined) registration.source = { file: item.source.file, ...(item.source.commit !== undefined ? { commit: item.source.commit } : {}) };
  return { registration };
}
