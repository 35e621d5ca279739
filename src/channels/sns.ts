import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import type { Notification } from '../core/events.js';
import { CONSOLE_LINK_LABEL, composeMessage, formatPlainText, formatPreview, messageFacts, truncate } from '../templates/messages.js';
import { regionFromTopicArn } from './aws-clients.js';
import type { ChannelConfigOf, ChannelFactory } from './channel.js';
import { assertValidTemplate, invalidChannel, sendWithAws } from './support.js';
import { webhookBody } from './webhook.js';

/**
 * Amazon SNS Publish, for teams' own automation. The message uses `MessageStructure: json`:
 * subscribers over SQS, Lambda, HTTP(S) and email-json get the versioned JSON document of the
 * webhook channel (docs/webhook.md), email subscribers a plain-text message and SMS the title.
 * `Subject` is ASCII, one line, under 100 characters. Message attributes `application`, `event`,
 * `deploymentGroup`, `registration` and `test` (String) let subscription filter policies select
 * events. FIFO topics (`.fifo`) get `MessageGroupId` = application/group (ordered per group) and
 * `MessageDeduplicationId` = the delivery id, so a resend within SNS's 5-minute window is dropped.
 */

type SnsConfig = ChannelConfigOf<'sns'>;

/** SNS limits: Subject < 100 characters; message and attributes ≤ 256 KiB; FIFO ids ≤ 128 characters. */
const SUBJECT_MAX = 99;
const MESSAGE_MAX_BYTES = 256 * 1024;
const FIFO_ID_MAX = 128;

/**
 * A title made fit for an SNS Subject: ASCII only (emoji and other non-ASCII characters dropped,
 * accents stripped), no control characters or line breaks, starting with a letter, digit or
 * punctuation, at most 99 characters (cut with "...").
 */
export function snsSubject(title: string): string {
  const ascii = title
    .normalize('NFKD')
    .replace(/[^\x20-\x7E]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const subject = ascii === '' ? 'CodeDeploy deployment notification' : ascii;
  return subject.length <= SUBJECT_MAX ? subject : `${subject.slice(0, SUBJECT_MAX - 3).trimEnd()}...`;
}

/** A FIFO message group id: the allowed characters (alphanumeric and ASCII punctuation), ≤ 128. */
export function fifoGroupId(application: string, deploymentGroup: string): string {
  return `${application}/${deploymentGroup}`.replace(/[^\x21-\x7E]/g, '_').slice(0, FIFO_ID_MAX);
}

/** True for a FIFO topic ARN. */
export function isFifoTopic(topicArn: string): boolean {
  return topicArn.endsWith('.fifo');
}

/** Builds the Publish input for a notification. Pure. */
export function renderSns(config: SnsConfig, notification: Notification): PublishCommandInput {
  const { event } = notification;
  const message = composeMessage(notification, config.template);
  const document = JSON.stringify(webhookBody(notification, config.template));
  let email = formatPlainText(message, messageFacts(notification), [{ label: CONSOLE_LINK_LABEL, value: event.consoleUrl }]);
  const structure = (): string => JSON.stringify({ default: document, email, sms: truncate(message.title, 140) });
  let body = structure();
  if (Buffer.byteLength(body) > MESSAGE_MAX_BYTES) {
    // Only a huge template text can get here; the email part gives way, the document stays whole.
    email = truncate(email, 16 * 1024);
    body = structure();
  }
  const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
  const input: PublishCommandInput = {
    TopicArn: config.topicArn,
    Subject: snsSubject(message.title),
    MessageStructure: 'json',
    Message: body,
    MessageAttributes: {
      application: attribute(event.application),
      event: attribute(event.type),
      deploymentGroup: attribute(event.deploymentGroup),
      registration: attribute(notification.registration.name),
      test: attribute(notification.test ? 'true' : 'false'),
    },
  };
  if (isFifoTopic(config.topicArn)) {
    input.MessageGroupId = fifoGroupId(event.application, event.deploymentGroup);
    input.MessageDeduplicationId = notification.deliveryId.slice(0, FIFO_ID_MAX);
  }
  return input;
}

const SNS_HINTS: Record<string, string> = {
  NotFoundException: 'the topic does not exist in that account and region: create it or fix topicArn',
  AuthorizationErrorException: "the daemon's credentials may not publish to this topic: allow sns:Publish on it (and kms:GenerateDataKey/kms:Decrypt for an encrypted topic)",
  InvalidParameterException: 'SNS refused the message; if the topic is FIFO its name must end in .fifo',
  KMSAccessDeniedException: "the daemon may not use the topic's KMS key: allow kms:GenerateDataKey and kms:Decrypt",
  KMSDisabledException: "the topic's KMS key is disabled: enable it",
};

/**
 * Builds an SNS channel; the topic's region comes from its ARN. Never throws from send: throttling,
 * 5xx, timeouts and network errors retry; NotFound, AuthorizationError, InvalidParameter and other
 * client errors fail with a reason naming the topic and how to fix it.
 */
export const createSnsChannel: ChannelFactory<'sns'> = (config, context) => {
  assertValidTemplate(config);
  const region = regionFromTopicArn(config.topicArn);
  if (!region) throw invalidChannel(config, `topicArn ${config.topicArn} has no region: write arn:aws:sns:<region>:<account>:<topic>`);
  return {
    send(notification, signal) {
      const input = renderSns(config, notification);
      return sendWithAws(context, config, notification, signal, 'SNS', (abortSignal) => context.aws.sns(region).send(new PublishCommand(input), { abortSignal }), (name, message) => {
        const hint = SNS_HINTS[name];
        return `SNS ${name} publishing to ${config.topicArn}: ${message}${hint ? ` (${hint})` : ''}`;
      });
    },
  };
};

/** What email subscribers of the topic would read, for a terminal. Pure. */
export function previewSns(config: SnsConfig, notification: Notification): string {
  const message = composeMessage(notification, config.template);
  const input = renderSns(config, notification);
  const links = [
    { label: CONSOLE_LINK_LABEL, value: notification.event.consoleUrl },
    { label: 'Subject', value: input.Subject ?? '' },
  ];
  if (input.MessageGroupId) links.push({ label: 'FIFO group / dedupe id', value: `${input.MessageGroupId} / ${input.MessageDeduplicationId ?? ''}` });
  return formatPreview(`sns · ${notification.channelName} → ${config.topicArn}`, message, messageFacts(notification), links);
}
