// End-to-end latency: from a deployment ending in CodeDeploy to the receiver getting the message.
// The built CLI's `run` as a child process against dynalite (its own process, in memory), the fake
// CodeDeploy (src/local/codedeploy-server.ts, in this process) and a webhook receiver (node:http,
// in this process, so both times come from one clock). COUNT deployments per poll interval, each
// created a few seconds before it ends and ending (Succeeded or Failed) at a random moment, so the
// endings fall at random phases of the poll cycle. Latency = receiver arrival − completeTime. The
// ledger item's createdAt splits it into detection (completeTime → enqueued by the poller) and
// dispatch (enqueued → received). Target: p99 ≤ poll interval + 1 s.
// Run `npm run build` first (npm run bench does).
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { cli, cliEnv, dist, machine, percentile, startDynaliteProcess, writeSection } from './lib.mjs';

const COUNT = 100;
const RUNS = [
  { interval: '1s', intervalMs: 1_000, windowMs: 30_000 },
  { interval: '5s', intervalMs: 5_000, windowMs: 60_000 },
];

/** The webhook receiver: records arrival time (this process's clock) per delivery. */
async function startReceiver() {
  const arrivals = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      arrivals.push({ at, deliveryId: req.headers['x-codedeploy-notify-delivery'], deploymentId: body.deployment.id, event: body.event });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    arrivals,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

/** The built CLI's `run` as a child; resolves once `predicate` matches a log line. */
function startDaemon(args, env) {
  const child = spawn(process.execPath, [cli, 'run', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let partial = '';
  let stderr = '';
  const waiters = new Set();
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (!line.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(line));
      } catch {
        // not a log line
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor: (predicate, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(predicate);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`daemon log line not seen in ${timeoutMs} ms; stderr: ${stderr.slice(-1000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;

const loadAtStart = loadavg()[0];
const work = await mkdtemp(path.join(tmpdir(), 'cdn-bench-latency-'));
const dynamo = await startDynaliteProcess();
Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'bench', AWS_EC2_METADATA_DISABLED: 'true' });
const { startCodeDeployServer } = await import(dist('local/codedeploy-server.js'));
const { createDynamoClients } = await import(dist('store/dynamo.js'));
const { ensureTables, tableNames } = await import(dist('store/tables.js'));
const { DynamoLedger } = await import(dist('store/ledger.js'));
const { DynamoRegistrationStore } = await import(dist('store/registrations.js'));
const codeDeploy = await startCodeDeployServer({});
const receiver = await startReceiver();
const clients = createDynamoClients();
const results = [];

try {
  for (const [runIndex, run] of RUNS.entries()) {
    const prefix = `bench-latency-${runIndex}-`;
    const names = tableNames(prefix);
    await ensureTables(clients.client, names);
    const application = `latency-app-${runIndex}`;
    const dir = path.join(work, `registrations-${runIndex}`);
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, 'latency.yaml'),
      `apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata:\n  name: latency\nspec:\n  application: ${application}\n  events: [Succeeded, Failed]\n  channels:\n    - name: hook\n      type: webhook\n      url: ${receiver.url}/hook\n`,
    );
    const env = cliEnv(work, dynamo.endpoint, {
      AWS_ENDPOINT_URL_CODEDEPLOY: codeDeploy.url,
      CODEDEPLOY_NOTIFY_ACCOUNT_ID: '123456789012',
      LOG_LEVEL: 'info',
    });
    const daemon = startDaemon(['--poll-interval', run.interval, '--http-port', '0', '--dir', dir, '--table-prefix', prefix], env);
    await daemon.waitFor((l) => l.msg === 'became leader');
    const store = new DynamoRegistrationStore(clients.doc, names.registrations);
    while (!(await store.scan()).some((r) => r.name === 'latency')) await sleep(100);
    // let the first poll of the scope (the whole look-back) pass before deployments start
    await sleep(run.intervalMs + 500);

    const before = receiver.arrivals.length;
    const completed = new Map();
    const t0 = Date.now() + 2_000;
    const timers = [];
    for (let i = 0; i < COUNT; i++) {
      const endAt = t0 + Math.random() * run.windowMs;
      const startAt = Math.max(Date.now(), endAt - 2_000 - Math.random() * 4_000);
      const status = i % 4 === 3 ? 'Failed' : 'Succeeded';
      let id;
      timers.push(
        setTimeout(() => {
          id = codeDeploy.model.createDeployment({ application, group: 'production' }).deploymentId;
          codeDeploy.model.setStatus(id, 'InProgress');
        }, startAt - Date.now()),
        setTimeout(() => {
          const ended = codeDeploy.model.setStatus(id, status, status === 'Failed' ? { error: { code: 'HEALTH_CONSTRAINTS', message: 'too many instances failed' } } : {});
          completed.set(id, ended.completeTime);
        }, endAt - Date.now()),
      );
    }
    const deadline = t0 + run.windowMs + 60_000;
    while (receiver.arrivals.length - before < COUNT && Date.now() < deadline) await sleep(100);
    await sleep(2 * run.intervalMs); // anything more (a duplicate) would arrive by now
    const arrivals = receiver.arrivals.slice(before);
    daemon.child.kill('SIGTERM');
    const exitCode = await daemon.exited;

    const ledger = new DynamoLedger({ doc: clients.doc, table: names.ledger });
    const samples = [];
    for (const arrival of arrivals) {
      const completeTime = completed.get(arrival.deploymentId);
      if (completeTime === undefined) continue;
      const entry = await ledger.get(arrival.deliveryId);
      samples.push({ total: arrival.at - completeTime, detect: entry ? entry.createdAt - completeTime : NaN, dispatch: entry ? arrival.at - entry.createdAt : NaN });
    }
    const distinct = new Set(arrivals.map((a) => a.deploymentId)).size;
    const total = samples.map((s) => s.total);
    const result = {
      ...run,
      received: arrivals.length,
      distinct,
      exitCode,
      p50: percentile(total, 50),
      p90: percentile(total, 90),
      p99: percentile(total, 99),
      max: Math.max(...total),
      min: Math.min(...total),
      detectP50: percentile(samples.map((s) => s.detect), 50),
      detectP99: percentile(samples.map((s) => s.detect), 99),
      dispatchP50: percentile(samples.map((s) => s.dispatch), 50),
      dispatchP99: percentile(samples.map((s) => s.dispatch), 99),
    };
    result.met = result.distinct === COUNT && result.received === COUNT && result.p99 <= run.intervalMs + 1_000;
    results.push(result);
    console.log(
      `--poll-interval ${run.interval}: ${result.received} received (${distinct} distinct of ${COUNT}); p50 ${fmt(result.p50)}, p90 ${fmt(result.p90)}, p99 ${fmt(result.p99)}, max ${fmt(result.max)}; detection p50/p99 ${fmt(result.detectP50)}/${fmt(result.detectP99)}, dispatch p50/p99 ${fmt(result.dispatchP50)}/${fmt(result.dispatchP99)}; target p99 ≤ ${fmt(run.intervalMs + 1_000)}: ${result.met ? 'met' : 'NOT met'}`,
    );
    for (const t of timers) clearTimeout(t);
    codeDeploy.resetCounts();
  }

  const row = (r) =>
    `| \`--poll-interval ${r.interval}\` | ${r.received} / ${r.distinct} of ${COUNT} | **${fmt(r.p50)}** | ${fmt(r.p90)} | **${fmt(r.p99)}** | ${fmt(r.max)} | ${fmt(r.detectP50)} / ${fmt(r.detectP99)} | ${fmt(r.dispatchP50)} / ${fmt(r.dispatchP99)} | ≤ ${fmt(r.intervalMs + 1_000)}: **${r.met ? 'met' : 'not met'}** |`;
  await writeSection(
    'latency',
    `## latency: deployment end → message received

Command: \`npm run bench -- latency\` (bench/latency.bench.mjs) — the built CLI \`codedeploy-notify run --poll-interval <i>\` as a child
process (defaults otherwise: account-wide listing, one daemon, leader at once), dynalite in a separate process (in memory),
the fake CodeDeploy (src/local/codedeploy-server.ts) and a node:http webhook receiver in the bench process, one registration
with one webhook channel. ${COUNT} deployments per interval, each created 2-6 s before it ends, ending (3 in 4 Succeeded, 1 in 4
Failed) at uniformly random moments over ${RUNS.map((r) => `${r.windowMs / 1000} s (${r.interval})`).join(' and ')}, so endings fall at random phases
of the poll cycle. Latency = the receiver's arrival time − the deployment's completeTime (one clock). Detection = completeTime
→ the ledger item's createdAt (the poll that saw the end enqueued it); dispatch = createdAt → received (claim, send, receive).

| run | received / distinct | p50 | p90 | p99 | max | detection p50 / p99 | dispatch p50 / p99 | target p99 |
|---|---|---|---|---|---|---|---|---|
${results.map(row).join('\n')}

${results.every((r) => r.received === COUNT && r.distinct === COUNT) ? 'Every deployment\'s message arrived exactly once in each run' : '**Not every deployment\'s message arrived exactly once**'} (${results.map((r) => `${r.interval}: ${r.received} messages for ${r.distinct} of ${COUNT} deployments, daemon exit code ${r.exitCode}`).join('; ')}).
Detection waits for the next poll: uniformly 0 to one interval, plus the poll itself (ListDeployments, then
BatchGetDeployments for the in-flight ids); dispatch is the poller's nudge to the dispatcher, a claim (ledger query and
conditional update), the send and the record. With a ${COUNT}-sample run, p99 is the second-slowest delivery.

Machine: ${machine()}; 1-minute load average at start ${loadAtStart.toFixed(2)} (other processes share the 2 cores).`,
  );
} finally {
  clients.destroy();
  await receiver.close();
  await codeDeploy.close();
  dynamo.stop();
  await rm(work, { recursive: true, force: true });
}
