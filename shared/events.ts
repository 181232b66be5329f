// Domain events: every state change in routing emits one. Consoles and channels
// subscribe; in Redis mode the bus carries them across processes.
import { z } from 'zod';
import {
  AgentStatus,
  Channel,
  Conversation,
  CustomerPromise,
  Id,
  Message,
  Millis,
  OwnershipReason,
  SavedReplies,
} from './model.js';

export const DomainEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('conversation.queued'),
    at: Millis,
    conversation: Conversation,
    position: z.number().int().positive(),
    etaSeconds: z.number().nonnegative().nullable(),
    /** Nobody works now (routing/router.ts WaitQuote): until the opening hours start again, if known. */
    closed: z
      .object({
        opensInSeconds: z.number().nonnegative().nullable(),
        opensAt: z.object({ at: Millis, timeZone: z.string().max(100) }).optional(),
      })
      .optional(),
  }),
  z.object({
    type: z.literal('conversation.assigned'),
    at: Millis,
    conversation: Conversation,
    agentId: Id,
    reason: OwnershipReason,
    previousOwnerId: Id.nullable(),
  }),
  z.object({ type: z.literal('conversation.offered'), at: Millis, conversation: Conversation, agentId: Id }),
  z.object({
    type: z.literal('conversation.offer_expired'),
    at: Millis,
    conversation: Conversation,
    agentId: Id,
  }),
  z.object({
    type: z.literal('conversation.waiting_for_owner'),
    at: Millis,
    conversation: Conversation,
    ownerId: Id,
    until: Millis,
  }),
  z.object({ type: z.literal('conversation.covered'), at: Millis, conversation: Conversation, agentId: Id }),
  z.object({ type: z.literal('conversation.updated'), at: Millis, conversation: Conversation }),
  z.object({ type: z.literal('conversation.resolved'), at: Millis, conversation: Conversation }),
  /**
   * The owner's after-call work began (their call ended) or was extended (More time, or something written in it):
   * `until` is when it is up. It ends with the conversation (resolved, moved) or the customer's next contact.
   */
  z.object({
    type: z.literal('conversation.wrapup'),
    at: Millis,
    conversation: Conversation,
    agentId: Id,
    since: Millis,
    until: Millis,
  }),
  z.object({
    type: z.literal('conversation.abandoned'),
    at: Millis,
    conversation: Conversation,
    /** Closed because its customer was blocked (they did not leave). */
    blocked: z.literal(true).optional(),
    /** Closed because its customer's data is being erased (they did not leave). */
    erased: z.literal(true).optional(),
  }),
  z.object({
    type: z.literal('conversation.consult'),
    at: Millis,
    conversation: Conversation,
    agentId: Id,
    action: z.enum(['invited', 'joined', 'left']),
    by: Id,
  }),
  z.object({
    type: z.literal('conversation.handoff'),
    at: Millis,
    conversation: Conversation,
    from: Id,
    to: Id,
    /** `withdrawn`: the owner took the offer back (`from` is the owner, `to` the colleague it was offered to). */
    action: z.enum(['offered', 'accepted', 'declined', 'withdrawn']),
    note: z.string(),
    /** `offered` by a team lead (or the admin) in the owner's stead: their name (Router `handoffFor`). */
    offeredBy: z.string().max(200).optional(),
  }),
  z.object({
    type: z.literal('conversation.position'),
    at: Millis,
    conversationId: Id,
    position: z.number().int().positive(),
    etaSeconds: z.number().nonnegative().nullable(),
  }),
  z.object({
    type: z.literal('message.received'),
    at: Millis,
    message: Message,
    /**
     * The customer sent it again (a retry) and it was stored already: told again because the process that
     * stored it may have stopped before telling anyone. Consoles show a message once by its id; counters
     * skip it.
     */
    again: z.literal(true).optional(),
  }),
  z.object({ type: z.literal('message.sent'), at: Millis, message: Message }),
  z.object({ type: z.literal('message.note'), at: Millis, message: Message }),
  z.object({ type: z.literal('message.delivery'), at: Millis, message: Message }),
  z.object({
    type: z.literal('agent.status'),
    at: Millis,
    agentId: Id,
    status: AgentStatus,
    reason: z.string().optional(),
  }),
  /** An admin changed the agent's record (name, skills, capacity, contact details); not their status. */
  z.object({ type: z.literal('agent.updated'), at: Millis, agentId: Id }),
  /** An admin replaced the team's saved replies (`PUT /api/saved-replies`). */
  z.object({ type: z.literal('saved_replies.updated'), at: Millis, savedReplies: SavedReplies }),
  z.object({ type: z.literal('promise.made'), at: Millis, promise: CustomerPromise }),
  z.object({
    type: z.literal('promise.settled'),
    at: Millis,
    promise: CustomerPromise,
    /** A quoted wait settled because a person answered: how long the customer waited since the quote. */
    waitedMs: z.number().nonnegative().optional(),
  }),
  z.object({ type: z.literal('promise.due'), at: Millis, promise: CustomerPromise }),
  /** A quoted wait or call back about to break: the customer was told (`message`), with a new honest time. */
  z.object({
    type: z.literal('promise.at_risk'),
    at: Millis,
    promise: CustomerPromise,
    revised: CustomerPromise.nullable(),
    message: Message,
  }),
  /** An agent's own promise (or follow-up) is due soon: remind them. */
  z.object({ type: z.literal('promise.reminder'), at: Millis, promise: CustomerPromise }),
  /** A follow-up touchpoint opened for the customer, offered to the owner first. */
  z.object({
    type: z.literal('followup.opened'),
    at: Millis,
    conversation: Conversation,
    promise: CustomerPromise,
    reason: z.enum(['promised', 'survey']),
  }),
  /** The customer came back within the repeat window after a resolution. */
  z.object({
    type: z.literal('conversation.repeat'),
    at: Millis,
    conversation: Conversation,
    repeatOf: Id,
    previousOwnerId: Id.nullable(),
  }),
  z.object({ type: z.literal('survey.sent'), at: Millis, conversation: Conversation }),
  z.object({
    type: z.literal('survey.answered'),
    at: Millis,
    conversation: Conversation,
    rating: z.number().int().min(1).max(5),
    problem: z.string().nullable(),
  }),
  z.object({
    type: z.literal('customer.merged'),
    at: Millis,
    customerId: Id,
    mergedId: Id,
  }),
  z.object({ type: z.literal('customer.facts'), at: Millis, customerId: Id, keys: z.array(z.string()) }),
  /** The team blocked a customer (`by`: an agent's id or `admin`), or lifted the block. */
  z.object({
    type: z.literal('customer.blocked'),
    at: Millis,
    customerId: Id,
    by: z.string(),
    blocked: z.boolean(),
  }),
  /**
   * A customer was erased (`by`: an agent's id, `admin`, or `retention` when the policy's retention ran out):
   * `customerIds` (theirs, then those merged into it) and their conversations are no longer kept; every process
   * drops what it shows of them (consoles, Slack). (Their files and mail went before: Router `eraseCustomer`.)
   */
  z.object({
    type: z.literal('customer.erased'),
    at: Millis,
    customerId: Id,
    by: z.string(),
    customerIds: z.array(Id),
    conversationIds: z.array(Id),
  }),
  /**
   * A look for customers past the policy's retention (`retentionDays`) ended: how many it looked at, erased and
   * kept (blocked, with a conversation open or a follow-up to come, or active meanwhile), and the ones it could
   * not erase, with why (they are looked at again next time).
   */
  z.object({
    type: z.literal('retention.swept'),
    at: Millis,
    examined: z.number().int().nonnegative(),
    erased: z.number().int().nonnegative(),
    kept: z.number().int().nonnegative(),
    failed: z.array(z.object({ customerId: Id, error: z.string() })),
  }),
  /**
   * A ring an agent missed or declined (router `missedLiveContact`) left a caller waiting with nobody to ring:
   * the agents away, and why (a missed call's time among them), and the available ones who declined this caller.
   */
  z.object({
    type: z.literal('team.unstaffed'),
    at: Millis,
    conversation: Conversation,
    away: z.array(z.object({ agentId: Id, name: z.string(), reason: z.string().optional() })),
    declined: z.array(z.object({ agentId: Id, name: z.string() })),
  }),
  /** A blocked customer's contact, refused: nothing was stored. */
  z.object({ type: z.literal('contact.blocked'), at: Millis, customerId: Id, channel: Channel }),
  /** A chat visitor's page: open (a widget connected) or left (their last widget, on any process, closed). */
  z.object({
    type: z.literal('visitor.presence'),
    at: Millis,
    conversationId: Id,
    online: z.boolean(),
  }),
  z.object({
    type: z.literal('typing'),
    at: Millis,
    conversationId: Id,
    who: z.enum(['customer', 'agent']),
    agentId: Id.optional(),
    name: z.string().optional(),
    typing: z.boolean(),
    channel: Channel.optional(),
  }),
]);
export type DomainEvent = z.infer<typeof DomainEvent>;
export type EventType = DomainEvent['type'];
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;

/** Where an event was published: in this process, or in another one sharing the bus (Redis mode). */
export type EventOrigin = 'local' | 'remote';

export type Listener = (event: DomainEvent, origin: EventOrigin) => void;

export interface SubscribeOptions {
  /**
   * Also hear events published by other processes (Redis mode). Off by default: a listener that acts
   * on the world (sends an SMS or an email, posts to Slack, counts a metric) hears only the events of
   * its own process, so the action happens once across all processes. Listeners that mirror events to
   * this process's own sockets (the chat widget, the web console) turn it on, and so does the voice
   * channel for the live calls it holds (each call is held by one process: the one moving it).
   */
  remote?: boolean;
}

/** Where domain events go. The in-process bus is the default; Redis mode carries them across processes. */
export interface EventBus {
  publish(event: DomainEvent): void;
  subscribe(listener: Listener, options?: SubscribeOptions): () => void;
  close(): Promise<void>;
}

/** Delivers each event to every listener in this process, synchronously, isolating listener failures. */
export class LocalEventBus implements EventBus {
  /** Each listener, and whether it hears remote events too. */
  readonly #listeners = new Map<Listener, boolean>();
  readonly #onError: (err: unknown, event: DomainEvent) => void;

  constructor(onError: (err: unknown, event: DomainEvent) => void = () => {}) {
    this.#onError = onError;
  }

  publish(event: DomainEvent): void {
    this.deliver(event, 'local');
  }

  /** Hand `event` to this process's listeners: all of them when local, those that asked for remote ones else. */
  protected deliver(event: DomainEvent, origin: EventOrigin): void {
    for (const [listener, remote] of this.#listeners) {
      if (origin === 'remote' && !remote) continue;
      try {
        listener(event, origin);
      } catch (err) {
        this.#onError(err, event);
      }
    }
  }

  subscribe(listener: Listener, options: SubscribeOptions = {}): () => void {
    this.#listeners.set(listener, options.remote === true);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
