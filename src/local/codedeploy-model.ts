import { randomInt } from 'node:crypto';
/**
 * An in-memory model of the part of AWS CodeDeploy that codedeploy-notify reads: applications,
 * deployment groups and deployments moving through their statuses. It backs the fake CodeDeploy
 * server (codedeploy-server.ts) used by tests, benchmarks and `run --local`. Times come from an
 * injectable clock so a test can move hours in an instant.
 */

/** CodeDeploy deployment statuses (DeploymentStatus in the API). */
export type SimStatus = 'Created' | 'Queued' | 'InProgress' | 'Baking' | 'Ready' | 'Succeeded' | 'Failed' | 'Stopped';

/** Statuses after which a deployment never changes again. */
export const TERMINAL_SIM_STATUSES: readonly SimStatus[] = ['Succeeded', 'Failed', 'Stopped'];

/** The revision of a simulated deployment, in the API's JSON shape. */
export type SimRevision =
  | { revisionType: 'GitHub'; gitHubLocation: { repository: string; commitId: string } }
  | { revisionType: 'S3'; s3Location: { bucket: string; key: string; bundleType?: string; version?: string; eTag?: string } }
  | { revisionType: 'AppSpecContent'; appSpecContent: { content?: string; sha256?: string } }
  | { revisionType: 'String'; string: { content?: string; sha256?: string } };

/** deploymentOverview: instance (or task) counts by state. */
export interface SimOverview {
  Pending: number;
  InProgress: number;
  Succeeded: number;
  Failed: number;
  Skipped: number;
  Ready: number;
}

/** One simulated deployment. Times are epoch milliseconds. */
export interface SimDeployment {
  deploymentId: string;
  applicationName: string;
  deploymentGroupName: string;
  deploymentConfigName: string;
  computePlatform: 'Server' | 'Lambda' | 'ECS';
  status: SimStatus;
  creator: string;
  description?: string;
  revision?: SimRevision;
  errorInformation?: { code: string; message: string };
  deploymentOverview: SimOverview;
  rollbackInfo?: { rollbackDeploymentId?: string; rollbackTriggeringDeploymentId?: string; rollbackMessage?: string };
  createTime: number;
  startTime?: number;
  completeTime?: number;
  /** Hidden from ListDeployments until the clock reaches this time (eventual consistency). */
  listedFrom?: number;
  /** Absent from BatchGetDeployments / GetDeployment answers until the clock reaches this time. */
  readableFrom?: number;
}

/** What `createDeployment` takes; everything but application and group has a default. */
export interface CreateSimDeployment {
  application: string;
  group: string;
  /** Default: a sequential id such as d-SIM000001. */
  deploymentId?: string;
  creator?: string;
  description?: string;
  revision?: SimRevision;
  computePlatform?: SimDeployment['computePlatform'];
  /** Default: now. A time in the past scripts history. */
  createTime?: number;
  /** Default: Created. A later status also sets startTime/completeTime to createTime (see setStatus). */
  status?: SimStatus;
  /** Number of instances (or tasks); default 2. */
  instances?: number;
  /** Hide from ListDeployments for this many milliseconds (simulates a listing that lags). */
  listingDelayMs?: number;
  /** Leave out of BatchGetDeployments/GetDeployment for this many milliseconds (a read that lags the listing). */
  readDelayMs?: number;
}

/** Options of `setStatus`. */
export interface SetStatusOptions {
  error?: { code: string; message: string };
  overview?: Partial<SimOverview>;
}

/** A filter on ListDeployments. Times are epoch milliseconds, both ends inclusive. */
export interface SimListFilter {
  applicationName?: string;
  deploymentGroupName?: string;
  createdFrom?: number;
  createdTo?: number;
  statuses?: readonly string[];
}

/** A deployment id shaped like CodeDeploy's: `d-` and nine random upper-case letters or digits. */
export function randomDeploymentId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return `d-${Array.from({ length: 9 }, () => alphabet[randomInt(alphabet.length)]).join('')}`;
}

/** An error the model raises; the server turns it into an awsJson error of type `type`. */
export class SimApiError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = 'SimApiError';
    this.type = type;
    this.status = status;
  }
}

/** A small seeded PRNG (mulberry32) so fault injection is reproducible. Returns numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The model. Not thread-safe in any interesting sense: it is plain data mutated synchronously.
 * Every getter returns copies, so callers cannot change the model behind its back.
 */
export class CodeDeployModel {
  private readonly clock: () => number;
  private readonly apps = new Map<string, { computePlatform: SimDeployment['computePlatform']; groups: Set<string> }>();
  private readonly deployments = new Map<string, SimDeployment>();
  private readonly newId: (sequence: number) => string;
  private sequence = 0;

  /**
   * `clock` returns epoch milliseconds (default `Date.now`); `newId` names deployments created
   * without an id (default sequential `d-SIM000001`, which tests rely on; local mode passes
   * `randomDeploymentId` so a restarted simulator never reuses an id its ledger remembers).
   */
  constructor(options: { clock?: () => number; newId?: (sequence: number) => string } = {}) {
    this.clock = options.clock ?? Date.now;
    this.newId = options.newId ?? ((n) => `d-SIM${String(n).padStart(6, '0')}`);
  }

  /** The model's current time (epoch milliseconds). */
  now(): number {
    return this.clock();
  }

  /** Creates an application (idempotent). */
  createApplication(name: string, computePlatform: SimDeployment['computePlatform'] = 'Server'): void {
    if (!this.apps.has(name)) this.apps.set(name, { computePlatform, groups: new Set() });
  }

  /** Creates a deployment group, and its application when absent (idempotent). */
  createDeploymentGroup(application: string, group: string): void {
    this.createApplication(application);
    this.apps.get(application)?.groups.add(group);
  }

  /** Application names, sorted. */
  applicationNames(): string[] {
    return [...this.apps.keys()].sort();
  }

  /** Group names of an application, sorted; throws ApplicationDoesNotExistException when unknown. */
  groupNames(application: string): string[] {
    const app = this.apps.get(application);
    if (!app) throw new SimApiError('ApplicationDoesNotExistException', `No application found for name: ${application}`);
    return [...app.groups].sort();
  }

  /** Creates a deployment (and its application and group when absent) and returns a copy of it. */
  createDeployment(input: CreateSimDeployment): SimDeployment {
    this.createDeploymentGroup(input.application, input.group);
    const app = this.apps.get(input.application);
    const now = this.clock();
    const createTime = input.createTime ?? now;
    this.sequence += 1;
    const deploymentId = input.deploymentId ?? this.newId(this.sequence);
    if (this.deployments.has(deploymentId)) throw new SimApiError('InvalidInputException', `deployment ${deploymentId} already exists`);
    const instances = input.instances ?? 2;
    const deployment: SimDeployment = {
      deploymentId,
      applicationName: input.application,
      deploymentGroupName: input.group,
      deploymentConfigName: 'CodeDeployDefault.OneAtATime',
      computePlatform: input.computePlatform ?? app?.computePlatform ?? 'Server',
      status: 'Created',
      creator: input.creator ?? 'user',
      createTime,
      deploymentOverview: { Pending: instances, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 },
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.revision ? { revision: input.revision } : {}),
      ...(input.listingDelayMs ? { listedFrom: now + input.listingDelayMs } : {}),
      ...(input.readDelayMs ? { readableFrom: now + input.readDelayMs } : {}),
    };
    this.deployments.set(deploymentId, deployment);
    if (input.status && input.status !== 'Created') this.applyStatus(deployment, input.status, {}, createTime);
    return structuredClone(deployment);
  }

  /**
   * Moves a deployment to `status` at the current time: entering a running status (InProgress,
   * Baking, Ready) or Succeeded sets startTime once (Failed or Stopped from Created/Queued leave it
   * unset: it never started); a terminal status sets completeTime. Throws for an unknown deployment or
   * one that already ended (InvalidDeploymentStatusException), as CodeDeploy would.
   */
  setStatus(deploymentId: string, status: SimStatus, options: SetStatusOptions = {}): SimDeployment {
    const deployment = this.require(deploymentId);
    if (TERMINAL_SIM_STATUSES.includes(deployment.status)) {
      throw new SimApiError('InvalidDeploymentStatusException', `deployment ${deploymentId} already ended with status ${deployment.status}`);
    }
    this.applyStatus(deployment, status, options, this.clock());
    return structuredClone(deployment);
  }

  /**
   * Fails `deploymentId` (when still running) and starts its automatic rollback: a new deployment
   * created by `codeDeployRollback` with rollbackInfo pointing both ways. Returns the rollback.
   */
  rollback(deploymentId: string, message = 'Deployment failed; automatic rollback started'): SimDeployment {
    const original = this.require(deploymentId);
    if (!TERMINAL_SIM_STATUSES.includes(original.status)) {
      this.applyStatus(original, 'Failed', { error: { code: 'HEALTH_CONSTRAINTS', message: 'The overall deployment failed because too many individual instances failed deployment' } }, this.clock());
    }
    const rollback = this.createDeployment({
      application: original.applicationName,
      group: original.deploymentGroupName,
      creator: 'codeDeployRollback',
      description: `Rollback of ${deploymentId}`,
      ...(original.revision ? { revision: original.revision } : {}),
      computePlatform: original.computePlatform,
    });
    const stored = this.require(rollback.deploymentId);
    stored.rollbackInfo = { rollbackTriggeringDeploymentId: deploymentId, rollbackMessage: message };
    original.rollbackInfo = { rollbackDeploymentId: rollback.deploymentId, rollbackMessage: message };
    return structuredClone(stored);
  }

  /** A copy of one deployment as the read APIs see it: undefined when unknown or not readable yet. */
  read(deploymentId: string): SimDeployment | undefined {
    const deployment = this.deployments.get(deploymentId);
    if (!deployment || (deployment.readableFrom !== undefined && deployment.readableFrom > this.clock())) return undefined;
    return structuredClone(deployment);
  }

  /** A copy of one deployment, or undefined. */
  get(deploymentId: string): SimDeployment | undefined {
    const deployment = this.deployments.get(deploymentId);
    return deployment ? structuredClone(deployment) : undefined;
  }

  /** Every deployment (copies), newest first. */
  all(): SimDeployment[] {
    return this.sorted([...this.deployments.values()]).map((d) => structuredClone(d));
  }

  /**
   * Deployments visible to ListDeployments that match `filter`, newest first (createTime, then
   * id, descending). Throws ApplicationDoesNotExistException / DeploymentGroupDoesNotExistException
   * for an unknown application or group.
   */
  list(filter: SimListFilter): SimDeployment[] {
    if (filter.applicationName !== undefined) {
      const groups = this.groupNames(filter.applicationName);
      if (filter.deploymentGroupName !== undefined && !groups.includes(filter.deploymentGroupName)) {
        throw new SimApiError('DeploymentGroupDoesNotExistException', `No Deployment Group found for name: ${filter.deploymentGroupName}`);
      }
    }
    const now = this.clock();
    const matches = [...this.deployments.values()].filter(
      (d) =>
        (d.listedFrom === undefined || d.listedFrom <= now) &&
        (filter.applicationName === undefined || d.applicationName === filter.applicationName) &&
        (filter.deploymentGroupName === undefined || d.deploymentGroupName === filter.deploymentGroupName) &&
        (filter.createdFrom === undefined || d.createTime >= filter.createdFrom) &&
        (filter.createdTo === undefined || d.createTime <= filter.createdTo) &&
        (filter.statuses === undefined || filter.statuses.length === 0 || filter.statuses.includes(d.status)),
    );
    return this.sorted(matches).map((d) => structuredClone(d));
  }

  private sorted(deployments: SimDeployment[]): SimDeployment[] {
    return deployments.sort((a, b) => b.createTime - a.createTime || (a.deploymentId < b.deploymentId ? 1 : a.deploymentId > b.deploymentId ? -1 : 0));
  }

  private require(deploymentId: string): SimDeployment {
    const deployment = this.deployments.get(deploymentId);
    if (!deployment) throw new SimApiError('DeploymentDoesNotExistException', `The deployment ${deploymentId} could not be found`);
    return deployment;
  }

  private applyStatus(deployment: SimDeployment, status: SimStatus, options: SetStatusOptions, at: number): void {
    const total = Object.values(deployment.deploymentOverview).reduce((sum, n) => sum + n, 0);
    deployment.status = status;
    // A deployment stopped or failed while still queued never started.
    if ((status === 'InProgress' || status === 'Baking' || status === 'Ready' || status === 'Succeeded') && deployment.startTime === undefined) deployment.startTime = at;
    const overview: SimOverview = { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Skipped: 0, Ready: 0 };
    switch (status) {
      case 'Created':
      case 'Queued':
        overview.Pending = total;
        break;
      case 'InProgress':
      case 'Baking':
        overview.InProgress = total;
        break;
      case 'Ready':
        overview.Ready = total;
        break;
      case 'Succeeded':
        overview.Succeeded = total;
        break;
      case 'Failed':
        overview.Failed = Math.min(1, total);
        overview.Skipped = total - overview.Failed;
        break;
      case 'Stopped':
        overview.Skipped = total;
        break;
    }
    deployment.deploymentOverview = { ...overview, ...options.overview };
    if (TERMINAL_SIM_STATUSES.includes(status)) {
      deployment.completeTime = at;
      if (status !== 'Succeeded') {
        deployment.errorInformation = options.error ?? (status === 'Stopped'
          ? { code: 'MANUAL_STOP', message: 'The deployment was stopped by a user' }
          : { code: 'HOOK_EXECUTION_FAILURE', message: 'Script at specified location: scripts/validate.sh run as user root failed with exit code 1' });
      }
    } else if (options.error) {
      deployment.errorInformation = options.error;
    }
  }
}
