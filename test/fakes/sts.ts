// A fake AWS STS (awsQuery over node:http) for tests: AssumeRole issues numbered temporary
// credentials (ASIAFAKE0001, ...) whose expiration follows an injectable clock; GetCallerIdentity
// names a fixed account. Roles can be denied. The real STSClient talks to it through
// AWS_ENDPOINT_URL_STS.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One AssumeRole call as the fake saw it. */
export interface AssumeRoleCall {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  /** Access key id of the caller (from the SigV4 Authorization header). */
  callerKey?: string;
  /** The access key id issued, when the call succeeded. */
  issued?: string;
}

/** A running fake STS. */
export interface FakeSts {
  url: string;
  env: Record<string, string>;
  /** Every AssumeRole call, in order. */
  calls: AssumeRoleCall[];
  /** Roles answered with 403 AccessDenied. */
  denied: Set<string>;
  /** Number of upcoming requests answered with 503. */
  failNext: number;
  close(): Promise<void>;
}

/** Options of `startFakeSts`. */
export interface FakeStsOptions {
  /** Epoch milliseconds used for `Expiration`; default Date.now. */
  clock?: () => number;
  /** Account returned by GetCallerIdentity; default 111122223333. */
  account?: string;
}

/** Starts the fake on 127.0.0.1:0. */
export async function startFakeSts(options: FakeStsOptions = {}): Promise<FakeSts> {
  const clock = options.clock ?? Date.now;
  const account = options.account ?? '111122223333';
  let issuedCount = 0;
  const fake: FakeSts = {
    url: '',
    env: {},
    calls: [],
    denied: new Set(),
    failNext: 0,
    close: async () => undefined,
  };

  const server = createServer((req, res) => {
    readBody(req).then((body) => {
      const form = new URLSearchParams(body);
      if (fake.failNext > 0) {
        fake.failNext -= 1;
        return sendError(res, 503, 'Receiver', 'ServiceUnavailable', 'injected failure');
      }
      const action = form.get('Action');
      if (action === 'GetCallerIdentity') {
        return sendXml(res, 200, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${account}:user/daemon</Arn><UserId>AIDAFAKE</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`);
      }
      if (action !== 'AssumeRole') return sendError(res, 400, 'Sender', 'InvalidAction', `unsupported action ${action ?? ''}`);
      const roleArn = form.get('RoleArn') ?? '';
      const durationSeconds = Number(form.get('DurationSeconds') ?? 3600);
      const callerKey = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
      const call: AssumeRoleCall = { roleArn, sessionName: form.get('RoleSessionName') ?? '', durationSeconds, ...(callerKey ? { callerKey } : {}) };
      fake.calls.push(call);
      if (fake.denied.has(roleArn)) {
        return sendError(res, 403, 'Sender', 'AccessDenied', `User: arn:aws:iam::${account}:user/daemon is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
      }
      issuedCount += 1;
      const key = `ASIAFAKE${String(issuedCount).padStart(4, '0')}`;
      call.issued = key;
      const expiration = new Date(clock() + durationSeconds * 1000).toISOString();
      return sendXml(res, 200, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>secret-${key}</SecretAccessKey><SessionToken>token-${key}</SessionToken><Expiration>${expiration}</Expiration></Credentials><AssumedRoleUser><Arn>${roleArn}/session</Arn><AssumedRoleId>AROAFAKE:session</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r-${issuedCount}</RequestId></ResponseMetadata></AssumeRoleResponse>`);
    }).catch(() => sendError(res, 500, 'Receiver', 'InternalFailure', 'fake STS failed'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;
  fake.env = { AWS_ENDPOINT_URL_STS: fake.url };
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) });
  res.end(xml);
}

function sendError(res: ServerResponse, status: number, type: string, code: string, message: string): void {
  sendXml(res, status, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-err</RequestId></ErrorResponse>`);
}
