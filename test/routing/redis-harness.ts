// Real Redis for the Redis store specs: TEST_REDIS_URL when set, else 127.0.0.1:6379
// when it answers, else a redis-server child process on a free port, started in
// a before() hook and stopped in after() (`useRedis`). Every store a spec makes
// works under a key prefix of its own and deletes its keys afterwards. Specs that
// act on the whole server (FUNCTION FLUSH, CLIENT PAUSE) ask for a redis-server of
// their own (`useRedis({ own: true })`): never a Redis someone else uses.
// (Not REDIS_URL: an operator's shell may hold the production one.)
import type { ChildProcess } from 'node:child_process';
import { createClient } from 'redis';
import { RedisStore } from '../../routing/store/redis.js';
import { freePort, spawnRedisServer, stopRedisServer } from '../support/redis-server.js';

let stores = 0;

/** A prefix no other store in this run (nor another run at the same time) uses. */
export function testPrefix(what: string): string {
  return `test-${what}-${process.pid}-${++stores}`;
}

export { freePort, stopRedisServer };

export async function answers(url: string): Promise<boolean> {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 500 } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/** A redis-server of our own (no persistence) on `port`; resolves once it answers. */
export async function startRedisServer(port: number): Promise<ChildProcess> {
  const { child, failure } = spawnRedisServer([
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await answers(url))) {
    const failed = failure();
    if (failed) throw failed;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not start`);
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  return child;
}

/**
 * Call inside a describe(): a Redis for its tests. `url()` is valid from the
 * tests on (the before() hook finds or starts it; after() stops what it started).
 */
export function useRedis(options: { own?: boolean } = {}): {
  url: () => string;
  connect: (what: string) => Promise<RedisStore>;
} {
  let url: string | null = null;
  let child: ChildProcess | null = null;
  before(async function () {
    this.timeout(15_000);
    const given = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    if (!options.own && (await answers(given))) {
      url = given;
      return;
    }
    if (!options.own && process.env.TEST_REDIS_URL)
      throw new Error(`TEST_REDIS_URL ${given} does not answer`);
    const port = await freePort();
    child = await startRedisServer(port);
    url = `redis://127.0.0.1:${port}`;
  });
  after(async () => {
    if (child) await stopRedisServer(child);
    child = null;
  });
  const current = () => {
    if (url === null) throw new Error('no Redis yet: use it from a test or a hook');
    return url;
  };
  return {
    url: current,
    connect: (what: string) => RedisStore.connect({ url: current(), prefix: testPrefix(what) }),
  };
}
