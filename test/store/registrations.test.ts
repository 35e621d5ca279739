import { Writable } from 'node:stream';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, StoreError } from '../../src/core/errors.js';
import { DynamoAuditTrail, type AuditEntry } from '../../src/store/audit.js';
import { createDynamoClients, type DynamoClients } from '../../src/store/dynamo.js';
import { DynamoRegistrationStore, MissingTableError } from '../../src/store/registrations.js';
import type { TableNames } from '../../src/store/tables.js';
import { freshTables, startDynalite, type LocalDynamo } from '../helpers/dynalite.js';
import { desired, spec } from '../plan/fixtures.js';

let dynamo: LocalDynamo;
let clients: DynamoClients;
let names: TableNames;
beforeAll(async () => {
  dynamo = await startDynalite();
  ({ clients, names } = await freshTables('reg'));
});
afterAll(async () => {
  clients.destroy();
  await dynamo.close();
});

const t0 = new Date('2026-03-01T10:00:00.000Z');
const t1 = new Date('2026-03-01T11:00:00.000Z');

describe('DynamoRegistrationStore', () => {
  it('creates once, updates and deletes only at the expected version, keeping createdAt', async () => {
    const store = new DynamoRegistrationStore(clients.doc, names.registrations);
    const item = desired('crud', { source: { file: 'registrations/crud.yaml', commit: 'abc123' } });
    const created = await store.create(item, t0);
    expect(created).toMatchObject({ name: 'crud', managedBy: 'git', version: 1, createdAt: t0.toISOString(), updatedAt: t0.toISOString() });
    await expect(store.create(item, t0)).rejects.toBeInstanceOf(ConflictError);

    const changed = { ...item, spec: spec({ events: ['Failed'] }) };
    await expect(store.update(changed, 7, t1)).rejects.toBeInstanceOf(ConflictError);
    const updated = await store.update(changed, 1, t1);
    expect(updated).toMatchObject({ version: 2, createdAt: t0.toISOString(), updatedAt: t1.toISOString(), spec: changed.spec, source: { file: 'registrations/crud.yaml', commit: 'abc123' } });
    expect(await store.get('crud')).toEqual(updated);

    await expect(store.remove('crud', 1)).rejects.toBeInstanceOf(ConflictError);
    await store.remove('crud', 2);
    expect(await store.get('crud')).toBeUndefined();
  });

  it('never updates or deletes an item managed by someone else', async () => {
    const store = new DynamoRegistrationStore(clients.doc, names.registrations);
    await clients.doc.send(new PutCommand({ TableName: names.registrations, Item: { name: 'foreign', managedBy: 'console', version: 1, spec: spec(), updatedAt: t0.toISOString() } }));
    await expect(store.update(desired('foreign'), 1, t1)).rejects.toThrow(/foreign .* changed since it was read/);
    await expect(store.remove('foreign', 1)).rejects.toBeInstanceOf(ConflictError);
    expect((await store.get('foreign'))?.managedBy).toBe('console');
  });

  it('takes over a hand-made managed item without a version only while it still has none', async () => {
    const store = new DynamoRegistrationStore(clients.doc, names.registrations);
    await clients.doc.send(new PutCommand({ TableName: names.registrations, Item: { name: 'no-version', managedBy: 'git', spec: {} } }));
    await expect(store.update(desired('no-version'), 1, t1)).rejects.toBeInstanceOf(ConflictError);
    const updated = await store.update(desired('no-version'), undefined, t1);
    expect(updated).toMatchObject({ version: 1, createdAt: t1.toISOString() });
  });

  it('scans every page and segment', async () => {
    const { clients: c, names: n } = await freshTables('scan');
    const big = 'x'.repeat(3900);
    await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        c.doc.send(new PutCommand({ TableName: n.registrations, Item: { name: `r-${String(i).padStart(3, '0')}`, managedBy: 'git', version: 1, spec: { application: big } } })),
      ),
    );
    for (const scanSegments of [1, 3]) {
      const items = await new DynamoRegistrationStore(c.doc, n.registrations, { scanSegments }).scan();
      expect(items.map((i) => i.name).sort()).toEqual(Array.from({ length: 300 }, (_, i) => `r-${String(i).padStart(3, '0')}`));
    }
    c.destroy();
  });

  it('lists valid registrations of any owner and skips unusable items with a warning', async () => {
    const { clients: c, names: n } = await freshTables('list');
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _e, cb) => (lines.push(String(chunk)), cb()) }));
    const scans: { names: string[]; readAt: number }[] = [];
    const onScan = (registrations: { name: string }[], readAt: number) => scans.push({ names: registrations.map((r) => r.name), readAt });
    const store = new DynamoRegistrationStore(c.doc, n.registrations, { logger, onScan, clock: () => 42 });
    await store.create(desired('b-managed'), t0);
    const put = (Item: Record<string, unknown>) => c.doc.send(new PutCommand({ TableName: n.registrations, Item }));
    await put({ name: 'a-terraform', managedBy: 'terraform', version: 3, spec: spec(), metadata: { owner: 'tf' }, updatedAt: t1.toISOString() });
    await put({ name: 'c-broken', managedBy: 'git', version: 1, spec: { application: 'x', channels: 'nope' }, createdAt: t0.toISOString() });
    await put({ name: 'd-no-times', managedBy: 'console', version: 1, spec: spec() });
    const listed = await store.list();
    expect(listed.map((r) => [r.name, r.managedBy, r.createdAt, r.version])).toEqual([
      ['a-terraform', 'terraform', t1.toISOString(), 3],
      ['b-managed', 'git', t0.toISOString(), 1],
    ]);
    expect(listed[1]).toMatchObject({ metadata: { owner: 'team-checkout' }, spec: spec(), source: { file: 'registrations/b-managed.yaml' } });
    const warnings = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warnings.map((w) => [w.registration, w.reason])).toEqual([
      ['c-broken', 'metadata or spec does not match the registration schema'],
      ['d-no-times', 'the item has neither createdAt nor updatedAt'],
    ]);
    expect(warnings[0]?.msg).toBe('skipping unusable live registration');
    // a scan (the reconciler's) hands the same registrations to onScan, with when its read started
    expect(scans).toEqual([]);
    expect((await store.scan()).map((i) => i.name)).toEqual(['a-terraform', 'b-managed', 'c-broken', 'd-no-times']);
    expect(scans).toEqual([{ names: ['a-terraform', 'b-managed'], readAt: 42 }]);
    c.destroy();
  });

  it('says to run init when the table does not exist', async () => {
    const store = new DynamoRegistrationStore(clients.doc, 'missing-registrations');
    await expect(store.scan()).rejects.toBeInstanceOf(MissingTableError);
    await expect(store.scan()).rejects.toThrow('DynamoDB table missing-registrations does not exist; run "codedeploy-notify init"');
  });

  it('turns an unreachable endpoint into one StoreError', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = 'http://127.0.0.1:9';
    const dead = createDynamoClients({ maxAttempts: 1, requestTimeoutMs: 1000 });
    const store = new DynamoRegistrationStore(dead.doc, 'x-registrations', { scanSegments: 1 });
    // the SDK reads the endpoint variable on the first request
    const error = await store.scan().catch((e: unknown) => e);
    process.env.AWS_ENDPOINT_URL_DYNAMODB = saved;
    dead.destroy();
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(/^DynamoDB scan on table x-registrations failed: /);
  });
});

describe('DynamoAuditTrail', () => {
  it('records batches and lists the newest first, dropping expired entries', async () => {
    const now = new Date('2026-06-01T00:00:00.000Z');
    const audit = new DynamoAuditTrail(clients.doc, names.state, { retentionDays: 90, now: () => now });
    const entry = (i: number, at: string): AuditEntry => ({
      at, action: 'update', name: `reg-${i}`, fields: [{ path: 'spec.events', before: ['Failed'], after: ['Failed', 'Stopped'] }],
      versionBefore: i, versionAfter: i + 1, commit: 'abc', file: `registrations/reg-${i}.yaml`, host: 'ci-runner', actor: 'apply',
    });
    const entries = Array.from({ length: 30 }, (_, i) => entry(i, new Date(Date.UTC(2026, 4, 1, 0, i)).toISOString()));
    entries.push(entry(99, '2026-01-01T00:00:00.000Z')); // older than 90 days at `now`
    await audit.record(entries);
    const recent = await audit.recentChanges(3);
    expect(recent.map((e) => e.name)).toEqual(['reg-29', 'reg-28', 'reg-27']);
    expect(recent[0]).toEqual(entries[29]);
    const all = await audit.recentChanges(100);
    expect(all).toHaveLength(30);
    expect(all.some((e) => e.name === 'reg-99')).toBe(false);
  });
});
