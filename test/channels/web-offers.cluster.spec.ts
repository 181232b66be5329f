// A chat ringing an agent whose console moves to another process (two server processes on one Redis): the console
// that opens there lists the offer in `hello`, and it is accepted from there.
import { expect } from 'chai';
import { ack, Cluster, next } from '../support/cluster.js';
import { sharedRedisUrl, uniquePrefix } from '../support/redis-server.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

describe('web console: an offer ringing while the console moves to another process', function () {
  this.timeout(60_000);
  let cluster: Cluster | null = null;
  afterEach(async () => {
    await cluster?.close();
    cluster = null;
  });

  it("the process with Ada's console is killed while a chat rings her: her console on the other lists it, and Accept works", async () => {
    const c = await Cluster.start({
      nodes: 2,
      redisUrl: await sharedRedisUrl(),
      prefix: uniquePrefix('offers'),
      env: { ROUTING_POLICY: JSON.stringify({ offerTimeoutSeconds: { chat: 60 } }) },
    });
    cluster = c;
    const ada = await c.agentConsole(0, 'Ada', { voice: 0, sms: 0, chat: 1, email: 0 });
    const offered = next<Json>(ada.console, 'offer');
    const visitor = c.socket(1, '/chat', {});
    await next(visitor, 'session');
    const sent = await ack(visitor, 'message', { text: 'is my parcel lost?', clientMessageId: 'm1' });
    expect(sent.ok).to.equal(true);
    const conversationId = sent.conversationId as string;
    const rung = await offered;
    expect(rung.conversation.id).to.equal(conversationId);

    await c.nodes[0]!.stop('SIGKILL');
    const moved = c.socket(1, '/agent', { token: ada.token });
    const hello = await next<Json>(moved, 'hello');
    expect(hello.conversations).to.deep.equal([]);
    expect(hello.offers).to.have.length(1);
    const [offer] = hello.offers;
    expect(offer.conversation.id).to.equal(conversationId);
    expect(offer.conversation.offer.agentId).to.equal(ada.agent.id);
    expect(offer.conversation.offer.expiresAt).to.equal(rung.conversation.offer.expiresAt);
    expect(offer.messages.map((m: Json) => m.text)).to.deep.equal(['is my parcel lost?']);
    // The server's clock: what is left of the minute, counted from it.
    const left = offer.conversation.offer.expiresAt - offer.now;
    expect(left).to.be.within(1, 60_000);

    const assigned = next<Json>(moved, 'assigned');
    expect(await ack(moved, 'offer.accept', { conversationId })).to.deep.equal({ ok: true });
    const view = await assigned;
    expect([view.conversation.id, view.conversation.ownerId]).to.deep.equal([conversationId, ada.agent.id]);
  });
});
