// The chaos run (GitHub issue 7, item 1) as one reusable scenario: the fake CodeDeploy streams
// deployments through every event while replicas of the built CLI's `run` are SIGKILLed at seeded
// random moments and restarted; a webhook receiver records every request; the verdict
// (analysis.ts) compares that timeline with the deliveries owed by what the fake CodeDeploy did.
//
//   const report = await runChaos({ deployments: 40, applications: 5, kills: 4, replicas: 2, seed: 7, streamMs: 30_000, budgetMs: 80_000 });
//   expect(report.problems).toEqual([]);
//   console.log(formatChaosReport(report));
//
// Everything listens on 127.0.0.1: dynalite and the fake CodeDeploy (startDaemonWorld), the
// receiver (startHttpRecorder). Each replica incarnation gets its own receiver path through the
// webhook URL it reads from the environment, so every request names the process that sent it.
import { DEFAULT_EVENTS, deliveryId, EVENT_TYPES, type EventType } from '../../src/core/events.js';
import { seededRandom, type SimDeployment, type SimStatus } from '../../src/local/codedeploy-server.js';
import { DynamoLedger, type LedgerState } from '../../src/store/ledger.js';
import { DynamoRegistrationStore } from '../../src/store/registrations.js';
import { mapLimit } from '../../src/util/concurrency.js';
import type { WebhookBodyV1 } from '../../src/channels/webhook.js';
import { startHttpRecorder, type HttpRecorder } from '../fakes/http-recorder.js';
import { requireBuiltCli } from '../helpers/cli.js';
import { startDaemon, startDaemonWorld, type DaemonProcess, type DaemonWorld } from '../helpers/daemon.js';
import { analyzeDeliveries, expectedDeliveries, problemsOf, type Arrival, type DeliveryAnalysis, type DeploymentFacts, type Kill, type Subscription } from './analysis.js';

/** The knobs of one run. Durations are milliseconds. */
export interface ChaosOptions {
  /** Deployments users start in the streaming phase (automatic rollbacks, history and an unregistered application come on top). */
  deployments: number;
  /** Registered applications, one registration each, subscribed to all five events. */
  applications: number;
  /** SIGKILLs, spread over the streaming phase. */
  kills: number;
  /** Replicas of `run` kept running (each killed one is restarted). */
  replicas: number;
  /** Seeds the plan (applications, scripts, step delays) and the kills (moments, victims). */
  seed: number;
  /** How long deployments keep starting and kills keep coming. */
  streamMs: number;
  /** The whole run, settling included; past it the run stops waiting and reports what is missing. */
  budgetMs: number;
  tuning?: Partial<ChaosTuning>;
  /** Receives one line per kill and per phase (the long run prints them). */
  progress?: (line: string) => void;
}

/** Daemon and receiver settings; the defaults make recovery quick. */
export interface ChaosTuning {
  pollIntervalMs: number;
  leaderLeaseMs: number;
  /** CODEDEPLOY_NOTIFY_SEND_TIMEOUT. */
  sendTimeoutMs: number;
  /** CODEDEPLOY_NOTIFY_CLAIM_LEASE: must exceed 2 s + 3 × send timeout. */
  claimLeaseMs: number;
  /** CODEDEPLOY_NOTIFY_RETRY_MAX_DELAY. */
  retryMaxDelayMs: number;
  /** The receiver answers each request after a random delay up to this, so kills catch sends in flight. */
  maxResponseDelayMs: number;
  /** Share of kills timed to land while the victim has a request open at the receiver. */
  targetedKillShare: number;
  /** Longest a blue/green deployment is held in Ready waiting for its Ready delivery. */
  readyHoldMaxMs: number;
  /** How long after the receiver's answer a kill still counts as cutting the send off (time to record the outcome in the ledger). */
  recordSlackMs: number;
}

export const DEFAULT_TUNING: ChaosTuning = {
  pollIntervalMs: 500,
  leaderLeaseMs: 3_000,
  sendTimeoutMs: 2_000,
  claimLeaseMs: 9_000,
  retryMaxDelayMs: 2_000,
  maxResponseDelayMs: 300,
  targetedKillShare: 0.5,
  readyHoldMaxMs: 45_000,
  recordSlackMs: 1_500,
};

/** What a deployment goes through. Every event type occurs across these. */
export const SCRIPTS = ['succeed', 'blue-green', 'blue-green-stop', 'fail', 'rollback', 'stop-running', 'stop-queued'] as const;
export type Script = (typeof SCRIPTS)[number];
const SCRIPT_WEIGHTS: Record<Script, number> = { succeed: 3, 'blue-green': 2, 'blue-green-stop': 1, fail: 2, rollback: 2, 'stop-running': 1, 'stop-queued': 1 };

/** One planned deployment. */
export interface PlannedDeployment {
  application: string;
  group: string;
  script: Script;
  /** Offset of its creation from the start of the streaming phase. */
  startAtMs: number;
  /** Delays before each status change (the script uses them in order). */
  steps: number[];
}

/** Registered application names: app-01, app-02, … */
export function applicationNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `app-${String(i + 1).padStart(2, '0')}`);
}

/** The application nobody registers: its deployments must produce no delivery. */
export const UNREGISTERED_APPLICATION = 'unregistered-app';

/**
 * The seeded streaming plan: every registered application gets at least one deployment and every
 * script occurs at least once (when there are enough deployments); the rest are weighted at
 * random. Creation times spread over the first 80 % of the stream; step delays are mostly
 * 0.1-1.5 s, a quarter of them under 100 ms so some deployments change twice between two polls.
 */
export function planDeployments(options: Pick<ChaosOptions, 'deployments' | 'applications' | 'streamMs'>, random: () => number): PlannedDeployment[] {
  const apps = applicationNames(options.applications);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const totalWeight = Object.values(SCRIPT_WEIGHTS).reduce((a, b) => a + b, 0);
  const weighted = (): Script => {
    let r = random() * totalWeight;
    for (const script of SCRIPTS) {
      r -= SCRIPT_WEIGHTS[script];
      if (r < 0) return script;
    }
    return 'succeed';
  };
  const step = () => (random() < 0.25 ? Math.floor(random() * 100) : 100 + Math.floor(random() * 1_400));
  const span = options.streamMs * 0.8;
  const plans: PlannedDeployment[] = [];
  for (let i = 0; i < options.deployments; i += 1) {
    plans.push({
      application: i < apps.length ? (apps[i] as string) : pick(apps),
      group: pick(['production', 'staging']),
      script: i < SCRIPTS.length ? (SCRIPTS[(i * 3) % SCRIPTS.length] as Script) : weighted(),
      startAtMs: Math.floor((span * (i + random())) / options.deployments),
      steps: Array.from({ length: 5 }, step),
    });
  }
  return plans;
}

/** One run's findings. */
export interface ChaosReport {
  options: Omit<ChaosOptions, 'progress' | 'tuning'> & { tuning: ChaosTuning };
  durationMs: number;
  /** True when the budget ran out before every delivery arrived and the ledger queue drained. */
  timedOut: boolean;
  deployments: {
    /** Started by the stream (the `deployments` option). */
    streamed: number;
    /** Automatic rollbacks the fake started for `rollback` scripts. */
    rollbacks: number;
    /** Started (and some finished) before the registrations were live. */
    history: number;
    /** Of the unregistered application. */
    unregistered: number;
    total: number;
    byScript: Record<string, number>;
  };
  expectedByEvent: Record<EventType, number>;
  kills: {
    requested: number;
    done: number;
    /** Kills timed to land while the victim had a request open at the receiver. */
    targeted: number;
    /** Kills that found requests of the victim still unanswered. */
    withOpenRequests: number;
    /** Kills of the replica that held the leader lease (by its last leadership log line). */
    ofLeader: number;
    restarts: number;
    /** Incarnations that exited without being killed (each one is a problem). */
    unexpectedExits: string[];
  };
  analysis: DeliveryAnalysis;
  /** Ledger items of the owed deliveries by state, and claims taken again after a lease ran out. */
  ledger: Partial<Record<LedgerState | 'absent', number>> & { reclaimed: number };
  /** Blue/green deployments whose Ready delivery did not arrive within readyHoldMaxMs. */
  readyHoldTimeouts: number;
  /** Everything that broke a guarantee or the run; empty on success. */
  problems: string[];
}

interface Incarnation {
  name: string;
  slot: number;
  process: DaemonProcess;
  killed: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));
const CHANNEL = 'hook';
const URL_VARIABLE = 'CHAOS_WEBHOOK_URL';

function registrationYaml(name: string, application: string): string {
  return `apiVersion: codedeploy-notify/v1
kind: Registration
metadata:
  name: ${name}
  owner: chaos@example.com
spec:
  application: ${application}
  events: [${EVENT_TYPES.join(', ')}]
  channels:
    - name: ${CHANNEL}
      type: webhook
      url: { fromEnv: ${URL_VARIABLE} }
`;
}

/**
 * Runs the chaos scenario and returns its report (it throws only when the world cannot start).
 * Needs the built CLI (`npm run build`).
 *
 * 1. Starts dynalite, the fake CodeDeploy, the receiver and `replicas` daemons.
 * 2. History: a few deployments run, and some finish, before any registration exists.
 * 3. Writes one registration per application and waits until all are live.
 * 4. For `streamMs`: starts the planned deployments, each running its script concurrently, while
 *    `kills` SIGKILLs hit random replicas (about half timed onto a request in flight) and each
 *    killed replica restarts 0.2-2 s later. Blue/green deployments stay in Ready until their Ready
 *    delivery arrived, since a Ready that passes unobserved owes nothing (poll/transitions.ts).
 * 5. Waits (within `budgetMs`) until every owed delivery arrived, the ledger queue is empty, the
 *    last kill's claims have had time to expire and be sent again, and nothing more arrives.
 * 6. Judges the receiver's timeline against the owed set (analysis.ts) and reads the ledger.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  requireBuiltCli();
  const tuning: ChaosTuning = { ...DEFAULT_TUNING, ...options.tuning };
  const progress = options.progress ?? (() => undefined);
  const startedAt = Date.now();
  const deadline = startedAt + options.budgetMs;
  const planRandom = seededRandom(options.seed);
  const killRandom = seededRandom(options.seed ^ 0x5eed);
  const receiverRandom = seededRandom(options.seed ^ 0xbeef);

  const world: DaemonWorld = await startDaemonWorld('chaos');
  let receiver: HttpRecorder | undefined;
  const incarnations: Incarnation[] = [];
  const slots: Array<Incarnation | undefined> = [];
  const unexpectedExits: string[] = [];
  let restarts = 0;
  let stopping = false;
  try {
    // --- the receiver: every request recorded with its sender and arrival time -------------------
    const arrivals: Arrival[] = [];
    const firstArrival = new Map<string, number>();
    const answerAt = new Map<string, number[]>();
    receiver = await startHttpRecorder();
    receiver.setDefault((request) => {
      const at = Date.now();
      const source = request.path.split('/')[2] ?? '?';
      let body: Arrival['body'];
      try {
        const doc = request.json<WebhookBodyV1>();
        body = { deploymentId: doc.deployment.id, event: doc.event, registration: doc.registration.name, channel: doc.channel };
      } catch {
        body = undefined;
      }
      const id = request.headers['x-codedeploy-notify-delivery'] ?? '';
      const delayMs = Math.floor(receiverRandom() * tuning.maxResponseDelayMs);
      arrivals.push({ at, source, deliveryId: id, eventHeader: request.headers['x-codedeploy-notify-event'] ?? '', ...(body ? { body } : {}), answeredAt: at + delayMs });
      if (!firstArrival.has(id)) firstArrival.set(id, at);
      answerAt.set(source, [...(answerAt.get(source) ?? []).filter((t) => t > at), at + delayMs]);
      return { status: 200, body: 'ok', delayMs };
    });
    const openRequests = (source: string) => (answerAt.get(source) ?? []).filter((t) => t > Date.now()).length;

    // --- replicas -------------------------------------------------------------------------------
    const args = ['--poll-interval', `${tuning.pollIntervalMs}ms`, '--http-port', '0', '--leader-lease', `${tuning.leaderLeaseMs}ms`, '--resync-interval', '5s'];
    let generation = 0;
    const start = (slot: number): Incarnation => {
      generation += 1;
      const name = `r${slot}-${generation}`;
      const env = world.env({
        [URL_VARIABLE]: `${receiver?.url}/hook/${name}`,
        CODEDEPLOY_NOTIFY_SEND_TIMEOUT: `${tuning.sendTimeoutMs}ms`,
        CODEDEPLOY_NOTIFY_CLAIM_LEASE: `${tuning.claimLeaseMs}ms`,
        CODEDEPLOY_NOTIFY_RETRY_MAX_DELAY: `${tuning.retryMaxDelayMs}ms`,
      });
      const incarnation: Incarnation = { name, slot, process: startDaemon(args, env), killed: false };
      incarnations.push(incarnation);
      slots[slot] = incarnation;
      void incarnation.process.exited.then(({ code, signal }) => {
        if (incarnation.killed || stopping) return;
        unexpectedExits.push(`${name} exited with ${signal ?? `code ${code}`}: ${incarnation.process.stderr().slice(-500)}`);
        progress(`!! ${name} exited on its own (${signal ?? code}); restarting`);
        if (slots[slot] === incarnation) {
          restarts += 1;
          start(slot);
        }
      });
      return incarnation;
    };
    for (let slot = 0; slot < options.replicas; slot += 1) start(slot);
    await Promise.all(slots.map((i) => i?.process.port()));

    // --- history: before any registration exists --------------------------------------------------
    const { model } = world.codeDeploy;
    const readyAt = new Map<string, number>();
    const scriptOf = new Map<string, string>();
    const historyCount = Math.max(2, Math.round(options.deployments / 50));
    const history: string[] = [];
    const apps = applicationNames(options.applications);
    for (let i = 0; i < historyCount; i += 1) {
      const d = model.createDeployment({ application: apps[i % apps.length] as string, group: 'production', description: 'before registration' });
      scriptOf.set(d.deploymentId, 'history');
      model.setStatus(d.deploymentId, 'InProgress');
      if (i % 2 === 0) model.setStatus(d.deploymentId, 'Succeeded');
      else history.push(d.deploymentId); // finishes after the registrations are live
    }
    await sleep(300);

    // --- registrations ----------------------------------------------------------------------------
    const names = apps.map((app) => `chaos-${app}`);
    await Promise.all(apps.map((app, i) => world.write(`${names[i]}.yaml`, registrationYaml(names[i] as string, app))));
    const store = new DynamoRegistrationStore(world.clients.doc, world.names.registrations);
    let subscriptions: Subscription[] = [];
    for (;;) {
      const live = await store.list();
      if (names.every((n) => live.some((item) => item.name === n))) {
        subscriptions = live.flatMap((item) =>
          item.spec.channels.map((channel) => ({
            registration: item.name,
            application: item.spec.application,
            ...(item.spec.deploymentGroups ? { groups: item.spec.deploymentGroups } : {}),
            channel: channel.name,
            events: channel.events ?? item.spec.events ?? DEFAULT_EVENTS,
            createdAt: Date.parse(item.createdAt),
          })),
        );
        break;
      }
      if (Date.now() > deadline) throw new Error(`registrations not live within the budget; live: ${live.map((i) => i.name).join(', ')}`);
      await sleep(100);
    }
    progress(`${names.length} registrations live after ${Date.now() - startedAt} ms; streaming ${options.deployments} deployments for ${options.streamMs} ms with ${options.kills} kills`);
    await sleep(200);

    // --- streaming and kills, concurrently ----------------------------------------------------------
    const streamStart = Date.now();
    const plans = planDeployments(options, planRandom);
    let readyHoldTimeouts = 0;
    let rollbacks = 0;
    const subscribersOf = (application: string) => subscriptions.filter((s) => s.application === application);

    const setStatus = (id: string, status: SimStatus): SimDeployment => {
      if (status === 'Ready') readyAt.set(id, model.now());
      return model.setStatus(id, status);
    };
    const holdInReady = async (d: SimDeployment) => {
      const ids = subscribersOf(d.applicationName).map((s) => deliveryId(d.deploymentId, 'Ready', s.registration, s.channel));
      const until = Math.min(deadline, Date.now() + tuning.readyHoldMaxMs);
      while (!ids.every((id) => firstArrival.has(id))) {
        if (Date.now() > until) {
          readyHoldTimeouts += 1;
          progress(`!! ${d.deploymentId} held in Ready for ${tuning.readyHoldMaxMs} ms without its Ready delivery`);
          return;
        }
        await sleep(50);
      }
    };
    const run = async (plan: PlannedDeployment, application = plan.application): Promise<void> => {
      await sleep(streamStart + plan.startAtMs - Date.now());
      const steps = [...plan.steps];
      const next = () => sleep(steps.shift() ?? 200);
      const d = model.createDeployment({
        application,
        group: plan.group,
        description: `chaos ${plan.script}`,
        revision: { revisionType: 'GitHub', gitHubLocation: { repository: `example/${application}`, commitId: `c${String(plan.startAtMs).padStart(7, '0')}` } },
      });
      const id = d.deploymentId;
      scriptOf.set(id, plan.script);
      await next();
      if (plan.script === 'stop-queued') {
        setStatus(id, 'Queued');
        await next();
        setStatus(id, 'Stopped');
        return;
      }
      setStatus(id, 'InProgress');
      await next();
      switch (plan.script) {
        case 'succeed':
          setStatus(id, 'Succeeded');
          return;
        case 'fail':
          setStatus(id, 'Failed');
          return;
        case 'stop-running':
          setStatus(id, 'Stopped');
          return;
        case 'blue-green':
        case 'blue-green-stop': {
          await holdInReady(setStatus(id, 'Ready'));
          await next();
          setStatus(id, plan.script === 'blue-green' ? 'Succeeded' : 'Stopped');
          return;
        }
        case 'rollback': {
          const rollback = model.rollback(id);
          rollbacks += 1;
          scriptOf.set(rollback.deploymentId, 'rollback (automatic)');
          await next();
          setStatus(rollback.deploymentId, 'InProgress');
          await next();
          setStatus(rollback.deploymentId, 'Succeeded');
          return;
        }
      }
    };
    const unregisteredCount = Math.max(2, Math.round(options.deployments / 25));
    const noise = Array.from({ length: unregisteredCount }, (_, i) => ({
      application: UNREGISTERED_APPLICATION,
      group: 'production',
      script: i % 2 === 0 ? ('succeed' as const) : ('fail' as const),
      startAtMs: Math.floor(((i + 0.5) * options.streamMs * 0.8) / unregisteredCount),
      steps: [300, 300, 300, 300, 300],
    }));
    const finishHistory = history.map(async (id, i) => {
      await sleep(500 + i * 700);
      setStatus(id, i % 2 === 0 ? 'Succeeded' : 'Failed');
    });

    const kills: Array<Kill & { targeted: boolean; open: number; leader: boolean }> = [];
    const pendingRestarts: Promise<void>[] = [];
    const killLoop = async () => {
      const gap = options.streamMs / (options.kills + 1);
      for (let i = 0; i < options.kills; i += 1) {
        await sleep(gap * (0.5 + killRandom()));
        const slot = Math.floor(killRandom() * options.replicas);
        const targeted = killRandom() < tuning.targetedKillShare;
        while (!slots[slot] && Date.now() < deadline) await sleep(20);
        const victim = slots[slot];
        if (!victim || Date.now() > deadline) break;
        if (targeted) {
          const until = Date.now() + 3_000;
          while (openRequests(victim.name) === 0 && Date.now() < until) await sleep(5);
        }
        const leadership = [...victim.process.logs].reverse().find((l) => l.msg === 'became leader' || l.msg === 'no longer leader');
        const open = openRequests(victim.name);
        victim.killed = true;
        slots[slot] = undefined;
        const at = Date.now();
        victim.process.kill('SIGKILL');
        kills.push({ at, victim: victim.name, targeted, open, leader: leadership?.msg === 'became leader' });
        progress(`kill ${kills.length}/${options.kills} at +${Math.round((at - streamStart) / 1000)}s: ${victim.name}${leadership?.msg === 'became leader' ? ' (leader)' : ''}, ${open} request(s) open${targeted ? ' (timed onto a send)' : ''}`);
        const restartIn = 200 + Math.floor(killRandom() * 1_800);
        pendingRestarts.push(
          victim.process.exited.then(async () => {
            await sleep(restartIn);
            restarts += 1;
            start(slot);
          }),
        );
      }
    };

    await Promise.all([...plans.map((p) => run(p)), ...noise.map((p) => run(p)), ...finishHistory, killLoop()]);
    await Promise.all(pendingRestarts);
    await Promise.all(slots.map((i) => i?.process.port()));
    progress(`stream done after ${Math.round((Date.now() - streamStart) / 1000)} s (${arrivals.length} requests so far); settling`);

    // --- settle: everything owed arrived, the queue drained, late repeats had their chance ----------
    const deployments: DeploymentFacts[] = model.all().map((d) => ({
      deploymentId: d.deploymentId,
      application: d.applicationName,
      group: d.deploymentGroupName,
      status: d.status,
      ...(d.startTime !== undefined ? { startTime: d.startTime } : {}),
      ...(d.completeTime !== undefined ? { completeTime: d.completeTime } : {}),
      ...(readyAt.has(d.deploymentId) ? { readyAt: readyAt.get(d.deploymentId) as number } : {}),
    }));
    const expected = expectedDeliveries(deployments, subscriptions);
    const ledger = new DynamoLedger({ doc: world.clients.doc, table: world.names.ledger });
    const lastKillAt = kills[kills.length - 1]?.at ?? 0;
    const lateRepeatsBy = lastKillAt + tuning.claimLeaseMs + tuning.sendTimeoutMs + 1_000;
    const quietMs = 3 * tuning.pollIntervalMs + 1_000;
    let timedOut = true;
    const drained = async () => {
      const q = await ledger.queueStats().catch(() => ({ due: 1, scheduled: 0 }));
      return q.due + q.scheduled === 0;
    };
    while (Date.now() < deadline) {
      const allArrived = [...expected.keys()].every((id) => firstArrival.has(id));
      if (allArrived && Date.now() >= lateRepeatsBy && (await drained())) {
        const seen = arrivals.length;
        await sleep(Math.min(quietMs, deadline - Date.now()));
        if (arrivals.length === seen && (await drained())) {
          timedOut = false;
          break;
        }
        continue;
      }
      await sleep(250);
    }
    progress(`settled after ${Math.round((Date.now() - startedAt) / 1000)} s${timedOut ? ' (budget ran out)' : ''}`);

    // --- stop replicas, then judge ------------------------------------------------------------------
    stopping = true;
    await stopAll(incarnations);
    const analysis = analyzeDeliveries(expected, arrivals, kills, { recordSlackMs: tuning.recordSlackMs });
    const ledgerStates: ChaosReport['ledger'] = { reclaimed: 0 };
    await mapLimit([...expected.keys()], 8, async (id) => {
      const entry = await ledger.get(id);
      const state = entry?.state ?? 'absent';
      ledgerStates[state] = (ledgerStates[state] ?? 0) + 1;
      ledgerStates.reclaimed += Math.max(0, (entry?.attempts ?? 1) - 1);
    });

    const expectedByEvent = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>;
    for (const e of expected.values()) expectedByEvent[e.event] += 1;
    const byScript: Record<string, number> = {};
    for (const script of scriptOf.values()) byScript[script] = (byScript[script] ?? 0) + 1;

    const problems = [...problemsOf(analysis)];
    if (timedOut) problems.push(`the run did not settle within its budget of ${options.budgetMs} ms`);
    if (kills.length < options.kills) problems.push(`only ${kills.length} of ${options.kills} kills happened within the budget`);
    for (const exit of unexpectedExits) problems.push(`replica exited without being killed: ${exit}`);
    if (readyHoldTimeouts > 0) problems.push(`${readyHoldTimeouts} blue/green deployments waited ${tuning.readyHoldMaxMs} ms in Ready without a Ready delivery`);
    const notSent = Object.entries(ledgerStates).filter(([state, n]) => state !== 'sent' && state !== 'reclaimed' && n);
    if (notSent.length > 0) problems.push(`owed deliveries not recorded as sent in the ledger: ${notSent.map(([s, n]) => `${n} ${s}`).join(', ')}`);
    const missingEvents = EVENT_TYPES.filter((t) => expectedByEvent[t] === 0);
    if (missingEvents.length > 0) problems.push(`the run produced no ${missingEvents.join(', ')} event: raise the number of deployments`);

    return {
      options: { deployments: options.deployments, applications: options.applications, kills: options.kills, replicas: options.replicas, seed: options.seed, streamMs: options.streamMs, budgetMs: options.budgetMs, tuning },
      durationMs: Date.now() - startedAt,
      timedOut,
      deployments: { streamed: plans.length, rollbacks, history: historyCount, unregistered: unregisteredCount, total: model.all().length, byScript },
      expectedByEvent,
      kills: {
        requested: options.kills,
        done: kills.length,
        targeted: kills.filter((k) => k.targeted).length,
        withOpenRequests: kills.filter((k) => k.open > 0).length,
        ofLeader: kills.filter((k) => k.leader).length,
        restarts,
        unexpectedExits,
      },
      analysis,
      ledger: ledgerStates,
      readyHoldTimeouts,
      problems,
    };
  } finally {
    stopping = true;
    for (const i of incarnations) i.process.kill('SIGKILL');
    await Promise.all(incarnations.map((i) => i.process.exited));
    await receiver?.close();
    await world.close();
  }
}

/** SIGTERM to every live incarnation, SIGKILL to any still running 12 s later. */
async function stopAll(incarnations: readonly Incarnation[]): Promise<void> {
  await Promise.all(
    incarnations.map(async (i) => {
      i.process.kill('SIGTERM');
      const timer = setTimeout(() => i.process.kill('SIGKILL'), 12_000);
      await i.process.exited;
      clearTimeout(timer);
    }),
  );
}

/** The report as plain text (the long run prints it; bench/RESULTS.md quotes it). */
export function formatChaosReport(report: ChaosReport): string {
  const { options: o, deployments: d, kills: k, analysis: a, ledger } = report;
  const byEvent = EVENT_TYPES.map((t) => `${t} ${report.expectedByEvent[t]}`).join(', ');
  const scripts = Object.entries(d.byScript)
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  const states = Object.entries(ledger)
    .filter(([s]) => s !== 'reclaimed')
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const repeats = a.repeats
    .slice(0, 30)
    .map((r) => `    ${r.deliveryId}: ${r.arrivals.map((x) => `${x.source}${x.beforeKillMs !== undefined ? ` (killed ${x.beforeKillMs} ms later, ${x.beforeAnswer ? 'before' : 'after'} the answer)` : ''}`).join(' → ')}`);
  return [
    `chaos run: seed ${o.seed}, ${o.replicas} replicas, ${o.applications} applications, ${o.deployments} streamed deployments over ${Math.round(o.streamMs / 1000)} s, ${o.kills} SIGKILLs`,
    `  tuning: poll ${o.tuning.pollIntervalMs} ms, leader lease ${o.tuning.leaderLeaseMs} ms, send timeout ${o.tuning.sendTimeoutMs} ms, claim lease ${o.tuning.claimLeaseMs} ms, retry cap ${o.tuning.retryMaxDelayMs} ms, receiver answers within ${o.tuning.maxResponseDelayMs} ms`,
    `  duration: ${(report.durationMs / 1000).toFixed(1)} s${report.timedOut ? ' (BUDGET RAN OUT)' : ''}`,
    `  deployments: ${d.total} in the fake CodeDeploy = ${d.streamed} streamed + ${d.rollbacks} automatic rollbacks + ${d.history} before registration + ${d.unregistered} of an unregistered application`,
    `  scripts: ${scripts}`,
    `  kills: ${k.done}/${k.requested} SIGKILL (${k.ofLeader} of the leader, ${k.targeted} timed onto a send, ${k.withOpenRequests} with requests unanswered), ${k.restarts} restarts, ${k.unexpectedExits.length} unexpected exits`,
    `  owed deliveries: ${a.expected} (${byEvent})`,
    `  receiver: ${a.arrivals} requests, ${a.delivered}/${a.expected} owed deliveries arrived, ${a.missing.length} missing, ${a.unexpected.length} unexpected, ${a.malformed.length} malformed`,
    `  repeats: ${a.repeatCount} (${a.repeats.length} delivery ids), each earlier send cut off by a kill of its sender: ${a.unexplainedRepeats.length === 0 ? 'yes' : `NO (${a.unexplainedRepeats.length} unexplained)`} (${a.cutOff.beforeAnswer} killed before the receiver answered, ${a.cutOff.afterAnswer} after it answered but within ${o.tuning.recordSlackMs} ms); longest send-to-kill gap ${a.maxInFlightGapMs} ms`,
    `  deduping receiver: ${a.dedup.accepted} accepted, ${a.dedup.dropped} dropped, ${a.dedup.missing} missing, ${a.dedup.extra} extra, ${a.dedup.repeatedTuples} repeated`,
    `  ledger: ${states}; ${ledger.reclaimed} claims taken again after their lease ran out`,
    ...(repeats.length > 0 ? ['  repeated delivery ids (senders in order):', ...repeats] : []),
    report.problems.length === 0 ? '  verdict: every guarantee held' : `  verdict: ${report.problems.length} problem(s):\n${report.problems.map((p) => `    - ${p}`).join('\n')}`,
  ].join('\n');
}
