// Several Switchboard server processes on one Redis, each a child process
// running server/main.ts with REDIS_URL and the test's key prefix, on ports fixed
// at start so a killed process restarts where its clients reconnect. Helpers for
// the admin API, agent consoles and chat visitors over socket.io-client.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { io as connect, type Socket } from 'socket.io-client';
import { createRedisStore, type RedisStore } from '../../routing/store/redis.js';
import { SERVER_NODE_FLAGS } from '../../server/runtime.js';
import type { Agent } from '../../shared/model.js';
import { deletePrefix, freePort } from './redis-server.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ADMIN_TOKEN = 'cluster-admin-token-0123456789';
export const TOKEN_SECRET = 'cluster-token-secret-0123456789-abcdefghijkl';

type LogRecord = Record<string, unknown>;

/**
 * server/main.ts as a child process that should stop at start (a bad environment): its exit code and what it
 * wrote to stderr. `env` is all it is given besides PATH and the cluster's secrets.
 */
export async function runUntilExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, '--import', 'tsx', 'server/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ADMIN_TOKEN, TOKEN_SECRET, LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stderr };
}

/** One server process. */
export class Node {
  readonly index: number;
  readonly port: number;
  readonly url: string;
  readonly #env: Record<string, string>;
  #child: ChildProcess | null = null;
  #records: LogRecord[] = [];
  #listeners: Array<() => void> = [];
  #stderr = '';
  #exit: Promise<void> = Promise.resolve();

  constructor(index: number, port: number, env: Record<string, string>) {
    this.index = index;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.#env = env;
  }

  get alive(): boolean {
    return this.#child !== null;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Log records (pino JSON lines) since the last start. */
  get records(): readonly LogRecord[] {
    return this.#records;
  }

  /** Start the process; resolves once the app listens. */
  async start(): Promise<void> {
    this.launch();
    await this.waitFor((r) => String(r.msg).startsWith('Switchboard listening on'), 30_000);
  }

  /** Start the process, not waiting for anything. */
  launch(): void {
    if (this.#child) throw new Error(`node ${this.index} is running`);
    this.#records = [];
    this.#stderr = '';
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, '--import', 'tsx', 'server/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PORT: String(this.port),
        HOST: '127.0.0.1',
        ADMIN_TOKEN,
        TOKEN_SECRET,
        LOG_LEVEL: 'info',
        ...this.#env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    this.#exit = new Promise((resolve) =>
      child.once('exit', () => {
        if (this.#child === child) this.#child = null;
        for (const l of this.#listeners.slice()) l();
        resolve();
      }),
    );
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        try {
          this.#records.push(JSON.parse(line) as LogRecord);
        } catch {
          // not a log record
        }
      }
      for (const l of this.#listeners.slice()) l();
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
  }

  /** The first log record matching, waiting for it. */
  waitFor(match: (r: LogRecord) => boolean, timeoutMs = 10_000): Promise<LogRecord> {
    const child = this.#child;
    return new Promise((resolve, reject) => {
      const done = () => {
        this.#listeners.splice(this.#listeners.indexOf(check), 1);
        clearTimeout(timer);
      };
      const check = () => {
        const hit = this.#records.find(match);
        if (hit) {
          done();
          resolve(hit);
        } else if (this.#child !== child || !child) {
          done();
          reject(new Error(`node ${this.index} exited; stderr:\n${this.#stderr}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`node ${this.index}: no matching log line within ${timeoutMs} ms\n${this.#stderr}`));
      }, timeoutMs);
      this.#listeners.push(check);
      check();
    });
  }

  /** Stop it: SIGTERM (a clean stop) or SIGKILL (a crash). */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill(signal);
    await this.#exit;
  }

  /** An admin API request. */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.url}/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  async get(path: string): Promise<{ status: number; body: unknown; ms: number }> {
    const t0 = performance.now();
    const res = await fetch(`${this.url}${path}`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // text
    }
    return { status: res.status, body, ms: performance.now() - t0 };
  }
}

export interface ClusterOptions {
  nodes: number;
  redisUrl: string;
  prefix: string;
  env?: Record<string, string>;
}

export class Cluster {
  readonly nodes: Node[];
  readonly redisUrl: string;
  readonly prefix: string;
  readonly #sockets = new Set<Socket>();
  #store: RedisStore | null = null;

  private constructor(nodes: Node[], options: ClusterOptions) {
    this.nodes = nodes;
    this.redisUrl = options.redisUrl;
    this.prefix = options.prefix;
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const nodes: Node[] = [];
    for (let i = 0; i < options.nodes; i++) {
      nodes.push(
        new Node(i, await freePort(), {
          REDIS_URL: options.redisUrl,
          REDIS_PREFIX: options.prefix,
          ...options.env,
        }),
      );
    }
    const cluster = new Cluster(nodes, options);
    try {
      await Promise.all(nodes.map((n) => n.start()));
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  /** The same Redis records the processes use, read from the test process. */
  async store(): Promise<RedisStore> {
    this.#store ??= await createRedisStore({ url: this.redisUrl, prefix: this.prefix });
    return this.#store;
  }

  /** Create an agent through node `on`'s admin API and make them available. */
  async createAgent(
    on: number,
    name: string,
    capacity: Partial<Agent['capacity']>,
  ): Promise<{ agent: Agent; token: string }> {
    const node = this.nodes[on]!;
    const created = await node.api<{ agent: Agent; token: string }>('POST', '/agents', { name, capacity });
    if (created.status !== 201) throw new Error(`creating ${name}: ${JSON.stringify(created.body)}`);
    const { agent } = created.body;
    const set = await node.api<{ agent: Agent }>('PUT', `/agents/${agent.id}/status`, {
      status: 'available',
    });
    if (set.status !== 200) throw new Error(`making ${name} available: ${JSON.stringify(set.body)}`);
    return { agent: set.body.agent, token: created.body.token };
  }

  /**
   * An agent created (available) through node `on`'s admin API with `capacity`, and their web console
   * connected to that node (its `hello` received).
   */
  async agentConsole(
    on: number,
    name: string,
    capacity: Partial<Agent['capacity']>,
  ): Promise<{ agent: Agent; token: string; console: Socket }> {
    const created = await this.nodes[on]!.api<{ agent: Agent; token: string }>('POST', '/agents', {
      name,
      capacity,
      status: 'available',
    });
    if (created.status !== 201) throw new Error(`creating ${name}: ${JSON.stringify(created.body)}`);
    const console = this.socket(on, '/agent', { token: created.body.token });
    await next(console, 'hello');
    return { ...created.body, console };
  }

  /** A socket.io client on node `on`'s namespace, closed with the cluster. */
  socket(on: number, nsp: '/chat' | '/agent', auth: Record<string, unknown>, reconnect = false): Socket {
    const socket = connect(`${this.nodes[on]!.url}${nsp}`, {
      forceNew: true,
      transports: ['websocket'],
      reconnection: reconnect,
      reconnectionDelay: 200,
      reconnectionDelayMax: 500,
      auth,
    });
    this.#sockets.add(socket);
    return socket;
  }

  forget(socket: Socket): void {
    socket.disconnect();
    this.#sockets.delete(socket);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.disconnect();
    this.#sockets.clear();
    await Promise.all(this.nodes.map((n) => n.stop('SIGKILL')));
    if (this.#store) {
      await this.#store.flushPrefix().catch(() => 0);
      await this.#store.close();
    }
    await deletePrefix(this.redisUrl, this.prefix).catch(() => {});
  }
}

/** Emit `event` with an acknowledgement, and its answer (a socket that does not answer within `ms` fails). */
// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
export const ack = (socket: Socket, event: string, payload: unknown, ms = 10_000): Promise<any> =>
  socket.timeout(ms).emitWithAck(event, payload);

/** The next `event` on `socket` matching `match` (events that arrived earlier are missed: listen first). */
export function next<T>(
  socket: Socket,
  event: string,
  match: (p: T) => boolean = () => true,
  ms = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`no '${event}' within ${ms} ms`));
    }, ms);
    const on = (payload: T) => {
      if (!match(payload)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(payload);
    };
    socket.on(event, on);
  });
}

/** Resolves when `check` holds (polled every `every` ms), else fails after `ms`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
  every = 25,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Run `tasks` with at most `limit` at a time. */
export async function pool<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let nextIndex = 0;
  const worker = async () => {
    while (nextIndex < count) {
      const i = nextIndex++;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}
