// The stores the benchmark can run against, by name (`--store memory,redis`).
// Each factory builds a fresh, empty store for one scenario and a way to tear it
// down. To benchmark another Store implementation, add a factory here, e.g.
//
//   redis: async () => {
//     const store = await RedisStore.connect({ url: process.env.REDIS_URL, prefix: `bench:${process.pid}:` });
//     return { store, close: async () => { await store.flushPrefix(); await store.close(); } };
//   },
//
// and the JSON lines report `"store": "redis"`.
import { MemoryStore } from '../routing/store/memory.js';
import { RedisStore } from '../routing/store/redis.js';
import type { Store } from '../routing/store/store.js';

export interface BenchStore {
  store: Store;
  /** Release the store (and whatever it holds outside this process). */
  close(): Promise<void>;
}

export type StoreFactory = () => Promise<BenchStore>;

let redisStores = 0;

export const STORE_FACTORIES: Record<string, StoreFactory> = {
  memory: async () => {
    const store = new MemoryStore();
    return { store, close: () => store.close() };
  },
  // REDIS_URL, else a local Redis on 6379; a prefix of its own per scenario, deleted afterwards.
  redis: async () => {
    const prefix = `bench-${process.pid}-${++redisStores}`;
    const store = await RedisStore.connect({
      url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      prefix,
    });
    return {
      store,
      close: async () => {
        await store.flushPrefix();
        await store.close();
      },
    };
  },
};

export function storeFactory(name: string): StoreFactory {
  const factory = STORE_FACTORIES[name];
  if (!factory) {
    const known = Object.keys(STORE_FACTORIES).join(', ');
    throw new Error(`unknown store "${name}" (known: ${known}); add a factory in bench/stores.ts`);
  }
  return factory;
}
