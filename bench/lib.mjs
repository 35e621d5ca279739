// Shared helpers for benchmarks: machine description, timing, and writing one section of
// bench/RESULTS.md (between <!-- bench:NAME --> markers) without touching the others.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const RESULTS = fileURLToPath(new URL('./RESULTS.md', import.meta.url));

/** One line describing this machine and run date. */
export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}; run ${new Date().toISOString().slice(0, 10)}`;
}

/** Percentile of a numeric array (nearest rank). */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Replaces (or appends) the section NAME of bench/RESULTS.md with `markdown`. */
export async function writeSection(name, markdown) {
  let text = await readFile(RESULTS, 'utf8').catch(() => '# Benchmark results\n\nEach section is written by `npm run bench` (or the command it names); figures are from the machine and date stated in the section.\n');
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  text = i >= 0 && j > i ? text.slice(0, i) + block + text.slice(j + end.length) : `${text.trimEnd()}\n\n${block}\n`;
  await writeFile(RESULTS, text);
}
