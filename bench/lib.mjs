// Shared helpers for benchmarks: paths of the build, dynalite in its own process, the environment
// of a CLI child process, machine description, percentiles, and writing one section of
// bench/RESULTS.md (between <!-- bench:NAME --> markers) without touching the others.
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root, the built CLI, and the URL of a module of the build (`dist('store/dynamo.js')`). */
export const root = fileURLToPath(new URL('..', import.meta.url));
export const cli = path.join(root, 'dist/cli.js');
export const dist = (p) => pathToFileURL(path.join(root, 'dist', p)).href;

/** dynalite in its own process, in memory, on a free port: DynamoDB is remote for the code measured. */
export async function startDynaliteProcess() {
  const script = `import dynalite from 'dynalite';
const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
    child.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim())));
  });
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

/**
 * The environment of a CLI child process: nothing inherited but PATH and HOME, fake credentials,
 * no instance metadata, DynamoDB at `dynamoEndpoint`; `extra` adds endpoints and settings.
 */
export function cliEnv(home, dynamoEndpoint, extra = {}) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? home,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    ...extra,
  };
}

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
