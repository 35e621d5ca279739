import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClients } from '../../src/store/dynamo.js';
import { startDynalite, uniquePrefix, type LocalDynamo } from '../helpers/dynalite.js';
import { requireBuiltCli, runCli } from '../reconcile/helpers.js';

let dynamo: LocalDynamo;
beforeAll(async () => {
  requireBuiltCli();
  dynamo = await startDynalite();
});
afterAll(async () => dynamo.close());

describe('codedeploy-notify init', () => {
  it('creates the three tables with on-demand billing, then says they exist', async () => {
    const prefix = uniquePrefix('init');
    const first = await runCli(['init', '--table-prefix', prefix], { env: dynamo.env });
    expect(first.code).toBe(0);
    expect(first.stdout.split('\n').filter((l) => l.startsWith('created'))).toEqual([
      `created table ${prefix}registrations`,
      `created table ${prefix}ledger`,
      `created table ${prefix}state`,
    ]);
    expect(first.stdout).toContain(`note: TTL not enabled on ${prefix}state`);
    const clients = createDynamoClients({ maxAttempts: 1 });
    const described = await clients.client.send(new DescribeTableCommand({ TableName: `${prefix}registrations` }));
    clients.destroy();
    expect(described.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(described.Table?.KeySchema).toEqual([{ AttributeName: 'name', KeyType: 'HASH' }]);

    const second = await runCli(['init'], { env: { ...dynamo.env, CODEDEPLOY_NOTIFY_TABLE_PREFIX: prefix } });
    expect(second).toEqual({
      code: 0,
      stdout: `table ${prefix}registrations already exists\ntable ${prefix}ledger already exists\ntable ${prefix}state already exists\n`,
      stderr: '',
    });
  });

  it('fails with one line naming the endpoint when DynamoDB cannot be reached', async () => {
    const run = await runCli(['init', '--table-prefix', 'x-'], { env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^error: .*ECONNREFUSED.*; DynamoDB endpoint: http:\/\/127\.0\.0\.1:9 from AWS_ENDPOINT_URL_DYNAMODB \(store-unavailable\)\n$/);
  });

  it('rejects a bad table prefix as a usage error', async () => {
    const run = await runCli(['init', '--table-prefix', 'bad prefix!'], { env: dynamo.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: invalid --table-prefix "bad prefix!"/);
  });
});
