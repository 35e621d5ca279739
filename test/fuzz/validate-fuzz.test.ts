// Fuzzing `validate` (GitHub issue 7, item 3): mutations of the example registrations (byte
// flips, truncation, line and indentation changes, key typos, type swaps, anchors and aliases,
// spliced documents, control characters, invalid UTF-8) never crash the loader or the CLI, and
// every problem comes back as a positioned issue.
//
// Environment:
//   FUZZ_RUNS=<n>     number of mutated trees (default 1000); raise it for longer local runs
//   FUZZ_SEED=<n>     base seed the case seeds derive from (default DEFAULT_FUZZ_SEED in mutations.ts)
//   FUZZ_CASE=<seed>  run only the tree of this case seed (every failure prints its seed)
//
// The loader runs in-process on every tree; the built CLI (run `npm run build` first) checks the
// mutated files of all trees in a few batch directories in every output format, a sample of
// whole trees, and must agree with the loader file by file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareIssues, loadRegistrations, parseRegistrationText, PARALLEL_THRESHOLD } from '../../src/config/load.js';
import { pointerText } from '../../src/config/report.js';
import { hasErrors, type Issue, type LoadResult } from '../../src/config/types.js';
import { requireBuiltCli, runCli, type CliRun } from '../helpers/cli.js';
import {
  exampleDocuments, GITHUB_LINE, isDuplicateName, issueProblems, loadProblems, stackTraceLines, SUMMARY_LINE, TEXT_LINE, unchangedDocuments, yamlDuplicateKeyPositions,
} from './checks.js';
import { caseSeeds, describeTree, fuzzSettings, mutateTree, OPERATOR_NAMES, readExamples, writeTree, type MutatedTree } from './mutations.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const settings = fuzzSettings();
const examples = readExamples(path.join(ROOT, 'registrations'));
const documents = exampleDocuments(examples);
/** Time allowed for a test that covers every case (FUZZ_RUNS scales it). */
const timeoutMs = 60_000 + 60 * settings.runs;

let work: string;
/** Every case: its tree, where it was written (relative to `work`), and what the loader said. */
const cases: { tree: MutatedTree; id: string; result?: LoadResult }[] = [];

beforeAll(() => {
  requireBuiltCli();
  work = mkdtempSync(path.join(tmpdir(), 'cdn-fuzz-validate-'));
  for (const seed of caseSeeds(settings)) {
    const tree = mutateTree(examples, seed);
    const id = `trees/${seed}`;
    writeTree(path.join(work, id), tree.files);
    cases.push({ tree, id });
  }
}, timeoutMs);
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Fails with every problem, each prefixed by its case seed (at most 20 shown). */
function expectNoProblems(problems: string[]): void {
  const shown = problems.slice(0, 20).join('\n');
  expect(problems, `${problems.length} problems${problems.length > 20 ? ' (first 20)' : ''}:\n${shown}`).toEqual([]);
}

/** Loads every tree not loaded yet (when a CLI test runs without the in-process one, e.g. with -t). */
async function ensureLoaded(): Promise<void> {
  for (const c of cases) c.result ??= await loadRegistrations(path.join(work, c.id), { displayDir: c.id });
}

const withoutDuplicateNames = (issues: readonly Issue[]): Issue[] => issues.filter((i) => !isDuplicateName(i));
const short = (i: Issue): string => `${i.line}:${i.column} ${i.severity} ${i.pointer} ${i.message}`;

describe('the mutation generator', () => {
  it('is deterministic and uses every operator', () => {
    const seed = cases[0]?.tree.seed ?? 1;
    expect(mutateTree(examples, seed)).toEqual(mutateTree(examples, seed));
    expect(mutateTree(examples, seed + 1)).not.toEqual(mutateTree(examples, seed));
    if (settings.only === undefined && settings.runs >= 500) {
      const used = new Set(cases.flatMap((c) => c.tree.mutations.map((m) => m.split(': ')[1])));
      expect([...used].sort()).toEqual([...OPERATOR_NAMES].sort());
    }
  });

  it('starts from examples that validate', async () => {
    const result = await loadRegistrations(path.join(ROOT, 'registrations'));
    expect(result.issues).toEqual([]);
    expect(documents.length).toBe(result.registrations.length);
  });
});

describe(`validate over ${settings.only === undefined ? settings.runs : 1} mutated trees`, () => {
  it('the loader (in-process) never throws and reports positioned issues', async () => {
    const problems: string[] = [];
    let unchanged = 0;
    for (const c of cases) {
      const dir = path.join(work, c.id);
      try {
        c.result = await loadRegistrations(dir, { displayDir: c.id });
      } catch (error) {
        problems.push(`${describeTree(c.tree)}\n  loadRegistrations threw: ${(error as Error).stack ?? String(error)}`);
        continue;
      }
      for (const p of loadProblems(c.result, c.tree, (rel) => `${c.id}/${rel}`, documents)) problems.push(`${describeTree(c.tree)}\n  ${p}`);
      // parseRegistrationText takes any string, also text the file reader would have rejected
      for (const file of c.tree.files.filter((f) => f.mutated)) {
        const text = file.bytes.toString('utf8');
        try {
          const parsed = parseRegistrationText(text, file.path, file.path);
          for (const issue of parsed.issues) for (const p of issueProblems(issue, new Map([[file.path, text]]))) problems.push(`${describeTree(c.tree)}\n  parseRegistrationText: ${p}`);
          // the loader's linear duplicate-key check finds as many as the yaml library's own check,
          // each on its key (the library points after a key with an empty value instead)
          if (!parsed.issues.some((i) => i.message.startsWith('nesting deeper than'))) {
            const ours = parsed.issues.filter((i) => i.message.startsWith('duplicate key')).sort(compareIssues);
            const theirs = yamlDuplicateKeyPositions(text);
            if (ours.length !== theirs.length) problems.push(`${describeTree(c.tree)}\n  ${file.path}: duplicate keys at ${ours.map((i) => `${i.line}:${i.column}`).join(' ')}; the yaml library finds ${theirs.join(' ')}`);
            for (const i of ours) {
              if (/^\s?$/.test(text.split('\n')[i.line - 1]?.[i.column - 1] ?? '')) problems.push(`${describeTree(c.tree)}\n  ${file.path}:${i.line}:${i.column}: duplicate key issue not on a key: ${i.message}`);
            }
          }
          if (unchangedDocuments(file.bytes, documents) !== undefined) unchanged++;
        } catch (error) {
          problems.push(`${describeTree(c.tree)}\n  parseRegistrationText threw on ${file.path}: ${(error as Error).stack ?? String(error)}`);
        }
      }
    }
    expectNoProblems(problems);
    const invalid = cases.filter((c) => c.result && hasErrors(c.result)).length;
    // the fuzzer must mostly produce broken trees, and some that survive (comments, whitespace)
    if (settings.only === undefined && settings.runs >= 500) {
      expect(invalid).toBeGreaterThan(cases.length / 2);
      expect(invalid).toBeLessThan(cases.length);
      // the "still valid after mutation" oracle must have had real work to do
      expect(unchanged).toBeGreaterThan(cases.length / 50);
    }
  }, timeoutMs);

  it('the built CLI checks the mutated files in batches, in every format, agreeing with the loader file by file', async () => {
    await ensureLoaded();
    const batches = buildBatches();
    const problems: string[] = [];
    for (const batch of batches) {
      const runs = await Promise.all((['json', 'text', 'github'] as const).map((format) => runCli(['validate', '--dir', batch.dir, '--format', format], { cwd: work, noAws: true, timeoutMs: 60_000 })));
      const [json, text, github] = runs as [CliRun, CliRun, CliRun];
      problems.push(...batchProblems(batch, json, text, github));
    }
    expectNoProblems(problems);
    // one batch is large enough for the loader's worker threads
    if (settings.only === undefined && settings.runs >= 500) expect(batches.some((b) => b.files > PARALLEL_THRESHOLD)).toBe(true);
  }, 2 * timeoutMs);

  it('the built CLI on whole trees: exit code and issues as the loader says', async () => {
    await ensureLoaded();
    const sample = sampleCases(12);
    const problems: string[] = [];
    await Promise.all(
      [0, 1].map(async (lane) => {
        for (const c of sample.filter((_, i) => i % 2 === lane)) {
          const run = await runCli(['validate', '--dir', c.id, '--format', 'json'], { cwd: work, noAws: true });
          const expected = c.result as LoadResult;
          const prefix = `${describeTree(c.tree)}\n  validate --dir ${c.id}:`;
          if (run.code !== (hasErrors(expected) ? 1 : 0)) problems.push(`${prefix} exit ${run.code}, expected ${hasErrors(expected) ? 1 : 0}; stderr ${run.stderr}`);
          if (run.stderr !== '') problems.push(`${prefix} stderr ${JSON.stringify(run.stderr.slice(0, 500))}`);
          try {
            const out = JSON.parse(run.stdout) as { files: number; registrations: number; issues: Issue[] };
            if (!isEqual(out, { files: expected.files.length, registrations: expected.documents, issues: expected.issues })) problems.push(`${prefix} output differs from the loader's result`);
          } catch {
            problems.push(`${prefix} stdout is not JSON: ${run.stdout.slice(0, 300)}`);
          }
        }
      }),
    );
    expectNoProblems(problems);
    expect(sample.length).toBe(Math.min(12, cases.length));
    if (settings.only === undefined) {
      expect(sample.some((c) => c.result && !hasErrors(c.result))).toBe(true);
      expect(sample.some((c) => c.result && hasErrors(c.result))).toBe(true);
    }
  }, timeoutMs);
});

interface Batch {
  /** Relative to `work`. */
  dir: string;
  files: number;
  /** Batch file path (displayed) → the case and the file's path inside its tree. */
  origin: Map<string, { c: (typeof cases)[number]; path: string }>;
}

/**
 * Copies the mutated files of every tree into batch directories (`batches/<n>/<seed>/<path>`):
 * one small batch, then batches of up to 450 files (over the loader's worker-thread threshold).
 */
function buildBatches(): Batch[] {
  const batches: Batch[] = [];
  let current: Batch | undefined;
  for (const c of cases) {
    const mutated = c.tree.files.filter((f) => f.mutated);
    const limit = batches.length === 1 ? 150 : 450;
    if (!current || current.files + mutated.length > limit) {
      current = { dir: `batches/${batches.length}`, files: 0, origin: new Map() };
      batches.push(current);
    }
    const batch = current;
    const inBatch = mutated.map((f) => ({ path: `${c.tree.seed}/${f.path}`, bytes: f.bytes }));
    writeTree(path.join(work, batch.dir), inBatch);
    mutated.forEach((f, i) => batch.origin.set(`${batch.dir}/${(inBatch[i] as { path: string }).path}`, { c, path: f.path }));
    batch.files += mutated.length;
  }
  return batches.filter((b) => b.files > 0);
}

/** Everything that must hold for one batch's three outputs. */
function batchProblems(batch: Batch, json: CliRun, text: CliRun, github: CliRun): string[] {
  const problems: string[] = [];
  const where = (file: string): string => {
    const o = batch.origin.get(file);
    return o ? `${describeTree(o.c.tree)} (${o.path})` : file;
  };
  for (const [format, run] of [['json', json], ['text', text], ['github', github]] as const) {
    if (run.code !== 0 && run.code !== 1) problems.push(`${batch.dir} --format ${format}: exit ${run.code} (signal or crash); stderr ${run.stderr.slice(0, 2000)}`);
    if (run.stderr !== '') problems.push(`${batch.dir} --format ${format}: stderr ${JSON.stringify(run.stderr.slice(0, 2000))}`);
    const traces = stackTraceLines(run.stdout);
    if (traces.length > 0) problems.push(`${batch.dir} --format ${format}: stack trace in stdout: ${traces.slice(0, 3).join(' | ')}`);
  }
  if (problems.length > 0) return problems;

  let report: { files: number; registrations: number; issues: Issue[] };
  try {
    report = JSON.parse(json.stdout) as typeof report;
  } catch {
    return [`${batch.dir} --format json: stdout is not JSON: ${json.stdout.slice(0, 300)}`];
  }
  const issues = report.issues;
  const errors = issues.filter((i) => i.severity === 'error').length;
  if (report.files !== batch.files) problems.push(`${batch.dir}: ${report.files} files reported, ${batch.files} written`);
  if (json.code !== (errors > 0 ? 1 : 0)) problems.push(`${batch.dir}: exit ${json.code} with ${errors} errors`);
  if (text.code !== json.code || github.code !== json.code) problems.push(`${batch.dir}: exit codes differ between formats (${json.code}, ${text.code}, ${github.code})`);

  // every issue positioned, in the JSON report
  const texts = new Map([...batch.origin].map(([file, o]) => [file, (o.c.tree.files.find((f) => f.path === o.path)?.bytes ?? Buffer.alloc(0)).toString('utf8').replace(/^\ufeff/, '')]));
  for (const issue of issues) for (const p of issueProblems(issue, texts)) problems.push(`${where(issue.file)}: ${p}`);

  // text: one line per issue in SPEC's form, the summary last, the same issues as the JSON report
  const lines = text.stdout.split('\n');
  if (lines.pop() !== '') problems.push(`${batch.dir} text: output does not end with a newline`);
  const summary = SUMMARY_LINE.exec(lines.pop() ?? '');
  if (!summary) problems.push(`${batch.dir} text: the last line is not the summary`);
  else if (Number(summary[1]) !== report.files || Number(summary[2]) !== report.registrations || Number(summary[3]) !== errors || Number(summary[4]) !== issues.length - errors) {
    problems.push(`${batch.dir} text: summary "${summary[0]}" disagrees with the JSON report`);
  }
  if (lines.length !== issues.length) problems.push(`${batch.dir} text: ${lines.length} issue lines, JSON has ${issues.length} issues`);
  lines.forEach((line, i) => {
    const m = TEXT_LINE.exec(line);
    const issue = issues[i];
    if (!m) problems.push(`${issue ? where(issue.file) : batch.dir}: text line not in SPEC's form: ${JSON.stringify(line)}`);
    else if (issue && !isEqual([m[1], Number(m[2]), Number(m[3]), m[4], m[5], m[6]], [issue.file, issue.line, issue.column, issue.severity, pointerText(issue.pointer), issue.message])) {
      problems.push(`${where(issue.file)}: text line ${JSON.stringify(line)} differs from the JSON issue ${JSON.stringify(issue)}`);
    }
  });

  // github: one annotation per issue, then the summary
  const annotations = github.stdout.split('\n').slice(0, -2);
  if (annotations.length !== issues.length) problems.push(`${batch.dir} github: ${annotations.length} annotations, JSON has ${issues.length} issues`);
  annotations.forEach((line, i) => {
    const m = GITHUB_LINE.exec(line);
    const issue = issues[i];
    if (!m) problems.push(`${batch.dir} github: annotation not in the workflow-command form: ${JSON.stringify(line)}`);
    else if (issue && (m[1] !== issue.severity || Number(m[2]) !== issue.line || Number(m[3]) !== issue.column)) problems.push(`${where(issue.file)}: annotation ${line} differs from ${JSON.stringify(issue)}`);
  });

  // file by file, the same issues as the loader found in the file's own tree (names may clash across trees)
  for (const [file, o] of batch.origin) {
    const inBatch = withoutDuplicateNames(issues.filter((i) => i.file === file)).map(short);
    const inTree = withoutDuplicateNames((o.c.result?.issues ?? []).filter((i) => i.file === `${o.c.id}/${o.path}`)).map(short);
    if (!isEqual(inBatch, inTree)) problems.push(`${where(file)}: the CLI reported ${JSON.stringify(inBatch)}; the loader on the whole tree ${JSON.stringify(inTree)}`);
  }
  return problems;
}

/** Up to `n` cases spread over the run: about a third that the loader accepts, the rest rejected. */
function sampleCases(n: number): typeof cases {
  const valid = cases.filter((c) => c.result && !hasErrors(c.result));
  const invalid = cases.filter((c) => c.result && hasErrors(c.result));
  const spread = <T>(items: T[], k: number): T[] => Array.from({ length: Math.min(k, items.length) }, (_, i) => items[Math.floor((i * items.length) / Math.min(k, items.length))] as T);
  const fromValid = spread(valid, Math.ceil(n / 3));
  return [...fromValid, ...spread(invalid, n - fromValid.length)];
}

const isEqual = isDeepStrictEqual;
