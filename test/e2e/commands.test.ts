// run's configuration errors, run --once, status and send-test, through the built CLI.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, requireBuiltCli } from '../helpers/cli.js';
import { slackRegistration, startDaemonWorld, type DaemonWorld } from '../helpers/daemon.js';
import { startHttpRecorder, type HttpRecorder } from '../fakes/http-recorder.js';

let world: DaemonWorld;
let slack: HttpRecorder;
let hook: HttpRecorder;

beforeAll(async () => {
  requireBuiltCli();
  world = await startDaemonWorld('cmd');
  slack = await startHttpRecorder();
  hook = await startHttpRecorder();
  await world.write('checkout.yaml', slackRegistration('checkout', 'checkout-service'));
  await world.write(
    'search.yaml',
    `apiVersion: codedeploy-notify/v1
kind: Registration
metadata: { name: search, owner: team-search }
spec:
  application: search-api
  channels:
    - name: chat
      type: slack
      webhookUrl: { fromEnv: SLACK_URL }
    - name: hook
      type: webhook
      url: { fromEnv: HOOK_URL }
      secret: { fromEnv: HOOK_SECRET }
`,
  );
});
afterAll(async () => {
  await slack.close();
  await hook.close();
  await world.close();
});

describe('run: configuration is checked at start', () => {
  it.each([
    [['--poll-interval', '5x'], /^error: invalid --poll-interval "5x": use a duration such as 500ms, 5s, 1m or 24h$/],
    [['--http-port', '99999'], /^error: invalid --http-port "99999": use a port number from 0 to 65535$/],
    [['--poll-strategy', 'region'], /^error: invalid --poll-strategy "region": use one of account, application$/],
    [['--leader-lease', '1s'], /^error: invalid --leader-lease "1s": use a duration of at least 3s/],
    [['--dir', '/nonexistent'], /^error: registrations directory "\/nonexistent" does not exist/],
    [['--bogus'], /^error: unknown option '--bogus'/],
  ])('%j: one line, exit 2', async (args, message) => {
    const run = await runCli(['run', ...args], { env: world.env() });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr.trim()).toMatch(message);
  });

  it('an environment variable with a bad value names the variable', async () => {
    const run = await runCli(['run'], { env: world.env({ CODEDEPLOY_NOTIFY_POLL_INTERVAL: 'soon' }) });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('error: invalid CODEDEPLOY_NOTIFY_POLL_INTERVAL (environment) "soon": use a duration such as 500ms, 5s, 1m or 24h');
  });

  it('advanced tuning from the environment is checked too', async () => {
    const shortLease = await runCli(['run'], { env: world.env({ CODEDEPLOY_NOTIFY_CLAIM_LEASE: '5s' }) });
    expect(shortLease.code).toBe(2);
    expect(shortLease.stderr.trim()).toBe('error: CODEDEPLOY_NOTIFY_CLAIM_LEASE (5000 ms) must exceed 2s + 3 × CODEDEPLOY_NOTIFY_SEND_TIMEOUT (32000 ms)');
    const badTimeout = await runCli(['run'], { env: world.env({ CODEDEPLOY_NOTIFY_SEND_TIMEOUT: 'abc' }) });
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr.trim()).toBe('error: invalid CODEDEPLOY_NOTIFY_SEND_TIMEOUT (environment) "abc": use a duration of at least 500 ms, such as 10s');
  });

  it('missing tables: exit 2 saying to run init', async () => {
    const run = await runCli(['run', '--table-prefix', 'nothing-here-', '--http-port', '0'], { env: world.env() });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(/^error: .*nothing-here-registrations.*codedeploy-notify init/);
  });

  it('a port already in use: exit 2 naming the port and the flag', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve));
    const port = (blocker.address() as { port: number }).port;
    const run = await runCli(['run', '--http-port', String(port)], { env: world.env() });
    blocker.close();
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toMatch(new RegExp(`^error: cannot listen on 0.0.0.0:${port} .*EADDRINUSE.*--http-port`));
  });
});

describe('run --once, status and send-test', () => {
  it('--once reconciles, polls and dispatches one round, and status shows it', async () => {
    const env = world.env({ SLACK_URL: slack.url, HOOK_URL: `${hook.url}/hook`, HOOK_SECRET: 'hook-signing-secret' });
    // first round: the registrations become live (deployments before this are not announced)
    const first = await runCli(['run', '--once'], { env });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^run --once: leader; reconcile applied \(2 changes\); poll ok/);

    const { model } = world.codeDeploy;
    const deployment = model.createDeployment({ application: 'checkout-service', group: 'production' });
    model.setStatus(deployment.deploymentId, 'InProgress');
    model.setStatus(deployment.deploymentId, 'Failed', { error: { code: 'HEALTH_CONSTRAINTS', message: 'too many instances failed' } });
    const second = await runCli(['run', '--once'], { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/reconcile in-sync \(0 changes\); poll ok \(1 events, 1 notifications\); dispatch: 1 sent, 0 retrying, 0 failed/);
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]?.body).toContain(deployment.deploymentId);

    const status = await runCli(['status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Registrations \(2: 2 managed, 0 unmanaged\) in cmd.*registrations\n/);
    expect(status.stdout).toMatch(/checkout\s+managed\s+checkout-service\s+v1/);
    expect(status.stdout).toMatch(/Leader: none \(last leader \S+ released its lease when it stopped\)/);
    expect(status.stdout).toMatch(/Poller \(1 region\/account scope\)\n {2}us-east-1 123456789012 {2}account {2}cursor \S+ {2}last success \S+ {2}ok/);
    expect(status.stdout).toMatch(new RegExp(`sent\\s+checkout/chat \\(slack\\)\\s+checkout-service ${deployment.deploymentId} Failed\\s+attempt 1`));
    expect(status.stdout).toMatch(/Recent changes \(2\)\n.*create\s+(checkout|search)/);
    const json = JSON.parse((await runCli(['status', '--format', 'json'], { env })).stdout) as { notifications: { state: string }[]; registrations: unknown[] };
    expect(json.registrations).toHaveLength(2);
    expect(json.notifications.map((n) => n.state)).toEqual(['sent']);
    for (const text of [status.stdout, status.stderr, JSON.stringify(json)]) {
      expect(text).not.toContain(slack.url);
      expect(text).not.toContain('hook-signing-secret');
    }
  });

  it('send-test sends one labelled message per channel and exits 0; a missing secret is a failure, exit 1', async () => {
    slack.reset();
    hook.reset();
    const env = world.env({ SLACK_URL: slack.url, HOOK_URL: `${hook.url}/hook`, HOOK_SECRET: 'hook-signing-secret' });
    const all = await runCli(['send-test', 'search'], { env });
    expect(all.stdout).toBe('✓ chat (slack): sent\n✓ hook (webhook): sent\n2 of 2 channels accepted the test message\n');
    expect(all.code).toBe(0);
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]?.body).toMatch(/test/i);
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]?.headers['x-codedeploy-notify-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);

    const one = await runCli(['send-test', 'search', '--channel', 'hook'], { env: world.env({ HOOK_URL: `${hook.url}/hook` }) });
    expect(one.code).toBe(1);
    expect(one.stdout).toMatch(/^✗ hook \(webhook\): failed: .*HOOK_SECRET is not set/);
    expect(one.stdout).toContain('0 of 1 channel accepted the test message');

    const unknown = await runCli(['send-test', 'nope'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: no valid registration named "nope" in \S+ \(valid ones: checkout, search\)/);
  });
});
