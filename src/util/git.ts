import { spawn } from 'node:child_process';
import { mkdir, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NotifyError } from '../core/errors.js';

/** git could not do what was asked (not installed, not a repository, unreadable object). */
export class GitError extends NotifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('git', message, options);
  }
}

/** The git work tree a directory sits in. */
export interface GitWorkTree {
  /** Absolute path of the work tree root (symlinks resolved). */
  root: string;
  /** `HEAD`'s commit id; absent in a repository without commits. */
  head?: string;
  /** True when files under the directory differ from HEAD (modified, staged, deleted or untracked). */
  dirty: boolean;
}

interface GitOutput {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs git with a fixed environment (no prompts, C locale). Rejects with GitError only when git cannot be started. */
function runGit(args: readonly string[], cwd: string, input?: string): Promise<GitOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, {
      cwd,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => reject(new GitError(`cannot run git: ${error.message}; install git or put it on PATH`, { cause: error })));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8').trim() }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/**
 * The git work tree containing `dir`, or undefined when `dir` is not inside one (or git is not
 * installed: provenance is optional). `dirty` looks only at files under `dir`.
 */
export async function gitWorkTree(dir: string): Promise<GitWorkTree | undefined> {
  let top: GitOutput;
  try {
    top = await runGit(['rev-parse', '--show-toplevel'], dir);
  } catch {
    return undefined;
  }
  if (top.code !== 0) return undefined;
  const root = await realpath(top.stdout.toString('utf8').trim());
  const head = await runGit(['rev-parse', '--verify', '--quiet', 'HEAD'], dir);
  const status = await runGit(['status', '--porcelain', '--untracked-files=all', '--', '.'], dir);
  const tree: GitWorkTree = { root, dirty: status.code === 0 && status.stdout.length > 0 };
  if (head.code === 0) tree.head = head.stdout.toString('utf8').trim();
  return tree;
}

/**
 * The commit recorded as a registration's `source.commit`: HEAD, with `-dirty` appended when the
 * directory has uncommitted changes (as `git describe --dirty` does); undefined without commits.
 */
export function sourceCommit(tree: GitWorkTree | undefined): string | undefined {
  if (!tree?.head) return undefined;
  return tree.dirty ? `${tree.head}-dirty` : tree.head;
}

/** `file` (absolute or relative to the process) relative to the work tree root, with '/' separators. */
export async function pathInTree(tree: GitWorkTree, file: string): Promise<string> {
  const absolute = await realpath(file).catch(() => path.resolve(file));
  return path.relative(tree.root, absolute).split(path.sep).join('/');
}

/** The commit a ref names, or undefined when the ref does not exist in the repository at `root`. */
export async function resolveCommit(root: string, ref: string): Promise<string | undefined> {
  if (ref.startsWith('-')) return undefined; // never let a "ref" become an option
  const result = await runGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], root);
  return result.code === 0 ? result.stdout.toString('utf8').trim() : undefined;
}

/**
 * Writes the registration files (`*.yaml`, `*.yml`; regular files, not symlinks or submodules)
 * under `dirInRepo` at `commit` into `dest`, keeping their paths relative to `dirInRepo`.
 * Returns how many files were written and whether the directory exists at that commit.
 * Throws GitError when git fails.
 */
export async function extractDirectory(root: string, commit: string, dirInRepo: string, dest: string): Promise<{ files: number; exists: boolean }> {
  const prefix = dirInRepo === '' || dirInRepo === '.' ? '' : `${dirInRepo.replace(/\/+$/, '')}/`;
  const listing = await runGit(['ls-tree', '-r', '-z', '--full-tree', commit, ...(prefix ? ['--', prefix] : [])], root);
  if (listing.code !== 0) throw new GitError(`git ls-tree ${commit} failed: ${listing.stderr || `exit ${listing.code}`}`);
  const blobs: Array<{ oid: string; relative: string }> = [];
  let exists = prefix === '';
  for (const record of listing.stdout.toString('utf8').split('\0')) {
    const match = /^(\d+) (\w+) ([0-9a-f]+)\t(.*)$/s.exec(record);
    if (!match) continue;
    const [, mode, type, oid, file] = match as unknown as [string, string, string, string, string];
    if (!file.startsWith(prefix)) continue;
    exists = true;
    const relative = file.slice(prefix.length);
    if (type !== 'blob' || (mode !== '100644' && mode !== '100755')) continue;
    if (!/\.ya?ml$/i.test(relative) || relative.split('/').some((part) => part.startsWith('.'))) continue;
    blobs.push({ oid, relative });
  }
  if (blobs.length === 0) return { files: 0, exists };
  const batch = await runGit(['cat-file', '--batch'], root, blobs.map((b) => `${b.oid}\n`).join(''));
  if (batch.code !== 0) throw new GitError(`git cat-file failed: ${batch.stderr || `exit ${batch.code}`}`);
  let offset = 0;
  for (const blob of blobs) {
    const newline = batch.stdout.indexOf(0x0a, offset);
    const header = batch.stdout.subarray(offset, newline).toString('utf8');
    const size = Number(/^[0-9a-f]+ blob (\d+)$/.exec(header)?.[1] ?? NaN);
    if (!Number.isFinite(size)) throw new GitError(`git cat-file answered "${header}" for ${blob.relative}`);
    const content = batch.stdout.subarray(newline + 1, newline + 1 + size);
    offset = newline + 1 + size + 1;
    const target = path.join(dest, ...blob.relative.split('/'));
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return { files: blobs.length, exists };
}
