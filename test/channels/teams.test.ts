import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelConfigOf } from '../../src/channels/channel.js';
import { createTeamsChannel, previewTeams, renderTeams, type TeamsPayload } from '../../src/channels/teams.js';
import { FAILED_EVENT, READY_EVENT, STOPPED_EVENT, SUCCEEDED_EVENT, sampleNotification } from '../fixtures/events.js';
import { startHttpRecorder, type HttpRecorder } from '../fakes/http-recorder.js';
import { abortedSignal, liveSignal, testContext } from './helpers.js';

const SIG = 'sig=Zm9vYmFyLXNlY3JldC1zaWduYXR1cmU';
const config: ChannelConfigOf<'teams'> = { name: 'ops-teams', type: 'teams', webhookUrl: { fromEnv: 'TEAMS_WEBHOOK_TEST' } };

let fake: HttpRecorder;
let hookUrl: string;
beforeAll(async () => {
  fake = await startHttpRecorder({ default: { status: 202, body: '' } });
  hookUrl = `${fake.url}/workflows/abc123/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&${SIG}`;
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const channel = (env: Record<string, string> = { TEAMS_WEBHOOK_TEST: hookUrl }) => createTeamsChannel(config, testContext({ env }));

describe('teams channel', () => {
  it('posts an Adaptive Card 1.4 inside the Workflows message envelope and takes 202 as sent', async () => {
    expect(await channel().send(sampleNotification(FAILED_EVENT), liveSignal())).toEqual({ outcome: 'sent' });
    const [req] = fake.requests;
    expect(req?.url).toContain(SIG);
    const body = req!.json<TeamsPayload>();
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const attachment = body.attachments[0]!;
    expect(attachment.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(attachment.content).toMatchObject({ type: 'AdaptiveCard', version: '1.4', msteams: { width: 'Full' } });
    expect(attachment.content.actions).toEqual([{ type: 'Action.OpenUrl', title: 'View in AWS console', url: FAILED_EVENT.consoleUrl }]);
    const factSet = attachment.content.body.find((b) => (b as { type: string }).type === 'FactSet') as { facts: { title: string; value: string }[] };
    expect(factSet.facts).toContainEqual({ title: 'Application', value: 'checkout-service' });
    expect(factSet.facts).toContainEqual(expect.objectContaining({ title: 'Error', value: expect.stringMatching(/^HEALTH_CONSTRAINTS: The overall/) as string }));
    expect(JSON.stringify(attachment.content.body[0])).toContain('"style":"attention"');
  });

  it('also takes 200 as sent and colours each status', async () => {
    fake.respondWith({ status: 200, body: '' });
    expect((await channel().send(sampleNotification(SUCCEEDED_EVENT), liveSignal())).outcome).toBe('sent');
    const styleOf = (p: TeamsPayload) => (p.attachments[0]!.content.body[0] as { style: string }).style;
    expect(styleOf(renderTeams(config, sampleNotification(SUCCEEDED_EVENT)))).toBe('good');
    expect(styleOf(renderTeams(config, sampleNotification(STOPPED_EVENT)))).toBe('warning');
    expect(styleOf(renderTeams(config, sampleNotification(READY_EVENT)))).toBe('accent');
  });

  it.each([
    [400, 'could not read the card'],
    [401, 'copy the webhook URL from the workflow again into TEAMS_WEBHOOK_TEST'],
    [403, 'copy the webhook URL from the workflow again into TEAMS_WEBHOOK_TEST'],
    [404, 'no longer exists'],
  ])('fails permanently on %i with a fix and no signature in the reason', async (status, fix) => {
    fake.respondWith({ status, body: { error: { code: 'WorkflowTriggerNotFound', message: `The workflow trigger at ${hookUrl} was not found` } } });
    const result = await channel().send(sampleNotification(FAILED_EVENT), liveSignal());
    expect(result.outcome).toBe('failed');
    const reason = (result as { reason: string }).reason;
    expect(reason).toContain(`Teams (http://127.0.0.1:${new URL(fake.url).port}/…) answered ${status}`);
    expect(reason).toContain(fix);
    expect(reason).not.toContain('Zm9vYmFyLXNlY3JldC1zaWduYXR1cmU');
    expect(reason).not.toContain('/workflows/');
  });

  it('retries 429 with Retry-After and 502', async () => {
    fake.respondWith({ status: 429, headers: { 'retry-after': '10' }, body: '' }, { status: 502, body: 'Bad Gateway' });
    expect(await channel().send(sampleNotification(FAILED_EVENT), liveSignal())).toMatchObject({ outcome: 'retry', retryAfterMs: 10_000 });
    expect(await channel().send(sampleNotification(FAILED_EVENT), liveSignal())).toMatchObject({ outcome: 'retry' });
  });

  it('fails naming the variable when the secret is missing, and sends nothing when aborted', async () => {
    expect(await channel({}).send(sampleNotification(FAILED_EVENT), liveSignal())).toEqual({
      outcome: 'failed',
      reason: expect.stringContaining('TEAMS_WEBHOOK_TEST is not set') as string,
    });
    expect((await channel().send(sampleNotification(FAILED_EVENT), abortedSignal())).outcome).toBe('retry');
    expect(fake.requests).toHaveLength(0);
  });

  it('labels test messages and applies template overrides', () => {
    const custom = { ...config, template: { title: '{{application}} → {{deploymentGroup}}: {{status}}' } };
    const card = renderTeams(custom, sampleNotification(SUCCEEDED_EVENT, { test: true })).attachments[0]!.content;
    const header = JSON.stringify(card.body[0]);
    expect(header).toContain('TEST MESSAGE');
    expect(header).toContain('[TEST] checkout-service → production: Succeeded');
  });

  it('previews the card for a terminal', () => {
    const text = previewTeams(config, sampleNotification(SUCCEEDED_EVENT, { channelName: 'ops-teams' }));
    expect(text).toContain('── teams · ops-teams ──');
    expect(text).toContain('✅ checkout-service deployment to production succeeded');
  });
});
