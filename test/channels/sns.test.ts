import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelConfigOf } from '../../src/channels/channel.js';
import { createAwsClients, type DisposableAwsClients } from '../../src/channels/aws-clients.js';
import { createSnsChannel, fifoGroupId, previewSns, renderSns, snsSubject } from '../../src/channels/sns.js';
import type { WebhookBodyV1 } from '../../src/channels/webhook.js';
import { FAILED_EVENT, ROLLBACK_EVENT, SUCCEEDED_EVENT, sampleNotification } from '../fixtures/events.js';
import { SNS_ERRORS, startSnsFake, type SnsFake } from '../fakes/sns.js';
import { abortedSignal, liveSignal, testContext } from './helpers.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:deploys';
const FIFO = 'arn:aws:sns:eu-west-1:123456789012:deploys.fifo';
const config: ChannelConfigOf<'sns'> = { name: 'automation-sns', type: 'sns', topicArn: TOPIC };

let fake: SnsFake;
let aws: DisposableAwsClients;
beforeAll(async () => {
  fake = await startSnsFake();
  process.env.AWS_ENDPOINT_URL_SNS = fake.url;
  aws = createAwsClients({ maxAttempts: 1, requestTimeoutMs: 2_000 });
});
afterAll(async () => {
  aws.destroy();
  delete process.env.AWS_ENDPOINT_URL_SNS;
  await fake.close();
});
beforeEach(() => fake.recorder.reset());

const channel = (c: ChannelConfigOf<'sns'> = config) => createSnsChannel(c, testContext({ aws }));

describe('sns channel', () => {
  it('publishes through the real SDK with an ASCII subject, a json message structure and filter attributes', async () => {
    const n = sampleNotification(FAILED_EVENT);
    expect(await channel().send(n, liveSignal())).toEqual({ outcome: 'sent', messageId: expect.stringMatching(/^m-\d+$/) as string });
    const [p] = fake.publishes();
    expect(p).toMatchObject({
      Action: 'Publish',
      TopicArn: TOPIC,
      Subject: 'checkout-service deployment to production failed',
      MessageStructure: 'json',
      'MessageAttributes.entry.1.Name': 'application',
      'MessageAttributes.entry.1.Value.DataType': 'String',
      'MessageAttributes.entry.1.Value.StringValue': 'checkout-service',
    });
    const attributes = Object.fromEntries(
      [1, 2, 3, 4, 5].map((i) => [p?.[`MessageAttributes.entry.${i}.Name`], p?.[`MessageAttributes.entry.${i}.Value.StringValue`]]),
    );
    expect(attributes).toEqual({ application: 'checkout-service', event: 'Failed', deploymentGroup: 'production', registration: 'checkout-production', test: 'false' });
    expect(p?.MessageGroupId).toBeUndefined();
    const structure = JSON.parse(p?.Message ?? '{}') as { default: string; email: string; sms: string };
    expect(JSON.parse(structure.default) as WebhookBodyV1).toMatchObject({ schemaVersion: '1', deliveryId: n.deliveryId, event: 'Failed' });
    expect(structure.email).toContain('HEALTH_CONSTRAINTS: The overall deployment failed');
    expect(structure.email).toContain(FAILED_EVENT.consoleUrl);
    expect(structure.sms).toBe('❌ checkout-service deployment to production failed');
  });

  it('signs the request for the region of the topic ARN', async () => {
    await channel().send(sampleNotification(SUCCEEDED_EVENT), liveSignal());
    expect(fake.recorder.requests[0]?.headers.authorization).toContain('/eu-west-1/sns/aws4_request');
  });

  it('adds a message group and a deduplication id for FIFO topics', async () => {
    const n = sampleNotification(ROLLBACK_EVENT);
    await channel({ ...config, topicArn: FIFO }).send(n, liveSignal());
    const [p] = fake.publishes();
    expect(p?.MessageGroupId).toBe('checkout-service/production');
    expect(p?.MessageDeduplicationId).toBe(n.deliveryId);
    expect(fifoGroupId('my app', 'blue green/ü')).toBe('my_app/blue_green/_');
    expect(fifoGroupId('a'.repeat(200), 'g')).toHaveLength(128);
  });

  it('makes subjects fit SNS: ASCII, one line, under 100 characters', () => {
    expect(snsSubject('✅ café\nrelease')).toBe('cafe release');
    expect(snsSubject('🚀')).toBe('CodeDeploy deployment notification');
    const long = snsSubject(`x ${'word '.repeat(40)}`);
    expect(long.length).toBeLessThan(100);
    expect(long.endsWith('...')).toBe(true);
    expect(renderSns(config, sampleNotification(FAILED_EVENT, { test: true })).Subject).toBe('[TEST] checkout-service deployment to production failed');
  });

  it.each([
    ['NotFound', SNS_ERRORS.notFound, 'failed', 'create it or fix topicArn'],
    ['AuthorizationError', SNS_ERRORS.authorization, 'failed', 'allow sns:Publish'],
    ['InvalidParameter', SNS_ERRORS.invalidParameter, 'failed', 'Invalid parameter: Subject'],
    ['Throttled', SNS_ERRORS.throttled, 'retry', 'Rate exceeded'],
    ['InternalError (500)', SNS_ERRORS.internal, 'retry', 'internal error'],
  ])('classifies %s', async (_name, error, outcome, text) => {
    fake.failWith(error());
    const result = await channel().send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(result.outcome).toBe(outcome);
    expect((result as { reason: string }).reason).toContain(text);
    expect((result as { reason: string }).reason).toContain(TOPIC);
  });

  it('does not publish when the signal is already aborted', async () => {
    expect((await channel().send(sampleNotification(FAILED_EVENT), abortedSignal())).outcome).toBe('retry');
    expect(fake.recorder.requests).toHaveLength(0);
  });

  it('previews subject and FIFO ids', () => {
    const text = previewSns({ ...config, topicArn: FIFO }, sampleNotification(FAILED_EVENT, { channelName: 'automation-sns' }));
    expect(text).toContain(`sns · automation-sns → ${FIFO}`);
    expect(text).toContain('Subject: checkout-service deployment to production failed');
    expect(text).toContain('FIFO group / dedupe id: checkout-service/production / ');
  });
});
