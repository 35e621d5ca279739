// A fake NerdGraph endpoint for the New Relic channel: answers changeTrackingCreateEvent like
// New Relic does (200 with data, or 200 with GraphQL `errors`), and refuses requests without an
// API-Key header or with another mutation, so a wrong request shape fails loudly.
import { startHttpRecorder, type HttpRecorder, type RecordedRequest, type ScriptedResponse } from './http-recorder.js';

/** A running NerdGraph fake. */
export interface NerdGraphFake {
  recorder: HttpRecorder;
  /** The URL to use as the channel's `endpoint`. */
  url: string;
  /** The `changeTrackingEvent` variable of every request, in order. */
  events(): Record<string, unknown>[];
  /** Queues answers for the next requests. */
  respondWith(...responses: ScriptedResponse[]): void;
  close(): Promise<void>;
}

/** Documented answers, ready to queue. */
export const NERDGRAPH_ANSWERS = {
  ok: (id = 'ct-0001'): ScriptedResponse => ({
    status: 200,
    body: { data: { changeTrackingCreateEvent: { changeTrackingEvent: { changeTrackingId: id }, messages: [] } } },
  }),
  /** A validation failure: New Relic answers 200 with `errors`. */
  badInput: (): ScriptedResponse => ({
    status: 200,
    body: {
      data: { changeTrackingCreateEvent: null },
      errors: [{ message: 'No entities found for entitySearch query', path: ['changeTrackingCreateEvent'], extensions: { errorClass: 'BAD_USER_INPUT' } }],
    },
  }),
  /** A transient failure inside a 200. */
  timeout: (): ScriptedResponse => ({
    status: 200,
    body: { data: null, errors: [{ message: 'Request timed out', extensions: { errorClass: 'TIMEOUT' } }] },
  }),
  /** A 200 with no event and only messages. */
  noEvent: (): ScriptedResponse => ({
    status: 200,
    body: { data: { changeTrackingCreateEvent: { changeTrackingEvent: null, messages: ['Entity not found'] } } },
  }),
  unauthorized: (): ScriptedResponse => ({ status: 401, body: { errors: [{ message: 'Invalid API key' }] } }),
} as const;

function check(request: RecordedRequest): ScriptedResponse | undefined {
  if (!request.headers['api-key']) return { status: 401, body: { errors: [{ message: 'Missing API key' }] } };
  let body: { query?: unknown; variables?: { changeTrackingEvent?: unknown } };
  try {
    body = request.json();
  } catch {
    return { status: 400, body: { errors: [{ message: 'Body is not JSON' }] } };
  }
  if (typeof body.query !== 'string' || !body.query.includes('changeTrackingCreateEvent(changeTrackingEvent: $changeTrackingEvent)')) {
    return { status: 200, body: { errors: [{ message: 'Unexpected query', extensions: { errorClass: 'BAD_USER_INPUT' } }] } };
  }
  if (typeof body.variables?.changeTrackingEvent !== 'object') {
    return { status: 200, body: { errors: [{ message: 'Variable "$changeTrackingEvent" of required type "ChangeTrackingCreateEventInput!" was not provided.' }] } };
  }
  return undefined;
}

/** Starts the fake on 127.0.0.1:0 (path /graphql). */
export async function startNerdGraphFake(): Promise<NerdGraphFake> {
  let n = 0;
  const recorder = await startHttpRecorder({
    default: (request) => {
      const refused = check(request);
      if (refused) return refused;
      n += 1;
      return NERDGRAPH_ANSWERS.ok(`ct-${String(n).padStart(4, '0')}`);
    },
  });
  return {
    recorder,
    url: `${recorder.url}/graphql`,
    events: () => recorder.requests.map((r) => (r.json<{ variables: { changeTrackingEvent: Record<string, unknown> } }>()).variables.changeTrackingEvent),
    respondWith: (...responses) => recorder.respondWith(...responses),
    close: () => recorder.close(),
  };
}
