// The event bus of the Redis mode: domain events cross processes through one
// prefixed Redis stream. The publishing process delivers an event to its own
// listeners once, at once, and appends it to the stream; every process reads
// the stream from where it left off (so an outage or a slow process loses
// nothing still in the stream), skips its own entries, parses the others with
// the DomainEvent schema (a bad one is logged and dropped) and hands them to the
// listeners that asked for remote events (those that mirror events to their own
// sockets). All processes see all events in one order, the stream's.
import { randomBytes } from 'node:crypto';
import { ClientOfflineError } from 'redis';
import { closeRedisClient } from '../routing/store/redis-connection.js';
import { DomainEvent, LocalEventBus } from '../shared/events.js';
import type { Log, RedisClient } from './redis-client.js';

export interface RedisEventBusOptions {
  /** A node-redis client for appending; the bus owns it, duplicates it to read, and closes both. */
  client: RedisClient;
  /** The stream's key, already prefixed (one per deployment). */
  stream: string;
  log: Log;
  /** About this many events stay in the stream for processes that fall behind or reconnect. */
  maxLen?: number;
  /** Events published while Redis is unreachable wait here, oldest dropped first beyond this many. */
  maxPending?: number;
}

/** How long one blocking read waits for new events (well under the client's command timeout). */
const BLOCK_MS = 1000;

export class RedisEventBus extends LocalEventBus {
  /** This process on the stream: every entry carries it, so our own are skipped unparsed. */
  readonly origin = randomBytes(9).toString('base64url');
  readonly #pub: RedisClient;
  readonly #reader: RedisClient;
  readonly #stream: string;
  readonly #log: Log;
  readonly #maxLen: number;
  readonly #maxPending: number;
  /** The id of the last entry read. */
  #lastId = '0-0';
  /** Payloads not appended yet because Redis was unreachable, in publishing order. */
  #pending: string[] = [];
  #droppedSinceReady = 0;
  #closed = false;
  #reading: Promise<void> = Promise.resolve();
  /** How many received events were dropped because they did not parse (for tests and diagnostics). */
  rejected = 0;

  private constructor(options: RedisEventBusOptions, reader: RedisClient) {
    super((err, event) => options.log.error({ err, event: event.type }, 'event listener failed'));
    this.#pub = options.client;
    this.#reader = reader;
    this.#stream = options.stream;
    this.#log = options.log;
    this.#maxLen = options.maxLen ?? 20_000;
    this.#maxPending = options.maxPending ?? 10_000;
    this.#pub.on('ready', () => this.#flush());
  }

  /** Connect (waiting for Redis as long as it takes) and start reading from the stream's current end. */
  static async connect(options: RedisEventBusOptions): Promise<RedisEventBus> {
    // The reader's blocking reads wait for Redis while it is down (offline queue on), instead of failing
    // at once in a loop; node-redis reports every failed reconnect attempt, the appending client logs it.
    const reader = options.client.duplicate({ disableOfflineQueue: false });
    reader.on('error', () => {});
    const bus = new RedisEventBus(options, reader);
    try {
      if (!options.client.isOpen) await options.client.connect();
      await reader.connect();
      const last = (await reader.xRevRange(options.stream, '+', '-', { COUNT: 1 }))?.[0];
      if (last) bus.#lastId = last.id;
    } catch (err) {
      await bus.close();
      throw err;
    }
    bus.#reading = bus.#read();
    return bus;
  }

  /** Whether both connections are up (our events reach the other processes, theirs reach us). */
  get connected(): boolean {
    return this.#pub.isReady && this.#reader.isReady;
  }

  override publish(event: DomainEvent): void {
    if (!this.#closed) this.#send(`${this.origin} ${JSON.stringify(event)}`);
    super.publish(event);
  }

  override async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await super.close();
    // The reader may be blocked in a read: drop its connection rather than wait for the read to end.
    if (this.#reader.isOpen) this.#reader.destroy();
    await this.#reading;
    await closeRedisClient(this.#pub);
  }

  #send(payload: string): void {
    if (this.#pending.length > 0 || !this.#pub.isReady) {
      this.#hold(payload);
      return;
    }
    this.#pub
      .xAdd(
        this.#stream,
        '*',
        { e: payload },
        { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.#maxLen } },
      )
      .catch((err: unknown) => {
        // Never written: append it when Redis is back. Written but unanswered: it may be there; not twice.
        if (err instanceof ClientOfflineError) this.#hold(payload);
        else this.#log.warn({ err }, 'event bus: an event may not have reached the other processes');
      });
  }

  #hold(payload: string): void {
    if (this.#closed) return;
    if (this.#pending.length >= this.#maxPending) {
      this.#pending.shift();
      if (this.#droppedSinceReady++ === 0) {
        this.#log.warn(
          { maxPending: this.#maxPending },
          'event bus: Redis unreachable too long; dropping the oldest unsent events',
        );
      }
    }
    this.#pending.push(payload);
  }

  /** Append what waited, in order; later events queue behind them because the commands are pipelined. */
  #flush(): void {
    if (this.#closed || this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    if (this.#droppedSinceReady > 0) {
      this.#log.warn({ dropped: this.#droppedSinceReady }, 'event bus: events dropped during the outage');
      this.#droppedSinceReady = 0;
    }
    for (const payload of batch) this.#send(payload);
  }

  async #read(): Promise<void> {
    while (!this.#closed) {
      try {
        const reply = await this.#reader.xRead(
          { key: this.#stream, id: this.#lastId },
          { BLOCK: BLOCK_MS, COUNT: 500 },
        );
        for (const entry of reply?.[0]?.messages ?? []) {
          this.#lastId = entry.id;
          this.#receive(entry.message.e ?? '');
        }
      } catch {
        // Redis unreachable (the read timed out or the connection dropped): read on from the same id.
        if (!this.#closed) await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  #receive(payload: string): void {
    const space = payload.indexOf(' ');
    if (space > 0 && payload.slice(0, space) === this.origin) return;
    let raw: unknown;
    try {
      if (space <= 0) throw new Error('no origin');
      raw = JSON.parse(payload.slice(space + 1));
    } catch {
      this.rejected++;
      this.#log.warn(
        { stream: this.#stream, length: payload.length },
        'event bus: dropped unreadable payload',
      );
      return;
    }
    const parsed = DomainEvent.safeParse(raw);
    if (!parsed.success) {
      this.rejected++;
      const issue = parsed.error.issues[0];
      this.#log.warn(
        {
          type: (raw as { type?: unknown } | null)?.type,
          field: issue?.path.map(String).join('.'),
          problem: issue?.message,
        },
        'event bus: dropped an event that does not match the schema',
      );
      return;
    }
    this.deliver(parsed.data, 'remote');
  }
}
