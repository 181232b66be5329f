// A stand-in for an old Redis (6.0 by default) on a TCP port, speaking RESP: it answers the handshake node-redis
// sends (HELLO 3, CLIENT SETINFO), PING and `INFO server` (with its `redis_version`) as that Redis would, and every
// other command with "unknown command", recording each command's name, so that a spec can tell what a process sent
// to a Redis it should refuse.
import { createServer, type Server, type Socket } from 'node:net';

export class OldRedis {
  readonly version: string;
  /** The names of the commands received (upper case), in order. */
  readonly commands: string[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  private constructor(version: string) {
    this.version = version;
    this.#server = createServer((socket) => this.#serve(socket));
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.#port}`;
  }

  /** Listen on `port` (0: any free one) as a Redis of `version`. */
  static async start(options: { port?: number; version?: string } = {}): Promise<OldRedis> {
    const old = new OldRedis(options.version ?? '6.0.16');
    await new Promise<void>((resolve, reject) => {
      old.#server.once('error', reject);
      old.#server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const address = old.#server.address();
    old.#port = typeof address === 'object' && address ? address.port : 0;
    return old;
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const parsed = readCommand(buf);
        if (!parsed) break;
        buf = buf.subarray(parsed.used);
        const name = (parsed.args[0] ?? '').toUpperCase();
        this.commands.push(name);
        socket.write(reply(name, parsed.args, this.version));
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const bulk = (s: string) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;

function reply(name: string, args: string[], version: string): string {
  switch (name) {
    case 'HELLO':
      return args[1] === '3'
        ? `%3\r\n${bulk('server')}${bulk('redis')}${bulk('version')}${bulk(version)}${bulk('proto')}:3\r\n`
        : `*6\r\n${bulk('server')}${bulk('redis')}${bulk('version')}${bulk(version)}${bulk('proto')}:2\r\n`;
    case 'PING':
      return '+PONG\r\n';
    case 'INFO':
      return bulk(`# Server\r\nredis_version:${version}\r\nredis_mode:standalone\r\nos:Linux\r\n`);
    case 'CLIENT':
    case 'SELECT':
      return '+OK\r\n';
    default:
      return `-ERR unknown command '${args[0] ?? ''}', with args beginning with: \r\n`;
  }
}

/** One RESP array of bulk strings from the front of `buf` (what clients send), or null until all of it came. */
function readCommand(buf: Buffer): { args: string[]; used: number } | null {
  if (buf.length === 0 || buf[0] !== 0x2a) return null;
  let at = buf.indexOf('\r\n');
  if (at < 0) return null;
  const count = Number(buf.subarray(1, at).toString());
  let pos = at + 2;
  const args: string[] = [];
  for (let i = 0; i < count; i++) {
    at = buf.indexOf('\r\n', pos);
    if (at < 0 || buf[pos] !== 0x24) return null;
    const len = Number(buf.subarray(pos + 1, at).toString());
    const start = at + 2;
    if (buf.length < start + len + 2) return null;
    args.push(buf.subarray(start, start + len).toString());
    pos = start + len + 2;
  }
  return { args, used: pos };
}
