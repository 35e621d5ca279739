// Golden files: the exact request every channel sends for every sample event, and its terminal
// preview, under test/golden/<channel>/<event>.<ext>. Requests go through the real channel to a
// local fake and are captured there, then normalised where a value changes per run (the webhook
// timestamp and signature, the User-Agent version). Any difference fails the test.
//
// After an intended change to a message, rewrite the files and review the diff:
//   UPDATE_GOLDEN=1 npx vitest run test/channels/golden.test.ts
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelConfigOf, ChannelType } from '../../src/channels/channel.js';
import { createAwsClients, type DisposableAwsClients } from '../../src/channels/aws-clients.js';
import { CHANNEL_TYPES, createChannel, previewChannel } from '../../src/channels/registry.js';
import { NAMED_EVENTS, sampleNotification } from '../fixtures/events.js';
import { startHttpRecorder, type HttpRecorder, type RecordedRequest } from '../fakes/http-recorder.js';
import { startNerdGraphFake, type NerdGraphFake } from '../fakes/newrelic.js';
import { startSesFake, type SesFake } from '../fakes/ses.js';
import { startSnsFake, type SnsFake } from '../fakes/sns.js';
import { liveSignal, testContext } from './helpers.js';

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

let chat: HttpRecorder;
let nerdGraph: NerdGraphFake;
let sns: SnsFake;
let ses: SesFake;
let aws: DisposableAwsClients;

beforeAll(async () => {
  [chat, nerdGraph, sns, ses] = await Promise.all([startHttpRecorder(), startNerdGraphFake(), startSnsFake(), startSesFake()]);
  process.env.AWS_ENDPOINT_URL_SNS = sns.url;
  process.env.AWS_ENDPOINT_URL_SES = ses.url;
  aws = createAwsClients({ maxAttempts: 1 });
});
afterAll(async () => {
  aws.destroy();
  delete process.env.AWS_ENDPOINT_URL_SNS;
  delete process.env.AWS_ENDPOINT_URL_SES;
  await Promise.all([chat.close(), nerdGraph.close(), sns.close(), ses.close()]);
});

const ENV = {
  GOLDEN_SLACK_URL: '',
  GOLDEN_TEAMS_URL: '',
  GOLDEN_HOOK_SECRET: 'golden-signing-secret',
  GOLDEN_HOOK_TOKEN: 'Bearer golden-token',
  GOLDEN_NR_KEY: 'NRAK-GOLDENKEY',
};

/** The configs the goldens are rendered with, one per type. */
function configs(): { [T in ChannelType]: ChannelConfigOf<T> } {
  return {
    slack: { name: 'team-slack', type: 'slack', webhookUrl: { fromEnv: 'GOLDEN_SLACK_URL' } },
    teams: { name: 'ops-teams', type: 'teams', webhookUrl: { fromEnv: 'GOLDEN_TEAMS_URL' } },
    webhook: {
      name: 'automation',
      type: 'webhook',
      url: `${chat.url}/hooks/codedeploy`,
      secret: { fromEnv: 'GOLDEN_HOOK_SECRET' },
      headers: { Authorization: { fromEnv: 'GOLDEN_HOOK_TOKEN' }, 'X-Team': 'checkout' },
    },
    sns: { name: 'automation-sns', type: 'sns', topicArn: 'arn:aws:sns:us-east-1:123456789012:deploys.fifo' },
    email: { name: 'owners', type: 'email', from: 'deploys@example.com', to: ['team-checkout@example.com'], cc: ['release-managers@example.com'], configurationSet: 'deploy-notifications' },
    newrelic: { name: 'apm', type: 'newrelic', entityGuid: 'MXxBUE18QVBQTElDQVRJT058MTIzNDU2', apiKey: { fromEnv: 'GOLDEN_NR_KEY' }, endpoint: nerdGraph.url },
  };
}

/** Headers worth pinning; values that change per run are replaced by placeholders. */
function pinnedHeaders(request: RecordedRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers).sort(([a], [b]) => a.localeCompare(b))) {
    if (name === 'x-codedeploy-notify-timestamp') out[name] = '<unix seconds>';
    else if (name === 'x-codedeploy-notify-signature') out[name] = value.replace(/^sha256=[0-9a-f]{64}$/, 'sha256=<hmac>');
    else if (name === 'user-agent') out[name] = value.replace(/^codedeploy-notify\/\S+$/, 'codedeploy-notify/<version>');
    else if (['content-type', 'authorization', 'api-key', 'accept', 'x-team'].includes(name) || name.startsWith('x-codedeploy-notify-')) out[name] = value;
  }
  return out;
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The files one channel × event produces: the request (and the HTML part for email) and the preview. */
async function render(type: ChannelType, eventName: string): Promise<Record<string, string>> {
  const config = configs()[type];
  const event = NAMED_EVENTS[eventName]!;
  const notification = sampleNotification(event, { channelName: config.name });
  const env = { ...ENV, GOLDEN_SLACK_URL: `${chat.url}/services/T0000/B0000/goldentoken`, GOLDEN_TEAMS_URL: `${chat.url}/workflows/golden/triggers/manual/paths/invoke?sig=golden` };
  for (const fake of [chat, nerdGraph.recorder, sns.recorder, ses.recorder]) fake.reset();
  const result = await createChannel(config, testContext({ env, aws })).send(notification, liveSignal());
  expect(result.outcome, JSON.stringify(result)).toBe('sent');
  const files: Record<string, string> = { [`${eventName}.preview.txt`]: `${previewChannel(config, notification)}\n` };
  if (type === 'sns') {
    const form = sns.recorder.requests[0]!.form();
    files[`${eventName}.json`] = json({ ...sortedForm(form), Message: JSON.parse(form.Message ?? 'null') as unknown });
  } else if (type === 'email') {
    const form = ses.recorder.requests[0]!.form();
    const { 'Message.Body.Html.Data': html, ...rest } = form;
    files[`${eventName}.json`] = json(sortedForm(rest));
    files[`${eventName}.html`] = html ?? '';
  } else {
    const request = (type === 'newrelic' ? nerdGraph.recorder : chat).requests[0]!;
    files[`${eventName}.json`] = json({ method: request.method, path: request.path.replace(/\/\/+/g, '/'), headers: pinnedHeaders(request), body: request.json() });
  }
  // Fakes listen on a random port.
  for (const name of Object.keys(files)) files[name] = files[name]!.replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>');
  return files;
}

function sortedForm(form: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(form).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })));
}

describe.each(CHANNEL_TYPES)('golden files: %s', (type) => {
  it.each(Object.keys(NAMED_EVENTS))('%s', async (eventName) => {
    const files = await render(type, eventName);
    for (const [name, content] of Object.entries(files)) {
      const path = join(GOLDEN_DIR, type, name);
      if (UPDATE) {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, content);
        continue;
      }
      let expected: string;
      try {
        expected = readFileSync(path, 'utf8');
      } catch {
        throw new Error(`missing golden file test/golden/${type}/${name}: run UPDATE_GOLDEN=1 npx vitest run test/channels/golden.test.ts and review it`);
      }
      expect(content, `test/golden/${type}/${name} differs (UPDATE_GOLDEN=1 rewrites it)`).toBe(expected);
    }
  });
});
