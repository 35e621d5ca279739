import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, destinationKey, RateLimiter } from '../../src/dispatch/rate-limit.js';

const slack = { ratePerSecond: 1, burst: 1 };

describe('RateLimiter', () => {
  it('lets one Slack message a second through and spaces the rest', () => {
    const limiter = new RateLimiter();
    expect(limiter.reserve('a', slack, 0, 5_000)).toEqual({ ok: true, waitMs: 0 });
    expect(limiter.reserve('a', slack, 0, 5_000)).toEqual({ ok: true, waitMs: 1_000 });
    expect(limiter.reserve('a', slack, 100, 5_000)).toEqual({ ok: true, waitMs: 1_900 });
    // another destination is not held up by the first
    expect(limiter.reserve('b', slack, 100, 5_000)).toEqual({ ok: true, waitMs: 0 });
    // after the reserved slots have passed, sends go at once again
    expect(limiter.reserve('a', slack, 10_000, 5_000)).toEqual({ ok: true, waitMs: 0 });
  });

  it('does not reserve beyond the allowed wait and says when a slot frees', () => {
    const limiter = new RateLimiter();
    limiter.reserve('a', slack, 0, 0);
    expect(limiter.reserve('a', slack, 200, 500)).toEqual({ ok: false, at: 1_000 });
    // no slot was taken by the refusal: the next caller that may wait gets the same slot
    expect(limiter.reserve('a', slack, 200, 5_000)).toEqual({ ok: true, waitMs: 800 });
  });

  it('tells refused callers to come back one interval apart', () => {
    const limiter = new RateLimiter();
    limiter.reserve('a', slack, 0, 0);
    const refused = [1, 2, 3].map(() => limiter.reserve('a', slack, 0, 0));
    expect(refused).toEqual([
      { ok: false, at: 1_000 },
      { ok: false, at: 2_000 },
      { ok: false, at: 3_000 },
    ]);
    // each comes back at its time and goes at once
    expect(limiter.reserve('a', slack, 1_000, 0)).toEqual({ ok: true, waitMs: 0 });
    expect(limiter.reserve('a', slack, 2_000, 0)).toEqual({ ok: true, waitMs: 0 });
    expect(limiter.reserve('a', slack, 3_000, 0)).toEqual({ ok: true, waitMs: 0 });
    // stale come-back times do not push later refusals out
    limiter.reserve('a', slack, 10_000, 0);
    expect(limiter.reserve('a', slack, 10_000, 0)).toEqual({ ok: false, at: 11_000 });
  });

  it('allows a burst, then the sustained rate', () => {
    const limiter = new RateLimiter();
    const limit = { ratePerSecond: 2, burst: 3 };
    const waits = Array.from({ length: 6 }, () => {
      const r = limiter.reserve('k', limit, 0, 10_000);
      return r.ok ? r.waitMs : -1;
    });
    expect(waits).toEqual([0, 0, 0, 500, 1_000, 1_500]);
  });

  it('pauses a destination after a Retry-After', () => {
    const limiter = new RateLimiter();
    limiter.pause('a', 2_000);
    expect(limiter.reserve('a', slack, 0, 5_000)).toEqual({ ok: true, waitMs: 2_000 });
    expect(limiter.reserve('a', slack, 0, 5_000)).toEqual({ ok: true, waitMs: 3_000 });
    expect(limiter.reserve('a', slack, 0, 1_000)).toEqual({ ok: false, at: 4_000 });
    expect(limiter.reserve('b', slack, 0, 5_000)).toEqual({ ok: true, waitMs: 0 });
  });

  it('forgets idle destinations', () => {
    const limiter = new RateLimiter();
    for (let i = 0; i < 300; i++) limiter.reserve(`k${i}`, slack, 0, 0);
    expect(limiter.size).toBe(300);
    limiter.reserve('late', slack, 5_000, 0);
    expect(limiter.size).toBe(1);
  });

  it('checks limits with messages that say what to fix', () => {
    expect(() => RateLimiter.check({ ratePerSecond: 0, burst: 1 }, 'slack')).toThrow('rate limit for slack: ratePerSecond must be a positive number, got 0');
    expect(() => RateLimiter.check({ ratePerSecond: 1, burst: 0.5 }, 'teams')).toThrow('rate limit for teams: burst must be a whole number of at least 1, got 0.5');
    expect(RateLimiter.check(slack, 'slack')).toBe(slack);
  });
});

describe('destinationKey', () => {
  it('names destinations without secret values', () => {
    expect(destinationKey({ name: 'a', type: 'slack', webhookUrl: { fromEnv: 'SLACK_HOOK' } })).toBe('slack:env:SLACK_HOOK');
    expect(destinationKey({ name: 'b', type: 'teams', webhookUrl: { fromEnv: 'TEAMS_HOOK' } })).toBe('teams:env:TEAMS_HOOK');
    expect(destinationKey({ name: 'c', type: 'webhook', url: { fromEnv: 'HOOK' } })).toBe('webhook:env:HOOK');
    const plain = destinationKey({ name: 'd', type: 'webhook', url: 'https://example.com/hook?token=abc' });
    expect(plain).toMatch(/^webhook:url:[0-9a-f]{16}$/);
    expect(plain).not.toContain('abc');
    expect(destinationKey({ name: 'e', type: 'sns', topicArn: 'arn:aws:sns:us-east-1:1:t' })).toBe('sns:arn:aws:sns:us-east-1:1:t');
    expect(destinationKey({ name: 'f', type: 'email', from: 'x@example.com', to: ['y@example.com'] })).toBe('email:x@example.com');
    expect(destinationKey({ name: 'g', type: 'newrelic', entityGuid: 'GUID', apiKey: { fromEnv: 'NR' } })).toBe('newrelic:GUID');
  });

  it('limits only chat webhooks by default', () => {
    expect(Object.keys(DEFAULT_RATE_LIMITS).sort()).toEqual(['slack', 'teams']);
  });
});
