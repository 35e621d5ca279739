import { constants as fsConstants, type Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { LineCounter, parseAllDocuments, visit, isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, Scalar, YAMLParseError, type Document, type Node } from 'yaml';
import { errorMessage } from '../core/errors.js';
import { mapLimit } from '../util/concurrency.js';
import { documentPosition, locate, nodePosition, offsetPosition, pointerSegments, type Position } from './positions.js';
import type { Registration } from './registration.generated.js';
import { ruleProblems, type RuleProblem } from './rules.js';
import type { Issue, LoadedRegistration, LoadResult } from './types.js';
import { schemaProblems } from './validator.js';

/** Largest registration file read (1 MiB): bigger files get one issue and are skipped. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Deepest flow nesting ([ and {) accepted before parsing: deeper input can exhaust the parser. */
export const MAX_FLOW_DEPTH = 64;
/** Most alias expansions per document (yaml's resource-exhaustion guard against alias bombs). */
export const MAX_ALIAS_COUNT = 100;
/** The one format version this release reads. */
export const SUPPORTED_API_VERSION = 'codedeploy-notify/v1';

/** Options for loading a directory. */
export interface LoadOptions {
  /** Shown instead of `dir` at the start of every path (e.g. the repo path of a git ref extracted to a temp dir). */
  displayDir?: string;
  /** Also report secret references whose environment variable is unset in `env`. */
  checkEnv?: boolean;
  env?: NodeJS.ProcessEnv;
  /**
   * Worker threads to spread parsing over, besides the calling thread. Default: one fewer than the
   * available cores when there are more than PARALLEL_THRESHOLD files and this is the built
   * JavaScript (0 under a TypeScript test runner); 0 parses everything in this thread.
   */
  workers?: number;
  /**
   * Parse results kept between loads by a long-lived caller (the daemon's reconcile loop): a file
   * whose size, times and inode are unchanged is not read or parsed again. Use one cache with the
   * same options every time; ignored with `checkEnv` (results then depend on the environment).
   */
  cache?: FileCache;
}

/**
 * Parse results by file path, each valid while the file's stat stamp (size, mtime, ctime, inode)
 * is unchanged. The daemon re-reads its directory at every resync; without this, thousands of
 * unchanged files would be parsed again each time (most of the resync's CPU and memory churn).
 */
export class FileCache {
  private readonly entries = new Map<string, { stamp: string; result: FileResult }>();

  /** The cached result for `path` when its stamp still matches. */
  get(path: string, stamp: string): FileResult | undefined {
    const entry = this.entries.get(path);
    return entry?.stamp === stamp ? entry.result : undefined;
  }

  set(path: string, stamp: string, result: FileResult): void {
    this.entries.set(path, { stamp, result });
  }

  /** Forgets every path not in `paths` (files deleted or renamed since the last load). */
  retain(paths: ReadonlySet<string>): void {
    for (const path of this.entries.keys()) if (!paths.has(path)) this.entries.delete(path);
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Directories with more files than this are parsed on several threads. */
export const PARALLEL_THRESHOLD = 400;

/** What one file yielded. */
export interface FileResult {
  registrations: LoadedRegistration[];
  issues: Issue[];
  /** Non-empty YAML documents (each one registration, valid or not). */
  documents: number;
  /** `metadata.name` of every document that has one, with its position (for cross-file checks). */
  names: { name: string; position: Position; documentIndex: number }[];
}

/**
 * Loads every `*.yaml`/`*.yml` file under `dir` (recursively; hidden files and folders skipped):
 * parses each document with positions, validates it against the schema and the rules beyond it,
 * and checks `metadata.name` is unique across files. User mistakes come back as issues; this
 * rejects only when `dir` itself cannot be read.
 */
export async function loadRegistrations(dir: string, options: LoadOptions = {}): Promise<LoadResult> {
  const issues: Issue[] = [];
  const relativePaths = await listRegistrationFiles(dir, (rel, reason) =>
    issues.push({ file: display(options, dir, rel), line: 1, column: 1, pointer: '', severity: 'error', message: reason }),
  );
  const cache = options.checkEnv ? undefined : options.cache;
  const results = await loadFiles(dir, relativePaths, { ...options, cache });
  cache?.retain(new Set(relativePaths.map((rel) => path.join(dir, rel))));
  const registrations: LoadedRegistration[] = [];
  const firstByName = new Map<string, { file: string; position: Position }>();
  let documents = 0;
  results.forEach((result, i) => {
    const file = display(options, dir, relativePaths[i] as string);
    documents += result.documents;
    issues.push(...result.issues);
    const duplicates = new Set<number>();
    for (const entry of result.names) {
      const first = firstByName.get(entry.name);
      if (!first) {
        firstByName.set(entry.name, { file, position: entry.position });
        continue;
      }
      duplicates.add(entry.documentIndex);
      issues.push({
        file,
        ...lineColumn(entry.position),
        pointer: '/metadata/name',
        severity: 'error',
        message: `duplicate metadata.name ${quote(entry.name)}: already defined at ${first.file}:${first.position.line}:${first.position.column}; names must be unique across all files`,
      });
    }
    registrations.push(...result.registrations.filter((r) => !duplicates.has(r.documentIndex)));
  });
  issues.sort(compareIssues);
  return { dir, files: relativePaths.map((rel) => display(options, dir, rel)), registrations, issues, documents };
}

/** Lists registration files under `dir` as sorted relative paths ('/' separated). Unreadable sub-folders are reported. */
export async function listRegistrationFiles(dir: string, report: (relativePath: string, reason: string) => void): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(dir, rel), { withFileTypes: true });
    } catch (error) {
      if (rel === '') throw error;
      report(rel, `cannot read directory: ${ioReason(error)}`);
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      // Anything else named *.yaml is listed, so that a link, pipe or device gets its own issue.
      else if (/\.ya?ml$/i.test(entry.name)) found.push(child);
    }
  };
  await walk('');
  return found.sort();
}

/** Loads files in order, on `options.workers` worker threads plus this one when the directory is large. */
async function loadFiles(dir: string, rels: readonly string[], options: LoadOptions): Promise<FileResult[]> {
  const workerUrl = new URL('./load-worker.js', import.meta.url);
  const builtJs = import.meta.url.endsWith('.js');
  // a cache lives in this thread: with one, parse here (after the first load, most files are hits)
  const parallel = builtJs && !options.cache && rels.length > PARALLEL_THRESHOLD;
  const workers = options.workers ?? (parallel ? Math.min(3, availableParallelism() - 1) : 0);
  if (workers <= 0) return loadFilesHere(dir, rels, options);
  const size = Math.ceil(rels.length / (workers + 1));
  const chunks = Array.from({ length: workers + 1 }, (_, i) => rels.slice(i * size, (i + 1) * size));
  const { env, ...rest } = options;
  const workerOptions: LoadOptions = { ...rest, ...(options.checkEnv ? { env: env ?? process.env } : {}), workers: 0 };
  const parts = await Promise.all(
    chunks.map((chunk, i) => (i === 0 ? loadFilesHere(dir, chunk, options) : runWorker(workerUrl, { dir, rels: chunk, options: workerOptions }))),
  );
  return parts.flat();
}

/** Input of one worker (src/config/load-worker.ts). */
export interface WorkerInput {
  dir: string;
  rels: readonly string[];
  options: LoadOptions;
}

function runWorker(url: URL, input: WorkerInput): Promise<FileResult[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData: input });
    worker.once('message', (results: FileResult[]) => resolve(results));
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`registration loader worker exited with code ${code}`)));
  });
}

/** Loads files in this thread, a few reads in flight at a time, results in input order. */
export function loadFilesHere(dir: string, rels: readonly string[], options: LoadOptions): Promise<FileResult[]> {
  return mapLimit(rels, 16, (rel) => loadFile(dir, rel, options));
}

async function loadFile(dir: string, rel: string, options: LoadOptions): Promise<FileResult> {
  const file = display(options, dir, rel);
  const fullPath = path.join(dir, rel);
  const fail = (message: string, position: Position = { line: 1, column: 1 }): FileResult => ({
    registrations: [],
    documents: 0,
    names: [],
    issues: [{ file, ...lineColumn(position), pointer: '', severity: 'error', message: oneLine(message) }],
  });
  let stamp: string | undefined;
  if (options.cache) {
    // stat without opening: a hit costs one syscall, and a FIFO is not opened here either
    const info = await stat(fullPath).catch(() => undefined);
    stamp = info?.isFile() ? `${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.ino}` : undefined;
    const hit = stamp === undefined ? undefined : options.cache.get(fullPath, stamp);
    if (hit) return hit;
  }
  let bytes: Buffer;
  try {
    // O_NONBLOCK: opening a FIFO named *.yaml must not wait for a writer; fstat then rejects it.
    const handle = await open(fullPath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    try {
      const info = await handle.stat();
      if (!info.isFile()) return fail('not a regular file');
      if (info.size > MAX_FILE_BYTES) {
        return fail(`file is ${(info.size / 1024 / 1024).toFixed(1)} MiB; registration files are limited to 1 MiB (split it into several files)`);
      }
      bytes = await handle.readFile();
    } finally {
      await handle.close();
    }
  } catch (error) {
    return fail(`cannot read file: ${ioReason(error)}`);
  }
  const text = decodeText(bytes);
  const result = 'problem' in text ? fail(text.problem, text.position) : parseRegistrationText(text.text, file, rel, options);
  if (options.cache && stamp !== undefined) options.cache.set(fullPath, stamp, result);
  return result;
}

/**
 * Parses and checks the text of one registration file. Pure apart from reading `options.env`.
 * Exposed for tests and fuzzing; `loadRegistrations` adds the file system and cross-file checks.
 */
export function parseRegistrationText(text: string, file: string, relativePath: string, options: LoadOptions = {}): FileResult {
  const result: FileResult = { registrations: [], issues: [], documents: 0, names: [] };
  const lineCounter = new LineCounter();
  const issue = (position: Position, pointer: string, severity: Issue['severity'], message: string): void => {
    result.issues.push({ file, ...lineColumn(position), pointer, severity, message: oneLine(message) });
  };

  // Line starts come from the text, not from the parser: after some syntax errors the parser's
  // own LineCounter misses newlines and every later position is off.
  lineCounterFor(text, lineCounter);
  const deep = findDeepNesting(text);
  if (deep !== undefined) {
    issue(offsetPosition(deep, lineCounter), '', 'error', `nesting deeper than ${MAX_FLOW_DEPTH} levels; a registration needs only a few`);
    return result;
  }

  let docs: Document.Parsed[];
  try {
    // logLevel 'error': the yaml library must not print warnings on the CLI's stderr. uniqueKeys
    // false: its check compares every pair of keys (minutes for a large mapping); ours is linear.
    docs = parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false, strict: true, merge: true, logLevel: 'error' }) as Document.Parsed[];
  } catch (error) {
    issue({ line: 1, column: 1 }, '', 'error', `cannot parse YAML: ${errorMessage(error)}`);
    return result;
  }
  if (docs.length === 0) {
    issue({ line: 1, column: 1 }, '', 'warning', 'file holds no registration (it is empty or only comments)');
    return result;
  }

  docs.forEach((doc, documentIndex) => {
    const start = documentPosition(doc, lineCounter);
    const scan = scanDocument(doc);
    doc.errors.push(...scan.duplicates);
    for (const e of doc.errors) issue(offsetPosition(e.pos[0], lineCounter), '', 'error', yamlMessage(e.code, e.message, text, e.pos));
    for (const w of doc.warnings) issue(offsetPosition(w.pos[0], lineCounter), '', 'warning', yamlMessage(w.code, w.message, text, w.pos));
    const contents = doc.contents as Node | null;
    if (contents === null || (isScalar(contents) && contents.value === null)) {
      if (doc.errors.length === 0) issue(start, '', 'warning', 'empty document (nothing between the --- separators)');
      return;
    }
    result.documents += 1;
    if (doc.errors.length > 0) return; // the structure is unreliable; the syntax errors say what to fix
    if (!isMap(contents)) {
      const found = isSeq(contents) ? 'a list' : `a single value (${JSON.stringify((contents as Scalar).value)})`;
      issue(start, '', 'error', `a registration must be a mapping with apiVersion, kind, metadata and spec; found ${found}`);
      return;
    }

    if (scan.shape) {
      issue(nodePosition(scan.shape.node, lineCounter), '', 'error', scan.shape.message);
      return;
    }

    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      let alias: Node | undefined;
      visit(doc, { Alias: (_key, node) => { alias = node; return visit.BREAK; } });
      const reason = error instanceof ReferenceError ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}): the document looks like an alias bomb` : errorMessage(error);
      issue(alias ? nodePosition(alias, lineCounter) : start, '', 'error', reason);
      return;
    }

    const record = data as Record<string, unknown>;
    const name = (record.metadata as Record<string, unknown> | undefined)?.name;
    const namePosition = positionOf(doc, lineCounter, '/metadata/name', 'value') ?? start;
    if (typeof name === 'string') result.names.push({ name, position: namePosition, documentIndex });

    const versionProblem = unsupportedVersion(record);
    if (versionProblem) {
      issue(positionOf(doc, lineCounter, versionProblem.pointer, 'value') ?? start, versionProblem.pointer, 'error', versionProblem.message);
      return;
    }

    const problems: RuleProblem[] = schemaProblems(data).map((p) => ({ ...p, severity: 'error' }));
    const reported = new Set(problems.map((p) => p.pointer));
    const lineOf = (pointer: string): number => (positionOf(doc, lineCounter, pointer, 'value') ?? start).line;
    for (const p of ruleProblems(data, lineOf, options.checkEnv ? (options.env ?? process.env) : undefined)) {
      if (p.message.startsWith('plain secret') && reported.has(p.pointer)) continue;
      problems.push(p);
    }
    for (const p of problems) {
      const position = positionOf(doc, lineCounter, p.pointer, p.at, p.offset, text) ?? start;
      issue(position, p.pointer, p.severity, p.message);
    }
    if (!problems.some((p) => p.severity === 'error')) {
      result.registrations.push({ registration: data as Registration, file, relativePath, documentIndex, ...lineColumn(namePosition) });
    }
  });
  return result;
}

/** Tags of YAML types beyond JSON's (they load as a Buffer, Date, Set or Map, which the schema cannot check). */
const NON_JSON_TAGS = new Set(['binary', 'timestamp', 'set', 'omap'].map((t) => `tag:yaml.org,2002:${t}`));

/** What one walk over a parsed document found. */
interface DocumentScan {
  /**
   * The DUPLICATE_KEY errors the yaml library reports with `uniqueKeys: true` (a later key whose
   * scalar value equals an earlier one's in the same mapping), found with one set per mapping
   * instead of comparing every pair, and placed on the key itself.
   */
  duplicates: YAMLParseError[];
  /**
   * The first structure YAML allows but JSON cannot hold: an alias inside the node it refers to
   * (the data would contain itself, and every check walking it would never end), a list or
   * mapping used as a mapping key, or a value of a YAML type beyond JSON's (`!!binary`,
   * `!!timestamp`, `!!set`, `!!omap`).
   */
  shape?: { node: Node; message: string };
}

/** Walks a document once (its depth is bounded by the nesting pre-screen; aliases are not followed). */
function scanDocument(doc: Document): DocumentScan {
  const scan: DocumentScan = { duplicates: [] };
  const open = new Set<unknown>();
  const found = (node: Node, message: string): void => void (scan.shape ??= { node, message });
  const walk = (node: unknown): void => {
    if (isAlias(node)) {
      if (open.has(node.resolve(doc))) found(node, `alias *${node.source} is inside the node it refers to (&${node.source}); a registration cannot contain itself`);
      return;
    }
    if (isPair(node)) {
      walk(node.key);
      walk(node.value);
      return;
    }
    if (!isNode(node)) return;
    const value: unknown = isScalar(node) ? node.value : undefined;
    if ((node.tag && NON_JSON_TAGS.has(node.tag)) || (typeof value === 'object' && value !== null) || typeof value === 'bigint') {
      found(node, `${node.tag?.replace('tag:yaml.org,2002:', '!!') ?? 'this tag'} values are not supported: a registration holds only strings, numbers, booleans, lists and mappings (remove the tag)`);
    }
    if (!isCollection(node)) return;
    open.add(node);
    const seen = isMap(node) ? new Set<unknown>() : undefined;
    for (const item of node.items) {
      if (seen && isPair(item)) {
        const key = item.key as Node | null;
        const resolved = isAlias(key) ? key.resolve(doc) : key;
        if (key && isCollection(resolved)) found(key, `a mapping key must be a plain name, found ${isSeq(resolved) ? 'a list' : 'a mapping'}`);
        // the merge key << is a symbol; NaN is never equal to itself, as in yaml's own check
        if (isScalar(key) && (typeof key.value !== 'object' || key.value === null) && !Number.isNaN(key.value)) {
          if (seen.has(key.value)) scan.duplicates.push(new YAMLParseError([key.range?.[0] ?? 0, key.range?.[1] ?? 0], 'DUPLICATE_KEY', 'Map keys must be unique'));
          else seen.add(key.value);
        }
      }
      walk(item);
    }
    open.delete(node);
  };
  walk(doc.contents);
  return scan;
}

function unsupportedVersion(record: Record<string, unknown>): { pointer: string; message: string } | undefined {
  const version = record.apiVersion;
  if (version !== undefined && version !== SUPPORTED_API_VERSION) {
    return { pointer: '/apiVersion', message: `unsupported apiVersion ${JSON.stringify(version)}: this release of codedeploy-notify reads ${SUPPORTED_API_VERSION}` };
  }
  if (record.kind !== undefined && record.kind !== 'Registration') {
    return { pointer: '/kind', message: `unsupported kind ${JSON.stringify(record.kind)}: ${SUPPORTED_API_VERSION} files hold kind Registration` };
  }
  return undefined;
}

function positionOf(doc: Document, lineCounter: LineCounter, pointer: string, at: 'value' | 'key', offset?: number, text?: string): Position | undefined {
  const found = locate(doc, pointerSegments(pointer));
  const target = (at === 'key' ? found.key ?? found.node : found.node ?? found.key) ?? found.deepest;
  if (!target) return undefined;
  const position = nodePosition(target, lineCounter);
  if (offset !== undefined && text !== undefined && isScalar(target) && target.range) {
    const source = text.slice(target.range[0], target.range[1]);
    const quoted = target.type === Scalar.QUOTE_DOUBLE || target.type === Scalar.QUOTE_SINGLE;
    const inner = quoted ? source.slice(1, -1) : source;
    if (inner === target.value && !inner.includes('\n')) return { line: position.line, column: position.column + offset + (quoted ? 1 : 0) };
  }
  return position;
}

function yamlMessage(code: string, message: string, text: string, pos: [number, number]): string {
  switch (code) {
    case 'DUPLICATE_KEY': {
      const key = /^(?:"[^"\n]*"|'[^'\n]*'|[^:\n]*)/.exec(text.slice(pos[0]))?.[0].trim();
      return `duplicate key${key ? ` "${key}"` : ''}: each key may appear only once in a mapping`;
    }
    case 'TAB_AS_INDENT':
      return 'tab used for indentation: YAML indents with spaces only';
    case 'RESOURCE_EXHAUSTION':
      return 'document too deeply nested to read';
    default:
      return `YAML syntax error: ${(message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+.*$/, '')}`;
  }
}

/** Decodes UTF-8 text, rejecting binary data, invalid UTF-8 and control characters with a position. */
function decodeText(bytes: Buffer): { text: string } | { problem: string; position: Position } {
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { problem: 'binary file (contains NUL bytes): registration files must be UTF-8 text', position: bytePosition(bytes, nul) };
  const invalid = firstInvalidUtf8(bytes);
  if (invalid >= 0) {
    return { problem: `invalid UTF-8 (byte 0x${(bytes[invalid] as number).toString(16).padStart(2, '0')} at offset ${invalid}): save the file as UTF-8`, position: bytePosition(bytes, invalid) };
  }
  let text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const control = text.search(/[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
  if (control >= 0) {
    const lineStart = text.lastIndexOf('\n', control) + 1;
    const line = text.slice(0, control).split('\n').length;
    return { problem: `control character U+${text.charCodeAt(control).toString(16).toUpperCase().padStart(4, '0')} is not allowed in YAML`, position: { line, column: control - lineStart + 1 } };
  }
  return { text };
}

function bytePosition(bytes: Buffer, offset: number): Position {
  const before = bytes.subarray(0, offset);
  const lineStart = before.lastIndexOf(0x0a) + 1;
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return { line, column: Buffer.from(before.subarray(lineStart)).toString('utf8').length + 1 };
}

/** Offset of the first byte that starts an invalid UTF-8 sequence, or -1. */
function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let need: number;
    let min: number;
    if (b < 0x80) { i++; continue; }
    if (b >= 0xc2 && b <= 0xdf) { need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { need = 3; min = 0x10000; }
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * Offset where nesting first exceeds MAX_FLOW_DEPTH, or undefined. Two cheap scans guard the
 * parser, whose recursion otherwise fails unpredictably (or, for flow collections, kills the
 * process): block nesting by indentation levels and `- ` entries, and flow nesting by brackets
 * outside quotes and comments. Both over-approximate slightly, never by more than a few levels.
 */
function findDeepNesting(text: string): number | undefined {
  return findDeepBlockNesting(text) ?? findDeepFlowNesting(text);
}

function findDeepBlockNesting(text: string): number | undefined {
  const indents: number[] = [];
  let lineStart = 0;
  while (lineStart < text.length) {
    const end = text.indexOf('\n', lineStart);
    const line = text.slice(lineStart, end < 0 ? text.length : end);
    const indent = /^ */.exec(line)?.[0].length ?? 0;
    const rest = line.slice(indent);
    if (rest !== '' && !rest.startsWith('#')) {
      while (indents.length > 0 && (indents[indents.length - 1] as number) > indent) indents.pop();
      if (indents.length === 0 || (indents[indents.length - 1] as number) < indent) indents.push(indent);
      const dashes = /^(- +)*/.exec(rest)?.[0].split('-').length ?? 1;
      if (indents.length + dashes - 1 > MAX_FLOW_DEPTH) return lineStart + indent;
    }
    if (end < 0) break;
    lineStart = end + 1;
  }
  return undefined;
}

function findDeepFlowNesting(text: string): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const quote = c;
      for (i++; i < text.length; i++) {
        if (quote === '"' && text[i] === '\\') i++;
        else if (text[i] === quote) {
          if (quote === "'" && text[i + 1] === "'") i++;
          else break;
        }
      }
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1] as string))) {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_FLOW_DEPTH) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

function lineCounterFor(text: string, lineCounter: LineCounter): void {
  lineCounter.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineCounter.addNewLine(i + 1);
}

function display(options: LoadOptions, dir: string, rel: string): string {
  return path.join(options.displayDir ?? dir, rel).split(path.sep).join('/');
}

function lineColumn(position: Position): { line: number; column: number } {
  return { line: position.line, column: position.column };
}

function ioReason(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'EACCES' || code === 'EPERM') return `permission denied (${code})`;
  if (code === 'ENOENT') return 'no such file (ENOENT)';
  if (code === 'EISDIR') return 'is a directory (EISDIR)';
  return code ? `${errorMessage(error)} (${code})` : errorMessage(error);
}

/**
 * Makes a message safe to print on one line: control characters, line and paragraph separators,
 * invisible format characters (zero-width, bidirectional overrides) and unpaired surrogates taken
 * from the file are shown as escapes (`\t`, `\u0085`), so a report line stays one line and shows
 * what is really there.
 */
export function oneLine(message: string): string {
  return message.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[c] ?? `\\u${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}`;
  });
}

/** A value quoted for a message (JSON string syntax, on one line). */
function quote(value: string): string {
  return oneLine(JSON.stringify(value));
}

/** Orders issues by file, line, column. */
export function compareIssues(a: Issue, b: Issue): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column;
}
