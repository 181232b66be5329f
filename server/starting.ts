// A process on Redis may wait for it at start (redis-mode.ts). It listens at once
// all the same, so that what watches it can tell a process that waits from one
// that is dead: `/healthz` answers 200 (alive), `/readyz` 503 (not ready yet), and
// every other request 503 with the store's usual JSON error and `Retry-After`, as
// while Redis is lost later (store-gate.ts); a websocket upgrade is closed, and the
// client tries again. Once Redis answers, the express app takes this same server
// over (createSwitchboard's `server`), so no connection is refused in between.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { StoreUnavailableError } from '../shared/errors.js';

const WAITING = 'waiting for Redis';

/** Per server, why it waits when there is more to say than "waiting for Redis" (a Redis too old). */
const reasons = new WeakMap<Server, string>();

/** Say why `server` waits (`/readyz`); null: for Redis (the default). */
export function waitingBecause(server: Server, reason: string | null): void {
  if (reason === null) reasons.delete(server);
  else reasons.set(server, reason);
}

function answer(req: IncomingMessage, res: ServerResponse, waiting: string): void {
  const path = (req.url ?? '/').split('?')[0];
  const read = req.method === 'GET' || req.method === 'HEAD';
  let status = 503;
  let body: unknown;
  if (read && path === '/healthz') {
    status = 200;
    body = { status: 'ok' };
  } else if (read && path === '/readyz') {
    body = { status: 'unavailable', error: waiting };
  } else {
    res.setHeader('Retry-After', '1');
    body = { error: new StoreUnavailableError(WAITING).toJSON() };
  }
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
}

/** A server answering as above, listening on `port` and `host`; rejects as `listen` does (EADDRINUSE …). */
export function listenWhileStarting(port: number, host?: string): Promise<Server> {
  const server: Server = createServer((req, res) => answer(req, res, reasons.get(server) ?? WAITING));
  server.on('upgrade', (_req, socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Hand `server` to `handler` (the express app): this file's answers and upgrade closing stop. */
export function handOver(server: Server, handler: (req: IncomingMessage, res: ServerResponse) => void): void {
  server.removeAllListeners('request');
  server.removeAllListeners('upgrade');
  server.on('request', handler);
}
