import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Options for the DynamoDB clients. No `endpoint`: AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL win. */
export interface DynamoOptions {
  region?: string;
  /** SDK attempts per call (DynamoDB's default is 4 on real AWS too). */
  maxAttempts?: number;
  /** Per-request timeout in milliseconds. */
  requestTimeoutMs?: number;
}

/** The low-level client (for table admin) and the document client (for items), sharing one connection pool. */
export interface DynamoClients {
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  destroy(): void;
}

/**
 * Creates the DynamoDB clients. Region comes from `options.region` or AWS_REGION; credentials from
 * the default chain; endpoint from the SDK's standard variables. Requests time out (the SDK has no
 * timeout by default) so a dead endpoint surfaces as a retryable error instead of a hang.
 */
export function createDynamoClients(options: DynamoOptions = {}): DynamoClients {
  const client = new DynamoDBClient({
    ...(options.region ? { region: options.region } : {}),
    maxAttempts: options.maxAttempts ?? 4,
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? 5_000, throwOnRequestTimeout: true },
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  return { client, doc, destroy: () => client.destroy() };
}
