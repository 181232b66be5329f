// Phone calls through Twilio: signed webhooks in Twilio's parameter sets, TwiML
// read as XML, the real REST client against the local stand-in.
import { expect } from 'chai';
import supertest from 'supertest';
import { defaultPolicy, parsePolicy, TEXT_CAP } from '../../routing/policy.js';
import type { Agent } from '../../shared/model.js';
import { all, only, parseTwiml, pathOf, queryOf, verbs } from '../support/twiml.js';
import {
  type Call,
  callStatus,
  dialResult,
  gathered,
  incomingCall,
  incomingSms,
  localPath,
  MINUTE,
  newCall,
  newSms,
  queueResult,
  queueWait,
  SECOND,
  type TwilioHarness,
  useTwilioHarness,
} from './twilio-harness.js';

/** What callers hear by default (the policy's texts). */
const TEXTS = defaultPolicy().texts;

const CALLER = '+14155550123';
let phones = 200;
const nextPhone = () => `+1415555${String(++phones).padStart(4, '0')}`;

/** An agent who is on a call they answered (their one voice slot is taken). */
async function busyAgent(
  h: TwilioHarness,
  name: string,
  identity: string,
): Promise<{ agent: Agent; conversationId: string }> {
  const agent = await h.agent(name, { clientIdentity: identity, capacity: { voice: 1 } });
  const dial = only(await h.twiml('/twilio/voice', incomingCall(newCall(nextPhone()))), 'Dial');
  const conversationId = queryOf(dial.attrs.action).conversation!;
  expect(queryOf(dial.attrs.action).agent).to.equal(agent.id);
  await h.sb.router.acceptOffer(agent.id, conversationId);
  return { agent, conversationId };
}

/** A caller who is told to wait: returns the call and its conversation. */
async function waitingCaller(
  h: TwilioHarness,
  from = nextPhone(),
): Promise<{ call: Call; conversationId: string }> {
  const call = newCall(from);
  const root = await h.twiml('/twilio/voice', incomingCall(call));
  expect(verbs(root)).to.deep.equal(['Say', 'Enqueue']);
  h.clock.advance(SECOND); // arrival order is the line's order
  return { call, conversationId: queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation! };
}

describe('Voice channel (Twilio)', () => {
  const h = useTwilioHarness();

  describe('a call comes in', () => {
    it('goes straight to a free agent: <Dial> to their Twilio Client identity with an action, no menu', async () => {
      const ana = await h().agent('Ana', { clientIdentity: 'ana' });
      const call = newCall(CALLER);
      const root = await h().twiml('/twilio/voice', incomingCall(call));

      expect(verbs(root)).to.deep.equal(['Dial']);
      const dial = only(root, 'Dial');
      const conversationId = queryOf(dial.attrs.action).conversation!;
      expect(pathOf(dial.attrs.action)).to.equal('/twilio/voice/dial');
      expect(queryOf(dial.attrs.action)).to.deep.equal({ conversation: conversationId, agent: ana.id });
      expect(dial.attrs.timeout).to.equal('20');
      expect(dial.attrs.answerOnBridge).to.equal('true');
      expect(dial.children.map((c) => [c.name, c.text])).to.deep.equal([['Client', 'ana']]);
      const client = only(root, 'Client');
      expect(client.attrs.statusCallbackEvent).to.equal('answered');
      expect(pathOf(client.attrs.statusCallback)).to.equal('/twilio/voice/answered');
      expect(all(root, 'Say')).to.deep.equal([]);
      expect(all(root, 'Gather')).to.deep.equal([]);

      const conv = await h().store.getConversation(conversationId);
      expect(conv?.offer?.agentId).to.equal(ana.id);
      expect(conv?.channels).to.deep.equal(['voice']);
    });

    it('dials an agent without a Client identity on their phone number', async () => {
      const bo = await h().agent('Bo', { phone: '(415) 555-0199' });
      const root = await h().twiml('/twilio/voice', incomingCall(newCall(CALLER)));
      expect(only(root, 'Number').text).to.equal('+14155550199');
      expect(queryOf(only(root, 'Dial').attrs.action).agent).to.equal(bo.id);
    });

    it('the agent picking up makes them the owner; a finished call leaves the conversation open for them', async () => {
      const ana = await h().agent('Ana', { clientIdentity: 'ana' });
      const call = newCall(CALLER);
      const dial = only(await h().twiml('/twilio/voice', incomingCall(call)), 'Dial');
      const answered = localPath(
        only(await h().twiml('/twilio/voice', incomingCall(call)), 'Client').attrs.statusCallback,
      );
      const agentLeg = newCall(CALLER, 'client:ana');
      await h().twiml(answered, callStatus(agentLeg, 'in-progress', { ParentCallSid: call.CallSid }));
      const conversationId = queryOf(dial.attrs.action).conversation!;
      let conv = await h().store.getConversation(conversationId);
      expect([conv?.status, conv?.ownerId, conv?.offer]).to.deep.equal(['assigned', ana.id, null]);

      const after = await h().twiml(localPath(dial.attrs.action), dialResult(call, 'completed'));
      expect(verbs(after)).to.deep.equal(['Hangup']);
      await h().twiml('/twilio/voice/status', callStatus(call, 'completed'));
      conv = await h().store.getConversation(conversationId);
      expect([conv?.status, conv?.ownerId]).to.deep.equal(['assigned', ana.id]);
      expect(h().eventsOf('conversation.abandoned')).to.deep.equal([]);
    });

    it('once the agent has picked up, routing never moves the call: a consult or a colleague offered it leaves it', async () => {
      const ana = await h().agent('Ana', { clientIdentity: 'ana' });
      const bea = await h().agent('Bea', { clientIdentity: 'bea' });
      const call = newCall(CALLER);
      const root = await h().twiml('/twilio/voice', incomingCall(call));
      const conversationId = queryOf(only(root, 'Dial').attrs.action).conversation!;
      await h().twiml(
        localPath(only(root, 'Client').attrs.statusCallback),
        callStatus(newCall(CALLER, 'client:ana'), 'in-progress', { ParentCallSid: call.CallSid }),
      );
      await h().sb.router.consult(ana.id, conversationId, bea.id);
      await h().sb.router.joinConsult(bea.id, conversationId);
      await h().sb.router.leaveConsult(bea.id, conversationId);
      await h().sb.router.handoff(ana.id, conversationId, bea.id, 'billing question');
      await h().sb.router.declineHandoff(bea.id, conversationId);
      await h().idle();
      expect((await h().store.getConversation(conversationId))?.ownerId).to.equal(ana.id);
      expect(h().standIn.callUpdates()).to.deep.equal([]);
    });
  });

  describe('nobody is free', () => {
    it('says exactly one short sentence with the place and the pessimistic wait, then <Enqueue> with a wait URL', async () => {
      const ana = await h().agent('Ana', { clientIdentity: 'ana' });
      // Ana takes a first call, so the second caller waits for someone who exists (a real quote).
      await h().twiml('/twilio/voice', incomingCall(newCall('+14155550111')));
      await h().sb.router.acceptOffer(ana.id, (await h().store.listConversations({}))[0]!.id);

      const root = await h().twiml('/twilio/voice', incomingCall(newCall(CALLER)));
      expect(verbs(root)).to.deep.equal(['Say', 'Enqueue']);
      const say = only(root, 'Say').text;
      expect(say).to.match(/^You are number 1 in line; a person will be with you within \d+ minutes\.$/);
      expect(say.length).to.be.at.most(TEXT_CAP);
      const enqueue = only(root, 'Enqueue');
      expect(enqueue.text).to.equal('switchboard');
      expect(pathOf(enqueue.attrs.waitUrl)).to.equal('/twilio/voice/wait');
      expect(pathOf(enqueue.attrs.action)).to.equal('/twilio/voice/queue');
      expect(all(root, 'Play')).to.deep.equal([]);
    });
  });
  describe('a call retried by Twilio', () => {
    it('is stored and routed once: the same CallSid gets the same TwiML and nothing new', async () => {
      const ana = await h().agent('Ana', { clientIdentity: 'ana' });
      const call = newCall(CALLER);
      const first = await h().twiml('/twilio/voice', incomingCall(call));
      const again = await h().twiml('/twilio/voice', incomingCall(call));
      expect(again).to.deep.equal(first);
      const conversations = await h().store.listConversations({});
      expect(conversations).to.have.length(1);
      expect(
        (await h().store.listMessages(conversations[0]!.id)).filter((m) => m.direction === 'in'),
      ).to.have.length(1);
      expect(h().eventsOf('conversation.offered')).to.have.length(1);
      expect((await h().store.getAgent(ana.id))?.load.voice).to.equal(1);
    });

    it('from a blocked customer is rejected unanswered (<Reject reason="busy">), nothing stored, and counted', async () => {
      const ana = await h().agent('Ana', { clientIdentity: 'ana' });
      const call = newCall(CALLER);
      const first = await h().twiml('/twilio/voice', incomingCall(call));
      const conversationId = queryOf(only(first, 'Dial').attrs.action).conversation!;
      await h().sb.router.acceptOffer(ana.id, conversationId);
      await h().sb.router.blockFromConversation(ana.id, conversationId, 'abusive');
      const before = await h().store.listConversations({});

      const root = await h().twiml('/twilio/voice', incomingCall(newCall(CALLER)));
      expect(verbs(root)).to.deep.equal(['Reject']);
      expect(only(root, 'Reject').attrs.reason).to.equal('busy');
      expect(await h().store.listConversations({})).to.deep.equal(before);
      expect(await h().store.listMessages(conversationId)).to.have.length(1);
      const metrics = await supertest(h().local).get('/metrics').expect(200);
      expect(metrics.text).to.include('switchboard_blocked_contacts_total{channel="voice"} 1');
    });

    it('asked again after the customer was blocked, it is rejected, not rung again', async () => {
      await h().agent('Ana', { clientIdentity: 'ana' });
      const call = newCall(CALLER);
      expect(verbs(await h().twiml('/twilio/voice', incomingCall(call)))).to.deep.equal(['Dial']);
      const [conversation] = await h().store.listConversations({});
      await h().sb.router.blockCustomer(conversation!.customerId, 'admin', 'abuse');
      const again = await h().twiml('/twilio/voice', incomingCall(call));
      expect(verbs(again)).to.deep.equal(['Reject']);
    });

    it('a caller on hold whose customer is blocked is hung up; the hold loop ends the call too', async () => {
      await busyAgent(h(), 'Ana', 'ana');
      const waiting = await waitingCaller(h());
      const { customerId } = (await h().store.getConversation(waiting.conversationId))!;
      await h().sb.router.blockCustomer(customerId, 'admin', 'fraud');
      await h().idle();
      const updates = h().standIn.callUpdates();
      expect(updates.map((u) => [u.sid, u.params.Status])).to.deep.equal([
        [waiting.call.CallSid, 'completed'],
      ]);
      expect((await h().store.getConversation(waiting.conversationId))?.status).to.equal('abandoned');
      const root = await h().twiml(
        `/twilio/voice/wait?conversation=${waiting.conversationId}`,
        queueWait(waiting.call, 1),
      );
      expect(verbs(root)).to.deep.equal(['Hangup']);
      // Not counted as a caller who gave up.
      const metrics = await supertest(h().local).get('/metrics').expect(200);
      expect(metrics.text).to.not.match(/switchboard_abandoned_total\{channel="voice"\} [1-9]/);
    });

    it('a caller on hold whose customer is erased is hung up; the hold loop, finding nothing, ends the call too', async () => {
      await busyAgent(h(), 'Ana', 'ana');
      const waiting = await waitingCaller(h());
      const { customerId } = (await h().store.getConversation(waiting.conversationId))!;
      await h().sb.router.eraseCustomer(customerId, 'admin');
      await h().idle();
      expect(
        h()
          .standIn.callUpdates()
          .map((u) => [u.sid, u.params.Status]),
      ).to.deep.equal([[waiting.call.CallSid, 'completed']]);
      expect(await h().store.getConversation(waiting.conversationId)).to.equal(null);
      const root = await h().twiml(
        `/twilio/voice/wait?conversation=${waiting.conversationId}`,
        queueWait(waiting.call, 1),
      );
      expect(verbs(root)).to.deep.equal(['Hangup']);
    });
  });

  describe('the wait', () => {
    it('holds quietly; position and wait are repeated only when they changed, at most once a minute; "1" is offered', async () => {
      await busyAgent(h(), 'Ana', 'ana');
      const first = await waitingCaller(h());
      const second = await waitingCaller(h());
      const waitPath = `/twilio/voice/wait?conversation=${second.conversationId}`;

      // First round: nothing repeated (they just heard it), the call-back offer, silence.
      let root = await h().twiml(waitPath, queueWait(second.call, 2));
      expect(verbs(root)).to.deep.equal(['Gather']);
      const gather = only(root, 'Gather');
      expect(gather.attrs.numDigits).to.equal('1');
      expect(pathOf(gather.attrs.action)).to.equal('/twilio/voice/gather');
      expect(gather.children.map((c) => c.name)).to.deep.equal(['Say', 'Pause']);
      expect(only(root, 'Say').text).to.equal(TEXTS.callbackOffer);
      expect(all(root, 'Play')).to.deep.equal([]);

      // Nothing changed: only quiet hold.
      h().clock.advance(2 * MINUTE);
      root = await h().twiml(waitPath, queueWait(second.call, 2));
      expect(only(root, 'Gather').children.map((c) => c.name)).to.deep.equal(['Pause']);

      // The caller ahead hangs up: the place changed, and a minute has passed since they last heard it.
      await h().twiml('/twilio/voice/status', callStatus(first.call, 'completed'));
      root = await h().twiml(waitPath, queueWait(second.call, 1));
      const says = all(root, 'Say').map((n) => n.text);
      expect(says).to.have.length(2);
      expect(says[0]).to.match(/^You are number 1 in line; a person will be with you within \d+ minutes\.$/);
      expect(says[1]).to.equal(TEXTS.callbackOffer);

      // Said once; not again while it stays the same.
      h().clock.advance(5 * MINUTE);
      root = await h().twiml(waitPath, queueWait(second.call, 1));
      expect(all(root, 'Say')).to.deep.equal([]);
    });

    it('a change within a minute of the last notice waits until the minute has passed', async () => {
      await busyAgent(h(), 'Ana', 'ana');
      const first = await waitingCaller(h());
      const second = await waitingCaller(h());
      const waitPath = `/twilio/voice/wait?conversation=${second.conversationId}`;
      await h().twiml(waitPath, queueWait(second.call, 2));
      await h().twiml('/twilio/voice/status', callStatus(first.call, 'completed'));
      h().clock.advance(30 * SECOND);
      expect(all(await h().twiml(waitPath, queueWait(second.call, 1)), 'Say')).to.deep.equal([]);
      h().clock.advance(31 * SECOND);
      expect(all(await h().twiml(waitPath, queueWait(second.call, 1)), 'Say')).to.have.length(2);
    });

    it('a wait that runs late is said to the caller on the line with its new time, not texted to the phone they hold on', async () => {
      await busyAgent(h(), 'Ana', 'ana');
      const waiting = await waitingCaller(h());
      const waitPath = `/twilio/voice/wait?conversation=${waiting.conversationId}`;
      await h().twiml(waitPath, queueWait(waiting.call, 1));
      for (let i = 0; i < 120 && h().eventsOf('promise.at_risk').length === 0; i++)
        await h().later(30 * SECOND);
      const [risk] = h().eventsOf('promise.at_risk');
      expect(risk?.message.channel).to.equal('voice');
      expect(risk?.message.delivery.state).to.equal('sent');
      expect(risk?.message.text).to.match(/^Sorry, this is taking longer than we said\./);
      await h().idle();
      expect(h().standIn.messages()).to.deep.equal([]);
      // The next round of hold says it, once.
      const root = await h().twiml(waitPath, queueWait(waiting.call, 1));
      expect(all(root, 'Say').map((n) => n.text)[0]).to.equal(risk?.message.text);
      h().clock.advance(2 * MINUTE);
      expect(all(await h().twiml(waitPath, queueWait(waiting.call, 1)), 'Say')).to.deep.equal([]);
    });

    it('any key other than 1 goes back to holding', async () => {
      await busyAgent(h(), 'Ana', 'ana');
      const waiting = await waitingCaller(h());
      const root = await h().twiml(`/twilio/voice/gather?conversation=${waiting.conversationId}`, {
        ...queueWait(waiting.call),
        Digits: '5',
      });
      expect(verbs(root)).to.deep.equal(['Redirect']);
      expect(pathOf(only(root, 'Redirect').text)).to.equal('/twilio/voice/wait');
      expect(await h().sb.router.openCallback(waiting.conversationId)).to.equal(null);
    });
  });

  describe('an agent frees up while calls wait', () => {
    it('the oldest caller they can serve is sent to them by updating the live call with new TwiML', async () => {
      const { agent: ana, conversationId: busy } = await busyAgent(h(), 'Ana', 'ana');
      const older = await waitingCaller(h());
      h().clock.advance(10 * SECOND);
      const younger = await waitingCaller(h());

      await h().sb.router.resolve(ana.id, busy);
      await h().idle();

      const updates = h().standIn.callUpdates();
      expect(updates.map((u) => u.sid)).to.deep.equal([older.call.CallSid]);
      const twiml = parseTwiml(String(updates[0]!.params.Twiml));
      expect(verbs(twiml)).to.deep.equal(['Dial']);
      expect(only(twiml, 'Client').text).to.equal('ana');
      expect(queryOf(only(twiml, 'Dial').attrs.action)).to.deep.equal({
        conversation: older.conversationId,
        agent: ana.id,
      });
      expect((await h().store.getConversation(older.conversationId))?.offer?.agentId).to.equal(ana.id);
      expect((await h().store.getConversation(younger.conversationId))?.offer).to.equal(null);

      // Twilio tells the Enqueue action the call was redirected: the answer is the TwiML it now runs.
      const redirected = await h().twiml(
        `/twilio/voice/queue?conversation=${older.conversationId}`,
        queueResult(older.call, 'redirected'),
      );
      expect(redirected).to.deep.equal(twiml);
      // Twilio's other word for it, for a call it had bridged: the same answer, not a 400.
      const fromBridged = await h().twiml(
        `/twilio/voice/queue?conversation=${older.conversationId}`,
        queueResult(older.call, 'redirected-from-bridged'),
      );
      expect(fromBridged).to.deep.equal(twiml);
    });

    it('when the update does not reach the call, its next wait round leaves the queue and the action dials the agent', async () => {
      const { agent: ana, conversationId: busy } = await busyAgent(h(), 'Ana', 'ana');
      const waiting = await waitingCaller(h());
      h().standIn.failNext('call-update', { status: 503, code: 20503, message: 'Service unavailable' });
      await h().sb.router.resolve(ana.id, busy);
      await h().idle();
      expect(h().standIn.callUpdates()).to.deep.equal([]);

      const wait = await h().twiml(
        `/twilio/voice/wait?conversation=${waiting.conversationId}`,
        queueWait(waiting.call),
      );
      expect(verbs(wait)).to.deep.equal(['Leave']);
      const action = await h().twiml(
        `/twilio/voice/queue?conversation=${waiting.conversationId}`,
        queueResult(waiting.call, 'leave'),
      );
      expect(verbs(action)).to.deep.equal(['Dial']);
      expect(only(action, 'Client').text).to.equal('ana');
    });

    it('an offer that rings out on the router clock moves the live call to the next agent', async () => {
      const ana = await h().agent('Ana', { clientIdentity: 'ana' });
      const bea = await h().agent('Bea', { clientIdentity: 'bea' });
      const call = newCall(CALLER);
      const dial = only(await h().twiml('/twilio/voice', incomingCall(call)), 'Dial');
      expect(queryOf(dial.attrs.action).agent).to.equal(ana.id);

      h().clock.advance(21 * SECOND);
      await h().sb.router.tick();
      await h().idle();
      const updates = h().standIn.callUpdates();
      expect(updates.map((u) => u.sid)).to.deep.equal([call.CallSid]);
      expect(only(parseTwiml(String(updates[0]!.params.Twiml)), 'Client').text).to.equal('bea');
      expect((await h().store.getAgent(ana.id))?.statusReason).to.equal('missed_offer');

      // Ana's Dial ending late changes nothing: the call is Bea's now.
      const late = await h().twiml(localPath(dial.attrs.action), dialResult(call, 'no-answer'));
      expect(only(late, 'Client').text).to.equal('bea');
      const conversationId = queryOf(dial.attrs.action).conversation!;
      expect((await h().store.getConversation(conversationId))?.offer?.agentId).to.equal(bea.id);
    });
  });

  describe('an agent does not answer', () => {
    it('goes away with that reason, the next agent is tried, and the caller keeps their place', async () => {
      const ana = await h().agent('Ana', { clientIdentity: 'ana' });
      const bea = await h().agent('Bea', { phone: '+14155550188' });
      const call = newCall(CALLER);
      const first = only(await h().twiml('/twilio/voice', incomingCall(call)), 'Dial');
      const conversationId = queryOf(first.attrs.action).conversation!;
      const queuedAt = (await h().store.getConversation(conversationId))?.queuedAt;

      const next = await h().twiml(localPath(first.attrs.action), dialResult(call, 'no-answer'));
      expect(verbs(next)).to.deep.equal(['Dial']);
      expect(only(next, 'Number').text).to.equal('+14155550188');
      expect(queryOf(only(next, 'Dial').attrs.action).agent).to.equal(bea.id);
      const away = await h().store.getAgent(ana.id);
      const at = new Date(h().clock.now()).toISOString().slice(11, 16);
      expect([away?.status, away?.statusReason]).to.deep.equal(['away', `missed a call at ${at}`]);

      // Bea declines it (busy): one sentence and hold, still first in line, same place; she stays available. Ana
      // away and Bea not rung for them again, nobody can answer this caller now: they are told so, not a wait.
      const last = await h().twiml(localPath(only(next, 'Dial').attrs.action), dialResult(call, 'busy'));
      expect(verbs(last)).to.deep.equal(['Say', 'Enqueue']);
      expect(only(last, 'Say').text).to.equal(h().sb.router.policy.texts.nobodyFree);
      const conv = await h().store.getConversation(conversationId);
      expect([conv?.status, conv?.queuedAt]).to.deep.equal(['queued', queuedAt]);
      const bea2 = await h().store.getAgent(bea.id);
      expect([bea2?.status, bea2?.statusReason]).to.deep.equal(['available', undefined]);
    });

    it('an agent with nothing to ring is skipped the same way', async () => {
      const ana = await h().agent('Ana');
      await h().agent('Bea', { clientIdentity: 'bea' });
      const root = await h().twiml('/twilio/voice', incomingCall(newCall(CALLER)));
      expect(only(root, 'Client').text).to.equal('bea');
      expect((await h().store.getAgent(ana.id))?.status).to.equal('away');
    });
  });

  describe('the caller hangs up while waiting', () => {
    it('is abandoned, counted, and the quoted wait is a broken promise once it had passed', async () => {
      await busyAgent(h(), 'Ana', 'ana');
      const waiting = await waitingCaller(h());
      const [wait] = await h().store.listPromises(waiting.conversationId);
      expect([wait?.kind, wait?.state]).to.deep.equal(['wait', 'open']);
      h().clock.set(wait!.dueAt + SECOND);

      await h().twiml(
        `/twilio/voice/queue?conversation=${waiting.conversationId}`,
        queueResult(waiting.call, 'hangup'),
      );
      await h().twiml('/twilio/voice/status', callStatus(waiting.call, 'completed'));

      expect((await h().store.getConversation(waiting.conversationId))?.status).to.equal('abandoned');
      expect(h().eventsOf('conversation.abandoned')).to.have.length(1);
      expect((await h().store.listPromises(waiting.conversationId))[0]?.state).to.equal('broken');
      const text =
        (await h().sb.metrics.registry.getSingleMetricAsString('switchboard_abandoned_total')) ?? '';
      expect(text).to.contain('switchboard_abandoned_total{channel="voice"} 1');
    });

    it('back soon by text or by phone, they keep their place and are told so, before the wait (tried as a caller who was cut off)', async () => {
      const { agent: ana } = await busyAgent(h(), 'Ana', 'ana');
      await h().sb.router.updateAgent(ana.id, { capacity: { voice: 1, sms: 0 } });
      const bea = await h().agent('Bea', { capacity: { voice: 0, sms: 1 } });
      await h()
        .webhook('/twilio/sms', incomingSms(newSms(nextPhone(), 'Bea is busy with me')))
        .expect(200);
      expect((await h().store.getAgent(bea.id))?.load.sms).to.equal(1);
      const texter = await waitingCaller(h());
      const caller = await waitingCaller(h());
      h().clock.advance(2 * MINUTE);
      for (const waiting of [texter, caller]) {
        await h().twiml(
          `/twilio/voice/queue?conversation=${waiting.conversationId}`,
          queueResult(waiting.call, 'hangup'),
        );
        await h().twiml('/twilio/voice/status', callStatus(waiting.call, 'completed'));
      }
      h().clock.advance(30 * SECOND);

      const text = await h().twiml(
        '/twilio/sms',
        incomingSms(newSms(texter.call.From, 'I got cut off. Is my refund coming?')),
      );
      expect(only(text, 'Message').text).to.match(
        /^You keep the place in line you had before\. You are number 1 in line; a person will be with you within \d+ minutes\.$/,
      );
      const again = await h().twiml('/twilio/voice', incomingCall(newCall(caller.call.From)));
      expect(verbs(again)).to.deep.equal(['Say', 'Say', 'Enqueue']);
      const [kept, wait] = all(again, 'Say').map((n) => n.text);
      expect(kept).to.equal(TEXTS.placeKept);
      expect(wait).to.match(/^You are number 1 in line; a person will be with you within \d+ minutes\.$/);

      // A new caller, who gave nothing up, hears the wait alone.
      const fresh = await h().twiml('/twilio/voice', incomingCall(newCall(nextPhone())));
      expect(all(fresh, 'Say').map((n) => n.text)).to.have.length(1);
    });

    it('before the quoted wait passed, the promise is void, not broken', async () => {
      await busyAgent(h(), 'Ana', 'ana');
      const waiting = await waitingCaller(h());
      await h().twiml('/twilio/voice/status', callStatus(waiting.call, 'completed'));
      expect((await h().store.getConversation(waiting.conversationId))?.status).to.equal('abandoned');
      expect((await h().store.listPromises(waiting.conversationId))[0]?.state).to.equal('void');
    });
  });

  describe('the owner is not there but the conversation is open', () => {
    it('a colleague covers the call; the owner stays owner of record and a note tells them', async () => {
      const ana = await h().agent('Ana', { clientIdentity: 'ana' });
      const chat = await h().sb.router.contact({
        channel: 'chat',
        from: 'visitor-1',
        text: 'hi',
        externalId: 'c1',
      });
      expect(chat.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      await h().sb.router.identify(chat.customer.id, { phone: CALLER }, 'chat:prechat');
      await h().sb.router.setAgentStatus(ana.id, 'away', 'lunch');
      const bea = await h().agent('Bea', { clientIdentity: 'bea' });

      const call = newCall(CALLER);
      const root = await h().twiml('/twilio/voice', incomingCall(call));
      expect(only(root, 'Client').text).to.equal('bea');
      const dial = only(root, 'Dial');
      expect(queryOf(dial.attrs.action)).to.deep.equal({ conversation: chat.conversation.id, agent: bea.id });

      const conv = await h().store.getConversation(chat.conversation.id);
      expect([conv?.ownerId, conv?.cover?.agentId, conv?.lastChannel]).to.deep.equal([
        ana.id,
        bea.id,
        'voice',
      ]);
      const notes = (await h().store.listMessages(chat.conversation.id)).filter(
        (m) => m.direction === 'internal',
      );
      expect(notes.map((n) => n.text)).to.deep.equal([
        'Bea covers the voice contact while Ana is away; Ana stays the owner.',
      ]);

      // The call ends: Bea is free again, Ana still owns it.
      await h().twiml('/twilio/voice/status', callStatus(call, 'completed'));
      const after = await h().store.getConversation(chat.conversation.id);
      expect([after?.status, after?.ownerId, after?.cover]).to.deep.equal(['assigned', ana.id, null]);
      expect((await h().store.getAgent(bea.id))?.load.voice).to.equal(0);
    });
  });

  describe('the owner is available but cannot take the call (tried as a customer who texted, then calls)', () => {
    /** A texter whose conversation Ana owns and answered; she has `voice` places. */
    async function texted(voice: number) {
      const ana = await h().agent('Ana', { clientIdentity: 'ana', capacity: { voice, sms: 3 } });
      const texted = await h().sb.router.contact({
        channel: 'sms',
        from: CALLER,
        text: 'Where is order 77?',
        externalId: 'SM-77',
      });
      expect(texted.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      await h().sb.router.reply(ana.id, texted.conversation.id, 'Let me check.', 'r1');
      return { ana, conversationId: texted.conversation.id };
    }

    it('on another call: a free colleague covers at once; Ana is not rung, nor set away, and stays the owner', async () => {
      const { ana, conversationId } = await texted(1);
      // Ana is on a call with someone else.
      const other = only(await h().twiml('/twilio/voice', incomingCall(newCall('+14155550111'))), 'Dial');
      await h().sb.router.acceptOffer(ana.id, queryOf(other.attrs.action).conversation!);
      const bea = await h().agent('Bea', { clientIdentity: 'bea', capacity: { voice: 1, sms: 0 } });

      const call = newCall(CALLER);
      const root = await h().twiml('/twilio/voice', incomingCall(call));
      expect(only(root, 'Client').text).to.equal('bea');
      expect(queryOf(only(root, 'Dial').attrs.action)).to.deep.equal({
        conversation: conversationId,
        agent: bea.id,
      });
      const conv = await h().store.getConversation(conversationId);
      expect([conv?.ownerId, conv?.cover?.agentId]).to.deep.equal([ana.id, bea.id]);
      const notes = (await h().store.listMessages(conversationId)).filter((m) => m.direction === 'internal');
      expect(notes.map((n) => n.text)).to.deep.equal([
        'Bea covers the voice contact while Ana is on another call; Ana stays the owner.',
      ]);
      // Nothing rang Ana: past the ring time she is still available, her own call undisturbed.
      await h().later(30 * SECOND);
      expect((await h().store.getAgent(ana.id))?.status).to.equal('available');
      expect(
        h()
          .eventsOf('conversation.offered')
          .filter((e) => e.agentId === ana.id),
      ).to.have.length(1);
    });

    it('taking no calls: a free colleague covers; with nobody free, Ana is rung as before', async () => {
      const { ana, conversationId } = await texted(0);
      const bea = await h().agent('Bea', { clientIdentity: 'bea', capacity: { voice: 1, sms: 0 } });
      const call = newCall(CALLER);
      const first = await h().twiml('/twilio/voice', incomingCall(call));
      expect(only(first, 'Client').text).to.equal('bea');
      const notes = (await h().store.listMessages(conversationId)).filter((m) => m.direction === 'internal');
      expect(notes.map((n) => n.text)).to.deep.equal([
        'Bea covers the voice contact while Ana takes no calls; Ana stays the owner.',
      ]);
      await h().twiml('/twilio/voice/status', callStatus(call, 'completed'));
      // Bea is away: nobody else could answer, so the owner is rung (a call cannot wait for a colleague who is not there).
      await h().sb.router.setAgentStatus(bea.id, 'away', 'lunch');
      const again = await h().twiml('/twilio/voice', incomingCall(newCall(CALLER)));
      expect(only(again, 'Client').text).to.equal('ana');
      expect(queryOf(only(again, 'Dial').attrs.action).agent).to.equal(ana.id);
    });
  });
});

describe('Voice channel: hold music', () => {
  const h = useTwilioHarness({ env: { HOLD_MUSIC_URL: 'https://cdn.example.com/quiet-piano.mp3' } });

  it('plays the configured music (no advert, no speech) inside the <Gather>', async () => {
    await busyAgent(h(), 'Ana', 'ana');
    const waiting = await waitingCaller(h());
    await h().twiml(`/twilio/voice/wait?conversation=${waiting.conversationId}`, queueWait(waiting.call));
    const root = await h().twiml(
      `/twilio/voice/wait?conversation=${waiting.conversationId}`,
      queueWait(waiting.call),
    );
    expect(verbs(root)).to.deep.equal(['Gather']);
    expect(only(root, 'Gather').children.map((c) => [c.name, c.text])).to.deep.equal([
      ['Play', 'https://cdn.example.com/quiet-piano.mp3'],
    ]);
  });
});

describe('Voice channel: opening hours', () => {
  // The manual clock starts on Monday 5 January 2026, 09:00 UTC: 04:00 in New York, which opens at 09:00.
  const hours = { timeZone: 'America/New_York', week: { mon: '09:00-17:00' } };
  const h = useTwilioHarness({ env: { ROUTING_POLICY: JSON.stringify({ hours }) } });

  it('a caller outside them hears when the team opens and is offered a call back; not taken, the call ends with a goodbye', async () => {
    const call = newCall(CALLER);
    let root = await h().twiml('/twilio/voice', incomingCall(call));
    expect(verbs(root)).to.deep.equal(['Say', 'Enqueue']);
    // Nobody holds five hours on a phone: no place to keep is promised…
    expect(only(root, 'Say').text).to.equal('We are closed right now and open again in 5 hours.');
    const conversationId = queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation!;
    const waitPath = `/twilio/voice/wait?conversation=${conversationId}`;
    // …one round with the offer of a call back…
    root = await h().twiml(waitPath, queueWait(call, 1));
    expect(all(root, 'Say').map((n) => n.text)).to.deep.equal([TEXTS.closedCallbackOffer]);
    expect(TEXTS.closedCallbackOffer).to.equal(
      'Press 1 and we will call you back when we are open; otherwise this call will end.',
    );
    // …then, no key pressed, the call leaves the queue and ends politely.
    root = await h().twiml(waitPath, queueWait(call, 1));
    expect(verbs(root)).to.deep.equal(['Leave']);
    root = await h().twiml(`/twilio/voice/queue?conversation=${conversationId}`, queueResult(call, 'leave'));
    expect(verbs(root)).to.deep.equal(['Say', 'Hangup']);
    expect(only(root, 'Say').text).to.equal('Thank you for calling; please call again when we are open.');
  });

  it('the goodbye closes the conversation itself: no status callback needed, and a late one changes nothing', async () => {
    // Bea is owed a call back; Ana starts work at the opening.
    const ana = await h().agent('Ana', { clientIdentity: 'ana', status: 'offline' });
    const owed = newCall('+14155550124');
    const owedRoot = await h().twiml('/twilio/voice', incomingCall(owed));
    const owedId = queryOf(only(owedRoot, 'Enqueue').attrs.waitUrl).conversation!;
    await h().twiml(`/twilio/voice/wait?conversation=${owedId}`, queueWait(owed, 1));
    await h().twiml(`/twilio/voice/gather?conversation=${owedId}`, gathered(owed, '1'));
    await h().twiml(`/twilio/voice/queue?conversation=${owedId}`, queueResult(owed, 'leave'));
    await h().twiml('/twilio/voice/status', callStatus(owed, 'completed'));
    h().clock.advance(SECOND);

    // A second caller does not press 1 and hears the goodbye; Twilio's status callback does not come.
    const call = newCall(CALLER);
    const root = await h().twiml('/twilio/voice', incomingCall(call));
    const conversationId = queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation!;
    await h().twiml(`/twilio/voice/wait?conversation=${conversationId}`, queueWait(call, 2));
    await h().twiml(`/twilio/voice/wait?conversation=${conversationId}`, queueWait(call, 2));
    const bye = await h().twiml(
      `/twilio/voice/queue?conversation=${conversationId}`,
      queueResult(call, 'leave'),
    );
    expect(only(bye, 'Say').text).to.equal(TEXTS.closedGoodbye);
    expect((await h().store.getConversation(conversationId))?.status).to.equal('abandoned');
    expect(
      h()
        .eventsOf('conversation.abandoned')
        .map((e) => e.conversation.id),
    ).to.deep.equal([conversationId]);

    // The opening: Ana is rung for the call back owed, not offered the caller who is gone.
    await h().later(5 * 60 * MINUTE);
    await h().sb.router.setAgentStatus(ana.id, 'available');
    await h().idle();
    expect(
      h()
        .standIn.calls()
        .map((c) => c.params.To),
    ).to.deep.equal(['client:ana']);
    expect((await h().store.getConversation(owedId))?.offer?.agentId).to.equal(ana.id);
    expect((await h().store.getAgent(ana.id))?.status).to.equal('available');

    // The status callback arriving late is answered and changes nothing.
    await h().twiml('/twilio/voice/status', callStatus(call, 'completed'));
    expect((await h().store.getConversation(conversationId))?.status).to.equal('abandoned');
    expect(h().eventsOf('conversation.abandoned')).to.have.length(1);
  });

  it('a caller outside them who presses 1 is called back once the team is open', async () => {
    const call = newCall(CALLER);
    const root = await h().twiml('/twilio/voice', incomingCall(call));
    const conversationId = queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation!;
    await h().twiml(`/twilio/voice/wait?conversation=${conversationId}`, queueWait(call, 1));
    expect(
      verbs(await h().twiml(`/twilio/voice/gather?conversation=${conversationId}`, gathered(call, '1'))),
    ).to.deep.equal(['Leave']);
    const bye = await h().twiml(
      `/twilio/voice/queue?conversation=${conversationId}`,
      queueResult(call, 'leave'),
    );
    expect(only(bye, 'Say').text).to.equal(
      'We will call you back at the number ending in 0 1 2 3, when we are open; you keep your place.',
    );
    const promise = await h().sb.router.openCallback(conversationId);
    // Due after the opening (5 hours), not before.
    expect(promise!.dueAt - h().clock.now()).to.be.greaterThan(5 * 60 * MINUTE);
  });

  it('a caller owed a call back who calls again outside them is told it stands, and when, and the call ends', async () => {
    const first = newCall(CALLER);
    const root = await h().twiml('/twilio/voice', incomingCall(first));
    const conversationId = queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation!;
    await h().twiml(`/twilio/voice/wait?conversation=${conversationId}`, queueWait(first, 1));
    await h().twiml(`/twilio/voice/gather?conversation=${conversationId}`, gathered(first, '1'));
    await h().twiml(`/twilio/voice/queue?conversation=${conversationId}`, queueResult(first, 'leave'));
    await h().twiml('/twilio/voice/status', callStatus(first, 'completed'));

    const again = newCall(CALLER);
    const greeting = await h().twiml('/twilio/voice', incomingCall(again));
    expect(all(greeting, 'Say').map((n) => n.text)).to.deep.equal([
      TEXTS.callbackStands,
      'We are closed right now and open again in 5 hours.',
    ]);
    // Not offered a call back again: it stands, said with its number and time, and the call ends.
    const round = await h().twiml(`/twilio/voice/wait?conversation=${conversationId}`, queueWait(again, 1));
    expect(verbs(round)).to.deep.equal(['Leave']);
    const bye = await h().twiml(
      `/twilio/voice/queue?conversation=${conversationId}`,
      queueResult(again, 'leave'),
    );
    expect(only(bye, 'Say').text).to.equal(
      'We will call you back at the number ending in 0 1 2 3, when we are open; you keep your place.',
    );
    await h().twiml('/twilio/voice/status', callStatus(again, 'completed'));
    expect((await h().sb.router.openCallback(conversationId))?.state).to.equal('open');
    expect((await h().store.getConversation(conversationId))?.status).to.equal('queued');
  });

  it('a caller a few minutes before the opening holds on, and is told again when the minutes said change', async () => {
    h().clock.advance((4 * 60 + 50) * MINUTE); // 08:50 in New York
    const call = newCall(CALLER);
    let root = await h().twiml('/twilio/voice', incomingCall(call));
    expect(only(root, 'Say').text).to.equal(
      'We are closed right now and open again in 10 minutes; a person will answer then. You keep your place.',
    );
    const conversationId = queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation!;
    const waitPath = `/twilio/voice/wait?conversation=${conversationId}`;
    root = await h().twiml(waitPath, queueWait(call, 1));
    expect(all(root, 'Say').map((n) => n.text)).to.deep.equal([TEXTS.callbackOffer]);
    h().clock.advance(20 * SECOND);
    root = await h().twiml(waitPath, queueWait(call, 1));
    expect(verbs(root)).to.deep.equal(['Gather']);
    h().clock.advance(5 * MINUTE);
    root = await h().twiml(waitPath, queueWait(call, 1));
    expect(all(root, 'Say').map((n) => n.text)[0]).to.match(
      /^We are closed right now and open again in [45] minutes/,
    );
  });
});

describe('Voice channel: a team that speaks Spanish (policy texts, locale, callerVoice)', () => {
  // Monday 5 January 2026, 09:00 UTC: 04:00 in New York, which opens at 09:00.
  const policy = {
    hours: { timeZone: 'America/New_York', week: { mon: '09:00-17:00' } },
    locale: 'es-MX',
    callerVoice: { language: 'es-MX', voice: 'Polly.Mia' },
    texts: {
      waitNotice: 'Usted es el número {position} en la fila; una persona le atenderá en menos de {wait}.',
      callbackOffer: 'Marque 1 y le llamamos; conserva su lugar.',
      closedCall: 'Estamos cerrados; abrimos {opens}.',
      closedCallbackOffer: 'Marque 1 y le llamamos cuando abramos; si no, la llamada termina.',
      callbackConfirmed: 'Le llamaremos al número que termina en {digits}, {when}; conserva su lugar.',
      callbackWhenOpen: 'cuando abramos',
      callbackWithin: 'en unos {wait}',
    },
  };
  const h = useTwilioHarness({ env: { ROUTING_POLICY: JSON.stringify(policy) } });
  const spoken = (root: ReturnType<typeof parseTwiml>) =>
    all(root, 'Say').map((n) => [n.text, n.attrs.language, n.attrs.voice]);

  it('a caller hears every sentence in the Spanish texts and voice: closed, the offer, the call back confirmed', async () => {
    const call = newCall(CALLER);
    let root = await h().twiml('/twilio/voice', incomingCall(call));
    expect(spoken(root)).to.deep.equal([
      ['Estamos cerrados; abrimos dentro de 5 horas.', 'es-MX', 'Polly.Mia'],
    ]);
    const conversationId = queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation!;
    root = await h().twiml(`/twilio/voice/wait?conversation=${conversationId}`, queueWait(call, 1));
    expect(spoken(root)).to.deep.equal([
      ['Marque 1 y le llamamos cuando abramos; si no, la llamada termina.', 'es-MX', 'Polly.Mia'],
    ]);
    await h().twiml(`/twilio/voice/gather?conversation=${conversationId}`, gathered(call, '1'));
    root = await h().twiml(`/twilio/voice/queue?conversation=${conversationId}`, queueResult(call, 'leave'));
    expect(spoken(root)).to.deep.equal([
      [
        'Le llamaremos al número que termina en 0 1 2 3, cuando abramos; conserva su lugar.',
        'es-MX',
        'Polly.Mia',
      ],
    ]);
  });

  it('open and busy: the wait in Spanish minutes and the offer; the call back within a Spanish time', async () => {
    await h().later(6 * 60 * MINUTE); // 10:00 in New York
    const ana = await h().agent('Ana', { clientIdentity: 'ana', capacity: { voice: 1 } });
    const first = await h().twiml('/twilio/voice', incomingCall(newCall('+14155550100')));
    await h().sb.router.acceptOffer(ana.id, queryOf(only(first, 'Dial').attrs.action).conversation!);
    const call = newCall(CALLER);
    let root = await h().twiml('/twilio/voice', incomingCall(call));
    const [[wait, language, voice]] = spoken(root) as [[string, string, string]];
    expect([language, voice]).to.deep.equal(['es-MX', 'Polly.Mia']);
    expect(wait).to.match(
      /^Usted es el número 1 en la fila; una persona le atenderá en menos de \d+ minutos\.$/,
    );
    const conversationId = queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation!;
    root = await h().twiml(`/twilio/voice/wait?conversation=${conversationId}`, queueWait(call, 1));
    expect(spoken(root)).to.deep.equal([
      ['Marque 1 y le llamamos; conserva su lugar.', 'es-MX', 'Polly.Mia'],
    ]);
    await h().twiml(`/twilio/voice/gather?conversation=${conversationId}`, gathered(call, '1'));
    root = await h().twiml(`/twilio/voice/queue?conversation=${conversationId}`, queueResult(call, 'leave'));
    expect(only(root, 'Say').text).to.match(
      /^Le llamaremos al número que termina en 0 1 2 3, en unos \d+ minutos; conserva su lugar\.$/,
    );
  });

  it('a voice that is not a Twilio name, or a language that is not a tag, is refused at start by name', () => {
    expect(() => parsePolicy({ callerVoice: { voice: 'Polly Mia!' } })).to.throw(/callerVoice\.voice/);
    expect(() => parsePolicy({ callerVoice: { language: 'spanish please' } })).to.throw(
      /callerVoice\.language/,
    );
    expect(() => parsePolicy({ callerVoice: { speed: 2 } })).to.throw(/callerVoice/);
  });
});
