// A whole Switchboard with the Slack console on: the real Bolt app mounted at
// /slack/events, requests signed with the v0 scheme Slack uses (HMAC-SHA256 over
// `v0:<timestamp>:<raw body>` with the signing secret), and the real Web API
// client pointed at the local stand-in (test/support/slack-standin.ts). The
// outbox paces messages 5 ms apart and records the waits it is asked for while
// making them short, so no test sleeps for real seconds. Optionally Twilio is on
// too (the REST client pointed at the Twilio stand-in) for the end-to-end specs.
import { createHmac, randomBytes } from 'node:crypto';
import { type Logger, pino } from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import request from 'supertest';
import twilio from 'twilio';
import type { SlackState } from '../../channels/slack/state.js';
import { RedirectingRequestClient } from '../../channels/twilio/client.js';
import type { NewAgent } from '../../routing/router.js';
import { MemoryStore } from '../../routing/store/memory.js';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { type Config, loadConfig } from '../../server/config.js';
import { ManualClock } from '../../shared/clock.js';
import type { DomainEvent } from '../../shared/events.js';
import type { Agent } from '../../shared/model.js';
import { BOT_USER_ID, SlackStandIn, TEAM_ID } from '../support/slack-standin.js';
import { TwilioStandIn } from '../support/twilio-standin.js';

export const BOT_TOKEN = 'xoxb-1111-2222-switchboardtest';
export const SIGNING_SECRET = 'test-slack-signing-secret-0123456789';
export const APP_ID = 'A0APP00001';
export const PACE_MS = 5;
export const SECOND = 1000;

export const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
export const TWILIO_TOKEN = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
export const PUBLIC_URL = 'https://support.example.com';
export const OUR_NUMBER = '+14155550100';

export interface SignOptions {
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Sign with this secret instead of the right one. */
  secret?: string;
  /** Send this signature instead of the computed one (null: none). */
  signature?: string | null;
  /** `X-Slack-Retry-Num` (and a retry reason). */
  retryNum?: number;
}

export interface Visitor {
  socket: Socket;
  customerId: string;
  /** Every `message` the widget received. */
  received: Array<Record<string, unknown>>;
  say(text: string): Promise<{ messageId: string; conversationId: string }>;
  /** Upload files (POST /chat/files, with the visitor's token) and send them with `text`. */
  sendFiles(
    text: string,
    files: Array<{ name: string; type: string; content: Buffer }>,
  ): Promise<{ messageId: string; conversationId: string }>;
  identify(input: Record<string, string>): Promise<void>;
}

export interface SlackHarness {
  sb: Switchboard;
  config: Config;
  store: MemoryStore;
  clock: ManualClock;
  slack: SlackStandIn;
  /** http://127.0.0.1:<port> of the Switchboard. */
  url: string;
  /** Present when started with `twilio: true`. */
  twilio: TwilioStandIn | null;
  /** Waits the outbox asked for (pacing and Retry-After), in ms. */
  waits: number[];
  events: DomainEvent[];
  /** POST a raw body to /slack/events, signed as Slack signs it. */
  post(body: string, contentType: string, options?: SignOptions): request.Test;
  /** An Events API `event_callback` carrying `event`. */
  event(event: Record<string, unknown>, options?: SignOptions & { eventId?: string }): request.Test;
  /** An interactivity payload (`payload=<json>`). */
  interact(payload: Record<string, unknown>, options?: SignOptions): request.Test;
  /** A slash command's form fields. */
  command(fields: Record<string, string>, options?: SignOptions): request.Test;
  /** A Twilio webhook, signed over PUBLIC_URL + path (Twilio on only). */
  twilioWebhook(path: string, params: Record<string, string>): request.Test;
  agent(name: string, slackUserId: string | null, input?: Partial<NewAgent>): Promise<Agent>;
  /** A chat visitor on `/chat`, connected, who recorded every `message` the widget got. */
  visitor(): Promise<Visitor>;
  /** Every Slack request and domain event so far has been handled, and its Slack calls made. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SlackHarnessOptions {
  /** Start the Twilio stand-in and turn Twilio on too. */
  twilio?: boolean;
  /** Message spacing per channel (default PACE_MS). */
  paceMs?: number;
  /** What the console remembers (default: this process's memory). */
  state?: SlackState;
  /** The store (default: a new MemoryStore). */
  store?: MemoryStore;
  /** Extra environment for loadConfig (ROUTING_POLICY, …). */
  env?: Record<string, string>;
  /** Where the Switchboard logs (default: nowhere). */
  logger?: Logger;
}

export async function startSlackHarness(options: SlackHarnessOptions = {}): Promise<SlackHarness> {
  const slack = await SlackStandIn.start(BOT_TOKEN);
  const twilioStandIn = options.twilio ? await TwilioStandIn.start(TWILIO_SID, TWILIO_TOKEN) : null;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    PUBLIC_URL,
    ADMIN_TOKEN: 'test-admin-token-0123456789',
    TOKEN_SECRET: 'test-token-secret-0123456789-abcdefghijklmnop',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    LOG_LEVEL: 'silent',
    DEMO_AGENTS: 'off',
    ...(options.twilio
      ? {
          TWILIO_ACCOUNT_SID: TWILIO_SID,
          TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
          TWILIO_FROM_NUMBER: OUR_NUMBER,
          // Media of incoming texts are fetched from the stand-in, Twilio's host here.
          TWILIO_API_URL: twilioStandIn!.url,
        }
      : {}),
    ...options.env,
  });
  const store = options.store ?? new MemoryStore();
  const clock = new ManualClock();
  const waits: number[] = [];
  const sb = createSwitchboard({
    config,
    logger: options.logger ?? pino({ level: 'silent' }),
    store,
    clock,
    slack: {
      apiUrl: slack.apiUrl,
      paceMs: options.paceMs ?? PACE_MS,
      ...(options.state ? { state: options.state } : {}),
      wait: (ms) => {
        waits.push(ms);
        return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 10)));
      },
    },
    ...(twilioStandIn ? { twilio: { httpClient: new RedirectingRequestClient(twilioStandIn.url) } } : {}),
  });
  const events: DomainEvent[] = [];
  sb.router.events.subscribe((e) => events.push(e));
  const port = await sb.listen(0, '127.0.0.1');
  const local = `http://127.0.0.1:${port}`;
  const sockets: Socket[] = [];

  const post: SlackHarness['post'] = (body, contentType, opts = {}) => {
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const signature =
      opts.signature === undefined ? sign(opts.secret ?? SIGNING_SECRET, timestamp, body) : opts.signature;
    let req = request(local)
      .post('/slack/events')
      .set('Content-Type', contentType)
      .set('X-Slack-Request-Timestamp', String(timestamp));
    if (signature !== null) req = req.set('X-Slack-Signature', signature);
    if (opts.retryNum !== undefined) {
      req = req.set('X-Slack-Retry-Num', String(opts.retryNum)).set('X-Slack-Retry-Reason', 'http_timeout');
    }
    return req.send(body);
  };

  return {
    sb,
    config,
    store,
    clock,
    slack,
    url: local,
    twilio: twilioStandIn,
    waits,
    events,
    post,
    event(event, opts = {}) {
      const body = JSON.stringify(envelope(event, opts.eventId ?? newEventId()));
      return post(body, 'application/json', opts);
    },
    interact(payload, opts = {}) {
      const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      return post(body, 'application/x-www-form-urlencoded', opts);
    },
    command(fields, opts = {}) {
      return post(new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded', opts);
    },
    twilioWebhook(path, params) {
      const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_URL}${path}`, params);
      return request(local).post(path).type('form').set('X-Twilio-Signature', signature).send(params);
    },
    async agent(name, slackUserId, input = {}) {
      const agent = await sb.router.createAgent({
        status: 'available',
        ...input,
        name,
        ...(slackUserId ? { slackUserId } : {}),
      });
      clock.advance(SECOND);
      return agent;
    },
    async visitor() {
      const socket = connect(`${local}/chat`, {
        forceNew: true,
        transports: ['websocket'],
        reconnection: false,
      });
      sockets.push(socket);
      const received: Array<Record<string, unknown>> = [];
      socket.on('message', (m: Record<string, unknown>) => received.push(m));
      const session = await new Promise<{ customerId: string; visitorToken: string }>((resolve, reject) => {
        socket.once('session', resolve);
        socket.once('connect_error', reject);
      });
      return {
        socket,
        customerId: session.customerId,
        received,
        async say(text: string) {
          const ack = await socket.timeout(3000).emitWithAck('message', { text, clientMessageId: newTs() });
          if (!ack.ok) throw new Error(`chat message refused: ${JSON.stringify(ack)}`);
          return ack as { messageId: string; conversationId: string };
        },
        async sendFiles(text: string, files: Array<{ name: string; type: string; content: Buffer }>) {
          const handles: string[] = [];
          for (const file of files) {
            const res = await fetch(`${local}/chat/files`, {
              method: 'POST',
              headers: {
                Authorization: `Bearer ${session.visitorToken}`,
                'Content-Type': file.type,
                'X-File-Name': encodeURIComponent(file.name),
              },
              body: new Uint8Array(file.content),
            });
            const body = (await res.json()) as { file?: { upload?: string } };
            if (res.status !== 201 || !body.file?.upload)
              throw new Error(`upload refused: ${JSON.stringify(body)}`);
            handles.push(body.file.upload);
          }
          const ack = await socket
            .timeout(3000)
            .emitWithAck('message', { text, clientMessageId: newTs(), files: handles });
          if (!ack.ok) throw new Error(`chat message refused: ${JSON.stringify(ack)}`);
          return ack as { messageId: string; conversationId: string };
        },
        async identify(input: Record<string, string>) {
          const ack = await socket.timeout(3000).emitWithAck('identify', input);
          if (!ack.ok) throw new Error(`identify refused: ${JSON.stringify(ack)}`);
        },
      };
    },
    async idle() {
      // Slack work can start SMS deliveries whose results come back as events: settle both until quiet.
      for (let i = 0; i < 5; i++) {
        await sb.twilio?.idle();
        await sb.slack!.idle();
      }
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await sb.close();
      await slack.close();
      await twilioStandIn?.close();
    },
  };
}

export function useSlackHarness(options: SlackHarnessOptions = {}): () => SlackHarness {
  let current: SlackHarness | null = null;
  beforeEach(async () => {
    current = await startSlackHarness(options);
  });
  afterEach(async () => {
    const h = current;
    current = null;
    await h?.close();
  });
  return () => {
    if (!current) throw new Error('useSlackHarness: no harness outside a test');
    return current;
  };
}

// ---------------------------------------------------------------- Slack's payloads

export function newEventId(): string {
  return `Ev${randomBytes(5).toString('hex').toUpperCase()}`;
}

let tsCounter = 0;
/** A fresh Slack message timestamp. */
export function newTs(): string {
  tsCounter++;
  return `${1767700000 + tsCounter}.${String(100 + tsCounter).padStart(6, '0')}`;
}

/** The Events API envelope, as Slack posts it. */
export function envelope(event: Record<string, unknown>, eventId: string): Record<string, unknown> {
  return {
    token: 'legacy-verification-token',
    team_id: TEAM_ID,
    context_team_id: TEAM_ID,
    api_app_id: APP_ID,
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: TEAM_ID,
        user_id: BOT_USER_ID,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(8).toString('hex')}`,
  };
}

/** A person's message in a DM with the app (a thread reply when `threadTs` is given). */
export function dmMessage(
  user: string,
  channel: string,
  text: string,
  threadTs?: string,
): Record<string, unknown> {
  const ts = newTs();
  return {
    type: 'message',
    client_msg_id: randomBytes(8).toString('hex'),
    text,
    user,
    ts,
    blocks: [
      {
        type: 'rich_text',
        block_id: 'b1',
        elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text }] }],
      },
    ],
    team: TEAM_ID,
    ...(threadTs ? { thread_ts: threadTs, parent_user_id: BOT_USER_ID } : {}),
    channel,
    event_ts: ts,
    channel_type: 'im',
  };
}

export function appHomeOpened(user: string): Record<string, unknown> {
  return {
    type: 'app_home_opened',
    user,
    channel: `D${user.slice(1)}`,
    tab: 'home',
    event_ts: newTs(),
  };
}

export interface ActionInput {
  user: string;
  actionId: string;
  value?: string;
  blockId?: string;
  /** users_select: the picked user. */
  selectedUser?: string;
  /** A select's pick: the picked option's value (a static select unless `select` says otherwise). */
  selectedOption?: string;
  /** The kind of select `selectedOption` was picked in (default static_select). */
  select?: 'static_select' | 'external_select';
  /** The message the element is on (omit for the home tab). */
  channel?: string;
  messageTs?: string;
  threadTs?: string;
  responseUrl?: string;
}

/** The person acting, as an interaction payload names them. */
function payloadUser(user: string): Record<string, unknown> {
  return { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: TEAM_ID };
}

/** An interaction's container: the message it came from (in its DM, and its thread when it has one). */
function messageContainer(input: {
  channel?: string;
  messageTs?: string;
  threadTs?: string;
}): Record<string, unknown> {
  return {
    type: 'message',
    message_ts: input.messageTs,
    channel_id: input.channel,
    is_ephemeral: false,
    ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
  };
}

/** The app's message an interaction came from, in the person's DM (and its thread when it has one), reading `text`. */
function botMessage(
  input: { channel?: string; messageTs?: string; threadTs?: string },
  text: string,
): Record<string, unknown> {
  return {
    channel: { id: input.channel, name: 'directmessage' },
    message: {
      type: 'message',
      user: BOT_USER_ID,
      ts: input.messageTs,
      ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
      text,
    },
  };
}

/** An interaction's container on the app's Home tab. */
const HOME_CONTAINER = { type: 'view', view_id: 'V0HOME0001' };

/** A `block_actions` payload: a button or a users select on a message (or on the home tab). */
export function blockActions(input: ActionInput): Record<string, unknown> {
  const action =
    input.selectedOption !== undefined
      ? {
          type: input.select ?? 'static_select',
          action_id: input.actionId,
          block_id: input.blockId ?? 'b',
          selected_option: {
            text: { type: 'plain_text', text: input.selectedOption },
            value: input.selectedOption,
          },
          placeholder: { type: 'plain_text', text: 'Read one' },
          action_ts: newTs(),
        }
      : input.selectedUser !== undefined
        ? {
            type: 'users_select',
            action_id: input.actionId,
            block_id: input.blockId ?? 'b',
            selected_user: input.selectedUser,
            action_ts: newTs(),
          }
        : {
            type: 'button',
            action_id: input.actionId,
            block_id: input.blockId ?? 'card:owner',
            text: { type: 'plain_text', text: input.actionId, emoji: true },
            value: input.value,
            action_ts: newTs(),
          };
  const onMessage = input.channel !== undefined && input.messageTs !== undefined;
  return {
    type: 'block_actions',
    user: payloadUser(input.user),
    api_app_id: APP_ID,
    token: 'legacy-verification-token',
    container: onMessage ? messageContainer(input) : HOME_CONTAINER,
    trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
    team: { id: TEAM_ID, domain: 'switchboard-test' },
    enterprise: null,
    is_enterprise_install: false,
    ...(onMessage
      ? {
          ...botMessage(input, 'card'),
          response_url: input.responseUrl ?? 'https://hooks.slack.com/actions/T0/1/x',
        }
      : { view: { id: 'V0HOME0001', type: 'home', blocks: [] } }),
    state: { values: {} },
    actions: [action],
  };
}

export interface SuggestionInput {
  user: string;
  actionId: string;
  blockId: string;
  /** What the person typed in the searchable select. */
  value: string;
  /** The message the select is on (its DM and thread). */
  channel?: string;
  messageTs?: string;
  threadTs?: string;
  /** The form the select is in, as the app opened it (its callback_id and private_metadata). */
  view?: { callback_id: string; private_metadata: string };
}

/**
 * A `block_suggestion` payload: Slack asking the app for the options of an external (searchable) select, as
 * the person types, on a message or in a form.
 */
export function blockSuggestion(input: SuggestionInput): Record<string, unknown> {
  const onMessage = input.channel !== undefined && input.messageTs !== undefined;
  return {
    type: 'block_suggestion',
    user: payloadUser(input.user),
    container: input.view
      ? { type: 'view', view_id: 'V0MODAL001' }
      : onMessage
        ? messageContainer(input)
        : HOME_CONTAINER,
    api_app_id: APP_ID,
    token: 'legacy-verification-token',
    action_id: input.actionId,
    block_id: input.blockId,
    value: input.value,
    team: { id: TEAM_ID, domain: 'switchboard-test' },
    enterprise: null,
    is_enterprise_install: false,
    ...(onMessage && !input.view ? botMessage(input, 'Who should help?') : {}),
    ...(input.view
      ? {
          view: {
            id: 'V0MODAL001',
            team_id: TEAM_ID,
            type: 'modal',
            callback_id: input.view.callback_id,
            private_metadata: input.view.private_metadata,
            state: { values: {} },
            hash: '1767700000.abcdef',
            title: { type: 'plain_text', text: 'Switchboard' },
            blocks: [],
          },
        }
      : {}),
  };
}

/** A `view_submission` payload for a modal the app opened. */
export function viewSubmission(
  user: string,
  callbackId: string,
  privateMetadata: string,
  values: Record<string, Record<string, Record<string, unknown>>>,
): Record<string, unknown> {
  return {
    type: 'view_submission',
    team: { id: TEAM_ID, domain: 'switchboard-test' },
    user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: TEAM_ID },
    api_app_id: APP_ID,
    token: 'legacy-verification-token',
    trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
    view: {
      id: 'V0MODAL001',
      team_id: TEAM_ID,
      type: 'modal',
      callback_id: callbackId,
      private_metadata: privateMetadata,
      state: { values },
      hash: '1767700000.abcdef',
      title: { type: 'plain_text', text: 'Switchboard' },
      blocks: [],
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}

/** A slash command's form fields. */
export function slashCommand(user: string, text: string, responseUrl: string): Record<string, string> {
  return {
    token: 'legacy-verification-token',
    team_id: TEAM_ID,
    team_domain: 'switchboard-test',
    channel_id: 'C0GENERAL1',
    channel_name: 'general',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/switchboard',
    text,
    api_app_id: APP_ID,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
  };
}

// ---------------------------------------------------------------- what Slack was sent

/** The DM channel the stand-in gives a user (`conversations.open`). */
export function dmOf(user: string): string {
  return `D${user.slice(1)}`;
}

/** The ts of the context card posted in a user's DM (its thread holds everything about the conversation). */
export function cardTsOf(h: SlackHarness, user: string): string {
  return String(cardOf(h, user).answer.ts);
}

/** The call that posted a user's context card (a top-level message with blocks in their DM). */
export function cardOf(h: SlackHarness, user: string) {
  const card = h.slack.ok(
    'chat.postMessage',
    (a) => a.channel === dmOf(user) && a.thread_ts === undefined && Array.isArray(a.blocks),
  )[0];
  if (!card) throw new Error(`no card in ${user}'s DM`);
  return card;
}

/** The texts posted in a user's thread, in order. */
export function threadTexts(h: SlackHarness, user: string, threadTs: string): string[] {
  return h.slack
    .ok('chat.postMessage', (a) => a.channel === dmOf(user) && a.thread_ts === threadTs)
    .map((c) => String(c.args.text));
}

/** A user's card as last shown (posted, or last updated): its text and Block Kit blocks. */
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
export function shownCard(h: SlackHarness, user: string): { text: string; blocks: any[] } {
  const posted = cardOf(h, user);
  const ts = String(posted.answer.ts);
  const last = h.slack.ok('chat.update', (a) => a.channel === dmOf(user) && a.ts === ts).at(-1) ?? posted;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  return { text: String(last.args.text), blocks: last.args.blocks as any[] };
}

/** The action ids of a card's buttons and pickers, in order. */
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
export function cardButtons(card: { blocks: any[] }): string[] {
  return card.blocks
    .filter((b) => b.type === 'actions')
    .flatMap((b) => (b.elements ?? []).map((e: { action_id: string }) => e.action_id));
}

/** The line under a card's header: what the agent's part is now. */
// biome-ignore lint/suspicious/noExplicitAny: as above
export function cardRoleLine(card: { blocks: any[] }): string {
  return String(card.blocks.find((b) => b.type === 'context')?.elements[0].text);
}

/** The texts posted in the thread of a user's card, in order. */
export function cardThreadTexts(h: SlackHarness, user: string): string[] {
  return threadTexts(h, user, cardTsOf(h, user));
}

/**
 * Ada (Slack user `ada`) owns the chat of a visitor, Mary Major, her card posted; Bob (Slack user `bob`) is on
 * the team. Ada, Bob, Mary and the conversation's id.
 */
export async function adaOwnsMary(h: SlackHarness, ada: string, bob: string) {
  const adaAgent = await h.agent('Ada', ada);
  const mary = await h.visitor();
  await mary.identify({ name: 'Mary Major' });
  const sent = await mary.say('my parcel is late');
  await h.idle();
  const bobAgent = await h.agent('Bob', bob);
  await h.idle();
  return { ada: adaAgent, bob: bobAgent, mary, conversationId: sent.conversationId };
}

/** A select posted in a card's thread (Consult's picker): the call that posted it, its section, where it is. */
export interface ThreadPicker {
  // biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
  call: { args: Record<string, any>; answer: Record<string, any> };
  // biome-ignore lint/suspicious/noExplicitAny: as above
  section: any;
  /** The picker message's ts, its section's block id, and the thread it is in (the card's). */
  ts: string;
  blockId: string;
  threadTs: string;
}

/** What pressing a card's button did: the select it posted in the thread, if any, to pick from. */
export interface CardPress {
  /** The select the press posted in the card's thread (Consult's picker); null when it posted none. */
  picker: ThreadPicker | null;
  /**
   * `user` picks `value` in that select (a static one unless `select` says otherwise), as Slack sends it, on the
   * picker as Slack keeps it (whatever it shows now); answered 200, then every Slack call of it made.
   */
  pick(value: string, select?: 'static_select' | 'external_select'): Promise<void>;
}

/**
 * `user` presses the button `actionId` of their card of `conversationId` (the card at `cardTs`, by default
 * their card), as Slack sends it; answered 200, then every Slack call of it made. Returns the select the press
 * posted in the card's thread, to pick from.
 */
export async function pressCard(
  h: SlackHarness,
  user: string,
  actionId: string,
  conversationId: string,
  cardTs: string = cardTsOf(h, user),
): Promise<CardPress> {
  const before = h.slack.calls.length;
  await h
    .interact(blockActions({ user, actionId, value: conversationId, channel: dmOf(user), messageTs: cardTs }))
    .expect(200);
  await h.idle();
  const posted = h.slack.calls
    .slice(before)
    .filter(
      (c) =>
        c.method === 'chat.postMessage' &&
        c.status === 200 &&
        c.args.thread_ts === cardTs &&
        Array.isArray(c.args.blocks) &&
        c.args.blocks[0]?.accessory?.type?.endsWith('_select'),
    )
    .at(-1);
  const picker = posted
    ? {
        call: posted,
        section: posted.args.blocks[0],
        ts: String(posted.answer.ts),
        blockId: String(posted.args.blocks[0].block_id),
        threadTs: cardTs,
      }
    : null;
  return {
    picker,
    async pick(value, select = 'static_select') {
      if (!picker) throw new Error(`pressing ${actionId} posted no select in ${user}'s thread`);
      await h
        .interact(
          blockActions({
            user,
            actionId: String(picker.section.accessory.action_id),
            blockId: picker.blockId,
            selectedOption: value,
            select,
            channel: dmOf(user),
            messageTs: picker.ts,
            threadTs: picker.threadTs,
          }),
        )
        .expect(200);
      await h.idle();
    },
  };
}

/** What Slack refused with `error` (any method). */
export function refusedWith(h: SlackHarness, error: string): string[] {
  return h.slack.calls.filter((c) => c.answer.error === error).map((c) => c.method);
}
