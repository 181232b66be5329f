// An agent phones a conversation's customer: their own phone rings first (a call
// placed through the real REST client against the Twilio stand-in), then the
// customer is dialled from it; how it went is noted in the conversation. The
// webhooks are signed as Twilio signs them; the console asks over socket.io.
import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import request from 'supertest';
import { PHONING_OUT } from '../../channels/voice/channel.js';
import { SAY } from '../../channels/voice/twiml.js';
import type { Message } from '../../shared/model.js';
import { agentToken } from '../../shared/tokens.js';
import { newSid } from '../support/twilio-standin.js';
import { only, parseTwiml, pathOf, queryOf, verbs } from '../support/twiml.js';
import {
  dialResult,
  incomingCall,
  incomingSms,
  legPicksUp,
  localPath,
  MINUTE,
  newCall,
  newSms,
  OUR_NUMBER,
  outboundLeg,
  SECOND,
  type TwilioHarness,
  useTwilioHarness,
} from './twilio-harness.js';

const TEXTER = '+14155550142';

describe('Voice channel: an agent phones a customer', () => {
  const h = useTwilioHarness();

  /** A texter's conversation, owned by Ana (who has a Twilio Client identity). */
  async function anaOwnsText(harness: TwilioHarness = h()) {
    const ana = await harness.agent('Ana', { clientIdentity: 'ana' });
    await harness.twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'please call me about my order')));
    const [conversation] = await harness.store.listConversations({});
    expect(conversation?.ownerId).to.equal(ana.id);
    return { ana, conversationId: conversation!.id };
  }

  const notes = async (conversationId: string): Promise<string[]> =>
    (await h().store.listMessages(conversationId))
      .filter((m) => m.direction === 'internal')
      .map((m) => m.text);

  it("rings the agent's own phone, then dials the customer from it; the call is noted, replies stay texts", async () => {
    const { ana, conversationId } = await anaOwnsText();
    const { to, message } = await h().sb.router.callCustomer(ana.id, conversationId);
    expect(to).to.equal(TEXTER);
    expect([message.direction, message.author.type, message.text]).to.deep.equal([
      'internal',
      'agent',
      `Phoning the customer at ${TEXTER}: Ana's phone rings first.`,
    ]);
    const [placed, ...more] = h().standIn.calls();
    expect(more).to.deep.equal([]);
    const p = placed!.params;
    expect([p.To, p.From, p.Method, p.Timeout, p.StatusCallbackEvent]).to.deep.equal([
      'client:ana',
      OUR_NUMBER,
      'POST',
      '20',
      'completed',
    ]);
    expect(pathOf(String(p.Url))).to.equal('/twilio/voice/out/agent');
    expect(queryOf(String(p.Url))).to.deep.equal({
      conversation: conversationId,
      agent: ana.id,
      customer: TEXTER,
      from: OUR_NUMBER,
    });

    const root = await legPicksUp(h(), placed!);
    expect(verbs(root)).to.deep.equal(['Say', 'Dial']);
    expect(only(root, 'Say').text).to.equal(SAY.outConnecting);
    const dial = only(root, 'Dial');
    expect(dial.attrs.callerId).to.equal(OUR_NUMBER);
    expect(only(root, 'Number').text).to.equal(TEXTER);
    expect(pathOf(dial.attrs.action)).to.equal('/twilio/voice/out/customer');

    const leg = { CallSid: placed!.sid, From: OUR_NUMBER, To: 'client:ana' };
    const done = await h().twiml(
      localPath(dial.attrs.action),
      dialResult(leg, 'completed', { DialCallDuration: '200' }),
    );
    expect(verbs(done)).to.deep.equal(['Hangup']);
    expect(await notes(conversationId)).to.deep.equal([
      `Phoning the customer at ${TEXTER}: Ana's phone rings first.`,
      `Phoned the customer at ${TEXTER}: they talked for 3 minutes.`,
    ]);
    // The customer chose texts: the call changed nothing about where replies go.
    const conversation = await h().store.getConversation(conversationId);
    expect(conversation?.lastChannel).to.equal('sms');
    expect(conversation?.status).to.equal('assigned');
  });

  it('no answer or a busy line: the agent hears it and the conversation notes it', async () => {
    const { ana, conversationId } = await anaOwnsText();
    for (const [status, said, noted] of [
      ['no-answer', SAY.outNoAnswer, 'no answer'],
      ['busy', SAY.outBusy, 'their line was busy'],
    ] as const) {
      await h().sb.router.callCustomer(ana.id, conversationId);
      const placed = h().standIn.calls().at(-1)!;
      const dial = only(await legPicksUp(h(), placed), 'Dial');
      const leg = { CallSid: placed.sid, From: OUR_NUMBER, To: 'client:ana' };
      const root = await h().twiml(localPath(dial.attrs.action), dialResult(leg, status));
      expect(verbs(root)).to.deep.equal(['Say', 'Hangup']);
      expect(only(root, 'Say').text).to.equal(said);
      expect((await notes(conversationId)).at(-1)).to.equal(`Phoned the customer at ${TEXTER}: ${noted}.`);
    }
  });

  it("the agent's own phone not picked up: the customer is not called, and the note says so", async () => {
    const { ana, conversationId } = await anaOwnsText();
    await h().sb.router.callCustomer(ana.id, conversationId);
    const [placed] = h().standIn.calls();
    await h().twiml(
      localPath(String(placed!.params.StatusCallback)),
      outboundLeg(placed!.sid, 'client:ana', 'no-answer'),
    );
    expect((await notes(conversationId)).at(-1)).to.equal(
      `The call to the customer at ${TEXTER} did not go out: the agent's phone was not picked up.`,
    );
    // A call that ended after it went through says nothing more (the dial's result said it).
    await h().twiml(
      localPath(String(placed!.params.StatusCallback)),
      outboundLeg(placed!.sid, 'client:ana', 'completed'),
    );
    expect(await notes(conversationId)).to.have.length(2);
  });

  it('handed to a colleague while the phone rang: the customer is not dialled', async () => {
    const { ana, conversationId } = await anaOwnsText();
    const ben = await h().agent('Ben', { clientIdentity: 'ben' });
    await h().sb.router.callCustomer(ana.id, conversationId);
    const [placed] = h().standIn.calls();
    await h().sb.router.handoff(ana.id, conversationId, ben.id, 'Ben knows this order');
    await h().sb.router.acceptHandoff(ben.id, conversationId);
    const root = await legPicksUp(h(), placed!);
    expect(verbs(root)).to.deep.equal(['Say', 'Hangup']);
    expect(only(root, 'Say').text).to.equal(SAY.outNotYours);
  });

  it('one call at a time: a second press while it rings or while they talk is refused, and ends with the call', async () => {
    const { ana, conversationId } = await anaOwnsText();
    const press = () =>
      h()
        .sb.router.callCustomer(ana.id, conversationId)
        .then(
          () => 'placed',
          (err: { code: string; message: string }) => `${err.code}: ${err.message}`,
        );
    // Two presses at once (a double tap, two devices): one call.
    expect((await Promise.all([press(), press()])).sort()).to.deep.equal([
      'call_under_way: a call to this customer is under way already',
      'placed',
    ]);
    expect(h().standIn.calls()).to.have.length(1);
    const placed = h().standIn.calls()[0]!;
    const dial = only(await legPicksUp(h(), placed), 'Dial');
    // The customer picks up: the call stays under way while they talk, long past the ringing.
    const number = only(await legPicksUp(h(), placed), 'Number');
    expect(pathOf(number.attrs.statusCallback)).to.equal('/twilio/voice/out/answered');
    await h().twiml(
      localPath(number.attrs.statusCallback),
      outboundLeg(newSid('CA'), TEXTER, 'in-progress', { ParentCallSid: placed.sid }),
    );
    h().clock.advance(20 * MINUTE);
    expect(await press()).to.equal('call_under_way: a call to this customer is under way already');
    // It ends: the next press calls again.
    const leg = { CallSid: placed.sid, From: OUR_NUMBER, To: 'client:ana' };
    await h().twiml(localPath(dial.attrs.action), dialResult(leg, 'completed', { DialCallDuration: '1200' }));
    expect(await press()).to.equal('placed');
    // One that nothing more is heard of (its webhooks lost) lapses once its ringing is surely over.
    h().clock.advance(MINUTE + 30 * SECOND);
    expect(await press()).to.equal('placed');
  });

  it('an agent phoning a customer is away meanwhile: a caller holds and is put through to them once it ends', async () => {
    const { ana, conversationId } = await anaOwnsText();
    await h().sb.router.callCustomer(ana.id, conversationId);
    const during = await h().store.getAgent(ana.id);
    expect([during?.status, during?.statusReason]).to.deep.equal(['away', PHONING_OUT]);
    const caller = newCall('+14155550166');
    const root = await h().twiml('/twilio/voice', incomingCall(caller));
    // Nobody else to take it: the caller holds their place; Ana is not rung, nor set away busy.
    expect(verbs(root)).to.deep.equal(['Say', 'Enqueue']);
    const placed = h().standIn.calls()[0]!;
    const dial = only(await legPicksUp(h(), placed), 'Dial');
    const leg = { CallSid: placed.sid, From: OUR_NUMBER, To: 'client:ana' };
    await h().twiml(localPath(dial.attrs.action), dialResult(leg, 'completed', { DialCallDuration: '90' }));
    await h().idle();
    // The call is over: available again, and the caller who held is put through to her.
    expect((await h().store.getAgent(ana.id))?.status).to.equal('available');
    const [moved] = h().standIn.callUpdates();
    expect(moved?.sid).to.equal(caller.CallSid);
    expect(only(parseTwiml(String(moved!.params.Twiml)), 'Client').text).to.equal('ana');
  });

  it('their own customer calling in meanwhile is covered by a colleague, not rung through to their busy phone', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana', capacity: { voice: 1, sms: 3 } });
    await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'please call me about my order')));
    const [texted] = await h().store.listConversations({});
    const ben = await h().agent('Ben', { clientIdentity: 'ben' });
    await h().sb.router.callCustomer(ana.id, texted!.id);
    const root = await h().twiml('/twilio/voice', incomingCall(newCall(TEXTER)));
    expect(verbs(root)).to.deep.equal(['Dial']);
    expect(only(root, 'Client').text).to.equal('ben');
    expect(queryOf(only(root, 'Dial').attrs.action).agent).to.equal(ben.id);
    const after = await h().store.getAgent(ana.id);
    expect([after?.status, after?.statusReason]).to.deep.equal(['away', PHONING_OUT]);
  });

  it('a call whose end went unheard holds the agent until they make themselves available', async () => {
    const { ana, conversationId } = await anaOwnsText();
    await h().sb.router.callCustomer(ana.id, conversationId);
    const placed = h().standIn.calls()[0]!;
    const number = only(await legPicksUp(h(), placed), 'Number');
    await h().twiml(
      localPath(number.attrs.statusCallback),
      outboundLeg(newSid('CA'), TEXTER, 'in-progress', { ParentCallSid: placed.sid }),
    );
    // Nothing more is heard of it: an hour on, she is still away on it, and another call is refused.
    h().clock.advance(60 * MINUTE);
    const refused = await h()
      .sb.router.callCustomer(ana.id, conversationId)
      .then(
        () => null,
        (err: { code: string; message: string }) => [err.code, err.message],
      );
    expect(refused).to.deep.equal(['call_under_way', 'a call to this customer is under way already']);
    // She says she is done: available, and she may call again.
    await h().sb.router.setAgentStatus(ana.id, 'available');
    await h().idle();
    await h().sb.router.callCustomer(ana.id, conversationId);
    expect(h().standIn.calls()).to.have.length(2);
  });

  it("resolved while the agent's phone rang, or the agent hanging up first: the customer is not called, and noted", async () => {
    const { ana, conversationId } = await anaOwnsText();
    await h().sb.router.callCustomer(ana.id, conversationId);
    const [placed] = h().standIn.calls();
    const dial = only(await legPicksUp(h(), placed!), 'Dial');
    const leg = { CallSid: placed!.sid, From: OUR_NUMBER, To: 'client:ana' };
    await h().twiml(localPath(dial.attrs.action), {
      ...dialResult(leg, 'no-answer'),
      CallStatus: 'completed',
    });
    expect((await notes(conversationId)).at(-1)).to.equal(
      `Phoned the customer at ${TEXTER}: the agent hung up before they answered.`,
    );
    await h().sb.router.callCustomer(ana.id, conversationId);
    await h().sb.router.resolve(ana.id, conversationId);
    const root = await legPicksUp(h(), h().standIn.calls()[1]!);
    expect(verbs(root)).to.deep.equal(['Say', 'Hangup']);
    expect(only(root, 'Say').text).to.equal(SAY.outClosed);
    expect((await notes(conversationId)).at(-1)).to.equal(
      `The call to the customer at ${TEXTER} did not go out: the conversation was resolved meanwhile.`,
    );
  });

  it('refused by name before anything rings', async () => {
    const { ana, conversationId } = await anaOwnsText();
    const refusal = (agentId: string, id: string) =>
      h()
        .sb.router.callCustomer(agentId, id)
        .then(
          () => null,
          (err: { code: string; status: number; message: string }) => [err.code, err.status, err.message],
        );
    // Nothing to ring the agent on.
    const cy = await h().agent('Cy', { capacity: { sms: 3 } });
    await h().sb.router.handoff(ana.id, conversationId, cy.id, 'over to you');
    await h().sb.router.acceptHandoff(cy.id, conversationId);
    expect(await refusal(cy.id, conversationId)).to.deep.equal([
      'agent_unreachable',
      409,
      'Cy has no phone or Twilio Client identity to ring: set their Twilio Client identity or phone',
    ]);
    // Not theirs (any more).
    expect((await refusal(ana.id, conversationId))?.[0]).to.equal('not_owner');
    // A caller who withheld their number.
    const withheld = only(await h().twiml('/twilio/voice', incomingCall(newCall('anonymous'))), 'Dial');
    const hidden = queryOf(withheld.attrs.action).conversation!;
    await h().sb.router.acceptOffer(ana.id, hidden);
    expect(await refusal(ana.id, hidden)).to.deep.equal([
      'no_phone',
      409,
      'the caller withheld their number: there is no number to call',
    ]);
    // Once they tell Ana their number and she keeps it, she can call them back on it.
    const told = await h().sb.router.recordDetails(ana.id, hidden, { phone: '+14155550177' });
    expect(told.conflicts).to.deep.equal([]);
    const placedBefore = h().standIn.calls().length;
    expect(await refusal(ana.id, hidden)).to.equal(null);
    expect(h().standIn.calls()).to.have.length(placedBefore + 1);
    await h().sb.router.liveContactEnded(hidden);
    // Twilio refuses the call: its reason, as a failure upstream. (Ana's one voice slot is taken: Dee answers.)
    const dee = await h().agent('Dee', { clientIdentity: 'dee' });
    const ok = only(await h().twiml('/twilio/voice', incomingCall(newCall('+14155550155'))), 'Dial');
    const caller = queryOf(ok.attrs.action).conversation!;
    await h().sb.router.acceptOffer(dee.id, caller);
    const before = h().standIn.calls().length;
    h().standIn.failNext('calls', { status: 400, code: 21215, message: 'Geo permission not enabled' });
    const failed = await refusal(dee.id, caller);
    expect(failed?.slice(0, 2)).to.deep.equal(['call_failed', 502]);
    expect(failed?.[2]).to.contain('Geo permission not enabled');
    expect(h().standIn.calls()).to.have.length(before);
    expect((await h().store.listMessages(caller)).filter((m) => m.direction === 'internal')).to.deep.equal(
      [],
    );
    // Too many requests at once (429): tried again, and placed.
    h().standIn.failNext('calls', { status: 429, code: 20429, message: 'Too Many Requests' }, 2);
    expect(await refusal(dee.id, caller)).to.equal(null);
    expect(h().standIn.calls()).to.have.length(before + 1);
  });

  it('the team view shows an agent phoning a customer as on a call: with whom and since when, until it ends', async () => {
    const { ana, conversationId } = await anaOwnsText();
    const get = (path: string) =>
      request(h().local).get(path).set('Authorization', `Bearer ${h().config.adminToken}`).expect(200);
    const live = async () => {
      // The view is read at most once a second per process: a second later, it is read again.
      h().clock.advance(SECOND);
      const { body } = await get('/api/live');
      return body.agents.find((a: { id: string }) => a.id === ana.id);
    };
    const held = async () => (await get(`/api/agents/${ana.id}/conversations`)).body.conversations[0];
    expect((await live()).callOut).to.equal(null);
    const placedAt = h().clock.now();
    await h().sb.router.callCustomer(ana.id, conversationId);
    const ringing = await live();
    expect([ringing.status, ringing.statusReason]).to.deep.equal(['away', PHONING_OUT]);
    expect(ringing.callOut).to.deep.equal({
      conversationId,
      customer: TEXTER,
      to: TEXTER,
      since: placedAt,
      seconds: 1,
    });
    expect([(await held()).id, (await held()).callOutSeconds]).to.deep.equal([conversationId, 1]);

    // The customer picks up and they talk, long past the ringing: still on the call, since it was placed.
    const placed = h().standIn.calls()[0]!;
    const dial = only(await legPicksUp(h(), placed), 'Dial');
    const number = only(await legPicksUp(h(), placed), 'Number');
    await h().twiml(
      localPath(number.attrs.statusCallback),
      outboundLeg(newSid('CA'), TEXTER, 'in-progress', { ParentCallSid: placed.sid }),
    );
    h().clock.advance(20 * MINUTE);
    const talking = await live();
    expect([talking.callOut?.since, talking.callOut?.seconds]).to.deep.equal([
      placedAt,
      (h().clock.now() - placedAt) / 1000,
    ]);

    // It ends: no longer on a call, and available again.
    const leg = { CallSid: placed.sid, From: OUR_NUMBER, To: 'client:ana' };
    await h().twiml(localPath(dial.attrs.action), dialResult(leg, 'completed', { DialCallDuration: '1200' }));
    const after = await live();
    expect([after.status, after.callOut]).to.deep.equal(['available', null]);
    expect((await held()).callOutSeconds).to.equal(null);

    // One whose agent's phone is never picked up goes when that is heard; and one nothing more is heard of lapses
    // once its ringing is surely over.
    await h().sb.router.callCustomer(ana.id, conversationId);
    const second = h().standIn.calls().at(-1)!;
    expect((await live()).callOut?.conversationId).to.equal(conversationId);
    await h().twiml(
      localPath(String(second.params.StatusCallback)),
      outboundLeg(second.sid, 'client:ana', 'no-answer'),
    );
    expect((await live()).callOut).to.equal(null);
    await h().sb.router.callCustomer(ana.id, conversationId);
    expect((await live()).callOut?.conversationId).to.equal(conversationId);
    h().clock.advance(2 * MINUTE);
    expect((await live()).callOut).to.equal(null);
  });

  it('over the API: 202 with the note; a malformed body is refused naming the field', async () => {
    const { ana, conversationId } = await anaOwnsText();
    const admin = (path: string) =>
      request(h().local).post(path).set('Authorization', `Bearer ${h().config.adminToken}`);
    const bad = await admin(`/api/conversations/${conversationId}/call`).send({ agent: ana.id }).expect(400);
    expect(bad.body.error.field).to.equal('agentId');
    const res = await admin(`/api/conversations/${conversationId}/call`)
      .send({ agentId: ana.id })
      .expect(202);
    expect(res.body.to).to.equal(TEXTER);
    expect((res.body.message as Message).text).to.equal(
      `Phoning the customer at ${TEXTER}: Ana's phone rings first.`,
    );
    expect(h().standIn.calls()).to.have.length(1);
  });

  it('from the web console: hello says calls go out, and `call` rings the agent', async () => {
    const { ana, conversationId } = await anaOwnsText();
    const socket: Socket = io(`${h().local}/agent`, {
      auth: { token: agentToken(h().sb.tokens, ana) },
      transports: ['websocket'],
      forceNew: true,
    });
    try {
      const hello = await new Promise<{ callsOut: boolean }>((resolve) => socket.once('hello', resolve));
      expect(hello.callsOut).to.equal(true);
      const ack = await socket.emitWithAck('call', { conversationId });
      expect(ack).to.deep.equal({ ok: true, to: TEXTER });
      const bad = await socket.emitWithAck('call', {});
      expect(bad.ok).to.equal(false);
      expect(bad.error.code).to.equal('invalid_input');
      expect(h().standIn.calls()).to.have.length(1);
    } finally {
      socket.close();
    }
  });
});

describe('Voice channel: phoning a customer without a number to call from', () => {
  const h = useTwilioHarness({ env: { TWILIO_FROM_NUMBER: '' } });

  it('is refused as channel_off, and the console is told calls do not go out', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'call me')));
    const [conversation] = await h().store.listConversations({});
    const err = await h()
      .sb.router.callCustomer(ana.id, conversation!.id)
      .then(
        () => null,
        (e: { code: string; message: string }) => [e.code, e.message],
      );
    expect(err).to.deep.equal(['channel_off', 'no number to call from: set TWILIO_FROM_NUMBER']);
    expect(h().sb.router.callsOut).to.equal(false);
    expect(h().standIn.calls()).to.deep.equal([]);
  });
});
