import { rm } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoClients } from '../../src/store/dynamo.js';
import { DynamoRegistrationStore } from '../../src/store/registrations.js';
import { freshTables, startDynalite, type LocalDynamo } from '../helpers/dynalite.js';
import { commitAll, gitInit, makeTemp, registrationYaml, removeTemp, requireBuiltCli, runCli, writeFiles } from '../reconcile/helpers.js';

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

interface Workspace {
  dir: string;
  prefix: string;
  clients: DynamoClients;
  store: DynamoRegistrationStore;
  apply(...extra: string[]): ReturnType<typeof runCli>;
}

async function workspace(label: string, files: Record<string, string>): Promise<Workspace> {
  const dir = await makeTemp(label);
  cleanup.push(() => removeTemp(dir));
  await writeFiles(dir, files);
  const { prefix, clients, names } = await freshTables(label);
  cleanup.push(() => clients.destroy());
  const store = new DynamoRegistrationStore(clients.doc, names.registrations);
  return { dir, prefix, clients, store, apply: (...extra) => runCli(['apply', '--dir', dir, '--table-prefix', prefix, ...extra], { env: dynamo.env }) };
}

/** name → spec.application of every item, to compare tables cheaply. */
async function applications(store: DynamoRegistrationStore): Promise<Record<string, unknown>> {
  return Object.fromEntries((await store.scan()).map((i) => [i.name, (i.spec as { application?: string } | undefined)?.application]));
}

describe('codedeploy-notify apply', () => {
  it('creates, updates, deletes and then does nothing, saying what it did', async () => {
    const ws = await workspace('apply', { 'a.yaml': registrationYaml('alpha'), 'b.yaml': registrationYaml('beta') });
    const created = await ws.apply();
    expect(created).toEqual({
      code: 0,
      stdout: '+ alpha: created (version 1)\n+ beta: created (version 1)\n\nApply complete: 2 created, 0 updated, 0 deleted; 0 unchanged, 0 unmanaged left alone.\n',
      stderr: '',
    });
    await writeFiles(ws.dir, { 'a.yaml': registrationYaml('alpha', { application: 'alpha-v2' }), 'c.yaml': registrationYaml('gamma') });
    await rm(path.join(ws.dir, 'b.yaml'));
    const changed = await ws.apply();
    expect(changed.code).toBe(0);
    expect(changed.stdout).toBe(
      [
        '~ alpha: updated (version 1 → 2)',
        '    spec.application: alpha-app → alpha-v2',
        '- beta: deleted',
        '+ gamma: created (version 1)',
        '',
        'Apply complete: 1 created, 1 updated, 1 deleted; 0 unchanged, 0 unmanaged left alone.',
        '',
      ].join('\n'),
    );
    expect(await applications(ws.store)).toEqual({ alpha: 'alpha-v2', gamma: 'gamma-app' });
    const noop = await ws.apply('--format', 'json');
    expect(JSON.parse(noop.stdout)).toMatchObject({ status: 'complete', summary: { created: 0, updated: 0, deleted: 0, unchanged: 2 }, applied: [] });
  });

  it('leaves an unmanaged item alone while pruning, counts it, and fails when a file wants its name', async () => {
    const ws = await workspace('applyun', { 'a.yaml': registrationYaml('alpha') });
    const foreign = { name: 'from-console', managedBy: 'console', version: 3, spec: { application: 'manual' } };
    await ws.clients.doc.send(new PutCommand({ TableName: ws.store.table, Item: foreign }));
    const run = await ws.apply();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Apply complete: 1 created, 0 updated, 0 deleted; 0 unchanged, 1 unmanaged left alone.');
    expect(await ws.store.get('from-console')).toEqual(foreign);

    await writeFiles(ws.dir, { 'console.yaml': registrationYaml('from-console') });
    const blocked = await ws.apply();
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toContain('! from-console: wanted by ');
    expect(blocked.stderr).toBe('error: 1 registration is not live because an item not managed by codedeploy-notify has the same name: from-console\n');
    expect(await ws.store.get('from-console')).toEqual(foreign);
  });

  it('refuses an empty directory, and writes nothing', async () => {
    const ws = await workspace('applyempty', { 'a.yaml': registrationYaml('alpha') });
    expect((await ws.apply()).code).toBe(0);
    await rm(path.join(ws.dir, 'a.yaml'));
    const refused = await ws.apply();
    expect(refused).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: the desired set is empty: refusing to delete all 1 managed registration; pass --allow-empty if that is intended; nothing was written\n',
    });
    expect(await applications(ws.store)).toEqual({ alpha: 'alpha-app' });
    const allowed = await ws.apply('--allow-empty');
    expect(allowed.code).toBe(0);
    expect(await applications(ws.store)).toEqual({});
  });

  it('writes nothing when one file is invalid', async () => {
    const ws = await workspace('applybad', { 'a.yaml': registrationYaml('alpha') });
    expect((await ws.apply()).code).toBe(0);
    await writeFiles(ws.dir, { 'a.yaml': registrationYaml('alpha', { application: 'changed' }), 'b.yaml': registrationYaml('beta'), 'broken.yaml': 'metadata: [unclosed\n' });
    const run = await ws.apply();
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^${ws.dir}/broken\\.yaml:\\d+:\\d+: error: `));
    expect(run.stderr).toContain('error: invalid registration files; nothing was written\n');
    expect(await applications(ws.store)).toEqual({ alpha: 'alpha-app' });
  });

  it('honours --max-deletes and --no-prune', async () => {
    const files = Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`r${i}.yaml`, registrationYaml(`r${i}`)]));
    const ws = await workspace('applymax', files);
    expect((await ws.apply()).code).toBe(0);
    for (const file of ['r1.yaml', 'r2.yaml', 'r3.yaml']) await rm(path.join(ws.dir, file));
    const refused = await ws.apply('--max-deletes', '2');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('error: refusing to delete 3 registrations (r1, r2, r3): more than --max-deletes 2; raise --max-deletes if that is intended; nothing was written\n');
    const kept = await ws.apply('--no-prune');
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('  r1: not deleted (--no-prune); no file wants it any more\n');
    expect(Object.keys(await applications(ws.store))).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect((await ws.apply('--max-deletes', '3')).code).toBe(0);
    expect(Object.keys(await applications(ws.store))).toEqual(['r0']);
    const bad = await ws.apply('--max-deletes', 'lots');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-deletes.*use a whole number/);
  });

  it('two applies started at the same moment on different edits: both exit 0 and the table equals one of them', async () => {
    const files = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`r${String(i).padStart(2, '0')}.yaml`, registrationYaml(`r${String(i).padStart(2, '0')}`)]));
    const ws = await workspace('race', files);
    expect((await ws.apply()).code).toBe(0);
    const dirA = await makeTemp('race-a');
    const dirB = await makeTemp('race-b');
    cleanup.push(() => removeTemp(dirA), () => removeTemp(dirB));
    const editsA = { ...files, 'r00.yaml': registrationYaml('r00', { application: 'edited-by-a' }), 'new-a.yaml': registrationYaml('new-a') };
    const editsB = { ...files, 'r29.yaml': registrationYaml('r29', { application: 'edited-by-b' }) };
    delete (editsB as Record<string, string>)['r15.yaml'];
    await writeFiles(dirA, editsA);
    await writeFiles(dirB, editsB);
    const [a, b] = await Promise.all([
      runCli(['apply', '--dir', dirA, '--table-prefix', ws.prefix], { env: dynamo.env }),
      runCli(['apply', '--dir', dirB, '--table-prefix', ws.prefix], { env: dynamo.env }),
    ]);
    for (const run of [a, b]) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toMatch(/\n\s+at |Error:/);
    }
    const expectedA = Object.fromEntries(Object.entries(editsA).map(([file, text]) => [file.replace('.yaml', ''), /application: (\S+)/.exec(text)?.[1]]));
    const expectedB = Object.fromEntries(Object.entries(editsB).map(([file, text]) => [file.replace('.yaml', ''), /application: (\S+)/.exec(text)?.[1]]));
    const final = await applications(ws.store);
    expect([expectedA, expectedB]).toContainEqual(final);
    // and a plan for the winner's directory is empty
    const winner = isDeepStrictEqual(final, expectedA) ? dirA : dirB;
    const plan = await runCli(['plan', '--dir', winner, '--table-prefix', ws.prefix, '--detailed-exitcode'], { env: dynamo.env });
    expect(plan.code).toBe(0);
  });

  it('records the file path and git commit (with -dirty for uncommitted changes) and an audit entry', async () => {
    const repo = await makeTemp('repo');
    cleanup.push(() => removeTemp(repo));
    await gitInit(repo);
    await writeFiles(repo, { 'registrations/team/a.yaml': registrationYaml('alpha'), 'README.md': 'x\n' });
    const head = await commitAll(repo, 'first');
    const { prefix, clients, names } = await freshTables('gitprov');
    cleanup.push(() => clients.destroy());
    const store = new DynamoRegistrationStore(clients.doc, names.registrations);
    const apply = () => runCli(['apply', '--dir', 'registrations', '--table-prefix', prefix], { env: dynamo.env, cwd: repo });
    expect((await apply()).code).toBe(0);
    expect((await store.get('alpha'))?.source).toEqual({ file: 'registrations/team/a.yaml', commit: head });

    await writeFiles(repo, { 'registrations/team/a.yaml': registrationYaml('alpha', { owner: 'team-z' }) });
    expect((await apply()).code).toBe(0);
    expect((await store.get('alpha'))?.source).toEqual({ file: 'registrations/team/a.yaml', commit: `${head}-dirty` });

    const audit = await clients.doc.send(new QueryCommand({ TableName: names.state, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'audit' }, ScanIndexForward: false }));
    expect(audit.Items?.map((i) => [i.action, i.name, i.commit, i.actor, i.versionBefore, i.versionAfter])).toEqual([
      ['update', 'alpha', `${head}-dirty`, 'apply', 1, 2],
      ['create', 'alpha', head, 'apply', undefined, 1],
    ]);
    expect(audit.Items?.[0]?.fields).toEqual([{ path: 'metadata.owner', before: 'team-a', after: 'team-z' }]);
    expect(typeof audit.Items?.[0]?.host).toBe('string');
  });
});
