import { describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../src/reconcile/apply.js';
import { renderApplyResult } from '../../src/reconcile/report.js';

function result(overrides: Partial<ApplyResult>): ApplyResult {
  return { status: 'applied', plan: { changes: [], unchanged: [], unmanaged: [] }, applied: [], conflicts: [], skippedDeletes: [], failures: [], auditFailures: 0, unmanaged: [], unchanged: 0, ...overrides };
}

describe('renderApplyResult', () => {
  it('lists changes, conflicts, skipped deletes, failures and blocked files, then an honest summary', () => {
    const text = renderApplyResult(
      result({
        applied: [
          { action: 'create', name: 'a', fields: [], versionAfter: 1 },
          { action: 'update', name: 'b', fields: [{ path: 'spec.channels[x].webhookUrl', before: { fromEnv: 'OLD' }, after: { fromEnv: 'NEW' } }], versionBefore: 4, versionAfter: 5 },
        ],
        conflicts: [
          { name: 'b', action: 'update', attempts: 2, outcome: 'retried' },
          { name: 'c', action: 'update', attempts: 1, outcome: 'already-done' },
          { name: 'd', action: 'delete', attempts: 1, outcome: 'left-alone' },
          { name: 'e', action: 'update', attempts: 6, outcome: 'gave-up' },
        ],
        skippedDeletes: ['old'],
        failures: [{ name: 'f', action: 'create', message: 'DynamoDB put on table t failed: throttled' }],
        unmanaged: [{ name: 'g', managedBy: 'console', desiredFile: 'registrations/g.yaml' }, { name: 'h' }],
        auditFailures: 1,
        unchanged: 3,
      }),
      'text',
    );
    expect(text).toBe(
      [
        '+ a: created (version 1)',
        '~ b: updated (version 4 → 5)',
        '    spec.channels[x].webhookUrl: env:OLD → env:NEW',
        'conflict: b: another writer changed it since it was read; re-read and written over the newer version (2 attempts)',
        'conflict: c: another writer changed it since it was read; another writer had already made the same change',
        'conflict: d: another writer changed it since it was read; the item is no longer managed by git; left alone',
        'conflict: e: another writer changed it since it was read; still changing after 6 attempts; gave up — run apply again',
        '  old: not deleted (--no-prune); no file wants it any more',
        '! f: create failed: DynamoDB put on table t failed: throttled',
        '! g: wanted by registrations/g.yaml but the live item is not managed by codedeploy-notify (managedBy: "console"); left alone',
        'warning: 1 change was applied but not recorded in the audit trail',
        '',
        'Apply incomplete: 1 created, 1 updated, 0 deleted; 3 unchanged, 2 unmanaged left alone, 1 not pruned, 4 conflicts, 1 failed.',
        '',
      ].join('\n'),
    );
  });

  it('renders a refusal alone, and json with a status', () => {
    const refused = result({ status: 'refused', refusal: 'refusing to delete 11 registrations' });
    expect(renderApplyResult(refused, 'text')).toBe('Refused: refusing to delete 11 registrations. Nothing was written.\n');
    expect(JSON.parse(renderApplyResult(refused, 'json'))).toMatchObject({ status: 'refused', refusal: 'refusing to delete 11 registrations', summary: { created: 0 } });
    expect(JSON.parse(renderApplyResult(result({ unchanged: 2 }), 'json'))).toMatchObject({ status: 'complete', summary: { unchanged: 2 } });
  });
});
