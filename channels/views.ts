// What a console shows for one conversation: the conversation, the context card
// (who the customer is, what is already known, earlier conversations, open
// promises) and the messages. Shared by the web console and the Slack console.
import type { Store } from '../routing/store/store.js';
import type { Conversation, Customer, CustomerPromise, Message } from '../shared/model.js';

export type Role = 'owner' | 'cover' | 'consultant' | 'invited' | 'none';

export interface ConversationView {
  conversation: Conversation;
  customer: Pick<Customer, 'id' | 'name' | 'facts' | 'identities' | 'notes'>;
  messages: Message[];
  history: Array<{
    id: string;
    status: Conversation['status'];
    createdAt: number;
    resolvedAt: number | null;
    ownerName?: string;
  }>;
  promises: CustomerPromise[];
  role: Role;
  ownerName?: string;
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

export async function conversationView(
  store: Store,
  conversation: Conversation,
  agentId: string,
): Promise<ConversationView> {
  const [customer, messages, promises, earlier] = await Promise.all([
    store.getCustomer(conversation.customerId),
    store.listMessages(conversation.id),
    store.listPromises(conversation.id),
    store.listConversations({ customerId: conversation.customerId, limit: 20 }),
  ]);
  const names = new Map<string, string>();
  const nameOf = async (id: string | null): Promise<string | undefined> => {
    if (!id) return undefined;
    if (!names.has(id)) names.set(id, (await store.getAgent(id))?.name ?? id);
    return names.get(id);
  };
  const history: ConversationView['history'] = [];
  for (const c of earlier) {
    if (c.id === conversation.id) continue;
    const ownerName = await nameOf(c.ownerId);
    history.push({
      id: c.id,
      status: c.status,
      createdAt: c.createdAt,
      resolvedAt: c.resolvedAt,
      ...(ownerName ? { ownerName } : {}),
    });
  }
  const ownerName = await nameOf(conversation.ownerId);
  return {
    conversation,
    customer: customer
      ? {
          id: customer.id,
          name: customer.name,
          facts: customer.facts,
          identities: customer.identities,
          notes: customer.notes,
        }
      : { id: conversation.customerId, facts: {}, identities: [], notes: [] },
    messages,
    history: history.reverse(),
    promises: promises.filter((p) => p.state === 'open'),
    role: roleOf(conversation, agentId),
    ...(ownerName ? { ownerName } : {}),
  };
}
