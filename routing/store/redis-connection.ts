// What the Redis store and the Redis Slack state share about talking to Redis:
// a client that fails fast while Redis is away and reconnects by itself, a
// connect that gives up after a while, scripts run by SHA (their text sent when
// Redis answers NOSCRIPT) on connections that carry one script at a time
// (`ScriptLanes`), and Redis failures turned into the errors callers
// handle (unavailable, corrupt, or a bug).
import { createClient, ErrorReply } from 'redis';
import { z } from 'zod';
import { withTimeout } from '../../shared/clock.js';
import { CorruptRecordError, StoreUnavailableError, SwitchboardError } from '../../shared/errors.js';

export interface RedisConnectionOptions {
  /** `redis://host:port[/db]`; default `redis://127.0.0.1:6379`. */
  url?: string;
  /** A command that gets no answer within this long fails with StoreUnavailableError. Default 1000. */
  commandTimeoutMs?: number;
  /** How long `connectWithin` waits for Redis before giving up. Default 3000. */
  connectTimeoutMs?: number;
}

/**
 * The oldest Redis Switchboard runs on: its scripts use ZMSCORE (6.2). From 7.0 they run as Redis Functions; before,
 * as scripts by SHA.
 */
export const REDIS_NEEDED = '6.2.0';

/**
 * The Redis at REDIS_URL is older than REDIS_NEEDED: refused (its commands would fail later with "unknown
 * command", some halfway through a change). A StoreUnavailableError, as a Redis that does not answer is: the
 * process waits for a Redis it can use, and serves nothing meanwhile. `reason` says it without the address.
 */
export class RedisTooOldError extends StoreUnavailableError {
  readonly found: string;
  readonly reason: string;
  constructor(url: string, found: string) {
    super(
      `the Redis at ${redisAt(url)} (REDIS_URL) is version ${found}; Switchboard needs ${shortVersion(REDIS_NEEDED)} or later (7.0 or later to run its scripts as functions): upgrade it, or point REDIS_URL at another`,
    );
    this.found = found;
    this.reason = redisTooOldReason(found);
  }
}

/** Why a Redis of version `found` is refused, in words for a health check (no address). */
export function redisTooOldReason(found: string): string {
  return `Redis ${found} is too old: Switchboard needs Redis ${shortVersion(REDIS_NEEDED)} or later`;
}

function shortVersion(v: string): string {
  return v.replace(/\.0$/, '');
}

/** `a.b.c` as numbers (a part missing or not a number: 0). */
function versionParts(v: string): number[] {
  return v.split('.', 3).map((p) => Number.parseInt(p, 10) || 0);
}

/** Whether version `found` is older than `needed`. */
export function olderThan(found: string, needed: string): boolean {
  const [a, b] = [versionParts(found), versionParts(needed)];
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
}

/**
 * The version of the Redis a connection is on (`INFO server`'s `redis_version`), or null when it does not say (an
 * ACL without INFO: not refused for it).
 */
export async function redisVersion(send: (args: string[]) => Promise<unknown>): Promise<string | null> {
  let info: unknown;
  try {
    info = await send(['INFO', 'server']);
  } catch (err) {
    if (err instanceof ErrorReply) return null;
    throw err;
  }
  const text =
    typeof info === 'string' ? info : Buffer.isBuffer(info) ? info.toString('utf8') : String(info ?? '');
  return /^redis_version:([0-9][0-9A-Za-z.-]*)\s*$/m.exec(text)?.[1] ?? null;
}

/** The Redis's version when it is older than REDIS_NEEDED, else null (new enough, or not said). */
export async function redisTooOld(send: (args: string[]) => Promise<unknown>): Promise<string | null> {
  const found = await redisVersion(send);
  return found !== null && olderThan(found, REDIS_NEEDED) ? found : null;
}

/** Per client made by `newRedisClient`: the version check of its current connection (`checkedRedis`). */
const versionChecks = new WeakMap<object, () => Promise<void>>();

/**
 * Wait for the version check of `client`'s connection (made at each connect, `newRedisClient`): RedisTooOldError
 * when the Redis is older than REDIS_NEEDED.
 */
export async function checkedRedis(client: RedisClient): Promise<void> {
  await versionChecks.get(client)?.();
}

export function newRedisClient(options: RedisConnectionOptions) {
  const client = createClient({
    url: options.url ?? 'redis://127.0.0.1:6379',
    // While Redis is away, fail at once instead of queueing: callers see StoreUnavailableError.
    disableOfflineQueue: true,
    // No per-command timeout of node-redis's own (it has one by default): `Deadlines` below keeps it.
    commandOptions: { timeout: 0 },
    maintNotifications: 'disabled',
    socket: {
      connectTimeout: Math.min(options.connectTimeoutMs ?? 3000, 1000),
      // Reconnect by itself, backing off up to half a second between tries.
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 500),
    },
  });
  // Every command goes through sendCommand, typed ones (`get`, `zAdd`, …) through the one of the
  // client's own instance (`_self`; what createClient returns is an object made from it): watched there,
  // each is given its deadline. test/routing/store.redis.spec.ts checks both kinds time out.
  const deadlines = new Deadlines(options.commandTimeoutMs ?? 1000);
  const self = (client as unknown as { _self?: typeof client })._self ?? client;
  const send = self.sendCommand;
  // Each time it connects (Redis may have been replaced by an older one), the version is asked before anything
  // else is sent on the connection; an older Redis than REDIS_NEEDED is refused: every command fails with
  // RedisTooOldError, until a connection finds one new enough.
  const url = options.url ?? 'redis://127.0.0.1:6379';
  let checking: Promise<void> | null = null;
  let refused: RedisTooOldError | null = null;
  client.on('ready', () => {
    const check = deadlines
      .watch(redisTooOld((args) => send.call(self, args)))
      .then(
        (found) => {
          refused = found === null ? null : new RedisTooOldError(url, found);
        },
        // No answer to INFO: the connection's trouble, which its next commands meet too.
        () => {},
      )
      .finally(() => {
        if (checking === check) checking = null;
      });
    checking = check;
  });
  versionChecks.set(client, async () => {
    await checking;
    if (refused) throw refused;
  });
  self.sendCommand = function (this: unknown, ...args: Parameters<typeof send>) {
    if (checking) {
      const waited = checking.then(() => {
        if (refused) throw refused;
        return send.apply(this, args);
      });
      return deadlines.watch(waited) as ReturnType<typeof send>;
    }
    if (refused) return Promise.reject(refused) as ReturnType<typeof send>;
    return deadlines.watch(send.apply(this, args));
  } as typeof send;
  return client;
}

interface Watched {
  at: number;
  done: boolean;
  reject: (err: Error) => void;
}

/**
 * Fails a command that gets no answer within `ms` (callers then see StoreUnavailableError), with one
 * timer per connection, armed only while commands wait. (node-redis's own command timeout arms a timer
 * and an AbortSignal for every command: a sixth of this process's CPU per routing decision.) A reply
 * that comes after its command failed is dropped; replies keep their order on the connection.
 */
class Deadlines {
  readonly #ms: number;
  /** Commands in the order they were sent (so also by `at`), from #head on; answered ones leave from the front. */
  #waiting: Watched[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(ms: number) {
    this.#ms = ms;
  }

  watch<T>(reply: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Watched = { at: performance.now(), done: false, reject };
      this.#waiting.push(entry);
      reply.then(
        (value) => {
          entry.done = true;
          this.#drop();
          resolve(value);
        },
        (err: unknown) => {
          entry.done = true;
          this.#drop();
          reject(err);
        },
      );
      this.#timer ??= setTimeout(this.#check, this.#ms).unref();
    });
  }

  /** Forget the answered commands at the front (answers come in order: usually all of them). */
  #drop(): void {
    const waiting = this.#waiting;
    let head = this.#head;
    while (head < waiting.length && waiting[head]!.done) head++;
    if (head === waiting.length) {
      waiting.length = 0;
      head = 0;
    } else if (head > 1024) {
      waiting.splice(0, head);
      head = 0;
    }
    this.#head = head;
  }

  readonly #check = (): void => {
    this.#timer = null;
    const waiting = this.#waiting;
    const now = performance.now();
    for (let i = this.#head; i < waiting.length; i++) {
      const entry = waiting[i]!;
      if (entry.done) continue;
      if (now - entry.at < this.#ms) break;
      entry.done = true;
      entry.reject(new Error(`no answer from Redis within ${this.#ms} ms`));
    }
    this.#drop();
    const oldest = waiting[this.#head];
    if (oldest) this.#timer = setTimeout(this.#check, Math.max(1, oldest.at + this.#ms - now)).unref();
  };
}

export type RedisClient = ReturnType<typeof newRedisClient>;

/** What closing needs of a node-redis client, whichever options made it. */
interface Closable {
  readonly isReady: boolean;
  readonly isOpen: boolean;
  close(): Promise<unknown>;
  destroy(): void;
}

/** Close a client politely when it is up; drop it when it is not (a close would wait for Redis). */
export async function closeRedisClient(client: Closable): Promise<void> {
  try {
    if (client.isReady) await client.close();
    else if (client.isOpen) client.destroy();
  } catch {
    if (client.isOpen) client.destroy();
  }
}

/**
 * Connect `client`; when Redis does not answer in time it is destroyed and StoreUnavailableError thrown, saying
 * why when the connection attempts told (refused, a password wanted or refused, TLS where Redis speaks none…).
 */
export async function connectWithin(client: RedisClient, options: RedisConnectionOptions): Promise<void> {
  const connectTimeout = options.connectTimeoutMs ?? 3000;
  const url = options.url ?? 'redis://127.0.0.1:6379';
  // node-redis retries by itself and reports each failed attempt as an 'error' event: the latest says why.
  let last: Error | null = null;
  const onError = (err: Error) => {
    last = err;
  };
  client.on('error', onError);
  try {
    await withTimeout(
      client.connect().then(() => checkedRedis(client)),
      connectTimeout,
      () =>
        new StoreUnavailableError(
          last
            ? `not connected within ${connectTimeout} ms: ${whyNoRedis(last, url)}`
            : `no answer from Redis within ${connectTimeout} ms`,
        ),
    );
  } catch (err) {
    client.destroy();
    throw err instanceof SwitchboardError
      ? err
      : new StoreUnavailableError(`connecting: ${whyNoRedis(err as Error, url)}`);
  } finally {
    client.off('error', onError);
  }
}

/**
 * Why a connection to the Redis at `url` failed, in words an operator acts on (naming REDIS_URL where it is the
 * thing to fix); never the URL's password.
 */
export function whyNoRedis(err: Error, url: string): string {
  const at = redisAt(url);
  let tls = false;
  try {
    tls = new URL(url).protocol === 'rediss:';
  } catch {
    // not a URL
  }
  const message = err.message;
  const code = (err as NodeJS.ErrnoException).code;
  if (message.startsWith('NOAUTH'))
    return `the Redis at ${at} needs a password, and REDIS_URL gives none (redis://:password@host:port, or redis://user:password@host:port)`;
  if (message.startsWith('WRONGPASS'))
    return `the Redis at ${at} refused the user name or password REDIS_URL gives`;
  if (/DB index is out of range/i.test(message))
    return `the Redis at ${at} has no database numbered as REDIS_URL's path says`;
  if (code === 'ECONNREFUSED') return `nothing accepts connections at ${at} (connection refused)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME')
    return `the host of ${at} is not found`;
  if (tls && (/timeout/i.test(message) || code === 'ECONNRESET' || /SSL|TLS/i.test(message)))
    return `no TLS answer from ${at} (${message}): REDIS_URL starts with rediss://, for a Redis that speaks TLS; use redis:// for one that does not`;
  return `${at}: ${message}`;
}

/** Where a Redis URL points (host and port), never its password; a URL that does not parse, as given. */
export function redisAt(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Run a script by SHA. When Redis forgot it (a restart, a SCRIPT FLUSH) its text is sent once: EVAL caches
 * it again, and cannot meet NOSCRIPT itself, however many processes or flushes race with it. `tail` is
 * what follows the SHA (numkeys, keys, arguments); `fault` turns a failure into the caller's error.
 */
export async function runScript(
  client: RedisClient,
  script: { sha: string; source: string; fn?: string; library?: string },
  tail: Array<string | Buffer>,
  fault: (err: unknown) => Error,
  functions = false,
  beforeReload?: () => Promise<void>,
): Promise<unknown> {
  if (functions && script.fn && script.library) return runFunction(client, script, tail, fault, beforeReload);
  try {
    return await client.sendCommand(['EVALSHA', script.sha, ...tail]);
  } catch (err) {
    if (!(err instanceof ErrorReply && err.message.startsWith('NOSCRIPT'))) throw fault(err);
    try {
      return await client.sendCommand(['EVAL', script.source, ...tail]);
    } catch (again) {
      throw fault(again);
    }
  }
}

/**
 * Run a script as its Redis Function (FCALL). When Redis forgot it (a restart, a FUNCTION FLUSH) its library
 * is loaded again for the next calls (after `beforeReload`: the store says its version runs again, see
 * redis-functions.ts) and this call sends the script's text (EVAL), which no flush racing with it can make
 * fail.
 */
async function runFunction(
  client: RedisClient,
  script: { source: string; fn?: string; library?: string },
  tail: Array<string | Buffer>,
  fault: (err: unknown) => Error,
  beforeReload?: () => Promise<void>,
): Promise<unknown> {
  try {
    return await client.sendCommand(['FCALL', script.fn!, ...tail]);
  } catch (err) {
    if (!(err instanceof ErrorReply && /function not found/i.test(err.message))) throw fault(err);
  }
  await beforeReload?.().catch(() => {});
  // Another process may be loading it too ("already exists"): either way, this call does not wait on it.
  await client.sendCommand(['FUNCTION', 'LOAD', script.library!]).catch(() => {});
  try {
    return await client.sendCommand(['EVAL', script.source, ...tail]);
  } catch (again) {
    throw fault(again);
  }
}

/**
 * Connections that carry one script each at a time, for scripts sent by many callers at once. On one
 * connection Redis answers a burst of pipelined scripts only after it has run all of them (it writes
 * replies once per turn of its event loop), so every caller waits for the whole burst and this process
 * cannot work on one answer while Redis runs the next script. With a few lanes, answers come back as each
 * lane's script finishes. A caller waits for a free lane at most `waitMs` (then StoreUnavailableError, as a
 * command that gets no answer), in the order they asked.
 */
export class ScriptLanes {
  readonly clients: RedisClient[];
  readonly #free: RedisClient[];
  readonly #queue: Array<{
    at: number;
    take: ((client: RedisClient) => void) | null;
    fail: (e: Error) => void;
  }> = [];
  #head = 0;
  readonly #waitMs: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(clients: RedisClient[], waitMs: number) {
    this.clients = clients;
    this.#free = [...clients];
    this.#waitMs = waitMs;
  }

  /** Run `work` on a free lane (waiting for one when all are busy). */
  async run<T>(work: (client: RedisClient) => Promise<T>): Promise<T> {
    const client = this.#free.pop() ?? (await this.#wait());
    try {
      return await work(client);
    } finally {
      this.#release(client);
    }
  }

  #wait(): Promise<RedisClient> {
    return new Promise<RedisClient>((resolve, reject) => {
      this.#queue.push({ at: performance.now(), take: resolve, fail: reject });
      this.#timer ??= setTimeout(this.#check, this.#waitMs).unref();
    });
  }

  #release(client: RedisClient): void {
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const next = queue[this.#head]!;
      queue[this.#head++] = undefined as never;
      if (next.take) {
        next.take(client);
        this.#compact();
        return;
      }
    }
    this.#compact();
    this.#free.push(client);
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  readonly #check = (): void => {
    this.#timer = null;
    const now = performance.now();
    let oldest: number | null = null;
    for (let i = this.#head; i < this.#queue.length; i++) {
      const entry = this.#queue[i]!;
      if (!entry.take) continue;
      if (now - entry.at < this.#waitMs) {
        oldest = entry.at;
        break;
      }
      entry.take = null;
      entry.fail(new Error(`no connection to Redis free within ${this.#waitMs} ms`));
    }
    if (oldest !== null)
      this.#timer = setTimeout(this.#check, Math.max(1, oldest + this.#waitMs - now)).unref();
  };
}

// MOVED and ASK: on a Redis Cluster, the deployment's slot is moving or has moved to another master; the
// process follows it (server/redis-cluster.ts) and meanwhile answers as when Redis is away.
const UNAVAILABLE = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF|MOVED|ASK)\b/;

/**
 * A Redis or connection failure as the error callers handle: unavailable, corrupt, or a bug. `owner`
 * names the caller in a bug's message (`redis store`), `subject` starts the other messages (`slack `);
 * `lastError` is the connection's last error, the cause when a command failed for want of a connection.
 */
export function redisFault(
  err: unknown,
  what: string,
  key: string | undefined,
  lastError: Error | null,
  owner: string,
  subject = '',
): Error {
  if (err instanceof SwitchboardError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof ErrorReply) {
    if (UNAVAILABLE.test(message)) return new StoreUnavailableError(`${subject}${what}: ${message}`);
    if (message.startsWith('WRONGTYPE'))
      return new CorruptRecordError(key ?? `a key ${subject}${what} uses`, message);
    return new Error(`${owner}: ${what} failed: ${message}`);
  }
  const cause = lastError && lastError !== err ? ` (${lastError.message})` : '';
  return new StoreUnavailableError(`${subject}${what}: ${message}${cause}`);
}

/** Per record schema, its list fields (top level): see `parseRecord`. */
const LIST_FIELDS = new WeakMap<z.ZodType, string[]>();

function listFields(schema: z.ZodType): string[] {
  let fields = LIST_FIELDS.get(schema);
  if (fields) return fields;
  fields = [];
  if (schema instanceof z.ZodObject) {
    for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
      let inner: z.ZodType = field;
      while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional)
        inner = inner.unwrap() as z.ZodType;
      if (inner instanceof z.ZodArray) fields.push(name);
    }
  }
  LIST_FIELDS.set(schema, fields);
  return fields;
}

/**
 * One stored value through its schema; anything else is a CorruptRecordError naming where it is (its key).
 * The Lua scripts write records with cjson, which writes an empty list as `{}` (it cannot tell the two
 * apart): in a list field of the record, `{}` is read as the empty list.
 */
export function parseRecord<S extends z.ZodType>(schema: S, where: string, raw: string): z.output<S> {
  return checkRecord(schema, where, parseJson(where, raw));
}

/** JSON text read from Redis, or a CorruptRecordError naming where it is. */
export function parseJson(where: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new CorruptRecordError(where, 'not valid JSON');
  }
}

/** A value already parsed from JSON through a record schema, as `parseRecord` does. */
export function checkRecord<S extends z.ZodType>(schema: S, where: string, value: unknown): z.output<S> {
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    for (const name of listFields(schema)) {
      const field = record[name];
      if (typeof field === 'object' && field !== null && !Array.isArray(field) && isEmpty(field))
        record[name] = [];
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
    throw new CorruptRecordError(where, `${at}${issue?.message ?? 'does not match its schema'}`);
  }
  return parsed.data;
}

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}
