import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { HttpResponse } from '../../src/channels/channel.js';
import { HttpNetworkError, USER_AGENT, classifyHttpResponse, createFetchSender, parseRetryAfter, postJson } from '../../src/channels/http.js';
import { refusedUrl, startHttpRecorder, type HttpRecorder } from '../fakes/http-recorder.js';
import { abortedSignal, liveSignal } from './helpers.js';

let fake: HttpRecorder;
beforeAll(async () => {
  fake = await startHttpRecorder();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const post = (sender = createFetchSender(), init: Partial<{ signal: AbortSignal; timeoutMs: number; headers: Record<string, string> }> = {}) =>
  sender.request(`${fake.url}/x`, { method: 'POST', headers: init.headers ?? { 'Content-Type': 'application/json' }, body: '{}', signal: init.signal ?? liveSignal(), timeoutMs: init.timeoutMs ?? 2_000 });

describe('createFetchSender', () => {
  it('returns status, lower-case headers and the body text; sends a User-Agent', async () => {
    fake.respondWith({ status: 201, headers: { 'X-Thing': 'yes' }, body: 'créé' });
    const response = await post();
    expect(response).toMatchObject({ status: 201, body: 'créé' });
    expect(response.headers['x-thing']).toBe('yes');
    expect(fake.requests[0]?.headers['user-agent']).toBe(USER_AGENT);
    expect(fake.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('reads at most maxBodyBytes of a response', async () => {
    fake.respondWith({ status: 500, body: 'x'.repeat(200_000) });
    const response = await post(createFetchSender({ maxBodyBytes: 1024 }));
    expect(response.status).toBe(500);
    expect(response.body).toHaveLength(1024);
  });

  it('does not follow redirects', async () => {
    fake.respondWith({ status: 302, headers: { location: `${fake.url}/elsewhere` } });
    const response = await post();
    expect(response.status).toBe(302);
    expect(fake.requests.map((r) => r.path)).toEqual(['/x']);
  });

  it('rejects with HttpNetworkError: refused, timeout, aborted', async () => {
    const refused = createFetchSender().request(`${await refusedUrl()}/x`, { method: 'POST', headers: {}, body: '', signal: liveSignal(), timeoutMs: 2_000 });
    await expect(refused).rejects.toMatchObject({ name: 'HttpNetworkError', failure: 'network', message: 'network error: ECONNREFUSED' });

    fake.respondWith({ status: 200, delayMs: 2_000 });
    const slow = post(undefined, { timeoutMs: 50 });
    await expect(slow).rejects.toMatchObject({ failure: 'timeout', message: 'no response within 50 ms' });

    await expect(post(undefined, { signal: abortedSignal() })).rejects.toBeInstanceOf(HttpNetworkError);
    await expect(post(undefined, { signal: abortedSignal() })).rejects.toMatchObject({ failure: 'aborted' });
  });

  it('turns a dropped connection into a network error', async () => {
    fake.respondWith({ destroy: true });
    await expect(post()).rejects.toMatchObject({ failure: 'network' });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-03T10:00:00Z');
  it.each([
    ['3', 3000],
    ['0', 0],
    ['1.5', 1500],
    ['Tue, 03 Nov 2026 10:00:30 GMT', 30_000],
    ['Tue, 03 Nov 2026 09:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('%s → %s', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('classifyHttpResponse', () => {
  const target = { url: 'https://hooks.example.com/secret-path/abc', secrets: ['secret-path'] };
  const hooks = { provider: 'Thing' };
  const response = (status: number, body = '', headers: Record<string, string> = {}): HttpResponse => ({ status, body, headers });

  it.each([
    [200, 'sent'],
    [202, 'sent'],
    [204, 'sent'],
    [301, 'failed'],
    [400, 'failed'],
    [401, 'failed'],
    [404, 'failed'],
    [408, 'retry'],
    [410, 'failed'],
    [429, 'retry'],
    [500, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
  ])('%i → %s', (status, outcome) => {
    expect(classifyHttpResponse(response(status, 'body'), hooks, target).outcome).toBe(outcome);
  });

  it('names the provider and origin, quotes a short scrubbed body, and takes Retry-After on 5xx too', () => {
    const result = classifyHttpResponse(response(503, `oops at secret-path\n${'z'.repeat(400)}`, { 'retry-after': '12' }), hooks, target);
    expect(result).toMatchObject({ outcome: 'retry', retryAfterMs: 12_000 });
    const reason = (result as { reason: string }).reason;
    expect(reason.startsWith('Thing (https://hooks.example.com/…) answered 503: oops at [redacted] zzz')).toBe(true);
    expect(reason.length).toBeLessThan(400);
  });

  it('lets a provider hook decide first and add a hint to permanent failures', () => {
    const custom = {
      provider: 'Custom',
      classify: (r: HttpResponse) => (r.status === 200 && r.body === 'error' ? { outcome: 'failed' as const, reason: 'body said error' } : undefined),
      hint: () => 'do this',
    };
    expect(classifyHttpResponse(response(200, 'error'), custom, target)).toEqual({ outcome: 'failed', reason: 'body said error' });
    expect(classifyHttpResponse(response(200, 'ok'), custom, target)).toEqual({ outcome: 'sent' });
    expect((classifyHttpResponse(response(403, 'no'), custom, target) as { reason: string }).reason).toMatch(/answered 403: no \(do this\)$/);
  });
});

describe('postJson', () => {
  it('never throws: a network error becomes a retry naming only the origin', async () => {
    const url = `${await refusedUrl()}/hook/tok3n-abc123`;
    const result = await postJson(createFetchSender(), { url, body: '{}', signal: liveSignal(), timeoutMs: 1_000 }, { provider: 'X' }, [url]);
    expect(result).toEqual({ outcome: 'retry', reason: expect.stringMatching(/^X \(http:\/\/127\.0\.0\.1:\d+\/…\): network error: ECONNREFUSED$/) as string });
  });
});
