import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  ListDeploymentGroupsCommand,
  ListDeploymentsCommand,
  type DeploymentInfo,
} from '@aws-sdk/client-codedeploy';

/** The CodeDeploy operations the poller calls. */
export type CodeDeployOperation = 'ListDeployments' | 'BatchGetDeployments' | 'ListDeploymentGroups';

/** BatchGetDeployments takes at most this many ids per call. */
export const BATCH_GET_MAX_IDS = 25;

/** Static credentials for one client (from an assumed role). */
export interface ClientCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** One page of ListDeployments. */
export interface DeploymentPage {
  deploymentIds: string[];
  nextToken?: string;
}

/**
 * The part of CodeDeploy the poller uses: one method per API call, one call per method call (the
 * SDK's own retries aside). Errors are the SDK's (ThrottlingException, AccessDeniedException, ...).
 */
export interface CodeDeployApi {
  /** One page of deployment ids created at or after `createdAfter`; account-wide unless application and group are both given. */
  listDeployments(input: { applicationName?: string; deploymentGroupName?: string; createdAfter: Date; nextToken?: string }): Promise<DeploymentPage>;
  /** At most BATCH_GET_MAX_IDS ids; unknown ids are simply absent from the answer. */
  batchGetDeployments(ids: readonly string[]): Promise<DeploymentInfo[]>;
  /** One page of an application's deployment group names. */
  listDeploymentGroups(application: string, nextToken?: string): Promise<{ groups: string[]; nextToken?: string }>;
  /** Releases sockets. */
  destroy(): void;
}

/** Builds the CodeDeploy API for a region and credentials (undefined: the default chain). */
export type CodeDeployApiFactory = (region: string, credentials?: ClientCredentials) => CodeDeployApi;

/** Options of the SDK-backed factory. */
export interface SdkCodeDeployOptions {
  /** SDK attempts per call, throttling retries included; default 3. */
  maxAttempts?: number;
  /** Per-request timeout in milliseconds; default 10 000. */
  requestTimeoutMs?: number;
}

/**
 * The real CodeDeploy API on the AWS SDK v3 client. No explicit endpoint, so
 * AWS_ENDPOINT_URL_CODEDEPLOY / AWS_ENDPOINT_URL win; requests time out instead of hanging. The
 * SDK retries throttling and transient errors up to `maxAttempts`; what still fails is thrown.
 */
export function sdkCodeDeployFactory(options: SdkCodeDeployOptions = {}): CodeDeployApiFactory {
  return (region, credentials) => {
    const client = new CodeDeployClient({
      region,
      ...(credentials ? { credentials } : {}),
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: { requestTimeout: options.requestTimeoutMs ?? 10_000, throwOnRequestTimeout: true },
    });
    return {
      async listDeployments(input) {
        const out = await client.send(new ListDeploymentsCommand({
          ...(input.applicationName !== undefined ? { applicationName: input.applicationName, deploymentGroupName: input.deploymentGroupName } : {}),
          createTimeRange: { start: input.createdAfter },
          ...(input.nextToken ? { nextToken: input.nextToken } : {}),
        }));
        return { deploymentIds: out.deployments ?? [], ...(out.nextToken ? { nextToken: out.nextToken } : {}) };
      },
      async batchGetDeployments(ids) {
        const out = await client.send(new BatchGetDeploymentsCommand({ deploymentIds: [...ids] }));
        return out.deploymentsInfo ?? [];
      },
      async listDeploymentGroups(application, nextToken) {
        const out = await client.send(new ListDeploymentGroupsCommand({ applicationName: application, ...(nextToken ? { nextToken } : {}) }));
        return { groups: out.deploymentGroups ?? [], ...(out.nextToken ? { nextToken: out.nextToken } : {}) };
      },
      destroy: () => client.destroy(),
    };
  };
}
