import { isPlainObject, isSecretRef, summarize } from './diff.js';
import type { FieldChange, Plan, PlannedChange } from './types.js';

/** Output formats of `plan` and `diff`. */
export const PLAN_FORMATS = ['text', 'markdown', 'json'] as const;
export type PlanFormat = (typeof PLAN_FORMATS)[number];

/** Options for rendering a plan. */
export interface RenderPlanOptions {
  /** Markdown heading (default "codedeploy-notify plan"). */
  title?: string;
  /** One line under the markdown heading, e.g. which refs were compared. */
  subtitle?: string;
}

/** GitHub refuses comments over 65,536 characters; the markdown stays below with room to spare. */
const MARKDOWN_BUDGET = 60_000;
/** Changes with more fields than this fold into a `<details>` block in markdown. */
const FOLD_AFTER = 5;

/** Renders a plan in one of PLAN_FORMATS. Pure; the result ends with a newline. */
export function renderPlan(plan: Plan, format: PlanFormat, options: RenderPlanOptions = {}): string {
  if (format === 'json') return `${JSON.stringify(planJson(plan), null, 2)}\n`;
  if (format === 'markdown') return renderMarkdown(plan, options);
  return renderText(plan);
}

/** The `Plan: N to create, N to update, N to delete.` line of SPEC. */
export function planSummaryLine(plan: Plan): string {
  const s = summarize(plan);
  return `Plan: ${s.create} to create, ${s.update} to update, ${s.delete} to delete.`;
}

/**
 * Text as SPEC: `+ name`, `~ name` with an indented `path: old → new` per changed field,
 * `- name`, then the Plan line; unmanaged items (and files blocked by one) after it.
 */
export function renderText(plan: Plan): string {
  const lines: string[] = [];
  for (const change of plan.changes) {
    lines.push(`${SIGN[change.action]} ${change.name}`);
    if (change.action === 'update') {
      for (const field of change.fields) lines.push(`    ${formatFieldChange(field)}`);
    }
  }
  if (lines.length > 0) lines.push('');
  lines.push(planSummaryLine(plan));
  lines.push(...unmanagedLines(plan));
  return `${lines.join('\n')}\n`;
}

/** `path: old → new`, with `(none)` for a missing side. */
export function formatFieldChange(field: FieldChange): string {
  return `${field.path}: ${formatValue(field.before)} → ${formatValue(field.after)}`;
}

/**
 * One value on one line: strings bare when unambiguous (else JSON-quoted), secret refs as
 * `env:NAME`, arrays as `[a, b]`, maps as `{key: value}`, a missing value as `(none)`.
 */
export function formatValue(value: unknown): string {
  if (value === undefined) return '(none)';
  if (isSecretRef(value)) return `env:${value.fromEnv}`;
  if (typeof value === 'string') return /^[A-Za-z0-9._@:/+=-]+$/.test(value) && value !== 'none' ? value : JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (isPlainObject(value)) {
    return `{${Object.entries(value).map(([k, v]) => `${/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k)}: ${formatValue(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value) ?? String(value);
}

const SIGN = { create: '+', update: '~', delete: '-' } as const;

function unmanagedLines(plan: Plan): string[] {
  const lines: string[] = [];
  const blocked = plan.unmanaged.filter((u) => u.desiredFile !== undefined);
  const others = plan.unmanaged.filter((u) => u.desiredFile === undefined);
  for (const item of blocked) {
    lines.push(`! ${item.name}: wanted by ${item.desiredFile} but the live item is not managed by codedeploy-notify (${managedByText(item.managedBy)}); left alone — rename the registration, or delete the item or set its managedBy to "git" to hand it over`);
  }
  if (others.length > 0) {
    const shown = others.slice(0, 20).map((u) => `${u.name} (${managedByText(u.managedBy)})`).join(', ');
    const more = others.length > 20 ? `, and ${others.length - 20} more` : '';
    lines.push(`${others.length} unmanaged ${others.length === 1 ? 'registration' : 'registrations'} left alone: ${shown}${more}.`);
  }
  return lines;
}

function managedByText(managedBy: string | undefined): string {
  return managedBy === undefined ? 'no managedBy' : `managedBy: ${JSON.stringify(managedBy)}`;
}

/** The machine-readable form: summary, changes with fields (secret refs as `{fromEnv}`), unchanged and unmanaged names. */
export function planJson(plan: Plan): Record<string, unknown> {
  return {
    summary: summarize(plan),
    changes: plan.changes.map((change) => ({
      action: change.action,
      name: change.name,
      ...(change.desired ? { file: change.desired.source.file } : {}),
      fields: change.fields,
    })),
    unchanged: plan.unchanged,
    unmanaged: plan.unmanaged,
  };
}

/** Markdown for a pull-request comment: heading, summary, a table, then the fields per registration. */
export function renderMarkdown(plan: Plan, options: RenderPlanOptions = {}): string {
  const s = summarize(plan);
  const out: string[] = [`### ${options.title ?? 'codedeploy-notify plan'}`, ''];
  if (options.subtitle) out.push(options.subtitle, '');
  const extras = [`${s.unchanged} unchanged`];
  if (s.unmanaged > 0) extras.push(`${s.unmanaged} unmanaged left alone`);
  out.push(`**${planSummaryLine(plan)}** ${extras.join(', ')}.`, '');
  if (plan.changes.length === 0) out.push('No changes.', '');
  else {
    out.push('| | Registration | Change |', '|---|---|---|');
    // the table gets half the budget; the field lists below get what is left
    let tableUsed = 0;
    let rowsLeft = plan.changes.length;
    for (const change of plan.changes) {
      const row = `| ${MD_SIGN[change.action]} | ${code(change.name, true)} | ${tableCell(change)} |`;
      if (tableUsed + row.length > MARKDOWN_BUDGET / 2) break;
      out.push(row);
      tableUsed += row.length + 1;
      rowsLeft -= 1;
    }
    if (rowsLeft > 0) out.push(`| | … | ${rowsLeft} more |`);
    out.push('');
  }
  const blocked = plan.unmanaged.filter((u) => u.desiredFile !== undefined);
  for (const item of blocked) {
    out.push(`> [!WARNING]`, `> ${code(item.name)} is wanted by ${code(item.desiredFile ?? '')} but the live item is not managed by codedeploy-notify (${escapeMd(managedByText(item.managedBy))}); it is left alone.`, '');
  }
  let used = out.join('\n').length;
  let omitted = 0;
  for (const change of plan.changes) {
    if (change.fields.length === 0) continue;
    const section = changeSection(change);
    if (used + section.length > MARKDOWN_BUDGET) {
      omitted += 1;
      continue;
    }
    out.push(section);
    used += section.length + 1;
  }
  if (omitted > 0) out.push(`_${omitted} more ${omitted === 1 ? 'registration is' : 'registrations are'} not detailed here to stay within GitHub's comment size; see the job log (\`--format text\`)._`, '');
  return `${out.join('\n').trimEnd()}\n`;
}

const MD_SIGN = { create: '➕ create', update: '✏️ update', delete: '➖ delete' } as const;

function tableCell(change: PlannedChange): string {
  const file = change.desired ? ` from ${code(change.desired.source.file, true)}` : '';
  if (change.action === 'update') return `${change.fields.length} ${change.fields.length === 1 ? 'field' : 'fields'}${file}`;
  if (change.action === 'create') return `new${file}`;
  return 'no file wants it any more';
}

function changeSection(change: PlannedChange): string {
  const verb = change.action === 'update' ? 'changed' : change.action === 'create' ? 'new' : 'removed';
  const items = change.fields.map((f) =>
    change.action === 'update'
      ? `- ${code(f.path)}: ${code(formatValue(f.before))} → ${code(formatValue(f.after))}`
      : `- ${code(f.path)}: ${code(formatValue(change.action === 'create' ? f.after : f.before))}`,
  );
  const summary = `${code(change.name)}: ${change.fields.length} ${verb} ${change.fields.length === 1 ? 'field' : 'fields'}`;
  if (change.action === 'update' && change.fields.length <= FOLD_AFTER) return [`**${summary}**`, '', ...items, ''].join('\n');
  return [`<details><summary>${summary.replace(/`([^`]*)`/g, '<code>$1</code>')}</summary>`, '', ...items, '', '</details>', ''].join('\n');
}

/** A markdown code span that survives backticks and pipes inside the value. */
function code(text: string, inTable = false): string {
  const flat = text.replace(/\r?\n/g, ' ');
  // inside a table a pipe ends the cell even in a code span; GitHub honours `\|` there
  const clean = inTable ? flat.replace(/\|/g, '\\|') : flat;
  const ticks = clean.includes('`') ? '``' : '`';
  const pad = ticks.length > 1 ? ' ' : '';
  return `${ticks}${pad}${clean}${pad}${ticks}`;
}

function escapeMd(text: string): string {
  return text.replace(/([\\`*_[\]<>|])/g, '\\$1');
}
