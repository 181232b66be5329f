// Which process moves a live call. The load balancer sends a call's webhooks to one
// process (with a backup); when routing changes where a waiting call should go, the
// process that answered the call's latest webhook updates it over the REST API, and
// only that one. With one process every call is its own (`LocalCallHolders`). In
// Redis mode (`RedisCallHolders`) the latest holder of each call is kept in Redis, so
// a backup that took calls over and the process that comes back after a crash never
// both move the same call.
import { randomUUID } from 'node:crypto';
import {
  closeRedisClient,
  connectWithin,
  newRedisClient,
  type RedisClient,
  type RedisConnectionOptions,
} from '../../routing/store/redis-connection.js';
import { RedisKeys } from '../../routing/store/redis-keys.js';

export interface CallHolders {
  /** This process answered a webhook of the call: it moves the call from now on. */
  hold(callSid: string): Promise<void>;
  /** Whether this process answered the call's latest webhook (false: another process has it now). */
  holds(callSid: string): Promise<boolean>;
}

export class LocalCallHolders implements CallHolders {
  async hold(_callSid: string): Promise<void> {}

  async holds(_callSid: string): Promise<boolean> {
    return true;
  }
}

/** How long a holder is kept after the call's last webhook: longer than any call is left alone. */
export const HOLDER_TTL_SECONDS = 6 * 60 * 60;

export interface RedisCallHoldersOptions extends RedisConnectionOptions {
  /** The store's key prefix: keys are `{sb:<prefix>}:voice:holder:<CallSid>` (`{sb}:…` when empty). */
  prefix?: string;
}

export class RedisCallHolders implements CallHolders {
  /** This process, as a holder: a new id at every start. */
  readonly id = randomUUID();
  readonly #client: RedisClient;
  readonly #base: string;

  private constructor(client: RedisClient, prefix: string) {
    this.#client = client;
    this.#base = `${new RedisKeys(prefix).base}voice:holder:`;
    // While Redis is away its commands fail (the caller logs them) and it reconnects by itself; an
    // 'error' event nobody listens to would end the process.
    client.on('error', () => {});
  }

  static async connect(options: RedisCallHoldersOptions = {}): Promise<RedisCallHolders> {
    const client = newRedisClient(options);
    const holders = new RedisCallHolders(client, options.prefix ?? '');
    await connectWithin(client, options);
    return holders;
  }

  get ready(): boolean {
    return this.#client.isReady;
  }

  key(callSid: string): string {
    return this.#base + callSid;
  }

  async hold(callSid: string): Promise<void> {
    await this.#client.set(this.key(callSid), this.id, {
      expiration: { type: 'EX', value: HOLDER_TTL_SECONDS },
    });
  }

  /** A call nobody is recorded to hold (its holder expired, or was never kept) is anyone's. */
  async holds(callSid: string): Promise<boolean> {
    const holder = await this.#client.get(this.key(callSid));
    return holder === null || holder === this.id;
  }

  async close(): Promise<void> {
    await closeRedisClient(this.#client);
  }
}
