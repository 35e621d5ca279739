import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Path of the built CLI (`npm test` builds before running vitest; run `npm run build` when running a file alone). */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Throws a clear error when dist/ has not been built. */
export function requireBuiltCli(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" before the CLI tests`);
}

/**
 * The environment a child CLI runs with: nothing inherited but PATH and HOME, no instance metadata,
 * quiet logs, fake AWS credentials and region unless `noAws`, then `extra` (undefined deletes).
 */
export function cliEnv(extra: Record<string, string | undefined> = {}, options: { noAws?: boolean } = {}): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LOG_LEVEL: 'warn',
    ...(options.noAws ? {} : { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret' }),
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env as NodeJS.ProcessEnv;
}

/** What a CLI run printed and how it exited (`code` is -1 when a signal ended it). */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a child process with `cliEnv(env, {noAws})` and waits for it to exit (killed after `timeoutMs`). */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; noAws?: boolean; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: cliEnv(options.env, options), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
