// What a console shows for one conversation: the conversation, the context card
// (who the customer is, what is already known, earlier conversations, open
// promises) and the messages. Shared by the web console and the Slack console.
import type { Store, WrapUp } from '../routing/store/store.js';
import { NotOwnerError } from '../shared/errors.js';
import type { Channel, Conversation, Customer, CustomerPromise, Message } from '../shared/model.js';

export type Role = 'owner' | 'cover' | 'consultant' | 'invited' | 'none';

export interface ConversationView {
  conversation: Conversation;
  customer: Pick<Customer, 'id' | 'name' | 'facts' | 'identities' | 'notes' | 'blocked'>;
  messages: Message[];
  history: ConversationSummary[];
  promises: CustomerPromise[];
  role: Role;
  ownerName?: string;
  /** The owner's after-call work (their call ended): when it is up, in ms; null when it is not in after-call work. */
  wrapUpUntil: number | null;
}

/** An earlier conversation of the customer, as the context card lists it. */
export interface ConversationSummary {
  id: string;
  status: Conversation['status'];
  lastChannel: Channel;
  createdAt: number;
  resolvedAt: number | null;
  ownerName?: string;
}

/** An earlier conversation to read: what the card lists of it, and everything said in it. */
export interface Transcript {
  conversation: ConversationSummary;
  customer: ConversationView['customer'];
  messages: Message[];
}

export function roleOf(conversation: Conversation, agentId: string): Role {
  if (conversation.ownerId === agentId && conversation.status === 'assigned') return 'owner';
  if (conversation.cover?.agentId === agentId) return 'cover';
  if (conversation.consultants.includes(agentId)) return 'consultant';
  if (conversation.invited.includes(agentId)) return 'invited';
  if (conversation.handoff?.to === agentId) return 'invited';
  return 'none';
}

/** Agents who should see events about this conversation. */
export function participants(conversation: Conversation): string[] {
  const ids = new Set<string>();
  if (conversation.ownerId) ids.add(conversation.ownerId);
  if (conversation.cover) ids.add(conversation.cover.agentId);
  for (const id of conversation.consultants) ids.add(id);
  for (const id of conversation.invited) ids.add(id);
  if (conversation.handoff) ids.add(conversation.handoff.to);
  return [...ids];
}

/**
 * The view of `conversation` for `agentId`. `wrapUpOf`: the owner's after-call work on it (Router `wrapUp`);
 * without, `wrapUpUntil` is null.
 */
export async function conversationView(
  store: Store,
  conversation: Conversation,
  agentId: string,
  wrapUpOf?: (conversation: Conversation) => Promise<WrapUp | null>,
): Promise<ConversationView> {
  const [customer, messages, promises, earlier, wrapUp] = await Promise.all([
    store.getCustomer(conversation.customerId),
    store.listMessages(conversation.id),
    store.listPromises(conversation.id),
    store.listConversations({ customerId: conversation.customerId, limit: 20 }),
    wrapUpOf ? wrapUpOf(conversation) : null,
  ]);
  const nameOf = agentNames(store);
  const history: ConversationSummary[] = [];
  for (const c of earlier) {
    if (c.id !== conversation.id) history.push(await summary(c, nameOf));
  }
  const ownerName = await nameOf(conversation.ownerId);
  return {
    conversation,
    customer: customerCard(customer, conversation.customerId),
    messages,
    history: history.reverse(),
    promises: promises.filter((p) => p.state === 'open'),
    role: roleOf(conversation, agentId),
    ...(ownerName ? { ownerName } : {}),
    wrapUpUntil: wrapUp?.dueAt ?? null,
  };
}

/**
 * One of the customer's conversations, to read in full ("never asked twice": what they told us before is
 * there to read). An agent may read a conversation they are on or were on (its owner), and any conversation
 * of a customer they serve now (on one of that customer's open conversations); anyone else gets not_owner.
 */
export async function readConversation(
  store: Store,
  agentId: string,
  conversationId: string,
): Promise<Transcript> {
  const refused = () => new NotOwnerError(agentId, conversationId, 'read');
  const conversation = await store.getConversation(conversationId);
  if (!conversation) throw refused();
  if (!participants(conversation).includes(agentId)) {
    const serving = await store.listAgentConversations(agentId);
    if (!serving.some((c) => c.customerId === conversation.customerId)) throw refused();
  }
  const [messages, customer] = await Promise.all([
    store.listMessages(conversation.id),
    store.getCustomer(conversation.customerId),
  ]);
  return {
    conversation: await summary(conversation, agentNames(store)),
    customer: customerCard(customer, conversation.customerId),
    messages,
  };
}

/** Agent names by id, each read once (an unknown id stands for itself). */
function agentNames(store: Store): (id: string | null) => Promise<string | undefined> {
  const names = new Map<string, string>();
  return async (id) => {
    if (!id) return undefined;
    if (!names.has(id)) names.set(id, (await store.getAgent(id))?.name ?? id);
    return names.get(id);
  };
}

async function summary(
  c: Conversation,
  nameOf: (id: string | null) => Promise<string | undefined>,
): Promise<ConversationSummary> {
  const ownerName = await nameOf(c.ownerId);
  return {
    id: c.id,
    status: c.status,
    lastChannel: c.lastChannel,
    createdAt: c.createdAt,
    resolvedAt: c.resolvedAt,
    ...(ownerName ? { ownerName } : {}),
  };
}

/** Where a fact came from, in words for an agent: "the chat form", "their text", "their email", "agent Ana". */
export function factSource(source: string): string {
  const words: Record<string, string> = {
    'chat:prechat': 'the chat form',
    'voice:from': 'their call',
    'sms:from': 'their text',
    'email:from': 'their email',
    'chat:from': 'the chat',
  };
  return words[source] ?? source;
}

/**
 * What a card shows of a customer (`id` when the record is gone). A caller who withheld their number is known by
 * their call's id, which means nothing to an agent: it is shown as `withheld`.
 */
export function customerCard(customer: Customer | null, id: string): ConversationView['customer'] {
  return customer
    ? {
        id: customer.id,
        name: customer.name,
        facts: customer.facts,
        identities: customer.identities.map((i) =>
          i.channel === 'call' ? { channel: 'call' as const, address: 'withheld' } : i,
        ),
        notes: customer.notes,
        ...(customer.blocked ? { blocked: customer.blocked } : {}),
      }
    : { id, facts: {}, identities: [], notes: [] };
}
