// The routing strategy: a pure function from a snapshot to an ordered plan of
// candidates. The Store commits the first candidate that can take it.
import type { Conversation, Customer } from '../shared/model.js';
import type { RoutingPolicy } from './policy.js';
import { waitingSince } from './store/rules.js';
import type { Candidate } from './store/store.js';

export interface PlanInput {
  conversation: Conversation;
  customer: Customer;
  now: number;
  policy: RoutingPolicy;
  /** Covering for an owner who cannot answer: the owner is not a candidate. */
  cover: boolean;
}

export interface RoutingStrategy {
  plan(input: PlanInput): Candidate[];
}

/**
 * DESIGN.md's order: (the owner is handled before routing) → the owner who
 * promised a follow-up touchpoint → the returning customer's last owner →
 * skills and capacity, longest idle first → after
 * `overflowAfter`, anyone available with capacity.
 */
export const defaultStrategy: RoutingStrategy = {
  plan({ conversation: c, customer, now, policy, cover }) {
    const plan: Candidate[] = [];
    // An owner gone for good: every move from here is recorded as that.
    const requeued = !cover && c.ownerId !== null;
    // A follow-up touchpoint goes to the owner who promised it first.
    const promisedBy = c.followUpOf?.agentId;
    if (!cover && !requeued && promisedBy !== undefined) {
      plan.push({ kind: 'agent', agentId: promisedBy, reason: 'last_owner' });
    }
    const lastOwner = customer.lastOwnerId;
    if (
      !cover &&
      lastOwner !== promisedBy &&
      !requeued &&
      lastOwner !== undefined &&
      customer.lastOwnerAt !== undefined &&
      now - customer.lastOwnerAt <= policy.preferLastOwnerForSeconds * 1000
    ) {
      plan.push({ kind: 'agent', agentId: lastOwner, reason: 'last_owner' });
    }
    const hasSkills = Object.keys(c.skills).length > 0;
    plan.push({
      kind: 'pool',
      skills: c.skills,
      reason: requeued ? 'owner_offline' : hasSkills ? 'skills' : 'routed',
    });
    if (hasSkills && now - waitingSince(c) >= policy.overflowAfterSeconds * 1000) {
      plan.push({ kind: 'pool', skills: {}, reason: requeued ? 'owner_offline' : 'overflow' });
    }
    return plan;
  },
};
