import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodeDeployModel, SimApiError, type SimDeployment } from './codedeploy-model.js';

export { CodeDeployModel, SimApiError, seededRandom, TERMINAL_SIM_STATUSES } from './codedeploy-model.js';
export type { CreateSimDeployment, SetStatusOptions, SimDeployment, SimOverview, SimRevision, SimStatus } from './codedeploy-model.js';

/** The operations the fake answers. Anything else gets UnknownOperationException. */
export const FAKE_CODEDEPLOY_OPERATIONS = [
  'ListApplications',
  'ListDeploymentGroups',
  'ListDeployments',
  'BatchGetDeployments',
  'GetDeployment',
] as const;

/** BatchGetDeployments takes at most this many ids (current API model). */
export const BATCH_GET_LIMIT = 25;

/** An error the server answers with instead of doing the work. */
export interface ScriptedError {
  /** Only requests for this operation consume it; default: any operation. */
  operation?: string;
  /** HTTP status; default 400. */
  status?: number;
  /** awsJson error type, such as ThrottlingException, AccessDeniedException or InternalFailure. */
  type: string;
  message?: string;
}

/** Fault injection knobs; change them at any time through `server.faults`. */
export interface FaultSettings {
  /** Probability (0-1) that a request is answered with ThrottlingException (HTTP 400). */
  throttleRate: number;
  /** Which operations throttling applies to; default all. */
  throttleOperations?: readonly string[];
  /** Delay before every answer, in milliseconds. */
  latencyMs: number;
  /** Source of randomness for throttling; use `seededRandom(seed)` for reproducible runs. */
  random: () => number;
  /** Requests signed with these access key ids get AccessDeniedException (an account whose policy forbids reading). */
  deniedAccessKeys: Set<string>;
}

/** Options of `startCodeDeployServer`. */
export interface CodeDeployServerOptions {
  /** The model to serve; default a new one on `clock`. */
  model?: CodeDeployModel;
  /** Clock of a new model (epoch milliseconds); ignored when `model` is given. */
  clock?: () => number;
  /** Items per page for ListDeployments, ListApplications and ListDeploymentGroups; default 100. */
  pageSize?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  faults?: Partial<FaultSettings>;
}

/** A running fake CodeDeploy. */
export interface CodeDeployServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `{ AWS_ENDPOINT_URL_CODEDEPLOY: url }` for child processes or `Object.assign(process.env, ...)`. */
  readonly env: Record<string, string>;
  readonly model: CodeDeployModel;
  readonly faults: FaultSettings;
  pageSize: number;
  /** Queues errors; each is consumed by the next request (of its operation, when named). */
  scriptErrors(...errors: ScriptedError[]): void;
  /** Queues `count` answers of HTTP `status` (default 503) for any operation: a burst of server errors. */
  burst(count: number, status?: number): void;
  /** Requests received per operation since start or the last `resetCounts` (throttled and failed ones included). */
  counts(): Record<string, number>;
  /** Total requests since start or the last `resetCounts`. */
  total(): number;
  /** Requests per SigV4 access key id (from the Authorization header), since the last `resetCounts`. */
  accessKeys(): Record<string, number>;
  resetCounts(): void;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'CodeDeploy_20141006.';

/**
 * Starts a fake AWS CodeDeploy (awsJson1_1 over node:http) on 127.0.0.1. The real SDK client
 * talks to it through `AWS_ENDPOINT_URL_CODEDEPLOY`. It serves ListApplications,
 * ListDeploymentGroups, ListDeployments (application+group or neither, createTimeRange,
 * includeOnlyStatuses, nextToken pagination), BatchGetDeployments (at most 25 ids) and
 * GetDeployment from `model`, with injected throttling, scripted errors and latency, and counts
 * requests per operation. It never checks signatures; it only records the access key id.
 */
export async function startCodeDeployServer(options: CodeDeployServerOptions = {}): Promise<CodeDeployServer> {
  const model = options.model ?? new CodeDeployModel(options.clock ? { clock: options.clock } : {});
  const faults: FaultSettings = { throttleRate: 0, latencyMs: 0, random: Math.random, deniedAccessKeys: new Set(), ...options.faults };
  const scripted: ScriptedError[] = [];
  let counts: Record<string, number> = {};
  let keys: Record<string, number> = {};
  const timers = new Set<NodeJS.Timeout>();

  const state = { pageSize: options.pageSize ?? 100 };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target;
    counts[operation] = (counts[operation] ?? 0) + 1;
    const key = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    if (key) keys[key] = (keys[key] ?? 0) + 1;
    if (faults.latencyMs > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, faults.latencyMs);
        timers.add(timer);
      });
    }
    if (key && faults.deniedAccessKeys.has(key)) {
      sendError(res, 400, 'AccessDeniedException', `User with access key ${key} is not authorized to perform: codedeploy:${operation}`);
      return;
    }
    const index = scripted.findIndex((e) => e.operation === undefined || e.operation === operation);
    if (index >= 0) {
      const [error] = scripted.splice(index, 1) as [ScriptedError];
      sendError(res, error.status ?? 400, error.type, error.message ?? `scripted ${error.type}`);
      return;
    }
    if (faults.throttleRate > 0 && (!faults.throttleOperations || faults.throttleOperations.includes(operation)) && faults.random() < faults.throttleRate) {
      sendError(res, 400, 'ThrottlingException', 'Rate exceeded');
      return;
    }
    let input: Record<string, unknown>;
    try {
      input = body.length ? (JSON.parse(body) as Record<string, unknown>) : {};
    } catch {
      sendError(res, 400, 'SerializationException', 'request body is not JSON');
      return;
    }
    try {
      send(res, 200, answer(model, operation, input, state.pageSize));
    } catch (error) {
      if (error instanceof SimApiError) sendError(res, error.status, error.type, error.message);
      else sendError(res, 500, 'InternalFailure', error instanceof Error ? error.message : String(error));
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalFailure', error instanceof Error ? error.message : String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}`;

  return {
    url,
    env: { AWS_ENDPOINT_URL_CODEDEPLOY: url },
    model,
    faults,
    get pageSize() {
      return state.pageSize;
    },
    set pageSize(value: number) {
      state.pageSize = value;
    },
    scriptErrors: (...errors) => {
      scripted.push(...errors);
    },
    burst: (count, status = 503) => {
      for (let i = 0; i < count; i += 1) scripted.push({ status, type: status === 503 ? 'ServiceUnavailableException' : 'InternalFailure', message: 'injected server error' });
    },
    counts: () => ({ ...counts }),
    total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
    accessKeys: () => ({ ...keys }),
    resetCounts: () => {
      counts = {};
      keys = {};
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(model: CodeDeployModel, operation: string, input: Record<string, unknown>, pageSize: number): unknown {
  switch (operation) {
    case 'ListApplications': {
      const page = paginate(model.applicationNames(), optionalString(input, 'nextToken'), pageSize, (name) => name);
      return { applications: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    }
    case 'ListDeploymentGroups': {
      const application = optionalString(input, 'applicationName');
      if (!application) throw new SimApiError('ApplicationNameRequiredException', 'The minimum number of required application names was not specified.');
      const page = paginate(model.groupNames(application), optionalString(input, 'nextToken'), pageSize, (name) => name);
      return { applicationName: application, deploymentGroups: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    }
    case 'ListDeployments': {
      const applicationName = optionalString(input, 'applicationName');
      const deploymentGroupName = optionalString(input, 'deploymentGroupName');
      if (applicationName !== undefined && deploymentGroupName === undefined) {
        throw new SimApiError('DeploymentGroupNameRequiredException', 'If applicationName is specified, then deploymentGroupName must be specified.');
      }
      if (applicationName === undefined && deploymentGroupName !== undefined) {
        throw new SimApiError('ApplicationNameRequiredException', 'If deploymentGroupName is specified, then applicationName must be specified.');
      }
      const range = (input.createTimeRange ?? {}) as { start?: unknown; end?: unknown };
      const start = optionalEpoch(range.start, 'createTimeRange.start');
      const end = optionalEpoch(range.end, 'createTimeRange.end');
      if (start !== undefined && end !== undefined && start > end) throw new SimApiError('InvalidTimeRangeException', 'The specified time range was specified incorrectly.');
      const statuses = Array.isArray(input.includeOnlyStatuses) ? (input.includeOnlyStatuses as unknown[]).map(String) : undefined;
      const matches = model.list({
        ...(applicationName !== undefined ? { applicationName } : {}),
        ...(deploymentGroupName !== undefined ? { deploymentGroupName } : {}),
        ...(start !== undefined ? { createdFrom: start } : {}),
        ...(end !== undefined ? { createdTo: end } : {}),
        ...(statuses ? { statuses } : {}),
      });
      const page = paginateDeployments(matches, optionalString(input, 'nextToken'), pageSize);
      return { deployments: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    }
    case 'BatchGetDeployments': {
      const ids = Array.isArray(input.deploymentIds) ? (input.deploymentIds as unknown[]).map(String) : [];
      if (ids.length === 0) throw new SimApiError('DeploymentIdRequiredException', 'At least one deployment ID must be specified.');
      if (ids.length > BATCH_GET_LIMIT) throw new SimApiError('BatchLimitExceededException', `The maximum number of names or IDs allowed for this request (${BATCH_GET_LIMIT}) was exceeded.`);
      const found = ids.map((id) => model.read(id)).filter((d): d is SimDeployment => d !== undefined);
      return { deploymentsInfo: found.map(toWire) };
    }
    case 'GetDeployment': {
      const id = optionalString(input, 'deploymentId');
      if (!id) throw new SimApiError('DeploymentIdRequiredException', 'At least one deployment ID must be specified.');
      const deployment = model.read(id);
      if (!deployment) throw new SimApiError('DeploymentDoesNotExistException', `The deployment ${id} could not be found.`);
      return { deploymentInfo: toWire(deployment) };
    }
    default:
      throw new SimApiError('UnknownOperationException', `the fake CodeDeploy does not implement ${operation || '(no x-amz-target)'}`);
  }
}

/** A deployment in the API's JSON form: epoch seconds, possibly fractional. */
function toWire(d: SimDeployment): Record<string, unknown> {
  const { listedFrom: _unlisted, readableFrom: _unreadable, createTime, startTime, completeTime, ...rest } = d;
  return {
    ...rest,
    createTime: createTime / 1000,
    ...(startTime !== undefined ? { startTime: startTime / 1000 } : {}),
    ...(completeTime !== undefined ? { completeTime: completeTime / 1000 } : {}),
  };
}

function paginate<T>(items: readonly T[], token: string | undefined, pageSize: number, keyOf: (item: T) => string): { items: T[]; nextToken?: string } {
  let from = 0;
  if (token !== undefined) {
    const after = decodeToken(token);
    if (typeof after !== 'string') throw new SimApiError('InvalidNextTokenException', 'The next token was specified in an invalid format.');
    from = items.findIndex((item) => keyOf(item) > after);
    if (from < 0) from = items.length;
  }
  const page = items.slice(from, from + pageSize);
  const last = page[page.length - 1];
  return from + pageSize < items.length && last !== undefined ? { items: page, nextToken: encodeToken(keyOf(last)) } : { items: page };
}

/** Keyset pagination over newest-first deployments: robust to deployments created between pages. */
function paginateDeployments(items: readonly SimDeployment[], token: string | undefined, pageSize: number): { items: string[]; nextToken?: string } {
  let rest = items;
  if (token !== undefined) {
    const after = decodeToken(token);
    if (!Array.isArray(after) || typeof after[0] !== 'number' || typeof after[1] !== 'string') {
      throw new SimApiError('InvalidNextTokenException', 'The next token was specified in an invalid format.');
    }
    const [time, id] = after as [number, string];
    rest = items.filter((d) => d.createTime < time || (d.createTime === time && d.deploymentId < id));
  }
  const page = rest.slice(0, pageSize);
  const last = page[page.length - 1];
  return {
    items: page.map((d) => d.deploymentId),
    ...(rest.length > pageSize && last ? { nextToken: encodeToken([last.createTime, last.deploymentId]) } : {}),
  };
}

function encodeToken(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeToken(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
  } catch {
    throw new SimApiError('InvalidNextTokenException', 'The next token was specified in an invalid format.');
  }
}

function optionalString(input: Record<string, unknown>, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SimApiError('SerializationException', `${key} must be a string`);
  return value;
}

function optionalEpoch(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new SimApiError('SerializationException', `${name} must be epoch seconds`);
  return Math.round(value * 1000);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': 'fake-codedeploy' });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string, message: string): void {
  send(res, status, { __type: type, message });
}
