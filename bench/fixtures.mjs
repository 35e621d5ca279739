// Generates realistic registration files for benchmarks: a mix of every channel type.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const CHANNELS = [
  (i) => `    - name: chat\n      type: slack\n      webhookUrl: { fromEnv: SLACK_WEBHOOK_${i % 50} }\n      events: [Failed, Stopped]\n`,
  (i) => `    - name: teams\n      type: teams\n      webhookUrl: { fromEnv: TEAMS_WEBHOOK_${i % 50} }\n`,
  (i) => `    - name: hook\n      type: webhook\n      url: https://hooks.example.com/deploys/${i}\n      secret: { fromEnv: HOOK_SECRET }\n      headers:\n        X-Team: team-${i % 40}\n`,
  (i) => `    - name: topic\n      type: sns\n      topicArn: arn:aws:sns:us-east-1:123456789012:deploys-${i % 30}\n`,
  (i) => `    - name: mail\n      type: email\n      from: deploys@example.com\n      to: [team-${i % 40}@example.com]\n`,
  () => `    - name: apm\n      type: newrelic\n      entityGuid: MXxBUE18QVBQTElDQVRJT058MTIzNDU2\n      apiKey: { fromEnv: NEW_RELIC_API_KEY }\n      events: [Succeeded]\n`,
];

/** The YAML of registration number `i` (valid unless `invalid`). */
export function registrationYaml(i, { invalid = false } = {}) {
  const channels = [CHANNELS[i % CHANNELS.length](i), CHANNELS[(i + 3) % CHANNELS.length](i)].join('');
  const yaml = `# yaml-language-server: $schema=../schema/registration.schema.json
apiVersion: codedeploy-notify/v1
kind: Registration
metadata:
  name: service-${i}
  owner: team-${i % 40}
  labels:
    tier: ${i % 3 === 0 ? 'critical' : 'standard'}
spec:
  application: service-${i}
  deploymentGroups: [production, staging]
  events: [Succeeded, Failed, Stopped]
  channels:
${channels}`;
  return invalid ? yaml.replace('type: ', 'type: hipchat-').replace('events: [Succeeded', 'evnts: [Succeeded') : yaml;
}

/** Writes `count` registration files into `dir` (every 100th invalid when `invalidEvery` is 100). */
export async function writeRegistrations(dir, count, { invalidEvery = 0 } = {}) {
  await mkdir(dir, { recursive: true });
  const batch = 200;
  for (let start = 0; start < count; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, (_, k) => {
        const i = start + k;
        const invalid = invalidEvery > 0 && i % invalidEvery === invalidEvery - 1;
        return writeFile(path.join(dir, `service-${String(i).padStart(5, '0')}.yaml`), registrationYaml(i, { invalid }));
      }),
    );
  }
}
