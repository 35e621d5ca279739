import type { Registration } from './registration.generated.js';

export type { Registration };

/**
 * One problem in the registration files, as a value (never thrown). `line`/`column` are 1-based
 * and point at the offending node; `pointer` is the JSON pointer inside the document ('' for the
 * whole document or file).
 */
export interface Issue {
  file: string;
  line: number;
  column: number;
  pointer: string;
  severity: 'error' | 'warning';
  message: string;
}

/** A registration that passed every check, with where it was written. */
export interface LoadedRegistration {
  registration: Registration;
  /** Path as displayed to the user: `<dir as given>/<relative path>`. */
  file: string;
  /** Path relative to the registrations directory, with '/' separators. */
  relativePath: string;
  /** 0-based index of the YAML document within its file. */
  documentIndex: number;
  /** Position of the document's `metadata.name` value (or of the document when absent). */
  line: number;
  column: number;
}

/** Everything loading a directory found. Registrations are only those without errors. */
export interface LoadResult {
  /** The directory as given. */
  dir: string;
  /** Every registration file read, as displayed paths, sorted. */
  files: string[];
  registrations: LoadedRegistration[];
  issues: Issue[];
  /** Non-empty YAML documents found: each is one registration, valid or not (the summary's count). */
  documents: number;
}

/** True when any issue is an error (warnings allowed). */
export function hasErrors(result: { issues: readonly Issue[] }): boolean {
  return result.issues.some((issue) => issue.severity === 'error');
}
