// `npm run bench`: runs every bench/*.bench.mjs in name order (or those named on the command line),
// each as its own process so memory figures are not mixed. Each writes its section of RESULTS.md.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failed = 0;
for (const file of files) {
  console.log(`\n== ${file}`);
  const r = spawnSync(process.execPath, ['--expose-gc', `${dir}${file}`], { stdio: 'inherit', env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  if (r.status !== 0) failed += 1;
}
// The summary table at the top of RESULTS.md, from the sections as they now stand.
if (spawnSync(process.execPath, [`${dir}summary.mjs`], { stdio: 'inherit' }).status !== 0) failed += 1;
if (failed) {
  console.error(`${failed} benchmark(s) failed`);
  process.exit(1);
}
