// A whole Switchboard on an ephemeral port for the server and channel specs:
// fixed tokens, a silent logger, the memory store and a manual clock. Sockets
// record every event they receive, so `once` never misses one that arrived
// before the test started waiting for it.
import { pino } from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import request from 'supertest';
import type { NewAgent } from '../../routing/router.js';
import { MemoryStore } from '../../routing/store/memory.js';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { type Config, loadConfig } from '../../server/config.js';
import { ManualClock } from '../../shared/clock.js';
import type { Agent } from '../../shared/model.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const TOKEN_SECRET = 'test-token-secret-0123456789-abcdefghijklmnop';
export const SECOND = 1000;

/** A payload received over a socket: plain JSON, checked by the assertions that read it. */
// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
export type Json = any;
/** How long a test waits for a socket event before failing. */
export const EVENT_TIMEOUT_MS = 3000;

export interface HarnessOptions {
  /** Extra environment for loadConfig (ROUTING_POLICY, …). */
  env?: Record<string, string>;
  chatRateLimit?: { burst: number; perSecond: number };
  /** The store (default: a new MemoryStore). */
  store?: MemoryStore;
}

export interface Harness {
  sb: Switchboard;
  config: Config;
  store: MemoryStore;
  clock: ManualClock;
  url: string;
  /** Requests to /api with the admin bearer token set. */
  admin: {
    get(path: string): request.Test;
    post(path: string): request.Test;
    patch(path: string): request.Test;
    put(path: string): request.Test;
    delete(path: string): request.Test;
  };
  /** Plain requests (no token). */
  http(): ReturnType<typeof request>;
  /** A /chat socket, connecting; pass a visitor token to resume. */
  /** A chat visitor's socket; `auth`: more of the handshake, such as the page's `topic`. */
  visitor(token?: unknown, auth?: Record<string, unknown>): Socket;
  /** An /agent socket, connecting. */
  agentSocket(token: unknown): Socket;
  /** Create an agent through the admin API (available unless told otherwise). */
  createAgent(name: string, input?: Partial<NewAgent>): Promise<{ agent: Agent; token: string }>;
  close(): Promise<void>;
}

interface Recorded {
  event: string;
  args: unknown[];
}
const recorded = new WeakMap<Socket, { events: Recorded[]; waiters: Array<() => void> }>();

function record(socket: Socket): Socket {
  const state = { events: [] as Recorded[], waiters: [] as Array<() => void> };
  recorded.set(socket, state);
  const push = (event: string, args: unknown[]) => {
    state.events.push({ event, args });
    for (const w of state.waiters.splice(0)) w();
  };
  socket.onAny((event: string, ...args: unknown[]) => push(event, args));
  socket.on('connect', () => push('connect', []));
  socket.on('connect_error', (err: Error) => push('connect_error', [err]));
  socket.on('disconnect', (reason: string) => push('disconnect', [reason]));
  return socket;
}

/**
 * The next not-yet-consumed `event` on `socket` (its first argument), optionally
 * the next one matching `match`. Events received before the call count.
 */
export function once<T = Json>(
  socket: Socket,
  event: string,
  match: (payload: T) => boolean = () => true,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<T> {
  const state = recorded.get(socket);
  if (!state) throw new Error('once: socket was not made by the harness');
  return new Promise<T>((resolve, reject) => {
    const look = (): boolean => {
      const i = state.events.findIndex((r) => r.event === event && match(r.args[0] as T));
      if (i < 0) return false;
      const [hit] = state.events.splice(i, 1);
      resolve(hit!.args[0] as T);
      return true;
    };
    if (look()) return;
    const timer = setTimeout(() => {
      state.waiters.splice(state.waiters.indexOf(waiter), 1);
      reject(
        new Error(
          `no '${event}' within ${timeoutMs} ms (received: ${received(socket).join(', ') || 'nothing'})`,
        ),
      );
    }, timeoutMs);
    const waiter = () => {
      if (look()) clearTimeout(timer);
      else state.waiters.push(waiter);
    };
    state.waiters.push(waiter);
  });
}

/** Names of the events recorded and not yet consumed. */
export function received(socket: Socket, event?: string): string[] {
  const events = recorded.get(socket)?.events ?? [];
  return events.filter((r) => event === undefined || r.event === event).map((r) => r.event);
}

/** Recorded, not yet consumed payloads of one event. */
export function pending<T = Json>(socket: Socket, event: string): T[] {
  return (recorded.get(socket)?.events ?? []).filter((r) => r.event === event).map((r) => r.args[0] as T);
}

/** Emit with an ack callback and resolve with the ack. */
export function emitAck<T = Json>(
  socket: Socket,
  event: string,
  payload?: unknown,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<T> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<T>;
}

/** A round trip through the server: every event emitted before it has reached `socket`. */
export async function flush(
  socket: Socket,
  event = 'typing',
  payload: unknown = { typing: false },
): Promise<void> {
  await emitAck(socket, event, payload);
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_TOKEN,
    TOKEN_SECRET,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const store = options.store ?? new MemoryStore();
  const clock = new ManualClock();
  const sb = createSwitchboard({
    config,
    logger: pino({ level: 'silent' }),
    store,
    clock,
    ...(options.chatRateLimit ? { chatRateLimit: options.chatRateLimit } : {}),
    // The web console's catch-up runs when a test calls it; a closed console's look, when a test ticks.
    web: { catchUpMs: 3_600_000, queueMs: 5 },
  });
  const port = await sb.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const sockets: Socket[] = [];
  const open = (nsp: string, auth: Record<string, unknown>) => {
    const socket = record(
      connect(`${url}${nsp}`, { forceNew: true, transports: ['websocket'], reconnection: false, auth }),
    );
    sockets.push(socket);
    return socket;
  };
  const withToken = (m: 'get' | 'post' | 'patch' | 'put' | 'delete') => (path: string) =>
    request(url)[m](path).set('Authorization', `Bearer ${ADMIN_TOKEN}`);
  const admin = {
    get: withToken('get'),
    post: withToken('post'),
    patch: withToken('patch'),
    put: withToken('put'),
    delete: withToken('delete'),
  };
  return {
    sb,
    config,
    store,
    clock,
    url,
    admin,
    http: () => request(url),
    visitor: (token?: unknown, auth: Record<string, unknown> = {}) =>
      open('/chat', token === undefined ? auth : { ...auth, visitorToken: token }),
    agentSocket: (token: unknown) => open('/agent', { token }),
    async createAgent(name, input = {}) {
      const { status = 'available', ...rest } = input;
      const res = await admin
        .post('/api/agents')
        .send({ name, ...rest })
        .expect(201);
      let agent = res.body.agent as Agent;
      if (status !== 'offline') {
        agent = (await admin.put(`/api/agents/${agent.id}/status`).send({ status }).expect(200)).body.agent;
      }
      return { agent, token: res.body.token as string };
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await sb.close();
    },
  };
}

/**
 * A fresh harness for every test of the enclosing `describe`, closed (sockets
 * and server) after each: `const h = useHarness(); … h().visitor()`.
 */
export function useHarness(options: HarnessOptions = {}): () => Harness {
  let current: Harness | null = null;
  beforeEach(async () => {
    current = await startHarness(options);
  });
  afterEach(async () => {
    const h = current;
    current = null;
    await h?.close();
  });
  return () => {
    if (!current) throw new Error('useHarness: no harness outside a test');
    return current;
  };
}
