// Several server processes on one Redis (child processes running server/main.ts
// with REDIS_URL): events and sockets across processes, and timers that fire
// although the process that set them died.
import { expect } from 'chai';
import { createClient } from 'redis';
import { RedisKeys } from '../../routing/store/redis-keys.js';
import { ack, Cluster, type Node, next, runUntilExit, until } from '../support/cluster.js';
import { sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

describe('scale-out: two processes on one Redis', function () {
  this.timeout(60_000);
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it("an agent on A sees a message a visitor sent to B, and the visitor on B sees A's agent reply", async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('two'),
    });
    cluster = c;
    const [a, b] = c.nodes;
    expect(a!.records.find((r) => String(r.msg).startsWith('Switchboard listening'))?.store).to.equal(
      'redis',
    );
    // No demo agents in Redis mode.
    expect((await a!.api<{ agents: unknown[] }>('GET', '/agents')).body.agents).to.deep.equal([]);

    const { agent, token } = await c.createAgent(0, 'Ada', { chat: 2 });
    // The agent made on A is visible on B: one store.
    expect((await b!.api<Json>('GET', `/agents/${agent.id}`)).body.agent.status).to.equal('available');
    const console = c.socket(0, '/agent', { token });
    await next(console, 'hello');

    const visitor = c.socket(1, '/chat', {});
    await next(visitor, 'session');
    const assigned = next<Json>(console, 'assigned');
    const sent = await ack(visitor, 'message', { text: 'Hello from B', clientMessageId: 'm1' });
    expect(sent.ok).to.equal(true);
    const view = await assigned;
    expect(view.conversation.id).to.equal(sent.conversationId);
    expect(view.conversation.ownerId).to.equal(agent.id);
    expect(view.messages.map((m: Json) => m.text)).to.include('Hello from B');

    // The visitor's next message reaches the agent on the other process.
    const seen = next<Json>(console, 'message', (p) => p.message.text === 'Second from B');
    expect((await ack(visitor, 'message', { text: 'Second from B', clientMessageId: 'm2' })).ok).to.equal(
      true,
    );
    expect((await seen).conversationId).to.equal(sent.conversationId);

    // The agent's replies on A reach the visitor on B, each once, in order.
    const out: string[] = [];
    visitor.on('message', (m: Json) => {
      if (m.direction === 'out') out.push(m.text);
    });
    const second = next<Json>(visitor, 'message', (m) => m.text === 'Reply two from A');
    const r1 = await ack(console, 'reply', {
      conversationId: sent.conversationId,
      text: 'Reply one from A',
      clientMessageId: 'r1',
    });
    expect(r1.ok).to.equal(true);
    await ack(console, 'reply', {
      conversationId: sent.conversationId,
      text: 'Reply two from A',
      clientMessageId: 'r2',
    });
    await second;
    expect(out).to.deep.equal(['Reply one from A', 'Reply two from A']);

    // The visitor's widget on B marked A's reply delivered (the stored state, read through B).
    await until(async () => {
      const conv = (await b!.api<Json>('GET', `/conversations/${sent.conversationId}`)).body;
      const reply = conv.messages.find((m: Json) => m.id === r1.messageId);
      return reply?.delivery.state === 'delivered';
    }, 'the reply to be marked delivered');

    // The console on A knows the visitor on B is on the page, and hears it when they leave.
    expect(await ack(console, 'presence', { conversationId: sent.conversationId })).to.deep.equal({
      ok: true,
      online: true,
    });
    const left = next<Json>(console, 'presence', (e) => e.online === false);
    c.forget(visitor);
    expect((await left).conversationId).to.equal(sent.conversationId);
    expect(await ack(console, 'presence', { conversationId: sent.conversationId })).to.deep.equal({
      ok: true,
      online: false,
    });
  });

  it("the team's live view on either process shows the whole team: who waits at A, seen from B", async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('live'),
    });
    cluster = c;
    const { agent } = await c.createAgent(0, 'Ada', { voice: 0, sms: 0, chat: 1, email: 0 });
    const sent: string[] = [];
    for (const text of ['first', 'second']) {
      const visitor = c.socket(0, '/chat', {});
      await next(visitor, 'session');
      const ok = await ack(visitor, 'message', { text, clientMessageId: text });
      expect(ok.ok).to.equal(true);
      sent.push(ok.conversationId);
    }
    const live = (await c.nodes[1]!.api<Json>('GET', '/live')).body;
    expect(live.waitingTotal).to.equal(1);
    expect(live.waiting.map((w: Json) => [w.conversationId, w.channel, w.owner])).to.deep.equal([
      [sent[1], 'chat', null],
    ]);
    // Ada was busy: the second was told a wait.
    expect(live.waiting[0].quoted).to.include({ kind: 'wait', late: false });
    expect(live.channels.chat).to.include({ waiting: 1, agentsFree: 0, inProgress: 1 });
    expect(live.agents.map((a: Json) => [a.id, a.status, a.holding])).to.deep.equal([
      [agent.id, 'available', 1],
    ]);
  });

  it("saved replies an admin sets through A reach a console on B at once, and B's next hello", async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('saved'),
    });
    cluster = c;
    const { token } = await c.createAgent(0, 'Ada', { chat: 1 });
    const console = c.socket(1, '/agent', { token });
    expect((await next<Json>(console, 'hello')).savedReplies).to.deep.equal([]);
    const replies = [{ name: 'Opening hours', text: 'We answer every day from 8 to 20.' }];
    const pushed = next<Json>(console, 'saved_replies');
    const put = await c.nodes[0]!.api<Json>('PUT', '/saved-replies', { savedReplies: replies });
    expect(put.status).to.equal(200);
    expect((await pushed).savedReplies).to.deep.equal(replies);
    const again = c.socket(1, '/agent', { token });
    expect((await next<Json>(again, 'hello')).savedReplies).to.deep.equal(replies);
  });

  it('a timer set by a process that died fires in another: an unanswered offer moves on', async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('timer'),
      env: { ROUTING_POLICY: JSON.stringify({ offerTimeoutSeconds: { chat: 2 } }), TICK_MS: '100' },
    });
    cluster = c;
    const [a, b] = c.nodes;
    const first = await c.createAgent(1, 'First', { chat: 1 });
    const second = await c.createAgent(1, 'Second', { chat: 1 });
    const consoles = [first, second].map((x) => c.socket(1, '/agent', { token: x.token }));
    await Promise.all(consoles.map((s) => next(s, 'hello')));
    const offers = consoles.map((s) => next<Json>(s, 'offer'));

    // The contact arrives on A, which rings one agent and sets the offer's timer in Redis; then A dies.
    const visitor = c.socket(0, '/chat', {});
    await next(visitor, 'session');
    const sent = await ack(visitor, 'message', { text: 'Anyone there?', clientMessageId: 'm1' });
    expect(sent.ok).to.equal(true);
    const firstOffer = await Promise.race(offers.map((p, i) => p.then((o) => ({ i, o }))));
    expect(firstOffer.o.conversation.id).to.equal(sent.conversationId);
    await a!.stop('SIGKILL');
    const t0 = Date.now();

    // B's tick claims the due timer: the offer expires, the ringing agent is set away, the other is rung.
    const other = 1 - firstOffer.i;
    const secondOffer = await offers[other]!;
    expect(secondOffer.conversation.id).to.equal(sent.conversationId);
    expect(Date.now() - t0).to.be.lessThan(6000);
    const rung = [first, second][firstOffer.i]!.agent.id;
    const rungNow = (await b!.api<Json>('GET', `/agents/${rung}`)).body.agent;
    expect(rungNow.status).to.equal('away');
    const conv = (await b!.api<Json>('GET', `/conversations/${sent.conversationId}`)).body.conversation;
    expect(conv.offer.agentId).to.equal([first, second][other]!.agent.id);
  });

  it('timers a process claimed and died before firing (SIGKILL mid-run) are fired by another once its lease ends: every survey sent, once', async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('lease'),
      env: { ROUTING_POLICY: JSON.stringify({ surveyDelaySeconds: 2 }), TICK_MS: '100' },
    });
    cluster = c;
    const [a, b] = c.nodes;
    // Only A runs when the surveys come due: it claims them all.
    await b!.stop();
    const count = 40;
    const { console: agent } = await c.agentConsole(0, 'Ada', { voice: 0, sms: 0, chat: count, email: 0 });
    const visitors = [];
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const visitor = c.socket(0, '/chat', {});
      await next(visitor, 'session');
      const sent = await ack(visitor, 'message', { text: `Question ${i}`, clientMessageId: 'q' });
      expect(sent.ok).to.equal(true);
      visitors.push(visitor);
      ids.push(sent.conversationId);
    }
    await until(
      async () =>
        (await a!.api<Json>('GET', '/conversations?status=assigned')).body.conversations.length === count,
      'every conversation assigned',
    );
    const firstSurvey = Promise.race(
      visitors.map((v) => next<Json>(v, 'message', (m) => m.author.type === 'system', 20_000)),
    );
    const resolved = await Promise.all(ids.map((id) => ack(agent, 'resolve', { conversationId: id })));
    expect(resolved.every((r) => r.ok)).to.equal(true);
    // A starts sending the surveys, and dies among them.
    await firstSurvey;
    await a!.stop('SIGKILL');
    await b!.start();
    const surveys = async (id: string) =>
      (await b!.api<Json>('GET', `/conversations/${id}`)).body.messages.filter((m: Json) =>
        String(m.text).startsWith('How did we do?'),
      ).length;
    // The lease is 15 s: the ones A claimed and never sent are sent by B then.
    await until(
      async () => (await Promise.all(ids.map(surveys))).every((n) => n > 0),
      'a survey in every conversation',
      30_000,
      500,
    );
    expect(await Promise.all(ids.map(surveys))).to.deep.equal(ids.map(() => 1));
  });

  it("an agent's console open on B keeps her available when her console on A closes; when B dies with it open (SIGKILL: nothing closes), A sets her away", async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('presence'),
      // A second, not a minute, for the test (the leases are renewed every second then).
      env: { ROUTING_POLICY: JSON.stringify({ consoleAwaySeconds: 1 }) },
    });
    cluster = c;
    const [a, b] = c.nodes as [Node, Node];
    const { agent, token, console: onA } = await c.agentConsole(0, 'Ada', { chat: 2 });
    const onB = c.socket(1, '/agent', { token });
    await next(onB, 'hello');
    const statusOf = async (on: Node) => {
      const { body } = await on.api<Json>('GET', `/agents/${agent.id}`);
      return `${body.agent.status}${body.agent.statusReason ? ` (${body.agent.statusReason})` : ''}`;
    };
    const redis = createClient({ url: c.redisUrl });
    await redis.connect();
    const timers = new RedisKeys(c.prefix).key('timers');
    const due = async () => redis.zScore(timers, `console:${agent.id}`);

    try {
      // Her consoles hold a lease on her: a console timer always a renewal ahead.
      await until(async () => (await due()) !== null, 'the lease taken');
      // Her console on A closes: B, where one is still open, keeps renewing the lease past when A's closing
      // would have had someone look; she stays available.
      const closedAt = Date.now();
      c.forget(onA);
      await until(async () => ((await due()) ?? 0) >= closedAt + 2000, "B's lease renewed after the closing");
      expect(await statusOf(a)).to.equal('available');

      // B dies with her console open on it: nothing closes, nobody renews; A sets her away all the same.
      await b.stop('SIGKILL');
      await until(async () => (await statusOf(a)) === 'away (console closed)', 'her to be set away', 15_000);
    } finally {
      redis.destroy();
    }
    // Her console back, on A: available again.
    const back = c.socket(0, '/agent', { token });
    await next(back, 'hello');
    await until(async () => (await statusOf(a)) === 'available', 'her to be available again');
  });

  it('a file a visitor uploaded to A is attached through B and opens from B, after A died', async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('files'),
    });
    cluster = c;
    const [a, b] = c.nodes;
    const visitor = c.socket(1, '/chat', {});
    const { visitorToken } = await next<Json>(visitor, 'session');
    const bytes = Buffer.from('order 1234: lid cracked\n');
    const up = await fetch(`${a!.url}/chat/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${visitorToken}`,
        'content-type': 'text/plain',
        'x-file-name': 'note.txt',
      },
      body: bytes,
      signal: AbortSignal.timeout(10_000),
    });
    expect(up.status).to.equal(201);
    const { file } = (await up.json()) as Json;
    await a!.stop('SIGKILL');

    const sent = await ack(visitor, 'message', {
      text: 'see the note',
      clientMessageId: 'f1',
      files: [file.upload],
    });
    expect(sent.ok, JSON.stringify(sent)).to.equal(true);
    const conv = (await b!.api<Json>('GET', `/conversations/${sent.conversationId}`)).body;
    const [kept] = conv.messages[0].attachments;
    expect([kept.name, kept.type, kept.size]).to.deep.equal(['note.txt', 'text/plain', bytes.length]);
    const res = await fetch(`${b!.url}${new URL(kept.url).pathname}`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal(bytes.toString());
  });

  it("a customer erased through A is gone everywhere: B's console drops the conversation, their file no longer opens from B", async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('erase'),
    });
    cluster = c;
    const [a, b] = c.nodes;
    const { token } = await c.createAgent(1, 'Ada', { chat: 2 });
    const console = c.socket(1, '/agent', { token });
    await next(console, 'hello');
    const visitor = c.socket(1, '/chat', {});
    const { visitorToken, customerId } = await next<Json>(visitor, 'session');
    const up = await fetch(`${b!.url}/chat/files`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${visitorToken}`,
        'content-type': 'text/plain',
        'x-file-name': 'id.txt',
      },
      body: Buffer.from('passport number 123'),
      signal: AbortSignal.timeout(10_000),
    });
    const { file } = (await up.json()) as Json;
    const assigned = next<Json>(console, 'assigned');
    const sent = await ack(visitor, 'message', {
      text: 'my id',
      clientMessageId: 'e1',
      files: [file.upload],
    });
    expect(sent.ok, JSON.stringify(sent)).to.equal(true);
    const view = await assigned;
    const link = new URL(view.messages[0].attachments[0].url).pathname;
    expect((await fetch(`${b!.url}${link}`, { signal: AbortSignal.timeout(10_000) })).status).to.equal(200);

    const dropped = next<Json>(console, 'conversation.erased');
    const erased = await a!.api<Json>('DELETE', `/customers/${customerId}`);
    expect(erased.status).to.equal(200);
    expect(erased.body.erased).to.deep.include({ customerIds: [customerId], messages: 1, files: 1 });
    expect((await dropped).conversationIds).to.deep.equal([sent.conversationId]);
    expect((await fetch(`${b!.url}${link}`, { signal: AbortSignal.timeout(10_000) })).status).to.equal(410);
    expect((await b!.api<Json>('GET', `/customers/${customerId}`)).status).to.equal(404);
    expect((await b!.api<Json>('GET', `/conversations/${sent.conversationId}`)).status).to.equal(404);
  });

  it('a process whose TOKEN_SECRET or ADMIN_TOKEN differs from the running ones stops at start, naming it', async () => {
    const c = await Cluster.start({
      nodes: 1,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('secrets'),
    });
    cluster = c;
    const start = (env: Record<string, string>) =>
      runUntilExit({ REDIS_URL: c.redisUrl, REDIS_PREFIX: c.prefix, ...env });
    const other = await start({ TOKEN_SECRET: 'another-token-secret-0123456789-abcdefghijkl' });
    expect(other.code).to.equal(1);
    expect(other.stderr).to.contain('Switchboard cannot start; fix these environment variables:');
    expect(other.stderr).to.contain(
      `TOKEN_SECRET: differs from the one the other processes on this Redis (REDIS_PREFIX=${c.prefix}) use; every process must share it`,
    );
    expect(other.stderr).not.to.contain('ADMIN_TOKEN');
    const both = await start({
      TOKEN_SECRET: 'another-token-secret-0123456789-abcdefghijkl',
      ADMIN_TOKEN: 'another-admin-token-0123456789',
    });
    expect(both.code).to.equal(1);
    expect(both.stderr).to.contain('ADMIN_TOKEN: differs');
    // The running process is as it was.
    expect((await c.nodes[0]!.api<Json>('GET', '/agents')).status).to.equal(200);
  });
});
