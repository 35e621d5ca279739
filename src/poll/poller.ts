import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { NotifyError, errorMessage } from '../core/errors.js';
import type { DeploymentEvent, EventType } from '../core/events.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { FinishedDeployment, PollStateStore, ScopeIdentity, TrackedDeployment } from '../store/poll-state.js';
import type { LiveRegistration, NotificationSink, PendingNotification } from '../store/ports.js';
import { BATCH_GET_MAX_IDS, sdkCodeDeployFactory, type CodeDeployApi, type CodeDeployApiFactory, type CodeDeployOperation } from './codedeploy.js';
import { StsRoleCredentials, type RoleCredentialSource } from './credentials.js';
import { toDeploymentEvent } from './event.js';
import { chunk, settleLimit } from '../util/concurrency.js';
import { matchNotifications } from './match.js';
import { applicationsOf, groupByScope, isWatched, namedGroups, type PollScope } from './scope.js';
import { dueTransitions, isTerminal } from './transitions.js';
import {
  DEFAULT_MAX_LOOKBACK_MS,
  DEFAULT_OVERLAP_MS,
  UNRESOLVED_RETENTION_MS,
  finishedExpiry,
  inFlightExpiry,
  listingWindow,
  type ListingWindow,
} from './window.js';

/** The listing strategies (SPEC: --poll-strategy). */
export const POLL_STRATEGIES = ['account', 'application'] as const;
export type PollStrategyName = (typeof POLL_STRATEGIES)[number];

/** Hooks for metrics; every callback is optional and must not throw. */
export interface PollObserver {
  /** After every CodeDeploy call (one per SDK command, its retries included). */
  onCall?(operation: CodeDeployOperation, region: string, ok: boolean): void;
  /** For every event that produced at least one notification. */
  onEvent?(type: EventType, scope: string): void;
  /** After every poll of a scope. */
  onCycle?(cycle: { scope: string; region: string; accountId?: string; durationMs: number; ok: boolean }): void;
}

/** What one poll of one scope did. */
export interface ScopeReport {
  scope: string;
  region: string;
  roleArn?: string;
  accountId?: string;
  /** False when any call failed: the cursor did not move and the next poll retries. */
  ok: boolean;
  error?: string;
  /** CodeDeploy calls made, per operation. */
  calls: Record<CodeDeployOperation, number>;
  /** Deployment ids returned by the listing. */
  listed: number;
  /** Listed ids not seen before. */
  new: number;
  /** Tracked in-flight deployments re-read this poll. */
  inFlight: number;
  /** Tracked in-flight deployments of applications or groups nobody watches now (not re-read). */
  dormant: number;
  /** Ids asked of BatchGetDeployments. */
  fetched: number;
  /** Events that produced notifications. */
  events: Array<{ deploymentId: string; type: EventType }>;
  notifications: number;
  /** True when this scope had no cursor: the listing looked back --max-lookback. */
  first: boolean;
  /** True when downtime exceeded --max-lookback and the window was clamped. */
  clamped: boolean;
  /** The cursor stored by this poll (ISO-8601), when it moved. */
  cursor?: string;
  durationMs: number;
}

/** What one `pollOnce` did, over every scope. */
export interface PollReport {
  startedAt: string;
  durationMs: number;
  /** True when every scope succeeded. */
  ok: boolean;
  scopes: ScopeReport[];
  calls: Record<CodeDeployOperation, number>;
  events: number;
  notifications: number;
}

/** Options of the Poller. */
export interface PollerOptions {
  state: PollStateStore;
  sink: NotificationSink;
  /** Region of registrations without spec.region (the daemon's AWS region). */
  defaultRegion: string;
  /** Default `account`. */
  strategy?: PollStrategyName;
  /** Account id of scopes without a role (events carry it); see lookupAccountId. */
  defaultAccountId?: string;
  /** --max-lookback in milliseconds; default 24 h. */
  maxLookbackMs?: number;
  /** How far before the cursor each listing starts again; default 5 minutes. */
  overlapMs?: number;
  /** Epoch milliseconds; default Date.now. */
  clock?: () => number;
  logger?: Logger;
  observer?: PollObserver;
  /** Builds the CodeDeploy API per region and credentials; default the AWS SDK client. */
  codeDeploy?: CodeDeployApiFactory;
  /** Role credentials for spec.roleArn; default STS AssumeRole in defaultRegion. */
  roles?: RoleCredentialSource;
  /** CodeDeploy calls in flight at once per scope; default 4. */
  concurrency?: number;
  /** How long an application's deployment group list is reused (per-application strategy); default 5 minutes. */
  groupCacheMs?: number;
  /** SDK attempts per call for the default client (throttling retries included); default 3. */
  maxAttempts?: number;
  /** Per-request timeout for the default clients; default 10 000 ms. */
  requestTimeoutMs?: number;
}

/** pollOnce was called while a poll was still running. */
export class PollBusyError extends NotifyError {
  constructor() {
    super('poll-busy', 'a poll is already running on this Poller; wait for pollOnce to resolve before calling it again');
  }
}

interface ListingResult {
  ids: Set<string>;
  /** Where a listed id came from, when the listing knows (per-application strategy). */
  origin: Map<string, { application: string; group: string }>;
  /** True when every listing call succeeded. */
  complete: boolean;
  /** The earliest createTimeRange.start used. */
  earliestStart: number;
  /** Per-application strategy: the (application, group) keys listed completely this poll. */
  watched?: Set<string>;
  watchedBefore?: Set<string>;
  errors: unknown[];
}

interface ScopeRun {
  scope: PollScope;
  api: CodeDeployApi;
  report: ScopeReport;
  now: number;
  window: ListingWindow;
}

const WATCH_SEPARATOR = '\u001f';
const MAX_PAGES = 10_000;
const MISSING = ['DeploymentGroupDoesNotExistException', 'ApplicationDoesNotExistException'];

/**
 * The poller: reads CodeDeploy for deployments of the live registrations and turns status
 * changes into notifications handed to the sink (the ledger).
 *
 * Per scope (region + credentials) and poll: read the cursor and the in-flight set; list the
 * deployments created since `cursor - overlap` (account-wide: one paginated ListDeployments;
 * per-application: ListDeploymentGroups, cached, and ListDeployments per watched group); fetch with
 * BatchGetDeployments (25 ids a call) the ids never seen plus the tracked in-flight deployments
 * somebody watches; compute the due events; enqueue the matching notifications; only then save
 * the in-flight/finished state and advance the cursor. When any call fails, what was fetched is
 * still handled and saved, but the cursor stays, so the next poll lists that window again. One
 * failing scope never stops the others. Restart-safe: everything it needs is in the state store.
 */
export class Poller {
  private readonly options: PollerOptions;
  private readonly strategy: PollStrategyName;
  private readonly clock: () => number;
  private readonly logger: Logger;
  private readonly maxLookbackMs: number;
  private readonly overlapMs: number;
  private readonly concurrency: number;
  private readonly groupCacheMs: number;
  private readonly factory: CodeDeployApiFactory;
  private roles: RoleCredentialSource | undefined;
  private readonly ownsRoles: boolean;
  private readonly clients = new Map<string, { api: CodeDeployApi; accessKeyId: string | undefined }>();
  private readonly groupCache = new Map<string, { groups: string[]; fetchedAt: number }>();
  private running = false;

  constructor(options: PollerOptions) {
    if (!options.defaultRegion) throw new NotifyError('invalid-poller', 'the poller needs a default region: set AWS_REGION or give registrations spec.region');
    this.options = options;
    this.strategy = options.strategy ?? 'account';
    if (!POLL_STRATEGIES.includes(this.strategy)) {
      throw new NotifyError('invalid-poller', `unknown poll strategy "${String(this.strategy)}": use ${POLL_STRATEGIES.join(' or ')}`);
    }
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger ?? silentLogger();
    this.maxLookbackMs = options.maxLookbackMs ?? DEFAULT_MAX_LOOKBACK_MS;
    this.overlapMs = options.overlapMs ?? DEFAULT_OVERLAP_MS;
    if (this.overlapMs < 0 || this.maxLookbackMs <= this.overlapMs) {
      throw new NotifyError('invalid-poller', `--max-lookback (${this.maxLookbackMs} ms) must be longer than the listing overlap (${this.overlapMs} ms)`);
    }
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.groupCacheMs = options.groupCacheMs ?? 5 * 60_000;
    this.factory = options.codeDeploy ?? sdkCodeDeployFactory({
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    });
    this.roles = options.roles;
    this.ownsRoles = options.roles === undefined;
  }

  /**
   * Polls every scope of `registrations` once (scopes in parallel). Never rejects for AWS or store
   * failures: they are in the report (`ok: false`, `error`) and logged; throws PollBusyError when
   * called while a poll is running.
   */
  async pollOnce(registrations: readonly LiveRegistration[]): Promise<PollReport> {
    if (this.running) throw new PollBusyError();
    this.running = true;
    try {
      const started = performance.now();
      const now = this.clock();
      const scopes = groupByScope(registrations, this.options.defaultRegion, this.options.defaultAccountId);
      const reports = await Promise.all(scopes.map((scope) => this.pollScope(scope, now)));
      this.dropUnusedClients(new Set(scopes.map((s) => s.key)));
      const calls = emptyCalls();
      for (const r of reports) for (const op of Object.keys(calls) as CodeDeployOperation[]) calls[op] += r.calls[op];
      return {
        startedAt: new Date(now).toISOString(),
        durationMs: performance.now() - started,
        ok: reports.every((r) => r.ok),
        scopes: reports,
        calls,
        events: reports.reduce((n, r) => n + r.events.length, 0),
        notifications: reports.reduce((n, r) => n + r.notifications, 0),
      };
    } finally {
      this.running = false;
    }
  }

  /** Destroys the SDK clients (and the STS client when the poller made it). */
  close(): void {
    for (const { api } of this.clients.values()) api.destroy();
    this.clients.clear();
    if (this.ownsRoles) this.roles?.destroy();
  }

  private async pollScope(scope: PollScope, now: number): Promise<ScopeReport> {
    const started = performance.now();
    const report: ScopeReport = {
      scope: scope.key,
      region: scope.region,
      ...(scope.roleArn ? { roleArn: scope.roleArn } : {}),
      ...(scope.accountId ? { accountId: scope.accountId } : {}),
      ok: false,
      calls: emptyCalls(),
      listed: 0,
      new: 0,
      inFlight: 0,
      dormant: 0,
      fetched: 0,
      events: [],
      notifications: 0,
      first: false,
      clamped: false,
      durationMs: 0,
    };
    const identity: ScopeIdentity = {
      scope: scope.key,
      region: scope.region,
      strategy: this.strategy,
      ...(scope.roleArn ? { roleArn: scope.roleArn } : {}),
      ...(scope.accountId ? { accountId: scope.accountId } : {}),
    };
    const nowIso = new Date(now).toISOString();
    try {
      const api = this.counted(await this.clientFor(scope), scope.region, report);
      const cursor = await this.options.state.getCursor(scope.key);
      const cursorMs = cursor?.cursor !== undefined ? Date.parse(cursor.cursor) : undefined;
      const window = listingWindow({ cursor: Number.isFinite(cursorMs) ? cursorMs : undefined, now, overlapMs: this.overlapMs, maxLookbackMs: this.maxLookbackMs });
      report.first = window.first;
      report.clamped = window.clamped;
      if (window.clamped) {
        this.logger.warn(
          { scope: scope.key, cursor: cursor?.cursor, lagMs: window.lagMs, maxLookbackMs: this.maxLookbackMs },
          'poller was behind longer than --max-lookback; deployments created before the look-back window are not checked',
        );
      }
      const run: ScopeRun = { scope, api, report, now, window };
      const inFlight = await this.options.state.listInFlight(scope.key);
      const listing = this.strategy === 'account' ? await this.listAccount(run) : await this.listByApplication(run);
      const finished = await this.options.state.listFinished(scope.key, listing.earliestStart);
      const outcome = await this.process(run, inFlight, finished, listing);
      const complete = listing.complete && outcome.fetchErrors.length === 0;
      if (complete) {
        if (listing.watched && listing.watchedBefore && !sameSet(listing.watched, listing.watchedBefore)) {
          await this.options.state.setWatched(scope.key, listing.watched);
        }
        await this.options.state.recordPoll(identity, { at: nowIso, cursor: nowIso });
        report.cursor = nowIso;
        report.ok = true;
      } else {
        const errors = [...listing.errors, ...outcome.fetchErrors];
        report.error = summarize(errors);
        this.logger.warn({ scope: scope.key, err: report.error, failedCalls: errors.length }, 'poll of scope incomplete; the cursor stays and the next poll retries');
        await this.options.state.recordPoll(identity, { at: nowIso, error: report.error });
      }
    } catch (error) {
      report.ok = false;
      report.error = errorMessage(error);
      this.logger.warn({ scope: scope.key, err: report.error }, 'poll of scope failed; nothing advanced and the next poll retries');
      await this.options.state.recordPoll(identity, { at: nowIso, error: report.error }).catch((recordError: unknown) => {
        this.logger.debug({ scope: scope.key, err: errorMessage(recordError) }, 'could not record the failed poll');
      });
    }
    report.durationMs = performance.now() - started;
    this.notify(() => this.options.observer?.onCycle?.({ scope: scope.key, region: scope.region, ...(scope.accountId ? { accountId: scope.accountId } : {}), durationMs: report.durationMs, ok: report.ok }));
    this.logger.debug(
      { scope: scope.key, ok: report.ok, listed: report.listed, new: report.new, inFlight: report.inFlight, events: report.events.length, calls: report.calls, durationMs: Math.round(report.durationMs) },
      'polled scope',
    );
    return report;
  }

  /** Fetches new and watched in-flight deployments, enqueues their notifications, saves state. */
  private async process(run: ScopeRun, inFlight: TrackedDeployment[], finished: Set<string>, listing: ListingResult): Promise<{ fetchErrors: unknown[] }> {
    const { scope, report, now } = run;
    const tracked = new Map(inFlight.map((d) => [d.deploymentId, d]));
    const newIds = [...listing.ids].filter((id) => !tracked.has(id) && !finished.has(id));
    const refetch: string[] = [];
    for (const d of inFlight) {
      // Unresolved ids (application unknown) are always re-read; the rest only while watched.
      if (d.application === undefined || isWatched(scope.registrations, d.application, d.deploymentGroup ?? '')) refetch.push(d.deploymentId);
      else report.dormant += 1;
    }
    report.listed = listing.ids.size;
    report.new = newIds.length;
    report.inFlight = refetch.length;
    const toFetch = [...new Set([...newIds, ...refetch])];
    report.fetched = toFetch.length;

    const infos = new Map<string, DeploymentInfo>();
    const failed = new Set<string>();
    const fetchErrors: unknown[] = [];
    const chunks = chunk(toFetch, BATCH_GET_MAX_IDS);
    const results = await settleLimit(chunks, this.concurrency, (ids) => run.api.batchGetDeployments(ids));
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') {
        for (const info of result.value) if (info.deploymentId) infos.set(info.deploymentId, info);
      } else {
        fetchErrors.push(result.reason);
        for (const id of chunks[i] ?? []) failed.add(id);
      }
    });

    const nowIso = new Date(now).toISOString();
    const origin = { region: scope.region, ...(scope.accountId ? { accountId: scope.accountId } : {}) };
    const events: DeploymentEvent[] = [];
    const inFlightUpdates: TrackedDeployment[] = [];
    const finishedUpdates: FinishedDeployment[] = [];
    for (const id of toFetch) {
      const previous = tracked.get(id);
      const info = infos.get(id);
      if (!info) {
        if (!failed.has(id) && !previous) {
          // Listed but not readable yet (eventual consistency): remember it so it is re-read
          // even after it leaves the overlap window.
          const from = listing.origin.get(id);
          inFlightUpdates.push({
            deploymentId: id,
            ...(from ? { application: from.application, deploymentGroup: from.group } : {}),
            emitted: [],
            firstSeenAt: nowIso,
            expiresAt: now + UNRESOLVED_RETENTION_MS,
          });
        }
        continue;
      }
      const transitions = dueTransitions(info, previous?.emitted ?? [], now);
      for (const transition of transitions) events.push(toDeploymentEvent(info, transition, origin));
      const createTime = info.createTime?.getTime() ?? now;
      const emitted = [...new Set([...(previous?.emitted ?? []), ...transitions.map((t) => t.type)])].sort();
      if (isTerminal(info.status)) {
        finishedUpdates.push({
          deploymentId: id,
          createTime: new Date(createTime).toISOString(),
          status: info.status as string,
          expiresAt: finishedExpiry(createTime, this.maxLookbackMs, this.overlapMs),
        });
      } else if (!previous || previous.application === undefined || previous.status !== info.status || transitions.length > 0) {
        inFlightUpdates.push({
          deploymentId: id,
          ...(info.applicationName !== undefined ? { application: info.applicationName } : {}),
          ...(info.deploymentGroupName !== undefined ? { deploymentGroup: info.deploymentGroupName } : {}),
          createTime: new Date(createTime).toISOString(),
          ...(info.status !== undefined ? { status: info.status } : {}),
          emitted,
          firstSeenAt: previous?.firstSeenAt || nowIso,
          expiresAt: inFlightExpiry(createTime, this.maxLookbackMs, this.overlapMs),
        });
      }
    }

    events.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
    const notifications: PendingNotification[] = matchNotifications(events, scope.registrations);
    if (notifications.length > 0) await this.options.sink.enqueue(notifications);
    const heard = new Set(notifications.map((n) => `${n.event.deploymentId}\u0000${n.event.type}`));
    for (const event of events) {
      if (!heard.has(`${event.deploymentId}\u0000${event.type}`)) continue;
      report.events.push({ deploymentId: event.deploymentId, type: event.type });
      this.notify(() => this.options.observer?.onEvent?.(event.type, scope.key));
    }
    report.notifications = notifications.length;
    if (inFlightUpdates.length > 0 || finishedUpdates.length > 0) {
      await this.options.state.saveDeployments(scope.key, { inFlight: inFlightUpdates, finished: finishedUpdates });
    }
    return { fetchErrors };
  }

  /** Account-wide: one paginated ListDeployments with no application. */
  private async listAccount(run: ScopeRun): Promise<ListingResult> {
    const { ids, error } = await this.listAll(run.api, { createdAfter: new Date(run.window.start) });
    return { ids: new Set(ids), origin: new Map(), complete: error === undefined, earliestStart: run.window.start, errors: error === undefined ? [] : [error] };
  }

  /**
   * Per application: the groups each registered application's registrations name, or, when one of
   * them watches every group, the application's groups (ListDeploymentGroups, cached for
   * groupCacheMs, so a group created meanwhile is found within that time); then ListDeployments
   * per group. A group not listed without interruption up to the
   * last successful poll (new registration, new group, filter changed) is listed from
   * `now - maxLookback`, so its deployments already in flight are caught.
   */
  private async listByApplication(run: ScopeRun): Promise<ListingResult> {
    const { scope, now, window } = run;
    const watchedBefore = await this.options.state.getWatched(scope.key);
    const applications = applicationsOf(scope.registrations);
    const errors: unknown[] = [];
    let complete = true;
    const groupResults = await settleLimit(applications, this.concurrency, async (application) =>
      namedGroups(scope.registrations, application) ?? this.groupsOf(run, application),
    );
    const targets: Array<{ application: string; group: string; key: string; start: number }> = [];
    groupResults.forEach((result, i) => {
      const application = applications[i] as string;
      if (result.status === 'rejected') {
        complete = false;
        errors.push(result.reason);
        return;
      }
      for (const group of result.value) {
        const key = `${application}${WATCH_SEPARATOR}${group}`;
        targets.push({ application, group, key, start: watchedBefore.has(key) ? window.start : now - this.maxLookbackMs });
      }
    });
    const ids = new Set<string>();
    const origin = new Map<string, { application: string; group: string }>();
    const watched = new Set<string>();
    const listed = await settleLimit(targets, this.concurrency, (t) =>
      this.listAll(run.api, { applicationName: t.application, deploymentGroupName: t.group, createdAfter: new Date(t.start) }),
    );
    // Finished deployments are read back from the earliest start that returned ids (a group listed
    // from the full look-back that has no deployments costs no wider read).
    let earliestStart = window.start;
    listed.forEach((result, i) => {
      const target = targets[i] as (typeof targets)[number];
      // listAll never rejects; the settled wrapper only satisfies settleLimit's shape.
      const value = result.status === 'fulfilled' ? result.value : { ids: [], error: result.reason };
      if (value.ids.length > 0) earliestStart = Math.min(earliestStart, target.start);
      for (const id of value.ids) {
        ids.add(id);
        origin.set(id, { application: target.application, group: target.group });
      }
      if (value.error === undefined) {
        watched.add(target.key);
      } else if (MISSING.includes(errorName(value.error))) {
        // A named group (or its application) that does not exist, or a group deleted since its
        // list was cached: nothing to list. Not watched, so once it exists it is listed from the
        // full look-back.
        this.groupCache.delete(`${scope.key}${WATCH_SEPARATOR}${target.application}`);
        this.logger.debug({ scope: scope.key, application: target.application, group: target.group, err: errorName(value.error) }, 'deployment group to list does not exist');
      } else {
        complete = false;
        errors.push(value.error);
      }
    });
    // Forget group lists of applications nobody registers any more.
    const prefix = `${scope.key}${WATCH_SEPARATOR}`;
    const current = new Set(applications.map((a) => `${prefix}${a}`));
    for (const key of this.groupCache.keys()) if (key.startsWith(prefix) && !current.has(key)) this.groupCache.delete(key);
    return { ids, origin, complete, earliestStart, watched, watchedBefore, errors };
  }

  /** An application's deployment groups, cached for groupCacheMs; [] for an application that does not exist. */
  private async groupsOf(run: ScopeRun, application: string): Promise<string[]> {
    const key = `${run.scope.key}${WATCH_SEPARATOR}${application}`;
    const cached = this.groupCache.get(key);
    if (cached && run.now - cached.fetchedAt < this.groupCacheMs) return cached.groups;
    const groups: string[] = [];
    let token: string | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const out = await run.api.listDeploymentGroups(application, token);
        groups.push(...out.groups);
        token = out.nextToken;
        if (!token) break;
      }
    } catch (error) {
      if (errorName(error) !== 'ApplicationDoesNotExistException') throw error;
      this.logger.warn({ scope: run.scope.key, application }, 'registered CodeDeploy application does not exist; check spec.application, spec.region and spec.roleArn');
    }
    this.groupCache.set(key, { groups, fetchedAt: run.now });
    return groups;
  }

  /** Every page of one listing; never rejects: ids gathered before a failure come with the error. */
  private async listAll(api: CodeDeployApi, input: { applicationName?: string; deploymentGroupName?: string; createdAfter: Date }): Promise<{ ids: string[]; error?: unknown }> {
    const ids: string[] = [];
    let token: string | undefined;
    try {
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const out = await api.listDeployments({ ...input, ...(token ? { nextToken: token } : {}) });
        ids.push(...out.deploymentIds);
        token = out.nextToken;
        if (!token) break;
      }
      return { ids };
    } catch (error) {
      return { ids, error };
    }
  }

  /** The CodeDeploy API of a scope; rebuilt when an assumed role's credentials were refreshed. */
  private async clientFor(scope: PollScope): Promise<CodeDeployApi> {
    let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } | undefined;
    if (scope.roleArn) {
      this.roles ??= new StsRoleCredentials({ region: this.options.defaultRegion, clock: this.clock, logger: this.logger });
      const c = await this.roles.get(scope.roleArn);
      credentials = { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken };
    }
    const existing = this.clients.get(scope.key);
    if (existing && existing.accessKeyId === credentials?.accessKeyId) return existing.api;
    existing?.api.destroy();
    const api = this.factory(scope.region, credentials);
    this.clients.set(scope.key, { api, accessKeyId: credentials?.accessKeyId });
    return api;
  }

  /** Calls an observer hook; a hook that throws is logged, never allowed to break a poll. */
  private notify(hook: () => void): void {
    try {
      hook();
    } catch (error) {
      this.logger.debug({ err: errorMessage(error) }, 'poll observer hook threw');
    }
  }

  private dropUnusedClients(keys: Set<string>): void {
    for (const [key, { api }] of this.clients) {
      if (keys.has(key)) continue;
      api.destroy();
      this.clients.delete(key);
    }
  }

  /** Wraps the API so every call is counted in the report and told to the observer. */
  private counted(api: CodeDeployApi, region: string, report: ScopeReport): CodeDeployApi {
    const observer = this.options.observer;
    const track = async <T>(operation: CodeDeployOperation, call: () => Promise<T>): Promise<T> => {
      report.calls[operation] += 1;
      let ok = false;
      try {
        const out = await call();
        ok = true;
        return out;
      } finally {
        this.notify(() => observer?.onCall?.(operation, region, ok));
      }
    };
    return {
      listDeployments: (input) => track('ListDeployments', () => api.listDeployments(input)),
      batchGetDeployments: (ids) => track('BatchGetDeployments', () => api.batchGetDeployments(ids)),
      listDeploymentGroups: (application, token) => track('ListDeploymentGroups', () => api.listDeploymentGroups(application, token)),
      destroy: () => api.destroy(),
    };
  }
}

function emptyCalls(): Record<CodeDeployOperation, number> {
  return { ListDeployments: 0, BatchGetDeployments: 0, ListDeploymentGroups: 0 };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function summarize(errors: readonly unknown[]): string {
  const first = errors[0];
  const text = first instanceof Error ? `${first.name}: ${first.message}` : String(first);
  return errors.length > 1 ? `${text} (and ${errors.length - 1} more failed calls)` : text;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
