// A local stand-in for the Slack Web API (`POST /api/<method>`), for the real
// @slack/web-api client pointed at it with its `slackApiUrl` option. It checks
// the bot token, reads bodies the way Slack does (form-encoded with JSON-encoded
// `blocks`/`view`, or JSON), answers in Slack's format (`{ok: true, …}` or
// `{ok: false, error}`), and records every call. A method can be told to answer
// 429 with a Retry-After, or fail, the next times it is called. Response URLs
// (slash commands, actions) are served under `/respond/<id>` and recorded too,
// and files shared in Slack under `/files-pri/…`, to the bot token only. Files the app
// uploads go as Slack's upload flow has them: `files.getUploadURLExternal` gives an
// upload URL (served here under `/upload/<file id>`), the bytes are POSTed to it, and
// `files.completeUploadExternal` shares them in a channel or thread (`uploads`).
// What Slack refuses for its size is refused here too, with Slack's error: a message's
// text over 40,000 characters (`msg_too_long`), a form whose text field may take or
// holds more than Slack's forms take (`invalid_arguments`, see `viewRefusal`), and
// blocks Slack would not take (`blocksRefusal`: a section's text over 3,000
// characters, a static select over 100 options a group, a button's text over 75;
// `invalid_blocks` in a message).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';

export const BOT_USER_ID = 'U0BOT00001';
export const BOT_ID = 'B0BOT00001';
export const TEAM_ID = 'T0TEAM0001';
export const WORKSPACE_URL = 'https://switchboard-test.slack.com/';

export interface SlackCall {
  method: string;
  // biome-ignore lint/suspicious/noExplicitAny: recorded arguments are whatever the client sent
  args: Record<string, any>;
  /** The bearer token the client sent. */
  token: string | null;
  /** 200 answered ok, 400 answered `ok: false`, 429 rate limited, 0 not answered yet. */
  status: number;
  /** When it arrived (ms, this process's clock). */
  at: number;
  /** What the stand-in answered (the JSON body). */
  // biome-ignore lint/suspicious/noExplicitAny: Slack's answer
  answer: Record<string, any>;
}

export interface Responded {
  path: string;
  // biome-ignore lint/suspicious/noExplicitAny: whatever the app posted to the response URL
  body: any;
}

interface Scripted {
  kind: 'ratelimit' | 'error';
  retryAfter?: number;
  error?: string;
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);

/** The longest `text` Slack takes in a message (longer: `msg_too_long`). */
export const SLACK_TEXT_MAX = 40_000;
/** The longest a form's text field may be set to take, and a section's text. */
export const SLACK_INPUT_MAX = 3000;

/**
 * Why Slack would refuse a view as `invalid_arguments` (null: it would not): a text field allowed more than
 * 3,000 characters, or filled with more than it allows; a section's text over 3,000.
 */
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as sent
export function viewRefusal(view: any): string | null {
  const blocks = blocksRefusal(view?.blocks);
  if (blocks) return blocks;
  for (const block of Array.isArray(view?.blocks) ? view.blocks : []) {
    const element = block?.element;
    if (block?.type === 'input' && element?.type === 'plain_text_input') {
      const max = element.max_length ?? SLACK_INPUT_MAX;
      if (max > SLACK_INPUT_MAX) return `max_length ${max} is over ${SLACK_INPUT_MAX}`;
      if (typeof element.initial_value === 'string' && element.initial_value.length > max)
        return `initial_value is ${element.initial_value.length} characters, over ${max}`;
    }
    if (block?.type === 'section' && String(block.text?.text ?? '').length > SLACK_INPUT_MAX)
      return `a section's text is over ${SLACK_INPUT_MAX}`;
  }
  return null;
}

/** The most options a static select (or each of its groups) takes; a button's text; a message's blocks. */
const SELECT_OPTIONS_MAX = 100;
const BUTTON_TEXT_MAX = 75;
const BLOCKS_MAX = 50;

/**
 * Why Slack would refuse these blocks (null: it would not): over 50 of them, a section's text over 3,000
 * characters, a static select with more than 100 options (or a group of more), a button's text over 75.
 */
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as sent
export function blocksRefusal(blocks: any): string | null {
  if (blocks === undefined) return null;
  if (!Array.isArray(blocks)) return 'blocks is not a list';
  if (blocks.length > BLOCKS_MAX) return `${blocks.length} blocks, over ${BLOCKS_MAX}`;
  for (const block of blocks) {
    if (block?.type === 'section' && String(block.text?.text ?? '').length > SLACK_INPUT_MAX)
      return `a section's text is over ${SLACK_INPUT_MAX}`;
    const elements = [
      block?.accessory,
      block?.element,
      ...(Array.isArray(block?.elements) ? block.elements : []),
    ];
    for (const e of elements) {
      if (e?.type === 'static_select') {
        const lists = [
          e.options ?? [],
          ...(e.option_groups ?? []).map((g: { options?: unknown[] }) => g.options ?? []),
        ];
        if (lists.some((l: unknown[]) => l.length > SELECT_OPTIONS_MAX))
          return `a static select with over ${SELECT_OPTIONS_MAX} options`;
      }
      if (e?.type === 'button' && String(e.text?.text ?? '').length > BUTTON_TEXT_MAX)
        return `a button's text is over ${BUTTON_TEXT_MAX}`;
    }
  }
  return null;
}

export class SlackStandIn {
  readonly calls: SlackCall[] = [];
  readonly responses: Responded[] = [];
  readonly #server: Server;
  readonly #token: string;
  readonly #scripted = new Map<string, Scripted[]>();
  readonly #reactions = new Set<string>();
  readonly #waiters: Array<() => void> = [];
  readonly #held = new Map<
    string,
    // biome-ignore lint/suspicious/noExplicitAny: recorded arguments
    { promise: Promise<void>; release: () => void; match: (args: Record<string, any>) => boolean }
  >();
  #ts = 0;
  #responseUrls = 0;
  #url = '';
  /** Files shared in Slack, served under `/files-pri/<id>/<name>` to the bot token (`addFile`). */
  readonly #files = new Map<string, { type: string; bytes: Buffer }>();
  /** Whether the app was given `files:read`: without, a file's link answers Slack's sign-in page. */
  filesScope = true;
  /** Requests for files, with the bearer token they carried. */
  readonly fileReads: Array<{ path: string; token: string | null }> = [];
  /** Whether the app was given `files:write`: without, the upload flow answers `missing_scope`. */
  filesWriteScope = true;
  /** Channels the app was never invited to: posting there is refused (`not_in_channel`). */
  readonly notInChannels = new Set<string>();
  /** Files the app uploaded, by file id: as asked for, the bytes POSTed, and where they were shared. */
  readonly uploads = new Map<
    string,
    {
      filename: string;
      length: number;
      bytes: Buffer | null;
      shared: { channel: string; thread_ts?: string; title?: string } | null;
    }
  >();

  /**
   * What each channel holds, as `conversations.replies` answers it: the messages the app posted, the files it
   * shared in a thread, and those added as people's (`addPeopleMessage`); `chat.delete` and `files.delete`
   * take them away.
   */
  readonly messages: Array<{
    channel: string;
    ts: string;
    thread_ts?: string;
    user: string;
    bot_id?: string;
    text: string;
    files?: Array<{ id: string }>;
  }> = [];

  /** A message a person wrote in a channel (an agent in their thread): the app cannot delete it. */
  addPeopleMessage(
    channel: string,
    threadTs: string,
    user: string,
    text: string,
    ts = this.#nextTs(),
  ): string {
    this.messages.push({ channel, ts, thread_ts: threadTs, user, text });
    return ts;
  }

  private constructor(token: string) {
    this.#token = token;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
  }

  static async start(token: string): Promise<SlackStandIn> {
    const standIn = new SlackStandIn(token);
    await new Promise<void>((resolve) => standIn.#server.listen(0, '127.0.0.1', resolve));
    standIn.#url = `http://127.0.0.1:${(standIn.#server.address() as AddressInfo).port}`;
    return standIn;
  }

  /** The Web API base for the client's `slackApiUrl` option. */
  get apiUrl(): string {
    return `${this.#url}/api/`;
  }

  /** A file as a `file_share` message event lists it, its link served here. */
  addFile(name: string, mimetype: string, bytes: Buffer) {
    const id = `F${String(this.#files.size + 1).padStart(8, '0')}`;
    const path = `/files-pri/${TEAM_ID}-${id}/${encodeURIComponent(name)}`;
    this.#files.set(path, { type: mimetype, bytes });
    return {
      id,
      name,
      title: name,
      mimetype,
      size: bytes.length,
      url_private: `${this.#url}${path}`,
      url_private_download: `${this.#url}${path}?download=1`,
    };
  }

  /** A fresh response URL (what Slack puts in `response_url`). */
  responseUrl(): string {
    return `${this.#url}/respond/${++this.#responseUrls}`;
  }

  /** The next `times` calls of `method` answer HTTP 429 with `Retry-After: seconds`. */
  rateLimit(method: string, seconds = 1, times = 1): void {
    const list = this.#scripted.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push({ kind: 'ratelimit', retryAfter: seconds });
    this.#scripted.set(method, list);
  }

  /** The next call of `method` answers `{ok: false, error}`. */
  fail(method: string, error: string): void {
    const list = this.#scripted.get(method) ?? [];
    list.push({ kind: 'error', error });
    this.#scripted.set(method, list);
  }

  /**
   * Calls of `method` (those matching `match`, when given) are not answered until `release(method)`
   * (they are recorded when they arrive).
   */
  // biome-ignore lint/suspicious/noExplicitAny: recorded arguments
  hold(method: string, match: (args: Record<string, any>) => boolean = () => true): void {
    let release = () => {};
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#held.set(method, { promise, release, match });
  }

  release(method: string): void {
    this.#held.get(method)?.release();
    this.#held.delete(method);
  }

  /** Successful calls of one method (optionally matching), in order. */
  // biome-ignore lint/suspicious/noExplicitAny: recorded arguments
  ok(method: string, match: (args: Record<string, any>) => boolean = () => true): SlackCall[] {
    return this.calls.filter((c) => c.method === method && c.status === 200 && match(c.args));
  }

  /**
   * The first successful call of `method` matching, waiting for it up to `timeoutMs`
   * (`answered: false`: the first to arrive, answered or not).
   */
  waitFor(
    method: string,
    // biome-ignore lint/suspicious/noExplicitAny: recorded arguments
    match: (args: Record<string, any>) => boolean = () => true,
    timeoutMs = 3000,
    answered = true,
  ): Promise<SlackCall> {
    return new Promise((resolve, reject) => {
      const look = () =>
        answered ? this.ok(method, match)[0] : this.calls.find((c) => c.method === method && match(c.args));
      const found = look();
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(
          new Error(
            `no ${method} call matched within ${timeoutMs} ms (calls: ${this.calls.map((c) => c.method).join(', ')})`,
          ),
        );
      }, timeoutMs);
      const waiter = (): void => {
        const hit = look();
        if (!hit) {
          this.#waiters.push(waiter);
          return;
        }
        clearTimeout(timer);
        resolve(hit);
      };
      this.#waiters.push(waiter);
    });
  }

  close(): Promise<void> {
    for (const method of [...this.#held.keys()]) this.release(method);
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections?.();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
    const raw = body.toString('utf8');
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'POST' && path.startsWith('/upload/')) {
      // As Slack's upload URL: the bytes as the body, answered "OK - <length>"; no token needed.
      const upload = this.uploads.get(path.slice('/upload/'.length));
      if (!upload) return void res.writeHead(404).end();
      upload.bytes = body;
      this.#notify();
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`OK - ${body.length}`);
      return;
    }
    if (req.method === 'GET' && path.startsWith('/files-pri/')) {
      const auth = String(req.headers.authorization ?? '');
      const token = auth.startsWith('Bearer ') ? auth.slice(7) : null;
      this.fileReads.push({ path, token });
      const file = this.#files.get(path);
      if (!file) return void res.writeHead(404).end();
      // As Slack: a request it does not accept gets the sign-in page, with 200.
      if (token !== this.#token || !this.filesScope)
        return void res
          .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
          .end('<html>Sign in</html>');
      res
        .writeHead(200, { 'Content-Type': file.type, 'Content-Length': String(file.bytes.length) })
        .end(file.bytes);
      return;
    }
    if (req.method === 'POST' && path.startsWith('/respond/')) {
      this.responses.push({ path, body: raw ? JSON.parse(raw) : null });
      this.#notify();
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    const match = /^\/api\/([A-Za-z.]+)$/.exec(path);
    if (req.method !== 'POST' || !match) {
      res.writeHead(404).end();
      return;
    }
    const method = match[1]!;
    const args = readArgs(raw, String(req.headers['content-type'] ?? ''));
    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ')
      ? auth.slice(7)
      : typeof args.token === 'string'
        ? args.token
        : null;
    const call: SlackCall = { method, args, token, status: 0, at: Date.now(), answer: {} };
    this.calls.push(call);
    this.#notify();
    const held = this.#held.get(method);
    if (held?.match(args)) await held.promise;
    const scripted = this.#scripted.get(method)?.shift();
    if (scripted?.kind === 'ratelimit') {
      call.status = 429;
      call.answer = { ok: false, error: 'ratelimited' };
      this.#notify();
      res
        .writeHead(429, {
          'Content-Type': 'application/json; charset=utf-8',
          'Retry-After': String(scripted.retryAfter),
        })
        .end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      return;
    }
    let answer: Record<string, unknown>;
    if (token !== this.#token) answer = { ok: false, error: token ? 'invalid_auth' : 'not_authed' };
    else if (scripted?.kind === 'error') answer = { ok: false, error: scripted.error };
    else answer = this.#answer(method, args);
    call.answer = answer;
    call.status = answer.ok === true ? 200 : 400;
    res
      .writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' })
      .end(JSON.stringify({ ...answer, response_metadata: { warnings: [] } }));
    this.#notify();
  }

  #notify(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  // biome-ignore lint/suspicious/noExplicitAny: recorded arguments
  #answer(method: string, args: Record<string, any>): Record<string, unknown> {
    const channelOk = (c: unknown) => typeof c === 'string' && /^[CDGU][A-Z0-9]+$/.test(c);
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          url: WORKSPACE_URL,
          team: 'Switchboard Test',
          user: 'switchboard',
          team_id: TEAM_ID,
          user_id: BOT_USER_ID,
          bot_id: BOT_ID,
          is_enterprise_install: false,
        };
      case 'conversations.open': {
        const users = String(args.users ?? '');
        if (!/^U[A-Z0-9]+$/.test(users)) return { ok: false, error: 'user_not_found' };
        return { ok: true, no_op: false, already_open: false, channel: { id: `D${users.slice(1)}` } };
      }
      case 'chat.postMessage': {
        if (!channelOk(args.channel)) return { ok: false, error: 'channel_not_found' };
        if (String(args.text ?? '').length > SLACK_TEXT_MAX) return { ok: false, error: 'msg_too_long' };
        if (this.notInChannels.has(args.channel)) return { ok: false, error: 'not_in_channel' };
        if (!args.text && !args.blocks) return { ok: false, error: 'no_text' };
        if (blocksRefusal(args.blocks)) return { ok: false, error: 'invalid_blocks' };
        if (args.thread_ts !== undefined && !/^\d+\.\d+$/.test(String(args.thread_ts)))
          return { ok: false, error: 'invalid_thread_ts' };
        const ts = this.#nextTs();
        const channel = String(args.channel).startsWith('U')
          ? `D${String(args.channel).slice(1)}`
          : args.channel;
        this.messages.push({
          channel,
          ts,
          ...(args.thread_ts ? { thread_ts: String(args.thread_ts) } : {}),
          user: BOT_USER_ID,
          bot_id: BOT_ID,
          text: args.text ?? '',
        });
        return {
          ok: true,
          channel,
          ts,
          message: {
            type: 'message',
            user: BOT_USER_ID,
            bot_id: BOT_ID,
            text: args.text ?? '',
            ts,
            ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}),
            ...(args.blocks ? { blocks: args.blocks } : {}),
          },
        };
      }
      case 'chat.update':
        if (!channelOk(args.channel)) return { ok: false, error: 'channel_not_found' };
        if (!args.ts) return { ok: false, error: 'message_not_found' };
        if (String(args.text ?? '').length > SLACK_TEXT_MAX) return { ok: false, error: 'msg_too_long' };
        if (blocksRefusal(args.blocks)) return { ok: false, error: 'invalid_blocks' };
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text ?? '' };
      case 'chat.postEphemeral':
        if (!channelOk(args.channel) || !args.user) return { ok: false, error: 'channel_not_found' };
        return { ok: true, message_ts: this.#nextTs() };
      case 'reactions.add': {
        const key = `${args.channel}|${args.timestamp}|${args.name}`;
        if (!args.name || !args.timestamp) return { ok: false, error: 'invalid_arguments' };
        if (this.#reactions.has(key)) return { ok: false, error: 'already_reacted' };
        this.#reactions.add(key);
        return { ok: true };
      }
      case 'views.publish':
        if (!args.user_id || args.view?.type !== 'home') return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: { id: 'V0HOME0001', team_id: TEAM_ID, ...args.view } };
      case 'views.open':
      case 'views.push':
        if (!args.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
        if (args.view?.type !== 'modal' || viewRefusal(args.view))
          return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: { id: 'V0MODAL001', team_id: TEAM_ID, ...args.view } };
      case 'views.update':
        if (!args.view_id && !args.external_id) return { ok: false, error: 'not_found' };
        if (args.view?.type !== 'modal' || viewRefusal(args.view))
          return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: { id: args.view_id ?? 'V0MODAL001', team_id: TEAM_ID, ...args.view } };
      case 'files.getUploadURLExternal': {
        if (!this.filesWriteScope) return { ok: false, error: 'missing_scope', needed: 'files:write' };
        const length = Number(args.length);
        if (!args.filename || !Number.isInteger(length) || length < 1)
          return { ok: false, error: 'invalid_arguments' };
        const id = `F0UP${String(this.uploads.size + 1).padStart(6, '0')}`;
        this.uploads.set(id, { filename: String(args.filename), length, bytes: null, shared: null });
        return { ok: true, upload_url: `${this.#url}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        if (!this.filesWriteScope) return { ok: false, error: 'missing_scope', needed: 'files:write' };
        let files: Array<{ id?: string; title?: string }>;
        try {
          files = typeof args.files === 'string' ? JSON.parse(args.files) : args.files;
        } catch {
          return { ok: false, error: 'invalid_arguments' };
        }
        if (!Array.isArray(files) || files.length === 0) return { ok: false, error: 'invalid_arguments' };
        if (args.channel_id !== undefined && !channelOk(args.channel_id))
          return { ok: false, error: 'channel_not_found' };
        for (const f of files) {
          const upload = this.uploads.get(String(f.id));
          // Slack refuses a file whose bytes never came, or came to another length than asked.
          if (!upload || upload.bytes?.length !== upload.length)
            return { ok: false, error: 'file_not_found' };
          if (args.channel_id) {
            upload.shared = {
              channel: args.channel_id,
              ...(args.thread_ts ? { thread_ts: String(args.thread_ts) } : {}),
              ...(f.title ? { title: f.title } : {}),
            };
            // Shared, the file shows as a message of the app's in the channel or thread.
            this.messages.push({
              channel: args.channel_id,
              ts: this.#nextTs(),
              ...(args.thread_ts ? { thread_ts: String(args.thread_ts) } : {}),
              user: BOT_USER_ID,
              bot_id: BOT_ID,
              text: '',
              files: [{ id: String(f.id) }],
            });
          }
        }
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? '' })) };
      }
      case 'conversations.replies': {
        if (!channelOk(args.channel)) return { ok: false, error: 'channel_not_found' };
        const thread = this.messages
          .filter((m) => m.channel === args.channel && (m.ts === args.ts || m.thread_ts === args.ts))
          .sort((a, b) => Number(a.ts) - Number(b.ts));
        if (!thread.some((m) => m.ts === args.ts)) return { ok: false, error: 'thread_not_found' };
        const from = Number(args.cursor ?? 0);
        const limit = Math.min(Number(args.limit ?? 100), 1000);
        const page = thread.slice(from, from + limit);
        const more = from + limit < thread.length;
        return {
          ok: true,
          messages: page.map((m) => ({ type: 'message', ...m })),
          has_more: more,
          response_metadata: { next_cursor: more ? String(from + limit) : '' },
        };
      }
      case 'chat.delete': {
        if (!channelOk(args.channel)) return { ok: false, error: 'channel_not_found' };
        const at = this.messages.findIndex((m) => m.channel === args.channel && m.ts === args.ts);
        if (at < 0) return { ok: false, error: 'message_not_found' };
        if (this.messages[at]!.user !== BOT_USER_ID) return { ok: false, error: 'cant_delete_message' };
        this.messages.splice(at, 1);
        return { ok: true, channel: args.channel, ts: args.ts };
      }
      case 'files.delete': {
        if (!this.filesWriteScope) return { ok: false, error: 'missing_scope', needed: 'files:write' };
        if (!this.uploads.delete(String(args.file))) return { ok: false, error: 'file_not_found' };
        // Its shares go with it.
        for (let i = this.messages.length - 1; i >= 0; i--) {
          if (this.messages[i]!.files?.some((f) => f.id === args.file)) this.messages.splice(i, 1);
        }
        return { ok: true };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  #nextTs(): string {
    this.#ts++;
    return `${1767600000 + this.#ts}.${String(this.#ts).padStart(6, '0')}`;
  }
}

// biome-ignore lint/suspicious/noExplicitAny: recorded arguments
function readArgs(raw: string, contentType: string): Record<string, any> {
  if (contentType.startsWith('application/json')) return raw ? JSON.parse(raw) : {};
  // biome-ignore lint/suspicious/noExplicitAny: recorded arguments
  const args: Record<string, any> = { ...parseQuery(raw) };
  for (const key of Object.keys(args)) {
    const value = args[key];
    if (JSON_FIELDS.has(key) && typeof value === 'string') {
      try {
        args[key] = JSON.parse(value);
      } catch {
        // left as sent: the assertion will say so
      }
    }
  }
  return args;
}
