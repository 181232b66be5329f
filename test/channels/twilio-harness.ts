// A whole Switchboard with Twilio on, for the voice and SMS specs: webhooks signed
// the way Twilio signs them (the twilio package, over PUBLIC_URL + path, which is
// not the address the server listens on), the real REST client pointed at a local
// stand-in, and a manual clock (timers, SMS retries among them, fire when a test
// moves it on and ticks). Parameter sets follow what Twilio documents for each webhook.
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { pino } from 'pino';
import request from 'supertest';
import twilio from 'twilio';
import { RedirectingRequestClient } from '../../channels/twilio/client.js';
import { TEXT_CAP } from '../../routing/policy.js';
import type { NewAgent } from '../../routing/router.js';
import { MemoryStore } from '../../routing/store/memory.js';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { type Config, loadConfig } from '../../server/config.js';
import { ManualClock } from '../../shared/clock.js';
import type { DomainEvent, EventOf, EventType } from '../../shared/events.js';
import type { Agent } from '../../shared/model.js';
import { newSid, TwilioStandIn } from '../support/twilio-standin.js';
import { all, type Node, parseTwiml } from '../support/twiml.js';

export const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
export const AUTH_TOKEN = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
/** What Twilio sees: the server itself listens on 127.0.0.1 and a random port. */
export const PUBLIC_URL = 'https://support.example.com';
export const OUR_NUMBER = '+14155550100';
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

export type Params = Record<string, string>;

export interface TwilioHarness {
  sb: Switchboard;
  config: Config;
  store: MemoryStore;
  clock: ManualClock;
  standIn: TwilioStandIn;
  /** Where the server really listens (never what Twilio signs). */
  local: string;
  /** Log lines at warn and above, parsed. */
  logs: Array<{ level: number; msg: string; [key: string]: unknown }>;
  /** Every domain event since the start. */
  events: DomainEvent[];
  eventsOf<T extends EventType>(type: T): EventOf<T>[];
  /** POST a webhook signed as Twilio would sign it (`signature: null` sends none; a string sends that one). */
  webhook(
    path: string,
    params: Params,
    options?: { signature?: string | null; signedUrl?: string },
  ): request.Test;
  /** POST a webhook and parse the TwiML it answers with (expects 200). */
  twiml(path: string, params: Params): Promise<Node>;
  agent(name: string, input?: Partial<NewAgent>): Promise<Agent>;
  /** Pushes to live calls and SMS deliveries under way have finished. */
  idle(): Promise<void>;
  /** Move the clock on by `ms`, fire the timers then due, and wait for the sends they began. */
  later(ms: number): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
}

export async function startTwilioHarness(options: HarnessOptions = {}): Promise<TwilioHarness> {
  const standIn = await TwilioStandIn.start(ACCOUNT_SID, AUTH_TOKEN);
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    PUBLIC_URL,
    ADMIN_TOKEN: 'test-admin-token-0123456789',
    TOKEN_SECRET: 'test-token-secret-0123456789-abcdefghijklmnop',
    TWILIO_ACCOUNT_SID: ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: AUTH_TOKEN,
    TWILIO_FROM_NUMBER: OUR_NUMBER,
    // The stand-in is Twilio's host: the media of incoming messages are fetched from it with the credentials.
    TWILIO_API_URL: standIn.url,
    LOG_LEVEL: 'warn',
    DEMO_AGENTS: 'off',
    // Timers fire only when a test ticks the router itself.
    TICK_MS: '60000',
    // Its agents work without a console of theirs (the specs act for them): never set away for having none.
    ROUTING_POLICY: JSON.stringify({ consoleAwaySeconds: 0 }),
    ...options.env,
  });
  const logs: TwilioHarness['logs'] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const store = new MemoryStore();
  const clock = new ManualClock();
  const sb = createSwitchboard({
    config,
    logger: pino({ level: 'warn' }, sink),
    store,
    clock,
    twilio: {
      httpClient: new RedirectingRequestClient(standIn.url),
    },
  });
  const events: DomainEvent[] = [];
  sb.router.events.subscribe((e) => events.push(e));
  const port = await sb.listen(0, '127.0.0.1');
  const local = `http://127.0.0.1:${port}`;
  const webhook: TwilioHarness['webhook'] = (path, params, opts = {}) => {
    const signedUrl = opts.signedUrl ?? `${PUBLIC_URL}${path}`;
    const signature =
      opts.signature === undefined
        ? twilio.getExpectedTwilioSignature(AUTH_TOKEN, signedUrl, params)
        : opts.signature;
    const req = request(local).post(path).type('form').send(params);
    return signature === null ? req : req.set('X-Twilio-Signature', signature);
  };
  return {
    sb,
    config,
    store,
    clock,
    standIn,
    local,
    logs,
    events,
    eventsOf<T extends EventType>(type: T): EventOf<T>[] {
      return events.filter((e): e is EventOf<T> => e.type === type);
    },
    webhook,
    async twiml(path, params) {
      const res = await webhook(path, params);
      expect(res.status, `${path}: ${res.text}`).to.equal(200);
      expect(res.headers['content-type']).to.match(/^text\/xml/);
      const root = parseTwiml(res.text);
      for (const say of all(root, 'Say')) expect(say.text.length, say.text).to.be.at.most(TEXT_CAP);
      return root;
    },
    async agent(name, input = {}) {
      const agent = await sb.router.createAgent({ status: 'available', ...input, name });
      clock.advance(SECOND);
      return agent;
    },
    async idle() {
      await sb.twilio!.idle();
    },
    async later(ms) {
      clock.advance(ms);
      await sb.router.tick();
      await sb.twilio!.idle();
    },
    async close() {
      await sb.close();
      await standIn.close();
    },
  };
}

/** A fresh harness per test of the enclosing describe: `const h = useTwilioHarness(); … h().webhook(…)`. */
export function useTwilioHarness(options: HarnessOptions = {}): () => TwilioHarness {
  let current: TwilioHarness | null = null;
  beforeEach(async () => {
    current = await startTwilioHarness(options);
  });
  afterEach(async () => {
    const h = current;
    current = null;
    await h?.close();
  });
  return () => {
    if (!current) throw new Error('useTwilioHarness: no harness outside a test');
    return current;
  };
}

// ---------------------------------------------------------------- Twilio's parameter sets

export interface Call {
  CallSid: string;
  From: string;
  To: string;
}

export function newCall(from: string, to = OUR_NUMBER): Call {
  return { CallSid: newSid('CA'), From: from, To: to };
}

/** What Twilio posts for an incoming call ("a call comes in"). */
export function incomingCall(call: Call, extra: Params = {}): Params {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: call.CallSid,
    CallStatus: 'ringing',
    CallToken: 'eyJhbGciOiJIUzI1NiJ9.e30.token',
    Called: call.To,
    CalledCity: 'SAN FRANCISCO',
    CalledCountry: 'US',
    CalledState: 'CA',
    CalledZip: '94105',
    Caller: call.From,
    CallerCity: 'OAKLAND',
    CallerCountry: 'US',
    CallerState: 'CA',
    CallerZip: '94612',
    Direction: 'inbound',
    From: call.From,
    FromCity: 'OAKLAND',
    FromCountry: 'US',
    FromState: 'CA',
    FromZip: '94612',
    StirVerstat: 'TN-Validation-Passed-A',
    To: call.To,
    ToCity: 'SAN FRANCISCO',
    ToCountry: 'US',
    ToState: 'CA',
    ToZip: '94105',
    ...extra,
  };
}

/** `<Dial action>`: the dialed leg ended. */
export function dialResult(call: Call, status: string, extra: Params = {}): Params {
  return {
    ...incomingCall(call, { CallStatus: 'in-progress' }),
    DialCallSid: newSid('CA'),
    DialCallStatus: status,
    DialBridged: status === 'completed' ? 'true' : 'false',
    ...(status === 'completed' ? { DialCallDuration: '42' } : {}),
    ...extra,
  };
}

/** `<Enqueue waitUrl>`: asked each time the wait TwiML has played. */
export function queueWait(call: Call, position = 1, extra: Params = {}): Params {
  return {
    ...incomingCall(call, { CallStatus: 'in-progress' }),
    QueueSid: 'QU0123456789abcdef0123456789abcdef',
    QueuePosition: String(position),
    QueueTime: '20',
    AvgQueueTime: '30',
    CurrentQueueSize: String(position),
    MaxQueueSize: '100',
    ...extra,
  };
}

/** `<Enqueue action>`: the call left the queue. */
export function queueResult(call: Call, result: string, extra: Params = {}): Params {
  return {
    ...incomingCall(call, { CallStatus: result === 'hangup' ? 'completed' : 'in-progress' }),
    QueueResult: result,
    QueueSid: 'QU0123456789abcdef0123456789abcdef',
    QueueTime: '35',
    ...extra,
  };
}

/** `<Gather action>`: keys pressed. */
export function gathered(call: Call, digits: string): Params {
  return {
    ...incomingCall(call, { CallStatus: 'in-progress' }),
    Digits: digits,
    FinishedOnKey: '',
    msg: 'Gather End',
  };
}

/** A call status callback. */
export function callStatus(call: Call, status: string, extra: Params = {}): Params {
  return {
    ...incomingCall(call, { CallStatus: status }),
    CallbackSource: 'call-progress-events',
    CallDuration: '61',
    Duration: '2',
    SequenceNumber: '0',
    Timestamp: 'Mon, 05 Jan 2026 09:01:00 +0000',
    ...extra,
  };
}

/** A leg Switchboard placed (`standIn.calls()`: a call back's, or an agent's call to a customer) picks up: the TwiML it runs. */
export function legPicksUp(
  h: TwilioHarness,
  placed: { sid: string; params: Record<string, unknown> },
): Promise<Node> {
  return h.twiml(
    localPath(String(placed.params.Url)),
    outboundLeg(placed.sid, String(placed.params.To), 'in-progress'),
  );
}

/** A leg Switchboard placed (a call back to an agent, a dialed agent leg): its own params. */
export function outboundLeg(callSid: string, to: string, status: string, extra: Params = {}): Params {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    CallSid: callSid,
    CallStatus: status,
    Called: to,
    Caller: OUR_NUMBER,
    Direction: 'outbound-api',
    From: OUR_NUMBER,
    To: to,
    ...extra,
  };
}

export interface Sms {
  MessageSid: string;
  From: string;
  To: string;
  Body: string;
}

export function newSms(from: string, body: string, to = OUR_NUMBER): Sms {
  return { MessageSid: newSid('SM'), From: from, To: to, Body: body };
}

/** "A message comes in" (media as `[url, contentType]` pairs). */
export function incomingSms(sms: Sms, media: Array<[string, string]> = []): Params {
  const params: Params = {
    ToCountry: 'US',
    ToState: 'CA',
    SmsMessageSid: sms.MessageSid,
    NumMedia: String(media.length),
    ToCity: 'SAN FRANCISCO',
    FromZip: '94612',
    SmsSid: sms.MessageSid,
    FromState: 'CA',
    SmsStatus: 'received',
    FromCity: 'OAKLAND',
    Body: sms.Body,
    FromCountry: 'US',
    To: sms.To,
    ToZip: '94105',
    NumSegments: '1',
    ReferralNumMedia: '0',
    MessageSid: sms.MessageSid,
    AccountSid: ACCOUNT_SID,
    From: sms.From,
    ApiVersion: '2010-04-01',
  };
  media.forEach(([url, type], i) => {
    params[`MediaUrl${i}`] = url;
    params[`MediaContentType${i}`] = type;
  });
  return params;
}

/** An outbound message's status callback. */
export function messageStatus(messageSid: string, to: string, status: string, errorCode?: string): Params {
  return {
    AccountSid: ACCOUNT_SID,
    ApiVersion: '2010-04-01',
    From: OUR_NUMBER,
    MessageSid: messageSid,
    MessageStatus: status,
    SmsSid: messageSid,
    SmsStatus: status,
    To: to,
    ...(errorCode ? { ErrorCode: errorCode } : {}),
  };
}

/** The path and query of a callback URL Switchboard gave Twilio (what Twilio will post to). */
export function localPath(url: string | undefined): string {
  if (!url) throw new Error('no URL');
  const u = new URL(url);
  expect(`${u.protocol}//${u.host}`).to.equal(PUBLIC_URL);
  return `${u.pathname}${u.search}`;
}

/**
 * An agent leg rung on a phone number with call screening (`<Number url>`), as Twilio runs it: once the phone
 * is picked up (by the agent, or by its voicemail), the whisper URL is asked with the agent leg's own
 * parameters, its `<Gather>` runs and its action is asked with the key pressed (`Digits` empty when nothing
 * was: `actionOnEmptyResult`). What the action answers: empty TwiML lets the whisper end and Twilio puts the
 * caller through; a `<Hangup>` ends the agent leg before the caller was put through.
 */
export async function screenAnswer(
  h: TwilioHarness,
  call: Call,
  dial: Node,
  digits: string | null,
): Promise<{ leg: Call; key: Node; bridged: boolean }> {
  const number = all(dial, 'Number')[0];
  if (!number?.attrs.url) throw new Error('no screened <Number url>');
  const leg = { CallSid: newSid('CA'), From: call.To, To: number.text };
  const params = outboundLeg(leg.CallSid, leg.To, 'in-progress', {
    Direction: 'outbound-dial',
    ParentCallSid: call.CallSid,
  });
  const whisper = await h.twiml(localPath(number.attrs.url), params);
  const gather = all(whisper, 'Gather')[0];
  if (!gather) throw new Error('the whisper has no <Gather>');
  const key = await h.twiml(localPath(gather.attrs.action), { ...params, Digits: digits ?? '' });
  return { leg, key, bridged: all(key, 'Hangup').length === 0 };
}

/**
 * The caller's `<Dial action>` after a screened agent leg hung up in its whisper: Twilio reports the dialed
 * leg as answered and ended (`completed`), not bridged (`DialBridged=false`).
 */
export function screenedOut(call: Call, leg: Call): Params {
  return dialResult(call, 'completed', {
    DialCallSid: leg.CallSid,
    DialBridged: 'false',
    DialCallDuration: '9',
  });
}

/**
 * A leg Switchboard placed to an agent's phone number (a call back, a call out) picks up and is screened: the
 * `<Gather>` it gets first, and what its action answers to `digits` (null: nothing pressed, a voicemail).
 */
export async function screenedLegPicksUp(
  h: TwilioHarness,
  placed: { sid: string; params: Record<string, unknown> },
  digits: string | null = '1',
): Promise<{ screen: Node; next: Node }> {
  const to = String(placed.params.To);
  const screen = await h.twiml(
    localPath(String(placed.params.Url)),
    outboundLeg(placed.sid, to, 'in-progress'),
  );
  const gather = all(screen, 'Gather')[0];
  if (!gather) throw new Error('the leg is not screened: no <Gather>');
  const next = await h.twiml(localPath(gather.attrs.action), {
    ...outboundLeg(placed.sid, to, 'in-progress'),
    Digits: digits ?? '',
  });
  return { screen, next };
}
