import type { Channel, RegistrationSpec } from '../../src/config/registration.generated.js';
import type { LiveRegistration, NotificationSink, PendingNotification } from '../../src/store/ports.js';

/** A live registration with one webhook channel hearing every event, unless told otherwise. */
export function liveRegistration(
  name: string,
  spec: Partial<RegistrationSpec> & { application: string },
  options: { createdAt?: number | string; owner?: string; labels?: Record<string, string> } = {},
): LiveRegistration {
  const channels: Channel[] = spec.channels ?? [
    { name: 'hook', type: 'webhook', url: 'https://hooks.example.com/deploys', events: ['Started', 'Ready', 'Succeeded', 'Failed', 'Stopped'] },
  ];
  const createdAt = options.createdAt === undefined ? '2000-01-01T00:00:00.000Z' : typeof options.createdAt === 'number' ? new Date(options.createdAt).toISOString() : options.createdAt;
  return {
    name,
    metadata: { ...(options.owner ? { owner: options.owner } : {}), ...(options.labels ? { labels: options.labels } : {}) },
    spec: { ...spec, channels },
    managedBy: 'git',
    version: 1,
    createdAt,
    updatedAt: createdAt,
  };
}

/** An in-memory NotificationSink that records every batch and can be told to fail. */
export class MemorySink implements NotificationSink {
  readonly batches: PendingNotification[][] = [];
  /** Number of upcoming enqueue calls that throw. */
  failNext = 0;
  /** Every notification ever enqueued, by deliveryId (enqueue is idempotent per deliveryId). */
  readonly byId = new Map<string, PendingNotification>();

  async enqueue(items: readonly PendingNotification[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error('ledger unavailable (injected)');
    }
    this.batches.push([...items]);
    for (const item of items) if (!this.byId.has(item.deliveryId)) this.byId.set(item.deliveryId, item);
  }

  /** Every enqueued item in order, repeats included. */
  all(): PendingNotification[] {
    return this.batches.flat();
  }

  /** `deploymentId:type:registration/channel` for each distinct delivery, sorted. */
  keys(): string[] {
    return [...this.byId.values()].map((n) => `${n.event.deploymentId}:${n.event.type}:${n.registration.name}/${n.channelName}`).sort();
  }
}

/** A clock the test moves by hand. */
export class TestClock {
  constructor(public ms: number) {}
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}
