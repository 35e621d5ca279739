// A dispatcher in its own process, for the SIGKILL test (test/dispatch/crash.test.ts). Runs the
// BUILT code (dist/, `npm run build`), sends to HOOK_URL through the real webhook channel, uses
// the ledger table LEDGER_TABLE on the dynalite at AWS_ENDPOINT_URL_DYNAMODB, and prints "ready".
const dist = (p) => new URL(`../../dist/${p}`, import.meta.url).href;
const { createDynamoClients } = await import(dist('store/dynamo.js'));
const { DynamoLedger } = await import(dist('store/ledger.js'));
const { Dispatcher } = await import(dist('dispatch/dispatcher.js'));
const { createChannel } = await import(dist('channels/registry.js'));
const { createFetchSender } = await import(dist('channels/http.js'));
const { EnvSecretResolver } = await import(dist('channels/secrets.js'));
const { createAwsClients } = await import(dist('channels/aws-clients.js'));
const { silentLogger } = await import(dist('core/log.js'));

const { LEDGER_TABLE, HOOK_URL, REGISTRATION } = process.env;
const clients = createDynamoClients({ maxAttempts: 1 });
const context = { secrets: new EnvSecretResolver({}), http: createFetchSender(), defaultRegion: 'us-east-1', aws: createAwsClients(), logger: silentLogger(), sendTimeoutMs: 1_000 };
const registration = {
  name: REGISTRATION,
  metadata: {},
  spec: { application: 'checkout-service', channels: [{ name: 'hook', type: 'webhook', url: HOOK_URL }] },
  version: 1,
  createdAt: '2026-11-01T00:00:00.000Z',
  updatedAt: '2026-11-01T00:00:00.000Z',
};
const dispatcher = new Dispatcher({
  ledger: new DynamoLedger({ doc: clients.doc, table: LEDGER_TABLE }),
  registrations: { list: async () => [registration] },
  channels: (config) => createChannel(config, context),
  owner: 'child',
  leaseMs: 1_500,
  sendTimeoutMs: 1_000,
  concurrency: 1,
  maxClaimed: 1,
  maxRateWaitMs: 0,
  pollIntervalMs: 50,
});
dispatcher.start();
console.log('ready');
