import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { consoleUrl, type DeploymentEvent, type InstanceCounts, type Revision } from '../core/events.js';
import type { Transition } from './transitions.js';

/** Where a deployment was read: its region and, when known, its account. */
export interface EventOrigin {
  region: string;
  accountId?: string;
}

/**
 * DeploymentInfo → DeploymentEvent, as a pure function: everything a message needs (application,
 * group, id, event and status, creator, description, revision, error, instance counts, times and
 * duration, rollback, region, account, console link). Times become ISO-8601 strings. Missing
 * fields stay absent; a missing createTime falls back to the transition time.
 */
export function toDeploymentEvent(info: DeploymentInfo, transition: Transition, origin: EventOrigin): DeploymentEvent {
  const deploymentId = info.deploymentId ?? '';
  const createTime = iso(info.createTime) ?? new Date(transition.occurredAt).toISOString();
  const startTime = iso(info.startTime);
  const completeTime = iso(info.completeTime);
  const revision = toRevision(info);
  const rollback = toRollback(info);
  const error = info.errorInformation && (info.errorInformation.code || info.errorInformation.message)
    ? { ...(info.errorInformation.code ? { code: info.errorInformation.code } : {}), ...(info.errorInformation.message ? { message: info.errorInformation.message } : {}) }
    : undefined;
  const duration = completeTime ? durationSeconds(info) : undefined;
  return {
    type: transition.type,
    deploymentId,
    application: info.applicationName ?? '',
    deploymentGroup: info.deploymentGroupName ?? '',
    status: info.status ?? 'Unknown',
    region: origin.region,
    ...(origin.accountId ? { accountId: origin.accountId } : {}),
    ...(info.creator ? { creator: info.creator } : {}),
    ...(info.description ? { description: info.description } : {}),
    ...(revision ? { revision } : {}),
    ...(error ? { error } : {}),
    ...(info.deploymentOverview ? { instances: toInstances(info.deploymentOverview) } : {}),
    ...(info.computePlatform ? { computePlatform: info.computePlatform } : {}),
    createTime,
    ...(startTime ? { startTime } : {}),
    ...(completeTime ? { completeTime } : {}),
    ...(duration !== undefined ? { durationSeconds: duration } : {}),
    occurredAt: new Date(transition.occurredAt).toISOString(),
    ...(rollback ? { rollback } : {}),
    consoleUrl: consoleUrl(origin.region, deploymentId),
  };
}

function iso(value: Date | undefined): string | undefined {
  return value && Number.isFinite(value.getTime()) ? value.toISOString() : undefined;
}

function durationSeconds(info: DeploymentInfo): number | undefined {
  const end = info.completeTime?.getTime();
  const begin = (info.startTime ?? info.createTime)?.getTime();
  if (end === undefined || begin === undefined || !Number.isFinite(end) || !Number.isFinite(begin)) return undefined;
  return Math.max(0, Math.round((end - begin) / 1000));
}

function toInstances(overview: NonNullable<DeploymentInfo['deploymentOverview']>): InstanceCounts {
  return {
    pending: overview.Pending ?? 0,
    inProgress: overview.InProgress ?? 0,
    succeeded: overview.Succeeded ?? 0,
    failed: overview.Failed ?? 0,
    skipped: overview.Skipped ?? 0,
    ready: overview.Ready ?? 0,
  };
}

function toRevision(info: DeploymentInfo): Revision | undefined {
  const r = info.revision;
  if (!r) return undefined;
  if (r.revisionType === 'GitHub' || (!r.revisionType && r.gitHubLocation)) {
    const gh = r.gitHubLocation ?? {};
    return { type: 'GitHub', ...(gh.repository ? { repository: gh.repository } : {}), ...(gh.commitId ? { commitId: gh.commitId } : {}) };
  }
  if (r.revisionType === 'S3' || (!r.revisionType && r.s3Location)) {
    const s3 = r.s3Location ?? {};
    return {
      type: 'S3',
      ...(s3.bucket ? { bucket: s3.bucket } : {}),
      ...(s3.key ? { key: s3.key } : {}),
      ...(s3.version ? { version: s3.version } : {}),
      ...(s3.eTag ? { eTag: s3.eTag } : {}),
      ...(s3.bundleType ? { bundleType: s3.bundleType } : {}),
    };
  }
  const inline = r.appSpecContent ?? r.string;
  const sha = inline?.sha256 ? ` (sha256 ${inline.sha256.slice(0, 12)})` : '';
  if (r.revisionType === 'AppSpecContent') return { type: 'Other', summary: `AppSpec content${sha}` };
  if (r.revisionType === 'String') return { type: 'Other', summary: `inline AppSpec${sha}` };
  return r.revisionType ? { type: 'Other', summary: r.revisionType } : undefined;
}

function toRollback(info: DeploymentInfo): DeploymentEvent['rollback'] {
  const rb = info.rollbackInfo;
  const isRollback = info.creator === 'codeDeployRollback' || Boolean(rb?.rollbackTriggeringDeploymentId);
  if (!isRollback && !rb?.rollbackDeploymentId) return undefined;
  return {
    isRollback,
    ...(rb?.rollbackTriggeringDeploymentId ? { rollsBack: rb.rollbackTriggeringDeploymentId } : {}),
    ...(rb?.rollbackDeploymentId ? { rolledBackBy: rb.rollbackDeploymentId } : {}),
    ...(rb?.rollbackMessage ? { message: rb.rollbackMessage } : {}),
  };
}
