import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelConfigOf } from '../../src/channels/channel.js';
import { createWebhookChannel, previewWebhook, webhookBody, type WebhookBodyV1 } from '../../src/channels/webhook.js';
import { FAILED_EVENT, SUCCEEDED_EVENT, sampleNotification } from '../fixtures/events.js';
import { startHttpRecorder, type HttpRecorder } from '../fakes/http-recorder.js';
import { abortedSignal, liveSignal, testContext } from './helpers.js';

const SIGNING_SECRET = 'whsec_5up3r-s3cr3t-v4lue';
const API_TOKEN = 'tok_live_abcdef0123456789';

let fake: HttpRecorder;
beforeAll(async () => {
  fake = await startHttpRecorder({ default: { status: 204 } });
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const base = (): ChannelConfigOf<'webhook'> => ({ name: 'automation', type: 'webhook', url: `${fake.url}/hooks/deploys` });
const env = { HOOK_SECRET: SIGNING_SECRET, HOOK_TOKEN: API_TOKEN };

/** How a receiver verifies a delivery (the recipe of docs/webhook.md). */
function verify(secret: string, headers: Record<string, string>, rawBody: string, nowSeconds: number): boolean {
  const timestamp = headers['x-codedeploy-notify-timestamp'] ?? '';
  if (Math.abs(nowSeconds - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`);
  const given = Buffer.from(headers['x-codedeploy-notify-signature'] ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('webhook channel', () => {
  it('posts the versioned body with event, delivery, attempt and timestamp headers', async () => {
    const n = sampleNotification(FAILED_EVENT, { channelName: 'automation', attempt: 3 });
    expect(await createWebhookChannel(base(), testContext()).send(n, liveSignal())).toEqual({ outcome: 'sent' });
    const [req] = fake.requests;
    expect(req?.path).toBe('/hooks/deploys');
    expect(req?.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'x-codedeploy-notify-event': 'Failed',
      'x-codedeploy-notify-delivery': n.deliveryId,
      'x-codedeploy-notify-attempt': '3',
    });
    expect(Number(req?.headers['x-codedeploy-notify-timestamp'])).toBeGreaterThan(1_700_000_000);
    expect(req?.headers['x-codedeploy-notify-signature']).toBeUndefined();
    const body = req!.json<WebhookBodyV1>();
    expect(body).toMatchObject({
      schemaVersion: '1',
      deliveryId: n.deliveryId,
      test: false,
      event: 'Failed',
      registration: { name: 'checkout-production', owner: 'team-checkout', labels: { tier: 'critical' } },
      channel: 'automation',
      deployment: {
        id: 'd-9XK3P0QAB',
        revision: { type: 'GitHub', repository: 'acme/checkout-service' },
        error: { code: 'HEALTH_CONSTRAINTS' },
        rollback: { isRollback: false, rolledBackBy: 'd-RB1Z8Y7X6', rollsBack: null },
        durationSeconds: 462,
      },
      message: { title: '❌ checkout-service deployment to production failed' },
    });
    expect(body).toEqual(webhookBody(n, undefined));
  });

  it('signs timestamp + "." + raw body with HMAC-SHA256 when a secret is set', async () => {
    const channel = createWebhookChannel({ ...base(), secret: { fromEnv: 'HOOK_SECRET' } }, testContext({ env }));
    await channel.send(sampleNotification(SUCCEEDED_EVENT), liveSignal());
    const [req] = fake.requests;
    expect(req?.headers['x-codedeploy-notify-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    const now = Math.floor(Date.now() / 1000);
    expect(verify(SIGNING_SECRET, req!.headers, req!.body, now)).toBe(true);
    expect(verify('wrong-secret', req!.headers, req!.body, now)).toBe(false);
    expect(verify(SIGNING_SECRET, req!.headers, req!.body.replace('Succeeded', 'Failed'), now)).toBe(false);
    expect(verify(SIGNING_SECRET, req!.headers, req!.body, now + 3600)).toBe(false);
  });

  it('keeps the delivery id and body across attempts so receivers can drop repeats', async () => {
    const channel = createWebhookChannel(base(), testContext());
    await channel.send(sampleNotification(FAILED_EVENT, { attempt: 1 }), liveSignal());
    await channel.send(sampleNotification(FAILED_EVENT, { attempt: 2 }), liveSignal());
    const [a, b] = fake.requests;
    expect(a?.headers['x-codedeploy-notify-delivery']).toBe(b?.headers['x-codedeploy-notify-delivery']);
    expect(a?.body).toBe(b?.body);
    expect([a?.headers['x-codedeploy-notify-attempt'], b?.headers['x-codedeploy-notify-attempt']]).toEqual(['1', '2']);
  });

  it('sends custom headers, plain and from secrets, and the url from a secret', async () => {
    const config = { ...base(), url: { fromEnv: 'HOOK_URL' }, headers: { 'X-Team': 'checkout', Authorization: { fromEnv: 'HOOK_TOKEN' } } };
    await createWebhookChannel(config, testContext({ env: { ...env, HOOK_URL: `${fake.url}/private/${API_TOKEN}` } })).send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(fake.requests[0]?.path).toBe(`/private/${API_TOKEN}`);
    expect(fake.requests[0]?.headers).toMatchObject({ 'x-team': 'checkout', authorization: API_TOKEN });
  });

  it('fails naming the variable for each missing secret, without sending', async () => {
    const cases: [ChannelConfigOf<'webhook'>, string][] = [
      [{ ...base(), url: { fromEnv: 'HOOK_URL' } }, 'HOOK_URL'],
      [{ ...base(), secret: { fromEnv: 'HOOK_SECRET' } }, 'HOOK_SECRET'],
      [{ ...base(), headers: { Authorization: { fromEnv: 'HOOK_TOKEN' } } }, 'HOOK_TOKEN'],
    ];
    for (const [config, variable] of cases) {
      const result = await createWebhookChannel(config, testContext({ env: {} })).send(sampleNotification(FAILED_EVENT), liveSignal());
      expect(result).toEqual({ outcome: 'failed', reason: expect.stringContaining(`${variable} is not set`) as string });
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects reserved headers and non-http urls when the channel is built', () => {
    expect(() => createWebhookChannel({ ...base(), headers: { 'X-CodeDeploy-Notify-Delivery': 'x' } }, testContext())).toThrow(/set by codedeploy-notify itself/);
    expect(() => createWebhookChannel({ ...base(), headers: { 'content-type': 'text/plain' } }, testContext())).toThrow(
      expect.objectContaining({ code: 'invalid-channel' }),
    );
    expect(() => createWebhookChannel({ ...base(), url: 'ftp://example.com/x' }, testContext())).toThrow(/not an http\(s\) URL/);
  });

  it('classifies answers: 410 and 401 fail with a fix, 503 retries after Retry-After, redirects are not followed', async () => {
    const channel = createWebhookChannel({ ...base(), secret: { fromEnv: 'HOOK_SECRET' } }, testContext({ env }));
    fake.respondWith(
      { status: 410, body: 'gone' },
      { status: 401, body: `bad signature for secret ${SIGNING_SECRET}` },
      { status: 503, headers: { 'retry-after': '120' }, body: 'maintenance' },
      { status: 307, headers: { location: 'http://127.0.0.1:1/elsewhere' } },
    );
    const n = sampleNotification(FAILED_EVENT);
    expect(await channel.send(n, liveSignal())).toEqual({ outcome: 'failed', reason: expect.stringContaining("check the channel's url") as string });
    const unauthorized = await channel.send(n, liveSignal());
    expect(unauthorized).toEqual({ outcome: 'failed', reason: expect.stringContaining('check the signing secret (HOOK_SECRET)') as string });
    expect((unauthorized as { reason: string }).reason).not.toContain(SIGNING_SECRET);
    expect(await channel.send(n, liveSignal())).toMatchObject({ outcome: 'retry', retryAfterMs: 120_000 });
    expect(await channel.send(n, liveSignal())).toEqual({ outcome: 'failed', reason: expect.stringContaining('redirect (not followed') as string });
    expect(fake.requests).toHaveLength(4);
  });

  it('keeps a token in a plain url out of reasons', async () => {
    fake.respondWith({ status: 404, body: 'no route /hooks/deploys/tok-9a8b7c6d5e' });
    const result = await createWebhookChannel({ ...base(), url: `${fake.url}/hooks/deploys/tok-9a8b7c6d5e` }, testContext()).send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(result.outcome).toBe('failed');
    expect((result as { reason: string }).reason).not.toContain('tok-9a8b7c6d5e');
  });

  it('does not send when the signal is already aborted', async () => {
    expect((await createWebhookChannel(base(), testContext()).send(sampleNotification(FAILED_EVENT), abortedSignal())).outcome).toBe('retry');
    expect(fake.requests).toHaveLength(0);
  });

  it('marks test deliveries in the body and the title', () => {
    const body = webhookBody(sampleNotification(FAILED_EVENT, { test: true }), undefined);
    expect(body.test).toBe(true);
    expect(body.message.title).toMatch(/^\[TEST\] /);
  });

  it('previews without revealing a secret url', () => {
    const text = previewWebhook({ ...base(), url: { fromEnv: 'HOOK_URL' }, secret: { fromEnv: 'HOOK_SECRET' } }, sampleNotification(FAILED_EVENT, { channelName: 'automation' }));
    expect(text).toContain('webhook · automation → POST { fromEnv: HOOK_URL }');
    expect(text).toContain('signed (HMAC-SHA256)');
  });
});
