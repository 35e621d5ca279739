// Fuzzing `apply` (GitHub issue 7, item 3): over any invalid tree, `apply` writes nothing — in
// particular it deletes nothing, even with --allow-empty or a high --max-deletes — exits 1, and
// prints issues, not a stack trace. The examples are applied once to dynalite with the built CLI
// (run `npm run build` first); then invalid mutated trees from the generator of
// validate-fuzz.test.ts are applied over them and every table must stay exactly as it was.
//
// Environment (see mutations.ts):
//   FUZZ_RUNS=<n>     scales the number of invalid trees applied: max(50, n × 6%) — 60 by default
//   FUZZ_SEED=<n>     base seed of the generator
//   FUZZ_CASE=<seed>  apply only the tree of this case seed (when the loader finds it invalid)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegistrations } from '../../src/config/load.js';
import { hasErrors, type LoadResult } from '../../src/config/types.js';
import type { DynamoClients } from '../../src/store/dynamo.js';
import type { TableNames } from '../../src/store/tables.js';
import { requireBuiltCli, runCli, type CliRun } from '../helpers/cli.js';
import { freshTables, startDynalite, type LocalDynamo } from '../helpers/dynalite.js';
import { stackTraceLines, SUMMARY_LINE, TEXT_LINE } from './checks.js';
import { caseSeed, describeTree, fuzzSettings, mutateTree, readExamples, writeTree, type MutatedTree } from './mutations.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const settings = fuzzSettings();
const examples = readExamples(path.join(ROOT, 'registrations'));
/** Invalid trees to apply. */
const APPLIES = settings.only !== undefined ? 1 : Math.max(50, Math.round(settings.runs * 0.06));
/** The flags each tree is applied with, in turn: the guards that could let a delete through are switched off. */
const FLAG_SETS: readonly (readonly string[])[] = [[], ['--allow-empty'], ['--max-deletes', '1000'], ['--allow-empty', '--max-deletes', '1000', '--format', 'json']];
/** CLI runs in flight at once (each is a child process; dynalite runs in this one). */
const LANES = 3;

let dynamo: LocalDynamo;
let work: string;
let tables: { prefix: string; names: TableNames; clients: DynamoClients };
/** Every table's items after the valid apply. */
let before: Record<string, unknown[]>;
let liveNames: string[];

beforeAll(async () => {
  requireBuiltCli();
  dynamo = await startDynalite();
  work = mkdtempSync(path.join(tmpdir(), 'cdn-fuzz-apply-'));
  tables = await freshTables('fzapply');
  writeTree(path.join(work, 'valid'), examples);
  const applied = await runCli(['apply', '--dir', 'valid', '--table-prefix', tables.prefix], { cwd: work, env: dynamo.env });
  expect(applied, 'applying the unmodified examples').toMatchObject({ code: 0, stderr: '' });
  before = await snapshot();
  liveNames = (before.registrations as { name: string }[]).map((i) => i.name).sort();
  expect(liveNames.length).toBeGreaterThanOrEqual(4);
}, 60_000);

afterAll(async () => {
  tables?.clients.destroy();
  await dynamo?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Every item of the three tables, in a stable order. */
async function snapshot(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [role, table] of Object.entries(tables.names)) {
    const items: unknown[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await tables.clients.doc.send(new ScanCommand({ TableName: table, ConsistentRead: true, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    out[role] = items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  return out;
}

interface ApplyCase {
  tree: MutatedTree;
  dir: string;
  load: LoadResult;
  flags: readonly string[];
}

/** The first APPLIES trees of the generator that the loader rejects, written under `work`. */
async function invalidTrees(): Promise<ApplyCase[]> {
  const chosen: ApplyCase[] = [];
  const seeds = settings.only !== undefined ? [settings.only] : undefined;
  for (let i = 0; chosen.length < APPLIES && i < (seeds?.length ?? 100_000); i++) {
    const tree = mutateTree(examples, seeds?.[i] ?? caseSeed(settings.baseSeed, i));
    const dir = `trees/${tree.seed}`;
    writeTree(path.join(work, dir), tree.files);
    const load = await loadRegistrations(path.join(work, dir), { displayDir: dir });
    if (!hasErrors(load)) {
      rmSync(path.join(work, dir), { recursive: true, force: true });
      continue;
    }
    chosen.push({ tree, dir, load, flags: FLAG_SETS[chosen.length % FLAG_SETS.length] as readonly string[] });
  }
  return chosen;
}

/** What must hold for one `apply` over an invalid tree. */
function applyProblems(c: ApplyCase, run: CliRun): string[] {
  const problems: string[] = [];
  const say = (what: string): void => void problems.push(`${describeTree(c.tree)}\n  apply ${c.flags.join(' ')}: ${what}`);
  if (run.code !== 1) say(`exit ${run.code}, expected 1; stderr ${run.stderr.slice(0, 1000)}`);
  const traces = [...stackTraceLines(run.stdout), ...stackTraceLines(run.stderr)];
  if (traces.length > 0) say(`stack trace: ${traces.slice(0, 3).join(' | ')}`);
  if (run.stdout !== '') say(`printed on stdout: ${run.stdout.slice(0, 300)}`);
  const lines = run.stderr.split('\n');
  if (lines.pop() !== '' || lines.pop() !== 'error: invalid registration files; nothing was written') say(`stderr does not end with the refusal: ${JSON.stringify(run.stderr.slice(-300))}`);
  if (!SUMMARY_LINE.test(lines.pop() ?? '')) say('no summary line before the refusal');
  const bad = lines.filter((line) => !TEXT_LINE.test(line));
  if (bad.length > 0) say(`issue lines not in SPEC's form: ${JSON.stringify(bad.slice(0, 3))}`);
  if (lines.length !== c.load.issues.length) say(`${lines.length} issue lines; the loader found ${c.load.issues.length} issues`);
  return problems;
}

describe('apply over invalid trees writes nothing', () => {
  it(`${APPLIES} invalid mutated trees, with and without --allow-empty and --max-deletes 1000: exit 1, no stack trace, every table unchanged`, async () => {
    const cases = await invalidTrees();
    expect(cases.length, settings.only !== undefined ? `FUZZ_CASE=${settings.only}: the loader finds this tree valid; this file applies only invalid trees` : 'invalid trees').toBe(APPLIES);
    const problems: string[] = [];
    const queue = [...cases];
    let last = before;
    await Promise.all(
      Array.from({ length: LANES }, async () => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          const run = await runCli(['apply', '--dir', c.dir, '--table-prefix', tables.prefix, ...c.flags], { cwd: work, env: dynamo.env });
          problems.push(...applyProblems(c, run));
          const now = await snapshot();
          if (!isDeepStrictEqual(now, last)) {
            problems.push(`${describeTree(c.tree)}\n  apply ${c.flags.join(' ')}: the tables changed (this run or one of the ${LANES - 1} beside it)`);
            last = now; // report each change once
          }
        }
      }),
    );
    expect(problems, problems.slice(0, 20).join('\n')).toEqual([]);
    expect(await snapshot()).toEqual(before);
    if (settings.only === undefined) {
      // the sample must include trees where a naive apply would delete registrations (their files broke)
      const wouldDelete = cases.filter((c) => c.load.registrations.length < liveNames.length);
      expect(wouldDelete.length).toBeGreaterThan(APPLIES / 2);
    }
  }, 90_000 + 1_000 * APPLIES);

  it('a tree where every file is broken, or gone but one: exit 1 and nothing deleted, even with --allow-empty', async () => {
    const broken = examples.map((e) => ({ path: e.path, bytes: Buffer.concat([e.bytes.subarray(0, 40), Buffer.from('\n  : [unclosed\n')]) }));
    writeTree(path.join(work, 'all-broken'), broken);
    writeTree(path.join(work, 'one-left'), [{ path: 'only.yaml', bytes: Buffer.from('apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata: { name: only }\nspec: { application: "", channels: [] }\n') }]);
    const problems: string[] = [];
    for (const dir of ['all-broken', 'one-left']) {
      const load = await loadRegistrations(path.join(work, dir), { displayDir: dir });
      expect(load.registrations).toEqual([]);
      expect(hasErrors(load)).toBe(true);
      for (const flags of [['--allow-empty'], ['--allow-empty', '--max-deletes', '1000']]) {
        const c: ApplyCase = { tree: { seed: 0, files: [], mutations: [dir] }, dir, load, flags };
        problems.push(...applyProblems(c, await runCli(['apply', '--dir', dir, '--table-prefix', tables.prefix, ...flags], { cwd: work, env: dynamo.env })));
      }
    }
    expect(problems).toEqual([]);
    expect(await snapshot()).toEqual(before);
  }, 60_000);
});
