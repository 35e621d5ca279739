import type { MessageTemplate } from '../config/registration.generated.js';
import type { DeploymentEvent, EventType, Notification } from '../core/events.js';
import { checkTemplate, renderTemplate, templateValues, type TemplateValues } from './template.js';

/**
 * The default wording of every channel, so six channels do not each invent their own: a title and
 * a short text per event, written as templates over the closed variable set of template.ts (the
 * same mechanism as user overrides), plus the facts list that chat cards, emails and previews show.
 * Pure.
 */

/** A rendered title (one line, plain text) and text (a few lines, escaped for the channel). */
export interface Message {
  title: string;
  text: string;
}

/** One labelled value of a message's facts table. */
export interface Fact {
  label: string;
  value: string;
}

/** Escapes a value for a channel's text format (mrkdwn, HTML, or nothing for plain text). */
export type Escape = (s: string) => string;

const identity: Escape = (s) => s;

/** Prefix of the title of every test message (`send-test`). */
export const TEST_TITLE_PREFIX = '[TEST] ';

/** First line of the text of every test message (`send-test`). */
export const TEST_NOTE = 'This is a test message sent with codedeploy-notify send-test; no deployment happened.';

const VERB: Record<EventType, string> = {
  Started: 'started',
  Ready: 'is waiting for traffic to be rerouted',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Stopped: 'was stopped',
};

/** The default title template of an event: `{{emoji}} {{application}} deployment to {{deploymentGroup}} failed`. */
export function defaultTitleTemplate(event: DeploymentEvent): string {
  const noun = event.rollback?.isRollback ? 'rollback' : 'deployment';
  return `{{emoji}} {{application}} ${noun} to {{deploymentGroup}} ${VERB[event.type]}`;
}

/**
 * The default text template of an event, built from the values that are present so no sentence
 * has a hole in it: what happened to which deployment of which revision, by whom, how long it
 * took, the error code and rollback for failures, then the deployment description on its own line.
 */
export function defaultTextTemplate(event: DeploymentEvent, values: TemplateValues): string {
  const has = (name: string): boolean => (values[name] ?? '') !== '';
  const of = has('revision') ? ' of {{revision}}' : '';
  const by = has('creator') ? ' by {{creator}}' : '';
  const after = has('duration') ? ' after {{duration}}' : '';
  const lines: string[] = [];
  switch (event.type) {
    case 'Started':
      lines.push(`Deployment {{deploymentId}}${of} started${by}.`);
      break;
    case 'Ready':
      lines.push(`Deployment {{deploymentId}}${of} is ready: the replacement environment is up and waiting for traffic to be rerouted.`);
      break;
    case 'Succeeded': {
      const took = has('duration') ? ' in {{duration}}' : '';
      const instances = has('instancesSucceeded') ? ' ({{instancesSucceeded}} targets updated)' : '';
      lines.push(`Deployment {{deploymentId}}${of} succeeded${took}${instances}.`);
      break;
    }
    case 'Failed':
    case 'Stopped': {
      // The error code only: the message is long, and every channel shows it in its own place
      // (the Error fact, Slack's error block).
      const verb = event.type === 'Failed' ? 'failed' : 'was stopped';
      const code = has('errorCode') ? ' with error {{errorCode}}' : '';
      lines.push(`Deployment {{deploymentId}}${of} ${verb}${after}${code}.`);
      break;
    }
  }
  if (has('rollback')) lines.push('{{rollback}}');
  if (has('description')) lines.push('{{description}}');
  return lines.join('\n');
}

/**
 * The title and text of a notification as one channel shows it. A channel's `template.title` /
 * `template.text` replace the defaults. Inserted values are escaped with `escapeText` in the text
 * (the title is plain text everywhere: channels escape it where they embed it). A test
 * notification gets `[TEST] ` before its title and a note as its first line.
 */
export function composeMessage(notification: Notification, template: MessageTemplate | undefined, escapeText: Escape = identity): Message {
  const values = templateValues(notification.event, notification.registration, notification.channelName);
  let title = oneLine(renderTemplate(template?.title ?? defaultTitleTemplate(notification.event), values));
  let text = renderTemplate(template?.text ?? defaultTextTemplate(notification.event, values), values, escapeText).trim();
  if (notification.test) {
    title = `${TEST_TITLE_PREFIX}${title}`;
    text = `${escapeText(TEST_NOTE)}\n${text}`;
  }
  return { title, text };
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * The facts of a notification, in display order, skipping empty ones: application, group, status,
 * deployment id, revision, creator, duration, instances, region/account, owner, error, rollback.
 * Values are raw: channels escape them.
 */
export function messageFacts(notification: Notification): Fact[] {
  const v = templateValues(notification.event, notification.registration, notification.channelName);
  const get = (name: string): string => v[name] ?? '';
  const instances = notification.event.instances
    ? `${get('instancesSucceeded')} succeeded, ${get('instancesFailed')} failed${notification.event.instances.skipped ? `, ${notification.event.instances.skipped} skipped` : ''}`
    : '';
  const error = [get('errorCode'), get('errorMessage')].filter(Boolean).join(': ');
  const where = get('account') ? `${get('region')} (account ${get('account')})` : get('region');
  const facts: Fact[] = [
    { label: 'Application', value: get('application') },
    { label: 'Deployment group', value: get('deploymentGroup') },
    { label: 'Status', value: get('status') },
    { label: 'Deployment', value: get('deploymentId') },
    { label: 'Revision', value: get('revision') },
    { label: 'Creator', value: get('creator') },
    { label: 'Duration', value: get('duration') },
    { label: 'Instances', value: instances },
    { label: 'Region', value: where },
    { label: 'Owner', value: get('owner') },
    { label: 'Error', value: error },
    { label: 'Rollback', value: get('rollback') },
  ];
  return facts.filter((fact) => fact.value !== '');
}

/** Status colours (hex) per event, for channels with a colour bar or accent. */
export const EVENT_COLORS: Readonly<Record<EventType, string>> = {
  Started: '#1D9BD1',
  Ready: '#8E44AD',
  Succeeded: '#2EB67D',
  Failed: '#E01E5A',
  Stopped: '#ECB22E',
};

/** The label of the console link, shared by every channel. */
export const CONSOLE_LINK_LABEL = 'View in AWS console';

/**
 * Checks a channel's template overrides (unknown variables, unbalanced braces). Returns one
 * message per problem, naming the field (`template.title` / `template.text`); empty when fine.
 */
export function checkMessageTemplate(template: MessageTemplate | undefined): string[] {
  const problems: string[] = [];
  for (const field of ['title', 'text'] as const) {
    const value = template?.[field];
    if (value === undefined) continue;
    for (const problem of checkTemplate(value)) problems.push(`template.${field}: ${problem.message}`);
  }
  return problems;
}

/**
 * A terminal rendering of a message "as the channel would show it", for local mode's console
 * outbox and `preview`: a header naming the channel, the title, the text, the facts aligned in a
 * table and the links. Plain text, no colours.
 */
export function formatPreview(header: string, message: Message, facts: readonly Fact[], links: readonly Fact[] = []): string {
  return `── ${header} ──\n${formatPlainText(message, facts, links)}`;
}

/**
 * A message as plain text (email text parts, SNS email subscribers, previews): title, text, the
 * facts aligned in a table, then the links.
 */
export function formatPlainText(message: Message, facts: readonly Fact[], links: readonly Fact[] = []): string {
  const width = Math.max(0, ...facts.map((f) => f.label.length));
  const lines = [message.title];
  if (message.text) lines.push('', ...message.text.split('\n'));
  if (facts.length > 0) {
    lines.push('');
    for (const fact of facts) lines.push(`  ${`${fact.label}:`.padEnd(width + 2)}${fact.value.replace(/\s*\n\s*/g, ' ')}`);
  }
  if (links.length > 0) {
    lines.push('');
    for (const link of links) lines.push(`  → ${link.label}: ${link.value}`);
  }
  return lines.join('\n');
}

/** Truncates to at most `max` characters (code points), ending with `…` when cut. */
export function truncate(s: string, max: number, ellipsis = '…'): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return chars.slice(0, Math.max(0, max - [...ellipsis].length)).join('') + ellipsis;
}
