// The scale-out mode (REDIS_URL): the Redis store, the Redis event bus, the
// socket.io Redis streams adapter, (Slack on) the Slack console's state, (Twilio
// on) who holds each live call and (email on) email's raw messages and
// attachments, all under one key prefix, and a readiness signal that turns
// false the moment a connection to Redis drops.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { RedisContentStore } from '../channels/email/redis-content.js';
import { RedisSlackState } from '../channels/slack/redis-state.js';
import { RedisCallHolders } from '../channels/voice/holders.js';
import { createRedisStore } from '../routing/store/redis.js';
import { closeRedisClient } from '../routing/store/redis-connection.js';
import type { Store } from '../routing/store/store.js';
import { StoreUnavailableError } from '../shared/errors.js';
import { RedisEventBus } from './redis-bus.js';
import { type Log, redisClient } from './redis-client.js';

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
  /** False from the moment a connection to Redis drops until it is back. */
  ready(): boolean;
  /**
   * Close what the Switchboard does not (the adapter's, Slack state's, call holders' and email content's
   * clients); after `sb.close()`.
   */
  close(): Promise<void>;
}

/**
 * Connect the store, the bus, the adapter (and the Slack state); waits for Redis as long as it takes (the
 * caller logs why).
 */
export async function startRedisMode(options: RedisModeOptions): Promise<RedisMode> {
  const { url, prefix, log } = options;
  const store = await whenRedisAnswers(log, () => createRedisStore({ url, prefix }));
  const slackState = options.slack
    ? await whenRedisAnswers(log, () => RedisSlackState.connect({ url, prefix }))
    : null;
  const callHolders = options.voice
    ? await whenRedisAnswers(log, () => RedisCallHolders.connect({ url, prefix }))
    : null;
  const { emailMaxBytes } = options;
  const emailContent =
    emailMaxBytes != null
      ? await whenRedisAnswers(log, () => RedisContentStore.connect({ url, prefix, maxBytes: emailMaxBytes }))
      : null;
  const events = await RedisEventBus.connect({
    client: redisClient(url, 'events', log, false),
    stream: `${prefix}:events`,
    log,
  });
  // The adapter's reader loops on XREAD: with the offline queue on, a read waits for Redis instead of
  // failing at once in a tight loop while it is down.
  const adapterClient = redisClient(url, 'socket.io', log, true);
  await adapterClient.connect();
  // The adapter opens connections of its own as soon as it is made, and closes them when the last namespace
  // using it closes (io.close()): made on first use, so a RedisMode never handed to a server leaves none open.
  let adapter: ReturnType<typeof createAdapter> | null = null;
  // biome-ignore lint/complexity/useArrowFunction: socket.io constructs the adapter with `new`
  const ioAdapter = function (nsp: Parameters<ReturnType<typeof createAdapter>>[0]) {
    adapter ??= createAdapter(adapterClient, {
      streamName: `${prefix}:socket.io`,
      channelPrefix: `${prefix}:socket.io`,
      sessionKeyPrefix: `${prefix}:socket.io:session:`,
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
    ready: () =>
      events.connected &&
      adapterClient.isReady &&
      (slackState?.ready ?? true) &&
      (callHolders?.ready ?? true) &&
      (emailContent?.ready ?? true),
    close: async () => {
      await closeRedisClient(adapterClient);
      await slackState?.close();
      await callHolders?.close();
      await emailContent?.close();
    },
  };
}

/** Connect once Redis answers: a process started before Redis waits for it instead of exiting. */
async function whenRedisAnswers<T>(log: Log, connect: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await connect();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      if (attempt === 1) log.warn({ err: err.message }, 'redis: unreachable; waiting for it');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
