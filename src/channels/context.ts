import type { Logger } from 'pino';
import { createAwsClients, type AwsClientOptions } from './aws-clients.js';
import type { ChannelContext, HttpSender } from './channel.js';
import { createFetchSender } from './http.js';
import { EnvSecretResolver } from './secrets.js';

/** What the wiring (main/, local/, send-test) decides about channels. */
export interface ChannelContextOptions {
  logger: Logger;
  /** Region for SES, and for SNS topics whose ARN has none (the daemon's AWS region). */
  defaultRegion: string;
  /** Per-attempt timeout of one send, in milliseconds (default 10 000). */
  sendTimeoutMs?: number;
  /** Where secrets come from (default: process.env, read at every send). */
  env?: NodeJS.ProcessEnv;
  /** Replaces the fetch-based sender (local mode, tests). */
  http?: HttpSender;
  aws?: AwsClientOptions;
}

/**
 * The production ChannelContext: env secrets, the fetch sender, SNS/SES clients shared per region.
 * Call `destroy` at shutdown to close the AWS clients' keep-alive sockets.
 */
export function createChannelContext(options: ChannelContextOptions): ChannelContext & { destroy(): void } {
  const aws = createAwsClients(options.aws);
  return {
    secrets: new EnvSecretResolver(options.env ?? process.env),
    http: options.http ?? createFetchSender(),
    defaultRegion: options.defaultRegion,
    aws,
    logger: options.logger,
    sendTimeoutMs: options.sendTimeoutMs ?? 10_000,
    destroy: () => aws.destroy(),
  };
}
