// CodeDeploy calls per poll cycle, account-wide versus per-application strategy, for 10, 100 and
// 1,000 registered applications with 3 deployment groups each: idle, with 50 new deployments,
// with those 50 still in flight, and when they finish. Uses the BUILT code (npm run build first)
// against the fake CodeDeploy through the real SDK client; poll state in memory.
//
//   npm run build && node bench/poll-calls.bench.mjs
import { machine, writeSection } from './lib.mjs';
import { startCodeDeployServer } from '../dist/local/codedeploy-server.js';
import { Poller } from '../dist/poll/poller.js';
import { MemoryPollStateStore } from '../dist/store/poll-state.js';

process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'AKIDBENCH';
process.env.AWS_SECRET_ACCESS_KEY ??= 'bench-secret';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const SIZES = [10, 100, 1000];
const GROUPS = ['blue', 'green', 'canary'];
const NEW = 50;
const PAGE_SIZE = 100;
const BATCH = 25;
const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);

function registration(i) {
  return {
    name: `app-${i}`,
    metadata: {},
    spec: { application: `app-${i}`, channels: [{ name: 'hook', type: 'webhook', url: 'https://example.com/hook' }] },
    managedBy: 'git',
    version: 1,
    createdAt: new Date(T0 - 86_400_000).toISOString(),
    updatedAt: new Date(T0 - 86_400_000).toISOString(),
  };
}

const total = (calls) => calls.ListDeployments + calls.BatchGetDeployments + calls.ListDeploymentGroups;
const show = (calls) => `**${total(calls)}** (${calls.ListDeploymentGroups} LDG + ${calls.ListDeployments} LD + ${calls.BatchGetDeployments} BGD)`;

async function measure(strategy, apps) {
  let now = T0;
  const clock = () => now;
  const server = await startCodeDeployServer({ clock, pageSize: PAGE_SIZE });
  process.env.AWS_ENDPOINT_URL_CODEDEPLOY = server.url;
  for (let i = 0; i < apps; i += 1) for (const g of GROUPS) server.model.createDeploymentGroup(`app-${i}`, g);
  let notifications = 0;
  const poller = new Poller({
    state: new MemoryPollStateStore({ clock }),
    sink: { enqueue: async (items) => { notifications += items.length; } },
    defaultRegion: 'us-east-1',
    strategy,
    clock,
    maxAttempts: 1,
    concurrency: 8,
  });
  const registrations = Array.from({ length: apps }, (_, i) => registration(i));
  const poll = async () => {
    now += 5_000;
    server.resetCounts();
    const started = performance.now();
    const report = await poller.pollOnce(registrations);
    const ms = performance.now() - started;
    if (!report.ok) throw new Error(`poll failed: ${report.scopes.map((s) => s.error).join('; ')}`);
    const counted = server.counts();
    for (const op of Object.keys(report.calls)) {
      if ((counted[op] ?? 0) !== report.calls[op]) throw new Error(`${op}: the server counted ${counted[op] ?? 0} calls, the poller reported ${report.calls[op]}`);
    }
    return { calls: report.calls, ms, scope: report.scopes[0] };
  };
  try {
    const warm = await poll(); // first poll of the scope: looks back --max-lookback, fills caches
    const idle = await poll();
    const ids = [];
    for (let k = 0; k < NEW; k += 1) {
      const i = (k * 7919) % apps;
      ids.push(server.model.createDeployment({ application: `app-${i}`, group: GROUPS[k % GROUPS.length], status: 'InProgress' }).deploymentId);
    }
    const fresh = await poll();
    const inFlight = await poll();
    for (const id of ids) server.model.setStatus(id, 'Succeeded');
    const done = await poll();
    const afterwards = await poll();
    // The webhook channels hear the default events: one Succeeded per deployment.
    if (notifications !== NEW) throw new Error(`expected ${NEW} notifications, got ${notifications}`);
    return { strategy, apps, warm, idle, fresh, inFlight, done, afterwards, notifications };
  } finally {
    poller.close();
    await server.close();
  }
}

const rows = [];
for (const apps of SIZES) {
  for (const strategy of ['account', 'application']) {
    const r = await measure(strategy, apps);
    rows.push(r);
    console.log(`${strategy.padEnd(11)} ${String(apps).padStart(5)} apps: idle ${total(r.idle.calls)}, 50 new ${total(r.fresh.calls)}, 50 in flight ${total(r.inFlight.calls)}, 50 finished ${total(r.done.calls)} (${Math.round(r.idle.ms)} ms idle poll)`);
  }
}

// Targets for the account strategy: 1 call per region and account when idle; otherwise
// 1 + ceil((new + in-flight) / 25) + extra listing pages.
const checks = [];
for (const r of rows.filter((x) => x.strategy === 'account')) {
  const pages = (listed) => Math.max(1, Math.ceil(listed / PAGE_SIZE));
  const target = (s) => pages(s.scope.listed) + Math.ceil((s.scope.new + s.scope.inFlight) / BATCH);
  checks.push({ apps: r.apps, idle: total(r.idle.calls) === 1, fresh: total(r.fresh.calls) <= target(r.fresh), inFlight: total(r.inFlight.calls) <= target(r.inFlight), done: total(r.done.calls) <= target(r.done) });
}
const allMet = checks.every((c) => c.idle && c.fresh && c.inFlight && c.done);

const lines = [
  '## Poller: CodeDeploy calls per poll cycle (`bench/poll-calls.bench.mjs`)',
  '',
  `Machine: ${machine()}.`,
  '',
  `Fake CodeDeploy (awsJson1_1 over node:http, ${PAGE_SIZE} ids per ListDeployments page) driven by the real SDK client; one region and account; every application registered with all of its ${GROUPS.length} deployment groups; poll state in memory; polls 5 s apart on a simulated clock. Calls are counted by the fake server (equal to the poller's own report). "50 new": 50 deployments created since the previous poll; "50 in flight": the same 50 still running one poll later; "50 finished": they all succeeded. The first poll of a scope (not shown) looks back the whole --max-lookback once. Per-application numbers are with the deployment-group lists cached (ListDeploymentGroups is re-read every 5 minutes per application).`,
  '',
  '| apps (groups) | strategy | idle | 50 new | 50 in flight | 50 finished | idle poll time |',
  '|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.apps} (${r.apps * GROUPS.length}) | ${r.strategy} | ${show(r.idle.calls)} | ${show(r.fresh.calls)} | ${show(r.inFlight.calls)} | ${show(r.done.calls)} | ${r.idle.ms < 10 ? r.idle.ms.toFixed(1) : Math.round(r.idle.ms)} ms |`),
  '',
  'LDG = ListDeploymentGroups, LD = ListDeployments, BGD = BatchGetDeployments.',
  '',
  `Target for the account-wide strategy: 1 call per region and account when idle, whatever the number of applications, and at most 1 + ceil((new + in-flight) / 25) + extra pages otherwise (here 1 + ceil(50 / 25) = 3). **${allMet ? 'Met' : 'NOT met'}** for every size: ${checks.map((c) => `${c.apps} apps ${c.idle && c.fresh && c.inFlight && c.done ? 'yes' : 'no'}`).join(', ')}.`,
  'The per-application strategy (for IAM policies that forbid account-wide listing) costs one ListDeployments per deployment group per poll, so at 1,000 applications it makes 3,000 calls per cycle; with CodeDeploy\'s observed throttling (around 40 calls a minute with bursts) it suits a handful of applications or a long --poll-interval.',
];
await writeSection('poll-calls', lines.join('\n'));
console.log(allMet ? 'targets met' : 'TARGETS NOT MET');
if (!allMet) process.exitCode = 1;
