// A job that runs now and then (a sweep, a catch-up) and must not overlap itself.
import { logFailure } from './errors.js';

interface RunLog {
  info(msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Runs a job one run at a time: a call while a run is under way waits for it, then runs anew. A failure is
 * logged once (as `logFailure` logs) until a run works again, which is logged too; a failure once stopped
 * (the store closed under a run cut short) is not.
 */
export class OneRunAtATime<T> {
  readonly #log: RunLog;
  readonly #failed: string;
  readonly #works: string;
  readonly #stopped: () => boolean;
  #running: Promise<T> | null = null;
  #failing = false;

  /** `failed` and `works`: what the log says when a run fails, and when one works again after. */
  constructor(options: { log: RunLog; failed: string; works: string; stopped: () => boolean }) {
    this.#log = options.log;
    this.#failed = options.failed;
    this.#works = options.works;
    this.#stopped = options.stopped;
  }

  /** Whether a run is under way (a timer skips its turn then). */
  get busy(): boolean {
    return this.#running !== null;
  }

  /** The job's result, or `otherwise` when it failed or was stopped before it began. */
  async run(job: () => Promise<T>, otherwise: T): Promise<T> {
    while (this.#running) await this.#running.catch(() => {});
    if (this.#stopped()) return otherwise;
    const run = job();
    this.#running = run;
    try {
      const result = await run;
      if (this.#failing) this.#log.info(this.#works);
      this.#failing = false;
      return result;
    } catch (err) {
      if (!this.#failing && !this.#stopped()) logFailure(this.#log, err, this.#failed);
      this.#failing = true;
      return otherwise;
    } finally {
      this.#running = null;
    }
  }

  /** Resolves when no run is under way. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running.catch(() => {});
  }
}
