/** Default overlap: how far before the cursor each listing starts again (late listings, clock skew). */
export const DEFAULT_OVERLAP_MS = 5 * 60_000;

/** Default --max-lookback (SPEC). */
export const DEFAULT_MAX_LOOKBACK_MS = 24 * 3_600_000;

/**
 * How long an in-flight deployment is remembered after it was created, at least. No CodeDeploy
 * deployment runs this long (blue/green waits are capped at 2 days each); the bound only cleans up
 * after deleted applications and deployments that vanished.
 */
export const IN_FLIGHT_RETENTION_MS = 7 * 24 * 3_600_000;

/** How long a listed id that BatchGetDeployments does not return yet is retried. */
export const UNRESOLVED_RETENTION_MS = 3_600_000;

/** Safety margin on retention times for clock skew between this machine and AWS. */
export const RETENTION_MARGIN_MS = 3_600_000;

/** Where one listing starts. */
export interface ListingWindow {
  /** createTimeRange.start, epoch milliseconds (no end: everything created since). */
  start: number;
  /** True when this scope has no cursor yet: the listing looks back the whole --max-lookback. */
  first: boolean;
  /** True when the cursor was older than --max-lookback and the start was clamped (history lost). */
  clamped: boolean;
  /** How far behind the cursor was, in milliseconds (0 on a first run). */
  lagMs: number;
}

/** Inputs of `listingWindow`. */
export interface WindowInput {
  /** The scope's cursor (epoch ms): everything created before `cursor - overlap` was handled. */
  cursor: number | undefined;
  now: number;
  overlapMs: number;
  maxLookbackMs: number;
}

/**
 * The cursor/window arithmetic, as a pure function. A listing starts `overlapMs` before the cursor
 * so a deployment that shows up in listings late, or a clock that differs from AWS's, is still
 * caught; never later than `now - overlapMs` (a cursor from a clock ahead of ours), never earlier
 * than `now - maxLookbackMs` (after longer downtime the start is clamped and `clamped` is set so
 * the caller can warn). Without a cursor the listing looks back the whole `maxLookbackMs`, so
 * deployments already in flight when the poller first starts are caught.
 */
export function listingWindow(input: WindowInput): ListingWindow {
  const floor = input.now - input.maxLookbackMs;
  if (input.cursor === undefined) return { start: floor, first: true, clamped: false, lagMs: 0 };
  const desired = Math.min(input.cursor, input.now) - input.overlapMs;
  const lagMs = Math.max(0, input.now - input.cursor);
  if (desired < floor) return { start: floor, first: false, clamped: true, lagMs };
  return { start: desired, first: false, clamped: false, lagMs };
}

/**
 * When a finished deployment may be forgotten (epoch ms): once no listing can return it again.
 * A listing never starts before `now - maxLookback`, so a deployment created at `createTime` can
 * be listed until `createTime + maxLookback`; the margin covers clock skew.
 */
export function finishedExpiry(createTime: number, maxLookbackMs: number, overlapMs: number): number {
  return createTime + maxLookbackMs + overlapMs + RETENTION_MARGIN_MS;
}

/** When an in-flight deployment may be forgotten (epoch ms); see IN_FLIGHT_RETENTION_MS. */
export function inFlightExpiry(createTime: number, maxLookbackMs: number, overlapMs: number): number {
  return createTime + Math.max(IN_FLIGHT_RETENTION_MS, maxLookbackMs + overlapMs + RETENTION_MARGIN_MS);
}
