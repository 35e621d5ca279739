import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients } from '../src/store/dynamo.js';
import { ensureTables, tableNames } from '../src/store/tables.js';
import { startDynalite, uniquePrefix, type LocalDynamo } from './helpers/dynalite.js';

describe('ensureTables', () => {
  let dynamo: LocalDynamo;
  beforeAll(async () => {
    dynamo = await startDynalite();
  });
  afterAll(async () => dynamo.close());

  it('creates the three tables once and is idempotent, tolerating a store without TTL', async () => {
    const clients = createDynamoClients({ maxAttempts: 1 });
    const names = tableNames(uniquePrefix());
    const first = await ensureTables(clients.client, names);
    expect(first.created.sort()).toEqual([names.ledger, names.registrations, names.state].sort());
    expect(first.ttlUnsupported.sort()).toEqual([names.ledger, names.state].sort());
    const second = await ensureTables(clients.client, names);
    expect(second.created).toEqual([]);
    expect(second.existing).toHaveLength(3);
    const ledger = await clients.client.send(new DescribeTableCommand({ TableName: names.ledger }));
    expect(ledger.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(['feed', 'queue']);
    clients.destroy();
  });
});
