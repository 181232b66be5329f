// After-call work with two server processes on one Redis: a call that ends on one process starts its owner's
// after-call work, which their console on the other is told of; More time asked there is what every process
// reads (the conversation, the team view), and a colleague's refusal is the same on either. Child processes
// running server/main.ts; Twilio's webhooks signed as Twilio signs them, its REST API the local stand-in.
import { expect } from 'chai';
import { callStatus, dialResult, incomingCall, localPath, newCall } from '../channels/twilio-harness.js';
import { type Node, next } from '../support/cluster.js';
import { twimlAt, useTwilioCluster, voiceAgent } from '../support/cluster-twilio.js';
import { only, queryOf } from '../support/twiml.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

describe('scale-out: after-call work across processes', function () {
  this.timeout(60_000);
  const start = useTwilioCluster('wrapup');

  it('a call ending on A tells the owner on B; More time on B is what A reads', async () => {
    const { c } = await start();
    const [a, b] = c.nodes as [Node, Node];
    const ana = await voiceAgent(c, 1, 'Ana');

    // The call comes in on A, rings Ana (her console is on B), she picks up; then it ends, as A hears.
    const call = newCall('+14155550123');
    const dial = only(await twimlAt(a, '/twilio/voice', incomingCall(call)), 'Dial');
    const conversationId = queryOf(dial.attrs.action).conversation!;
    const leg = newCall(call.From, 'client:ana');
    await twimlAt(
      a,
      localPath(only(dial, 'Client').attrs.statusCallback),
      callStatus(leg, 'in-progress', { ParentCallSid: call.CallSid }),
    );
    const told = next<Json>(ana.console, 'wrapup');
    await twimlAt(a, localPath(dial.attrs.action), dialResult(call, 'completed'));
    await twimlAt(a, '/twilio/voice/status', callStatus(call, 'completed'));
    const started = await told;
    expect(started.conversationId).to.equal(conversationId);
    expect(started.until - started.since).to.equal(120_000);

    const moved = next<Json>(ana.console, 'wrapup');
    const more = await ana.console.timeout(10_000).emitWithAck('wrapup.extend', { conversationId });
    expect(more.ok, JSON.stringify(more)).to.equal(true);
    expect(more.wrapUpUntil).to.be.at.least(started.until);
    if (more.wrapUpUntil > started.until) expect((await moved).until).to.equal(more.wrapUpUntil);

    // A reads the same time: the conversation, and the team view.
    const read = await a.api<Json>('GET', `/conversations/${conversationId}`);
    expect(read.body.wrapUpUntil).to.equal(more.wrapUpUntil);
    const live = await a.api<Json>('GET', '/live');
    const row = live.body.agents.find((x: Json) => x.id === ana.agent.id);
    expect([row.wrapUp.conversationId, row.wrapUp.until]).to.deep.equal([conversationId, more.wrapUpUntil]);

    // A colleague on A may not give her more time.
    const bea = await voiceAgent(c, 0, 'Bea');
    const refused = await bea.console.timeout(10_000).emitWithAck('wrapup.extend', { conversationId });
    expect([refused.ok, refused.error?.code]).to.deep.equal([false, 'not_owner']);

    // Done on B: resolved for every process.
    expect(await ana.console.timeout(10_000).emitWithAck('resolve', { conversationId })).to.deep.equal({
      ok: true,
    });
    expect((await a.api<Json>('GET', `/conversations/${conversationId}`)).body.wrapUpUntil).to.equal(null);
    expect(
      (await b.api<Json>('GET', '/live')).body.agents.find((x: Json) => x.id === ana.agent.id).wrapUp,
    ).to.equal(null);
  });
});
