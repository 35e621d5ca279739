import type { Notification } from '../core/events.js';
import { CONSOLE_LINK_LABEL, EVENT_COLORS, composeMessage, formatPreview, messageFacts, truncate } from '../templates/messages.js';
import type { ChannelConfigOf, ChannelFactory, HttpResponse } from './channel.js';
import type { HttpProviderHooks } from './http.js';
import { assertValidTemplate, postChatMessage } from './support.js';

/**
 * Slack incoming webhooks: a Block Kit message. A header with the status emoji and title, the
 * text, then an attachment whose colour bar shows the status and which holds the facts
 * (application, group, status, deployment, revision, creator, duration, ...), an error block for
 * failures, the console link button and a context line; `text` is the plain fallback shown in
 * notifications. Success is 200 `ok`; Slack's plain-text errors are classified per AWS-FACTS.
 */

type SlackConfig = ChannelConfigOf<'slack'>;

/** A Block Kit text object. */
interface SlackText {
  type: 'plain_text' | 'mrkdwn';
  text: string;
  emoji?: boolean;
}

/** The JSON body posted to the webhook. */
export interface SlackPayload {
  text: string;
  blocks: unknown[];
  attachments: { color: string; blocks: unknown[] }[];
}

/** Escapes text for Slack mrkdwn (only &, < and > are special). */
export function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Block Kit limits: header text 150, section text 3000, field text 2000, at most 10 fields,
// button text 75, button url 3000.
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const FIELDS_MAX = 10;

/** Builds the webhook body for a notification. Pure. */
export function renderSlack(config: SlackConfig, notification: Notification): SlackPayload {
  const message = composeMessage(notification, config.template, slackEscape);
  const facts = messageFacts(notification);
  const { event } = notification;
  const mrkdwn = (text: string): SlackText => ({ type: 'mrkdwn', text });

  const blocks: unknown[] = [{ type: 'header', text: { type: 'plain_text', text: truncate(message.title, HEADER_MAX), emoji: true } }];
  if (message.text) blocks.push({ type: 'section', text: mrkdwn(truncate(message.text, SECTION_MAX)) });

  const details: unknown[] = [];
  const fields = facts
    .filter((f) => f.label !== 'Error' && f.label !== 'Rollback')
    .slice(0, FIELDS_MAX)
    .map((f) => mrkdwn(truncate(`*${f.label}*\n${f.label === 'Deployment' || f.label === 'Revision' ? `\`${slackEscape(f.value)}\`` : slackEscape(f.value)}`, FIELD_MAX)));
  if (fields.length > 0) details.push({ type: 'section', fields });
  if (event.error && (event.error.code || event.error.message)) {
    const head = `:warning: *${event.error.code ? slackEscape(event.error.code) : 'Error'}*`;
    const body = event.error.message ? `\n>${slackEscape(event.error.message).replace(/\n/g, '\n>')}` : '';
    details.push({ type: 'section', text: mrkdwn(truncate(`${head}${body}`, SECTION_MAX)) });
  }
  details.push({
    type: 'actions',
    elements: [{ type: 'button', text: { type: 'plain_text', text: CONSOLE_LINK_LABEL, emoji: true }, url: event.consoleUrl, action_id: 'console' }],
  });
  const context = [`codedeploy-notify · ${slackEscape(notification.registration.name)}`];
  if (notification.test) context.unshift(':test_tube: *Test message* from `send-test`');
  details.push({ type: 'context', elements: [mrkdwn(context.join(' · '))] });

  return {
    text: slackEscape(message.title),
    blocks,
    attachments: [{ color: EVENT_COLORS[event.type], blocks: details }],
  };
}

/** What Slack's plain-text error codes mean and how to fix them. */
const SLACK_HINTS: Record<string, string> = {
  invalid_payload: 'Slack could not read the message; this is a bug in codedeploy-notify, please report it',
  no_text: 'Slack found no text in the message; this is a bug in codedeploy-notify, please report it',
  invalid_token: 'the webhook was revoked or its app uninstalled: create a new incoming webhook and put its URL in',
  action_prohibited: 'a workspace admin restricted posting to this channel: ask them, or create a webhook for another channel and put its URL in',
  channel_not_found: 'the channel was deleted or the webhook lost access to it: create a new incoming webhook and put its URL in',
  no_service: 'the webhook was disabled or removed: create a new incoming webhook and put its URL in',
  channel_is_archived: 'the channel is archived: unarchive it, or create a webhook for another channel and put its URL in',
};

function slackHooks(variable: string): HttpProviderHooks {
  return {
    provider: 'Slack',
    hint(response: HttpResponse) {
      const code = response.body.trim();
      const hint = SLACK_HINTS[code];
      if (!hint) return undefined;
      return hint.endsWith(' in') ? `${hint} ${variable}` : hint;
    },
  };
}

/**
 * Builds a Slack channel. The webhook URL is a secret resolved at every send (a missing variable
 * fails the delivery naming it); the template overrides are checked here.
 */
export const createSlackChannel: ChannelFactory<'slack'> = (config, context) => {
  assertValidTemplate(config);
  const variable = config.webhookUrl.fromEnv;
  return {
    send(notification, signal) {
      return postChatMessage(context, config, notification, signal, {
        provider: 'Slack',
        urlHint: 'the Slack incoming webhook URL (https://hooks.slack.com/services/…)',
        body: renderSlack(config, notification),
        hooks: slackHooks(variable),
      });
    },
  };
};

/** What the Slack message would show, for a terminal. Pure. */
export function previewSlack(config: SlackConfig, notification: Notification): string {
  const message = composeMessage(notification, config.template);
  return formatPreview(`slack · ${notification.channelName}`, message, messageFacts(notification), [
    { label: CONSOLE_LINK_LABEL, value: notification.event.consoleUrl },
  ]);
}
