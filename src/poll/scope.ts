import type { LiveRegistration } from '../store/ports.js';
import { watches } from './match.js';

/**
 * One poll scope: a region read with one set of credentials (the daemon's own, or an assumed
 * role). Each scope has its own CodeDeploy client, cursor and in-flight set.
 */
export interface PollScope {
  /** Stable key: `<region>|<roleArn>` or `<region>|default`. */
  key: string;
  region: string;
  roleArn?: string;
  /** From the role ARN, or the daemon's account when given. */
  accountId?: string;
  /** The registrations read in this scope. */
  registrations: LiveRegistration[];
}

/** The state key of a scope. */
export function scopeKey(region: string, roleArn?: string): string {
  return `${region}|${roleArn ?? 'default'}`;
}

/** The account id of an IAM role ARN (`arn:<partition>:iam::<account>:role/<name>`), or undefined. */
export function accountFromRoleArn(roleArn: string): string | undefined {
  return /^arn:[a-z0-9-]+:iam::(\d{12}):role\//.exec(roleArn)?.[1];
}

/**
 * Groups registrations into scopes by (region = spec.region ?? defaultRegion, roleArn), sorted by
 * key. Pure.
 */
export function groupByScope(registrations: readonly LiveRegistration[], defaultRegion: string, defaultAccountId?: string): PollScope[] {
  const scopes = new Map<string, PollScope>();
  for (const registration of registrations) {
    const region = registration.spec.region ?? defaultRegion;
    const roleArn = registration.spec.roleArn;
    const key = scopeKey(region, roleArn);
    let scope = scopes.get(key);
    if (!scope) {
      const accountId = roleArn ? accountFromRoleArn(roleArn) : defaultAccountId;
      scope = { key, region, ...(roleArn ? { roleArn } : {}), ...(accountId ? { accountId } : {}), registrations: [] };
      scopes.set(key, scope);
    }
    scope.registrations.push(registration);
  }
  return [...scopes.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** True when some registration of the scope watches (application, group). */
export function isWatched(registrations: readonly LiveRegistration[], application: string, group: string): boolean {
  return registrations.some((r) => watches(r.spec, application, group));
}

/**
 * The deployment groups the per-application strategy lists for `application`: the groups its
 * registrations name, sorted, or undefined when one of them watches every group (then the
 * application's group list must be read with ListDeploymentGroups).
 */
export function namedGroups(registrations: readonly LiveRegistration[], application: string): string[] | undefined {
  const mine = registrations.filter((r) => r.spec.application === application);
  if (mine.some((r) => r.spec.deploymentGroups === undefined)) return undefined;
  return [...new Set(mine.flatMap((r) => r.spec.deploymentGroups ?? []))].sort();
}

/** The distinct applications of a scope's registrations, sorted. */
export function applicationsOf(registrations: readonly LiveRegistration[]): string[] {
  return [...new Set(registrations.map((r) => r.spec.application))].sort();
}
