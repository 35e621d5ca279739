/**
 * The corpus of invalid registrations: each case is a whole file and the exact issues the loader
 * must report for it, as `line:column severity pointer message`, in report order. Shared by the
 * loader's table test and the CLI test.
 */
export interface CorpusCase {
  name: string;
  yaml: string;
  expect: string[];
}

export const CORPUS: CorpusCase[] = [
  {
    name: "missing apiVersion",
    yaml: "kind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "1:1 error  missing required property \"apiVersion\": version of the registration format",
    ],
  },
  {
    name: "unsupported apiVersion",
    yaml: "apiVersion: codedeploy-notify/v2\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "1:13 error /apiVersion unsupported apiVersion \"codedeploy-notify/v2\": this release of codedeploy-notify reads codedeploy-notify/v1",
    ],
  },
  {
    name: "wrong kind",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Deployment\nmetadata:\n  name: demo\nspec: {}\n",
    expect: [
      "2:7 error /kind unsupported kind \"Deployment\": codedeploy-notify/v1 files hold kind Registration",
    ],
  },
  {
    name: "unknown top-level property",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspecs:\n  application: demo-app\n",
    expect: [
      "1:1 error  missing required property \"spec\"",
      "5:1 error /specs unknown property \"specs\"; did you mean \"spec\"?",
    ],
  },
  {
    name: "name with uppercase and underscore",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: Demo_App\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "4:9 error /metadata/name invalid name \"Demo_App\": unique name of the registration across all files: lowercase letters, digits and hyphens, 1-63 characters, starting and ending with a letter or digit",
    ],
  },
  {
    name: "name too long",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "4:9 error /metadata/name name is 64 characters long; at most 63 allowed",
      "4:9 error /metadata/name invalid name \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\": unique name of the registration across all files: lowercase letters, digits and hyphens, 1-63 characters, starting and ending with a letter or digit",
    ],
  },
  {
    name: "misspelled owner",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\n  ownr: team-a\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "5:3 error /metadata/ownr unknown property \"ownr\"; did you mean \"owner\"?",
    ],
  },
  {
    name: "label value not a string",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\n  labels:\n    tier: 1\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "6:11 error /metadata/labels/tier tier must be a string, found a number (1)",
    ],
  },
  {
    name: "missing application",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "6:3 error /spec missing required property \"application\": exact name of the CodeDeploy application (1-100 characters)",
    ],
  },
  {
    name: "application too long",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "6:16 error /spec/application application is 101 characters long; at most 100 allowed",
    ],
  },
  {
    name: "bad region",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  region: US-East-1\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "7:11 error /spec/region invalid region \"US-East-1\": AWS region of the application, such as us-east-1",
    ],
  },
  {
    name: "bad roleArn",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  roleArn: arn:aws:iam::12345:role/reader\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "7:12 error /spec/roleArn invalid roleArn \"arn:aws:iam::12345:role/reader\": IAM role assumed with STS to read CodeDeploy in another account",
    ],
  },
  {
    name: "unknown event",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  events: [Succeeded, Failled]\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "7:23 error /spec/events/1 events[1] must be one of Started, Ready, Succeeded, Failed, Stopped; found \"Failled\"; did you mean \"Failed\"?",
    ],
  },
  {
    name: "duplicate event",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  events: [Failed, Failed]\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "7:20 error /spec/events/1 duplicate item \"Failed\" in events (same as item 0)",
    ],
  },
  {
    name: "empty deploymentGroups",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  deploymentGroups: []\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "7:21 error /spec/deploymentGroups deploymentGroups must have at least 1 item",
    ],
  },
  {
    name: "no channels",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels: []\n",
    expect: [
      "7:13 error /spec/channels channels must have at least 1 item",
    ],
  },
  {
    name: "channels is a mapping",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    slack: yes\n",
    expect: [
      "8:5 error /spec/channels channels must be a list, found a mapping",
    ],
  },
  {
    name: "too many channels",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - { name: s0, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s1, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s2, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s3, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s4, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s5, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s6, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s7, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s8, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s9, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s10, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s11, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s12, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s13, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s14, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s15, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s16, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s17, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s18, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s19, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n    - { name: s20, type: sns, topicArn: 'arn:aws:sns:us-east-1:123456789012:t' }\n",
    expect: [
      "8:5 error /spec/channels channels has 21 items; at most 20 allowed",
    ],
  },
  {
    name: "channel without type",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "8:7 error /spec/channels/0 missing required property \"type\" (the channel type: slack, teams, webhook, sns, email or newrelic)",
    ],
  },
  {
    name: "unknown channel type",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slak\n",
    expect: [
      "9:13 error /spec/channels/0/type unknown channel type \"slak\"; did you mean \"slack\"? (one of slack, teams, webhook, sns, email or newrelic)",
    ],
  },
  {
    name: "hipchat channel",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: room\n      type: hipchat\n      room: deploys\n",
    expect: [
      "9:13 error /spec/channels/0/type channel type \"hipchat\" is not supported: HipChat was shut down in 2019; use slack, teams or webhook",
    ],
  },
  {
    name: "duplicate channel names",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "11:13 error /spec/channels/1/name duplicate channel name \"s\": already used by channel 0 on line 8; channel names must be unique within a registration",
    ],
  },
  {
    name: "slack: plain webhook URL",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: team-slack\n      type: slack\n      webhookUrl: https://hooks.slack.com/services/T0/B0/XYZ\n",
    expect: [
      "10:19 error /spec/channels/0/webhookUrl plain secret: webhookUrl must not be written in the file; set it in an environment variable of the daemon and write  webhookUrl: { fromEnv: TEAM_SLACK_WEBHOOK_URL }",
    ],
  },
  {
    name: "slack: missing webhookUrl",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n",
    expect: [
      "8:7 error /spec/channels/0 missing required property \"webhookUrl\": slack incoming webhook URL, as a secret reference: { fromEnv: NAME }",
    ],
  },
  {
    name: "slack: misspelled events",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n      evnts: [Failed]\n",
    expect: [
      "11:7 error /spec/channels/0/evnts unknown property \"evnts\"; did you mean \"events\"?",
    ],
  },
  {
    name: "teams: plain webhook URL",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: t\n      type: teams\n      webhookUrl: https://prod-00.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=SECRET\n",
    expect: [
      "10:19 error /spec/channels/0/webhookUrl plain secret: webhookUrl must not be written in the file; set it in an environment variable of the daemon and write  webhookUrl: { fromEnv: T_WEBHOOK_URL }",
    ],
  },
  {
    name: "teams: secret ref with lowercase variable",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: t\n      type: teams\n      webhookUrl: { fromEnv: teams_url }\n",
    expect: [
      "10:30 error /spec/channels/0/webhookUrl/fromEnv invalid fromEnv \"teams_url\": name of the environment variable holding the secret: uppercase letters, digits and underscores, not starting with a digit",
    ],
  },
  {
    name: "webhook: url not http",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: w\n      type: webhook\n      url: ftp://example.com/hook\n",
    expect: [
      "10:12 error /spec/channels/0/url invalid url \"ftp://example.com/hook\": an http or https URL",
    ],
  },
  {
    name: "webhook: url is a number",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: w\n      type: webhook\n      url: 42\n",
    expect: [
      "10:12 error /spec/channels/0/url url must be a string or a secret reference { fromEnv: NAME }, found a number (42)",
    ],
  },
  {
    name: "webhook: plain Authorization header",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: w\n      type: webhook\n      url: https://example.com/hook\n      headers:\n        Authorization: Bearer abc123\n",
    expect: [
      "12:24 error /spec/channels/0/headers/Authorization plain secret: the value of header \"Authorization\" must not be written in the file; set it in an environment variable of the daemon and write  Authorization: { fromEnv: W_AUTHORIZATION }",
    ],
  },
  {
    name: "webhook: plain secret",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: w\n      type: webhook\n      url: https://example.com/hook\n      secret: hunter2\n",
    expect: [
      "11:15 error /spec/channels/0/secret plain secret: secret must not be written in the file; set it in an environment variable of the daemon and write  secret: { fromEnv: W_SECRET }",
    ],
  },
  {
    name: "webhook: token in URL query",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: w\n      type: webhook\n      url: https://example.com/hook?token=abc\n",
    expect: [
      "10:12 error /spec/channels/0/url plain secret: a URL carrying credentials must not be written in the file; set it in an environment variable of the daemon and write  url: { fromEnv: W_URL }",
    ],
  },
  {
    name: "webhook: header value is a list",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: w\n      type: webhook\n      url: https://example.com/hook\n      headers:\n        X-Team: [a, b]\n",
    expect: [
      "12:17 error /spec/channels/0/headers/X-Team X-Team must be a string or a secret reference { fromEnv: NAME }, found a list",
    ],
  },
  {
    name: "sns: bad topic ARN",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: n\n      type: sns\n      topicArn: arn:aws:sqs:us-east-1:123456789012:queue\n",
    expect: [
      "10:17 error /spec/channels/0/topicArn invalid topicArn \"arn:aws:sqs:us-east-1:123456789012:queue\": ARN of the SNS topic, such as arn:aws:sns:us-east-1:123456789012:deploys (FIFO topic names end in .fifo)",
    ],
  },
  {
    name: "sns: missing topicArn",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: n\n      type: sns\n      topic: deploys\n",
    expect: [
      "8:7 error /spec/channels/0 missing required property \"topicArn\": ARN of the SNS topic, such as arn:aws:sns:us-east-1:123456789012:deploys (FIFO topic names end in .fifo)",
      "10:7 error /spec/channels/0/topic unknown property \"topic\"; did you mean \"topicArn\"?",
    ],
  },
  {
    name: "email: bad from and empty to",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: e\n      type: email\n      from: deploys\n      to: []\n",
    expect: [
      "10:13 error /spec/channels/0/from \"deploys\" is not a valid email address",
      "11:11 error /spec/channels/0/to to must have at least 1 item",
    ],
  },
  {
    name: "email: to is a string",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: e\n      type: email\n      from: deploys@example.com\n      to: team@example.com\n",
    expect: [
      "11:11 error /spec/channels/0/to to must be a list, found a string (\"team@example.com\")",
    ],
  },
  {
    name: "email: too many recipients",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: e\n      type: email\n      from: deploys@example.com\n      to: [a0@example.com, a1@example.com, a2@example.com, a3@example.com, a4@example.com, a5@example.com, a6@example.com, a7@example.com, a8@example.com, a9@example.com, a10@example.com, a11@example.com, a12@example.com, a13@example.com, a14@example.com, a15@example.com, a16@example.com, a17@example.com, a18@example.com, a19@example.com, a20@example.com, a21@example.com, a22@example.com, a23@example.com, a24@example.com, a25@example.com, a26@example.com, a27@example.com, a28@example.com, a29@example.com]\n      cc: [c0@example.com, c1@example.com, c2@example.com, c3@example.com, c4@example.com, c5@example.com, c6@example.com, c7@example.com, c8@example.com, c9@example.com, c10@example.com, c11@example.com, c12@example.com, c13@example.com, c14@example.com, c15@example.com, c16@example.com, c17@example.com, c18@example.com, c19@example.com, c20@example.com]\n",
    expect: [
      "12:11 error /spec/channels/0/cc to and cc together have 51 addresses; Amazon SES accepts at most 50 recipients per message",
    ],
  },
  {
    name: "newrelic: plain API key",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: apm\n      type: newrelic\n      entityGuid: MXxBUE18QVBQTElDQVRJT058MTIzNDU2\n      apiKey: NRAK-ABCDEFGHIJKLMNOPQRSTUVWXYZ0\n",
    expect: [
      "11:15 error /spec/channels/0/apiKey plain secret: apiKey must not be written in the file; set it in an environment variable of the daemon and write  apiKey: { fromEnv: APM_API_KEY }",
    ],
  },
  {
    name: "newrelic: bad region",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: apm\n      type: newrelic\n      entityGuid: MXxBUE18QVBQTElDQVRJT058MTIzNDU2\n      apiKey: { fromEnv: NR_KEY }\n      region: eu\n",
    expect: [
      "12:15 error /spec/channels/0/region region must be one of US, EU; found \"eu\"; did you mean \"EU\"?",
    ],
  },
  {
    name: "template: unknown variable",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n      template:\n        title: \"Deploy of {{aplication}} {{event}}\"\n",
    expect: [
      "12:27 error /spec/channels/0/template/title unknown template variable {{aplication}}; did you mean {{application}}? (see README: Templates for the full list)",
    ],
  },
  {
    name: "template: unclosed placeholder",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n      template:\n        text: Deployed {{deploymentId by {{creator}}\n",
    expect: [
      "12:24 error /spec/channels/0/template/text unclosed placeholder: \"{{\" without a matching \"}}\"",
    ],
  },
  {
    name: "template: empty",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n      template: {}\n",
    expect: [
      "11:17 error /spec/channels/0/template template must not be empty",
    ],
  },
  {
    name: "secret pasted into a label",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\n  labels:\n    hook: https://hooks.slack.com/services/T0/B0/XYZ\nspec:\n  application: demo-app\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "6:11 error /metadata/labels/hook plain secret: a Slack webhook URL must not be written in the file; set it in an environment variable of the daemon and write  hook: { fromEnv: HOOK }",
    ],
  },
  {
    name: "duplicate key",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  application: other\n  channels:\n    - name: s\n      type: slack\n      webhookUrl: { fromEnv: SLACK_URL }\n",
    expect: [
      "7:3 error  duplicate key \"application\": each key may appear only once in a mapping",
    ],
  },
  {
    name: "tab indentation",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n\tname: demo\n",
    expect: [
      "4:1 error  tab used for indentation: YAML indents with spaces only",
    ],
  },
  {
    name: "unclosed flow sequence",
    yaml: "apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: demo\nspec:\n  application: demo-app\n  events: [Failed\n  channels: []\n",
    expect: [
      "8:3 error  YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
    ],
  },
  {
    name: "document is a list",
    yaml: "- apiVersion: codedeploy-notify/v1\n- kind: Registration\n",
    expect: [
      "1:1 error  a registration must be a mapping with apiVersion, kind, metadata and spec; found a list",
    ],
  },
  {
    name: "document is a scalar",
    yaml: "just some text\n",
    expect: [
      "1:1 error  a registration must be a mapping with apiVersion, kind, metadata and spec; found a single value (\"just some text\")",
    ],
  },
  {
    name: "empty document between separators",
    yaml: "---\n---\n",
    expect: [
      "1:4 warning  empty document (nothing between the --- separators)",
      "2:4 warning  empty document (nothing between the --- separators)",
    ],
  },
];
