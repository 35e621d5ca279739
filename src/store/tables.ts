import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

import { DEFAULT_TABLE_PREFIX } from '../config/settings.js';

export { DEFAULT_TABLE_PREFIX };

/**
 * The three tables:
 * - `registrations` (SPEC): partition key `name`; live registrations.
 * - `ledger`: partition key `id` (the delivery id); one item per (deployment, event, registration,
 *   channel). GSI `queue` (`queue`, `dueAt`) holds only items still to send (sparse), GSI `feed`
 *   (`feed`, `updatedAt`) lists recent notifications for `status`. TTL attribute `expiresAt`.
 * - `state`: partition key `pk`, sort key `sk`; poller cursors and in-flight deployments,
 *   leases, and the audit trail. TTL attribute `expiresAt`.
 */
export interface TableNames {
  registrations: string;
  ledger: string;
  state: string;
}

/** Table names for a prefix. */
export function tableNames(prefix: string = DEFAULT_TABLE_PREFIX): TableNames {
  return { registrations: `${prefix}registrations`, ledger: `${prefix}ledger`, state: `${prefix}state` };
}

/** Name of the TTL attribute (epoch seconds) on the ledger and state tables. */
export const TTL_ATTRIBUTE = 'expiresAt';
export const LEDGER_QUEUE_INDEX = 'queue';
export const LEDGER_FEED_INDEX = 'feed';

/** CreateTable inputs for every table (on-demand billing). */
export function tableDefinitions(names: TableNames): CreateTableCommandInput[] {
  return [
    {
      TableName: names.registrations,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'name', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'name', KeyType: 'HASH' }],
    },
    {
      TableName: names.ledger,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'id', AttributeType: 'S' },
        { AttributeName: 'queue', AttributeType: 'S' },
        { AttributeName: 'dueAt', AttributeType: 'N' },
        { AttributeName: 'feed', AttributeType: 'S' },
        { AttributeName: 'updatedAt', AttributeType: 'N' },
      ],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: LEDGER_QUEUE_INDEX,
          KeySchema: [
            { AttributeName: 'queue', KeyType: 'HASH' },
            { AttributeName: 'dueAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: LEDGER_FEED_INDEX,
          KeySchema: [
            { AttributeName: 'feed', KeyType: 'HASH' },
            { AttributeName: 'updatedAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
    {
      TableName: names.state,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    },
  ];
}

/** What `ensureTables` did. */
export interface EnsureTablesResult {
  created: string[];
  existing: string[];
  /** Tables whose TTL could not be enabled because the store has no TTL API (dynalite). */
  ttlUnsupported: string[];
}

/**
 * Creates every table that does not exist yet and waits until it is active; enables TTL on the
 * ledger and state tables. Idempotent and safe to run from several processes at once. A store
 * without the TTL API (dynalite) is tolerated: expired items are filtered on read anyway.
 */
export async function ensureTables(client: DynamoDBClient, names: TableNames): Promise<EnsureTablesResult> {
  const result: EnsureTablesResult = { created: [], existing: [], ttlUnsupported: [] };
  for (const definition of tableDefinitions(names)) {
    const table = definition.TableName as string;
    if (await tableExists(client, table)) {
      result.existing.push(table);
    } else {
      let status: string | undefined;
      try {
        status = (await client.send(new CreateTableCommand(definition))).TableDescription?.TableStatus;
        result.created.push(table);
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
        result.existing.push(table);
      }
      if (status !== 'ACTIVE') await waitUntilActive(client, table);
      if (table !== names.registrations && !(await enableTtl(client, table))) result.ttlUnsupported.push(table);
    }
  }
  return result;
}

/** Polls DescribeTable until the table is ACTIVE (a few seconds on DynamoDB; at once on dynalite). */
async function waitUntilActive(client: DynamoDBClient, table: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2_000)) {
    const out = await client.send(new DescribeTableCommand({ TableName: table })).catch((error: unknown) => {
      if (error instanceof ResourceNotFoundException) return undefined; // created elsewhere, not visible yet
      throw error;
    });
    if (out?.Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline) throw new Error(`table ${table} did not become ACTIVE within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function tableExists(client: DynamoDBClient, table: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: table }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

async function enableTtl(client: DynamoDBClient, table: string): Promise<boolean> {
  try {
    await client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true } }));
    return true;
  } catch (error) {
    // dynalite answers UnknownOperationException; real DynamoDB may say TTL is already enabled.
    const name = (error as { name?: string }).name ?? '';
    if (name === 'UnknownOperationException' || name === 'ValidationException') return false;
    throw error;
  }
}
