import path from 'node:path';
import type { Logger } from 'pino';
import type { RoleCredentialSource } from '../poll/credentials.js';
import { CodeDeployModel, randomDeploymentId } from './codedeploy-model.js';
import { startCodeDeployServer, type CodeDeployServer } from './codedeploy-server.js';
import { startEmbeddedDynamo, type EmbeddedDynamo } from './embedded-dynamo.js';

/** Where `run --local` keeps its data: `.codedeploy-notify/` under the working directory. */
export const LOCAL_DATA_DIR = '.codedeploy-notify';

/** The local stand-ins for AWS: an embedded DynamoDB and the CodeDeploy simulator's server. */
export interface LocalEnvironment {
  dataDir: string;
  dynamo: EmbeddedDynamo;
  codeDeploy: CodeDeployServer;
  /** Static credentials for spec.roleArn: nothing is assumed in local mode. */
  roles: RoleCredentialSource;
  close(): Promise<void>;
}

/**
 * Starts local mode's stand-ins and points this process's AWS SDK at them: DynamoDB and CodeDeploy
 * endpoints on 127.0.0.1, fixed fake credentials (so no profile, SSO or metadata lookup can reach
 * AWS), a region when none is set. Channels are not sent in local mode (the console outbox).
 */
export async function startLocalEnvironment(env: NodeJS.ProcessEnv, logger: Logger, cwd = process.cwd()): Promise<LocalEnvironment> {
  const dataDir = path.join(cwd, LOCAL_DATA_DIR);
  const dynamo = await startEmbeddedDynamo(dataDir);
  const codeDeploy = await startCodeDeployServer({ model: new CodeDeployModel({ newId: randomDeploymentId }) });
  Object.assign(env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_CODEDEPLOY: codeDeploy.url,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_REGION: env.AWS_REGION ?? 'us-east-1',
  });
  delete env.AWS_SESSION_TOKEN;
  delete env.AWS_PROFILE;
  logger.info({ dataDir, dynamodb: dynamo.endpoint, codedeploy: codeDeploy.url }, 'local mode: embedded DynamoDB and CodeDeploy simulator started');
  return {
    dataDir,
    dynamo,
    codeDeploy,
    roles: {
      get: async () => ({ accessKeyId: 'local', secretAccessKey: 'local', sessionToken: 'local', expiration: Date.now() + 3_600_000 }),
      destroy: () => undefined,
    },
    close: async () => {
      await codeDeploy.close();
      await dynamo.close();
    },
  };
}
