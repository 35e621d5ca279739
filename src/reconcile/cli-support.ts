import type { CliIO } from '../commands/io.js';
import { renderIssues } from '../config/report.js';
import { logLevelSetting, tablePrefixSetting } from '../config/settings.js';
import type { LoadResult } from '../config/types.js';
import { NotifyError, StoreError, errorMessage } from '../core/errors.js';
import { createLogger, type Logger } from '../core/log.js';
import { DynamoAuditTrail } from '../store/audit.js';
import { createDynamoClients, type DynamoClients } from '../store/dynamo.js';
import { DynamoRegistrationStore } from '../store/registrations.js';
import { tableNames, type TableNames } from '../store/tables.js';
import { DynamoApplyLock } from './lock.js';

/** What `plan`, `apply` and `init` share: clients, table names, the store, audit trail and lock, a logger on stderr. */
export interface StoreContext {
  clients: DynamoClients;
  names: TableNames;
  store: DynamoRegistrationStore;
  audit: DynamoAuditTrail;
  lock: DynamoApplyLock;
  logger: Logger;
  /** Where DynamoDB is, for messages: the endpoint variable's value, or the region. */
  endpoint: string;
  close(): void;
}

/** Flags every store command takes. */
export interface StoreFlags {
  tablePrefix?: string;
  logLevel?: string;
}

/**
 * Builds the store context from flags and environment (SPEC's configuration; endpoints only from
 * AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL through the SDK). Throws UsageError for bad flags.
 */
export function openStoreContext(flags: StoreFlags, io: CliIO): StoreContext {
  const prefix = tablePrefixSetting(flags.tablePrefix, io.env);
  const logger = commandLogger(flags, io);
  const names = tableNames(prefix);
  const clients = createDynamoClients({ maxAttempts: 3, requestTimeoutMs: 5_000 });
  return {
    clients,
    names,
    store: new DynamoRegistrationStore(clients.doc, names.registrations, { logger }),
    audit: new DynamoAuditTrail(clients.doc, names.state),
    lock: new DynamoApplyLock(clients.doc, names.state),
    logger,
    endpoint: describeDynamoEndpoint(io.env),
    close: () => clients.destroy(),
  };
}

/** A pino logger writing JSON lines to the command's stderr, at `--log-level` / LOG_LEVEL. */
export function commandLogger(flags: { logLevel?: string }, io: CliIO): Logger {
  return createLogger({ level: logLevelSetting(flags.logLevel, io.env), destination: { write: (line: string) => io.err(line) } });
}

/** `http://localhost:8000 from AWS_ENDPOINT_URL_DYNAMODB`, or `the AWS endpoint of region us-east-1`. */
export function describeDynamoEndpoint(env: NodeJS.ProcessEnv): string {
  if (env.AWS_ENDPOINT_URL_DYNAMODB) return `${env.AWS_ENDPOINT_URL_DYNAMODB} from AWS_ENDPOINT_URL_DYNAMODB`;
  if (env.AWS_ENDPOINT_URL) return `${env.AWS_ENDPOINT_URL} from AWS_ENDPOINT_URL`;
  return env.AWS_REGION ? `the AWS endpoint of region ${env.AWS_REGION}` : 'the AWS endpoint (AWS_REGION is not set)';
}

/** A store failure as one line naming the endpoint; other errors pass through unchanged. */
export function withEndpoint(error: unknown, endpoint: string): unknown {
  if (error instanceof StoreError) return new StoreError(`${error.message}; DynamoDB endpoint: ${endpoint}`, { cause: error.cause });
  if (error instanceof NotifyError) return error;
  // the SDK's own errors (missing region, credentials) are not StoreErrors when thrown before a request
  if (error instanceof Error && !(error instanceof TypeError)) return new StoreError(`DynamoDB failed: ${errorMessage(error)}; DynamoDB endpoint: ${endpoint}`, { cause: error });
  return error;
}

/** Prints the loader's issues (the `validate` text form) on stderr, then why nothing happened. */
export function reportInvalid(io: CliIO, result: LoadResult, consequence: string, label?: string): void {
  if (label) io.err(`${label}:\n`);
  io.err(renderIssues(result, 'text'));
  io.err(`error: invalid registration files; ${consequence}\n`);
}
