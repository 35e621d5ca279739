// The summary at the top of bench/RESULTS.md: one table of every GitHub issue 7 figure, read from
// the sections the benchmarks wrote (latency, memory, poll-calls, validate, reconcile, ledger), each
// with its target, met or not, the command that produced it and the date of its run. `npm run
// bench` runs this after the benchmarks; run it alone with `node bench/summary.mjs`.
import { readFile, writeFile } from 'node:fs/promises';
import { RESULTS, writeSection } from './lib.mjs';

const text = await readFile(RESULTS, 'utf8');

/** The text of section `name`, or '' when it has not been written. */
function section(name) {
  const start = text.indexOf(`<!-- bench:${name} -->`);
  const end = text.indexOf(`<!-- /bench:${name} -->`);
  return start >= 0 && end > start ? text.slice(start, end) : '';
}

/** The cells of the first table row of `name` whose first cell matches `first` (markdown emphasis removed). */
function row(name, first) {
  for (const line of section(name).split('\n')) {
    if (!line.startsWith('|')) continue;
    const cells = line.split('|').slice(1, -1).map((c) => c.trim().replace(/\*\*/g, ''));
    if (first.test(cells[0] ?? '')) return cells;
  }
  return undefined;
}

/** The run date a section states ("run 2026-11-23"). */
function runDate(name) {
  return /run (\d{4}-\d\d-\d\d)/.exec(section(name))?.[1] ?? '?';
}

/** Milliseconds from "1958 ms", "2.28 s" or "2,000 ms" (the first figure in the text). */
function ms(value) {
  const m = /([\d,.]+)\s*(ms|s)\b/.exec(value ?? '');
  if (!m) return NaN;
  const n = Number(m[1].replace(/,/g, ''));
  return m[2] === 's' ? n * 1000 : n;
}

/** The first "… MB" figure, in MB. */
function megabytes(value) {
  return Number(/([\d.]+)\s*MB/.exec(value ?? '')?.[1] ?? NaN);
}

const verdict = (ok) => (ok === undefined ? 'not measured' : ok ? '**met**' : '**not met**');
const missing = '(not measured yet)';
const figures = [];

for (const interval of ['1s', '5s']) {
  const cells = row('latency', new RegExp(`--poll-interval ${interval}`));
  const intervalMs = ms(interval);
  const command = '`npm run bench -- latency`';
  figures.push({
    figure: `end-to-end latency p50, \`--poll-interval ${interval}\``,
    result: cells?.[2] ?? missing,
    target: '—',
    verdict: cells ? 'recorded' : 'not measured',
    command,
    date: runDate('latency'),
  });
  figures.push({
    figure: `end-to-end latency p99, \`--poll-interval ${interval}\``,
    result: cells?.[4] ?? missing,
    target: `≤ interval + 1 s = ${(intervalMs + 1000) / 1000} s`,
    verdict: verdict(cells ? ms(cells[4]) <= intervalMs + 1000 : undefined),
    command,
    date: runDate('latency'),
  });
}

const shipped = row('memory', /^as shipped$/);
const bounded = row('memory', /^container image/);
figures.push({
  figure: 'daemon RSS with 5,000 registrations, peak / steady median (as shipped)',
  result: shipped ? `${shipped[2]} / ${shipped[4]}` : missing,
  target: '< 150 MB',
  verdict: verdict(shipped ? megabytes(shipped[2]) < 150 && megabytes(shipped[4]) < 150 : undefined),
  command: '`npm run bench -- memory`',
  date: runDate('memory'),
});
if (bounded) {
  figures.push({
    figure: `same, in the ${bounded[0].replace(/\(its (.*)\)$/, '(its `$1`)')}`,
    result: `${bounded[2]} / ${bounded[4]}`,
    target: '< 150 MB',
    verdict: verdict(megabytes(bounded[2]) < 150 && megabytes(bounded[4]) < 150),
    command: '`npm run bench -- memory`',
    date: runDate('memory'),
  });
}

const calls = row('poll-calls', /^1000 \(3000\)$/);
const callCount = (cell) => Number(/^(\d+)/.exec(cell ?? '')?.[1] ?? NaN);
figures.push({
  figure: 'CodeDeploy calls per poll cycle, account-wide listing, 1,000 applications: idle / 50 new deployments',
  result: calls ? `${callCount(calls[2])} / ${callCount(calls[3])}` : missing,
  target: 'idle 1 per region and account; 1 + ⌈(new + in flight) / 25⌉ otherwise (here 3)',
  verdict: verdict(calls ? callCount(calls[2]) === 1 && callCount(calls[3]) === 3 : undefined),
  command: '`npm run bench -- poll-calls`',
  date: runDate('poll-calls'),
});

for (const [figure, name, first, command] of [
  ['`validate` of 5,000 files, median wall time', 'validate', /^wall time, median/, '`npm run bench -- validate`'],
  ['`plan` with 5,000 registrations (table in sync), median', 'reconcile', /^`plan` against the in-sync table/, '`npm run bench -- reconcile`'],
  ['`apply` of 5,000 registrations into an empty table, median', 'reconcile', /^`apply` into an empty table/, '`npm run bench -- reconcile`'],
]) {
  const cells = row(name, first);
  figures.push({
    figure,
    result: cells?.[1] ?? missing,
    target: cells?.[2] ?? '?',
    verdict: verdict(cells ? ms(cells[1]) < ms(cells[2]) : undefined),
    command,
    date: runDate(name),
  });
}

const ledger = row('ledger', /^notifications\/s, end to end/);
figures.push({
  figure: 'ledger throughput, end to end (claim → send → record), on dynalite',
  result: ledger?.[1] ?? missing,
  target: '— (none set in issue 7)',
  verdict: ledger ? 'recorded' : 'not measured',
  command: '`npm run bench -- ledger`',
  date: runDate('ledger'),
});

const markdown = `## Summary: GitHub issue 7 figures

Written by \`node bench/summary.mjs\` (run by \`npm run bench\` after the benchmarks) from the sections below; each figure's
section says how it was measured, on which machine, and under what load. Dates are those of each section's run.

| figure | result | target | | command | run |
|---|---|---|---|---|---|
${figures.map((f) => `| ${f.figure} | ${f.result} | ${f.target} | ${f.verdict} | ${f.command} | ${f.date} |`).join('\n')}`;

// The summary goes at the top: place its markers before the first section once.
if (!text.includes('<!-- bench:summary -->')) {
  const first = text.indexOf('<!-- bench:');
  const at = first >= 0 ? first : text.length;
  await writeFile(RESULTS, `${text.slice(0, at)}<!-- bench:summary -->\n<!-- /bench:summary -->\n\n${text.slice(at)}`);
}
await writeSection('summary', markdown);
console.log(figures.map((f) => `${f.figure}: ${f.result} (target ${f.target}: ${f.verdict.replace(/\*/g, '')})`).join('\n'));
