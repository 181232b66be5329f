// Small rules both Store implementations share (the Redis scripts mirror them).
import { InvalidStateError, ValidationError } from '../../shared/errors.js';
import type { Agent, Channel, Conversation, Message, OwnershipReason, Skills } from '../../shared/model.js';
import type { NewContact } from './store.js';

/** An agent who left the team is offline for good: any other status is refused (the Redis scripts say the same). */
export function leftTheTeam(agentId: string): InvalidStateError {
  return new InvalidStateError(`agent ${agentId} left the team`);
}

/**
 * The places routing may still fill for the agent on the channel: capacity less what they hold and what is kept
 * for hand-offs offered to them (`Agent.reserved`; includes/base.lua `hasRoom` says the same). May be below 0.
 */
export function freePlaces(a: Pick<Agent, 'capacity' | 'load' | 'reserved'>, channel: Channel): number {
  return a.capacity[channel] - a.load[channel] - (a.reserved?.[channel] ?? 0);
}

/** How many recent handle times per channel feed the wait estimate. */
export const HANDLE_TIME_WINDOW = 200;

/** The most conversations one `fill` gives an agent (more than any capacity in practice). */
export const FILL_LIMIT = 64;

/** `startConversation`: the first message must belong to the conversation it starts. */
export function checkFirstMessage(conversation: Conversation, first: Message): void {
  if (first.conversationId !== conversation.id) {
    throw new ValidationError(
      `the first message belongs to ${first.conversationId}, not to ${conversation.id}`,
      'conversationId',
    );
  }
}

/** `startContact`: the conversation is the new customer's, the first message its own and the contact's. */
export function checkNewContact(contact: NewContact): void {
  checkFirstMessage(contact.conversation, contact.first);
  if (contact.conversation.customerId !== contact.customer.id) {
    throw new ValidationError(
      `the conversation is ${contact.conversation.customerId}'s, not the new customer ${contact.customer.id}'s`,
      'conversation.customerId',
    );
  }
  if (contact.first.channel !== contact.channel || contact.first.externalId !== contact.externalId) {
    throw new ValidationError(
      "the first message must carry the contact's channel and externalId",
      'first.externalId',
    );
  }
}

/** `listConversations`' order: created first, then by id. */
export function byCreation(
  x: Pick<Conversation, 'createdAt' | 'id'>,
  y: Pick<Conversation, 'createdAt' | 'id'>,
): number {
  return x.createdAt - y.createdAt || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
}

/**
 * Whether a conversation is on an agent's list (`listAgentConversations`): assigned, and they own, cover,
 * consult on, are invited to or are offered it (a hand-off).
 */
export function onAgentList(c: Conversation, agentId: string): boolean {
  return (
    c.status === 'assigned' &&
    (c.ownerId === agentId ||
      c.cover?.agentId === agentId ||
      c.consultants.includes(agentId) ||
      c.invited.includes(agentId) ||
      c.handoff?.to === agentId)
  );
}

export function isOpen(c: Conversation): boolean {
  return c.status === 'queued' || c.status === 'assigned';
}

/** Conversations wait in buckets: one per channel and set of required skills. */
export function bucketKey(channel: Channel, skills: Skills): string {
  const parts = Object.entries(skills)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, level]) => `${name}:${level}`);
  return `${channel}|${parts.join(',')}`;
}

/** When this wait started: the customer's place in line. */
export function waitingSince(c: Conversation): number {
  if (c.status === 'assigned') return c.waitingForOwnerSince ?? c.lastContactAt;
  return c.queuedAt ?? c.createdAt;
}

/**
 * Whether the customer waits for a person: on a call, waiting for their owner, or their last message came after the
 * last a person (not Switchboard) sent them. `messages`: the conversation's, oldest first.
 */
export function customerWaits(c: Conversation, messages: readonly Message[]): boolean {
  if (c.lastChannel === 'voice' || c.waitingForOwnerSince !== null) return true;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.direction === 'in') return true;
    if (m.direction === 'out' && m.author.type === 'agent') return false;
  }
  return true;
}

/**
 * Its place in line (the route score): when its wait began (`since`, by default as it stands now), less the credit
 * of its priority (aging: each priority step is `agingStepSeconds` ahead).
 */
export function placeScore(c: Conversation, agingStepSeconds: number, since = waitingSince(c)): number {
  return since - c.priority * agingStepSeconds * 1000;
}

/** Why an agent freeing up takes a waiting conversation. */
export function claimReason(c: Conversation, matchedSkills: boolean): OwnershipReason {
  if (c.status === 'queued' && c.ownerId !== null) return 'owner_offline';
  if (!matchedSkills) return 'overflow';
  // As the strategy records it: 'skills' only when skills were required.
  return Object.keys(c.skills).length > 0 ? 'skills' : 'routed';
}

/**
 * Delivery reports can arrive out of order (a carrier's callbacks, two processes marking one chat reply):
 * a message known to be delivered is never taken back to sent or pending. A failure always applies.
 */
export function wouldRegress(current: DeliveryState, next: DeliveryState): boolean {
  return current === 'delivered' && (next === 'sent' || next === 'pending');
}

/**
 * Whether `updateDelivery` applies `next` over `current`: not when it would regress (`wouldRegress`), nor when
 * it reports on attempt `ifAttemptsAtMost` (or earlier) and a later attempt has begun (a retry under way,
 * maybe in another process).
 */
export function deliveryApplies(current: Delivery, next: Delivery, ifAttemptsAtMost?: number): boolean {
  if (wouldRegress(current.state, next.state)) return false;
  return ifAttemptsAtMost === undefined || current.attempts <= ifAttemptsAtMost;
}

type Delivery = Message['delivery'];
type DeliveryState = Delivery['state'];
