// A content store in Redis (REDIS_URL): the raw messages and attachment bytes
// every process reads, so a file received by one process opens from any other,
// and survives the death of the one that received it. The same budget as in
// memory (EMAIL_STORE_MAX_BYTES for email, CHAT_FILES_STORE_MAX_BYTES for chat
// uploads), shared by the deployment: the oldest entries go first, in the same
// script that adds one.
//
// Keys start with the Redis store's base (routing/store/redis-keys.ts), under
// the namespace, `email:` or `chat:` (no layout of the store starts so). The
// metadata is read back through zod: an entry that does not parse is a
// CorruptRecordError naming its key.
import { createHash } from 'node:crypto';
import { RESP_TYPES } from 'redis';
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
} from '../routing/store/redis-connection.js';
import { luaKeyFunctions, RedisKeys } from '../routing/store/redis-keys.js';
import { CorruptRecordError } from '../shared/errors.js';
import type { ContentStore, EmailContent, FileFacts } from './content.js';

/** What a store keeps: an email's content, or a chat visitor's uploads. */
export type ContentNamespace = 'email' | 'chat';

/** Key layouts after the store's base: `%` marks an argument. */
function keyLayouts(ns: ContentNamespace) {
  return {
    /** Hash per stored entry id: `meta` (JSON), `raw` (the message as received), `a<i>` (attachment i's bytes). */
    content: `${ns}:content:%`,
    /** Sorted set: entry ids with content kept, score = `seq` when kept; the lowest go first. */
    order: `${ns}:order`,
    /** String: the counter scoring `order`. */
    seq: `${ns}:seq`,
    /** Hash: entry id → the bytes its entry counts against the budget. */
    sizes: `${ns}:sizes`,
    /** String: the bytes of every entry kept. */
    total: `${ns}:total`,
  } as const;
}
type KeyLayouts = ReturnType<typeof keyLayouts>;

const Meta = z.object({
  messageId: z.string(),
  replyTo: z.string(),
  references: z.array(z.string()),
  attachments: z.array(
    z.object({ name: z.string(), type: z.string(), size: z.number().int().nonnegative(), kept: z.boolean() }),
  ),
});

/**
 * KEYS: the entry, order, seq, sizes, total. ARGV: base, message id, its bytes, the budget, meta (JSON),
 * raw, then `a<i>` and the bytes of each kept attachment in turn. Replaces an entry of the same id; drops the
 * oldest until the new one fits. Answers `{0, 1}` when kept, `{0, 0}` when larger than the whole budget.
 */
const put = (layouts: KeyLayouts) => `
${prelude(layouts)}
local id, bytes, budget = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if bytes > budget then return {0, 0} end
if redis.call('HEXISTS', KEYS[4], id) == 1 then drop(id) end
while tonumber(redis.call('GET', KEYS[5]) or '0') + bytes > budget do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)
  if #oldest == 0 then
    redis.call('SET', KEYS[5], 0)
    break
  end
  drop(oldest[1])
end
local fields = {'meta', ARGV[5], 'raw', ARGV[6]}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[3]), id)
redis.call('HSET', KEYS[4], id, bytes)
redis.call('INCRBY', KEYS[5], bytes)
return {0, 1}
`;
/**
 * What both scripts start with: the key builder, and `drop(id)`, which forgets entry `id` and the bytes it
 * counted (KEYS[2] order, KEYS[4] sizes, KEYS[5] total, as `put`'s).
 */
const prelude = (layouts: KeyLayouts) => `
local P = ARGV[1]
local K = {}
${luaKeyFunctions(layouts).join('\n')}
local function drop(victim)
  local size = tonumber(redis.call('HGET', KEYS[4], victim) or '0')
  redis.call('HDEL', KEYS[4], victim)
  redis.call('ZREM', KEYS[2], victim)
  redis.call('DECRBY', KEYS[5], size)
  redis.call('DEL', K.content(victim))
end`;

/** KEYS as `put`'s (the first unused). ARGV: base, then the entry ids. Answers `{0, how many were kept}`. */
const forget = (layouts: KeyLayouts) => `
${prelude(layouts)}
local n = 0
for i = 2, #ARGV do
  if redis.call('HEXISTS', KEYS[4], ARGV[i]) == 1 or redis.call('EXISTS', K.content(ARGV[i])) == 1 then
    drop(ARGV[i])
    n = n + 1
  end
end
return {0, n}
`;

function script(source: string): { source: string; sha: string } {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

export interface RedisContentStoreOptions extends RedisConnectionOptions {
  /** The store's key prefix: keys are `{sb:<prefix>}:<namespace>:…` (`{sb}:<namespace>:…` when empty). */
  prefix?: string;
  /** What it keeps (default `email`). */
  namespace?: ContentNamespace;
  /** Bytes kept in all (raw messages and attachments), across every process. */
  maxBytes: number;
}

const BUFFERS = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const;

export class RedisContentStore implements ContentStore {
  readonly #client: RedisClient;
  readonly #base: string;
  readonly #maxBytes: number;
  readonly #namespace: ContentNamespace;
  readonly #layouts: KeyLayouts;
  readonly #put: { source: string; sha: string };
  readonly #forget: { source: string; sha: string };
  #lastError: Error | null = null;

  private constructor(client: RedisClient, options: RedisContentStoreOptions) {
    this.#client = client;
    this.#base = new RedisKeys(options.prefix ?? '').base;
    this.#maxBytes = options.maxBytes;
    this.#namespace = options.namespace ?? 'email';
    this.#layouts = keyLayouts(this.#namespace);
    this.#put = script(put(this.#layouts));
    this.#forget = script(forget(this.#layouts));
    // While Redis is away its commands fail (the callers log them) and it reconnects by itself.
    client.on('error', (err: Error) => {
      this.#lastError = err;
    });
  }

  static async connect(options: RedisContentStoreOptions): Promise<RedisContentStore> {
    const client = newRedisClient(options);
    const store = new RedisContentStore(client, options);
    await connectWithin(client, options);
    return store;
  }

  key(name: Exclude<keyof KeyLayouts, 'content'>): string;
  key(name: 'content', messageId: string): string;
  key(name: keyof KeyLayouts, arg?: string): string {
    return this.#base + this.#layouts[name].replace('%', arg ?? '');
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  get ready(): boolean {
    return this.#client.isReady;
  }

  async put(messageId: string, content: EmailContent): Promise<boolean> {
    const kept = content.attachments.flatMap((a, i) => (a.content ? [[`a${i}`, a.content] as const] : []));
    const bytes = content.raw.length + kept.reduce((n, [, b]) => n + b.length, 0);
    const meta: z.infer<typeof Meta> = {
      messageId: content.messageId,
      replyTo: content.replyTo,
      references: content.references,
      attachments: content.attachments.map((a) => ({
        name: a.name,
        type: a.type,
        size: a.size,
        kept: a.content !== null,
      })),
    };
    const keys = [
      this.key('content', messageId),
      this.key('order'),
      this.key('seq'),
      this.key('sizes'),
      this.key('total'),
    ];
    const args: Array<string | Buffer> = [
      this.#base,
      messageId,
      String(bytes),
      String(this.#maxBytes),
      JSON.stringify(meta),
      content.raw,
      ...kept.flat(),
    ];
    const tail = [String(keys.length), ...keys, ...args];
    const r = await runScript(this.#client, this.#put, tail, (err) => this.#fault(err, 'put', keys[0]));
    return Number((r as unknown[])[1]) === 1;
  }

  async held(entryIds: readonly string[]): Promise<Array<number | null>> {
    if (entryIds.length === 0) return [];
    const key = this.key('sizes');
    let sizes: Array<string | null>;
    try {
      sizes = (await this.#client.hmGet(key, [...entryIds])) as Array<string | null>;
    } catch (err) {
      throw this.#fault(err, 'held', key);
    }
    return sizes.map((s) => (s === null || s === undefined ? null : Number(s)));
  }

  async get(messageId: string): Promise<EmailContent | null> {
    const key = this.key('content', messageId);
    let entry: Record<string, Buffer>;
    try {
      entry = (await this.#client.sendCommand(['HGETALL', key], BUFFERS)) as unknown as Record<
        string,
        Buffer
      >;
    } catch (err) {
      throw this.#fault(err, 'get', key);
    }
    if (!entry || Object.keys(entry).length === 0) return null;
    const { meta: rawMeta, raw } = entry;
    if (!rawMeta || !raw) throw new CorruptRecordError(key, 'meta or raw is missing');
    const meta = parseRecord(Meta, key, rawMeta.toString('utf8'));
    return {
      raw,
      messageId: meta.messageId,
      replyTo: meta.replyTo,
      references: meta.references,
      attachments: meta.attachments.map((a, i) => ({
        name: a.name,
        type: a.type,
        size: a.size,
        content: a.kept ? (entry[`a${i}`] ?? null) : null,
      })),
    };
  }

  async files(messageId: string): Promise<FileFacts[] | null> {
    const key = this.key('content', messageId);
    let raw: string | null;
    try {
      raw = (await this.#client.hGet(key, 'meta')) ?? null;
    } catch (err) {
      throw this.#fault(err, 'files', key);
    }
    return raw === null ? null : parseRecord(Meta, key, raw).attachments;
  }

  async delete(entryIds: readonly string[]): Promise<number> {
    const keys = [
      this.key('content', ''),
      this.key('order'),
      this.key('seq'),
      this.key('sizes'),
      this.key('total'),
    ];
    let deleted = 0;
    // A script per 256 entries: an erased customer's files never hold Redis long.
    for (let from = 0; from < entryIds.length; from += 256) {
      const tail = [String(keys.length), ...keys, this.#base, ...entryIds.slice(from, from + 256)];
      const r = await runScript(this.#client, this.#forget, tail, (err) =>
        this.#fault(err, 'delete', keys[1]),
      );
      deleted += Number((r as unknown[])[1]);
    }
    return deleted;
  }

  #fault(err: unknown, what: string, key: string | undefined): Error {
    const owner = this.#namespace === 'email' ? 'email content' : 'chat files';
    return redisFault(err, what, key, this.#lastError, owner, `${owner} `);
  }

  async close(): Promise<void> {
    await closeRedisClient(this.#client);
  }
}
