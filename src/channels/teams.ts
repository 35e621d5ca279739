import type { EventType, Notification } from '../core/events.js';
import { CONSOLE_LINK_LABEL, composeMessage, formatPreview, messageFacts, truncate } from '../templates/messages.js';
import type { ChannelConfigOf, ChannelFactory, HttpResponse } from './channel.js';
import type { HttpProviderHooks } from './http.js';
import { assertValidTemplate, postChatMessage } from './support.js';

/**
 * Microsoft Teams through a Workflows ("Post to a channel when a webhook request is received")
 * webhook: an Adaptive Card 1.4 inside the message envelope
 * `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",...}]}`.
 * The card has a status-coloured title, the text, a FactSet and an Action.OpenUrl to the console.
 * Office 365 connector webhooks are retired (AWS-FACTS) and not supported. 200 and 202 are success.
 */

type TeamsConfig = ChannelConfigOf<'teams'>;

/** The JSON body posted to the Workflows webhook. */
export interface TeamsPayload {
  type: 'message';
  attachments: { contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: AdaptiveCard }[];
}

/** The subset of Adaptive Card 1.4 this channel writes. */
export interface AdaptiveCard {
  $schema: string;
  type: 'AdaptiveCard';
  version: '1.4';
  body: unknown[];
  actions: unknown[];
  msteams: { width: 'Full' };
}

/** Adaptive Card container style and text colour per event. */
const STYLE: Record<EventType, { container: string; color: string }> = {
  Started: { container: 'accent', color: 'Accent' },
  Ready: { container: 'accent', color: 'Accent' },
  Succeeded: { container: 'good', color: 'Good' },
  Failed: { container: 'attention', color: 'Attention' },
  Stopped: { container: 'warning', color: 'Warning' },
};

/** Builds the Workflows webhook body for a notification. Pure. */
export function renderTeams(config: TeamsConfig, notification: Notification): TeamsPayload {
  const message = composeMessage(notification, config.template);
  const { event } = notification;
  const style = STYLE[event.type];
  const header: unknown[] = [];
  if (notification.test) header.push({ type: 'TextBlock', text: 'TEST MESSAGE from codedeploy-notify send-test', weight: 'Bolder', color: 'Warning', size: 'Small', wrap: true });
  header.push({ type: 'TextBlock', text: truncate(message.title, 250), weight: 'Bolder', size: 'Large', color: style.color, wrap: true });
  const body: unknown[] = [{ type: 'Container', style: style.container, bleed: true, items: header }];
  if (message.text) body.push({ type: 'TextBlock', text: truncate(message.text, 4000), wrap: true });
  const facts = messageFacts(notification).map((f) => ({ title: f.label, value: truncate(f.value, 1000) }));
  if (facts.length > 0) body.push({ type: 'FactSet', facts });
  body.push({ type: 'TextBlock', text: `codedeploy-notify · ${notification.registration.name}`, isSubtle: true, size: 'Small', wrap: true });
  const card: AdaptiveCard = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    actions: [{ type: 'Action.OpenUrl', title: CONSOLE_LINK_LABEL, url: event.consoleUrl }],
    msteams: { width: 'Full' },
  };
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }] };
}

function teamsHooks(variable: string): HttpProviderHooks {
  return {
    provider: 'Teams',
    hint(response: HttpResponse) {
      if (response.status === 401 || response.status === 403) return `the workflow rejected the request (its URL signature is wrong or the flow's trigger now requires sign-in): copy the webhook URL from the workflow again into ${variable}`;
      if (response.status === 404) return `the workflow or its trigger no longer exists: create a Workflows webhook for the channel and put its URL in ${variable}`;
      if (response.status === 400) return 'the workflow could not read the card; check that the flow posts an Adaptive Card from the webhook body';
      return undefined;
    },
  };
}

/**
 * Builds a Teams channel. The Workflows webhook URL (which carries a signature) is a secret
 * resolved at every send; template overrides are checked here.
 */
export const createTeamsChannel: ChannelFactory<'teams'> = (config, context) => {
  assertValidTemplate(config);
  const variable = config.webhookUrl.fromEnv;
  return {
    send(notification, signal) {
      return postChatMessage(context, config, notification, signal, {
        provider: 'Teams',
        urlHint: 'the Teams Workflows webhook URL',
        body: renderTeams(config, notification),
        hooks: teamsHooks(variable),
      });
    },
  };
};

/** What the Teams card would show, for a terminal. Pure. */
export function previewTeams(config: TeamsConfig, notification: Notification): string {
  const message = composeMessage(notification, config.template);
  return formatPreview(`teams · ${notification.channelName}`, message, messageFacts(notification), [
    { label: CONSOLE_LINK_LABEL, value: notification.event.consoleUrl },
  ]);
}
