// A fake Amazon SES v1 (awsQuery) for the real SESClient: point the SDK at it with
// AWS_ENDPOINT_URL_SES=fake.url (set before the client's first request). SendEmail answers with a
// MessageId unless errors are queued.
import { awsQueryError, awsQueryResult } from './sns.js';
import { startHttpRecorder, type HttpRecorder, type ScriptedResponse } from './http-recorder.js';

/** A running SES fake. */
export interface SesFake {
  recorder: HttpRecorder;
  url: string;
  /** The form parameters of every SendEmail request, in order. */
  sends(): Record<string, string>[];
  /** Queues awsQuery error answers for the next requests. */
  failWith(...errors: ScriptedResponse[]): void;
  close(): Promise<void>;
}

/** The documented SES errors, as the fake answers them. */
export const SES_ERRORS = {
  messageRejected: () => awsQueryError('MessageRejected', 400, 'Email address is not verified. The following identities failed the check in region US-EAST-1: deploys@example.com'),
  mailFromNotVerified: () => awsQueryError('MailFromDomainNotVerifiedException', 400, 'The MAIL FROM domain is not verified.'),
  configurationSetMissing: () => awsQueryError('ConfigurationSetDoesNotExist', 400, 'Configuration set <deploys> does not exist.'),
  throttling: () => awsQueryError('Throttling', 400, 'Maximum sending rate exceeded.'),
  serviceUnavailable: () => awsQueryError('ServiceUnavailable', 503, 'Service is unavailable. Please try again.'),
} as const;

/** Starts the fake on 127.0.0.1:0. */
export async function startSesFake(): Promise<SesFake> {
  let n = 0;
  const recorder = await startHttpRecorder({
    default: (request) => {
      const form = request.form();
      if (form.Action !== 'SendEmail') return awsQueryError('InvalidAction', 400, `The action ${form.Action ?? '(none)'} is not valid for this endpoint.`);
      n += 1;
      return awsQueryResult('SendEmail', `<MessageId>0100018f-ses-${n}</MessageId>`);
    },
  });
  return {
    recorder,
    url: recorder.url,
    sends: () => recorder.requests.map((r) => r.form()).filter((f) => f.Action === 'SendEmail'),
    failWith: (...errors) => recorder.respondWith(...errors),
    close: () => recorder.close(),
  };
}
