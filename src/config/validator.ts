import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { closest } from '../util/closest.js';
import type { Registration } from './registration.generated.js';
import { pointerSegments, toPointer } from './positions.js';
import { secretShape } from './secret-shapes.js';
import { registrationSchema } from './schema.js';

/** Where a schema problem should be shown: on the value at `pointer`, or on its key. */
export interface SchemaProblem {
  pointer: string;
  message: string;
  at: 'value' | 'key';
}

type JsonObject = Record<string, unknown>;
// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

let compiled: { validate: ValidateFunction<Registration>; schema: JsonObject } | undefined;

/** The compiled schema validator (compiled once per process: allErrors, formats, discriminator). */
export function registrationValidator(): { validate: ValidateFunction<Registration>; schema: JsonObject } {
  if (!compiled) {
    const schema = registrationSchema();
    const ajv = new Ajv2020({ allErrors: true, discriminator: true, strict: true, verbose: true });
    addFormats(ajv);
    compiled = { validate: ajv.compile<Registration>(schema), schema };
  }
  return compiled;
}

/** True when `value` is a valid registration (used for items read back from the table). */
export function isValidRegistration(value: unknown): value is Registration {
  return registrationValidator().validate(value) === true;
}

/**
 * Validates one document against the schema and turns ajv's errors into messages a person can act
 * on: unknown properties name themselves and suggest the closest known one; a plain string where a
 * secret reference belongs says how to write `{ fromEnv: NAME }`; `anyOf` failures report only the
 * branch that matches the value's type. Pure; never throws.
 */
export function schemaProblems(data: unknown): SchemaProblem[] {
  const { validate, schema } = registrationValidator();
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  const defs = (schema.$defs ?? {}) as Record<string, JsonObject>;
  const kept = pruneAnyOf(errors, defs);
  const problems: SchemaProblem[] = [];
  for (const error of kept) {
    const problem = describe(error, data, defs);
    if (problem) problems.push(problem);
  }
  return dedupe(problems);
}

function describe(error: ErrorObject, root: unknown, defs: Record<string, JsonObject>): SchemaProblem | undefined {
  const pointer = error.instancePath;
  const segments = pointerSegments(pointer);
  const field = fieldName(segments);
  const data: unknown = error.data;
  const parent = (error.parentSchema ?? {}) as JsonObject;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const missing = String(params.missingProperty);
      const props = (parent.properties ?? {}) as Record<string, JsonObject>;
      const hint = props[missing]?.description;
      return { pointer, at: 'value', message: `missing required property "${missing}"${hint ? `: ${firstSentence(String(hint))}` : ''}` };
    }
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const known = Object.keys((parent.properties ?? {}) as JsonObject);
      const suggestion = closest(name, known);
      return {
        pointer: toPointer([...segments, name]),
        at: 'key',
        message: `unknown property "${name}"${suggestion ? `; did you mean "${suggestion}"?` : `; known properties: ${known.join(', ')}`}`,
      };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      const description = ((error.schema ?? {}) as JsonObject).description;
      return { pointer: toPointer([...segments, name]), at: 'key', message: `invalid key "${name}"${description ? `: ${firstSentence(String(description))}` : ''}` };
    }
    case 'type': {
      if (parent === defs.secretRef && typeof data === 'string') return plainSecret(pointer, root);
      const expected = String(params.type);
      return { pointer, at: 'value', message: `${field} must be ${article(expected)}, found ${typeName(data)}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      if (pointer === '/kind') return { pointer, at: 'value', message: `unsupported kind ${JSON.stringify(data)}: codedeploy-notify/v1 files hold kind Registration` };
      const suggestion = typeof data === 'string' ? closest(data, allowed) : undefined;
      return {
        pointer,
        at: 'value',
        message: `${field} must be one of ${allowed.join(', ')}; found ${show(data)}${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
      };
    }
    case 'const':
      return { pointer, at: 'value', message: `${field} must be ${JSON.stringify(params.allowedValue)}; found ${show(data)}` };
    case 'discriminator':
      return discriminatorProblem(pointer, params);
    case 'pattern':
      if (error.schemaPath.includes('/propertyNames/')) return undefined; // reported by its propertyNames error
      return { pointer, at: 'value', message: `invalid ${field} ${show(data)}: ${parent.description ? firstSentence(String(parent.description)) : `must match ${String(params.pattern)}`}` };
    case 'format':
      return { pointer, at: 'value', message: `${show(data)} is not a valid ${formatName(String(params.format))}` };
    case 'minLength':
      return { pointer, at: 'value', message: Number(params.limit) === 1 ? `${field} must not be empty` : `${field} must be at least ${String(params.limit)} characters long` };
    case 'maxLength':
      return { pointer, at: 'value', message: `${field} is ${String((data as string).length)} characters long; at most ${String(params.limit)} allowed` };
    case 'minItems':
      return { pointer, at: 'value', message: `${field} must have at least ${plural(Number(params.limit), 'item')}` };
    case 'maxItems':
      return { pointer, at: 'value', message: `${field} has ${(data as unknown[]).length} items; at most ${String(params.limit)} allowed` };
    case 'minProperties':
      return { pointer, at: 'value', message: `${field} must not be empty` };
    case 'maxProperties':
      return { pointer, at: 'value', message: `${field} has ${Object.keys(data as JsonObject).length} entries; at most ${String(params.limit)} allowed` };
    case 'uniqueItems': {
      const later = Number(params.i);
      const earlier = Number(params.j);
      return { pointer: toPointer([...segments, later]), at: 'value', message: `duplicate item ${show((data as unknown[])[later])} in ${field} (same as item ${earlier})` };
    }
    case 'oneOf':
    case 'anyOf':
      return { pointer, at: 'value', message: `${field} has an invalid value` };
    default:
      return { pointer, at: 'value', message: `${field} ${error.message ?? 'is invalid'}` };
  }
}

const CHANNEL_TYPES_HINT = 'slack, teams, webhook, sns, email or newrelic';

function discriminatorProblem(pointer: string, params: Record<string, unknown>): SchemaProblem {
  if (params.error === 'tag') {
    return { pointer, at: 'value', message: `missing required property "type" (the channel type: ${CHANNEL_TYPES_HINT})` };
  }
  const value = String(params.tagValue);
  if (value.toLowerCase() === 'hipchat') {
    return { pointer: `${pointer}/type`, at: 'value', message: `channel type "hipchat" is not supported: HipChat was shut down in 2019; use slack, teams or webhook` };
  }
  const suggestion = closest(value, ['slack', 'teams', 'webhook', 'sns', 'email', 'newrelic']);
  return {
    pointer: `${pointer}/type`,
    at: 'value',
    message: `unknown channel type ${JSON.stringify(value)}${suggestion ? `; did you mean "${suggestion}"?` : ''} (one of ${CHANNEL_TYPES_HINT})`,
  };
}

/** The message for a secret written as a plain string, with the `fromEnv` fix spelled out. */
export function plainSecret(pointer: string, root: unknown, what?: string): SchemaProblem {
  const segments = pointerSegments(pointer);
  const field = segments[segments.length - 1] ?? 'value';
  const variable = suggestVariable(segments, root);
  return {
    pointer,
    at: 'value',
    message: `plain secret: ${what ?? field} must not be written in the file; set it in an environment variable of the daemon and write  ${field}: { fromEnv: ${variable} }`,
  };
}

/** An environment variable name for a secret at `segments`: <CHANNEL>_<FIELD> in upper snake case. */
export function suggestVariable(segments: readonly string[], root: unknown): string {
  const field = segments[segments.length - 1] ?? 'secret';
  const channelIndex = segments[0] === 'spec' && segments[1] === 'channels' ? segments[2] : undefined;
  let channelName: unknown;
  if (channelIndex !== undefined) {
    const channels = ((root as JsonObject | undefined)?.spec as JsonObject | undefined)?.channels;
    channelName = Array.isArray(channels) ? (channels[Number(channelIndex)] as JsonObject | undefined)?.name : undefined;
  }
  const parts = [typeof channelName === 'string' ? channelName : '', field];
  return parts
    .filter(Boolean)
    .join('_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toUpperCase()
    .replace(/^(\d)/, '_$1');
}

/**
 * For every failed `anyOf`, keeps only the errors of the branch whose `type` matches the value
 * (a string URL vs a `{ fromEnv }` mapping); when no branch has the value's type, keeps just the
 * `anyOf` error itself, described as "must be X or Y".
 */
function pruneAnyOf(errors: readonly ErrorObject[], defs: Record<string, JsonObject>): ErrorObject[] {
  const anyOfs = errors.filter((e) => e.keyword === 'anyOf');
  if (anyOfs.length === 0) return [...errors];
  const drop = new Set<ErrorObject>();
  const replacements = new Map<ErrorObject, ErrorObject>();
  for (const anyOf of anyOfs) {
    const branches = (anyOf.schema as JsonObject[]).map((b) => resolve(b, defs));
    const wanted = branches.findIndex((b) => matchesType(b.type, anyOf.data));
    const reachable = wanted >= 0 ? reachableSchemas(branches[wanted] as JsonObject, defs) : new Set<unknown>();
    for (const e of errors) {
      if (e === anyOf || !isUnder(e.instancePath, anyOf.instancePath)) continue;
      if (!reachable.has(e.parentSchema)) drop.add(e);
    }
    if (wanted >= 0) {
      drop.add(anyOf);
    } else {
      const kinds = branches.map((b) => (b === defs.secretRef ? 'a secret reference { fromEnv: NAME }' : article(String(b.type ?? 'value'))));
      // described by the default case of describe(): "<field> <message>"
      replacements.set(anyOf, { ...anyOf, keyword: 'x-any-of', message: `must be ${kinds.join(' or ')}, found ${typeName(anyOf.data)}` });
    }
  }
  return errors.filter((e) => !drop.has(e)).map((e) => replacements.get(e) ?? e);
}

function resolve(schema: JsonObject, defs: Record<string, JsonObject>): JsonObject {
  const ref = schema.$ref;
  if (typeof ref === 'string' && ref.startsWith('#/$defs/')) return defs[ref.slice('#/$defs/'.length)] ?? schema;
  return schema;
}

function reachableSchemas(root: JsonObject, defs: Record<string, JsonObject>): Set<unknown> {
  const seen = new Set<unknown>();
  const walk = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    if (Array.isArray(value)) return value.forEach(walk);
    const obj = value as JsonObject;
    if (typeof obj.$ref === 'string') walk(resolve(obj, defs));
    Object.values(obj).forEach(walk);
  };
  walk(root);
  return seen;
}

function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

function matchesType(type: unknown, data: unknown): boolean {
  if (type === 'object') return data !== null && typeof data === 'object' && !Array.isArray(data);
  if (type === 'array') return Array.isArray(data);
  if (type === 'integer') return Number.isInteger(data);
  if (type === 'null') return data === null;
  return typeof data === type;
}

function dedupe(problems: SchemaProblem[]): SchemaProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.pointer}\u0000${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** 'a string', 'a number', 'a list', 'a mapping', 'nothing (a key without a value)', ... */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (a key without a value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `a string (${show(value)})`;
  if (typeof value === 'number') return `a number (${value})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  return typeof value;
}

function article(type: string): string {
  switch (type) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'integer':
      return 'an integer';
    default:
      return `a ${type}`;
  }
}

/** Quotes a value for a message; a value shaped like a secret is never echoed. */
function show(value: unknown): string {
  if (typeof value === 'string' && secretShape(value)) return `[${secretShape(value)}, not shown]`;
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function formatName(format: string): string {
  return format === 'email' ? 'email address' : format === 'uri' ? 'URL' : format;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The first sentence of a schema description, lower-cased and without its full stop, for use mid-message. */
function firstSentence(text: string): string {
  return lowerFirst((text.split(/\.\s/)[0] ?? text).replace(/\.$/, ''));
}

/** Lower-cases the first letter of a sentence, but not of an acronym such as "ARN". */
function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}

/** A readable name for the value at a pointer: `events[2]`, `webhookUrl`, `channels[0]`. */
export function fieldName(segments: readonly string[]): string {
  let i = segments.length - 1;
  let indices = '';
  while (i >= 0 && /^\d+$/.test(segments[i] as string)) indices = `[${segments[i--] as string}]${indices}`;
  return `${segments[i] ?? 'document'}${indices}`;
}
