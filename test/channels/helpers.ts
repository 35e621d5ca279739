// Shared test wiring for channel tests: a ChannelContext with real parts (env secrets, the fetch
// sender, real AWS SDK clients) and a silent logger.
import type { ChannelContext } from '../../src/channels/channel.js';
import { createAwsClients, type DisposableAwsClients } from '../../src/channels/aws-clients.js';
import { createFetchSender } from '../../src/channels/http.js';
import { EnvSecretResolver } from '../../src/channels/secrets.js';
import { silentLogger } from '../../src/core/log.js';

/** A test context: secrets from `env` only (never the process environment). */
export function testContext(options: { env?: Record<string, string>; aws?: DisposableAwsClients; sendTimeoutMs?: number } = {}): ChannelContext & { aws: DisposableAwsClients } {
  return {
    secrets: new EnvSecretResolver(options.env ?? {}),
    http: createFetchSender(),
    defaultRegion: 'us-east-1',
    aws: options.aws ?? createAwsClients({ maxAttempts: 1, requestTimeoutMs: 2_000 }),
    logger: silentLogger(),
    sendTimeoutMs: options.sendTimeoutMs ?? 3_000,
  };
}

/** A signal that is never aborted. */
export function liveSignal(): AbortSignal {
  return new AbortController().signal;
}

/** An already-aborted signal. */
export function abortedSignal(): AbortSignal {
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
}
