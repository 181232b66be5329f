// What the Slack console remembers, in Redis: the same SlackState as the memory
// implementation (state.ts), shared by every process on one Redis, so a Slack
// event reaching process B finds the thread process A posted, and a retried
// event is processed once across all of them.
//
// Keys start with the Redis store's base (`{sb}:` or `{sb:<prefix>}:`, from
// routing/store/redis-keys.ts), so they hash to the store's Redis Cluster slot
// and are deleted with it; their layouts are below, all under `slack:` (no
// layout of the store starts so). Values are read back through zod: one that
// does not parse is a CorruptRecordError naming its key. Updates of several keys
// are one Lua script each (run by SHA, sent again in full on NOSCRIPT); an event
// id is claimed with SET NX PX, so exactly one process wins it.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  closeRedisClient,
  connectWithin,
  newRedisClient,
  parseRecord,
  type RedisClient,
  type RedisConnectionOptions,
  redisFault,
  runScript,
} from '../../routing/store/redis-connection.js';
import { luaKeyFunctions, RedisKeys } from '../../routing/store/redis-keys.js';
import { CorruptRecordError } from '../../shared/errors.js';
import type { AlertWindow, CardState, MemorySlackStateOptions, SlackRef, SlackState } from './state.js';

/** Key layouts after the store's base: `%` marks an argument. */
export const SLACK_KEY_LAYOUTS = {
  /** Hash: Slack user id → the app's DM channel with them. */
  dms: 'slack:dms',
  /** Hash per conversation: agent id → their card (thread root), JSON `{channel, ts}`. */
  threads: 'slack:threads:%',
  /** Hash: `channel|ts` of a card → JSON `{conversationId, agentId}`. */
  roots: 'slack:roots',
  /** List per Switchboard message: where it shows in Slack, JSON `{channel, ts}` each, in order. */
  posts: 'slack:posts:%',
  /** Sorted set: message ids with posts kept, score = when first kept (`postSeq`), oldest dropped first. */
  postOrder: 'slack:post-order',
  /** String: the counter scoring `postOrder`. */
  postSeq: 'slack:post-seq',
  /** String with an expiry: a processed Slack event id (value: when claimed, ms). */
  event: 'slack:event:%',
  /** String with an expiry, per `conversation|agent`: their card is being opened (value: when reserved, ms). */
  card: 'slack:card:%',
  /** String kept a day, per `conversation|agent`: the message ids (JSON array) the card's transcript showed. */
  shows: 'slack:shows:%',
  /** Set per `conversation|agent`: every message id its thread shows; kept 30 days after the last one added. */
  shown: 'slack:shown:%',
  /** Sorted set: `conversation|holder` for Slack updates a process has under way, score = until when (ms). */
  work: 'slack:work',
  /**
   * Hash per alert topic (a customer channel), kept an hour after the last alert: `at` when the team channel
   * was last told, `unposted` how many alerts were held back since.
   */
  alert: 'slack:alert:%',
} as const;

/** How long a card's transcript ids are kept: only a card being opened, or just opened, needs them. */
const SHOWS_KEPT_MS = 24 * 3600_000;
/** How long an alert topic's window is kept after its last alert went. */
const ALERT_KEPT_MS = 3600_000;
/** How long a thread's shown messages are kept after the last one was added. */
const SHOWN_KEPT_MS = 30 * 24 * 3600_000;

export type SlackKeyName = keyof typeof SLACK_KEY_LAYOUTS;

export interface RedisSlackStateOptions extends MemorySlackStateOptions, RedisConnectionOptions {
  /** The store's key prefix: keys are `{sb:<prefix>}:slack:…` (`{sb}:slack:…` when empty). */
  prefix?: string;
}

const Ref = z.object({ channel: z.string().min(1), ts: z.string().min(1) });
const Owner = z.object({ conversationId: z.string().min(1), agentId: z.string().min(1) });
/** A DM channel id, a message id or a conversation id. */
const Channel = z.string().min(1);
const Shows = z.array(z.string().min(1));

// ---------------------------------------------------------------- scripts

/** Keys a script builds at run time, from the same layouts, with the base in ARGV[1]. */
function luaKeys(): string {
  return ['local P = ARGV[1]', 'local K = {}', ...luaKeyFunctions(SLACK_KEY_LAYOUTS), ''].join('\n');
}

interface Script {
  name: string;
  source: string;
  sha: string;
  keys: number;
}

/** Before any write: every declared key is absent or of its type (`{-6, key, detail}` otherwise). */
function typeCheck(types: string[]): string {
  return types
    .map(
      (t, i) => `do
  local t = redis.call('TYPE', KEYS[${i + 1}]).ok
  if t ~= 'none' and t ~= '${t}' then
    return {-6, KEYS[${i + 1}], 'WRONGTYPE: a ' .. t .. ', not a ${t}'}
  end
end
`,
    )
    .join('');
}

function script(name: string, types: string[], body: string): Script {
  const source = luaKeys() + typeCheck(types) + body;
  const keys = types.length;
  return { name, source, sha: createHash('sha1').update(source).digest('hex'), keys };
}

/**
 * KEYS: the conversation's threads hash, the roots hash. ARGV: base, agent id, the card (JSON),
 * its root field, the owner (JSON). Answers `{0}`, or `{-6, key, detail}` for an unreadable old card
 * (nothing written).
 */
const SAVE_THREAD = script(
  'saveThread',
  ['hash', 'hash'],
  `
local previous = redis.call('HGET', KEYS[1], ARGV[2])
if previous then
  local ok, ref = pcall(cjson.decode, previous)
  if not ok or type(ref) ~= 'table' or type(ref.channel) ~= 'string' or type(ref.ts) ~= 'string' then
    return {-6, KEYS[1] .. ' field ' .. ARGV[2], 'not a Slack message reference'}
  end
  redis.call('HDEL', KEYS[2], ref.channel .. '|' .. ref.ts)
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[4], ARGV[5])
return {0}
`,
);

/**
 * KEYS: the message's posts list, the post order, the counter. ARGV: base, message id, the post
 * (JSON), how many messages to keep. A new post moves its message to the newest; past the limit the
 * oldest messages' posts go. Answers `{0, 1}` when added, `{0, 0}` when already there.
 */
const ADD_POST = script(
  'addPost',
  ['list', 'zset', 'string'],
  `
if redis.call('LPOS', KEYS[1], ARGV[3]) then return {0, 0} end
redis.call('RPUSH', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), ARGV[2])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if over > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #oldest, 2 do redis.call('DEL', K.posts(oldest[i])) end
end
return {0, 1}
`,
);

/**
 * KEYS: the work set. ARGV: base, holder, now, until, limit. Holds that ran out by `now` (oldest first, at
 * most `limit`) go; each of their conversations is the holder's until `until` (a later hold it has stays).
 * Answers `{0, conversation id, ...}`.
 */
/**
 * KEYS: the topic's alert hash. ARGV: base, now, every (ms), how long to keep the hash (ms). Answers
 * `{0, 1, unposted, since | -1}` when the alert goes now (the window starts again), `{0, 0, unposted, since}`
 * when it is held back (counted), `{-6, key, detail}` for a hash that does not hold numbers.
 */
const ALERT_WINDOW = script(
  'alertWindow',
  ['hash'],
  `
local at, unposted = redis.call('HGET', KEYS[1], 'at'), redis.call('HGET', KEYS[1], 'unposted')
local now, every = tonumber(ARGV[2]), tonumber(ARGV[3])
if (at and not tonumber(at)) or (unposted and not tonumber(unposted)) then
  return {-6, KEYS[1], 'at and unposted must be numbers'}
end
at, unposted = tonumber(at), tonumber(unposted) or 0
if at and now >= at and now - at < every then
  redis.call('HINCRBY', KEYS[1], 'unposted', 1)
  return {0, 0, unposted + 1, at}
end
redis.call('HSET', KEYS[1], 'at', ARGV[2], 'unposted', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {0, 1, unposted, at or -1}
`,
);

const TAKE_OVER_WORK = script(
  'takeOverWork',
  ['zset'],
  `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[5]))
local out, seen = {0}, {}
for _, member in ipairs(due) do
  redis.call('ZREM', KEYS[1], member)
  local conversation = string.match(member, '^(.+)|[^|]*$')
  if conversation and not seen[conversation] then
    seen[conversation] = true
    out[#out + 1] = conversation
  end
end
for i = 2, #out do redis.call('ZADD', KEYS[1], 'GT', ARGV[4], out[i] .. '|' .. ARGV[2]) end
return out
`,
);

// ---------------------------------------------------------------- the state

/** Several processes' shared memory of Slack; keeps the same limits as MemorySlackState. */
export class RedisSlackState implements SlackState {
  /** The hash-tagged start of every key, the store's (e.g. `{sb:test-1}:`). */
  readonly base: string;
  readonly #client: RedisClient;
  readonly #retentionMs: number;
  readonly #maxPosts: number;
  #lastError: Error | null = null;

  private constructor(client: RedisClient, options: RedisSlackStateOptions) {
    this.#client = client;
    this.base = new RedisKeys(options.prefix ?? '').base;
    this.#retentionMs = positive('eventRetentionMs', options.eventRetentionMs ?? 3600_000);
    this.#maxPosts = positive('maxPosts', options.maxPosts ?? 10_000);
    client.on('error', (err: Error) => {
      this.#lastError = err;
    });
  }

  /** Connect; StoreUnavailableError when Redis does not answer within `connectTimeoutMs`. */
  static async connect(options: RedisSlackStateOptions = {}): Promise<RedisSlackState> {
    const client = newRedisClient(options);
    let state: RedisSlackState;
    try {
      state = new RedisSlackState(client, options);
    } catch (err) {
      client.destroy();
      throw err;
    }
    await connectWithin(client, options);
    return state;
  }

  /** Whether the connection is up right now. */
  get ready(): boolean {
    return this.#client.isReady;
  }

  /** The key of a layout with its arguments. */
  key(name: SlackKeyName, ...args: string[]): string {
    const parts = SLACK_KEY_LAYOUTS[name].split('%');
    if (parts.length - 1 !== args.length)
      throw new RangeError(`key ${name} takes ${parts.length - 1} arguments, got ${args.length}`);
    let out = this.base + parts[0];
    for (let i = 0; i < args.length; i++) out += args[i]! + parts[i + 1]!;
    return out;
  }

  async close(): Promise<void> {
    await closeRedisClient(this.#client);
  }

  // ------------------------------------------------------------ SlackState

  async dmChannel(slackUserId: string): Promise<string | null> {
    const key = this.key('dms');
    const raw = await this.#command('dmChannel', key, () => this.#client.hGet(key, slackUserId));
    if (raw === null || raw === undefined) return null;
    const parsed = Channel.safeParse(raw);
    if (!parsed.success) throw new CorruptRecordError(field(key, slackUserId), 'not a channel id');
    return parsed.data;
  }

  async rememberDmChannel(slackUserId: string, channel: string): Promise<void> {
    const key = this.key('dms');
    await this.#command('rememberDmChannel', key, () => this.#client.hSet(key, slackUserId, channel));
  }

  async thread(conversationId: string, agentId: string): Promise<SlackRef | null> {
    const key = this.key('threads', conversationId);
    const raw = await this.#command('thread', key, () => this.#client.hGet(key, agentId));
    return raw === null || raw === undefined ? null : parseRecord(Ref, field(key, agentId), raw);
  }

  async saveThread(conversationId: string, agentId: string, ref: SlackRef): Promise<void> {
    const card = { channel: ref.channel, ts: ref.ts };
    await this.#run(
      SAVE_THREAD,
      [this.key('threads', conversationId), this.key('roots')],
      [agentId, JSON.stringify(card), rootField(card), JSON.stringify({ conversationId, agentId })],
    );
  }

  async threads(conversationId: string): Promise<Array<{ agentId: string; ref: SlackRef }>> {
    const key = this.key('threads', conversationId);
    const all = await this.#command('threads', key, () => this.#client.hGetAll(key));
    return Object.entries(all as Record<string, string>).map(([agentId, raw]) => ({
      agentId,
      ref: parseRecord(Ref, field(key, agentId), raw),
    }));
  }

  async threadOwner(
    channel: string,
    ts: string,
  ): Promise<{ conversationId: string; agentId: string } | null> {
    const key = this.key('roots');
    const root = rootField({ channel, ts });
    const raw = await this.#command('threadOwner', key, () => this.#client.hGet(key, root));
    return raw === null || raw === undefined ? null : parseRecord(Owner, field(key, root), raw);
  }

  async addPost(messageId: string, ref: SlackRef): Promise<void> {
    await this.#run(
      ADD_POST,
      [this.key('posts', messageId), this.key('postOrder'), this.key('postSeq')],
      [messageId, JSON.stringify({ channel: ref.channel, ts: ref.ts }), this.#maxPosts],
    );
  }

  async posts(messageId: string): Promise<SlackRef[]> {
    const key = this.key('posts', messageId);
    const list = await this.#command('posts', key, () => this.#client.lRange(key, 0, -1));
    return list.map((raw, i) => parseRecord(Ref, `${key} item ${i}`, raw));
  }

  /**
   * SET NX PX: the first claim across every process wins; Redis forgets the id after the retention, or
   * after the lease when the claim is for processing (until `completeEvent` keeps it the retention).
   */
  async claimEvent(eventId: string, now: number, leaseMs?: number): Promise<boolean> {
    const key = this.key('event', eventId);
    const reply = await this.#command('claimEvent', key, () =>
      this.#client.set(key, String(now), {
        condition: 'NX',
        expiration: { type: 'PX', value: leaseMs ?? this.#retentionMs },
      }),
    );
    return reply !== null;
  }

  async completeEvent(eventId: string, now: number): Promise<void> {
    const key = this.key('event', eventId);
    await this.#command('completeEvent', key, () =>
      this.#client.set(key, String(now), { expiration: { type: 'PX', value: this.#retentionMs } }),
    );
  }

  /** SET NX PX: one process across all opens the card; the reservation lapses by Redis's clock (`now` unused). */
  async reserveCard(conversationId: string, agentId: string, now: number, ms: number): Promise<boolean> {
    const key = this.key('card', cardArg(conversationId, agentId));
    const reply = await this.#command('reserveCard', key, () =>
      this.#client.set(key, String(now), { condition: 'NX', expiration: { type: 'PX', value: ms } }),
    );
    return reply !== null;
  }

  /** The transcript's ids first, then the reservation goes, in one transaction: no reader sees neither. */
  async endCard(conversationId: string, agentId: string, messageIds: string[] | null): Promise<void> {
    const arg = cardArg(conversationId, agentId);
    const card = this.key('card', arg);
    const shows = this.key('shows', arg);
    await this.#command('endCard', card, () => {
      const tx = this.#client.multi();
      if (messageIds) {
        tx.set(shows, JSON.stringify(messageIds), { expiration: { type: 'PX', value: SHOWS_KEPT_MS } });
        if (messageIds.length > 0) {
          const shown = this.key('shown', arg);
          tx.sAdd(shown, messageIds);
          tx.pExpire(shown, SHOWN_KEPT_MS);
        }
      }
      return tx.del(card).exec();
    });
  }

  async cardState(conversationId: string, agentId: string, _now: number): Promise<CardState> {
    const arg = cardArg(conversationId, agentId);
    const card = this.key('card', arg);
    const shows = this.key('shows', arg);
    const [opening, raw] = await this.#command('cardState', card, () => this.#client.mGet([card, shows]));
    return {
      opening: opening !== null && opening !== undefined,
      shows: raw === null || raw === undefined ? null : parseRecord(Shows, shows, raw),
    };
  }

  async shown(conversationId: string, agentId: string): Promise<Set<string>> {
    const key = this.key('shown', cardArg(conversationId, agentId));
    const ids = await this.#command('shown', key, () => this.#client.sMembers(key));
    return new Set(ids.map((id) => plainId(key, id)));
  }

  async markShown(conversationId: string, agentId: string, messageIds: string[]): Promise<void> {
    if (messageIds.length === 0) return;
    const key = this.key('shown', cardArg(conversationId, agentId));
    await this.#command('markShown', key, () =>
      this.#client.multi().sAdd(key, messageIds).pExpire(key, SHOWN_KEPT_MS).exec(),
    );
  }

  async holdWork(conversationId: string, holder: string, until: number): Promise<void> {
    const key = this.key('work');
    await this.#command('holdWork', key, () =>
      this.#client.zAdd(key, { score: until, value: workMember(conversationId, holder) }, { GT: true }),
    );
  }

  async releaseWork(conversationId: string, holder: string): Promise<void> {
    const key = this.key('work');
    await this.#command('releaseWork', key, () => this.#client.zRem(key, workMember(conversationId, holder)));
  }

  async takeOverWork(holder: string, now: number, until: number, limit: number): Promise<string[]> {
    checkHolder(holder);
    const key = this.key('work');
    const reply = await this.#run(TAKE_OVER_WORK, [key], [holder, now, until, limit]);
    return reply.slice(1).map((id) => plainId(key, id));
  }

  async alertWindow(topic: string, now: number, everyMs: number): Promise<AlertWindow> {
    const key = this.key('alert', topic);
    const reply = await this.#run(ALERT_WINDOW, [key], [now, everyMs, Math.max(everyMs, ALERT_KEPT_MS)]);
    const since = Number(reply[3]);
    return { post: reply[1] === 1, unposted: Number(reply[2]), since: since < 0 ? null : since };
  }

  // ------------------------------------------------------------ Redis

  /** Run a script by SHA (in full when Redis does not have it); its reply, or the error it stands for. */
  async #run(s: Script, keys: string[], args: Array<string | number>): Promise<unknown[]> {
    if (keys.length !== s.keys) throw new Error(`slack state: ${s.name} takes ${s.keys} keys`);
    const tail = [String(keys.length), ...keys, this.base, ...args.map(String)];
    const reply = await runScript(this.#client, s, tail, (err) => this.#fault(err, s.name));
    if (!Array.isArray(reply) || typeof reply[0] !== 'number')
      throw new Error(`slack state: ${s.name} answered ${JSON.stringify(reply)}`);
    if (reply[0] === -6) throw new CorruptRecordError(String(reply[1]), String(reply[2]));
    if (reply[0] !== 0) throw new Error(`slack state: ${s.name} answered ${JSON.stringify(reply)}`);
    return reply;
  }

  async #command<T>(what: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw this.#fault(err, what, key);
    }
  }

  /** A Redis or connection failure as the error callers handle: unavailable, corrupt, or a bug. */
  #fault(err: unknown, what: string, key?: string): Error {
    return redisFault(err, what, key, this.#lastError, 'slack state', 'slack ');
  }
}

/** Connect a Redis Slack state (see RedisSlackState.connect). */
export function createRedisSlackState(options: RedisSlackStateOptions = {}): Promise<RedisSlackState> {
  return RedisSlackState.connect(options);
}

function cardArg(conversationId: string, agentId: string): string {
  return `${conversationId}|${agentId}`;
}

/** A hold's member of the work set: the holder's id is the part after the last `|`. */
function workMember(conversationId: string, holder: string): string {
  return `${conversationId}|${checkHolder(holder)}`;
}

/** A holder's id may not be empty nor hold a `|` (the work set's members end with `|<holder>`). */
function checkHolder(holder: string): string {
  if (holder === '' || holder.includes('|'))
    throw new RangeError(`slack state: holder id ${JSON.stringify(holder)} is empty or has a |`);
  return holder;
}

function rootField(ref: SlackRef): string {
  return `${ref.channel}|${ref.ts}`;
}

/** An id kept as a plain string (a set's member), or a corrupt-record error naming its key. */
function plainId(key: string, raw: unknown): string {
  const parsed = Channel.safeParse(raw);
  if (!parsed.success) throw new CorruptRecordError(`${key} member`, 'not an id');
  return parsed.data;
}

/** How an error names one field of a hash. */
function field(key: string, name: string): string {
  return `${key} field ${name}`;
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`RedisSlackState: ${name} must be a positive whole number, got ${value}`);
  return value;
}
