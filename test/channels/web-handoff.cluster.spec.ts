// A hand-off declined on another process: the owner's console, on the first, is told (two server processes
// on one Redis; the consoles react to the domain events every process mirrors).
import { expect } from 'chai';
import { ack, Cluster, next } from '../support/cluster.js';
import { sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

describe('web console: a hand-off declined on another process', function () {
  this.timeout(60_000);
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it('the owner on A is told, by name, that the colleague on B declined it', async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('decline'),
    });
    cluster = c;
    const ada = await c.agentConsole(0, 'Ada', { chat: 2 });
    const visitor = c.socket(0, '/chat', {});
    await next(visitor, 'session');
    await ack(visitor, 'identify', { name: 'Mary Major' });
    const assigned = next<Json>(ada.console, 'assigned');
    const sent = await ack(visitor, 'message', { text: 'my order is late', clientMessageId: 'm1' });
    expect((await assigned).conversation.id).to.equal(sent.conversationId);
    const linus = await c.agentConsole(1, 'Linus', { chat: 2 });

    const offered = next<Json>(linus.console, 'handoff.offer');
    const handoff = { conversationId: sent.conversationId, toAgentId: linus.agent.id, note: 'Refund' };
    expect(await ack(ada.console, 'handoff', handoff)).to.deep.equal({ ok: true });
    await offered;
    const told = next<Json>(ada.console, 'handoff.update');
    expect(
      await ack(linus.console, 'handoff.decline', { conversationId: sent.conversationId }),
    ).to.deep.equal({
      ok: true,
    });
    expect(await told).to.deep.equal({
      conversationId: sent.conversationId,
      action: 'declined',
      to: { id: linus.agent.id, name: 'Linus' },
      by: null,
      customer: 'Mary Major',
    });
  });
});
