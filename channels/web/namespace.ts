// The built-in web agent console: socket.io namespace `/agent` (README, API).
import type { Logger } from 'pino';
import type { Namespace, Server, Socket } from 'socket.io';
import { z } from 'zod';
import { REPLY_MAX, type Router, type WriteToInput } from '../../routing/router.js';
import { freePlaces, onAgentList } from '../../routing/store/rules.js';
import type { Store } from '../../routing/store/store.js';
import { logFailure, NotOwnerError, parseInput } from '../../shared/errors.js';
import type { DomainEvent } from '../../shared/events.js';
import { type Agent, AgentStatus, CHANNELS, type Conversation, type Message } from '../../shared/model.js';
import { OneRunAtATime } from '../../shared/runs.js';
import { readAgentToken, type TokenSigner } from '../../shared/tokens.js';
import { type Ack, withAck } from '../ack.js';
import { attachedFiles, type ChatFiles, FileHandles } from '../chat/files.js';
import type { OriginalLinks } from '../email/original.js';
import { customerName } from '../team.js';
import { conversationView, customerCard, participants, readConversation } from '../views.js';

const ConvId = z.object({ conversationId: z.string().min(1).max(128) });
const Schemas = {
  status: z.object({ status: AgentStatus }),
  // The router checks the length for the reply's channel (REPLY_MAX); this is the longest any channel takes.
  reply: ConvId.extend({
    text: z
      .string()
      .max(Math.max(...Object.values(REPLY_MAX)))
      .default(''),
    clientMessageId: z.string().min(1).max(100),
    files: FileHandles,
  }),
  note: ConvId.extend({ text: z.string().max(4000) }),
  resolve: ConvId.extend({ followUpAt: z.number().int().positive().nullable().optional() }),
  wrapUpExtend: ConvId,
  // The router checks the reason's length (`reason`).
  block: ConvId.extend({ reason: z.string().default('') }),
  consult: ConvId.extend({ agentId: z.string().min(1).max(128) }),
  handoff: ConvId.extend({ toAgentId: z.string().min(1).max(128), note: z.string().max(2000) }),
  promise: ConvId.extend({ dueAt: z.number().int().positive(), text: z.string().max(1000) }),
  promiseKeep: z.object({ promiseId: z.string().min(1).max(128) }),
  typing: ConvId.extend({ typing: z.boolean() }),
  // The router checks each field (IdentifyInput) and that one is given.
  details: ConvId.extend({
    name: z.string().max(200).optional(),
    email: z.string().max(320).optional(),
    phone: z.string().max(32).optional(),
  }),
  offer: ConvId,
  none: z.object({}).optional(),
};

/**
 * The agent a web console token stands for, and the version of their links it is from, or null: a token from
 * before the agent's links were renewed (Agent.tokenVersion) no longer stands for them.
 */
export async function consoleAgent(
  tokens: TokenSigner,
  store: Store,
  token: unknown,
): Promise<{ agentId: string; version: number } | null> {
  const signed = readAgentToken(tokens, token);
  if (!signed) return null;
  const agent = await store.getAgent(signed.agentId);
  return agent && (agent.tokenVersion ?? 0) === signed.version ? signed : null;
}

export interface WebConsoleOptions {
  router: Router;
  tokens: TokenSigner;
  log: Logger;
  /** Files agents send (and customers sent); without, a reply with files is refused. */
  files?: ChatFiles;
  /** Links to inbound mail as received: `original` on each inbound email message the consoles are shown. */
  originals?: OriginalLinks;
  /** Whether a chat visitor's widget is open anywhere (chat/namespace.ts `visitorOnline`). */
  visitorOnline?: (customerId: string) => Promise<boolean>;
  /** How often the consoles connected here are checked against the store (`catchUp`); default 30 s. */
  catchUpMs?: number;
  /** After a change to the waiting lines, how long before the consoles are told (`queue`); default 2 s. */
  queueMs?: number;
}

/** What waits: the `queue` event every console gets on connect and when it changes. */
interface QueueFigures {
  waiting: number;
  waitingByChannel: Record<string, number>;
}

/**
 * A conversation as the web console shows it: the view every console gets (views.ts), and (extension)
 * `brokenPromises`, the agents' own promises on it that broke (their due time passed, not marked kept), which the
 * console goes on showing as broken.
 */
async function consoleView(
  router: Router,
  conversation: Conversation,
  agentId: string,
  originals: OriginalLinks | null,
) {
  const [view, promises] = await Promise.all([
    conversationView(router.store, conversation, agentId, (c) => router.wrapUp(c)),
    router.store.listPromises(conversation.id),
  ]);
  return {
    ...view,
    messages: await shown(originals, view.messages),
    // The server's time, which `wrapUpUntil` is counted from (a console's own clock may be off).
    now: router.clock.now(),
    brokenPromises: promises.filter((p) => p.kind === 'agent' && p.state === 'broken'),
  };
}

/**
 * Messages as a console shows them: an inbound email's with the link to its original (`original`), or
 * `originalNotKept` when it was too large to keep.
 */
async function shown(originals: OriginalLinks | null, messages: Message[]) {
  return originals ? originals.show(messages) : messages;
}

/** How many conversations that moved on from an agent their consoles are told of (`#former`). */
const FORMER_KEPT = 20;

/** The status reason of an agent Switchboard set away because their last web console closed. */
export const CONSOLE_CLOSED = 'console closed';

export class WebConsole {
  readonly #nsp: Namespace;
  readonly #router: Router;
  readonly #unsubscribe: () => void;
  readonly #unsubscribeStatus: () => void;
  readonly #log: Logger;
  /**
   * Per agent with a console on this process: the conversations their consoles were told are on their list
   * (`hello`, `assigned`, `conversation.updated`), as `catchUp` compares them with the store.
   */
  readonly #shown = new Map<string, Set<string>>();
  /**
   * Per agent with a console on this process: the open conversations that left their list by moving on (handed on,
   * reassigned), which their consoles may still show (the one on screen stays there, read-only): they are told of
   * each further move, and of the close, as those on it are (`#updated`). At most FORMER_KEPT each, the latest.
   */
  readonly #former = new Map<string, Set<string>>();
  readonly #catchUpTimer: NodeJS.Timeout;
  /** Renews the `console` timers of the agents with a console here (`#renewLeases`). */
  readonly #leaseTimer: NodeJS.Timeout | null;
  readonly #catchUps: OneRunAtATime<number>;
  readonly #undoConsoleTimer: () => void;
  readonly #queueMs: number;
  /** The consoles' `queue` to send after a change (one read per `queueMs` at most), and the last one sent. */
  #queueTimer: NodeJS.Timeout | null = null;
  #lastQueue = '';
  #closed = false;
  readonly #files: ChatFiles | null;
  readonly #originals: OriginalLinks | null;
  readonly #visitorOnline: WebConsoleOptions['visitorOnline'];

  constructor(io: Server, options: WebConsoleOptions) {
    this.#router = options.router;
    this.#files = options.files ?? null;
    this.#originals = options.originals ?? null;
    this.#visitorOnline = options.visitorOnline;
    this.#log = options.log;
    this.#queueMs = options.queueMs ?? 2000;
    this.#catchUps = new OneRunAtATime({
      log: this.#log,
      failed: 'web console: could not catch up with the store',
      works: 'web console: catching up with the store works again',
      stopped: () => this.#closed,
    });
    this.#undoConsoleTimer = this.#router.onConsoleTimer((agentId) => this.#consoleGone(agentId));
    this.#nsp = io.of('/agent');
    this.#nsp.use((socket, next) => {
      const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
      consoleAgent(options.tokens, this.#router.store, token).then(
        (signed) => {
          if (!signed) return next(new Error('unauthorized'));
          socket.data.agentId = signed.agentId;
          socket.data.tokenVersion = signed.version;
          next();
        },
        () => next(new Error('unavailable')),
      );
    });
    this.#nsp.on('connection', (socket) => this.#connected(socket));
    // Every process mirrors every event (its own and, in Redis mode, the others') to its own agents' sockets.
    this.#unsubscribe = this.#router.events.subscribe(
      (event) => {
        this.#onEvent(event).catch(() => {});
      },
      { remote: true },
    );
    // An agent made available (at creation, by the API, from the team view) with no console of theirs open anywhere:
    // the timer of a console that closed, so that nobody who is not there keeps being given customers. (Events of
    // this process: the one that made the change arms it.)
    this.#unsubscribeStatus = this.#router.events.subscribe((event) => {
      if (event.type === 'agent.status' && event.status === 'available') void this.#unattended(event.agentId);
    });
    void this.#unattendedAtStart();
    this.#catchUpTimer = setInterval(() => {
      if (!this.#catchUps.busy) void this.catchUp();
    }, options.catchUpMs ?? 30_000);
    this.#catchUpTimer.unref();
    const renew = this.#leaseRenewMs();
    this.#leaseTimer = renew > 0 ? setInterval(() => void this.#renewLeases(), renew) : null;
    this.#leaseTimer?.unref();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#catchUpTimer);
    if (this.#leaseTimer) clearInterval(this.#leaseTimer);
    this.#undoConsoleTimer();
    if (this.#queueTimer) clearTimeout(this.#queueTimer);
    this.#unsubscribe();
    this.#unsubscribeStatus();
  }

  /**
   * Bring every console connected here up to date with the store: a conversation on the agent's list that
   * their consoles were never told of is sent (`assigned` when they own or cover it, else
   * `conversation.updated`), and one they were told of that has left their list (resolved, moved) is sent as
   * it is now. Events normally do this; this covers one that never came: a process that died between
   * storing an assignment and telling anyone, or a view that could not be read when the event came. Runs
   * every `catchUpMs` (skipped while one runs); one run at a time, a call meanwhile waits for it; a failure
   * is logged once until a run works again. Resolves with how many conversations it sent.
   */
  async catchUp(): Promise<number> {
    return this.#catchUps.run(() => this.#catchUpAll(), 0);
  }

  async #catchUpAll(): Promise<number> {
    let sent = 0;
    // One agent after another: a gentle, steady load on the store rather than one burst per period.
    for (const agentId of [...this.#shown.keys()]) {
      if (this.#closed) break;
      if (!this.#here(agentId)) {
        this.#shown.delete(agentId);
        this.#former.delete(agentId);
        continue;
      }
      sent += await this.#catchUpAgent(agentId);
    }
    return sent;
  }

  async #catchUpAgent(agentId: string): Promise<number> {
    const store = this.#router.store;
    const list = await store.listAgentConversations(agentId);
    const shown = this.#shown.get(agentId);
    if (!shown) return 0;
    let sent = 0;
    for (const conversation of list) {
      if (shown.has(conversation.id)) continue;
      if (conversation.ownerId === agentId || conversation.cover?.agentId === agentId) {
        this.#to(agentId).emit(
          'assigned',
          await consoleView(this.#router, conversation, agentId, this.#originals),
        );
      } else {
        this.#to(agentId).emit('conversation.updated', { conversation });
      }
      shown.add(conversation.id);
      sent++;
    }
    const listed = new Set(list.map((c) => c.id));
    for (const id of [...shown]) {
      if (listed.has(id)) continue;
      // Read again: it may have come onto the list (and its event in) since the list was read.
      const conversation = await store.getConversation(id);
      if (conversation && onAgentList(conversation, agentId)) continue;
      shown.delete(id);
      if (conversation) {
        this.#to(agentId).emit('conversation.updated', { conversation });
        this.#tell(agentId, conversation, true);
        sent++;
      }
    }
    return sent;
  }

  /**
   * An agent's `console` timer is due (set when their last console on some process closed, `consoleAwaySeconds`
   * before, or the lease of a process with a console of theirs that stopped renewing it: it died; whichever
   * process ticks first runs it, and it fires although the process that set it died since): with no
   * console of theirs on any process, and no Slack link to work from, an available agent is set away (reason
   * CONSOLE_CLOSED), so nothing more is given to someone who is not there. Their next console sets them
   * available again.
   */
  async #consoleGone(agentId: string): Promise<void> {
    try {
      // A console of theirs on another process (or one opened again meanwhile) keeps them as they are.
      if (this.#closed || (await this.#anywhere(agentId))) return;
      const agent = await this.#router.store.getAgent(agentId);
      if (agent?.status !== 'available' || agent.slackUserId) return;
      await this.#router.setAgentStatus(agentId, 'away', CONSOLE_CLOSED);
      this.#log.info({ agentId }, 'web console: an agent whose last console closed is set away');
      // Opened again elsewhere while they were being set away: available again.
      if (await this.#anywhere(agentId)) await this.#backFromClosed(agentId);
    } catch (err) {
      logFailure(this.#log, err, `web console: could not set away agent ${agentId}, whose console closed`);
    }
  }

  /**
   * Agent `agentId` is available: with no console of theirs on any process, their `console` timer is set as if
   * one had just closed (`#consoleGone` sets them away when it comes due with still none open, unless they work in
   * Slack). With one open, its process keeps the timer a lease ahead already.
   */
  async #unattended(agentId: string): Promise<void> {
    try {
      if (this.#closed || this.#here(agentId) || (await this.#anywhere(agentId))) return;
      await this.#consoleDue(agentId, 0);
    } catch (err) {
      logFailure(this.#log, err, `web console: could not set the console timer of agent ${agentId}`);
    }
  }

  /**
   * Those available already when this process starts (set so by an older version, or while it was down): each as
   * `#unattended`, one at a time, so that a large team does not ask every other process at once.
   */
  async #unattendedAtStart(): Promise<void> {
    const agents = await this.#router.store.listAgents().catch(() => []);
    for (const a of agents) if (a.status === 'available' && !a.slackUserId) await this.#unattended(a.id);
  }

  /** Whether the agent has a console on any process (the adapter asks the others in Redis mode). */
  async #anywhere(agentId: string): Promise<boolean> {
    return (await this.#nsp.in(`agent:${agentId}`).fetchSockets()).length > 0;
  }

  /** An agent Switchboard set away when their last console closed is available again (their console is back). */
  async #backFromClosed(agentId: string): Promise<void> {
    const agent = await this.#router.store.getAgent(agentId);
    if (agent?.status === 'away' && agent.statusReason === CONSOLE_CLOSED)
      await this.#router.setAgentStatus(agentId, 'available');
  }

  /**
   * Note what an agent's consoles here were told of a conversation (see `#shown`): one that left their list while
   * still open (`left`: it was on it) is followed on (`#former`) until it closes or comes back.
   */
  #tell(agentId: string, conversation: Conversation, left = false): void {
    const shown = this.#shown.get(agentId);
    if (!shown) return;
    const id = conversation.id;
    const former = this.#former.get(agentId) ?? new Set<string>();
    if (onAgentList(conversation, agentId)) {
      shown.add(id);
      former.delete(id);
    } else if (
      (shown.delete(id) || left) &&
      (conversation.status === 'assigned' || conversation.status === 'queued')
    ) {
      former.delete(id);
      former.add(id);
      if (former.size > FORMER_KEPT) former.delete(former.values().next().value!);
    } else if (conversation.status !== 'assigned' && conversation.status !== 'queued') former.delete(id);
    if (former.size > 0) this.#former.set(agentId, former);
    else this.#former.delete(agentId);
  }

  #connected(socket: Socket): void {
    const agentId = socket.data.agentId as string;
    const r = this.#router;
    socket.join(`agent:${agentId}`);
    if (!this.#shown.has(agentId)) this.#shown.set(agentId, new Set());
    // A console of theirs is open here: their `console` timer is this process's lease on them, renewed while it
    // stays open, so that it fires (and someone looks) if this process dies without closing it.
    void this.#consoleDue(agentId, this.#leaseRenewMs()).catch((err: unknown) =>
      logFailure(this.#log, err, `web console: could not take the lease on agent ${agentId}'s console`),
    );
    socket.on('disconnect', () => {
      if (this.#here(agentId)) return;
      this.#shown.delete(agentId);
      this.#former.delete(agentId);
      // Their last console here closed: in the store, so that whichever process is running then looks.
      void this.#consoleDue(agentId, 0).catch((err: unknown) =>
        logFailure(this.#log, err, `web console: could not note that agent ${agentId}'s console closed`),
      );
    });
    const on = (event: string, handler: (payload: unknown) => Promise<Ack>) =>
      socket.on(event, (payload: unknown, ack?: unknown) => withAck(ack, () => handler(payload)));

    on('status', async (p) => {
      const { status } = parseInput(Schemas.status, p, 'status');
      return { ok: true, agent: await r.setAgentStatus(agentId, status) };
    });
    on('reply', async (p) => {
      const { conversationId, text, clientMessageId, files } = parseInput(Schemas.reply, p, 'reply');
      const attachments = await attachedFiles(this.#files, { agent: agentId }, files);
      const message = await r.reply(agentId, conversationId, text, clientMessageId, attachments);
      return { ok: true, messageId: message.id };
    });
    // The agent writes to a customer first: a new conversation, theirs (Router `writeTo`).
    on('conversation.start', async (p) => {
      const wrote = await r.writeTo(agentId, (p ?? {}) as WriteToInput);
      return {
        ok: true,
        conversationId: wrote.conversation.id,
        messageId: wrote.message.id,
        duplicate: wrote.duplicate,
      };
    });
    // The agent phones the conversation's customer: their own phone rings first (Router `callCustomer`).
    on('call', async (p) => {
      const { conversationId } = parseInput(ConvId, p, 'call');
      const { to } = await r.callCustomer(agentId, conversationId);
      return { ok: true, to };
    });
    // What the customer told the agent: name, email, phone (Router `recordDetails`).
    on('customer.details', async (p) => {
      const { conversationId, name, email, phone } = parseInput(Schemas.details, p, 'customer.details');
      const blank = (v: string | undefined) => (v?.trim() ? v : undefined);
      const { customer, conflicts } = await r.recordDetails(agentId, conversationId, {
        name: blank(name),
        email: blank(email),
        phone: blank(phone),
      });
      return {
        ok: true,
        customer: customerCard(customer, customer.id),
        conflicts: conflicts.map((c) => ({
          ...c.identity,
          customerId: c.customerId,
          ...(c.name ? { name: c.name } : {}),
        })),
      };
    });
    on('note', async (p) => {
      const { conversationId, text } = parseInput(Schemas.note, p, 'note');
      const message = await r.note(agentId, conversationId, text);
      return { ok: true, messageId: message.id };
    });
    on('resolve', async (p) => {
      const { conversationId, followUpAt } = parseInput(Schemas.resolve, p, 'resolve');
      await r.resolve(agentId, conversationId, followUpAt ?? null);
      return { ok: true };
    });
    // More time for after-call work (Router `extendWrapUp`): only its owner.
    on('wrapup.extend', async (p) => {
      const { conversationId } = parseInput(Schemas.wrapUpExtend, p, 'wrapup.extend');
      const { wrapUp } = await r.extendWrapUp(agentId, conversationId);
      return { ok: true, wrapUpUntil: wrapUp.dueAt, now: r.clock.now() };
    });
    on('block', async (p) => {
      const { conversationId, reason } = parseInput(Schemas.block, p, 'block');
      const { closed } = await r.blockFromConversation(agentId, conversationId, reason);
      return { ok: true, closed: closed.map((c) => c.id) };
    });
    on('consult', async (p) => {
      const { conversationId, agentId: colleague } = parseInput(Schemas.consult, p, 'consult');
      await r.consult(agentId, conversationId, colleague);
      return { ok: true };
    });
    on('consult.join', async (p) => {
      const { conversationId } = parseInput(ConvId, p, 'consult.join');
      const conversation = await r.joinConsult(agentId, conversationId);
      return { ok: true, view: await consoleView(r, conversation, agentId, this.#originals) };
    });
    on('consult.leave', async (p) => {
      const { conversationId } = parseInput(ConvId, p, 'consult.leave');
      await r.leaveConsult(agentId, conversationId);
      return { ok: true };
    });
    on('handoff', async (p) => {
      const { conversationId, toAgentId, note } = parseInput(Schemas.handoff, p, 'handoff');
      await r.handoff(agentId, conversationId, toAgentId, note);
      return { ok: true };
    });
    on('handoff.accept', async (p) => {
      const { conversationId } = parseInput(ConvId, p, 'handoff.accept');
      await r.acceptHandoff(agentId, conversationId);
      return { ok: true };
    });
    // The owner takes back a hand-off not yet answered (Router `withdrawHandoff`).
    on('handoff.withdraw', async (p) => {
      const { conversationId } = parseInput(ConvId, p, 'handoff.withdraw');
      await r.withdrawHandoff(agentId, conversationId);
      return { ok: true };
    });
    on('handoff.decline', async (p) => {
      const { conversationId } = parseInput(ConvId, p, 'handoff.decline');
      await r.declineHandoff(agentId, conversationId);
      return { ok: true };
    });
    on('promise', async (p) => {
      const { conversationId, dueAt, text } = parseInput(Schemas.promise, p, 'promise');
      const promise = await r.promise(agentId, conversationId, dueAt, text);
      return { ok: true, promise };
    });
    on('promise.keep', async (p) => {
      const { promiseId } = parseInput(Schemas.promiseKeep, p, 'promise.keep');
      return { ok: true, promise: await r.keepPromise(agentId, promiseId) };
    });
    on('typing', async (p) => {
      const { conversationId, typing } = parseInput(Schemas.typing, p, 'typing');
      await r.agentTyping(agentId, conversationId, typing);
      return { ok: true };
    });
    on('offer.accept', async (p) => {
      const { conversationId } = parseInput(Schemas.offer, p, 'offer.accept');
      await r.acceptOffer(agentId, conversationId);
      return { ok: true };
    });
    on('offer.decline', async (p) => {
      const { conversationId } = parseInput(Schemas.offer, p, 'offer.decline');
      await r.declineOffer(agentId, conversationId);
      return { ok: true };
    });
    on('agents', async () => {
      // Colleagues to consult or hand off to: the team, without this agent and those who left it.
      const agents = (await r.store.listAgents())
        .filter((a) => a.id !== agentId && a.leftAt === undefined)
        // `room`: places free per channel (less those kept for hand-offs), so that a hand-off picker can say who
        // has none now.
        .map((a) => ({
          id: a.id,
          name: a.name,
          status: a.status,
          room: Object.fromEntries(CHANNELS.map((c) => [c, Math.max(0, freePlaces(a, c))])),
        }));
      return { ok: true, agents };
    });
    /** A conversation this agent is on (else not_owner: nobody sees a conversation they are not on). */
    const onIt = async (conversationId: string, what: string) => {
      const conversation = await r.store.getConversation(conversationId);
      if (!conversation || !participants(conversation).includes(agentId))
        throw new NotOwnerError(agentId, conversationId, what);
      return conversation;
    };
    on('conversation', async (p) => {
      const { conversationId } = parseInput(ConvId, p, 'conversation');
      const conversation = await onIt(conversationId, 'view');
      return { ok: true, view: await consoleView(r, conversation, agentId, this.#originals) };
    });
    // One of the customer's conversations to read (an earlier one, or the other open one of a merged customer).
    on('transcript', async (p) => {
      const { conversationId } = parseInput(ConvId, p, 'transcript');
      const read = await readConversation(r.store, agentId, conversationId);
      return { ok: true, ...read, messages: await shown(this.#originals, read.messages) };
    });
    // Whether the visitor of a chat conversation is on the page now (null: not a chat, or not known here).
    on('presence', async (p) => {
      const { conversationId } = parseInput(ConvId, p, 'presence');
      const conversation = await onIt(conversationId, 'look at');
      const ask = conversation.lastChannel === 'chat' ? this.#visitorOnline : undefined;
      return { ok: true, online: ask ? await ask(conversation.customerId) : null };
    });

    void this.#hello(socket, agentId).then(
      () =>
        this.#backFromClosed(agentId).catch((err) =>
          logFailure(this.#log, err, 'web console: could not set an agent available again'),
        ),
      () => socket.disconnect(true),
    );
  }

  async #hello(socket: Socket, agentId: string): Promise<void> {
    const agent = await this.#router.store.getAgent(agentId);
    if (!agent) return void socket.disconnect(true);
    const [conversations, offered] = await Promise.all([
      this.#router.store.listAgentConversations(agent.id),
      this.#ringing(agent),
    ]);
    const [views, offers] = await Promise.all([
      Promise.all(conversations.map((c) => consoleView(this.#router, c, agentId, this.#originals))),
      Promise.all(offered.map((c) => consoleView(this.#router, c, agentId, this.#originals))),
    ]);
    for (const c of conversations) this.#tell(agentId, c);
    const savedReplies = await this.#router.savedReplies();
    socket.emit('hello', {
      agent,
      conversations: views,
      // (Extension) The offers ringing for them now, as `offer` sends each: a console opened (or reopened, or moved
      // to another process) while one rings shows it to accept.
      offers,
      savedReplies,
      writesOn: this.#router.writesOn,
      callsOut: this.#router.callsOut,
      // How long an owner's conversations wait for them once they go offline, per channel (then colleagues'):
      // the console says so before the agent goes offline.
      stickyWaitSeconds: this.#router.policy.stickyWaitSeconds,
    });
    // What waits: with the next change when it cannot be read now (the console is open all the same).
    this.#queueFigures().then(
      (figures) => socket.emit('queue', figures),
      () => {},
    );
  }

  /**
   * The conversations ringing `agent` now (waiting, with an offer of theirs not yet answered), oldest first. An offer
   * holds a place of the agent's capacity: with none taken, none rings them, and the waiting line is not read.
   */
  async #ringing(agent: Agent): Promise<Conversation[]> {
    if (!CHANNELS.some((c) => agent.load[c] > 0)) return [];
    const waiting = await this.#router.store.listConversations({ status: 'queued', limit: 0 });
    return waiting.filter((c) => c.offer?.agentId === agent.id);
  }

  #to(agentId: string) {
    return this.#nsp.local.to(`agent:${agentId}`);
  }

  /** How often the consoles here renew their agents' leases (0: agents are never set away when consoles close). */
  #leaseRenewMs(): number {
    return Math.min(this.#router.policy.consoleAwaySeconds * 1000, 30_000);
  }

  /**
   * Agent `agentId`'s `console` timer: `consoleAwaySeconds` and `extraMs` from now (nothing when that is 0, or
   * this console is closing). Set when their last console here closes (`extraMs` 0), and, while one is open here,
   * a renewal ahead (`extraMs` the renewal: this process's lease on them): it never comes due while the process
   * renews it; if the process dies (even by SIGKILL, when no console "closes"), another fires it at most that long
   * after, finds no console of theirs anywhere, and sets them away (`#consoleGone`).
   */
  async #consoleDue(agentId: string, extraMs: number): Promise<void> {
    const r = this.#router;
    const after = r.policy.consoleAwaySeconds * 1000;
    if (after === 0 || this.#closed) return;
    await r.store.schedule({ kind: 'console', ref: agentId, dueAt: r.clock.now() + after + extraMs });
  }

  /** Every agent with a console here: their lease renewed (`#consoleDue`); a failure (the store away) said once a round. */
  async #renewLeases(): Promise<void> {
    const renew = this.#leaseRenewMs();
    try {
      for (const agentId of [...this.#shown.keys()])
        if (this.#here(agentId)) await this.#consoleDue(agentId, renew);
    } catch (err) {
      logFailure(this.#log, err, "web console: could not renew the leases on the agents' consoles");
    }
  }

  /** Whether the agent has a console on this process (else a view for them is not worth building here). */
  #here(agentId: string): boolean {
    return this.#nsp.adapter.rooms.has(`agent:${agentId}`);
  }

  /** `payload` as `event` to the consoles of the agents on a conversation (read to know who they are). */
  async #toParticipants(conversationId: string, event: string, payload: object): Promise<void> {
    const conversation = await this.#router.store.getConversation(conversationId);
    if (!conversation) return;
    for (const id of participants(conversation)) this.#to(id).emit(event, payload);
  }

  /** What waits now, from the store's counters (one small read). */
  async #queueFigures(): Promise<QueueFigures> {
    const stats = await this.#router.store.stats();
    return { waiting: stats.waiting, waitingByChannel: stats.waitingByChannel };
  }

  /** The waiting lines may have changed: every console here is told what waits, once it settles, if it changed. */
  #queueChanged(): void {
    if (this.#queueTimer || this.#closed) return;
    this.#queueTimer = setTimeout(() => {
      this.#queueTimer = null;
      if (this.#nsp.sockets.size === 0) return;
      this.#queueFigures().then(
        (figures) => {
          const key = JSON.stringify(figures);
          if (key === this.#lastQueue) return;
          this.#lastQueue = key;
          this.#nsp.local.emit('queue', figures);
        },
        // Told with the next change, or at the next connect.
        () => {},
      );
    }, this.#queueMs);
    this.#queueTimer.unref();
  }

  async #onEvent(event: DomainEvent): Promise<void> {
    // No console connected here: nothing to mirror (and no store reads for it).
    if (this.#nsp.sockets.size === 0) return;
    if (event.type.startsWith('conversation.')) this.#queueChanged();
    const store = this.#router.store;
    switch (event.type) {
      case 'conversation.assigned':
      case 'conversation.covered': {
        const agentId = event.agentId;
        if (this.#here(agentId)) {
          this.#to(agentId).emit(
            'assigned',
            await consoleView(this.#router, event.conversation, agentId, this.#originals),
          );
          this.#tell(agentId, event.conversation);
        }
        this.#updated(event.conversation, [agentId]);
        if (
          event.type === 'conversation.assigned' &&
          event.previousOwnerId &&
          event.previousOwnerId !== agentId
        ) {
          this.#to(event.previousOwnerId).emit('conversation.updated', { conversation: event.conversation });
          this.#tell(event.previousOwnerId, event.conversation);
        }
        break;
      }
      case 'message.received':
      case 'message.sent':
      case 'message.note':
      case 'message.delivery': {
        const conversation = await store.getConversation(event.message.conversationId);
        if (!conversation) return;
        // The channels with it: a customer who wrote on another channel (an email joining their chat) switched the
        // conversation, and its replies go out there now; the consoles follow at once.
        const payload = {
          conversationId: conversation.id,
          message: (await shown(this.#originals, [event.message]))[0]!,
          lastChannel: conversation.lastChannel,
          channels: conversation.channels,
        };
        for (const id of participants(conversation)) {
          this.#to(id).emit('message', payload);
          // A console that did not know the conversation opens it from the message.
          this.#tell(id, conversation);
        }
        break;
      }
      case 'conversation.consult': {
        if (event.action === 'invited') {
          const from = await store.getAgent(event.by);
          this.#to(event.agentId).emit('consult.invite', {
            conversationId: event.conversation.id,
            from: { id: event.by, name: from?.name ?? event.by },
          });
        }
        this.#updated(event.conversation, [], [event.agentId]);
        break;
      }
      case 'conversation.handoff': {
        if (event.action === 'offered') {
          const from = await store.getAgent(event.from);
          this.#to(event.to).emit('handoff.offer', {
            conversationId: event.conversation.id,
            from: { id: event.from, name: from?.name ?? event.from },
            note: event.note,
            // A team lead (or the admin) offered it in the owner's stead: who.
            ...(event.offeredBy ? { offeredBy: event.offeredBy } : {}),
          });
        }
        this.#updated(event.conversation, [], [event.from, event.to]);
        await this.#handoffUpdate(event).catch((err: unknown) =>
          logFailure(this.#log, err, 'web console: could not tell an owner how their hand-off went'),
        );
        break;
      }
      case 'conversation.wrapup':
        this.#to(event.agentId).emit('wrapup', {
          conversationId: event.conversation.id,
          since: event.since,
          until: event.until,
          now: event.at,
        });
        break;
      case 'conversation.resolved':
      case 'conversation.updated':
      case 'conversation.waiting_for_owner':
        this.#updated(event.conversation);
        break;
      case 'conversation.offer_expired':
        // And the agent it rang: not on it (an offer is not), their console still shows it to accept.
        this.#updated(event.conversation, [], [event.agentId]);
        break;
      case 'conversation.offered':
        if (!this.#here(event.agentId)) break;
        this.#to(event.agentId).emit(
          'offer',
          await consoleView(this.#router, event.conversation, event.agentId, this.#originals),
        );
        break;
      case 'visitor.presence':
        await this.#toParticipants(event.conversationId, 'presence', {
          conversationId: event.conversationId,
          online: event.online,
          at: event.at,
        });
        break;
      case 'typing':
        if (event.who === 'customer') {
          await this.#toParticipants(event.conversationId, 'typing', {
            conversationId: event.conversationId,
            typing: event.typing,
          });
        }
        break;
      case 'customer.facts':
      case 'customer.merged': {
        const customer = await store.getCustomer(event.customerId);
        if (!customer) return;
        const card = customerCard(customer, customer.id);
        const open = await store.openConversationOf(customer.id);
        for (const id of open ? participants(open) : [])
          this.#to(id).emit('customer.updated', { customer: card });
        break;
      }
      case 'agent.status':
      case 'agent.updated': {
        const agent = await store.getAgent(event.agentId);
        if (!agent) break;
        // Consoles opened with a link from before the agent's links were renewed are closed (reconnecting, the
        // link is refused: the console says so and asks for a new one).
        for (const id of [...(this.#nsp.adapter.rooms.get(`agent:${agent.id}`) ?? [])]) {
          const socket = this.#nsp.sockets.get(id);
          if (socket && socket.data.tokenVersion !== (agent.tokenVersion ?? 0)) socket.disconnect(true);
        }
        this.#to(event.agentId).emit('agent', { agent });
        break;
      }
      // A customer erased: every console drops what it shows of them (each process tells its own consoles).
      case 'customer.erased':
        this.#nsp.local.emit('conversation.erased', { conversationIds: event.conversationIds });
        break;
      // The team's saved replies changed: every console on this process gets the new list.
      case 'saved_replies.updated':
        this.#nsp.local.emit('saved_replies', { savedReplies: event.savedReplies });
        break;
      // An agent's own promises (and follow-ups): reminded before due; the agent who made it, and whoever has the
      // conversation now (a hand-off moved it: keeping it is theirs).
      case 'promise.reminder': {
        const p = event.promise;
        if (!p.agentId) break;
        const conv = await store.getConversation(p.conversationId);
        const owner = conv?.status === 'assigned' ? conv.ownerId : null;
        for (const agentId of new Set([p.agentId, owner ?? p.agentId]))
          this.#to(agentId).emit('promise.reminder', { promise: p });
        break;
      }
      // A promise made, or kept, broken or void, wherever that happened (this console or another, Slack, Switchboard
      // itself, another process): every console that shows its conversation lists it as it is now.
      case 'promise.made':
      case 'promise.settled': {
        const p = event.promise;
        const name = event.type === 'promise.made' ? 'promise.made' : 'promise.updated';
        for (const agentId of this.#promiseAudience(p.conversationId, p.agentId))
          this.#to(agentId).emit(name, { promise: p });
        break;
      }
      default:
        break;
    }
  }

  /**
   * The owner told how a hand-off of their conversation goes (`handoff.update`): declined (it stays theirs),
   * accepted (it is the colleague's now), and offered when a team lead offered it in their stead (`offeredBy`:
   * Router `handoffFor`); their own offer they know of. And the colleague, when the owner took an offer back. By
   * event, so whichever process it happened on.
   */
  async #handoffUpdate(event: Extract<DomainEvent, { type: 'conversation.handoff' }>): Promise<void> {
    // Withdrawn: the colleague it was offered to is told (the owner did it: they know), `by` the owner. Otherwise
    // the owner, `by` the lead who offered it in their stead (their own offer they know of).
    const withdrawn = event.action === 'withdrawn';
    const told = withdrawn ? event.to : event.from;
    if (!this.#here(told)) return;
    if (!withdrawn && (event.from === event.to || (event.action === 'offered' && !event.offeredBy))) return;
    const store = this.#router.store;
    const [to, owner, customer] = await Promise.all([
      store.getAgent(event.to),
      withdrawn ? store.getAgent(event.from) : null,
      store.getCustomer(event.conversation.customerId),
    ]);
    this.#to(told).emit('handoff.update', {
      conversationId: event.conversation.id,
      action: event.action,
      to: { id: event.to, name: to?.name ?? event.to },
      by: withdrawn ? (owner?.name ?? event.from) : (event.offeredBy ?? null),
      customer: customerName(customer),
    });
  }

  /**
   * Who here is told of a promise on conversation `conversationId`: the agents whose consoles here were told of the
   * conversation (`#shown`: its owner, a colleague covering, consultants, those invited or offered it; `#former`:
   * those it moved on from), and the agent who made it (their own promise, wherever the conversation went). Known
   * without reading the store: every process hears every promise (a quoted wait is one per customer who waits).
   */
  #promiseAudience(conversationId: string, madeBy: string | undefined): Set<string> {
    const ids = new Set<string>(madeBy && this.#here(madeBy) ? [madeBy] : []);
    for (const [agentId, shown] of this.#shown) if (shown.has(conversationId)) ids.add(agentId);
    for (const [agentId, former] of this.#former) if (former.has(conversationId)) ids.add(agentId);
    return ids;
  }

  /** `conversation.updated` to everyone on it, except `skip`, plus `extra`. */
  #updated(conversation: Conversation, skip: string[] = [], extra: string[] = []): void {
    // Those on it now, and those whose consoles here still show it (a cover that ended, a consult the resolve
    // closed): told at once that it is no longer theirs, not at the next catch-up.
    const ids = new Set([...participants(conversation), ...extra]);
    for (const [agentId, shown] of this.#shown) if (shown.has(conversation.id)) ids.add(agentId);
    // And those it moved on from, who may still have it on screen: they follow it to whoever has it, or its close.
    for (const [agentId, former] of this.#former) if (former.has(conversation.id)) ids.add(agentId);
    for (const id of ids) {
      if (skip.includes(id)) continue;
      this.#to(id).emit('conversation.updated', { conversation });
      this.#tell(id, conversation);
    }
  }
}
