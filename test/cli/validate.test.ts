import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CORPUS } from '../config/corpus.js';
import { loadRegistrations } from '../../src/config/load.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let work: string;

const GOOD = `apiVersion: codedeploy-notify/v1
kind: Registration
metadata:
  name: good
spec:
  application: good-app
  channels:
    - name: chat
      type: slack
      webhookUrl: { fromEnv: GOOD_SLACK_URL }
`;
const BAD = GOOD.replace('name: good', 'name: bad').replace('type: slack', 'type: slak');
const WARN = '---\n---\n';

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'cdn-cli-'));
  await mkdir(path.join(work, 'ok'));
  await writeFile(path.join(work, 'ok', 'good.yaml'), GOOD);
  await writeFile(path.join(work, 'ok', 'empty-docs.yaml'), WARN);
  await mkdir(path.join(work, 'bad'));
  await writeFile(path.join(work, 'bad', 'good.yaml'), GOOD);
  await writeFile(path.join(work, 'bad', 'bad.yaml'), BAD);
});
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('codedeploy-notify validate (built CLI)', () => {
  it('text: exit 0 with warnings only, one line per issue and the summary', async () => {
    const run = await runCli(['validate', '--dir', 'ok'], { cwd: work });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        'ok/empty-docs.yaml:1:4: warning: /: empty document (nothing between the --- separators)',
        'ok/empty-docs.yaml:2:4: warning: /: empty document (nothing between the --- separators)',
        '2 files, 1 registration, 0 errors, 2 warnings',
        '',
      ].join('\n'),
    );
    expect(run.stderr).toBe('');
  });

  it('text: exit 1 on an error, naming file, line, column and pointer', async () => {
    const run = await runCli(['validate', '--dir', 'bad'], { cwd: work });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      'bad/bad.yaml:9:13: error: /spec/channels/0/type: unknown channel type "slak"; did you mean "slack"? (one of slack, teams, webhook, sns, email or newrelic)\n2 files, 2 registrations, 1 error, 0 warnings\n',
    );
  });

  it('github: workflow-command annotations', async () => {
    const run = await runCli(['validate', '--dir', 'bad', '--format', 'github'], { cwd: work });
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')[0]).toBe(
      '::error file=bad/bad.yaml,line=9,col=13::/spec/channels/0/type: unknown channel type "slak"; did you mean "slack"? (one of slack, teams, webhook, sns, email or newrelic)',
    );
  });

  it('json: files, registrations and every issue field', async () => {
    const run = await runCli(['validate', '--dir', 'bad', '--format', 'json'], { cwd: work });
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      files: 2,
      registrations: 2,
      issues: [
        {
          file: 'bad/bad.yaml',
          line: 9,
          column: 13,
          pointer: '/spec/channels/0/type',
          severity: 'error',
          message: 'unknown channel type "slak"; did you mean "slack"? (one of slack, teams, webhook, sns, email or newrelic)',
        },
      ],
    });
  });

  it('--check-env reports unset variables, and passes once they are set', async () => {
    const unset = await runCli(['validate', '--dir', 'ok', '--check-env'], { cwd: work });
    expect(unset.code).toBe(1);
    expect(unset.stdout).toContain(
      'ok/good.yaml:10:19: error: /spec/channels/0/webhookUrl: environment variable GOOD_SLACK_URL is not set (referenced as { fromEnv: GOOD_SLACK_URL }; checked because of --check-env)',
    );
    const set = await runCli(['validate', '--dir', 'ok', '--check-env'], { cwd: work, env: { GOOD_SLACK_URL: 'https://hooks.slack.com/services/T/B/x' } });
    expect(set.code).toBe(0);
    expect(set.stdout).not.toContain('hooks.slack.com');
  });

  it('reads --dir from CODEDEPLOY_NOTIFY_DIR, and the flag wins over it', async () => {
    const fromEnv = await runCli(['validate'], { cwd: work, env: { CODEDEPLOY_NOTIFY_DIR: 'bad' } });
    expect(fromEnv.code).toBe(1);
    const flagWins = await runCli(['validate', '--dir', 'ok'], { cwd: work, env: { CODEDEPLOY_NOTIFY_DIR: 'bad' } });
    expect(flagWins.code).toBe(0);
  });

  it('the default directory is ./registrations: the repository examples validate', async () => {
    const run = await runCli(['validate'], { cwd: ROOT });
    expect(run.stdout).toMatch(/^\d+ files, \d+ registrations, 0 errors, 0 warnings\n$/);
    expect(run.code).toBe(0);
  });

  it('reports every corpus problem through the CLI, with the file path', async () => {
    const dir = path.join(work, 'corpus');
    await mkdir(dir);
    // one case per folder: every case is named "demo", which would otherwise add duplicate-name errors
    const picked = CORPUS.filter((_, i) => i % 5 === 0);
    for (const [i, c] of picked.entries()) {
      await mkdir(path.join(dir, String(i)));
      await writeFile(path.join(dir, String(i), 'case.yaml'), c.yaml);
    }
    for (const [i, c] of picked.entries()) {
      const run = await runCli(['validate', '--dir', `corpus/${i}`], { cwd: work });
      const lines = run.stdout.trim().split('\n').slice(0, -1);
      expect(lines, c.name).toEqual(
        c.expect.map((e) => {
          const [pos, severity, pointer, ...rest] = e.split(' ');
          return `corpus/${i}/case.yaml:${pos}: ${severity}: ${pointer || '/'}: ${rest.join(' ')}`;
        }),
      );
      expect(run.code, c.name).toBe(c.expect.some((e) => e.includes(' error ')) ? 1 : 0);
    }
  });

  it('exit 2 with a one-line reason: missing directory, unknown flag, bad format value, unknown command', async () => {
    for (const args of [['validate', '--dir', 'nope'], ['validate', '--bogus'], ['validate', '--format', 'xml'], ['frobnicate']]) {
      const run = await runCli(args, { cwd: work });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(run.stderr, args.join(' ')).toMatch(/^error: /);
      expect(run.stdout).toBe('');
    }
  });

  it('--help is true for the program and for validate', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['validate', 'plan', 'diff', 'apply', 'run', 'status', 'send-test', 'init', 'schema']) {
      expect(top.stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'));
    }
    const sub = await runCli(['validate', '--help']);
    expect(sub.code).toBe(0);
    for (const flag of ['--dir <path>', '--format <format>', '--check-env', 'choices: "text", "github", "json"']) expect(sub.stdout).toContain(flag);
  });

  it('schema prints the JSON Schema shipped in schema/', async () => {
    const run = await runCli(['schema']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(JSON.parse(await readFile(path.join(ROOT, 'schema/registration.schema.json'), 'utf8')));
  });
});

describe('large directories', () => {
  it('parses on worker threads with exactly the result of a single thread', async () => {
    const dir = path.join(work, 'many');
    await mkdir(dir);
    const count = 450; // above PARALLEL_THRESHOLD, so the built CLI spreads the files over threads
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        writeFile(path.join(dir, `r${String(i).padStart(3, '0')}.yaml`), (i % 50 === 7 ? BAD : GOOD).replace(/name: (good|bad)/, `name: r${i}`)),
      ),
    );
    const run = await runCli(['validate', '--dir', 'many', '--format', 'json'], { cwd: work });
    const inThread = await loadRegistrations(path.join(work, 'many'), { workers: 0, displayDir: 'many' });
    expect(inThread.issues).toHaveLength(9);
    expect(JSON.parse(run.stdout)).toEqual({ files: count, registrations: count, issues: inThread.issues });
    expect(run.code).toBe(1);
  });
});

describe('generated types', () => {
  it('src/config/registration.generated.ts is up to date with the schema', () => {
    expect(() => execFileSync(process.execPath, ['scripts/generate-types.mjs', '--check'], { cwd: ROOT, stdio: 'pipe' })).not.toThrow();
  });

  it('the check fails on a stale file', async () => {
    const stale = path.join(work, 'stale.ts');
    await writeFile(stale, (await readFile(path.join(ROOT, 'src/config/registration.generated.ts'), 'utf8')).replace("'slack'", "'hipchat'"));
    expect(() => execFileSync(process.execPath, ['scripts/generate-types.mjs', '--check', '--out', stale], { cwd: ROOT, stdio: 'pipe' })).toThrow(/stale/);
  });
});
