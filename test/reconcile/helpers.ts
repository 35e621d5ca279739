// Helpers shared by the reconcile and CLI tests: registration files in temp dirs, the built CLI
// as a child process, and small git repositories.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The built CLI; CLI tests need `npm run build` first. */
export const CLI = path.resolve(import.meta.dirname, '../../dist/cli.js');

/** Throws a clear error when dist/ has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" before the CLI tests`);
}

/** What a CLI run printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/cli.js ...args` with a clean environment: fake AWS credentials, region, no
 * instance metadata, plus `env` (e.g. AWS_ENDPOINT_URL_DYNAMODB of a test dynalite).
 */
export function runCli(args: readonly string[], options: { env?: Record<string, string | undefined>; cwd?: string; noAws?: boolean } = {}): Promise<CliRun> {
  const base: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LOG_LEVEL: 'warn',
  };
  if (!options.noAws) Object.assign(base, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret' });
  const env = { ...base, ...options.env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? process.cwd(), env: env as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

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
