import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';
import type { Metrics } from './metrics.js';

/** One readiness check's result. */
export interface CheckResult {
  ok: boolean;
  detail: string;
}

/** Options of the operations HTTP listener. */
export interface HttpOptions {
  port: number;
  host?: string;
  metrics: Metrics;
  /** Named readiness checks; `/readyz` is 200 only when all pass. Each should answer quickly. */
  readiness: Record<string, () => Promise<CheckResult>>;
  logger: Logger;
}

/** A running listener. */
export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/healthz` (the process is alive: always 200), `/readyz` (200 when every readiness check
 * passes, else 503, with a JSON body naming each check) and `/metrics` (Prometheus text format).
 * Rejects when the port cannot be bound (the caller reports it as a usage error).
 */
export async function startOpsServer(options: HttpOptions): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    handle(req, res, options).catch((error: unknown) => {
      options.logger.error({ err: errorMessage(error), path: req.url }, 'ops endpoint failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HttpOptions): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  } else if (path === '/readyz') {
    const entries = await Promise.all(
      Object.entries(options.readiness).map(async ([name, check]) => {
        try {
          return [name, await check()] as const;
        } catch (error) {
          return [name, { ok: false, detail: errorMessage(error) }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const ok = entries.every(([, r]) => r.ok);
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify({ ready: ok, checks })}\n`);
  } else if (path === '/metrics') {
    const body = await options.metrics.text();
    res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(body);
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz, /readyz or /metrics\n');
  }
}
