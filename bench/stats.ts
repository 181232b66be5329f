// Small statistics helpers for the benchmark.

/** The q-quantile (0..1) of `sorted` (ascending), nearest-rank. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return sorted[rank]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per-decision latencies in nanoseconds, kept as numbers in a preallocated buffer. */
export class Samples {
  readonly #ns: Float64Array;
  #n = 0;

  constructor(capacity: number) {
    this.#ns = new Float64Array(capacity);
  }

  get count(): number {
    return this.#n;
  }

  add(ns: bigint): void {
    if (this.#n < this.#ns.length) this.#ns[this.#n++] = Number(ns);
  }

  /** Total time in seconds. */
  totalSeconds(): number {
    let sum = 0;
    for (let i = 0; i < this.#n; i++) sum += this.#ns[i]!;
    return sum / 1e9;
  }

  /** The q-quantile in milliseconds. */
  quantileMs(q: number): number {
    const sorted = this.#ns.slice(0, this.#n).sort();
    return quantile(sorted, q) / 1e6;
  }
}
