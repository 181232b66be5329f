// Text messages through Twilio: a thin edge. An incoming message (verified by the
// /twilio router, parsed with zod) becomes one Contact: the same customer by phone
// number, their open conversation and its owner, whatever channel they used before.
// The reply is empty TwiML (no auto-chatter) except one acknowledgement per wait.
// Replies to the customer (agents' and Switchboard's own) go out through the REST
// client, with a status callback, retried with backoff; delivery shows on the message.
// The channel is the router's `Sender` for texts: a retry waits in the store as the
// message's delivery timer (any process sends it when due), and a text whose
// process died before its send was seen to finish is sent by another.
import express, { type Request, type Response } from 'express';
import twilio from 'twilio';
import {
  identityIfAny,
  lastAddress,
  normalizePhone,
  PHONE_CHANNELS,
  phoneOf,
} from '../../routing/addresses.js';
import { fillText, ownerWaitSentence, placeKeptSentence, waitSentence } from '../../routing/policy.js';
import type { ContactResult, Router } from '../../routing/router.js';
import { BlockedError, parseInput, ValidationError } from '../../shared/errors.js';
import type { DomainEvent } from '../../shared/events.js';
import { type Attachment, type Message, showsText } from '../../shared/model.js';
import type { FileToKeep } from '../chat/files.js';
import { Sends } from '../sends.js';
import { restFailure, type TwilioClient } from '../twilio/client.js';
import { sendTwiml, webhookParams } from '../twilio/signature.js';
import { mediaFileName, type TwilioMedia } from './media.js';
import { IncomingSms, MessageStatus, mediaOf, optKeyword, StatusQuery } from './params.js';

const { MessagingResponse } = twilio.twiml;

export interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SmsOptions {
  router: Router;
  client: TwilioClient;
  /** Where Twilio reaches the /twilio routes: PUBLIC_URL + '/twilio'. */
  base: string;
  /** Our number to send from; else the number the customer last wrote or called to. */
  fromNumber: string | null;
  log: Log;
  /** Sends per message before giving up (first try included). */
  maxAttempts?: number;
  /** Wait before attempt `n + 1` after attempt `n` failed. */
  backoffMs?: (attempt: number) => number;
  /**
   * What a customer texts besides words (MMS), fetched from Twilio and kept as files sent in conversations are;
   * without, each stays a link to Twilio.
   */
  media?: {
    fetcher: TwilioMedia;
    keep: KeepTexted;
  };
}

/** Keep a file the customer at `from` texted: the attachment for their message. */
export type KeepTexted = (from: string, file: FileToKeep) => Promise<Attachment>;

/** One SMS body at most (Twilio refuses longer ones); longer replies go out in parts. */
export const SMS_PART = 1600;
const MAX_REMEMBERED = 100_000;

/** Keep `key` → `value` in `map` as its newest entry, forgetting the oldest past MAX_REMEMBERED. */
function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value!);
}

/** The messaging apps Twilio carries to a number, as their senders know them ("whatsapp:+1…"). */
const APP_NAMES: Record<string, string> = { whatsapp: 'WhatsApp', messenger: 'Messenger', rcs: 'RCS' };
/**
 * How long one send may take before another process sends the text instead (the REST client gives up on a
 * request after 30 s; a long text is several requests).
 */
export const SMS_LEASE_MS = 2 * 60_000;

export const defaultBackoffMs = (attempt: number): number => Math.min(60_000, 2000 * 2 ** (attempt - 1));

export class SmsChannel {
  readonly #router: Router;
  readonly #client: TwilioClient;
  readonly #o: SmsOptions;
  readonly #maxAttempts: number;
  readonly #backoff: (attempt: number) => number;
  /** The number each customer last reached us on, to answer from it. */
  readonly #ourNumber = new Map<string, string>();
  /**
   * A reply of several parts whose send failed after some left: how many did (by message id), so that its retry in
   * this process sends only the rest. (Retried by another process, after this one stopped, it goes whole.)
   */
  readonly #partsSent = new Map<string, number>();
  readonly #sends: Sends;
  readonly #unsubscribe: () => void;

  constructor(options: SmsOptions) {
    this.#o = options;
    this.#router = options.router;
    this.#client = options.client;
    this.#maxAttempts = options.maxAttempts ?? 4;
    this.#backoff = options.backoffMs ?? defaultBackoffMs;
    this.#sends = new Sends({
      router: this.#router,
      // Texts to a caller (after a call) go out as texts too.
      channels: ['sms', 'voice'],
      leaseMs: SMS_LEASE_MS,
      maxAttempts: this.#maxAttempts,
      name: 'sms',
      log: options.log,
      attempt: (message, attempt) => this.#attempt(message, attempt),
      cannotStart: () =>
        this.#o.fromNumber
          ? null
          : 'texts cannot start here: set TWILIO_FROM_NUMBER, the number they go out from',
      refusesTo: (address) => this.#optedOut(address),
    });
    this.#unsubscribe = this.#router.events.subscribe((event) => this.#onEvent(event));
  }

  /** No new sends; a retry not begun yet stays in the store for the next process to tick. */
  close(): void {
    this.#unsubscribe();
    this.#sends.close();
  }

  /** Every send begun so far has finished (sent or failed): for tests and shutdown. */
  idle(): Promise<void> {
    return this.#sends.idle();
  }

  routes(): express.Router {
    const r = express.Router();
    r.post('/sms', (req, res) => this.#handle(req, res, 'incoming message', () => this.#incoming(req)));
    r.post('/sms/status', (req, res) => this.#handle(req, res, 'message status', () => this.#status(req)));
    return r;
  }

  // ---------------------------------------------------------------- inbound

  /** A media item of an incoming message: kept by Switchboard, or else a link to Twilio's copy. */
  async #attachment(
    p: IncomingSms,
    m: { url: string; type: string },
    i: number,
    repeated: boolean,
  ): Promise<{ attachment: Attachment; kept: boolean }> {
    const linked = { attachment: { name: `media ${i + 1}`, type: m.type, size: 0, url: m.url }, kept: false };
    const media = this.#o.media;
    // A text Twilio delivers again is stored already, with its files: nothing is fetched or kept twice.
    if (!media || repeated) return linked;
    const got = await media.fetcher.fetch(m.url);
    if ('refused' in got) {
      this.#o.log.warn(
        { messageSid: p.MessageSid, media: i, reason: got.refused },
        'sms: media not kept; linked',
      );
      return linked;
    }
    // The type the webhook named is Twilio's word for it; the file host's may be generic.
    const type = m.type !== 'application/octet-stream' ? m.type : got.type;
    try {
      const file = { name: mediaFileName(i, type), type, content: got.content };
      return { attachment: await media.keep(p.From, file), kept: true };
    } catch (err) {
      this.#o.log.warn(
        { messageSid: p.MessageSid, media: i, err: String(err) },
        'sms: media not kept; linked',
      );
      return linked;
    }
  }

  async #incoming(req: Request): Promise<string> {
    const p = parseInput(IncomingSms, webhookParams(req), 'message');
    if (this.#o.fromNumber && p.From === this.#o.fromNumber) return empty(); // our own echo
    // Another app Twilio carries to this number ("whatsapp:+1…"): its replies would go out as texts the sender
    // never sees there. Told so, there; nothing stored or routed.
    const app = /^([a-z]+):/i.exec(p.From)?.[1];
    if (app) {
      const name = APP_NAMES[app.toLowerCase()] ?? app;
      this.#o.log.info(
        { messageSid: p.MessageSid, app: name },
        'sms: a message from another app, answered there',
      );
      return messageTwiml(fillText(this.#router.policy.texts.otherApp, { app: name }));
    }
    // STOP and START: Twilio answers them itself (and, after STOP, lets nothing more through). Kept, the agents
    // told; neither is a question for a person. YES opts in too, and goes on as any text: it may answer one.
    const keyword = optKeyword(p);
    if (keyword) {
      await this.#router.textOptOut(p.From, keyword === 'out');
      if (keyword === 'out' || p.Body.trim().toUpperCase() !== 'YES') return empty();
    }
    // A blocked customer's pictures are not fetched, let alone kept: the router refuses their text below.
    const offered = mediaOf(p);
    // Nothing to read (an empty or blank text, no picture): nothing to answer, nobody to take a place for it.
    if (!showsText(p.Body) && offered.length === 0) {
      this.#o.log.info({ messageSid: p.MessageSid }, 'sms: an empty text, ignored');
      return empty();
    }
    const media = offered.length > 0 && (await this.#router.isBlocked('sms', p.From)) ? [] : offered;
    const repeated =
      media.length > 0 && (await this.#router.store.findMessageByExternalId('sms', p.MessageSid)) !== null;
    const got = await Promise.all(media.map((m, i) => this.#attachment(p, m, i, repeated)));
    const attachments = got.map((g) => g.attachment);
    // What could not be kept is a link to Twilio, in the text too (as it was before files were kept).
    const lines = got.flatMap((g, i) => (g.kept ? [] : [`[${g.attachment.type}] ${media[i]!.url}`]));
    const text = [p.Body, ...lines].filter((s) => s.length > 0).join('\n');
    let result: ContactResult;
    try {
      result = await this.#router.contact({
        channel: 'sms',
        from: p.From,
        to: p.To,
        text,
        attachments,
        externalId: p.MessageSid,
        ...(p.ProfileName ? { name: p.ProfileName } : {}),
      });
    } catch (err) {
      // A blocked customer's text: not stored, not answered (empty TwiML, so Twilio does not retry).
      if (err instanceof BlockedError) return empty();
      throw err;
    }
    if (!this.#o.fromNumber) this.#learnNumber(p.From, p.To);
    const { conversation } = result;
    // A webhook Twilio repeats (the first answered with an error) still waiting is told so, unless the first
    // was: the store keeps one acknowledgement per wait.
    const outcome = await this.#router.outcomeToTell(result);
    if (outcome.type !== 'queued' && outcome.type !== 'waiting_for_owner') return empty();
    // One acknowledgement per wait, with the place and the pessimistic wait: in this answer's TwiML, and in
    // the conversation's history (the store keeps one per wait, whichever process the texts reach).
    // Their person is away or offline: how long it waits for them, then a colleague; no time promised beyond.
    // A caller owed a call back who texts keeps it (and their place): said so, with its time.
    const callback = outcome.type === 'queued' ? await this.#router.openCallback(conversation.id) : null;
    const now = this.#router.clock.now();
    const kept =
      outcome.type === 'queued' && !callback ? placeKeptSentence(this.#router.policy, outcome) : null;
    const said =
      outcome.type === 'queued'
        ? `${kept ? `${kept} ` : ''}${waitSentence(
            this.#router.policy,
            outcome,
            callback ? Math.ceil((callback.dueAt - now) / 1000) : null,
          )}`
        : ownerWaitSentence(
            this.#router.policy,
            await this.#router.store.getAgent(outcome.ownerId),
            Math.ceil((outcome.until - now) / 1000),
          );
    const ack = await this.#router.acknowledgeWait(conversation.id, said, { inReply: true, channel: 'sms' });
    return ack ? messageTwiml(ack.text) : empty();
  }

  // ---------------------------------------------------------------- outbound

  #onEvent(event: DomainEvent): void {
    if (event.type !== 'message.sent') return;
    const m = event.message;
    if (m.direction !== 'out' || (m.channel !== 'sms' && m.channel !== 'voice')) return;
    // Sent already, in the TwiML answering the customer's text (a wait acknowledgement).
    if (m.delivery.state !== 'pending') return;
    this.#sends.start(m);
  }

  /** Send attempt `attempt` (`Sends` checked it may be made); a failure sets its retry or ends the tries. */
  async #attempt(message: Message, attempt: number): Promise<void> {
    const target = await this.#addresses(message);
    if ('error' in target) {
      await this.#sends.mark(message.id, 'failed', target.error, attempt, null);
      return;
    }
    // Not sent to a number that texted STOP (Twilio would refuse it, 21610): said at once, not retried.
    const stopped = await this.#optedOut(target.to);
    if (stopped) {
      await this.#sends.mark(message.id, 'failed', stopped, attempt, null);
      return;
    }
    try {
      await this.#send(message, target.to, target.from, attempt);
      await this.#sends.mark(message.id, 'sent', undefined, attempt, null);
    } catch (err) {
      const failure = restFailure(err);
      this.#o.log.warn({ messageId: message.id, attempt, reason: failure.reason }, 'sms: send failed');
      await this.#failed(message.id, failure.reason, attempt, failure.permanent);
    }
  }

  /** Attempt `attempt` failed: shown to the agent, and its retry due after the backoff unless it was the last. */
  async #failed(messageId: string, reason: string, attempt: number, permanent = false): Promise<void> {
    const last = permanent || attempt >= this.#maxAttempts;
    const retryAt = last ? null : this.#router.clock.now() + this.#backoff(attempt);
    await this.#sends.mark(messageId, 'failed', this.#why(reason, attempt, last), attempt, retryAt);
  }

  async #send(message: Message, to: string, from: string, attempt: number): Promise<void> {
    const parts = split(message.text, SMS_PART);
    // An agent's files go as MMS with the last part: Twilio fetches each from its link (PUBLIC_URL).
    const media = message.attachments.flatMap((a) => (a.url && /^https?:\/\//.test(a.url) ? [a.url] : []));
    for (let i = this.#partsSent.get(message.id) ?? 0; i < parts.length; i++) {
      const lastPart = i === parts.length - 1;
      await this.#client.messages.create({
        to,
        from,
        body: parts[i]!,
        // Delivery of the last part stands for the message.
        ...(lastPart
          ? {
              ...(media.length > 0 ? { mediaUrl: media } : {}),
              statusCallback: `${this.#o.base}/sms/status?${new URLSearchParams({
                message: message.id,
                attempt: String(attempt),
              })}`,
            }
          : {}),
      });
      if (lastPart) this.#partsSent.delete(message.id);
      else remember(this.#partsSent, message.id, i + 1);
    }
  }

  /** Twilio's delivery report for one attempt (the store ignores an older attempt's once a later one began). */
  async #status(req: Request): Promise<string> {
    const p = parseInput(MessageStatus, webhookParams(req), 'message status');
    const q = parseInput(StatusQuery, req.query, 'query');
    const message = await this.#router.store.getMessage(q.message);
    if (!message) return empty();
    switch (p.MessageStatus) {
      case 'delivered':
      case 'read':
        await this.#sends.mark(message.id, 'delivered', undefined, q.attempt, null);
        break;
      case 'failed':
      case 'undelivered': {
        if (message.delivery.state === 'delivered') break;
        const reason =
          `Twilio ${p.ErrorCode ?? ''}: ${p.MessageStatus}${p.ErrorMessage ? ` (${p.ErrorMessage})` : ''}`
            .replace('Twilio :', 'Twilio:')
            .slice(0, 900);
        // A repeated report of the same failure sets the same timer: one retry, in whichever process ticks.
        await this.#failed(message.id, reason, q.attempt);
        break;
      }
      default:
        break; // queued, sending, sent, …: nothing new for the agent
    }
    return empty();
  }

  /** Why no text goes to `address`: it texted STOP (with no START since); else null. */
  async #optedOut(address: string): Promise<string | null> {
    const phone = identityIfAny('sms', address)?.address;
    if (!phone) return null;
    const at = await this.#router.store.textOptOut(phone);
    return at === null ? null : `${phone} texted STOP: no text goes to it until they text START`;
  }

  /** Who the message goes to (the customer's phone) and the number it comes from. */
  async #addresses(message: Message): Promise<{ to: string; from: string } | { error: string }> {
    const store = this.#router.store;
    const conv = await store.getConversation(message.conversationId);
    // The number they last texted or called from on this conversation, else the number we know for them.
    const messages = conv ? await store.listMessages(conv.id) : [];
    const last = lastAddress(messages, PHONE_CHANNELS);
    const customer = conv && !last ? await store.getCustomer(conv.customerId) : null;
    const to = last ?? phoneOf(customer) ?? customer?.facts.phone?.value ?? null;
    if (!to)
      return {
        error: customer?.identities.some((i) => i.channel === 'call')
          ? 'the caller withheld their number: no text can reach them'
          : 'the customer has no phone number to text',
      };
    // The number of ours they last texted or called on this conversation (several numbers route to it: each
    // answers its own texters), else ours, else the one this process saw them reach.
    const reached = messages.findLast(
      (m) => m.direction === 'in' && PHONE_CHANNELS.includes(m.channel) && m.via !== undefined,
    )?.via;
    const from = reached ?? this.#o.fromNumber ?? this.#ourNumber.get(to) ?? null;
    if (!from) return { error: 'no Twilio number to send from: set TWILIO_FROM_NUMBER' };
    return { to, from };
  }

  #learnNumber(customer: string, ours: string): void {
    try {
      const phone = normalizePhone(customer);
      remember(this.#ourNumber, phone, ours);
    } catch {
      // Not a phone number: nothing to remember.
    }
  }

  /** Learn the number a caller reached us on (the voice channel tells us), to text them from it. */
  learnNumber(customer: string, ours: string): void {
    this.#learnNumber(customer, ours);
  }

  #why(reason: string, attempt: number, last: boolean): string {
    return last
      ? `${reason}; gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}`
      : `${reason}; retrying (attempt ${attempt} of ${this.#maxAttempts})`;
  }

  async #handle(req: Request, res: Response, what: string, fn: () => Promise<string>): Promise<void> {
    try {
      sendTwiml(res, await fn());
    } catch (err) {
      if (err instanceof ValidationError) {
        // The message names what was refused ("message status: MessageStatus: …").
        this.#o.log.warn({ path: req.path, field: err.field }, `sms: ${err.message}`);
        res.status(400).type('text/plain').send(err.message);
        return;
      }
      this.#o.log.error({ err, path: req.path }, `sms: ${what} failed`);
      res.status(500).type('text/plain').send('something went wrong');
    }
  }
}

const EMPTY = new MessagingResponse().toString();
function empty(): string {
  return EMPTY;
}

/** Characters XML 1.0 does not allow (control characters, lone surrogates, U+FFFE/U+FFFF). */
const NOT_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#xD;' };

/**
 * `<Response><Message>text</Message></Response>`, the same string the twilio package's
 * MessagingResponse writes (its XML builder cost more than the rest of the reply): text escaped
 * the same way, and a text XML cannot carry still goes through the package, which refuses it.
 */
export function messageTwiml(text: string): string {
  if (NOT_XML.test(text)) {
    const response = new MessagingResponse();
    response.message(text);
    return response.toString();
  }
  const body =
    text.length === 0
      ? '<Message/>'
      : `<Message>${text.replace(/[&<>\r]/g, (c) => XML_ESCAPES[c]!)}</Message>`;
  return `<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`;
}

/** Text in parts of at most `size` characters, split at a space when one is near. */
export function split(text: string, size: number): string[] {
  if (text.length <= size) return [text];
  const parts: string[] = [];
  let rest = text;
  while (rest.length > size) {
    let cut = rest.lastIndexOf(' ', size);
    if (cut < size * 0.8) cut = characterStart(rest, size);
    parts.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, '');
  }
  if (rest.length > 0) parts.push(rest);
  return parts;
}

const GRAPHEMES = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Where a cut at `at` (a UTF-16 offset) may go without splitting what a reader sees as one character (an emoji,
 * its skin tone or family joined, a letter and its accent): the start of the character `at` falls in, or `at`
 * itself at a boundary. A character longer than the whole part is cut between its code points.
 */
function characterStart(text: string, at: number): number {
  let start = 0;
  for (const { index } of GRAPHEMES.segment(text.slice(0, at + 64))) {
    if (index > at) break;
    start = index;
  }
  if (start > 0) return start;
  // One character as long as the part (no boundary before `at`): at least no lone surrogate.
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}
