// node-redis clients for the Redis mode's own connections (event bus, socket.io
// adapter): quick reconnects forever, and an outage logged once rather than at
// every attempt. They close with redis-connection.ts `closeRedisClient`, which
// never waits for an unreachable Redis.
import { createClient, type RedisClientType } from 'redis';

export type RedisClient = RedisClientType;

export type Log = {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
};

/** Reconnect quickly (a restarted Redis is back in use within about half a second), forever. */
const reconnectStrategy = (retries: number) =>
  Math.min(50 * 2 ** retries, 500) + Math.floor(Math.random() * 50);

/**
 * A node-redis client that logs an outage once (not every reconnect attempt) and its end.
 * `offlineQueue: false` makes commands fail at once while Redis is unreachable.
 */
export function redisClient(url: string, name: string, log: Log, offlineQueue: boolean): RedisClient {
  const client = createClient({
    url,
    disableOfflineQueue: !offlineQueue,
    socket: { reconnectStrategy, connectTimeout: 2000 },
  });
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log.warn({ client: name, err: err.message }, 'redis: unreachable; retrying');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({ client: name }, 'redis: connected again');
  });
  return client;
}
