import { describe, expect, it } from 'vitest';
import { MissingSecretError } from '../../src/core/errors.js';
import { EnvSecretResolver, isSecretRef } from '../../src/channels/secrets.js';

describe('EnvSecretResolver', () => {
  const resolver = new EnvSecretResolver({ SET: 'value-123', PADDED: '  token\n', EMPTY: '', BLANK: '   ' });

  it('returns the variable, trimmed', () => {
    expect(resolver.resolve({ fromEnv: 'SET' })).toBe('value-123');
    expect(resolver.resolve({ fromEnv: 'PADDED' })).toBe('token');
  });

  it.each(['UNSET', 'EMPTY', 'BLANK'])('throws MissingSecretError naming %s and no value', (name) => {
    let caught: unknown;
    try {
      resolver.resolve({ fromEnv: name });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MissingSecretError);
    expect((caught as MissingSecretError).variable).toBe(name);
    expect((caught as MissingSecretError).code).toBe('missing-secret');
    expect((caught as Error).message).toContain(name);
  });

  it('reads process.env at resolve time by default, so rotated secrets are picked up', () => {
    const live = new EnvSecretResolver();
    process.env.CDN_TEST_ROTATING = 'one';
    expect(live.resolve({ fromEnv: 'CDN_TEST_ROTATING' })).toBe('one');
    process.env.CDN_TEST_ROTATING = 'two';
    expect(live.resolve({ fromEnv: 'CDN_TEST_ROTATING' })).toBe('two');
    delete process.env.CDN_TEST_ROTATING;
  });

  it('tells secret refs from plain strings', () => {
    expect(isSecretRef({ fromEnv: 'X' })).toBe(true);
    expect(isSecretRef('https://example.com')).toBe(false);
    expect(isSecretRef(null)).toBe(false);
    expect(isSecretRef({ fromEnv: 1 })).toBe(false);
  });
});
