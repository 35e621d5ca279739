// Regression test from the secret leak check (test/security/secret-leak.test.ts): a secret pasted
// as the NAME of a secret ref (`{ fromEnv: https://hooks.slack.com/… }`) is a schema error that hides
// the value; `--check-env` must not then repeat it as "environment variable <secret> is not set".
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRegistrations } from '../../src/config/load.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('validate --check-env with a secret pasted as the variable name', () => {
  it('reports the invalid name once, without the value, and checks the valid refs', async () => {
    const token = 'xoxTokenPastedAsName0123456789';
    dir = await mkdtemp(path.join(tmpdir(), 'cdn-check-env-'));
    await writeFile(
      path.join(dir, 'a.yaml'),
      `apiVersion: codedeploy-notify/v1
kind: Registration
metadata:
  name: a
spec:
  application: app-a
  channels:
    - name: chat
      type: slack
      webhookUrl: { fromEnv: https://hooks.slack.com/services/T0000/B0000/${token} }
    - name: teams
      type: teams
      webhookUrl: { fromEnv: TEAMS_URL }
`,
    );
    const result = await loadRegistrations(dir, { checkEnv: true, env: {} });
    const messages = result.issues.map((i) => `${i.pointer} ${i.message}`);
    for (const message of messages) expect(message).not.toContain(token);
    expect(messages.some((m) => m.startsWith('/spec/channels/0/webhookUrl/fromEnv '))).toBe(true);
    expect(messages.filter((m) => m.includes('is not set'))).toEqual([
      '/spec/channels/1/webhookUrl environment variable TEAMS_URL is not set (referenced as { fromEnv: TEAMS_URL }; checked because of --check-env)',
    ]);
  });
});
