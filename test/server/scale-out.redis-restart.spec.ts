// Redis stops and starts again (a redis-server of our own, with its append-only
// file on) under two running server processes: while it is down they say so at
// once (/readyz 503, requests 503 with a JSON error, webhooks 503 so their senders
// retry, chat messages refused and not stored); when it is back they recover by
// themselves, without a restart, and chat works again across the two.
import { createServer } from 'node:net';
import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { STORE_UNAVAILABLE } from '../../shared/errors.js';
import { Cluster, Node, next, runUntilExit, until } from '../support/cluster.js';
import { freePort, RedisServer, uniquePrefix } from '../support/redis-server.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

const ack = (socket: Socket, event: string, payload: unknown): Promise<Json> =>
  socket.timeout(10_000).emitWithAck(event, payload);

async function post(url: string, contentType: string, body: string) {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: (await res.json()) as Json, ms: performance.now() - t0 };
}

describe('scale-out: Redis stops and starts again', function () {
  this.timeout(120_000);
  let redis: RedisServer | null = null;
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    await redis?.close();
    cluster = null;
    redis = null;
  });

  it('the processes report it at once and recover by themselves: /readyz 503 then 200, chat works again', async () => {
    redis = await RedisServer.start({ persist: true });
    const c = await Cluster.start({ nodes: 2, redisUrl: redis.url, prefix: uniquePrefix('restart') });
    cluster = c;
    const [a, b] = c.nodes as [(typeof c.nodes)[0], (typeof c.nodes)[0]];

    const { agent, token } = await c.createAgent(0, 'Ada', { chat: 3 });
    const console = c.socket(0, '/agent', { token });
    await next(console, 'hello');
    const visitor = c.socket(1, '/chat', {});
    await next(visitor, 'session');
    const assigned = next<Json>(console, 'assigned');
    const first = await ack(visitor, 'message', { text: 'Before the outage', clientMessageId: 'm1' });
    expect(first.ok).to.equal(true);
    expect((await assigned).conversation.id).to.equal(first.conversationId);
    for (const n of c.nodes) expect((await n.get('/readyz')).status).to.equal(200);
    const pids = c.nodes.map((n) => n.pid);

    // Redis stops.
    await redis.stop('SIGTERM');
    const stopped = Date.now();
    await until(
      async () => (await a.get('/readyz')).status === 503 && (await b.get('/readyz')).status === 503,
      '/readyz to answer 503 on both processes',
      5000,
      20,
    );
    expect(Date.now() - stopped).to.be.lessThan(1500);
    const ready = await a.get('/readyz');
    expect(ready.status).to.equal(503);
    expect(ready.ms).to.be.lessThan(500);
    // Neither health checks nor clients are told where Redis is or what failed inside: that is for the log.
    const inside = /127\.0\.0\.1|ECONNREFUSED|\{sb:|offline/;
    expect(JSON.stringify(ready.body)).not.to.match(inside);

    // Requests that need the store: 503 at once with a JSON error; webhooks too, so their senders retry.
    const t0 = performance.now();
    const agents = await b.api<Json>('GET', '/agents');
    expect(performance.now() - t0).to.be.lessThan(500);
    expect(agents.status).to.equal(503);
    expect(agents.body.error.code).to.equal('store_unavailable');
    expect(agents.body.error.message).not.to.match(inside);
    const sms = await post(
      `${a.url}/twilio/sms`,
      'application/x-www-form-urlencoded',
      'From=%2B15550100&Body=hi',
    );
    expect([sms.status, sms.body.error.code]).to.deep.equal([503, 'store_unavailable']);
    expect(sms.ms).to.be.lessThan(500);
    const slack = await post(`${b.url}/slack/events`, 'application/json', '{"type":"event_callback"}');
    expect([slack.status, slack.body.error.code]).to.deep.equal([503, 'store_unavailable']);

    // A chat message while it is down is refused, not half stored.
    const refused = await ack(visitor, 'message', { text: 'During the outage', clientMessageId: 'm2' });
    expect(refused.ok).to.equal(false);
    expect(refused.error.code).to.equal('store_unavailable');
    expect(refused.error.message).to.equal(STORE_UNAVAILABLE);

    // Redis is back on the same port with its data: both processes recover without a restart.
    await redis.start();
    await until(
      async () => (await a.get('/readyz')).status === 200 && (await b.get('/readyz')).status === 200,
      '/readyz to answer 200 again on both processes',
      15_000,
      50,
    );
    // Not restarted: the same processes as before the outage.
    expect(c.nodes.map((n) => n.pid)).to.deep.equal(pids);
    expect(c.nodes.every((n) => n.records.some((r) => r.msg === 'redis: connected again'))).to.equal(true);

    // The same sockets: the visitor's resent message reaches the agent across processes, once.
    const seen = next<Json>(console, 'message', (p) => p.message.text === 'During the outage');
    const resent = await ack(visitor, 'message', { text: 'During the outage', clientMessageId: 'm2' });
    expect(resent.ok).to.equal(true);
    expect(resent.conversationId).to.equal(first.conversationId);
    expect((await seen).conversationId).to.equal(first.conversationId);
    const reply = next<Json>(visitor, 'message', (m) => m.text === 'Back again');
    expect(
      (
        await ack(console, 'reply', {
          conversationId: first.conversationId,
          text: 'Back again',
          clientMessageId: 'r1',
        })
      ).ok,
    ).to.equal(true);
    await reply;

    // What was stored before the outage is there (append-only file), and nothing of the refused try.
    const conv = (await a.api<Json>('GET', `/conversations/${first.conversationId}`)).body;
    expect(conv.conversation.ownerId).to.equal(agent.id);
    const texts = conv.messages.filter((m: Json) => m.direction !== 'internal').map((m: Json) => m.text);
    expect(texts.filter((t: string) => t === 'Before the outage')).to.have.length(1);
    expect(texts.filter((t: string) => t === 'During the outage')).to.have.length(1);

    // New work flows: a new visitor on A is given to the agent whose console is on A.
    const another = c.socket(0, '/chat', {});
    await next(another, 'session');
    const second = next<Json>(console, 'assigned');
    const sent = await ack(another, 'message', { text: 'New after the outage', clientMessageId: 'n1' });
    expect(sent.ok).to.equal(true);
    expect((await second).conversation.id).to.equal(sent.conversationId);
  });
});

describe('scale-out: a process started before its Redis', function () {
  this.timeout(120_000);
  let redis: RedisServer | null = null;
  let node: Node | null = null;
  let visitor: Socket | null = null;
  afterEach(async () => {
    visitor?.close();
    await node?.stop('SIGKILL');
    await redis?.close();
    [visitor, node, redis] = [null, null, null];
  });

  it('listens at once: /healthz 200, /readyz and requests 503; ready by itself on the same port once Redis answers', async () => {
    redis = await RedisServer.start();
    await redis.stop('SIGKILL'); // its port is known, and nothing answers there yet
    const n = new Node(0, await freePort(), { REDIS_URL: redis.url, REDIS_PREFIX: uniquePrefix('early') });
    node = n;
    n.launch();
    await n.waitFor((r) => r.msg === 'redis: unreachable; waiting for it', 30_000);

    // Alive, not ready: what a liveness probe and a load balancer's check each need to tell.
    await until(
      async () => (await n.get('/healthz').catch(() => null))?.status === 200,
      '/healthz 200',
      10_000,
    );
    expect((await n.get('/healthz')).body).to.deep.equal({ status: 'ok' });
    const head = await fetch(`${n.url}/healthz`, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    const ready = await n.get('/readyz');
    expect([ready.status, ready.body]).to.deep.equal([
      503,
      { status: 'unavailable', error: 'waiting for Redis' },
    ]);
    // Requests and webhooks: the store's usual 503, so that their senders retry.
    const t0 = performance.now();
    const res = await fetch(`${n.url}/api/agents`, { headers: { authorization: 'Bearer x' } });
    expect(performance.now() - t0).to.be.lessThan(500);
    expect([res.status, res.headers.get('retry-after')]).to.deep.equal([503, '1']);
    expect(((await res.json()) as Json).error).to.deep.equal({
      code: 'store_unavailable',
      message: STORE_UNAVAILABLE,
    });
    const sms = await post(
      `${n.url}/twilio/sms`,
      'application/x-www-form-urlencoded',
      'From=%2B15550100&Body=hi',
    );
    expect([sms.status, sms.body.error.code]).to.deep.equal([503, 'store_unavailable']);
    // A widget opened meanwhile is turned away, and keeps trying.
    visitor = connect(`${n.url}/chat`, {
      forceNew: true,
      transports: ['websocket'],
      reconnectionDelay: 200,
      reconnectionDelayMax: 500,
    });
    await new Promise((resolve) => visitor!.once('connect_error', resolve));

    // Redis comes: the app takes the same server over; no restart, no other port.
    const session = next<Json>(visitor, 'session', () => true, 30_000);
    const pid = n.pid;
    await redis.start();
    await n.waitFor((r) => String(r.msg).startsWith('Switchboard listening on'), 30_000);
    expect(n.pid).to.equal(pid);
    expect((await n.get('/readyz')).status).to.equal(200);
    expect((await n.api('GET', '/agents')).status).to.equal(200);
    expect((await session).visitorToken).to.be.a('string');
  });

  it('says why it cannot connect, naming REDIS_URL: a Redis that wants a password, rediss:// to a Redis without TLS', async () => {
    redis = await RedisServer.start({ password: 'a-password-0123456789' });
    const why = async (url: string) => {
      const n = new Node(0, await freePort(), { REDIS_URL: url, REDIS_PREFIX: uniquePrefix('why') });
      node = n;
      n.launch();
      const said = await n.waitFor((r) => r.msg === 'redis: unreachable; waiting for it', 30_000);
      // It waits (Redis may be set right meanwhile): not ready.
      expect((await n.get('/readyz')).status).to.equal(503);
      await n.stop('SIGKILL');
      return String(said.err);
    };
    const noPassword = await why(redis.url);
    expect(noPassword).to.include(
      `the Redis at 127.0.0.1:${redis.port} needs a password, and REDIS_URL gives none`,
    );
    const wrong = await why(`redis://:not-it@127.0.0.1:${redis.port}`);
    expect(wrong).to.include('refused the user name or password REDIS_URL gives');
    expect(wrong).not.to.include('not-it');
    const tls = await why(`rediss://127.0.0.1:${redis.port}`);
    expect(tls).to.include('REDIS_URL starts with rediss://, for a Redis that speaks TLS');
  });

  it('stops at once, naming PORT, when its port is taken (not after waiting for Redis)', async () => {
    redis = await RedisServer.start();
    await redis.stop('SIGKILL');
    const taken = createServer();
    const port = await new Promise<number>((resolve) =>
      taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)),
    );
    try {
      const t0 = Date.now();
      const run = await runUntilExit({ REDIS_URL: redis.url, PORT: String(port), HOST: '127.0.0.1' });
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include(`PORT: ${port} is already in use`);
      expect(Date.now() - t0).to.be.lessThan(20_000);
    } finally {
      taken.close();
    }
  });
});
