/**
 * The daemon's view of live registrations (the dispatcher's lookups and the poller's list): the list from a `RegistrationReader`, cached and
 * refreshed periodically and on a miss (a registration created a moment ago), so a send resolves
 * its registration and channel as they are now, not as they were when the event was enqueued.
 */
import { NotifyError, errorMessage } from '../core/errors.js';
import type { LiveRegistration, RegistrationReader } from '../store/ports.js';

/** Options of `RegistrationCache`. */
export interface RegistrationCacheOptions {
  /** Reload the list when it is older than this (ms). */
  refreshMs?: number;
  /** On a miss, reload when the list is older than this (ms); also the pause after a failed load. */
  missRefreshMs?: number;
  /** Epoch milliseconds. */
  clock?: () => number;
}

/** Options of `RegistrationCache.find`. */
export interface FindOptions {
  /** What the caller needs of the registration; a registration failing it counts as a miss. */
  accept?: (registration: LiveRegistration) => boolean;
  /** A miss is only final in a list read at or after this time (epoch ms). */
  notBefore?: number;
}

/** Thrown by `find` when the registrations cannot be read, so "removed" cannot be told apart from "unknown". */
export class RegistrationsUnavailableError extends NotifyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('registrations-unavailable', message, options);
  }
}

/**
 * A cached name → registration map over a `RegistrationReader`. Concurrent lookups share one load.
 * When a reload fails, the last good list keeps serving hits; a miss then throws
 * `RegistrationsUnavailableError` instead of claiming the registration was removed.
 */
export class RegistrationCache {
  private readonly reader: RegistrationReader;
  private readonly refreshMs: number;
  private readonly missRefreshMs: number;
  private readonly clock: () => number;
  private byName = new Map<string, LiveRegistration>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  /** When the last successful load started reading (epoch ms). */
  private readAt = Number.NEGATIVE_INFINITY;
  private failedAt = Number.NEGATIVE_INFINITY;
  private lastError: unknown;
  private lastLoadFailed = false;
  private loading: Promise<void> | undefined;

  constructor(reader: RegistrationReader, options: RegistrationCacheOptions = {}) {
    this.reader = reader;
    this.refreshMs = options.refreshMs ?? 30_000;
    this.missRefreshMs = options.missRefreshMs ?? 1_000;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * The live registration called `name`, or undefined when it does not exist (after a fresh enough
   * load). A registration that is missing, or found but failing `options.accept` (such as lacking
   * the channel a notification names), is looked up again in a new load when the list is older
   * than `missRefreshMs`, or was read before `options.notBefore` (epoch ms; the enqueue time of a
   * notification: a list read before it may predate the registration the poller saw). The result
   * is then returned as found; throws RegistrationsUnavailableError when it is still not accepted
   * and the registrations could not be read.
   */
  async find(name: string, options: FindOptions = {}): Promise<LiveRegistration | undefined> {
    const accepted = (): boolean => {
      const found = this.byName.get(name);
      return found !== undefined && (options.accept?.(found) ?? true);
    };
    const stale = (): boolean => this.age() >= this.missRefreshMs || (options.notBefore !== undefined && this.readAt < options.notBefore);
    if (this.age() >= this.refreshMs) await this.load();
    // twice at most: a load already in flight may have started before `notBefore`
    for (let loads = 0; loads < 2 && !accepted() && stale(); loads++) await this.load();
    if (!accepted() && this.lastLoadFailed) {
      throw new RegistrationsUnavailableError(`could not read the registrations to find "${name}": ${errorMessage(this.lastError)}`, { cause: this.lastError });
    }
    return this.byName.get(name);
  }

  /**
   * Every live registration, reloaded when the list is older than the refresh interval. Rejects
   * only when nothing was ever loaded; after a failed reload the last good list is served.
   */
  async all(): Promise<LiveRegistration[]> {
    if (this.age() >= this.refreshMs) await this.load();
    if (this.loadedAt === Number.NEGATIVE_INFINITY && this.lastLoadFailed) {
      throw new RegistrationsUnavailableError(`could not read the registrations: ${errorMessage(this.lastError)}`, { cause: this.lastError });
    }
    return [...this.byName.values()];
  }

  /**
   * Takes a list read elsewhere (the reconciler's scan) as a fresh load that started reading at
   * `readAt` (epoch ms), so the table is not scanned twice. Ignored while a load of the cache's
   * own is in flight, and when it is older than what the cache holds.
   */
  prime(list: readonly LiveRegistration[], readAt: number): void {
    if (this.loading || readAt < this.readAt) return;
    this.byName = new Map(list.map((r) => [r.name, r]));
    this.loadedAt = this.clock();
    this.readAt = readAt;
    this.lastLoadFailed = false;
  }

  /** Forgets the cached list; the next lookup loads it again. */
  invalidate(): void {
    this.loadedAt = Number.NEGATIVE_INFINITY;
    this.failedAt = Number.NEGATIVE_INFINITY;
  }

  private age(): number {
    return this.clock() - Math.max(this.loadedAt, this.failedAt);
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      const started = this.clock();
      try {
        const list = await this.reader.list();
        this.byName = new Map(list.map((r) => [r.name, r]));
        this.loadedAt = this.clock();
        this.readAt = started;
        this.lastLoadFailed = false;
      } catch (error) {
        this.lastLoadFailed = true;
        this.failedAt = this.clock();
        this.lastError = error;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}
