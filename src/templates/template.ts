import type { DeploymentEvent, RegistrationRef } from '../core/events.js';
import { closest } from '../util/closest.js';
import { formatDuration } from '../util/duration.js';

/**
 * The closed set of template variables, with what each holds. A `{{name}}` outside this set (or
 * outside `labels.<key>`) is a validation error at load time, never a blank at send time.
 */
export const TEMPLATE_VARIABLES = {
  registration: 'name of the registration (metadata.name)',
  owner: 'owner of the registration (metadata.owner), empty when unset',
  channel: 'name of the channel sending the message',
  application: 'CodeDeploy application name',
  deploymentGroup: 'CodeDeploy deployment group name',
  deploymentId: 'CodeDeploy deployment id, such as d-ABCDEF123',
  event: 'the event: Started, Ready, Succeeded, Failed or Stopped',
  status: 'CodeDeploy status when the event was seen',
  emoji: 'an emoji for the event (✅ ❌ ⏹️ 🚀 ⏸️)',
  creator: 'who started the deployment: user, autoscaling, codeDeployRollback, CloudFormation, ...',
  description: 'the deployment description, empty when unset',
  revision: 'the revision in one line: owner/repo@commit or s3://bucket/key',
  repository: 'GitHub repository of the revision, empty for S3 revisions',
  commit: 'full commit id of a GitHub revision',
  commitShort: 'first 7 characters of the commit id',
  errorCode: 'CodeDeploy error code of a failed or stopped deployment',
  errorMessage: 'CodeDeploy error message of a failed or stopped deployment',
  rollback: 'a sentence about the rollback this deployment is or caused, empty otherwise',
  instancesSucceeded: 'number of instances (or tasks) that succeeded',
  instancesFailed: 'number of instances (or tasks) that failed',
  duration: 'how long the deployment ran, such as 3m 5s',
  durationSeconds: 'how long the deployment ran, in seconds',
  createTime: 'when the deployment was created (ISO-8601)',
  startTime: 'when the deployment started (ISO-8601)',
  completeTime: 'when the deployment ended (ISO-8601)',
  region: 'AWS region of the deployment',
  account: 'AWS account id, when known',
  consoleUrl: 'link to the deployment in the AWS console',
} as const;

export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;
/** Values for every variable, plus `labels.<key>` entries. */
export type TemplateValues = Record<string, string>;

const LABEL_PREFIX = 'labels.';
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** A problem in a template string, with the character offset where it starts. */
export interface TemplateProblem {
  offset: number;
  message: string;
}

/**
 * Checks a template: every `{{...}}` must name a known variable or `labels.<key>`; braces must
 * be balanced. Returns the problems found (empty when the template is fine). Pure.
 */
export function checkTemplate(template: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const known = Object.keys(TEMPLATE_VARIABLES);
  let searchFrom = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? '';
    const offset = match.index ?? 0;
    checkStray(template.slice(searchFrom, offset), searchFrom, problems);
    searchFrom = offset + match[0].length;
    if (name === '') {
      problems.push({ offset, message: 'empty placeholder {{}}: name a variable, such as {{application}}' });
    } else if (name.startsWith(LABEL_PREFIX)) {
      if (!/^[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?$/.test(name.slice(LABEL_PREFIX.length))) {
        problems.push({ offset, message: `invalid label placeholder {{${name}}}: write {{labels.<key>}}` });
      }
    } else if (!(name in TEMPLATE_VARIABLES)) {
      const hint = closest(name, known);
      problems.push({
        offset,
        message: `unknown template variable {{${name}}}${hint ? `; did you mean {{${hint}}}?` : ''} (see README: Templates for the full list)`,
      });
    }
  }
  checkStray(template.slice(searchFrom), searchFrom, problems);
  return problems;
}

function checkStray(text: string, base: number, problems: TemplateProblem[]): void {
  const open = text.indexOf('{{');
  if (open >= 0) problems.push({ offset: base + open, message: 'unclosed placeholder: "{{" without a matching "}}"' });
}

/**
 * Fills a template. Unknown names cannot occur in checked templates; they render as empty
 * text so a message is never lost to a template. `escape` is applied to every inserted value
 * (HTML for email, mrkdwn for Slack, identity for plain text).
 */
export function renderTemplate(template: string, values: TemplateValues, escape: (s: string) => string = (s) => s): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => escape(values[name] ?? ''));
}

const EMOJI: Record<string, string> = { Started: '🚀', Ready: '⏸️', Succeeded: '✅', Failed: '❌', Stopped: '⏹️' };

/** The one-line summary of a revision used in messages, or '' when unknown. */
export function revisionSummary(event: DeploymentEvent): string {
  const r = event.revision;
  if (!r) return '';
  if (r.type === 'GitHub') return [r.repository, r.commitId?.slice(0, 7)].filter(Boolean).join('@');
  if (r.type === 'S3') return r.bucket ? `s3://${r.bucket}/${r.key ?? ''}${r.version ? ` (version ${r.version})` : ''}` : '';
  return r.summary;
}

/** A sentence about the rollback this deployment is or caused, or ''. */
export function rollbackSentence(event: DeploymentEvent): string {
  const rb = event.rollback;
  if (!rb) return '';
  if (rb.isRollback) return rb.rollsBack ? `Automatic rollback of ${rb.rollsBack}.` : 'Automatic rollback.';
  if (rb.rolledBackBy) return `Rolled back by ${rb.rolledBackBy}.`;
  return rb.message ?? '';
}

/** Computes every template value for an event as seen by one channel of one registration. Pure. */
export function templateValues(event: DeploymentEvent, registration: RegistrationRef, channel: string): TemplateValues {
  const gh = event.revision?.type === 'GitHub' ? event.revision : undefined;
  const values: Record<TemplateVariable, string> = {
    registration: registration.name,
    owner: registration.owner ?? '',
    channel,
    application: event.application,
    deploymentGroup: event.deploymentGroup,
    deploymentId: event.deploymentId,
    event: event.type,
    status: event.status,
    emoji: EMOJI[event.type] ?? '',
    creator: event.creator ?? '',
    description: event.description ?? '',
    revision: revisionSummary(event),
    repository: gh?.repository ?? '',
    commit: gh?.commitId ?? '',
    commitShort: gh?.commitId?.slice(0, 7) ?? '',
    errorCode: event.error?.code ?? '',
    errorMessage: event.error?.message ?? '',
    rollback: rollbackSentence(event),
    instancesSucceeded: event.instances ? String(event.instances.succeeded) : '',
    instancesFailed: event.instances ? String(event.instances.failed) : '',
    duration: event.durationSeconds === undefined ? '' : formatDuration(event.durationSeconds * 1000),
    durationSeconds: event.durationSeconds === undefined ? '' : String(event.durationSeconds),
    createTime: event.createTime,
    startTime: event.startTime ?? '',
    completeTime: event.completeTime ?? '',
    region: event.region,
    account: event.accountId ?? '',
    consoleUrl: event.consoleUrl,
  };
  const out: TemplateValues = { ...values };
  for (const [key, value] of Object.entries(registration.labels ?? {})) out[`${LABEL_PREFIX}${key}`] = value;
  return out;
}
