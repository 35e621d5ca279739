// Helpers shared by the reconcile and CLI tests: registration files in temp dirs and small git
// repositories (the built CLI runner lives in test/helpers/cli.ts and is re-exported here).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export { CLI, requireBuiltCli, runCli, type CliRun } from '../helpers/cli.js';

/** A fresh temporary directory; remove it with `removeTemp`. */
export function makeTemp(label: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `cdn-${label}-`));
}

export function removeTemp(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Options of a generated registration document. */
export interface RegistrationOptions {
  application?: string;
  owner?: string;
  events?: string[];
  webhookEnv?: string;
}

/** The YAML of one valid registration named `name`. */
export function registrationYaml(name: string, options: RegistrationOptions = {}): string {
  return [
    'apiVersion: codedeploy-notify/v1',
    'kind: Registration',
    'metadata:',
    `  name: ${name}`,
    `  owner: ${options.owner ?? 'team-a'}`,
    'spec:',
    `  application: ${options.application ?? `${name}-app`}`,
    ...(options.events ? [`  events: [${options.events.join(', ')}]`] : []),
    '  channels:',
    '    - name: team-slack',
    '      type: slack',
    `      webhookUrl: { fromEnv: ${options.webhookEnv ?? 'SLACK_WEBHOOK'} }`,
    '',
  ].join('\n');
}

/** Writes `registrations` (file → YAML text) under `dir`, creating folders. */
export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, text] of Object.entries(files)) {
    const target = path.join(dir, file);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, text);
  }
}

/** Runs git in `cwd` with a fixed identity; resolves stdout (trimmed). */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com',
      GIT_CONFIG_NOSYSTEM: '1',
    },
  });
  return stdout.trim();
}

/** `git init` with a `main` branch. */
export async function gitInit(cwd: string): Promise<void> {
  await git(cwd, 'init', '-q', '-b', 'main');
}

/** Stages everything and commits; resolves the new commit id. */
export async function commitAll(cwd: string, message: string): Promise<string> {
  await git(cwd, 'add', '-A');
  await git(cwd, 'commit', '-q', '-m', message);
  return git(cwd, 'rev-parse', 'HEAD');
}
