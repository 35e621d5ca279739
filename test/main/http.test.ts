import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.js';
import { startOpsServer, type OpsServer } from '../../src/main/http.js';
import { Metrics } from '../../src/main/metrics.js';

let server: OpsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('operations endpoints', () => {
  it('serves /healthz, /readyz with named checks, and /metrics in Prometheus text format', async () => {
    const metrics = new Metrics();
    let storeOk = true;
    server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      metrics,
      logger: silentLogger(),
      readiness: {
        store: async () => ({ ok: storeOk, detail: storeOk ? 'reachable' : 'ECONNREFUSED' }),
        poll: async () => {
          throw new Error('poller never ran');
        },
      },
    });
    const base = `http://127.0.0.1:${server.port}`;

    const health = await fetch(`${base}/healthz`);
    expect([health.status, await health.text()]).toEqual([200, 'ok\n']);

    let ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({
      ready: false,
      checks: { store: { ok: true, detail: 'reachable' }, poll: { ok: false, detail: 'poller never ran' } },
    });
    storeOk = false;
    ready = await fetch(`${base}/readyz`);
    expect(((await ready.json()) as { checks: { store: { ok: boolean } } }).checks.store.ok).toBe(false);

    metrics.codedeployCalls.inc({ operation: 'ListDeployments' }, 3);
    metrics.notifications.inc({ channel_type: 'slack', outcome: 'sent' });
    metrics.leader.set(1);
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('codedeploy_notify_codedeploy_calls_total{operation="ListDeployments"} 3');
    expect(text).toContain('codedeploy_notify_notifications_total{channel_type="slack",outcome="sent"} 1');
    expect(text).toContain('codedeploy_notify_leader 1');
    expect(text).toContain('# TYPE codedeploy_notify_poll_duration_seconds histogram');
    expect(text).toContain('codedeploy_notify_process_resident_memory_bytes');

    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('all checks passing makes /readyz 200', async () => {
    server = await startOpsServer({ port: 0, host: '127.0.0.1', metrics: new Metrics({ processMetrics: false }), logger: silentLogger(), readiness: { store: async () => ({ ok: true, detail: 'ok' }) } });
    expect((await fetch(`http://127.0.0.1:${server.port}/readyz`)).status).toBe(200);
  });

  it('rejects when the port is taken', async () => {
    server = await startOpsServer({ port: 0, host: '127.0.0.1', metrics: new Metrics({ processMetrics: false }), logger: silentLogger(), readiness: {} });
    await expect(startOpsServer({ port: server.port, host: '127.0.0.1', metrics: new Metrics({ processMetrics: false }), logger: silentLogger(), readiness: {} })).rejects.toThrow(/EADDRINUSE/);
  });
});
