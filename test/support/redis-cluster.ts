// A Redis Cluster of our own for the specs: three redis-server masters in
// cluster mode on free ports, joined with `redis-cli --cluster create`. Every key
// of one store shares a hash tag, so it lives in one slot on one node: `ownerUrl`
// says which.
import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { freePort, spawnRedisServer, stopRedisServer } from './redis-server.js';

const run = promisify(execFile);

/** What `start` asks of a node while it waits for it. */
interface NodeClient {
  ping(): Promise<string>;
  sendCommand<T>(args: string[]): Promise<T>;
}

/** `CLUSTER SLOTS`: [first slot, last slot, [host, port, id, …] (the master), replicas…]. */
type SlotRange = [number, number, [string, number, ...unknown[]], ...unknown[]];

export class RedisCluster {
  readonly ports: number[];
  readonly #children: ChildProcess[];
  readonly #dir: string;

  private constructor(ports: number[], children: ChildProcess[], dir: string) {
    this.ports = ports;
    this.#children = children;
    this.#dir = dir;
  }

  /**
   * `nodes` masters, each with `replicas` replicas (`nodes * (1 + replicas)` servers); `nodeTimeoutMs`: how
   * long a master may not answer before its replica is promoted (Redis's default is 15 s).
   */
  static async start(
    nodes = 3,
    options: { replicas?: number; nodeTimeoutMs?: number } = {},
  ): Promise<RedisCluster> {
    const replicas = options.replicas ?? 0;
    const dir = mkdtempSync(join(tmpdir(), 'sb-redis-cluster-'));
    const ports: number[] = [];
    const children: ChildProcess[] = [];
    const cluster = new RedisCluster(ports, children, dir);
    try {
      for (let i = 0; i < nodes * (1 + replicas); i++) {
        const port = await freePort();
        // The bus port is chosen too: port + 10000 (Redis's default) may fall in the ephemeral range.
        const busPort = await freePort();
        const args = ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1'];
        args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--dir', dir);
        args.push('--save', '', '--appendonly', 'no');
        if (options.nodeTimeoutMs) args.push('--cluster-node-timeout', String(options.nodeTimeoutMs));
        // A replica's first sync starts at once, not after the 5 s a master waits for others by default.
        if (replicas > 0) args.push('--repl-diskless-sync-delay', '0');
        const { child, failure } = spawnRedisServer(args);
        ports.push(port);
        children.push(child);
        await cluster.#waitFor(port, async (c) => (await c.ping()) === 'PONG', failure);
      }
      await run('redis-cli', [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        String(replicas),
        '--cluster-yes',
      ]);
      for (const port of ports) {
        await cluster.#waitFor(port, async (c) =>
          (await c.sendCommand<string>(['CLUSTER', 'INFO'])).includes('cluster_state:ok'),
        );
      }
      // Each replica in sync with its master: only then can it be promoted when the master fails.
      for (const port of ports) {
        await cluster.#waitFor(port, async (c) => {
          const info = await c.sendCommand<string>(['INFO', 'replication']);
          return info.includes('role:master') || info.includes('master_link_status:up');
        });
      }
      return cluster;
    } catch (err) {
      await cluster.close();
      throw err;
    }
  }

  async #waitFor(
    port: number,
    ready: (client: NodeClient) => Promise<boolean>,
    failure: () => Error | null = () => null,
  ): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const failed = failure();
      if (failed) throw failed;
      const client = createClient({
        url: `redis://127.0.0.1:${port}`,
        socket: { reconnectStrategy: false, connectTimeout: 500 },
      });
      client.on('error', () => {});
      try {
        await client.connect();
        if (await ready(client)) return;
      } catch {
        // not yet
      } finally {
        if (client.isOpen) client.destroy();
      }
      if (Date.now() > deadline) throw new Error(`redis cluster node on port ${port} not ready`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The URL of the master that holds the slot of `key` (a hash-tagged key: the slot of its tag). */
  async ownerUrl(key: string): Promise<string> {
    const alive = this.ports.find(
      (_, i) => this.#children[i]!.exitCode === null && this.#children[i]!.signalCode === null,
    );
    const client = createClient({ url: `redis://127.0.0.1:${alive}` });
    client.on('error', () => {});
    await client.connect();
    try {
      const slot = Number(await client.sendCommand(['CLUSTER', 'KEYSLOT', key]));
      const ranges = (await client.sendCommand(['CLUSTER', 'SLOTS'])) as SlotRange[];
      const owner = ranges.find(([first, last]) => slot >= first && slot <= last);
      if (!owner) throw new Error(`no node holds slot ${slot}`);
      return `redis://${owner[2][0]}:${owner[2][1]}`;
    } finally {
      client.destroy();
    }
  }

  /** Kill the node at `url` (SIGKILL), as a machine failing. */
  async kill(url: string): Promise<void> {
    const i = this.ports.indexOf(Number(new URL(url).port));
    if (i < 0) throw new Error(`no node at ${url}`);
    await stopRedisServer(this.#children[i]!);
  }

  /** The URL of each node (masters and replicas), in port order. */
  urls(): string[] {
    return this.ports.map((p) => `redis://127.0.0.1:${p}`);
  }

  /**
   * Move `key`'s slot, with its keys, from the master at `fromUrl` to the one at `toUrl`, as a resharding does
   * (IMPORTING, MIGRATING, MIGRATE, then every master told the new owner).
   */
  async moveSlot(key: string, fromUrl: string, toUrl: string): Promise<void> {
    const open = async (url: string) => {
      const client = createClient({ url });
      client.on('error', () => {});
      await client.connect();
      return client;
    };
    const from = await open(fromUrl);
    const to = await open(toUrl);
    const all = await Promise.all(this.urls().map(open));
    try {
      const slot = String(await from.sendCommand(['CLUSTER', 'KEYSLOT', key]));
      const fromId = String(await from.sendCommand(['CLUSTER', 'MYID']));
      const toId = String(await to.sendCommand(['CLUSTER', 'MYID']));
      const target = new URL(toUrl);
      await to.sendCommand(['CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId]);
      await from.sendCommand(['CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId]);
      for (;;) {
        const keys = (await from.sendCommand(['CLUSTER', 'GETKEYSINSLOT', slot, '100'])) as string[];
        if (keys.length === 0) break;
        await from.sendCommand([
          'MIGRATE',
          target.hostname,
          target.port,
          '',
          '0',
          '5000',
          'REPLACE',
          'KEYS',
          ...keys,
        ]);
      }
      await to.sendCommand(['CLUSTER', 'SETSLOT', slot, 'NODE', toId]);
      await from.sendCommand(['CLUSTER', 'SETSLOT', slot, 'NODE', toId]);
      // Every other master learns it too (a replica refuses: it follows its master).
      for (const client of all)
        await client.sendCommand(['CLUSTER', 'SETSLOT', slot, 'NODE', toId]).catch(() => {});
    } finally {
      for (const client of [from, to, ...all]) client.destroy();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#children.map(stopRedisServer));
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
