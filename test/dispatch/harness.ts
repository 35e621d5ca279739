// Wiring for dispatcher tests: a dynalite ledger table, the ledger, a real HTTP receiver
// (test/fakes/http-recorder.ts) and real channels from the registry (channels/registry.ts).
import type { ChannelConfig, ChannelContext } from '../../src/channels/channel.js';
import { createAwsClients, type DisposableAwsClients } from '../../src/channels/aws-clients.js';
import { createFetchSender } from '../../src/channels/http.js';
import { EnvSecretResolver } from '../../src/channels/secrets.js';
import { createChannel } from '../../src/channels/registry.js';
import { silentLogger } from '../../src/core/log.js';
import { Dispatcher, type ChannelProvider, type DispatcherOptions } from '../../src/dispatch/dispatcher.js';
import type { DynamoClients } from '../../src/store/dynamo.js';
import { DynamoLedger, type LedgerEntry } from '../../src/store/ledger.js';
import type { LiveRegistration } from '../../src/store/ports.js';
import { startHttpRecorder, type HttpRecorder } from '../fakes/http-recorder.js';
import { freshLedgerTable, makeRegistration, MemoryRegistrations } from './fixtures.js';

/** Name of the registration every harness starts with, and its channels. */
export const REGISTRATION = 'checkout-production';
export const SLACK_ENV = 'SLACK_WEBHOOK_CHECKOUT';

/** One test's world: tables, ledger, receiver, registrations, channel provider. */
export interface Harness {
  clients: DynamoClients;
  /** The ledger table name. */
  table: string;
  ledger: DynamoLedger;
  receiver: HttpRecorder;
  registrations: MemoryRegistrations;
  env: Record<string, string>;
  context: ChannelContext;
  channels: ChannelProvider;
  /** A dispatcher over this harness, with test-friendly defaults. */
  dispatcher(options?: Partial<DispatcherOptions>): Dispatcher;
  /** The ledger items of the given delivery ids (consistent reads). */
  entries(ids: readonly string[]): Promise<LedgerEntry[]>;
  close(): Promise<void>;
}

/**
 * Starts a harness: fresh tables on the running dynalite, a receiver, and a registration with a
 * `hook` webhook channel and a `team-slack` Slack channel both pointing at the receiver.
 */
export async function startHarness(options: { ledgerClock?: () => number } = {}): Promise<Harness> {
  const { clients, table } = await freshLedgerTable('disp');
  const receiver = await startHttpRecorder();
  const ledger = new DynamoLedger({ doc: clients.doc, table, ...(options.ledgerClock ? { clock: options.ledgerClock } : {}) });
  const env: Record<string, string> = { [SLACK_ENV]: `${receiver.url}/services/T000/B000/slack` };
  const registrations = new MemoryRegistrations([registrationFor(receiver)]);
  let aws: DisposableAwsClients | undefined;
  const context: ChannelContext = {
    secrets: new EnvSecretResolver(env),
    http: createFetchSender(),
    defaultRegion: 'us-east-1',
    get aws() {
      aws ??= createAwsClients({ maxAttempts: 1, requestTimeoutMs: 2_000 });
      return aws;
    },
    logger: silentLogger(),
    sendTimeoutMs: 3_000,
  };
  // Built the way the daemon builds them: the real registry, the real channels.
  const channels: ChannelProvider = (config: ChannelConfig) => createChannel(config, context);
  return {
    clients,
    table,
    ledger,
    receiver,
    registrations,
    env,
    context,
    channels,
    dispatcher: (overrides = {}) =>
      new Dispatcher({
        ledger,
        registrations,
        channels,
        leaseMs: 10_000,
        sendTimeoutMs: 3_000,
        concurrency: 4,
        maxClaimed: 4,
        maxRateWaitMs: 200,
        pollIntervalMs: 50,
        retry: { baseDelayMs: 100, maxDelayMs: 400, minDelayMs: 20 },
        ...(options.ledgerClock ? { clock: options.ledgerClock } : {}),
        ...overrides,
      }),
    entries: async (ids) => {
      const out: LedgerEntry[] = [];
      for (const id of ids) {
        const entry = await ledger.get(id);
        if (!entry) throw new Error(`no ledger item ${id}`);
        out.push(entry);
      }
      return out;
    },
    close: async () => {
      await receiver.close();
      aws?.destroy();
      clients.destroy();
    },
  };
}

/** The harness registration: webhook `hook` → /hook, Slack `team-slack` → the SLACK_ENV URL. */
export function registrationFor(receiver: HttpRecorder, version = 1): LiveRegistration {
  return makeRegistration(
    REGISTRATION,
    [
      { name: 'hook', type: 'webhook', url: `${receiver.url}/hook` },
      { name: 'team-slack', type: 'slack', webhookUrl: { fromEnv: SLACK_ENV } },
    ],
    version,
  );
}

/** Delivery ids the receiver saw, from the webhook's delivery header (Slack requests have none). */
export function deliveredIds(receiver: HttpRecorder): string[] {
  return receiver.requests.map((r) => r.headers['x-codedeploy-notify-delivery']).filter((id): id is string => id !== undefined);
}

/** Polls `check` until it returns true (every 20 ms, up to `timeoutMs`). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
