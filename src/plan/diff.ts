import type { LoadedRegistration } from '../config/types.js';
import { MANAGED_BY_GIT } from '../store/ports.js';
import type { DesiredItem, FieldChange, LiveItem, Plan, PlannedChange, PlanSummary, SourceRef, UnmanagedItem } from './types.js';

/**
 * Keys whose value is a secret ref in every valid registration. A plain string there can only come
 * from a hand-edited live item, and is never shown.
 */
const SECRET_KEYS = new Set(['webhookUrl', 'apiKey', 'secret']);
/** Header names whose plain values are hidden in plans (the files should use secret refs for them). */
const SENSITIVE_HEADER = /auth|token|key|secret|signature|password|cookie|session/i;
/** What a hidden value is replaced with. */
export const HIDDEN = '[hidden]';

/** A path segment: an object key, or an array element identified by its `name`. */
type Segment = string | { element: string };

/** What the plan holds for one name. */
export type ItemPlan =
  | { kind: 'change'; change: PlannedChange }
  | { kind: 'unchanged' }
  | { kind: 'unmanaged'; item: UnmanagedItem }
  | { kind: 'absent' };

/**
 * The pure core of `plan`, `apply` and `diff`: what it takes to make `live` equal `desired`.
 * - a desired name with no live item → create;
 * - a managed live item (`managedBy: "git"`) whose metadata or spec differs → update, with the changed fields;
 * - a managed live item no file wants → delete;
 * - a live item managed by anyone else is never touched: it is listed as unmanaged (with the
 *   file that wants the same name, if any).
 * `source` (file, commit) is provenance, not content: it alone never makes an update.
 * Throws only on a programming error (duplicate desired names; the loader rejects those).
 */
export function diff(desired: readonly DesiredItem[], live: readonly LiveItem[]): Plan {
  const wanted = new Map<string, DesiredItem>();
  for (const item of desired) {
    if (wanted.has(item.name)) throw new Error(`duplicate desired registration name ${item.name}`);
    wanted.set(item.name, item);
  }
  const current = new Map<string, LiveItem>();
  for (const item of live) current.set(item.name, item);

  const plan: Plan = { changes: [], unchanged: [], unmanaged: [] };
  const names = [...new Set([...wanted.keys(), ...current.keys()])].sort(compareNames);
  for (const name of names) {
    const result = planItem(wanted.get(name), current.get(name));
    if (result.kind === 'change') plan.changes.push(result.change);
    else if (result.kind === 'unchanged') plan.unchanged.push(name);
    else if (result.kind === 'unmanaged') plan.unmanaged.push(result.item);
  }
  return plan;
}

/** The plan for one name; `apply` uses it to re-plan a single item after a conflict. */
export function planItem(desired: DesiredItem | undefined, live: LiveItem | undefined): ItemPlan {
  if (live && live.managedBy !== MANAGED_BY_GIT) {
    const item: UnmanagedItem = { name: live.name };
    if (live.managedBy !== undefined) item.managedBy = String(live.managedBy);
    if (desired) item.desiredFile = desired.source.file;
    return { kind: 'unmanaged', item };
  }
  if (desired && !live) {
    return { kind: 'change', change: { action: 'create', name: desired.name, desired, fields: fieldChanges(undefined, desiredDocument(desired)) } };
  }
  if (!desired && live) {
    const change: PlannedChange = { action: 'delete', name: live.name, fields: fieldChanges(liveDocument(live), undefined) };
    if (live.version !== undefined) change.expectedVersion = live.version;
    return { kind: 'change', change };
  }
  if (desired && live) {
    const fields = fieldChanges(liveDocument(live), desiredDocument(desired));
    if (fields.length === 0) return { kind: 'unchanged' };
    const change: PlannedChange = { action: 'update', name: desired.name, desired, fields };
    if (live.version !== undefined) change.expectedVersion = live.version;
    return { kind: 'change', change };
  }
  return { kind: 'absent' };
}

/** Counts of a plan. */
export function summarize(plan: Plan): PlanSummary {
  const count = (action: PlannedChange['action']) => plan.changes.filter((c) => c.action === action).length;
  return { create: count('create'), update: count('update'), delete: count('delete'), unchanged: plan.unchanged.length, unmanaged: plan.unmanaged.length };
}

/** True when the plan writes nothing. */
export function isEmptyPlan(plan: Plan): boolean {
  return plan.changes.length === 0;
}

/**
 * The desired items for loaded registrations. `source` gives each one's provenance (default: the
 * displayed file, no commit).
 */
export function desiredFromLoaded(loaded: readonly LoadedRegistration[], source: (item: LoadedRegistration) => SourceRef = (item) => ({ file: item.file })): DesiredItem[] {
  return loaded.map((item) => {
    const { name, ...metadata } = item.registration.metadata;
    return { name, metadata: stripUndefined(metadata), spec: item.registration.spec, source: source(item) };
  });
}

/** The compared part of a desired item. */
export function desiredDocument(item: DesiredItem): Record<string, unknown> {
  return { metadata: stripUndefined(item.metadata), spec: item.spec };
}

/** The compared part of a live item (a missing metadata map counts as empty). */
export function liveDocument(item: LiveItem): Record<string, unknown> {
  const doc: Record<string, unknown> = { metadata: item.metadata ?? {} };
  if (item.spec !== undefined) doc.spec = item.spec;
  return doc;
}

/**
 * The changed fields between two documents, sorted by path. Objects are compared key by key;
 * `spec.channels` element by element, matched by channel name (plus an `(order)` entry when only
 * the order changed); other arrays and scalars as whole values. Values are made safe to show.
 */
export function fieldChanges(before: unknown, after: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  diffInto(out, [], before, after);
  return out;
}

function diffInto(out: FieldChange[], path: Segment[], before: unknown, after: unknown): void {
  if (deepEqual(before, after)) return;
  const bothObjects = isPlainObject(before) && isPlainObject(after) && !isSecretRef(before) && !isSecretRef(after);
  // the document and its metadata/spec are expanded even when one side is missing, so a create or
  // delete lists `spec.application`, `spec.channels`, ... rather than one opaque `spec` value
  const oneSidedTop = path.length <= 1 && ((before === undefined && isPlainObject(after)) || (after === undefined && isPlainObject(before)));
  if (bothObjects || oneSidedTop) {
    const b = (before ?? {}) as Record<string, unknown>;
    const a = (after ?? {}) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
    for (const key of keys) diffInto(out, [...path, key], b[key], a[key]);
    return;
  }
  if (isChannelsPath(path) && namedElements(before) && namedElements(after)) {
    const b = before as Array<{ name: string }>;
    const a = after as Array<{ name: string }>;
    const byName = (list: Array<{ name: string }>) => new Map(list.map((element) => [element.name, element]));
    const bm = byName(b);
    const am = byName(a);
    const names = [...new Set([...bm.keys(), ...am.keys()])].sort(compareNames);
    for (const name of names) diffInto(out, [...path, { element: name }], bm.get(name), am.get(name));
    const common = (list: Array<{ name: string }>, other: Map<string, unknown>) => list.map((e) => e.name).filter((n) => other.has(n));
    const orderBefore = common(b, am);
    const orderAfter = common(a, bm);
    if (orderBefore.join('\u0000') !== orderAfter.join('\u0000')) {
      out.push({ path: `${formatPath(path)} (order)`, before: orderBefore, after: orderAfter });
    }
    return;
  }
  const keys = path.filter((s): s is string => typeof s === 'string');
  const change: FieldChange = { path: formatPath(path) };
  if (before !== undefined) change.before = safeValue(keys, before);
  if (after !== undefined) change.after = safeValue(keys, after);
  out.push(change);
}

function isChannelsPath(path: readonly Segment[]): boolean {
  return path.length === 2 && path[0] === 'spec' && path[1] === 'channels';
}

function namedElements(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  const names = new Set<string>();
  for (const element of value) {
    if (!isPlainObject(element) || typeof element.name !== 'string' || names.has(element.name)) return false;
    names.add(element.name);
  }
  return true;
}

/** `spec.channels[team-slack].events`, `metadata.labels["app.kubernetes.io/name"]`. */
export function formatPath(path: readonly Segment[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment !== 'string') text += `[${segment.element}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(segment)) text += text ? `.${segment}` : segment;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/**
 * A copy of `value` safe to print: secret refs kept as `{ fromEnv }`, plain strings under secret
 * keys (and sensitive header names) replaced by `[hidden]`, sets as arrays, binary as `[binary]`.
 * `keys` are the object keys leading to `value`.
 */
export function safeValue(keys: readonly string[], value: unknown): unknown {
  if (isSecretRef(value)) return { fromEnv: value.fromEnv };
  const last = keys[keys.length - 1];
  if (typeof value === 'string') {
    if (last !== undefined && SECRET_KEYS.has(last)) return HIDDEN;
    if (keys.length >= 2 && keys[keys.length - 2] === 'headers' && last !== undefined && SENSITIVE_HEADER.test(last)) return HIDDEN;
    return value;
  }
  if (value instanceof Set) return safeValue(keys, [...value]);
  if (value instanceof Uint8Array) return '[binary]';
  if (Array.isArray(value)) return value.map((element) => safeValue(keys, element));
  if (isPlainObject(value)) {
    if (last !== undefined && SECRET_KEYS.has(last)) return HIDDEN;
    const copy: Record<string, unknown> = {};
    for (const [key, element] of Object.entries(value)) {
      if (element !== undefined) copy[key] = safeValue([...keys, key], element);
    }
    return copy;
  }
  return value;
}

/** A `{ fromEnv: NAME }` secret reference (exactly that one key). */
export function isSecretRef(value: unknown): value is { fromEnv: string } {
  return isPlainObject(value) && typeof value.fromEnv === 'string' && Object.keys(value).length === 1;
}

/** A non-null, non-array object (maps from YAML, JSON or DynamoDB). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Structural equality of JSON-like values; object key order and `undefined` members do not count. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((element, i) => deepEqual(element, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ak = Object.keys(a).filter((k) => a[k] !== undefined);
    const bk = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ak.length !== bk.length) return false;
    return ak.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** Registration names sort by code unit, the same on every machine (no locale). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
