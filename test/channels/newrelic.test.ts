import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelConfigOf } from '../../src/channels/channel.js';
import { CHANGE_TRACKING_MUTATION, createNewRelicChannel, nerdGraphEndpoint, previewNewRelic, renderNewRelic } from '../../src/channels/newrelic.js';
import { FAILED_EVENT, READY_EVENT, SUCCEEDED_EVENT, sampleNotification } from '../fixtures/events.js';
import { NERDGRAPH_ANSWERS, startNerdGraphFake, type NerdGraphFake } from '../fakes/newrelic.js';
import { abortedSignal, liveSignal, testContext } from './helpers.js';

const KEY = 'NRAK-TESTKEY0123456789ABCDEFGHIJ';
const GUID = 'MXxBUE18QVBQTElDQVRJT058MTIzNDU2';

let fake: NerdGraphFake;
beforeAll(async () => {
  fake = await startNerdGraphFake();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.recorder.reset());

const config = (): ChannelConfigOf<'newrelic'> => ({ name: 'apm', type: 'newrelic', entityGuid: GUID, apiKey: { fromEnv: 'NEW_RELIC_API_KEY' }, endpoint: fake.url });
const channel = (env: Record<string, string> = { NEW_RELIC_API_KEY: KEY }) => createNewRelicChannel(config(), testContext({ env }));

describe('newrelic channel', () => {
  it('creates a Deployment/Basic change tracking event with the recommended mutation', async () => {
    const n = sampleNotification(FAILED_EVENT);
    expect(await channel().send(n, liveSignal())).toEqual({ outcome: 'sent', messageId: expect.stringMatching(/^ct-\d{4}$/) as string });
    const [req] = fake.recorder.requests;
    expect(req?.path).toBe('/graphql');
    expect(req?.headers['api-key']).toBe(KEY);
    const body = req!.json<{ query: string; variables: Record<string, unknown> }>();
    expect(body.query).toBe(CHANGE_TRACKING_MUTATION);
    expect(body.query).not.toContain('changeTrackingCreateDeployment');
    expect(body.query).not.toContain(GUID);
    expect(body.variables.changeTrackingEvent).toEqual({
      categoryAndTypeData: {
        kind: { category: 'Deployment', type: 'Basic' },
        categoryFields: {
          deployment: {
            version: 'acme/checkout-service@1a2b3c4',
            commit: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d',
            changelog: 'https://github.com/acme/checkout-service/commit/1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d',
            deepLink: FAILED_EVENT.consoleUrl,
          },
        },
      },
      entitySearch: { query: `id = '${GUID}'` },
      shortDescription: '❌ checkout-service deployment to production failed',
      description: expect.stringContaining('Error: HEALTH_CONSTRAINTS: The overall deployment failed') as string,
      user: 'codedeploy-notify (user)',
      groupId: 'd-9XK3P0QAB',
      timestamp: Date.parse(FAILED_EVENT.occurredAt),
    });
  });

  it('uses the S3 revision as the version and omits commit and changelog', () => {
    const deployment = renderNewRelic(config(), sampleNotification(READY_EVENT)).variables.changeTrackingEvent.categoryAndTypeData.categoryFields.deployment;
    expect(deployment).toEqual({ version: 's3://acme-deploy-artifacts/payments-api/appspec-4.12.0.yaml (version 3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY)', deepLink: READY_EVENT.consoleUrl });
  });

  it('picks the US or EU endpoint unless one is given', () => {
    const base = { name: 'apm', type: 'newrelic' as const, entityGuid: GUID, apiKey: { fromEnv: 'K' } };
    expect(nerdGraphEndpoint(base)).toBe('https://api.newrelic.com/graphql');
    expect(nerdGraphEndpoint({ ...base, region: 'EU' })).toBe('https://api.eu.newrelic.com/graphql');
    expect(nerdGraphEndpoint({ ...base, region: 'EU', endpoint: 'https://proxy.example.com/graphql' })).toBe('https://proxy.example.com/graphql');
  });

  it('treats GraphQL errors inside a 200 as failures: permanent for bad input, retried when transient', async () => {
    fake.respondWith(NERDGRAPH_ANSWERS.badInput(), NERDGRAPH_ANSWERS.timeout(), NERDGRAPH_ANSWERS.noEvent());
    const bad = await channel().send(sampleNotification(SUCCEEDED_EVENT), liveSignal());
    expect(bad).toEqual({ outcome: 'failed', reason: expect.stringContaining('GraphQL errors: No entities found for entitySearch query [BAD_USER_INPUT]') as string });
    expect((bad as { reason: string }).reason).toContain('NEW_RELIC_API_KEY');
    expect(await channel().send(sampleNotification(SUCCEEDED_EVENT), liveSignal())).toEqual({
      outcome: 'retry',
      reason: expect.stringContaining('Request timed out [TIMEOUT]') as string,
    });
    expect(await channel().send(sampleNotification(SUCCEEDED_EVENT), liveSignal())).toEqual({
      outcome: 'failed',
      reason: expect.stringContaining('no change tracking event was created: Entity not found') as string,
    });
  });

  it('fails on 401 with a fix and never shows the key; retries 429, 503 and a non-JSON 200', async () => {
    fake.respondWith(
      { status: 401, body: { errors: [{ message: `Invalid API key ${KEY}` }] } },
      { status: 429, headers: { 'retry-after': '30' }, body: '' },
      { status: 503, body: 'upstream unavailable' },
      { status: 200, body: '<html>proxy error</html>' },
    );
    const unauthorized = await channel().send(sampleNotification(SUCCEEDED_EVENT), liveSignal());
    expect(unauthorized.outcome).toBe('failed');
    expect((unauthorized as { reason: string }).reason).toContain('put a user key (NRAK-…) of the right account in NEW_RELIC_API_KEY');
    expect((unauthorized as { reason: string }).reason).not.toContain(KEY);
    expect(await channel().send(sampleNotification(SUCCEEDED_EVENT), liveSignal())).toMatchObject({ outcome: 'retry', retryAfterMs: 30_000 });
    expect((await channel().send(sampleNotification(SUCCEEDED_EVENT), liveSignal())).outcome).toBe('retry');
    expect(await channel().send(sampleNotification(SUCCEEDED_EVENT), liveSignal())).toMatchObject({ outcome: 'retry', reason: expect.stringContaining('not JSON') as string });
  });

  it('fails naming the variable when the API key is missing, and does not send when aborted', async () => {
    expect(await channel({}).send(sampleNotification(SUCCEEDED_EVENT), liveSignal())).toEqual({
      outcome: 'failed',
      reason: expect.stringContaining('NEW_RELIC_API_KEY is not set') as string,
    });
    expect((await channel().send(sampleNotification(SUCCEEDED_EVENT), abortedSignal())).outcome).toBe('retry');
    expect(fake.recorder.requests).toHaveLength(0);
  });

  it('rejects an entity GUID that could break out of the search query', () => {
    expect(() => createNewRelicChannel({ ...config(), entityGuid: "abc' OR name LIKE '%" }, testContext())).toThrow(expect.objectContaining({ code: 'invalid-channel' }));
  });

  it('labels test markers and previews them', () => {
    const input = renderNewRelic(config(), sampleNotification(SUCCEEDED_EVENT, { test: true })).variables.changeTrackingEvent;
    expect(input.shortDescription).toBe('[TEST] ✅ checkout-service deployment to production succeeded');
    expect(input.description).toMatch(/^This is a test message/);
    const text = previewNewRelic(config(), sampleNotification(SUCCEEDED_EVENT, { channelName: 'apm' }));
    expect(text).toContain('newrelic · apm → US deployment marker');
    expect(text).toContain(`Entity:`);
  });
});
