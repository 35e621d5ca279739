import type { RegistrationMetadata, RegistrationSpec } from '../config/registration.generated.js';

/** Where a desired registration came from; stored on the live item as `source`. */
export interface SourceRef {
  /** The file, relative to the git work tree root when there is one, else as displayed. */
  file: string;
  /** `git rev-parse HEAD` of the work tree, with `-dirty` appended when files under the directory have uncommitted changes. */
  commit?: string;
}

/** One registration as the files want it to be live. */
export interface DesiredItem {
  name: string;
  metadata: Omit<RegistrationMetadata, 'name'>;
  spec: RegistrationSpec;
  source: SourceRef;
}

/**
 * One item of the registrations table as read, before any validation: items written by other
 * tools (or edited by hand) may hold anything in `metadata` and `spec`.
 */
export interface LiveItem {
  name: string;
  /** "git" for items the reconciler owns; anything else, or absent, is unmanaged. */
  managedBy?: string;
  /** Absent only on items written by hand without one. */
  version?: number;
  metadata?: unknown;
  spec?: unknown;
  createdAt?: string;
  updatedAt?: string;
  source?: { file?: string; commit?: string };
}

/**
 * One changed field. `path` names it (`spec.channels[team-slack].events`); `before`/`after` are
 * absent when the field did not exist on that side. Values are safe to show: secret refs stay
 * `{ fromEnv: NAME }` (rendered `env:NAME`) and a plain string where a secret belongs (only
 * possible in a hand-edited live item) is replaced by `[hidden]`.
 */
export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export type ChangeAction = 'create' | 'update' | 'delete';

/** One write the plan calls for. */
export interface PlannedChange {
  action: ChangeAction;
  name: string;
  /** Create/update: the desired item to write. */
  desired?: DesiredItem;
  /** Update/delete: the live version the write is conditional on (absent for hand-made items without one). */
  expectedVersion?: number;
  /** Update: the changed fields. Create: every field of the new item. Delete: every field of the old one. */
  fields: FieldChange[];
}

/** A live item the reconciler does not own. `desiredFile` is set when a file wants that name too (it is left alone). */
export interface UnmanagedItem {
  name: string;
  managedBy?: string;
  desiredFile?: string;
}

/** Counts of a plan, for summaries and metrics. */
export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
  unmanaged: number;
}

/**
 * What converging the live table to the desired set takes. Every list is sorted by name, so a
 * plan renders the same way every time.
 */
export interface Plan {
  changes: PlannedChange[];
  unchanged: string[];
  unmanaged: UnmanagedItem[];
}
