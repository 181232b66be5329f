// The embedded Store: everything in this process's memory. Each method runs to
// completion without awaiting, so each one is atomic, like a Lua script on Redis.
// Records go in and come out as copies, so callers never share state with it.

import {
  CapacityError,
  ConflictError,
  InvalidStateError,
  NotFoundError,
  ValidationError,
} from '../../shared/errors.js';
import {
  type Agent,
  type AgentStatus,
  CHANNELS,
  type Channel,
  type Conversation,
  type Customer,
  type CustomerPromise,
  type Fact,
  type Identity,
  type Message,
  meetsSkills,
  type Note,
  type OwnershipReason,
  type PromiseState,
  type Skills,
  type Survey,
} from '../../shared/model.js';
import { bucketKey, claimReason, HANDLE_TIME_WINDOW, isOpen, waitingSince } from './rules.js';
import { SortedIndex } from './sorted.js';
import type {
  Candidate,
  ClaimOutcome,
  ConversationQuery,
  QueueSnapshot,
  RouteOutcome,
  RouteRequest,
  Store,
  StoreStats,
  Timer,
  TimerKind,
  WaitRules,
} from './store.js';

/**
 * A deep copy, as `structuredClone` makes it, of the plain records this store
 * keeps (objects, arrays, primitives) at a fraction of its per-call cost;
 * anything else (a Date, a Map, a cycle, a sparse array, a function) goes to
 * `structuredClone`. (Records never carry symbol keys; a spread would keep them.)
 */
const copy = <T>(value: T): T => {
  if (typeof value !== 'object' || value === null) return value;
  try {
    return clonePlain(value, 0) as T;
  } catch (err) {
    if (err === NOT_PLAIN) return structuredClone(value);
    throw err;
  }
};

const NOT_PLAIN = new Error('not plain data');

function clonePlain(value: object, depth: number): unknown {
  if (depth > 64) throw NOT_PLAIN;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === 'object' && v !== null) out.push(clonePlain(v, depth + 1));
      else if (v === undefined && !(i in value)) throw NOT_PLAIN;
      else if (typeof v === 'function' || typeof v === 'symbol') throw NOT_PLAIN;
      else out.push(v);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw NOT_PLAIN;
  // A shallow spread copies the object's shape in one step; nested records are then replaced by copies.
  const out: Record<string, unknown> = { ...value };
  for (const key in out) {
    const v = out[key];
    if (typeof v === 'object' && v !== null) {
      if (key === '__proto__') throw NOT_PLAIN;
      out[key] = clonePlain(v, depth + 1);
    } else if (typeof v === 'function' || typeof v === 'symbol') throw NOT_PLAIN;
  }
  return out;
}

interface Bucket {
  key: string;
  channel: Channel;
  skills: Skills;
  /** Priority order: score (arrival minus the priority credit), then arrival. */
  byScore: SortedIndex;
  /** Arrival order: for the hard cap and overflow. */
  byArrival: SortedIndex;
}

export class MemoryStore implements Store {
  readonly #customers = new Map<string, Customer>();
  readonly #identities = new Map<string, string>();
  readonly #customerConversations = new Map<string, Set<string>>();
  readonly #agents = new Map<string, Agent>();
  /** Free agents per channel (available, with capacity left), longest idle first. */
  readonly #pools = new Map<Channel, SortedIndex>();
  /** The same, per channel and skill. */
  readonly #skillPools = new Map<string, SortedIndex>();
  readonly #conversations = new Map<string, Conversation>();
  /** Conversations by owner (any status): every change of `ownerId` goes through `#setOwner`. */
  readonly #ownerConversations = new Map<string, Set<string>>();
  readonly #messages = new Map<string, Message>();
  readonly #conversationMessages = new Map<string, string[]>();
  readonly #externalIds = new Map<string, string>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #channelBuckets = new Map<Channel, Set<Bucket>>();
  /** Which bucket each waiting conversation is in. */
  readonly #waiting = new Map<string, Bucket>();
  readonly #timers = new Map<string, Timer>();
  readonly #timerOrder = new SortedIndex();
  readonly #promises = new Map<string, CustomerPromise>();
  readonly #conversationPromises = new Map<string, string[]>();
  readonly #handleTimes = new Map<Channel, number[]>();
  /** Servers per bucket, counted on first use, then kept up to date as agents change. */
  #serversCache = new Map<string, number>();
  #closed = false;

  constructor() {
    for (const c of CHANNELS) {
      this.#pools.set(c, new SortedIndex());
      this.#channelBuckets.set(c, new Set());
    }
  }

  // ------------------------------------------------------------ customers

  async getCustomer(id: string): Promise<Customer | null> {
    const c = this.#customer(id, false);
    return c ? copy(c) : null;
  }

  async resolveCustomer(
    identity: Identity,
    init: Customer,
  ): Promise<{ customer: Customer; created: boolean }> {
    const existing = this.#identities.get(identityKey(identity));
    if (existing) return { customer: copy(this.#customer(existing)!), created: false };
    if (this.#customers.has(init.id))
      throw new ConflictError('duplicate_id', `customer ${init.id} already exists`);
    const customer = copy(init);
    if (!customer.identities.some((i) => sameIdentity(i, identity))) customer.identities.push(identity);
    for (const i of customer.identities) {
      if (this.#identities.has(identityKey(i))) {
        throw new ConflictError(
          'identity_taken',
          `identity ${i.channel}:${i.address} already belongs to a customer`,
        );
      }
    }
    this.#customers.set(customer.id, customer);
    for (const i of customer.identities) this.#identities.set(identityKey(i), customer.id);
    return { customer: copy(customer), created: true };
  }

  async linkIdentity(
    customerId: string,
    identity: Identity,
  ): Promise<{ customer: Customer; takenBy: string | null }> {
    const customer = this.#customer(customerId);
    const holder = this.#identities.get(identityKey(identity));
    if (holder && holder !== customer.id) return { customer: copy(customer), takenBy: holder };
    if (!holder) {
      customer.identities.push(identity);
      this.#identities.set(identityKey(identity), customer.id);
    }
    return { customer: copy(customer), takenBy: null };
  }

  async recordFacts(customerId: string, facts: Record<string, Fact>, name?: string): Promise<Customer> {
    const customer = this.#customer(customerId);
    for (const [key, fact] of Object.entries(facts)) {
      const prior = customer.facts[key];
      if (!prior || prior.at <= fact.at) customer.facts[key] = { ...fact };
    }
    if (name !== undefined) customer.name = name;
    return copy(customer);
  }

  async addCustomerNote(customerId: string, note: Note): Promise<Customer> {
    const customer = this.#customer(customerId);
    customer.notes.push({ ...note });
    return copy(customer);
  }

  async mergeCustomers(keepId: string, otherId: string, now: number): Promise<Customer> {
    if (keepId === otherId)
      throw new ValidationError('a customer cannot be merged into itself', 'otherCustomerId');
    const keep = this.#customer(keepId);
    const other = this.#customer(otherId);
    // An id merged before leads to its keeper: merging it again would merge a customer into itself.
    if (keep.id === other.id)
      throw new ValidationError(`customer ${otherId} is already merged into ${keep.id}`, 'otherCustomerId');
    for (const identity of other.identities) {
      if (!keep.identities.some((i) => sameIdentity(i, identity))) keep.identities.push(identity);
      this.#identities.set(identityKey(identity), keep.id);
    }
    for (const [key, fact] of Object.entries(other.facts)) {
      const mine = keep.facts[key];
      if (!mine || mine.at < fact.at) {
        if (mine && mine.value !== fact.value) {
          keep.notes.push({
            text: `merged: ${key} was "${mine.value}" (${mine.source})`,
            by: 'system',
            at: now,
          });
        }
        keep.facts[key] = fact;
      } else if (mine.value !== fact.value) {
        keep.notes.push({
          text: `merged: ${key} was also "${fact.value}" (${fact.source})`,
          by: 'system',
          at: now,
        });
      }
    }
    keep.notes.push(...other.notes);
    keep.notes.push({ text: `merged customer ${other.id} into this one`, by: 'system', at: now });
    if (!keep.name && other.name) keep.name = other.name;
    if (
      other.lastOwnerAt !== undefined &&
      (keep.lastOwnerAt === undefined || other.lastOwnerAt > keep.lastOwnerAt)
    ) {
      if (other.lastOwnerId !== undefined) keep.lastOwnerId = other.lastOwnerId;
      keep.lastOwnerAt = other.lastOwnerAt;
    }
    const moved = this.#customerConversations.get(other.id) ?? new Set<string>();
    const mine = this.#conversationSet(keep.id);
    for (const id of moved) {
      const conv = this.#conversations.get(id);
      if (conv) conv.customerId = keep.id;
      mine.add(id);
    }
    this.#customerConversations.delete(other.id);
    other.identities = [];
    other.mergedInto = keep.id;
    return copy(keep);
  }

  // ------------------------------------------------------------ agents

  async createAgent(agent: Agent): Promise<Agent> {
    if (this.#agents.has(agent.id))
      throw new ConflictError('duplicate_id', `agent ${agent.id} already exists`);
    const a = copy(agent);
    this.#agents.set(a.id, a);
    this.#indexAgent(a);
    this.#adjustServers(null, a);
    return copy(a);
  }

  async getAgent(id: string): Promise<Agent | null> {
    const a = this.#agents.get(id);
    return a ? copy(a) : null;
  }

  async listAgents(): Promise<Agent[]> {
    return [...this.#agents.values()].map(copy);
  }

  async updateAgent(
    id: string,
    patch: Partial<
      Pick<Agent, 'name' | 'skills' | 'capacity' | 'slackUserId' | 'email' | 'phone' | 'clientIdentity'>
    >,
  ): Promise<Agent> {
    const a = this.#agent(id);
    const before: ServerShape = { status: a.status, skills: a.skills, capacity: a.capacity };
    this.#unindexAgent(a);
    Object.assign(a, copy(patch));
    this.#indexAgent(a);
    this.#adjustServers(before, a);
    return copy(a);
  }

  async setAgentStatus(
    id: string,
    status: AgentStatus,
    reason: string | undefined,
    now: number,
  ): Promise<Agent> {
    const a = this.#agent(id);
    const before: ServerShape = { status: a.status, skills: a.skills, capacity: a.capacity };
    this.#unindexAgent(a);
    if (status === 'available' && a.status !== 'available') {
      a.availableSince = now;
      a.idleSince = now;
    }
    if (status !== 'available') delete a.availableSince;
    a.status = status;
    if (reason === undefined) delete a.statusReason;
    else a.statusReason = reason;
    this.#indexAgent(a);
    this.#adjustServers(before, a);
    return copy(a);
  }

  // ------------------------------------------------------------ conversations and messages

  async createConversation(conversation: Conversation): Promise<Conversation> {
    if (this.#conversations.has(conversation.id)) {
      throw new ConflictError('duplicate_id', `conversation ${conversation.id} already exists`);
    }
    this.#customer(conversation.customerId);
    const c = copy(conversation);
    this.#conversations.set(c.id, c);
    this.#conversationSet(c.customerId).add(c.id);
    if (c.ownerId !== null) this.#indexOwner(c.id, c.ownerId);
    return copy(c);
  }

  async getConversation(id: string): Promise<Conversation | null> {
    const c = this.#conversations.get(id);
    return c ? copy(c) : null;
  }

  async openConversationOf(customerId: string): Promise<Conversation | null> {
    let best: Conversation | null = null;
    for (const id of this.#customerConversations.get(customerId) ?? []) {
      const c = this.#conversations.get(id);
      if (c && isOpen(c) && (!best || lastActivity(c) > lastActivity(best))) best = c;
    }
    return best ? copy(best) : null;
  }

  async listConversations(query: ConversationQuery): Promise<Conversation[]> {
    const limit = query.limit ?? 1000;
    const source =
      query.customerId !== undefined
        ? [...(this.#customerConversations.get(query.customerId) ?? [])].map(
            (id) => this.#conversations.get(id)!,
          )
        : query.ownerId !== undefined
          ? [...(this.#ownerConversations.get(query.ownerId) ?? [])].map((id) => this.#conversations.get(id)!)
          : [...this.#conversations.values()];
    const out: Conversation[] = [];
    for (const c of source) {
      if (query.status !== undefined && c.status !== query.status) continue;
      if (query.ownerId !== undefined && c.ownerId !== query.ownerId) continue;
      out.push(copy(c));
    }
    out.sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1));
    return out.slice(-limit);
  }

  async touchConversation(id: string, channel: Channel, now: number): Promise<Conversation> {
    const c = this.#conversation(id);
    if (!c.channels.includes(channel)) c.channels.push(channel);
    c.lastChannel = channel;
    c.lastContactAt = now;
    return copy(c);
  }

  async appendMessage(message: Message): Promise<{ message: Message; duplicate: boolean }> {
    if (message.externalId !== undefined) {
      const prior = this.#externalIds.get(externalKey(message.channel, message.externalId));
      if (prior) return { message: copy(this.#messages.get(prior)!), duplicate: true };
    }
    this.#conversation(message.conversationId);
    if (this.#messages.has(message.id))
      throw new ConflictError('duplicate_id', `message ${message.id} already exists`);
    const m = copy(message);
    this.#messages.set(m.id, m);
    let list = this.#conversationMessages.get(m.conversationId);
    if (!list) {
      list = [];
      this.#conversationMessages.set(m.conversationId, list);
    }
    list.push(m.id);
    if (m.externalId !== undefined) this.#externalIds.set(externalKey(m.channel, m.externalId), m.id);
    return { message: copy(m), duplicate: false };
  }

  async findMessageByExternalId(channel: Channel, externalId: string): Promise<Message | null> {
    const id = this.#externalIds.get(externalKey(channel, externalId));
    return id ? copy(this.#messages.get(id)!) : null;
  }

  async getMessage(id: string): Promise<Message | null> {
    const m = this.#messages.get(id);
    return m ? copy(m) : null;
  }

  async listMessages(conversationId: string): Promise<Message[]> {
    return (this.#conversationMessages.get(conversationId) ?? []).map((id) => copy(this.#messages.get(id)!));
  }

  async updateDelivery(messageId: string, delivery: Message['delivery']): Promise<Message> {
    const m = this.#messages.get(messageId);
    if (!m) throw new NotFoundError('message', messageId);
    m.delivery = { ...delivery };
    return copy(m);
  }

  // ------------------------------------------------------------ routing decisions

  async route(req: RouteRequest): Promise<RouteOutcome> {
    const conv = this.#conversation(req.conversationId);
    const cover = req.mode.type === 'cover';
    const routable = cover
      ? conv.status === 'assigned' && conv.cover === null
      : conv.status === 'queued' && conv.offer === null;
    if (!routable) return { type: 'skipped', conversation: copy(conv) };

    const found = this.#pick(req.candidates, req.channel, conv);
    if (!found) {
      this.#enqueue(conv, req.channel, req.score);
      return { type: 'queued', conversation: copy(conv) };
    }
    const { agent, reason } = found;
    switch (req.mode.type) {
      case 'assign': {
        const previousOwnerId = conv.ownerId;
        this.#takeSlot(agent, req.channel, req.now);
        this.#own(conv, agent.id, req.channel, reason, req.now);
        return { type: 'assigned', conversation: copy(conv), agentId: agent.id, reason, previousOwnerId };
      }
      case 'offer':
        this.#takeSlot(agent, req.channel, req.now);
        conv.offer = {
          agentId: agent.id,
          at: req.now,
          expiresAt: req.mode.expiresAt,
          reason,
          channel: req.channel,
        };
        this.#enqueue(conv, req.channel, req.score);
        return { type: 'offered', conversation: copy(conv), agentId: agent.id, reason };
      case 'cover':
        this.#takeSlot(agent, req.channel, req.now);
        this.#cover(conv, agent.id, req.channel, req.now);
        return { type: 'covered', conversation: copy(conv), agentId: agent.id };
    }
  }

  async claimNext(agentId: string, now: number, rules: WaitRules): Promise<ClaimOutcome | null> {
    const agent = this.#agents.get(agentId);
    if (!agent || agent.status !== 'available') return null;
    let best: {
      conv: Conversation;
      bucket: Bucket;
      matched: boolean;
      rank: [number, number, number];
    } | null = null;
    for (const channel of CHANNELS) {
      if (agent.load[channel] >= agent.capacity[channel]) continue;
      for (const bucket of this.#channelBuckets.get(channel)!) {
        // Skip, in O(1), a bucket whose best possible head cannot beat the best so far.
        if (best && !this.#bucketMayBeat(bucket, now, rules, best.rank)) continue;
        const pick = this.#bucketHead(bucket, agent, now, rules);
        if (pick && (!best || lessRank(pick.rank, best.rank)))
          best = { conv: pick.conv, matched: pick.matched, rank: pick.rank, bucket };
      }
    }
    if (!best) return null;
    const { conv, bucket, matched } = best;
    const reason = claimReason(conv, matched);
    this.#takeSlot(agent, bucket.channel, now);
    if (conv.status === 'assigned') {
      this.#cover(conv, agent.id, bucket.channel, now);
      return { type: 'assigned', conversation: copy(conv), agentId: agent.id, reason };
    }
    const offerMs = rules.offerTimeoutMs[bucket.channel];
    if (offerMs !== undefined) {
      conv.offer = { agentId: agent.id, at: now, expiresAt: now + offerMs, reason, channel: bucket.channel };
      return { type: 'offered', conversation: copy(conv), agentId: agent.id, reason };
    }
    this.#own(conv, agent.id, bucket.channel, reason, now);
    return { type: 'assigned', conversation: copy(conv), agentId: agent.id, reason };
  }

  async acceptOffer(conversationId: string, agentId: string, now: number): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    const offer = conv.offer;
    if (!offer || offer.agentId !== agentId) {
      throw new InvalidStateError(`conversation ${conversationId} has no open offer for agent ${agentId}`);
    }
    conv.offer = null;
    this.#own(conv, agentId, offer.channel, offer.reason, now);
    return copy(conv);
  }

  async withdrawOffer(
    conversationId: string,
    agentId: string,
    now: number,
    agentStatus: { status: AgentStatus; reason: string } | null,
  ): Promise<Conversation | null> {
    const conv = this.#conversations.get(conversationId);
    const offer = conv?.offer;
    if (!conv || !offer || offer.agentId !== agentId) return null;
    conv.offer = null;
    if (!conv.declinedBy.includes(agentId)) conv.declinedBy.push(agentId);
    const agent = this.#agents.get(agentId);
    if (agent) {
      this.#releaseSlot(agent, offer.channel);
      if (agentStatus) await this.setAgentStatus(agentId, agentStatus.status, agentStatus.reason, now);
    }
    return copy(conv);
  }

  async setWaitingForOwner(conversationId: string, since: number | null): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    conv.waitingForOwnerSince = since;
    if (since === null) this.#dequeue(conv.id);
    return copy(conv);
  }

  async endCover(
    conversationId: string,
    _now: number,
  ): Promise<{ conversation: Conversation; agentId: string | null }> {
    const conv = this.#conversation(conversationId);
    this.#dequeue(conv.id);
    const cover = conv.cover;
    if (!cover) return { conversation: copy(conv), agentId: null };
    conv.cover = null;
    const agent = this.#agents.get(cover.agentId);
    if (agent) this.#releaseSlot(agent, cover.channel);
    return { conversation: copy(conv), agentId: cover.agentId };
  }

  async requeue(conversationId: string, now: number, score: number): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    if (conv.status !== 'assigned')
      throw new InvalidStateError(`conversation ${conversationId} is not assigned`);
    this.#releaseHolders(conv);
    conv.status = 'queued';
    conv.queuedAt = conv.waitingForOwnerSince ?? now;
    conv.waitingForOwnerSince = null;
    conv.assignedAt = null;
    conv.handoff = null;
    conv.declinedBy = [];
    this.#enqueue(conv, conv.lastChannel, score);
    return copy(conv);
  }

  async resolve(conversationId: string, now: number, followUpAt: number | null): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    if (conv.status !== 'assigned') {
      throw new InvalidStateError(
        `conversation ${conversationId} is ${conv.status}; only an assigned one can be resolved`,
      );
    }
    if (conv.slotChannel && conv.assignedAt !== null)
      this.#recordHandle(conv.slotChannel, now - conv.assignedAt);
    this.#releaseHolders(conv);
    this.#dequeue(conv.id);
    conv.status = 'resolved';
    conv.resolvedAt = now;
    conv.followUpAt = followUpAt;
    conv.waitingForOwnerSince = null;
    conv.consultants = [];
    conv.invited = [];
    conv.handoff = null;
    const customer = this.#customers.get(conv.customerId);
    if (customer && conv.ownerId) {
      customer.lastOwnerId = conv.ownerId;
      customer.lastOwnerAt = now;
    }
    return copy(conv);
  }

  async abandon(conversationId: string, now: number): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    if (conv.status !== 'queued') {
      throw new InvalidStateError(
        `conversation ${conversationId} is ${conv.status}; only a waiting one can be abandoned`,
      );
    }
    this.#dequeue(conv.id);
    if (conv.offer) {
      const agent = this.#agents.get(conv.offer.agentId);
      if (agent) this.#releaseSlot(agent, conv.offer.channel);
      conv.offer = null;
    }
    conv.status = 'abandoned';
    conv.resolvedAt = now;
    return copy(conv);
  }

  async offerHandoff(
    conversationId: string,
    from: string,
    to: string,
    note: string,
    now: number,
  ): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    if (conv.status !== 'assigned' || conv.ownerId !== from) {
      throw new InvalidStateError(`agent ${from} does not own conversation ${conversationId}`);
    }
    if (from === to) throw new ValidationError('an agent cannot hand off to themselves', 'toAgentId');
    const target = this.#agent(to);
    if (target.status === 'offline')
      throw new InvalidStateError(`agent ${to} is offline and cannot take a hand-off`);
    if (conv.handoff)
      throw new InvalidStateError(`conversation ${conversationId} already has a hand-off pending`);
    conv.handoff = { from, to, note, at: now };
    return copy(conv);
  }

  async acceptHandoff(conversationId: string, agentId: string, now: number): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    const handoff = conv.handoff;
    if (!handoff || handoff.to !== agentId || conv.status !== 'assigned') {
      throw new InvalidStateError(
        `conversation ${conversationId} has no hand-off pending for agent ${agentId}`,
      );
    }
    const target = this.#agent(agentId);
    const channel = conv.slotChannel;
    // The colleague covering it becomes its owner: the cover ends and its slot comes back.
    const covering = conv.cover?.agentId === agentId ? conv.cover : null;
    const freed = covering && covering.channel === channel ? 1 : 0;
    if (channel && target.load[channel] - freed >= target.capacity[channel]) {
      throw new CapacityError(
        agentId,
        `no ${channel} capacity left to accept conversation ${conversationId}`,
      );
    }
    if (covering) {
      this.#releaseSlot(target, covering.channel);
      conv.cover = null;
    }
    const previous = conv.ownerId ? this.#agents.get(conv.ownerId) : undefined;
    if (channel && previous) this.#releaseSlot(previous, channel);
    if (channel) this.#takeSlot(target, channel, now, false);
    conv.ownership.push({ from: conv.ownerId, to: agentId, reason: 'handoff', at: now });
    this.#setOwner(conv, agentId);
    conv.handoff = null;
    conv.consultants = conv.consultants.filter((id) => id !== agentId);
    conv.invited = conv.invited.filter((id) => id !== agentId);
    return copy(conv);
  }

  async declineHandoff(conversationId: string, agentId: string): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    if (!conv.handoff || conv.handoff.to !== agentId) {
      throw new InvalidStateError(
        `conversation ${conversationId} has no hand-off pending for agent ${agentId}`,
      );
    }
    conv.handoff = null;
    return copy(conv);
  }

  async inviteConsultant(conversationId: string, agentId: string): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    this.#agent(agentId);
    if (conv.status !== 'assigned')
      throw new InvalidStateError(`conversation ${conversationId} is not assigned`);
    if (conv.ownerId === agentId) throw new ValidationError('the owner cannot consult themselves', 'agentId');
    if (!conv.consultants.includes(agentId) && !conv.invited.includes(agentId)) conv.invited.push(agentId);
    return copy(conv);
  }

  async joinConsult(conversationId: string, agentId: string): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    if (conv.consultants.includes(agentId)) return copy(conv);
    if (!conv.invited.includes(agentId) || conv.status !== 'assigned') {
      throw new InvalidStateError(
        `agent ${agentId} was not invited to consult on conversation ${conversationId}`,
      );
    }
    conv.invited = conv.invited.filter((id) => id !== agentId);
    conv.consultants.push(agentId);
    return copy(conv);
  }

  async leaveConsult(conversationId: string, agentId: string): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    conv.invited = conv.invited.filter((id) => id !== agentId);
    conv.consultants = conv.consultants.filter((id) => id !== agentId);
    return copy(conv);
  }

  async queueSnapshot(conversationId: string): Promise<QueueSnapshot | null> {
    const bucket = this.#waiting.get(conversationId);
    if (!bucket) return null;
    return { position: bucket.byScore.rank(conversationId) + 1, servers: this.#servers(bucket) };
  }

  async recordSurvey(conversationId: string, survey: Survey): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    conv.survey = copy(survey);
    return copy(conv);
  }

  // ------------------------------------------------------------ timers

  async schedule(timer: Timer): Promise<void> {
    const key = `${timer.kind}:${timer.ref}`;
    this.#timers.set(key, { ...timer });
    this.#timerOrder.set(key, timer.dueAt);
  }

  async cancelTimer(kind: TimerKind, ref: string): Promise<void> {
    const key = `${kind}:${ref}`;
    this.#timers.delete(key);
    this.#timerOrder.delete(key);
  }

  async claimDueTimers(now: number, limit: number): Promise<Timer[]> {
    const due: Timer[] = [];
    for (const key of this.#timerOrder.entries()) {
      if (key.a > now || due.length >= limit) break;
      due.push(this.#timers.get(key.id)!);
    }
    for (const t of due) {
      const key = `${t.kind}:${t.ref}`;
      this.#timers.delete(key);
      this.#timerOrder.delete(key);
    }
    return due;
  }

  // ------------------------------------------------------------ promises and figures

  async addPromise(promise: CustomerPromise): Promise<CustomerPromise> {
    this.#promises.set(promise.id, copy(promise));
    const list = this.#conversationPromises.get(promise.conversationId) ?? [];
    list.push(promise.id);
    this.#conversationPromises.set(promise.conversationId, list);
    return copy(promise);
  }

  async settlePromise(
    id: string,
    state: Exclude<PromiseState, 'open'>,
    now: number,
  ): Promise<CustomerPromise | null> {
    const p = this.#promises.get(id);
    if (!p || p.state !== 'open') return null;
    p.state = state;
    p.settledAt = now;
    return copy(p);
  }

  async listPromises(conversationId: string): Promise<CustomerPromise[]> {
    return (this.#conversationPromises.get(conversationId) ?? []).map((id) => copy(this.#promises.get(id)!));
  }

  async getPromise(id: string): Promise<CustomerPromise | null> {
    const p = this.#promises.get(id);
    return p ? copy(p) : null;
  }

  async recordHandleTime(channel: Channel, ms: number): Promise<void> {
    this.#recordHandle(channel, ms);
  }

  async recentHandleTimes(channel: Channel): Promise<number[]> {
    return [...(this.#handleTimes.get(channel) ?? [])];
  }

  async stats(): Promise<StoreStats> {
    const waitingByChannel: Record<Channel, number> = { voice: 0, sms: 0, chat: 0, email: 0 };
    for (const bucket of this.#waiting.values()) waitingByChannel[bucket.channel]++;
    const agentsByStatus: Record<AgentStatus, number> = { available: 0, away: 0, offline: 0 };
    for (const a of this.#agents.values()) agentsByStatus[a.status]++;
    return { waiting: this.#waiting.size, waitingByChannel, agentsByStatus };
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new InvalidStateError('the memory store is closed');
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  // ------------------------------------------------------------ internals

  #customer(id: string, required?: true): Customer;
  #customer(id: string, required: false): Customer | undefined;
  #customer(id: string, required = true): Customer | undefined {
    let c = this.#customers.get(id);
    // Follow merges: an old id keeps working.
    for (let hops = 0; c?.mergedInto && hops < 16; hops++) c = this.#customers.get(c.mergedInto);
    if (!c && required) throw new NotFoundError('customer', id);
    return c;
  }

  #agent(id: string): Agent {
    const a = this.#agents.get(id);
    if (!a) throw new NotFoundError('agent', id);
    return a;
  }

  #conversation(id: string): Conversation {
    const c = this.#conversations.get(id);
    if (!c) throw new NotFoundError('conversation', id);
    return c;
  }

  #conversationSet(customerId: string): Set<string> {
    let set = this.#customerConversations.get(customerId);
    if (!set) {
      set = new Set();
      this.#customerConversations.set(customerId, set);
    }
    return set;
  }

  #recordHandle(channel: Channel, ms: number): void {
    let list = this.#handleTimes.get(channel);
    if (!list) {
      list = [];
      this.#handleTimes.set(channel, list);
    }
    list.push(Math.max(0, ms));
    if (list.length > HANDLE_TIME_WINDOW) list.splice(0, list.length - HANDLE_TIME_WINDOW);
  }

  /** The first candidate that is available with capacity on the channel and not excluded. */
  #pick(
    candidates: Candidate[],
    channel: Channel,
    conv: Conversation,
  ): { agent: Agent; reason: OwnershipReason } | null {
    // Whoever missed an offer for this wait is not asked again; an owner never covers for themselves.
    const excluded = (id: string) =>
      conv.declinedBy.includes(id) || (conv.status === 'assigned' && id === conv.ownerId);
    for (const candidate of candidates) {
      if (candidate.kind === 'agent') {
        const a = this.#agents.get(candidate.agentId);
        if (a && a.status === 'available' && a.load[channel] < a.capacity[channel] && !excluded(a.id)) {
          return { agent: a, reason: candidate.reason };
        }
        continue;
      }
      const a = this.#pickFromPool(channel, candidate.skills, excluded);
      if (a) return { agent: a, reason: candidate.reason };
    }
    return null;
  }

  /** Longest-idle free agent on the channel with the skills, scanning the most selective index. */
  #pickFromPool(channel: Channel, skills: Skills, skip: (id: string) => boolean): Agent | null {
    let index = this.#pools.get(channel)!;
    for (const skill of Object.keys(skills)) {
      const byskill = this.#skillPools.get(`${channel}|${skill}`);
      if (!byskill || byskill.size === 0) return null;
      if (byskill.size < index.size) index = byskill;
    }
    for (const id of index.ids()) {
      if (skip(id)) continue;
      const a = this.#agents.get(id)!;
      if (meetsSkills(a.skills, skills)) return a;
    }
    return null;
  }

  /** The conversation this agent would take from a bucket, with its rank: [hard-capped?0:1, key, arrival]. */
  #bucketHead(
    bucket: Bucket,
    agent: Agent,
    now: number,
    rules: WaitRules,
  ): { conv: Conversation; matched: boolean; rank: [number, number, number] } | null {
    const oldest = bucket.byArrival.first();
    if (!oldest) return null;
    const matched = meetsSkills(agent.skills, bucket.skills);
    // Not skilled for it and nothing here has overflowed yet: nothing for this agent (cheap, common).
    if (!matched && now - oldest.a < rules.overflowAfterMs) return null;
    // Hard cap first: whoever has waited longest past the cap, in arrival order.
    if (now - oldest.a >= rules.hardCapMs) {
      for (const key of bucket.byArrival.entries()) {
        if (now - key.a < rules.hardCapMs) break;
        if (!matched && now - key.a < rules.overflowAfterMs) break;
        const conv = this.#conversations.get(key.id)!;
        if (this.#eligible(conv, agent.id)) return { conv, matched, rank: [0, key.a, key.a] };
      }
    }
    if (matched) {
      // Usually the head of the line is eligible: no iterator needed.
      const head = bucket.byScore.first()!;
      const first = this.#conversations.get(head.id)!;
      if (this.#eligible(first, agent.id)) return { conv: first, matched, rank: [1, head.a, head.b] };
      for (const key of bucket.byScore.entries()) {
        const conv = this.#conversations.get(key.id)!;
        if (this.#eligible(conv, agent.id)) return { conv, matched, rank: [1, key.a, key.b] };
      }
      return null;
    }
    // Not skilled for this bucket: only what has overflowed to the whole team, oldest first.
    for (const key of bucket.byArrival.entries()) {
      if (now - key.a < rules.overflowAfterMs) break;
      const conv = this.#conversations.get(key.id)!;
      if (this.#eligible(conv, agent.id))
        return { conv, matched, rank: [1, bucket.byScore.keyOf(key.id)!.a, key.a] };
    }
    return null;
  }

  /**
   * False when nothing `#bucketHead` can return from this bucket, for any agent,
   * ranks before `rank`: its head ranks at least [0, oldest arrival, oldest arrival]
   * when the oldest is past the hard cap, else at least [1, lowest key, its arrival].
   */
  #bucketMayBeat(bucket: Bucket, now: number, rules: WaitRules, rank: [number, number, number]): boolean {
    const oldest = bucket.byArrival.first();
    if (!oldest) return false;
    if (now - oldest.a >= rules.hardCapMs) return lessRankOf(0, oldest.a, oldest.a, rank);
    const head = bucket.byScore.first()!;
    return lessRankOf(1, head.a, head.b, rank);
  }

  /** Whether a waiting conversation may go to this agent: not ringing, not missed by them, not their own. */
  #eligible(conv: Conversation, agentId: string): boolean {
    return (
      conv.offer === null &&
      !conv.declinedBy.includes(agentId) &&
      !(conv.status === 'assigned' && conv.ownerId === agentId)
    );
  }

  #enqueue(conv: Conversation, channel: Channel, score: number): void {
    const current = this.#waiting.get(conv.id);
    if (current?.channel === channel) return; // keeps its place
    // Waiting on another channel now (the customer switched): the same place in the new line.
    if (current) this.#dequeue(conv.id);
    const key = bucketKey(channel, conv.skills);
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = {
        key,
        channel,
        skills: { ...conv.skills },
        byScore: new SortedIndex(),
        byArrival: new SortedIndex(),
      };
      this.#buckets.set(key, bucket);
      this.#channelBuckets.get(channel)!.add(bucket);
    }
    const arrival = waitingSince(conv);
    bucket.byScore.set(conv.id, score, arrival);
    bucket.byArrival.set(conv.id, arrival);
    this.#waiting.set(conv.id, bucket);
  }

  #dequeue(conversationId: string): void {
    const bucket = this.#waiting.get(conversationId);
    if (!bucket) return;
    bucket.byScore.delete(conversationId);
    bucket.byArrival.delete(conversationId);
    this.#waiting.delete(conversationId);
  }

  /** Change a conversation's owner, keeping the owner index. */
  #setOwner(conv: Conversation, agentId: string): void {
    if (conv.ownerId === agentId) return;
    if (conv.ownerId !== null) this.#ownerConversations.get(conv.ownerId)?.delete(conv.id);
    conv.ownerId = agentId;
    this.#indexOwner(conv.id, agentId);
  }

  #indexOwner(conversationId: string, ownerId: string): void {
    let set = this.#ownerConversations.get(ownerId);
    if (!set) {
      set = new Set();
      this.#ownerConversations.set(ownerId, set);
    }
    set.add(conversationId);
  }

  /** Make `agentId` the owner (capacity already held) and take it out of the line. */
  #own(conv: Conversation, agentId: string, channel: Channel, reason: OwnershipReason, now: number): void {
    this.#dequeue(conv.id);
    conv.ownership.push({ from: conv.ownerId, to: agentId, reason, at: now });
    this.#setOwner(conv, agentId);
    conv.slotChannel = channel;
    conv.status = 'assigned';
    conv.assignedAt = now;
    conv.firstAssignedAt ??= now;
    conv.queuedAt = null;
    conv.offer = null;
    conv.declinedBy = [];
    conv.waitingForOwnerSince = null;
    conv.consultants = conv.consultants.filter((id) => id !== agentId);
    conv.invited = conv.invited.filter((id) => id !== agentId);
    const customer = this.#customers.get(conv.customerId);
    if (customer) {
      customer.lastOwnerId = agentId;
      customer.lastOwnerAt = now;
    }
  }

  #cover(conv: Conversation, agentId: string, channel: Channel, now: number): void {
    this.#dequeue(conv.id);
    conv.cover = { agentId, channel, since: now };
    conv.waitingForOwnerSince = null;
  }

  /** Release the owner's and the covering agent's capacity. */
  #releaseHolders(conv: Conversation): void {
    if (conv.ownerId && conv.slotChannel) {
      const owner = this.#agents.get(conv.ownerId);
      if (owner) this.#releaseSlot(owner, conv.slotChannel);
    }
    conv.slotChannel = null;
    if (conv.cover) {
      const coverer = this.#agents.get(conv.cover.agentId);
      if (coverer) this.#releaseSlot(coverer, conv.cover.channel);
      conv.cover = null;
    }
  }

  #takeSlot(agent: Agent, channel: Channel, now: number, touchIdle = true): void {
    if (agent.load[channel] >= agent.capacity[channel]) {
      throw new CapacityError(agent.id, `no ${channel} capacity left`);
    }
    this.#unindexAgent(agent);
    agent.load[channel]++;
    if (touchIdle) agent.idleSince = now;
    this.#indexAgent(agent);
  }

  #releaseSlot(agent: Agent, channel: Channel): void {
    this.#unindexAgent(agent);
    agent.load[channel] = Math.max(0, agent.load[channel] - 1);
    this.#indexAgent(agent);
  }

  #indexAgent(a: Agent): void {
    if (a.status !== 'available') return;
    for (const channel of CHANNELS) {
      if (a.load[channel] >= a.capacity[channel]) continue;
      this.#pools.get(channel)!.set(a.id, a.idleSince);
      for (const skill of Object.keys(a.skills)) {
        const key = `${channel}|${skill}`;
        let index = this.#skillPools.get(key);
        if (!index) {
          index = new SortedIndex();
          this.#skillPools.set(key, index);
        }
        index.set(a.id, a.idleSince);
      }
    }
  }

  #unindexAgent(a: Agent): void {
    for (const channel of CHANNELS) {
      this.#pools.get(channel)!.delete(a.id);
      for (const skill of Object.keys(a.skills)) this.#skillPools.get(`${channel}|${skill}`)?.delete(a.id);
    }
  }

  /** Agents who could serve this bucket, weighted by capacity: the servers in the wait estimate. */
  #servers(bucket: Bucket): number {
    const cached = this.#serversCache.get(bucket.key);
    if (cached !== undefined) return cached;
    let servers = 0;
    for (const a of this.#agents.values()) {
      if (a.status === 'available' && meetsSkills(a.skills, bucket.skills))
        servers += a.capacity[bucket.channel];
    }
    this.#serversCache.set(bucket.key, servers);
    return servers;
  }

  /** An agent changed (or was created): move the cached servers by the difference, instead of recounting everyone. */
  #adjustServers(before: ServerShape | null, after: ServerShape): void {
    for (const [key, servers] of this.#serversCache) {
      const bucket = this.#buckets.get(key)!;
      const delta = serving(after, bucket) - serving(before, bucket);
      if (delta !== 0) this.#serversCache.set(key, servers + delta);
    }
  }
}

/** What `#servers` reads of an agent. */
type ServerShape = Pick<Agent, 'status' | 'skills' | 'capacity'>;

/** What an agent adds to a bucket's servers: its capacity on the channel when available and skilled for it. */
function serving(a: ServerShape | null, bucket: Bucket): number {
  return a !== null && a.status === 'available' && meetsSkills(a.skills, bucket.skills)
    ? a.capacity[bucket.channel]
    : 0;
}

function identityKey(i: Identity): string {
  return `${i.channel}:${i.address}`;
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.channel === b.channel && a.address === b.address;
}

function externalKey(channel: Channel, externalId: string): string {
  return `${channel}:${externalId}`;
}

function lastActivity(c: Conversation): number {
  return c.lastContactAt;
}

function lessRank(x: [number, number, number], y: [number, number, number]): boolean {
  return x[0] !== y[0] ? x[0] < y[0] : x[1] !== y[1] ? x[1] < y[1] : x[2] < y[2];
}

/** `lessRank([x0, x1, x2], y)` without building the tuple. */
function lessRankOf(x0: number, x1: number, x2: number, y: [number, number, number]): boolean {
  return x0 !== y[0] ? x0 < y[0] : x1 !== y[1] ? x1 < y[1] : x2 < y[2];
}
