import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';
import type { DynamoLease } from '../store/lease.js';

/** The lease operations the elector needs (DynamoLease implements them). */
export type LeasePort = Pick<DynamoLease, 'acquire' | 'renew' | 'release'>;

/** Options of a LeaderElector. */
export interface LeaderOptions {
  lease: LeasePort;
  /** This replica's identity (host, pid and a random suffix). */
  owner: string;
  /** How long a lease lasts without renewal; a standby takes over within about two of these after a crash. */
  durationMs: number;
  /** How often the leader renews and a standby tries to acquire; well under `durationMs`. */
  renewEveryMs: number;
  clock: () => number;
  logger: Logger;
  /** Called on every change of leadership, after the change. */
  onChange: (isLeader: boolean) => void;
}

/**
 * Leader election on a DynamoDB lease: only the leader reconciles and polls CodeDeploy, so API
 * calls do not multiply with replicas. The leader renews every `renewEveryMs`; it steps down when
 * a renewal is refused, or when it cannot reach the store long enough that its lease may have
 * expired (it never acts on a lease it cannot vouch for). `stop()` releases the lease so a
 * standby takes over at once.
 */
export class LeaderElector {
  private leader = false;
  private confirmedUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: LeaderOptions) {}

  /** True while this replica holds a lease it has confirmed. */
  get isLeader(): boolean {
    return this.leader && this.options.clock() < this.confirmedUntil;
  }

  /** Starts ticking now and every `renewEveryMs`. Idempotent. */
  start(): void {
    if (this.timer) return;
    const loop = (): void => {
      this.running = this.tick().finally(() => {
        if (this.timer) this.timer = setTimeout(loop, this.options.renewEveryMs);
      });
    };
    this.timer = setTimeout(loop, 0);
  }

  /** Stops ticking and, when leader, releases the lease (store errors are logged, not thrown). */
  async stop(): Promise<void> {
    const timer = this.timer;
    this.timer = undefined;
    if (timer) clearTimeout(timer);
    await this.running;
    if (this.leader) {
      this.setLeader(false);
      await this.options.lease.release(this.options.owner).catch((error: unknown) =>
        this.options.logger.warn({ err: errorMessage(error) }, 'could not release the leader lease; a standby takes over when it expires'),
      );
    }
  }

  /** One round: renew (leader) or try to acquire (standby). Exposed for tests. */
  async tick(): Promise<void> {
    const { lease, owner, durationMs, clock, logger } = this.options;
    const now = clock();
    try {
      const held = this.leader ? await lease.renew(owner, now, durationMs) : await lease.acquire(owner, now, durationMs);
      if (held) {
        this.confirmedUntil = now + durationMs;
        if (!this.leader) this.setLeader(true);
      } else if (this.leader) {
        logger.warn({ owner }, 'leader lease lost to another replica');
        this.setLeader(false);
      }
    } catch (error) {
      // Keep acting only while the last confirmed lease is certainly ours, minus one renewal period.
      if (this.leader && clock() >= this.confirmedUntil - this.options.renewEveryMs) {
        logger.warn({ err: errorMessage(error) }, 'cannot renew the leader lease; stepping down');
        this.setLeader(false);
      } else {
        logger.warn({ err: errorMessage(error) }, 'leader lease check failed; will retry');
      }
    }
  }

  private setLeader(value: boolean): void {
    this.leader = value;
    if (!value) this.confirmedUntil = 0;
    this.options.logger.info({ owner: this.options.owner, leader: value }, value ? 'became leader' : 'no longer leader');
    this.options.onChange(value);
  }
}
