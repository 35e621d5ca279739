/** Secrets that must never be pasted into a registration, recognised by shape. */
export const SECRET_SHAPES: readonly { test: RegExp; what: string }[] = [
  { test: /https:\/\/hooks\.slack\.com\/(services|workflows|triggers)\//i, what: 'a Slack webhook URL' },
  { test: /https:\/\/[a-z0-9.-]*\.webhook\.office\.com\//i, what: 'a Microsoft Teams webhook URL' },
  { test: /https:\/\/[a-z0-9.-]*\.(logic\.azure\.com|powerplatform\.com|powerautomate\.com)[^\s]*[?&]sig=/i, what: 'a Teams Workflows webhook URL' },
  { test: /\bNR(AK|AA|II|IQ)-[A-Za-z0-9]{16,}/, what: 'a New Relic API key' },
  { test: /\bxox[abposr]-[A-Za-z0-9-]{10,}/, what: 'a Slack token' },
  { test: /\b(AKIA|ASIA)[0-9A-Z]{16}\b/, what: 'an AWS access key' },
  { test: /\b(ghp|gho|ghs|ghu)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}/, what: 'a GitHub token' },
  { test: /-----BEGIN [A-Z ]*PRIVATE KEY-----/, what: 'a private key' },
];

/** What kind of secret `value` looks like ("a Slack webhook URL"), or undefined. */
export function secretShape(value: string): string | undefined {
  return SECRET_SHAPES.find((s) => s.test.test(value))?.what;
}
