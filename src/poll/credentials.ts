import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { NotifyError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ClientCredentials } from './codedeploy.js';

/** Temporary credentials of an assumed role. */
export interface RoleCredentials extends ClientCredentials {
  sessionToken: string;
  /** Epoch milliseconds. */
  expiration: number;
}

/** Gives credentials for a role ARN, cached and refreshed before they expire. */
export interface RoleCredentialSource {
  /** Throws `RoleAssumeError` when the role cannot be assumed and no still-valid credentials are cached. */
  get(roleArn: string): Promise<RoleCredentials>;
  destroy(): void;
}

/** Assuming a role failed (AccessDenied, unknown role, STS unreachable). */
export class RoleAssumeError extends NotifyError {
  readonly roleArn: string;
  constructor(roleArn: string, options?: { cause?: unknown }) {
    super(
      'assume-role-failed',
      `could not assume role ${roleArn}: ${errorMessage(options?.cause)}; check that the role exists, trusts the daemon's identity and allows sts:AssumeRole`,
      options,
    );
    this.roleArn = roleArn;
  }
}

/** Options of `StsRoleCredentials`. */
export interface StsRoleCredentialsOptions {
  /** Region of the STS client (the daemon's region). */
  region: string;
  /** Epoch milliseconds; default Date.now. */
  clock?: () => number;
  /** Refresh credentials this long before they expire; default 5 minutes. */
  refreshBeforeMs?: number;
  /** Session length asked for; default 3600 s (the role's maximum may be lower). */
  durationSeconds?: number;
  /** Default "codedeploy-notify". */
  sessionName?: string;
  maxAttempts?: number;
  requestTimeoutMs?: number;
  logger?: Logger;
}

/**
 * Role credentials from STS AssumeRole (AWS_ENDPOINT_URL_STS honoured), cached per role ARN and
 * refreshed when less than `refreshBeforeMs` of validity is left, judged by the injected clock.
 * Concurrent callers share one AssumeRole call. When a refresh fails while the cached credentials
 * are still valid, those are returned (and the failure logged), so an STS blip does not stop polling.
 */
export class StsRoleCredentials implements RoleCredentialSource {
  private readonly sts: STSClient;
  private readonly clock: () => number;
  private readonly refreshBeforeMs: number;
  private readonly durationSeconds: number;
  private readonly sessionName: string;
  private readonly logger: Logger | undefined;
  private readonly cache = new Map<string, RoleCredentials>();
  private readonly pending = new Map<string, Promise<RoleCredentials>>();

  constructor(options: StsRoleCredentialsOptions) {
    this.sts = new STSClient({
      region: options.region,
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 10_000, throwOnRequestTimeout: true },
    });
    this.clock = options.clock ?? Date.now;
    this.refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
    this.durationSeconds = options.durationSeconds ?? 3600;
    this.sessionName = options.sessionName ?? 'codedeploy-notify';
    this.logger = options.logger;
  }

  async get(roleArn: string): Promise<RoleCredentials> {
    const cached = this.cache.get(roleArn);
    const now = this.clock();
    if (cached && cached.expiration - now > this.refreshBeforeMs) return cached;
    let call = this.pending.get(roleArn);
    if (!call) {
      call = this.assume(roleArn).finally(() => this.pending.delete(roleArn));
      this.pending.set(roleArn, call);
    }
    try {
      const fresh = await call;
      this.cache.set(roleArn, fresh);
      return fresh;
    } catch (error) {
      if (cached && cached.expiration > this.clock()) {
        this.logger?.warn({ roleArn, err: errorMessage(error), expiresAt: new Date(cached.expiration).toISOString() }, 'role credentials refresh failed; using cached credentials until they expire');
        return cached;
      }
      throw error instanceof RoleAssumeError ? error : new RoleAssumeError(roleArn, { cause: error });
    }
  }

  destroy(): void {
    this.sts.destroy();
  }

  private async assume(roleArn: string): Promise<RoleCredentials> {
    let out;
    try {
      out = await this.sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: this.sessionName, DurationSeconds: this.durationSeconds }));
    } catch (error) {
      throw new RoleAssumeError(roleArn, { cause: error });
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new RoleAssumeError(roleArn, { cause: new Error('STS returned no credentials') });
    }
    this.logger?.debug({ roleArn, expiresAt: c.Expiration.toISOString() }, 'assumed role');
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration.getTime() };
  }
}

/**
 * The daemon's own AWS account id (STS GetCallerIdentity), for events of scopes without a role.
 * Returns undefined when STS cannot tell (the event then simply has no account).
 */
export async function lookupAccountId(options: { region: string; requestTimeoutMs?: number; logger?: Logger }): Promise<string | undefined> {
  const sts = new STSClient({ region: options.region, maxAttempts: 2, requestHandler: { requestTimeout: options.requestTimeoutMs ?? 5_000, throwOnRequestTimeout: true } });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Account;
  } catch (error) {
    options.logger?.warn({ err: errorMessage(error) }, 'could not look up the AWS account id; events will not name it');
    return undefined;
  } finally {
    sts.destroy();
  }
}
