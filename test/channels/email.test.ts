import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelConfigOf } from '../../src/channels/channel.js';
import { createAwsClients, type DisposableAwsClients } from '../../src/channels/aws-clients.js';
import { createEmailChannel, emailHtml, emailText, htmlEscape, previewEmail } from '../../src/channels/email.js';
import { FAILED_EVENT, STARTED_EVENT, SUCCEEDED_EVENT, sampleNotification } from '../fixtures/events.js';
import { SES_ERRORS, startSesFake, type SesFake } from '../fakes/ses.js';
import { abortedSignal, liveSignal, testContext } from './helpers.js';

const config: ChannelConfigOf<'email'> = {
  name: 'owners',
  type: 'email',
  from: 'deploys@example.com',
  to: ['team-checkout@example.com', 'oncall@example.com'],
  cc: ['release-managers@example.com'],
  configurationSet: 'deploy-notifications',
};

let fake: SesFake;
let aws: DisposableAwsClients;
beforeAll(async () => {
  fake = await startSesFake();
  process.env.AWS_ENDPOINT_URL_SES = fake.url;
  aws = createAwsClients({ maxAttempts: 1, requestTimeoutMs: 2_000 });
});
afterAll(async () => {
  aws.destroy();
  delete process.env.AWS_ENDPOINT_URL_SES;
  await fake.close();
});
beforeEach(() => fake.recorder.reset());

const channel = (c: ChannelConfigOf<'email'> = config) => createEmailChannel(c, testContext({ aws }));

describe('email channel', () => {
  it('sends through SES SendEmail with a human subject, HTML and text parts, recipients and configuration set', async () => {
    const result = await channel().send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(result).toEqual({ outcome: 'sent', messageId: expect.stringMatching(/^0100018f-ses-\d+$/) as string });
    const [form] = fake.sends();
    expect(form).toMatchObject({
      Action: 'SendEmail',
      Version: '2010-12-01',
      Source: 'deploys@example.com',
      'Destination.ToAddresses.member.1': 'team-checkout@example.com',
      'Destination.ToAddresses.member.2': 'oncall@example.com',
      'Destination.CcAddresses.member.1': 'release-managers@example.com',
      'Message.Subject.Data': '❌ checkout-service deployment to production failed',
      'Message.Subject.Charset': 'UTF-8',
      ConfigurationSetName: 'deploy-notifications',
    });
    expect(form?.['Message.Body.Html.Data']).toContain('<h1');
    expect(form?.['Message.Body.Text.Data']).toContain('Error:');
    expect(fake.recorder.requests[0]?.headers.authorization).toContain('/us-east-1/ses/aws4_request');
  });

  it('escapes every value in the HTML part', () => {
    const html = emailHtml(config, sampleNotification(FAILED_EVENT));
    expect(html).toContain('Release 2026.11.4 &lt;canary&gt; &amp; &quot;hotfix&quot; for *tax* rounding');
    expect(html).not.toContain('<canary>');
    expect(html).toContain('border-top:6px solid #E01E5A');
    expect(html).toContain(`href="${FAILED_EVENT.consoleUrl}"`);
    expect(htmlEscape(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
    const text = emailText(config, sampleNotification(FAILED_EVENT));
    expect(text).toContain('Release 2026.11.4 <canary> & "hotfix" for *tax* rounding');
  });

  it('puts a test banner in test emails and [TEST] in the subject', async () => {
    await channel().send(sampleNotification(SUCCEEDED_EVENT, { test: true }), liveSignal());
    const [form] = fake.sends();
    expect(form?.['Message.Subject.Data']).toBe('[TEST] ✅ checkout-service deployment to production succeeded');
    expect(form?.['Message.Body.Html.Data']).toContain('This is a test message sent with codedeploy-notify send-test');
    expect(form?.['Message.Body.Text.Data']).toContain('This is a test message sent with codedeploy-notify send-test');
  });

  it('omits cc and configuration set when not configured', async () => {
    await channel({ name: 'owners', type: 'email', from: 'deploys@example.com', to: ['a@example.com'] }).send(sampleNotification(STARTED_EVENT), liveSignal());
    const [form] = fake.sends();
    expect(Object.keys(form ?? {}).some((k) => k.startsWith('Destination.CcAddresses'))).toBe(false);
    expect(form?.ConfigurationSetName).toBeUndefined();
  });

  it.each([
    ['MessageRejected', SES_ERRORS.messageRejected, 'failed', 'verify deploys@example.com'],
    ['MailFromDomainNotVerified', SES_ERRORS.mailFromNotVerified, 'failed', 'MAIL FROM domain'],
    ['ConfigurationSetDoesNotExist', SES_ERRORS.configurationSetMissing, 'failed', 'create configuration set deploy-notifications'],
    ['Throttling', SES_ERRORS.throttling, 'retry', 'Maximum sending rate exceeded'],
    ['ServiceUnavailable (503)', SES_ERRORS.serviceUnavailable, 'retry', 'Service is unavailable'],
  ])('classifies %s', async (_name, error, outcome, text) => {
    fake.failWith(error());
    const result = await channel().send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(result.outcome).toBe(outcome);
    expect((result as { reason: string }).reason).toContain(text);
  });

  it('refuses more than 50 recipients when built', () => {
    const to = Array.from({ length: 45 }, (_, i) => `u${i}@example.com`);
    const cc = Array.from({ length: 6 }, (_, i) => `c${i}@example.com`);
    expect(() => channel({ ...config, to, cc })).toThrow(expect.objectContaining({ code: 'invalid-channel', message: expect.stringContaining('51 addresses') as string }));
  });

  it('does not send when the signal is already aborted', async () => {
    expect((await channel().send(sampleNotification(FAILED_EVENT), abortedSignal())).outcome).toBe('retry');
    expect(fake.recorder.requests).toHaveLength(0);
  });

  it('previews the envelope and subject', () => {
    const text = previewEmail(config, sampleNotification(FAILED_EVENT, { channelName: 'owners' }));
    expect(text).toContain('email · owners · From: deploys@example.com · To: team-checkout@example.com, oncall@example.com · Cc: release-managers@example.com');
    expect(text).toContain('Subject: ❌ checkout-service deployment to production failed');
  });
});
