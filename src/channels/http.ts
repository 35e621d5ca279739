import { NotifyError, errorMessage } from '../core/errors.js';
import { redactText, redactUrl } from '../util/redact.js';
import { VERSION } from '../version.js';
import type { DeliveryResult, HttpResponse, HttpSender } from './channel.js';

/** How a request failed before any HTTP response arrived. */
export type NetworkFailure = 'timeout' | 'aborted' | 'network';

/**
 * A request that got no HTTP response: connection refused or reset, DNS failure, TLS error, the
 * per-request timeout, or the caller's abort signal. Always worth retrying. The message names the
 * failure (such as `ECONNREFUSED`) and never the URL.
 */
export class HttpNetworkError extends NotifyError {
  readonly failure: NetworkFailure;
  constructor(failure: NetworkFailure, message: string, options?: { cause?: unknown }) {
    super('http-network', message, options);
    this.failure = failure;
  }
}

/** Options of the fetch-based sender. */
export interface FetchSenderOptions {
  /** At most this many bytes of a response body are read (default 64 KiB); the rest is dropped. */
  maxBodyBytes?: number;
  /** User-Agent header sent unless the request sets one. */
  userAgent?: string;
}

/** The default User-Agent of every HTTP channel request. */
export const USER_AGENT = `codedeploy-notify/${VERSION}`;

const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

/**
 * The one way out to HTTP, on Node 20's global fetch. Each request has its own timeout
 * (`init.timeoutMs`) on top of the caller's signal; redirects are not followed (a webhook URL
 * carries its token, and a redirect must not forward it elsewhere: a 3xx comes back as the
 * response); at most `maxBodyBytes` of the body are read. Rejects only with `HttpNetworkError`.
 */
export function createFetchSender(options: FetchSenderOptions = {}): HttpSender {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const userAgent = options.userAgent ?? USER_AGENT;
  return {
    async request(url, init) {
      const timeout = AbortSignal.timeout(init.timeoutMs);
      const signal = AbortSignal.any([init.signal, timeout]);
      const failure = (error: unknown): HttpNetworkError => {
        if (init.signal.aborted) return new HttpNetworkError('aborted', 'request aborted before a response arrived', { cause: error });
        if (timeout.aborted) return new HttpNetworkError('timeout', `no response within ${init.timeoutMs} ms`, { cause: error });
        return new HttpNetworkError('network', `network error: ${describeNetworkError(error)}`, { cause: error });
      };
      if (init.signal.aborted) throw failure(init.signal.reason);
      const headers = { 'user-agent': userAgent, ...lowerCaseKeys(init.headers) };
      let response: Response;
      try {
        response = await fetch(url, { method: init.method, headers, body: init.body, signal, redirect: 'manual' });
      } catch (error) {
        throw failure(error);
      }
      let body: string;
      try {
        body = await readBounded(response, maxBodyBytes);
      } catch (error) {
        throw failure(error);
      }
      const out: Record<string, string> = {};
      response.headers.forEach((value, key) => {
        out[key.toLowerCase()] = value;
      });
      return { status: response.status, headers: out, body };
    },
  };
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) out[key.toLowerCase()] = value;
  return out;
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = maxBytes - total;
      chunks.push(value.byteLength > room ? value.subarray(0, room) : value);
      total += Math.min(value.byteLength, room);
    }
  } finally {
    // Drop whatever is left (a huge or endless body) and free the socket.
    await reader.cancel().catch(() => undefined);
  }
  return new TextDecoder('utf-8').decode(Buffer.concat(chunks));
}

/** The system error code (ECONNREFUSED, ENOTFOUND, ...) or message of a fetch failure, without URLs. */
function describeNetworkError(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    current = (current as { cause?: unknown }).cause;
  }
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  return redactText(errorMessage(cause ?? error));
}

/**
 * Milliseconds to wait from a Retry-After header: delta-seconds (`120`) or an HTTP date. Undefined
 * when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Per-provider refinements of the shared HTTP classification. */
export interface HttpProviderHooks {
  /** Provider name used in reasons: "Slack", "Teams", "webhook", "New Relic". */
  provider: string;
  /**
   * Classifies a response before the generic rules (for example a 200 whose body reports an
   * error); return undefined to fall through to them.
   */
  classify?(response: HttpResponse, describe: (detail: string) => string): DeliveryResult | undefined;
  /** A sentence telling the operator how to fix a permanent failure, appended to its reason. */
  hint?(response: HttpResponse): string | undefined;
}

/** What a classification needs to know about the request, to write safe reasons. */
export interface HttpTarget {
  /** The URL the request went to: shown only as scheme + host. */
  url: string;
  /** Secret values used in the request (URL, tokens, header values): scrubbed from reasons. */
  secrets: readonly string[];
}

const MAX_DETAIL = 300;

/** A response body squeezed onto one short line, secrets scrubbed and URLs reduced to their origin. */
export function bodySnippet(body: string, secrets: readonly string[] = []): string {
  const oneLine = redactText(body, secrets).replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_DETAIL ? `${oneLine.slice(0, MAX_DETAIL)}…` : oneLine;
}

/**
 * Turns an HTTP response into a DeliveryResult, in one place for every HTTP channel:
 * provider hook first, then 2xx → sent; 429 → retry (with Retry-After); 5xx and 408 → retry
 * (Retry-After honoured when present); 3xx → failed (redirects are not followed; fix the URL);
 * any other 4xx → failed with the body's first 300 characters. Reasons name the provider and the
 * target as scheme + host only, with every secret scrubbed.
 */
export function classifyHttpResponse(response: HttpResponse, hooks: HttpProviderHooks, target: HttpTarget): DeliveryResult {
  const where = `${hooks.provider} (${redactUrl(target.url)})`;
  const describe = (detail: string): string => `${where} answered ${response.status}${detail ? `: ${redactText(detail, target.secrets)}` : ''}`;
  const hooked = hooks.classify?.(response, describe);
  if (hooked) return hooked;
  const { status } = response;
  const snippet = bodySnippet(response.body, target.secrets);
  if (status >= 200 && status < 300) return { outcome: 'sent' };
  if (status === 429 || status === 408 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
    return { outcome: 'retry', reason: describe(snippet), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  if (status >= 300 && status < 400) {
    return { outcome: 'failed', reason: `${describe('')} redirect (not followed, so the URL's token stays private): point the channel at the final URL` };
  }
  if (status >= 400 && status < 500) {
    const hint = hooks.hint?.(response);
    return { outcome: 'failed', reason: `${describe(snippet)}${hint ? ` (${hint})` : ''}` };
  }
  return { outcome: 'retry', reason: describe(snippet) };
}

/** A request that got no response (see HttpNetworkError) is retried; the reason says why. */
export function classifyRequestError(error: unknown, provider: string, target: HttpTarget): DeliveryResult {
  const detail = error instanceof HttpNetworkError ? error.message : `unexpected error: ${errorMessage(error)}`;
  return { outcome: 'retry', reason: `${provider} (${redactUrl(target.url)}): ${redactText(detail, target.secrets)}` };
}

/** One JSON POST through the context's sender, classified. Never throws. */
export async function postJson(
  http: HttpSender,
  request: { url: string; headers?: Record<string, string>; body: string; signal: AbortSignal; timeoutMs: number },
  hooks: HttpProviderHooks,
  secrets: readonly string[],
): Promise<DeliveryResult> {
  const target = { url: request.url, secrets };
  let response: HttpResponse;
  try {
    response = await http.request(request.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...request.headers },
      body: request.body,
      signal: request.signal,
      timeoutMs: request.timeoutMs,
    });
  } catch (error) {
    return classifyRequestError(error, hooks.provider, target);
  }
  return classifyHttpResponse(response, hooks, target);
}
