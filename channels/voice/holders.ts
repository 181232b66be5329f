// Which process moves a live call. The load balancer sends a call's webhooks to one
// process (with a backup); when routing changes where a waiting call should go, the
// process that answered the call's latest webhook updates it over the REST API, and
// only that one. With one process every call is its own (`LocalCallHolders`). In
// Redis mode (`RedisCallHolders`) the latest holder of each call is kept in Redis, so
// a backup that took calls over and the process that comes back after a crash never
// both move the same call; and each process says it is running (a key it renews
// every second, gone 3 s after it stops), so a call whose holder died is taken over
// by the process whose routing gives it to an agent, at once.
import { createHash, randomUUID } from 'node:crypto';
import {
  closeRedisClient,
  connectWithin,
  newRedisClient,
  type RedisClient,
  type RedisConnectionOptions,
  redisFault,
  runScript,
} from '../../routing/store/redis-connection.js';
import { RedisKeys } from '../../routing/store/redis-keys.js';

export interface CallHolders {
  /** This process answered a webhook of the call: it moves the call from now on. */
  hold(callSid: string): Promise<void>;
  /** Whether this process answered the call's latest webhook (false: another process has it now). */
  holds(callSid: string): Promise<boolean>;
  /** The call ended: nobody holds it any more. */
  release(callSid: string): Promise<void>;
  /**
   * Take the call over when the process holding it is no longer running: true when this process holds it
   * now; false when a running process holds it, or nobody does (it ended, or was never held).
   */
  adopt(callSid: string): Promise<boolean>;
  /**
   * Take the lease `name` for `seconds` (a call an agent places to a customer: one at a time for the
   * conversation, and for the agent): true when it was free, false when someone holds it.
   */
  lease(name: string, seconds: number): Promise<boolean>;
  /** Hold the lease `name` (taken) for `seconds` from now. */
  renew(name: string, seconds: number): Promise<void>;
  /** Whether someone holds the lease `name`. */
  leased(name: string): Promise<boolean>;
  /** Give the lease `name` up. */
  free(name: string): Promise<void>;
}

export class LocalCallHolders implements CallHolders {
  /** Leases by name: when each lapses (ms, on `now`). */
  readonly #leases = new Map<string, number>();
  readonly #now: () => number;

  /** `now`: the clock leases lapse on (the router's). */
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  async hold(_callSid: string): Promise<void> {}

  async holds(_callSid: string): Promise<boolean> {
    return true;
  }

  async release(_callSid: string): Promise<void> {}

  /** One process: a call it does not know is not live here, and no other process has it. */
  async adopt(_callSid: string): Promise<boolean> {
    return false;
  }

  async lease(name: string, seconds: number): Promise<boolean> {
    // Checked and taken in one step (nothing awaited between): two at once get one lease.
    if (this.#held(name)) return false;
    this.#leases.set(name, this.#now() + seconds * 1000);
    return true;
  }

  async renew(name: string, seconds: number): Promise<void> {
    this.#leases.set(name, this.#now() + seconds * 1000);
  }

  async leased(name: string): Promise<boolean> {
    return this.#held(name);
  }

  #held(name: string): boolean {
    const until = this.#leases.get(name);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#leases.delete(name);
    return false;
  }

  async free(name: string): Promise<void> {
    this.#leases.delete(name);
  }
}

/** How long a holder is kept after the call's last webhook: longer than any call is left alone. */
export const HOLDER_TTL_SECONDS = 6 * 60 * 60;
/** A process renews its running key this often, and it lapses this long after the last renewal. */
export const HEARTBEAT_MS = 1000;
export const ALIVE_MS = 3000;

/**
 * KEYS[1] the call's holder; ARGV[1] this process's id, ARGV[2] the holder's TTL (s), ARGV[3] the running
 * keys' base (`…voice:alive:`, in the same hash slot). Result 1: this process holds the call now; 0: a
 * running process does, or nobody (the call ended).
 */
const ADOPT = `local holder = redis.call('GET', KEYS[1])
if not holder then return 0 end
if holder == ARGV[1] then return 1 end
if redis.call('EXISTS', ARGV[3] .. holder) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;
const ADOPT_SCRIPT = { source: ADOPT, sha: createHash('sha1').update(ADOPT).digest('hex') };

export interface RedisCallHoldersOptions extends RedisConnectionOptions {
  /** The store's key prefix: keys are `{sb:<prefix>}:voice:holder:<CallSid>` (`{sb}:…` when empty). */
  prefix?: string;
}

export class RedisCallHolders implements CallHolders {
  /** This process, as a holder: a new id at every start. */
  readonly id = randomUUID();
  readonly #client: RedisClient;
  readonly #base: string;
  readonly #aliveBase: string;
  readonly #leaseBase: string;
  #heartbeat: NodeJS.Timeout | null = null;

  private constructor(client: RedisClient, prefix: string) {
    this.#client = client;
    const base = new RedisKeys(prefix).base;
    this.#base = `${base}voice:holder:`;
    this.#aliveBase = `${base}voice:alive:`;
    this.#leaseBase = `${base}voice:lease:`;
    // While Redis is away its commands fail (the caller logs them) and it reconnects by itself; an
    // 'error' event nobody listens to would end the process.
    client.on('error', () => {});
  }

  static async connect(options: RedisCallHoldersOptions = {}): Promise<RedisCallHolders> {
    const client = newRedisClient(options);
    const holders = new RedisCallHolders(client, options.prefix ?? '');
    await connectWithin(client, options);
    await holders.#beat();
    holders.#heartbeat = setInterval(() => void holders.#beat(), HEARTBEAT_MS).unref();
    return holders;
  }

  /** This process's running key (for tests: deleting it is what its lapse after a crash does). */
  get aliveKey(): string {
    return this.#aliveBase + this.id;
  }

  /** Say this process is running; while Redis is away, the next beat tries again. */
  async #beat(): Promise<void> {
    try {
      await this.#client.set(this.aliveKey, '1', { expiration: { type: 'PX', value: ALIVE_MS } });
    } catch {
      // Redis is away: the holders' callers see their own commands fail.
    }
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

  async release(callSid: string): Promise<void> {
    await this.#client.del(this.key(callSid));
  }

  async adopt(callSid: string): Promise<boolean> {
    const tail = ['1', this.key(callSid), this.id, String(HOLDER_TTL_SECONDS), this.#aliveBase];
    const reply = await runScript(this.#client, ADOPT_SCRIPT, tail, (err) =>
      redisFault(err, 'taking a call over', this.key(callSid), null, 'voice call holders'),
    );
    return reply === 1;
  }

  async lease(name: string, seconds: number): Promise<boolean> {
    const set = await this.#client.set(this.#leaseBase + name, this.id, {
      condition: 'NX',
      expiration: { type: 'EX', value: seconds },
    });
    return set === 'OK';
  }

  async renew(name: string, seconds: number): Promise<void> {
    await this.#client.set(this.#leaseBase + name, this.id, { expiration: { type: 'EX', value: seconds } });
  }

  async leased(name: string): Promise<boolean> {
    return (await this.#client.exists(this.#leaseBase + name)) === 1;
  }

  async free(name: string): Promise<void> {
    await this.#client.del(this.#leaseBase + name);
  }

  async close(): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    // A clean stop: its calls are anyone's at once.
    try {
      if (this.#client.isReady) await this.#client.del(this.aliveKey);
    } catch {
      // Redis is away: the key lapses by itself.
    }
    await closeRedisClient(this.#client);
  }
}
