import { OrderedSet } from '@js-sdsl/ordered-set';

/** A sort key: ordered by `a`, then `b`, then `id`. */
export interface SortKey {
  a: number;
  b: number;
  id: string;
}

const compare = (x: SortKey, y: SortKey): number =>
  x.a !== y.a ? x.a - y.a : x.b !== y.b ? x.b - y.b : x.id < y.id ? -1 : x.id > y.id ? 1 : 0;

/**
 * An ordered index of ids with O(log n) insert, delete and rank: the memory
 * store's stand-in for a Redis sorted set. Remembers each id's key so callers
 * remove by id.
 */
export class SortedIndex {
  readonly #set = new OrderedSet<SortKey>([], compare, true);
  readonly #keys = new Map<string, SortKey>();
  /** The lowest key, kept at hand: routing peeks at many indexes' heads per decision. */
  #first: SortKey | undefined = undefined;

  get size(): number {
    return this.#keys.size;
  }

  has(id: string): boolean {
    return this.#keys.has(id);
  }

  keyOf(id: string): SortKey | undefined {
    return this.#keys.get(id);
  }

  /** Insert or move `id` to the position of (a, b). */
  set(id: string, a: number, b = 0): void {
    const old = this.#keys.get(id);
    if (old) {
      if (old.a === a && old.b === b) return;
      this.#set.eraseElementByKey(old);
    }
    const key = { a, b, id };
    this.#set.insert(key);
    this.#keys.set(id, key);
    this.#first = this.#set.front();
  }

  delete(id: string): boolean {
    const old = this.#keys.get(id);
    if (!old) return false;
    this.#set.eraseElementByKey(old);
    this.#keys.delete(id);
    this.#first = this.#set.front();
    return true;
  }

  /** 0-based rank of `id`, or -1. */
  rank(id: string): number {
    const key = this.#keys.get(id);
    if (!key) return -1;
    return this.#set.find(key).index;
  }

  /**
   * Ids in order, lowest first; stop iterating early to keep it cheap. Walks the
   * tree step by step (the set's own iterator copies every element first), so
   * do not change the index while iterating.
   */
  *ids(): Generator<string> {
    for (const it = this.#set.begin(); it.isAccessible(); it.next()) yield it.pointer.id;
  }

  /** Keys in order, lowest first; the same rules as `ids()`. */
  *entries(): Generator<SortKey> {
    for (const it = this.#set.begin(); it.isAccessible(); it.next()) yield it.pointer;
  }

  first(): SortKey | undefined {
    return this.#first;
  }
}
