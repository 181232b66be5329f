// The scale-out mode (REDIS_URL): the Redis store, the Redis event bus, the
// socket.io Redis streams adapter, (Slack on) the Slack console's state, (Twilio
// on) who holds each live call and (email on) email's raw messages and
// attachments, all under one key prefix, and a readiness signal that turns
// false the moment a connection to Redis drops. On a Redis Cluster
// (`cluster`), every client connects to the master holding the deployment's
// slot (server/redis-cluster.ts), and the stream and adapter keys take the
// store's hash tag so that they are in that slot too.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { type ContentNamespace, RedisContentStore } from '../channels/redis-content.js';
import { RedisSlackState } from '../channels/slack/redis-state.js';
import { RedisCallHolders } from '../channels/voice/holders.js';
import { createRedisStore } from '../routing/store/redis.js';
import { closeRedisClient, RedisTooOldError, redisTooOld } from '../routing/store/redis-connection.js';
import { RedisKeys } from '../routing/store/redis-keys.js';
import type { Store } from '../routing/store/store.js';
import { StoreUnavailableError } from '../shared/errors.js';
import { ConfigError } from './config.js';
import { RedisEventBus } from './redis-bus.js';
import { type Log, redisClient } from './redis-client.js';
import { type SlotOwner, safeUrl, slotOwnerFrom } from './redis-cluster.js';
import { differLines, renewSecrets, type SharedSecrets, stateSecrets } from './shared-secrets.js';

export interface RedisModeOptions {
  url: string;
  /** Every key, stream and channel starts with it: one deployment per prefix. */
  prefix: string;
  log: Log;
  /** Connect the Slack console's state too (Slack on). Default false. */
  slack?: boolean;
  /** Keep who holds each live call too (Twilio on). Default false. */
  voice?: boolean;
  /** Keep email's raw messages and attachments, within this many bytes in all (email on). Default: not. */
  emailMaxBytes?: number | null;
  /** Keep chat visitors' files, within this many bytes in all (chat files on). Default: not. */
  chatFilesMaxBytes?: number | null;
  /** `url` is a node of a Redis Cluster: connect to the master holding the deployment's slot. Default false. */
  cluster?: boolean;
  /** With `cluster`: more nodes to ask, in turn after `url`, where the deployment's slot is. */
  seeds?: string[];
  /**
   * TOKEN_SECRET and ADMIN_TOKEN, which every process of the deployment must share: a process whose differ from
   * those of the others running stops at start (ConfigError naming the variable). Default: not checked.
   */
  secrets?: SharedSecrets;
  /**
   * Told while it waits at start why it cannot use the Redis at `url` yet (null: it answered, or nothing to say): a
   * Redis older than 6.2 (`RedisTooOldError.reason`), for the health check of a process that waits.
   */
  waiting?: (reason: string | null) => void;
}

export interface RedisMode {
  store: Store;
  events: RedisEventBus;
  /** For `new Server(http, {adapter})`: rooms and broadcasts across processes. */
  ioAdapter: ReturnType<typeof createAdapter>;
  /** What the Slack console remembers, shared by every process (cards, event ids…); null with Slack off. */
  slackState: RedisSlackState | null;
  /** Which process moves each live call; null with Twilio off. */
  callHolders: RedisCallHolders | null;
  /** Email's raw messages and attachments, read by every process; null with email off. */
  emailContent: RedisContentStore | null;
  /** Chat visitors' files, read by every process; null with chat files off. */
  chatFiles: RedisContentStore | null;
  /** On a Redis Cluster: the deployment's slot and the master every client is connected to; else null. */
  cluster: SlotOwner | null;
  /** A key in the deployment's hash tag (what decides its slot). */
  tagKey: string;
  /**
   * False from the moment a connection to Redis drops until it is back, and while the Redis it is connected to is
   * older than 6.2 (it may have been replaced by one: `notReady` says so).
   */
  ready(): boolean;
  /** Why it is not ready when the Redis is too old (for `/readyz`, without its address); else null. */
  notReady(): string | null;
  /**
   * Close what the Switchboard does not (the adapter's, Slack state's, call holders', email content's and chat
   * files' clients); after `sb.close()`.
   */
  close(): Promise<void>;
}

/**
 * Connect the store, the bus, the adapter (and the Slack state); waits for Redis as long as it takes (the
 * caller logs why).
 */
export async function startRedisMode(options: RedisModeOptions): Promise<RedisMode> {
  const { prefix, log } = options;
  const base = new RedisKeys(prefix).base;
  const seeds = [...new Set([options.url, ...(options.seeds ?? [])])];
  const waiting = options.waiting ?? (() => {});
  const cluster = options.cluster
    ? await whenRedisAnswers(log, waiting, () => slotOwnerFrom(seeds, base))
    : null;
  if (cluster) {
    log.info(
      { slot: cluster.slot, node: safeUrl(cluster.url) },
      "redis cluster: the deployment's slot is on this master",
    );
  }
  const url = cluster?.url ?? options.url;
  // One Redis: the names every earlier version used. A cluster: inside the tag, on the slot's master.
  const names = cluster ? base : `${prefix}:`;
  const store = await whenRedisAnswers(log, waiting, () => createRedisStore({ url, prefix }));
  // The adapter's reader loops on XREAD: with the offline queue on, a read waits for Redis instead of
  // failing at once in a tight loop while it is down.
  const adapterClient = redisClient(url, 'socket.io', log, true);
  // Each time it connects again, the version of the Redis it finds: one older than 6.2 (Redis replaced by an older
  // one) makes the process unready, and the store refuses every command on it (redis-connection.ts).
  const version = new VersionWatch(url, log);
  adapterClient.on('ready', () => version.check((args) => adapterClient.sendCommand(args)));
  await adapterClient.connect();
  waiting(null);
  const secretsKey = `${base}:secrets`;
  let stopRenewing = () => {};
  if (options.secrets) {
    const differ = await stateSecrets(adapterClient, secretsKey, options.secrets);
    if (differ.length > 0) {
      await closeRedisClient(adapterClient);
      await store.close();
      throw new ConfigError(differLines(differ, prefix));
    }
    stopRenewing = renewSecrets(adapterClient, secretsKey, options.secrets, log);
  }
  const slackState = options.slack
    ? await whenRedisAnswers(log, waiting, () => RedisSlackState.connect({ url, prefix }))
    : null;
  const callHolders = options.voice
    ? await whenRedisAnswers(log, waiting, () => RedisCallHolders.connect({ url, prefix }))
    : null;
  // A content store when its channel is on (a byte budget given), else none.
  const contentStore = (maxBytes: number | null | undefined, namespace: ContentNamespace) =>
    maxBytes != null
      ? whenRedisAnswers(log, waiting, () => RedisContentStore.connect({ url, prefix, maxBytes, namespace }))
      : null;
  const emailContent = await contentStore(options.emailMaxBytes, 'email');
  const chatFiles = await contentStore(options.chatFilesMaxBytes, 'chat');
  const events = await RedisEventBus.connect({
    client: redisClient(url, 'events', log, false),
    stream: `${names}events`,
    log,
  });
  // The adapter opens connections of its own as soon as it is made, and closes them when the last namespace
  // using it closes (io.close()): made on first use, so a RedisMode never handed to a server leaves none open.
  let adapter: ReturnType<typeof createAdapter> | null = null;
  // biome-ignore lint/complexity/useArrowFunction: socket.io constructs the adapter with `new`
  const ioAdapter = function (nsp: Parameters<ReturnType<typeof createAdapter>>[0]) {
    adapter ??= createAdapter(adapterClient, {
      streamName: `${names}socket.io`,
      channelPrefix: `${names}socket.io`,
      sessionKeyPrefix: `${names}socket.io:session:`,
      blockTimeInMs: 1000,
      onlyPlaintext: true,
    });
    return adapter(nsp);
  };
  return {
    store,
    events,
    ioAdapter,
    slackState,
    callHolders,
    emailContent,
    chatFiles,
    cluster,
    tagKey: base,
    ready: () =>
      version.ok &&
      events.connected &&
      adapterClient.isReady &&
      (slackState?.ready ?? true) &&
      (callHolders?.ready ?? true) &&
      (emailContent?.ready ?? true) &&
      (chatFiles?.ready ?? true),
    notReady: () => version.reason,
    close: async () => {
      stopRenewing();
      await closeRedisClient(adapterClient);
      await slackState?.close();
      await callHolders?.close();
      await emailContent?.close();
      await chatFiles?.close();
    },
  };
}

/**
 * Connect once Redis answers: a process started before Redis waits for it instead of exiting. Why it cannot
 * connect is logged at the first failure and again whenever the reason changes (not at every attempt). A Redis
 * older than 6.2 is waited out the same way (replaced or upgraded, it is used), said as an error, and `waiting`
 * is told why.
 */
async function whenRedisAnswers<T>(
  log: Log,
  waiting: (reason: string | null) => void,
  connect: () => Promise<T>,
): Promise<T> {
  let said = '';
  for (;;) {
    try {
      return await connect();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      const old = err instanceof RedisTooOldError;
      if (err.message !== said) {
        if (old)
          log.error(
            { err: err.message, found: err.found, needed: '6.2' },
            'redis: too old; waiting for a newer one',
          );
        else log.warn({ err: err.message }, 'redis: unreachable; waiting for it');
      }
      said = err.message;
      waiting(old ? err.reason : null);
      await new Promise((r) => setTimeout(r, old ? 2000 : 500));
    }
  }
}

/**
 * The version of the Redis a connection found at its latest connect: `ok` until one older than 6.2 is found, and
 * again once a newer one is. Said in the log when it changes.
 */
class VersionWatch {
  readonly #url: string;
  readonly #log: Log;
  #tooOld: RedisTooOldError | null = null;
  /** Connects counted: a check that ends after a newer connect's is not taken. */
  #round = 0;

  constructor(url: string, log: Log) {
    this.#url = url;
    this.#log = log;
  }

  get ok(): boolean {
    return this.#tooOld === null;
  }

  get reason(): string | null {
    return this.#tooOld?.reason ?? null;
  }

  check(send: (args: string[]) => Promise<unknown>): void {
    const round = ++this.#round;
    redisTooOld(send).then(
      (found) => {
        if (round !== this.#round) return;
        const was = this.#tooOld;
        this.#tooOld = found === null ? null : new RedisTooOldError(this.#url, found);
        if (this.#tooOld && this.#tooOld.message !== was?.message)
          this.#log.error(
            { err: this.#tooOld.message, found, needed: '6.2' },
            'redis: too old; serving nothing until a newer one answers',
          );
        else if (!this.#tooOld && was) this.#log.info({}, 'redis: new enough again; serving');
      },
      // No answer: the connection's trouble, which readiness follows already.
      () => {},
    );
  }
}
