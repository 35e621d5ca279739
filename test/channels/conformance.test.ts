// Conformance: every channel in the registry goes through the same contract, against a local fake
// speaking its real protocol. A type added to the schema and the registry needs a harness here
// (HARNESSES is keyed by ChannelType, so a missing one does not compile).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelConfigOf, ChannelType, DeliveryResult } from '../../src/channels/channel.js';
import { createAwsClients, type DisposableAwsClients } from '../../src/channels/aws-clients.js';
import { CHANNEL_TYPES, CHANNELS, channelSecretRefs, createChannel, previewChannel } from '../../src/channels/registry.js';
import { FAILED_EVENT, SUCCEEDED_EVENT, sampleNotification } from '../fixtures/events.js';
import { refusedUrl, startHttpRecorder, type HttpRecorder, type ScriptedResponse } from '../fakes/http-recorder.js';
import { NERDGRAPH_ANSWERS, startNerdGraphFake, type NerdGraphFake } from '../fakes/newrelic.js';
import { awsQueryError, startSnsFake, SNS_ERRORS, type SnsFake } from '../fakes/sns.js';
import { SES_ERRORS, startSesFake, type SesFake } from '../fakes/ses.js';
import { abortedSignal, liveSignal, testContext } from './helpers.js';

const SLACK_TOKEN = 'T0KEN-slack-b7c1d2e3f4';
const TEAMS_SIG = 'sig=teamsSECRETsignature99';
const HOOK_PATH_TOKEN = 'hookPATHtoken-5566';
const HOOK_SECRET = 'whsec-conformance-secret';
const HOOK_BEARER = 'Bearer conformance-bearer-7788';
const NR_KEY = 'NRAK-CONFORMANCEKEY000000000000';

/** How the conformance test drives one channel type. */
interface Harness<T extends ChannelType> {
  config(): ChannelConfigOf<T>;
  env(): Record<string, string>;
  /** Secret values that must never appear in a reason. */
  secrets: string[];
  /** Queues answers on the fake for the next request. */
  queue(...answers: ScriptedResponse[]): void;
  unavailable(): ScriptedResponse;
  /** A rate-limit answer, and the retryAfterMs it must produce (undefined: the provider has no Retry-After). */
  rateLimited(): { answer: ScriptedResponse; retryAfterMs: number | undefined };
  /** A documented permanent error; its body echoes secrets where the protocol allows, to prove scrubbing. */
  permanent(): ScriptedResponse;
  /** The config and env of the same channel pointed at a port where nothing listens. */
  unreachable(): Promise<{ config: ChannelConfigOf<T>; env: Record<string, string>; aws?: DisposableAwsClients; restore?: () => void }>;
  /** Every request's payload as text (JSON bodies, or decoded awsQuery form values). */
  payloads(): string[];
  reset(): void;
}

let chat: HttpRecorder;
let nerdGraph: NerdGraphFake;
let sns: SnsFake;
let ses: SesFake;
let aws: DisposableAwsClients;
const extraClients: DisposableAwsClients[] = [];

beforeAll(async () => {
  [chat, nerdGraph, sns, ses] = await Promise.all([startHttpRecorder(), startNerdGraphFake(), startSnsFake(), startSesFake()]);
  process.env.AWS_ENDPOINT_URL_SNS = sns.url;
  process.env.AWS_ENDPOINT_URL_SES = ses.url;
  aws = createAwsClients({ maxAttempts: 1, requestTimeoutMs: 2_000 });
});
afterAll(async () => {
  aws.destroy();
  for (const client of extraClients) client.destroy();
  delete process.env.AWS_ENDPOINT_URL_SNS;
  delete process.env.AWS_ENDPOINT_URL_SES;
  await Promise.all([chat.close(), nerdGraph.close(), sns.close(), ses.close()]);
});

const bodies = (r: HttpRecorder): string[] => r.requests.map((q) => q.body);
const forms = (r: HttpRecorder): string[] => r.requests.map((q) => Object.values(q.form()).join('\n'));

/**
 * AWS clients whose endpoint is a refused port. The SDK reads AWS_ENDPOINT_URL_* on a client's
 * first request, so the variable stays pointed at the refused port until `restore` is called
 * after that request.
 */
async function unreachableAws(variable: 'AWS_ENDPOINT_URL_SNS' | 'AWS_ENDPOINT_URL_SES'): Promise<{ aws: DisposableAwsClients; restore: () => void }> {
  const saved = process.env[variable];
  process.env[variable] = await refusedUrl();
  const clients = createAwsClients({ maxAttempts: 1, requestTimeoutMs: 2_000 });
  extraClients.push(clients);
  return { aws: clients, restore: () => void (process.env[variable] = saved) };
}

const HARNESSES: { [T in ChannelType]: Harness<T> } = {
  slack: {
    config: () => ({ name: 'team-slack', type: 'slack', webhookUrl: { fromEnv: 'CONF_SLACK_URL' } }),
    env: () => ({ CONF_SLACK_URL: `${chat.url}/services/T0/B0/${SLACK_TOKEN}` }),
    secrets: [SLACK_TOKEN],
    queue: (...a) => chat.respondWith(...a),
    unavailable: () => ({ status: 503, body: 'service_unavailable' }),
    rateLimited: () => ({ answer: { status: 429, headers: { 'retry-after': '7' }, body: 'rate_limited' }, retryAfterMs: 7_000 }),
    permanent: () => ({ status: 404, body: 'channel_not_found' }),
    unreachable: async () => ({ config: HARNESSES.slack.config(), env: { CONF_SLACK_URL: `${await refusedUrl()}/services/T0/B0/${SLACK_TOKEN}` } }),
    payloads: () => bodies(chat),
    reset: () => chat.reset(),
  },
  teams: {
    config: () => ({ name: 'ops-teams', type: 'teams', webhookUrl: { fromEnv: 'CONF_TEAMS_URL' } }),
    env: () => ({ CONF_TEAMS_URL: `${chat.url}/workflows/x/triggers/manual/paths/invoke?api-version=1&${TEAMS_SIG}` }),
    secrets: [TEAMS_SIG],
    queue: (...a) => chat.respondWith(...a),
    unavailable: () => ({ status: 503, body: '' }),
    rateLimited: () => ({ answer: { status: 429, headers: { 'retry-after': '7' }, body: '' }, retryAfterMs: 7_000 }),
    permanent: () => ({ status: 404, body: { error: { code: 'WorkflowTriggerNotFound', message: `no trigger for ${TEAMS_SIG}` } } }),
    unreachable: async () => ({ config: HARNESSES.teams.config(), env: { CONF_TEAMS_URL: `${await refusedUrl()}/workflows/x?${TEAMS_SIG}` } }),
    payloads: () => bodies(chat),
    reset: () => chat.reset(),
  },
  webhook: {
    config: () => ({
      name: 'automation',
      type: 'webhook',
      url: { fromEnv: 'CONF_HOOK_URL' },
      secret: { fromEnv: 'CONF_HOOK_SECRET' },
      headers: { Authorization: { fromEnv: 'CONF_HOOK_BEARER' }, 'X-Team': 'checkout' },
    }),
    env: () => ({ CONF_HOOK_URL: `${chat.url}/in/${HOOK_PATH_TOKEN}`, CONF_HOOK_SECRET: HOOK_SECRET, CONF_HOOK_BEARER: HOOK_BEARER }),
    secrets: [HOOK_PATH_TOKEN, HOOK_SECRET, HOOK_BEARER],
    queue: (...a) => chat.respondWith(...a),
    unavailable: () => ({ status: 503, body: 'down for maintenance' }),
    rateLimited: () => ({ answer: { status: 429, headers: { 'retry-after': '7' }, body: 'slow down' }, retryAfterMs: 7_000 }),
    permanent: () => ({ status: 400, body: `rejected ${HOOK_BEARER} with ${HOOK_SECRET} at /in/${HOOK_PATH_TOKEN}` }),
    unreachable: async () => ({
      config: HARNESSES.webhook.config(),
      env: { ...HARNESSES.webhook.env(), CONF_HOOK_URL: `${await refusedUrl()}/in/${HOOK_PATH_TOKEN}` },
    }),
    payloads: () => bodies(chat),
    reset: () => chat.reset(),
  },
  sns: {
    config: () => ({ name: 'automation-sns', type: 'sns', topicArn: 'arn:aws:sns:us-east-1:123456789012:deploys' }),
    env: () => ({}),
    secrets: [],
    queue: (...a) => sns.failWith(...a),
    unavailable: () => awsQueryError('ServiceUnavailable', 503, 'Service Unavailable'),
    rateLimited: () => ({ answer: SNS_ERRORS.throttled(), retryAfterMs: undefined }),
    permanent: () => SNS_ERRORS.notFound(),
    unreachable: async () => ({ config: HARNESSES.sns.config(), env: {}, ...(await unreachableAws('AWS_ENDPOINT_URL_SNS')) }),
    payloads: () => forms(sns.recorder),
    reset: () => sns.recorder.reset(),
  },
  email: {
    config: () => ({ name: 'owners', type: 'email', from: 'deploys@example.com', to: ['team@example.com'] }),
    env: () => ({}),
    secrets: [],
    queue: (...a) => ses.failWith(...a),
    unavailable: () => SES_ERRORS.serviceUnavailable(),
    rateLimited: () => ({ answer: SES_ERRORS.throttling(), retryAfterMs: undefined }),
    permanent: () => SES_ERRORS.messageRejected(),
    unreachable: async () => ({ config: HARNESSES.email.config(), env: {}, ...(await unreachableAws('AWS_ENDPOINT_URL_SES')) }),
    payloads: () => forms(ses.recorder),
    reset: () => ses.recorder.reset(),
  },
  newrelic: {
    config: () => ({ name: 'apm', type: 'newrelic', entityGuid: 'MXxBUE18QVBQTElDQVRJT058MTIzNDU2', apiKey: { fromEnv: 'CONF_NR_KEY' }, endpoint: nerdGraph.url }),
    env: () => ({ CONF_NR_KEY: NR_KEY }),
    secrets: [NR_KEY],
    queue: (...a) => nerdGraph.respondWith(...a),
    unavailable: () => ({ status: 503, body: 'unavailable' }),
    rateLimited: () => ({ answer: { status: 429, headers: { 'retry-after': '7' }, body: '' }, retryAfterMs: 7_000 }),
    permanent: () => NERDGRAPH_ANSWERS.badInput(),
    unreachable: async () => ({ config: { ...HARNESSES.newrelic.config(), endpoint: `${await refusedUrl()}/graphql` }, env: { CONF_NR_KEY: NR_KEY } }),
    payloads: () => bodies(nerdGraph.recorder),
    reset: () => nerdGraph.recorder.reset(),
  },
};

function reasonOf(result: DeliveryResult): string {
  return result.outcome === 'sent' ? '' : result.reason;
}

describe.each(CHANNEL_TYPES)('channel contract: %s', (type) => {
  // Widened: each case below only uses what every harness has.
  const h = HARNESSES[type] as unknown as Harness<ChannelType>;
  const reasons: string[] = [];
  const send = async (options: { test?: boolean; signal?: AbortSignal; env?: Record<string, string>; config?: ChannelConfigOf<ChannelType>; aws?: DisposableAwsClients } = {}) => {
    const channel = createChannel(options.config ?? h.config(), testContext({ env: options.env ?? h.env(), aws: options.aws ?? aws }));
    const result = await channel.send(sampleNotification(options.test ? SUCCEEDED_EVENT : FAILED_EVENT, { test: options.test ?? false }), options.signal ?? liveSignal());
    reasons.push(reasonOf(result));
    return result;
  };

  it('is registered under its own type', () => {
    expect(CHANNELS[type].type).toBe(type);
  });

  it('reports sent when the provider accepts the message', async () => {
    h.reset();
    expect((await send()).outcome).toBe('sent');
    expect(h.payloads()).toHaveLength(1);
  });

  it('retries when the provider is unavailable (503)', async () => {
    h.reset();
    h.queue(h.unavailable());
    expect((await send()).outcome).toBe('retry');
  });

  it('retries on a network error', async () => {
    const target = await h.unreachable();
    const result = await send(target);
    target.restore?.();
    expect(result.outcome).toBe('retry');
    expect(reasonOf(result)).toMatch(/ECONNREFUSED/);
  });

  it('retries when rate limited, with retryAfterMs where the provider sends Retry-After', async () => {
    h.reset();
    const { answer, retryAfterMs } = h.rateLimited();
    h.queue(answer);
    const result = await send();
    expect(result.outcome).toBe('retry');
    expect(result.outcome === 'retry' ? result.retryAfterMs : 'n/a').toBe(retryAfterMs);
  });

  it('fails permanently on a documented permanent error', async () => {
    h.reset();
    h.queue(h.permanent());
    const result = await send();
    expect(result.outcome).toBe('failed');
    expect(reasonOf(result).length).toBeGreaterThan(20);
  });

  it('fails naming the variable, without sending, when any secret is missing', async () => {
    h.reset();
    const refs = channelSecretRefs(h.config());
    expect(refs.length > 0).toBe(h.secrets.length > 0);
    for (const ref of refs) {
      const env = { ...h.env() };
      delete env[ref.fromEnv];
      const result = await send({ env });
      expect(result.outcome).toBe('failed');
      expect(reasonOf(result)).toContain(ref.fromEnv);
    }
    expect(h.payloads()).toHaveLength(0);
  });

  it('labels test messages clearly', async () => {
    h.reset();
    expect((await send({ test: true })).outcome).toBe('sent');
    expect(h.payloads()[0]).toContain('[TEST]');
    const preview = previewChannel(h.config(), sampleNotification(SUCCEEDED_EVENT, { test: true }));
    expect(preview).toContain('[TEST]');
  });

  it('sends nothing when the signal is already aborted, and asks for a retry', async () => {
    h.reset();
    expect((await send({ signal: abortedSignal() })).outcome).toBe('retry');
    expect(h.payloads()).toHaveLength(0);
  });

  it('previews purely, with the title and the console link', () => {
    const text = previewChannel(h.config(), sampleNotification(FAILED_EVENT));
    expect(text).toContain('checkout-service');
    expect(text).toContain(FAILED_EVENT.consoleUrl);
  });

  it('rejects unknown template variables when built', () => {
    expect(() => createChannel({ ...h.config(), template: { text: '{{nope}}' } }, testContext({ aws }))).toThrow(expect.objectContaining({ code: 'invalid-channel' }));
  });

  it('never puts a secret value in a reason', () => {
    expect(reasons.length).toBeGreaterThan(5);
    for (const reason of reasons) {
      for (const secret of h.secrets) expect(reason).not.toContain(secret);
    }
  });
});

describe('registry', () => {
  it('rejects a type it does not know', () => {
    expect(() => createChannel({ name: 'x', type: 'hipchat' } as never, testContext({ aws }))).toThrow(/unknown channel type "hipchat"/);
  });
});
