// Shared pieces of the fault matrix (GitHub issue 7, item 2): each case runs the built CLI's `run`
// as a child process against dynalite, the fake CodeDeploy and fake receivers, all on 127.0.0.1,
// injects one fault while deployments happen, and checks that nothing is lost, nothing is repeated
// and the ledger and /metrics record the right final state.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { SimStatus } from '../../src/local/codedeploy-server.js';
import { DynamoLedger, type LedgerEntry } from '../../src/store/ledger.js';
import type { LiveItem } from '../../src/plan/types.js';
import { DynamoRegistrationStore } from '../../src/store/registrations.js';
import { eventually, startDaemon, startDaemonWorld, type DaemonProcess, type DaemonWorld } from '../helpers/daemon.js';
import type { HttpRecorder, RecordedRequest, ScriptedResponse } from '../fakes/http-recorder.js';

/** Fast daemon flags for fault tests: polls every 300 ms, a 3 s leader lease, a resync every 5 s. */
export const FAST_ARGS: readonly string[] = ['--poll-interval', '300ms', '--http-port', '0', '--leader-lease', '3s', '--resync-interval', '5s'];

/** Retries back off to at most 5 s, so delivery follows a receiver's recovery within seconds. */
export const FAST_RETRY_ENV: Readonly<Record<string, string>> = { CODEDEPLOY_NOTIFY_RETRY_MAX_DELAY: '5s' };

let worldQueue: Promise<unknown> = Promise.resolve();

/**
 * `startDaemonWorld`, one at a time: the dynalite helper points this process's SDK clients at the
 * newest dynalite through AWS_ENDPOINT_URL_DYNAMODB, read on a client's first request, so two worlds
 * started concurrently (tests of one file run concurrently) could cross their endpoints.
 */
export function startWorld(label: string): Promise<DaemonWorld> {
  const started = worldQueue.then(() => startDaemonWorld(label));
  worldQueue = started.catch(() => undefined);
  return started;
}

/** Things to stop after a test, in reverse order of registration. */
export class Teardown {
  private readonly steps: Array<() => Promise<unknown> | unknown> = [];

  add(step: () => Promise<unknown> | unknown): void {
    this.steps.push(step);
  }

  /** A daemon of `world` with the fast flags, the fast retry cap and `env`; SIGKILLed (and awaited) at teardown. */
  daemon(world: DaemonWorld, env: Record<string, string | undefined> = {}, args: readonly string[] = FAST_ARGS): DaemonProcess {
    const daemon = startDaemon(args, world.env({ ...FAST_RETRY_ENV, ...env }));
    this.add(async () => {
      daemon.kill('SIGKILL');
      await daemon.exited;
      // dynalite throws "Database is closed" from a request still being processed when it closes
      await settle(100);
    });
    return daemon;
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await Promise.resolve().then(step).catch(() => undefined);
  }
}

/** Creates a deployment of `application` and moves it to InProgress; finish it with `finish`. */
export function startDeployment(world: DaemonWorld, application: string, group = 'production'): string {
  const { model } = world.codeDeploy;
  const { deploymentId } = model.createDeployment({ application, group });
  model.setStatus(deploymentId, 'InProgress');
  return deploymentId;
}

/** Ends a running deployment with `status` (Failed carries an error, as CodeDeploy's do). */
export function finish(world: DaemonWorld, deploymentId: string, status: Extract<SimStatus, 'Succeeded' | 'Failed' | 'Stopped'>): void {
  world.codeDeploy.model.setStatus(deploymentId, status, status === 'Failed' ? { error: { code: 'HEALTH_CONSTRAINTS', message: 'too many instances failed' } } : {});
}

/** A deployment run to `status` at once. */
export function deploy(world: DaemonWorld, application: string, status: 'Succeeded' | 'Failed' | 'Stopped' = 'Succeeded', group = 'production'): string {
  const id = startDeployment(world, application, group);
  finish(world, id, status);
  return id;
}

/** The ledger of `world`, read with the test's own client. */
export function ledgerOf(world: DaemonWorld): DynamoLedger {
  return new DynamoLedger({ doc: world.clients.doc, table: world.names.ledger });
}

/** Waits until registration `name` is in the live table (and passes `check`) and returns it. */
export async function liveRegistration(world: DaemonWorld, name: string, check: (item: LiveItem) => boolean = () => true, timeoutMs = 15_000): Promise<LiveItem> {
  const store = new DynamoRegistrationStore(world.clients.doc, world.names.registrations);
  return eventually(async () => (await store.scan()).find((item) => item.name === name && check(item)), timeoutMs, `registration ${name} live`);
}

/** Waits until the ledger entry `id` satisfies `check` and returns it. */
export async function ledgerEntry(world: DaemonWorld, id: string, check: (entry: LedgerEntry) => boolean, timeoutMs = 20_000, what = `ledger entry ${id}`): Promise<LedgerEntry> {
  const ledger = ledgerOf(world);
  return eventually(async () => {
    const entry = await ledger.get(id);
    return entry && check(entry) ? entry : undefined;
  }, timeoutMs, what);
}

/** One sample of the Prometheus text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads and parses /metrics of a daemon. */
export async function scrape(port: number): Promise<Sample[]> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of every series of `name` whose labels include `labels` (0 when there is none). */
export function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** `valueOf` on a fresh scrape. */
export async function metric(port: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  return valueOf(await scrape(port), name, labels);
}

/** /readyz of a daemon: its status code and JSON body. */
export async function readiness(port: number): Promise<{ status: number; body: { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: (await response.json()) as { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } };
}

/** One answer a receiver gave, with when the request arrived (epoch ms). */
export interface Answer {
  at: number;
  status: number;
  request: RecordedRequest;
}

/**
 * Scripts `recorder` with `decide` (per request) and logs every answer with its arrival time, so
 * tests can count the 2xx answers per notification and measure the spacing of retries.
 */
export function answering(recorder: HttpRecorder, decide: (request: RecordedRequest) => ScriptedResponse): Answer[] {
  const answers: Answer[] = [];
  recorder.setDefault((request) => {
    const answer = decide(request);
    answers.push({ at: Date.now(), status: answer.status ?? 200, request });
    return answer;
  });
  return answers;
}

/** The requests whose body mentions deployment `id` (Slack messages carry it in text). */
export function about(requests: readonly RecordedRequest[], id: string): RecordedRequest[] {
  return requests.filter((r) => r.body.includes(id));
}

/** Answers with a 2xx status among `answers` for requests matching `match`. */
export function delivered(answers: readonly Answer[], match: (request: RecordedRequest) => boolean): Answer[] {
  return answers.filter((a) => a.status >= 200 && a.status < 300 && match(a.request));
}

/** Lets the daemon run `ms` longer (several polls and dispatch rounds) before checking nothing more arrived. */
export function settle(ms = 1_500): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Asserts the daemon is still running (it must survive every fault). */
export function expectAlive(daemon: DaemonProcess): void {
  expect(daemon.child.exitCode, `daemon exited; stderr: ${daemon.stderr().slice(-1000)}`).toBeNull();
  expect(daemon.child.signalCode).toBeNull();
}

/** A webhook receiver that holds requests open without answering while `hanging` is true. */
export interface HangingReceiver {
  url: string;
  /** Every request, with its arrival time and whether it was held. */
  requests: Array<{ at: number; held: boolean; headers: Record<string, string | string[] | undefined>; body: string }>;
  hanging: boolean;
  /** Requests answered 200 (received while not hanging). */
  answered(): number;
  close(): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1 that, while `hanging`, reads each request and never answers it
 * (the sender's timeout must end the attempt); otherwise it answers 200 at once. Held requests are
 * dropped when the server closes.
 */
export async function startHangingReceiver(): Promise<HangingReceiver> {
  const receiver: HangingReceiver = {
    url: '',
    requests: [],
    hanging: true,
    answered: () => receiver.requests.filter((r) => !r.held).length,
    close: async () => undefined,
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const held = receiver.hanging;
      receiver.requests.push({ at: Date.now(), held, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (!held) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      // a held request is never answered: the sender's timeout ends it, or close() drops it
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** One channel of a registration file, as YAML lines under `channels:`. */
export type ChannelYaml = string;

/** A Slack channel whose webhook URL is in `variable`. */
export function slackChannel(name: string, variable: string, events?: string): ChannelYaml {
  return `    - name: ${name}
      type: slack
      webhookUrl: { fromEnv: ${variable} }
${events ? `      events: ${events}\n` : ''}`;
}

/** A webhook channel whose URL is in `variable`, optionally signed with the secret in `secretVariable`. */
export function webhookChannel(name: string, variable: string, secretVariable?: string): ChannelYaml {
  return `    - name: ${name}
      type: webhook
      url: { fromEnv: ${variable} }
${secretVariable ? `      secret: { fromEnv: ${secretVariable} }\n` : ''}`;
}

/** A registration file of `application` with `channels`. */
export function registrationYaml(name: string, application: string, channels: readonly ChannelYaml[], events = '[Succeeded, Failed]'): string {
  return `apiVersion: codedeploy-notify/v1
kind: Registration
metadata:
  name: ${name}
spec:
  application: ${application}
  events: ${events}
  channels:
${channels.join('')}`;
}
