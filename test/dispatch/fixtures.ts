import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import type { ChannelType } from '../../src/channels/channel.js';
import type { RegistrationSpec } from '../../src/config/registration.generated.js';
import { consoleUrl, deliveryId, type DeploymentEvent, type EventType } from '../../src/core/events.js';
import { createDynamoClients, type DynamoClients } from '../../src/store/dynamo.js';
import type { LiveRegistration, PendingNotification, RegistrationReader } from '../../src/store/ports.js';
import { tableDefinitions, tableNames } from '../../src/store/tables.js';
import { uniquePrefix } from '../helpers/dynalite.js';

/** A terminal deployment event for tests. */
export function makeEvent(deploymentId: string, type: EventType = 'Failed', overrides: Partial<DeploymentEvent> = {}): DeploymentEvent {
  return {
    type,
    deploymentId,
    application: 'checkout-service',
    deploymentGroup: 'production',
    status: type,
    region: 'us-east-1',
    creator: 'user',
    description: '',
    revision: { type: 'GitHub', repository: 'acme/checkout', commitId: '0123456789abcdef' },
    error: type === 'Failed' ? { code: 'HEALTH_CONSTRAINTS', message: 'too many failed instances' } : undefined,
    createTime: '2026-11-02T10:00:00.000Z',
    startTime: '2026-11-02T10:00:05.000Z',
    completeTime: '2026-11-02T10:03:10.000Z',
    durationSeconds: 185,
    occurredAt: '2026-11-02T10:03:10.000Z',
    consoleUrl: consoleUrl('us-east-1', deploymentId),
    ...overrides,
  };
}

/** A pending notification of `deploymentId` for one channel of one registration. */
export function makePending(deploymentId: string, registration = 'checkout-production', channelName = 'hook', channelType: ChannelType = 'webhook', type: EventType = 'Failed'): PendingNotification {
  return {
    deliveryId: deliveryId(deploymentId, type, registration, channelName),
    event: makeEvent(deploymentId, type),
    registration: { name: registration, owner: 'team-checkout' },
    channelName,
    channelType,
  };
}

/** A live registration with the given channels. */
export function makeRegistration(name: string, channels: RegistrationSpec['channels'], version = 1): LiveRegistration {
  return {
    name,
    metadata: { owner: 'team-checkout' },
    spec: { application: 'checkout-service', channels },
    managedBy: 'git',
    version,
    createdAt: '2026-11-01T00:00:00.000Z',
    updatedAt: '2026-11-01T00:00:00.000Z',
  };
}

/** A RegistrationReader over an array the test can change, counting list() calls. */
export class MemoryRegistrations implements RegistrationReader {
  calls = 0;
  failWith: Error | undefined;
  constructor(public items: LiveRegistration[]) {}
  async list(): Promise<LiveRegistration[]> {
    this.calls += 1;
    if (this.failWith) throw this.failWith;
    return structuredClone(this.items);
  }
}

/** A settable clock for the ledger and dispatcher (epoch ms). */
export class TestClock {
  constructor(public now = Date.UTC(2026, 10, 2, 10, 5)) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/**
 * Creates only the ledger table under a fresh prefix and waits (polling every 10 ms, not the SDK
 * waiter's 1 s) until it is active. Returns clients to destroy in teardown.
 */
export async function freshLedgerTable(label = 'ledger'): Promise<{ clients: DynamoClients; table: string }> {
  const names = tableNames(uniquePrefix(label));
  const clients = createDynamoClients({ maxAttempts: 1 });
  const definition = tableDefinitions(names).find((d) => d.TableName === names.ledger);
  if (!definition) throw new Error('no ledger table definition');
  await clients.client.send(new CreateTableCommand(definition));
  for (let i = 0; ; i++) {
    const { Table } = await clients.client.send(new DescribeTableCommand({ TableName: names.ledger }));
    if (Table?.TableStatus === 'ACTIVE' && (Table.GlobalSecondaryIndexes ?? []).every((g) => g.IndexStatus === 'ACTIVE')) break;
    if (i > 500) throw new Error(`ledger table ${names.ledger} did not become active`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { clients, table: names.ledger };
}
