// A local stand-in for the Twilio REST API (2010-04-01): Messages.json, Calls.json
// and Calls/{Sid}.json, with HTTP Basic auth, Twilio's JSON resource shapes and
// Twilio's error format. It records every request so tests can assert on what the
// real SDK sent. Failures can be scripted per resource. It also serves the media of
// incoming messages (MMS) as Twilio does: the API link (basic auth, when the
// account enforces it) answers 307 to the file on the file host (a server of its
// own here, on another port: another host), which takes none.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Resource = 'messages' | 'calls' | 'call-update';

export interface Recorded {
  resource: Resource | 'media' | 'media-file' | 'unknown';
  /** Whether the request carried an Authorization header. */
  authorized?: boolean;
  method: string;
  path: string;
  /** Form parameters as sent (a repeated key becomes an array). */
  params: Record<string, string | string[]>;
  /** The SID of the created or updated resource. */
  sid: string | null;
  status: number;
}

export interface ScriptedFailure {
  status: number;
  code: number;
  message: string;
}

const API = '/2010-04-01/Accounts';

export function newSid(prefix: string): string {
  return `${prefix}${randomBytes(16).toString('hex')}`;
}

export class TwilioStandIn {
  readonly requests: Recorded[] = [];
  readonly #server: Server;
  /** The file host media links redirect to. */
  readonly #files: Server;
  #filesUrl = '';
  readonly #accountSid: string;
  readonly #authToken: string;
  /** The next requests' scripted answers, in order: a failure, or null to answer as usual. */
  readonly #failures: Record<Resource, Array<ScriptedFailure | null>> = {
    messages: [],
    calls: [],
    'call-update': [],
  };
  readonly #ended = new Set<string>();
  readonly #waiters: Array<{ match: (r: Recorded) => boolean; resolve: (r: Recorded) => void }> = [];
  /** Media of incoming messages, by its ME sid. */
  readonly #media = new Map<string, { content: Buffer; type: string }>();
  #url = '';

  private constructor(accountSid: string, authToken: string) {
    this.#accountSid = accountSid;
    this.#authToken = authToken;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    this.#files = createServer((req, res) => this.#file(req, res));
  }

  static async start(accountSid: string, authToken: string): Promise<TwilioStandIn> {
    const standIn = new TwilioStandIn(accountSid, authToken);
    await new Promise<void>((resolve) => standIn.#server.listen(0, '127.0.0.1', resolve));
    standIn.#url = `http://127.0.0.1:${(standIn.#server.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => standIn.#files.listen(0, '127.0.0.1', resolve));
    standIn.#filesUrl = `http://127.0.0.1:${(standIn.#files.address() as AddressInfo).port}`;
    return standIn;
  }

  /** Base URL to send `https://api.twilio.com/…` requests to. */
  get url(): string {
    return this.#url;
  }

  /**
   * A media item of an incoming message: its link as Twilio gives it in `MediaUrl<n>` (under the API; basic
   * auth), which redirects to the file on the file host (`/cdn/<sid>`, no auth).
   */
  addMedia(content: Buffer, type: string, messageSid = newSid('MM')): string {
    const sid = newSid('ME');
    this.#media.set(sid, { content, type });
    return `${this.#url}${API}/${this.#accountSid}/Messages/${messageSid}/Media/${sid}`;
  }

  /** Parameters of the messages created (`messages.create`), in order. */
  messages(): Array<Record<string, string | string[]>> {
    return this.requests.filter((r) => r.resource === 'messages' && r.status === 201).map((r) => r.params);
  }

  /** Parameters of the calls created (`calls.create`), with their SIDs. */
  calls(): Array<{ sid: string; params: Record<string, string | string[]> }> {
    return this.requests
      .filter((r) => r.resource === 'calls' && r.status === 201)
      .map((r) => ({ sid: r.sid!, params: r.params }));
  }

  /** Successful updates of live calls (`calls(sid).update`), in order. */
  callUpdates(): Array<{ sid: string; params: Record<string, string | string[]> }> {
    return this.requests
      .filter((r) => r.resource === 'call-update' && r.status === 200)
      .map((r) => ({ sid: r.sid!, params: r.params }));
  }

  /** The next `count` requests to `resource` (after `after` answered as usual) fail with Twilio's error format. */
  failNext(resource: Resource, failure: ScriptedFailure, count = 1, after = 0): void {
    for (let i = 0; i < after; i++) this.#failures[resource].push(null);
    for (let i = 0; i < count; i++) this.#failures[resource].push(failure);
  }

  /** The call is over: updating it fails the way Twilio's does (21220). */
  endCall(sid: string): void {
    this.#ended.add(sid);
  }

  /** The first recorded request matching `match`, now or when it arrives. */
  waitFor(match: (r: Recorded) => boolean, timeoutMs = 3000): Promise<Recorded> {
    const hit = this.requests.find(match);
    if (hit) return Promise.resolve(hit);
    return new Promise<Recorded>((resolve, reject) => {
      const waiter = {
        match,
        resolve: (r: Recorded) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`stand-in: no matching request within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    for (const server of [this.#server, this.#files]) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }

  /** The file host: a media item's bytes by `/cdn/<ME sid>`, asking no credentials. */
  #file(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const sid = req.method === 'GET' ? path.match(/^\/cdn\/(ME[0-9a-f]{32})$/)?.[1] : undefined;
    const file = sid ? this.#media.get(sid) : undefined;
    this.requests.push({
      resource: 'media-file',
      authorized: req.headers.authorization !== undefined,
      method: req.method ?? '',
      path,
      params: {},
      sid: sid ?? null,
      status: file ? 200 : 404,
    });
    if (!file) {
      send(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));
      return;
    }
    res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.content.length });
    res.end(file.content);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = formParams(Buffer.concat(chunks).toString('utf8'));
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const record = (resource: Recorded['resource'], sid: string | null, status: number) => {
      const r: Recorded = { resource, method: req.method ?? '', path, params, sid, status };
      this.requests.push(r);
      for (const w of [...this.#waiters]) {
        if (w.match(r)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(r);
        }
      }
    };

    if (!this.#authorized(req.headers.authorization)) {
      record('unknown', null, 401);
      return send(res, 401, twilioError(401, 20003, 'Authenticate'));
    }
    const base = `${API}/${this.#accountSid}`;
    const media =
      req.method === 'GET'
        ? path.match(new RegExp(`^${base}/Messages/(?:MM|SM)[0-9a-f]{32}/Media/(ME[0-9a-f]{32})$`))
        : null;
    if (media) {
      const known = this.#media.has(media[1]!);
      this.requests.push({
        resource: 'media',
        authorized: true,
        method: 'GET',
        path,
        params,
        sid: media[1]!,
        status: known ? 307 : 404,
      });
      if (!known)
        return send(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));
      res.writeHead(307, { Location: `${this.#filesUrl}/cdn/${media[1]!}`, 'Content-Length': 0 });
      return void res.end();
    }
    const callUpdate = path.match(new RegExp(`^${base}/Calls/(CA[0-9a-f]{32})\\.json$`));
    let resource: Resource | null = null;
    if (req.method === 'POST' && path === `${base}/Messages.json`) resource = 'messages';
    else if (req.method === 'POST' && path === `${base}/Calls.json`) resource = 'calls';
    else if (req.method === 'POST' && callUpdate) resource = 'call-update';
    if (!resource) {
      record('unknown', null, 404);
      return send(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));
    }
    const failure = this.#failures[resource].shift();
    if (failure) {
      record(resource, null, failure.status);
      return send(res, failure.status, twilioError(failure.status, failure.code, failure.message));
    }
    const one = (key: string) => {
      const v = params[key];
      return Array.isArray(v) ? v[0] : v;
    };
    const now = new Date().toUTCString().replace('GMT', '+0000');

    if (resource === 'messages') {
      const to = one('To');
      if (!to) return this.#reject(record, res, resource, 21604, "A 'To' phone number is required.");
      if (!one('From') && !one('MessagingServiceSid'))
        return this.#reject(record, res, resource, 21603, "A 'From' phone number is required.");
      if (!one('Body') && !one('MediaUrl'))
        return this.#reject(record, res, resource, 21602, 'Message body is required.');
      if ((one('Body') ?? '').length > 1600)
        return this.#reject(
          record,
          res,
          resource,
          21617,
          'The concatenated message body exceeds the 1600 character limit.',
        );
      const sid = newSid('SM');
      record(resource, sid, 201);
      return send(res, 201, {
        account_sid: this.#accountSid,
        api_version: '2010-04-01',
        body: one('Body') ?? '',
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: 'outbound-api',
        error_code: null,
        error_message: null,
        from: one('From') ?? null,
        messaging_service_sid: one('MessagingServiceSid') ?? null,
        num_media: '0',
        num_segments: '1',
        price: null,
        price_unit: 'USD',
        sid,
        status: 'queued',
        subresource_uris: { media: `${base}/Messages/${sid}/Media.json` },
        to,
        uri: `${base}/Messages/${sid}.json`,
      });
    }

    if (resource === 'calls') {
      const to = one('To');
      const from = one('From');
      if (!to) return this.#reject(record, res, resource, 21201, "No 'To' number is specified");
      if (!from) return this.#reject(record, res, resource, 21213, "No 'From' number is specified");
      if (!one('Url') && !one('Twiml') && !one('ApplicationSid'))
        return this.#reject(record, res, resource, 21205, 'Url parameter is required.');
      const sid = newSid('CA');
      record(resource, sid, 201);
      return send(res, 201, callJson(this.#accountSid, sid, to, from, 'queued', now, 'outbound-api'));
    }

    const sid = callUpdate![1]!;
    if (!one('Url') && !one('Twiml') && !one('Status'))
      return this.#reject(record, res, resource, 21205, 'Url parameter is required.', sid);
    if (this.#ended.has(sid)) {
      record(resource, sid, 400);
      return send(res, 400, twilioError(400, 21220, 'Call is not in-progress. Cannot redirect.'));
    }
    record(resource, sid, 200);
    const status =
      one('Status') === 'canceled' ? 'canceled' : one('Status') === 'completed' ? 'completed' : 'in-progress';
    return send(
      res,
      200,
      callJson(this.#accountSid, sid, '+15005550006', '+15005550006', status, now, 'inbound'),
    );
  }

  #reject(
    record: (resource: Resource, sid: string | null, status: number) => void,
    res: ServerResponse,
    resource: Resource,
    code: number,
    message: string,
    sid: string | null = null,
  ): void {
    record(resource, sid, 400);
    send(res, 400, twilioError(400, code, message));
  }

  #authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const [user, pass] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
    return user === this.#accountSid && pass === this.#authToken;
  }
}

function callJson(
  accountSid: string,
  sid: string,
  to: string,
  from: string,
  status: string,
  now: string,
  direction: string,
): Record<string, unknown> {
  return {
    account_sid: accountSid,
    annotation: null,
    answered_by: null,
    api_version: '2010-04-01',
    caller_name: null,
    date_created: now,
    date_updated: now,
    direction,
    duration: null,
    end_time: null,
    forwarded_from: null,
    from,
    from_formatted: from,
    group_sid: null,
    parent_call_sid: null,
    phone_number_sid: null,
    price: null,
    price_unit: 'USD',
    queue_time: '0',
    sid,
    start_time: null,
    status,
    subresource_uris: {},
    to,
    to_formatted: to,
    trunk_sid: null,
    uri: `${API}/${accountSid}/Calls/${sid}.json`,
  };
}

function twilioError(status: number, code: number, message: string): Record<string, unknown> {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function formParams(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const prev = out[key];
    if (prev === undefined) out[key] = value;
    else out[key] = Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
