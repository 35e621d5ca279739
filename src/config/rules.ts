import { checkTemplate } from '../templates/template.js';
import { toPointer } from './positions.js';
import { secretShape } from './secret-shapes.js';
import { plainSecret } from './validator.js';

/** A problem found by a rule beyond the schema; `offset` is a character offset inside a string value. */
export interface RuleProblem {
  pointer: string;
  message: string;
  severity: 'error' | 'warning';
  at: 'value' | 'key';
  offset?: number;
}

/** Resolves a pointer to a 1-based line, for messages that name another place in the same file. */
export type LineOf = (pointer: string) => number;

type JsonObject = Record<string, unknown>;

/** Header names whose value is a credential: a plain string there is a pasted secret. */
const SECRET_HEADERS = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|apikey|x-auth-token|x-access-token|private-token|x-.*-(token|key|secret))$/i;
/** What a `fromEnv` name must look like (the schema's pattern). */
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
/** Query parameters that carry credentials in a URL. */
const SECRET_QUERY = /[?&](sig|signature|token|access_token|api_key|apikey|key|secret|code|password)=/i;

/**
 * Checks one registration document beyond its schema: unique channel names, secrets pasted as
 * plain strings, template placeholders, SES recipient limits, and (with `env`) unset secret
 * variables. Works on partially invalid documents too (it looks only at what is there). Pure.
 */
export function ruleProblems(doc: unknown, lineOf: LineOf, env?: NodeJS.ProcessEnv): RuleProblem[] {
  const problems: RuleProblem[] = [];
  if (!isObject(doc)) return problems;
  const spec = isObject(doc.spec) ? doc.spec : {};
  const channels = Array.isArray(spec.channels) ? spec.channels : [];

  const seen = new Map<string, number>();
  channels.forEach((channel, i) => {
    if (!isObject(channel)) return;
    const base = ['spec', 'channels', i];
    if (typeof channel.name === 'string') {
      const first = seen.get(channel.name);
      if (first === undefined) seen.set(channel.name, i);
      else {
        const line = lineOf(toPointer(['spec', 'channels', first, 'name']));
        problems.push(error(toPointer([...base, 'name']), `duplicate channel name "${channel.name}": already used by channel ${first} on line ${line}; channel names must be unique within a registration`));
      }
    }
    if (channel.type === 'webhook') webhookSecrets(doc, channel, base, problems);
    if (channel.type === 'email') {
      const to = Array.isArray(channel.to) ? channel.to.length : 0;
      const cc = Array.isArray(channel.cc) ? channel.cc.length : 0;
      if (to + cc > 50) problems.push(error(toPointer([...base, 'cc']), `to and cc together have ${to + cc} addresses; Amazon SES accepts at most 50 recipients per message`));
    }
    if (isObject(channel.template)) {
      for (const field of ['title', 'text'] as const) {
        const text = channel.template[field];
        if (typeof text !== 'string') continue;
        for (const p of checkTemplate(text)) problems.push({ ...error(toPointer([...base, 'template', field]), p.message), offset: p.offset });
      }
    }
  });

  walkStrings(doc, [], (value, path) => {
    const what = secretShape(value);
    if (what) problems.push({ ...plainSecret(toPointer(path), doc, what), severity: 'error' });
  });

  if (env) {
    walkSecretRefs(doc, [], (name, path) => {
      // An invalid name is already a schema error, which does not repeat it: it may be a pasted secret.
      if (!ENV_NAME.test(name)) return;
      if (env[name] === undefined || env[name] === '') {
        problems.push(error(toPointer(path), `environment variable ${name} is not set (referenced as { fromEnv: ${name} }; checked because of --check-env)`));
      }
    });
  }
  return problems;
}

function webhookSecrets(doc: JsonObject, channel: JsonObject, base: (string | number)[], problems: RuleProblem[]): void {
  if (typeof channel.url === 'string' && (/^https?:\/\/[^/@\s]+@/i.test(channel.url) || SECRET_QUERY.test(channel.url))) {
    problems.push({ ...plainSecret(toPointer([...base, 'url']), doc, 'a URL carrying credentials'), severity: 'error' });
  }
  if (isObject(channel.headers)) {
    for (const [name, value] of Object.entries(channel.headers)) {
      if (typeof value === 'string' && SECRET_HEADERS.test(name)) {
        problems.push({ ...plainSecret(toPointer([...base, 'headers', name]), doc, `the value of header "${name}"`), severity: 'error' });
      }
    }
  }
}

function walkStrings(value: unknown, path: (string | number)[], visit: (value: string, path: (string | number)[]) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => walkStrings(v, [...path, i], visit));
  else if (isObject(value)) for (const [k, v] of Object.entries(value)) walkStrings(v, [...path, k], visit);
}

/** Calls `visit` for every `{ fromEnv: NAME }` in a document. */
export function walkSecretRefs(value: unknown, path: (string | number)[], visit: (name: string, path: (string | number)[]) => void): void {
  if (Array.isArray(value)) value.forEach((v, i) => walkSecretRefs(v, [...path, i], visit));
  else if (isObject(value)) {
    if (typeof value.fromEnv === 'string' && Object.keys(value).length === 1) visit(value.fromEnv, path);
    else for (const [k, v] of Object.entries(value)) walkSecretRefs(v, [...path, k], visit);
  }
}

function error(pointer: string, message: string): RuleProblem {
  return { pointer, message, severity: 'error', at: 'value' };
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
