import { formatFieldChange } from '../plan/render.js';
import type { ApplyResult, ConflictReport } from './apply.js';
import { applySucceeded } from './apply.js';

/** Output formats of `apply`. */
export const APPLY_FORMATS = ['text', 'json'] as const;
export type ApplyFormat = (typeof APPLY_FORMATS)[number];

/**
 * What `apply` did, for people (text) or scripts (json): one line per change (updates with their
 * fields indented, as in a plan), conflicts and how each ended, deletes skipped by `--no-prune`,
 * failures, then a summary line. A refused apply renders only its reason.
 */
export function renderApplyResult(result: ApplyResult, format: ApplyFormat): string {
  if (format === 'json') return `${JSON.stringify(applyJson(result), null, 2)}\n`;
  if (result.status === 'refused') return `Refused: ${result.refusal ?? 'guard'}. Nothing was written.\n`;
  const lines: string[] = [];
  for (const change of result.applied) {
    if (change.action === 'create') lines.push(`+ ${change.name}: created (version ${change.versionAfter ?? 1})`);
    else if (change.action === 'delete') lines.push(`- ${change.name}: deleted`);
    else {
      lines.push(`~ ${change.name}: updated (version ${change.versionBefore ?? 'none'} → ${change.versionAfter ?? '?'})`);
      for (const field of change.fields) lines.push(`    ${formatFieldChange(field)}`);
    }
  }
  for (const conflict of result.conflicts) lines.push(conflictLine(conflict));
  for (const name of result.skippedDeletes) lines.push(`  ${name}: not deleted (--no-prune); no file wants it any more`);
  for (const failure of result.failures) lines.push(`! ${failure.name}: ${failure.action} failed: ${failure.message}`);
  for (const item of result.unmanaged.filter((u) => u.desiredFile !== undefined)) {
    lines.push(`! ${item.name}: wanted by ${item.desiredFile} but the live item is not managed by codedeploy-notify (${item.managedBy === undefined ? 'no managedBy' : `managedBy: ${JSON.stringify(item.managedBy)}`}); left alone`);
  }
  if (result.auditFailures > 0) lines.push(`warning: ${result.auditFailures} ${result.auditFailures === 1 ? 'change was' : 'changes were'} applied but not recorded in the audit trail`);
  if (lines.length > 0) lines.push('');
  lines.push(summaryLine(result));
  return `${lines.join('\n')}\n`;
}

/** `Apply complete: 1 created, 2 updated, 0 deleted; 5 unchanged, 1 unmanaged left alone.` (or `Apply incomplete: …`). */
export function summaryLine(result: ApplyResult): string {
  const count = (action: string) => result.applied.filter((c) => c.action === action).length;
  const parts = [`${count('create')} created`, `${count('update')} updated`, `${count('delete')} deleted`];
  const extras = [`${result.unchanged} unchanged`, `${result.unmanaged.length} unmanaged left alone`];
  if (result.skippedDeletes.length > 0) extras.push(`${result.skippedDeletes.length} not pruned`);
  if (result.conflicts.length > 0) extras.push(`${result.conflicts.length} ${result.conflicts.length === 1 ? 'conflict' : 'conflicts'}`);
  if (result.failures.length > 0) extras.push(`${result.failures.length} failed`);
  return `Apply ${applySucceeded(result) ? 'complete' : 'incomplete'}: ${parts.join(', ')}; ${extras.join(', ')}.`;
}

function conflictLine(conflict: ConflictReport): string {
  const what = {
    retried: `re-read and ${conflict.action === 'delete' ? 'deleted' : 'written'} over the newer version (${conflict.attempts} attempts)`,
    'already-done': 'another writer had already made the same change',
    'left-alone': 'the item is no longer managed by git; left alone',
    'gave-up': `still changing after ${conflict.attempts} attempts; gave up — run apply again`,
  }[conflict.outcome];
  return `conflict: ${conflict.name}: another writer changed it since it was read; ${what}`;
}

/** The machine-readable form. */
export function applyJson(result: ApplyResult): Record<string, unknown> {
  const count = (action: string) => result.applied.filter((c) => c.action === action).length;
  return {
    status: result.status === 'refused' ? 'refused' : applySucceeded(result) ? 'complete' : 'incomplete',
    ...(result.refusal !== undefined ? { refusal: result.refusal } : {}),
    summary: {
      created: count('create'), updated: count('update'), deleted: count('delete'), unchanged: result.unchanged,
      unmanaged: result.unmanaged.length, notPruned: result.skippedDeletes.length, conflicts: result.conflicts.length, failed: result.failures.length,
    },
    applied: result.applied,
    conflicts: result.conflicts,
    skippedDeletes: result.skippedDeletes,
    failures: result.failures,
    unmanaged: result.unmanaged,
    auditFailures: result.auditFailures,
  };
}
