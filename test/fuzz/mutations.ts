// A deterministic mutation generator over the example registrations in registrations/ (GitHub
// issue 7, item 3). Every mutated tree is a pure function of one 32-bit case seed, so a failing
// case is replayed exactly from the seed printed with it (FUZZ_CASE=<seed>).
//
// Mutations work on bytes: text-level operators see the file as latin1 (one character per byte),
// so they never repair invalid UTF-8 that an earlier byte-level operator introduced.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One example registration file, read from disk. */
export interface ExampleFile {
  /** Path relative to the registrations directory, '/' separated. */
  path: string;
  bytes: Buffer;
}

/** One file of a mutated tree. */
export interface TreeFile {
  path: string;
  bytes: Buffer;
  /** True when at least one operator changed this file (its bytes may still equal the original). */
  mutated: boolean;
}

/** A registrations tree: every example file, some of them mutated. */
export interface MutatedTree {
  /** The case seed: `mutateTree(examples, seed)` rebuilds exactly this tree. */
  seed: number;
  files: TreeFile[];
  /** What was done, in order: `payments.yaml: truncate at byte 812`. */
  mutations: string[];
}

/** Fuzzing settings from the environment (documented in the test files' headers). */
export interface FuzzSettings {
  /** Number of mutated trees (FUZZ_RUNS, default 1,000). */
  runs: number;
  /** Base seed the case seeds derive from (FUZZ_SEED, default DEFAULT_FUZZ_SEED). */
  baseSeed: number;
  /** When set (FUZZ_CASE), only this case seed runs. */
  only?: number;
}

/** The base seed used when FUZZ_SEED is not set, so that `npm test` always runs the same cases. */
export const DEFAULT_FUZZ_SEED = 0x7c0d_e7e5;

/** Reads FUZZ_RUNS, FUZZ_SEED and FUZZ_CASE; throws a clear error for a malformed value. */
export function fuzzSettings(env: NodeJS.ProcessEnv = process.env, defaultRuns = 1000): FuzzSettings {
  const number = (name: string): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(raw)) throw new Error(`${name}=${raw}: use a whole number (decimal or 0x hex)`);
    return Number(raw);
  };
  const only = number('FUZZ_CASE');
  return { runs: number('FUZZ_RUNS') ?? defaultRuns, baseSeed: (number('FUZZ_SEED') ?? DEFAULT_FUZZ_SEED) >>> 0, ...(only !== undefined ? { only: only >>> 0 } : {}) };
}

/** The case seeds of a run: FUZZ_CASE alone, or `runs` seeds derived from the base seed. */
export function caseSeeds(settings: FuzzSettings): number[] {
  if (settings.only !== undefined) return [settings.only];
  return Array.from({ length: settings.runs }, (_, i) => caseSeed(settings.baseSeed, i));
}

/** The seed of case `index` under `baseSeed` (a 32-bit mix, so neighbouring cases differ in every bit). */
export function caseSeed(baseSeed: number, index: number): number {
  let h = (baseSeed ^ Math.imul(index + 1, 0x9e37_79b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85eb_ca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2_ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** How to replay one case, for failure messages. */
export function replayHint(seed: number): string {
  return `replay with FUZZ_CASE=${seed}`;
}

/** A small seeded PRNG (mulberry32): fast, deterministic, good enough to choose mutations. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  next(): number {
    this.state = (this.state + 0x6d2b_79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n); 0 when n ≤ 0. */
  int(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }

  /** A uniformly chosen element; throws on an empty list (a bug in the generator). */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick: empty list');
    return items[this.int(items.length)] as T;
  }

  /** An element chosen with the given weights. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    const total = items.reduce((sum, [, w]) => sum + w, 0);
    let roll = this.next() / 0x1_0000_0000 * total;
    for (const [item, w] of items) {
      roll -= w;
      if (roll < 0) return item;
    }
    return (items[items.length - 1] as readonly [T, number])[0];
  }
}

/** Reads every *.yaml / *.yml file under `dir` (recursively, hidden entries skipped), sorted by path. */
export function readExamples(dir = 'registrations'): ExampleFile[] {
  const found: ExampleFile[] = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (/\.ya?ml$/i.test(entry.name)) found.push({ path: child, bytes: readFileSync(path.join(dir, child)) });
    }
  };
  walk('');
  if (found.length === 0) throw new Error(`no example registrations under ${dir}`);
  return found.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Writes a tree's files under `dir` (created as needed). */
export function writeTree(dir: string, files: readonly { path: string; bytes: Buffer }[]): void {
  for (const file of files) {
    const target = path.join(dir, file.path);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, file.bytes);
  }
}

/** What an operator works with: its own RNG, the bytes being mutated and every example (for splicing). */
interface MutationInput {
  rng: Rng;
  bytes: Buffer;
  examples: readonly ExampleFile[];
}

/** A mutation operator: returns the new bytes and a short description of what it did. */
type Operator = (input: MutationInput) => { bytes: Buffer; detail: string };

const latin1 = (bytes: Buffer): string => bytes.toString('latin1');
const fromLatin1 = (text: string): Buffer => Buffer.from(text, 'latin1');
/** Text in UTF-8 as a latin1 string (one character per byte), for splicing into latin1 views. */
const utf8AsLatin1 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

function splitLines(bytes: Buffer): string[] {
  return latin1(bytes).split('\n');
}

function joinLines(lines: readonly string[]): Buffer {
  return fromLatin1(lines.join('\n'));
}

/** Indices of lines that hold something (not blank, not only a comment). */
function contentLines(lines: readonly string[]): number[] {
  return lines.flatMap((line, i) => (/^\s*(#.*)?$/.test(line) ? [] : [i]));
}

/** Replaces the bytes at [start, end) with `insert`. */
function splice(bytes: Buffer, start: number, end: number, insert: Buffer): Buffer {
  return Buffer.concat([bytes.subarray(0, start), insert, bytes.subarray(end)]);
}

const KEY_LINE = /^(\s*(?:- +)?)([A-Za-z_<][\w<-]*)(\s*:)(.*)$/;
/** `key: value` with a scalar or flow value on the same line (comments allowed after it). */
const VALUE_LINE = /^(\s*(?:- +)?[A-Za-z_][\w-]*\s*:\s+)(\S.*)$/;
const ITEM_LINE = /^(\s*- +)([^\s#].*)$/;

/** Keys of the registration format, for "renamed to another real key" mutations. */
const KNOWN_KEYS = [
  'apiVersion', 'kind', 'metadata', 'name', 'owner', 'labels', 'spec', 'application', 'region', 'roleArn',
  'deploymentGroups', 'events', 'channels', 'type', 'webhookUrl', 'url', 'secret', 'headers', 'topicArn',
  'from', 'to', 'cc', 'configurationSet', 'entityGuid', 'apiKey', 'endpoint', 'template', 'title', 'text', 'fromEnv',
];

function typo(rng: Rng, key: string): { key: string; how: string } {
  const i = rng.int(key.length);
  const letter = String.fromCharCode(97 + rng.int(26));
  switch (rng.int(13)) {
    case 0:
      return key.length > 1 ? { key: key.slice(0, i) + key.slice(i + 1), how: 'drop a letter' } : { key: `${key}${key}`, how: 'double' };
    case 1:
      return { key: key.slice(0, i) + (key[i] ?? '') + key.slice(i), how: 'double a letter' };
    case 2: {
      const j = Math.min(i + 1, key.length - 1);
      return { key: key.slice(0, i) + (key[j] ?? '') + (key[i] ?? '') + key.slice(j + 1), how: 'swap letters' };
    }
    case 3:
      return { key: key.slice(0, i) + letter + key.slice(i + 1), how: 'replace a letter' };
    case 4:
      return { key: key.toUpperCase(), how: 'upper case' };
    case 5:
      return { key: key.charAt(0).toUpperCase() + key.slice(1), how: 'capitalised' };
    case 6:
      return { key: key.toLowerCase(), how: 'lower case' };
    case 7:
      return { key: key.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase(), how: 'snake_case' };
    case 8:
      return { key: `${key}s`, how: 'plural' };
    case 9:
      return { key: key.slice(0, i) + ' ' + key.slice(i), how: 'inner space' };
    case 10:
      return { key: rng.pick(KNOWN_KEYS), how: 'another known key' };
    case 11: {
      const escape = rng.pick(['\\n', '\\t', '\\r', '\\u0085', '\\u2028', '\\x00', '\\ud800', '\\u200b', '\\e', '\\"']);
      return { key: `"${key.slice(0, i)}${escape}${key.slice(i)}"`, how: `escape ${escape} in a quoted key` };
    }
    default:
      return { key: rng.pick(['"', "'"]) + key + rng.pick(['"', "'", '']), how: 'quoted' };
  }
}

/** Replacement values of every YAML type, some of them awkward. */
function swappedValue(rng: Rng, indent: string): { text: string; type: string } {
  const choices: (() => { text: string; type: string })[] = [
    () => ({ text: String(rng.int(100_000) - 50), type: 'integer' }),
    () => ({ text: rng.pick(['3.14', '-0', '1e400', '.inf', '-.inf', '.nan', '0x1F', '0o17', '1_000', '+12']), type: 'number-ish' }),
    () => ({ text: rng.pick(['"a string"', "'single'", 'plain words', '""', "''", '"quoted: colon"', '"{{unknownVar}}"', '"\\u0007bell"']), type: 'string' }),
    () => ({ text: rng.pick(['[]', '[a, 1]', '[Failed, Failed]', '[[nested]]', '[{ fromEnv: X }]', '[Started, Ready, Succeeded, Failed, Stopped, Started]']), type: 'list' }),
    () => ({ text: rng.pick(['{}', '{ a: 1 }', '{ fromEnv: lower_case }', '{ fromEnv: OK, extra: 1 }', '{ fromEnv: 12 }', '{ name: x, type: slack }']), type: 'map' }),
    () => ({ text: rng.pick(['~', 'null', '', '!!null ""']), type: 'null' }),
    () => ({ text: rng.pick(['true', 'false', 'yes', 'off', 'True']), type: 'boolean-ish' }),
    () => ({ text: `|\n${indent}  first line\n${indent}  second line`, type: 'block scalar' }),
    () => ({ text: `\n${indent}  - a\n${indent}  - b`, type: 'block list' }),
    () => ({ text: `\n${indent}  a: 1\n${indent}  b: [x]`, type: 'block map' }),
    () => ({ text: 'x'.repeat(rng.pick([64, 101, 257, 4001, 5000])), type: 'long string' }),
    () => ({ text: rng.pick(['https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX', 'NRAK-ABCDEFGHIJKLMNOPQRSTUV', 'AKIAABCDEFGHIJKLMNOP', 'https://user:pw@example.com/x']), type: 'secret-shaped' }),
    () => ({ text: rng.pick(['!!binary aGVsbG8=', '!!str 12', '!!int abc', '!!float x', '!!set { a }', '!!omap [a: 1]', '!custom value', '!!timestamp 2001-12-14', '!<tag:yaml.org,2002:str> x']), type: 'tagged' }),
  ];
  return rng.pick(choices)();
}

/** An alias bomb ("billion laughs") of `levels` levels, as lines of a mapping at `indent`. */
function aliasBomb(levels: number, indent: string): string {
  const lines = [`${indent}b0: &b0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]`];
  for (let i = 1; i < levels; i++) lines.push(`${indent}b${i}: &b${i} [${Array.from({ length: 9 }, () => `*b${i - 1}`).join(', ')}]`);
  return lines.join('\n');
}

/** Every operator with its weight. */
const OPERATORS: readonly (readonly [string, Operator, number])[] = [
  ['flip-bit', ({ rng, bytes }) => {
    if (bytes.length === 0) return { bytes, detail: 'empty' };
    const at = rng.int(bytes.length);
    const bit = rng.int(8);
    const copy = Buffer.from(bytes);
    copy[at] = (copy[at] as number) ^ (1 << bit);
    return { bytes: copy, detail: `bit ${bit} of byte ${at}` };
  }, 8],
  ['set-byte', ({ rng, bytes }) => {
    if (bytes.length === 0) return { bytes, detail: 'empty' };
    const at = rng.int(bytes.length);
    const value = rng.chance(0.5) ? rng.pick([...':-[]{}&*!|>\'"%@`#,?~ \t\n'].map((c) => c.charCodeAt(0))) : rng.int(256);
    const copy = Buffer.from(bytes);
    copy[at] = value;
    return { bytes: copy, detail: `byte ${at} = 0x${value.toString(16)}` };
  }, 6],
  ['truncate', ({ rng, bytes }) => {
    const at = rng.int(bytes.length + 1);
    return { bytes: bytes.subarray(0, at), detail: `at byte ${at} of ${bytes.length}` };
  }, 6],
  ['delete-line', ({ rng, bytes }) => {
    const lines = splitLines(bytes);
    const candidates = contentLines(lines);
    const i = candidates.length > 0 ? rng.pick(candidates) : rng.int(lines.length);
    const count = rng.chance(0.2) ? 1 + rng.int(4) : 1;
    lines.splice(i, count);
    return { bytes: joinLines(lines), detail: `lines ${i + 1}..${i + count}` };
  }, 6],
  ['duplicate-line', ({ rng, bytes }) => {
    const lines = splitLines(bytes);
    const candidates = contentLines(lines);
    const i = candidates.length > 0 ? rng.pick(candidates) : rng.int(lines.length);
    lines.splice(i + 1, 0, lines[i] ?? '');
    return { bytes: joinLines(lines), detail: `line ${i + 1}` };
  }, 5],
  ['move-line', ({ rng, bytes }) => {
    const lines = splitLines(bytes);
    const from = rng.int(lines.length);
    const [line] = lines.splice(from, 1);
    const to = rng.int(lines.length + 1);
    lines.splice(to, 0, line ?? '');
    return { bytes: joinLines(lines), detail: `line ${from + 1} to ${to + 1}` };
  }, 3],
  ['indent', ({ rng, bytes }) => {
    const lines = splitLines(bytes);
    const candidates = contentLines(lines);
    if (candidates.length === 0) return { bytes, detail: 'no content line' };
    const i = rng.pick(candidates);
    const line = lines[i] as string;
    const indent = /^[ \t]*/.exec(line)?.[0] ?? '';
    const rest = line.slice(indent.length);
    const [how, next] = rng.pick<[string, string]>([
      ['one more space', `${indent} `],
      ['one less space', indent.slice(1)],
      ['two more spaces', `${indent}  `],
      ['three more spaces', `${indent}   `],
      ['tab instead', indent.replace(/ {2}/g, '\t')],
      ['leading tab', `\t${indent}`],
      ['no indent', ''],
      ['mixed tab and space', `${indent}\t `],
    ]);
    lines[i] = next + rest;
    // sometimes shift the whole block below too, as an editor's "indent region" would
    if (rng.chance(0.25)) for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j] as string); j++) lines[j] = `${next.length > indent.length ? '  ' : ''}${lines[j] as string}`;
    return { bytes: joinLines(lines), detail: `line ${i + 1}: ${how}` };
  }, 6],
  ['rename-key', ({ rng, bytes }) => {
    const lines = splitLines(bytes);
    const candidates = lines.flatMap((line, i) => (KEY_LINE.test(line) ? [i] : []));
    if (candidates.length === 0) return { bytes, detail: 'no key line' };
    const i = rng.pick(candidates);
    const [, lead, key, colon, rest] = KEY_LINE.exec(lines[i] as string) as unknown as [string, string, string, string, string];
    const changed = typo(rng, key);
    lines[i] = `${lead}${changed.key}${colon}${rest}`;
    return { bytes: joinLines(lines), detail: `line ${i + 1}: ${key} → ${changed.key} (${changed.how})` };
  }, 8],
  ['swap-type', ({ rng, bytes }) => {
    const lines = splitLines(bytes);
    const candidates = lines.flatMap((line, i) => (VALUE_LINE.test(line) || ITEM_LINE.test(line) || /^\s*(- +)?[A-Za-z_][\w-]*:\s*$/.test(line) ? [i] : []));
    if (candidates.length === 0) return { bytes, detail: 'no value line' };
    const i = rng.pick(candidates);
    const line = lines[i] as string;
    const indent = /^\s*/.exec(line)?.[0] ?? '';
    const value = swappedValue(rng, indent);
    const match = VALUE_LINE.exec(line) ?? ITEM_LINE.exec(line);
    if (match) {
      lines[i] = `${match[1] as string}${value.text}`;
    } else {
      // `key:` holding a block: replace the block (the deeper lines below) with the new value
      let end = i + 1;
      while (end < lines.length && ((lines[end] as string).trim() === '' || (/^\s*/.exec(lines[end] as string)?.[0].length ?? 0) > indent.length || /^\s*- /.test(lines[end] as string) && indent === '')) end++;
      if (rng.chance(0.7)) lines.splice(i + 1, end - i - 1);
      lines[i] = `${line.replace(/\s*$/, '')} ${value.text}`;
    }
    return { bytes: joinLines(lines), detail: `line ${i + 1} → ${value.type}` };
  }, 9],
  ['anchor-alias', ({ rng, bytes }) => {
    const lines = splitLines(bytes);
    const values = lines.flatMap((line, i) => (VALUE_LINE.test(line) ? [i] : []));
    const keys = lines.flatMap((line, i) => (KEY_LINE.test(line) ? [i] : []));
    if (keys.length === 0) return { bytes, detail: 'no key line' };
    const variant = rng.int(7);
    const at = rng.pick(keys);
    const indent = /^\s*(?:- +)?/.exec(lines[at] as string)?.[0].replace(/-/g, ' ') ?? '';
    switch (variant) {
      case 0: {
        // anchor one value, alias it from another
        if (values.length < 2) return { bytes, detail: 'too few values' };
        const a = rng.pick(values);
        const b = rng.pick(values);
        const [, head, value] = VALUE_LINE.exec(lines[a] as string) as unknown as [string, string, string];
        lines[a] = `${head}&fz ${value}`;
        const [, headB] = VALUE_LINE.exec(lines[b] as string) as unknown as [string, string];
        lines[b] = `${headB}*fz`;
        return { bytes: joinLines(lines), detail: `anchor line ${a + 1}, alias on line ${b + 1}` };
      }
      case 1: {
        const [, lead, key, colon] = KEY_LINE.exec(lines[at] as string) as unknown as [string, string, string, string];
        lines[at] = `${lead}${key}${colon} *${rng.pick(['nope', 'fz', 'b0'])}`;
        return { bytes: joinLines(lines), detail: `alias to an unknown anchor on line ${at + 1}` };
      }
      case 2: {
        const levels = rng.pick([3, 4, 6, 9]);
        lines.splice(at, 0, aliasBomb(levels, indent));
        return { bytes: joinLines(lines), detail: `alias bomb of ${levels} levels before line ${at + 1}` };
      }
      case 3: {
        // a merge key pulling in another mapping, or something that is not a mapping
        const target = rng.pick(['*fz', '[*fz, *fz]', '5', 'scalar', '{ extra: 1 }', '*nope']);
        const [, lead, key, colon] = KEY_LINE.exec(lines[at] as string) as unknown as [string, string, string, string];
        lines[at] = `${lead}${key}${colon} &fz${(lines[at] as string).slice(lead.length + key.length + colon.length)}`;
        const next = at + 1 < lines.length ? at + 1 : at;
        const nextIndent = /^\s*/.exec(lines[next] as string)?.[0] ?? indent;
        lines.splice(next + 1, 0, `${nextIndent}<<: ${target}`);
        return { bytes: joinLines(lines), detail: `anchor on line ${at + 1}, merge key ${target} after line ${next + 1}` };
      }
      case 4: {
        // a node that aliases itself
        const [, lead, key, colon] = KEY_LINE.exec(lines[at] as string) as unknown as [string, string, string, string];
        lines[at] = `${lead}${key}${colon} &self [*self]`;
        return { bytes: joinLines(lines), detail: `self-referencing alias on line ${at + 1}` };
      }
      case 5: {
        // anchors in one document, aliases in the next (aliases do not cross documents)
        lines[at] = (lines[at] as string).replace(/:(\s|$)/, ': &cross$1');
        lines.push('---', 'apiVersion: codedeploy-notify/v1', 'kind: Registration', 'metadata: { name: cross-doc }', 'spec: *cross');
        return { bytes: joinLines(lines), detail: `anchor on line ${at + 1}, alias in an appended document` };
      }
      default: {
        // an alias used as a mapping key
        const [, lead, , colon, rest] = KEY_LINE.exec(lines[at] as string) as unknown as [string, string, string, string, string];
        lines[at] = `${lead}*fz${colon}${rest}`;
        return { bytes: joinLines(lines), detail: `alias as key on line ${at + 1}` };
      }
    }
  }, 5],
  ['splice-documents', ({ rng, bytes, examples }) => {
    const other = rng.pick(examples);
    const otherLines = splitLines(other.bytes);
    const lines = splitLines(bytes);
    switch (rng.int(4)) {
      case 0:
        return { bytes: Buffer.concat([bytes, fromLatin1('\n---\n'), other.bytes]), detail: `appended ${other.path} as more documents` };
      case 1: {
        const start = rng.int(otherLines.length);
        const end = start + 1 + rng.int(Math.min(12, otherLines.length - start));
        const at = rng.int(lines.length + 1);
        lines.splice(at, 0, ...otherLines.slice(start, end));
        return { bytes: joinLines(lines), detail: `lines ${start + 1}..${end} of ${other.path} inserted before line ${at + 1}` };
      }
      case 2: {
        const cut = rng.int(lines.length + 1);
        const otherCut = rng.int(otherLines.length + 1);
        return { bytes: joinLines([...lines.slice(0, cut), ...otherLines.slice(otherCut)]), detail: `first ${cut} lines, then ${other.path} from line ${otherCut + 1}` };
      }
      default:
        return { bytes: Buffer.concat([other.bytes, fromLatin1('\n---\n'), bytes]), detail: `${other.path} prepended as more documents` };
    }
  }, 5],
  ['document-marker', ({ rng, bytes }) => {
    const lines = splitLines(bytes);
    const at = rng.int(lines.length + 1);
    const marker = rng.pick(['---', '---', '...', '--- |', '--- # comment', '%YAML 1.2\n---', '%TAG ! tag:example.com,2000:\n---', '--- !!map', '---\n---']);
    lines.splice(at, 0, marker);
    return { bytes: joinLines(lines), detail: `${JSON.stringify(marker)} before line ${at + 1}` };
  }, 5],
  ['control-character', ({ rng, bytes }) => {
    const at = rng.int(bytes.length + 1);
    const code = rng.pick([0x00, 0x01, 0x07, 0x08, 0x0b, 0x0c, 0x0d, 0x1b, 0x1f, 0x7f, 0x09, 0x85]);
    // U+0085 (NEL) is inserted as UTF-8; the rest as one byte
    const insert = code === 0x85 ? Buffer.from('\u0085', 'utf8') : Buffer.from([code]);
    return { bytes: splice(bytes, at, at, insert), detail: `U+${code.toString(16).padStart(4, '0')} at byte ${at}` };
  }, 4],
  ['unicode', ({ rng, bytes }) => {
    const at = rng.int(bytes.length + 1);
    const [what, insert] = rng.pick<[string, Buffer]>([
      ['lone 0xff', Buffer.from([0xff])],
      ['lone 0xfe', Buffer.from([0xfe])],
      ['truncated 2-byte sequence', Buffer.from([0xc3])],
      ['overlong "/"', Buffer.from([0xc0, 0xaf])],
      ['UTF-16 surrogate', Buffer.from([0xed, 0xa0, 0x80])],
      ['beyond U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80])],
      ['truncated 3-byte sequence', Buffer.from([0xe2, 0x82])],
      ['stray continuation byte', Buffer.from([0x80])],
      ['BOM mid-file', Buffer.from([0xef, 0xbb, 0xbf])],
      ['U+2028 line separator', Buffer.from('\u2028', 'utf8')],
      ['no-break space', Buffer.from('\u00a0', 'utf8')],
      ['emoji', Buffer.from('🚀', 'utf8')],
      ['accented letter', Buffer.from('é', 'utf8')],
      ['right-to-left override', Buffer.from('\u202e', 'utf8')],
      ['zero-width space', Buffer.from('\u200b', 'utf8')],
    ]);
    return { bytes: splice(bytes, at, at, insert), detail: `${what} at byte ${at}` };
  }, 4],
  ['yaml-syntax', ({ rng, bytes }) => {
    const at = rng.int(bytes.length + 1);
    const token = rng.pick(['{', '}', '[', ']', ': ', '- ', '? ', '"', "'", '|', '>', '!', '!!binary ', '!foo ', '%', '@', '`', ' #', '&', '*', ',', '<<: ', '\\', '{{', '}}', '\t']);
    return { bytes: splice(bytes, at, at, fromLatin1(token)), detail: `${JSON.stringify(token)} at byte ${at}` };
  }, 5],
  ['replace-file', ({ rng }) => {
    const [what, text] = rng.pick<[string, string]>([
      ['empty file', ''],
      ['whitespace only', ' \n\n  \n'],
      ['comments only', '# nothing here\n# yet\n'],
      ['document markers only', '---\n---\n...\n'],
      ['a scalar', 'just a string\n'],
      ['a list', '- a\n- b\n'],
      ['a BOM and nothing else', '\ufeff'],
      ['JSON', '{"apiVersion": "codedeploy-notify/v1", "kind": "Registration", "metadata": {"name": "json-doc"}, "spec": {"application": "a", "channels": [{"name": "s", "type": "sns", "topicArn": "arn:aws:sns:us-east-1:123456789012:t"}]}}\n'],
    ]);
    return { bytes: Buffer.from(text, 'utf8'), detail: what };
  }, 1],
  ['deep-nesting', ({ rng, bytes }) => {
    const depth = rng.pick([20, 63, 65, 200, 5000]);
    const [what, text] = rng.pick<[string, string]>([
      ['flow lists', `x: ${'['.repeat(depth)}${']'.repeat(depth)}\n`],
      ['flow maps', `x: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}\n`],
      ['unclosed flow lists', `x: ${'['.repeat(depth)}\n`],
      ['block maps', Array.from({ length: Math.min(depth, 300) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n') + ' 1\n'],
      ['block lists', `x:\n${Array.from({ length: Math.min(depth, 300) }, (_, i) => `${'  '.repeat(i)}-`).join('\n')} 1\n`],
    ]);
    return { bytes: Buffer.concat([bytes, fromLatin1(`\n${text}`)]), detail: `${what}, ${depth} deep, appended` };
  }, 1],
  ['huge', ({ rng, bytes }) => {
    const [what, text] = rng.pick<[string, string]>([
      ['file over 1 MiB', `# ${'x'.repeat(1024 * 1024)}\n`],
      ['many keys', Array.from({ length: 3000 }, (_, i) => `k${i}: v${i}`).join('\n')],
      ['long line', `note: ${'y'.repeat(200_000)}`],
    ]);
    return { bytes: Buffer.concat([bytes, fromLatin1('\n'), fromLatin1(utf8AsLatin1(text))]), detail: what };
  }, 0.3],
];

/** Names of every operator (a test checks the generator uses each of them). */
export const OPERATOR_NAMES: readonly string[] = OPERATORS.map(([name]) => name);

/**
 * Builds the mutated tree of one case seed: every example file, one (sometimes two or three) of
 * them changed by one to five operators in sequence. Pure: the same seed gives the same bytes.
 */
export function mutateTree(examples: readonly ExampleFile[], seed: number): MutatedTree {
  const rng = new Rng(seed);
  const files: TreeFile[] = examples.map((e) => ({ path: e.path, bytes: e.bytes, mutated: false }));
  const targets = rng.weighted([[1, 75], [2, 20], [3, 5]] as const);
  const mutations: string[] = [];
  for (let t = 0; t < targets; t++) {
    const file = rng.pick(files);
    const steps = rng.weighted([[1, 45], [2, 30], [3, 15], [4, 7], [5, 3]] as const);
    for (let s = 0; s < steps; s++) {
      const [name, operator] = rng.weighted(OPERATORS.map(([n, op, w]) => [[n, op] as const, w] as const));
      const result = operator({ rng, bytes: file.bytes, examples });
      file.bytes = result.bytes;
      file.mutated = true;
      mutations.push(`${file.path}: ${name}: ${result.detail}`);
    }
  }
  return { seed, files, mutations };
}

/** One case, described for a failure message: seed, replay hint, mutations. */
export function describeTree(tree: MutatedTree): string {
  return `case seed ${tree.seed} (${replayHint(tree.seed)}): ${tree.mutations.join('; ')}`;
}
