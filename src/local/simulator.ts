import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';
import type { EventType } from '../core/events.js';
import type { CodeDeployModel, SimDeployment, SimStatus } from './codedeploy-model.js';

/** An application the simulator deploys, with the groups it deploys to and the events someone hears. */
export interface SimulatedApplication {
  application: string;
  groups: string[];
  /** Events at least one channel subscribes to: the first deployment ends in one of them. */
  events: readonly EventType[];
}

/** Options of the simulator. */
export interface SimulatorOptions {
  model: CodeDeployModel;
  /** The applications to deploy, asked before every new deployment (registrations can change). */
  applications: () => Promise<SimulatedApplication[]>;
  logger: Logger;
  /** Delay before the first deployment (default 1 s) and between later ones (default 8-20 s). */
  firstDelayMs?: number;
  intervalMs?: [number, number];
  /** Uniform [0, 1); default Math.random. */
  random?: () => number;
}

const ERRORS = [
  { code: 'HEALTH_CONSTRAINTS', message: 'The overall deployment failed because too many individual instances failed deployment, too few healthy instances are available for deployment, or some instances in your deployment group are experiencing problems.' },
  { code: 'SCRIPT_FAILED', message: 'Script at specified location: scripts/validate_service.sh run as user root failed with exit code 1' },
  { code: 'TIMEOUT', message: 'Script at specified location: scripts/start_server.sh failed to complete in 300 seconds' },
];
const DESCRIPTIONS = ['Release from main', 'Hotfix: payment retries', 'Weekly dependency updates', 'Feature flag cleanup', 'Rollout of the new pricing page'];
const CREATORS = ['user', 'user', 'user', 'autoscaling', 'CloudFormation'];

/**
 * The CodeDeploy simulator of `run --local`: on the CodeDeploy model the local fake server serves,
 * it starts deployments of the registered applications at random intervals and moves each through
 * realistic lifecycles — most succeed, some fail (half of those roll back automatically), a few are
 * stopped, blue/green ones pause in Ready — so every event type shows up. Deployment ids are random
 * like CodeDeploy's, so a restart (whose ledger remembers earlier ids) never reuses one.
 */
export class DeploymentSimulator {
  private readonly random: () => number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = true;
  private deployed = 0;

  constructor(private readonly options: SimulatorOptions) {
    this.random = options.random ?? Math.random;
  }

  /** Starts deploying. Idempotent. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.later(this.options.firstDelayMs ?? 1_000, () => this.next());
  }

  /** Stops starting and advancing deployments. */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async next(): Promise<void> {
    try {
      const apps = (await this.options.applications()).filter((a) => a.groups.length > 0);
      if (apps.length > 0) this.deploy(this.pick(apps));
    } catch (error) {
      this.options.logger.warn({ err: errorMessage(error) }, 'simulator could not read the registered applications');
    }
    const [min, max] = this.options.intervalMs ?? [8_000, 20_000];
    this.later(min + this.random() * (max - min), () => this.next());
  }

  private deploy(app: SimulatedApplication): void {
    const { model } = this.options;
    const group = this.pick(app.groups);
    const commit = Array.from({ length: 40 }, () => '0123456789abcdef'[Math.floor(this.random() * 16)]).join('');
    const deployment = model.createDeployment({
      application: app.application,
      group,
      creator: this.pick(CREATORS),
      description: this.pick(DESCRIPTIONS),
      revision: this.random() < 0.7
        ? { revisionType: 'GitHub', gitHubLocation: { repository: `example/${app.application}`, commitId: commit } }
        : { revisionType: 'S3', s3Location: { bucket: 'example-artifacts', key: `${app.application}/${commit.slice(0, 7)}.zip`, bundleType: 'zip', version: commit.slice(0, 12) } },
      instances: 2 + Math.floor(this.random() * 4),
    });
    this.options.logger.info({ deploymentId: deployment.deploymentId, application: app.application, group }, 'simulator started a deployment');
    this.deployed += 1;
    this.advance(deployment, this.deployed === 1 ? firstLifecycle(app.events) : this.lifecycle(), 1_000);
  }

  private lifecycle(): SimStatus[] {
    const roll = this.random();
    if (roll < 0.6) return ['InProgress', 'Succeeded'];
    if (roll < 0.75) return ['InProgress', 'Ready', 'Succeeded'];
    if (roll < 0.92) return ['InProgress', 'Failed'];
    return ['InProgress', 'Stopped'];
  }

  private advance(deployment: SimDeployment, steps: SimStatus[], delayMs: number): void {
    const [status, ...rest] = steps;
    if (!status) return;
    this.later(delayMs, () => {
      const { model } = this.options;
      try {
        if (status === 'Failed' && this.random() < 0.5) {
          const rollback = model.rollback(deployment.deploymentId);
          this.advance(rollback, ['InProgress', 'Succeeded'], 2_000);
        } else {
          const total = Object.values(deployment.deploymentOverview).reduce((a, b) => a + b, 0);
          model.setStatus(deployment.deploymentId, status, {
            ...(status === 'Failed' ? { error: this.pick(ERRORS) } : {}),
            ...(status === 'Stopped' ? { error: { code: 'DEPLOYMENT_STOPPED', message: 'The deployment was stopped by a user' } } : {}),
            overview: overviewFor(status, total),
          });
        }
      } catch (error) {
        this.options.logger.warn({ err: errorMessage(error), deploymentId: deployment.deploymentId }, 'simulator could not advance a deployment');
        return;
      }
      this.advance(deployment, rest, status === 'Ready' ? 6_000 : 2_000 + this.random() * 3_000);
    });
  }

  private later(ms: number, fn: () => void | Promise<void>): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) void fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }
}

/** The first deployment ends in an event someone subscribed to, so a new user sees a notification at once. */
function firstLifecycle(events: readonly EventType[]): SimStatus[] {
  if (events.includes('Succeeded') || events.includes('Started')) return ['InProgress', 'Succeeded'];
  if (events.includes('Failed')) return ['InProgress', 'Failed'];
  if (events.includes('Stopped')) return ['InProgress', 'Stopped'];
  return ['InProgress', 'Ready', 'Succeeded'];
}

function overviewFor(status: SimStatus, total: number): { Pending: number; InProgress: number; Succeeded: number; Failed: number; Ready: number } {
  switch (status) {
    case 'InProgress':
      return { Pending: total - 1, InProgress: 1, Succeeded: 0, Failed: 0, Ready: 0 };
    case 'Ready':
      return { Pending: 0, InProgress: 0, Succeeded: 0, Failed: 0, Ready: total };
    case 'Succeeded':
      return { Pending: 0, InProgress: 0, Succeeded: total, Failed: 0, Ready: 0 };
    case 'Failed':
      return { Pending: 0, InProgress: 0, Succeeded: Math.max(0, total - 2), Failed: Math.min(2, total), Ready: 0 };
    default:
      return { Pending: total, InProgress: 0, Succeeded: 0, Failed: 0, Ready: 0 };
  }
}
