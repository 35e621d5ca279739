// A fake Amazon SNS (awsQuery) for the real SNSClient: point the SDK at it with
// AWS_ENDPOINT_URL_SNS=fake.url (set before the client's first request). Publish answers with a
// MessageId (and a SequenceNumber for FIFO topics) unless errors are queued. Also exports the
// awsQuery wire helpers the SES fake shares (AWS-FACTS: form-encoded POSTs to "/", XML answers with
// content-type text/xml, errors as <ErrorResponse>).
import { startHttpRecorder, type HttpRecorder, type ScriptedResponse } from './http-recorder.js';

/** Escapes text for an XML element. */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A successful awsQuery answer: `<{Action}Response><{Action}Result>{inner}</…Result><ResponseMetadata>…`. */
export function awsQueryResult(action: string, inner: string, requestId = 'req-1'): ScriptedResponse {
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<${action}Response><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
  };
}

/** An awsQuery error answer with the documented shape. */
export function awsQueryError(code: string, status: number, message: string, type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender'): ScriptedResponse {
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': 'req-err' },
    body: `<ErrorResponse><Error><Type>${type}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>req-err</RequestId></ErrorResponse>`,
  };
}

/** A running SNS fake. */
export interface SnsFake {
  recorder: HttpRecorder;
  url: string;
  /** The form parameters of every Publish request, in order. */
  publishes(): Record<string, string>[];
  /** Queues awsQuery error answers for the next requests. */
  failWith(...errors: ScriptedResponse[]): void;
  close(): Promise<void>;
}

/** The documented SNS errors, as the fake answers them. */
export const SNS_ERRORS = {
  notFound: () => awsQueryError('NotFound', 404, 'Topic does not exist'),
  authorization: () => awsQueryError('AuthorizationError', 403, 'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: SNS:Publish'),
  invalidParameter: () => awsQueryError('InvalidParameter', 400, 'Invalid parameter: Subject'),
  throttled: () => awsQueryError('Throttled', 400, 'Rate exceeded'),
  internal: () => awsQueryError('InternalError', 500, 'We encountered an internal error. Please try again.'),
} as const;

/** Starts the fake on 127.0.0.1:0. */
export async function startSnsFake(): Promise<SnsFake> {
  let n = 0;
  const recorder = await startHttpRecorder({
    default: (request) => {
      const form = request.form();
      if (form.Action !== 'Publish') return awsQueryError('InvalidAction', 400, `The action ${form.Action ?? '(none)'} is not valid for this endpoint.`);
      n += 1;
      const fifo = (form.TopicArn ?? '').endsWith('.fifo') ? `<SequenceNumber>${String(10000000000000000000n + BigInt(n))}</SequenceNumber>` : '';
      return awsQueryResult('Publish', `<MessageId>m-${n}</MessageId>${fifo}`);
    },
  });
  return {
    recorder,
    url: recorder.url,
    publishes: () => recorder.requests.map((r) => r.form()).filter((f) => f.Action === 'Publish'),
    failWith: (...errors) => recorder.respondWith(...errors),
    close: () => recorder.close(),
  };
}
