// A Redis older than 6.2 is refused, at start and when Redis is replaced by one under a running process: the log
// names REDIS_URL with the version found and the one needed, /readyz answers 503 saying so, and nothing is served
// against it (no script is sent to it). The old Redis is a stand-in speaking RESP (test/support/old-redis.ts).
import { expect } from 'chai';
import { RedisTooOldError } from '../../routing/store/redis-connection.js';
import { Cluster, Node, until } from '../support/cluster.js';
import { OldRedis } from '../support/old-redis.js';
import { freePort, RedisServer, uniquePrefix } from '../support/redis-server.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

const REASON = 'Redis 6.0.16 is too old: Switchboard needs Redis 6.2 or later';
/** What a store may send to learn what it is on; anything else (a script, a read, a write) is serving. */
const ASKING = new Set(['HELLO', 'CLIENT', 'INFO', 'PING', 'SELECT']);

describe('a Redis older than 6.2', function () {
  this.timeout(60_000);
  let old: OldRedis | null = null;
  let node: Node | null = null;
  let redis: RedisServer | null = null;
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await node?.stop('SIGKILL');
    await cluster?.close();
    await old?.close();
    await redis?.close();
    node = cluster = old = redis = null;
  });

  it('at start: refused, said in the log with REDIS_URL and both versions, /readyz 503 with why, nothing served', async () => {
    old = await OldRedis.start();
    node = new Node(0, await freePort(), { REDIS_URL: old.url, REDIS_PREFIX: uniquePrefix('old') });
    node.launch();
    const said = await node.waitFor((r) => r.msg === 'redis: too old; waiting for a newer one', 20_000);
    expect(said.level).to.equal(50);
    expect(said.err).to.equal(
      `the store is unavailable: the Redis at 127.0.0.1:${old.port} (REDIS_URL) is version 6.0.16; Switchboard needs 6.2 or later (7.0 or later to run its scripts as functions): upgrade it, or point REDIS_URL at another`,
    );
    expect([said.found, said.needed]).to.deep.equal(['6.0.16', '6.2']);

    const ready = await node.get('/readyz');
    expect([ready.status, ready.body]).to.deep.equal([503, { status: 'unavailable', error: REASON }]);
    const agents = await node.get('/api/agents');
    expect(agents.status).to.equal(503);
    expect((agents.body as Json).error.code).to.equal('store_unavailable');
    // Asked what it is, never given work.
    expect(old.commands).to.include('INFO');
    expect(old.commands.filter((c) => !ASKING.has(c))).to.deep.equal([]);
  });

  it('replaced under a running process: refused at its next connect, then used again once a newer one is back', async () => {
    redis = await RedisServer.start();
    const c = await Cluster.start({ nodes: 1, redisUrl: redis.url, prefix: uniquePrefix('replaced') });
    cluster = c;
    const a = c.nodes[0]!;
    expect((await a.get('/readyz')).status).to.equal(200);
    // A store of the deployment's in this process too, to run its operations while the old Redis answers.
    const store = await c.store();
    expect(await store.getAgent('ag_nobody')).to.equal(null);

    // The Redis on that port is stopped, and an old one answers there instead.
    await redis.stop('SIGKILL');
    old = await OldRedis.start({ port: redis.port });
    await until(
      async () => (await a.get('/readyz')).status === 503 && old!.commands.includes('INFO'),
      'refused',
    );
    await until(
      async () =>
        JSON.stringify((await a.get('/readyz')).body) ===
        JSON.stringify({ status: 'unavailable', error: REASON }),
      '/readyz to say why',
    );
    const said = await a.waitFor(
      (r) => r.msg === 'redis: too old; serving nothing until a newer one answers',
    );
    expect(said.err).to.match(
      new RegExp(
        `Redis at 127\\.0\\.0\\.1:${redis.port} \\(REDIS_URL\\) is version 6\\.0\\.16; Switchboard needs 6\\.2 or later`,
      ),
    );
    expect((await a.api<Json>('GET', '/agents')).status).to.equal(503);
    // The store's operations fail as while Redis is away (StoreUnavailableError), saying why, not "unknown command".
    let failure: unknown = null;
    await until(async () => {
      failure = await store.getAgent('ag_nobody').then(
        () => null,
        (err: unknown) => err,
      );
      return failure instanceof RedisTooOldError;
    }, "the store's refusal");
    expect((failure as RedisTooOldError).code).to.equal('store_unavailable');
    expect((failure as RedisTooOldError).found).to.equal('6.0.16');
    // No script, and nothing of the store's, went to it (the event bus and the socket.io adapter read their streams).
    const scripts = /^(EVAL|EVALSHA|FCALL|FUNCTION|SCRIPT|GET|SET|DEL|ZADD|HSET)$/;
    expect(old.commands.filter((name) => scripts.test(name))).to.deep.equal([]);

    // A newer Redis is back on the port: the process serves again, without a restart.
    await old.close();
    old = null;
    await redis.start();
    await until(async () => (await a.get('/readyz')).status === 200, '/readyz 200 again', 15_000);
    await a.waitFor((r) => r.msg === 'redis: new enough again; serving');
    expect((await a.api<Json>('GET', '/agents')).status).to.equal(200);
    await until(
      async () => (await store.getAgent('ag_nobody').catch(() => undefined)) === null,
      'the store again',
    );
  });
});
