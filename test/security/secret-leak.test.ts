// Secret leak check (GitHub issue 7, item 4). The whole pipeline through the built CLI with secret
// values in the daemon's environment — every channel type, every secret field as { fromEnv } —
// against receivers on 127.0.0.1 that accept, refuse, rate-limit, redirect, hang, and answer with
// error bodies that ECHO the secrets back (as a misbehaving proxy might); plus a missing secret.
// Then every log line (daemons at debug, info and trace), /metrics, /healthz, /readyz, `status`,
// `plan`, `apply`, `diff` (two directories and two git commits), `validate` (with --check-env and
// pasted plain secrets), `send-test`, and every item of the three tables are searched for every
// secret value and its secret-bearing parts: zero hits. The receivers' own records are the control:
// the same search must find the secrets there, so the pipeline really carried them.
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger, type LedgerEntry } from '../../src/store/ledger.js';
import { DynamoRegistrationStore } from '../../src/store/registrations.js';
import { requireBuiltCli, runCli, type CliRun } from '../helpers/cli.js';
import { eventually, startDaemon, startDaemonWorld, type DaemonProcess, type DaemonWorld } from '../helpers/daemon.js';
import { refusedUrl, startHttpRecorder, type HttpRecorder, type RecordedRequest, type ScriptedResponse } from '../fakes/http-recorder.js';
import { awsQueryError, awsQueryResult, xmlEscape } from '../fakes/sns.js';
import { commitAll, gitInit, makeTemp, removeTemp } from '../reconcile/helpers.js';
import { findLeaks, needlesFor, SECRET_MARKER, type Leak, type Needle } from './leak-search.js';

const DAEMON_ARGS = ['--poll-interval', '300ms', '--http-port', '0', '--leader-lease', '3s', '--resync-interval', '5s'];
/** Fast retries and a short send timeout, so retrying channels make several attempts within seconds. */
const TUNING = { CODEDEPLOY_NOTIFY_SEND_TIMEOUT: '1s', CODEDEPLOY_NOTIFY_CLAIM_LEASE: '6s', CODEDEPLOY_NOTIFY_RETRY_MAX_DELAY: '1s' };
const ENTITY_GUID = 'MXxBUE18QVBQTElDQVRJT058MTIzNDU2';

/** Channels of `leak-ok` (every one succeeds) and of `leak-fail` (every one fails or keeps retrying). */
const OK_CHANNELS = ['chat', 'teams', 'hook', 'apm', 'topic', 'mail'];
const FAILED_FOR_GOOD = ['chat-404', 'chat-redirect', 'hook-denied', 'apm-graphql', 'apm-denied', 'topic-denied', 'mail-rejected', 'chat-missing'];
const RETRYING = ['teams-500', 'hook-429', 'hook-refused', 'hook-slow'];

let world: DaemonWorld;
let slack: HttpRecorder;
let teams: HttpRecorder;
let hook: HttpRecorder;
let newRelic: HttpRecorder;
let sns: HttpRecorder;
let ses: HttpRecorder;
let work: string;
let secrets: Record<string, string>;
let needles: Needle[];
/** Every output searched: label → text. */
const outputs = new Map<string, string>();
/** What the receivers saw and answered, per receiver: the control for the search. */
let received: Map<string, string>;
let ledgerEntries: LedgerEntry[] = [];
const daemons: DaemonProcess[] = [];

/** A misbehaving receiver: the request's secret parts echoed back in the error body. */
function echoing(base: string, okBody: string | object): (request: RecordedRequest) => ScriptedResponse {
  return (request): ScriptedResponse => {
    const full = `${base}${request.url}`;
    const authorization = request.headers.authorization ?? '';
    const echo = {
      url: full,
      encodedUrl: encodeURIComponent(full),
      path: request.url,
      authorization,
      token: authorization.replace(/^\S+\s+/, ''),
      apiKey: request.headers['api-key'] ?? '',
    };
    const p = request.path;
    if (p.startsWith('/fail404/')) return { status: 404, body: `channel_not_found: nothing at ${full} (${echo.encodedUrl}) path ${request.url}` };
    if (p.startsWith('/fail302/')) return { status: 302, headers: { location: full }, body: `Found. Redirecting to ${full}` };
    if (p.startsWith('/fail500/')) {
      return { status: 500, headers: { 'content-type': 'text/html' }, body: `<html><body><h1>Internal Server Error</h1><p>upstream ${xmlEscape(full)} failed</p><pre>${JSON.stringify(echo)}</pre></body></html>` };
    }
    if (p.startsWith('/fail429/')) return { status: 429, headers: { 'retry-after': '1' }, body: { error: 'rate_limited', ...echo } };
    if (p.startsWith('/fail401/')) {
      const given = echo.token || echo.apiKey;
      return { status: 401, body: { error: 'invalid_token', message: `token ${given} is not valid for ${request.url}; it starts ${given.slice(0, 20)}…`, ...echo } };
    }
    if (p.startsWith('/graphql-errors/')) {
      return { status: 200, body: { data: null, errors: [{ message: `Invalid API key ${echo.apiKey} for ${full}`, extensions: { errorClass: 'UNAUTHORIZED' } }, { message: `key ${echo.apiKey.slice(5)} revoked` }] } };
    }
    if (p.startsWith('/slow/')) return { status: 200, body: okBody, delayMs: 2_500 };
    return { status: 200, body: okBody };
  };
}

/** The secret values: distinctive, searchable, every secret-bearing part carrying the marker. */
function secretValues(refused: string): Record<string, string> {
  return {
    LEAK_SLACK_URL: `${slack.url}/services/T0Sekr1tA1/B0Sekr1tB2/Sekr1tSlackToken0123456789ab`,
    LEAK_SLACK_404_URL: `${slack.url}/fail404/services/T0Sekr1tC3/B0Sekr1tD4/Sekr1tSlackGoneToken98765cd`,
    LEAK_SLACK_302_URL: `${slack.url}/fail302/services/T0Sekr1tE5/B0Sekr1tF6/Sekr1tSlackMovedToken5555ef`,
    LEAK_TEAMS_URL: `${teams.url}/workflows/Sekr1tTeamsWorkflow0a1b2c3d/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=Sekr1tTeamsSig9Zq8Yw7Xv6Ut5Sr4`,
    LEAK_TEAMS_500_URL: `${teams.url}/fail500/workflows/Sekr1tTeamsDownWorkflow4e5f/triggers/manual/paths/invoke?api-version=2016-06-01&sig=Sekr1tTeamsDownSig1a2b3c4d5e`,
    LEAK_HOOK_URL: `${hook.url}/deploys?token=Sekr1tHookQueryToken31337`,
    LEAK_HOOK_429_URL: `${hook.url}/fail429/deploys?token=Sekr1tHookBusyToken8080`,
    LEAK_HOOK_401_URL: `${hook.url}/fail401/deploys?token=Sekr1tHookDeniedToken4242`,
    LEAK_HOOK_REFUSED_URL: `${refused}/deploys?token=Sekr1tHookRefusedToken6060`,
    LEAK_HOOK_SLOW_URL: `${hook.url}/slow/deploys?token=Sekr1tHookSlowToken7070`,
    LEAK_HOOK_SECRET: 'Sekr1tHmacSigningKey-b64+/=Zq',
    LEAK_HOOK_AUTH: 'Bearer Sekr1tBearerToken.eyJhbGciOiJIUzI1NiJ9',
    LEAK_NR_KEY: 'NRAK-SEKR1TNEWRELICKEY0123456789A',
    LEAK_NR_BAD_KEY: 'NRAK-SEKR1TNEWRELICBADKEY98765ZYX',
    // only in the changed desired state: plan/diff must show these by name, never resolve them
    LEAK_HOOK_URL_V2: `${hook.url}/deploys-v2?token=Sekr1tHookQueryTokenV2xyz9`,
    LEAK_HOOK_AUTH_V2: 'Bearer Sekr1tBearerTokenV2.eyJ0eXAiOiJKV1QifQ',
  };
}

function registrationFiles(): Record<string, string> {
  const header = (name: string, application: string, events: string) =>
    `apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: ${name}\n  owner: team-security\nspec:\n  application: ${application}\n  events: ${events}\n  channels:\n`;
  const webhook = (name: string, urlVar: string, extra = '') =>
    `    - name: ${name}\n      type: webhook\n      url: { fromEnv: ${urlVar} }\n      secret: { fromEnv: LEAK_HOOK_SECRET }\n      headers:\n        Authorization: { fromEnv: LEAK_HOOK_AUTH }\n        X-Team: security\n${extra}`;
  const newrelic = (name: string, keyVar: string, pathPrefix: string) =>
    `    - name: ${name}\n      type: newrelic\n      entityGuid: ${ENTITY_GUID}\n      apiKey: { fromEnv: ${keyVar} }\n      endpoint: ${newRelic.url}${pathPrefix}/graphql\n`;
  const slackChannel = (name: string, urlVar: string) => `    - name: ${name}\n      type: slack\n      webhookUrl: { fromEnv: ${urlVar} }\n`;
  return {
    'leak-ok.yaml':
      header('leak-ok', 'leak-ok-app', '[Succeeded, Failed]') +
      slackChannel('chat', 'LEAK_SLACK_URL') +
      `    - name: teams\n      type: teams\n      webhookUrl: { fromEnv: LEAK_TEAMS_URL }\n` +
      webhook('hook', 'LEAK_HOOK_URL') +
      newrelic('apm', 'LEAK_NR_KEY', '') +
      `    - name: topic\n      type: sns\n      topicArn: arn:aws:sns:us-east-1:123456789012:leak-deploys\n` +
      `    - name: mail\n      type: email\n      from: deploys@example.com\n      to: [team-security@example.com]\n`,
    'team/leak-fail.yaml':
      header('leak-fail', 'leak-fail-app', '[Succeeded]') +
      slackChannel('chat-404', 'LEAK_SLACK_404_URL') +
      slackChannel('chat-redirect', 'LEAK_SLACK_302_URL') +
      slackChannel('chat-missing', 'LEAK_UNSET_SLACK_URL') +
      `    - name: teams-500\n      type: teams\n      webhookUrl: { fromEnv: LEAK_TEAMS_500_URL }\n` +
      webhook('hook-429', 'LEAK_HOOK_429_URL') +
      webhook('hook-denied', 'LEAK_HOOK_401_URL') +
      webhook('hook-refused', 'LEAK_HOOK_REFUSED_URL') +
      webhook('hook-slow', 'LEAK_HOOK_SLOW_URL') +
      newrelic('apm-graphql', 'LEAK_NR_BAD_KEY', '/graphql-errors') +
      newrelic('apm-denied', 'LEAK_NR_BAD_KEY', '/fail401') +
      `    - name: topic-denied\n      type: sns\n      topicArn: arn:aws:sns:us-east-1:123456789012:leak-denied\n` +
      `    - name: mail-rejected\n      type: email\n      from: deploys@example.com\n      to: [rejected@example.com]\n`,
  };
}

/** The desired state after a change touching secret refs: plan and diff must name them, never resolve them. */
function changedFiles(original: Record<string, string>): Record<string, string> {
  const ok = (original['leak-ok.yaml'] ?? '')
    .replace('url: { fromEnv: LEAK_HOOK_URL }', 'url: { fromEnv: LEAK_HOOK_URL_V2 }')
    .replace('Authorization: { fromEnv: LEAK_HOOK_AUTH }', 'Authorization: { fromEnv: LEAK_HOOK_AUTH_V2 }')
    .concat('    - name: chat-2\n      type: slack\n      webhookUrl: { fromEnv: LEAK_SLACK_URL }\n');
  const added = `apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: leak-new\nspec:\n  application: leak-new-app\n  channels:\n    - name: teams\n      type: teams\n      webhookUrl: { fromEnv: LEAK_TEAMS_URL }\n    - name: hook\n      type: webhook\n      url: { fromEnv: LEAK_HOOK_URL }\n      secret: { fromEnv: LEAK_HOOK_SECRET }\n`;
  return { 'leak-ok.yaml': ok, 'leak-new.yaml': added };
}

/** Files with secrets pasted in (an operator's mistake): validate, plan and diff must not repeat them. */
const PASTED: Record<string, string> = {
  'pasted.yaml': `apiVersion: codedeploy-notify/v1
kind: Registration
metadata:
  name: pasted
spec:
  application: pasted-app
  channels:
    - name: chat
      type: slack
      webhookUrl: https://hooks.slack.com/services/T0PASTED/B0PASTED/Sekr1tPastedSlackToken123
    - name: hook
      type: webhook
      url: https://hooks.example.com/x?token=Sekr1tPastedQueryToken999
      headers:
        Authorization: Bearer Sekr1tPastedBearerToken777
    - name: apm
      type: newrelic
      entityGuid: ${ENTITY_GUID}
      apiKey: NRAK-SEKR1TPASTEDKEY0000000000000
`,
  'broken.yaml': `apiVersion: codedeploy-notify/v1
kind: Registration
metadata:
  name: broken
spec:
  application: broken-app
  channels:
    - name: chat
      type: slack
      webhookUrl: "https://hooks.slack.com/services/T0PASTED/B0PASTED/Sekr1tUnclosedQuoteToken42
    - name: next
`,
  'typo.yaml': `apiVersion: codedeploy-notify/v1
kind: Registration
metadata:
  name: typo
spec:
  application: typo-app
  channels:
    - name: chat
      type: slack
      webhookUrl: { fromEnv: https://hooks.slack.com/services/T0PASTED/B0PASTED/Sekr1tRefNameToken55 }
      webhookURL: https://hooks.slack.com/services/T0PASTED/B0PASTED/Sekr1tTypoFieldToken66
`,
};

async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
}

function record(label: string, run: CliRun): CliRun {
  outputs.set(`${label} (stdout)`, run.stdout);
  outputs.set(`${label} (stderr)`, run.stderr);
  return run;
}

/** Every item of a table, as JSON text. */
async function scanTable(table: string): Promise<string> {
  const items: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await world.clients.doc.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return JSON.stringify(items);
}

/** Ops endpoints of a running daemon. */
async function recordOps(label: string, d: DaemonProcess): Promise<string> {
  const port = await d.port();
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  outputs.set(`${label} /metrics`, metrics);
  outputs.set(`${label} /healthz`, await (await fetch(`http://127.0.0.1:${port}/healthz`)).text());
  outputs.set(`${label} /readyz`, await (await fetch(`http://127.0.0.1:${port}/readyz`)).text());
  return metrics;
}

async function stopDaemon(label: string, d: DaemonProcess): Promise<void> {
  d.kill('SIGTERM');
  const { code } = await d.exited;
  outputs.set(`${label} logs (stdout)`, d.stdout());
  outputs.set(`${label} (stderr)`, d.stderr());
  expect(code).toBe(0);
}

/** Runs a deployment of `application` to its end in the fake CodeDeploy. */
function deploy(application: string, status: 'Succeeded' | 'Failed'): string {
  const { model } = world.codeDeploy;
  const deployment = model.createDeployment({ application, group: 'production', revision: { revisionType: 'GitHub', gitHubLocation: { repository: 'acme/leak', commitId: '0123456789abcdef0123456789abcdef01234567' } } });
  model.setStatus(deployment.deploymentId, 'InProgress');
  model.setStatus(deployment.deploymentId, status, status === 'Failed' ? { error: { code: 'HEALTH_CONSTRAINTS', message: 'too many instances failed' } } : {});
  return deployment.deploymentId;
}

/**
 * True once every notification of `deployments` is in the ledger and settled: every `leak-ok` one
 * sent, every `leak-fail` one failed for good or retried at least once (so its reason was recorded).
 */
async function settled(ledger: DynamoLedger, deployments: Record<string, number>): Promise<boolean> {
  const entries = (await ledger.recent(1000)).filter((e) => e.event.deploymentId in deployments);
  for (const [id, expected] of Object.entries(deployments)) {
    const mine = entries.filter((e) => e.event.deploymentId === id);
    if (mine.length !== expected) return false;
    for (const e of mine) {
      if (e.registration.name === 'leak-ok' && e.state !== 'sent') return false;
      if (e.registration.name === 'leak-fail' && e.state !== 'failed' && !(e.attempts >= 2 && e.lastError)) return false;
    }
  }
  return true;
}

beforeAll(async () => {
  requireBuiltCli();
  world = await startDaemonWorld('leak');
  slack = await startHttpRecorder();
  slack.setDefault(echoing(slack.url, 'ok'));
  teams = await startHttpRecorder();
  teams.setDefault(echoing(teams.url, 'ok'));
  hook = await startHttpRecorder();
  hook.setDefault(echoing(hook.url, 'ok'));
  newRelic = await startHttpRecorder();
  newRelic.setDefault(echoing(newRelic.url, { data: { changeTrackingCreateEvent: { changeTrackingEvent: { changeTrackingId: 'ct-leak-1' }, messages: [] } } }));
  let published = 0;
  sns = await startHttpRecorder({
    default: (request) => {
      const form = request.form();
      if (form.TopicArn?.endsWith(':leak-denied')) return awsQueryError('AuthorizationError', 403, `User: arn:aws:iam::123456789012:user/ci is not authorized to perform: SNS:Publish on resource: ${form.TopicArn}`);
      published += 1;
      return awsQueryResult('Publish', `<MessageId>m-${published}</MessageId>`);
    },
  });
  let mailed = 0;
  ses = await startHttpRecorder({
    default: (request) => {
      const form = request.form();
      if (form['Destination.ToAddresses.member.1'] === 'rejected@example.com') return awsQueryError('MessageRejected', 400, 'Email address is not verified. The following identities failed the check in region US-EAST-1: rejected@example.com');
      mailed += 1;
      return awsQueryResult('SendEmail', `<MessageId>0100018f-leak-${mailed}</MessageId>`);
    },
  });
  secrets = secretValues(await refusedUrl());
  needles = Object.entries(secrets).flatMap(([name, value]) => needlesFor(name, value));
  work = await makeTemp('leak');

  // the desired states: the daemon's folder, a changed copy, a git repository holding both, pasted secrets
  const files = registrationFiles();
  await writeTree(world.dir, files);
  const changedDir = path.join(work, 'changed');
  await writeTree(changedDir, changedFiles(files));
  const pastedDir = path.join(work, 'pasted');
  await writeTree(pastedDir, PASTED);
  const repo = path.join(work, 'repo');
  const repoDir = path.join(repo, 'registrations');
  await mkdir(repoDir, { recursive: true });
  await gitInit(repo);
  await cp(world.dir, repoDir, { recursive: true });
  await commitAll(repo, 'registrations');
  await rm(repoDir, { recursive: true });
  await cp(changedDir, repoDir, { recursive: true });
  await commitAll(repo, 'change secret refs');

  const env = (extra: Record<string, string> = {}) =>
    world.env({ ...secrets, ...TUNING, AWS_ENDPOINT_URL_SNS: sns.url, AWS_ENDPOINT_URL_SES: ses.url, ...extra });
  const ledger = new DynamoLedger({ doc: world.clients.doc, table: world.names.ledger });
  const store = new DynamoRegistrationStore(world.clients.doc, world.names.registrations);

  // 1. the daemon at debug: deployments that succeed and fail, channels that succeed and fail
  const first = startDaemon(['--log-level', 'debug', ...DAEMON_ARGS], env());
  daemons.push(first);
  await first.waitForLog((l) => l.msg === 'became leader');
  await eventually(async () => (await store.scan()).length === 2, 15_000, 'both registrations live');
  const round1 = { [deploy('leak-ok-app', 'Succeeded')]: OK_CHANNELS.length, [deploy('leak-ok-app', 'Failed')]: OK_CHANNELS.length, [deploy('leak-fail-app', 'Succeeded')]: FAILED_FOR_GOOD.length + RETRYING.length };
  await eventually(() => settled(ledger, round1), 30_000, 'round 1 settled');
  await recordOps('daemon at debug', first);
  await stopDaemon('daemon at debug', first);

  // 2. the daemon at info: more of the same, while round 1's retries go on
  const second = startDaemon(['--log-level', 'info', ...DAEMON_ARGS], env());
  daemons.push(second);
  await second.waitForLog((l) => l.msg === 'became leader');
  const round2 = { [deploy('leak-ok-app', 'Succeeded')]: OK_CHANNELS.length, [deploy('leak-fail-app', 'Succeeded')]: FAILED_FOR_GOOD.length + RETRYING.length };
  await eventually(() => settled(ledger, round2), 30_000, 'round 2 settled');
  await recordOps('daemon at info', second);
  await stopDaemon('daemon at info', second);

  // 3. one round at trace
  deploy('leak-ok-app', 'Failed');
  deploy('leak-fail-app', 'Succeeded');
  const once = record('run --once at trace', await runCli(['run', '--once', '--log-level', 'trace'], { env: env() }));
  expect(once.stdout).toMatch(/^run --once: leader; .*poll ok/m);

  // 4. every command that shows state, desired state or sends
  const debug = env({ LOG_LEVEL: 'debug' });
  const dir = ['--dir', world.dir];
  const formats = (command: string[], list: string[]) => list.map((f) => [...command, '--format', f]);
  const batch = async (runs: string[][], label = '') => {
    const results = await Promise.all(runs.map((args) => runCli(args, { env: debug, cwd: work })));
    runs.forEach((args, i) => record(`${args.join(' ')}${label}`, results[i] as CliRun));
    return results;
  };
  const [statusText] = await batch([['status', '--limit', '1000'], ['status', '--format', 'json', '--limit', '1000'], ...formats(['plan', ...dir], ['text', 'markdown', 'json'])]);
  expect(statusText?.code).toBe(0);
  const plans = await batch(formats(['plan', '--dir', changedDir, '--detailed-exitcode'], ['text', 'markdown', 'json']));
  expect(plans.map((r) => r.code)).toEqual([2, 2, 2]);
  expect(plans[0]?.stdout).toContain('LEAK_HOOK_URL_V2');
  const diffs = await batch([
    ...formats(['diff', world.dir, changedDir], ['text', 'markdown', 'json']),
    ...formats(['diff', 'HEAD~1', 'HEAD', '--dir', repoDir], ['text', 'markdown', 'json']),
    ...formats(['diff', 'HEAD~1', '--dir', repoDir], ['text', 'markdown', 'json']),
  ]);
  expect(diffs.map((r) => r.code)).toEqual(Array(9).fill(0));
  expect(diffs[3]?.stdout).toContain('LEAK_HOOK_AUTH_V2');
  const validations = await batch([
    ...formats(['validate', ...dir], ['text', 'github', 'json']),
    ...formats(['validate', ...dir, '--check-env'], ['text', 'github', 'json']),
    ...formats(['validate', '--dir', pastedDir, '--check-env'], ['text', 'github', 'json']),
  ]);
  expect(validations.map((r) => r.code)).toEqual([0, 0, 0, 1, 1, 1, 1, 1, 1]);
  expect(validations[3]?.stdout).toContain('LEAK_UNSET_SLACK_URL');
  expect(validations[6]?.stdout).toContain('plain secret');
  const invalid = await batch([['plan', '--dir', pastedDir], ['diff', world.dir, pastedDir], ['diff', pastedDir, world.dir, '--format', 'markdown']]);
  expect(invalid.map((r) => r.code)).toEqual([1, 1, 1]);
  const sendTests = await batch([['send-test', 'leak-ok', ...dir], ['send-test', 'leak-fail', ...dir], ['send-test', 'leak-fail', ...dir, '--channel', 'hook-denied']]);
  expect(sendTests.map((r) => r.code)).toEqual([0, 1, 1]);
  const applied = await batch([['apply', '--dir', changedDir]]);
  expect(applied[0]?.code).toBe(0);
  await batch([['status', '--limit', '1000'], ['status', '--format', 'json', '--limit', '1000']], ' after apply');

  // 5. the stored state itself
  for (const [kind, table] of Object.entries(world.names)) outputs.set(`table ${kind} (${table})`, await scanTable(table));
  ledgerEntries = await ledger.recent(1000);

  // the receivers' side: what they were sent and what they answered
  received = new Map();
  for (const [name, recorder] of Object.entries({ slack, teams, hook, newRelic })) {
    const respond = echoing(recorder.url, 'ok');
    received.set(
      name,
      recorder.requests.map((r) => `${r.method} ${r.url} ${JSON.stringify(r.headers)} ${r.body}\n${JSON.stringify(respond(r).body ?? '')}`).join('\n'),
    );
  }
}, 170_000);

afterAll(async () => {
  for (const d of daemons) d.kill('SIGKILL');
  await Promise.all([slack, teams, hook, newRelic, sns, ses].map((r) => r?.close()));
  await world?.close();
  if (work) await removeTemp(work);
});

describe('secret leak check: the whole pipeline with secret values set', () => {
  it('the pipeline really ran: every channel was tried, failures recorded their reasons', () => {
    expect(ledgerEntries.length).toBeGreaterThanOrEqual(3 * OK_CHANNELS.length + 2 * (FAILED_FOR_GOOD.length + RETRYING.length));
    const byChannel = (name: string) => ledgerEntries.filter((e) => e.channelName === name);
    for (const channel of OK_CHANNELS) expect(byChannel(channel).some((e) => e.state === 'sent'), channel).toBe(true);
    for (const channel of FAILED_FOR_GOOD) {
      const entries = byChannel(channel);
      expect(entries.length, channel).toBeGreaterThan(0);
      for (const e of entries.filter((x) => x.state !== 'pending')) {
        expect(e.state, channel).toBe('failed');
        expect(e.reason, channel).toBeTruthy();
      }
    }
    for (const channel of RETRYING) expect(byChannel(channel).some((e) => e.attempts >= 2 && e.state === 'retrying' && e.lastError), channel).toBe(true);
    // the reasons say what happened, without the secrets
    const reason = (channel: string) => byChannel(channel).map((e) => e.reason ?? e.lastError ?? '').join('\n');
    expect(reason('chat-404')).toMatch(/Slack \(http:\/\/127\.0\.0\.1:\d+\/…\) answered 404: channel_not_found/);
    expect(reason('chat-missing')).toMatch(/LEAK_UNSET_SLACK_URL/);
    expect(reason('hook-429')).toMatch(/answered 429/);
    expect(reason('hook-denied')).toMatch(/answered 401/);
    expect(reason('apm-graphql')).toMatch(/GraphQL errors: Invalid API key/);
    expect(reason('topic-denied')).toMatch(/AuthorizationError/);
    expect(reason('mail-rejected')).toMatch(/MessageRejected/);
    expect(reason('hook-refused')).toMatch(/ECONNREFUSED/);
    expect(reason('hook-slow')).toMatch(/no (answer|response) within/);
  });

  it('the search finds the secrets where they are known to be: in what the receivers got and echoed', () => {
    const found = (text: string) => new Set(findLeaks('control', text, needles).map((l) => l.what.split(' ')[0]));
    const all = [...received.values()].join('\n');
    for (const name of Object.keys(secrets).filter((n) => !['LEAK_HOOK_SECRET', 'LEAK_HOOK_REFUSED_URL', 'LEAK_HOOK_URL_V2', 'LEAK_HOOK_AUTH_V2'].includes(n))) {
      expect(found(all).has(name), `${name} reached its receiver`).toBe(true);
    }
    // the signing secret never travels: the receiver gets only its HMAC
    expect(hook.requests.some((r) => /^sha256=[0-9a-f]{64}$/.test(r.headers['x-codedeploy-notify-signature'] ?? ''))).toBe(true);
    // each form on its own, and a partial leak through the marker alone
    const slackUrl = new URL(secrets.LEAK_SLACK_URL ?? '');
    for (const text of [secrets.LEAK_HOOK_SECRET ?? '', encodeURIComponent(secrets.LEAK_HOOK_SECRET ?? ''), slackUrl.pathname, 'sig=Sekr1tTeamsSig9Zq8Yw7Xv6Ut5Sr4', 'Sekr1tBearerToken.eyJhbGciOiJIUzI1NiJ9']) {
      expect(findLeaks('control', `before ${text} after`, needles).length, text).toBeGreaterThan(0);
    }
    expect(findLeaks('control', 'a truncated SEKR1TNEWREL…', needles).map((l) => l.what)).toEqual([`the marker ${SECRET_MARKER}`]);
    // and a known-clean output stays clean when a secret is injected into it
    const status = outputs.get('status --limit 1000 (stdout)') ?? '';
    expect(findLeaks('status', status, needles)).toEqual([]);
    expect(findLeaks('status', `${status}${secrets.LEAK_TEAMS_URL}`, needles).length).toBeGreaterThan(0);
  });

  it('no output holds any secret: logs, metrics, status, plan, apply, diff, validate, send-test, tables', () => {
    expect(outputs.size).toBeGreaterThan(60);
    const leaks: Leak[] = [];
    for (const [label, text] of outputs) leaks.push(...findLeaks(label, text, needles));
    expect(leaks.map((l) => `${l.output}: ${l.what}: …${l.context}…`)).toEqual([]);
    // the outputs are not empty by accident: logs and status name the failures and their variables
    expect(outputs.get('daemon at debug logs (stdout)')).toMatch(/"msg":"notification failed"/);
    expect(outputs.get('daemon at debug logs (stdout)')).toMatch(/"msg":"channel send finished"/);
    expect(outputs.get('status --limit 1000 (stdout)')).toMatch(/failed\s+leak-fail\/chat-missing \(slack\).*LEAK_UNSET_SLACK_URL/);
    expect(outputs.get('send-test leak-fail --dir ' + world.dir + ' (stdout)')).toMatch(/✗ hook-denied \(webhook\): failed: webhook \(http:\/\/127\.0\.0\.1:\d+\/…\) answered 401/);
  });
});
