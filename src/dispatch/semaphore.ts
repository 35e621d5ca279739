/**
 * Small concurrency helpers for the dispatcher: a FIFO semaphore whose waits can be cancelled, and
 * a sleep that ends early on abort.
 */

/** A counting semaphore; waiters are served in arrival order. */
export class Semaphore {
  private available: number;
  private readonly waiters: { grant: () => void }[] = [];

  constructor(permits: number) {
    if (!(Number.isInteger(permits) && permits >= 1)) throw new RangeError(`semaphore permits must be a whole number of at least 1, got ${permits}`);
    this.available = permits;
  }

  /**
   * Takes a permit, waiting for one if none is free. Resolves true once taken, or false (nothing
   * taken) when `signal` aborts first.
   */
  acquire(signal?: AbortSignal): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    if (this.available > 0 && this.waiters.length === 0) {
      this.available -= 1;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Returns a permit, handing it straight to the longest waiter if there is one. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next.grant();
    else this.available += 1;
  }

  /** Permits free right now. */
  get free(): number {
    return this.available;
  }
}

/** Waits `ms`; resolves true when the time passed, false when `signal` aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
