import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, redactText, redactUrl, redactUrlsIn, scrubSecrets } from '../../src/util/redact.js';

describe('redactUrl', () => {
  it.each([
    ['https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx', 'https://hooks.slack.com/…'],
    ['http://127.0.0.1:8080/in/token?x=1#frag', 'http://127.0.0.1:8080/…'],
    ['https://user:pass@example.com/x', 'https://example.com/…'],
    ['not a url', '[redacted url]'],
    ['ftp://example.com/file', '[redacted url]'],
  ])('%s → %s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
  });
});

describe('scrubSecrets', () => {
  const hook = 'https://prod-12.westeurope.logic.azure.com:443/workflows/0a1b2c3d4e5f/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG';

  it('removes a secret in its plain, URL-encoded and JSON-escaped forms', () => {
    const secret = 'p@ss "w/ord"+1';
    const text = `a ${secret} b ${encodeURIComponent(secret)} c ${JSON.stringify(secret)}`;
    const out = scrubSecrets(text, [secret]);
    expect(out).not.toContain('w/ord');
    expect(out).not.toContain(encodeURIComponent('w/ord'));
    expect(out.split(REDACTED).length - 1).toBe(3);
  });

  it('removes the token-carrying parts of a URL secret even when echoed alone', () => {
    const echoes = [
      hook,
      '/workflows/0a1b2c3d4e5f/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG',
      'bad sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG',
      'workflow 0a1b2c3d4e5f not found',
    ];
    for (const echo of echoes) {
      const out = scrubSecrets(echo, [hook]);
      expect(out).not.toContain('AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFG');
      expect(out).not.toContain('0a1b2c3d4e5f');
    }
    expect(scrubSecrets('the services are fine', ['https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefghijklmnopqrstuvwx'])).toBe('the services are fine');
  });

  it('ignores secrets too short to scrub safely', () => {
    expect(scrubSecrets('abc abc', ['abc'])).toBe('abc abc');
  });

  it('never leaves a secret behind, whatever surrounds it', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8, maxLength: 40 }), fc.string(), fc.string(), (secret, before, after) => {
        fc.pre(!secret.includes(REDACTED));
        expect(scrubSecrets(`${before}${secret}${after}`, [secret])).not.toContain(secret);
      }),
      { numRuns: 300 },
    );
  });
});

describe('redactUrlsIn / redactText', () => {
  it('reduces every URL in free text to its origin, keeping surrounding punctuation', () => {
    expect(redactUrlsIn('failed (https://hooks.slack.com/services/T/B/x), retry https://a.example/b?c=d.')).toBe(
      'failed (https://hooks.slack.com/…), retry https://a.example/….',
    );
  });

  it('scrubs secrets first, then URLs', () => {
    expect(redactText('key NRAK-ABC123DEF at https://api.newrelic.com/graphql', ['NRAK-ABC123DEF'])).toBe(`key ${REDACTED} at https://api.newrelic.com/…`);
  });
});
