// The Store seam: routing verbs, all async, each one atomic. The router decides
// (a plan of candidates, a score) and the Store commits the decision in one step,
// so that several processes sharing one Redis never give one conversation to two
// agents nor one agent more than their capacity.
import type {
  Agent,
  AgentStatus,
  Channel,
  Conversation,
  Customer,
  CustomerBlock,
  CustomerPromise,
  Fact,
  Identity,
  Message,
  Note,
  OwnershipReason,
  PromiseState,
  SavedReply,
  Skills,
  Survey,
} from '../../shared/model.js';

/** The console addresses an agent may be without: `null` in an `updateAgent` patch takes one away. */
export const REMOVABLE_AGENT_FIELDS = ['slackUserId', 'email', 'phone', 'clientIdentity'] as const;

/** The profile fields `updateAgent` changes (`null`: the console address is taken away). */
export type AgentProfilePatch = Partial<
  Pick<Agent, 'name' | 'skills' | 'capacity' | 'tokenVersion' | 'lead' | 'leftAt'>
> & {
  [K in (typeof REMOVABLE_AGENT_FIELDS)[number]]?: string | null;
};

/** Who to try, in order. Built by a pure routing strategy. */
export type Candidate =
  | { kind: 'agent'; agentId: string; reason: OwnershipReason }
  | { kind: 'pool'; skills: Skills; reason: OwnershipReason };

export type RouteMode =
  /** Give ownership now (chat, SMS, email). */
  | { type: 'assign' }
  /** Ring the agent; ownership only on accept; capacity is held until then. */
  | { type: 'offer'; expiresAt: number }
  /** An owned conversation whose owner cannot answer a live contact: a colleague covers, the owner stays. */
  | { type: 'cover' };

export interface RouteRequest {
  conversationId: string;
  channel: Channel;
  candidates: Candidate[];
  mode: RouteMode;
  now: number;
  /** Where it waits when nobody can take it now (`assign`/`offer` modes). */
  score: number;
  /** When it waits (`queued`): its overflow timer is scheduled then, in the same step. */
  overflowAt?: number;
}

export type RouteOutcome =
  | {
      type: 'assigned';
      conversation: Conversation;
      agentId: string;
      reason: OwnershipReason;
      previousOwnerId: string | null;
      /** The quoted waits settled because a person answered (see `Store`, "answering"). */
      settled: CustomerPromise[];
    }
  | { type: 'offered'; conversation: Conversation; agentId: string; reason: OwnershipReason }
  | { type: 'covered'; conversation: Conversation; agentId: string; settled: CustomerPromise[] }
  | {
      type: 'queued';
      conversation: Conversation;
      /** Where it waits now (`queueSnapshot`, read after it joined the line). */
      snapshot: QueueSnapshot | null;
      /** A quoted wait of it is open (a promise of kind `wait`, read before it joined the line). */
      waitQuoted: boolean;
    }
  /** The conversation was not in a state to route (already owned, resolved, offered). */
  | { type: 'skipped'; conversation: Conversation };

/**
 * An inbound contact for `startContact`: what to store and route when its customer is new, and what a known
 * customer's contact adds to their open conversation.
 */
export interface NewContact {
  channel: Channel;
  externalId: string;
  identity: Identity;
  /**
   * Created with the identity when nobody has it. When the identity's customer is known, what the contact
   * teaches: the facts here they have none of yet are recorded, and a name fact among them sets their name
   * to this `name`.
   */
  customer: Customer;
  /** The new customer's conversation (`customerId`: theirs), started with its first message. */
  conversation: Conversation;
  /** The message (`channel` and `externalId`: the contact's); for a known customer, its id and content. */
  first: Message;
  /** How it is routed then, on its last channel; `route.now` is the contact's time. */
  route: Omit<RouteRequest, 'conversationId' | 'channel'>;
  /** The conversation the contact names (an email thread, a chat session): continued when it is the known customer's and open. */
  conversationId?: string;
}

/** A known customer's contact appended to their open conversation (see `Store.startContact`). */
export interface ContinuedContact {
  /** Touched on the contact's channel. */
  conversation: Conversation;
  /** Stored with the conversation's id and the customer (as they now are) as its author. */
  message: Message;
  /** The conversation was last on another channel before this contact. */
  switched: boolean;
  /** It waits in a line (`queueSnapshot` finds it). */
  inLine: boolean;
  /** Its owner's record when it is assigned (null: unassigned, or the record is gone). */
  owner: Agent | null;
}

export type StartedContact =
  /** A repeated delivery: the stored message, nothing else happened. */
  | { duplicate: true; message: Message }
  /**
   * The identity's customer, found, and what the contact teaches recorded. `continued`: the message appended to
   * their open conversation; null: none is open and nothing else happened (`latest`: the conversation they
   * started last, if any).
   */
  | {
      duplicate: false;
      created: false;
      blocked: false;
      customer: Customer;
      continued: ContinuedContact | null;
      latest: Conversation | null;
    }
  /** The identity's customer is blocked (`Customer.blocked`): nothing was stored or learnt. */
  | { duplicate: false; created: false; blocked: true; customer: Customer }
  /** A new customer, their conversation started (`outcome.conversation`) and routed. */
  | { duplicate: false; created: true; customer: Customer; message: Message; outcome: RouteOutcome };

export type StartedConversation =
  | { duplicate: false; conversation: Conversation; message: Message }
  | { duplicate: true; conversation: null; message: Message };

export interface WaitRules {
  /** After this long waiting, any available agent with capacity may take it. */
  overflowAfterMs: number;
  /** Whoever has waited this long goes first, whatever the priority of others. */
  hardCapMs: number;
  /** Channels whose contacts must be answered (a ringing call): the claim is an offer expiring after this. */
  offerTimeoutMs: Partial<Record<Channel, number>>;
}

export type ClaimOutcome =
  | {
      type: 'assigned';
      conversation: Conversation;
      agentId: string;
      reason: OwnershipReason;
      /** The quoted waits settled because a person answered (see `Store`, "answering"). */
      settled: CustomerPromise[];
    }
  | { type: 'offered'; conversation: Conversation; agentId: string; reason: OwnershipReason };

/** What `resolve` may do in the same step (see `Store.resolve`). */
export interface ResolveOptions {
  surveyAt?: number | null;
  by?: string;
  fill?: WaitRules;
}

export interface Resolved {
  conversation: Conversation;
  coverer: string | null;
  /** The colleague a hand-off offered on it kept a place on (`Agent.reserved`): that place is free now. */
  keptFor: string | null;
  claims: ClaimOutcome[];
}

/** What an owner's return changed (see `Store.comeBack`): `updated`, the conversations that changed, oldest first;
 * `freed`, the colleagues whose cover ended. */
export interface OwnerBack {
  updated: Conversation[];
  freed: string[];
}

/** An agent available again (see `Store.comeBack`). */
export interface CameBack extends OwnerBack {
  /** Their status and its reason before. */
  before: { status: AgentStatus; statusReason?: string };
  /** The agent after all of it. */
  agent: Agent;
  claims: ClaimOutcome[];
}

/** An answered conversation and the quoted waits that settled with it. */
export interface Answered {
  conversation: Conversation;
  settled: CustomerPromise[];
}

/**
 * `promise`: a promise is due (ref: promise id). `promise-warn`: shortly before it is due, the at-risk check
 * of a quoted wait or call back, or the owner's reminder of their own promise (ref: promise id).
 * `survey`: the survey after a resolution (ref: conversation id). `delivery`: an outbound message a channel
 * sends itself (a text, an email) is sent again when its send was not seen to finish by then (the process
 * sending it died) or when its retry is due (ref: message id). `unseen`: the chat replies a visitor who left
 * did not see go by email (ref: conversation id). `console`: an agent's last web console closed; whether
 * they are still gone is looked at then (ref: agent id; channels/web/namespace.ts).
 */
export const TIMER_KINDS = [
  'offer',
  'sticky',
  'overflow',
  'promise',
  'promise-warn',
  'survey',
  'delivery',
  'unseen',
  'console',
  /** Erasing the customers inactive for longer than the policy keeps them (ref: `sweep`). */
  'retention',
  /** A call ended: its owner's after-call work time is up (ref: conversation id; policy `wrapUpSeconds`). */
  'wrapup',
] as const;
export type TimerKind = (typeof TIMER_KINDS)[number];

/** The timers whose ref is a conversation id. */
export const CONVERSATION_TIMERS = [
  'offer',
  'sticky',
  'overflow',
  'survey',
  'unseen',
  'wrapup',
] as const satisfies readonly TimerKind[];

/** Every agent a conversation's figures name: its owner and each side of every ownership move. */
export function agentsOn(c: Conversation): Set<string> {
  const out = new Set<string>();
  if (c.ownerId !== null) out.add(c.ownerId);
  for (const move of c.ownership) {
    out.add(move.to);
    if (move.from !== null) out.add(move.from);
  }
  return out;
}

export interface Timer {
  kind: TimerKind;
  /** What it is about: a conversation id or a promise id. One timer per (kind, ref). */
  ref: string;
  dueAt: number;
}

/** A call's after-call work (Router `extendWrapUp`): `since` the call ended, up at `dueAt` (its `wrapup` timer). */
export interface WrapUp {
  since: number;
  dueAt: number;
}

/**
 * An agent's call out to a conversation's customer (Router `callCustomer`), as the voice channel keeps it while it
 * rings or goes on: to which number, since when (placed), and until when it is kept unless renewed or ended.
 */
export interface OutCall {
  agentId: string;
  conversationId: string;
  to: string;
  since: number;
  until: number;
}

/** A conversation's after-call work as kept (`Store.listWrapUps`), with the conversation. */
export interface KeptWrapUp {
  conversation: Conversation;
  wrapUp: WrapUp;
}

/** What `appendMessage` also does: see there. */
export interface AppendOptions {
  deliveryDueAt?: number;
}

/** What `updateDelivery` also checks and does: see there. */
export interface DeliveryUpdate {
  ifAttemptsAtMost?: number;
  timer?: number | null;
}

export interface ConversationQuery {
  status?: Conversation['status'];
  ownerId?: string;
  customerId?: string;
  /** Only those created at or after this time (ms). */
  createdSince?: number;
  /**
   * Only those before this one in creation order (created earlier, or at the same time with a lower id): the
   * next page back, from the oldest of a page.
   */
  createdBefore?: { at: number; id: string };
  /** The last (newest) this many of them. Default 1000; 0: all. */
  limit?: number;
}

export interface QueueSnapshot {
  /** The channel it waits on. */
  channel: Channel;
  /**
   * 1-based place among the conversations waiting for the same agents. Those ahead that ring an agent now (an offer
   * not yet answered; checked among the first 64 ahead) are being answered, and do not count.
   */
  position: number;
  /**
   * How many agents could serve it, weighted by their capacity on its channel (servers): the available agents skilled
   * for its line, less those who declined this wait (`Conversation.declinedBy`: not offered it again).
   */
  servers: number;
  /** How many agents of the team are available and declined this wait: the wait is not theirs to answer. */
  declined: number;
  /** The recent handle times on that channel (the window `recentHandleTimes` answers): how many, and their sum. */
  handled: { count: number; totalMs: number };
}

export interface StoreStats {
  waiting: number;
  waitingByChannel: Record<Channel, number>;
  /** The team by status: an agent who left it (`leftAt`) is counted nowhere. */
  agentsByStatus: Record<AgentStatus, number>;
}

/** What `eraseCustomer` erased: for the caller to erase what it keeps beside the store (files, mail). */
/** A customer and when they were last active (`Store.inactiveCustomers`). */
export interface CustomerActivity {
  id: string;
  /** Their latest message, either way, on any of their conversations; else when they were created (ms). */
  lastActiveAt: number;
}

export interface EraseOptions {
  /** Erase only a customer last active before this time (ms): retention, which must not meet one who just wrote. */
  inactiveBefore?: number;
}

export interface ErasedCustomer {
  /** The customer's id, then the ids merged into it, in the order they were erased. */
  customerIds: string[];
  /** Their conversations, oldest first. */
  conversationIds: string[];
  /** Those conversations' messages as they were stored (their attachments name the files to erase). */
  messages: Message[];
}

/**
 * Answering. A routing decision commits everything that follows from it in the same step, so that one
 * decision is one Redis script: when a person answers a waiting conversation (`route` or `claimNext`
 * assigns or covers it, `acceptOffer`), its `overflow` and `sticky` timers go, and every open quoted
 * wait on it (a promise of kind `wait`) settles, kept when answered by its due time, else broken, its
 * `promise` and `promise-warn` timers going too; those come back as `settled`. An offer schedules its
 * `offer` timer at `expiresAt`, and accepting it cancels that timer.
 */
export interface Store {
  // ---- customers
  getCustomer(id: string): Promise<Customer | null>;
  /** The customer who has this identity (a merged one's: the customer it was merged into), or null. */
  findCustomer(identity: Identity): Promise<Customer | null>;
  /** Find the customer who owns this identity, or create `init` with it. Atomic. */
  resolveCustomer(identity: Identity, init: Customer): Promise<{ customer: Customer; created: boolean }>;
  /**
   * The first step of an inbound contact, atomic: when a message with this (channel, externalId) is stored already
   * (a repeated delivery), that message and nothing else. Else, when the identity's customer is known: the facts
   * of `customer` they have none of yet recorded; then, when they have an open conversation (the one
   * `conversationId` names when it is theirs and open, else `openConversationOf`), `first` appended there with
   * them as its author and the conversation touched on the contact's channel (`touchConversation` at
   * `route.now`); when they have none, their latest conversation and nothing else. Else a new customer's whole
   * contact in the same step: `customer` created with the identity (`resolveCustomer`),
   * `startConversation(conversation, first)`, then `route` on the conversation's last channel.
   * Refused as those refuse, before anything is stored; the conversation must be the new customer's.
   */
  startContact(contact: NewContact): Promise<StartedContact>;
  /** Link an identity; when another customer already has it, nothing changes and that customer's id comes back. */
  linkIdentity(
    customerId: string,
    identity: Identity,
  ): Promise<{ customer: Customer; takenBy: string | null }>;
  /** Record facts; later facts replace earlier ones per key. Also sets `name` when given. */
  recordFacts(customerId: string, facts: Record<string, Fact>, name?: string): Promise<Customer>;
  addCustomerNote(customerId: string, note: Note): Promise<Customer>;
  /**
   * Block the customer (following merges), or with null lift their block: their contacts on any identity are
   * refused by `startContact` until then. Blocking one blocked already keeps the first block.
   */
  setCustomerBlock(customerId: string, block: CustomerBlock | null): Promise<Customer>;
  /** The blocked customers, the latest blocked first, at most `limit`. */
  listBlockedCustomers(limit: number): Promise<Customer[]>;
  /** Move identities, facts, notes and conversations of `otherId` onto `keepId`; nothing is lost. */
  mergeCustomers(keepId: string, otherId: string, now: number): Promise<Customer>;
  /**
   * Erase a customer (following merges) and everything kept about them, in one step: their record and the
   * records of the customers merged into it, their identities (what they send next starts a new customer),
   * their last owner and block, their conversations with every index entry, timer and waiting place, the
   * conversations' messages (and the external ids a repeat delivery is known by) and promises with their
   * timers. Refused with ConflictError `open_conversation` while one of their conversations is queued or
   * assigned (close it first), before anything is erased. Agents, their figures' handle times and the
   * Prometheus counters keep what they counted. With `inactiveBefore`, only a customer last active before that
   * time (`inactiveCustomers`): one active since is refused with ConflictError `active`, in the same step.
   */
  eraseCustomer(customerId: string, options?: EraseOptions): Promise<ErasedCustomer>;
  /**
   * The customers last active before `before` (ms), least recently active first (the same moment: by id), at
   * most `limit`, after `after` when given (the last of a previous page). A customer is active when created and
   * whenever a message to or from them is stored (any direction, any channel, notes too); one merged into
   * another counts as the other, whose activity is the later of the two. Blocked customers are among them.
   */
  inactiveCustomers(
    before: number,
    limit: number,
    after?: { lastActiveAt: number; id: string },
  ): Promise<CustomerActivity[]>;
  /**
   * Whether `inactiveCustomers` knows every customer. A store written before it kept customers' activity learns
   * theirs a step at a time (at most `limit` customers per call, each from their messages and conversations)
   * and answers true once it has all of them; a store that kept it from its start answers true at once.
   */
  learnCustomerActivity(limit: number): Promise<boolean>;

  // ---- agents
  createAgent(agent: Agent): Promise<Agent>;
  getAgent(id: string): Promise<Agent | null>;
  listAgents(): Promise<Agent[]>;
  /**
   * Change profile fields (name, skills, capacity, console addresses, the console token's version); load and
   * status are the store's.
   */
  updateAgent(id: string, patch: AgentProfilePatch): Promise<Agent>;
  setAgentStatus(id: string, status: AgentStatus, reason: string | undefined, now: number): Promise<Agent>;

  // ---- conversations and messages
  createConversation(conversation: Conversation): Promise<Conversation>;
  /**
   * A conversation an agent starts, writing to its customer first: `conversation` (new: waiting, nobody's)
   * stored and assigned to `agentId` at once (reason `outbound`), holding one unit of their capacity on its last
   * channel, in one step. Refused before anything is stored: ConflictError `duplicate_id`, NotFoundError (its
   * customer, the agent), ConflictError `open_conversation` when the customer has one open (the agent continues
   * there, or asks its owner), CapacityError when the agent has none left on that channel.
   */
  startOwned(conversation: Conversation, agentId: string, now: number): Promise<Conversation>;
  /**
   * A new conversation with its first message, stored in one step. When the message's (channel, externalId) is
   * stored already (a delivery repeated), nothing is created: the stored message comes back, `duplicate: true`.
   * Refused as `createConversation` and `appendMessage` refuse, before anything is stored; the message must
   * belong to the conversation (`conversationId`).
   */
  startConversation(conversation: Conversation, first: Message): Promise<StartedConversation>;
  getConversation(id: string): Promise<Conversation | null>;
  /** The customer's open (queued or assigned) conversation that was active last, if any. */
  openConversationOf(customerId: string): Promise<Conversation | null>;
  listConversations(query: ConversationQuery): Promise<Conversation[]>;
  /**
   * The conversations `agentId` took, passed on (any ownership change from them) or resolved as their owner
   * at or after `since`, oldest first (createdAt, then id): what their figures of a day are counted from.
   * Meant for the last few days: a Redis store keeps a week of it.
   */
  conversationsTouchedBy(agentId: string, since: number): Promise<Conversation[]>;
  /**
   * The assigned conversations `agentId` is on: owns, covers, consults on, is invited to or is offered (a
   * hand-off); oldest first (createdAt, then id). Their console's list and home tab.
   */
  listAgentConversations(agentId: string): Promise<Conversation[]>;
  /** Record a channel the customer used and make it the last one. */
  touchConversation(id: string, channel: Channel, now: number): Promise<Conversation>;
  /**
   * Store a message once per (channel, externalId) when it has one: a repeat returns the stored message and
   * `duplicate: true`, changes nothing and schedules nothing. `deliveryDueAt`: in the same step, the message's
   * `delivery` timer.
   */
  appendMessage(message: Message, options?: AppendOptions): Promise<{ message: Message; duplicate: boolean }>;
  findMessageByExternalId(channel: Channel, externalId: string): Promise<Message | null>;
  getMessage(id: string): Promise<Message | null>;
  listMessages(conversationId: string): Promise<Message[]>;
  /**
   * Replace a message's delivery, unless that would take a delivered message back to sent or pending, or
   * (`ifAttemptsAtMost`) a later send attempt than that has begun: the stored message, and whether the change
   * applied. When it applies, in the same step, `timer` sets its `delivery` timer (due then) or cancels it
   * (null).
   */
  updateDelivery(
    messageId: string,
    delivery: Message['delivery'],
    options?: DeliveryUpdate,
  ): Promise<{ message: Message; applied: boolean }>;

  // ---- routing decisions (each one atomic)
  /**
   * Try the candidates in order; the first available one with capacity takes it; else it waits in line (its overflow
   * timer scheduled at `overflowAt`, where it stands and whether a wait was quoted coming back with it).
   */
  route(request: RouteRequest): Promise<RouteOutcome>;
  /** Give a freed agent the best waiting conversation they can serve, if any. */
  claimNext(agentId: string, now: number, rules: WaitRules): Promise<ClaimOutcome | null>;
  /**
   * `claimNext` until the agent has no capacity left or nothing waits that they can serve, in one step:
   * the outcomes in the order they were claimed (at most `FILL_LIMIT` in rules.ts).
   */
  fill(agentId: string, now: number, rules: WaitRules): Promise<ClaimOutcome[]>;
  acceptOffer(conversationId: string, agentId: string, now: number): Promise<Answered>;
  /**
   * Withdraw an unanswered offer: capacity back, agent excluded from this wait, optionally set away; its `offer`
   * timer goes with it (a conversation with one is ringing: `queueSnapshot`).
   */
  withdrawOffer(
    conversationId: string,
    agentId: string,
    now: number,
    agentStatus: { status: AgentStatus; reason: string } | null,
  ): Promise<Conversation | null>;
  /** Mark that a contact on an owned conversation waits for its owner (or clear it with null). */
  setWaitingForOwner(conversationId: string, since: number | null): Promise<Conversation>;
  /**
   * The agent is available again, in one step: `setAgentStatus(available, reason)`; then owner-back: for each
   * conversation they own and hold (assigned), its `sticky` timer goes, a wait for them ends (it leaves the
   * line) and a colleague's cover on a channel not in `liveChannels` ends (their capacity back); then `fill`.
   * A claim that fails (a corrupt waiting record) stops the filling, not the rest.
   */
  comeBack(
    agentId: string,
    reason: string | undefined,
    now: number,
    liveChannels: readonly Channel[],
    rules: WaitRules,
  ): Promise<CameBack>;
  /** End a cover: the covering agent's capacity comes back. */
  endCover(
    conversationId: string,
    now: number,
  ): Promise<{ conversation: Conversation; agentId: string | null }>;
  /**
   * The owner is gone for good: release their capacity and put the conversation back in line with `score`, its
   * wait (`queuedAt`) begun at `since`: absent, when it began waiting for its owner, else at its last contact.
   */
  requeue(conversationId: string, now: number, score: number, since?: number): Promise<Conversation>;
  /**
   * The owner is done: capacity back, the handle time recorded, its `sticky` timer cancelled, and with
   * `surveyAt` the `survey` timer scheduled, in one step. With `by`, only that agent as its owner may
   * (NotOwnerError otherwise). With `fill`, the owner's freed capacity is filled as `fill` does, in the
   * same step: `claims`. `coverer`: the colleague who was covering it, whose capacity came back.
   */
  resolve(
    conversationId: string,
    now: number,
    followUpAt: number | null,
    options?: ResolveOptions,
  ): Promise<Resolved>;
  /**
   * The customer left a wait (abandoned); `closedBy`: the team closed it by blocking them instead. An offer it had
   * ends, and its `offer` timer goes with it.
   */
  abandon(conversationId: string, now: number, closedBy?: 'block'): Promise<Conversation>;
  offerHandoff(
    conversationId: string,
    from: string,
    to: string,
    note: string,
    now: number,
  ): Promise<Conversation>;
  acceptHandoff(conversationId: string, agentId: string, now: number): Promise<Conversation>;
  declineHandoff(conversationId: string, agentId: string): Promise<Conversation>;
  /** Invite a colleague to consult (their `joinedAt` is `now`; an invitation already there stays as it is). */
  inviteConsultant(conversationId: string, agentId: string, now: number): Promise<Conversation>;
  /** An invited colleague joins as a consultant (their `joinedAt` is `now`; joined already: as it is). */
  joinConsult(conversationId: string, agentId: string, now: number): Promise<Conversation>;
  leaveConsult(conversationId: string, agentId: string): Promise<Conversation>;
  queueSnapshot(conversationId: string): Promise<QueueSnapshot | null>;
  /** Store the survey sent after resolution (asked, then answered) on the conversation; whole, replacing. */
  recordSurvey(conversationId: string, survey: Survey): Promise<Conversation>;

  // ---- timers: due times claimed once
  schedule(timer: Timer): Promise<void>;
  cancelTimer(kind: TimerKind, ref: string): Promise<void>;
  /**
   * Claim the timers due at `now`, oldest first (each with the time it was due); each is returned to one caller
   * only. Without `leaseUntil` a claimed timer is removed. With it, the timer stays, due again at `leaseUntil`:
   * should the caller die or fail before it has fired it, another claims it then (none before); the caller
   * removes it with `finishTimers` once fired.
   */
  claimDueTimers(now: number, limit: number, leaseUntil?: number): Promise<Timer[]>;
  /**
   * Remove timers claimed with the lease `leaseUntil` and fired, each only while it is still due at
   * `leaseUntil`: one scheduled again meanwhile (by its own work, by another process) stays.
   */
  finishTimers(timers: ReadonlyArray<Pick<Timer, 'kind' | 'ref'>>, leaseUntil: number): Promise<void>;
  /**
   * Begin or move a conversation's after-call work: its `wrapup` timer is due at `wrapUp.dueAt`, in the same step,
   * and the record (when it began, when it is up) is kept for `keepMs` (in the memory store: until `since` +
   * `keepMs`), then forgotten; erasing the customer forgets it too.
   */
  setWrapUp(conversationId: string, wrapUp: WrapUp, keepMs: number): Promise<void>;
  /** A conversation's after-call work as last set, while kept (`now`: the memory store's clock); null: none. */
  wrapUp(conversationId: string, now: number): Promise<WrapUp | null>;
  /**
   * In one read, the after-call work kept and not yet up at `now` (its `dueAt` after `now`, and at most `withinMs`
   * later: the longest it can last), each with its conversation as stored, whatever became of it since (whether it
   * still stands is the caller's to say: `standingWrapUp`); in no particular order.
   */
  listWrapUps(now: number, withinMs: number): Promise<KeptWrapUp[]>;

  // ---- agents' calls out to customers
  /** Keep the agent's call out (replacing theirs) until `call.until` (`now`: the time it is kept from). */
  setOutCall(call: OutCall, now: number): Promise<void>;
  /** The agent's call out is over: forgotten. */
  endOutCall(agentId: string): Promise<void>;
  /** In one read, the calls out of these agents kept at `now` (`until` after it); in the order of `agentIds`. */
  listOutCalls(agentIds: readonly string[], now: number): Promise<OutCall[]>;

  // ---- promises and figures
  addPromise(promise: CustomerPromise): Promise<CustomerPromise>;
  settlePromise(
    id: string,
    state: Exclude<PromiseState, 'open'>,
    now: number,
  ): Promise<CustomerPromise | null>;
  listPromises(conversationId: string): Promise<CustomerPromise[]>;
  getPromise(id: string): Promise<CustomerPromise | null>;
  recordHandleTime(channel: Channel, ms: number): Promise<void>;
  /** The most recent handle times on a channel, newest last (bounded window). */
  recentHandleTimes(channel: Channel): Promise<number[]>;
  stats(): Promise<StoreStats>;

  // ---- the team's settings
  /** The team's saved replies as last set (`setSavedReplies`); null when never set (the policy's hold). */
  getSavedReplies(): Promise<SavedReply[] | null>;
  /** Replace the team's saved replies, whole. */
  setSavedReplies(replies: SavedReply[]): Promise<void>;

  // ---- texting numbers that opted out
  /**
   * When the number `address` (E.164) last opted out of texts (texted STOP) with no opt-in (START) since; null
   * when it did not. Kept whatever happens to the customer (an erasure too): carriers require it.
   */
  textOptOut(address: string): Promise<number | null>;
  /** Record that `address` opted out of texts at `at`, or opted in again (`null`). */
  setTextOptOut(address: string, at: number | null): Promise<void>;

  /** Answers when the backing service is reachable. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
