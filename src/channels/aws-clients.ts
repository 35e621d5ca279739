import { SESClient } from '@aws-sdk/client-ses';
import { SNSClient } from '@aws-sdk/client-sns';
import { errorMessage } from '../core/errors.js';
import type { AwsClients, DeliveryResult } from './channel.js';

/** Options of the shared SNS/SES clients. */
export interface AwsClientOptions {
  /**
   * SDK attempts per call (default 2). The dispatcher retries with backoff on its own, so the SDK
   * only smooths over a single blip instead of multiplying the retries.
   */
  maxAttempts?: number;
  /** Per-request timeout in milliseconds (default 10 000); the SDK has none by default. */
  requestTimeoutMs?: number;
}

/** AwsClients that can be torn down (keep-alive sockets) at shutdown. */
export interface DisposableAwsClients extends AwsClients {
  destroy(): void;
}

/**
 * SNS and SES clients, created on first use per region and shared by every channel. No explicit
 * endpoint: AWS_ENDPOINT_URL_SNS / AWS_ENDPOINT_URL_SES (or AWS_ENDPOINT_URL) win, as SPEC asks.
 * Credentials come from the default chain.
 */
export function createAwsClients(options: AwsClientOptions = {}): DisposableAwsClients {
  const config = (region: string) => ({
    region,
    maxAttempts: options.maxAttempts ?? 2,
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 10_000, throwOnRequestTimeout: true },
  });
  const sns = new Map<string, SNSClient>();
  const ses = new Map<string, SESClient>();
  return {
    sns(region) {
      let client = sns.get(region);
      if (!client) sns.set(region, (client = new SNSClient(config(region))));
      return client;
    },
    ses(region) {
      let client = ses.get(region);
      if (!client) ses.set(region, (client = new SESClient(config(region))));
      return client;
    },
    destroy() {
      for (const client of sns.values()) client.destroy();
      for (const client of ses.values()) client.destroy();
      sns.clear();
      ses.clear();
    },
  };
}

/** The region of an SNS topic ARN (`arn:aws:sns:eu-west-1:123456789012:deploys` → `eu-west-1`). */
export function regionFromTopicArn(topicArn: string): string | undefined {
  const region = topicArn.split(':')[3];
  return region ? region : undefined;
}

/** An AWS SDK error as the channels see it. */
interface SdkErrorShape {
  name?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

/** Error names that mean "slow down" on SNS/SES (any casing of the awsQuery codes, with or without the Exception suffix). */
const THROTTLING = /^(Throttl(ed|ing)|TooManyRequests|RequestLimitExceeded|SlowDown|RequestThrottled)(Exception)?$/i;

/**
 * Classifies an error thrown by an SNS or SES call. Retry: throttling, 5xx and server faults,
 * timeouts, network errors, aborts. Failed: any other client-side error named by AWS (NotFound,
 * AuthorizationError, InvalidParameter, MessageRejected, ...). `describe` receives the error's name
 * and message and writes the reason (adding the object it was about and how to fix it).
 */
export function classifyAwsError(error: unknown, describe: (name: string, message: string) => string): DeliveryResult {
  const e = (error ?? {}) as SdkErrorShape;
  const name = e.name ?? 'Error';
  const message = errorMessage(error);
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING.test(name)) return { outcome: 'retry', reason: describe(name, message) };
  if (name === 'AbortError' || name === 'TimeoutError' || name === 'RequestTimeout') {
    return { outcome: 'retry', reason: describe(name, message || 'request timed out or was aborted') };
  }
  if (status === undefined) {
    // No HTTP response at all: connection refused, DNS, TLS, socket reset.
    const code = (error as { code?: unknown } | undefined)?.code;
    return { outcome: 'retry', reason: describe(typeof code === 'string' ? code : name, message) };
  }
  if (status >= 500 || e.$fault === 'server') return { outcome: 'retry', reason: describe(name, message) };
  return { outcome: 'failed', reason: describe(name, message) };
}
