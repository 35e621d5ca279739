import type { Issue } from './types.js';

/** Output formats of `validate` (SPEC). */
export const ISSUE_FORMATS = ['text', 'github', 'json'] as const;
export type IssueFormat = (typeof ISSUE_FORMATS)[number];

/** What a report summarises. */
export interface IssueSummaryInput {
  files: readonly string[];
  documents: number;
  issues: readonly Issue[];
}

/** `path:line:col: error: /json/pointer: message` — the one text form every command uses for issues. */
export function formatIssueLine(issue: Issue): string {
  return `${issue.file}:${issue.line}:${issue.column}: ${issue.severity}: ${pointerText(issue.pointer)}: ${issue.message}`;
}

/**
 * A JSON pointer as the text and github formats show it: '/' for the whole document, and blanks,
 * control characters and '%' percent-encoded as in a URI fragment (RFC 6901, section 6), so that
 * a key such as "spec x" cannot split or break the line (`/spec%20x`). JSON output keeps the pointer as is.
 */
export function pointerText(pointer: string): string {
  if (pointer === '') return '/';
  return pointer.replace(/[%\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

/** `N files, N registrations, N errors, N warnings`. */
export function summaryLine(input: IssueSummaryInput): string {
  const errors = input.issues.filter((i) => i.severity === 'error').length;
  const warnings = input.issues.length - errors;
  return `${count(input.files.length, 'file')}, ${count(input.documents, 'registration')}, ${count(errors, 'error')}, ${count(warnings, 'warning')}`;
}

/**
 * Renders issues in one of SPEC's formats:
 * - text: one line per issue, then the summary line;
 * - github: `::error file=…,line=…,col=…::message` workflow commands (annotations), then the summary;
 * - json: `{"files":N,"registrations":N,"issues":[{file,line,column,pointer,severity,message}]}`.
 */
export function renderIssues(input: IssueSummaryInput, format: IssueFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify({
        files: input.files.length,
        registrations: input.documents,
        issues: input.issues.map(({ file, line, column, pointer, severity, message }) => ({ file, line, column, pointer, severity, message })),
      }, null, 2)}\n`;
    case 'github':
      return `${input.issues.map(githubLine).join('')}${summaryLine(input)}\n`;
    default:
      return `${input.issues.map((i) => `${formatIssueLine(i)}\n`).join('')}${summaryLine(input)}\n`;
  }
}

function githubLine(issue: Issue): string {
  const props = `file=${escapeProperty(issue.file)},line=${issue.line},col=${issue.column}`;
  return `::${issue.severity} ${props}::${escapeData(`${pointerText(issue.pointer)}: ${issue.message}`)}\n`;
}

// GitHub Actions workflow-command escaping (actions/toolkit: escapeData / escapeProperty).
function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
