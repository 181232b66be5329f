// Every Slack Web API call goes through here. Calls wait in one FIFO queue per
// key (a channel, a user's home tab, …): messages to one channel leave at most
// about one per second (Slack's limit for posting), in order; a 429 answer makes
// that method wait the `Retry-After` Slack gave and the same call is tried again,
// so nothing is dropped for a rate limit. A network failure or a 5xx is retried
// with backoff a few times; a Slack error (`ok: false`) is final.
import { webApi } from '@slack/bolt';

type WebClient = InstanceType<typeof webApi.WebClient>;

export type Wait = (ms: number) => Promise<void>;

/** Resolves after `ms`; the timer does not keep the process alive. */
export const realWait: Wait = (ms) =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref?.();
  });

export interface OutboxOptions {
  client: WebClient;
  /** Minimum spacing of paced calls (messages) under one key. Default 1000 ms. */
  paceMs?: number;
  /** How the outbox waits (tests record the waits and shorten them). */
  wait?: Wait;
  now?: () => number;
  /** Tries for a call that failed on the network or with a 5xx (rate limits are never counted). */
  maxAttempts?: number;
  log?: { warn(obj: object, msg: string): void };
}

export interface CallOptions {
  /** Calls with the same key run one at a time, in order. Default: the method. */
  key?: string;
  /** Keep at least `paceMs` between this call and the previous paced one under the key. */
  paced?: boolean;
}

interface Job {
  method: string;
  args: Record<string, unknown>;
  paced: boolean;
  resolve: (value: Record<string, unknown>) => void;
  reject: (err: unknown) => void;
}

interface Lane {
  jobs: Job[];
  running: boolean;
}

export class OutboxClosedError extends Error {
  constructor() {
    super('the Slack outbox is closed');
  }
}

export class SlackOutbox {
  readonly #client: WebClient;
  readonly #paceMs: number;
  readonly #wait: Wait;
  readonly #now: () => number;
  readonly #maxAttempts: number;
  readonly #log: OutboxOptions['log'];
  readonly #lanes = new Map<string, Lane>();
  /** When the last paced call under each key went out (kept after its lane empties). */
  readonly #lastPaced = new Map<string, number>();
  /** Per method, while a 429's Retry-After runs: every call of the method waits for it. */
  readonly #gates = new Map<string, Promise<void>>();
  readonly #idleWaiters: Array<() => void> = [];
  #closed = false;

  constructor(options: OutboxOptions) {
    this.#client = options.client;
    this.#paceMs = options.paceMs ?? 1000;
    this.#wait = options.wait ?? realWait;
    this.#now = options.now ?? Date.now;
    this.#maxAttempts = options.maxAttempts ?? 4;
    this.#log = options.log;
  }

  /** Queue one Web API call; resolves with Slack's answer once it went out. */
  call<T extends Record<string, unknown> = Record<string, unknown>>(
    method: string,
    args: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new OutboxClosedError());
    const key = options.key ?? method;
    return new Promise<T>((resolve, reject) => {
      let lane = this.#lanes.get(key);
      if (!lane) {
        lane = { jobs: [], running: false };
        this.#lanes.set(key, lane);
      }
      lane.jobs.push({
        method,
        args,
        paced: options.paced ?? false,
        resolve: resolve as (value: Record<string, unknown>) => void,
        reject,
      });
      if (!lane.running) void this.#drain(key, lane);
    });
  }

  /** A message to a channel (or a thread in it): paced per channel. */
  post<T extends Record<string, unknown> = Record<string, unknown>>(
    method: 'chat.postMessage' | 'chat.update' | 'chat.postEphemeral',
    args: Record<string, unknown> & { channel: string },
  ): Promise<T> {
    return this.call<T>(method, args, { key: `channel:${args.channel}`, paced: true });
  }

  /** Delete one of the app's messages (paced as posts to its channel); one already gone is no error. */
  async deleteMessage(ref: { channel: string; ts: string }): Promise<void> {
    await alreadyGone(
      this.call(
        'chat.delete',
        { channel: ref.channel, ts: ref.ts },
        { key: `channel:${ref.channel}`, paced: true },
      ),
    );
  }

  /** Delete a file the app shared, and its shares; one already gone is no error. */
  async deleteFile(file: string): Promise<void> {
    await alreadyGone(this.call('files.delete', { file }));
  }

  /** Resolves when no call is queued or running. */
  idle(): Promise<void> {
    if (this.#busy() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stop: queued calls are rejected; a call in flight finishes. */
  close(): void {
    this.#closed = true;
    for (const lane of this.#lanes.values()) {
      for (const job of lane.jobs.splice(lane.running ? 1 : 0)) job.reject(new OutboxClosedError());
    }
  }

  #paced(key: string): void {
    const now = this.#now();
    this.#lastPaced.delete(key);
    this.#lastPaced.set(key, now);
    // Forget keys whose spacing has long passed (insertion order is time order).
    for (const [k, at] of this.#lastPaced) {
      if (this.#lastPaced.size <= 1000 || at > now - this.#paceMs) break;
      this.#lastPaced.delete(k);
    }
  }

  #busy(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.jobs.length;
    return n;
  }

  async #drain(key: string, lane: Lane): Promise<void> {
    lane.running = true;
    try {
      for (let job = lane.jobs[0]; job; job = lane.jobs[0]) {
        try {
          job.resolve(await this.#send(job, key));
        } catch (err) {
          job.reject(err);
        }
        lane.jobs.shift();
      }
    } finally {
      lane.running = false;
      if (lane.jobs.length === 0) this.#lanes.delete(key);
      if (this.#busy() === 0) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  async #send(job: Job, key: string): Promise<Record<string, unknown>> {
    let failures = 0;
    for (;;) {
      if (this.#closed) throw new OutboxClosedError();
      const gate = this.#gates.get(job.method);
      if (gate) {
        await gate;
        continue;
      }
      const delay = job.paced
        ? (this.#lastPaced.get(key) ?? Number.NEGATIVE_INFINITY) + this.#paceMs - this.#now()
        : 0;
      if (delay > 0) {
        await this.#wait(delay);
        continue;
      }
      if (job.paced) this.#paced(key);
      try {
        return (await this.#client.apiCall(job.method, job.args)) as unknown as Record<string, unknown>;
      } catch (err) {
        const retryAfter = rateLimitedFor(err);
        if (retryAfter !== null) {
          this.#log?.warn(
            { method: job.method, retryAfter },
            'Slack rate limit: waiting before trying again',
          );
          if (!this.#gates.has(job.method)) {
            const gate = this.#wait(retryAfter * 1000).finally(() => {
              if (this.#gates.get(job.method) === gate) this.#gates.delete(job.method);
            });
            this.#gates.set(job.method, gate);
          }
          continue;
        }
        if (!transient(err) || ++failures >= this.#maxAttempts) throw err;
        const backoff = Math.min(30_000, 500 * 2 ** (failures - 1));
        this.#log?.warn(
          { method: job.method, failures, err: String(err) },
          'Slack call failed; trying again',
        );
        await this.#wait(backoff);
      }
    }
  }
}

/** Seconds to wait when Slack answered 429, else null. */
function rateLimitedFor(err: unknown): number | null {
  if (err instanceof webApi.WebAPIRateLimitedError) return Math.max(0, err.retryAfter);
  const e = err as { code?: unknown; retryAfter?: unknown };
  if (e?.code === webApi.ErrorCode.RateLimitedError && typeof e.retryAfter === 'number')
    return Math.max(0, e.retryAfter);
  return null;
}

/** A failure worth trying again: the request did not reach Slack, or Slack answered 5xx. */
function transient(err: unknown): boolean {
  if (err instanceof webApi.WebAPIRequestError) return true;
  if (err instanceof webApi.WebAPIHTTPError) return err.statusCode >= 500;
  return false;
}

/** The Slack error code of a failed call (`channel_not_found`, …), if it was one. */
/** A deletion, done or already done (Slack says the message or file is not found). */
async function alreadyGone(deletion: Promise<unknown>): Promise<void> {
  try {
    await deletion;
  } catch (err) {
    const code = slackErrorCode(err);
    if (code !== 'message_not_found' && code !== 'file_not_found') throw err;
  }
}

export function slackErrorCode(err: unknown): string | null {
  if (err instanceof webApi.WebAPIPlatformError) return String(err.data.error);
  return null;
}
