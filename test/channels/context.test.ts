import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannelContext } from '../../src/channels/context.js';
import { createChannel } from '../../src/channels/registry.js';
import { silentLogger } from '../../src/core/log.js';
import { SUCCEEDED_EVENT, sampleNotification } from '../fixtures/events.js';
import { startHttpRecorder, type HttpRecorder } from '../fakes/http-recorder.js';
import { liveSignal } from './helpers.js';

let fake: HttpRecorder;
beforeAll(async () => {
  fake = await startHttpRecorder();
});
afterAll(async () => {
  await fake.close();
});

describe('createChannelContext', () => {
  it('wires env secrets, the fetch sender and defaults that a channel can send with', async () => {
    const context = createChannelContext({ logger: silentLogger(), defaultRegion: 'eu-central-1', env: { CTX_SLACK: `${fake.url}/services/a/b/c` } });
    expect(context.sendTimeoutMs).toBe(10_000);
    expect(context.defaultRegion).toBe('eu-central-1');
    const channel = createChannel({ name: 's', type: 'slack', webhookUrl: { fromEnv: 'CTX_SLACK' } }, context);
    expect(await channel.send(sampleNotification(SUCCEEDED_EVENT), liveSignal())).toEqual({ outcome: 'sent' });
    expect(fake.requests).toHaveLength(1);
    expect(await context.aws.ses('eu-central-1').config.region()).toBe('eu-central-1');
    context.destroy();
  });
});
