// Real Redis for the specs: REDIS_URL when set, else 127.0.0.1:6379 when it
// answers, else a redis-server child process of our own on a free port. Each
// test works under its own key prefix and deletes its keys afterwards. Specs
// that stop Redis on purpose start their own server (`RedisServer`).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';

/**
 * `redis-server` with `args`, and the reason it could not start when it could not: a missing binary is told in
 * words (without a listener, the spawn's ENOENT would crash the whole test run).
 */
export function spawnRedisServer(args: string[]): { child: ChildProcess; failure: () => Error | null } {
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  let failure: Error | null = null;
  child.once('error', (err: NodeJS.ErrnoException) => {
    failure =
      err.code === 'ENOENT'
        ? new Error(
            'redis-server is not installed: the Redis tests need it on PATH (apt-get install -y redis-server), ' +
              'or REDIS_URL set to a running Redis',
          )
        : err;
  });
  return { child, failure: () => failure };
}

/** Kill a redis-server child with SIGKILL and wait until it is gone (at once when it never started or has exited). */
export async function stopRedisServer(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** Whether `port` (0: any) can be listened on at 127.0.0.1; the port listened on, or null. */
function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(null));
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as { port: number };
      srv.close(() => resolve(bound));
    });
  });
}

/**
 * A free TCP port on 127.0.0.1 (closed again; the caller binds it soon). It is taken below Linux's
 * ephemeral range (32768 and up by default): a server killed and started again on its port (a cluster
 * node, a redis-server) must not find it taken meanwhile by the local end of some outgoing connection.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!handedOut.has(port) && (await tryListen(port)) !== null) return handOut(port);
  }
  const any = await tryListen(0);
  if (any === null) throw new Error('no free TCP port on 127.0.0.1');
  return handOut(any);
}

/**
 * Ports given out already in this test process: a port is free when probed, but taken only when what it is
 * for starts (a server process, a Redis), so the same one must not go to two of them (the nodes of one cluster).
 */
const handedOut = new Set<number>();
function handOut(port: number): number {
  handedOut.add(port);
  return port;
}

/** A prefix no other test uses. */
export function uniquePrefix(what = 't'): string {
  return `sbtest:${what}:${randomBytes(6).toString('hex')}`;
}

async function answers(url: string): Promise<boolean> {
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

/** A redis-server child process on a port of its own; `persist` keeps an append-only file across restarts. */
export class RedisServer {
  readonly port: number;
  readonly url: string;
  readonly #dir: string;
  readonly #persist: boolean;
  readonly #password: string | null;
  #child: ChildProcess | null = null;

  private constructor(port: number, persist: boolean, password: string | null) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#persist = persist;
    this.#password = password;
    this.#dir = mkdtempSync(join(tmpdir(), 'sb-redis-'));
  }

  /** `password`: Redis wants it (`requirepass`); `url` does not give it. */
  static async start(options: { persist?: boolean; password?: string } = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options.persist ?? false, options.password ?? null);
    await server.start();
    return server;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  /** Start (again, on the same port and data directory); resolves when it answers. */
  async start(): Promise<void> {
    if (this.#child) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.#dir, '--save', ''];
    args.push('--appendonly', this.#persist ? 'yes' : 'no');
    if (this.#persist) args.push('--appendfsync', 'always');
    if (this.#password !== null) args.push('--requirepass', this.#password);
    const { child, failure } = spawnRedisServer(args);
    this.#child = child;
    child.once('exit', () => {
      if (this.#child === child) this.#child = null;
    });
    const deadline = Date.now() + 10_000;
    const asked = this.#password === null ? this.url : `redis://:${this.#password}@127.0.0.1:${this.port}`;
    while (!(await answers(asked))) {
      const failed = failure();
      if (failed) {
        this.#child = null;
        throw failed;
      }
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not start`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop: SHUTDOWN-like with SIGTERM (the append-only file is complete), or SIGKILL. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
    this.#child = null;
  }

  async close(): Promise<void> {
    await this.stop('SIGKILL');
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

let shared: Promise<{ url: string; server: RedisServer | null }> | null = null;

/**
 * The Redis the specs share (each under key prefixes of its own): TEST_REDIS_URL, else a local one on 6379, else
 * one started for this run. Not REDIS_URL: an operator's shell may hold the production one.
 */
export async function sharedRedisUrl(): Promise<string> {
  shared ??= (async () => {
    const given = process.env.TEST_REDIS_URL;
    if (given) return { url: given, server: null };
    if (await answers('redis://127.0.0.1:6379')) return { url: 'redis://127.0.0.1:6379', server: null };
    const server = await RedisServer.start();
    process.once('exit', () => {
      void server.stop('SIGKILL');
    });
    return { url: server.url, server };
  })();
  return (await shared).url;
}

/**
 * Delete every key under `prefix` (streams and hashes of the socket.io adapter too). A Redis that does not
 * answer (a node a test killed) fails at once instead of being waited for.
 */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
  client.on('error', () => {});
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `*${globEscape(prefix)}*`, COUNT: 1000 })) {
      keys.push(...batch);
    }
    for (let i = 0; i < keys.length; i += 500) await client.del(keys.slice(i, i + 500));
  } finally {
    client.destroy();
  }
}

const globEscape = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
