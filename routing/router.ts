// The router: loads what a decision needs, asks the strategy for a plan, and
// commits it through the Store in one atomic step. Every state change emits a
// domain event. Time comes from the injected clock; timers live in the Store and
// fire when `tick()` runs (on an interval in the server, by hand in tests).
import { z } from 'zod';
import type { Clock } from '../shared/clock.js';
import {
  BlockedError,
  ConflictError,
  fromZod,
  InvalidStateError,
  NotFoundError,
  NotOwnerError,
  StoreUnavailableError,
  SwitchboardError,
  ValidationError,
} from '../shared/errors.js';
import { type DomainEvent, type EventBus, LocalEventBus } from '../shared/events.js';
import { ID_PREFIX, type IdSource, randomIds } from '../shared/ids.js';
import {
  type Agent,
  AgentStatus,
  type Attachment,
  type Channel,
  Contact,
  type Conversation,
  type Customer,
  type CustomerPromise,
  type Fact,
  FOLLOW_UP_TEXT,
  type Identity,
  knownName,
  type Message,
  NewSavedReplies,
  type ParsedContact,
  PerChannel,
  promiseOwnText,
  type SavedReply,
  Skills,
  showsText,
  startedByAgent,
  typedText,
  zeroPerChannel,
} from '../shared/model.js';
import {
  contactIdentity,
  dialledNumber,
  identityIfAny,
  identityOf,
  lastAddress,
  normalizeEmail,
  normalizePhone,
  PHONE_CHANNELS,
  phoneOf,
  withheldOnly,
} from './addresses.js';
import { humanDuration, isEnglish, quoteWaitSeconds, type WaitQuote } from './estimate.js';
import { opensInMs } from './hours.js';
import {
  defaultPolicy,
  entryPointOf,
  fillText,
  type HoldQuote,
  type RoutingPolicy,
  waitSentence,
} from './policy.js';
import {
  byCreation,
  customerWaits,
  FILL_LIMIT,
  freePlaces,
  leftTheTeam,
  placeScore,
  waitingSince,
} from './store/rules.js';
import type {
  AppendOptions,
  ClaimOutcome,
  ContinuedContact,
  CustomerActivity,
  ErasedCustomer,
  EraseOptions,
  KeptWrapUp,
  NewContact,
  OutCall,
  OwnerBack,
  QueueSnapshot,
  RouteOutcome,
  Store,
  Timer,
  WaitRules,
  WrapUp,
} from './store/store.js';
import { defaultStrategy, type RoutingStrategy } from './strategy.js';
import { standingWrapUp } from './wrapup.js';

export interface RouterDeps {
  store: Store;
  clock: Clock;
  events?: EventBus;
  policy?: RoutingPolicy;
  ids?: IdSource;
  strategy?: RoutingStrategy;
}

/**
 * A channel that sends its outbound messages itself (texts, email), as opposed to the chat, whose visitors
 * read them from the conversation. Each such message has a `delivery` timer in the store, set when it is
 * stored: the lease of the send under way, then the time of its retry. So a retry happens in whichever
 * process ticks when it is due, and a message whose process died before its send was seen to finish is sent
 * by another (at least once: a send that went out just before its process died is sent again).
 */
export interface Sender {
  /** The longest one send attempt may take: its delivery timer is set that far ahead while it runs. */
  leaseMs: number;
  /**
   * The message's delivery timer came due in this process: its retry, or a send whose process died. Start
   * the next attempt (`message.delivery.attempts + 1`, begun with `Router.beginAttempt`) and return true; do
   * not wait for it. False when it cannot take it now (closing): the timer is set again.
   */
  resume(message: Message): boolean;
  /** Why it cannot start a conversation here (`writeTo`: no number to text from), or null when it can. */
  cannotStart?(): string | null;
  /** Why a message to `address` would not go (a number that texted STOP), or null. */
  refusesTo?(address: string): Promise<string | null>;
}

/** What happened to an inbound contact: the channel turns this into its reply (TwiML, status, ack). */
export type ContactOutcome =
  | { type: 'duplicate' }
  /** A new owner now. */
  | { type: 'assigned'; agentId: string }
  /** Ringing an agent who must answer (a call). */
  | { type: 'offered'; agentId: string; expiresAt: number }
  /** The owner has it and is there. */
  | { type: 'owner'; agentId: string }
  /** A colleague answers for an owner who cannot; the owner stays owner. */
  | { type: 'covered'; agentId: string; ownerId: string }
  /** Waiting for its owner to come back, up to `until`. */
  | { type: 'waiting_for_owner'; ownerId: string; until: number }
  /** `lineChanged`: this contact moved a waiting conversation to another line (the customer changed channel). */
  | ({ type: 'queued'; lineChanged?: true } & HoldQuote)
  /** The answer to the survey sent after a resolution: stored on that conversation, not routed. */
  | { type: 'survey'; rating: number };

export type { WaitQuote };

export interface ContactResult {
  customer: Customer;
  conversation: Conversation;
  message: Message;
  outcome: ContactOutcome;
  /** True when this contact started a new conversation. */
  created: boolean;
}

/**
 * An agent as the admin API takes it. Strict: a misspelt field or channel is refused by name rather than
 * dropped, and the contact details are checked here (the phone and email normalized by the router), since a
 * wrong one would be stored and only ever fail later (a call that cannot ring, a Slack user never linked).
 */
const AgentProfile = z.strictObject({
  // Shown to customers: no control characters or bidi overrides (as customers' own text, `typedText`).
  name: z.string().transform(typedText).pipe(z.string().trim().min(1, 'must not be empty').max(200)),
  skills: Skills,
  capacity: PerChannel.partial().strict(),
  slackUserId: z
    .string()
    .trim()
    .regex(
      /^[UW][A-Z0-9]{2,63}$/,
      'must be a Slack member ID such as U0123ABCD (a profile in Slack, ⋮, Copy member ID)',
    )
    .optional(),
  email: z.string().max(320).optional(),
  phone: z.string().max(32).optional(),
  clientIdentity: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .regex(
      // Twilio refuses a client name with spaces, control characters, delimiters or "unwise" characters.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
      /^[^\s\x00-\x1f\x7f<>#%"{}|\\^[\]`]+$/,
      'must be a Twilio Client identity: no spaces, and none of < > # % " { } | \\ ^ [ ] `',
    )
    .optional(),
  /** A team lead (their console link also opens the team's live view). */
  lead: z.boolean().optional(),
});

export const NewAgent = AgentProfile.extend({
  skills: Skills.default({}),
  capacity: PerChannel.partial().strict().default({}),
  status: AgentStatus.default('offline'),
});
export type NewAgent = z.input<typeof NewAgent>;

/** The team's saved replies as an admin sets them: whole, named `savedReplies` in what is refused. */
const SavedRepliesInput = z.object({ savedReplies: NewSavedReplies });
/**
 * A message as an email of the conversation shows it (the unseen chat replies, the conversation asked for):
 * `heading: text`, then each file as `name: link` ("(not kept)" without one).
 */
function emailedLine(heading: string, m: Message): string {
  const files = m.attachments.map((a) => `${a.name}: ${a.url ?? '(not kept)'}`);
  return [`${heading}: ${m.text}`.trimEnd(), ...files].join('\n');
}

/** A customer's conversation by email goes at most once in this long (`emailTranscript`). */
export const TRANSCRIPT_WINDOW_MS = 10 * 60_000;

/** Why the team closes a customer's open conversations: they are blocked, or their data is erased. */
type TeamClose = 'blocked' | 'erased';

/** Why a customer is blocked (kept on the customer and in a note agents see); may be empty. */
const BlockInput = z.object({ reason: z.string().trim().max(500) });

/**
 * What an admin changes: only the fields given (no defaults, so a field left out is left alone); `null` takes
 * a console address away (an agent who left Slack, a phone that is no longer theirs).
 */
export const AgentPatch = AgentProfile.extend({
  slackUserId: AgentProfile.shape.slackUserId.unwrap().nullable(),
  email: AgentProfile.shape.email.unwrap().nullable(),
  phone: AgentProfile.shape.phone.unwrap().nullable(),
  clientIdentity: AgentProfile.shape.clientIdentity.unwrap().nullable(),
}).partial();
export type AgentPatch = z.input<typeof AgentPatch>;

/** The agent's phone in E.164 and email in lower case; a ValidationError naming the field when either is not one. */
function contactDetails<T extends { phone?: string | null | undefined; email?: string | null | undefined }>(
  input: T,
): T {
  return {
    ...input,
    ...(typeof input.phone === 'string' ? { phone: normalizePhone(input.phone, undefined, 'phone') } : {}),
    ...(typeof input.email === 'string' ? { email: normalizeEmail(input.email, 'email') } : {}),
  };
}

export const DEFAULT_CAPACITY = { voice: 1, sms: 3, chat: 3, email: 5 } as const;

export const IdentifyInput = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  email: z.string().trim().max(320).optional(),
  phone: z.string().trim().max(32).optional(),
});
export type IdentifyInput = z.infer<typeof IdentifyInput>;

/** An address given for one customer that another already has (not linked): who, and their name when known. */
export interface IdentityConflict {
  identity: Identity;
  customerId: string;
  name?: string;
}

/**
 * What an agent writes to a customer first (`writeTo`): on `channel`, to `to` (a phone number or email address:
 * its customer, or a new one) or to the known customer `customerId` (at their number or address on the channel).
 */
export const WriteToInput = z
  .object({
    channel: z.enum(['sms', 'email']),
    to: z.string().trim().min(1).max(320).optional(),
    customerId: z.string().trim().min(1).max(100).optional(),
    text: z.string(),
    /** Email: the subject (default: the text's first line). */
    subject: z.string().trim().min(1).max(200).optional(),
    /** As a reply's: the same id again is the same message, stored once. */
    clientMessageId: z.string().min(1).max(100).optional(),
  })
  .refine((v) => (v.to === undefined) !== (v.customerId === undefined), {
    message: 'give either to (a number or address) or customerId',
    path: ['to'],
  });
export type WriteToInput = z.input<typeof WriteToInput>;

/**
 * How long a timer a process claimed stays its own to fire (Store `claimDueTimers`): should the process die or lose
 * Redis before it has, another fires it then.
 */
export const TIMER_LEASE_MS = 15_000;
/** How often customers past the policy's retention are looked for. */
export const RETENTION_SWEEP_MS = 3600_000;
/** At most this many customers looked at per look; more to look at: the next look is a second later. */
export const RETENTION_PER_SWEEP = 500;
/** A store still learning its customers' activity learns this many identities per second. */
const RETENTION_LEARN_STEP = 200;
/** The least time between two notices that a customer's wait runs late. */
const AT_RISK_SPACING_MS = 60_000;
/** A wait told again this close to the one promised (or a tenth of it) is the same to the customer. */
const RETOLD_SAME_MS = 60_000;
/** A wait's n-th late notice tells the fresh quote times AT_RISK_MARGIN ** n (at most AT_RISK_MARGIN_MAX). */
const AT_RISK_MARGIN = 1.5;
const AT_RISK_MARGIN_MAX = 4;
const DAY_MS = 24 * 3600_000;

/** A customer erased, with what closed first and how many files and mails kept beside the store went. */
export type Erased = ErasedCustomer & { closed: Conversation[]; files: number };

/**
 * What phones a customer from an agent's phone (the voice channel, with Twilio): it rings the agent, and
 * dials the customer from that call once they pick up. Outcomes come back as `Router.callNote`.
 */
export interface Caller {
  /** Why no call goes out here (no number to call from), or null when one can. */
  cannotCall(): string | null;
  /**
   * Ring `agentId` (refused by name when they have nothing to ring), then dial `to` from their call, for the
   * conversation. Resolves once Twilio took the call.
   */
  call(request: { conversationId: string; agentId: string; to: string }): Promise<void>;
}

export class Router {
  readonly store: Store;
  readonly clock: Clock;
  readonly events: EventBus;
  readonly policy: RoutingPolicy;
  readonly #ids: IdSource;
  readonly #strategy: RoutingStrategy;
  readonly #rules: WaitRules;
  readonly #senders = new Map<Channel, Sender>();
  #caller: Caller | null = null;
  /** What a `console` timer does (the web console's: see `onConsoleTimer`). */
  #consoleTimer: ((agentId: string) => Promise<void>) | null = null;
  /** Deletes the files and mail kept beside the store for erased messages (see `onForgetFiles`). */
  #forgetFiles: ((messages: readonly Message[]) => Promise<number>) | null = null;

  constructor(deps: RouterDeps) {
    this.store = deps.store;
    this.clock = deps.clock;
    this.events = deps.events ?? new LocalEventBus();
    this.policy = deps.policy ?? defaultPolicy();
    this.#ids = deps.ids ?? randomIds;
    this.#strategy = deps.strategy ?? defaultStrategy;
    const offer: WaitRules['offerTimeoutMs'] = {};
    for (const [channel, seconds] of Object.entries(this.policy.offerTimeoutSeconds)) {
      if (seconds !== undefined) offer[channel as Channel] = seconds * 1000;
    }
    this.#rules = {
      overflowAfterMs: this.policy.overflowAfterSeconds * 1000,
      hardCapMs: this.policy.hardCapSeconds * 1000,
      offerTimeoutMs: offer,
    };
  }

  // ================================================================ inbound

  /** One inbound contact from any channel: find the customer, their conversation, and a person. */
  async contact(input: Contact): Promise<ContactResult> {
    const parsed = Contact.safeParse(input);
    if (!parsed.success) throw fromZod(parsed.error, 'contact');
    const c: ParsedContact = parsed.data;
    const now = this.clock.now();

    const identity = contactIdentity(c);
    // A repeated delivery is its stored message. Else a new customer's whole contact is one step: the customer
    // created with what the contact teaches, their conversation started with its first message, and routed.
    const init = this.#newCustomer(identity, now, this.#taught(c, identity, {}, now));
    // A new conversation needs what its entry point says (the number reached, the address written to, the chat's
    // topic), unless the channel said itself; an open one keeps what it started with.
    const entry =
      c.skills === undefined && c.priority === undefined
        ? entryPointOf(this.policy.entryPoints, c.channel, c.to)
        : undefined;
    const start = this.#newConversation(
      init.id,
      { channel: c.channel, skills: c.skills ?? entry?.skills, priority: c.priority ?? entry?.priority },
      now,
    );
    const first = this.#inbound(start.id, init, c, now);
    const resolved = await this.store.startContact({
      channel: c.channel,
      externalId: c.externalId,
      identity,
      customer: init,
      conversation: start,
      first,
      route: this.#routePlan(start, init, now),
      ...(c.conversationId !== undefined ? { conversationId: c.conversationId } : {}),
    });
    if (resolved.duplicate) return this.#duplicate(resolved.message);
    if (resolved.created) {
      const { message } = resolved;
      this.#emit({ type: 'message.received', at: now, message });
      return {
        ...(await this.#afterRouted(resolved.outcome, resolved.customer, now)),
        message,
        created: true,
      };
    }
    if (resolved.blocked) {
      // Not stored, not routed, not answered: the channel says nothing more to the sender.
      const customerId = resolved.customer.id;
      this.#emit({ type: 'contact.blocked', at: now, customerId, channel: c.channel });
      throw new BlockedError(customerId);
    }
    // A customer known already, who learnt what the contact teaches in the same step.
    const { customer, continued } = resolved;
    if (continued) return this.#continued(customer, continued, c.channel, now);

    // Not in a conversation: the answer to the survey we sent is stored there, not routed.
    const { latest } = resolved;
    const answer = latest ? await this.#surveyAnswer(customer, latest, c, now) : null;
    if (answer) return answer;
    const repeatOf = latest && this.#isRepeatOf(latest, now) ? latest : null;
    // Back soon after giving up a wait (hung up on hold, say): their place is kept, from when that wait began.
    const rejoined =
      latest?.status === 'abandoned' &&
      latest.closedBy === undefined &&
      latest.resolvedAt !== null &&
      now - latest.resolvedAt <= this.policy.rejoinSeconds * 1000
        ? latest
        : null;
    // The ids drawn for a new customer's conversation and message serve here.
    const record = {
      ...start,
      customerId: customer.id,
      ...(repeatOf ? { repeatOf: repeatOf.id } : {}),
      ...(rejoined ? { queuedAt: waitingSince(rejoined) } : {}),
    };
    // The conversation and its first message in one step: a repeated delivery creates nothing.
    const started = await this.store.startConversation(
      record,
      this.#inbound(record.id, customer, c, now, first.id),
    );
    if (started.duplicate) return this.#duplicate(started.message);
    const { conversation, message } = started;
    this.#emit({ type: 'message.received', at: now, message });
    if (repeatOf) await this.#repeatContact(conversation, repeatOf, now);
    if (rejoined) {
      const gaveUp = humanDuration((now - rejoined.resolvedAt!) / 1000);
      const began = humanDuration((now - waitingSince(rejoined)) / 1000);
      await this.#internalNote(
        conversation,
        `Back ${gaveUp} after giving up a wait (${GAVE_UP[rejoined.lastChannel]}): their place in line is kept from when it began, ${began} ago.`,
        now,
      );
    }
    // An address they gave (the chat's pre-chat form, before writing) is another customer's, who has a request
    // open: it is offered to that request's owner first, so one person answers both, and both agents are told.
    const others = await this.#othersWithAddress(customer);
    const sameRequestOwner = others.find((o) => o.ownerId !== null)?.ownerId ?? null;
    // Routed here: the route left both records as they now stand (nothing after it changes them), so they are not
    // read again.
    const routed = await this.#routed(conversation, customer, sameRequestOwner);
    for (const o of others) await this.#sameRequestMaybe(customer, o.other, o.identity, now);
    // Waiting in the place they had: the channel tells them so with the wait (`placeKeptSentence`).
    if (rejoined && routed.outcome.type === 'queued')
      return { ...routed, outcome: { ...routed.outcome, keptPlace: true }, message, created: true };
    return { ...routed, message, created: true };
  }

  /**
   * A known customer's message, appended by the store to their open conversation in the contact's first step: a
   * waiting one switched to another channel (or stranded) is routed there; an owned one goes to its owner, or
   * waits for them, or a colleague covers.
   */
  async #continued(
    customer: Customer,
    { conversation, message, switched, inLine, owner }: ContinuedContact,
    channel: Channel,
    now: number,
  ): Promise<ContactResult> {
    this.#emit({ type: 'message.received', at: now, message });
    const told = (outcome: ContactOutcome): ContactResult => ({
      customer,
      conversation,
      message,
      outcome,
      created: false,
    });
    // A caller on hold who writes on another channel (a text, say) is still on the line: they keep their place in
    // the call's line (for a person, or for a colleague to cover their away owner), which stays their
    // conversation's channel, and whoever answers the call reads what they wrote. Their written channel is where
    // they wait if they hang up (`liveContactEnded`). So does a caller owed a call back: it is still theirs.
    const holding = switched && inLine ? await this.#holdingOn(conversation, channel) : null;
    if (holding) {
      const kept = await this.store.touchConversation(conversation.id, holding, now);
      return {
        customer,
        conversation: kept,
        message,
        outcome: await this.#waitingOutcome(kept),
        created: false,
      };
    }
    if (conversation.status !== 'assigned') {
      // Switched to another channel, or stranded (`isStranded`): this contact routes it.
      if ((switched && conversation.offer === null) || isStranded(conversation, inLine)) {
        // The route left both records as they now stand, so they are not read again.
        const routed = await this.#routed(conversation, customer);
        // Moved to another line: the wait there, told on this channel, is the one the customer holds to.
        if (switched && routed.outcome.type === 'queued')
          return { ...routed, outcome: { ...routed.outcome, lineChanged: true }, message, created: false };
        return { ...routed, message, created: false };
      }
      // Still waiting: where it stands now (reads only).
      return told(await this.#waitingOutcome(conversation));
    }
    const outcome = await this.#ownedContact(conversation, channel, { owner, inLine });
    // Its owner is there and it was not waiting for them: nothing changed, nothing to read again.
    if (outcome.type === 'owner' && conversation.waitingForOwnerSince === null) return told(outcome);
    const [latest, latestCustomer] = await Promise.all([
      this.store.getConversation(conversation.id),
      this.store.getCustomer(customer.id),
    ]);
    return {
      customer: latestCustomer ?? customer,
      conversation: latest ?? conversation,
      message,
      outcome,
      created: false,
    };
  }

  /**
   * The live channel (a call's) where a customer who just wrote on `channel` waits, or null: on the line, or owed a
   * call back (they hung up after asking for one): they keep their place for it, and the call back is made from
   * that line, with what they wrote to read.
   */
  async #holdingOn(conv: Conversation, channel: Channel): Promise<Channel | null> {
    const live = this.policy.liveChannels;
    if (live.includes(channel)) return null;
    const line = await this.store.queueSnapshot(conv.id);
    return line && live.includes(line.channel) ? line.channel : null;
  }

  /** Facts a visitor (or an agent) gives: stored with their source, identities linked when free. */
  async identify(
    customerId: string,
    input: IdentifyInput,
    source: string,
  ): Promise<{ customer: Customer; conflicts: IdentityConflict[] }> {
    const parsed = IdentifyInput.safeParse(input);
    if (!parsed.success) throw fromZod(parsed.error, 'identify');
    const now = this.clock.now();
    const facts: Record<string, Fact> = {};
    const identities: Identity[] = [];
    if (parsed.data.name) facts.name = { value: parsed.data.name, source, at: now };
    if (parsed.data.email) {
      const email = normalizeEmail(parsed.data.email, 'email');
      facts.email = { value: email, source, at: now };
      identities.push({ channel: 'email', address: email });
    }
    if (parsed.data.phone) {
      const phone = normalizePhone(parsed.data.phone, undefined, 'phone');
      facts.phone = { value: phone, source, at: now };
      identities.push({ channel: 'phone', address: phone });
    }
    // What they gave before: an address given again (a page reloaded) is not news to the agents.
    const before = identities.length > 0 ? await this.store.getCustomer(customerId) : null;
    let customer = await this.store.recordFacts(customerId, facts, parsed.data.name);
    const conflicts: IdentityConflict[] = [];
    for (const identity of identities) {
      const linked = await this.store.linkIdentity(customer.id, identity);
      customer = linked.customer;
      if (linked.takenBy) {
        // Named in words where a name is known: agents read the note (an admin finds them by the address).
        const other = await this.store.getCustomer(linked.takenBy);
        const name = knownName(other);
        conflicts.push({ identity, customerId: linked.takenBy, ...(name ? { name } : {}) });
        customer = await this.store.addCustomerNote(customer.id, {
          text: `${identity.channel} ${identity.address} also belongs to another customer${name ? `, ${name}` : ''}; an admin can merge them if they are the same person`,
          by: 'system',
          at: now,
        });
        if (before?.facts[identity.channel]?.value !== identity.address && other)
          await this.#sameRequestMaybe(customer, other, identity, now);
      }
    }
    if (Object.keys(facts).length > 0) {
      this.#emit({ type: 'customer.facts', at: now, customerId: customer.id, keys: Object.keys(facts) });
    }
    return { customer, conflicts };
  }

  /**
   * What the customer told an agent on a conversation they are on (their name, email, phone): kept as facts from
   * that agent, so nobody asks again; the email and phone link to the customer when no other customer has them
   * (a caller who withheld their number can be called and texted back from then on), else a note says whose they
   * are, for an admin to merge (`conflicts`).
   */
  async recordDetails(
    agentId: string,
    conversationId: string,
    input: IdentifyInput,
  ): Promise<{ customer: Customer; conflicts: IdentityConflict[] }> {
    const parsed = IdentifyInput.safeParse(input);
    if (!parsed.success) throw fromZod(parsed.error, 'details');
    if (!parsed.data.name && !parsed.data.email && !parsed.data.phone)
      throw new ValidationError('details: give a name, an email address or a phone number', 'name');
    const { conversation, agent } = await this.#participant(
      agentId,
      conversationId,
      'record the customer details of',
    );
    return this.identify(conversation.customerId, parsed.data, `agent ${agent.name}`);
  }

  /** The customer behind a chat visitor id (created on first sight). */
  async visitor(visitorId: string): Promise<Customer> {
    const identity = identityOf('chat', visitorId);
    const { customer } = await this.store.resolveCustomer(
      identity,
      this.#newCustomer(identity, this.clock.now()),
    );
    return customer;
  }

  /** The customer is typing (or stopped): consoles show it. */
  customerTyping(conversationId: string, typing: boolean): void {
    this.#emit({ type: 'typing', at: this.clock.now(), conversationId, who: 'customer', typing });
  }

  /** A chat visitor opened the page of their conversation (`online`) or left it: the agents on it see it. */
  visitorPresence(conversationId: string, online: boolean): void {
    this.#emit({ type: 'visitor.presence', at: this.clock.now(), conversationId, online });
  }

  /** An agent on the conversation is typing: the customer's widget shows it. */
  async agentTyping(agentId: string, conversationId: string, typing: boolean): Promise<void> {
    const { agent } = await this.#participant(agentId, conversationId, 'type on');
    this.#emit({
      type: 'typing',
      at: this.clock.now(),
      conversationId,
      who: 'agent',
      agentId,
      name: agent.name,
      typing,
    });
  }

  /** Of the facts wanted, those not already known ("ask only once"). */
  async missingFacts(customerId: string, wanted: readonly string[]): Promise<string[]> {
    const customer = await this.#customer(customerId);
    return wanted.filter((key) => !customer.facts[key]);
  }

  async mergeCustomers(keepId: string, otherId: string): Promise<Customer> {
    const now = this.clock.now();
    const customer = await this.store.mergeCustomers(keepId, otherId, now);
    this.#emit({ type: 'customer.merged', at: now, customerId: customer.id, mergedId: otherId });
    await this.#mergedOpenConversations(customer.id, now);
    return customer;
  }

  /**
   * A merged customer may have had an open conversation on each side: one customer, two conversations. The
   * next message goes to the one active last; the agents on each are told of the other (an internal note),
   * so that they agree who answers and resolve the other.
   */
  async #mergedOpenConversations(customerId: string, now: number): Promise<void> {
    const [queued, assigned] = await Promise.all([
      this.store.listConversations({ customerId, status: 'queued', limit: 0 }),
      this.store.listConversations({ customerId, status: 'assigned', limit: 0 }),
    ]);
    const open = [...queued, ...assigned];
    if (open.length < 2) return;
    const holder = async (c: Conversation) =>
      c.ownerId ? `with ${await this.#agentName(c.ownerId)}` : 'waiting for a person';
    const described = await Promise.all(
      open.map(async (c) => `${c.id} (${c.lastChannel}, ${await holder(c)})`),
    );
    for (const [i, conv] of open.entries()) {
      const others = described.filter((_, j) => j !== i).join(', ');
      await this.#internalNote(
        conv,
        `This customer was merged with another and also has the open conversation ${others}: agree who answers, and resolve the other. Their next message goes to the one active last.`,
        now,
      );
    }
  }

  // ================================================================ agents

  async createAgent(input: NewAgent): Promise<Agent> {
    const parsed = NewAgent.safeParse(input);
    if (!parsed.success) throw fromZod(parsed.error, 'agent');
    const now = this.clock.now();
    const { status, capacity, ...rest } = contactDetails(parsed.data);
    const agent = await this.store.createAgent({
      ...rest,
      id: this.#ids.next(ID_PREFIX.agent),
      capacity: { ...DEFAULT_CAPACITY, ...capacity },
      status: 'offline',
      load: zeroPerChannel(),
      idleSince: now,
      createdAt: now,
    });
    if (status === 'offline') return agent;
    return this.setAgentStatus(agent.id, status);
  }

  async updateAgent(agentId: string, input: AgentPatch): Promise<Agent> {
    const parsed = AgentPatch.safeParse(input);
    if (!parsed.success) throw fromZod(parsed.error, 'agent');
    const current = await this.#onTeam(agentId);
    const { capacity, ...rest } = contactDetails(parsed.data);
    const patch = capacity ? { ...rest, capacity: { ...current.capacity, ...capacity } } : rest;
    const agent = await this.store.updateAgent(agentId, patch);
    this.#emit({ type: 'agent.updated', at: this.clock.now(), agentId });
    await this.#fill(agentId);
    return (await this.store.getAgent(agentId)) ?? agent;
  }

  /** The team's saved replies: as an admin last set them, else the policy's. */
  async savedReplies(): Promise<SavedReply[]> {
    return (await this.savedRepliesFrom()).savedReplies;
  }

  /** The team's saved replies, and where they come from: the admin API, or the policy (none set yet). */
  async savedRepliesFrom(): Promise<{ savedReplies: SavedReply[]; from: 'api' | 'policy' }> {
    const stored = await this.store.getSavedReplies();
    return stored
      ? { savedReplies: stored, from: 'api' }
      : { savedReplies: this.policy.savedReplies, from: 'policy' };
  }

  /**
   * Replace the team's saved replies, whole (refused naming the field: `savedReplies.<i>.name`); every console
   * on every process is told (`saved_replies.updated`).
   */
  async setSavedReplies(input: unknown): Promise<SavedReply[]> {
    const parsed = SavedRepliesInput.safeParse({ savedReplies: input });
    if (!parsed.success) throw fromZod(parsed.error, 'saved replies');
    const { savedReplies } = parsed.data;
    await this.store.setSavedReplies(savedReplies);
    this.#emit({ type: 'saved_replies.updated', at: this.clock.now(), savedReplies });
    return savedReplies;
  }

  /**
   * Renew the agent's console links: the token version goes up, so every link signed before stops working
   * (the consoles open on one are closed by `agent.updated`). For a lost link, or an agent who left.
   */
  async renewAgentToken(agentId: string): Promise<Agent> {
    const current = await this.#onTeam(agentId);
    const agent = await this.store.updateAgent(agentId, { tokenVersion: (current.tokenVersion ?? 0) + 1 });
    this.#emit({ type: 'agent.updated', at: this.clock.now(), agentId });
    return agent;
  }

  /**
   * An agent leaves the team (they left the company, or gave up their seat). Their record stays, for the names
   * in the conversations they worked on, marked `leftAt`: offline for good (the store refuses any other status,
   * in the step that would set it), on no list, given nothing; every console link of theirs stops working, and
   * their console addresses (Slack user, email, phone, Twilio Client) and lead role go, so that nothing reaches
   * them. What they had moves on at once, as when an owner is gone for good: each conversation they owned back
   * in line for a colleague (the move recorded, `owner_offline`), one they covered covered again or waiting, the
   * consultations and hand-offs offered to them let go, a conversation ringing for them offered to the next.
   * Asked again, it finishes what a failure (the store away) left undone, and otherwise changes nothing.
   */
  async leaveTeam(agentId: string): Promise<Agent> {
    const before = await this.#agent(agentId);
    const now = this.clock.now();
    if (before.leftAt === undefined) {
      await this.store.updateAgent(agentId, {
        leftAt: now,
        tokenVersion: (before.tokenVersion ?? 0) + 1,
        lead: false,
        slackUserId: null,
        email: null,
        phone: null,
        clientIdentity: null,
      });
      this.#emit({ type: 'agent.updated', at: now, agentId });
    }
    await this.setAgentStatus(agentId, 'offline', 'left the team');
    for (const conv of await this.store.listAgentConversations(agentId)) {
      if (conv.ownerId === agentId) await this.#ownerGone(conv, now);
      else if (conv.cover?.agentId === agentId) {
        const { conversation } = await this.store.endCover(conv.id, now);
        this.#emit({ type: 'conversation.updated', at: now, conversation });
        await this.#ownedContact(conversation, conversation.lastChannel);
      } else if (conv.handoff?.to === agentId) await this.declineHandoff(agentId, conv.id);
      else if (conv.consultants.includes(agentId) || conv.invited.includes(agentId))
        await this.leaveConsult(agentId, conv.id);
    }
    for (const conv of await this.store.listConversations({ status: 'queued' })) {
      if (conv.offer?.agentId !== agentId) continue;
      const withdrawn = await this.store.withdrawOffer(conv.id, agentId, now, null);
      if (!withdrawn) continue;
      this.#emit({ type: 'conversation.offer_expired', at: now, conversation: withdrawn, agentId });
      await this.#route(withdrawn);
    }
    return this.#agent(agentId);
  }

  /** `#agent`, refused (InvalidStateError) when they left the team. */
  async #onTeam(id: string): Promise<Agent> {
    const agent = await this.#agent(id);
    if (agent.leftAt !== undefined) throw leftTheTeam(id);
    return agent;
  }

  async setAgentStatus(agentId: string, status: AgentStatus, reason?: string): Promise<Agent> {
    const parsedStatus = AgentStatus.safeParse(status);
    if (!parsedStatus.success)
      throw new ValidationError(`status must be one of available, away, offline`, 'status');
    const now = this.clock.now();
    const announce = (before: { status: AgentStatus; statusReason?: string }): void => {
      if (before.status !== status || before.statusReason !== reason)
        this.#emit({ type: 'agent.status', at: now, agentId, status, ...(reason ? { reason } : {}) });
    };
    if (status === 'available') {
      // Available again: the status, what waited for them as owner and the waiting conversations they can
      // serve, in one step.
      const back = await this.store.comeBack(agentId, reason, now, this.policy.liveChannels, this.#rules);
      announce(back.before);
      await this.#ownerBack(back, now);
      await this.#filled(agentId, back.claims, now);
      // Their record as the step left it, unless a full fill (FILL_LIMIT claims) made #filled ask again.
      if (back.claims.length < FILL_LIMIT) return back.agent;
      return (await this.store.getAgent(agentId)) ?? back.agent;
    }
    const before = await this.#agent(agentId);
    const agent = await this.store.setAgentStatus(agentId, status, reason, now);
    announce(before);
    if (status === 'away' && before.status === 'available') await this.#customersWaitFor(agentId);
    if (status === 'offline' && before.status !== 'offline') {
      // A hand-off offered to them is declined (nobody offline can take one, and its owner is told so), which
      // frees the place it kept.
      for (const conv of await this.store.listAgentConversations(agentId)) {
        if (conv.handoff?.to === agentId) await this.declineHandoff(agentId, conv.id);
      }
      // Their open conversations wait for them up to stickyWait, then move on.
      for (const conv of await this.store.listConversations({ ownerId: agentId, status: 'assigned' })) {
        const channel = conv.slotChannel ?? conv.lastChannel;
        await this.store.schedule({
          kind: 'sticky',
          ref: conv.id,
          dueAt: now + this.policy.stickyWaitSeconds[channel] * 1000,
        });
      }
      await this.tick();
    }
    return (await this.store.getAgent(agentId)) ?? agent;
  }

  // ================================================================ agent actions

  /**
   * The agent answers on the conversation's channel; with `attachments` (files kept by the channels, each with
   * its link), the text may be empty, and a call, which cannot carry a file, refuses them.
   */
  async reply(
    agentId: string,
    conversationId: string,
    text: string,
    clientMessageId?: string,
    attachments: Attachment[] = [],
  ): Promise<Message> {
    const { conversation, agent } = await this.#participant(agentId, conversationId, 'reply to');
    const channel = conversation.lastChannel;
    if (attachments.length > 0 && channel === 'voice')
      throw new ValidationError('files: a call cannot carry files; send them by text or email', 'files');
    const clean = attachments.length > 0 && text.trim() === '' ? '' : checkText(text, REPLY_MAX[channel]);
    const { message } = await this.#outbound(
      conversation,
      channel,
      { type: 'agent', id: agent.id, name: agent.name },
      clean,
      clientMessageId ? `out:${agentId}:${clientMessageId}` : undefined,
      false,
      attachments,
    );
    // The owner answered while away (from their phone, say): the customer no longer waits for them, nor for a
    // colleague to cover what the owner has answered.
    if (
      conversation.ownerId === agent.id &&
      conversation.waitingForOwnerSince !== null &&
      !conversation.cover
    ) {
      const now = this.clock.now();
      const updated = await this.store.setWaitingForOwner(conversation.id, null);
      await this.store.cancelTimer('sticky', conversation.id);
      this.#emit({ type: 'conversation.updated', at: now, conversation: updated });
    }
    await this.#wrapUpWritten(conversation, message.at);
    return message;
  }

  /** An internal note: seen by the agents on the conversation, never sent to the customer. */
  async note(agentId: string, conversationId: string, text: string): Promise<Message> {
    const { conversation, agent } = await this.#participant(agentId, conversationId, 'write a note on');
    const message = await this.#appendNote(
      conversation,
      { type: 'agent', id: agent.id, name: agent.name },
      checkText(text),
      this.clock.now(),
    );
    await this.#wrapUpWritten(conversation, message.at);
    return message;
  }

  /**
   * A channel's news of a message's delivery, told to the agents (`message.delivery`) when the store applied
   * it. `attempt`: the send attempt it is about; the message's attempts become it, and it is no news once a
   * later attempt began (a late or repeated report; a retry under way, maybe in another process). Without it,
   * a failure or a send counts one more attempt. `retryAt`: for a `Sender`'s message, when it tries again
   * (its delivery timer), or null when it will not (the timer goes).
   */
  async markDelivery(
    messageId: string,
    state: Message['delivery']['state'],
    reason?: string,
    options: { attempt?: number; retryAt?: number | null } = {},
  ): Promise<Message> {
    const existing = await this.store.getMessage(messageId);
    if (!existing) throw new NotFoundError('message', messageId);
    const now = this.clock.now();
    const { attempt, retryAt } = options;
    const counted = existing.delivery.attempts + (state === 'failed' || state === 'sent' ? 1 : 0);
    const { message, applied } = await this.store.updateDelivery(
      messageId,
      { state, attempts: attempt ?? counted, at: now, ...(reason !== undefined ? { reason } : {}) },
      {
        ...(attempt !== undefined ? { ifAttemptsAtMost: attempt } : {}),
        ...(retryAt !== undefined ? { timer: retryAt } : {}),
      },
    );
    if (applied) this.#emit({ type: 'message.delivery', at: now, message });
    return message;
  }

  /**
   * Send `channels`' outbound messages with `sender` (see `Sender`): their delivery timers are set when they
   * are stored and handed to it when due. Returns the undo.
   */
  registerSender(channels: Channel[], sender: Sender): () => void {
    for (const channel of channels) this.#senders.set(channel, sender);
    return () => {
      for (const channel of channels)
        if (this.#senders.get(channel) === sender) this.#senders.delete(channel);
    };
  }

  /** The voice channel phones customers for agents (`callCustomer`). Returns the undo. */
  registerCaller(caller: Caller): () => void {
    this.#caller = caller;
    return () => {
      if (this.#caller === caller) this.#caller = null;
    };
  }

  /** Whether an agent can phone a customer from here (`callCustomer`). */
  get callsOut(): boolean {
    return this.#caller !== null && this.#caller.cannotCall() === null;
  }

  /**
   * The owner of a conversation (or the colleague covering it) phones its customer: their own phone or
   * browser rings, and the customer is dialled from it, at the number they last called or texted from on it,
   * else the one on file. Whatever channel they wrote on stays the one replies go out on: the call is
   * recorded as internal notes (placed, then how it went: `callNote`). Refused by name: `channel_off` (no
   * calls here), `no_phone` (no number to call, or one they withheld), 403 for a blocked customer, and the
   * caller's own refusals (`agent_unreachable`: nothing to ring the agent on; `call_under_way`: one rings or
   * goes on already; `call_failed`: Twilio refused it).
   */
  async callCustomer(agentId: string, conversationId: string): Promise<{ to: string; message: Message }> {
    const caller = this.#caller;
    const off = caller ? caller.cannotCall() : 'calls do not go out here';
    if (!caller || off) throw new ConflictError('channel_off', off ?? 'calls do not go out here');
    const { conversation, agent } = await this.#participant(agentId, conversationId, 'phone the customer of');
    if (conversation.ownerId !== agentId && conversation.cover?.agentId !== agentId)
      throw new NotOwnerError(agentId, conversationId, 'phone the customer of');
    const customer = await this.#customer(conversation.customerId);
    if (customer.blocked) throw new BlockedError(customer.id);
    const to = await this.#phoneToCall(conversation, customer);
    if (!to) {
      throw new ConflictError(
        'no_phone',
        customer.identities.some((i) => i.channel === 'call')
          ? 'the caller withheld their number: there is no number to call'
          : 'the customer has no phone number to call',
      );
    }
    await caller.call({ conversationId, agentId, to });
    const message = await this.#appendNote(
      conversation,
      { type: 'agent', id: agent.id, name: agent.name },
      `Phoning the customer at ${to}: ${agent.name}'s phone rings first.`,
      this.clock.now(),
    );
    return { to, message };
  }

  /**
   * A call `callCustomer` placed rings or goes on: kept (for the team view) `forSeconds` from now, unless renewed
   * (`since` kept) or ended (`callOutEnded`).
   */
  async callingOut(
    call: Omit<OutCall, 'since' | 'until'> & { since?: number },
    forSeconds: number,
  ): Promise<void> {
    const now = this.clock.now();
    const since = call.since ?? (await this.store.listOutCalls([call.agentId], now))[0]?.since ?? now;
    await this.store.setOutCall({ ...call, since, until: now + forSeconds * 1000 }, now);
  }

  /** Forget the calls out kept on these (erased) conversations: the team view no longer names their number. */
  async #forgetOutCalls(conversationIds: readonly string[], now: number): Promise<void> {
    if (conversationIds.length === 0) return;
    const erased = new Set(conversationIds);
    const agentIds = (await this.store.listAgents()).map((a) => a.id);
    for (const call of await this.store.listOutCalls(agentIds, now)) {
      if (erased.has(call.conversationId)) await this.store.endOutCall(call.agentId);
    }
  }

  /** The agent's call out is over (`callingOut`). */
  async callOutEnded(agentId: string): Promise<void> {
    await this.store.endOutCall(agentId);
  }

  /** How a call `callCustomer` placed went, for the agents on the conversation (never sent to the customer). */
  async callNote(conversationId: string, text: string): Promise<void> {
    const conversation = await this.store.getConversation(conversationId);
    if (conversation) await this.#internalNote(conversation, text, this.clock.now());
  }

  /** The number to phone a conversation's customer at: the one they last called or texted from on it, else on file. */
  async #phoneToCall(conversation: Conversation, customer: Customer): Promise<string | null> {
    const last = lastAddress(await this.store.listMessages(conversation.id), PHONE_CHANNELS);
    for (const raw of [last, phoneOf(customer), customer.facts.phone?.value]) {
      const phone = raw ? identityIfAny('voice', raw) : null;
      if (phone) return phone.address;
    }
    return null;
  }

  /**
   * What happens when a `console` timer is due (ref: agent id): the web console, which knows where consoles
   * are, sets it when an agent's last console closes. Returns the undo.
   */
  onConsoleTimer(handler: (agentId: string) => Promise<void>): () => void {
    this.#consoleTimer = handler;
    return () => {
      if (this.#consoleTimer === handler) this.#consoleTimer = null;
    };
  }

  /**
   * A `Sender` begins send attempt `attempt` of the message (a retry, or a send taken over): its attempts
   * become it, its state pending, and its delivery timer the lease of this attempt. False when the attempt
   * was begun already (by another process), or the message is delivered: then it is not sent.
   */
  async beginAttempt(message: Message, attempt: number, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    // Pending again while it is sent; never over a delivered message (the store keeps delivered).
    const { applied } = await this.store.updateDelivery(
      message.id,
      { state: 'pending', attempts: attempt, at: now },
      { ifAttemptsAtMost: attempt - 1, timer: now + leaseMs },
    );
    return applied;
  }

  /** The store's options for a new outbound message on `channel`: its delivery timer when a `Sender` sends it. */
  #deliveryTimer(channel: Channel, now: number): AppendOptions {
    const sender = this.#senders.get(channel);
    return sender ? { deliveryDueAt: now + sender.leaseMs } : {};
  }

  /** A message's delivery timer came due: its sender resumes it, unless it went out or gave up meanwhile. */
  async #deliveryDue(messageId: string, now: number): Promise<void> {
    const message = await this.store.getMessage(messageId);
    if (message?.direction !== 'out') return;
    if (message.delivery.state === 'sent' || message.delivery.state === 'delivered') return;
    const sender = this.#senders.get(message.channel);
    // None here, or it is closing (or this process runs without that channel): due again, for any process.
    if (!sender?.resume(message))
      await this.store.schedule({ kind: 'delivery', ref: messageId, dueAt: now + DELIVERY_RECHECK_MS });
  }

  async resolve(agentId: string, conversationId: string, followUpAt?: number | null): Promise<Conversation> {
    const now = this.clock.now();
    if (followUpAt != null && followUpAt <= now)
      throw new ValidationError('followUpAt must be in the future', 'followUpAt');
    const resolved = await this.#resolve(conversationId, agentId, now, {
      followUpAt: followUpAt ?? null,
      survey: this.policy.surveys,
    });
    if (followUpAt != null) {
      await this.#makePromise(conversationId, 'follow-up', followUpAt, { text: FOLLOW_UP_TEXT, agentId });
    }
    return resolved;
  }

  /**
   * Resolve it as its owner `ownerId` would, in one step: only they may (NotOwnerError), its sticky timer goes,
   * the survey is scheduled when asked, and the owner's freed capacity goes to who waits next.
   */
  async #resolve(
    conversationId: string,
    ownerId: string,
    now: number,
    { followUpAt, survey }: { followUpAt: number | null; survey: boolean },
  ): Promise<Conversation> {
    const {
      conversation: resolved,
      coverer,
      keptFor,
      claims,
    } = await this.store.resolve(conversationId, now, followUpAt, {
      by: ownerId,
      surveyAt: survey ? now + this.policy.surveyDelaySeconds * 1000 : null,
      fill: this.#rules,
    });
    this.#emit({ type: 'conversation.resolved', at: now, conversation: resolved });
    await this.#filled(ownerId, claims, now);
    if (coverer) await this.#fill(coverer);
    // A colleague offered its hand-off had a place kept for it: free now, for who waits next.
    if (keptFor) await this.#fill(keptFor);
    return resolved;
  }

  // ================================================================ blocking

  /**
   * Block a customer (`by`: the agent's id, or `admin`): from now on what they send on any of their identities
   * is refused (`contact` throws BlockedError; channels answer nothing). Their open conversations close: an
   * owned one is resolved for its owner (no survey), a waiting one leaves the line (abandoned). The reason is
   * kept on the customer and in a note agents see. Blocking one blocked already keeps the first block and
   * closes what is open. A caller known only by a call whose number they withheld cannot be blocked
   * (`cannot_block`): their next call is someone new, whom no block could reach.
   */
  async blockCustomer(
    customerId: string,
    by: string,
    reason: string,
  ): Promise<{ customer: Customer; closed: Conversation[] }> {
    const input = BlockInput.safeParse({ reason });
    if (!input.success) throw fromZod(input.error, 'block');
    const why = input.data.reason;
    const now = this.clock.now();
    const before = await this.#customer(customerId);
    if (withheldOnly(before)) {
      throw new ConflictError(
        'cannot_block',
        'a caller who withheld their number cannot be blocked: their next call would be someone new to Switchboard; resolve the conversation to end it',
      );
    }
    let customer = await this.store.setCustomerBlock(before.id, { at: now, by, reason: why });
    if (!before.blocked) {
      const who = await this.#blockerName(by);
      customer = await this.store.addCustomerNote(customer.id, {
        text: why ? `blocked by ${who}: ${why}` : `blocked by ${who}`,
        by,
        at: now,
      });
      this.#emit({ type: 'customer.blocked', at: now, customerId: customer.id, by, blocked: true });
    }
    return { customer, closed: await this.#closeOpen(customer.id, 'blocked', now) };
  }

  /**
   * Close a customer's open conversations because the team closes them (`why`), not because the customer left:
   * an owned one is resolved for its owner (no survey; their freed capacity goes to who waits next), a waiting
   * one leaves the line (abandoned, its event saying why). What they are as now closed, oldest first.
   */
  async #closeOpen(customerId: string, why: TeamClose, now: number): Promise<Conversation[]> {
    const closed: Conversation[] = [];
    const open = await Promise.all([
      this.store.listConversations({ customerId, status: 'assigned', limit: 0 }),
      this.store.listConversations({ customerId, status: 'queued', limit: 0 }),
    ]);
    for (const conv of open.flat().sort(byCreation)) {
      closed.push(
        conv.status === 'assigned' && conv.ownerId !== null
          ? await this.#resolve(conv.id, conv.ownerId, now, { followUpAt: null, survey: false })
          : await this.#abandon(conv.id, why),
      );
    }
    return closed;
  }

  /**
   * An agent blocks the customer of a conversation they own (see `blockCustomer`): NotOwnerError when it is not
   * theirs.
   */
  async blockFromConversation(
    agentId: string,
    conversationId: string,
    reason: string,
  ): Promise<{ customer: Customer; closed: Conversation[] }> {
    const conv = await this.#conversation(conversationId);
    if (conv.ownerId !== agentId || conv.status !== 'assigned') {
      throw new NotOwnerError(agentId, conversationId, 'block the customer of');
    }
    return this.blockCustomer(conv.customerId, agentId, reason);
  }

  /**
   * A texting number opted out of texts (it texted STOP: `optedOut`) or in again (START). Kept (Store
   * `setTextOptOut`, whatever happens to the customer), and when it changes, the agents on the customer's open
   * conversation are told in a note: texts to that number then fail at once saying why, and writing to it first
   * is refused (`opted_out`), until it opts in. An address that is not a phone number changes nothing.
   */
  async textOptOut(from: string, optedOut: boolean): Promise<void> {
    const identity = identityIfAny('sms', from);
    if (!identity) return;
    const now = this.clock.now();
    const before = await this.store.textOptOut(identity.address);
    await this.store.setTextOptOut(identity.address, optedOut ? now : null);
    if ((before !== null) === optedOut) return;
    const customer = await this.store.findCustomer(identity);
    const open = customer ? await this.store.openConversationOf(customer.id) : null;
    if (!open) return;
    await this.#internalNote(
      open,
      optedOut
        ? `The customer texted STOP from ${identity.address}: no text goes to that number until they text START. Answer them another way, or wait for them.`
        : `The customer texted START from ${identity.address}: texts to that number go out again.`,
      now,
    );
  }

  /**
   * Whether what `from` sends on `channel` would be refused as a blocked customer's: for a channel to check
   * before it keeps anything of a contact (a texted picture, a chat visitor's file). An address that is not
   * one (`contact` will refuse it) is not blocked.
   */
  async isBlocked(channel: Channel, from: string): Promise<boolean> {
    const identity = identityIfAny(channel, from);
    return identity !== null && (await this.store.findCustomer(identity))?.blocked !== undefined;
  }

  /** Who set or lifted a block, as the customer's note says it: an agent's name, or "the admin". */
  async #blockerName(by: string): Promise<string> {
    return by === 'admin' ? 'the admin' : this.#agentName(by);
  }

  /** Lift a customer's block: what they send is routed again. */
  async unblockCustomer(customerId: string, by: string): Promise<Customer> {
    const now = this.clock.now();
    const before = await this.#customer(customerId);
    if (!before.blocked) return before;
    const who = await this.#blockerName(by);
    await this.store.setCustomerBlock(before.id, null);
    const customer = await this.store.addCustomerNote(before.id, {
      text: `unblocked by ${who}`,
      by,
      at: now,
    });
    this.#emit({ type: 'customer.blocked', at: now, customerId: customer.id, by, blocked: false });
    return customer;
  }

  // ================================================================ erasing

  /**
   * Erase a customer and everything Switchboard keeps about them (a person's request to be forgotten, or the
   * policy's retention): their open conversations close first as a block closes them; the files and mail kept
   * beside the store for their messages go (`onForgetFiles`), so that a process stopping after the store forgot
   * them leaves nothing behind (erasing again finds them gone); then the store erases the customer, the
   * customers merged into it, their identities, conversations, messages and promises (`Store.eraseCustomer`),
   * the files of messages that came meanwhile go, and `customer.erased` tells every process, so that what
   * consoles and Slack show of them goes too. What they send afterwards starts a new customer. `by`: an agent's
   * id, `admin` or `retention`. With `inactiveBefore` (retention), nothing is closed: a customer with a
   * conversation open, or active since then, is refused (ConflictError `open_conversation`, `active`).
   */
  async eraseCustomer(customerId: string, by: string, options: EraseOptions = {}): Promise<Erased> {
    const now = this.clock.now();
    const customer = await this.#customer(customerId);
    const closed: Conversation[] = [];
    const forgotten = new Set<string>();
    let files = 0;
    // A contact that opens a conversation between the closing and the erasing is closed in turn.
    for (let attempt = 1; ; attempt++) {
      if (options.inactiveBefore === undefined) {
        closed.push(...(await this.#closeOpen(customer.id, 'erased', now)));
      }
      for (const conv of await this.store.listConversations({ customerId: customer.id, limit: 0 })) {
        files += await this.#forget(await this.store.listMessages(conv.id), forgotten);
      }
      try {
        const erased = await this.store.eraseCustomer(customer.id, options);
        files += await this.#forget(erased.messages, forgotten);
        await this.#forgetOutCalls(erased.conversationIds, now);
        this.#emit({
          type: 'customer.erased',
          at: now,
          customerId: customer.id,
          by,
          customerIds: erased.customerIds,
          conversationIds: erased.conversationIds,
        });
        return { ...erased, closed, files };
      } catch (err) {
        const retry = err instanceof ConflictError && err.code === 'open_conversation';
        if (!retry || attempt === 3 || options.inactiveBefore !== undefined) throw err;
      }
    }
  }

  /**
   * What deletes the files and mail kept beside the store (chat uploads, texted pictures, inbound mail and its
   * attachments) for messages being erased: the server sets it once the channels are up; it answers how many
   * went. Returns the undo.
   */
  onForgetFiles(handler: (messages: readonly Message[]) => Promise<number>): () => void {
    this.#forgetFiles = handler;
    return () => {
      if (this.#forgetFiles === handler) this.#forgetFiles = null;
    };
  }

  /**
   * An agent writes to a customer first, by text or email: a new conversation, theirs at once (ownership reason
   * `outbound`, holding one unit of their capacity on the channel), with their message, sent as a reply is. The
   * customer's answer comes back to it and to them. Refused, before anything goes: `channel_off` when that
   * channel does not send here; a `to` that is not a number or address (naming `to`); a known customer without
   * one on the channel (give `to`); `blocked`; `open_conversation` when the customer has one open (write there,
   * or ask its owner); `no_capacity` when the agent has none left on the channel. The same `clientMessageId`
   * again answers the message it started (`duplicate: true`).
   */
  async writeTo(
    agentId: string,
    input: WriteToInput,
  ): Promise<{ conversation: Conversation; message: Message; duplicate: boolean }> {
    const parsed = WriteToInput.safeParse(input);
    if (!parsed.success) throw fromZod(parsed.error, 'write');
    const { channel, subject, clientMessageId } = parsed.data;
    const agent = await this.#onTeam(agentId);
    const sender = this.#senders.get(channel);
    if (!sender) {
      throw new ConflictError(
        'channel_off',
        `${channel === 'sms' ? 'texts do' : 'email does'} not go out here`,
      );
    }
    const off = sender.cannotStart?.() ?? null;
    if (off) throw new ConflictError('channel_off', off);
    const externalId = clientMessageId === undefined ? undefined : `out:${agentId}:${clientMessageId}`;
    if (externalId !== undefined) {
      const prior = await this.store.findMessageByExternalId(channel, externalId);
      if (prior) {
        return {
          conversation: await this.#conversation(prior.conversationId),
          message: prior,
          duplicate: true,
        };
      }
    }
    const text = checkText(parsed.data.text, REPLY_MAX[channel]);
    const now = this.clock.now();
    const { customer, address } = await this.#recipient(channel, parsed.data, now, sender);
    if (customer.blocked) throw new BlockedError(customer.id);
    // One open already: the agent writes there, or asks its owner (the store checks again in its step).
    const open = await this.store.openConversationOf(customer.id);
    if (open) {
      const whose =
        open.ownerId === agentId
          ? 'yours'
          : open.ownerId
            ? `${await this.#agentName(open.ownerId)}'s`
            : 'waiting for a person';
      throw new ConflictError(
        'open_conversation',
        `${customer.name ?? address} has a conversation open (${open.id}, ${whose}): write there`,
      );
    }
    const conversation = await this.store.startOwned(
      this.#newConversation(customer.id, { channel }, now),
      agentId,
      now,
    );
    this.#emit({
      type: 'conversation.assigned',
      at: now,
      conversation,
      agentId,
      reason: 'outbound',
      previousOwnerId: null,
    });
    const { message } = await this.#outbound(
      conversation,
      channel,
      { type: 'agent', id: agent.id, name: agent.name },
      text,
      externalId,
      false,
      [],
      {
        to: address,
        ...(channel === 'email' ? { subject: subject ?? firstLine(text) } : {}),
      },
    );
    return { conversation, message, duplicate: false };
  }

  /**
   * Who `to` is, as `writeTo` reads it (a ValidationError naming `to` when it is no address): an address as a mail
   * client copies it ("Zed <zed@example.org>") is its address; a number as an agent dials it, in the policy's
   * country (`phoneRegion`) unless it says its own, and one that no country dials is refused.
   */
  writeAddress(channel: 'sms' | 'email', to: string): Identity {
    return channel === 'email'
      ? identityOf(channel, /<([^<>\s]+)>\s*$/.exec(to)?.[1] ?? to, undefined, 'to')
      : { channel: 'phone', address: dialledNumber(to, this.policy.phoneRegion, 'to') };
  }

  /** Whom `writeTo` writes to, and at which address: found by it, created with it, or a known customer's. */
  async #recipient(
    channel: 'sms' | 'email',
    input: { to?: string | undefined; customerId?: string | undefined },
    now: number,
    sender: Sender,
  ): Promise<{ customer: Customer; address: string }> {
    // Refused before anything is stored (a number that texted STOP).
    const writable = async (address: string) => {
      const refused = (await sender.refusesTo?.(address)) ?? null;
      if (refused) throw new ConflictError('opted_out', refused);
    };
    if (input.customerId !== undefined) {
      const customer = await this.#customer(input.customerId);
      const known = customer.identities.find((i) => i.channel === (channel === 'sms' ? 'phone' : 'email'));
      if (!known) {
        throw new ValidationError(
          `customer ${customer.id} has no ${channel === 'sms' ? 'phone number' : 'email address'}: give one in to`,
          'to',
        );
      }
      await writable(known.address);
      return { customer, address: known.address };
    }
    const identity = this.writeAddress(channel, input.to!);
    await writable(identity.address);
    const { customer } = await this.store.resolveCustomer(identity, this.#newCustomer(identity, now));
    return { customer, address: identity.address };
  }

  /** The files of the messages not forgotten yet (`forgotten` learns them). */
  async #forget(messages: readonly Message[], forgotten: Set<string>): Promise<number> {
    const fresh = messages.filter((m) => !forgotten.has(m.id));
    for (const m of fresh) forgotten.add(m.id);
    return fresh.length > 0 && this.#forgetFiles ? this.#forgetFiles(fresh) : 0;
  }

  /**
   * Begin erasing the customers past the policy's retention (`retentionDays`): the first look is due now, then
   * one every hour (`retention` timer: one look at a time across every process). Nothing without retention.
   */
  async startRetention(): Promise<void> {
    if (this.policy.retentionDays === undefined) return;
    await this.store.schedule({ kind: 'retention', ref: 'sweep', dueAt: this.clock.now() });
  }

  /**
   * A look for customers past the retention: the least recently active first, each erased unless blocked, with
   * a conversation open or a follow-up or other promise still to come, or active since (the store checks that
   * in the erasing step itself). The hourly look (`ref` `sweep`) starts from the least recently active and sets
   * the next; a look stops after RETENTION_PER_SWEEP customers, and one goes on a second later from where it
   * stopped (`ref` `after:<lastActiveAt>:<id>`: whichever process claims it). A store still learning its
   * customers' activity learns first. `retention.swept` tells how each look went.
   */
  async #retentionDue(now: number, ref: string): Promise<void> {
    const days = this.policy.retentionDays;
    // Retention turned off since the timer was set: no more looks.
    if (days === undefined) return;
    const from = /^after:(\d+):(.+)$/.exec(ref);
    let goOn: CustomerActivity | null = null;
    // The hourly look's next; a second from now while the store learns.
    let nextSweep = now + RETENTION_SWEEP_MS;
    try {
      if (!(await this.store.learnCustomerActivity(RETENTION_LEARN_STEP))) {
        if (from) await this.store.schedule({ kind: 'retention', ref, dueAt: now + 1000 });
        else nextSweep = now + 1000;
        return;
      }
      const cutoff = now - days * DAY_MS;
      const report = {
        examined: 0,
        erased: 0,
        kept: 0,
        failed: [] as Array<{ customerId: string; error: string }>,
      };
      let after: CustomerActivity | undefined = from
        ? { lastActiveAt: Number(from[1]), id: from[2]! }
        : undefined;
      for (;;) {
        const page = await this.store.inactiveCustomers(cutoff, 100, after);
        for (const candidate of page) {
          report.examined++;
          after = candidate;
          try {
            if (await this.#expire(candidate.id, cutoff, now)) report.erased++;
            else report.kept++;
          } catch (err) {
            report.failed.push({ customerId: candidate.id, error: (err as Error).message });
          }
        }
        if (page.length < 100) break;
        if (report.examined >= RETENTION_PER_SWEEP) {
          goOn = after ?? null;
          break;
        }
      }
      this.#emit({ type: 'retention.swept', at: now, ...report });
      if (goOn) {
        await this.store.schedule({
          kind: 'retention',
          ref: `after:${goOn.lastActiveAt}:${goOn.id}`,
          dueAt: now + 1000,
        });
      }
    } finally {
      // The hourly look sets the next, whatever happened to this one.
      if (!from) await this.store.schedule({ kind: 'retention', ref: 'sweep', dueAt: nextSweep });
    }
  }

  /** Erase a customer past the retention (see `#retentionDue`): true when erased, false when kept. */
  async #expire(customerId: string, cutoff: number, now: number): Promise<boolean> {
    const customer = await this.store.getCustomer(customerId);
    if (!customer || customer.mergedInto !== undefined || customer.blocked) return false;
    // Kept while something is still to happen for them: an open conversation, a follow-up or another promise.
    for (const c of await this.store.listConversations({ customerId, limit: 0 })) {
      if (c.status === 'queued' || c.status === 'assigned' || (c.followUpAt !== null && c.followUpAt > now)) {
        return false;
      }
      if ((await this.store.listPromises(c.id)).some((p) => p.state === 'open')) return false;
    }
    try {
      await this.eraseCustomer(customerId, 'retention', { inactiveBefore: cutoff });
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      if (err instanceof ConflictError && (err.code === 'active' || err.code === 'open_conversation'))
        return false;
      throw err;
    }
  }

  async consult(agentId: string, conversationId: string, colleagueId: string): Promise<Conversation> {
    const conv = await this.#conversation(conversationId);
    if (conv.ownerId !== agentId || conv.status !== 'assigned')
      throw new NotOwnerError(agentId, conversationId, 'consult on');
    await this.#onTeam(colleagueId);
    const updated = await this.store.inviteConsultant(conversationId, colleagueId, this.clock.now());
    this.#consultEvent(updated, colleagueId, 'invited', agentId);
    return updated;
  }

  async joinConsult(agentId: string, conversationId: string): Promise<Conversation> {
    const updated = await this.store.joinConsult(conversationId, agentId, this.clock.now());
    this.#consultEvent(updated, agentId, 'joined', agentId);
    return updated;
  }

  async leaveConsult(agentId: string, conversationId: string): Promise<Conversation> {
    // Nobody leaves what they were not on: no "left" is told to the others for them.
    const conv = await this.#conversation(conversationId);
    if (!conv.consultants.includes(agentId) && !conv.invited.includes(agentId))
      throw new InvalidStateError(
        `agent ${agentId} was not invited to consult on conversation ${conversationId}`,
      );
    const updated = await this.store.leaveConsult(conversationId, agentId);
    this.#consultEvent(updated, agentId, 'left', agentId);
    return updated;
  }

  /** Warm hand-off: offered to a colleague; ownership moves only when they accept. */
  async handoff(
    agentId: string,
    conversationId: string,
    toAgentId: string,
    note: string,
  ): Promise<Conversation> {
    const conv = await this.#conversation(conversationId);
    if (conv.ownerId !== agentId || conv.status !== 'assigned')
      throw new NotOwnerError(agentId, conversationId, 'hand off');
    return this.#offerHandoff(conv, agentId, toAgentId, handoffNote(note));
  }

  /**
   * A team lead (or the admin), from the team view, offers an agent's conversation to a colleague in its owner's
   * stead (the owner is swamped, or gone for the day): the same warm hand-off as the owner's own, which the
   * colleague accepts or declines, the owner staying owner until then; the note says who offered it (`by`: their
   * name). InvalidStateError unless the conversation is assigned.
   */
  async handoffFor(
    by: string,
    conversationId: string,
    toAgentId: string,
    note: string,
  ): Promise<Conversation> {
    const conv = await this.#conversation(conversationId);
    if (conv.status !== 'assigned' || conv.ownerId === null) {
      throw new InvalidStateError(
        `conversation ${conversationId} is ${conv.status}: only one a person owns can be handed off`,
      );
    }
    const name = by.slice(0, 200);
    const said = `${handoffNote(note, 1500)} (offered by ${name}, team view)`;
    return this.#offerHandoff(conv, conv.ownerId, toAgentId, said, name);
  }

  /** `offeredBy`: the lead who offers it in the owner's stead. */
  async #offerHandoff(
    conv: Conversation,
    from: string,
    to: string,
    note: string,
    offeredBy?: string,
  ): Promise<Conversation> {
    await this.#onTeam(to);
    const now = this.clock.now();
    const updated = await this.store.offerHandoff(conv.id, from, to, note, now);
    this.#emit({
      type: 'conversation.handoff',
      at: now,
      conversation: updated,
      from,
      to,
      action: 'offered',
      note,
      ...(offeredBy !== undefined ? { offeredBy } : {}),
    });
    return updated;
  }

  async acceptHandoff(agentId: string, conversationId: string): Promise<Conversation> {
    const before = await this.#conversation(conversationId);
    const now = this.clock.now();
    const updated = await this.store.acceptHandoff(conversationId, agentId, now);
    const from = before.ownerId ?? agentId;
    this.#emit({
      type: 'conversation.handoff',
      at: now,
      conversation: updated,
      from,
      to: agentId,
      action: 'accepted',
      note: before.handoff?.note ?? '',
    });
    this.#emit({
      type: 'conversation.assigned',
      at: now,
      conversation: updated,
      agentId,
      reason: 'handoff',
      previousOwnerId: from,
    });
    // The note that came with it stays with the conversation, for its new owner to read again.
    const note = before.handoff?.note.trim();
    if (note) {
      const by = before.handoff!.from;
      await this.#internalNote(updated, `Handed on by ${await this.#agentName(by)}: ${note}`, now);
    }
    await this.#fill(from);
    // Their cover ended as they took ownership: that slot is free again.
    if (before.cover?.agentId === agentId) await this.#fill(agentId);
    return updated;
  }

  /**
   * The owner takes back a hand-off they offered, not yet answered (the colleague has no room to accept it, or
   * is not there): it stays theirs, and they may offer it to someone else.
   */
  async withdrawHandoff(agentId: string, conversationId: string): Promise<Conversation> {
    const before = await this.#conversation(conversationId);
    if (before.ownerId !== agentId)
      throw new NotOwnerError(agentId, conversationId, 'take back the hand-off of');
    const offered = before.handoff;
    if (!offered) throw new InvalidStateError(`conversation ${conversationId} has no hand-off offered`);
    const now = this.clock.now();
    const updated = await this.store.declineHandoff(conversationId, offered.to);
    this.#emit({
      type: 'conversation.handoff',
      at: now,
      conversation: updated,
      from: agentId,
      to: offered.to,
      action: 'withdrawn',
      note: offered.note,
    });
    // The place kept on the colleague is free: for who waits next.
    if (offered.channel) await this.#fill(offered.to);
    return updated;
  }

  async declineHandoff(agentId: string, conversationId: string): Promise<Conversation> {
    const before = await this.#conversation(conversationId);
    const now = this.clock.now();
    const updated = await this.store.declineHandoff(conversationId, agentId);
    this.#emit({
      type: 'conversation.handoff',
      at: now,
      conversation: updated,
      from: before.ownerId ?? agentId,
      to: agentId,
      action: 'declined',
      note: before.handoff?.note ?? '',
    });
    // The place kept for it is free: for who waits next.
    if (before.handoff?.channel) await this.#fill(agentId);
    return updated;
  }

  /** The agent answered the ringing contact. */
  async acceptOffer(agentId: string, conversationId: string): Promise<Conversation> {
    const now = this.clock.now();
    // Its offer timer goes, and its quoted waits settle, in the same step.
    const { conversation: conv, settled } = await this.store.acceptOffer(conversationId, agentId, now);
    const reason = conv.ownership.at(-1)?.reason ?? 'routed';
    await this.#assigned(conv, agentId, reason, conv.ownership.at(-1)?.from ?? null, settled, now);
    return conv;
  }

  /** The agent turned the ringing contact down: the next agent is tried, the customer keeps their place. */
  async declineOffer(agentId: string, conversationId: string, reason?: string): Promise<Conversation> {
    const now = this.clock.now();
    const away = reason ? { status: 'away' as const, reason } : null;
    const conv = await this.store.withdrawOffer(conversationId, agentId, now, away);
    if (!conv)
      throw new InvalidStateError(`conversation ${conversationId} has no open offer for agent ${agentId}`);
    this.#emit({ type: 'conversation.offer_expired', at: now, conversation: conv, agentId });
    if (away) this.#emit({ type: 'agent.status', at: now, agentId, status: 'away', reason: away.reason });
    await this.#route(conv);
    if (!away) await this.#fill(agentId);
    return (await this.store.getConversation(conversationId)) ?? conv;
  }

  /** The covered live contact ended (a call hung up): the covering agent is free again. */
  async endCover(conversationId: string): Promise<Conversation> {
    const now = this.clock.now();
    const { conversation, agentId } = await this.store.endCover(conversationId, now);
    if (agentId) {
      this.#emit({ type: 'conversation.updated', at: now, conversation });
      await this.#fill(agentId);
    }
    return conversation;
  }

  /** The customer left before a person answered (hung up while waiting). */
  async abandon(conversationId: string): Promise<Conversation> {
    return this.#abandon(conversationId, null);
  }

  /** The customer left before a person answered (`why` null), or the team closed it (see `#closeOpen`). */
  async #abandon(conversationId: string, why: TeamClose | null): Promise<Conversation> {
    const now = this.clock.now();
    const before = await this.#conversation(conversationId);
    const offeredTo = before.offer?.agentId ?? null;
    const conv = await this.store.abandon(conversationId, now, why === 'blocked' ? 'block' : undefined);
    await this.store.cancelTimer('overflow', conversationId);
    for (const p of await this.store.listPromises(conversationId)) {
      if (p.state === 'open' && p.kind === 'wait')
        await this.#settle(p, now > p.dueAt ? 'broken' : 'void', now);
      // A caller the team closed on is not called back.
      else if (why && p.state === 'open' && p.kind === 'callback') await this.#settle(p, 'void', now);
    }
    this.#emit({
      type: 'conversation.abandoned',
      at: now,
      conversation: conv,
      ...(why ? { [why]: true as const } : {}),
    });
    if (offeredTo) await this.#fill(offeredTo);
    return conv;
  }

  // ================================================================ live contacts (calls)

  /**
   * What a channel tells the sender of a contact: its outcome; for a repeated one (`duplicate`, the first
   * delivery perhaps answered with an error) that still waits in line, its place now. The store keeps one
   * acknowledgement per wait, so a wait the first delivery told is not told again.
   */
  async outcomeToTell(result: ContactResult): Promise<ContactOutcome> {
    if (result.outcome.type !== 'duplicate') return result.outcome;
    const quote = await this.quote(result.conversation.id);
    return quote ? { type: 'queued', ...quote } : result.outcome;
  }

  /** Where a conversation stands now, as `contact()` would report it: a channel re-renders a live contact from it. */
  async outcome(conversationId: string): Promise<ContactOutcome> {
    return this.#waitingOutcome(await this.#conversation(conversationId));
  }

  /**
   * The agent rung for a live contact did not answer (no answer, their phone could not be rung): they go away
   * with that reason and the next agent is tried; the customer keeps their place. `declined` (they turned the
   * ring down, their phone answering busy): an offer goes to the next agent and they stay available, not
   * offered this customer again while they wait (as a declined chat offer); an owner or a cover declining is
   * set away all the same, or the same person would be rung again at once. Works for an offer, a cover and an
   * owner rung directly (then a colleague covers and the owner stays owner). A caller left with nobody to ring
   * is told to the team (`team.unstaffed`).
   */
  async missedLiveContact(
    agentId: string,
    conversationId: string,
    reason: string,
    options: { declined?: boolean } = {},
  ): Promise<ContactOutcome> {
    const conv = await this.#conversation(conversationId);
    if (conv.offer?.agentId === agentId) {
      await this.declineOffer(agentId, conversationId, options.declined ? undefined : reason);
      return this.#afterMissed(conversationId);
    }
    const covering = conv.cover?.agentId === agentId;
    const owning = conv.ownerId === agentId && conv.cover === null;
    if (conv.status !== 'assigned' || !(covering || owning)) return this.outcome(conversationId);
    if (covering) {
      const { conversation } = await this.store.endCover(conversationId, this.clock.now());
      this.#emit({ type: 'conversation.updated', at: this.clock.now(), conversation });
    }
    await this.setAgentStatus(agentId, 'away', reason);
    const latest = await this.#conversation(conversationId);
    if (latest.status !== 'assigned') return this.#afterMissed(conversationId);
    return this.#ownedContact(latest, latest.lastChannel);
  }

  /**
   * Where a live contact stands after a missed ring; one left waiting in line with nobody rung for it is told to
   * the team: who is away and why, and who declined it.
   */
  async #afterMissed(conversationId: string): Promise<ContactOutcome> {
    const outcome = await this.outcome(conversationId);
    const conv = await this.#conversation(conversationId);
    if (conv.status !== 'queued' || conv.offer !== null) return outcome;
    const agents = (await this.store.listAgents()).filter((a) => a.leftAt === undefined);
    const away = agents
      .filter((a) => a.status === 'away')
      .map((a) => ({
        agentId: a.id,
        name: a.name,
        ...(a.statusReason !== undefined ? { reason: a.statusReason } : {}),
      }));
    const declined = agents
      .filter((a) => a.status === 'available' && conv.declinedBy.includes(a.id))
      .map((a) => ({ agentId: a.id, name: a.name }));
    // Someone available who has not turned this caller down is rung as soon as they have room: not unstaffed.
    if (agents.some((a) => a.status === 'available' && !conv.declinedBy.includes(a.id))) return outcome;
    this.#emit({ type: 'team.unstaffed', at: this.clock.now(), conversation: conv, away, declined });
    return outcome;
  }

  /**
   * The live contact ended (the caller hung up). Still waiting: abandoned, unless a call back keeps
   * their place or they also wrote on another channel; a cover ends; an owned conversation stays open
   * for its owner to resolve.
   */
  async liveContactEnded(conversationId: string): Promise<Conversation> {
    const conv = await this.#conversation(conversationId);
    const callback = await this.openCallback(conversationId);
    const live = this.policy.liveChannels;
    if (conv.status === 'queued') {
      if (callback) return conv;
      const written = [...conv.channels].reverse().find((c) => !live.includes(c));
      if (!written) return this.abandon(conversationId);
      if (!live.includes(conv.lastChannel)) return conv;
      // They also wrote to us: they wait there again, in the same place, and nobody rings for the call.
      const now = this.clock.now();
      if (conv.offer) {
        const { agentId } = conv.offer;
        const withdrawn = await this.store.withdrawOffer(conversationId, agentId, now, null);
        if (withdrawn)
          this.#emit({ type: 'conversation.offer_expired', at: now, conversation: withdrawn, agentId });
        await this.#fill(agentId);
      }
      const moved = await this.store.touchConversation(conversationId, written, now);
      if (moved.status === 'queued' && moved.offer === null) await this.#route(moved);
      return (await this.store.getConversation(conversationId)) ?? moved;
    }
    if (conv.status !== 'assigned') return conv;
    if (conv.cover && live.includes(conv.cover.channel)) return this.endCover(conversationId);
    if (conv.cover === null && conv.waitingForOwnerSince !== null && !callback) {
      // It waited for a colleague to cover the call, and they wrote to us while on hold: they wait for a colleague
      // on that channel now, in the same place.
      const last = (await this.store.listMessages(conversationId)).findLast((m) => m.direction === 'in');
      if (last && !live.includes(last.channel)) {
        const moved = await this.store.touchConversation(conversationId, last.channel, this.clock.now());
        await this.#ownedContact(moved, last.channel);
        return (await this.store.getConversation(conversationId)) ?? moved;
      }
      // Else out of the line: nobody waits for the owner now.
      const now = this.clock.now();
      await this.store.endCover(conversationId, now);
      const updated = await this.store.setWaitingForOwner(conversationId, null);
      this.#emit({ type: 'conversation.updated', at: now, conversation: updated });
      return updated;
    }
    // The owner's call ended: their after-call work time starts (`#wrapUpDue`).
    const wrapUpMs = this.policy.wrapUpSeconds * 1000;
    if (conv.cover === null && live.includes(conv.lastChannel) && wrapUpMs > 0) {
      const now = this.clock.now();
      await this.#setWrapUp(conv, { since: now, dueAt: now + wrapUpMs }, now);
    }
    return conv;
  }

  /**
   * The owner's after-call work on a conversation, while it stands and is not yet up (`dueAt`: when it is, which
   * consoles count down to); null when it is not in after-call work.
   */
  async wrapUp(conversation: Conversation): Promise<WrapUp | null> {
    if (this.policy.wrapUpSeconds === 0 || !this.policy.liveChannels.includes(conversation.lastChannel))
      return null;
    const now = this.clock.now();
    const w = standingWrapUp(conversation, await this.store.wrapUp(conversation.id, now));
    return w && w.dueAt > now ? w : null;
  }

  /**
   * Every owner's after-call work standing now, as `wrapUp` tells it for each conversation, in one store read (the
   * team view's): the kept records not yet up, of conversations on a live channel still in them.
   */
  async wrapUps(): Promise<KeptWrapUp[]> {
    if (this.policy.wrapUpSeconds === 0) return [];
    const now = this.clock.now();
    const kept = await this.store.listWrapUps(now, this.#wrapUpKeepMs);
    return kept.flatMap(({ conversation, wrapUp }) => {
      if (!this.policy.liveChannels.includes(conversation.lastChannel)) return [];
      const w = standingWrapUp(conversation, wrapUp);
      return w && w.dueAt > now ? [{ conversation, wrapUp: w }] : [];
    });
  }

  /**
   * **More time**: the owner's after-call work is up `wrapUpSeconds` from now, as when they write in it, but never
   * later than `wrapUpMaxSeconds` after the call ended (`wrap_up_limit` once there). Only its owner (`agentId`;
   * null: the admin, for its owner) may: anyone else is refused (`not_owner`); a conversation not in after-call
   * work is `not_in_wrap_up`.
   */
  async extendWrapUp(
    agentId: string | null,
    conversationId: string,
  ): Promise<{ conversation: Conversation; wrapUp: WrapUp }> {
    const conversation = await this.#conversation(conversationId);
    if (agentId !== null && (conversation.ownerId !== agentId || conversation.status !== 'assigned'))
      throw new NotOwnerError(agentId, conversationId, 'take more after-call work time on');
    const now = this.clock.now();
    const w = await this.wrapUp(conversation);
    if (!w)
      throw new ConflictError(
        'not_in_wrap_up',
        `conversation ${conversationId} is not in after-call work (its owner's call has not just ended)`,
      );
    const cap = w.since + this.#wrapUpMaxMs;
    if (w.dueAt >= cap)
      throw new ConflictError(
        'wrap_up_limit',
        `conversation ${conversationId}: after-call work lasts at most ${humanDuration(this.#wrapUpMaxMs / 1000)} after the call (policy wrapUpMaxSeconds); resolve it, or it is resolved when the time is up`,
      );
    // Asked twice at once: the time stands.
    const dueAt = Math.max(w.dueAt, Math.min(now + this.policy.wrapUpSeconds * 1000, cap));
    const wrapUp = { since: w.since, dueAt };
    if (dueAt > w.dueAt) await this.#setWrapUp(conversation, wrapUp, now);
    return { conversation, wrapUp };
  }

  /** The longest after-call work lasts after a call (policy `wrapUpMaxSeconds`, at least `wrapUpSeconds`). */
  get #wrapUpMaxMs(): number {
    return Math.max(this.policy.wrapUpMaxSeconds, this.policy.wrapUpSeconds) * 1000;
  }

  /** How long an after-call work record is kept once set: a while past its longest, for a late look. */
  get #wrapUpKeepMs(): number {
    return this.#wrapUpMaxMs + 60_000;
  }

  /** Keep the owner's after-call work (and its `wrapup` timer), and tell their consoles. */
  async #setWrapUp(conv: Conversation, wrapUp: WrapUp, now: number): Promise<void> {
    // Kept a while past its longest, for a late look (a timer fired late, a console that asks).
    await this.store.setWrapUp(conv.id, wrapUp, this.#wrapUpKeepMs);
    if (conv.ownerId === null) return;
    this.#emit({
      type: 'conversation.wrapup',
      at: now,
      conversation: conv,
      agentId: conv.ownerId,
      since: wrapUp.since,
      until: wrapUp.dueAt,
    });
  }

  /** Something was written in a conversation (a note, a reply): after-call work under way gets as long again. */
  async #wrapUpWritten(conv: Conversation, at: number): Promise<void> {
    if (!this.policy.liveChannels.includes(conv.lastChannel)) return;
    const w = await this.wrapUp(conv);
    if (!w) return;
    const dueAt = Math.min(at + this.policy.wrapUpSeconds * 1000, w.since + this.#wrapUpMaxMs);
    if (dueAt > w.dueAt) await this.#setWrapUp(conv, { since: w.since, dueAt }, at);
  }

  /**
   * A call's after-call work time is up (`wrapUpSeconds` after it ended): the conversation is resolved for its
   * owner, who has its place for the next caller, with a note saying so. Not when it moved on meanwhile (resolved,
   * covered, passed on, a text or a new call since); something written in it within that time (a note, a text)
   * gives the owner that long again from then.
   */
  async #wrapUpDue(conversationId: string, now: number): Promise<void> {
    const conv = await this.store.getConversation(conversationId);
    const wrapUpMs = this.policy.wrapUpSeconds * 1000;
    if (conv?.status !== 'assigned' || !conv.ownerId || conv.cover || wrapUpMs === 0) return;
    if (!this.policy.liveChannels.includes(conv.lastChannel)) return;
    // When the call ended (a timer set before that was kept: at the latest its time ago).
    const kept = await this.store.wrapUp(conversationId, now);
    const since = kept?.since ?? now - wrapUpMs;
    // A new call since this one ended: its own end sets the time again.
    if (conv.lastContactAt > since) return;
    // Moved later meanwhile (More time on another process): its own timer is due then.
    if (kept && kept.dueAt > now) return;
    const last = (await this.store.listMessages(conversationId)).at(-1);
    const dueAt = last ? Math.min(last.at + wrapUpMs, since + this.#wrapUpMaxMs) : 0;
    if (dueAt > now) {
      await this.#setWrapUp(conv, { since, dueAt }, now);
      return;
    }
    const owner = await this.store.getAgent(conv.ownerId);
    // As long as it lasted (More time, or notes, made it longer than the policy's time).
    const minutes = humanDuration((now - since) / 1000);
    try {
      await this.resolve(conv.ownerId, conversationId);
    } catch (err) {
      // Moved on meanwhile (resolved or passed on by a process of its own): nothing more to do.
      if (err instanceof SwitchboardError) return;
      throw err;
    }
    await this.#internalNote(
      conv,
      `Resolved for ${owner?.name ?? 'its owner'} ${minutes} after the call ended (the after-call work time): their place is free for the next caller. If the customer writes or calls again, it comes to them first.`,
      now,
    );
  }

  /** A caller asked to be called back: they keep their place in line, and the call back is a promise. */
  async requestCallback(conversationId: string): Promise<CustomerPromise> {
    const conv = await this.#conversation(conversationId);
    const waiting =
      conv.status === 'queued' ||
      (conv.status === 'assigned' && conv.cover === null && conv.waitingForOwnerSince !== null);
    if (!waiting) throw new InvalidStateError(`conversation ${conversationId} is not waiting for a person`);
    const open = await this.openCallback(conversationId);
    if (open) return open;
    const quote = await this.quote(conversationId);
    // With no wait to quote, the longest anyone waits; when nobody works now, that long after they are back.
    const seconds = quote?.etaSeconds ?? (quote?.closed?.opensInSeconds ?? 0) + this.policy.hardCapSeconds;
    return this.#makePromise(conversationId, 'callback', this.clock.now() + seconds * 1000, {
      text: 'call the customer back',
    });
  }

  /** The open call-back promise of a conversation, if any (the latest, after a late call back was revised). */
  async openCallback(conversationId: string): Promise<CustomerPromise | null> {
    const promises = await this.store.listPromises(conversationId);
    return promises.filter((p) => p.kind === 'callback' && p.state === 'open').at(-1) ?? null;
  }

  /**
   * Settle the call back: `connected` (kept when the customer was reached by its due time, else
   * broken), `failed` (broken) or `void` (the customer reached us first).
   */
  async settleCallback(
    conversationId: string,
    result: 'connected' | 'failed' | 'void',
    connectedAt = this.clock.now(),
  ): Promise<CustomerPromise | null> {
    const open = (await this.store.listPromises(conversationId)).filter(
      (p) => p.kind === 'callback' && p.state === 'open',
    );
    if (open.length === 0) return null;
    // A revised call back (the customer was told it would be late) settles with the one it revised.
    for (const p of open) {
      const state =
        result === 'void' ? 'void' : result === 'failed' || connectedAt > p.dueAt ? 'broken' : 'kept';
      await this.#settle(p, state, this.clock.now());
    }
    return this.store.getPromise(open.at(-1)!.id);
  }

  /** A message from Switchboard itself to the customer, on the conversation's last channel. */
  async notify(conversationId: string, text: string): Promise<Message> {
    const conversation = await this.#conversation(conversationId);
    return (await this.#systemMessage(conversation, conversation.lastChannel, checkText(text, 1000)))!;
  }

  /** A promise an agent makes to the customer ("I'll call you back by 3pm"). */
  async promise(
    agentId: string,
    conversationId: string,
    dueAt: number,
    text: string,
  ): Promise<CustomerPromise> {
    await this.#participant(agentId, conversationId, 'make a promise on');
    if (!Number.isFinite(dueAt) || dueAt <= this.clock.now())
      throw new ValidationError('dueAt must be in the future', 'dueAt');
    return this.#makePromise(conversationId, 'agent', dueAt, { text: checkText(text, 1000), agentId });
  }

  /** The agent kept a promise they made: kept (broken when marked after it was due). */
  async keepPromise(agentId: string, promiseId: string): Promise<CustomerPromise> {
    const p = await this.store.getPromise(promiseId);
    if (!p) throw new NotFoundError('promise', promiseId);
    if (p.kind !== 'agent')
      throw new InvalidStateError(
        `promise ${promiseId} is a ${p.kind} promise; Switchboard settles it itself`,
      );
    const conv = await this.#conversation(p.conversationId);
    if (p.agentId !== agentId && conv.ownerId !== agentId)
      throw new NotOwnerError(agentId, conv.id, 'keep a promise on');
    if (p.state !== 'open') throw new InvalidStateError(`promise ${promiseId} is already ${p.state}`);
    const now = this.clock.now();
    await this.#settle(p, now <= p.dueAt ? 'kept' : 'broken', now);
    return (await this.store.getPromise(promiseId)) ?? p;
  }

  /**
   * Tell a waiting customer, once per wait, when to expect a person (the channel words it). Stored as a
   * system message on `options.channel`, the channel the customer just wrote on (else the conversation's last
   * channel: a caller on hold who texts is still on the line, and the answer to their text is a text), and
   * emitted as `message.sent` for that channel to deliver; with `inReply`, the channel sends it itself in its
   * answer to the customer's message (an SMS webhook's TwiML), so it is stored as sent already and no channel
   * sends it again. Null when nobody is waited for, or this wait was already acknowledged on that channel (by
   * any process: the store keeps one per wait and channel).
   */
  async acknowledgeWait(
    conversationId: string,
    text: string,
    options: { inReply?: boolean; channel?: Channel } = {},
  ): Promise<Message | null> {
    const conv = await this.#conversation(conversationId);
    // A wait for the owner and the wait in line that may follow it begin at the same time (the line keeps the
    // customer's place): each is told once.
    const wait =
      conv.status === 'queued'
        ? `${waitingSince(conv)}`
        : conv.status === 'assigned' && conv.waitingForOwnerSince !== null && !conv.cover
          ? `${conv.waitingForOwnerSince}:owner`
          : null;
    if (wait === null) return null;
    // One per wait: the store keeps one message per (channel, externalId).
    const channel = options.channel ?? conv.lastChannel;
    const told = await this.#systemMessage(
      conv,
      channel,
      checkText(text, 1000),
      `wait-ack:${conversationId}:${wait}`,
      options.inReply,
    );
    // Told on another channel than before (acknowledged once per wait and channel): the wait in line it tells, a
    // fresh quote where it waits now, is the one the ledger holds from now on. Not the time of a call back owed
    // (that promise stands), and not a wait for the owner (no time is promised).
    if (told && conv.status === 'queued' && !(await this.openCallback(conv.id))) {
      const eta = (await this.quote(conv.id))?.etaSeconds ?? null;
      if (eta !== null) await this.#waitRetold(conv, eta, channel);
    }
    return told;
  }

  /**
   * A waiting customer whose conversation moved to another line (they wrote on another channel) is shown the wait
   * in it (the chat widget's status). When it is not the time their open wait promise holds, it replaces it
   * (`#waitRetold`).
   */
  async waitRetold(conversationId: string, etaSeconds: number): Promise<void> {
    const conv = await this.store.getConversation(conversationId);
    if (conv?.status !== 'queued' || (await this.openCallback(conv.id))) return;
    await this.#waitRetold(conv, etaSeconds, 'chat');
  }

  /**
   * The customer was told a new wait (`etaSeconds` from now) on `channel`: the ledger follows what they were told.
   * A time they could not tell from the one promised (within a minute, or a tenth of the wait) changes nothing;
   * else each open wait promise is superseded (void; broken if it was already due, as when the customer leaves)
   * and the new time is the open wait promise, checked and warned about as any. Nothing is promised where no wait
   * was (a follow-up touchpoint).
   */
  async #waitRetold(conv: Conversation, etaSeconds: number, channel: Channel): Promise<void> {
    const now = this.clock.now();
    const dueAt = now + etaSeconds * 1000;
    const open = (await this.store.listPromises(conv.id)).filter(
      (p) => p.state === 'open' && p.kind === 'wait',
    );
    const latest = open.reduce<CustomerPromise | null>(
      (a, p) => (a === null || p.createdAt >= a.createdAt ? p : a),
      null,
    );
    if (!latest) return;
    if (Math.abs(dueAt - latest.dueAt) <= Math.max(RETOLD_SAME_MS, etaSeconds * 100)) return;
    for (const p of open) await this.#settle(p, now > p.dueAt ? 'broken' : 'void', now);
    await this.#makePromise(conv.id, 'wait', dueAt, {
      text: `a person answers (told again by ${CHANNEL_WORDS[channel]}, in place of the wait told before)`,
    });
  }

  /**
   * A waiting customer is shown a time to wait (the chat widget's status) where none was promised in this wait:
   * none could be given when it began (nobody was working). The time shown becomes the wait promised, kept to,
   * warned about and seen by the team lead like one quoted at the start.
   */
  async waitShown(conversationId: string, etaSeconds: number): Promise<void> {
    const now = this.clock.now();
    const promises = await this.store.listPromises(conversationId);
    if (promises.some((p) => p.state === 'open' && p.kind === 'wait')) return;
    await this.#makePromise(conversationId, 'wait', now + etaSeconds * 1000, { text: 'a person answers' });
  }

  /** Where a waiting conversation stands now: position, a pessimistic wait, and whether anybody works. */
  async quote(conversationId: string): Promise<HoldQuote | null> {
    const snap = await this.store.queueSnapshot(conversationId);
    return snap ? this.#quoteOf(snap, this.clock.now()) : null;
  }

  /** Position and a pessimistic wait, from where it waits; with no wait to quote, whether anybody works. */
  async #quoteOf(snap: QueueSnapshot | null, now: number): Promise<HoldQuote> {
    const position = snap?.position ?? 1;
    const etaSeconds = snap
      ? quoteWaitSeconds({
          position: snap.position,
          servers: snap.servers,
          handled: snap.handled,
          defaultHandleMs: this.policy.defaultHandleSeconds[snap.channel] * 1000,
          percentile: this.policy.quotePercentile,
        })
      : null;
    if (etaSeconds !== null) return { position, etaSeconds };
    const closed = await this.#closed(now);
    if (closed) return { position, etaSeconds, closed };
    // Open, with nobody available (those who declined this wait are not available to it: they are not offered it
    // again): someone is away (back from a break or a missed call soon), nobody busy with it.
    const { agentsByStatus } = await this.store.stats();
    return agentsByStatus.available - (snap?.declined ?? 0) <= 0
      ? { position, etaSeconds, nobodyFree: true }
      : { position, etaSeconds };
  }

  /**
   * Whether nobody works now (see WaitQuote.closed): outside the opening hours, no agent available; within
   * them (or with none set), no agent available or away. An agent left away overnight does not make the
   * team open; one on a break in the day, or set away by a missed ring, does (they are back soon: the caller holds
   * on), though with nobody available the customer is told so (`nobodyFree`), not that everyone is busy.
   */
  async #closed(now: number): Promise<WaitQuote['closed']> {
    const hours = this.policy.hours;
    const opensIn = hours ? opensInMs(hours, now) : 0;
    const { agentsByStatus } = await this.store.stats();
    if (opensIn !== 0) {
      if (agentsByStatus.available > 0) return undefined;
      return opensIn === null || !hours
        ? { opensInSeconds: null }
        : {
            opensInSeconds: Math.ceil(opensIn / 1000),
            opensAt: { at: now + opensIn, timeZone: hours.timeZone },
          };
    }
    if (agentsByStatus.available > 0 || agentsByStatus.away > 0) return undefined;
    return { opensInSeconds: null };
  }

  // ================================================================ timers

  /**
   * Fire every timer due now. Safe to call from many processes: each timer is claimed once, with a lease: one this
   * process dies (or loses Redis) before firing is fired by another when the lease ends (TIMER_LEASE_MS).
   */
  async tick(): Promise<number> {
    let fired = 0;
    for (;;) {
      const now = this.clock.now();
      const leaseUntil = now + TIMER_LEASE_MS;
      const due = await this.store.claimDueTimers(now, 25, leaseUntil);
      if (due.length === 0) return fired;
      for (const timer of due) {
        fired++;
        try {
          await this.#fire(timer, now);
        } catch (err) {
          // Redis away: this one and the rest of the batch fire when their lease ends. A fault of its own (a
          // corrupt record): dropped, as it would fail again.
          if (!(err instanceof StoreUnavailableError))
            await this.store.finishTimers([timer], leaseUntil).catch(() => {});
          throw err;
        }
        await this.store.finishTimers([timer], leaseUntil);
      }
    }
  }

  async #fire(timer: Timer, now: number): Promise<void> {
    switch (timer.kind) {
      case 'offer':
        await this.#offerExpired(timer.ref, now);
        break;
      case 'sticky':
        await this.#stickyExpired(timer.ref, now);
        break;
      case 'overflow':
        await this.#overflowDue(timer.ref);
        break;
      case 'promise':
        await this.#promiseDue(timer.ref, now);
        break;
      case 'promise-warn':
        await this.#promiseWarn(timer.ref, now);
        break;
      case 'survey':
        await this.#surveyDue(timer.ref, now);
        break;
      case 'delivery':
        await this.#deliveryDue(timer.ref, now);
        break;
      case 'unseen':
        await this.#unseenDue(timer.ref);
        break;
      case 'console':
        await this.#consoleTimer?.(timer.ref);
        break;
      case 'retention':
        await this.#retentionDue(now, timer.ref);
        break;
      case 'wrapup':
        await this.#wrapUpDue(timer.ref, now);
        break;
    }
  }

  // ================================================================ internals

  /** Route a waiting conversation: the plan's first free candidate takes it, else it waits in line. */
  async #route(conv: Conversation, known?: Customer): Promise<ContactOutcome> {
    return (await this.#routed(conv, known)).outcome;
  }

  /**
   * Route a waiting conversation: the outcome, with the conversation as the route left it and its customer,
   * whose last owner the store set to the agent it assigned (at the route's `now`). What follows the route
   * (events, a note, a quoted wait, a reached follow-up) changes neither record.
   */
  async #routed(
    conv: Conversation,
    known?: Customer,
    offerFirstTo: string | null = null,
  ): Promise<{ outcome: ContactOutcome; conversation: Conversation; customer: Customer }> {
    const now = this.clock.now();
    const customer = known?.id === conv.customerId ? known : await this.#customer(conv.customerId);
    // `offerFirstTo` goes where the plan puts a returning customer's last owner (the plan's input only).
    const planned = offerFirstTo ? { ...customer, lastOwnerId: offerFirstTo, lastOwnerAt: now } : customer;
    const outcome = await this.store.route({
      conversationId: conv.id,
      channel: conv.lastChannel,
      ...this.#routePlan(conv, planned, now),
    });
    return this.#afterRouted(outcome, customer, now);
  }

  /** How a waiting conversation is routed now, on its last channel (`Store.route` without the conversation). */
  #routePlan(conv: Conversation, customer: Customer, now: number): NewContact['route'] {
    const offerMs = this.#rules.offerTimeoutMs[conv.lastChannel];
    return {
      candidates: this.#strategy.plan({
        conversation: conv,
        customer,
        now,
        policy: this.policy,
        cover: false,
      }),
      mode: offerMs !== undefined ? { type: 'offer', expiresAt: now + offerMs } : { type: 'assign' },
      now,
      score: this.#score(conv),
      ...this.#overflow(conv, now),
    };
  }

  /**
   * When a conversation that waits for skills overflows to the whole team (`RouteRequest.overflowAt`: the store
   * schedules it when the route leaves it waiting). Nothing when no skill is required or the time has passed.
   */
  #overflow(conv: Conversation, now: number): { overflowAt?: number } {
    const overflowAt = waitingSince(conv) + this.#rules.overflowAfterMs;
    return overflowAt > now && Object.keys(conv.skills).length > 0 ? { overflowAt } : {};
  }

  /** What follows a route (`#afterRoute`), with both records as the route left them. */
  async #afterRouted(
    outcome: RouteOutcome,
    customer: Customer,
    now: number,
  ): Promise<{ outcome: ContactOutcome; conversation: Conversation; customer: Customer }> {
    return {
      outcome: await this.#afterRoute(outcome, now),
      conversation: outcome.conversation,
      customer:
        outcome.type === 'assigned'
          ? { ...customer, lastOwnerId: outcome.agentId, lastOwnerAt: now }
          : customer,
    };
  }

  /** An owned conversation whose owner cannot take a live contact: a colleague covers. */
  async #cover(conv: Conversation): Promise<ContactOutcome> {
    const now = this.clock.now();
    const customer = await this.#customer(conv.customerId);
    const outcome = await this.store.route({
      conversationId: conv.id,
      channel: conv.lastChannel,
      candidates: this.#strategy.plan({
        conversation: conv,
        customer,
        now,
        policy: this.policy,
        cover: true,
      }),
      mode: { type: 'cover' },
      now,
      score: this.#score(conv),
      ...this.#overflow(conv, now),
    });
    return this.#afterRoute(outcome, now);
  }

  async #afterRoute(outcome: RouteOutcome, now: number): Promise<ContactOutcome> {
    const conv = outcome.conversation;
    switch (outcome.type) {
      case 'assigned':
        await this.#assigned(
          conv,
          outcome.agentId,
          outcome.reason,
          outcome.previousOwnerId,
          outcome.settled,
          now,
        );
        return { type: 'assigned', agentId: outcome.agentId };
      case 'offered':
        this.#offered(conv, outcome.agentId, now);
        return { type: 'offered', agentId: outcome.agentId, expiresAt: conv.offer?.expiresAt ?? now };
      case 'covered':
        await this.#covered(conv, outcome.agentId, outcome.settled, now);
        return { type: 'covered', agentId: outcome.agentId, ownerId: conv.ownerId ?? outcome.agentId };
      case 'queued':
        return this.#queued(outcome, now);
      case 'skipped':
        return this.#waitingOutcome(conv);
    }
  }

  async #afterClaim(outcome: ClaimOutcome, now: number): Promise<void> {
    const conv = outcome.conversation;
    if (outcome.type === 'offered') return this.#offered(conv, outcome.agentId, now);
    if (conv.cover?.agentId === outcome.agentId)
      return this.#covered(conv, outcome.agentId, outcome.settled, now);
    const previous = conv.ownership.at(-1)?.from ?? null;
    return this.#assigned(conv, outcome.agentId, outcome.reason, previous, outcome.settled, now);
  }

  async #assigned(
    conv: Conversation,
    agentId: string,
    reason: Conversation['ownership'][number]['reason'],
    previousOwnerId: string | null,
    settled: CustomerPromise[],
    now: number,
  ): Promise<void> {
    this.#answered(settled, now);
    if (conv.followUpOf) await this.#followUpReached(conv.followUpOf.promiseId, now);
    this.#emit({
      type: 'conversation.assigned',
      at: now,
      conversation: conv,
      agentId,
      reason,
      previousOwnerId,
    });
  }

  /**
   * A person answered: the store, in the same step, cancelled its waiting timers and settled each quoted
   * wait, kept or broken (see `Store`, "answering"); here they are told.
   */
  #answered(settled: CustomerPromise[], now: number): void {
    for (const promise of settled)
      this.#emit({ type: 'promise.settled', at: now, promise, waitedMs: now - promise.createdAt });
  }

  /** The store scheduled its offer timer in the same step. */
  #offered(conv: Conversation, agentId: string, now: number): void {
    this.#emit({ type: 'conversation.offered', at: now, conversation: conv, agentId });
  }

  async #covered(
    conv: Conversation,
    agentId: string,
    settled: CustomerPromise[],
    now: number,
  ): Promise<void> {
    // A person answered: a wait quoted while it waited for cover was kept or broken.
    this.#answered(settled, now);
    const [owner, coverer] = await Promise.all([
      conv.ownerId ? this.store.getAgent(conv.ownerId) : null,
      this.store.getAgent(agentId),
    ]);
    // Said when the cover is given, before they have answered anything. An owner who is available has no place
    // free for this call (on another call, or taking none).
    const channel = conv.lastChannel;
    const calls = channel === 'voice';
    const why =
      owner?.status !== 'available'
        ? `is ${owner?.status ?? 'away'}`
        : owner.capacity[channel] === 0
          ? `takes no ${calls ? 'calls' : `${channel} contacts`}`
          : `is on another ${calls ? 'call' : `${channel} contact`}`;
    await this.#internalNote(
      conv,
      `${coverer?.name ?? agentId} covers the ${conv.lastChannel} contact while ${owner?.name ?? 'the owner'} ${why}; ${owner?.name ?? 'the owner'} stays the owner.`,
      now,
    );
    this.#emit({ type: 'conversation.covered', at: now, conversation: conv, agentId });
  }

  /** Left waiting: the route read where it waits and whether a wait was quoted, and scheduled its overflow. */
  async #queued(
    { conversation: conv, snapshot, waitQuoted }: Extract<RouteOutcome, { type: 'queued' }>,
    now: number,
  ): Promise<ContactOutcome> {
    const quote = await this.#quoteOf(snapshot, now);
    // A follow-up touchpoint is ours to answer: the customer is not waiting, nothing is quoted.
    if (!waitQuoted && quote.etaSeconds !== null && !conv.followUpOf)
      await this.#makePromise(conv.id, 'wait', now + quote.etaSeconds * 1000, { text: 'a person answers' });
    this.#emit({ type: 'conversation.queued', at: now, conversation: conv, ...quote });
    return { type: 'queued', ...quote };
  }

  /** As `isStranded`, reading whether it waits in a line only when that can still matter. */
  async #stranded(conv: Conversation): Promise<boolean> {
    return isStranded(conv, false) && (await this.store.queueSnapshot(conv.id)) === null;
  }

  async #waitingOutcome(conv: Conversation): Promise<ContactOutcome> {
    if (conv.offer) return { type: 'offered', agentId: conv.offer.agentId, expiresAt: conv.offer.expiresAt };
    if (conv.status === 'assigned' && conv.ownerId) {
      if (conv.cover) return { type: 'covered', agentId: conv.cover.agentId, ownerId: conv.ownerId };
      if (conv.waitingForOwnerSince !== null) {
        const until = conv.waitingForOwnerSince + this.policy.stickyWaitSeconds[conv.lastChannel] * 1000;
        return { type: 'waiting_for_owner', ownerId: conv.ownerId, until };
      }
      return { type: 'owner', agentId: conv.ownerId };
    }
    const quote = (await this.quote(conv.id)) ?? (await this.#quoteOf(null, this.clock.now()));
    return { type: 'queued', ...quote };
  }

  /**
   * A contact on an owned conversation: its owner if there, else wait for them or cover a live one. `known`: its
   * owner's record and whether it waits in a line, as read with it.
   */
  async #ownedContact(
    conv: Conversation,
    channel: Channel,
    known?: { owner: Agent | null; inLine: boolean },
  ): Promise<ContactOutcome> {
    const ownerId = conv.ownerId!;
    const owner = known ? known.owner : await this.store.getAgent(ownerId);
    const now = this.clock.now();
    const live = this.policy.liveChannels.includes(channel);
    if (owner?.status === 'available') {
      // A call cannot wait: an owner with no place free for it (on another call, or taking none) is not rung, to
      // ring out and be set away, while a colleague could answer now; the colleague covers, as for an away owner.
      if (
        live &&
        freePlaces(owner, channel) === 0 &&
        !conv.cover &&
        (await this.#canCoverNow(conv, channel))
      ) {
        const waiting =
          conv.waitingForOwnerSince === null ? await this.store.setWaitingForOwner(conv.id, now) : conv;
        return this.#cover(waiting);
      }
      if (conv.waitingForOwnerSince !== null) await this.store.setWaitingForOwner(conv.id, null);
      return { type: 'owner', agentId: ownerId };
    }
    if (conv.cover) return { type: 'covered', agentId: conv.cover.agentId, ownerId };
    // Already in line for a colleague to cover: it waits there, on the channel the customer uses now.
    if (known ? known.inLine : await this.store.queueSnapshot(conv.id)) return this.#cover(conv);
    const stickyMs = this.policy.stickyWaitSeconds[channel] * 1000;
    if (live || stickyMs === 0) {
      const waiting =
        conv.waitingForOwnerSince === null ? await this.store.setWaitingForOwner(conv.id, now) : conv;
      return this.#cover(waiting);
    }
    if (conv.waitingForOwnerSince === null) {
      const updated = await this.store.setWaitingForOwner(conv.id, now);
      await this.store.schedule({ kind: 'sticky', ref: conv.id, dueAt: now + stickyMs });
      this.#emit({
        type: 'conversation.waiting_for_owner',
        at: now,
        conversation: updated,
        ownerId,
        until: now + stickyMs,
      });
      return { type: 'waiting_for_owner', ownerId, until: now + stickyMs };
    }
    return { type: 'waiting_for_owner', ownerId, until: conv.waitingForOwnerSince + stickyMs };
  }

  /**
   * Whether a colleague of the owner could cover `conv` on `channel` now: available, with a place free there and
   * the skills it needs, and not one who declined it. (The cover's route decides; this only keeps an owner who
   * cannot take a call from being rung when someone else could.)
   */
  async #canCoverNow(conv: Conversation, channel: Channel): Promise<boolean> {
    const need = Object.entries(conv.skills);
    return (await this.store.listAgents()).some(
      (a) =>
        a.id !== conv.ownerId &&
        a.status === 'available' &&
        a.leftAt === undefined &&
        !conv.declinedBy.includes(a.id) &&
        freePlaces(a, channel) > 0 &&
        need.every(([skill, min]) => (a.skills[skill] ?? -1) >= min),
    );
  }

  /**
   * An owner stepped away: each customer of theirs who waits for an answer (they wrote after the last reply a
   * person sent) gets the sticky wait's timer, as a customer who writes to an away owner does; still away then,
   * a colleague covers (`#stickyExpired`). A short break changes nothing else. A call under way stays where it
   * is. (An owner gone offline: all their conversations have the timer, `setAgentStatus`.)
   */
  async #customersWaitFor(ownerId: string): Promise<void> {
    const live = this.policy.liveChannels;
    const now = this.clock.now();
    for (const conv of await this.store.listConversations({ ownerId, status: 'assigned' })) {
      if (conv.waitingForOwnerSince !== null || conv.cover || live.includes(conv.lastChannel)) continue;
      if (!(await this.#customerWaits(conv))) continue;
      const dueAt = now + this.policy.stickyWaitSeconds[conv.lastChannel] * 1000;
      await this.store.schedule({ kind: 'sticky', ref: conv.id, dueAt });
    }
  }

  /** An owner is available again (the store did owner-back in `comeBack`): tell what changed, and fill the colleagues freed. */
  async #ownerBack({ updated, freed }: OwnerBack, now: number): Promise<void> {
    for (const conversation of updated) {
      this.#emit({ type: 'conversation.updated', at: now, conversation });
      // It left the line (or its cover ended) for its owner, a person who has it again: the wait quoted while
      // it waited for a colleague is answered, kept when within its time (as when a colleague takes it).
      for (const p of await this.store.listPromises(conversation.id)) {
        if (p.state === 'open' && p.kind === 'wait')
          await this.#settle(p, now <= p.dueAt ? 'kept' : 'broken', now, now - p.createdAt);
      }
    }
    // A colleague whose cover ended has room again.
    for (const colleague of freed) await this.#fill(colleague);
  }

  /** Give a free agent waiting conversations until they have no capacity or nothing they can serve waits. */
  async #fill(agentId: string): Promise<void> {
    const now = this.clock.now();
    await this.#filled(agentId, await this.store.fill(agentId, now, this.#rules), now);
  }

  /** What a fill (alone, or within resolve or owner-back) claimed for the agent, told. */
  async #filled(agentId: string, outcomes: ClaimOutcome[], now: number): Promise<void> {
    for (const outcome of outcomes) await this.#afterClaim(outcome, now);
    // The store stops at FILL_LIMIT: an agent with more capacity than that asks again.
    if (outcomes.length >= FILL_LIMIT) await this.#fill(agentId);
  }

  async #offerExpired(conversationId: string, now: number): Promise<void> {
    const conv = await this.store.getConversation(conversationId);
    const offer = conv?.offer;
    if (!conv || !offer || offer.expiresAt > now) return;
    // Only an agent still available is set away; one who went away or offline meanwhile keeps that status
    // (an offline owner set away would keep their conversations past stickyWait).
    const rung = await this.store.getAgent(offer.agentId);
    const away = rung?.status === 'available' ? { status: 'away' as const, reason: 'missed_offer' } : null;
    const withdrawn = await this.store.withdrawOffer(conversationId, offer.agentId, now, away);
    if (!withdrawn) return;
    this.#emit({
      type: 'conversation.offer_expired',
      at: now,
      conversation: withdrawn,
      agentId: offer.agentId,
    });
    if (away) this.#emit({ type: 'agent.status', at: now, agentId: offer.agentId, ...away });
    await this.#route(withdrawn);
  }

  async #stickyExpired(conversationId: string, now: number): Promise<void> {
    const conv = await this.store.getConversation(conversationId);
    if (conv?.status !== 'assigned' || !conv.ownerId) return;
    const owner = await this.store.getAgent(conv.ownerId);
    if (owner?.status === 'available') {
      if (conv.waitingForOwnerSince !== null) await this.store.setWaitingForOwner(conversationId, null);
      return;
    }
    if (!owner || owner.status === 'offline') {
      // A customer who waits for nothing (their person spoke last) stays theirs: put in line now, they would go
      // ahead of customers who wait, and be told a wait they never asked for. Should they write again before
      // their person is back, it waits stickyWait for them and then moves on.
      const waits = await this.#customerWaits(conv);
      if (owner && !waits) return;
      return this.#ownerGone(conv, now, waits);
    }
    if (conv.cover) return;
    if (conv.waitingForOwnerSince !== null) await this.#cover(conv);
    // Left unanswered when its owner stepped away (`#customersWaitFor`), and still so: a colleague covers.
    else if (await this.#customerWaits(conv))
      await this.#cover(await this.store.setWaitingForOwner(conv.id, now));
  }

  /** Whether the customer waits for a person (rules.ts `customerWaits`), reading the messages only when it matters. */
  async #customerWaits(conv: Conversation): Promise<boolean> {
    if (conv.lastChannel === 'voice' || conv.waitingForOwnerSince !== null) return true;
    return customerWaits(conv, await this.store.listMessages(conv.id));
  }

  /** Its owner is gone for good: the conversation goes to someone else, and the move is recorded. */
  async #ownerGone(conv: Conversation, now: number, waits?: boolean): Promise<void> {
    // Its place in line: since the customer began waiting (for their owner, or since they wrote last); a
    // customer who waits for nothing (a person wrote last) goes behind those who do. `waits`: as the caller
    // read it already (`#customerWaits`).
    const waiting = waits ?? (await this.#customerWaits(conv));
    const since = waiting ? waitingSince(conv) : now;
    const score = placeScore(conv, this.policy.agingStepSeconds, since);
    const requeued = await this.store.requeue(conv.id, now, score, since);
    this.#emit({ type: 'conversation.updated', at: now, conversation: requeued });
    const outcome = await this.#route(requeued);
    // A customer who waits, told their message would go to a colleague, and in line for one now: told their place
    // and the wait (the one promised), by text or email, as a customer who writes to a busy team is.
    if (waiting && outcome.type === 'queued' && !this.policy.liveChannels.includes(requeued.lastChannel))
      await this.acknowledgeWait(conv.id, waitSentence(this.policy, outcome));
    // The colleague who covered it is free again, and so is a place a hand-off offered on it kept.
    if (conv.cover) await this.#fill(conv.cover.agentId);
    if (conv.handoff?.channel) await this.#fill(conv.handoff.to);
  }

  async #overflowDue(conversationId: string): Promise<void> {
    const conv = await this.store.getConversation(conversationId);
    if (!conv) return;
    if (conv.status === 'queued' && !conv.offer) await this.#route(conv);
    // An owned conversation still in line for a colleague to cover: the whole team may cover it now.
    else if (conv.status === 'assigned' && !conv.cover && (await this.store.queueSnapshot(conv.id)))
      await this.#cover(conv);
  }

  async #promiseDue(promiseId: string, now: number): Promise<void> {
    const p = await this.store.getPromise(promiseId);
    if (p?.state !== 'open') return;
    if (p.kind === 'follow-up') return this.#followUpDue(p, now);
    this.#emit({ type: 'promise.due', at: now, promise: p });
    // Quoted waits and call backs settle when a person answers (or the customer leaves); an agent's
    // own promise not marked kept by its due time is broken.
    if (p.kind === 'agent') await this.#settle(p, 'broken', now);
  }

  /** Shortly before a promise is due: check a quoted wait or call back, remind the owner of their own. */
  async #promiseWarn(promiseId: string, now: number): Promise<void> {
    const p = await this.store.getPromise(promiseId);
    if (p?.state !== 'open') return;
    if (p.kind === 'wait' || p.kind === 'callback') return this.#atRiskCheck(p, now);
    this.#emit({ type: 'promise.reminder', at: now, promise: p });
  }

  /**
   * A quoted wait or call back still waiting as it nears its due time: when a fresh quote no longer fits,
   * the customer is told once, on their channel, with an apology and a new honest time, which is a new
   * promise. The old one stays open and settles (broken) when a person answers.
   */
  async #atRiskCheck(p: CustomerPromise, now: number): Promise<void> {
    const conv = await this.store.getConversation(p.conversationId);
    if (!conv || !isWaiting(conv)) return;
    // A caller waiting for a call back hears about that promise, not this one too.
    if (p.kind === 'wait' && (await this.openCallback(conv.id))) return;
    const quote = await this.quote(conv.id);
    const eta = quote?.etaSeconds ?? null;
    if (eta !== null && now + eta * 1000 <= p.dueAt) {
      // Not at risk now: look again halfway to the due time while there is time to tell them.
      const half = now + Math.floor((p.dueAt - now) / 2);
      if (p.dueAt - half >= 5000) await this.store.schedule({ kind: 'promise-warn', ref: p.id, dueAt: half });
      return;
    }
    // Never spam: a few notices per wait at most, then the ledger alone records what breaks; and a minute at
    // least between two (a short new time would otherwise be told late again seconds after it was said).
    const since = waitingSince(conv);
    const notices = (await this.store.listMessages(conv.id)).filter(
      (m) => m.externalId?.startsWith('at-risk:') && m.at >= since,
    );
    if (notices.length >= this.policy.atRiskMaxNotices) return;
    const lastTold = notices.at(-1)?.at;
    if (lastTold !== undefined && now - lastTold < AT_RISK_SPACING_MS) {
      const again = lastTold + AT_RISK_SPACING_MS;
      if (again < p.dueAt) await this.store.schedule({ kind: 'promise-warn', ref: p.id, dueAt: again });
      return;
    }
    const texts = this.policy.texts;
    // Each notice of this wait adds half again of margin to the fresh quote (1.5, 2.25, … times it, at most
    // AT_RISK_MARGIN_MAX). A fresh quote is memoryless (handle times taken as exponential): a customer whose
    // quote runs out while the agents' conversations run long is quoted the same time again, and told "within
    // 4 minutes" three times they stop believing any time. 4, then 6, then 9 minutes says the wait is longer
    // than we thought; a team that has become quicker meanwhile (a shorter fresh quote) still brings it down.
    const margin = Math.min(AT_RISK_MARGIN ** (notices.length + 1), AT_RISK_MARGIN_MAX);
    const revisedEta = eta === null ? null : Math.ceil(eta * margin);
    // Nobody works now: said as it is, with when they are back.
    const text =
      revisedEta === null
        ? quote?.closed
          ? waitSentence(this.policy, quote)
          : quote?.nobodyFree
            ? texts.atRiskNobodyFree
            : texts.atRiskNoEstimate
        : fillText(p.kind === 'callback' ? texts.callbackAtRisk : texts.atRisk, {
            wait: humanDuration(revisedEta, this.policy.locale),
          });
    // Once per promise: the timer fires once, and the store keeps one message per external id. A caller waiting
    // on the line hears it there, at their next round of hold (the voice channel, on `promise.at_risk`), not as
    // a text to the phone they are holding on.
    const onTheLine = p.kind === 'wait' && conv.lastChannel === 'voice';
    const message = await this.#systemMessage(conv, conv.lastChannel, text, `at-risk:${p.id}`, onTheLine);
    if (!message) return;
    const revised =
      revisedEta === null
        ? null
        : await this.#makePromise(conv.id, p.kind, now + revisedEta * 1000, {
            text: p.kind === 'callback' ? 'call the customer back (revised)' : 'a person answers (revised)',
          });
    this.#emit({ type: 'promise.at_risk', at: now, promise: p, revised, message });
  }

  /**
   * A follow-up is due: a touchpoint on the customer's last channel, offered to the owner first. Kept when
   * a person has it within the grace time; void when the customer is already talking to us.
   */
  async #followUpDue(p: CustomerPromise, now: number): Promise<void> {
    const deadline = p.dueAt + this.policy.followUpGraceSeconds * 1000;
    const origin = await this.store.getConversation(p.conversationId);
    if (!origin) return this.#settle(p, 'void', now);
    // Nobody reaches out to a blocked customer.
    if ((await this.store.getCustomer(origin.customerId))?.blocked) return this.#settle(p, 'void', now);
    // The grace time is over and the touchpoint is still open: nobody had it in time.
    if (now >= deadline && (await this.#touchpointOf(origin.customerId, p.id))) {
      return this.#settle(p, 'broken', now);
    }
    this.#emit({ type: 'promise.due', at: now, promise: p });
    const open = await this.store.openConversationOf(origin.customerId);
    if (open) {
      await this.#internalNote(
        open,
        `A follow-up was due${p.agentId ? ` from ${await this.#agentName(p.agentId)}` : ''} (on conversation ${origin.id}); the customer is already in this conversation.`,
        now,
      );
      return this.#settle(p, 'void', now);
    }
    await this.#openTouchpoint(origin, p, 'promised', now);
  }

  /** Open the follow-up touchpoint, route it (owner first), and watch its grace time. */
  async #openTouchpoint(
    origin: Conversation,
    p: CustomerPromise,
    reason: 'promised' | 'survey',
    now: number,
    survey?: { rating: number; problem: string | null },
  ): Promise<Conversation> {
    const customer = await this.#customer(origin.customerId);
    const [latest] = await this.store.listConversations({ customerId: customer.id, limit: 1 });
    const last = (latest ?? origin).lastChannel;
    // A phone call cannot be opened by us: the same number gets a text.
    const channel: Channel = last === 'voice' ? 'sms' : last;
    const conv = await this.store.createConversation({
      ...this.#newConversation(
        customer.id,
        { channel, skills: origin.skills, priority: origin.priority },
        now,
      ),
      followUpOf: {
        conversationId: origin.id,
        promiseId: p.id,
        ...(p.agentId ? { agentId: p.agentId } : {}),
      },
    });
    const by = p.agentId ? await this.#agentName(p.agentId) : null;
    // Which conversation, in words (an id means nothing to an agent): when it was resolved.
    const ago = humanDuration(Math.max(0, now - (origin.resolvedAt ?? origin.createdAt)) / 1000);
    const own = promiseOwnText(p);
    const text =
      reason === 'survey' && survey
        ? `Follow-up: the customer rated their conversation resolved ${ago} ago ${survey.rating}/5${survey.problem ? ` and said we should fix: "${survey.problem}"` : ''}. Reach out to them on ${channel}.`
        : `Follow-up${by ? ` promised by ${by}` : ''} when their conversation was resolved, ${ago} ago${own ? `: ${own}` : ''}. Reach out to the customer on ${channel}.`;
    await this.#internalNote(conv, text, now);
    this.#emit({ type: 'followup.opened', at: now, conversation: conv, promise: p, reason });
    await this.#route(conv);
    const after = await this.store.getPromise(p.id);
    if (after?.state === 'open') {
      const deadline = p.dueAt + this.policy.followUpGraceSeconds * 1000;
      if (now >= deadline) await this.#settle(after, 'broken', now);
      else await this.store.schedule({ kind: 'promise', ref: p.id, dueAt: deadline });
    }
    return (await this.store.getConversation(conv.id)) ?? conv;
  }

  /** A follow-up touchpoint reached a person: its promise is kept, or broken when past the grace time. */
  async #followUpReached(promiseId: string, now: number): Promise<void> {
    const p = await this.store.getPromise(promiseId);
    if (p?.state !== 'open') return;
    const deadline = p.dueAt + this.policy.followUpGraceSeconds * 1000;
    await this.#settle(p, now <= deadline ? 'kept' : 'broken', now);
  }

  async #touchpointOf(customerId: string, promiseId: string): Promise<Conversation | null> {
    const all = await this.store.listConversations({ customerId });
    return all.find((c) => c.followUpOf?.promiseId === promiseId) ?? null;
  }

  /** The survey after a resolution, once, on the conversation's last channel: only while it is the customer's latest. */
  async #surveyDue(conversationId: string, now: number): Promise<void> {
    const conv = await this.store.getConversation(conversationId);
    if (conv?.status !== 'resolved' || conv.survey || conv.firstAssignedAt === null) return;
    // An agent wrote to them first and they never answered: they asked nothing of us.
    if (startedByAgent(conv) && !(await this.store.listMessages(conv.id)).some((m) => m.direction === 'in'))
      return;
    const customer = await this.store.getCustomer(conv.customerId);
    // A blocked customer is asked nothing (blocked after the conversation closed).
    if (customer?.blocked) return;
    // A caller who withheld their number (and gave none since): no text can reach them.
    if (PHONE_CHANNELS.includes(conv.lastChannel) && !phoneOf(customer) && !customer?.facts.phone) return;
    // Talking to us again, or a later conversation: that one is asked about instead.
    if (await this.store.openConversationOf(conv.customerId)) return;
    const [latest] = await this.store.listConversations({ customerId: conv.customerId, limit: 1 });
    if (latest && latest.id !== conv.id) return;
    const message = await this.#systemMessage(
      conv,
      conv.lastChannel,
      this.policy.texts.survey,
      `survey:${conv.id}`,
    );
    if (!message) return;
    const updated = await this.store.recordSurvey(conv.id, { askedAt: now });
    this.#emit({ type: 'survey.sent', at: now, conversation: updated });
  }

  /**
   * The chat replies a visitor left before seeing (still `sent`, never `delivered` to a widget), by email, when
   * they gave an address and email is on: once per batch (the email's external id names the last reply in it),
   * whichever process fires it. Agents see the email in the conversation.
   */
  async #unseenDue(conversationId: string): Promise<void> {
    if (!this.sendsEmail) return;
    const conv = await this.store.getConversation(conversationId);
    if (!conv) return;
    const unseen = unseenReplies(await this.store.listMessages(conv.id));
    if (unseen.length === 0) return;
    const customer = await this.store.getCustomer(conv.customerId);
    // A blocked customer is sent nothing.
    if (!customer || customer.blocked) return;
    if (!customer.identities.some((i) => i.channel === 'email'))
      return void (await this.#unseenNotEmailed(conv, customer, unseen.length));
    const replies = unseen.map((m) => emailedLine(m.author.name ?? this.policy.texts.ourTeam, m));
    const text = [this.policy.texts.unseenChat, ...replies].join('\n\n');
    // The files go with it too, attached (where still kept), as the agent's reply by email would carry them.
    const files = unseen.flatMap((m) => m.attachments.filter((a) => a.url !== undefined));
    await this.#systemMessage(conv, 'email', text, `unseen:${unseen.at(-1)!.id}`, false, files);
  }

  /**
   * The other customers, each with a request open, whose address `customer` gave (not linked, `identify`): a chat
   * visitor's pre-chat form is filled in before the first message, when there was no conversation of theirs to
   * note (`#sameRequestMaybe`) yet. With the owner of that request, when a person has it.
   */
  async #othersWithAddress(
    customer: Customer,
  ): Promise<Array<{ other: Customer; identity: Identity; ownerId: string | null }>> {
    const found: Array<{ other: Customer; identity: Identity; ownerId: string | null }> = [];
    for (const channel of ['email', 'phone'] as const) {
      const address = customer.facts[channel]?.value;
      if (!address || customer.identities.some((i) => i.channel === channel && i.address === address))
        continue;
      const other = await this.store.findCustomer({ channel, address });
      if (!other || other.id === customer.id) continue;
      const theirs = await this.store.openConversationOf(other.id);
      if (!theirs) continue;
      const ownerId = theirs.status === 'assigned' ? theirs.ownerId : null;
      found.push({ other, identity: { channel, address }, ownerId });
    }
    return found;
  }

  /**
   * `customer` gave an address `other` has (not linked: `identify`). When both have a conversation open, two
   * agents may be answering one request: each conversation gets a note naming the other and who has it.
   */
  async #sameRequestMaybe(
    customer: Customer,
    other: Customer,
    identity: Identity,
    now: number,
  ): Promise<void> {
    const [mine, theirs] = await Promise.all([
      this.store.openConversationOf(customer.id),
      this.store.openConversationOf(other.id),
    ]);
    if (!mine || !theirs) return;
    const who = async (c: Conversation) =>
      c.status === 'assigned' && c.ownerId !== null
        ? `with ${await this.#agentName(c.ownerId)}`
        : 'waiting in line';
    const merge =
      'it may be the same request. An admin can merge the two customers if they are the same person.';
    await this.#internalNote(
      mine,
      `${identity.address} is also the address of ${knownName(other) ?? 'another customer'}, whose ${CHANNEL_WORDS[theirs.lastChannel]} conversation is open, ${await who(theirs)}: ${merge}`,
      now,
    );
    await this.#internalNote(
      theirs,
      `${knownName(customer) ?? 'A customer'} gave ${identity.address}, this customer's address, in a ${CHANNEL_WORDS[mine.lastChannel]} conversation ${await who(mine)} (not linked: it was not verified): ${merge}`,
      now,
    );
  }

  /**
   * Chat replies a visitor left before seeing that cannot go by email: the address they gave is another
   * customer's, so it is not theirs here (`identify`). The agents are told once per time away (this runs when the
   * email would have gone), so that nobody takes "sent" for "read".
   */
  async #unseenNotEmailed(conv: Conversation, customer: Customer, count: number): Promise<void> {
    const address = customer.facts.email?.value;
    if (!address) return;
    const other = await this.store.findCustomer({ channel: 'email', address });
    if (!other || other.id === customer.id) return;
    const name = knownName(customer) ?? 'The visitor';
    const replies = count === 1 ? 'a reply' : `${count} replies`;
    const otherName = knownName(other);
    await this.#internalNote(
      conv,
      `${name} left the chat before reading ${replies}, which could not be emailed: ${address} is another customer's address${otherName ? ` (${otherName})` : ''}, so it is not linked here. They see the replies if they come back to the chat; an admin can merge the two customers if they are the same person.`,
      this.clock.now(),
    );
  }

  /** Whether email goes out (a sender for the email channel is registered). */
  get sendsEmail(): boolean {
    return this.#senders.has('email');
  }

  /** The channels an agent may write to a customer first on (`writeTo`): texts and email, when they go out. */
  get writesOn(): Array<'sms' | 'email'> {
    return (['sms', 'email'] as const).filter((c) => {
      const sender = this.#senders.get(c);
      return sender !== undefined && !sender.cannotStart?.();
    });
  }

  /**
   * A customer asks for their latest conversation by email (a chat visitor's widget): every message they wrote or
   * were sent, internal notes never, with who said it and when (in the opening hours' time zone, else UTC), to
   * the address they gave, as a message of the conversation (agents see it went). Once per conversation in
   * TRANSCRIPT_WINDOW_MS: asked again meanwhile, nothing more goes (`sent: false`). Refused with `email_off`
   * when email is not on, `no_email` when they gave no address, `no_conversation` before they wrote,
   * `not_answered` before a person answered in it (the address is not verified: nobody may have what they typed
   * sent to any address from us unanswered), and for a blocked customer.
   */
  async emailTranscript(customerId: string): Promise<{ sent: boolean; to: string }> {
    if (!this.sendsEmail) {
      throw new ConflictError('email_off', 'a conversation goes by email, which is not on here');
    }
    const customer = await this.#customer(customerId);
    if (customer.blocked) throw new BlockedError(customer.id);
    const to = customer.identities.find((i) => i.channel === 'email')?.address;
    if (!to) throw new ConflictError('no_email', 'give your email address first, and it goes there');
    const [conv] = await this.store.listConversations({ customerId: customer.id, limit: 1 });
    if (!conv) throw new ConflictError('no_conversation', 'there is no conversation to send yet');
    const now = this.clock.now();
    // In the policy's language; English as it always was (day, month, year).
    const when = new Intl.DateTimeFormat(isEnglish(this.policy.locale) ? 'en-GB' : this.policy.locale, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: this.policy.hours?.timeZone ?? 'UTC',
    });
    const messages = await this.store.listMessages(conv.id);
    // Not before a person answered: else anyone could have any address sent what they typed, from us.
    if (!messages.some((m) => m.author.type === 'agent' && m.direction === 'out')) {
      throw new ConflictError(
        'not_answered',
        'the conversation goes by email once a person has answered in it',
      );
    }
    const texts = this.policy.texts;
    const lines = messages
      .filter((m) => m.direction !== 'internal' && !m.externalId?.startsWith('transcript:'))
      .map((m) => {
        const who = m.author.type === 'customer' ? texts.you : (m.author.name ?? texts.ourTeam);
        return emailedLine(`${who}, ${when.format(m.at)}`, m);
      });
    const text = [this.policy.texts.transcript, ...lines].join('\n\n');
    const window = Math.floor(now / TRANSCRIPT_WINDOW_MS);
    const sent = await this.#systemMessage(conv, 'email', text, `transcript:${conv.id}:${window}`);
    return { sent: sent !== null, to };
  }

  /**
   * A chat reply found no widget of the visitor's open (`message`: the reply): unless one shows it before
   * then, it goes by email `unseenChatEmailSeconds` later (see `#unseenDue`).
   */
  async chatUnseen(message: Message): Promise<void> {
    const seconds = this.policy.unseenChatEmailSeconds;
    // Email off: nothing would go, so no timer and no read of the conversation for it.
    if (seconds === 0 || !this.sendsEmail || message.channel !== 'chat' || message.author.type !== 'agent')
      return;
    // An earlier reply not seen either set the time already: the email goes that long after the first.
    const unseen = unseenReplies(await this.store.listMessages(message.conversationId));
    if (unseen.some((m) => m.id !== message.id)) return;
    await this.store.schedule({
      kind: 'unseen',
      ref: message.conversationId,
      dueAt: this.clock.now() + seconds * 1000,
    });
  }

  /** The visitor's widget showed these messages of a conversation (its history): its replies are delivered now. */
  async chatSeen(messages: readonly Message[]): Promise<void> {
    for (const m of messages) {
      if (m.channel === 'chat' && m.direction === 'out' && m.delivery.state === 'sent')
        await this.markDelivery(m.id, 'delivered');
    }
  }

  /** The customer's message as stored: delivered to us, keyed by the channel's id for it. */
  #inbound(
    conversationId: string,
    customer: Customer,
    c: ParsedContact,
    now: number,
    id = c.messageId ?? this.#ids.next(ID_PREFIX.message),
  ): Message {
    return {
      id,
      conversationId,
      direction: 'in',
      channel: c.channel,
      author: { type: 'customer', id: customer.id, ...(customer.name ? { name: customer.name } : {}) },
      text: c.text,
      ...(c.subject !== undefined ? { subject: c.subject } : {}),
      attachments: c.attachments,
      at: now,
      delivery: { state: 'delivered', attempts: 0, at: now },
      externalId: c.externalId,
      // A withheld number: nothing to answer to but the call itself.
      ...(c.withheld ? {} : { from: identityOf(c.channel, c.from).address }),
      ...(c.to ? { via: c.to } : {}),
    };
  }

  /**
   * The customer's next message after the survey, within the answer window, starting with a rating: stored
   * on the surveyed conversation (not routed), thanked; a low rating opens a follow-up for the owner.
   */
  async #surveyAnswer(
    customer: Customer,
    latest: Conversation,
    c: ParsedContact,
    now: number,
  ): Promise<ContactResult | null> {
    const asked = latest.survey;
    if (latest.status !== 'resolved' || !asked || asked.answeredAt !== undefined) return null;
    if (now - asked.askedAt > this.policy.surveyAnswerSeconds * 1000) return null;
    const answer = parseSurveyAnswer(c.text, this.policy.surveyLowRating);
    if (!answer) return null;
    const { message, duplicate } = await this.store.appendMessage(this.#inbound(latest.id, customer, c, now));
    if (duplicate) return this.#duplicate(message);
    this.#emit({ type: 'message.received', at: now, message });
    const conversation = await this.store.recordSurvey(latest.id, {
      askedAt: asked.askedAt,
      answeredAt: now,
      rating: answer.rating,
      ...(answer.problem !== null ? { problem: answer.problem } : {}),
    });
    this.#emit({ type: 'survey.answered', at: now, conversation, ...answer });
    await this.#systemMessage(
      conversation,
      c.channel,
      this.policy.texts.surveyThanks,
      `survey-thanks:${latest.id}`,
    );
    if (answer.rating <= this.policy.surveyLowRating && conversation.ownerId) {
      const p = await this.#makePromise(conversation.id, 'follow-up', now, {
        text: `survey rated ${answer.rating}/5`,
        agentId: conversation.ownerId,
      });
      await this.#openTouchpoint(conversation, p, 'survey', now, answer);
    }
    return {
      customer,
      conversation,
      message,
      outcome: { type: 'survey', rating: answer.rating },
      created: false,
    };
  }

  /** The customer's previous conversation was resolved within the repeat window. */
  #isRepeatOf(previous: Conversation, now: number): boolean {
    return (
      previous.status === 'resolved' &&
      previous.resolvedAt !== null &&
      now - previous.resolvedAt <= this.policy.repeatWindowSeconds * 1000
    );
  }

  /** Shown to whoever gets the conversation, and counted. */
  async #repeatContact(conv: Conversation, previous: Conversation, now: number): Promise<void> {
    const owner = previous.ownerId ? await this.#agentName(previous.ownerId) : null;
    const ago = humanDuration((now - (previous.resolvedAt ?? now)) / 1000);
    await this.#internalNote(
      conv,
      `Repeat contact: this customer's previous conversation${owner ? ` with ${owner}` : ''} was resolved ${ago} ago.`,
      now,
    );
    this.#emit({
      type: 'conversation.repeat',
      at: now,
      conversation: conv,
      repeatOf: previous.id,
      previousOwnerId: previous.ownerId,
    });
  }

  /**
   * A message from Switchboard to the customer (see `#outbound`); with `externalId`, once per it: null when
   * already stored.
   */
  async #systemMessage(
    conv: Conversation,
    channel: Channel,
    text: string,
    externalId?: string,
    sentInReply = false,
    attachments: Attachment[] = [],
  ): Promise<Message | null> {
    const { message, duplicate } = await this.#outbound(
      conv,
      channel,
      { type: 'system' },
      text,
      externalId,
      sentInReply,
      attachments,
    );
    return duplicate ? null : message;
  }

  /**
   * A message to the customer, for the channel to send (its delivery timer set when a `Sender` sends it), or
   * sent already in the channel's answer (`sentInReply`); once per `externalId` when it has one (a repeat
   * is the stored message, `duplicate`, and no news).
   */
  async #outbound(
    conv: Conversation,
    channel: Channel,
    author: Message['author'],
    text: string,
    externalId?: string,
    sentInReply = false,
    attachments: Attachment[] = [],
    extra: Pick<Message, 'to' | 'subject'> = {},
  ): Promise<{ message: Message; duplicate: boolean }> {
    const now = this.clock.now();
    const stored = await this.store.appendMessage(
      {
        id: this.#ids.next(ID_PREFIX.message),
        conversationId: conv.id,
        direction: 'out',
        channel,
        author,
        text,
        attachments,
        ...extra,
        at: now,
        delivery: sentInReply
          ? { state: 'sent', attempts: 1, at: now }
          : { state: 'pending', attempts: 0, at: now },
        ...(externalId !== undefined ? { externalId } : {}),
      },
      sentInReply ? {} : this.#deliveryTimer(channel, now),
    );
    if (!stored.duplicate) this.#emit({ type: 'message.sent', at: now, message: stored.message });
    return stored;
  }

  /** A note from Switchboard for the agents on a conversation (never sent to the customer). */
  async #internalNote(conv: Conversation, text: string, now: number): Promise<void> {
    await this.#appendNote(conv, { type: 'system' }, text, now);
  }

  /** An internal note by `author`, stored and told to the agents on the conversation. */
  async #appendNote(
    conv: Conversation,
    author: Message['author'],
    text: string,
    now: number,
  ): Promise<Message> {
    const { message } = await this.store.appendMessage({
      id: this.#ids.next(ID_PREFIX.message),
      conversationId: conv.id,
      direction: 'internal',
      channel: conv.lastChannel,
      author,
      text,
      attachments: [],
      at: now,
      delivery: { state: 'sent', attempts: 0, at: now },
    });
    this.#emit({ type: 'message.note', at: now, message });
    return message;
  }

  async #agentName(agentId: string): Promise<string> {
    return (await this.store.getAgent(agentId))?.name ?? agentId;
  }

  /** When to check a quoted wait or call back, or to remind the owner of their own promise; null: never. */
  #warnAt(kind: CustomerPromise['kind'], now: number, dueAt: number, agentId?: string): number | null {
    const left = dueAt - now;
    if (left <= 0) return null;
    if (kind === 'wait' || kind === 'callback') {
      const lead = Math.min(
        left / 2,
        Math.max(left * this.policy.atRiskLeadFraction, this.policy.atRiskMinLeadSeconds * 1000),
      );
      return Math.round(dueAt - lead);
    }
    if (agentId === undefined) return null;
    return Math.round(Math.max(dueAt - this.policy.promiseReminderSeconds * 1000, now + left / 2));
  }

  async #makePromise(
    conversationId: string,
    kind: CustomerPromise['kind'],
    dueAt: number,
    extra: { text?: string; agentId?: string },
  ): Promise<CustomerPromise> {
    const now = this.clock.now();
    const id = this.#ids.next(ID_PREFIX.promise);
    const warnAt = this.#warnAt(kind, now, dueAt, extra.agentId);
    // Together (one round trip to Redis): a timer whose promise is missing finds nothing to do.
    const [promise] = await Promise.all([
      this.store.addPromise({
        id,
        conversationId,
        kind,
        dueAt,
        createdAt: now,
        state: 'open',
        settledAt: null,
        ...extra,
      }),
      this.store.schedule({ kind: 'promise', ref: id, dueAt }),
      warnAt !== null ? this.store.schedule({ kind: 'promise-warn', ref: id, dueAt: warnAt }) : null,
    ]);
    this.#emit({ type: 'promise.made', at: now, promise });
    return promise;
  }

  /** `waitedMs`: for a quoted wait settled because a person answered, how long since the quote. */
  async #settle(
    p: CustomerPromise,
    state: 'kept' | 'broken' | 'void',
    now: number,
    waitedMs?: number,
  ): Promise<void> {
    const [settled] = await Promise.all([
      this.store.settlePromise(p.id, state, now),
      this.store.cancelTimer('promise', p.id),
      this.store.cancelTimer('promise-warn', p.id),
    ]);
    if (settled)
      this.#emit({
        type: 'promise.settled',
        at: now,
        promise: settled,
        ...(waitedMs !== undefined ? { waitedMs } : {}),
      });
  }

  /** Place in line: arrival minus the credit of its priority (aging: the longer it waits, the further ahead). */
  #score(conv: Conversation): number {
    return placeScore(conv, this.policy.agingStepSeconds);
  }

  /** The facts a contact teaches that are not `known` yet: the address it came from, the name it gave. */
  #taught(
    c: ParsedContact,
    identity: Identity,
    known: Customer['facts'],
    now: number,
  ): { facts: Record<string, Fact>; name?: string } {
    const facts: Record<string, Fact> = {};
    const source = `${c.channel}:from`;
    if (identity.channel === 'phone' && !known.phone)
      facts.phone = { value: identity.address, source, at: now };
    if (identity.channel === 'email' && !known.email)
      facts.email = { value: identity.address, source, at: now };
    const name = c.name?.trim();
    if (name && !known.name) {
      facts.name = { value: name, source, at: now };
      return { facts, name };
    }
    return { facts };
  }

  #newCustomer(
    identity: Identity,
    now: number,
    taught: { facts: Record<string, Fact>; name?: string } = { facts: {} },
  ): Customer {
    return {
      id: this.#ids.next(ID_PREFIX.customer),
      identities: [identity],
      facts: taught.facts,
      notes: [],
      createdAt: now,
      ...(taught.name ? { name: taught.name } : {}),
    };
  }

  #newConversation(
    customerId: string,
    c: Pick<ParsedContact, 'channel' | 'skills' | 'priority'>,
    now: number,
  ): Conversation {
    return {
      id: this.#ids.next(ID_PREFIX.conversation),
      customerId,
      status: 'queued',
      ownerId: null,
      slotChannel: null,
      cover: null,
      consultants: [],
      invited: [],
      channels: [c.channel],
      lastChannel: c.channel,
      skills: c.skills ?? {},
      priority: c.priority ?? 0,
      createdAt: now,
      lastContactAt: now,
      queuedAt: now,
      waitingForOwnerSince: null,
      assignedAt: null,
      firstAssignedAt: null,
      resolvedAt: null,
      followUpAt: null,
      offer: null,
      handoff: null,
      ownership: [],
      declinedBy: [],
    };
  }

  async #duplicate(message: Message): Promise<ContactResult> {
    // The first try may have stored it and stopped before telling anyone (its process died): told again.
    this.#emit({ type: 'message.received', at: this.clock.now(), message, again: true });
    let conversation = await this.#conversation(message.conversationId);
    // The first try stored the message and stopped before routing it (its process died): route it now.
    if (await this.#stranded(conversation)) {
      await this.#route(conversation);
      conversation = await this.#conversation(conversation.id);
    }
    const customer = await this.#customer(conversation.customerId);
    return { customer, conversation, message, outcome: { type: 'duplicate' }, created: false };
  }

  /** The conversation and the agent, when the agent may speak on it (owner, covering, consulting). */
  async #participant(
    agentId: string,
    conversationId: string,
    operation: string,
  ): Promise<{ conversation: Conversation; agent: Agent }> {
    const [conversation, agent] = await Promise.all([
      this.#conversation(conversationId),
      this.#agent(agentId),
    ]);
    const on =
      conversation.ownerId === agentId ||
      conversation.cover?.agentId === agentId ||
      conversation.consultants.includes(agentId) ||
      conversation.invited.includes(agentId);
    // Its owner after it ended is told so, not that it is not theirs.
    if (on && conversation.status !== 'assigned') {
      throw new InvalidStateError(
        `agent ${agentId} may not ${operation} conversation ${conversationId}: it is ${conversation.status}${conversation.status === 'queued' ? ', waiting for a person' : ''}`,
      );
    }
    if (!on) throw new NotOwnerError(agentId, conversationId, operation);
    return { conversation, agent };
  }

  #consultEvent(
    conversation: Conversation,
    agentId: string,
    action: 'invited' | 'joined' | 'left',
    by: string,
  ): void {
    this.#emit({ type: 'conversation.consult', at: this.clock.now(), conversation, agentId, action, by });
  }

  async #customer(id: string): Promise<Customer> {
    const c = await this.store.getCustomer(id);
    if (!c) throw new NotFoundError('customer', id);
    return c;
  }

  async #agent(id: string): Promise<Agent> {
    const a = await this.store.getAgent(id);
    if (!a) throw new NotFoundError('agent', id);
    return a;
  }

  async #conversation(id: string): Promise<Conversation> {
    const c = await this.store.getConversation(id);
    if (!c) throw new NotFoundError('conversation', id);
    return c;
  }

  #emit(event: DomainEvent): void {
    this.events.publish(event);
  }
}

/**
 * Waiting but neither in the line (`inLine`) nor offered: a contact whose process stopped between storing it and
 * routing it (a crash in Redis mode). The customer's retry, or their next contact, routes it.
 */
function isStranded(c: Conversation, inLine: boolean): boolean {
  return c.status === 'queued' && c.offer === null && !inLine;
}

/** Waiting for a person: in line, or an owned conversation waiting for its owner with nobody covering. */
function isWaiting(c: Conversation): boolean {
  return (
    c.status === 'queued' || (c.status === 'assigned' && c.cover === null && c.waitingForOwnerSince !== null)
  );
}

/** A channel as a note names a conversation on it ("an open phone conversation"). */
const CHANNEL_WORDS: Record<Channel, string> = { voice: 'phone', sms: 'text', chat: 'chat', email: 'email' };

/** How a customer gave up a wait on each channel (a note when they are back: `rejoinSeconds`). */
const GAVE_UP: Record<Channel, string> = {
  voice: 'they hung up on hold',
  sms: 'by text',
  chat: 'they left the chat',
  email: 'by email',
};

/** Words ending in s that count nothing ("4 thanks", "5 always helpful"). */
const NOT_PLURAL = new Set([
  'thanks',
  'was',
  'has',
  'this',
  'its',
  'yes',
  'always',
  'less',
  'perhaps',
  'plus',
  'as',
]);
/** What asks for something: a question, a request's words, an order or parcel number. */
const ASKING =
  /\?|\b(please|pls|need|want|help|where|when|why|how|can (?:i|you|we|someone)|could (?:i|you|someone)|would you|refund|replace|replacement|cancel|call me)\b|\d{3,}/i;
/** What a complaint says (after a rating above the low ones, a request). */
const COMPLAINING = /\b(still|missing|broken|wrong|never arrived|not arrived)\b/i;

/**
 * A survey answer: a rating 1-5 first ("4", "4/5", "4 stars", "2 - the hold was long", "4 the hold was long"),
 * then, optionally, the one thing to fix. Null when the text does not read as a rating: a message that only
 * starts with a number is a request, and goes to a person. Without a mark or a rating's form ("/5", "stars")
 * after the number, words that count something ("3 of the items", "4 days later", "2 items", "1 more thing")
 * or ask for something (a question, "please", "need", "can I", a refund, an order number…) make it a request.
 * After a low rating (`lowRating` or below), a complaint's words stay what to fix, and reach the owner as a
 * follow-up ("2 nobody told me", "1 item missing"); after a higher one they are a request too ("still",
 * "missing", "broken"…).
 */
export function parseSurveyAnswer(
  text: string,
  lowRating = 2,
): { rating: number; problem: string | null } | null {
  const m = /^\s*([1-5])(?![.,]?\d)(\s*(?:\/|out of)\s*5)?(\s*stars?\b)?/i.exec(text);
  if (!m) return null;
  const rest = text.slice(m[0].length);
  const rating = Number(m[1]);
  const problem = (s: string) => {
    const p = s.trim().slice(0, 1000);
    return { rating, problem: p === '' ? null : p };
  };
  if (rest.trim() === '') return problem('');
  // A mark or a new line after the rating: what follows is the one thing to fix.
  const marked = /^[ \t]*(?:[-–—.,:;!)]+|\r?\n)/.exec(rest);
  if (marked) return problem(rest.slice(marked[0].length));
  if (!/^\s/.test(rest)) return null;
  if (m[2] || m[3]) return problem(rest);
  const next = /^\s+([^\s,.;:!?]+)/.exec(rest)?.[1]?.toLowerCase() ?? '';
  const counts = next === 'of' || next === 'more' || (/^[a-z]{3,}s$/.test(next) && !NOT_PLURAL.has(next));
  const asks = ASKING.test(rest) || (rating > lowRating && COMPLAINING.test(rest));
  return counts || asks ? null : problem(rest);
}

/**
 * When a message's delivery timer comes due in a process whose sender for its channel cannot take it (none
 * here, or closing): due again then.
 */
export const DELIVERY_RECHECK_MS = 60_000;

/**
 * The longest reply an agent may send, by the channel it goes out on: an email may be long; a chat line, and a
 * text (split into parts) or a call's follow-up text, at most 4,000 characters.
 */
export const REPLY_MAX: Record<Channel, number> = { chat: 4000, sms: 4000, voice: 4000, email: 50_000 };

/**
 * Agents' chat replies no widget has shown (still `sent`), after those an earlier email of unseen replies
 * carried (its external id, `unseen:<message id>`, names the last one it carried).
 */
function unseenReplies(messages: readonly Message[]): Message[] {
  const lastCopy = messages.findLast((m) => m.channel === 'email' && m.externalId?.startsWith('unseen:'));
  const after = lastCopy ? messages.findIndex((m) => `unseen:${m.id}` === lastCopy.externalId) : -1;
  return messages
    .slice(after + 1)
    .filter(
      (m) =>
        m.channel === 'chat' &&
        m.direction === 'out' &&
        m.author.type === 'agent' &&
        m.delivery.state === 'sent',
    );
}

/** A hand-off's note, trimmed: one is needed, so that the colleague need not ask again. */
function handoffNote(note: unknown, max = 2000): string {
  if (typeof note !== 'string' || note.trim() === '') {
    throw new ValidationError('a hand-off needs a note for the colleague', 'note');
  }
  if (note.trim().length > max) throw new ValidationError(`note must be at most ${max} characters`, 'note');
  return note.trim();
}

/** A text's first line, as an email's subject (at most 78 characters). */
function firstLine(text: string): string {
  const line = text.trim().split('\n')[0]!.trim();
  return line.length <= 78 ? line : `${line.slice(0, 77)}…`;
}

/** Message text: non-empty, at most `max` characters. */
function checkText(text: unknown, max = 4000): string {
  if (typeof text !== 'string' || !showsText(text))
    throw new ValidationError('text must not be empty', 'text');
  if (text.length > max) throw new ValidationError(`text must be at most ${max} characters`, 'text');
  return text;
}
