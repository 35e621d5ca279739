// Notifications per second through the ledger: dynalite in a separate process (as DynamoDB is a
// network service), a local webhook sink (node:http), 2,000 notifications enqueued through the
// ledger, then dispatched by one daemon-mode Dispatcher (default concurrency) over the real webhook
// channel. Reports the enqueue rate, end-to-end notifications/s, and the ledger's added latency
// per notification (its claim round trip + its record round trip) at p50/p99, next to the send
// itself. Imports the BUILT code: `npm run build` first (npm run bench does).
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import { dist, machine, percentile, startDynaliteProcess, writeSection } from './lib.mjs';

const COUNT = 2000;
const CHANNELS = 20;

process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'AKIDBENCH';
process.env.AWS_SECRET_ACCESS_KEY = 'bench-secret';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
for (const key of Object.keys(process.env)) if (key.startsWith('AWS_ENDPOINT_URL')) delete process.env[key];

const { createDynamoClients } = await import(dist('store/dynamo.js'));
const { ensureTables, tableNames } = await import(dist('store/tables.js'));
const { DynamoLedger } = await import(dist('store/ledger.js'));
const { Dispatcher } = await import(dist('dispatch/dispatcher.js'));
const { createChannel } = await import(dist('channels/registry.js'));
const { createFetchSender } = await import(dist('channels/http.js'));
const { EnvSecretResolver } = await import(dist('channels/secrets.js'));
const { createAwsClients } = await import(dist('channels/aws-clients.js'));
const { silentLogger } = await import(dist('core/log.js'));
const { deliveryId, consoleUrl } = await import(dist('core/events.js'));

/** A webhook receiver that answers 200 at once and counts delivery ids. */
async function startSink() {
  const seen = new Set();
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests += 1;
      seen.add(req.headers['x-codedeploy-notify-delivery']);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    get requests() {
      return requests;
    },
    get unique() {
      return seen.size;
    },
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

function event(deploymentId) {
  return {
    type: 'Succeeded',
    deploymentId,
    application: 'bench-app',
    deploymentGroup: 'production',
    status: 'Succeeded',
    region: 'us-east-1',
    creator: 'user',
    revision: { type: 'GitHub', repository: 'acme/bench', commitId: '0123456789abcdef0123456789abcdef01234567' },
    createTime: '2026-11-02T10:00:00.000Z',
    startTime: '2026-11-02T10:00:05.000Z',
    completeTime: '2026-11-02T10:03:10.000Z',
    durationSeconds: 185,
    occurredAt: '2026-11-02T10:03:10.000Z',
    consoleUrl: consoleUrl('us-east-1', deploymentId),
  };
}

const loadAtStart = loadavg()[0];
const dynamo = await startDynaliteProcess();
process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
const sink = await startSink();
const clients = createDynamoClients();
const aws = createAwsClients();
try {
  const names = tableNames('bench-ledger-');
  await ensureTables(clients.client, names);
  const inner = new DynamoLedger({ doc: clients.doc, table: names.ledger });

  // Time the ledger's own round trips, per notification: the claim call that returned it and the
  // record of its outcome.
  const claimMs = new Map();
  const claimCalls = [];
  const recordMs = [];
  const ledger = {
    enqueue: (items) => inner.enqueue(items),
    async claimDue(options) {
      const t0 = performance.now();
      const claims = await inner.claimDue(options);
      const ms = performance.now() - t0;
      for (const c of claims) claimMs.set(c.entry.deliveryId, ms);
      claimCalls.push(claims.length);
      return claims;
    },
    async recordSent(claim, result) {
      const t0 = performance.now();
      const out = await inner.recordSent(claim, result);
      recordMs.push(performance.now() - t0);
      return out;
    },
    recordRetry: (claim, retry) => inner.recordRetry(claim, retry),
    recordFailed: (claim, failure) => inner.recordFailed(claim, failure),
    release: (claim, options) => inner.release(claim, options),
  };

  const registration = {
    name: 'bench-registration',
    metadata: { owner: 'team-bench' },
    spec: { application: 'bench-app', channels: Array.from({ length: CHANNELS }, (_, i) => ({ name: `hook-${i}`, type: 'webhook', url: `${sink.url}/hook/${i}` })) },
    managedBy: 'git',
    version: 1,
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
  };
  const context = {
    secrets: new EnvSecretResolver({}),
    http: createFetchSender(),
    defaultRegion: 'us-east-1',
    aws,
    logger: silentLogger(),
    sendTimeoutMs: 10_000,
  };
  const items = [];
  for (let d = 0; items.length < COUNT; d++) {
    const id = `d-BENCH${String(d).padStart(5, '0')}`;
    for (let c = 0; c < CHANNELS && items.length < COUNT; c++) {
      items.push({ deliveryId: deliveryId(id, 'Succeeded', registration.name, `hook-${c}`), event: event(id), registration: { name: registration.name, owner: 'team-bench' }, channelName: `hook-${c}`, channelType: 'webhook' });
    }
  }

  const tEnqueue = performance.now();
  for (let i = 0; i < items.length; i += 100) await inner.enqueue(items.slice(i, i + 100));
  const enqueueMs = performance.now() - tEnqueue;

  const sendMs = [];
  const dispatcher = new Dispatcher({
    ledger,
    registrations: { list: async () => [registration] },
    channels: (config) => createChannel(config, context),
    observer: { sendLatency: (e) => sendMs.push(e.ms) },
  });
  const t0 = performance.now();
  dispatcher.start();
  while (sink.unique < COUNT || dispatcher.inFlight > 0) await new Promise((r) => setTimeout(r, 5));
  const dispatchMs = performance.now() - t0;
  await dispatcher.stop({ deadlineMs: 1_000 });
  const queue = await inner.queueStats();
  if (sink.requests !== COUNT || queue.due + queue.scheduled !== 0) throw new Error(`expected ${COUNT} deliveries and an empty queue, got ${sink.requests} requests, queue ${JSON.stringify(queue)}`);

  const added = items.map((item, i) => (claimMs.get(item.deliveryId) ?? NaN) + (recordMs[i] ?? NaN)).filter(Number.isFinite);
  const claims = [...claimMs.values()];
  const rate = COUNT / (dispatchMs / 1000);
  const fmt = (ms) => `${ms.toFixed(1)} ms`;
  const rows = [
    ['notifications/s, end to end (claim → send → record)', `${rate.toFixed(0)}/s`],
    ['enqueue (conditional puts, 8 in flight)', `${(COUNT / (enqueueMs / 1000)).toFixed(0)}/s`],
    ['ledger added latency per notification, p50 (claim + record)', fmt(percentile(added, 50))],
    ['ledger added latency per notification, p99', fmt(percentile(added, 99))],
    ['  claim round trip (query + conditional update), p50 / p99', `${fmt(percentile(claims, 50))} / ${fmt(percentile(claims, 99))}`],
    ['  record round trip (conditional update), p50 / p99', `${fmt(percentile(recordMs, 50))} / ${fmt(percentile(recordMs, 99))}`],
    ['claimDue calls (mean claims per call)', `${claimCalls.length} (${(COUNT / claimCalls.length).toFixed(1)})`],
    ['send to the local sink (for comparison), p50 / p99', `${fmt(percentile(sendMs, 50))} / ${fmt(percentile(sendMs, 99))}`],
  ];
  console.log(rows.map(([k, v]) => `${k}: ${v}`).join('\n'));
  await writeSection(
    'ledger',
    `## ledger: notifications per second through the DynamoDB ledger

Command: \`npm run bench -- ledger\` (bench/ledger.bench.mjs) — dynalite in a separate process (in memory), a local
node:http webhook sink, ${COUNT.toLocaleString('en-US')} notifications (${COUNT / CHANNELS} deployments × ${CHANNELS} webhook channels) enqueued through the
ledger, then dispatched by one daemon-mode Dispatcher (defaults: concurrency 16, 32 claims held) over the real webhook channel.
Every notification costs one conditional put (enqueue), its share of a queue query, and two conditional updates (claim, record).
Each was delivered exactly once (${sink.requests} requests, ${sink.unique} distinct delivery ids, empty queue at the end).

| metric | result |
|---|---|
${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}

The claim latency is that of the whole \`claimDue\` call (one query of the \`queue\` index and up to 32 conditional updates in
parallel) that returned the notification. dynalite is far slower than DynamoDB per write (AWS-FACTS: ~1,000 conditional
writes/s here), so the rate is bounded by the store: about two writes per delivered notification.

Machine: ${machine()}; 1-minute load average at start ${loadAtStart.toFixed(1)} (other work on the machine lowers these figures).`,
  );
} finally {
  clients.destroy();
  aws.destroy();
  await sink.close();
  dynamo.stop();
}
