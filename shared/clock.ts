/** Where routing gets the time. Nothing in routing/ reads `Date.now()` directly. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: for tests and simulations. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = Date.UTC(2026, 0, 5, 9, 0, 0)) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.#now += ms;
    return this.#now;
  }
  set(at: number): void {
    if (at < this.#now) throw new RangeError('ManualClock.set: time never runs backwards');
    this.#now = at;
  }
}

/**
 * `p`'s outcome, or after `ms` of real time (I/O deadlines, not routing time) the error `timeout` makes
 * (default: "no answer within <ms> ms"). A rejection of `p` after the deadline is handled, never unhandled.
 */
export function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  timeout: () => Error = () => new Error(`no answer within ${ms} ms`),
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(timeout()), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
