import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { Logger } from 'pino';
import type { ChannelType } from '../channels/channel.js';
import { FileCache, loadRegistrations } from '../config/load.js';
import { UsageError, errorMessage } from '../core/errors.js';
import { RegistrationCache } from '../dispatch/registrations.js';
import { Dispatcher, type ChannelProvider, type DispatchReport } from '../dispatch/dispatcher.js';
import { Poller, type PollReport } from '../poll/poller.js';
import type { CodeDeployApiFactory } from '../poll/codedeploy.js';
import type { RoleCredentialSource } from '../poll/credentials.js';
import { DynamoApplyLock } from '../reconcile/lock.js';
import { ReconcileLoop, type ReconcileOutcome } from '../reconcile/loop.js';
import { DynamoAuditTrail } from '../store/audit.js';
import type { DynamoClients } from '../store/dynamo.js';
import { DynamoLease } from '../store/lease.js';
import { DynamoLedger } from '../store/ledger.js';
import { DynamoPollStateStore } from '../store/poll-state.js';
import type { LiveRegistration } from '../store/ports.js';
import { DynamoRegistrationStore, MissingTableError } from '../store/registrations.js';
import type { TableNames } from '../store/tables.js';
import type { DaemonConfig } from './config.js';
import { startOpsServer, type CheckResult, type OpsServer } from './http.js';
import { LeaderElector } from './leader.js';
import type { Metrics } from './metrics.js';

/** What the daemon is built from; main/ and local/ pass the real or local adapters. */
export interface DaemonDeps {
  config: DaemonConfig;
  logger: Logger;
  metrics: Metrics;
  clients: DynamoClients;
  names: TableNames;
  /** How channels are built: the real registry, or local mode's console outbox. */
  channels: ChannelProvider;
  /** This replica's identity in leases and claims. */
  owner: string;
  /** CodeDeploy clients (default: the AWS SDK); local mode passes none, its endpoint variable points at the simulator. */
  codeDeploy?: CodeDeployApiFactory;
  /** Credentials for spec.roleArn (default: STS AssumeRole); local mode passes fake ones. */
  roles?: RoleCredentialSource;
  /** Account id of the daemon's own credentials, carried in events. */
  defaultAccountId?: string;
  clock?: () => number;
}

/** What `run --once` did. */
export interface OnceReport {
  leader: boolean;
  reconcile?: ReconcileOutcome;
  poll?: PollReport;
  dispatch: DispatchReport;
}

/**
 * The `run` daemon: the reconcile loop and the poller on the elected leader only (so CodeDeploy
 * calls do not multiply with replicas), the dispatcher on every replica (the ledger keeps each
 * delivery unique), and the ops HTTP listener. `stop()` stops taking new work, lets sends in
 * flight finish (or releases them) within the grace period, and releases the leader lease.
 */
export class Daemon {
  readonly store: DynamoRegistrationStore;
  readonly ledger: DynamoLedger;
  readonly pollState: DynamoPollStateStore;
  readonly registrations: RegistrationCache;
  private readonly poller: Poller;
  private readonly dispatcher: Dispatcher;
  private readonly loop: ReconcileLoop;
  private readonly lease: DynamoLease;
  private readonly elector: LeaderElector;
  private readonly clock: () => number;
  private http: OpsServer | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private leaderChange: Promise<void> = Promise.resolve();
  private leaderSince: number | undefined;
  private lastPollOkAt: number | undefined;
  private stopped = false;

  constructor(private readonly deps: DaemonDeps) {
    const { config, logger, metrics, clients, names } = deps;
    this.clock = deps.clock ?? Date.now;
    // The reconciler's scan (every resync) also refreshes the registration cache: one table scan
    // and one copy of the registrations instead of two. Writes invalidate it (changesApplied).
    this.store = new DynamoRegistrationStore(clients.doc, names.registrations, {
      logger,
      clock: this.clock,
      onScan: (registrations, readAt) => this.registrations.prime(registrations, readAt),
    });
    this.registrations = new RegistrationCache(this.store, { refreshMs: config.resyncIntervalMs, clock: this.clock });
    this.ledger = new DynamoLedger({ doc: clients.doc, table: names.ledger, clock: this.clock });
    this.pollState = new DynamoPollStateStore({ doc: clients.doc, table: names.state, clock: this.clock });
    this.poller = new Poller({
      state: this.pollState,
      sink: this.ledger,
      defaultRegion: config.region,
      strategy: config.pollStrategy,
      maxLookbackMs: config.maxLookbackMs,
      clock: this.clock,
      logger,
      ...(deps.defaultAccountId ? { defaultAccountId: deps.defaultAccountId } : {}),
      ...(deps.codeDeploy ? { codeDeploy: deps.codeDeploy } : {}),
      ...(deps.roles ? { roles: deps.roles } : {}),
      observer: {
        onCall: (operation) => metrics.codedeployCalls.inc({ operation }),
        onEvent: (type) => metrics.events.inc({ event: type }),
        onCycle: ({ durationMs, ok }) => metrics.pollDuration.observe({ outcome: ok ? 'ok' : 'error' }, durationMs / 1000),
      },
    });
    this.dispatcher = new Dispatcher({
      ledger: this.ledger,
      // one cache for the poller and the dispatcher; its lookups reload when older than the notification
      registrations: this.registrations,
      channels: deps.channels,
      logger,
      owner: deps.owner,
      clock: this.clock,
      sendTimeoutMs: config.sendTimeoutMs,
      leaseMs: config.claimLeaseMs,
      retry: { maxDelayMs: config.retryMaxDelayMs, baseDelayMs: Math.min(1_000, config.retryMaxDelayMs) },
      observer: {
        outcome: ({ channelType, outcome }) => metrics.notifications.inc({ channel_type: channelType, outcome }),
        retry: ({ channelType }) => metrics.retries.inc({ channel_type: channelType }),
        deadLetter: ({ channelType }) => metrics.deadLetters.inc({ channel_type: channelType }),
        sendLatency: ({ channelType, ms }: { channelType: ChannelType; ms: number }) => metrics.sendDuration.observe({ channel_type: channelType }, ms / 1000),
      },
    });
    const files = new FileCache();
    this.loop = new ReconcileLoop({
      dir: config.dir,
      store: this.store,
      logger,
      resyncIntervalMs: config.resyncIntervalMs,
      // One thread with a parse cache: a resync re-reads only files that changed (a loader worker
      // would be a second V8 isolate, tens of MB of RSS, for a load nobody waits on).
      load: (dir) => loadRegistrations(dir, { cache: files }),
      apply: { audit: new DynamoAuditTrail(clients.doc, names.state), lock: new DynamoApplyLock(clients.doc, names.state) },
      observer: {
        reconciled: (outcome) => {
          if (['invalid', 'refused', 'error', 'incomplete'].includes(outcome.status)) metrics.reconcileErrors.inc({ reason: outcome.status });
        },
        registrations: ({ valid, documents }) => {
          metrics.registrations.set({ state: 'valid' }, valid);
          metrics.registrations.set({ state: 'invalid' }, Math.max(0, documents - valid));
        },
        changesApplied: (changes) => {
          for (const change of changes) metrics.reconcileChanges.inc({ action: change.action });
          this.registrations.invalidate(); // the poller hears about new registrations at its next poll
        },
        driftCorrected: (changes) => metrics.driftCorrections.inc(changes.length),
      },
    });
    this.lease = new DynamoLease(clients.doc, names.state, 'leader');
    this.elector = new LeaderElector({
      lease: this.lease,
      owner: deps.owner,
      durationMs: config.leaderLeaseMs,
      renewEveryMs: Math.floor(config.leaderLeaseMs / 3),
      clock: this.clock,
      logger,
      onChange: (isLeader) => {
        this.leaderChange = this.leaderChange.then(() => this.lead(isLeader));
      },
    });
  }

  /**
   * Checks the tables, starts the ops listener, the dispatcher and leader election. Throws
   * UsageError when the tables are missing (run `init`) or the HTTP port cannot be bound.
   */
  async start(): Promise<void> {
    await this.checkTables();
    const { config, metrics, logger } = this.deps;
    try {
      this.http = await startOpsServer({
        port: config.httpPort,
        host: config.httpHost,
        metrics,
        logger,
        readiness: { store: () => this.storeReady(), poller: async () => this.pollerReady() },
      });
    } catch (error) {
      throw new UsageError(`cannot listen on ${config.httpHost}:${config.httpPort} (${errorMessage(error)}); pass --http-port <port> or set CODEDEPLOY_NOTIFY_HTTP_PORT`, { cause: error });
    }
    metrics.leader.set(0);
    this.dispatcher.start();
    this.elector.start();
    logger.info({ owner: this.deps.owner, port: this.http.port, dir: config.dir, tables: this.deps.names }, 'daemon started');
  }

  /** The port the ops listener is bound to (after start). */
  get httpPort(): number | undefined {
    return this.http?.port;
  }

  /** True while this replica leads. */
  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  /**
   * One round for `run --once`: when the leader lease is free (or ours), one reconcile and one poll;
   * then one dispatch round (every replica). Releases the lease at the end.
   */
  async runOnce(): Promise<OnceReport> {
    await this.checkTables();
    const { config, owner, metrics } = this.deps;
    const leader = await this.lease.acquire(owner, this.clock(), config.leaderLeaseMs);
    try {
      let reconcile: ReconcileOutcome | undefined;
      let poll: PollReport | undefined;
      if (leader) {
        reconcile = await this.loop.reconcileNow('initial');
        this.registrations.invalidate();
        poll = await this.poller.pollOnce(await this.liveRegistrations());
        if (poll.ok) metrics.lastSuccessfulPoll.set(this.clock() / 1000);
      }
      const dispatch = await this.dispatcher.runOnce();
      return { leader, dispatch, ...(reconcile ? { reconcile } : {}), ...(poll ? { poll } : {}) };
    } finally {
      if (leader) await this.lease.release(owner).catch(() => undefined);
    }
  }

  /**
   * Stops taking new work (leadership, polls, reconciles, claims), lets sends in flight finish until
   * the grace period ends and releases the rest, releases the leader lease, closes the listener.
   * Never throws; safe to call twice.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const { logger, config } = this.deps;
    logger.info({ owner: this.deps.owner }, 'daemon stopping');
    const dispatched = this.dispatcher.stop({ deadlineMs: config.shutdownGraceMs }).catch((error: unknown) => {
      logger.warn({ err: errorMessage(error) }, 'dispatcher did not stop cleanly');
      return undefined;
    });
    await this.stopLeading();
    await this.elector.stop(); // releases the lease so a standby takes over at once
    const result = await dispatched;
    await this.http?.close();
    this.poller.close();
    logger.info({ inFlight: result?.inFlight, released: result?.aborted }, 'daemon stopped');
  }

  private async lead(isLeader: boolean): Promise<void> {
    if (this.stopped && isLeader) return;
    this.deps.metrics.leader.set(isLeader ? 1 : 0);
    if (isLeader) {
      this.leaderSince = this.clock();
      this.registrations.invalidate();
      await this.loop.start();
      this.schedulePoll(0);
    } else {
      await this.stopLeading();
    }
  }

  private async stopLeading(): Promise<void> {
    this.leaderSince = undefined;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    await this.polling;
    await this.loop.stop();
  }

  private schedulePoll(delayMs: number): void {
    if (this.stopped || this.leaderSince === undefined) return;
    this.pollTimer = setTimeout(() => {
      this.polling = this.pollOnce().finally(() => {
        this.polling = undefined;
        this.schedulePoll(this.deps.config.pollIntervalMs);
      });
    }, delayMs);
  }

  private async pollOnce(): Promise<void> {
    try {
      const report = await this.poller.pollOnce(await this.liveRegistrations());
      if (report.ok) {
        this.lastPollOkAt = this.clock();
        this.deps.metrics.lastSuccessfulPoll.set(this.lastPollOkAt / 1000);
      }
      if (report.notifications > 0) this.dispatcher.nudge();
    } catch (error) {
      this.deps.logger.warn({ err: errorMessage(error) }, 'poll failed; retrying at the next interval');
    }
  }

  /** Every live registration, from the cache (refreshed every resync interval and after the reconciler writes). */
  async liveRegistrations(): Promise<LiveRegistration[]> {
    return this.registrations.all();
  }

  private async checkTables(): Promise<void> {
    for (const table of Object.values(this.deps.names)) {
      try {
        await this.deps.clients.client.send(new DescribeTableCommand({ TableName: table }));
      } catch (error) {
        if ((error as { name?: string }).name === 'ResourceNotFoundException') throw new UsageError(new MissingTableError(table).message);
        throw error;
      }
    }
  }

  private storeReadyAt = 0;
  private async storeReady(): Promise<CheckResult> {
    // one DescribeTable every 5 s at most, however often /readyz is asked
    if (this.clock() - this.storeReadyAt < 5_000) return { ok: true, detail: 'reachable' };
    try {
      await this.deps.clients.client.send(new DescribeTableCommand({ TableName: this.deps.names.registrations }));
      this.storeReadyAt = this.clock();
      return { ok: true, detail: 'reachable' };
    } catch (error) {
      return { ok: false, detail: `DynamoDB unreachable: ${errorMessage(error)}` };
    }
  }

  private pollerReady(): CheckResult {
    if (this.leaderSince === undefined) return { ok: true, detail: 'standby: another replica polls' };
    const limit = Math.max(3 * this.deps.config.pollIntervalMs, 30_000);
    const since = this.lastPollOkAt ?? this.leaderSince;
    const age = this.clock() - since;
    if (age <= limit) return { ok: true, detail: this.lastPollOkAt ? `last successful poll ${Math.round(age / 1000)}s ago` : 'leader, first poll pending' };
    return { ok: false, detail: `no successful poll for ${Math.round(age / 1000)}s (limit ${Math.round(limit / 1000)}s)` };
  }
}
