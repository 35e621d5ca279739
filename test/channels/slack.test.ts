import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSlackChannel, previewSlack, renderSlack, slackEscape, type SlackPayload } from '../../src/channels/slack.js';
import type { ChannelConfigOf } from '../../src/channels/channel.js';
import { FAILED_EVENT, SUCCEEDED_EVENT, sampleNotification } from '../fixtures/events.js';
import { refusedUrl, startHttpRecorder, type HttpRecorder } from '../fakes/http-recorder.js';
import { abortedSignal, liveSignal, testContext } from './helpers.js';

const TOKEN = 'xoxb-SECRET-T0KEN-9f8e7d';
const config: ChannelConfigOf<'slack'> = { name: 'team-slack', type: 'slack', webhookUrl: { fromEnv: 'SLACK_WEBHOOK_TEST' } };

let fake: HttpRecorder;
let hookUrl: string;
beforeAll(async () => {
  fake = await startHttpRecorder();
  hookUrl = `${fake.url}/services/T000/B000/${TOKEN}`;
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const channel = (env: Record<string, string> = { SLACK_WEBHOOK_TEST: hookUrl }, sendTimeoutMs?: number) =>
  createSlackChannel(config, testContext({ env, ...(sendTimeoutMs ? { sendTimeoutMs } : {}) }));

describe('slack channel', () => {
  it('posts a Block Kit message with colour, fields, error block, console button and a plain fallback', async () => {
    const n = sampleNotification(FAILED_EVENT, { channelName: 'team-slack' });
    const result = await channel().send(n, liveSignal());
    expect(result).toEqual({ outcome: 'sent' });
    const [req] = fake.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe(`/services/T000/B000/${TOKEN}`);
    expect(req?.headers['content-type']).toMatch(/^application\/json/);
    expect(req?.headers['user-agent']).toMatch(/^codedeploy-notify\//);
    const body = req!.json<SlackPayload>();
    expect(body.text).toBe('❌ checkout-service deployment to production failed');
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '❌ checkout-service deployment to production failed', emoji: true } });
    const attachment = body.attachments[0]!;
    expect(attachment.color).toBe('#E01E5A');
    const text = JSON.stringify(attachment.blocks);
    for (const label of ['Application', 'Deployment group', 'Creator', 'Revision', 'Duration']) expect(text).toContain(`*${label}*`);
    expect(text).toContain('7m 42s');
    expect(text).toContain(':warning: *HEALTH_CONSTRAINTS*');
    expect(attachment.blocks).toContainEqual(expect.objectContaining({
      type: 'actions',
      elements: [expect.objectContaining({ type: 'button', url: FAILED_EVENT.consoleUrl })],
    }));
  });

  it('escapes mrkdwn in values so a description cannot inject links or mentions', () => {
    const body = renderSlack(config, sampleNotification(FAILED_EVENT));
    const section = JSON.stringify(body.blocks[1]);
    expect(section).toContain('&lt;canary&gt; &amp; \\"hotfix\\"');
    expect(section).not.toContain('<canary>');
    expect(slackEscape('<!channel> & <http://x|y>')).toBe('&lt;!channel&gt; &amp; &lt;http://x|y&gt;');
  });

  it('uses a green bar and no error block for a success', () => {
    const body = renderSlack(config, sampleNotification(SUCCEEDED_EVENT));
    expect(body.attachments[0]?.color).toBe('#2EB67D');
    expect(JSON.stringify(body)).not.toContain(':warning:');
  });

  it.each([
    [400, 'invalid_payload', 'bug in codedeploy-notify'],
    [400, 'no_text', 'bug in codedeploy-notify'],
    [403, 'invalid_token', 'SLACK_WEBHOOK_TEST'],
    [403, 'action_prohibited', 'SLACK_WEBHOOK_TEST'],
    [404, 'channel_not_found', 'SLACK_WEBHOOK_TEST'],
    [404, 'no_service', 'SLACK_WEBHOOK_TEST'],
    [410, 'channel_is_archived', 'unarchive'],
  ])('fails permanently on %i %s with a fix, never the URL', async (status, code, fix) => {
    fake.respondWith({ status, body: code });
    const result = await channel().send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(result.outcome).toBe('failed');
    const reason = (result as { reason: string }).reason;
    expect(reason).toContain(`answered ${status}: ${code}`);
    expect(reason).toContain(fix);
    expect(reason).toContain('http://127.0.0.1:');
    expect(reason).not.toContain(TOKEN);
    expect(reason).not.toContain('/services/');
  });

  it('retries a 429 after the Retry-After seconds', async () => {
    fake.respondWith({ status: 429, headers: { 'retry-after': '3' }, body: 'rate_limited' });
    expect(await channel().send(sampleNotification(FAILED_EVENT), liveSignal())).toEqual({
      outcome: 'retry',
      retryAfterMs: 3000,
      reason: expect.stringContaining('answered 429: rate_limited') as string,
    });
  });

  it('retries a 5xx and a refused connection', async () => {
    fake.respondWith({ status: 500, body: 'rollup_error' });
    expect((await channel().send(sampleNotification(FAILED_EVENT), liveSignal())).outcome).toBe('retry');
    const refused = `${await refusedUrl()}/services/T/B/${TOKEN}`;
    const result = await channel({ SLACK_WEBHOOK_TEST: refused }).send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(result.outcome).toBe('retry');
    expect((result as { reason: string }).reason).toContain('ECONNREFUSED');
    expect((result as { reason: string }).reason).not.toContain(TOKEN);
  });

  it('retries when Slack does not answer within the send timeout', async () => {
    fake.respondWith({ status: 200, body: 'ok', delayMs: 1_500 });
    const result = await channel(undefined, 100).send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(result.outcome).toBe('retry');
    expect((result as { reason: string }).reason).toContain('no response within 100 ms');
  });

  it('fails naming the variable when the webhook secret is missing or not a URL, without sending', async () => {
    const missing = await channel({}).send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(missing).toEqual({ outcome: 'failed', reason: expect.stringContaining('SLACK_WEBHOOK_TEST is not set') as string });
    const garbage = await channel({ SLACK_WEBHOOK_TEST: 'not-a-url-but-secret' }).send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(garbage.outcome).toBe('failed');
    expect((garbage as { reason: string }).reason).toContain('SLACK_WEBHOOK_TEST does not hold an http(s) URL');
    expect((garbage as { reason: string }).reason).not.toContain('not-a-url-but-secret');
    expect(fake.requests).toHaveLength(0);
  });

  it('does not send when the signal is already aborted', async () => {
    expect((await channel().send(sampleNotification(FAILED_EVENT), abortedSignal())).outcome).toBe('retry');
    expect(fake.requests).toHaveLength(0);
  });

  it('applies template overrides and labels test messages', () => {
    const custom = { ...config, template: { title: 'Deploy {{event}}: {{application}}/{{labels.tier}}', text: 'By {{creator}} <{{owner}}>' } };
    const body = renderSlack(custom, sampleNotification(SUCCEEDED_EVENT, { test: true }));
    expect(body.text).toBe('[TEST] Deploy Succeeded: checkout-service/critical');
    expect(JSON.stringify(body.blocks[1])).toContain('By user <team-checkout>');
    expect(JSON.stringify(body.attachments[0]?.blocks)).toContain('Test message');
  });

  it('rejects unknown template variables when the channel is built', () => {
    expect(() => createSlackChannel({ ...config, template: { title: '{{aplication}}' } }, testContext())).toThrow(
      expect.objectContaining({ code: 'invalid-channel', message: expect.stringContaining('did you mean {{application}}') as string }),
    );
  });

  it('previews the message for a terminal', () => {
    const text = previewSlack(config, sampleNotification(FAILED_EVENT, { channelName: 'team-slack' }));
    expect(text.split('\n')[0]).toBe('── slack · team-slack ──');
    expect(text).toContain('❌ checkout-service deployment to production failed');
    expect(text).toContain(`→ View in AWS console: ${FAILED_EVENT.consoleUrl}`);
  });
});
