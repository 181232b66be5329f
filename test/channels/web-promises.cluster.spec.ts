// Promises made and kept on one process reach the web consoles on the other (two server processes on one Redis;
// the consoles mirror the domain events every process hears).
import { expect } from 'chai';
import { ack, Cluster, next } from '../support/cluster.js';
import { sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

describe('web console: promises made and kept on another process', function () {
  this.timeout(60_000);
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it("the owner's promise on A reaches the consultant's console on B, made and kept", async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('promises'),
    });
    cluster = c;
    const ada = await c.agentConsole(0, 'Ada', { chat: 2 });
    const visitor = c.socket(0, '/chat', {});
    await next(visitor, 'session');
    const assigned = next<Json>(ada.console, 'assigned');
    const sent = await ack(visitor, 'message', { text: 'please send the invoice', clientMessageId: 'm1' });
    const conversationId = sent.conversationId as string;
    expect((await assigned).conversation.id).to.equal(conversationId);
    const grace = await c.agentConsole(1, 'Grace', { chat: 2 });
    const invited = next<Json>(grace.console, 'consult.invite');
    expect(await ack(ada.console, 'consult', { conversationId, agentId: grace.agent.id })).to.deep.equal({
      ok: true,
    });
    await invited;
    expect((await ack(grace.console, 'consult.join', { conversationId })).ok).to.equal(true);

    const made = next<Json>(grace.console, 'promise.made');
    const promised = await ack(ada.console, 'promise', {
      conversationId,
      dueAt: Date.now() + 3_600_000,
      text: 'send the invoice',
    });
    expect(promised.ok).to.equal(true);
    const told = await made;
    expect([told.promise.id, told.promise.state, told.promise.text]).to.deep.equal([
      promised.promise.id,
      'open',
      'send the invoice',
    ]);

    const updated = next<Json>(grace.console, 'promise.updated');
    expect((await ack(ada.console, 'promise.keep', { promiseId: promised.promise.id })).ok).to.equal(true);
    const kept = await updated;
    expect([kept.promise.id, kept.promise.state]).to.deep.equal([promised.promise.id, 'kept']);
  });
});
