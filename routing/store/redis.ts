// The scale-out Store: every record and index in Redis, every routing decision
// one Lua script (routing/store/lua/*.lua), so several server processes sharing
// one Redis never give one conversation to two agents nor one agent more than
// their capacity. It mirrors the memory store's behaviour; both pass
// test/routing/store.contract.ts.
//
// The store owns its connection: `RedisStore.connect({ url, prefix })` (or
// `createRedisStore`) connects and loads each script once: as a Redis Function
// library named by the script's SHA (FUNCTION LOAD; run with FCALL, its helpers
// built once instead of on every call), sending the script's text (EVAL) when
// Redis has forgotten it (a restart, a FUNCTION FLUSH) and loading it again. Where
// Redis has no functions or may not load them, the scripts themselves (SCRIPT LOAD,
// EVALSHA; EVAL on NOSCRIPT). Commands fail fast while Redis is unreachable
// (StoreUnavailableError within about a second); the client reconnects by itself.
//
// Every record read back is parsed with its zod schema; one that does not parse,
// here or inside a script, is a CorruptRecordError naming its key, and a script
// checks every record it may change before its first write.
import { ErrorReply } from 'redis';
import { z } from 'zod';
import {
  CapacityError,
  ConflictError,
  CorruptRecordError,
  InvalidStateError,
  NotFoundError,
  NotOwnerError,
  StoreUnavailableError,
  SwitchboardError,
  ValidationError,
} from '../../shared/errors.js';
import {
  Agent,
  AgentStatus,
  type Channel,
  Channel as ChannelName,
  Conversation,
  Customer,
  type CustomerBlock,
  CustomerPromise,
  type Fact,
  type Identity,
  Message,
  type Note,
  type PromiseState,
  SavedReplies,
  type SavedReply,
  type Survey,
} from '../../shared/model.js';
import {
  checkRecord,
  closeRedisClient,
  connectWithin,
  newRedisClient,
  parseJson,
  parseRecord,
  type RedisClient,
  type RedisConnectionOptions,
  redisFault,
  runScript,
  ScriptLanes,
} from './redis-connection.js';
import {
  FUNCTIONS_HEARTBEAT_MS,
  FUNCTIONS_KEEP_MS,
  listLibraries,
  markVersion,
  pruneLibraries,
} from './redis-functions.js';
import { RedisKeys } from './redis-keys.js';
import { redisScripts, type Script } from './redis-scripts.js';
import { byCreation, checkFirstMessage, checkNewContact, FILL_LIMIT, HANDLE_TIME_WINDOW } from './rules.js';
import type {
  AgentProfilePatch,
  Answered,
  AppendOptions,
  CameBack,
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
import { CONVERSATION_TIMERS, TIMER_KINDS } from './store.js';

/** When a texting number opted out (`textOptOuts`), as stored. */
const OptOutTime = z.number().int().nonnegative();
const IdList = z.array(z.string());

/** A conversation's after-call work (`wrapUp` key), as stored. */
const WrapUpRecord = z.object({
  since: z.number().int().nonnegative(),
  dueAt: z.number().int().nonnegative(),
});

/** An agent's call out to a customer (`outCall` key), as stored (without the agent id, which is in the key). */
const OutCallRecord = z.object({
  agentId: z.string().min(1),
  conversationId: z.string().min(1),
  to: z.string().min(1).max(64),
  since: z.number().int().nonnegative(),
  until: z.number().int().nonnegative(),
});

/** A member of the timers sorted set (`kind:ref`) with its score, as read back. */
const TimerRecord = z.object({
  kind: z.enum(TIMER_KINDS),
  ref: z.string().min(1),
  dueAt: z.number().finite(),
});

export interface RedisStoreOptions extends RedisConnectionOptions {
  /** Key prefix inside the hash tag: keys are `{sb:<prefix>}:…` (`{sb}:…` when empty). */
  prefix?: string;
  /**
   * Connections to Redis, each carrying one script at a time (see `ScriptLanes`); other commands use the
   * first. Default 4.
   */
  connections?: number;
}

/** `RedisStoreOptions.connections` when not given: see README, "Scaling out". */
export const DEFAULT_CONNECTIONS = 4;

// ---------------------------------------------------------------- scripts

/** A page of the customers' activity index, as ZRANGEBYSCORE … WITHSCORES answers it. */
const ActivityPage = z.array(z.union([z.string(), z.tuple([z.string(), z.union([z.string(), z.number()])])]));

/** How many conversations one `listConversations` script reads at most (a longer list takes several). */
export const LIST_PAGE = 250;

/** Lua's negative error codes (includes/base.lua `E`), each to the error the memory store throws. */
const SCRIPT_ERRORS: Record<number, (a: string, b: string | null) => SwitchboardError> = {
  [-1]: (entity, id) => new NotFoundError(entity, id ?? ''),
  [-2]: (message) => new InvalidStateError(message),
  [-3]: (agentId, message) => new CapacityError(agentId, message ?? 'no capacity left'),
  [-4]: (code, message) => new ConflictError(code, message ?? code),
  [-5]: (message, field) => new ValidationError(message, field ?? undefined),
  [-6]: (key, detail) => new CorruptRecordError(key, detail ?? 'unreadable'),
  [-7]: (agentId, conversationId) => new NotOwnerError(agentId, conversationId ?? '', 'resolve'),
};

/** A script's reply: status 0 and the result, as node-redis hands it over (RESP3: false for Lua false). */
type Reply = Array<string | number | null | boolean>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

// ---------------------------------------------------------------- the store

export class RedisStore implements Store {
  readonly keys: RedisKeys;
  /** The first connection: every command that is not a script, and scripts as one of the lanes. */
  readonly #client: RedisClient;
  readonly #lanes: ScriptLanes;
  readonly #scripts: Map<string, Script>;
  /** Scripts run as Redis Functions (FCALL), their helpers built once; else by SHA (EVALSHA). */
  #functions = false;
  #closed = false;
  /** The hourly `maintainFunctions`. */
  #heartbeat: NodeJS.Timeout | null = null;
  /** The names of this version's function libraries (redis-scripts.ts `Script.fn`). */
  readonly #libraries: string[];
  #lastError: Error | null = null;

  private constructor(clients: RedisClient[], keys: RedisKeys, waitMs: number) {
    this.#client = clients[0]!;
    this.#lanes = new ScriptLanes(clients, waitMs);
    this.keys = keys;
    this.#scripts = redisScripts();
    this.#libraries = [...this.#scripts.values()].map((s) => s.fn);
    for (const client of clients) {
      client.on('error', (err: Error) => {
        this.#lastError = err;
      });
      // Connected again: the last error is history, not the cause of what fails next (a stall, say).
      client.on('ready', () => {
        this.#lastError = null;
      });
    }
  }

  /** Connect, load the scripts, and answer a ready store; StoreUnavailableError when Redis does not answer. */
  static async connect(options: RedisStoreOptions = {}): Promise<RedisStore> {
    const keys = new RedisKeys(options.prefix ?? '');
    const count = options.connections ?? DEFAULT_CONNECTIONS;
    if (!Number.isInteger(count) || count < 1 || count > 64)
      throw new RangeError(`redis store: connections must be a whole number from 1 to 64, not ${count}`);
    const clients = Array.from({ length: count }, () => newRedisClient(options));
    const store = new RedisStore(clients, keys, options.commandTimeoutMs ?? 1000);
    const connected = await Promise.allSettled(clients.map((client) => connectWithin(client, options)));
    const failed = connected.find((r) => r.status === 'rejected');
    try {
      if (failed) throw failed.reason;
      await store.#loadScripts();
      await store.#run(
        'markFreshStore',
        [keys.conversations, keys.key('helpingIndexed'), keys.identities, keys.key('activityLearned')],
        [],
      );
      if (store.#functions) {
        // Its marker is loaded (#loadFunctions): what no version uses goes now (a failure waits for the next
        // turn), then marker and prune every hour in the background.
        await pruneLibraries(store.#client, store.#libraries, Date.now()).catch(() => {});
        store.#heartbeat = setInterval(() => store.#maintainSoon(), FUNCTIONS_HEARTBEAT_MS);
        store.#heartbeat.unref();
      }
    } catch (err) {
      for (const client of clients) if (client.isOpen) client.destroy();
      throw err instanceof SwitchboardError
        ? err
        : new StoreUnavailableError(`connecting: ${(err as Error).message}`);
    }
    return store;
  }

  /** Delete every key under this store's prefix (tests, benchmarks). Answers how many. */
  async flushPrefix(): Promise<number> {
    let deleted = 0;
    try {
      for await (const batch of this.#client.scanIterator({ MATCH: this.keys.pattern, COUNT: 1000 })) {
        if (batch.length > 0) deleted += await this.#client.unlink(batch);
      }
    } catch (err) {
      throw this.#fault(err, 'flushPrefix');
    }
    return deleted;
  }

  // ------------------------------------------------------------ customers

  async getCustomer(id: string): Promise<Customer | null> {
    const r = await this.#run('getCustomer', [this.keys.customer(id)], [id]);
    return r.length > 1 ? this.#customer(r[1], r[2]) : null;
  }

  async listBlockedCustomers(limit: number): Promise<Customer[]> {
    const r = await this.#run('listBlockedCustomers', [this.keys.blockedCustomers], [limit]);
    const out: Customer[] = [];
    for (let i = 1; i < r.length; i += 2) out.push(this.#customer(r[i], r[i + 1]));
    return out;
  }

  async findCustomer(identity: Identity): Promise<Customer | null> {
    const r = await this.#run('findCustomer', [this.keys.identities], [identityKey(identity)]);
    return r.length > 1 ? this.#customer(r[1], r[2]) : null;
  }

  async resolveCustomer(
    identity: Identity,
    init: Customer,
  ): Promise<{ customer: Customer; created: boolean }> {
    const r = await this.#run(
      'resolveCustomer',
      [this.keys.identities, this.keys.customer(init.id)],
      [identityKey(identity), JSON.stringify(identity), JSON.stringify(init)],
    );
    const customer = this.#record(Customer, 'customer', null, r[1]);
    return { customer, created: r[2] === 1 };
  }

  async startContact(contact: NewContact): Promise<StartedContact> {
    checkNewContact(contact);
    const { conversation, first, route } = contact;
    const r = await this.#run(
      'startContact',
      [
        this.keys.identities,
        this.keys.customer(contact.customer.id),
        this.keys.externalIds,
        this.keys.conversation(conversation.id),
        this.keys.message(first.id),
      ],
      [
        identityKey(contact.identity),
        JSON.stringify(contact.identity),
        JSON.stringify(contact.customer),
        externalKey(contact.channel, contact.externalId),
        JSON.stringify(conversation),
        first.id,
        JSON.stringify(first),
        JSON.stringify(route.candidates),
        JSON.stringify(route.mode),
        route.now,
        route.score,
        contact.conversationId ?? '',
        route.overflowAt ?? '',
        first.at,
      ],
    );
    if (r[1] === 1) {
      return {
        duplicate: true,
        message: parseRecord(Message, this.keys.message(String(r[3])), String(r[2])),
      };
    }
    const customer = this.#record(Customer, 'customer', null, r[2]);
    if (r[3] === 3) return { duplicate: false, created: false, blocked: true, customer };
    if (r[3] === 0) {
      const latest = r[4] ? this.#record(Conversation, 'conversation', null, r[4]) : null;
      return { duplicate: false, created: false, blocked: false, customer, continued: null, latest };
    }
    if (r[3] === 2) {
      return {
        duplicate: false,
        created: false,
        blocked: false,
        customer,
        continued: {
          conversation: this.#record(Conversation, 'conversation', null, r[5]),
          message: parseRecord(Message, this.keys.message(first.id), String(r[4])),
          switched: r[6] === 1,
          inLine: r[7] === 1,
          owner: r[8] ? this.#record(Agent, 'agent', null, r[8]) : null,
        },
        latest: null,
      };
    }
    return {
      duplicate: false,
      created: true,
      customer,
      message: parseRecord(Message, this.keys.message(first.id), String(r[4])),
      outcome: this.#routeOutcome(conversation.id, r, 5),
    };
  }

  async linkIdentity(
    customerId: string,
    identity: Identity,
  ): Promise<{ customer: Customer; takenBy: string | null }> {
    const r = await this.#run(
      'linkIdentity',
      [this.keys.customer(customerId), this.keys.identities],
      [customerId, identityKey(identity), JSON.stringify(identity)],
    );
    return { customer: this.#record(Customer, 'customer', null, r[1]), takenBy: str(r[2]) };
  }

  async recordFacts(customerId: string, facts: Record<string, Fact>, name?: string): Promise<Customer> {
    const r = await this.#run(
      'recordFacts',
      [this.keys.customer(customerId)],
      [customerId, JSON.stringify(facts), name === undefined ? '0' : '1', name ?? ''],
    );
    return this.#record(Customer, 'customer', null, r[1]);
  }

  async addCustomerNote(customerId: string, note: Note): Promise<Customer> {
    const r = await this.#run(
      'addCustomerNote',
      [this.keys.customer(customerId)],
      [customerId, JSON.stringify(note)],
    );
    return this.#record(Customer, 'customer', null, r[1]);
  }

  async setCustomerBlock(customerId: string, block: CustomerBlock | null): Promise<Customer> {
    const r = await this.#run(
      'setCustomerBlock',
      [this.keys.customer(customerId)],
      [customerId, block === null ? '' : JSON.stringify(block)],
    );
    return this.#record(Customer, 'customer', null, r[1]);
  }

  async mergeCustomers(keepId: string, otherId: string, now: number): Promise<Customer> {
    const r = await this.#run(
      'mergeCustomers',
      [this.keys.customer(keepId), this.keys.customer(otherId), this.keys.identities],
      [keepId, otherId, now],
    );
    return this.#record(Customer, 'customer', null, r[1]);
  }

  async eraseCustomer(customerId: string, options: EraseOptions = {}): Promise<ErasedCustomer> {
    const key = this.keys.customer(customerId);
    const r = await this.#run(
      'eraseCustomer',
      [key],
      [customerId, CONVERSATION_TIMERS.join(','), options.inactiveBefore ?? ''],
    );
    const messages: Message[] = [];
    for (let i = 3; i < r.length; i += 2) {
      messages.push(parseRecord(Message, this.keys.message(String(r[i])), String(r[i + 1])));
    }
    return {
      customerIds: parseRecord(IdList, key, String(r[1])),
      conversationIds: parseRecord(IdList, key, String(r[2])),
      messages,
    };
  }

  async inactiveCustomers(
    before: number,
    limit: number,
    after?: { lastActiveAt: number; id: string },
  ): Promise<CustomerActivity[]> {
    const key = this.keys.key('customerActivity');
    const out: CustomerActivity[] = [];
    if (limit <= 0) return out;
    // From the last of the previous page's score: those with its score are passed over up to its id.
    const min = after ? String(after.lastActiveAt) : '-inf';
    const page = limit + 64;
    for (let offset = 0; ; offset += page) {
      const got = await this.#command(`ZRANGEBYSCORE ${key}`, () =>
        this.#client.sendCommand<string[]>([
          'ZRANGEBYSCORE',
          key,
          min,
          `(${before}`,
          'WITHSCORES',
          'LIMIT',
          String(offset),
          String(page),
        ]),
      );
      // RESP2 answers id, score, id, score…; RESP3 [id, score] pairs.
      const entries = parseRecord(ActivityPage, key, JSON.stringify(got)).flat().map(String);
      for (let i = 0; i < entries.length; i += 2) {
        const id = entries[i]!;
        const lastActiveAt = Number(entries[i + 1]);
        if (!Number.isFinite(lastActiveAt))
          throw new CorruptRecordError(key, `the score of ${id} is not a time`);
        if (after && lastActiveAt === after.lastActiveAt && id <= after.id) continue;
        out.push({ id, lastActiveAt });
        if (out.length === limit) return out;
      }
      if (entries.length < page * 2) return out;
    }
  }

  async learnCustomerActivity(limit: number): Promise<boolean> {
    const r = await this.#run('learnActivity', [this.keys.identities], [Math.max(1, Math.floor(limit))]);
    return r[1] === 1;
  }

  // ------------------------------------------------------------ agents

  async createAgent(agent: Agent): Promise<Agent> {
    const r = await this.#run(
      'createAgent',
      [this.keys.agent(agent.id), this.keys.agents],
      [agent.id, JSON.stringify(agent)],
    );
    return this.#record(Agent, 'agent', agent.id, r[1]);
  }

  async getAgent(id: string): Promise<Agent | null> {
    const key = this.keys.agent(id);
    const raw = await this.#get(key);
    return raw === null ? null : parseRecord(Agent, key, raw);
  }

  /** Page by page (LIST_PAGE agents a script), as `listConversations` reads a long list. */
  async listAgents(): Promise<Agent[]> {
    const out: Agent[] = [];
    for (let first = 0; ; first += LIST_PAGE) {
      const r = await this.#run('listAgents', [this.keys.agents], [first, LIST_PAGE]);
      const page = this.#pairs(r, (id, raw) => parseRecord(Agent, this.keys.agent(id), raw));
      out.push(...page);
      // A page is short only at the end (a missing record is left out of it: the list's length decides).
      if ((r.length - 1) / 2 < LIST_PAGE) return out;
    }
  }

  async updateAgent(id: string, patch: AgentProfilePatch): Promise<Agent> {
    const r = await this.#run('updateAgent', [this.keys.agent(id)], [id, JSON.stringify(patch)]);
    return this.#record(Agent, 'agent', id, r[1]);
  }

  async setAgentStatus(
    id: string,
    status: AgentStatus,
    reason: string | undefined,
    now: number,
  ): Promise<Agent> {
    const r = await this.#run(
      'setAgentStatus',
      [this.keys.agent(id)],
      [id, status, reason === undefined ? '0' : '1', reason ?? '', now],
    );
    return this.#record(Agent, 'agent', id, r[1]);
  }

  // ------------------------------------------------------------ conversations and messages

  async createConversation(conversation: Conversation): Promise<Conversation> {
    const r = await this.#run(
      'createConversation',
      [this.keys.conversation(conversation.id), this.keys.conversations],
      [JSON.stringify(conversation)],
    );
    return this.#conversation(conversation.id, r[1]);
  }

  async startOwned(conversation: Conversation, agentId: string, now: number): Promise<Conversation> {
    const r = await this.#run(
      'startOwned',
      [this.keys.conversation(conversation.id), this.keys.agent(agentId)],
      [JSON.stringify(conversation), agentId, now],
    );
    return this.#conversation(conversation.id, r[1]);
  }

  async startConversation(conversation: Conversation, first: Message): Promise<StartedConversation> {
    checkFirstMessage(conversation, first);
    const external = first.externalId === undefined ? '' : externalKey(first.channel, first.externalId);
    const r = await this.#run(
      'startConversation',
      [this.keys.conversation(conversation.id), this.keys.externalIds, this.keys.message(first.id)],
      [JSON.stringify(conversation), first.id, external, JSON.stringify(first), first.at],
    );
    const messageId = String(r[4]);
    const message = parseRecord(Message, this.keys.message(messageId), String(r[3]));
    if (r[1] === 1) return { duplicate: true, conversation: null, message };
    return { duplicate: false, conversation: this.#conversation(conversation.id, r[2]), message };
  }

  async getConversation(id: string): Promise<Conversation | null> {
    const key = this.keys.conversation(id);
    const raw = await this.#get(key);
    return raw === null ? null : parseRecord(Conversation, key, raw);
  }

  async openConversationOf(customerId: string): Promise<Conversation | null> {
    const r = await this.#run(
      'openConversationOf',
      [this.keys.key('openByCustomer', customerId)],
      [customerId],
    );
    return r.length > 1 ? this.#record(Conversation, 'conversation', null, r[1]) : null;
  }

  /**
   * Read in pages of LIST_PAGE, newest page first, each a script of its own: a long list (every conversation
   * waiting, the day's for the figures) never holds Redis for the whole of it, so routing decisions go on
   * between pages. Not one snapshot, then: a conversation that changes while the pages are read is seen as one
   * page found it (the memory store answers in one step).
   */
  async listConversations(query: ConversationQuery): Promise<Conversation[]> {
    const wanted = Math.max(0, query.limit ?? 1000);
    const pages: Conversation[][] = [];
    let before = query.createdBefore;
    let got = 0;
    for (;;) {
      const size = wanted === 0 ? LIST_PAGE : Math.min(LIST_PAGE, wanted - got);
      const r = await this.#run(
        'listConversations',
        [this.keys.conversations],
        [
          query.status ?? '',
          query.ownerId ?? '',
          query.customerId ?? '',
          size,
          query.createdSince ?? '',
          before ? String(before.at) : '',
          before?.id ?? '',
        ],
      );
      const page = this.#pairs(r, (id, raw) => this.#conversation(id, raw));
      pages.push(page);
      got += page.length;
      if (page.length < size || (wanted !== 0 && got >= wanted)) break;
      before = { at: page[0]!.createdAt, id: page[0]!.id };
    }
    return pages.reverse().flat();
  }

  async listAgentConversations(agentId: string): Promise<Conversation[]> {
    const r = await this.#run('listAgentConversations', [this.keys.openByOwner(agentId)], [agentId]);
    return this.#pairs(r, (id, raw) => this.#conversation(id, raw));
  }

  async conversationsTouchedBy(agentId: string, since: number): Promise<Conversation[]> {
    const r = await this.#run('conversationsTouchedBy', [this.keys.touchedBy(agentId)], [since]);
    const found = this.#pairs(r, (id, raw) => this.#conversation(id, raw));
    return found.sort(byCreation);
  }

  async touchConversation(id: string, channel: Channel, now: number): Promise<Conversation> {
    const r = await this.#run('touchConversation', [this.keys.conversation(id)], [id, channel, now]);
    return this.#conversation(id, r[1]);
  }

  async appendMessage(
    message: Message,
    options: AppendOptions = {},
  ): Promise<{ message: Message; duplicate: boolean }> {
    const external = message.externalId === undefined ? '' : externalKey(message.channel, message.externalId);
    const due = options.deliveryDueAt;
    const r = await this.#run(
      'appendMessage',
      [this.keys.externalIds, this.keys.conversation(message.conversationId), this.keys.message(message.id)],
      [
        message.id,
        message.conversationId,
        external,
        JSON.stringify(message),
        due === undefined ? '' : due,
        message.at,
      ],
    );
    const id = str(r[3]) ?? message.id;
    return { message: parseRecord(Message, this.keys.message(id), String(r[1])), duplicate: r[2] === 1 };
  }

  async findMessageByExternalId(channel: Channel, externalId: string): Promise<Message | null> {
    const r = await this.#run('findMessage', [this.keys.externalIds], [externalKey(channel, externalId)]);
    if (r.length < 3) return null;
    return parseRecord(Message, this.keys.message(String(r[1])), String(r[2]));
  }

  async getMessage(id: string): Promise<Message | null> {
    const key = this.keys.message(id);
    const raw = await this.#get(key);
    return raw === null ? null : parseRecord(Message, key, raw);
  }

  async listMessages(conversationId: string): Promise<Message[]> {
    const r = await this.#run('listMessages', [this.keys.messagesOf(conversationId)], []);
    return this.#pairs(r, (id, raw) => parseRecord(Message, this.keys.message(id), raw));
  }

  async updateDelivery(
    messageId: string,
    delivery: Message['delivery'],
    options: DeliveryUpdate = {},
  ): Promise<{ message: Message; applied: boolean }> {
    const key = this.keys.message(messageId);
    const { ifAttemptsAtMost: most, timer } = options;
    const r = await this.#run(
      'updateDelivery',
      [key],
      [messageId, JSON.stringify(delivery), most ?? '', timer === null ? 'cancel' : (timer ?? '')],
    );
    return { message: parseRecord(Message, key, String(r[1])), applied: r[2] === 1 };
  }

  // ------------------------------------------------------------ routing decisions

  async route(req: RouteRequest): Promise<RouteOutcome> {
    const id = req.conversationId;
    const r = await this.#run(
      'route',
      [this.keys.conversation(id)],
      [
        id,
        req.channel,
        JSON.stringify(req.candidates),
        JSON.stringify(req.mode),
        req.now,
        req.score,
        req.overflowAt ?? '',
      ],
    );
    return this.#routeOutcome(id, r, 1);
  }

  /** The outcome of route-1.lua (also in startContact-5.lua's reply), its entries from `at` on. */
  #routeOutcome(id: string, reply: Reply, at: number): RouteOutcome {
    const r = (i: number) => reply[at + i - 1];
    switch (r(1)) {
      case 'assigned':
        return {
          type: 'assigned',
          agentId: String(r(2)),
          reason: ownershipReason(r(3)),
          previousOwnerId: str(r(4)),
          conversation: this.#conversation(id, r(5)),
          settled: this.#settled(r(6)),
        };
      case 'offered':
        return {
          type: 'offered',
          agentId: String(r(2)),
          reason: ownershipReason(r(3)),
          conversation: this.#conversation(id, r(4)),
        };
      case 'covered':
        return {
          type: 'covered',
          agentId: String(r(2)),
          conversation: this.#conversation(id, r(3)),
          settled: this.#settled(r(4)),
        };
      case 'queued':
        return {
          type: 'queued',
          conversation: this.#conversation(id, r(2)),
          waitQuoted: r(3) === 1,
          snapshot: this.#snapshot(reply, at + 3),
        };
      default:
        return { type: 'skipped', conversation: this.#conversation(id, r(2)) };
    }
  }

  async claimNext(agentId: string, now: number, rules: WaitRules): Promise<ClaimOutcome | null> {
    return (await this.#claims(agentId, now, rules, 1))[0] ?? null;
  }

  async fill(agentId: string, now: number, rules: WaitRules): Promise<ClaimOutcome[]> {
    return this.#claims(agentId, now, rules, FILL_LIMIT);
  }

  /** The claimNext script, claiming up to `limit` times: five entries per claim. */
  async #claims(agentId: string, now: number, rules: WaitRules, limit: number): Promise<ClaimOutcome[]> {
    const r = await this.#run(
      'claimNext',
      [this.keys.agent(agentId)],
      [agentId, now, JSON.stringify(rules), limit],
    );
    return this.#claimsFrom(r, 1);
  }

  /** Claims as the scripts answer them from `start` on: five entries each (includes/claim.lua). */
  #claimsFrom(r: Reply, start: number): ClaimOutcome[] {
    const out: ClaimOutcome[] = [];
    for (let i = start; i + 4 < r.length; i += 5) {
      const agent = String(r[i + 1]);
      const reason = ownershipReason(r[i + 2]);
      const conversation = this.#record(Conversation, 'conversation', null, r[i + 3]);
      out.push(
        r[i] === 'offered'
          ? { type: 'offered', agentId: agent, reason, conversation }
          : { type: 'assigned', agentId: agent, reason, conversation, settled: this.#settled(r[i + 4]) },
      );
    }
    return out;
  }

  async acceptOffer(conversationId: string, agentId: string, now: number): Promise<Answered> {
    const r = await this.#run(
      'acceptOffer',
      [this.keys.conversation(conversationId)],
      [conversationId, agentId, now],
    );
    return { conversation: this.#conversation(conversationId, r[1]), settled: this.#settled(r[2]) };
  }

  async withdrawOffer(
    conversationId: string,
    agentId: string,
    now: number,
    agentStatus: { status: AgentStatus; reason: string } | null,
  ): Promise<Conversation | null> {
    const r = await this.#run(
      'withdrawOffer',
      [this.keys.conversation(conversationId)],
      [conversationId, agentId, now, agentStatus?.status ?? '', agentStatus?.reason ?? ''],
    );
    return r.length > 1 ? this.#conversation(conversationId, r[1]) : null;
  }

  async setWaitingForOwner(conversationId: string, since: number | null): Promise<Conversation> {
    return this.#conversationScript('setWaitingForOwner', conversationId, [since === null ? '' : since]);
  }

  async endCover(
    conversationId: string,
    _now: number,
  ): Promise<{ conversation: Conversation; agentId: string | null }> {
    const r = await this.#run('endCover', [this.keys.conversation(conversationId)], [conversationId]);
    return { conversation: this.#conversation(conversationId, r[1]), agentId: str(r[2]) };
  }

  /** What owner-back changed, as comeBack-1.lua answers it from `start` on: `n` conversations, then `m` freed agent ids. */
  #ownerBackFrom(r: Reply, start: number, n: number, m: number): OwnerBack {
    const updated: Conversation[] = [];
    for (let i = 0; i < n; i++) updated.push(this.#record(Conversation, 'conversation', null, r[start + i]));
    return { updated, freed: r.slice(start + n, start + n + m).map(String) };
  }

  async comeBack(
    agentId: string,
    reason: string | undefined,
    now: number,
    liveChannels: readonly Channel[],
    rules: WaitRules,
  ): Promise<CameBack> {
    const key = this.keys.agent(agentId);
    const r = await this.#run(
      'comeBack',
      [key],
      [
        agentId,
        now,
        JSON.stringify(liveChannels),
        JSON.stringify(rules),
        FILL_LIMIT,
        reason === undefined ? '0' : '1',
        reason ?? '',
      ],
    );
    const status = AgentStatus.safeParse(r[1]);
    if (!status.success) throw new CorruptRecordError(key, `status ${String(r[1])} is not an agent status`);
    const statusReason = str(r[2]);
    const n = Number(r[3]);
    const m = Number(r[4]);
    const agent = parseRecord(Agent, key, String(r[5 + n + m]));
    return {
      before: { status: status.data, ...(statusReason !== null ? { statusReason } : {}) },
      ...this.#ownerBackFrom(r, 5, n, m),
      agent,
      claims: this.#claimsFrom(r, 6 + n + m),
    };
  }

  async requeue(conversationId: string, now: number, score: number, since?: number): Promise<Conversation> {
    return this.#conversationScript('requeue', conversationId, [now, score, since ?? '']);
  }

  async resolve(
    conversationId: string,
    now: number,
    followUpAt: number | null,
    options: ResolveOptions = {},
  ): Promise<Resolved> {
    const surveyAt = options.surveyAt ?? null;
    const r = await this.#run(
      'resolve',
      [this.keys.conversation(conversationId)],
      [
        conversationId,
        now,
        followUpAt === null ? '' : followUpAt,
        HANDLE_TIME_WINDOW,
        surveyAt === null ? '' : surveyAt,
        options.by ?? '',
        options.fill ? JSON.stringify(options.fill) : '',
        FILL_LIMIT,
      ],
    );
    return {
      conversation: this.#conversation(conversationId, r[1]),
      coverer: str(r[2]),
      keptFor: str(r[3]),
      claims: this.#claimsFrom(r, 4),
    };
  }

  async abandon(conversationId: string, now: number, closedBy?: 'block'): Promise<Conversation> {
    return this.#conversationScript('abandon', conversationId, [now, closedBy ?? '']);
  }

  async offerHandoff(
    conversationId: string,
    from: string,
    to: string,
    note: string,
    now: number,
  ): Promise<Conversation> {
    return this.#conversationScript(
      'offerHandoff',
      conversationId,
      [from, to, note, now],
      [this.keys.agent(to)],
    );
  }

  async acceptHandoff(conversationId: string, agentId: string, now: number): Promise<Conversation> {
    return this.#conversationScript(
      'acceptHandoff',
      conversationId,
      [agentId, now],
      [this.keys.agent(agentId)],
    );
  }

  async declineHandoff(conversationId: string, agentId: string): Promise<Conversation> {
    return this.#conversationScript('declineHandoff', conversationId, [agentId]);
  }

  async inviteConsultant(conversationId: string, agentId: string, now: number): Promise<Conversation> {
    return this.#conversationScript(
      'inviteConsultant',
      conversationId,
      [agentId, now],
      [this.keys.agent(agentId)],
    );
  }

  async joinConsult(conversationId: string, agentId: string, now: number): Promise<Conversation> {
    return this.#conversationScript('joinConsult', conversationId, [agentId, now]);
  }

  async leaveConsult(conversationId: string, agentId: string): Promise<Conversation> {
    return this.#conversationScript('leaveConsult', conversationId, [agentId]);
  }

  async queueSnapshot(conversationId: string): Promise<QueueSnapshot | null> {
    return this.#snapshot(await this.#run('queueSnapshot', [this.keys.waiting], [conversationId]), 1);
  }

  /** A snapshot as handle.lua `waitSnapshot` answers it, from `reply[at]` on; null when it is not there. */
  #snapshot(reply: Reply, at: number): QueueSnapshot | null {
    if (reply.length < at + 6) return null;
    return {
      position: Number(reply[at]),
      servers: Number(reply[at + 1]),
      channel: channelOf(reply[at + 2]),
      handled: { count: Number(reply[at + 3]), totalMs: Number(reply[at + 4]) },
      declined: Number(reply[at + 5]),
    };
  }

  async recordSurvey(conversationId: string, survey: Survey): Promise<Conversation> {
    return this.#conversationScript('recordSurvey', conversationId, [JSON.stringify(survey)]);
  }

  // ------------------------------------------------------------ timers

  async schedule(timer: Timer): Promise<void> {
    await this.#command('schedule', () =>
      this.#client.zAdd(this.keys.timers, { score: timer.dueAt, value: `${timer.kind}:${timer.ref}` }),
    );
  }

  async cancelTimer(kind: TimerKind, ref: string): Promise<void> {
    await this.#command('cancelTimer', () => this.#client.zRem(this.keys.timers, `${kind}:${ref}`));
  }

  async setWrapUp(conversationId: string, wrapUp: WrapUp, keepMs: number): Promise<void> {
    const key = this.keys.wrapUp(conversationId);
    const raw = JSON.stringify(WrapUpRecord.parse(wrapUp));
    await this.#command(
      'setWrapUp',
      () =>
        this.#client
          .multi()
          .set(key, raw, { expiration: { type: 'PX', value: Math.max(Math.ceil(keepMs), 1) } })
          .zAdd(this.keys.timers, { score: wrapUp.dueAt, value: `wrapup:${conversationId}` })
          .exec(),
      key,
    );
  }

  async wrapUp(conversationId: string, _now: number): Promise<WrapUp | null> {
    const key = this.keys.wrapUp(conversationId);
    const raw = await this.#command(`GET ${key}`, () => this.#client.get(key), key);
    return raw === null ? null : parseRecord(WrapUpRecord, key, String(raw));
  }

  async listWrapUps(now: number, withinMs: number): Promise<KeptWrapUp[]> {
    const r = await this.#run('listWrapUps', [this.keys.timers], [now, now + Math.max(0, withinMs)]);
    const out: KeptWrapUp[] = [];
    for (let i = 1; i + 2 < r.length; i += 3) {
      const id = String(r[i]);
      const wrapUp = parseRecord(WrapUpRecord, this.keys.wrapUp(id), String(r[i + 1]));
      if (wrapUp.dueAt <= now || wrapUp.dueAt > now + withinMs) continue;
      out.push({ conversation: this.#conversation(id, r[i + 2]), wrapUp });
    }
    return out;
  }

  async setOutCall(call: OutCall, now: number): Promise<void> {
    const key = this.keys.outCall(call.agentId);
    const { agentId: _, ...kept } = OutCallRecord.parse(call);
    const ms = Math.max(Math.ceil(call.until - now), 1);
    await this.#command(
      `SET ${key}`,
      () => this.#client.set(key, JSON.stringify(kept), { expiration: { type: 'PX', value: ms } }),
      key,
    );
  }

  async endOutCall(agentId: string): Promise<void> {
    const key = this.keys.outCall(agentId);
    await this.#command(`DEL ${key}`, () => this.#client.del(key), key);
  }

  async listOutCalls(agentIds: readonly string[], now: number): Promise<OutCall[]> {
    if (agentIds.length === 0) return [];
    const keys = agentIds.map((id) => this.keys.outCall(id));
    const raws = await this.#command('MGET outcall', () => this.#client.mGet(keys), keys[0]);
    const out: OutCall[] = [];
    raws.forEach((raw, i) => {
      if (raw === null) return;
      const kept = parseRecord(OutCallRecord.omit({ agentId: true }), keys[i]!, String(raw));
      if (kept.until > now) out.push({ agentId: agentIds[i]!, ...kept });
    });
    return out;
  }

  async claimDueTimers(now: number, limit: number, leaseUntil?: number): Promise<Timer[]> {
    const r = await this.#run(
      'claimDueTimers',
      [this.keys.timers],
      [now, Math.max(0, Math.floor(limit)), leaseUntil ?? 0, ...TIMER_KINDS],
    );
    const due: Timer[] = [];
    for (let i = 1; i + 1 < r.length; i += 2) {
      const member = String(r[i]);
      const at = member.indexOf(':');
      const timer = { kind: member.slice(0, at), ref: member.slice(at + 1), dueAt: Number(r[i + 1]) };
      due.push(checkRecord(TimerRecord, `${this.keys.timers} member ${JSON.stringify(member)}`, timer));
    }
    return due;
  }

  async finishTimers(timers: ReadonlyArray<Pick<Timer, 'kind' | 'ref'>>, leaseUntil: number): Promise<void> {
    if (timers.length === 0) return;
    await this.#run(
      'finishTimers',
      [this.keys.timers],
      [leaseUntil, ...timers.map((t) => `${t.kind}:${t.ref}`)],
    );
  }

  // ------------------------------------------------------------ promises and figures

  async addPromise(promise: CustomerPromise): Promise<CustomerPromise> {
    const key = this.keys.promise(promise.id);
    const r = await this.#run(
      'addPromise',
      [key, this.keys.promisesOf(promise.conversationId)],
      [promise.id, JSON.stringify(promise)],
    );
    return parseRecord(CustomerPromise, key, String(r[1]));
  }

  async settlePromise(
    id: string,
    state: Exclude<PromiseState, 'open'>,
    now: number,
  ): Promise<CustomerPromise | null> {
    const key = this.keys.promise(id);
    const r = await this.#run('settlePromise', [key], [id, state, now]);
    return r.length > 1 ? parseRecord(CustomerPromise, key, String(r[1])) : null;
  }

  async listPromises(conversationId: string): Promise<CustomerPromise[]> {
    const r = await this.#run('listPromises', [this.keys.promisesOf(conversationId)], []);
    return this.#pairs(r, (id, raw) => parseRecord(CustomerPromise, this.keys.promise(id), raw));
  }

  async getPromise(id: string): Promise<CustomerPromise | null> {
    const key = this.keys.promise(id);
    const raw = await this.#get(key);
    return raw === null ? null : parseRecord(CustomerPromise, key, raw);
  }

  async recordHandleTime(channel: Channel, ms: number): Promise<void> {
    await this.#run('recordHandleTime', [this.keys.handleTimes(channel)], [ms, HANDLE_TIME_WINDOW, channel]);
  }

  async recentHandleTimes(channel: Channel): Promise<number[]> {
    const key = this.keys.handleTimes(channel);
    const list = await this.#command('recentHandleTimes', () => this.#client.lRange(key, 0, -1));
    return list.map(Number);
  }

  async getSavedReplies(): Promise<SavedReply[] | null> {
    const key = this.keys.savedReplies;
    const raw = await this.#get(key);
    return raw === null ? null : parseRecord(SavedReplies, key, raw);
  }

  async setSavedReplies(replies: SavedReply[]): Promise<void> {
    const key = this.keys.savedReplies;
    const raw = JSON.stringify(SavedReplies.parse(replies));
    await this.#command(`SET ${key}`, () => this.#client.set(key, raw), key);
  }

  async textOptOut(address: string): Promise<number | null> {
    const key = this.keys.textOptOuts;
    const raw = await this.#command(`HGET ${key}`, () => this.#client.hGet(key, address), key);
    if (raw === null || raw === undefined) return null;
    return parseRecord(OptOutTime, `${key} ${address}`, String(raw));
  }

  async setTextOptOut(address: string, at: number | null): Promise<void> {
    const key = this.keys.textOptOuts;
    await this.#command(
      `${at === null ? 'HDEL' : 'HSET'} ${key}`,
      () => (at === null ? this.#client.hDel(key, address) : this.#client.hSet(key, address, String(at))),
      key,
    );
  }

  async stats(): Promise<StoreStats> {
    const r = (await this.#run('stats', [this.keys.waiting], [])).map(Number);
    return {
      waiting: r[1]!,
      waitingByChannel: { voice: r[2]!, sms: r[3]!, chat: r[4]!, email: r[5]! },
      agentsByStatus: { available: r[6]!, away: r[7]!, offline: r[8]! },
    };
  }

  /** Every connection answers. */
  async ping(): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError('the redis store is closed');
    await this.#command('ping', () => Promise.all(this.#lanes.clients.map((client) => client.ping())));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    await Promise.all(this.#lanes.clients.map(closeRedisClient));
  }

  /**
   * Say that this version runs (its marker, redis-functions.ts) and delete the function libraries no version
   * that ran within `keepMs` uses. Done every hour (at connect, loading the scripts says it and `connect`
   * prunes); answers the names deleted. Nothing to do where the scripts run by SHA.
   */
  async maintainFunctions(now: number, keepMs = FUNCTIONS_KEEP_MS): Promise<string[]> {
    if (!this.#functions) return [];
    try {
      await markVersion(this.#client, this.#libraries, now);
      return await pruneLibraries(this.#client, this.#libraries, now, keepMs);
    } catch (err) {
      throw this.#fault(err, 'maintainFunctions');
    }
  }

  /** Say that this version runs (when Redis forgot its functions, before they are loaded again). */
  readonly #markVersion = (): Promise<void> => markVersion(this.#client, this.#libraries, Date.now());

  /** `maintainFunctions` in the background: a failure (Redis away) waits for the next turn. */
  #maintainSoon(): void {
    if (this.#closed) return;
    this.maintainFunctions(Date.now()).catch(() => {});
  }

  // ------------------------------------------------------------ internals

  /**
   * Load what Redis does not have yet: each script's function library (Redis 7; FUNCTION LIST, then FUNCTION
   * LOAD each missing one), or, where Redis has no functions or may not load them (an older Redis, an ACL
   * without FUNCTION), the scripts themselves (SCRIPT EXISTS, then SCRIPT LOAD each missing one).
   */
  async #loadScripts(): Promise<void> {
    const all = [...this.#scripts.values()];
    if (await this.#loadFunctions(all)) return;
    const known = await this.#client.scriptExists(all.map((s) => s.sha));
    await Promise.all(all.filter((_, i) => !known[i]).map((s) => this.#load(s)));
  }

  /** Whether every script runs as a function: their libraries are loaded (those Redis lacks). */
  async #loadFunctions(all: Script[]): Promise<boolean> {
    try {
      // This version's marker first: a prune from now on (another process's) keeps the libraries it names.
      await this.#markVersion();
      const have = new Set(await listLibraries(this.#client));
      await Promise.all(
        all
          .filter((s) => !have.has(s.fn))
          .map((s) =>
            this.#client.sendCommand(['FUNCTION', 'LOAD', s.library]).catch((err: unknown) => {
              if (!(err instanceof ErrorReply && /already exists/i.test(err.message))) throw err;
            }),
          ),
      );
    } catch (err) {
      // No functions here (Redis before 7.0), or not for us (an ACL without FUNCTION): scripts by SHA. A library
      // Redis refuses (one that does not register) is a defect of this version, not a Redis without functions:
      // it stops the start, named, instead of every call running by SHA unseen.
      if (err instanceof ErrorReply && /unknown command|NOPERM/i.test(err.message)) return false;
      if (err instanceof ErrorReply)
        throw new Error(`redis store: a script library did not load: ${err.message}`);
      throw err;
    }
    this.#functions = true;
    return true;
  }

  async #load(script: Script): Promise<void> {
    const sha = await this.#client.scriptLoad(script.source);
    if (sha !== script.sha)
      throw new Error(`redis store: ${script.file} loaded as ${sha}, expected ${script.sha}`);
  }

  /** Run a script (by SHA, its text on NOSCRIPT); its result, or the error its code stands for. */
  async #run(name: string, keys: string[], args: Array<string | number>): Promise<Reply> {
    const script = this.#scripts.get(name);
    if (!script) throw new Error(`redis store: no script ${name}`);
    if (keys.length !== script.keys)
      throw new Error(`redis store: ${script.file} declares ${script.keys} keys, called with ${keys.length}`);
    const tail = [String(keys.length), ...keys, this.keys.base, ...args.map(String)];
    const fault = (err: unknown) => this.#fault(err, name);
    const reply = await this.#lanes
      .run((client) => runScript(client, script, tail, fault, this.#functions, this.#markVersion))
      .catch((err: unknown) => {
        throw fault(err);
      });
    if (!Array.isArray(reply) || typeof reply[0] !== 'number')
      throw new Error(`redis store: ${script.file} answered ${JSON.stringify(reply)}`);
    const out = reply as Reply;
    if (out[0] !== 0) {
      const make = SCRIPT_ERRORS[out[0] as number];
      if (!make) throw new Error(`redis store: ${script.file} answered unknown error code ${out[0]}`);
      throw make(String(out[1]), str(out[2]));
    }
    return out;
  }

  async #conversationScript(
    name: string,
    conversationId: string,
    args: Array<string | number>,
    moreKeys: string[] = [],
  ): Promise<Conversation> {
    const r = await this.#run(
      name,
      [this.keys.conversation(conversationId), ...moreKeys],
      [conversationId, ...args],
    );
    return this.#conversation(conversationId, r[1]);
  }

  async #get(key: string): Promise<string | null> {
    return this.#command(`GET ${key}`, () => this.#client.get(key), key);
  }

  async #command<T>(what: string, run: () => Promise<T>, key?: string): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw this.#fault(err, what, key);
    }
  }

  /** A Redis or connection failure as the error callers handle: unavailable, corrupt, or a bug. */
  #fault(err: unknown, what: string, key?: string): Error {
    return redisFault(err, what, key, this.#lastError, 'redis store');
  }

  #conversation(id: string, raw: unknown): Conversation {
    return parseRecord(Conversation, this.keys.conversation(id), String(raw));
  }

  /** The promises answering settled, as a script returns them (one JSON array). */
  #settled(raw: unknown): CustomerPromise[] {
    let list: unknown;
    try {
      list = JSON.parse(String(raw));
    } catch {
      list = null;
    }
    if (!Array.isArray(list)) throw new CorruptRecordError(this.keys.timers, 'settled promises unreadable');
    return list.map((p: { id?: unknown } | null) =>
      checkRecord(CustomerPromise, this.keys.promise(String(p?.id)), p),
    );
  }

  #customer(id: unknown, raw: unknown): Customer {
    return parseRecord(Customer, this.keys.customer(String(id)), String(raw));
  }

  /** A record whose id is only known from its content (the key named from it when it parses that far). */
  #record<S extends z.ZodType>(
    schema: S,
    kind: 'customer' | 'agent' | 'conversation',
    id: string | null,
    raw: unknown,
  ): z.output<S> {
    const text = String(raw);
    if (id !== null) return parseRecord(schema, this.keys.key(kind, id), text);
    const value = parseJson(`a ${kind} record`, text);
    const named = (value as { id?: unknown } | null)?.id;
    return checkRecord(
      schema,
      typeof named === 'string' ? this.keys.key(kind, named) : `a ${kind} record`,
      value,
    );
  }

  /** `{0, id, raw | null, id, raw | null, …}`: the records, skipping ids whose record is gone. */
  #pairs<T>(r: Reply, parse: (id: string, raw: string) => T): T[] {
    const out: T[] = [];
    for (let i = 1; i + 1 < r.length; i += 2) {
      const raw = str(r[i + 1]);
      if (raw !== null) out.push(parse(String(r[i]), raw));
    }
    return out;
  }
}

/** Connect a Redis store (see RedisStore.connect): the factory the server calls in scale-out mode. */
export function createRedisStore(options: RedisStoreOptions = {}): Promise<RedisStore> {
  return RedisStore.connect(options);
}

function ownershipReason(v: unknown): Conversation['ownership'][number]['reason'] {
  return String(v) as Conversation['ownership'][number]['reason'];
}

/** A channel name a script answered (from a line's key, which only a channel begins). */
function channelOf(v: unknown): Channel {
  const parsed = ChannelName.safeParse(v);
  if (!parsed.success) throw new CorruptRecordError('a waiting line', `unknown channel ${String(v)}`);
  return parsed.data;
}

function identityKey(i: Identity): string {
  return `${i.channel}:${i.address}`;
}

function externalKey(channel: Channel, externalId: string): string {
  return `${channel}:${externalId}`;
}
