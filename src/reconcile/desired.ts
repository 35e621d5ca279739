import { loadRegistrations } from '../config/load.js';
import { hasErrors, type LoadResult } from '../config/types.js';
import { desiredFromLoaded } from '../plan/diff.js';
import type { DesiredItem } from '../plan/types.js';
import { gitWorkTree, pathInTree, sourceCommit, type GitWorkTree } from '../util/git.js';

/** The desired state read from a registrations directory. */
export interface DesiredState {
  /** What the loader found, issues included. */
  load: LoadResult;
  /** The desired items; empty when `valid` is false (nothing may be written then). */
  items: DesiredItem[];
  /** False when any file has an error. */
  valid: boolean;
  /** HEAD of the work tree (with `-dirty` for uncommitted changes under the directory), when in git. */
  commit?: string;
}

/** How to read the desired state. */
export interface LoadDesiredOptions {
  /** The loader (default: `loadRegistrations`). */
  load?: (dir: string) => Promise<LoadResult>;
  /** Record git provenance (default true). */
  git?: boolean;
}

/**
 * Loads `dir` and turns its registrations into desired items. Each item's `source.file` is the
 * path relative to the git work tree root when `dir` is in one (stable whatever `--dir` spelling
 * was used), else the displayed path; `source.commit` is HEAD, `-dirty` when files under `dir`
 * have uncommitted changes. Rejects only when the directory cannot be read.
 */
export async function loadDesired(dir: string, options: LoadDesiredOptions = {}): Promise<DesiredState> {
  const load = options.load ?? ((d: string) => loadRegistrations(d));
  const [result, tree] = await Promise.all([load(dir), options.git === false ? Promise.resolve(undefined) : gitWorkTree(dir)]);
  const valid = !hasErrors(result);
  const commit = sourceCommit(tree);
  const state: DesiredState = { load: result, items: [], valid };
  if (commit !== undefined) state.commit = commit;
  if (!valid) return state;
  const dirInTree = tree ? await dirPrefix(tree, dir) : undefined;
  state.items = desiredFromLoaded(result.registrations, (loaded) => {
    const file = dirInTree !== undefined ? `${dirInTree}${loaded.relativePath}` : loaded.file;
    return commit !== undefined ? { file, commit } : { file };
  });
  return state;
}

async function dirPrefix(tree: GitWorkTree, dir: string): Promise<string> {
  const relative = await pathInTree(tree, dir);
  return relative === '' ? '' : `${relative}/`;
}
