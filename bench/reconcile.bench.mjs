// Reconcile at scale: 5,000 generated registration files, dynalite in a separate process (in memory).
// Measures the real CLI as child processes — `apply` into an empty table and `plan` against the
// in-sync table — with wall time, peak RSS and peak V8 heap of the CLI process; then how fast the
// daemon's reconcile loop reacts to one edited file, with 10 and with 5,000 registrations.
// Targets: plan < 3 s, apply < 15 s. Run `npm run build` first (npm run bench does).
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { registrationYaml, writeRegistrations } from './fixtures.mjs';
import { cli, cliEnv, dist, machine, percentile, startDynaliteProcess, writeSection } from './lib.mjs';

const COUNT = 5000;
const APPLY_RUNS = 3;
const PLAN_RUNS = 5;
const LOOP_EDITS = 5;

/** Preloaded into the CLI process: samples the V8 heap and reports peak RSS and heap at exit. */
const MEASURE = `import { writeFileSync } from 'node:fs';
let peakHeap = 0;
const sample = () => { const h = process.memoryUsage().heapUsed; if (h > peakHeap) peakHeap = h; };
setInterval(sample, 10).unref();
process.on('exit', () => { sample(); writeFileSync(process.env.BENCH_MEASURE_OUT, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, peakHeap })); });
`;

const loadAtStart = loadavg()[0];
const work = await mkdtemp(path.join(tmpdir(), 'cdn-bench-reconcile-'));
const dynamo = await startDynaliteProcess();
const env = cliEnv(work, dynamo.endpoint, {
  BENCH_MEASURE_OUT: path.join(work, 'measure.json'),
});
const measure = path.join(work, 'measure.mjs');

/** Runs the CLI once; resolves exit code, output, wall time and memory. */
async function runCli(args) {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', pathToFileURL(measure).href, cli, ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const code = await new Promise((resolve) => child.on('close', resolve));
  const ms = performance.now() - t0;
  const memory = JSON.parse(await readFile(env.BENCH_MEASURE_OUT, 'utf8'));
  return { code, stdout, stderr, ms, rssMiB: memory.maxRssKb / 1024, heapMiB: memory.peakHeap / 2 ** 20 };
}

const mib = (n) => `${n.toFixed(0)} MiB`;
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;

try {
  await writeFile(measure, MEASURE);
  await writeRegistrations(path.join(work, 'registrations'), COUNT);

  // apply into an empty table, on a fresh prefix each run
  const applies = [];
  let prefix = '';
  for (let run = 0; run < APPLY_RUNS; run++) {
    prefix = `bench${run}-`;
    const init = await runCli(['init', '--table-prefix', prefix]);
    if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
    const result = await runCli(['apply', '--table-prefix', prefix]);
    if (result.code !== 0 || !result.stdout.includes(`Apply complete: ${COUNT} created`)) throw new Error(`apply failed (exit ${result.code}): ${result.stderr}${result.stdout.slice(-300)}`);
    applies.push(result);
    console.log(`apply ${COUNT} into an empty table: ${secs(result.ms)}, peak RSS ${mib(result.rssMiB)}, peak heap ${mib(result.heapMiB)}`);
  }

  // plan against the in-sync table (the last prefix)
  const plans = [];
  for (let run = 0; run < PLAN_RUNS; run++) {
    const result = await runCli(['plan', '--table-prefix', prefix, '--detailed-exitcode']);
    if (result.code !== 0 || result.stdout !== 'Plan: 0 to create, 0 to update, 0 to delete.\n') throw new Error(`plan not in sync (exit ${result.code}): ${result.stderr}${result.stdout.slice(0, 300)}`);
    plans.push(result);
    console.log(`plan ${COUNT} in sync: ${secs(result.ms)}, peak RSS ${mib(result.rssMiB)}, peak heap ${mib(result.heapMiB)}`);
  }

  // the loop: time from saving one file to the table holding the change
  Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  const { ReconcileLoop } = await import(dist('reconcile/loop.js'));
  const { DynamoRegistrationStore } = await import(dist('store/registrations.js'));
  const { createDynamoClients } = await import(dist('store/dynamo.js'));
  const { ensureTables, tableNames } = await import(dist('store/tables.js'));
  const { silentLogger } = await import(dist('core/log.js'));
  const clients = createDynamoClients();
  const reaction = {};
  for (const [label, count, dir, tablePrefix] of [
    ['10 registrations', 10, path.join(work, 'small'), 'loop-small-'],
    [`${COUNT.toLocaleString('en-US')} registrations`, COUNT, path.join(work, 'registrations'), prefix],
  ]) {
    if (count !== COUNT) await writeRegistrations(dir, count);
    const names = tableNames(tablePrefix);
    await ensureTables(clients.client, names);
    const store = new DynamoRegistrationStore(clients.doc, names.registrations);
    let applied;
    const loop = new ReconcileLoop({ dir, store, logger: silentLogger(), resyncIntervalMs: 3_600_000, debounceMs: 250, git: false, observer: { changesApplied: () => applied?.() } });
    await loop.start();
    const times = [];
    for (let edit = 0; edit < LOOP_EDITS; edit++) {
      const file = path.join(dir, 'service-00007.yaml');
      const done = new Promise((resolve) => (applied = resolve));
      const t0 = performance.now();
      await writeFile(`${file}.tmp`, registrationYaml(7).replace('owner: team-7', `owner: team-edit-${label.length}-${edit}`));
      await rename(`${file}.tmp`, file);
      await done;
      times.push(performance.now() - t0);
    }
    await loop.stop();
    reaction[label] = times;
    console.log(`loop reaction, ${label}: median ${percentile(times, 50).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms (debounce 250 ms)`);
  }
  clients.destroy();

  const med = (list, key) => percentile(list.map((r) => r[key]), 50);
  const max = (list, key) => Math.max(...list.map((r) => r[key]));
  await writeSection(
    'reconcile',
    `## reconcile: plan and apply with 5,000 registrations

Command: \`npm run bench -- reconcile\` (bench/reconcile.bench.mjs) — ${COUNT.toLocaleString('en-US')} generated registration files
(bench/fixtures.mjs, two channels each), dynalite in a separate process (in memory). Each figure is the whole
\`codedeploy-notify\` CLI process as a child (start-up, loading and validating the files, git provenance, reading the table);
memory is that process's peak RSS (\`process.resourceUsage().maxRSS\`) and peak V8 heap (sampled every 10 ms).
\`apply\` makes ${COUNT.toLocaleString('en-US')} conditional puts (16 in flight) plus ${Math.ceil(COUNT / 25)} audit-trail batch writes, under the apply lock.

| metric | result | target |
|---|---|---|
| \`apply\` into an empty table, median of ${APPLY_RUNS} (slowest) | ${secs(med(applies, 'ms'))} (${secs(max(applies, 'ms'))}) | < 15 s |
| \`apply\` peak RSS / peak heap | ${mib(max(applies, 'rssMiB'))} / ${mib(max(applies, 'heapMiB'))} | |
| \`plan\` against the in-sync table, median of ${PLAN_RUNS} (slowest) | ${secs(med(plans, 'ms'))} (${secs(max(plans, 'ms'))}) | < 3 s |
| \`plan\` peak RSS / peak heap | ${mib(max(plans, 'rssMiB'))} / ${mib(max(plans, 'heapMiB'))} | |
| reconcile loop: one file saved (temp file + rename) → table updated, 10 registrations, median (max) | ${percentile(reaction['10 registrations'], 50).toFixed(0)} ms (${Math.max(...reaction['10 registrations']).toFixed(0)} ms) | < 1 s |
| same with ${COUNT.toLocaleString('en-US')} registrations, median (max) | ${percentile(reaction[`${COUNT.toLocaleString('en-US')} registrations`], 50).toFixed(0)} ms (${Math.max(...reaction[`${COUNT.toLocaleString('en-US')} registrations`]).toFixed(0)} ms) | |

\`plan\` time is mostly loading and validating the files (compare the validate section): the consistent table scan
(~0.2 s here) runs while the files load. Both are CPU-bound, so figures rise with other load on the 2 cores.
The loop is level-triggered: every reaction re-reads all files and the whole table, so with thousands of registrations
its latency is that of a full plan (load + scan) on top of the 250 ms debounce. dynalite is much slower per write than
DynamoDB (AWS-FACTS: ~1,000 conditional writes/s from a separate process), so \`apply\` here is bounded by the store.

Machine: ${machine()}; 1-minute load average at start ${loadAtStart.toFixed(2)} (other processes share the 2 cores).`,
  );
} finally {
  dynamo.stop();
  await rm(work, { recursive: true, force: true });
}
