import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitAll, git, gitInit, makeTemp, registrationYaml, removeTemp, requireBuiltCli, runCli, writeFiles } from '../reconcile/helpers.js';

// Any AWS call would land here: diff must make none, and has no credentials to make one with.
let trap: Server;
let hits = 0;
let noAwsEnv: Record<string, string | undefined>;
let repo: string;
let first: string;
let second: string;

beforeAll(async () => {
  requireBuiltCli();
  trap = createServer((_req, res) => {
    hits += 1;
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
  noAwsEnv = { AWS_ENDPOINT_URL: url, AWS_ENDPOINT_URL_DYNAMODB: url };

  repo = await makeTemp('diffrepo');
  await gitInit(repo);
  await writeFiles(repo, {
    'regs/a.yaml': registrationYaml('alpha'),
    'regs/b.yaml': registrationYaml('beta'),
    'regs/.hidden.yaml': 'not: loaded\n',
    'regs/notes.txt': 'ignored\n',
    'src/app.txt': 'x\n',
  });
  first = await commitAll(repo, 'first');
  await git(repo, 'tag', 'v1');
  await writeFiles(repo, { 'regs/a.yaml': registrationYaml('alpha', { events: ['Failed'] }), 'regs/team/c.yaml': registrationYaml('gamma') });
  await rm(path.join(repo, 'regs/b.yaml'));
  second = await commitAll(repo, 'second');
});

afterAll(async () => {
  trap.closeAllConnections();
  await new Promise((resolve) => trap.close(resolve));
  await removeTemp(repo);
});

const expectedText = [
  '~ alpha',
  '    spec.events: (none) → [Failed]',
  '- beta',
  '+ gamma',
  '',
  'Plan: 1 to create, 1 to update, 1 to delete.',
  '',
].join('\n');

describe('codedeploy-notify diff', () => {
  it('compares two commits of a git repository without AWS credentials or calls', async () => {
    const run = await runCli(['diff', first, second, '--dir', 'regs', '--detailed-exitcode'], { cwd: repo, noAws: true, env: noAwsEnv });
    expect(run).toEqual({ code: 2, stdout: expectedText, stderr: '' });
    const reverse = await runCli(['diff', 'main', 'v1', '--dir', 'regs'], { cwd: repo, noAws: true, env: noAwsEnv });
    expect(reverse.code).toBe(0);
    expect(reverse.stdout).toBe('~ alpha\n    spec.events: [Failed] → (none)\n+ beta\n- gamma\n\nPlan: 1 to create, 1 to update, 1 to delete.\n');
    expect(hits).toBe(0);
  });

  it('defaults head to the working directory and works from a sub-directory with markdown output', async () => {
    await writeFiles(repo, { 'regs/team/c.yaml': registrationYaml('gamma', { owner: 'team-z' }) });
    const run = await runCli(['diff', 'HEAD', '--dir', '.', '--format', 'markdown'], { cwd: path.join(repo, 'regs'), noAws: true, env: noAwsEnv });
    await git(repo, 'checkout', '--', 'regs/team/c.yaml');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^### codedeploy-notify diff\n\nFrom HEAD \\(${second.slice(0, 7)}\\) to \\./ \\(working tree\\)\\.\n`));
    expect(run.stdout).toContain('- `metadata.owner`: `team-a` → `team-z`');
    expect(run.stdout).toContain('| ✏️ update | `gamma` | 1 field from `team/c.yaml` |');
    expect(hits).toBe(0);
  });

  it('compares two directories, and treats a ref without the directory as empty', async () => {
    const other = await makeTemp('diffdir');
    await writeFiles(other, { 'x.yaml': registrationYaml('alpha') });
    const dirs = await runCli(['diff', other, path.join(repo, 'regs')], { noAws: true, env: noAwsEnv });
    expect(dirs.stdout).toBe('~ alpha\n    spec.events: (none) → [Failed]\n+ gamma\n\nPlan: 1 to create, 1 to update, 0 to delete.\n');
    await removeTemp(other);
    const noFiles = await runCli(['diff', 'v1', '--dir', 'src'], { cwd: repo, noAws: true, env: noAwsEnv });
    expect(noFiles).toEqual({ code: 0, stdout: 'Plan: 0 to create, 0 to update, 0 to delete.\n', stderr: '' });
    await writeFiles(repo, { 'newdir/n.yaml': registrationYaml('nu') });
    const created = await runCli(['diff', 'v1', '--dir', 'newdir'], { cwd: repo, noAws: true, env: noAwsEnv });
    await rm(path.join(repo, 'newdir'), { recursive: true });
    expect(created.stdout).toBe('+ nu\n\nPlan: 1 to create, 0 to update, 0 to delete.\n');
  });

  it('exits 2 with one line for a ref that does not exist, or outside a repository', async () => {
    const run = await runCli(['diff', 'origin/nope', '--dir', 'regs'], { cwd: repo, noAws: true, env: noAwsEnv });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: "origin\/nope" is neither a directory nor a git ref in .*; fetch it first \(git fetch origin\) or check the spelling\n$/);
    const outside = await makeTemp('norepo');
    const noRepo = await runCli(['diff', 'main', '--dir', '.'], { cwd: outside, noAws: true, env: noAwsEnv });
    await removeTemp(outside);
    expect(noRepo.code).toBe(2);
    expect(noRepo.stderr).toMatch(/^error: "main" is not a directory, and .* is not inside a git work tree where it could be a ref\n$/);
  });

  it('reports invalid files on either side with the repository path and exits 1', async () => {
    await writeFiles(repo, { 'regs/bad.yaml': 'apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata: { name: Bad_Name }\n' });
    await commitAll(repo, 'broken');
    const run = await runCli(['diff', 'HEAD', first, '--dir', 'regs'], { cwd: repo, noAws: true, env: noAwsEnv });
    await git(repo, 'reset', '-q', '--hard', second);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n');
    expect(lines[0]).toMatch(/^base HEAD \([0-9a-f]{7}\) has invalid registration files:$/);
    expect(lines.slice(1, -3).every((line) => line.startsWith('regs/bad.yaml:'))).toBe(true);
    expect(lines.at(-2)).toBe('error: invalid registration files; cannot compare');
  });
});
