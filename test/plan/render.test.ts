import { describe, expect, it } from 'vitest';
import { diff } from '../../src/plan/diff.js';
import { formatValue, renderPlan } from '../../src/plan/render.js';
import { desired, liveOf, spec } from './fixtures.js';

const before = desired('checkout-production', { metadata: { owner: 'team-a' } });
const after = desired('checkout-production', {
  metadata: { owner: 'team checkout' },
  spec: spec({
    events: ['Failed'],
    channels: [
      { name: 'team-slack', type: 'slack', webhookUrl: { fromEnv: 'SLACK_NEW' }, events: ['Failed', 'Stopped'] },
      { name: 'owners', type: 'email', from: 'deploys@example.com', to: ['team@example.com'] },
    ],
  }),
});
const plan = diff(
  [after, desired('payments-staging'), desired('same')],
  [liveOf(before, 3), liveOf(desired('legacy')), liveOf(desired('same')), { name: 'hand-made', managedBy: 'console', version: 1 }],
);

describe('renderPlan text', () => {
  it('matches SPEC line for line', () => {
    expect(renderPlan(plan, 'text')).toBe(
      [
        '~ checkout-production',
        '    metadata.owner: team-a → "team checkout"',
        '    spec.channels[team-slack].webhookUrl: env:SLACK_WEBHOOK_CHECKOUT → env:SLACK_NEW',
        '    spec.events: [Succeeded, Failed, Stopped] → [Failed]',
        '- legacy',
        '+ payments-staging',
        '',
        'Plan: 1 to create, 1 to update, 1 to delete.',
        '1 unmanaged registration left alone: hand-made (managedBy: "console").',
        '',
      ].join('\n'),
    );
  });

  it('says so when nothing changes, and warns about a file blocked by an unmanaged item', () => {
    const quiet = diff([desired('a'), desired('b')], [liveOf(desired('a')), { name: 'b', managedBy: 'console', version: 2 }]);
    expect(renderPlan(quiet, 'text')).toBe(
      'Plan: 0 to create, 0 to update, 0 to delete.\n' +
        '! b: wanted by registrations/b.yaml but the live item is not managed by codedeploy-notify (managedBy: "console"); left alone — rename the registration, or delete the item or set its managedBy to "git" to hand it over\n',
    );
  });

  it('formats values unambiguously on one line', () => {
    expect(formatValue(undefined)).toBe('(none)');
    expect(formatValue('')).toBe('""');
    expect(formatValue('none')).toBe('"none"');
    expect(formatValue('a → b')).toBe('"a → b"');
    expect(formatValue({ fromEnv: 'X' })).toBe('env:X');
    expect(formatValue({ name: 'n', 'x.y': [1, true], url: { fromEnv: 'U' } })).toBe('{name: n, "x.y": [1, true], url: env:U}');
  });
});

describe('renderPlan markdown', () => {
  const md = renderPlan(plan, 'markdown', { title: 'Registrations diff', subtitle: 'origin/main → HEAD' });

  it('has a heading, the summary, a table and the fields in code spans', () => {
    expect(md.startsWith('### Registrations diff\n\norigin/main → HEAD\n\n**Plan: 1 to create, 1 to update, 1 to delete.** 1 unchanged, 1 unmanaged left alone.\n')).toBe(true);
    expect(md).toContain('| ✏️ update | `checkout-production` | 3 fields from `registrations/checkout-production.yaml` |');
    expect(md).toContain('| ➖ delete | `legacy` | no file wants it any more |');
    expect(md).toContain('- `spec.events`: `[Succeeded, Failed, Stopped]` → `[Failed]`');
    expect(md).toContain('- `spec.channels[team-slack].webhookUrl`: `env:SLACK_WEBHOOK_CHECKOUT` → `env:SLACK_NEW`');
    expect(md).toContain('<details><summary><code>payments-staging</code>: 4 new fields</summary>');
    expect(md).not.toMatch(/hooks\.slack|\[object Object\]/);
  });

  it('folds long updates, survives backticks, and reports no changes plainly', () => {
    const long = desired('x', { metadata: { owner: 'has `tick`', labels: { a: '1', b: '2', c: '3', d: '4', e: '5' } } });
    const text = renderPlan(diff([long], [liveOf(desired('x', { metadata: { labels: {} } }))]), 'markdown');
    expect(text).toContain('<details><summary><code>x</code>: 6 changed fields</summary>');
    expect(text).toContain('`` "has `tick`" ``');
    expect(renderPlan(diff([], []), 'markdown')).toContain('No changes.');
  });

  it('stays within a GitHub comment for thousands of changes', () => {
    const many = Array.from({ length: 3000 }, (_, i) => desired(`reg-${i}`));
    const text = renderPlan(diff(many, []), 'markdown');
    expect(text.length).toBeLessThan(65_536);
    expect(text).toMatch(/\| \| … \| \d+ more \|/);
    expect(text).toMatch(/\d+ more registrations are not detailed here/);
  });
});

describe('renderPlan json', () => {
  it('is machine-readable with summary, changes and fields', () => {
    const parsed = JSON.parse(renderPlan(plan, 'json')) as Record<string, unknown>;
    expect(parsed.summary).toEqual({ create: 1, update: 1, delete: 1, unchanged: 1, unmanaged: 1 });
    expect(parsed.unchanged).toEqual(['same']);
    expect(parsed.unmanaged).toEqual([{ name: 'hand-made', managedBy: 'console' }]);
    const changes = parsed.changes as Array<Record<string, unknown>>;
    expect(changes.map((c) => [c.action, c.name, c.file])).toEqual([
      ['update', 'checkout-production', 'registrations/checkout-production.yaml'],
      ['delete', 'legacy', undefined],
      ['create', 'payments-staging', 'registrations/payments-staging.yaml'],
    ]);
    expect(changes[0]?.fields).toContainEqual({ path: 'spec.events', before: ['Succeeded', 'Failed', 'Stopped'], after: ['Failed'] });
  });
});
