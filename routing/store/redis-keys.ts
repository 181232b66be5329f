// The one key builder for the Redis store. Every key lives under one hash tag,
// `{sb}` or `{sb:<prefix>}`, so all keys of one store hash to one Redis Cluster
// slot and every script may touch any of them.
//
// Scripts also compute keys at run time (an agent's per-skill pool keys, a
// waiting line's keys, a record reached through an index). They build them from
// the same layouts, through Lua functions generated from `KEY_LAYOUTS` below
// (`luaKeyBuilder()`), with the base passed in as ARGV[1]: every such key starts
// with the same hash tag as the keys the script declares, so it is in the same
// slot. Redis Cluster accepts such undeclared same-slot keys; a key outside the
// tag never occurs. Keep it that way: never build a key by hand, here or in Lua.
import type { AgentStatus, Channel, ConversationStatus } from '../../shared/model.js';

/**
 * Key layouts after the base: `%` marks an argument. A layout with arguments must
 * not be a prefix of another one with the same first part and different meaning.
 */
export const KEY_LAYOUTS = {
  /** String: a customer record (JSON). */
  customer: 'customer:%',
  /**
   * Hash: customer id → `<time>|<agent id>`, who last owned one of the customer's conversations. Kept apart
   * from the record, so that taking or resolving a conversation does not read and write the whole customer.
   */
  lastOwners: 'lastowners',
  /** Hash: `channel:address` of an identity → customer id. */
  identities: 'identities',
  /** String: an agent record (JSON). */
  agent: 'agent:%',
  /** List: agent ids in creation order. */
  agents: 'agents',
  /** Set: agent ids with one status. */
  agentsByStatus: 'agents:%',
  /** Sorted set: free agents on a channel (available, capacity left), score idleSince. */
  pool: 'pool:%',
  /** Sorted set: the same, per channel and skill. */
  skillPool: 'pool:%|%',
  /** Hash per channel: an available agent's skills (`name:level,…`, sorted) → their summed capacity. */
  capacityBySkills: 'caps:%',
  /** String: a conversation record (JSON). */
  conversation: 'conv:%',
  /** Sorted set: every conversation id, score createdAt (ties by id). */
  conversations: 'convs',
  /** Sorted set: conversation ids with one status, score createdAt. */
  conversationsByStatus: 'convs:status:%',
  /** Sorted set: conversation ids an agent owns or owned, score createdAt. */
  conversationsByOwner: 'convs:owner:%',
  /** Sorted set: a customer's conversation ids, score createdAt. */
  conversationsByCustomer: 'convs:customer:%',
  /** Sorted set: a customer's open (queued or assigned) conversation ids, score createdAt. */
  openByCustomer: 'convs:open:%',
  /** Sorted set: the open (queued or assigned) conversation ids an agent owns, score createdAt. */
  openByOwner: 'convs:owneropen:%',
  /**
   * Sorted set: conversation ids an agent took, passed on or resolved as owner, score the latest time they
   * did (their figures: `conversationsTouchedBy`). Entries older than 8 days go when they resolve one.
   */
  touchedBy: 'convs:touched:%',
  /**
   * Sorted set: conversation ids an agent is on without owning them (covering, consulting, invited, offered a
   * hand-off), score createdAt (`listAgentConversations`).
   */
  helpingIn: 'convs:with:%',
  /** String: set once `helpingIn` was built for the conversations stored before it was kept. */
  helpingIndexed: 'withindexed',
  /** String: a message record (JSON). */
  message: 'msg:%',
  /** List: a conversation's message ids in append order. */
  messagesOf: 'msgs:%',
  /** Hash: `channel:externalId` → message id. */
  externalIds: 'extids',
  /** Hash: a waiting line's bucket key (`channel|skill:level,…`) → its creation number. */
  lines: 'lines',
  /**
   * Hash: the names of the skills a line requires (sorted, comma-separated; '' for none) → the bucket keys of
   * those lines, one per line of text; and `#` → how many lines it holds. An agent's status change reaches the
   * lines they may serve through it instead of looking at every line.
   */
  lineNames: 'linenames',
  /** Sorted set: one line in priority order; score = the route score, member = 16-digit arrival + id. */
  lineByScore: 'line:%:score',
  /** Sorted set: one line in arrival order; score = arrival, member = conversation id. */
  lineByArrival: 'line:%:arrival',
  /** Sorted set per channel: bucket keys of non-empty lines, score = their head's score. */
  lineHeads: 'heads:%',
  /** Sorted set per channel: bucket keys of non-empty lines, score = their oldest arrival. */
  lineOldest: 'oldest:%',
  /** Hash: waiting conversation id → its bucket key. */
  waiting: 'waiting',
  /** Hash: channel → how many conversations wait on it. */
  waitingCount: 'waiting:count',
  /** Hash: bucket key → servers (capacity of the available agents skilled for it). */
  servers: 'servers',
  /** Sorted set: `kind:ref` timers, score dueAt. */
  timers: 'timers',
  /** String: a conversation's after-call work `{since, dueAt}` (JSON), expiring when no longer needed. */
  wrapUp: 'wrapup:%',
  /** String: an agent's call out to a customer `{conversationId, to, since, until}` (JSON), expiring at `until`. */
  outCall: 'outcall:%',
  /** String: a promise record (JSON). */
  promise: 'promise:%',
  /** List: a conversation's promise ids in order. */
  promisesOf: 'promises:%',
  /** List: recent handle times on a channel, newest last. */
  handleTimes: 'handle:%',
  /** Hash: channel → the sum of its kept handle times (ms). */
  handleTotals: 'handle-totals',
  /** String: the team's saved replies (a JSON array), as an admin last set them. */
  savedReplies: 'saved-replies',
  /** Hash: texting number (E.164) → when it opted out of texts (ms). */
  textOptOuts: 'text-optouts',
  /** Sorted set: the blocked customers' ids (never a merged-away one), score when they were blocked. */
  blockedCustomers: 'blocked',
  /**
   * Sorted set: customer ids (never a merged-away one), score when they were last active: created, or a message
   * to or from them stored (`inactiveCustomers`).
   */
  customerActivity: 'customers:active',
  /** String: set once every customer is in `customerActivity` (from its start, or learned: learnActivity-1.lua). */
  activityLearned: 'activity:learned',
  /** String: while learning, the HSCAN cursor over `identities` the next step starts from. */
  activityCursor: 'activity:cursor',
} as const;

export type KeyName = keyof typeof KEY_LAYOUTS;

/** Each layout split at its arguments, once. */
const LAYOUT_PARTS = Object.fromEntries(
  Object.entries(KEY_LAYOUTS).map(([name, layout]) => [name, layout.split('%')]),
) as Record<KeyName, string[]>;

const PREFIX = /^[A-Za-z0-9_.:-]{0,100}$/;

export class RedisKeys {
  /** The hash-tagged start of every key, e.g. `{sb:test-1}:`. */
  readonly base: string;

  constructor(prefix = '') {
    if (!PREFIX.test(prefix)) {
      throw new RangeError(
        `redis key prefix "${prefix}" may only use letters, digits and _ . : - (up to 100 characters)`,
      );
    }
    this.base = prefix === '' ? '{sb}:' : `{sb:${prefix}}:`;
  }

  /** A glob matching every key of this store (SCAN MATCH): the prefix has no glob characters. */
  get pattern(): string {
    return `${this.base}*`;
  }

  key(name: KeyName, ...args: string[]): string {
    const parts = LAYOUT_PARTS[name];
    if (parts.length - 1 !== args.length)
      throw new RangeError(`key ${name} takes ${parts.length - 1} arguments, got ${args.length}`);
    let out = this.base + parts[0];
    for (let i = 0; i < args.length; i++) out += args[i]! + parts[i + 1]!;
    return out;
  }

  customer(id: string): string {
    return this.key('customer', id);
  }
  agent(id: string): string {
    return this.key('agent', id);
  }
  agentsByStatus(status: AgentStatus): string {
    return this.key('agentsByStatus', status);
  }
  conversation(id: string): string {
    return this.key('conversation', id);
  }
  conversationsByStatus(status: ConversationStatus): string {
    return this.key('conversationsByStatus', status);
  }
  openByOwner(agentId: string): string {
    return this.key('openByOwner', agentId);
  }
  touchedBy(agentId: string): string {
    return this.key('touchedBy', agentId);
  }
  helpingIn(agentId: string): string {
    return this.key('helpingIn', agentId);
  }
  message(id: string): string {
    return this.key('message', id);
  }
  messagesOf(conversationId: string): string {
    return this.key('messagesOf', conversationId);
  }
  wrapUp(conversationId: string): string {
    return this.key('wrapUp', conversationId);
  }
  outCall(agentId: string): string {
    return this.key('outCall', agentId);
  }
  promise(id: string): string {
    return this.key('promise', id);
  }
  promisesOf(conversationId: string): string {
    return this.key('promisesOf', conversationId);
  }
  handleTimes(channel: Channel): string {
    return this.key('handleTimes', channel);
  }
  pool(channel: Channel): string {
    return this.key('pool', channel);
  }
  skillPool(channel: Channel, skill: string): string {
    return this.key('skillPool', channel, skill);
  }
  get identities(): string {
    return this.key('identities');
  }
  get savedReplies(): string {
    return this.key('savedReplies');
  }
  get textOptOuts(): string {
    return this.key('textOptOuts');
  }
  get blockedCustomers(): string {
    return this.key('blockedCustomers');
  }
  get agents(): string {
    return this.key('agents');
  }
  get conversations(): string {
    return this.key('conversations');
  }
  get externalIds(): string {
    return this.key('externalIds');
  }
  get waiting(): string {
    return this.key('waiting');
  }
  get waitingCount(): string {
    return this.key('waitingCount');
  }
  get timers(): string {
    return this.key('timers');
  }
}

/**
 * The same layouts as Lua: `local K = {}` with one function per key name taking
 * the arguments, each prepending the base `P` (ARGV[1]). Inlined into every script.
 */
export function luaKeyBuilder(): string {
  return [
    '-- Generated from routing/store/redis-keys.ts: the key builder, in Lua.',
    'local K = {}',
    ...luaKeyFunctions(KEY_LAYOUTS),
    '',
  ].join('\n');
}

/** `K.<name> = function(a1, …) return P .. … end` for each layout (`%` marks an argument). */
export function luaKeyFunctions(layouts: Record<string, string>): string[] {
  return Object.entries(layouts).map(([name, layout]) => {
    const parts = layout.split('%');
    const params = parts.slice(1).map((_, i) => `a${i + 1}`);
    const pieces = ['P', luaString(parts[0]!)];
    params.forEach((p, i) => {
      pieces.push(p);
      if (parts[i + 1] !== '') pieces.push(luaString(parts[i + 1]!));
    });
    const body = pieces.filter((p) => p !== "''").join(' .. ');
    return `K.${name} = function(${params.join(', ')}) return ${body} end`;
  });
}

function luaString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
