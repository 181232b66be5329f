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
import { createClient } from 'redis';
import { MemoryStore } from '../routing/store/memory.js';
import { RedisStore } from '../routing/store/redis.js';
import type { Store } from '../routing/store/store.js';

/** Per command name: calls and microseconds, as `INFO commandstats` counts them since the server started. */
export type CommandStats = Map<string, { calls: number; usec: number }>;

/** The server's counters since it started: its commands, and the CPU time its process used (`INFO cpu`). */
export interface ServerCounters {
  commands: CommandStats;
  /** Microseconds of CPU in user and kernel mode, every thread of the server process. */
  cpuUsec: { user: number; sys: number };
}

export interface BenchStore {
  store: Store;
  /** Release the store (and whatever it holds outside this process). */
  close(): Promise<void>;
  /** The server's counters (`--redis-stats`), for a store that has a server. */
  serverCounters?: () => Promise<ServerCounters>;
}

/** `INFO commandstats` as numbers. */
export function parseCommandStats(info: string): CommandStats {
  const out: CommandStats = new Map();
  for (const line of info.split('\n')) {
    const m = /^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/.exec(line.trim());
    if (m) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

/** `INFO cpu commandstats` as numbers. */
export function parseServerCounters(info: string): ServerCounters {
  const seconds = (field: string): number => {
    const m = new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info);
    if (!m) throw new Error(`INFO cpu has no ${field}`);
    return Math.round(Number(m[1]) * 1e6);
  };
  return {
    commands: parseCommandStats(info),
    cpuUsec: { user: seconds('used_cpu_user'), sys: seconds('used_cpu_sys') },
  };
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
    const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    const store = await RedisStore.connect({ url, prefix });
    // A connection of its own for the counters (opened when first asked, with `--redis-stats`), so that reading
    // them never waits behind the store's commands.
    let info: ReturnType<typeof createClient> | null = null;
    return {
      store,
      close: async () => {
        await store.flushPrefix();
        await store.close();
        info?.destroy();
      },
      serverCounters: async () => {
        if (!info) {
          info = createClient({ url });
          info.on('error', () => {});
          await info.connect();
        }
        return parseServerCounters(await info.sendCommand<string>(['INFO', 'cpu', 'commandstats']));
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
