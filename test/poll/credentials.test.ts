import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupAccountId, RoleAssumeError, StsRoleCredentials } from '../../src/poll/credentials.js';
import { startFakeSts, type FakeSts } from '../fakes/sts.js';
import { TestClock } from './fixtures.js';

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const MINUTE = 60_000;

describe('StsRoleCredentials against a fake STS (real STSClient)', () => {
  let sts: FakeSts;
  const clock = new TestClock(T0);
  beforeAll(async () => {
    sts = await startFakeSts({ clock: clock.now });
    process.env.AWS_ENDPOINT_URL_STS = sts.url;
  });
  afterAll(async () => {
    await sts.close();
    delete process.env.AWS_ENDPOINT_URL_STS;
  });

  it('assumes once, shares concurrent calls, and refreshes within refreshBeforeMs of expiry', async () => {
    const source = new StsRoleCredentials({ region: 'us-east-1', clock: clock.now, maxAttempts: 1 });
    try {
      const role = 'arn:aws:iam::123456789012:role/reader';
      const [a, b] = await Promise.all([source.get(role), source.get(role)]);
      expect(a).toBe(b);
      expect(sts.calls.filter((c) => c.roleArn === role)).toHaveLength(1);
      expect(sts.calls.at(-1)).toMatchObject({ sessionName: 'codedeploy-notify', durationSeconds: 3600, callerKey: 'AKIDTEST' });
      expect(a).toMatchObject({ accessKeyId: sts.calls.at(-1)?.issued, sessionToken: expect.stringContaining('token-'), expiration: T0 + 3_600_000 });

      clock.advance(54 * MINUTE);
      expect((await source.get(role)).accessKeyId).toBe(a.accessKeyId);
      clock.advance(2 * MINUTE);
      const refreshed = await source.get(role);
      expect(refreshed.accessKeyId).not.toBe(a.accessKeyId);
      expect(refreshed.expiration).toBe(clock.now() + 3_600_000);
      expect(sts.calls.filter((c) => c.roleArn === role)).toHaveLength(2);

      // STS down while the cached credentials are still valid: keep using them.
      clock.advance(56 * MINUTE);
      sts.failNext = 1;
      expect((await source.get(role)).accessKeyId).toBe(refreshed.accessKeyId);
      // Once they have expired, the failure surfaces.
      clock.advance(5 * MINUTE);
      sts.failNext = 1;
      await expect(source.get(role)).rejects.toBeInstanceOf(RoleAssumeError);
      // And STS back: fresh credentials.
      expect((await source.get(role)).expiration).toBe(clock.now() + 3_600_000);
    } finally {
      source.destroy();
    }
  });

  it('says which role could not be assumed and how to fix it', async () => {
    const source = new StsRoleCredentials({ region: 'us-east-1', clock: clock.now, maxAttempts: 1 });
    try {
      const role = 'arn:aws:iam::123456789012:role/forbidden';
      sts.denied.add(role);
      const error = await source.get(role).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RoleAssumeError);
      expect(error).toMatchObject({ code: 'assume-role-failed', roleArn: role });
      expect((error as Error).message).toMatch(/could not assume role arn:aws:iam::123456789012:role\/forbidden: .*not authorized.*; check that the role exists, trusts/);
    } finally {
      source.destroy();
    }
  });

  it('looks up the daemon account with GetCallerIdentity', async () => {
    expect(await lookupAccountId({ region: 'us-east-1' })).toBe('111122223333');
  });
});
