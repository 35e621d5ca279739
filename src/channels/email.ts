import { SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-ses';
import type { Notification } from '../core/events.js';
import { CONSOLE_LINK_LABEL, EVENT_COLORS, TEST_NOTE, composeMessage, formatPlainText, formatPreview, messageFacts } from '../templates/messages.js';
import type { ChannelConfigOf, ChannelFactory } from './channel.js';
import { assertValidTemplate, invalidChannel, sendWithAws } from './support.js';

/**
 * Email through Amazon SES v1 SendEmail, in the daemon's default region: a subject a human wants
 * in their inbox ("❌ checkout-service deployment to production failed"), an HTML part (inline
 * styles, a status-coloured bar, the facts table, a console button; every value HTML-escaped) and
 * a plain-text part with the same content. `to` + `cc` ≤ 50 (SES's limit), `configurationSet`
 * passed as ConfigurationSetName.
 */

type EmailConfig = ChannelConfigOf<'email'>;

/** SES v1 accepts at most 50 recipients per message. */
const MAX_RECIPIENTS = 50;

/** Escapes text for HTML element content and attribute values. */
export function htmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** The HTML part of the email. Pure. */
export function emailHtml(config: EmailConfig, notification: Notification): string {
  const message = composeMessage(notification, config.template, htmlEscape);
  const { event, registration } = notification;
  const color = EVENT_COLORS[event.type];
  const paragraphs = message.text
    .split('\n')
    .filter((line) => line !== '' && !(notification.test && line === htmlEscape(TEST_NOTE)))
    .map((line) => `<p style="margin:0 0 8px;line-height:1.5">${line}</p>`)
    .join('\n');
  const rows = messageFacts(notification)
    .map(
      (f) =>
        `<tr><th align="left" valign="top" style="padding:6px 12px 6px 0;color:#616061;font-weight:600;white-space:nowrap">${htmlEscape(f.label)}</th>` +
        `<td style="padding:6px 0;word-break:break-word">${htmlEscape(f.value)}</td></tr>`,
    )
    .join('\n');
  const banner = notification.test
    ? `<p style="margin:0 0 16px;padding:8px 12px;background:#fff4d6;border:1px solid #ecb22e;border-radius:4px;font-weight:600">${htmlEscape(TEST_NOTE)}</p>\n`
    : '';
  const footer = `Sent by codedeploy-notify for registration ${htmlEscape(registration.name)}${registration.owner ? ` (owner ${htmlEscape(registration.owner)})` : ''}.`;
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${htmlEscape(message.title)}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1d1c1d;font-size:14px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f5f7"><tr><td align="center" style="padding:24px 12px">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-top:6px solid ${color};border-radius:4px">
<tr><td style="padding:24px">
${banner}<h1 style="margin:0 0 12px;font-size:20px;line-height:1.3">${htmlEscape(message.title)}</h1>
${paragraphs}
<table role="presentation" cellpadding="0" cellspacing="0" style="margin:16px 0;border-collapse:collapse">
${rows}
</table>
<p style="margin:16px 0 0"><a href="${htmlEscape(event.consoleUrl)}" style="display:inline-block;padding:10px 16px;background:#232f3e;color:#ffffff;text-decoration:none;border-radius:4px;font-weight:600">${CONSOLE_LINK_LABEL}</a></p>
</td></tr>
<tr><td style="padding:12px 24px;border-top:1px solid #e8e8e8;color:#616061;font-size:12px">${footer}</td></tr>
</table>
</td></tr></table>
</body>
</html>
`;
}

/** The plain-text part of the email. Pure. */
export function emailText(config: EmailConfig, notification: Notification): string {
  const message = composeMessage(notification, config.template);
  const { registration } = notification;
  const footer = `Sent by codedeploy-notify for registration ${registration.name}${registration.owner ? ` (owner ${registration.owner})` : ''}.`;
  return `${formatPlainText(message, messageFacts(notification), [{ label: CONSOLE_LINK_LABEL, value: notification.event.consoleUrl }])}\n\n-- \n${footer}\n`;
}

/** Builds the SendEmail input for a notification. Pure. */
export function renderEmail(config: EmailConfig, notification: Notification): SendEmailCommandInput {
  const subject = composeMessage(notification, config.template).title;
  const input: SendEmailCommandInput = {
    Source: config.from,
    Destination: { ToAddresses: [...config.to], ...(config.cc && config.cc.length > 0 ? { CcAddresses: [...config.cc] } : {}) },
    Message: {
      Subject: { Data: subject, Charset: 'UTF-8' },
      Body: {
        Text: { Data: emailText(config, notification), Charset: 'UTF-8' },
        Html: { Data: emailHtml(config, notification), Charset: 'UTF-8' },
      },
    },
  };
  if (config.configurationSet) input.ConfigurationSetName = config.configurationSet;
  return input;
}

function sesHint(name: string, config: EmailConfig, region: string): string | undefined {
  switch (name) {
    case 'MessageRejected':
      return `verify ${config.from} (or its domain) in SES ${region}; while the account is in the SES sandbox, verify the recipients too`;
    case 'MailFromDomainNotVerifiedException':
      return `the custom MAIL FROM domain of ${config.from} is not verified in SES ${region}`;
    case 'ConfigurationSetDoesNotExistException':
    case 'ConfigurationSetDoesNotExist':
      return `create configuration set ${config.configurationSet ?? ''} in SES ${region}, or remove configurationSet`;
    case 'AccountSendingPausedException':
      return `sending is paused for the account in SES ${region}: see the SES console`;
    case 'ConfigurationSetSendingPausedException':
      return `sending is paused for configuration set ${config.configurationSet ?? ''}`;
    case 'AccessDenied':
    case 'AccessDeniedException':
      return "allow ses:SendEmail for the daemon's credentials";
    default:
      return undefined;
  }
}

/**
 * Builds an email channel (SES in the context's default region). Checks at construction that `to`
 * and `cc` together have at most 50 addresses. From send: throttling, 5xx, timeouts and network
 * errors retry; MessageRejected, MailFromDomainNotVerified and other client errors fail with a fix.
 */
export const createEmailChannel: ChannelFactory<'email'> = (config, context) => {
  assertValidTemplate(config);
  const recipients = config.to.length + (config.cc?.length ?? 0);
  if (recipients > MAX_RECIPIENTS) throw invalidChannel(config, `to and cc have ${recipients} addresses together; SES accepts at most ${MAX_RECIPIENTS}: use a mailing list`);
  const region = context.defaultRegion;
  return {
    send(notification, signal) {
      const input = renderEmail(config, notification);
      return sendWithAws(context, config, notification, signal, 'SES', (abortSignal) => context.aws.ses(region).send(new SendEmailCommand(input), { abortSignal }), (name, message) => {
        const hint = sesHint(name, config, region);
        return `SES ${name} sending from ${config.from}: ${message}${hint ? ` (${hint})` : ''}`;
      });
    },
  };
};

/** The email as its text part reads, with its envelope, for a terminal. Pure. */
export function previewEmail(config: EmailConfig, notification: Notification): string {
  const message = composeMessage(notification, config.template);
  const envelope = [`From: ${config.from}`, `To: ${config.to.join(', ')}`];
  if (config.cc && config.cc.length > 0) envelope.push(`Cc: ${config.cc.join(', ')}`);
  return formatPreview(`email · ${notification.channelName} · ${envelope.join(' · ')}`, { title: `Subject: ${message.title}`, text: message.text }, messageFacts(notification), [
    { label: CONSOLE_LINK_LABEL, value: notification.event.consoleUrl },
  ]);
}
