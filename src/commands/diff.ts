import { statSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { loadRegistrations } from '../config/load.js';
import { dirSetting, rawSetting } from '../config/settings.js';
import { hasErrors, type LoadResult } from '../config/types.js';
import { UsageError } from '../core/errors.js';
import { desiredFromLoaded, diff, isEmptyPlan } from '../plan/diff.js';
import { PLAN_FORMATS, renderPlan, type PlanFormat } from '../plan/render.js';
import type { DesiredItem, LiveItem } from '../plan/types.js';
import { reportInvalid } from '../reconcile/cli-support.js';
import { extractDirectory, gitWorkTree, resolveCommit } from '../util/git.js';
import { addCommonOptions, type CliIO, type CommandModule } from './io.js';
import { COMMAND_SUMMARIES } from './summaries.js';

interface DiffFlags {
  dir?: string;
  format: PlanFormat;
  detailedExitcode?: boolean;
}

/** One side of a diff, loaded. */
interface Side {
  /** How the side is named in output: `origin/main (1a2b3c4)` or `registrations/`. */
  label: string;
  load: LoadResult;
}

/**
 * `diff <base> [<head>]`: the plan between two desired states, with no AWS at all. Each side is a
 * directory when one exists at that path, else a git ref of the repository holding `--dir`, read
 * at `--dir`'s path inside it (a ref without that directory is an empty set). `<head>` defaults to
 * the `--dir` directory itself. Same formats and exit codes as `plan`; an unknown ref is a usage
 * error (exit 2).
 */
export const diffCommand: CommandModule = {
  register(program: Command, io: CliIO) {
    addCommonOptions(
      program
        .command('diff')
        .description(COMMAND_SUMMARIES['diff'])
        .argument('<base>', 'directory or git ref (such as origin/main) to compare from')
        .argument('[head]', 'directory or git ref to compare to (default: the --dir directory)')
        .addOption(new Option('--format <format>', 'output format').choices(PLAN_FORMATS).default('text'))
        .option('--detailed-exitcode', 'exit 2 when there are changes, 0 when there are none'),
    ).action(async (base: string, head: string | undefined, flags: DiffFlags) => {
      const dirValue = rawSetting('dir', flags.dir, io.env).value;
      const temps: string[] = [];
      try {
        const resolver = new SideResolver(dirValue, flags.dir, io, temps);
        const baseSide = await resolver.side(base);
        const headSide = head === undefined ? await resolver.workingDir() : await resolver.side(head);
        let invalid = false;
        for (const [role, side] of [['base', baseSide], ['head', headSide]] as const) {
          if (hasErrors(side.load)) {
            reportInvalid(io, side.load, 'cannot compare', `${role} ${side.label} has invalid registration files`);
            invalid = true;
          }
        }
        if (invalid) {
          process.exitCode = 1;
          return;
        }
        const plan = diff(desiredOf(headSide), desiredOf(baseSide).map(asLive));
        io.out(renderPlan(plan, flags.format, { title: 'codedeploy-notify diff', subtitle: `From ${baseSide.label} to ${headSide.label}.` }));
        process.exitCode = flags.detailedExitcode && !isEmptyPlan(plan) ? 2 : 0;
      } finally {
        await Promise.all(temps.map((dir) => rm(dir, { recursive: true, force: true })));
      }
    });
  },
};

/** Turns `<base>`/`<head>` arguments into loaded sides. */
class SideResolver {
  readonly #dirValue: string;
  readonly #dirFlag: string | undefined;
  readonly #io: CliIO;
  readonly #temps: string[];

  constructor(dirValue: string, dirFlag: string | undefined, io: CliIO, temps: string[]) {
    this.#dirValue = dirValue;
    this.#dirFlag = dirFlag;
    this.#io = io;
    this.#temps = temps;
  }

  /** The `--dir` directory (which must exist, as for every other command). */
  async workingDir(): Promise<Side> {
    const dir = dirSetting(this.#dirFlag, this.#io.env);
    return { label: `${displayDir(dir)} (working tree)`, load: await loadRegistrations(dir) };
  }

  async side(spec: string): Promise<Side> {
    if (isDirectory(spec)) return { label: displayDir(spec), load: await loadRegistrations(spec) };
    const anchor = isDirectory(this.#dirValue) ? this.#dirValue : '.';
    const tree = await gitWorkTree(anchor);
    if (!tree) throw new UsageError(`"${spec}" is not a directory, and ${path.resolve(anchor)} is not inside a git work tree where it could be a ref`);
    const commit = await resolveCommit(tree.root, spec);
    if (!commit) throw new UsageError(`"${spec}" is neither a directory nor a git ref in ${tree.root}; fetch it first (git fetch origin) or check the spelling`);
    const dirInRepo = await this.#dirInRepo(tree.root);
    const temp = await mkdtemp(path.join(tmpdir(), 'codedeploy-notify-diff-'));
    this.#temps.push(temp);
    await extractDirectory(tree.root, commit, dirInRepo, temp);
    const label = commit.startsWith(spec.toLowerCase()) ? commit.slice(0, Math.max(7, spec.length)) : `${spec} (${commit.slice(0, 7)})`;
    return { label, load: await loadRegistrations(temp, { displayDir: displayDir(this.#dirValue).replace(/\/$/, '') }) };
  }

  /** `--dir` relative to the repository root, whether or not it exists in the working tree. */
  async #dirInRepo(root: string): Promise<string> {
    const absolute = isDirectory(this.#dirValue) ? await realpath(this.#dirValue) : path.join(await realpath('.'), this.#dirValue);
    const relative = path.relative(root, absolute).split(path.sep).join('/');
    if (relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new UsageError(`--dir ${this.#dirValue} is outside the git repository ${root}; run diff from inside the repository`);
    }
    return relative;
  }
}

function desiredOf(side: Side): DesiredItem[] {
  return desiredFromLoaded(side.load.registrations);
}

/** The base side plays the live table: every item managed, so the diff shows creates, updates and deletes only. */
function asLive(item: DesiredItem): LiveItem {
  return { name: item.name, managedBy: 'git', version: 1, metadata: item.metadata, spec: item.spec, source: item.source };
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function displayDir(dir: string): string {
  const normal = path.normalize(dir).split(path.sep).join('/');
  return normal.endsWith('/') ? normal : `${normal}/`;
}
