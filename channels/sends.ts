// What the channels that send their own outbound messages (texts, email) share:
// being the router's `Sender` for their channels, the first attempt as a message
// is stored, a later one when its delivery timer comes due (begun in the store
// first, so that one process sends it), the sends under way, and recording each
// attempt's outcome with its retry time. The channel supplies one attempt.
import type { Router } from '../routing/router.js';
import type { Channel, Message } from '../shared/model.js';

export interface SendsOptions {
  router: Router;
  /** The channels whose outbound messages these are. */
  channels: Channel[];
  /** How long one attempt may take before another process sends the message instead (`Sender.leaseMs`). */
  leaseMs: number;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Starts the log lines: `sms`, `email`. */
  name: string;
  log: { error(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Attempt `attempt` of the message (past the checks here); it records what came of it with `mark`. */
  attempt(message: Message, attempt: number): Promise<void>;
  /** `Sender.cannotStart`: why a conversation cannot start on these channels here, or null. */
  cannotStart?: () => string | null;
  /** `Sender.refusesTo`: why a message to the address would not go, or null. */
  refusesTo?: (address: string) => Promise<string | null>;
}

export class Sends {
  readonly #o: SendsOptions;
  #closed = false;
  readonly #inflight = new Set<Promise<void>>();
  readonly #unregister: () => void;

  constructor(options: SendsOptions) {
    this.#o = options;
    const { cannotStart, refusesTo } = options;
    this.#unregister = options.router.registerSender(options.channels, {
      leaseMs: options.leaseMs,
      ...(cannotStart ? { cannotStart } : {}),
      ...(refusesTo ? { refusesTo } : {}),
      resume: (message) => {
        if (this.#closed) return false;
        this.#track(this.#run(message, message.delivery.attempts + 1, true));
        return true;
      },
    });
  }

  /** Sends under way. */
  get pending(): number {
    return this.#inflight.size;
  }

  /** The first attempt of a message just stored (its delivery timer is the lease already). */
  start(message: Message): void {
    if (!this.#closed) this.#track(this.#run(message, 1, false));
  }

  /** Every send begun so far has finished (sent or failed): for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }

  /** No new sends; a retry not begun yet stays in the store for the next process to tick. */
  close(): void {
    this.#closed = true;
    this.#unregister();
  }

  /**
   * What came of attempt `attempt`, told to the agents: `retryAt`, when the next one is due (the delivery
   * timer), null when there will be none.
   */
  async mark(
    messageId: string,
    state: Message['delivery']['state'],
    reason: string | undefined,
    attempt: number,
    retryAt: number | null,
  ): Promise<void> {
    try {
      await this.#o.router.markDelivery(messageId, state, reason, { attempt, retryAt });
    } catch (err) {
      this.#o.log.warn({ err, messageId, state }, `${this.#o.name}: could not record the delivery state`);
    }
  }

  /** Attempt `attempt`; a `resumed` one (its timer came due) is begun in the store first. */
  async #run(message: Message, attempt: number, resumed: boolean): Promise<void> {
    if (attempt > this.#o.maxAttempts) {
      // Its last attempt began and was never seen to finish (its process died): no more tries.
      await this.mark(message.id, 'failed', `not sent after ${attempt - 1} attempts`, attempt - 1, null);
      return;
    }
    if (resumed && !(await this.#o.router.beginAttempt(message, attempt, this.#o.leaseMs))) return;
    await this.#o.attempt(message, attempt);
  }

  #track(p: Promise<void>): void {
    const tracked = p.catch((err) =>
      this.#o.log.error({ err }, `${this.#o.name}: delivery failed unexpectedly`),
    );
    this.#inflight.add(tracked);
    void tracked.finally(() => this.#inflight.delete(tracked));
  }
}
