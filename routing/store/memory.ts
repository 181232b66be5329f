// The embedded Store: everything in this process's memory. Each method runs to
// completion without awaiting, so each one is atomic, like a Lua script on Redis.
// Records go in and come out as copies, so callers never share state with it.

import {
  CapacityError,
  ConflictError,
  InvalidStateError,
  NotFoundError,
  NotOwnerError,
  ValidationError,
} from '../../shared/errors.js';
import {
  type Agent,
  type AgentStatus,
  CHANNELS,
  type Channel,
  type Conversation,
  type Customer,
  type CustomerBlock,
  type CustomerPromise,
  type Fact,
  type Identity,
  type Message,
  meetsSkills,
  type Note,
  type OwnershipReason,
  type PromiseState,
  type SavedReply,
  type Skills,
  type Survey,
} from '../../shared/model.js';
import {
  bucketKey,
  byCreation,
  checkFirstMessage,
  checkNewContact,
  claimReason,
  deliveryApplies,
  FILL_LIMIT,
  freePlaces,
  HANDLE_TIME_WINDOW,
  isOpen,
  leftTheTeam,
  onAgentList,
  waitingSince,
} from './rules.js';
import type {
  AgentProfilePatch,
  Answered,
  AppendOptions,
  CameBack,
  Candidate,
  ClaimOutcome,
  ConversationQuery,
  CustomerActivity,
  DeliveryUpdate,
  ErasedCustomer,
  EraseOptions,
  KeptWrapUp,
  NewContact,
  OutCall,
  OwnerBack,
  QueueSnapshot,
  Resolved,
  ResolveOptions,
  RouteOutcome,
  RouteRequest,
  StartedContact,
  StartedConversation,
  Store,
  StoreStats,
  Timer,
  TimerKind,
  WaitRules,
  WrapUp,
} from './store.js';
import { agentsOn, CONVERSATION_TIMERS, REMOVABLE_AGENT_FIELDS } from './store.js';

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

/**
 * How the model's records nest: per field holding more than a primitive, whether it is one flat record
 * (its values primitives), a list of primitives, a list of flat records, or a map of flat records.
 */
type Nesting = 'flat' | 'values' | 'flats' | 'flatMap';
const nesting = (fields: Record<string, Nesting>): Map<string, Nesting> => new Map(Object.entries(fields));
const CONVERSATION_NESTING = nesting({
  cover: 'flat',
  consultants: 'values',
  invited: 'values',
  joinedAt: 'flat',
  channels: 'values',
  skills: 'flat',
  offer: 'flat',
  handoff: 'flat',
  ownership: 'flats',
  declinedBy: 'values',
  followUpOf: 'flat',
  survey: 'flat',
});
const AGENT_NESTING = nesting({ skills: 'flat', capacity: 'flat', load: 'flat', reserved: 'flat' });
const CUSTOMER_NESTING = nesting({
  identities: 'flats',
  facts: 'flatMap',
  notes: 'flats',
  blocked: 'flat',
});
const MESSAGE_NESTING = nesting({ author: 'flat', attachments: 'flats', delivery: 'flat' });
const PROMISE_NESTING = nesting({});

/**
 * Stored records that do not nest as the model says (a caller passed extra nested values): these
 * are copied in full by `copy`; every other record by the fast copiers below, which copy exactly
 * the nesting the model has.
 */
const irregular = new WeakSet<object>();

function isPrimitive(v: unknown): boolean {
  return (typeof v !== 'object' || v === null) && typeof v !== 'function' && typeof v !== 'symbol';
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A plain object whose values are all primitives. */
function isFlat(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || !isPlainObject(v)) return false;
  for (const key in v) {
    if (key === '__proto__' || !isPrimitive((v as Record<string, unknown>)[key])) return false;
  }
  return true;
}

/** A dense plain array whose items all pass `item`. */
function isListOf(v: unknown, item: (x: unknown) => boolean): boolean {
  if (!Array.isArray(v) || Object.getPrototypeOf(v) !== Array.prototype) return false;
  for (let i = 0; i < v.length; i++) if (!(i in v) || !item(v[i])) return false;
  return true;
}

/** Whether `record` nests exactly as `fields` says (any field may also hold a primitive). */
function isRegular(record: object, fields: Map<string, Nesting>): boolean {
  if (!isPlainObject(record)) return false;
  for (const key in record) {
    const v = (record as Record<string, unknown>)[key];
    if (isPrimitive(v)) {
      // A field that nests holds its kind of value, or nothing.
      if (v != null && fields.has(key)) return false;
      continue;
    }
    if (key === '__proto__') return false;
    switch (fields.get(key)) {
      case 'flat':
        if (!isFlat(v)) return false;
        break;
      case 'values':
        if (!isListOf(v, isPrimitive)) return false;
        break;
      case 'flats':
        if (!isListOf(v, isFlat)) return false;
        break;
      case 'flatMap': {
        const map = v as Record<string, unknown>;
        if (Array.isArray(map) || !isPlainObject(map)) return false;
        for (const k in map) if (k === '__proto__' || !isFlat(map[k])) return false;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

/** A record coming in: copied, and remembered as irregular when it does not nest as the model says. */
function copyIn<T extends object>(record: T, fields: Map<string, Nesting>, fast: (r: T) => T): T {
  if (isRegular(record, fields)) return fast(record);
  const stored = copy(record);
  irregular.add(stored);
  return stored;
}

/** After a change that put a caller's value into a stored record: remember it when now irregular. */
function recheck(record: object, fields: Map<string, Nesting>): void {
  if (!irregular.has(record) && !isRegular(record, fields)) irregular.add(record);
}

const flatCopy = <T extends object>(v: T): T => ({ ...v });

function copyFlats<T extends object>(list: T[]): T[] {
  const out = new Array<T>(list.length);
  for (let i = 0; i < list.length; i++) out[i] = { ...list[i]! };
  return out;
}

function fastConversation(c: Conversation): Conversation {
  const o = { ...c };
  if (c.cover != null) o.cover = { ...c.cover };
  if (c.consultants != null) o.consultants = c.consultants.slice();
  if (c.invited != null) o.invited = c.invited.slice();
  if (c.joinedAt != null) o.joinedAt = { ...c.joinedAt };
  if (c.channels != null) o.channels = c.channels.slice();
  if (c.skills != null) o.skills = { ...c.skills };
  if (c.offer != null) o.offer = { ...c.offer };
  if (c.handoff != null) o.handoff = { ...c.handoff };
  if (c.ownership != null) o.ownership = copyFlats(c.ownership);
  if (c.declinedBy != null) o.declinedBy = c.declinedBy.slice();
  if (c.followUpOf != null) o.followUpOf = { ...c.followUpOf };
  if (c.survey != null) o.survey = { ...c.survey };
  return o;
}

function fastAgent(a: Agent): Agent {
  const o = { ...a };
  if (a.skills != null) o.skills = { ...a.skills };
  if (a.capacity != null) o.capacity = { ...a.capacity };
  if (a.load != null) o.load = { ...a.load };
  if (a.reserved != null) o.reserved = { ...a.reserved };
  return o;
}

function fastCustomer(c: Customer): Customer {
  const o = { ...c };
  if (c.identities != null) o.identities = copyFlats(c.identities);
  if (c.facts != null) {
    const facts = { ...c.facts };
    for (const key in facts) facts[key] = { ...facts[key]! };
    o.facts = facts;
  }
  if (c.notes != null) o.notes = copyFlats(c.notes);
  if (c.blocked != null) o.blocked = { ...c.blocked };
  return o;
}

function fastMessage(m: Message): Message {
  const o = { ...m };
  if (m.author != null) o.author = { ...m.author };
  if (m.attachments != null) o.attachments = copyFlats(m.attachments);
  if (m.delivery != null) o.delivery = { ...m.delivery };
  return o;
}

/** Copies of stored records for callers: the fast copy for the model's nesting, `copy` for the rest. */
/** `agentId` no longer consults on the conversation nor is invited: their `joinedAt` goes (the field with its last). */
function dropJoined(conv: Conversation, agentId: string): void {
  if (!conv.joinedAt || !Object.hasOwn(conv.joinedAt, agentId)) return;
  const { [agentId]: _, ...rest } = conv.joinedAt;
  if (Object.keys(rest).length > 0) conv.joinedAt = rest;
  else delete conv.joinedAt;
}

const conversationOut = (c: Conversation): Conversation => (irregular.has(c) ? copy(c) : fastConversation(c));
const agentOut = (a: Agent): Agent => (irregular.has(a) ? copy(a) : fastAgent(a));

/** Whether routing may give the agent something on the channel: a place free that no hand-off keeps. */
const hasRoom = (a: Agent, channel: Channel): boolean => freePlaces(a, channel) > 0;
const customerOut = (c: Customer): Customer => (irregular.has(c) ? copy(c) : fastCustomer(c));
const messageOut = (m: Message): Message => (irregular.has(m) ? copy(m) : fastMessage(m));
const promiseOut = (p: CustomerPromise): CustomerPromise => (irregular.has(p) ? copy(p) : flatCopy(p));

/** The free-agent pools one agent goes in. */
interface AgentPools {
  /** Per channel (in CHANNELS order): the channel's pool, then one per skill of the agent. */
  lists: Pool[][];
  /** Per channel: the idle time the agent is in those pools at, or NaN when not in them. */
  at: number[];
  /** Per channel: the entry its keys in those pools point at, while they count. */
  entries: Array<PoolEntry | null>;
  /** Their skill levels by skill number (see `MemoryStore.#levelsOf`). */
  levels: Float64Array;
}

/** An agent in the pools of one channel; its keys stop counting once it leaves or moves (`live` false). */
interface PoolEntry {
  agent: Agent;
  live: boolean;
}

/** The agent leaves the pools of channel `i`: its keys there stop counting, and go when the pools next look. */
function leavePools(pools: AgentPools, i: number): void {
  const entry = pools.entries[i];
  if (!entry) return;
  entry.live = false;
  for (const pool of pools.lists[i]!) pool.dropped();
  pools.entries[i] = null;
  pools.at[i] = Number.NaN;
}

/**
 * Free agents of one channel (and skill), longest idle first. An agent that leaves or moves is not
 * taken out at once (its idle time changes every time it takes a conversation): its old key stops
 * counting, and dead keys go when they reach the head or once they outnumber the live ones.
 */
class Pool {
  #keys = new SortedKeys<PoolEntry>();
  #dead = 0;

  /** Agents in it. */
  get size(): number {
    return this.#keys.size - this.#dead;
  }

  add(key: SortKey<PoolEntry>): void {
    this.#keys.insert(key);
  }

  /** One of its keys stopped counting. */
  dropped(): void {
    this.#dead++;
    // Scans walk past dead keys: keep them fewer than the live ones (a rebuild is one pass, and rare).
    if (this.#dead > 64 && this.#dead > this.#keys.size - this.#dead) {
      const live: SortKey<PoolEntry>[] = [];
      for (const key of this.#keys.entries()) if (key.ref.live) live.push(key);
      this.#keys = SortedKeys.of(live);
      this.#dead = 0;
    }
  }

  /** The longest idle agent's key, dropping dead keys ahead of it. */
  first(): SortKey<PoolEntry> | undefined {
    for (;;) {
      const head = this.#keys.first();
      if (head === undefined || head.ref.live) return head;
      this.#keys.shift();
      this.#dead--;
    }
  }

  /** Keys in order, dead ones included (check `ref.live`); do not change the pool while iterating. */
  entries(): Generator<SortKey<PoolEntry>> {
    return this.#keys.entries();
  }
}

/** A conversation in line: its bucket, and its keys in the bucket's two orders (each key's `ref` is this). */
interface Waiting {
  conv: Conversation;
  bucket: Bucket;
  score: SortKey<Waiting>;
  arrival: SortKey<Waiting>;
}

interface Bucket {
  key: string;
  channel: Channel;
  skills: Skills;
  /** Priority order: score (arrival minus the priority credit), then arrival. */
  byScore: SortedKeys<Waiting>;
  /** Arrival order: for the hard cap and overflow. */
  byArrival: SortedKeys<Waiting>;
  /** Where its heads are kept in its channel's line (see `Line`). */
  slot: number;
  /** `skills` as pairs, to match agents without building them each time. */
  need: Array<[string, number]>;
  /** The same by skill number (see `MemoryStore.#skillIds`): [id, min, id, min, …]. */
  needIds: Float64Array;
  /** Servers (see `#servers`), once counted; then kept up to date as agents change. */
  servers: number | null;
}

export class MemoryStore implements Store {
  readonly #customers = new Map<string, Customer>();
  readonly #identities = new Map<string, string>();
  readonly #customerConversations = new Map<string, Set<string>>();
  /** Customer id → when they were last active (`inactiveCustomers`); merged customers have none. */
  readonly #activity = new Map<string, number>();
  readonly #agents = new Map<string, Agent>();
  /** Free agents per channel (available, with capacity left), longest idle first. */
  readonly #pools = new Map<Channel, Pool>();
  /** The same, per channel and skill. */
  readonly #skillPools = new Map<string, Pool>();
  /** Per agent: the pools they go in by channel, and where they are in them now. */
  readonly #agentPools = new Map<string, AgentPools>();
  readonly #conversations = new Map<string, Conversation>();
  /** Conversations by owner (any status): every change of `ownerId` goes through `#setOwner`. */
  readonly #ownerConversations = new Map<string, Set<string>>();
  /** The open ones (queued or assigned) among them, kept by `#trackOpen` as owner and status change. */
  readonly #ownerOpen = new Map<string, Set<Conversation>>();
  /**
   * Per agent: conversation id → the latest time they took it, passed it on or resolved it as owner
   * (`conversationsTouchedBy`); kept by `#recordMove`, `#noteTouched` on resolving, and on creation.
   */
  readonly #touched = new Map<string, Map<string, number>>();
  readonly #messages = new Map<string, Message>();
  readonly #conversationMessages = new Map<string, string[]>();
  readonly #externalIds = new Map<string, string>();
  readonly #buckets = new Map<string, Bucket>();
  readonly #lines = new Map<Channel, Line>();
  /** Where each waiting conversation is in line. */
  readonly #waiting = new Map<string, Waiting>();
  readonly #timers = new TimerQueue();
  /** Per conversation, its after-call work as last set (`setWrapUp`), until `keepUntil`. */
  readonly #wrapUps = new Map<string, WrapUp & { keepUntil: number }>();
  /** Per agent, their call out to a customer (`setOutCall`), until its `until`. */
  readonly #outCalls = new Map<string, OutCall>();
  readonly #promises = new Map<string, CustomerPromise>();
  /** A conversation's promises in order: the stored records themselves (no lookup by id). */
  readonly #conversationPromises = new Map<string, CustomerPromise[]>();
  readonly #handleTimes = new Map<Channel, HandleTimes>();
  /** Buckets whose servers were counted (on first use): kept up to date as agents change. */
  readonly #counted = new Map<string, CountedGroup>();
  /** Skill names numbered (see `#skillId`). */
  readonly #skillIds = new Map<string, number>();
  /** Scratch of `#claim` and `#bucketHead` (a claim runs to its end before another starts). */
  readonly #headPick: HeadPick = { conv: null, matched: false, rank: [0, 0, 0] };
  readonly #bestPick: BestPick = { conv: null, matched: false, rank: [0, 0, 0], bucket: null, order: 0 };
  readonly #bound: [number, number, number] = [0, 0, 0];
  readonly #seedBound: [number, number, number] = [0, 0, 0];
  #closed = false;
  /** The team's saved replies as last set; null: never set. */
  #savedReplies: SavedReply[] | null = null;
  /** Texting number → when it opted out. */
  readonly #textOptOuts = new Map<string, number>();

  constructor() {
    for (const c of CHANNELS) {
      this.#pools.set(c, new Pool());
      this.#lines.set(c, new Line());
    }
  }

  // ------------------------------------------------------------ customers

  async getCustomer(id: string): Promise<Customer | null> {
    const c = this.#customer(id, false);
    return c ? customerOut(c) : null;
  }

  async resolveCustomer(
    identity: Identity,
    init: Customer,
  ): Promise<{ customer: Customer; created: boolean }> {
    return this.#resolveCustomer(identity, init);
  }

  async findCustomer(identity: Identity): Promise<Customer | null> {
    const id = this.#identities.get(identityKey(identity));
    return id ? this.getCustomer(id) : null;
  }

  async startContact(contact: NewContact): Promise<StartedContact> {
    checkNewContact(contact);
    const prior = this.#storedExternal(contact.channel, contact.externalId);
    if (prior) return { duplicate: true, message: prior };
    const existing = this.#identities.get(identityKey(contact.identity));
    if (existing) {
      const customer = this.#customer(existing);
      if (customer.blocked) {
        return { duplicate: false, created: false, blocked: true, customer: customerOut(customer) };
      }
      return this.#continueContact(customer, contact);
    }
    const { conversation, first } = contact;
    // Its customer is created below (checkNewContact: the new customer's).
    this.#checkConversationId(conversation.id);
    this.#checkNewMessage(first);
    // Its own checks come before its first write: nothing is stored when one refuses.
    const { customer } = this.#resolveCustomer(contact.identity, contact.customer);
    this.#createConversation(conversation);
    const message = this.#append(first);
    const outcome = this.#route({
      ...contact.route,
      conversationId: conversation.id,
      channel: conversation.lastChannel,
    });
    return { duplicate: false, created: true, customer, message, outcome };
  }

  /** A known customer's contact (`Store.startContact`). */
  #continueContact(customer: Customer, contact: NewContact): StartedContact {
    const { first } = contact;
    const named =
      contact.conversationId === undefined ? undefined : this.#conversations.get(contact.conversationId);
    const open =
      named && named.customerId === customer.id && isOpen(named) ? named : this.#openOf(customer.id);
    if (!open) {
      const latest = this.#latestOf(customer.id);
      this.#learn(customer, contact.customer);
      return {
        duplicate: false,
        created: false,
        blocked: false,
        customer: customerOut(customer),
        continued: null,
        latest: latest ? conversationOut(latest) : null,
      };
    }
    this.#checkNewMessage(first);
    const owner =
      open.status === 'assigned' && open.ownerId !== null ? this.#agents.get(open.ownerId) : undefined;
    const switched = open.lastChannel !== first.channel;
    const inLine = this.#waiting.has(open.id);
    this.#learn(customer, contact.customer);
    this.#touch(open, first.channel, contact.route.now);
    const message = this.#append({
      ...first,
      conversationId: open.id,
      author: { type: 'customer', id: customer.id, ...(customer.name ? { name: customer.name } : {}) },
    });
    return {
      duplicate: false,
      created: false,
      blocked: false,
      customer: customerOut(customer),
      continued: {
        conversation: conversationOut(open),
        message,
        switched,
        inLine,
        owner: owner ? agentOut(owner) : null,
      },
      latest: null,
    };
  }

  /** The facts of `taught` the customer has none of yet, recorded; a name among them sets `taught.name`. */
  #learn(customer: Customer, taught: Customer): void {
    let learnt = false;
    for (const [key, fact] of Object.entries(taught.facts)) {
      if (customer.facts[key] !== undefined) continue;
      customer.facts[key] = copy(fact);
      if (key === 'name' && taught.name !== undefined) customer.name = taught.name;
      learnt = true;
    }
    if (learnt) recheck(customer, CUSTOMER_NESTING);
  }

  #resolveCustomer(identity: Identity, init: Customer): { customer: Customer; created: boolean } {
    const existing = this.#identities.get(identityKey(identity));
    if (existing) return { customer: customerOut(this.#customer(existing)!), created: false };
    if (this.#customers.has(init.id))
      throw new ConflictError('duplicate_id', `customer ${init.id} already exists`);
    const customer = copyIn(init, CUSTOMER_NESTING, fastCustomer);
    if (!customer.identities.some((i) => sameIdentity(i, identity))) {
      customer.identities.push(copy(identity));
      recheck(customer, CUSTOMER_NESTING);
    }
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
    this.#active(customer.id, customer.createdAt);
    return { customer: customerOut(customer), created: true };
  }

  async linkIdentity(
    customerId: string,
    identity: Identity,
  ): Promise<{ customer: Customer; takenBy: string | null }> {
    const customer = this.#customer(customerId);
    const holder = this.#identities.get(identityKey(identity));
    if (holder && holder !== customer.id) return { customer: customerOut(customer), takenBy: holder };
    if (!holder) {
      customer.identities.push(copy(identity));
      recheck(customer, CUSTOMER_NESTING);
      this.#identities.set(identityKey(identity), customer.id);
    }
    return { customer: customerOut(customer), takenBy: null };
  }

  async recordFacts(customerId: string, facts: Record<string, Fact>, name?: string): Promise<Customer> {
    const customer = this.#customer(customerId);
    for (const [key, fact] of Object.entries(facts)) {
      const prior = customer.facts[key];
      if (!prior || prior.at <= fact.at) customer.facts[key] = copy(fact);
    }
    if (name !== undefined) customer.name = name;
    recheck(customer, CUSTOMER_NESTING);
    return customerOut(customer);
  }

  async addCustomerNote(customerId: string, note: Note): Promise<Customer> {
    const customer = this.#customer(customerId);
    customer.notes.push(copy(note));
    recheck(customer, CUSTOMER_NESTING);
    return customerOut(customer);
  }

  async setCustomerBlock(customerId: string, block: CustomerBlock | null): Promise<Customer> {
    const customer = this.#customer(customerId);
    if (block === null) delete customer.blocked;
    else if (!customer.blocked) customer.blocked = { ...block };
    recheck(customer, CUSTOMER_NESTING);
    return customerOut(customer);
  }

  async listBlockedCustomers(limit: number): Promise<Customer[]> {
    const blocked = [...this.#customers.values()].filter((c) => c.blocked && !c.mergedInto);
    // The latest blocked first; the same moment, by id (as Redis orders equal scores, reversed).
    blocked.sort((a, b) => b.blocked!.at - a.blocked!.at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return blocked.slice(0, limit).map(customerOut);
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
    // Whom the team blocked stays blocked, under whichever id.
    if (!keep.blocked && other.blocked) keep.blocked = other.blocked;
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
    const otherActive = this.#activity.get(other.id);
    if (otherActive !== undefined) this.#active(keep.id, otherActive);
    this.#activity.delete(other.id);
    other.identities = [];
    other.mergedInto = keep.id;
    // What moved over from the other customer may nest as theirs did.
    if (irregular.has(other)) irregular.add(keep);
    return customerOut(keep);
  }

  async eraseCustomer(customerId: string, options: EraseOptions = {}): Promise<ErasedCustomer> {
    const keep = this.#customer(customerId);
    const active = this.#activity.get(keep.id);
    if (options.inactiveBefore !== undefined && active !== undefined && active >= options.inactiveBefore)
      throw new ConflictError('active', `customer ${keep.id} was active at ${active}`);
    // The ones merged into it, directly or through another: every record whose merges lead to it.
    const merged = [...this.#customers.values()].filter(
      (c) => c !== keep && this.#customer(c.id, false) === keep,
    );
    const conversations = [...(this.#customerConversations.get(keep.id) ?? [])]
      .map((id) => this.#conversations.get(id)!)
      .sort(byCreation);
    const open = conversations.find(isOpen);
    if (open)
      throw new ConflictError(
        'open_conversation',
        `customer ${keep.id} has conversation ${open.id} ${open.status}: close it before erasing them`,
      );
    const messages: Message[] = [];
    for (const c of conversations) {
      for (const id of this.#conversationMessages.get(c.id) ?? []) {
        const m = this.#messages.get(id)!;
        messages.push(messageOut(m));
        this.#messages.delete(id);
        if (m.externalId !== undefined) this.#externalIds.delete(externalKey(m.channel, m.externalId));
        this.#timers.cancel('delivery', id);
      }
      this.#conversationMessages.delete(c.id);
      for (const p of this.#conversationPromises.get(c.id) ?? []) {
        this.#promises.delete(p.id);
        this.#timers.cancel('promise', p.id);
        this.#timers.cancel('promise-warn', p.id);
      }
      this.#conversationPromises.delete(c.id);
      for (const kind of CONVERSATION_TIMERS) this.#timers.cancel(kind, c.id);
      this.#wrapUps.delete(c.id);
      if (c.ownerId !== null) this.#ownerConversations.get(c.ownerId)?.delete(c.id);
      for (const agentId of agentsOn(c)) this.#touched.get(agentId)?.delete(c.id);
      this.#conversations.delete(c.id);
    }
    this.#customerConversations.delete(keep.id);
    for (const identity of keep.identities) this.#identities.delete(identityKey(identity));
    for (const c of [keep, ...merged]) {
      this.#customers.delete(c.id);
      this.#activity.delete(c.id);
      irregular.delete(c);
    }
    return {
      customerIds: [keep.id, ...merged.map((c) => c.id)],
      conversationIds: conversations.map((c) => c.id),
      messages,
    };
  }

  async inactiveCustomers(
    before: number,
    limit: number,
    after?: { lastActiveAt: number; id: string },
  ): Promise<CustomerActivity[]> {
    const found: CustomerActivity[] = [];
    for (const [id, lastActiveAt] of this.#activity) {
      if (lastActiveAt >= before) continue;
      if (
        after &&
        (lastActiveAt < after.lastActiveAt || (lastActiveAt === after.lastActiveAt && id <= after.id))
      )
        continue;
      found.push({ id, lastActiveAt });
    }
    // As Redis orders a sorted set: by score, then by member.
    found.sort((a, b) => a.lastActiveAt - b.lastActiveAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return found.slice(0, limit);
  }

  async learnCustomerActivity(_limit: number): Promise<boolean> {
    // Kept from the start: nothing to learn.
    return true;
  }

  // ------------------------------------------------------------ agents

  async createAgent(agent: Agent): Promise<Agent> {
    if (this.#agents.has(agent.id))
      throw new ConflictError('duplicate_id', `agent ${agent.id} already exists`);
    const a = copyIn(agent, AGENT_NESTING, fastAgent);
    this.#agents.set(a.id, a);
    this.#indexAgent(a);
    this.#adjustServers(null, a);
    return agentOut(a);
  }

  async getAgent(id: string): Promise<Agent | null> {
    const a = this.#agents.get(id);
    return a ? agentOut(a) : null;
  }

  async listAgents(): Promise<Agent[]> {
    return [...this.#agents.values()].map(agentOut);
  }

  async updateAgent(id: string, patch: AgentProfilePatch): Promise<Agent> {
    const a = this.#agent(id);
    const before: ServerShape = { status: a.status, skills: a.skills, capacity: a.capacity };
    this.#unindexAgent(a);
    Object.assign(a, copy(patch));
    // A console address given as null is taken away.
    for (const field of REMOVABLE_AGENT_FIELDS) if (patch[field] === null) delete a[field];
    recheck(a, AGENT_NESTING);
    this.#indexAgent(a);
    this.#adjustServers(before, a);
    return agentOut(a);
  }

  async setAgentStatus(
    id: string,
    status: AgentStatus,
    reason: string | undefined,
    now: number,
  ): Promise<Agent> {
    return agentOut(this.#setAgentStatus(id, status, reason, now));
  }

  #setAgentStatus(id: string, status: AgentStatus, reason: string | undefined, now: number): Agent {
    let a = this.#agent(id);
    if (a.leftAt !== undefined && status !== 'offline') throw leftTheTeam(id);
    const before: ServerShape = { status: a.status, skills: a.skills, capacity: a.capacity };
    if (status === 'available' && a.status !== 'available') {
      a.availableSince = now;
      a.idleSince = now;
    }
    a.status = status;
    if (reason !== undefined) a.statusReason = reason;
    const dropSince = status !== 'available' && 'availableSince' in a;
    const dropReason = reason === undefined && 'statusReason' in a;
    if (dropSince || dropReason) a = this.#rebuildAgent(a, dropSince, dropReason);
    this.#indexAgent(a);
    this.#adjustServers(before, a);
    return a;
  }

  // ------------------------------------------------------------ conversations and messages

  async createConversation(conversation: Conversation): Promise<Conversation> {
    this.#checkNewConversation(conversation);
    return this.#createConversation(conversation);
  }

  async startOwned(conversation: Conversation, agentId: string, now: number): Promise<Conversation> {
    this.#checkNewConversation(conversation);
    if (conversation.status !== 'queued' || conversation.ownerId !== null)
      throw new ValidationError(
        "a conversation an agent starts is new: waiting and nobody's",
        'conversation.status',
      );
    const open = this.#openOf(this.#customer(conversation.customerId).id);
    if (open)
      throw new ConflictError(
        'open_conversation',
        `customer ${conversation.customerId} has conversation ${open.id} open`,
      );
    const agent = this.#agent(agentId);
    const channel = conversation.lastChannel;
    if (agent.load[channel] >= agent.capacity[channel])
      throw new CapacityError(agentId, `no ${channel} capacity left`);
    this.#createConversation(conversation);
    const c = this.#conversations.get(conversation.id)!;
    this.#takeSlot(agent, channel, now);
    this.#own(c, agentId, channel, 'outbound', now);
    return conversationOut(c);
  }

  async startConversation(conversation: Conversation, first: Message): Promise<StartedConversation> {
    checkFirstMessage(conversation, first);
    const prior = this.#priorMessage(first);
    if (prior) return { duplicate: true, conversation: null, message: prior };
    this.#checkNewConversation(conversation);
    this.#checkNewMessage(first);
    const created = this.#createConversation(conversation);
    return { duplicate: false, conversation: created, message: this.#append(first) };
  }

  #checkNewConversation(conversation: Conversation): void {
    this.#checkConversationId(conversation.id);
    this.#customer(conversation.customerId);
  }

  #checkConversationId(id: string): void {
    if (this.#conversations.has(id))
      throw new ConflictError('duplicate_id', `conversation ${id} already exists`);
  }

  #createConversation(conversation: Conversation): Conversation {
    const c = copyIn(conversation, CONVERSATION_NESTING, fastConversation);
    this.#conversations.set(c.id, c);
    this.#conversationSet(c.customerId).add(c.id);
    if (c.ownerId !== null) this.#indexOwner(c.id, c.ownerId);
    this.#trackOpen(c);
    for (const move of c.ownership) this.#noteMoved(c.id, move);
    if (c.status === 'resolved' && c.ownerId !== null && c.resolvedAt !== null)
      this.#noteTouched(c.ownerId, c.id, c.resolvedAt);
    return conversationOut(c);
  }

  async getConversation(id: string): Promise<Conversation | null> {
    const c = this.#conversations.get(id);
    return c ? conversationOut(c) : null;
  }

  async openConversationOf(customerId: string): Promise<Conversation | null> {
    const open = this.#openOf(customerId);
    return open ? conversationOut(open) : null;
  }

  #openOf(customerId: string): Conversation | null {
    let best: Conversation | null = null;
    for (const id of this.#customerConversations.get(customerId) ?? []) {
      const c = this.#conversations.get(id);
      if (c && isOpen(c) && (!best || lastActivity(c) > lastActivity(best))) best = c;
    }
    return best;
  }

  /** The customer's conversation created last (createdAt, then id: `listConversations`' last). */
  #latestOf(customerId: string): Conversation | null {
    let latest: Conversation | null = null;
    for (const id of this.#customerConversations.get(customerId) ?? []) {
      const c = this.#conversations.get(id)!;
      if (!latest || byCreation(c, latest) > 0) latest = c;
    }
    return latest;
  }

  async listConversations(query: ConversationQuery): Promise<Conversation[]> {
    const limit = query.limit ?? 1000;
    const openOnly = query.status === 'queued' || query.status === 'assigned';
    const source =
      query.customerId !== undefined
        ? [...(this.#customerConversations.get(query.customerId) ?? [])].map(
            (id) => this.#conversations.get(id)!,
          )
        : query.ownerId !== undefined
          ? openOnly
            ? [...(this.#ownerOpen.get(query.ownerId) ?? [])]
            : [...(this.#ownerConversations.get(query.ownerId) ?? [])].map(
                (id) => this.#conversations.get(id)!,
              )
          : [...this.#conversations.values()];
    const found: Conversation[] = [];
    for (const c of source) {
      if (query.status !== undefined && c.status !== query.status) continue;
      if (query.ownerId !== undefined && c.ownerId !== query.ownerId) continue;
      if (query.createdSince !== undefined && c.createdAt < query.createdSince) continue;
      const before = query.createdBefore;
      if (before && byCreation(c, { createdAt: before.at, id: before.id }) >= 0) continue;
      found.push(c);
    }
    found.sort(byCreation);
    return (limit === 0 ? found : found.slice(-limit)).map(conversationOut);
  }

  async listAgentConversations(agentId: string): Promise<Conversation[]> {
    const found: Conversation[] = [];
    // Every assigned conversation has an owner: the open ones of every owner hold them all.
    for (const open of this.#ownerOpen.values()) {
      for (const c of open) if (onAgentList(c, agentId)) found.push(c);
    }
    found.sort(byCreation);
    return found.map(conversationOut);
  }

  async conversationsTouchedBy(agentId: string, since: number): Promise<Conversation[]> {
    const found: Conversation[] = [];
    for (const [id, at] of this.#touched.get(agentId) ?? []) {
      const c = this.#conversations.get(id);
      if (c && at >= since) found.push(c);
    }
    found.sort(byCreation);
    return found.map(conversationOut);
  }

  async touchConversation(id: string, channel: Channel, now: number): Promise<Conversation> {
    const c = this.#conversation(id);
    this.#touch(c, channel, now);
    return conversationOut(c);
  }

  #touch(c: Conversation, channel: Channel, now: number): void {
    if (!c.channels.includes(channel)) c.channels.push(channel);
    c.lastChannel = channel;
    c.lastContactAt = now;
  }

  async appendMessage(
    message: Message,
    options: AppendOptions = {},
  ): Promise<{ message: Message; duplicate: boolean }> {
    const prior = this.#priorMessage(message);
    if (prior) return { message: prior, duplicate: true };
    this.#conversation(message.conversationId);
    this.#checkNewMessage(message);
    const stored = this.#append(message);
    if (options.deliveryDueAt !== undefined)
      this.#timers.schedule({ kind: 'delivery', ref: message.id, dueAt: options.deliveryDueAt });
    return { message: stored, duplicate: false };
  }

  /** The message stored under this one's (channel, externalId), if any. */
  #priorMessage(message: Message): Message | null {
    return message.externalId === undefined
      ? null
      : this.#storedExternal(message.channel, message.externalId);
  }

  #storedExternal(channel: Channel, externalId: string): Message | null {
    const prior = this.#externalIds.get(externalKey(channel, externalId));
    return prior ? messageOut(this.#messages.get(prior)!) : null;
  }

  #checkNewMessage(message: Message): void {
    if (this.#messages.has(message.id))
      throw new ConflictError('duplicate_id', `message ${message.id} already exists`);
  }

  #append(message: Message): Message {
    const m = copyIn(message, MESSAGE_NESTING, fastMessage);
    this.#messages.set(m.id, m);
    let list = this.#conversationMessages.get(m.conversationId);
    if (!list) {
      list = [];
      this.#conversationMessages.set(m.conversationId, list);
    }
    list.push(m.id);
    if (m.externalId !== undefined) this.#externalIds.set(externalKey(m.channel, m.externalId), m.id);
    const conversation = this.#conversations.get(m.conversationId);
    if (conversation) this.#active(conversation.customerId, m.at);
    return messageOut(m);
  }

  /** The customer was active at `at` (a later activity they had stands). */
  #active(customerId: string, at: number): void {
    const was = this.#activity.get(customerId);
    if (was === undefined || at > was) this.#activity.set(customerId, at);
  }

  async findMessageByExternalId(channel: Channel, externalId: string): Promise<Message | null> {
    return this.#storedExternal(channel, externalId);
  }

  async getMessage(id: string): Promise<Message | null> {
    const m = this.#messages.get(id);
    return m ? messageOut(m) : null;
  }

  async listMessages(conversationId: string): Promise<Message[]> {
    return (this.#conversationMessages.get(conversationId) ?? []).map((id) =>
      messageOut(this.#messages.get(id)!),
    );
  }

  async updateDelivery(
    messageId: string,
    delivery: Message['delivery'],
    options: DeliveryUpdate = {},
  ): Promise<{ message: Message; applied: boolean }> {
    const m = this.#messages.get(messageId);
    if (!m) throw new NotFoundError('message', messageId);
    if (!deliveryApplies(m.delivery, delivery, options.ifAttemptsAtMost))
      return { message: messageOut(m), applied: false };
    m.delivery = copy(delivery);
    recheck(m, MESSAGE_NESTING);
    if (options.timer === null) this.#timers.cancel('delivery', messageId);
    else if (options.timer !== undefined)
      this.#timers.schedule({ kind: 'delivery', ref: messageId, dueAt: options.timer });
    return { message: messageOut(m), applied: true };
  }

  // ------------------------------------------------------------ routing decisions

  async route(req: RouteRequest): Promise<RouteOutcome> {
    return this.#route(req);
  }

  #route(req: RouteRequest): RouteOutcome {
    const conv = this.#conversation(req.conversationId);
    const cover = req.mode.type === 'cover';
    const routable = cover
      ? conv.status === 'assigned' && conv.cover === null
      : conv.status === 'queued' && conv.offer === null;
    if (!routable) return { type: 'skipped', conversation: conversationOut(conv) };

    const found = this.#pick(req.candidates, req.channel, conv);
    if (!found) {
      const waitQuoted = (this.#conversationPromises.get(conv.id) ?? []).some(isOpenWait);
      this.#enqueue(conv, req.channel, req.score);
      if (req.overflowAt !== undefined)
        this.#timers.schedule({ kind: 'overflow', ref: conv.id, dueAt: req.overflowAt });
      return {
        type: 'queued',
        conversation: conversationOut(conv),
        snapshot: this.#snapshot(conv.id),
        waitQuoted,
      };
    }
    const { agent, reason } = found;
    switch (req.mode.type) {
      case 'assign': {
        const previousOwnerId = conv.ownerId;
        this.#takeSlot(agent, req.channel, req.now);
        this.#own(conv, agent.id, req.channel, reason, req.now);
        return {
          type: 'assigned',
          conversation: conversationOut(conv),
          agentId: agent.id,
          reason,
          previousOwnerId,
          settled: this.#answer(conv, req.now),
        };
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
        this.#timers.schedule({ kind: 'offer', ref: conv.id, dueAt: req.mode.expiresAt });
        return { type: 'offered', conversation: conversationOut(conv), agentId: agent.id, reason };
      case 'cover':
        this.#takeSlot(agent, req.channel, req.now);
        this.#cover(conv, agent.id, req.channel, req.now);
        return {
          type: 'covered',
          conversation: conversationOut(conv),
          agentId: agent.id,
          settled: this.#answer(conv, req.now),
        };
    }
  }

  async claimNext(agentId: string, now: number, rules: WaitRules): Promise<ClaimOutcome | null> {
    return this.#claim(agentId, now, rules);
  }

  async fill(agentId: string, now: number, rules: WaitRules): Promise<ClaimOutcome[]> {
    return this.#fill(agentId, now, rules);
  }

  #fill(agentId: string, now: number, rules: WaitRules): ClaimOutcome[] {
    const out: ClaimOutcome[] = [];
    while (out.length < FILL_LIMIT) {
      const outcome = this.#claim(agentId, now, rules);
      if (!outcome) break;
      out.push(outcome);
    }
    return out;
  }

  #claim(agentId: string, now: number, rules: WaitRules): ClaimOutcome | null {
    const agent = this.#agents.get(agentId);
    if (agent?.status !== 'available') return null;
    // The best so far, in `#bestPick` (no objects per claim: a claim runs to its end before another starts).
    const best = this.#bestPick;
    clearPick(best);
    const pick = this.#headPick;
    const levels = this.#levelsOf(agent);
    // Each bucket's head ranks at least [0, oldest arrival, oldest arrival] when its oldest is past the
    // hard cap, else at least [1, lowest score, its arrival]. The bucket with the lowest such bound is
    // asked first; then any bucket whose bound cannot beat the best so far is skipped in O(1).
    let seed: Bucket | null = null;
    let seedMatched = false;
    let seedOrder = -1;
    const bound = this.#bound;
    const seedBound = this.#seedBound;
    for (let pass = 0; pass < 2; pass++) {
      for (let c = 0; c < CHANNELS.length; c++) {
        const channel = CHANNELS[c]!;
        if (!hasRoom(agent, channel)) continue;
        const line = this.#lines.get(channel)!;
        const { buckets, oldest, headScore, headArrival } = line;
        for (let i = 0; i < buckets.length; i++) {
          const since = oldest[i]!;
          if (since === Number.POSITIVE_INFINITY) continue; // empty
          const matched = line.skilled(i, levels);
          // Not skilled for it and nothing there has overflowed yet: nothing for this agent (cheap, common).
          if (!matched && now - since < rules.overflowAfterMs) continue;
          const order = c * SLOTS_PER_CHANNEL + i;
          if (now - since >= rules.hardCapMs) {
            bound[0] = 0;
            bound[1] = since;
            bound[2] = since;
          } else {
            bound[0] = 1;
            bound[1] = headScore[i]!;
            bound[2] = headArrival[i]!;
          }
          if (pass === 0) {
            if (seed === null || lessRanked(bound, order, seedBound, seedOrder)) {
              seed = buckets[i]!;
              seedMatched = matched;
              seedOrder = order;
              seedBound[0] = bound[0];
              seedBound[1] = bound[1];
              seedBound[2] = bound[2];
            }
            continue;
          }
          if (order === seedOrder) continue; // asked first
          if (best.conv && !lessRanked(bound, order, best.rank, best.order)) continue;
          const bucket = buckets[i]!;
          if (
            this.#bucketHead(bucket, agent, matched, now, rules) &&
            (!best.conv || lessRanked(pick.rank, order, best.rank, best.order))
          )
            takePick(best, pick, bucket, order);
        }
      }
      if (pass === 0) {
        if (seed === null) return null;
        if (this.#bucketHead(seed, agent, seedMatched, now, rules)) takePick(best, pick, seed, seedOrder);
      }
    }
    const { conv, bucket, matched } = best;
    if (!conv || !bucket) return null;
    const reason = claimReason(conv, matched);
    this.#takeSlot(agent, bucket.channel, now);
    if (conv.status === 'assigned') {
      this.#cover(conv, agent.id, bucket.channel, now);
      const settled = this.#answer(conv, now);
      return { type: 'assigned', conversation: conversationOut(conv), agentId: agent.id, reason, settled };
    }
    const offerMs = rules.offerTimeoutMs[bucket.channel];
    if (offerMs !== undefined) {
      conv.offer = { agentId: agent.id, at: now, expiresAt: now + offerMs, reason, channel: bucket.channel };
      this.#timers.schedule({ kind: 'offer', ref: conv.id, dueAt: now + offerMs });
      return { type: 'offered', conversation: conversationOut(conv), agentId: agent.id, reason };
    }
    this.#own(conv, agent.id, bucket.channel, reason, now);
    const settled = this.#answer(conv, now);
    return { type: 'assigned', conversation: conversationOut(conv), agentId: agent.id, reason, settled };
  }

  async acceptOffer(conversationId: string, agentId: string, now: number): Promise<Answered> {
    const conv = this.#conversation(conversationId);
    const offer = conv.offer;
    if (!offer || offer.agentId !== agentId) {
      throw new InvalidStateError(`conversation ${conversationId} has no open offer for agent ${agentId}`);
    }
    conv.offer = null;
    this.#own(conv, agentId, offer.channel, offer.reason, now);
    this.#timers.cancel('offer', conv.id);
    return { conversation: conversationOut(conv), settled: this.#answer(conv, now) };
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
    // Its timer goes with it (as the Redis store's withdrawOffer-1.lua).
    this.#timers.cancel('offer', conv.id);
    const agent = this.#agents.get(agentId);
    if (agent) {
      this.#releaseSlot(agent, offer.channel);
      // One who left the team meanwhile stays offline.
      if (agentStatus && agent.leftAt === undefined)
        await this.setAgentStatus(agentId, agentStatus.status, agentStatus.reason, now);
    }
    // Only one who stays available is passed over for the rest of this wait: one set away (a missed ring) is
    // asked again once back, or a caller could wait for ever beside an agent with nothing to do.
    const status = this.#agents.get(agentId)?.status ?? 'available';
    if (status === 'available' && !conv.declinedBy.includes(agentId)) conv.declinedBy.push(agentId);
    return conversationOut(conv);
  }

  async setWaitingForOwner(conversationId: string, since: number | null): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    conv.waitingForOwnerSince = since;
    if (since === null) this.#dequeue(conv.id);
    return conversationOut(conv);
  }

  async comeBack(
    agentId: string,
    reason: string | undefined,
    now: number,
    liveChannels: readonly Channel[],
    rules: WaitRules,
  ): Promise<CameBack> {
    const was = this.#agent(agentId);
    const before = {
      status: was.status,
      ...(was.statusReason !== undefined ? { statusReason: was.statusReason } : {}),
    };
    this.#setAgentStatus(agentId, 'available', reason, now);
    const back = this.#ownerBack(agentId, liveChannels);
    const claims = this.#fill(agentId, now, rules);
    return { before, ...back, claims, agent: agentOut(this.#agent(agentId)) };
  }

  #ownerBack(agentId: string, liveChannels: readonly Channel[]): OwnerBack {
    // A cover on a channel that is not live ends when the owner is back (a live call stays with its coverer).
    const coverEnds = (c: Conversation): boolean =>
      c.cover !== null && !liveChannels.includes(c.cover.channel);
    // What waited for them or is covered: only those change, and only those are put in order (usually none).
    const changing: Conversation[] = [];
    for (const c of this.#ownerOpen.get(agentId) ?? []) {
      if (c.status !== 'assigned' || c.ownerId !== agentId) continue;
      this.#timers.cancel('sticky', c.id);
      if (c.waitingForOwnerSince !== null || coverEnds(c)) changing.push(c);
    }
    if (changing.length > 1) changing.sort((x, y) => x.createdAt - y.createdAt || (x.id < y.id ? -1 : 1));
    const freed: string[] = [];
    for (const c of changing) {
      if (c.waitingForOwnerSince !== null) {
        c.waitingForOwnerSince = null;
        this.#dequeue(c.id);
      }
      const cover = c.cover;
      if (cover && coverEnds(c)) {
        this.#dequeue(c.id);
        c.cover = null;
        const agent = this.#agents.get(cover.agentId);
        if (agent) this.#releaseSlot(agent, cover.channel);
        freed.push(cover.agentId);
      }
    }
    return { updated: changing.map(conversationOut), freed };
  }

  async endCover(
    conversationId: string,
    _now: number,
  ): Promise<{ conversation: Conversation; agentId: string | null }> {
    const conv = this.#conversation(conversationId);
    this.#dequeue(conv.id);
    const cover = conv.cover;
    if (!cover) return { conversation: conversationOut(conv), agentId: null };
    conv.cover = null;
    const agent = this.#agents.get(cover.agentId);
    if (agent) this.#releaseSlot(agent, cover.channel);
    return { conversation: conversationOut(conv), agentId: cover.agentId };
  }

  async requeue(conversationId: string, _now: number, score: number, since?: number): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    if (conv.status !== 'assigned')
      throw new InvalidStateError(`conversation ${conversationId} is not assigned`);
    this.#releaseHolders(conv);
    conv.status = 'queued';
    conv.queuedAt = since ?? conv.waitingForOwnerSince ?? conv.lastContactAt;
    conv.waitingForOwnerSince = null;
    conv.assignedAt = null;
    this.#endHandoff(conv);
    conv.declinedBy = [];
    this.#enqueue(conv, conv.lastChannel, score);
    return conversationOut(conv);
  }

  async resolve(
    conversationId: string,
    now: number,
    followUpAt: number | null,
    options: ResolveOptions = {},
  ): Promise<Resolved> {
    const conv = this.#conversation(conversationId);
    if (options.by !== undefined && (conv.ownerId !== options.by || conv.status !== 'assigned'))
      throw new NotOwnerError(options.by, conversationId, 'resolve');
    if (conv.status !== 'assigned') {
      throw new InvalidStateError(
        `conversation ${conversationId} is ${conv.status}; only an assigned one can be resolved`,
      );
    }
    this.#timers.cancel('sticky', conv.id);
    const surveyAt = options.surveyAt ?? null;
    if (surveyAt !== null) this.#timers.schedule({ kind: 'survey', ref: conv.id, dueAt: surveyAt });
    const coverer = conv.cover?.agentId ?? null;
    const keptFor = conv.handoff?.channel ? conv.handoff.to : null;
    if (conv.slotChannel && conv.assignedAt !== null)
      this.#recordHandle(conv.slotChannel, now - conv.assignedAt);
    this.#releaseHolders(conv);
    this.#dequeue(conv.id);
    conv.status = 'resolved';
    this.#trackOpen(conv);
    conv.resolvedAt = now;
    if (conv.ownerId !== null) this.#noteTouched(conv.ownerId, conv.id, now);
    conv.followUpAt = followUpAt;
    conv.waitingForOwnerSince = null;
    if (conv.consultants.length > 0) conv.consultants = [];
    if (conv.invited.length > 0) conv.invited = [];
    delete conv.joinedAt;
    this.#endHandoff(conv);
    const customer = this.#customers.get(conv.customerId);
    if (customer && conv.ownerId) {
      customer.lastOwnerId = conv.ownerId;
      customer.lastOwnerAt = now;
    }
    const out = conversationOut(conv);
    const claims = options.fill && conv.ownerId ? this.#fill(conv.ownerId, now, options.fill) : [];
    return { conversation: out, coverer, keptFor, claims };
  }

  async abandon(conversationId: string, now: number, closedBy?: 'block'): Promise<Conversation> {
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
      // Its timer goes with it (as the Redis store's abandon-1.lua).
      this.#timers.cancel('offer', conv.id);
    }
    conv.status = 'abandoned';
    this.#trackOpen(conv);
    conv.resolvedAt = now;
    if (closedBy) conv.closedBy = closedBy;
    return conversationOut(conv);
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
    const channel = conv.slotChannel;
    conv.handoff = channel ? { from, to, note, at: now, channel } : { from, to, note, at: now };
    if (channel) this.#keepPlace(target, channel, 1);
    return conversationOut(conv);
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
    this.#endHandoff(conv);
    if (channel && previous) this.#releaseSlot(previous, channel);
    if (channel) this.#takeSlot(target, channel, now, false);
    this.#recordMove(conv, agentId, 'handoff', now);
    this.#setOwner(conv, agentId);
    conv.consultants = conv.consultants.filter((id) => id !== agentId);
    conv.invited = conv.invited.filter((id) => id !== agentId);
    dropJoined(conv, agentId);
    return conversationOut(conv);
  }

  async declineHandoff(conversationId: string, agentId: string): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    if (!conv.handoff || conv.handoff.to !== agentId) {
      throw new InvalidStateError(
        `conversation ${conversationId} has no hand-off pending for agent ${agentId}`,
      );
    }
    this.#endHandoff(conv);
    return conversationOut(conv);
  }

  async inviteConsultant(conversationId: string, agentId: string, now: number): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    this.#agent(agentId);
    if (conv.status !== 'assigned')
      throw new InvalidStateError(`conversation ${conversationId} is not assigned`);
    if (conv.ownerId === agentId) throw new ValidationError('the owner cannot consult themselves', 'agentId');
    if (!conv.consultants.includes(agentId) && !conv.invited.includes(agentId)) {
      conv.invited.push(agentId);
      conv.joinedAt = { ...conv.joinedAt, [agentId]: now };
    }
    return conversationOut(conv);
  }

  async joinConsult(conversationId: string, agentId: string, now: number): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    if (conv.consultants.includes(agentId)) return conversationOut(conv);
    if (!conv.invited.includes(agentId) || conv.status !== 'assigned') {
      throw new InvalidStateError(
        `agent ${agentId} was not invited to consult on conversation ${conversationId}`,
      );
    }
    conv.invited = conv.invited.filter((id) => id !== agentId);
    conv.consultants.push(agentId);
    conv.joinedAt = { ...conv.joinedAt, [agentId]: now };
    return conversationOut(conv);
  }

  async leaveConsult(conversationId: string, agentId: string): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    conv.invited = conv.invited.filter((id) => id !== agentId);
    conv.consultants = conv.consultants.filter((id) => id !== agentId);
    dropJoined(conv, agentId);
    return conversationOut(conv);
  }

  async queueSnapshot(conversationId: string): Promise<QueueSnapshot | null> {
    return this.#snapshot(conversationId);
  }

  #snapshot(conversationId: string): QueueSnapshot | null {
    const waiting = this.#waiting.get(conversationId);
    if (!waiting) return null;
    const handled = this.#handleTimes.get(waiting.bucket.channel);
    const rank = waiting.bucket.byScore.rankOf(waiting.score);
    // Of those ahead (the first RINGING_LOOKAHEAD), the ones ringing an agent are being answered, not waiting: those
    // whose offer timer is set, as the Redis store tells them (an offer whose time is up and whose timer a tick took
    // is about to be withdrawn: waiting).
    const ringing = waiting.bucket.byScore.countAmongFirst(Math.min(rank, RINGING_LOOKAHEAD), (key) =>
      this.#timers.has('offer', key.ref.conv.id),
    );
    // Those who declined this wait and stayed available are not offered it again: they serve others, not this one.
    let servers = this.#servers(waiting.bucket);
    let declined = 0;
    for (const agentId of this.#conversations.get(conversationId)?.declinedBy ?? []) {
      const a = this.#agents.get(agentId);
      if (a?.status !== 'available') continue;
      servers -= serving(a, waiting.bucket);
      if (a.leftAt === undefined) declined++;
    }
    return {
      channel: waiting.bucket.channel,
      position: rank - ringing + 1,
      servers,
      declined,
      handled: { count: handled?.count ?? 0, totalMs: handled?.totalMs ?? 0 },
    };
  }

  async recordSurvey(conversationId: string, survey: Survey): Promise<Conversation> {
    const conv = this.#conversation(conversationId);
    conv.survey = copy(survey);
    recheck(conv, CONVERSATION_NESTING);
    return conversationOut(conv);
  }

  // ------------------------------------------------------------ timers

  async schedule(timer: Timer): Promise<void> {
    this.#timers.schedule({ ...timer });
  }

  async cancelTimer(kind: TimerKind, ref: string): Promise<void> {
    this.#timers.cancel(kind, ref);
  }

  async setWrapUp(conversationId: string, wrapUp: WrapUp, keepMs: number): Promise<void> {
    this.#wrapUps.set(conversationId, { ...wrapUp, keepUntil: wrapUp.since + keepMs });
    this.#timers.schedule({ kind: 'wrapup', ref: conversationId, dueAt: wrapUp.dueAt });
  }

  async wrapUp(conversationId: string, now: number): Promise<WrapUp | null> {
    const kept = this.#wrapUps.get(conversationId);
    if (!kept) return null;
    if (kept.keepUntil <= now) {
      this.#wrapUps.delete(conversationId);
      return null;
    }
    return { since: kept.since, dueAt: kept.dueAt };
  }

  async listWrapUps(now: number, withinMs: number): Promise<KeptWrapUp[]> {
    const out: KeptWrapUp[] = [];
    for (const [id, kept] of this.#wrapUps) {
      if (kept.keepUntil <= now || kept.dueAt <= now || kept.dueAt > now + withinMs) continue;
      const conv = this.#conversations.get(id);
      if (conv)
        out.push({ conversation: conversationOut(conv), wrapUp: { since: kept.since, dueAt: kept.dueAt } });
    }
    return out;
  }

  async setOutCall(call: OutCall, now: number): Promise<void> {
    if (call.until > now) this.#outCalls.set(call.agentId, { ...call });
    else this.#outCalls.delete(call.agentId);
  }

  async endOutCall(agentId: string): Promise<void> {
    this.#outCalls.delete(agentId);
  }

  async listOutCalls(agentIds: readonly string[], now: number): Promise<OutCall[]> {
    const out: OutCall[] = [];
    for (const id of agentIds) {
      const call = this.#outCalls.get(id);
      if (call && call.until > now) out.push({ ...call });
      else if (call) this.#outCalls.delete(id);
    }
    return out;
  }

  async claimDueTimers(now: number, limit: number, leaseUntil?: number): Promise<Timer[]> {
    return this.#timers.claimDue(now, limit, leaseUntil);
  }

  async finishTimers(timers: ReadonlyArray<Pick<Timer, 'kind' | 'ref'>>, leaseUntil: number): Promise<void> {
    for (const t of timers) this.#timers.finish(t.kind, t.ref, leaseUntil);
  }

  // ------------------------------------------------------------ promises and figures

  async addPromise(promise: CustomerPromise): Promise<CustomerPromise> {
    const stored = copyIn(promise, PROMISE_NESTING, flatCopy);
    const previous = this.#promises.get(promise.id);
    this.#promises.set(promise.id, stored);
    let list = this.#conversationPromises.get(promise.conversationId);
    if (!list) {
      list = [];
      this.#conversationPromises.set(promise.conversationId, list);
    }
    // The same id again (as the Redis store, which lists ids): every listing of it is the new record.
    if (previous) for (let i = 0; i < list.length; i++) if (list[i] === previous) list[i] = stored;
    list.push(stored);
    return promiseOut(stored);
  }

  async settlePromise(
    id: string,
    state: Exclude<PromiseState, 'open'>,
    now: number,
  ): Promise<CustomerPromise | null> {
    const p = this.#promises.get(id);
    if (p?.state !== 'open') return null;
    p.state = state;
    p.settledAt = now;
    return promiseOut(p);
  }

  async listPromises(conversationId: string): Promise<CustomerPromise[]> {
    return (this.#conversationPromises.get(conversationId) ?? []).map(promiseOut);
  }

  async getPromise(id: string): Promise<CustomerPromise | null> {
    const p = this.#promises.get(id);
    return p ? promiseOut(p) : null;
  }

  async recordHandleTime(channel: Channel, ms: number): Promise<void> {
    this.#recordHandle(channel, ms);
  }

  async recentHandleTimes(channel: Channel): Promise<number[]> {
    return this.#handleTimes.get(channel)?.list() ?? [];
  }

  async stats(): Promise<StoreStats> {
    const waitingByChannel: Record<Channel, number> = { voice: 0, sms: 0, chat: 0, email: 0 };
    for (const { bucket } of this.#waiting.values()) waitingByChannel[bucket.channel]++;
    const agentsByStatus: Record<AgentStatus, number> = { available: 0, away: 0, offline: 0 };
    // The team: one who left it is counted nowhere.
    for (const a of this.#agents.values()) if (a.leftAt === undefined) agentsByStatus[a.status]++;
    return { waiting: this.#waiting.size, waitingByChannel, agentsByStatus };
  }

  async getSavedReplies(): Promise<SavedReply[] | null> {
    return this.#savedReplies ? this.#savedReplies.map(copyReply) : null;
  }

  async setSavedReplies(replies: SavedReply[]): Promise<void> {
    this.#savedReplies = replies.map(copyReply);
  }

  async textOptOut(address: string): Promise<number | null> {
    return this.#textOptOuts.get(address) ?? null;
  }

  async setTextOptOut(address: string, at: number | null): Promise<void> {
    if (at === null) this.#textOptOuts.delete(address);
    else this.#textOptOuts.set(address, at);
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
    let window = this.#handleTimes.get(channel);
    if (!window) {
      window = new HandleTimes(HANDLE_TIME_WINDOW);
      this.#handleTimes.set(channel, window);
    }
    window.push(Math.max(0, ms));
  }

  /**
   * A person answered `conv` (see `Store`, "answering"): its waiting timers go, and its open quoted waits
   * settle, kept when answered by their due time, else broken. Returns copies of those settled.
   */
  #answer(conv: Conversation, now: number): CustomerPromise[] {
    this.#timers.cancel('overflow', conv.id);
    this.#timers.cancel('sticky', conv.id);
    const promises = this.#conversationPromises.get(conv.id);
    if (!promises) return [];
    const settled: CustomerPromise[] = [];
    for (const p of promises) {
      if (!isOpenWait(p)) continue;
      p.state = now <= p.dueAt ? 'kept' : 'broken';
      p.settledAt = now;
      this.#timers.cancel('promise', p.id);
      this.#timers.cancel('promise-warn', p.id);
      settled.push(promiseOut(p));
    }
    return settled;
  }

  /** The first candidate that is available with capacity on the channel and not excluded. */
  #pick(
    candidates: Candidate[],
    channel: Channel,
    conv: Conversation,
  ): { agent: Agent; reason: OwnershipReason } | null {
    for (const candidate of candidates) {
      if (candidate.kind === 'agent') {
        const a = this.#agents.get(candidate.agentId);
        if (a && a.status === 'available' && hasRoom(a, channel) && !excludedFrom(conv, a.id)) {
          return { agent: a, reason: candidate.reason };
        }
        continue;
      }
      const a = this.#pickFromPool(channel, candidate.skills, conv);
      if (a) return { agent: a, reason: candidate.reason };
    }
    return null;
  }

  /** Longest-idle free agent on the channel with the skills, scanning the most selective index. */
  #pickFromPool(channel: Channel, skills: Skills, conv: Conversation): Agent | null {
    let index = this.#pools.get(channel)!;
    for (const skill of Object.keys(skills)) {
      const byskill = this.#skillPools.get(`${channel}|${skill}`);
      if (!byskill || byskill.size === 0) return null;
      if (byskill.size < index.size) index = byskill;
    }
    // Usually the longest idle one fits: no iterator needed.
    const head = index.first();
    if (head === undefined) return null;
    if (!excludedFrom(conv, head.id) && meetsSkills(head.ref.agent.skills, skills)) return head.ref.agent;
    for (const key of index.entries()) {
      if (key.ref.live && !excludedFrom(conv, key.id) && meetsSkills(key.ref.agent.skills, skills))
        return key.ref.agent;
    }
    return null;
  }

  /**
   * The conversation this agent would take from the bucket, in `#headPick` with its rank
   * [hard-capped ? 0 : 1, key, arrival]: false when there is none.
   */
  #bucketHead(bucket: Bucket, agent: Agent, matched: boolean, now: number, rules: WaitRules): boolean {
    const pick = this.#headPick;
    const oldest = bucket.byArrival.first();
    if (!oldest) return false;
    // Not skilled for it and nothing here has overflowed yet: nothing for this agent (cheap, common).
    if (!matched && now - oldest.a < rules.overflowAfterMs) return false;
    pick.matched = matched;
    // Hard cap first: whoever has waited longest past the cap, in arrival order.
    if (now - oldest.a >= rules.hardCapMs) {
      for (const key of bucket.byArrival.entries()) {
        if (now - key.a < rules.hardCapMs) break;
        if (!matched && now - key.a < rules.overflowAfterMs) break;
        if (this.#eligible(key.ref.conv, agent.id)) return setPick(pick, key.ref.conv, 0, key.a, key.a);
      }
    }
    if (matched) {
      // Usually the head of the line is eligible: no iterator needed.
      const head = bucket.byScore.first()!;
      if (this.#eligible(head.ref.conv, agent.id)) return setPick(pick, head.ref.conv, 1, head.a, head.b);
      for (const key of bucket.byScore.entries()) {
        if (this.#eligible(key.ref.conv, agent.id)) return setPick(pick, key.ref.conv, 1, key.a, key.b);
      }
      return false;
    }
    // Not skilled for this bucket: only what has overflowed to the whole team, oldest first (it has,
    // or we would have returned above), and usually the oldest is eligible: no iterator needed.
    if (this.#eligible(oldest.ref.conv, agent.id))
      return setPick(pick, oldest.ref.conv, 1, oldest.ref.score.a, oldest.a);
    for (const key of bucket.byArrival.entries()) {
      if (now - key.a < rules.overflowAfterMs) break;
      if (this.#eligible(key.ref.conv, agent.id))
        return setPick(pick, key.ref.conv, 1, key.ref.score.a, key.a);
    }
    return false;
  }

  /** Whether a waiting conversation may go to this agent: not ringing, not declined by them, not their own. */
  #eligible(conv: Conversation, agentId: string): boolean {
    return (
      conv.offer === null &&
      !conv.declinedBy.includes(agentId) &&
      !(conv.status === 'assigned' && conv.ownerId === agentId)
    );
  }

  #enqueue(conv: Conversation, channel: Channel, score: number): void {
    const current = this.#waiting.get(conv.id);
    if (current?.bucket.channel === channel) return; // keeps its place
    // Waiting on another channel now (the customer switched): the same place in the new line.
    if (current) this.#dequeue(conv.id);
    const key = bucketKey(channel, conv.skills);
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = {
        key,
        channel,
        skills: { ...conv.skills },
        need: Object.entries(conv.skills),
        needIds: this.#needIds(conv.skills),
        servers: null,
        byScore: new SortedKeys<Waiting>(),
        byArrival: new SortedKeys<Waiting>(),
        slot: 0,
      };
      bucket.slot = this.#lines.get(channel)!.add(bucket);
      this.#buckets.set(key, bucket);
    }
    const arrival = waitingSince(conv);
    const waiting = { conv, bucket } as Waiting;
    waiting.score = { a: score, b: arrival, id: conv.id, ref: waiting };
    waiting.arrival = { a: arrival, b: 0, id: conv.id, ref: waiting };
    bucket.byScore.insert(waiting.score);
    bucket.byArrival.insert(waiting.arrival);
    this.#waiting.set(conv.id, waiting);
    this.#lines.get(channel)!.refresh(bucket);
  }

  #dequeue(conversationId: string): void {
    const waiting = this.#waiting.get(conversationId);
    if (!waiting) return;
    const { bucket } = waiting;
    bucket.byScore.remove(waiting.score);
    bucket.byArrival.remove(waiting.arrival);
    this.#waiting.delete(conversationId);
    this.#lines.get(bucket.channel)!.refresh(bucket);
  }

  /** The ownership move to `agentId`, in the conversation's history and in both agents' touched ones. */
  #recordMove(conv: Conversation, agentId: string, reason: OwnershipReason, now: number): void {
    const move = { from: conv.ownerId, to: agentId, reason, at: now };
    conv.ownership.push(move);
    this.#noteMoved(conv.id, move);
  }

  #noteMoved(conversationId: string, move: Conversation['ownership'][number]): void {
    this.#noteTouched(move.to, conversationId, move.at);
    if (move.from !== null && move.from !== move.to) this.#noteTouched(move.from, conversationId, move.at);
  }

  #noteTouched(agentId: string, conversationId: string, at: number): void {
    let touched = this.#touched.get(agentId);
    if (!touched) {
      touched = new Map();
      this.#touched.set(agentId, touched);
    }
    if ((touched.get(conversationId) ?? Number.NEGATIVE_INFINITY) < at) touched.set(conversationId, at);
  }

  /** Change a conversation's owner, keeping the owner index. */
  #setOwner(conv: Conversation, agentId: string): void {
    if (conv.ownerId === agentId) return;
    if (conv.ownerId !== null) {
      this.#ownerConversations.get(conv.ownerId)?.delete(conv.id);
      this.#ownerOpen.get(conv.ownerId)?.delete(conv);
    }
    conv.ownerId = agentId;
    this.#indexOwner(conv.id, agentId);
    this.#trackOpen(conv);
  }

  /** In its owner's open set exactly while it has an owner and is queued or assigned. */
  #trackOpen(conv: Conversation): void {
    if (conv.ownerId === null) return;
    let set = this.#ownerOpen.get(conv.ownerId);
    if (isOpen(conv)) {
      if (!set) {
        set = new Set();
        this.#ownerOpen.set(conv.ownerId, set);
      }
      set.add(conv);
    } else set?.delete(conv);
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
    this.#recordMove(conv, agentId, reason, now);
    this.#setOwner(conv, agentId);
    conv.slotChannel = channel;
    conv.status = 'assigned';
    this.#trackOpen(conv);
    conv.assignedAt = now;
    conv.firstAssignedAt ??= now;
    conv.queuedAt = null;
    conv.offer = null;
    if (conv.declinedBy.length > 0) conv.declinedBy = [];
    conv.waitingForOwnerSince = null;
    if (conv.consultants.includes(agentId))
      conv.consultants = conv.consultants.filter((id) => id !== agentId);
    if (conv.invited.includes(agentId)) conv.invited = conv.invited.filter((id) => id !== agentId);
    dropJoined(conv, agentId);
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
  /** A hand-off offered on the conversation ends (accepted, declined, taken back or moot): its kept place frees. */
  #endHandoff(conv: Conversation): void {
    const handoff = conv.handoff;
    if (!handoff) return;
    conv.handoff = null;
    const target = handoff.channel ? this.#agents.get(handoff.to) : undefined;
    if (target && handoff.channel) this.#keepPlace(target, handoff.channel, -1);
  }

  /** Keep one more (`delta` 1) or one fewer (-1) place on the channel for a hand-off to the agent. */
  #keepPlace(agent: Agent, channel: Channel, delta: 1 | -1): void {
    const reserved = agent.reserved ?? { voice: 0, sms: 0, chat: 0, email: 0 };
    reserved[channel] = Math.max(0, reserved[channel] + delta);
    agent.reserved = reserved;
    this.#indexAgent(agent);
  }

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
    agent.load[channel]++;
    if (touchIdle) agent.idleSince = now;
    this.#indexAgent(agent);
  }

  #releaseSlot(agent: Agent, channel: Channel): void {
    agent.load[channel] = Math.max(0, agent.load[channel] - 1);
    this.#indexAgent(agent);
  }

  /**
   * The agent without `availableSince` and/or `statusReason`, as a new record in its place: deleting
   * keys would turn the stored record into a slow dictionary for good. Pool keys point at the record,
   * so it leaves the pools first (`#indexAgent` puts the new one in).
   */
  #rebuildAgent(a: Agent, dropSince: boolean, dropReason: boolean): Agent {
    const pools = this.#poolsOf(a);
    for (let i = 0; i < CHANNELS.length; i++) leavePools(pools, i);
    let rebuilt: Agent;
    if (irregular.has(a) || Object.hasOwn(a, '__proto__')) {
      rebuilt = copy(a);
      if (dropSince) delete rebuilt.availableSince;
      if (dropReason) delete rebuilt.statusReason;
      irregular.add(rebuilt);
    } else {
      const record: Record<string, unknown> = {};
      for (const key in a) {
        if ((key === 'availableSince' && dropSince) || (key === 'statusReason' && dropReason)) continue;
        record[key] = a[key as keyof Agent];
      }
      rebuilt = record as unknown as Agent;
    }
    this.#agents.set(rebuilt.id, rebuilt);
    return rebuilt;
  }

  /**
   * Put the agent in the pools of every channel they are free on (available, capacity left), at their idle
   * time, and out of the others. Only what changed is touched.
   */
  #indexAgent(a: Agent): void {
    const pools = this.#poolsOf(a);
    const available = a.status === 'available';
    for (let i = 0; i < CHANNELS.length; i++) {
      const channel = CHANNELS[i]!;
      const at = pools.at[i]!;
      if (available && hasRoom(a, channel)) {
        if (at === a.idleSince) continue;
        leavePools(pools, i);
        const entry = { agent: a, live: true };
        const key = { a: a.idleSince, b: 0, id: a.id, ref: entry };
        for (const pool of pools.lists[i]!) pool.add(key);
        pools.at[i] = a.idleSince;
        pools.entries[i] = entry;
      } else if (!Number.isNaN(at)) leavePools(pools, i);
    }
  }

  /** Out of every pool, and forget which pools: their skills are about to change. */
  #unindexAgent(a: Agent): void {
    const pools = this.#poolsOf(a);
    for (let i = 0; i < CHANNELS.length; i++) leavePools(pools, i);
    this.#agentPools.delete(a.id);
  }

  /** The pools an agent goes in per channel, by their skills (kept until the skills change). */
  #poolsOf(a: Agent): AgentPools {
    let pools = this.#agentPools.get(a.id);
    if (pools) return pools;
    const lists = CHANNELS.map((channel) => {
      const list = [this.#pools.get(channel)!];
      for (const skill of Object.keys(a.skills)) {
        const key = `${channel}|${skill}`;
        let index = this.#skillPools.get(key);
        if (!index) {
          index = new Pool();
          this.#skillPools.set(key, index);
        }
        list.push(index);
      }
      return list;
    });
    pools = {
      lists,
      at: CHANNELS.map(() => Number.NaN),
      entries: CHANNELS.map(() => null),
      levels: new Float64Array(0),
    };
    this.#agentPools.set(a.id, pools);
    return pools;
  }

  /** A number per skill name a bucket requires, so that skill checks read typed arrays. */
  #skillId(name: string): number {
    let id = this.#skillIds.get(name);
    if (id === undefined) {
      id = this.#skillIds.size;
      this.#skillIds.set(name, id);
    }
    return id;
  }

  #needIds(skills: Skills): Float64Array {
    const pairs = Object.entries(skills);
    const ids = new Float64Array(pairs.length * 2);
    pairs.forEach(([name, min], i) => {
      ids[2 * i] = this.#skillId(name);
      ids[2 * i + 1] = min;
    });
    return ids;
  }

  /** Skill levels by number, as `meetsSkills` reads them (a missing one is -1), for every numbered skill. */
  #levels(skills: Skills): Float64Array {
    const levels = new Float64Array(this.#skillIds.size);
    for (const [name, id] of this.#skillIds) levels[id] = skills[name] ?? -1;
    return levels;
  }

  /** The agent's levels, kept with their pools until their skills change or more skills are numbered. */
  #levelsOf(a: Agent): Float64Array {
    const pools = this.#poolsOf(a);
    if (pools.levels.length < this.#skillIds.size) pools.levels = this.#levels(a.skills);
    return pools.levels;
  }

  /** Agents who could serve this bucket, weighted by capacity: the servers in the wait estimate. */
  #servers(bucket: Bucket): number {
    if (bucket.servers !== null) return bucket.servers;
    let servers = 0;
    for (const a of this.#agents.values()) servers += serving(a, bucket);
    bucket.servers = servers;
    // Grouped by required skills: one skill check per group when an agent changes.
    const skills = bucket.key.slice(bucket.channel.length + 1);
    let group = this.#counted.get(skills);
    if (!group) {
      group = { needIds: bucket.needIds, buckets: [] };
      this.#counted.set(skills, group);
    }
    group.buckets.push(bucket);
    return servers;
  }

  /** An agent changed (or was created): move the counted servers by the difference, instead of recounting everyone. */
  #adjustServers(before: ServerShape | null, after: ServerShape): void {
    // Nothing that `serving` reads changed, or the agent serves nobody before and after.
    if (
      before !== null &&
      ((before.status !== 'available' && after.status !== 'available') ||
        (before.status === after.status &&
          before.skills === after.skills &&
          before.capacity === after.capacity))
    )
      return;
    const afterLevels = this.#levels(after.skills);
    const beforeLevels =
      before === null || before.skills === after.skills ? afterLevels : this.#levels(before.skills);
    for (const group of this.#counted.values()) {
      // As `serving(after, bucket) - serving(before, bucket)` for each bucket of the group.
      const now = after.status === 'available' && meetsLevels(afterLevels, group.needIds);
      const then =
        before !== null && before.status === 'available' && meetsLevels(beforeLevels, group.needIds);
      if (!now && !then) continue;
      for (const bucket of group.buckets) {
        const delta =
          (now ? after.capacity[bucket.channel] : 0) - (then ? before!.capacity[bucket.channel] : 0);
        if (delta !== 0) bucket.servers! += delta;
      }
    }
  }
}

/** Buckets with counted servers that require the same skills (on different channels). */
interface CountedGroup {
  needIds: Float64Array;
  buckets: Bucket[];
}

/** What `#servers` reads of an agent. */
type ServerShape = Pick<Agent, 'status' | 'skills' | 'capacity'>;

/** What an agent adds to a bucket's servers: its capacity on the channel when available and skilled for it. */
function serving(a: ServerShape | null, bucket: Bucket): number {
  return a !== null && a.status === 'available' && meetsNeed(a.skills, bucket.need)
    ? a.capacity[bucket.channel]
    : 0;
}

/** `meetsSkills` over an agent's levels by skill number and a bucket's `needIds`. */
function meetsLevels(levels: Float64Array, needIds: Float64Array): boolean {
  for (let i = 0; i < needIds.length; i += 2) if (levels[needIds[i]!]! < needIds[i + 1]!) return false;
  return true;
}

/** `meetsSkills(skills, bucket.skills)` over the bucket's pairs. */
function meetsNeed(skills: Skills, need: ReadonlyArray<[string, number]>): boolean {
  for (let i = 0; i < need.length; i++) {
    const [name, min] = need[i]!;
    if ((skills[name] ?? -1) < min) return false;
  }
  return true;
}

/** Whoever declined this wait and stayed available is not asked again; an owner never covers for themselves. */
function excludedFrom(conv: Conversation, agentId: string): boolean {
  return conv.declinedBy.includes(agentId) || (conv.status === 'assigned' && agentId === conv.ownerId);
}

/**
 * The buckets of one channel, with the heads of their two orders side by side in typed arrays, kept by
 * `#enqueue` and `#dequeue`: a claim compares every bucket of a channel, reading these alone.
 */
/** Required skills a line keeps beside each bucket slot (more go through the bucket). */
const NEED_PAIRS = 2;

class Line {
  readonly buckets: Bucket[] = [];
  /** Per bucket slot: the oldest arrival, and the lowest (score, arrival); Infinity when empty. */
  oldest = new Float64Array(16).fill(Number.POSITIVE_INFINITY);
  headScore = new Float64Array(16).fill(Number.POSITIVE_INFINITY);
  headArrival = new Float64Array(16).fill(Number.POSITIVE_INFINITY);
  /**
   * Per bucket slot, its required skills as up to NEED_PAIRS [skill number, min] pairs (skill -1: none),
   * or skill -2 in the first pair when it requires more (then read the bucket's `needIds`).
   */
  need = new Float64Array(16 * 2 * NEED_PAIRS).fill(-1);

  /** Append a bucket; returns its slot. */
  add(bucket: Bucket): number {
    const slot = this.buckets.length;
    if (slot === this.oldest.length) {
      const grow = (from: Float64Array, fill: number) => {
        const to = new Float64Array(from.length * 2).fill(fill);
        to.set(from);
        return to;
      };
      this.oldest = grow(this.oldest, Number.POSITIVE_INFINITY);
      this.headScore = grow(this.headScore, Number.POSITIVE_INFINITY);
      this.headArrival = grow(this.headArrival, Number.POSITIVE_INFINITY);
      this.need = grow(this.need, -1);
    }
    this.buckets.push(bucket);
    const at = slot * 2 * NEED_PAIRS;
    if (bucket.needIds.length > 2 * NEED_PAIRS) this.need[at] = -2;
    else this.need.set(bucket.needIds, at);
    return slot;
  }

  /** Whether an agent with these levels has the skills slot `i` requires. */
  skilled(i: number, levels: Float64Array): boolean {
    const need = this.need;
    const at = i * 2 * NEED_PAIRS;
    for (let k = 0; k < NEED_PAIRS; k++) {
      const id = need[at + 2 * k]!;
      if (id === -1) return true;
      if (id === -2) return meetsLevels(levels, this.buckets[i]!.needIds);
      if (levels[id]! < need[at + 2 * k + 1]!) return false;
    }
    return true;
  }

  refresh(bucket: Bucket): void {
    const oldest = bucket.byArrival.first();
    const head = bucket.byScore.first();
    this.oldest[bucket.slot] = oldest ? oldest.a : Number.POSITIVE_INFINITY;
    this.headScore[bucket.slot] = head ? head.a : Number.POSITIVE_INFINITY;
    this.headArrival[bucket.slot] = head ? head.b : Number.POSITIVE_INFINITY;
  }
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

/** A quoted wait not settled yet (what "answering" settles, and what a queued route reports as quoted). */
function isOpenWait(p: CustomerPromise): boolean {
  return p.kind === 'wait' && p.state === 'open';
}

function lastActivity(c: Conversation): number {
  return c.lastContactAt;
}

/** Bucket slots a channel's order numbers leave room for (see `claimNext`). */
const SLOTS_PER_CHANNEL = 2 ** 32;

/** `x` (met at `xOrder`) ranks before `y` (met at `yOrder`): by rank, then by who was met first. */
function lessRanked(
  x: readonly [number, number, number],
  xOrder: number,
  y: readonly [number, number, number],
  yOrder: number,
): boolean {
  if (x[0] !== y[0]) return x[0] < y[0];
  if (x[1] !== y[1]) return x[1] < y[1];
  if (x[2] !== y[2]) return x[2] < y[2];
  return xOrder < yOrder;
}

/** A conversation a claim may take, with its rank: [0 past the hard cap | 1, score or arrival, arrival]. */
interface HeadPick {
  conv: Conversation | null;
  matched: boolean;
  rank: [number, number, number];
}

/** The best pick of a claim so far, with its bucket and the order it was met in (the tie-break). */
interface BestPick extends HeadPick {
  bucket: Bucket | null;
  order: number;
}

/** A function rather than two assignments in `#claim`: TypeScript would take `best.conv` as null from then on. */
function clearPick(best: BestPick): void {
  best.conv = null;
  best.bucket = null;
}

function setPick(pick: HeadPick, conv: Conversation, level: number, key: number, arrival: number): true {
  pick.conv = conv;
  pick.rank[0] = level;
  pick.rank[1] = key;
  pick.rank[2] = arrival;
  return true;
}

function takePick(best: BestPick, pick: HeadPick, bucket: Bucket, order: number): void {
  best.conv = pick.conv;
  best.matched = pick.matched;
  best.rank[0] = pick.rank[0];
  best.rank[1] = pick.rank[1];
  best.rank[2] = pick.rank[2];
  best.bucket = bucket;
  best.order = order;
}

/** A timer in due order; live while the queue's map still holds this very timer. */
interface TimerEntry {
  dueAt: number;
  /** `kind:ref`: the order among timers due at the same time. */
  key: string;
  timer: Timer;
}

/** The last `size` handle times of a channel in a ring, with their sum kept as they come and go. */
class HandleTimes {
  readonly #values: Float64Array;
  #next = 0;
  count = 0;
  totalMs = 0;

  constructor(size: number) {
    this.#values = new Float64Array(size);
  }

  push(ms: number): void {
    const size = this.#values.length;
    if (this.count === size) this.totalMs -= this.#values[this.#next]!;
    else this.count++;
    this.#values[this.#next] = ms;
    this.totalMs += ms;
    this.#next = (this.#next + 1) % size;
  }

  /** Oldest first. */
  list(): number[] {
    const size = this.#values.length;
    const out = new Array<number>(this.count);
    const first = (this.#next - this.count + size) % size;
    for (let i = 0; i < this.count; i++) out[i] = this.#values[(first + i) % size]!;
    return out;
  }
}

/** Whether `x` comes before `y`: by due time, then `kind:ref`. */
const timerBefore = (x: TimerEntry, y: TimerEntry): boolean =>
  x.dueAt !== y.dueAt ? x.dueAt < y.dueAt : x.key < y.key;

/**
 * The timers: one per (kind, ref), claimed in due order (then `kind:ref`). A binary min-heap with lazy
 * removal: a cancelled or replaced timer's entry stays in the heap, dead, until it comes to the top (or
 * the heap is rebuilt once the dead outnumber the live), so a cancel is one map delete and a schedule,
 * usually due after most others, a push that rarely climbs.
 */
class TimerQueue {
  readonly #live = new Map<TimerKind, Map<string, Timer>>();
  #heap: TimerEntry[] = [];
  #count = 0;

  /** Store `timer` (the queue keeps this object), replacing the one of the same kind and ref. */
  schedule(timer: Timer): void {
    let byRef = this.#live.get(timer.kind);
    if (!byRef) {
      byRef = new Map();
      this.#live.set(timer.kind, byRef);
    }
    if (!byRef.has(timer.ref)) this.#count++;
    byRef.set(timer.ref, timer);
    this.#push({ dueAt: timer.dueAt, key: `${timer.kind}:${timer.ref}`, timer });
    this.#compact();
  }

  /** Whether a timer of `kind` for `ref` is set (not yet claimed). */
  has(kind: TimerKind, ref: string): boolean {
    return this.#live.get(kind)?.has(ref) ?? false;
  }

  cancel(kind: TimerKind, ref: string): void {
    if (!this.#live.get(kind)?.delete(ref)) return;
    this.#count--;
    this.#compact();
  }

  /**
   * Remove and return the live timers due at `now`, in order, at most `limit`; with `leaseUntil`, each is kept,
   * due again then (Store `claimDueTimers`).
   */
  claimDue(now: number, limit: number, leaseUntil?: number): Timer[] {
    const due: Timer[] = [];
    const heap = this.#heap;
    while (due.length < limit && heap.length > 0 && heap[0]!.dueAt <= now) {
      const { timer } = this.#pop();
      const byRef = this.#live.get(timer.kind);
      if (byRef?.get(timer.ref) !== timer) continue; // cancelled or replaced
      byRef.delete(timer.ref);
      this.#count--;
      due.push(timer);
    }
    if (leaseUntil !== undefined) for (const t of due) this.schedule({ ...t, dueAt: leaseUntil });
    return due;
  }

  /** Cancel the timer of `kind` for `ref` while it is due at `dueAt` (Store `finishTimers`). */
  finish(kind: TimerKind, ref: string, dueAt: number): void {
    if (this.#live.get(kind)?.get(ref)?.dueAt === dueAt) this.cancel(kind, ref);
  }

  #isLive(entry: TimerEntry): boolean {
    return this.#live.get(entry.timer.kind)?.get(entry.timer.ref) === entry.timer;
  }

  /** Drop the dead entries once they outnumber the live ones. */
  #compact(): void {
    if (this.#heap.length <= 2 * this.#count + 1024) return;
    const live = this.#heap.filter((entry) => this.#isLive(entry));
    this.#heap = [];
    for (const entry of live) this.#push(entry);
  }

  #push(entry: TimerEntry): void {
    const heap = this.#heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!timerBefore(entry, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): TimerEntry {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && timerBefore(heap[right]!, heap[left]!) ? right : left;
      if (!timerBefore(heap[child]!, last)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

/** A sort key: ordered by `a`, then `b`, then `id`; `ref` is the record it stands for. */
interface SortKey<T> {
  readonly a: number;
  readonly b: number;
  readonly id: string;
  readonly ref: T;
}

/** Keys per chunk of a `SortedKeys`: a chunk splits past twice this, and merges with a neighbour below a quarter. */
const CHUNK = 64;

/**
 * How many of those ahead of a waiting conversation in its line are checked for ringing an agent (`queueSnapshot`:
 * those are not counted as waiting ahead). The Redis store checks as many (includes/handle.lua).
 */
const RINGING_LOOKAHEAD = 64;

const compareKeys = <T>(x: SortKey<T>, y: SortKey<T>): number =>
  x.a !== y.a ? x.a - y.a : x.b !== y.b ? x.b - y.b : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;

/** One run of keys in order, with each key's `a` beside it in an array of plain numbers. */
interface Chunk<T> {
  keys: SortKey<T>[];
  as: number[];
}

/** The first place in `chunk` whose key is not below `key`; compares the numbers first, the keys on a tie. */
function lowerBound<T>(chunk: Chunk<T>, key: SortKey<T>): number {
  const { keys, as } = chunk;
  let lo = 0;
  let hi = as.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const a = as[mid]!;
    if (a < key.a || (a === key.a && compareKeys(keys[mid]!, key) < 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Keys in order: the memory store's stand-in for a Redis sorted set. The keys live in sorted chunks of
 * up to 2 × CHUNK (the layout of Python's sortedcontainers), with the `a` of every key, and of every
 * chunk's last key, also kept in arrays of plain numbers: an insert or a removal is two binary searches
 * that mostly read those numbers and a short move within one chunk, over memory that sits together,
 * rather than a walk through scattered tree nodes. Rank adds up the chunks before. The caller says
 * which key to remove.
 */
class SortedKeys<T> {
  readonly #chunks: Chunk<T>[] = [];
  /** `a` of each chunk's last key. */
  readonly #lastA: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Keys already in order, in full chunks. */
  static of<T>(sorted: SortKey<T>[]): SortedKeys<T> {
    const index = new SortedKeys<T>();
    for (let i = 0; i < sorted.length; i += CHUNK) {
      const keys = sorted.slice(i, i + CHUNK);
      index.#chunks.push({ keys, as: keys.map((key) => key.a) });
      index.#lastA.push(keys.at(-1)!.a);
    }
    index.#size = sorted.length;
    return index;
  }

  first(): SortKey<T> | undefined {
    return this.#chunks[0]?.keys[0];
  }

  /** Keys in order, lowest first; stop iterating early to keep it cheap. Do not change the keys while iterating. */
  *entries(): Generator<SortKey<T>> {
    for (const chunk of this.#chunks) for (const key of chunk.keys) yield key;
  }

  /** How many of the first `limit` keys pass `test` (a plain loop: cheaper than `entries`). */
  countAmongFirst(limit: number, test: (key: SortKey<T>) => boolean): number {
    let n = 0;
    let left = limit;
    for (const chunk of this.#chunks) {
      const keys = chunk.keys;
      const upTo = Math.min(keys.length, left);
      for (let i = 0; i < upTo; i++) if (test(keys[i]!)) n++;
      left -= upTo;
      if (left <= 0) break;
    }
    return n;
  }

  /** 0-based rank of `key`, which is in. */
  rankOf(key: SortKey<T>): number {
    const c = this.#chunkOf(key);
    let rank = 0;
    for (let i = 0; i < c; i++) rank += this.#chunks[i]!.keys.length;
    return rank + lowerBound(this.#chunks[c]!, key);
  }

  insert(key: SortKey<T>): void {
    this.#size++;
    const chunks = this.#chunks;
    if (chunks.length === 0) {
      chunks.push({ keys: [key], as: [key.a] });
      this.#lastA.push(key.a);
      return;
    }
    const c = this.#chunkOf(key);
    const chunk = chunks[c]!;
    const at = lowerBound(chunk, key);
    chunk.keys.splice(at, 0, key);
    chunk.as.splice(at, 0, key.a);
    if (chunk.keys.length > 2 * CHUNK) {
      const next = { keys: chunk.keys.splice(CHUNK), as: chunk.as.splice(CHUNK) };
      chunks.splice(c + 1, 0, next);
      this.#lastA.splice(c + 1, 0, next.as.at(-1)!);
    }
    this.#lastA[c] = chunk.as.at(-1)!;
  }

  /** Take out the first key (there is one). */
  shift(): void {
    this.#size--;
    const chunk = this.#chunks[0]!;
    chunk.keys.shift();
    chunk.as.shift();
    if (chunk.keys.length === 0) {
      this.#chunks.shift();
      this.#lastA.shift();
    }
  }

  /** Take out the key equal to `key` (same a, b and id), which is in. */
  remove(key: SortKey<T>): void {
    this.#size--;
    const chunks = this.#chunks;
    const c = this.#chunkOf(key);
    const chunk = chunks[c]!;
    const at = lowerBound(chunk, key);
    chunk.keys.splice(at, 1);
    chunk.as.splice(at, 1);
    if (chunk.keys.length === 0) {
      chunks.splice(c, 1);
      this.#lastA.splice(c, 1);
    } else if (chunk.keys.length < CHUNK / 4 && chunks.length > 1) {
      // Few keys left: join a neighbour (splitting again if that makes it too long).
      const into = c > 0 ? c - 1 : c;
      const left = chunks[into]!;
      const right = chunks[into + 1]!;
      const merged = { keys: left.keys.concat(right.keys), as: left.as.concat(right.as) };
      if (merged.keys.length > 2 * CHUNK) {
        const half = merged.keys.length >> 1;
        const next = { keys: merged.keys.splice(half), as: merged.as.splice(half) };
        chunks.splice(into, 2, merged, next);
        this.#lastA.splice(into, 2, merged.as.at(-1)!, next.as.at(-1)!);
      } else {
        chunks.splice(into, 2, merged);
        this.#lastA.splice(into, 2, merged.as.at(-1)!);
      }
    } else this.#lastA[c] = chunk.as.at(-1)!;
  }

  /** The chunk where `key` belongs: the first whose last key is not below it, else the last one. */
  #chunkOf(key: SortKey<T>): number {
    const lastA = this.#lastA;
    let lo = 0;
    let hi = lastA.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const a = lastA[mid]!;
      if (a < key.a || (a === key.a && compareKeys(this.#chunks[mid]!.keys.at(-1)!, key) < 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** A saved reply as a copy, with whom it is for (`skills`): a reply for the Spanish team stays theirs. */
function copyReply(r: SavedReply): SavedReply {
  return { ...r, ...(r.skills ? { skills: [...r.skills] } : {}) };
}
