// Redis Cluster (REDIS_CLUSTER=on). One deployment's keys share one hash tag
// (`{sb:<prefix>}`), so they live in one slot on one master; the event stream's
// and the socket.io adapter's keys take the same tag in this mode. Each process
// therefore connects every client to that master, found at start from REDIS_URL
// (any node of the cluster, or several, asked in turn), and watches the cluster: when the slot has moved
// (a failover promoted another node, or a resharding moved it), the process
// stops, saying where it went, so that its supervisor starts it again and it
// connects there. Meanwhile the old node's MOVED answers count as Redis being
// away (503s that Twilio and Slack retry).
import { createClient, ErrorReply } from 'redis';
import { z } from 'zod';
import { withTimeout } from '../shared/clock.js';
import { StoreUnavailableError } from '../shared/errors.js';
import { ConfigError } from './config.js';

/** A node in `CLUSTER SLOTS`: [host, port, id?, …]. */
const SlotNode = z.tuple([z.string(), z.number()]).rest(z.unknown());
/** `CLUSTER SLOTS`: [first, last, the master, replicas…] per range. */
const SlotRanges = z.array(z.tuple([z.number(), z.number(), SlotNode]).rest(SlotNode));

export interface SlotOwner {
  slot: number;
  /** The master's URL, with the scheme, user and password of the URL it was found from. */
  url: string;
  /** Every node the cluster listed (masters and replicas), as URLs like `url`: where to ask next time. */
  nodes: string[];
}

/**
 * The master holding `key`'s slot, asked of the node at `fromUrl`. StoreUnavailableError when that node
 * does not answer within `timeoutMs` or knows no master for the slot (yet); ConfigError when it is not
 * in cluster mode.
 */
export async function slotOwner(fromUrl: string, key: string, timeoutMs = 2000): Promise<SlotOwner> {
  const client = createClient({
    url: fromUrl,
    disableOfflineQueue: true,
    maintNotifications: 'disabled',
    socket: { connectTimeout: timeoutMs, reconnectStrategy: false },
  });
  client.on('error', () => {});
  const ask = async (): Promise<SlotOwner> => {
    await client.connect();
    const slot = Number(await client.sendCommand(['CLUSTER', 'KEYSLOT', key]));
    const ranges = SlotRanges.safeParse(await client.sendCommand(['CLUSTER', 'SLOTS']));
    if (!ranges.success)
      throw new StoreUnavailableError('redis cluster: CLUSTER SLOTS answered in a form not known');
    const range = ranges.data.find(([first, last]) => slot >= first && slot <= last);
    if (!range) throw new StoreUnavailableError(`redis cluster: no master holds slot ${slot}`);
    const [host, port] = range[2];
    const nodes = new Set<string>();
    for (const [, , ...held] of ranges.data) for (const [h, p] of held) nodes.add(nodeUrl(fromUrl, h, p));
    return { slot, url: nodeUrl(fromUrl, host, port), nodes: [...nodes] };
  };
  try {
    return await withTimeout(
      ask(),
      timeoutMs,
      () =>
        new StoreUnavailableError(`redis cluster: no answer from ${safeUrl(fromUrl)} within ${timeoutMs} ms`),
    );
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err;
    if (err instanceof ErrorReply && /cluster support disabled/i.test(err.message)) {
      throw new ConfigError([
        `REDIS_CLUSTER: is on, but the Redis at ${safeUrl(fromUrl)} is not a cluster node (set REDIS_CLUSTER=off for a single Redis)`,
      ]);
    }
    const message = err instanceof Error ? err.message : String(err);
    throw new StoreUnavailableError(`redis cluster: asking ${safeUrl(fromUrl)}: ${message}`);
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/**
 * The master holding `key`'s slot, asked of each node of `urls` in turn until one answers (the last one's
 * error when none does).
 */
export async function slotOwnerFrom(urls: string[], key: string, timeoutMs = 2000): Promise<SlotOwner> {
  let last: unknown = new StoreUnavailableError('redis cluster: no node to ask');
  for (const url of urls) {
    try {
      return await slotOwner(url, key, timeoutMs);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      last = err;
    }
  }
  throw last;
}

/** `host:port` as a URL like `base` (scheme, user, password, database kept). An empty host is base's. */
export function nodeUrl(base: string, host: string, port: number): string {
  const url = new URL(base);
  // Redis answers '' (or '?') when a node does not know its own address: the one we reached it at.
  if (host !== '' && host !== '?') url.hostname = host.includes(':') ? `[${host}]` : host;
  url.port = String(port);
  return url.toString().replace(/\/$/, '');
}

/** A URL without its password, for logs and errors. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return 'the Redis URL';
  }
}

export interface SlotWatchOptions {
  /** Where to ask first (REDIS_URL's nodes), then the master in use, then every other node the cluster listed. */
  seeds: string[];
  /** A key in the deployment's tag. */
  key: string;
  /** The master in use. */
  owner: SlotOwner;
  /** The slot is held elsewhere now (seen twice in a row): the new master's URL. */
  onMoved(to: string): void;
  /** How often to look. Default 2000 ms. */
  intervalMs?: number;
}

/** Looks every `intervalMs` which master holds the deployment's slot; calls `onMoved` once when it moved. */
export class SlotWatch {
  readonly #options: SlotWatchOptions;
  readonly #timer: NodeJS.Timeout;
  /** Every node the cluster listed last: asked in turn when the seed and the master do not answer. */
  #known: string[];
  #looking = false;
  #seen: string | null = null;
  #done = false;

  constructor(options: SlotWatchOptions) {
    this.#options = options;
    this.#known = options.owner.nodes;
    this.#timer = setInterval(() => void this.check(), options.intervalMs ?? 2000);
    this.#timer.unref();
  }

  /** One look (the timer's; tests call it too). Resolves with the master holding the slot, or null. */
  async check(): Promise<string | null> {
    if (this.#looking || this.#done) return null;
    this.#looking = true;
    try {
      const { seeds, key, owner } = this.#options;
      // A node that does not answer (the master that failed, say) is passed over; none answering is Redis
      // being away, which the clients say.
      const now = await slotOwnerFrom([...new Set([...seeds, owner.url, ...this.#known])], key).catch(
        () => null,
      );
      if (!now) return null;
      this.#known = now.nodes;
      if (sameNode(now.url, owner.url)) {
        this.#seen = null;
      } else if (this.#seen !== null && sameNode(this.#seen, now.url)) {
        this.close();
        this.#options.onMoved(now.url);
      } else {
        this.#seen = now.url;
      }
      return now.url;
    } finally {
      this.#looking = false;
    }
  }

  close(): void {
    this.#done = true;
    clearInterval(this.#timer);
  }
}

function sameNode(a: string, b: string): boolean {
  const x = new URL(a);
  const y = new URL(b);
  return x.hostname === y.hostname && x.port === y.port;
}
