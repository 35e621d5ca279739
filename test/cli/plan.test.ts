import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoClients } from '../../src/store/dynamo.js';
import { freshTables, startDynalite, uniquePrefix, type LocalDynamo } from '../helpers/dynalite.js';
import { makeTemp, registrationYaml, removeTemp, requireBuiltCli, runCli, writeFiles } from '../reconcile/helpers.js';

let dynamo: LocalDynamo;
const cleanup: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  requireBuiltCli();
  dynamo = await startDynalite();
});
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
  await dynamo.close();
});

async function workspace(label: string, files: Record<string, string>): Promise<{ dir: string; prefix: string; clients: DynamoClients }> {
  const dir = await makeTemp(label);
  cleanup.push(() => removeTemp(dir));
  await writeFiles(dir, files);
  const { prefix, clients } = await freshTables(label);
  cleanup.push(() => clients.destroy());
  return { dir, prefix, clients };
}

describe('codedeploy-notify plan', () => {
  it('prints creates, then updates with fields and deletes after an apply, with --detailed-exitcode', async () => {
    const { dir, prefix } = await workspace('plan', { 'a.yaml': registrationYaml('alpha'), 'sub/b.yml': registrationYaml('beta') });
    const args = ['--dir', dir, '--table-prefix', prefix];
    const first = await runCli(['plan', ...args, '--detailed-exitcode'], { env: dynamo.env });
    expect(first).toEqual({ code: 2, stdout: '+ alpha\n+ beta\n\nPlan: 2 to create, 0 to update, 0 to delete.\n', stderr: '' });
    expect((await runCli(['apply', ...args], { env: dynamo.env })).code).toBe(0);

    const same = await runCli(['plan', ...args, '--detailed-exitcode'], { env: dynamo.env });
    expect(same).toEqual({ code: 0, stdout: 'Plan: 0 to create, 0 to update, 0 to delete.\n', stderr: '' });

    await writeFiles(dir, { 'a.yaml': registrationYaml('alpha', { events: ['Failed'], webhookEnv: 'SLACK_NEW', owner: 'team-b' }), 'sub/b.yml': '' });
    const changed = await runCli(['plan', ...args], { env: dynamo.env });
    expect(changed.code).toBe(0);
    expect(changed.stdout).toBe(
      [
        '~ alpha',
        '    metadata.owner: team-a → team-b',
        '    spec.channels[team-slack].webhookUrl: env:SLACK_WEBHOOK → env:SLACK_NEW',
        '    spec.events: (none) → [Failed]',
        '- beta',
        '',
        'Plan: 0 to create, 1 to update, 1 to delete.',
        '',
      ].join('\n'),
    );

    const json = await runCli(['plan', ...args, '--format', 'json'], { env: dynamo.env });
    expect(JSON.parse(json.stdout)).toMatchObject({ summary: { create: 0, update: 1, delete: 1, unchanged: 0, unmanaged: 0 } });
    const md = await runCli(['plan', ...args, '--format', 'markdown'], { env: dynamo.env });
    expect(md.stdout).toMatch(/^### codedeploy-notify plan\n/);
    expect(md.stdout).toContain('| ✏️ update | `alpha` |');
  });

  it('mentions unmanaged items and never changes the table', async () => {
    const { dir, prefix, clients } = await workspace('planun', { 'a.yaml': registrationYaml('alpha') });
    await clients.doc.send(new PutCommand({ TableName: `${prefix}registrations`, Item: { name: 'console-made', managedBy: 'console', version: 1, spec: {} } }));
    const run = await runCli(['plan', '--dir', dir, '--table-prefix', prefix], { env: dynamo.env });
    expect(run.stdout).toBe('+ alpha\n\nPlan: 1 to create, 0 to update, 0 to delete.\n1 unmanaged registration left alone: console-made (managedBy: "console").\n');
    const again = await runCli(['plan', '--dir', dir, '--table-prefix', prefix], { env: dynamo.env });
    expect(again.stdout).toBe(run.stdout);
  });

  it('prints the issues of invalid files like validate and exits 1, whatever the table', async () => {
    const { dir } = await workspace('planbad', { 'good.yaml': registrationYaml('good'), 'bad.yaml': registrationYaml('bad').replace('kind: Registration', 'kind: Registrashun') });
    const run = await runCli(['plan', '--dir', dir, '--table-prefix', uniquePrefix('nowhere')], { env: { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9' } });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const [issue, summary, verdict, ...rest] = run.stderr.split('\n');
    expect(issue?.startsWith(`${dir}/bad.yaml:2:7: error: /kind: `)).toBe(true);
    expect(issue).toContain('Registrashun');
    expect([summary, verdict, rest]).toEqual(['2 files, 2 registrations, 1 error, 0 warnings', 'error: invalid registration files; nothing was planned', ['']]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('tells the operator to run init when the table is missing', async () => {
    const { dir } = await workspace('planmissing', { 'a.yaml': registrationYaml('alpha') });
    const run = await runCli(['plan', '--dir', dir, '--table-prefix', 'never-made-'], { env: dynamo.env });
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: DynamoDB table never-made-registrations does not exist; run "codedeploy-notify init" (with the same --table-prefix) to create the tables (table-missing)\n',
    });
  });

  it('is a usage error (exit 2) when the directory does not exist', async () => {
    const run = await runCli(['plan', '--dir', '/nonexistent/regs'], { env: dynamo.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: registrations directory "\/nonexistent\/regs" does not exist/);
  });
});
