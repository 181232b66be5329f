// After-call work as an agent sees it: a call ended as Twilio ends it, the web console told when the work is up
// (its view and the `wrapup` event), More time over the /agent socket and the admin API, and who may not.
import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import type { Agent } from '../../shared/model.js';
import { agentToken } from '../../shared/tokens.js';
import { only, queryOf } from '../support/twiml.js';
import {
  callStatus,
  dialResult,
  incomingCall,
  localPath,
  newCall,
  SECOND,
  type TwilioHarness,
  useTwilioHarness,
} from './twilio-harness.js';

// biome-ignore lint/suspicious/noExplicitAny: wire payloads are asserted field by field
type Json = any;

/** Ana answers a call, which then ends as Twilio ends it: the conversation and when the call ended. */
async function answeredAndEnded(
  h: TwilioHarness,
  ana: Agent,
): Promise<{ conversationId: string; ended: number }> {
  const call = newCall('+14155550123');
  const dial = only(await h.twiml('/twilio/voice', incomingCall(call)), 'Dial');
  const conversationId = queryOf(dial.attrs.action).conversation!;
  await h.sb.router.acceptOffer(ana.id, conversationId);
  h.clock.advance(3 * 60 * SECOND);
  await h.twiml(localPath(dial.attrs.action), dialResult(call, 'completed'));
  const ended = h.clock.now();
  await h.twiml('/twilio/voice/status', callStatus(call, 'completed'));
  return { conversationId, ended };
}

function agentConsole(h: TwilioHarness, agent: Agent): Socket {
  return io(`${h.local}/agent`, {
    auth: { token: agentToken(h.sb.tokens, agent) },
    transports: ['websocket'],
    forceNew: true,
  });
}

/** The next `event` on `socket` whose payload passes `test`. */
function next(socket: Socket, event: string, test: (p: Json) => boolean = () => true): Promise<Json> {
  return new Promise((resolve) => {
    const on = (p: Json) => {
      if (!test(p)) return;
      socket.off(event, on);
      resolve(p);
    };
    socket.on(event, on);
  });
}

describe('Voice channel: after-call work in the web console and the API', () => {
  const h = useTwilioHarness();
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });
  const open = (agent: Agent) => {
    const s = agentConsole(h(), agent);
    sockets.push(s);
    return s;
  };

  it('the console is told when the work is up, counts from its view, and More time moves it', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const socket = open(ana);
    await next(socket, 'hello');
    const told = next(socket, 'wrapup');
    const { conversationId, ended } = await answeredAndEnded(h(), ana);
    expect(await told).to.deep.equal({
      conversationId,
      since: ended,
      until: ended + 120 * SECOND,
      now: ended,
    });

    // A console opened now has it in its view.
    const later = open(ana);
    const hello = await next(later, 'hello');
    const view = hello.conversations.find((v: Json) => v.conversation.id === conversationId);
    expect([view.wrapUpUntil, view.now]).to.deep.equal([ended + 120 * SECOND, ended]);

    h().clock.advance(100 * SECOND);
    const moved = next(later, 'wrapup');
    expect(await socket.emitWithAck('wrapup.extend', { conversationId })).to.deep.equal({
      ok: true,
      wrapUpUntil: ended + 220 * SECOND,
      now: ended + 100 * SECOND,
    });
    expect((await moved).until).to.equal(ended + 220 * SECOND);
    const bad = await socket.emitWithAck('wrapup.extend', { conversation: conversationId });
    expect([bad.ok, bad.error.code]).to.deep.equal([false, 'invalid_input']);

    // Done is Resolve: the conversation leaves the console.
    expect(await socket.emitWithAck('resolve', { conversationId })).to.deep.equal({ ok: true });
    const again = await socket.emitWithAck('wrapup.extend', { conversationId });
    expect(again.error.code).to.equal('not_owner');
  });

  it('a colleague may not give the owner more time; over the API the admin may, a lead may not', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const bea = await h().agent('Bea', { clientIdentity: 'bea', lead: true });
    const { conversationId, ended } = await answeredAndEnded(h(), ana);
    const beaSocket = open(bea);
    await next(beaSocket, 'hello');
    const refused = await beaSocket.emitWithAck('wrapup.extend', { conversationId });
    expect([refused.ok, refused.error.code]).to.deep.equal([false, 'not_owner']);
    expect(refused.error.message).to.match(/not its owner/);

    const api = (token: string) =>
      request(h().local)
        .post(`/api/conversations/${conversationId}/wrapup`)
        .set('Authorization', `Bearer ${token}`);
    const read = await request(h().local)
      .get(`/api/conversations/${conversationId}`)
      .set('Authorization', `Bearer ${h().config.adminToken}`)
      .expect(200);
    expect(read.body.wrapUpUntil).to.equal(ended + 120 * SECOND);

    h().clock.advance(60 * SECOND);
    const lead = await api(agentToken(h().sb.tokens, bea)).send({}).expect(403);
    expect(lead.body.error.code).to.equal('forbidden');
    const wrongOwner = await api(h().config.adminToken).send({ agentId: bea.id }).expect(403);
    expect(wrongOwner.body.error.code).to.equal('not_owner');
    const typo = await api(h().config.adminToken).send({ agent: ana.id }).expect(400);
    expect(typo.body.error.code).to.equal('invalid_input');
    const ok = await api(h().config.adminToken).send({ agentId: ana.id }).expect(200);
    expect(ok.body.wrapUpUntil).to.equal(ended + 180 * SECOND);
    const byAdmin = await api(h().config.adminToken).send().expect(200);
    expect(byAdmin.body.wrapUpUntil).to.equal(ended + 180 * SECOND);
    expect(
      h()
        .eventsOf('conversation.wrapup')
        .map((e) => e.until),
    ).to.deep.equal([ended + 120 * SECOND, ended + 180 * SECOND]);
  });

  it('the team view shows who is in after-call work, and how long is left', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    await h().agent('Bea', { clientIdentity: 'bea' });
    const live = async () => {
      const res = await request(h().local)
        .get('/api/live')
        .set('Authorization', `Bearer ${h().config.adminToken}`)
        .expect(200);
      return Object.fromEntries(res.body.agents.map((a: Json) => [a.name, a.wrapUp]));
    };
    const { conversationId, ended } = await answeredAndEnded(h(), ana);
    expect(await live()).to.deep.equal({
      Ana: { conversationId, until: ended + 120 * SECOND, leftSeconds: 120 },
      Bea: null,
    });
    h().clock.advance(40 * SECOND);
    expect((await live()).Ana.leftSeconds).to.equal(80);
    await h().sb.router.resolve(ana.id, conversationId);
    h().clock.advance(2 * SECOND);
    expect((await live()).Ana).to.equal(null);
  });
});
