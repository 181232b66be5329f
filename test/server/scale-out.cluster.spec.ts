// Server processes on a Redis Cluster (REDIS_CLUSTER=on): three masters of our
// own (test/support/redis-cluster.ts); the processes are given a node that does
// not hold the deployment's slot, and find the one that does. Child processes
// running server/main.ts, as in the other scale-out specs.
import { expect } from 'chai';
import { createClient } from 'redis';
import type { Socket } from 'socket.io-client';
import { createRedisStore } from '../../routing/store/redis.js';
import { Cluster, type Node, next, runUntilExit, until } from '../support/cluster.js';
import { RedisCluster } from '../support/redis-cluster.js';
import { sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

/** Every key on the node at `url` with `prefix` in its name. */
async function keysOn(url: string, prefix: string): Promise<string[]> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: `*${prefix}*`, COUNT: 1000 })) keys.push(...batch);
    return keys.sort();
  } finally {
    client.destroy();
  }
}

describe('scale-out on a Redis Cluster (REDIS_CLUSTER=on)', function () {
  this.timeout(120_000);
  let redis: RedisCluster;
  let cluster: Cluster | null = null;
  before(async () => {
    redis = await RedisCluster.start(3);
  });
  after(async () => {
    await redis?.close();
  });
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  /**
   * Two processes on the cluster `on`, given as REDIS_URL what `given` makes of the master holding the
   * deployment's slot (default: another node); an agent with a console on B.
   */
  async function start(on = redis, given = (owner: string) => on.urls().find((u) => u !== owner)!) {
    const prefix = uniquePrefix('rcluster');
    const tag = `{sb:${prefix}}:`;
    const owner = await on.ownerUrl(tag);
    const seed = given(owner);
    const c = await Cluster.start({ nodes: 2, redisUrl: seed, prefix, env: { REDIS_CLUSTER: 'on' } });
    cluster = c;
    const [a, b] = c.nodes as [Node, Node];
    const { console: agent, token } = await c.agentConsole(1, 'Rue', { chat: 2 });
    return { c, a, b, prefix, tag, owner, seed, agent, token };
  }

  /** Both processes stop, saying the slot went to `to`; started again as they were, they connect there. */
  async function stopAndComeBack(
    c: Cluster,
    to: string | (() => Promise<string>),
    ms: number,
  ): Promise<void> {
    await until(() => c.nodes.every((n) => !n.alive), 'both processes to stop', ms);
    const where = typeof to === 'string' ? to : await to();
    for (const node of c.nodes) {
      const said = node.records.find((r) => String(r.msg).includes('slot moved to another master'));
      expect(said, `node ${node.index} said why it stopped`).to.not.equal(undefined);
      expect(said!.to).to.equal(where);
    }
    await Promise.all(c.nodes.map((n) => n.start()));
    for (const node of c.nodes) {
      const said = await node.waitFor((r) => String(r.msg).startsWith('redis cluster: the deployment'));
      expect(said.node).to.equal(where);
    }
  }

  /**
   * After the processes came back: the conversation `id` from before is there with its two messages, and
   * the agent (their console connected again) is reached across the processes as before.
   */
  async function stillThere(c: Cluster, id: string, token: string, before: string, after: string) {
    const seen = await c.nodes[0]!.api<Json>('GET', `/conversations/${id}`);
    expect(seen.status).to.equal(200);
    expect(seen.body.conversation.status).to.equal('assigned');
    expect(seen.body.messages.map((m: Json) => m.text)).to.deep.equal([before, `re: ${before}`]);
    const again = c.socket(1, '/agent', { token });
    await next(again, 'hello');
    await conversationAcross(c, 0, again, after);
  }

  /** A visitor on node `on` writes; the agent's console sees it assigned and answers; the visitor gets it. */
  async function conversationAcross(c: Cluster, on: number, agent: Socket, text: string): Promise<string> {
    const visitor = c.socket(on, '/chat', {});
    await next(visitor, 'session');
    const assigned = next<Json>(agent, 'assigned', (v) => v.messages.some((m: Json) => m.text === text));
    const sent = await visitor.timeout(10_000).emitWithAck('message', { text, clientMessageId: `${text}-1` });
    expect(sent.ok, JSON.stringify(sent)).to.equal(true);
    const view = await assigned;
    expect(view.conversation.id).to.equal(sent.conversationId);
    const answered = next<Json>(visitor, 'message', (m) => m.direction === 'out');
    const reply = await agent.timeout(10_000).emitWithAck('reply', {
      conversationId: view.conversation.id,
      text: `re: ${text}`,
      clientMessageId: `re-${text}`,
    });
    expect(reply.ok, JSON.stringify(reply)).to.equal(true);
    expect((await answered).text).to.equal(`re: ${text}`);
    return view.conversation.id;
  }

  it('processes given any node find the master holding the deployment’s slot and work across each other there; every key is in that slot', async () => {
    const { c, a, b, prefix, tag, owner, seed, agent } = await start();
    for (const node of [a, b]) {
      const said = await node.waitFor((r) => String(r.msg).startsWith('redis cluster: the deployment'));
      expect(said.node).to.equal(owner);
    }
    const id = await conversationAcross(c, 0, agent, 'hello from A');

    // Every key, the event stream's and the socket.io adapter's too, is on the slot's master and in its tag.
    expect(await keysOn(seed, prefix)).to.deep.equal([]);
    const keys = await keysOn(owner, prefix);
    expect(keys).to.include(`${tag}events`);
    expect(keys).to.include(`${tag}socket.io`);
    expect(keys.filter((k) => !k.startsWith(tag))).to.deep.equal([]);
    const store = await createRedisStore({ url: owner, prefix });
    try {
      expect((await store.getConversation(id))?.status).to.equal('assigned');
    } finally {
      await store.close();
    }
  });

  it('when the slot moves to another master, the processes stop saying where it went; started again, they work there with nothing lost', async () => {
    const { c, tag, owner, agent, token } = await start();
    const before = await conversationAcross(c, 0, agent, 'before the move');
    const to = redis.urls().find((u) => u !== owner)!;
    await redis.moveSlot(tag, owner, to);
    await stopAndComeBack(c, to, 20_000);
    await stillThere(c, before, token, 'before the move', 'after the move');
  });

  it('when the slot’s master fails and its replica is promoted, the processes stop saying where the slot went; started again, they work there', async () => {
    const failing = await RedisCluster.start(3, { replicas: 1, nodeTimeoutMs: 1000 });
    try {
      // Given the master itself first, and one other node: once the master is gone, the processes must ask
      // the others, and so must they when started again with the same environment.
      const { c, tag, owner, agent, token } = await start(
        failing,
        (master) => `${master},${failing.urls().find((u) => u !== master)}`,
      );
      const before = await conversationAcross(c, 0, agent, 'before the failover');
      // Replication is asynchronous: give the replica a moment to have it all, then the master fails.
      await new Promise((r) => setTimeout(r, 500));
      await failing.kill(owner);
      await stopAndComeBack(c, () => failing.ownerUrl(tag), 30_000);
      expect(await failing.ownerUrl(tag)).to.not.equal(owner);
      await stillThere(c, before, token, 'before the failover', 'after the failover');
    } finally {
      await cluster?.close();
      cluster = null;
      await failing.close();
    }
  });

  it('REDIS_CLUSTER=on with a Redis that is not a cluster node stops at start, naming REDIS_CLUSTER', async () => {
    const { code, stderr } = await runUntilExit({ REDIS_URL: await sharedRedisUrl(), REDIS_CLUSTER: 'on' });
    expect(code).to.equal(1);
    expect(stderr).to.contain('Switchboard cannot start; fix these environment variables:');
    expect(stderr).to.match(
      /REDIS_CLUSTER: is on, but the Redis at redis:\/\/127\.0\.0\.1:\d+ is not a cluster node/,
    );
    expect(stderr).not.to.contain('    at ');
  });
});
