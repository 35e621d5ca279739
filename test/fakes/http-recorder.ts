// A small real HTTP server for tests: listens on 127.0.0.1:0, records every request, and answers
// from a scriptable queue of responses (then a default). Used as the Slack, Teams, webhook and New
// Relic fake, and under the awsQuery SNS/SES fakes.
//
//   const fake = await startHttpRecorder();            // default answer: 200 "ok"
//   fake.respondWith({ status: 429, headers: { 'retry-after': '3' }, body: 'rate_limited' });
//   ... send to `${fake.url}/services/T0/B0/x` ...
//   expect(fake.requests[0].json()).toMatchObject({ text: ... });
//   await fake.close();
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the fake saw it. Header names are lower case. */
export interface RecordedRequest {
  method: string;
  /** Path plus query, as sent. */
  url: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON. */
  json<T = unknown>(): T;
  /** The body parsed as a form (awsQuery): key → value. */
  form(): Record<string, string>;
}

/** One scripted answer. `body` objects are sent as JSON. */
export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | object;
  /** Wait this long before answering (for timeout tests). */
  delayMs?: number;
  /** Drop the connection without answering (a network error for the client). */
  destroy?: boolean;
}

/** A scripted answer, or a function of the request that returns one. */
export type Responder = ScriptedResponse | ((request: RecordedRequest) => ScriptedResponse);

/** A running fake. */
export interface HttpRecorder {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Queues answers for the next requests, in order; after they are used, the default answers. */
  respondWith(...responses: Responder[]): void;
  /** Replaces the default answer (initially 200 with body "ok"). */
  setDefault(response: Responder): void;
  /** Forgets recorded requests and queued answers (the default stays). */
  reset(): void;
  /** Resolves once at least `count` requests have arrived (rejects after `timeoutMs`). */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Stops the server, dropping keep-alive connections. */
  close(): Promise<void>;
}

/** Starts a recorder on 127.0.0.1 and a free port. */
export async function startHttpRecorder(options: { default?: Responder } = {}): Promise<HttpRecorder> {
  const requests: RecordedRequest[] = [];
  const queue: Responder[] = [];
  let fallback: Responder = options.default ?? { status: 200, body: 'ok' };
  const waiters = new Set<() => void>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = record(req, Buffer.concat(chunks).toString('utf8'));
      requests.push(recorded);
      for (const wake of waiters) wake();
      const responder = queue.shift() ?? fallback;
      const answer = typeof responder === 'function' ? responder(recorded) : responder;
      const send = () => respond(req, res, answer);
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith: (...responses) => {
      queue.push(...responses);
    },
    setDefault: (response) => {
      fallback = response;
    },
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    waitForRequests: (count, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve([...requests]);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} requests, got ${requests.length} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function record(req: IncomingMessage, body: string): RecordedRequest {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  const url = req.url ?? '/';
  return {
    method: req.method ?? 'GET',
    url,
    path: url.split('?')[0] ?? '/',
    headers,
    body,
    json: <T>() => JSON.parse(body) as T,
    form: () => Object.fromEntries(new URLSearchParams(body)),
  };
}

function respond(req: IncomingMessage, res: ServerResponse, answer: ScriptedResponse): void {
  if (answer.destroy) {
    req.socket.destroy();
    return;
  }
  const isJson = typeof answer.body === 'object' && answer.body !== null;
  const body = answer.body === undefined ? '' : isJson ? JSON.stringify(answer.body) : String(answer.body);
  const headers: Record<string, string> = { 'content-type': isJson ? 'application/json' : 'text/plain; charset=utf-8', ...answer.headers };
  res.writeHead(answer.status ?? 200, headers);
  res.end(body);
}

/** A URL on 127.0.0.1 where nothing listens: requests to it fail with ECONNREFUSED. */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
