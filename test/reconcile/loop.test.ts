import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/core/errors.js';
import { ReconcileLoop, type ReconcileLoopOptions, type ReconcileOutcome } from '../../src/reconcile/loop.js';
import type { AppliedChange } from '../../src/reconcile/apply.js';
import { MemoryAuditTrail } from '../../src/store/audit.js';
import type { DynamoClients } from '../../src/store/dynamo.js';
import { DynamoRegistrationStore, type RegistrationStore } from '../../src/store/registrations.js';
import { freshTables, startDynalite, type LocalDynamo } from '../helpers/dynalite.js';
import { makeTemp, registrationYaml, removeTemp, writeFiles } from './helpers.js';

let dynamo: LocalDynamo;
const cleanup: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  dynamo = await startDynalite();
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});
afterAll(async () => dynamo.close());

/** Longest a test waits for the loop to react; generous for a busy 2-core machine (typical: ~0.3 s, see bench). */
const REACT_MS = 2_000;

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = REACT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Harness {
  dir: string;
  clients: DynamoClients;
  store: DynamoRegistrationStore;
  loop: ReconcileLoop;
  outcomes: ReconcileOutcome[];
  drift: AppliedChange[][];
  logs: Array<Record<string, unknown>>;
  audit: MemoryAuditTrail;
  applications(): Promise<Record<string, unknown>>;
}

async function harness(label: string, files: Record<string, string>, options: Partial<ReconcileLoopOptions> = {}): Promise<Harness> {
  const dir = await makeTemp(label);
  await writeFiles(dir, files);
  const { clients, names } = await freshTables(label);
  const store = new DynamoRegistrationStore(clients.doc, names.registrations);
  const outcomes: ReconcileOutcome[] = [];
  const drift: AppliedChange[][] = [];
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _e, cb) => (logs.push(JSON.parse(String(chunk)) as Record<string, unknown>), cb()) }));
  const audit = new MemoryAuditTrail();
  const loop = new ReconcileLoop({
    dir,
    store,
    logger,
    resyncIntervalMs: 60_000,
    debounceMs: 150,
    git: false,
    apply: { audit },
    observer: { reconciled: (o) => outcomes.push(o), driftCorrected: (c) => drift.push(c) },
    ...options,
  });
  cleanup.push(() => removeTemp(dir), () => clients.destroy(), () => loop.stop());
  const applications = async () => Object.fromEntries((await store.scan()).map((i) => [i.name, (i.spec as { application?: string }).application]));
  return { dir, clients, store, loop, outcomes, drift, logs, audit, applications };
}

describe('ReconcileLoop', () => {
  it('applies on start (once, however often start is called) and reacts to add, change, delete and atomic rename', async () => {
    const h = await harness('watch', { 'a.yaml': registrationYaml('alpha'), 'nested/b.yml': registrationYaml('beta') });
    await Promise.all([h.loop.start(), h.loop.start()]);
    await h.loop.start();
    expect(h.outcomes.map((o) => [o.trigger, o.status, o.applied.length])).toEqual([['initial', 'applied', 2]]);
    expect(await h.applications()).toEqual({ alpha: 'alpha-app', beta: 'beta-app' });

    await writeFiles(h.dir, { 'c.yaml': registrationYaml('gamma') });
    await waitFor(async () => (await h.applications()).gamma === 'gamma-app', 'the added file');

    await writeFiles(h.dir, { 'a.yaml': registrationYaml('alpha', { application: 'alpha-v2' }) });
    await waitFor(async () => (await h.applications()).alpha === 'alpha-v2', 'the changed file');

    await rm(path.join(h.dir, 'nested/b.yml'));
    await waitFor(async () => !('beta' in (await h.applications())), 'the deleted file');

    // how editors save: write a temporary file beside it, then rename it over the original
    await writeFile(path.join(h.dir, '.a.yaml.swp'), 'garbage: [');
    await writeFile(path.join(h.dir, 'a.yaml.tmp'), registrationYaml('alpha', { application: 'alpha-v3' }));
    await rename(path.join(h.dir, 'a.yaml.tmp'), path.join(h.dir, 'a.yaml'));
    await waitFor(async () => (await h.applications()).alpha === 'alpha-v3', 'the atomic rename');

    expect(await h.applications()).toEqual({ alpha: 'alpha-v3', gamma: 'gamma-app' });
    expect(h.outcomes.every((o) => o.status === 'applied' || o.status === 'in-sync')).toBe(true);
    expect(h.outcomes.filter((o) => o.trigger === 'watch').length).toBeGreaterThanOrEqual(4);
    expect(h.audit.entries.map((e) => e.actor)).not.toContain('drift');
  });

  it('follows a Kubernetes ConfigMap volume update (symlinked ..data swapped atomically)', async () => {
    const h = await harness('configmap', {});
    const { mkdir, symlink } = await import('node:fs/promises');
    await mkdir(path.join(h.dir, '..v1'));
    await writeFile(path.join(h.dir, '..v1', 'a.yaml'), registrationYaml('alpha'));
    await symlink('..v1', path.join(h.dir, '..data'));
    await symlink('..data/a.yaml', path.join(h.dir, 'a.yaml'));
    await h.loop.start();
    expect(await h.applications()).toEqual({ alpha: 'alpha-app' });
    // what the kubelet's atomic writer does on an update
    await mkdir(path.join(h.dir, '..v2'));
    await writeFile(path.join(h.dir, '..v2', 'a.yaml'), registrationYaml('alpha', { application: 'alpha-v2' }));
    await symlink('..v2', path.join(h.dir, '..data_tmp'));
    await rename(path.join(h.dir, '..data_tmp'), path.join(h.dir, '..data'));
    await rm(path.join(h.dir, '..v1'), { recursive: true });
    await waitFor(async () => (await h.applications()).alpha === 'alpha-v2' || undefined, 'the ConfigMap update');
  });

  it('restores drift on resync and logs the field diff, leaving unmanaged items alone', async () => {
    const h = await harness('drift', { 'a.yaml': registrationYaml('alpha'), 'b.yaml': registrationYaml('beta') }, { resyncIntervalMs: 200, watch: false });
    await h.loop.start();
    const table = h.store.table;
    await h.clients.doc.send(
      new UpdateCommand({ TableName: table, Key: { name: 'alpha' }, UpdateExpression: 'SET #spec.application = :hacked', ExpressionAttributeNames: { '#spec': 'spec' }, ExpressionAttributeValues: { ':hacked': 'hand-edited' } }),
    );
    await h.clients.doc.send(new DeleteCommand({ TableName: table, Key: { name: 'beta' } }));
    await h.clients.doc.send(new PutCommand({ TableName: table, Item: { name: 'by-hand', managedBy: 'console', version: 1, spec: {} } }));

    await waitFor(() => h.drift.flat().length >= 2 || undefined, 'drift to be corrected');
    expect(await h.applications()).toEqual({ alpha: 'alpha-app', beta: 'beta-app', 'by-hand': undefined });
    const corrected = h.drift.flat().sort((x, y) => x.name.localeCompare(y.name));
    expect(corrected.map((c) => [c.action, c.name])).toEqual([['update', 'alpha'], ['create', 'beta']]);
    expect(corrected[0]?.fields).toEqual([{ path: 'spec.application', before: 'hand-edited', after: 'alpha-app' }]);
    const logged = h.logs.filter((l) => l.msg === 'drift corrected: live registration restored to the files');
    expect(logged.map((l) => [l.level, l.registration, l.trigger]).sort()).toEqual([[40, 'alpha', 'resync'], [40, 'beta', 'resync']]);
    expect(logged.find((l) => l.registration === 'alpha')?.changes).toEqual([{ path: 'spec.application', before: 'hand-edited', after: 'alpha-app' }]);
    expect(h.audit.entries.filter((e) => e.actor === 'drift').map((e) => e.name).sort()).toEqual(['alpha', 'beta']);
  });

  it('keeps the last good live state while files are invalid, exposes the issues, and recovers', async () => {
    const h = await harness('invalid', { 'a.yaml': registrationYaml('alpha'), 'b.yaml': registrationYaml('beta') }, { resyncIntervalMs: 150 });
    await h.loop.start();
    await writeFiles(h.dir, { 'b.yaml': 'apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata: { name: beta }\nspec: { application: 42 }\n', 'a.yaml': registrationYaml('alpha', { application: 'changed' }) });
    await waitFor(() => h.loop.lastOutcome?.status === 'invalid' || undefined, 'the invalid outcome');
    // several resyncs later nothing has been written or deleted
    const seen = h.outcomes.length;
    await waitFor(() => h.outcomes.length >= seen + 2 || undefined, 'two more resyncs');
    expect(h.outcomes.slice(-2).map((o) => o.status)).toEqual(['invalid', 'invalid']);
    expect(await h.applications()).toEqual({ alpha: 'alpha-app', beta: 'beta-app' });
    expect(h.loop.issues.some((i) => i.severity === 'error' && i.file.endsWith('b.yaml'))).toBe(true);
    expect(h.logs.some((l) => l.msg === 'registration files are invalid; keeping the last good live state' && l.level === 50)).toBe(true);

    await writeFiles(h.dir, { 'b.yaml': registrationYaml('beta', { application: 'beta-fixed' }) });
    await waitFor(async () => (await h.applications()).beta === 'beta-fixed' || undefined, 'recovery');
    expect(await h.applications()).toEqual({ alpha: 'changed', beta: 'beta-fixed' });
    expect(h.loop.issues).toEqual([]);
  });

  it('counts valid and invalid registrations separately when one file turns invalid (the valid one is not reported invalid)', async () => {
    const counts: Array<{ valid: number; documents: number }> = [];
    const h = await harness('counts', { 'a.yaml': registrationYaml('alpha'), 'b.yaml': registrationYaml('beta') }, { observer: { registrations: (c) => counts.push(c) } });
    await h.loop.start();
    expect(counts.at(-1)).toMatchObject({ valid: 2, documents: 2 });
    await writeFiles(h.dir, { 'b.yaml': 'apiVersion: codedeploy-notify/v1\nkind: Registration\nmetadata: { name: beta }\nspec: { application: 42 }\n' });
    await waitFor(() => h.loop.lastOutcome?.status === 'invalid' || undefined, 'the invalid outcome');
    // nothing is applied while a file is invalid, but alpha itself is still valid
    expect(counts.at(-1)).toMatchObject({ valid: 1, documents: 2 });
  });

  it('refuses to empty the table when every file disappears', async () => {
    const h = await harness('empty', { 'a.yaml': registrationYaml('alpha') });
    await h.loop.start();
    await rm(path.join(h.dir, 'a.yaml'));
    await waitFor(() => h.loop.lastOutcome?.status === 'refused' || undefined, 'the refusal');
    expect(h.loop.lastOutcome?.message).toMatch(/^the desired set is empty: refusing to delete all 1 managed registration/);
    expect(await h.applications()).toEqual({ alpha: 'alpha-app' });
  });

  it('retries with backoff when the store fails, then converges', async () => {
    const h = await harness('retry', { 'a.yaml': registrationYaml('alpha') }, { watch: false, maxBackoffMs: 50 });
    let failuresLeft = 2;
    const flaky: RegistrationStore = {
      table: h.store.table,
      scan: async () => {
        if (failuresLeft-- > 0) throw new StoreError('DynamoDB scan on table t failed: connect ECONNREFUSED');
        return h.store.scan();
      },
      list: () => h.store.list(),
      get: (name) => h.store.get(name),
      create: (item, now) => h.store.create(item, now),
      update: (item, version, now) => h.store.update(item, version, now),
      remove: (name, version) => h.store.remove(name, version),
    };
    const loop = new ReconcileLoop({ dir: h.dir, store: flaky, logger: pino({ level: 'silent' }), resyncIntervalMs: 60_000, watch: false, git: false, maxBackoffMs: 50, observer: { reconciled: (o) => h.outcomes.push(o) } });
    cleanup.push(() => loop.stop());
    await loop.start();
    await waitFor(() => loop.lastOutcome?.status === 'applied' || undefined, 'convergence after retries');
    expect(h.outcomes.map((o) => [o.trigger, o.status])).toEqual([['initial', 'error'], ['retry', 'error'], ['retry', 'applied']]);
    expect(h.outcomes[0]?.message).toBe('DynamoDB scan on table t failed: connect ECONNREFUSED');
  });

  it('stop cuts an in-flight apply short: started writes finish, no new ones begin', async () => {
    const files = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`r${i}.yaml`, registrationYaml(`r${i}`)]));
    const h = await harness('abort', files, { watch: false });
    let writes = 0;
    const slow: RegistrationStore = {
      table: h.store.table,
      scan: () => h.store.scan(),
      list: () => h.store.list(),
      get: (name) => h.store.get(name),
      create: async (item, now) => {
        writes += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return h.store.create(item, now);
      },
      update: (item, version, now) => h.store.update(item, version, now),
      remove: (name, version) => h.store.remove(name, version),
    };
    const outcomes: ReconcileOutcome[] = [];
    const loop = new ReconcileLoop({ dir: h.dir, store: slow, logger: pino({ level: 'silent' }), resyncIntervalMs: 60_000, watch: false, git: false, observer: { reconciled: (o) => outcomes.push(o) } });
    const starting = loop.start();
    await waitFor(() => writes > 0 || undefined, 'the first write');
    await loop.stop();
    await starting;
    expect(outcomes.map((o) => o.status)).toEqual(['incomplete']);
    const live = (await h.store.scan()).length;
    expect(live).toBe(writes);
    expect(live).toBeLessThan(200);
  });

  it('does nothing after stop, and stop is idempotent', async () => {
    const h = await harness('stop', { 'a.yaml': registrationYaml('alpha') }, { resyncIntervalMs: 50 });
    await h.loop.start();
    await Promise.all([h.loop.stop(), h.loop.stop()]);
    expect(h.loop.active).toBe(false);
    const count = h.outcomes.length;
    await writeFiles(h.dir, { 'b.yaml': registrationYaml('beta') });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(h.outcomes).toHaveLength(count);
    expect(await h.applications()).toEqual({ alpha: 'alpha-app' });
    // and it can start again, picking up what changed meanwhile
    await h.loop.start();
    expect(await h.applications()).toEqual({ alpha: 'alpha-app', beta: 'beta-app' });
  });
});
