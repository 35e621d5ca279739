// Regression tests from the secret leak check (test/security/secret-leak.test.ts): receivers that
// echo a secret only in part — the token of an Authorization value without its scheme, an API key
// without its prefix, a truncated token — must not get it into a delivery reason.
import { describe, expect, it } from 'vitest';
import { REDACTED, redactText, scrubSecrets } from '../../src/util/redact.js';

describe('scrubSecrets: partial echoes', () => {
  const bearer = 'Bearer s3cretBearerToken.eyJhbGciOiJIUzI1NiJ9';
  const apiKey = 'NRAK-ABCDEFGHIJKLMNOPQRSTUVWXYZ0';
  const teams = 'https://prod-12.westeurope.logic.azure.com:443/workflows/0a1b2c3d4e5f67/triggers/manual/paths/invoke?api-version=2016-06-01&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123';

  it('removes the credential of an Authorization-style value echoed without its scheme', () => {
    const out = scrubSecrets('{"error":"invalid_token","token":"s3cretBearerToken.eyJhbGciOiJIUzI1NiJ9"}', [bearer]);
    expect(out).toBe(`{"error":"invalid_token","token":"${REDACTED}"}`);
    // a short credential too (below the fragment length)
    expect(scrubSecrets('token abc123xy rejected', ['Token abc123xy'])).toBe(`token ${REDACTED} rejected`);
  });

  it('removes a key echoed without its prefix, or truncated', () => {
    expect(scrubSecrets('key ABCDEFGHIJKLMNOPQRSTUVWXYZ0 revoked', [apiKey])).toBe(`key ${REDACTED} revoked`);
    expect(scrubSecrets('token starts NRAK-ABCDEFGHIJKLMNO…', [apiKey])).toBe(`token starts ${REDACTED}…`);
    expect(scrubSecrets('it starts s3cretBearerToken.eyJ…', [bearer])).toBe(`it starts ${REDACTED}…`);
    expect(scrubSecrets('bad signature AbCdEfGhIjKlMnOpQr', [teams])).toBe(`bad signature ${REDACTED}`);
  });

  it('leaves text that shares no 12-character run with a secret alone', () => {
    const text = 'Teams (https://prod-12.westeurope.logic.azure.com/…) answered 500: api-version=2016-06-01 is deprecated; ABCDEFGHIJK';
    expect(scrubSecrets(text, [teams, apiKey, bearer])).toBe(text);
    expect(redactText('answered 401 from hooks.example.com', ['https://hooks.example.com/'])).toBe('answered 401 from hooks.example.com');
  });
});
