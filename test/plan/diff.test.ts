import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deepEqual, desiredFromLoaded, diff, fieldChanges, formatPath, planItem, summarize } from '../../src/plan/diff.js';
import type { DesiredItem, LiveItem, Plan } from '../../src/plan/types.js';
import { desired, liveOf, spec } from './fixtures.js';

describe('diff', () => {
  it('sorts creates, updates, deletes, unchanged and unmanaged by name', () => {
    const same = desired('b-same');
    const changed = desired('c-changed', { spec: spec({ events: ['Failed'] }) });
    const plan = diff(
      [desired('d-new'), same, changed, desired('a-new')],
      [liveOf(same, 3), liveOf(desired('c-changed'), 7), liveOf(desired('e-gone'), 2), { name: 'f-console', managedBy: 'console', version: 1, spec: {} }, { name: '0-nobody', version: 4 }],
    );
    expect(plan.changes.map((c) => [c.action, c.name, c.expectedVersion])).toEqual([
      ['create', 'a-new', undefined],
      ['update', 'c-changed', 7],
      ['create', 'd-new', undefined],
      ['delete', 'e-gone', 2],
    ]);
    expect(plan.unchanged).toEqual(['b-same']);
    expect(plan.unmanaged).toEqual([{ name: '0-nobody' }, { name: 'f-console', managedBy: 'console' }]);
    expect(summarize(plan)).toEqual({ create: 2, update: 1, delete: 1, unchanged: 1, unmanaged: 2 });
  });

  it('lists exactly the changed fields, matching channels by name', () => {
    const before = desired('x', { metadata: { owner: 'team-a', labels: { tier: 'critical', 'app.kubernetes.io/name': 'x' } } });
    const after = desired('x', {
      metadata: { labels: { tier: 'low', 'app.kubernetes.io/name': 'x' } },
      spec: {
        application: 'checkout-service',
        events: ['Succeeded', 'Failed', 'Stopped'],
        channels: [
          { name: 'owners', type: 'email', from: 'deploys@example.com', to: ['team@example.com', 'ops@example.com'] },
          { name: 'apm', type: 'newrelic', entityGuid: 'MXxBUE18QVBQ', apiKey: { fromEnv: 'NR_KEY' } },
        ],
      },
    });
    const plan = diff([after], [liveOf(before, 5)]);
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]?.fields).toEqual([
      { path: 'metadata.labels.tier', before: 'critical', after: 'low' },
      { path: 'metadata.owner', before: 'team-a' },
      { path: 'spec.channels[apm]', after: { name: 'apm', type: 'newrelic', entityGuid: 'MXxBUE18QVBQ', apiKey: { fromEnv: 'NR_KEY' } } },
      { path: 'spec.channels[owners].to', before: ['team@example.com'], after: ['team@example.com', 'ops@example.com'] },
      {
        path: 'spec.channels[team-slack]',
        before: { name: 'team-slack', type: 'slack', webhookUrl: { fromEnv: 'SLACK_WEBHOOK_CHECKOUT' }, events: ['Failed', 'Stopped'] },
      },
    ]);
  });

  it('reports a reordering of channels as its own entry', () => {
    const a = desired('x');
    const channels = [...a.spec.channels].reverse();
    const plan = diff([desired('x', { spec: spec({ channels }) })], [liveOf(a)]);
    expect(plan.changes[0]?.fields).toEqual([{ path: 'spec.channels (order)', before: ['team-slack', 'owners'], after: ['owners', 'team-slack'] }]);
  });

  it('ignores key order, undefined members and provenance', () => {
    const item = desired('x');
    const live = liveOf(item, 2);
    live.spec = Object.fromEntries(Object.entries(live.spec as object).reverse());
    live.source = { file: 'elsewhere/x.yaml', commit: 'abc' };
    const moved = { ...item, metadata: { owner: 'team-checkout', labels: undefined }, source: { file: 'other.yaml', commit: 'def' } };
    expect(diff([moved], [live])).toEqual({ changes: [], unchanged: ['x'], unmanaged: [] });
  });

  it('never takes over an unmanaged item a file wants, and names the file', () => {
    const plan = diff([desired('taken')], [{ name: 'taken', managedBy: 'terraform', version: 9, spec: {} }]);
    expect(plan.changes).toEqual([]);
    expect(plan.unmanaged).toEqual([{ name: 'taken', managedBy: 'terraform', desiredFile: 'registrations/taken.yaml' }]);
  });

  it('updates a hand-made managed item without a version or metadata, conditional on no version', () => {
    const live: LiveItem = { name: 'x', managedBy: 'git', spec: spec() };
    const result = planItem(desired('x'), live);
    expect(result.kind).toBe('change');
    if (result.kind !== 'change') return;
    expect(result.change.expectedVersion).toBeUndefined();
    expect(result.change.fields).toEqual([{ path: 'metadata.owner', after: 'team-checkout' }]);
  });

  it('lists every field of a create and a delete', () => {
    const plan = diff([desired('new')], [liveOf(desired('old', { metadata: {} }))]);
    expect(plan.changes.map((c) => [c.action, c.fields.map((f) => f.path)])).toEqual([
      ['create', ['metadata.owner', 'spec.application', 'spec.channels', 'spec.events']],
      ['delete', ['spec.application', 'spec.channels', 'spec.events']],
    ]);
    expect(plan.changes[1]?.fields[0]).toEqual({ path: 'spec.application', before: 'checkout-service' });
  });

  it('hides plain secrets of hand-edited items but shows secret refs by name', () => {
    const live = liveOf(desired('x'));
    const channels = (live.spec as { channels: Array<Record<string, unknown>> }).channels;
    channels[0] = { ...channels[0], webhookUrl: 'https://hooks.slack.com/services/T0/B0/very-secret' };
    channels.push({ name: 'hook', type: 'webhook', url: 'https://example.com/x', headers: { Authorization: 'Bearer s3cr3t', 'X-Team': 'checkout' } });
    const plan = diff([desired('x')], [live]);
    const text = JSON.stringify(plan.changes[0]?.fields);
    expect(text).not.toContain('very-secret');
    expect(text).not.toContain('s3cr3t');
    expect(plan.changes[0]?.fields).toEqual([
      {
        path: 'spec.channels[hook]',
        before: { name: 'hook', type: 'webhook', url: 'https://example.com/x', headers: { Authorization: '[hidden]', 'X-Team': 'checkout' } },
      },
      { path: 'spec.channels[team-slack].webhookUrl', before: '[hidden]', after: { fromEnv: 'SLACK_WEBHOOK_CHECKOUT' } },
    ]);
  });

  it('shows a DynamoDB string set where a list belongs as a change', () => {
    const live = liveOf(desired('x'));
    (live.spec as Record<string, unknown>).events = new Set(['Succeeded', 'Failed', 'Stopped']);
    expect(fieldChanges({ spec: live.spec }, { spec: desired('x').spec })).toEqual([
      { path: 'spec.events', before: ['Succeeded', 'Failed', 'Stopped'], after: ['Succeeded', 'Failed', 'Stopped'] },
    ]);
  });

  it('refuses duplicate desired names (the loader never produces them)', () => {
    expect(() => diff([desired('x'), desired('x')], [])).toThrow(/duplicate desired registration name x/);
  });

  it('formats paths with brackets where a key is not an identifier', () => {
    expect(formatPath(['metadata', 'labels', 'app.kubernetes.io/name'])).toBe('metadata.labels["app.kubernetes.io/name"]');
    expect(formatPath(['spec', 'channels', { element: 'a-b' }, 'to'])).toBe('spec.channels[a-b].to');
  });

  it('builds desired items from loaded registrations without metadata.name', () => {
    const [item] = desiredFromLoaded(
      [{ registration: { apiVersion: 'codedeploy-notify/v1', kind: 'Registration', metadata: { name: 'x', owner: 'o' }, spec: spec() }, file: 'r/x.yaml', relativePath: 'x.yaml', documentIndex: 0, line: 4, column: 9 }],
      (l) => ({ file: `registrations/${l.relativePath}`, commit: 'c0ffee' }),
    );
    expect(item).toEqual({ name: 'x', metadata: { owner: 'o' }, spec: spec(), source: { file: 'registrations/x.yaml', commit: 'c0ffee' } });
  });
});

/** Applies a plan to an in-memory table the way the store would. */
function applyToTable(table: Map<string, LiveItem>, plan: Plan): void {
  for (const change of plan.changes) {
    if (change.action === 'delete') table.delete(change.name);
    else if (change.desired) table.set(change.name, liveOf(change.desired, (change.expectedVersion ?? 0) + 1));
  }
}

const specArb = fc.record({
  application: fc.constantFrom('a', 'b', 'checkout'),
  events: fc.option(fc.subarray(['Started', 'Ready', 'Succeeded', 'Failed', 'Stopped'] as const, { minLength: 1 }), { nil: undefined }),
  channels: fc.uniqueArray(
    fc.record({ name: fc.constantFrom('a', 'b', 'c', 'd'), type: fc.constant('slack' as const), webhookUrl: fc.record({ fromEnv: fc.constantFrom('A', 'B') }) }),
    { minLength: 1, maxLength: 4, selector: (c) => c.name },
  ),
});
const desiredSetArb = fc.uniqueArray(
  fc.record({ name: fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5'), owner: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }), spec: specArb }),
  { selector: (r) => r.name, maxLength: 5 },
).map((list) => list.map((r): DesiredItem => ({ name: r.name, metadata: r.owner ? { owner: r.owner } : {}, spec: r.spec, source: { file: `${r.name}.yaml` } })));

describe('diff properties', () => {
  it('converges: after applying a plan, the next plan is empty and the table equals the files', () => {
    fc.assert(
      fc.property(desiredSetArb, desiredSetArb, (previous, next) => {
        const table = new Map(previous.map((d) => [d.name, liveOf(d)]));
        applyToTable(table, diff(next, [...table.values()]));
        const again = diff(next, [...table.values()]);
        expect(again.changes).toEqual([]);
        expect([...table.keys()].sort()).toEqual(next.map((d) => d.name).sort());
        for (const d of next) expect(deepEqual(table.get(d.name)?.spec, d.spec)).toBe(true);
      }),
    );
  });

  it('an update lists a field exactly when that field differs', () => {
    fc.assert(
      fc.property(specArb, specArb, (a, b) => {
        const fields = fieldChanges({ spec: a }, { spec: b });
        expect(fields.length === 0).toBe(deepEqual(a, b));
      }),
    );
  });
});
