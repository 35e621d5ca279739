// Invariants the fuzz tests check on every loader result and every CLI output. Each check returns
// a list of problems (empty when all is well) so that a run over 1,000 cases can report every
// broken case with its seed instead of stopping at the first.
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { MAX_FILE_BYTES } from '../../src/config/load.js';
import { formatIssueLine } from '../../src/config/report.js';
import type { Issue, LoadResult } from '../../src/config/types.js';
import { isValidRegistration } from '../../src/config/validator.js';
import type { ExampleFile } from './mutations.js';

/** `path:line:col: error|warning: /pointer: message` — SPEC's text form, pointer without blanks. */
export const TEXT_LINE = /^(\S+?):(\d+):(\d+): (error|warning): (\/\S*): (.+)$/;
/** SPEC's summary line. */
export const SUMMARY_LINE = /^(\d+) files?, (\d+) registrations?, (\d+) errors?, (\d+) warnings?$/;
/** GitHub Actions annotations, as `validate --format github` prints them. */
export const GITHUB_LINE = /^::(error|warning) file=[^,:]+,line=(\d+),col=(\d+)::(.+)$/;

/** The lines a stack trace prints (`    at fn (file:1:2)`). */
export function stackTraceLines(text: string): string[] {
  return text.split('\n').filter((line) => /^\s+at\s/.test(line));
}

/** True for the cross-file issue that depends on which other files share the directory. */
export function isDuplicateName(issue: Pick<Issue, 'message'>): boolean {
  return issue.message.startsWith('duplicate metadata.name ');
}

/**
 * Checks that an issue names its place: a file of the tree, 1 ≤ line ≤ lines in the file,
 * 1 ≤ column ≤ that line's length + 1, a pointer that is '' or starts with '/', a severity, and a
 * non-empty one-line message. `texts` maps each displayed path to the file's text.
 */
export function issueProblems(issue: Issue, texts: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const where = `${issue.file}:${issue.line}:${issue.column} ${issue.pointer} ${JSON.stringify(issue.message)}`;
  const text = texts.get(issue.file);
  if (text === undefined) problems.push(`issue for a file that is not in the tree: ${where}`);
  if (!Number.isInteger(issue.line) || issue.line < 1) problems.push(`line < 1: ${where}`);
  if (!Number.isInteger(issue.column) || issue.column < 1) problems.push(`column < 1: ${where}`);
  if (text !== undefined && Number.isInteger(issue.line) && issue.line >= 1) {
    const lines = text.split('\n');
    const line = lines[issue.line - 1];
    if (line === undefined) problems.push(`line beyond the end of the file (${lines.length} lines): ${where}`);
    else if (issue.column > line.length + 1) problems.push(`column beyond the end of line ${issue.line} (${line.length} characters): ${where}`);
  }
  if (typeof issue.pointer !== 'string' || (issue.pointer !== '' && !issue.pointer.startsWith('/'))) problems.push(`bad pointer: ${where}`);
  if (issue.severity !== 'error' && issue.severity !== 'warning') problems.push(`bad severity: ${where}`);
  if (typeof issue.message !== 'string' || issue.message.trim() === '') problems.push(`empty message: ${where}`);
  else if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u.test(issue.message)) problems.push(`control, invisible or line-breaking character in the message: ${where}`);
  else if (/\bat .+:\d+:\d+\)?$|\bundefined\b|\[object Object\]/.test(issue.message)) problems.push(`message looks like a leaked internal: ${where}`);
  if (!TEXT_LINE.test(formatIssueLine(issue))) problems.push(`text form not in SPEC's shape: ${JSON.stringify(formatIssueLine(issue))}`);
  return problems;
}

/** The example documents as plain data (what an unchanged document must equal). */
export function exampleDocuments(examples: readonly ExampleFile[]): unknown[] {
  return examples.flatMap((e) => parseAllDocuments(e.bytes.toString('utf8')).flatMap((d) => (d.contents === null ? [] : [d.toJS() as unknown])));
}

/**
 * When a mutated file is within the size limit, still clean UTF-8, parses without a YAML error or warning, and every
 * non-empty document equals one of the examples' documents, returns those documents' names: the
 * loader must accept each of them. Otherwise undefined (no oracle for this file).
 */
export function unchangedDocuments(bytes: Buffer, documents: readonly unknown[]): string[] | undefined {
  if (bytes.length > MAX_FILE_BYTES) return undefined; // the loader's documented size limit
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex -- control characters make the file invalid
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufeff]/.test(text.replace(/^\ufeff/, ''))) return undefined;
  const docs = parseAllDocuments(text, { logLevel: 'silent' });
  if (!Array.isArray(docs)) return undefined; // an EmptyStream
  const names: string[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0 || doc.warnings.length > 0) return undefined;
    if (doc.contents === null) continue;
    let data: unknown;
    try {
      data = doc.toJS();
    } catch {
      return undefined;
    }
    if (data === null) continue;
    if (!documents.some((d) => isDeepStrictEqual(d, data))) return undefined;
    names.push((data as { metadata: { name: string } }).metadata.name);
  }
  return names;
}

/**
 * Checks one loader result against the tree it loaded: every issue positioned (issueProblems),
 * every accepted registration plain JSON data and valid by the raw schema, issues only where a file changed
 * (except duplicate names), and files that did not change in meaning accepted.
 */
export function loadProblems(
  result: LoadResult,
  tree: { files: readonly { path: string; bytes: Buffer; mutated: boolean }[] },
  display: (relativePath: string) => string,
  documents: readonly unknown[],
): string[] {
  const problems: string[] = [];
  const texts = new Map(tree.files.map((f) => [display(f.path), f.bytes.toString('utf8').replace(/^\ufeff/, '')]));
  for (const issue of result.issues) problems.push(...issueProblems(issue, texts));
  for (const loaded of result.registrations) {
    if (!isValidRegistration(loaded.registration)) problems.push(`${loaded.file}: document ${loaded.documentIndex} was accepted but the schema rejects it`);
    // only JSON data may be accepted: a Set, Map, Date or Buffer passes the schema as an empty mapping
    if (!isDeepStrictEqual(JSON.parse(JSON.stringify(loaded.registration)), loaded.registration)) problems.push(`${loaded.file}: document ${loaded.documentIndex} was accepted but is not plain JSON data`);
  }
  const names = result.registrations.map((r) => r.registration.metadata.name);
  if (new Set(names).size !== names.length) problems.push(`a name was accepted twice: ${names.join(', ')}`);
  if (result.files.length !== tree.files.length) problems.push(`${result.files.length} files listed, the tree has ${tree.files.length}`);
  for (const file of tree.files) {
    const shown = display(file.path);
    const errors = result.issues.filter((i) => i.file === shown && i.severity === 'error' && !isDuplicateName(i));
    if (!file.mutated && errors.length > 0) problems.push(`${shown} was not mutated but has errors: ${errors.map((e) => e.message).join(' | ')}`);
    const unchanged = unchangedDocuments(file.bytes, documents);
    if (unchanged !== undefined) {
      if (errors.length > 0) problems.push(`${shown} still holds valid registrations (${unchanged.join(', ')}) but has errors: ${errors.map((e) => `${e.line}:${e.column} ${e.message}`).join(' | ')}`);
      const accepted = result.registrations.filter((r) => r.file === shown).length;
      const duplicates = result.issues.filter((i) => i.file === shown && isDuplicateName(i)).length;
      if (accepted + duplicates !== unchanged.length) problems.push(`${shown} holds ${unchanged.length} valid registrations; ${accepted} accepted, ${duplicates} duplicates`);
    }
  }
  return problems;
}

/**
 * Where the yaml library's own duplicate-key check (`uniqueKeys: true`, which the loader replaced
 * with a linear one) finds duplicate keys in `text`, as sorted `line:column` strings.
 */
export function yamlDuplicateKeyPositions(text: string): string[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true, merge: true, strict: true, logLevel: 'silent' });
  if (!Array.isArray(docs)) return [];
  return docs
    .flatMap((d) => d.errors.filter((e) => e.code === 'DUPLICATE_KEY').map((e) => e.pos[0]))
    .sort((a, b) => a - b)
    .map((offset) => {
      const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
      return `${text.slice(0, lineStart).split('\n').length}:${offset - lineStart + 1}`;
    });
}
