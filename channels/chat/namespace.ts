// The website chat channel: socket.io namespace `/chat` (README, API).
// A thin edge: verify the visitor token, parse each event with zod, hand the
// contact to the router, and mirror domain events back to the visitor's sockets.
import { randomBytes } from 'node:crypto';
import type { Namespace, Server, Socket } from 'socket.io';
import { z } from 'zod';
import { humanDuration } from '../../routing/estimate.js';
import {
  fillText,
  OPENS_AS_DAY_SECONDS,
  opensPhrase,
  type RoutingPolicy,
  Topic,
  type WidgetTexts,
} from '../../routing/policy.js';
import type { Router } from '../../routing/router.js';
import { fromZod, RateLimitedError } from '../../shared/errors.js';
import type { DomainEvent, EventOrigin } from '../../shared/events.js';
import { type Conversation, type Message, showsText, typedText } from '../../shared/model.js';
import type { TokenSigner } from '../../shared/tokens.js';
import { type Ack, withAck } from '../ack.js';
import { attachedFiles, type ChatFiles, FileHandles } from './files.js';

export const CHAT_TEXT_CAP = 4000;
/** At most one log line per this long for visitors' sessions that could not be set up. */
const SETUP_LOG_MS = 10_000;
/**
 * A returning visitor's widget shows their earlier conversations above the one it shows (`history`): at most this
 * many of their latest conversations in all, and of what was said in the earlier ones, at most this many
 * messages (the latest).
 */
export const HISTORY_CONVERSATIONS = 5;
export const HISTORY_MESSAGES = 100;
/** Facts the pre-chat form may ask for, in order. */
export const PRECHAT_FACTS = ['name', 'email'] as const;

const MessageIn = z
  .object({
    text: z
      .string()
      .max(CHAT_TEXT_CAP, `must be at most ${CHAT_TEXT_CAP} characters`)
      .default('')
      .transform(typedText),
    clientMessageId: z.string().min(1).max(100),
    files: FileHandles,
  })
  .refine((m) => showsText(m.text) || m.files.length > 0, {
    message: 'must not be empty',
    path: ['text'],
  });
const IdentifyIn = z.strictObject({
  name: z.string().transform(typedText).pipe(z.string().trim().min(1).max(200)).optional(),
  email: z.string().trim().min(3).max(320).optional(),
  phone: z.string().trim().min(3).max(32).optional(),
});
const TypingIn = z.object({ typing: z.boolean() });
/** Asking for the conversation by email takes nothing. */
const TranscriptIn = z.strictObject({}).nullish();

export interface ChatOptions {
  router: Router;
  tokens: TokenSigner;
  /** Messages a visitor may send in a burst, and how fast the allowance refills. */
  rateLimit?: { burst: number; perSecond: number };
  /** Visitors' files; without, a message with files is refused. */
  files?: ChatFiles;
  log?: { warn(obj: object, msg: string): void };
}

interface VisitorState {
  visitorId: string;
  customerId: string;
}

/**
 * Whether the widget shows a message: never an internal note, nor what Switchboard itself sent on another
 * channel (the email of replies a visitor did not see, the conversation they asked for by email: copies of
 * what the chat shows already).
 */
export function shownInWidget(m: Message): boolean {
  return (
    m.direction !== 'internal' &&
    !(m.author.type === 'system' && m.direction === 'out' && m.channel !== 'chat')
  );
}

/** Wire shape of a message for the widget: never internal notes. */
export function widgetMessage(m: Message): object {
  const author =
    m.author.type === 'agent'
      ? { type: 'agent', ...(m.author.name ? { name: m.author.name } : {}) }
      : {
          type: m.author.type,
          ...(m.author.name && m.author.type === 'customer' ? { name: m.author.name } : {}),
        };
  return {
    id: m.id,
    conversationId: m.conversationId,
    direction: m.direction,
    author,
    text: m.text,
    at: m.at,
    ...(m.attachments.length > 0 ? { attachments: m.attachments } : {}),
  };
}

/** Where `widget.js` carries what `widgetConfig` gives (server/app.ts fills it in when it serves the file). */
export const WIDGET_CONFIG_MARK = '/*switchboard:widget-config*/ null';

/**
 * What the widget speaks: the policy's language, for the durations and dates it shows, and every word it shows
 * or says (`widgetTexts`). Filled into `widget.js` so the first view is in that language, and sent with `session`.
 */
export function widgetConfig(policy: RoutingPolicy): { locale: string; texts: WidgetTexts } {
  return { locale: policy.locale, texts: policy.widgetTexts };
}

export class ChatChannel {
  readonly #nsp: Namespace;
  readonly #router: Router;
  readonly #tokens: TokenSigner;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #rate: { burst: number; perSecond: number };
  /** Last status sent per waiting conversation, to send only changes. */
  readonly #lastStatus = new Map<string, string>();
  /** The line (its last channel) each waiting conversation was in at its last status, to see it move. */
  readonly #lastLine = new Map<string, Conversation['lastChannel']>();
  #refreshTimer: NodeJS.Timeout | null = null;
  /** When a failed session setup was last logged, and how many failed since (`#setupFailed`). */
  #setupLoggedAt = 0;
  #setupUnlogged = 0;
  readonly #unsubscribe: () => void;
  readonly #log: ChatOptions['log'];
  readonly #files: ChatFiles | null;

  constructor(io: Server, options: ChatOptions) {
    this.#router = options.router;
    this.#tokens = options.tokens;
    this.#rate = options.rateLimit ?? { burst: 10, perSecond: 0.5 };
    this.#log = options.log;
    this.#files = options.files ?? null;
    this.#nsp = io.of('/chat');
    this.#nsp.use((socket, next) => {
      // The page's topic (the widget's `data-topic`): a new conversation's entry point (policy `entryPoints`).
      const topic = (socket.handshake.auth as { topic?: unknown } | undefined)?.topic;
      if (topic !== undefined && topic !== null && topic !== '') {
        const parsed = Topic.safeParse(topic);
        if (!parsed.success)
          return next(new Error(`invalid_topic: topic ${parsed.error.issues[0]!.message}`));
        socket.data.topic = parsed.data;
      }
      const given = (socket.handshake.auth as { visitorToken?: unknown } | undefined)?.visitorToken;
      if (given === undefined || given === null || given === '') {
        socket.data.visitorId = `v_${randomBytes(12).toString('base64url')}`;
        return next();
      }
      const visitorId = this.#tokens.verify('visitor', given);
      if (!visitorId) return next(new Error('invalid_visitor_token'));
      socket.data.visitorId = visitorId;
      next();
    });
    this.#nsp.on('connection', (socket) => {
      this.#connected(socket).catch((err) => {
        this.#setupFailed(err);
        socket.emit('error_notice', {
          code: 'unavailable',
          message: this.#router.policy.widgetTexts.unavailable,
        });
        socket.disconnect(true);
      });
    });
    // Every process mirrors every event (its own and, in Redis mode, the others') to its own sockets.
    this.#unsubscribe = this.#router.events.subscribe((event, origin) => this.#onEvent(event, origin), {
      remote: true,
    });
  }

  /**
   * A visitor's session could not be set up (the store away): logged at most once in SETUP_LOG_MS, with how many
   * more failed meanwhile, so that an outage with many widgets open is a line, not a flood.
   */
  #setupFailed(err: unknown): void {
    const now = Date.now();
    if (now - this.#setupLoggedAt < SETUP_LOG_MS) {
      this.#setupUnlogged++;
      return;
    }
    this.#log?.warn(
      { err: err instanceof Error ? err.message : String(err), alsoFailedSinceLastLine: this.#setupUnlogged },
      'chat: session setup failed',
    );
    this.#setupLoggedAt = now;
    this.#setupUnlogged = 0;
  }

  close(): void {
    this.#unsubscribe();
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
  }

  async #connected(socket: Socket): Promise<void> {
    const visitorId = socket.data.visitorId as string;
    // Handlers first, so nothing the client sends right after connecting is lost.
    const ready = this.#session(socket, visitorId);
    socket.on('message', (payload: unknown, ack?: unknown) =>
      withAck(ack, async () => this.#message(await ready, socket, payload)),
    );
    socket.on('identify', (payload: unknown, ack?: unknown) =>
      withAck(ack, async () => this.#identify(await ready, socket, payload)),
    );
    socket.on('typing', (payload: unknown, ack?: unknown) =>
      withAck(ack, async () => this.#typing(await ready, payload)),
    );
    socket.on('transcript.email', (payload: unknown, ack?: unknown) =>
      withAck(ack, async () => this.#transcript(await ready, payload)),
    );
    await ready;
  }

  async #session(socket: Socket, visitorId: string): Promise<VisitorState> {
    const customer = await this.#router.visitor(visitorId);
    const state: VisitorState = { visitorId, customerId: customer.id };
    socket.join(`cust:${customer.id}`);
    socket.on('disconnect', () => {
      this.#left(customer.id).catch((err) => this.#log?.warn({ err }, 'chat: presence update failed'));
    });
    const open = await this.#router.store.openConversationOf(customer.id);
    // The agents on their open conversation see the visitor is on the page.
    if (open) this.#router.visitorPresence(open.id, true);
    socket.emit('session', this.#sessionOf(visitorId, customer.id, open?.id ?? null));
    const ask = await this.#router.missingFacts(customer.id, PRECHAT_FACTS);
    socket.emit('prechat', { ask });
    // The open conversation, else the last one (shown closed), so a reload keeps the history in view.
    const shown =
      open ?? (await this.#router.store.listConversations({ customerId: customer.id, limit: 1 }))[0];
    if (shown) {
      // What was said before it, in the visitor's earlier conversations, so a returning visitor reads it again.
      const earlier = await this.#earlier(customer.id, shown);
      if (earlier.length > 0) socket.emit('history', { messages: earlier });
      // A resolved one too: the survey about it, and the thanks for the answer, arrive here.
      socket.join(`conv:${shown.id}`);
      const history = await this.#router.store.listMessages(shown.id);
      for (const m of history) {
        if (shownInWidget(m)) socket.emit('message', widgetMessage(m));
      }
      // Replies sent while the visitor was away are seen now (and no longer go by email).
      await this.#router.chatSeen(history);
      socket.emit('status', await this.#status(shown));
    }
    return state;
  }

  /** The `session` event: who the visitor is, their open conversation, and what the widget offers and says. */
  #sessionOf(visitorId: string, customerId: string, conversationId: string | null): object {
    return {
      visitorToken: this.#tokens.sign('visitor', visitorId),
      customerId,
      conversationId,
      // Whether the visitor may ask for the conversation by email (`transcript.email`).
      transcripts: this.#router.sendsEmail,
      ...widgetConfig(this.#router.policy),
    };
  }

  /**
   * The messages the widget shows of the customer's conversations before `shown` (among their latest
   * HISTORY_CONVERSATIONS), oldest first, at most the latest HISTORY_MESSAGES of them.
   */
  async #earlier(customerId: string, shown: Conversation): Promise<object[]> {
    const store = this.#router.store;
    const latest = await store.listConversations({ customerId, limit: HISTORY_CONVERSATIONS });
    const before = latest.filter((c) => c.id !== shown.id && c.createdAt <= shown.createdAt);
    const messages = (await Promise.all(before.map((c) => store.listMessages(c.id)))).flat();
    return messages
      .filter(shownInWidget)
      .sort((a, b) => a.at - b.at)
      .slice(-HISTORY_MESSAGES)
      .map(widgetMessage);
  }

  async #message(state: VisitorState, socket: Socket, payload: unknown): Promise<Ack> {
    const parsed = MessageIn.safeParse(payload);
    if (!parsed.success) throw fromZod(parsed.error, 'message');
    const externalId = `${state.visitorId}:${parsed.data.clientMessageId}`;
    // A retry of a message already stored is answered with it, never rate limited.
    if (!(await this.#router.store.findMessageByExternalId('chat', externalId))) this.#spend(state.visitorId);
    const attachments = await attachedFiles(this.#files, { visitor: state.visitorId }, parsed.data.files);
    const topic = socket.data.topic as string | undefined;
    const result = await this.#router.contact({
      channel: 'chat',
      from: state.visitorId,
      ...(topic ? { to: topic } : {}),
      text: parsed.data.text,
      attachments,
      externalId,
    });
    const conversationId = result.conversation.id;
    // Every tab of this visitor follows the conversation.
    this.#nsp.in(`cust:${result.customer.id}`).socketsJoin(`conv:${conversationId}`);
    socket.join(`conv:${conversationId}`);
    if (result.outcome.type !== 'duplicate') {
      if (result.created) {
        this.#nsp
          .to(`cust:${result.customer.id}`)
          .emit('session', this.#sessionOf(state.visitorId, result.customer.id, conversationId));
      }
      // Moved to the chat line by this message: the wait the widget shows now is the one told.
      const moved = result.outcome.type === 'queued' && result.outcome.lineChanged === true;
      await this.#sendStatus(result.conversation, true, moved);
    }
    return { ok: true, messageId: result.message.id, conversationId };
  }

  async #identify(state: VisitorState, socket: Socket, payload: unknown): Promise<Ack> {
    const parsed = IdentifyIn.safeParse(payload);
    if (!parsed.success) throw fromZod(parsed.error, 'identify');
    const { customer } = await this.#router.identify(state.customerId, parsed.data, 'chat:prechat');
    const ask = PRECHAT_FACTS.filter((k) => !customer.facts[k]);
    socket.emit('prechat', { ask });
    return { ok: true };
  }

  /** The visitor asks for their conversation by email (router `emailTranscript`). */
  async #transcript(state: VisitorState, payload: unknown): Promise<Ack> {
    const parsed = TranscriptIn.safeParse(payload);
    if (!parsed.success) throw fromZod(parsed.error, 'transcript.email');
    this.#spend(state.visitorId);
    const { sent, to } = await this.#router.emailTranscript(state.customerId);
    return { ok: true, sent, to };
  }

  async #typing(state: VisitorState, payload: unknown): Promise<Ack> {
    const parsed = TypingIn.safeParse(payload);
    if (!parsed.success) throw fromZod(parsed.error, 'typing');
    const open = await this.#router.store.openConversationOf(state.customerId);
    if (open) this.#router.customerTyping(open.id, parsed.data.typing);
    return { ok: true };
  }

  /** Whether a widget of this customer is open on any process (the adapter asks the others in Redis mode). */
  async visitorOnline(customerId: string): Promise<boolean> {
    return (await this.#nsp.in(`cust:${customerId}`).fetchSockets()).length > 0;
  }

  /** A widget of this customer closed: when it was their last anywhere, the agents see they left. */
  async #left(customerId: string): Promise<void> {
    if (await this.visitorOnline(customerId)) return;
    const open = await this.#router.store.openConversationOf(customerId);
    if (open) this.#router.visitorPresence(open.id, false);
  }

  /** Token bucket per visitor: a burst, then a steady allowance. */
  #spend(visitorId: string): void {
    const now = Date.now();
    const bucket = this.#buckets.get(visitorId) ?? { tokens: this.#rate.burst, at: now };
    bucket.tokens = Math.min(
      this.#rate.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.#rate.perSecond,
    );
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.#buckets.set(visitorId, bucket);
      const wait = Math.ceil((1 - bucket.tokens) / this.#rate.perSecond);
      const policy = this.#router.policy;
      throw new RateLimitedError(
        fillText(policy.widgetTexts.tooFast, { wait: humanDuration(wait, policy.locale) }),
      );
    }
    bucket.tokens -= 1;
    this.#buckets.set(visitorId, bucket);
    if (this.#buckets.size > 50_000) this.#buckets.delete(this.#buckets.keys().next().value!);
  }

  async #status(conv: Conversation): Promise<Record<string, unknown>> {
    const state = conv.status === 'assigned' ? 'assigned' : conv.status === 'queued' ? 'queued' : 'resolved';
    const status: Record<string, unknown> = { conversationId: conv.id, state };
    // Who has it: the colleague covering, else its owner (read once: named below, and an owner's absence said).
    const agentId = conv.cover?.agentId ?? (conv.status === 'assigned' ? conv.ownerId : null);
    const agent = agentId ? await this.#router.store.getAgent(agentId) : null;
    if (
      conv.status === 'queued' ||
      (conv.status === 'assigned' && conv.waitingForOwnerSince !== null && !conv.cover)
    ) {
      const quote = await this.#router.quote(conv.id);
      // Owned, its owner away (or offline: `ownerOffline`): the widget says so instead of "chatting with" them.
      if (conv.status === 'assigned') {
        status.ownerAway = true;
        // Not covered here: `agent` is its owner.
        if (agent?.status === 'offline') status.ownerOffline = true;
      }
      const since = conv.waitingForOwnerSince;
      if (!quote && conv.status === 'assigned' && since !== null) {
        // Its owner is away and it waits for them, in no line: `handOverSeconds` is what is left of the sticky
        // wait, when it goes to the next free colleague if they are not back (the same words a text gets). No
        // time a colleague answers by is promised: the line's quote comes once it is in line.
        const until = since + this.#router.policy.stickyWaitSeconds[conv.lastChannel] * 1000;
        status.handOverSeconds = Math.max(1, Math.ceil((until - this.#router.clock.now()) / 1000));
      }
      if (quote) {
        status.position = quote.position;
        // Back soon after giving up a wait (policy `rejoinSeconds`): in line since before it began, where the
        // one they gave up was. Read from the record, so every status says it (another process's, a reload).
        if (conv.status === 'queued' && conv.queuedAt !== null && conv.queuedAt < conv.createdAt)
          status.keptPlace = true;
        if (quote.etaSeconds !== null) status.etaSeconds = quote.etaSeconds;
        // Nobody available, someone away: nobody is busy serving others, so not "as soon as one is free".
        else if (quote.nobodyFree) status.nobodyFree = true;
        else if (quote.closed) {
          // Nobody works now: when they are back, to the minute (a status is sent again only when it changes).
          const opens = quote.closed.opensInSeconds;
          status.closed = {
            opensInSeconds: opens === null ? null : Math.ceil(opens / 60) * 60,
            // Far off, the day and time they open ("on Wednesday 7 January at 08:30 (Berlin time)").
            ...(opens !== null && opens >= OPENS_AS_DAY_SECONDS
              ? { opens: opensPhrase(quote.closed, this.#router.policy.locale) }
              : {}),
          };
        }
      }
    }
    // Closed for good while the team blocks them: not invited to write again.
    if (state === 'resolved' && (await this.#router.store.getCustomer(conv.customerId))?.blocked) {
      status.blocked = true;
    }
    if (agent) status.agent = { name: agent.name };
    return status;
  }

  /** `moved`: the conversation just moved to another line (`lineChanged`), whatever the last status here said. */
  async #sendStatus(conv: Conversation, force = false, moved = false): Promise<void> {
    // No widget of this conversation here (in Redis mode, most events are about other processes' visitors).
    if (!this.#nsp.adapter.rooms.has(`conv:${conv.id}`)) return;
    const status = await this.#status(conv);
    const key = JSON.stringify(status);
    const before = this.#lastStatus.get(conv.id);
    if (!force && before === key) return;
    // A time shown where the last status had none (nobody was working): it is the wait promised from now on.
    if (typeof status.etaSeconds === 'number' && before !== undefined && !before.includes('"etaSeconds"'))
      await this.#router.waitShown(conv.id, status.etaSeconds);
    // A time shown for another line than the last status's (the customer wrote on another channel and the wait
    // moved there): the time told now, kept to and warned about in place of the one before (router `waitRetold`).
    else if (
      typeof status.etaSeconds === 'number' &&
      (moved || (this.#lastLine.has(conv.id) && this.#lastLine.get(conv.id) !== conv.lastChannel))
    )
      await this.#router.waitRetold(conv.id, status.etaSeconds);
    this.#lastStatus.set(conv.id, key);
    this.#lastLine.set(conv.id, conv.lastChannel);
    if (status.state === 'resolved') {
      this.#lastStatus.delete(conv.id);
      this.#lastLine.delete(conv.id);
    }
    this.#nsp.local.to(`conv:${conv.id}`).emit('status', status);
  }

  /** Positions move when anyone ahead is answered: re-quote waiting visitors (debounced). */
  #scheduleRefresh(): void {
    if (this.#refreshTimer) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      void this.#refreshWaiting().catch((err) => this.#log?.warn({ err }, 'chat: status refresh failed'));
    }, 100);
    this.#refreshTimer.unref();
  }

  async #refreshWaiting(): Promise<void> {
    for (const id of [...this.#lastStatus.keys()]) {
      if (!this.#nsp.adapter.rooms.has(`conv:${id}`)) {
        this.#lastStatus.delete(id);
        this.#lastLine.delete(id);
        continue;
      }
      const conv = await this.#router.store.getConversation(id);
      if (conv) await this.#sendStatus(conv);
    }
  }

  #onEvent(event: DomainEvent, origin: EventOrigin): void {
    switch (event.type) {
      case 'message.sent':
        if (shownInWidget(event.message)) {
          this.#nsp.local
            .to(`conv:${event.message.conversationId}`)
            .emit('message', widgetMessage(event.message));
        }
        if (event.message.channel === 'chat') void this.#deliver(event.message, origin);
        break;
      case 'message.received':
        if (
          event.message.channel === 'chat' ||
          this.#nsp.adapter.rooms.has(`conv:${event.message.conversationId}`)
        ) {
          // Also to the customer's room: on a new conversation their tabs have not joined its room yet.
          const customerRoom = event.message.author.id ? [`cust:${event.message.author.id}`] : [];
          this.#nsp.local
            .to([`conv:${event.message.conversationId}`, ...customerRoom])
            .emit('message', widgetMessage(event.message));
        }
        break;
      case 'conversation.assigned':
        // A follow-up we opened: the visitor's tabs follow it once a person has it.
        if (event.conversation.followUpOf) {
          this.#nsp.local
            .in(`cust:${event.conversation.customerId}`)
            .socketsJoin(`conv:${event.conversation.id}`);
        }
        void this.#sendStatus(event.conversation).catch(() => {});
        this.#scheduleRefresh();
        break;
      case 'conversation.covered':
      case 'conversation.resolved':
      case 'conversation.queued':
      case 'conversation.waiting_for_owner':
      case 'conversation.updated':
      case 'conversation.abandoned':
        void this.#sendStatus(event.conversation).catch(() => {});
        this.#scheduleRefresh();
        break;
      case 'typing':
        if (event.who === 'agent') {
          this.#nsp.local
            .to(`conv:${event.conversationId}`)
            .emit('typing', { typing: event.typing, ...(event.name ? { name: event.name } : {}) });
        }
        break;
      default:
        break;
    }
  }

  /**
   * Chat replies are delivered by the socket: mark them sent (delivered when a widget is connected).
   * Across processes, the one that sent the reply marks it; one with the visitor's widget marks it delivered.
   */
  async #deliver(message: Message, origin: EventOrigin): Promise<void> {
    const online = this.#nsp.adapter.rooms.has(`conv:${message.conversationId}`);
    if (origin === 'remote' && !online) return;
    try {
      await this.#router.markDelivery(message.id, online ? 'delivered' : 'sent');
      // Nobody to show it to here: unless a widget shows it soon, it goes by email (router `chatUnseen`).
      if (!online) await this.#router.chatUnseen(message);
    } catch (err) {
      this.#log?.warn({ err, messageId: message.id }, 'chat: delivery update failed');
    }
  }
}
