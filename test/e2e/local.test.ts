// `run --local` as a new user runs it: a folder with the example registrations, no AWS settings at all.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli } from '../helpers/cli.js';
import { startDaemon } from '../helpers/daemon.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let cwd: string;
const daemons: ReturnType<typeof startDaemon>[] = [];

beforeAll(async () => {
  requireBuiltCli();
  cwd = await mkdtemp(path.join(tmpdir(), 'cdn-local-'));
  await cp(path.join(ROOT, 'registrations'), path.join(cwd, 'registrations'), { recursive: true });
});
afterEach(async () => {
  for (const d of daemons.splice(0)) {
    d.kill('SIGKILL');
    await d.exited;
  }
});
afterAll(async () => rm(cwd, { recursive: true, force: true }));

function local(): ReturnType<typeof startDaemon> {
  const d = startDaemon(['--local', '--http-port', '0'], noAws, cwd);
  daemons.push(d);
  return d;
}

const noAws = { AWS_REGION: undefined, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_ENDPOINT_URL_DYNAMODB: undefined };

describe('codedeploy-notify run --local', () => {
  it('prints a notification within 15 s, exits 0 on Ctrl-C, and a second start resumes from its saved state', async () => {
    const started = Date.now();
    const first = local();
    await waitForOutput(first, /── notification 1 /, 15_000);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(first.stdout()).toMatch(/local mode: printed, not sent/);
    first.kill('SIGINT');
    expect((await first.exited).code).toBe(0);

    const second = local();
    // the registrations applied by the first run are still there: nothing to create again
    await second.waitForLog((l) => l.msg === 'became leader', 10_000);
    await waitForOutput(second, /── notification 1 /, 15_000);
    expect(second.stderr()).not.toMatch(/registration applied/);
    second.kill('SIGINT');
    expect((await second.exited).code).toBe(0);
  });

  it('a second local daemon in the same folder is refused with one line, exit 2', async () => {
    const first = local();
    await first.waitForLog((l) => l.msg === 'daemon started', 10_000);
    const second = local();
    const { code } = await second.exited;
    expect(code).toBe(2);
    expect(second.stderr().trim()).toMatch(/^error: another codedeploy-notify run --local \(pid \d+\) is using .*\.codedeploy-notify; stop it first/);
    first.kill('SIGINT');
    expect((await first.exited).code).toBe(0);
  });
});

/** Local mode logs on stderr and prints notifications on stdout; waits for `pattern` on stdout. */
async function waitForOutput(d: ReturnType<typeof startDaemon>, pattern: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(d.stdout())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms; stderr: ${d.stderr().slice(-1500)}`);
    if (d.child.exitCode !== null) throw new Error(`daemon exited ${d.child.exitCode}; stderr: ${d.stderr().slice(-1500)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
