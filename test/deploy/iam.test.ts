// The IAM policies in deploy/cloudformation.yaml must list exactly the AWS calls the code makes,
// and its tables must be the ones `init` creates. Both are derived from the code here, so adding
// an SDK call without updating the policy (or the reverse) fails this test.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { TTL_ATTRIBUTE, tableDefinitions, tableNames } from '../../src/store/tables.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SERVICE: Record<string, string> = {
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/lib-dynamodb': 'dynamodb',
  '@aws-sdk/client-codedeploy': 'codedeploy',
  '@aws-sdk/client-sns': 'sns',
  '@aws-sdk/client-ses': 'ses',
  '@aws-sdk/client-sts': 'sts',
};
/** lib-dynamodb's document commands and the DynamoDB API actions they call. */
const DOCUMENT_COMMANDS: Record<string, string> = {
  Get: 'GetItem', Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', Query: 'Query', Scan: 'Scan',
  BatchWrite: 'BatchWriteItem', BatchGet: 'BatchGetItem', TransactWrite: 'TransactWriteItems', TransactGet: 'TransactGetItems',
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The IAM actions one source file calls: every `new XCommand(` of an AWS SDK import, as service:Action. */
function actionsIn(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const actions: string[] = [];
  for (const match of text.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s+from\s+'(@aws-sdk\/[^']+)'/g)) {
    if (match[1]) continue; // import type { ... }
    const service = SERVICE[match[3] as string];
    for (const raw of (match[2] as string).split(',')) {
      const name = raw.trim();
      if (!name.endsWith('Command') || name.startsWith('type ') || !new RegExp(`new ${name}\\(`).test(text)) continue;
      if (!service) throw new Error(`${file}: ${match[3]} has no IAM service in this test's map; add it`);
      const base = name.slice(0, -'Command'.length);
      actions.push(`${service}:${match[3] === '@aws-sdk/lib-dynamodb' ? (DOCUMENT_COMMANDS[base] ?? base) : base}`);
    }
  }
  return actions;
}

/** Actions the code calls, split into init (table creation in store/tables.ts) and everything else. */
function codeActions(): { daemon: string[]; init: string[] } {
  const daemon = new Set<string>();
  const init = new Set<string>();
  for (const file of sourceFiles(path.join(ROOT, 'src'))) {
    const rel = path.relative(ROOT, file);
    if (rel.startsWith('src/local/')) continue; // the simulator serves CodeDeploy; it calls nothing
    for (const action of actionsIn(file)) (rel === 'src/store/tables.ts' ? init : daemon).add(action);
  }
  // ensureTables' DescribeTable is also the daemon's own start-up and readiness check
  if (daemon.has('dynamodb:DescribeTable')) init.add('dynamodb:DescribeTable');
  return { daemon: [...daemon].sort(), init: [...init].sort() };
}

interface Statement {
  Action: string | string[];
}
const template = parse(readFileSync(path.join(ROOT, 'deploy/cloudformation.yaml'), 'utf8')) as {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};

function policyActions(resource: string): string[] {
  const statements = (template.Resources[resource]?.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
}

describe('deploy/cloudformation.yaml', () => {
  const { daemon, init } = codeActions();

  it('the code makes the calls a deployment notifier needs (the derivation works)', () => {
    expect(daemon).toEqual(
      expect.arrayContaining(['codedeploy:ListDeployments', 'codedeploy:BatchGetDeployments', 'dynamodb:UpdateItem', 'sns:Publish', 'ses:SendEmail', 'sts:AssumeRole']),
    );
    expect(init).toEqual(['dynamodb:CreateTable', 'dynamodb:DescribeTable', 'dynamodb:UpdateTimeToLive']);
  });

  it('DaemonPolicy allows exactly the calls the daemon makes', () => {
    expect(policyActions('DaemonPolicy')).toEqual(daemon);
  });

  it('InitPolicy allows exactly the calls init makes', () => {
    expect(policyActions('InitPolicy')).toEqual(init);
  });

  it('the reader role for other accounts allows only the CodeDeploy reads the poller makes', () => {
    const reader = parse(readFileSync(path.join(ROOT, 'deploy/reader-role.yaml'), 'utf8')) as {
      Resources: { ReaderRole: { Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] } } };
    };
    const actions = reader.Resources.ReaderRole.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement.flatMap((s) => s.Action)).sort();
    expect(actions).toEqual(daemon.filter((a) => a.startsWith('codedeploy:')));
  });

  it('the tables are the ones init creates: keys, indexes, on-demand billing, TTL on ledger and state', () => {
    const names = tableNames('X-');
    const byName: Record<string, string> = { [names.registrations]: 'RegistrationsTable', [names.ledger]: 'LedgerTable', [names.state]: 'StateTable' };
    for (const definition of tableDefinitions(names)) {
      const resource = template.Resources[byName[definition.TableName as string] as string];
      expect(resource?.Type).toBe('AWS::DynamoDB::Table');
      const props = resource?.Properties as Record<string, unknown>;
      expect(props.TableName).toEqual({ 'Fn::Sub': `\${TablePrefix}${(definition.TableName as string).slice(2)}` });
      expect(props.BillingMode).toBe(definition.BillingMode);
      expect(props.KeySchema).toEqual(definition.KeySchema);
      expect(props.AttributeDefinitions).toEqual(definition.AttributeDefinitions);
      expect(props.GlobalSecondaryIndexes).toEqual(definition.GlobalSecondaryIndexes);
      if (definition.TableName !== names.registrations) expect(props.TimeToLiveSpecification).toEqual({ AttributeName: TTL_ATTRIBUTE, Enabled: true });
    }
  });
});
