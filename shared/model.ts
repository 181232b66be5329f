// The conversation model: one zod schema per record, with the inferred types.
// Every record read back from a store or received from outside is parsed with these.
import { z } from 'zod';

export const CHANNELS = ['voice', 'sms', 'chat', 'email'] as const;
export const Channel = z.enum(CHANNELS);
export type Channel = z.infer<typeof Channel>;

/** Epoch milliseconds. */
export const Millis = z.number().int().nonnegative();

export const Id = z.string().min(1).max(128);

// ---------------------------------------------------------------- customers

/**
 * Voice and SMS share one identity: the phone number. `call`: a caller who withheld their number, known by
 * that call alone (its CallSid): nobody can call or text them back, and their next call is another customer
 * until an agent merges the two.
 */
export const IdentityChannel = z.enum(['phone', 'email', 'chat', 'call']);
export type IdentityChannel = z.infer<typeof IdentityChannel>;

export const Identity = z.object({
  channel: IdentityChannel,
  /** Normalized: E.164 for phone, lower-cased for email, the visitor id for chat, the CallSid for call. */
  address: z.string().min(1).max(320),
});
export type Identity = z.infer<typeof Identity>;

export const Fact = z.object({
  value: z.string().max(2000),
  /** Where it came from: "chat:prechat", "sms:from", "agent:<id>", "email:from", … */
  source: z.string().min(1).max(200),
  at: Millis,
});
export type Fact = z.infer<typeof Fact>;

export const Note = z.object({ text: z.string().max(4000), by: z.string().max(200), at: Millis });
export type Note = z.infer<typeof Note>;

/**
 * A customer the team blocked: what they send on any of their identities is not routed, not stored and not
 * answered. `by`: the agent's id, or `admin` (the admin API).
 */
export const CustomerBlock = z.object({
  at: Millis,
  by: z.string().min(1).max(128),
  reason: z.string().max(500),
});
export type CustomerBlock = z.infer<typeof CustomerBlock>;

export const Customer = z.object({
  id: Id,
  name: z.string().max(200).optional(),
  identities: z.array(Identity),
  facts: z.record(z.string(), Fact),
  notes: z.array(Note),
  lastOwnerId: Id.optional(),
  lastOwnerAt: Millis.optional(),
  /** Set when this customer was merged into another; lookups follow it. */
  mergedInto: Id.optional(),
  blocked: CustomerBlock.optional(),
  createdAt: Millis,
});
export type Customer = z.infer<typeof Customer>;

// ---------------------------------------------------------------- contacts

/**
 * Characters nobody types, which can only mislead whoever reads a customer's text: control characters (NUL,
 * escape, …; tab and line breaks stay) and the bidirectional overrides, embeddings and isolates (U+202A–U+202E,
 * U+2066–U+2069), with which a text or a file name shows other than it is ("invoice<U+202E>fdp.exe" shows as
 * "invoiceexe.pdf"). Right-to-left writing needs none of them; the consoles show each text in its own direction.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it takes out
const UNTYPED = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u202A-\u202E\u2066-\u2069]/g;

/** `text` without the characters nobody types (UNTYPED). */
export function typedText(text: string): string {
  return text.replace(UNTYPED, '');
}

/**
 * Spaces and the characters that show nothing on their own: zero-width space, joiners and the word joiner, the
 * byte-order mark, the soft hyphen, the blank fillers (Hangul, Braille). Joiners belong inside words (Persian,
 * Indic scripts, emoji), so they are kept; a text made of nothing else is empty.
 */
const INVISIBLE = /[\s\u00AD\u115F\u1160\u180E\u200B-\u200D\u2060\u2800\u3164\uFEFF\uFFA0]/g;

/** Whether `text` shows something: more than spaces and invisible characters (INVISIBLE). */
export function showsText(text: string): boolean {
  return text.replace(INVISIBLE, '') !== '';
}

export const Attachment = z.object({
  name: z.string().max(500).transform(typedText),
  type: z.string().max(200),
  size: z.number().int().nonnegative(),
  url: z.string().max(2000).optional(),
});
export type Attachment = z.infer<typeof Attachment>;

/** One normalized inbound event from any channel. */
export const Contact = z
  .object({
    channel: Channel,
    /** Raw address as the channel gave it; normalized during customer resolution. */
    from: z.string().min(1).max(320),
    /** A call whose caller withheld their number: `from` is the call's id (CallSid), their only identity. */
    withheld: z.literal(true).optional(),
    to: z.string().max(320).optional(),
    text: z.string().max(100_000).default('').transform(typedText),
    subject: z.string().max(1000).transform(typedText).optional(),
    attachments: z.array(Attachment).default([]),
    /** CallSid, MessageSid, Message-ID, client message id: a repeat is stored once. */
    externalId: z.string().min(1).max(500),
    /** Channel thread reference (email In-Reply-To etc.). */
    threadRef: z.string().max(2000).optional(),
    /** A display name the channel knows (email From name, SMS profile, …). */
    name: z.string().max(200).transform(typedText).optional(),
    /** Skills the contact needs (from the entry point). */
    skills: z.record(z.string(), z.number().int().min(0).max(10)).optional(),
    priority: z.number().int().min(0).max(9).optional(),
    /** For channels whose contact is a live session: the conversation to attach to (chat). */
    conversationId: Id.optional(),
    /**
     * The id to store its message under, for a channel that needs it beforehand (an email's attachment links
     * name it); else one is drawn. A repeated delivery keeps the stored message's.
     */
    messageId: Id.optional(),
  })
  .refine((c) => c.withheld === undefined || c.channel === 'voice', {
    message: 'only a call can come from a withheld number',
    path: ['withheld'],
  });
export type Contact = z.input<typeof Contact>;
export type ParsedContact = z.output<typeof Contact>;

// ---------------------------------------------------------------- agents

export const AGENT_STATUSES = ['available', 'away', 'offline'] as const;
export const AgentStatus = z.enum(AGENT_STATUSES);
export type AgentStatus = z.infer<typeof AgentStatus>;

export const PerChannel = z.object({
  voice: z.number().int().min(0).max(100),
  sms: z.number().int().min(0).max(100),
  chat: z.number().int().min(0).max(100),
  email: z.number().int().min(0).max(100),
});
export type PerChannel = z.infer<typeof PerChannel>;

export const SkillName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9_.-]+$/i, 'skill names use letters, digits, _ . -');
export const Skills = z.record(SkillName, z.number().int().min(0).max(10));
export type Skills = z.infer<typeof Skills>;

export const Agent = z.object({
  id: Id,
  name: z.string().min(1).max(200),
  skills: Skills,
  capacity: PerChannel,
  status: AgentStatus,
  statusReason: z.string().max(200).optional(),
  load: PerChannel,
  /**
   * Places kept for hand-offs offered to them, per channel (absent: none). Routing gives them nothing from the
   * line, nor a new contact, in a place kept: the hand-off can be accepted as soon as a place is free.
   */
  reserved: PerChannel.optional(),
  /** When the agent last became available or last got a conversation: the pool orders by it (longest idle first). */
  idleSince: Millis,
  availableSince: Millis.optional(),
  slackUserId: z.string().max(64).optional(),
  email: z.string().max(320).optional(),
  phone: z.string().max(32).optional(),
  /** Twilio Client identity for browser calls. */
  clientIdentity: z.string().max(128).optional(),
  /**
   * How many times an admin renewed the agent's console links (absent: never). A console token signs it, so
   * renewing makes every earlier link stop working (shared/tokens.ts `agentToken`).
   */
  tokenVersion: z.number().int().min(1).optional(),
  /** A team lead: their console link also opens the team's live view (absent: not one). */
  lead: z.boolean().optional(),
  /**
   * When they left the team (absent: on it). Kept for the names in the conversations they worked on; offline for
   * good, on no list, given nothing, and no console link of theirs opens.
   */
  leftAt: Millis.optional(),
  createdAt: Millis,
});
export type Agent = z.infer<typeof Agent>;

// ---------------------------------------------------------------- conversations

export const CONVERSATION_STATUSES = ['queued', 'assigned', 'resolved', 'abandoned'] as const;
export const ConversationStatus = z.enum(CONVERSATION_STATUSES);
export type ConversationStatus = z.infer<typeof ConversationStatus>;

export const OWNERSHIP_REASONS = [
  'routed', // first assignment by the router
  'owner', // returned to the owner of record
  'last_owner', // a returning customer's previous owner
  'skills',
  'overflow',
  'handoff', // warm hand-off accepted
  'owner_offline', // owner gone for good after stickyWait
  'merge',
  'outbound', // the agent wrote to the customer first (Router `writeTo`)
] as const;
export const OwnershipReason = z.enum(OWNERSHIP_REASONS);
export type OwnershipReason = z.infer<typeof OwnershipReason>;

export const OwnershipChange = z.object({
  from: Id.nullable(),
  to: Id,
  reason: OwnershipReason,
  at: Millis,
});
export type OwnershipChange = z.infer<typeof OwnershipChange>;

export const Offer = z.object({
  agentId: Id,
  /** The channel whose capacity the offer holds. */
  channel: Channel,
  at: Millis,
  expiresAt: Millis,
  reason: OwnershipReason,
});
export type Offer = z.infer<typeof Offer>;

export const Handoff = z.object({
  from: Id,
  to: Id,
  note: z.string().max(2000),
  at: Millis,
  /** The channel on which a place is kept for it on the colleague (`Agent.reserved`); absent: none is. */
  channel: Channel.optional(),
});
export type Handoff = z.infer<typeof Handoff>;

export const Cover = z.object({
  agentId: Id,
  channel: Channel,
  since: Millis,
});
export type Cover = z.infer<typeof Cover>;

/** The short survey after resolution: asked once, answered at most once. */
export const Survey = z.object({
  askedAt: Millis,
  answeredAt: Millis.optional(),
  /** 1 (bad) to 5 (good). */
  rating: z.number().int().min(1).max(5).optional(),
  /** "What's one thing we should fix?" in the customer's words. */
  problem: z.string().max(1000).optional(),
});
export type Survey = z.infer<typeof Survey>;

/** A follow-up touchpoint: what it follows up and whose promise it keeps. */
export const FollowUpOf = z.object({
  conversationId: Id,
  promiseId: Id,
  /** The owner who promised it: offered to them first. */
  agentId: Id.optional(),
});
export type FollowUpOf = z.infer<typeof FollowUpOf>;

export const Conversation = z.object({
  id: Id,
  customerId: Id,
  status: ConversationStatus,
  ownerId: Id.nullable(),
  /** The channel on which the owner's capacity is held (the one it was assigned on). */
  slotChannel: Channel.nullable(),
  /** A colleague answering for an owner who cannot (a live call while the owner is away). */
  cover: Cover.nullable(),
  consultants: z.array(Id),
  /** Colleagues invited to consult who have not joined yet. */
  invited: z.array(Id),
  /**
   * When each colleague in `consultants` joined, and each in `invited` was invited, by agent id (a colleague
   * covering has `cover.since`). Absent when there are none, and in records stored before it was kept.
   */
  joinedAt: z.record(Id, Millis).optional(),
  channels: z.array(Channel),
  lastChannel: Channel,
  skills: Skills,
  priority: z.number().int().min(0).max(9),
  createdAt: Millis,
  /** When the customer last reached out on it. */
  lastContactAt: Millis,
  /** When it last started waiting for a person (its place in the line). */
  queuedAt: Millis.nullable(),
  /** When a contact on an owned conversation started waiting for its owner. */
  waitingForOwnerSince: Millis.nullable(),
  assignedAt: Millis.nullable(),
  firstAssignedAt: Millis.nullable(),
  resolvedAt: Millis.nullable(),
  followUpAt: Millis.nullable(),
  offer: Offer.nullable(),
  handoff: Handoff.nullable(),
  ownership: z.array(OwnershipChange),
  /** Agents who missed an offer for this wait: not offered again until it is answered. */
  declinedBy: z.array(Id),
  /** A repeat contact: the customer's previous conversation, resolved within the repeat window. */
  repeatOf: Id.optional(),
  /** Set on a follow-up touchpoint Switchboard opened (not the customer). */
  followUpOf: FollowUpOf.optional(),
  /** The survey sent after resolution, and its answer. */
  survey: Survey.optional(),
  /** An abandoned wait the team closed by blocking the customer (they did not give up). */
  closedBy: z.literal('block').optional(),
});
export type Conversation = z.infer<typeof Conversation>;

// ---------------------------------------------------------------- messages

export const MessageDirection = z.enum(['in', 'out', 'internal']);
export type MessageDirection = z.infer<typeof MessageDirection>;

export const Author = z.object({
  type: z.enum(['customer', 'agent', 'system']),
  id: Id.optional(),
  name: z.string().max(200).optional(),
});
export type Author = z.infer<typeof Author>;

export const Delivery = z.object({
  state: z.enum(['pending', 'sent', 'delivered', 'failed']),
  reason: z.string().max(1000).optional(),
  attempts: z.number().int().nonnegative().default(0),
  at: Millis,
});
export type Delivery = z.infer<typeof Delivery>;

export const Message = z.object({
  id: Id,
  conversationId: Id,
  direction: MessageDirection,
  channel: Channel,
  author: Author,
  text: z.string().max(100_000),
  subject: z.string().max(1000).optional(),
  attachments: z.array(Attachment).default([]),
  at: Millis,
  delivery: Delivery,
  externalId: z.string().max(500).optional(),
  /**
   * A customer's message: the address it came from, normalized (E.164 number, lower-cased email address,
   * visitor id). A reply on its channel goes back there, though the customer may have other addresses.
   */
  from: z.string().max(320).optional(),
  /**
   * An agent's message starting a conversation (Router `writeTo`): the address it goes to, normalized. Until the
   * customer answers from somewhere, replies on its channel go there too.
   */
  to: z.string().max(320).optional(),
  /**
   * A customer's message: the address of ours it reached, as the channel gave it (the Twilio number texted or
   * called, the address written to). A text answering it goes out from that number.
   */
  via: z.string().max(320).optional(),
});
export type Message = z.infer<typeof Message>;

// ---------------------------------------------------------------- promises

export const PromiseKind = z.enum(['wait', 'callback', 'follow-up', 'agent']);
export type PromiseKind = z.infer<typeof PromiseKind>;
/** `void`: no longer applies (the customer left before it was due). */
export const PromiseState = z.enum(['open', 'kept', 'broken', 'void']);
export type PromiseState = z.infer<typeof PromiseState>;

export const CustomerPromise = z.object({
  id: Id,
  conversationId: Id,
  kind: PromiseKind,
  dueAt: Millis,
  createdAt: Millis,
  text: z.string().max(1000).optional(),
  /** For agent promises: who made it. */
  agentId: Id.optional(),
  state: PromiseState,
  settledAt: Millis.nullable(),
});
export type CustomerPromise = z.infer<typeof CustomerPromise>;

/** The text of the follow-up promise a resolution sets (Router `resolve`): it says nothing of its own. */
export const FOLLOW_UP_TEXT = 'follow up';

/** A promise's own words: its text, but none for the follow-up a resolution set (FOLLOW_UP_TEXT). */
export function promiseOwnText(p: Pick<CustomerPromise, 'kind' | 'text'>): string | undefined {
  return p.kind === 'follow-up' && p.text === FOLLOW_UP_TEXT ? undefined : p.text;
}

// ---------------------------------------------------------------- helpers

/** The customer's name when known: given, or told as a fact (null otherwise). */
export function knownName(customer: Pick<Customer, 'name' | 'facts'> | null): string | null {
  return customer?.name || customer?.facts.name?.value || null;
}

export const zeroPerChannel = (): PerChannel => ({ voice: 0, sms: 0, chat: 0, email: 0 });

/** Whether an agent started the conversation, writing to the customer first (nobody waited for a person). */
export function startedByAgent(c: Pick<Conversation, 'ownership'>): boolean {
  return c.ownership[0]?.reason === 'outbound';
}

/** True when every required skill is met at its minimum level. */
export function meetsSkills(agentSkills: Skills, required: Skills): boolean {
  // Own keys only, as Object.entries reads them, without building the pairs.
  for (const name in required) {
    if (Object.hasOwn(required, name) && (agentSkills[name] ?? -1) < required[name]!) return false;
  }
  return true;
}

/** One of the team's saved replies: picked by name in the consoles, its text changed before it is sent. */
/** What a saved reply's text may name, filled in when an agent picks it (`fillSavedReply`). */
export const SAVED_REPLY_PLACEHOLDERS = ['name', 'agent'] as const;
const PLACEHOLDER = /\{(\w+)\}/g;

export const SavedReply = z.object({
  name: z.string().trim().min(1).max(60, 'must be at most 60 characters'),
  text: z.string().trim().min(1).max(4000, 'must be at most 4000 characters'),
  /** Offered only to agents with one of these skills (at any level): a team's own replies. Absent: to everyone. */
  skills: z.array(SkillName).min(1).max(20).optional(),
});
export type SavedReply = z.output<typeof SavedReply>;

/** The saved replies offered to an agent: those for everyone, and those for a skill of theirs (console.js mirrors it). */
export function savedRepliesFor(replies: readonly SavedReply[], agent: { skills: Skills }): SavedReply[] {
  return replies.filter((r) => !r.skills || r.skills.some((skill) => agent.skills[skill] !== undefined));
}

/** A first name: the first word of a name, or null when there is none. */
function firstName(name: string | null | undefined): string | null {
  return name?.trim().split(/\s+/)[0] || null;
}

/**
 * A saved reply's text as the agent sees it when they pick it: `{name}` the customer's first name ("there" when
 * not known: "Hi {name}," reads "Hi there,"), `{agent}` the agent's first name. (channels/web/console.js fills
 * them the same way.)
 */
export function fillSavedReply(text: string, who: { customer: string | null; agent: string | null }): string {
  return text.replace(PLACEHOLDER, (whole, word: string) =>
    word === 'name'
      ? (firstName(who.customer) ?? 'there')
      : word === 'agent'
        ? (firstName(who.agent) ?? whole)
        : whole,
  );
}

/** A list of saved replies: at most 100 (what a Slack select holds), names unique in any case. */
const savedReplyList = (item: typeof SavedReply) =>
  z
    .array(item)
    .max(100, 'at most 100 saved replies')
    .superRefine((replies, ctx) => {
      const names = new Set<string>();
      replies.forEach((r, i) => {
        const name = r.name.toLowerCase();
        if (names.has(name))
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `${r.name} names another saved reply already`,
          });
        names.add(name);
      });
    });

/** The team's saved replies as stored: at most 100, names unique in any case. */
export const SavedReplies = savedReplyList(SavedReply);

/**
 * Saved replies as the team sets them (the policy, `PUT /api/saved-replies`): as `SavedReplies`, with no field
 * it does not know (a typo is refused by name, not dropped), and their text names no placeholder but {name} and
 * {agent} (a typo is refused by name). Lists stored before placeholders
 * existed are read with `SavedReplies` alone: an unknown `{word}` in them stays as it is written.
 */
export const NewSavedReplies = savedReplyList(SavedReply.strict()).superRefine((replies, ctx) => {
  replies.forEach((r, i) => {
    for (const [, word] of r.text.matchAll(PLACEHOLDER)) {
      if (!(SAVED_REPLY_PLACEHOLDERS as readonly string[]).includes(word!))
        ctx.addIssue({
          code: 'custom',
          path: [i, 'text'],
          message: `{${word}} is not a placeholder: use {name} (the customer's first name) or {agent} (yours)`,
        });
    }
  });
});
