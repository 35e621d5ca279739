import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffCeiling, checkRetryPolicy, DEFAULT_RETRY_POLICY, nextAttempt, type RetryPolicy } from '../../src/dispatch/retry.js';

const NOW = 1_750_000_000_000;
const fixed = (x: number) => () => x;
const retry = (reason = 'HTTP 503', retryAfterMs?: number) => ({ outcome: 'retry' as const, reason, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

describe('backoffCeiling', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [9, 256_000],
    [10, 300_000],
    [11, 300_000],
    [5_000, 300_000],
    [0, 1_000],
  ])('attempt %i → %i ms', (attempt, ceiling) => {
    expect(backoffCeiling(attempt)).toBe(ceiling);
  });
});

describe('nextAttempt', () => {
  it.each<[string, Parameters<typeof nextAttempt>[0], ReturnType<typeof nextAttempt>]>([
    ['first retry, top of the jitter range', { attempt: 1, result: retry(), now: NOW, random: fixed(0.999) }, { action: 'retry', at: NOW + 999, delayMs: 999 }],
    ['first retry, middle draw', { attempt: 1, result: retry(), now: NOW, random: fixed(0.5) }, { action: 'retry', at: NOW + 500, delayMs: 500 }],
    ['a zero draw still waits the minimum', { attempt: 3, result: retry(), now: NOW, random: fixed(0) }, { action: 'retry', at: NOW + 100, delayMs: 100 }],
    ['fourth retry doubles thrice', { attempt: 4, result: retry(), now: NOW, random: fixed(0.5) }, { action: 'retry', at: NOW + 4_000, delayMs: 4_000 }],
    ['the cap holds', { attempt: 11, result: retry(), now: NOW, random: fixed(0.5) }, { action: 'retry', at: NOW + 150_000, delayMs: 150_000 }],
    ['Retry-After above the jitter wins', { attempt: 1, result: retry('HTTP 429', 2_000), now: NOW, random: fixed(0.9) }, { action: 'retry', at: NOW + 2_000, delayMs: 2_000 }],
    ['Retry-After is never jittered below', { attempt: 1, result: retry('HTTP 429', 2_000), now: NOW, random: fixed(0) }, { action: 'retry', at: NOW + 2_000, delayMs: 2_000 }],
    ['jitter above Retry-After wins', { attempt: 6, result: retry('HTTP 429', 1_000), now: NOW, random: fixed(0.5) }, { action: 'retry', at: NOW + 16_000, delayMs: 16_000 }],
    ['absurd Retry-After is limited to an hour', { attempt: 1, result: retry('HTTP 429', 86_400_000), now: NOW, random: fixed(0.5) }, { action: 'retry', at: NOW + 3_600_000, delayMs: 3_600_000 }],
    ['non-finite Retry-After is ignored', { attempt: 1, result: retry('HTTP 429', Number.NaN), now: NOW, random: fixed(0.5) }, { action: 'retry', at: NOW + 500, delayMs: 500 }],
    ['permanent failure fails at once', { attempt: 1, result: { outcome: 'failed', reason: 'HTTP 404 channel_not_found' }, now: NOW, random: fixed(0.5) }, { action: 'fail', reason: 'HTTP 404 channel_not_found' }],
    ['the last attempt gives up with the last error', { attempt: 60, result: retry('HTTP 503 Service Unavailable'), now: NOW, random: fixed(0.5) }, { action: 'fail', reason: 'gave up after 60 attempts: HTTP 503 Service Unavailable' }],
    ['the attempt before the last still retries', { attempt: 59, result: retry(), now: NOW, random: fixed(0.1) }, { action: 'retry', at: NOW + 30_000, delayMs: 30_000 }],
  ])('%s', (_name, input, expected) => {
    expect(nextAttempt(input)).toEqual(expected);
  });

  it('takes a custom policy', () => {
    const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 10, maxDelayMs: 40, minDelayMs: 0, maxAttempts: 3 };
    expect(nextAttempt({ attempt: 2, result: retry(), now: 0, random: fixed(0.5) }, policy)).toEqual({ action: 'retry', at: 10, delayMs: 10 });
    expect(nextAttempt({ attempt: 9, result: retry(), now: 0, random: fixed(0.5) }, { ...policy, maxAttempts: 10 })).toEqual({ action: 'retry', at: 20, delayMs: 20 });
    expect(nextAttempt({ attempt: 3, result: retry('x'), now: 0, random: fixed(0.5) }, policy)).toEqual({ action: 'fail', reason: 'gave up after 3 attempts: x' });
  });

  it('always waits within [min, ceiling] and at least Retry-After (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 11 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.integer({ min: 1, max: 10_000_000 }), { nil: undefined }),
        (attempt, draw, retryAfterMs) => {
          const decision = nextAttempt({ attempt, result: retry('x', retryAfterMs), now: NOW, random: fixed(draw) });
          if (decision.action !== 'retry') return false;
          const floor = Math.max(DEFAULT_RETRY_POLICY.minDelayMs, Math.min(retryAfterMs ?? 0, DEFAULT_RETRY_POLICY.maxRetryAfterMs));
          const ceiling = Math.max(floor, backoffCeiling(attempt));
          return decision.at === NOW + decision.delayMs && decision.delayMs >= floor && decision.delayMs <= ceiling;
        },
      ),
    );
  });

  it('spreads retries across the window (full jitter, not equal waits)', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = Array.from({ length: 200 }, () => {
      const d = nextAttempt({ attempt: 5, result: retry(), now: NOW, random });
      return d.action === 'retry' ? d.delayMs : -1;
    });
    expect(Math.min(...delays)).toBeLessThan(2_000);
    expect(Math.max(...delays)).toBeGreaterThan(14_000);
    expect(Math.max(...delays)).toBeLessThan(16_000);
  });
});

describe('checkRetryPolicy', () => {
  it('accepts the defaults', () => {
    expect(checkRetryPolicy({ ...DEFAULT_RETRY_POLICY })).toEqual(DEFAULT_RETRY_POLICY);
  });
  it.each<[Partial<RetryPolicy>, RegExp]>([
    [{ baseDelayMs: 0 }, /baseDelayMs must be a positive number/],
    [{ maxAttempts: 2.5 }, /maxAttempts must be a whole number/],
    [{ maxAttempts: -1 }, /maxAttempts must be a positive number/],
    [{ minDelayMs: -5 }, /minDelayMs must be 0 or more/],
    [{ maxDelayMs: 10, baseDelayMs: 100 }, /maxDelayMs \(10\) must be at least baseDelayMs \(100\)/],
  ])('rejects %o', (change, message) => {
    expect(() => checkRetryPolicy({ ...DEFAULT_RETRY_POLICY, ...change })).toThrow(message);
  });
});
