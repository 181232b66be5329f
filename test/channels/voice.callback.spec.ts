// "Press 1 for a call back; you keep your place": the place is kept, the agent is
// called first (REST calls.create against the stand-in), then the customer; a
// missed call back is retried and the customer is told by text when it fails.
import { expect } from 'chai';
import { SAY } from '../../channels/voice/twiml.js';
import { defaultPolicy } from '../../routing/policy.js';
import type { Agent } from '../../shared/model.js';
import { only, parseTwiml, pathOf, queryOf, verbs } from '../support/twiml.js';
import {
  type Call,
  callStatus,
  dialResult,
  gathered,
  incomingCall,
  incomingSms,
  legPicksUp,
  localPath,
  newCall,
  newSms,
  OUR_NUMBER,
  outboundLeg,
  queueResult,
  SECOND,
  screenedLegPicksUp,
  type TwilioHarness,
  useTwilioHarness,
} from './twilio-harness.js';

/** What callers hear by default (the policy's texts). */
const TEXTS = defaultPolicy().texts;

let phones = 300;
const nextPhone = () => `+1415555${String(++phones).padStart(4, '0')}`;

async function busyAgent(h: TwilioHarness, name: string, input: { clientIdentity?: string; phone?: string }) {
  const agent = await h.agent(name, { ...input, capacity: { voice: 1 } });
  const dial = only(await h.twiml('/twilio/voice', incomingCall(newCall(nextPhone()))), 'Dial');
  const conversationId = queryOf(dial.attrs.action).conversation!;
  await h.sb.router.acceptOffer(agent.id, conversationId);
  return { agent, conversationId };
}

async function waitingCaller(h: TwilioHarness): Promise<{ call: Call; conversationId: string }> {
  const call = newCall(nextPhone());
  const root = await h.twiml('/twilio/voice', incomingCall(call));
  expect(verbs(root)).to.deep.equal(['Say', 'Enqueue']);
  h.clock.advance(SECOND);
  return { call, conversationId: queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation! };
}

/** The caller presses 1, hears the confirmation and hangs up. */
async function pressOne(h: TwilioHarness, waiting: { call: Call; conversationId: string }): Promise<void> {
  const leave = await h.twiml(
    `/twilio/voice/gather?conversation=${waiting.conversationId}`,
    gathered(waiting.call, '1'),
  );
  expect(verbs(leave)).to.deep.equal(['Leave']);
  const bye = await h.twiml(
    `/twilio/voice/queue?conversation=${waiting.conversationId}`,
    queueResult(waiting.call, 'leave'),
  );
  expect(verbs(bye)).to.deep.equal(['Say', 'Hangup']);
  // The number read back by its last four digits, one by one, and when.
  const digits = waiting.call.From.slice(-4).split('').join(' ');
  expect(only(bye, 'Say').text).to.match(
    new RegExp(
      `^We will call you back at the number ending in ${digits}, within about \\d+ minutes; you keep your place\\.$`,
    ),
  );
  await h.twiml('/twilio/voice/status', callStatus(waiting.call, 'completed'));
}

/**
 * Ana (a Twilio Client) is on a call, a second caller asks for a call back and hangs up, Ana resolves hers: the
 * call back's leg rings her. Ana, the waiting caller and that leg.
 */
async function callBackRinging(h: TwilioHarness) {
  const { agent: ana, conversationId: busy } = await busyAgent(h, 'Ana', { clientIdentity: 'ana' });
  const waiting = await waitingCaller(h);
  await pressOne(h, waiting);
  await h.sb.router.resolve(ana.id, busy);
  await h.idle();
  const [leg] = h.standIn.calls();
  if (!leg) throw new Error('no call back leg was placed');
  return { ana, waiting, leg };
}

describe('Voice channel: call back', () => {
  const h = useTwilioHarness({ env: { CALLBACK_RETRIES: '1', CALLBACK_RETRY_SECONDS: '15' } });

  it('keeps the place; when the turn comes the agent is called first, then the customer is connected', async () => {
    const { agent: ana, conversationId: busy } = await busyAgent(h(), 'Ana', { clientIdentity: 'ana' });
    const first = await waitingCaller(h());
    const second = await waitingCaller(h());
    await pressOne(h(), first);

    // Place kept: still waiting, still ahead of the second caller, and the call back is a promise.
    expect((await h().store.getConversation(first.conversationId))?.status).to.equal('queued');
    expect((await h().sb.router.quote(second.conversationId))?.position).to.equal(2);
    const promise = await h().sb.router.openCallback(first.conversationId);
    expect(promise?.kind).to.equal('callback');
    expect(h().eventsOf('conversation.abandoned')).to.deep.equal([]);
    expect(h().standIn.calls()).to.deep.equal([]);

    await h().sb.router.resolve(ana.id, busy);
    await h().idle();
    const placed = h().standIn.calls();
    expect(placed).to.have.length(1);
    const p = placed[0]!.params;
    expect([p.To, p.From, p.Method, p.Timeout, p.StatusCallbackEvent]).to.deep.equal([
      'client:ana',
      OUR_NUMBER,
      'POST',
      '20',
      'completed',
    ]);
    expect(pathOf(String(p.Url))).to.equal('/twilio/voice/callback/agent');
    // The legs' URLs (signed by Twilio) carry what any process needs to answer them: what the call back
    // was placed for (the offer), the customer's number and ours.
    const offer = (await h().store.getConversation(first.conversationId))?.offer;
    expect(offer?.agentId).to.equal(ana.id);
    const leg = {
      conversation: first.conversationId,
      agent: ana.id,
      placed: `offer-${offer?.at}`,
      customer: first.call.From,
      from: OUR_NUMBER,
    };
    expect(queryOf(String(p.Url))).to.deep.equal(leg);
    expect(pathOf(String(p.StatusCallback))).to.equal('/twilio/voice/callback/agent-status');
    expect(queryOf(String(p.StatusCallback))).to.deep.equal(leg);
    // The second caller, still on the line, was not moved.
    expect(h().standIn.callUpdates()).to.deep.equal([]);

    const onAgentLeg = await legPicksUp(h(), placed[0]!);
    expect(verbs(onAgentLeg)).to.deep.equal(['Say', 'Dial']);
    expect(only(onAgentLeg, 'Say').text).to.equal(SAY.callbackConnecting);
    const dial = only(onAgentLeg, 'Dial');
    expect(dial.attrs.callerId).to.equal(OUR_NUMBER);
    expect(only(onAgentLeg, 'Number').text).to.equal(first.call.From);
    expect(queryOf(dial.attrs.action)).to.deep.equal({ ...leg, attempt: '1' });
    const owned = await h().store.getConversation(first.conversationId);
    expect([owned?.status, owned?.ownerId]).to.deep.equal(['assigned', ana.id]);

    const done = await h().twiml(
      localPath(dial.attrs.action),
      dialResult({ CallSid: placed[0]!.sid, From: OUR_NUMBER, To: 'client:ana' }, 'completed', {
        DialCallDuration: '120',
      }),
    );
    expect(verbs(done)).to.deep.equal(['Hangup']);
    const [settled] = (await h().store.listPromises(first.conversationId)).filter(
      (x) => x.kind === 'callback',
    );
    expect(settled?.state).to.equal('kept');
    await h().twiml(
      localPath(String(p.StatusCallback)),
      outboundLeg(placed[0]!.sid, 'client:ana', 'completed'),
    );
    expect(h().standIn.messages()).to.deep.equal([]);
  });

  it('a caller owed a call back who texts keeps it: told so by text, and a free texting agent does not take it', async () => {
    const { agent: ana, conversationId: busy } = await busyAgent(h(), 'Ana', { clientIdentity: 'ana' });
    const waiting = await waitingCaller(h());
    await pressOne(h(), waiting);
    const sam = await h().agent('Sam', { capacity: { voice: 0, sms: 2 } });
    const answer = await h().twiml(
      '/twilio/sms',
      incomingSms(newSms(waiting.call.From, 'Hi, still waiting for my call back')),
    );
    const told = only(answer, 'Message').text;
    expect(told, told).to.match(
      /^We still owe you a call back, within \d+ minutes; you keep your place, and the person who calls will have read this\.$/,
    );
    expect((await h().store.getAgent(sam.id))?.load.sms).to.equal(0);
    expect((await h().sb.router.store.queueSnapshot(waiting.conversationId))?.channel).to.equal('voice');
    // Ana is free: the call back's leg rings her.
    await h().sb.router.resolve(ana.id, busy);
    await h().idle();
    expect(h().standIn.calls()).to.have.length(1);
  });

  it('a missed call back is retried; when that fails too, the customer is told by text', async () => {
    const { agent: ana, conversationId: busy } = await busyAgent(h(), 'Ana', { phone: '+14155550177' });
    const waiting = await waitingCaller(h());
    await pressOne(h(), waiting);
    await h().sb.router.resolve(ana.id, busy);
    await h().idle();
    const [placed] = h().standIn.calls();
    expect(placed?.params.To).to.equal('+14155550177');
    const leg = { CallSid: placed!.sid, From: OUR_NUMBER, To: '+14155550177' };

    // Screened on her phone: she presses 1, and the customer is dialled.
    const first = only((await screenedLegPicksUp(h(), placed!)).next, 'Dial');
    const retry = await h().twiml(localPath(first.attrs.action), dialResult(leg, 'busy'));
    expect(verbs(retry)).to.deep.equal(['Say', 'Pause', 'Dial']);
    // Told as it is: a busy line is not "did not answer".
    expect(only(retry, 'Say').text).to.equal("The customer's line is busy; trying again in 15 seconds.");
    expect(only(retry, 'Pause').attrs.length).to.equal('15');
    expect(queryOf(only(retry, 'Dial').attrs.action).attempt).to.equal('2');
    expect(only(retry, 'Number').text).to.equal(waiting.call.From);

    const gaveUp = await h().twiml(localPath(only(retry, 'Dial').attrs.action), dialResult(leg, 'no-answer'));
    expect(verbs(gaveUp)).to.deep.equal(['Say', 'Hangup']);
    expect(only(gaveUp, 'Say').text).to.equal(SAY.callbackFailed);
    await h().idle();

    const texts = h().standIn.messages();
    expect(texts).to.have.length(1);
    expect([texts[0]!.To, texts[0]!.From, texts[0]!.Body]).to.deep.equal([
      waiting.call.From,
      OUR_NUMBER,
      TEXTS.callbackFailed,
    ]);
    const promises = (await h().store.listPromises(waiting.conversationId)).filter(
      (x) => x.kind === 'callback',
    );
    expect(promises.map((x) => x.state)).to.deep.equal(['broken']);
    // The text is in the conversation, from Switchboard, sent; the agent still owns it.
    const out = (await h().store.listMessages(waiting.conversationId)).filter((m) => m.direction === 'out');
    expect(out.map((m) => [m.author.type, m.text, m.delivery.state])).to.deep.equal([
      ['system', TEXTS.callbackFailed, 'sent'],
    ]);
    expect((await h().store.getConversation(waiting.conversationId))?.ownerId).to.equal(ana.id);
  });

  it('an agent who does not pick up the call back goes away; the next agent to free up is called', async () => {
    const { agent: ana, conversationId: busy } = await busyAgent(h(), 'Ana', { clientIdentity: 'ana' });
    const bea: Agent = await h().agent('Bea', { clientIdentity: 'bea', status: 'away' });
    const waiting = await waitingCaller(h());
    await pressOne(h(), waiting);
    await h().sb.router.resolve(ana.id, busy);
    await h().idle();
    const [toAna] = h().standIn.calls();
    expect(toAna?.params.To).to.equal('client:ana');

    await h().twiml(
      localPath(String(toAna!.params.StatusCallback)),
      outboundLeg(toAna!.sid, 'client:ana', 'no-answer'),
    );
    const away = await h().store.getAgent(ana.id);
    expect([away?.status, away?.statusReason]).to.deep.equal([
      'away',
      `missed a call at ${new Date(h().clock.now()).toISOString().slice(11, 16)}`,
    ]);
    const conv = await h().store.getConversation(waiting.conversationId);
    expect([conv?.status, conv?.offer]).to.deep.equal(['queued', null]);

    await h().sb.router.setAgentStatus(bea.id, 'available');
    await h().idle();
    expect(
      h()
        .standIn.calls()
        .map((c) => c.params.To),
    ).to.deep.equal(['client:ana', 'client:bea']);
    // A late answer on Ana's old leg is turned away.
    const late = await legPicksUp(h(), toAna!);
    expect(verbs(late)).to.deep.equal(['Say', 'Hangup']);
    expect(only(late, 'Say').text).to.equal(SAY.callbackTaken);
  });

  it('a customer who calls again while owed a call back is told it stands; hanging up keeps it, being answered ends it', async () => {
    const { agent: ana, conversationId: busy } = await busyAgent(h(), 'Ana', { clientIdentity: 'ana' });
    const waiting = await waitingCaller(h());
    await pressOne(h(), waiting);
    const callbacks = async () =>
      (await h().store.listPromises(waiting.conversationId))
        .filter((x) => x.kind === 'callback')
        .map((x) => x.state);

    // A call to check: told the call back stands, then hangs up. Nothing is lost: not abandoned, still owed.
    const check = newCall(waiting.call.From);
    const again = await h().twiml('/twilio/voice', incomingCall(check));
    expect(verbs(again)).to.deep.equal(['Say', 'Say', 'Enqueue']);
    expect(again.children[0]!.text).to.equal(TEXTS.callbackStands);
    expect(queryOf(only(again, 'Enqueue').attrs.waitUrl).conversation).to.equal(waiting.conversationId);
    await h().twiml('/twilio/voice/status', callStatus(check, 'completed'));
    expect((await h().store.getConversation(waiting.conversationId))?.status).to.equal('queued');
    expect(await callbacks()).to.deep.equal(['open']);
    expect(h().eventsOf('conversation.abandoned')).to.deep.equal([]);

    // Calling again and holding this time: the free agent is put through to this call, not called back.
    const holding = newCall(waiting.call.From);
    expect(verbs(await h().twiml('/twilio/voice', incomingCall(holding)))).to.deep.equal([
      'Say',
      'Say',
      'Enqueue',
    ]);
    await h().sb.router.resolve(ana.id, busy);
    await h().idle();
    expect(h().standIn.calls()).to.deep.equal([]);
    const [moved] = h().standIn.callUpdates();
    expect(moved?.sid).to.equal(holding.CallSid);
    const client = only(parseTwiml(String(moved!.params.Twiml)), 'Client');
    expect(client.text).to.equal('ana');
    // Still owed until a person answers this call.
    expect(await callbacks()).to.deep.equal(['open']);
    await h().twiml(localPath(client.attrs.statusCallback!), callStatus(holding, 'in-progress'));
    expect(await callbacks()).to.deep.equal(['void']);
    const owned = await h().store.getConversation(waiting.conversationId);
    expect([owned?.status, owned?.ownerId]).to.deep.equal(['assigned', ana.id]);
  });

  it('the customer calling in while the call back rings the agent: that leg is canceled, not a ring she missed; their call rings her', async () => {
    const { ana, waiting, leg } = await callBackRinging(h());
    expect(leg?.params.To).to.equal('client:ana');
    const again = newCall(waiting.call.From);
    const root = await h().twiml('/twilio/voice', incomingCall(again));
    expect(only(root, 'Client').text).to.equal('ana');
    expect(
      h()
        .standIn.callUpdates()
        .map((u) => [u.sid, u.params.Status]),
    ).to.deep.equal([[leg.sid, 'canceled']]);
    // Twilio reports the leg canceled: ours, not a ring she missed.
    await h().twiml(
      localPath(String(leg.params.StatusCallback)),
      outboundLeg(leg.sid, 'client:ana', 'canceled'),
    );
    const anaNow = await h().store.getAgent(ana.id);
    expect([anaNow?.status, anaNow?.statusReason]).to.deep.equal(['available', undefined]);
    expect((await h().store.getConversation(waiting.conversationId))?.offer?.agentId).to.equal(ana.id);
  });

  it('the customer calling in while the agent is on the call back leg: the leg ends with a word to her, no retry and no text', async () => {
    const { waiting, leg } = await callBackRinging(h());
    const dial = only(await legPicksUp(h(), leg), 'Dial');
    // Their line is busy calling us.
    await h().twiml('/twilio/voice', incomingCall(newCall(waiting.call.From)));
    const [ended] = h().standIn.callUpdates();
    expect(ended?.sid).to.equal(leg.sid);
    expect(only(parseTwiml(String(ended!.params.Twiml)), 'Say').text).to.equal(SAY.callbackCustomerCalling);
    const afterDial = await h().twiml(
      localPath(dial.attrs.action),
      dialResult({ CallSid: leg.sid, From: OUR_NUMBER, To: 'client:ana' }, 'busy'),
    );
    expect(verbs(afterDial)).to.deep.equal(['Say', 'Hangup']);
    expect(only(afterDial, 'Say').text).to.equal(SAY.callbackCustomerCalling);
    await h().idle();
    expect(h().standIn.messages()).to.deep.equal([]);
    const states = (await h().store.listPromises(waiting.conversationId)).filter(
      (x) => x.kind === 'callback',
    );
    expect(states.map((x) => x.state)).to.deep.equal(['open']);
  });

  it('a customer owed a call back who hangs up while their call rings the agent is called back at once', async () => {
    const { agent: ana, conversationId: busy } = await busyAgent(h(), 'Ana', { clientIdentity: 'ana' });
    const waiting = await waitingCaller(h());
    await pressOne(h(), waiting);
    const holding = newCall(waiting.call.From);
    await h().twiml('/twilio/voice', incomingCall(holding));
    await h().sb.router.resolve(ana.id, busy);
    await h().idle();
    expect(
      h()
        .standIn.callUpdates()
        .map((u) => u.sid),
    ).to.deep.equal([holding.CallSid]);
    expect(h().standIn.calls()).to.deep.equal([]);
    await h().twiml('/twilio/voice/status', callStatus(holding, 'completed'));
    await h().idle();
    // The leg for the call back rings her now, once; nothing more is sent to the call that ended.
    const legs = h().standIn.calls();
    expect(legs.map((c) => c.params.To)).to.deep.equal(['client:ana']);
    expect(
      h()
        .standIn.callUpdates()
        .map((u) => u.sid),
    ).to.deep.equal([holding.CallSid]);
    expect((await h().store.getAgent(ana.id))?.status).to.equal('available');
  });

  it('an agent who accepts a call back in the console, then picks up, is put through to the customer', async () => {
    const { ana, waiting, leg } = await callBackRinging(h());
    expect(leg?.params.To).to.equal('client:ana');
    // The console's Accept comes first (what the web console's `offer.accept` does).
    h().clock.advance(2 * SECOND);
    await h().sb.router.acceptOffer(ana.id, waiting.conversationId);
    const onAgentLeg = await legPicksUp(h(), leg);
    expect(verbs(onAgentLeg)).to.deep.equal(['Say', 'Dial']);
    expect(only(onAgentLeg, 'Say').text).to.equal(SAY.callbackConnecting);
    expect(only(onAgentLeg, 'Number').text).to.equal(waiting.call.From);
  });

  it('a queue Twilio cannot hold the caller in turns into a call back', async () => {
    await busyAgent(h(), 'Ana', { clientIdentity: 'ana' });
    const waiting = await waitingCaller(h());
    const root = await h().twiml(
      `/twilio/voice/queue?conversation=${waiting.conversationId}`,
      queueResult(waiting.call, 'queue-full'),
    );
    expect(verbs(root)).to.deep.equal(['Say', 'Hangup']);
    expect(only(root, 'Say').text).to.match(
      /^We will call you back at the number ending in (\d ){3}\d, within about/,
    );
    expect((await h().sb.router.openCallback(waiting.conversationId))?.state).to.equal('open');
  });

  it('a caller waiting for their away owner who asks for a call back is called by the colleague who covers', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const caller = nextPhone();
    const chat = await h().sb.router.contact({
      channel: 'chat',
      from: 'visitor-9',
      text: 'hi',
      externalId: 'c9',
    });
    await h().sb.router.identify(chat.customer.id, { phone: caller }, 'chat:prechat');
    await h().sb.router.setAgentStatus(ana.id, 'away', 'lunch');
    const { agent: bea, conversationId: busy } = await busyAgent(h(), 'Bea', { clientIdentity: 'bea' });

    // Their owner is away and Bea is busy: they hold, in their own open conversation, and press 1.
    const call = newCall(caller);
    const root = await h().twiml('/twilio/voice', incomingCall(call));
    expect(verbs(root)).to.deep.equal(['Say', 'Enqueue']);
    const waiting = { call, conversationId: chat.conversation.id };
    expect(queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation).to.equal(waiting.conversationId);
    await pressOne(h(), waiting);

    // Bea frees up and covers it: the call back rings her, placed for that cover.
    await h().sb.router.resolve(bea.id, busy);
    await h().idle();
    const conv = await h().store.getConversation(waiting.conversationId);
    expect([conv?.ownerId, conv?.cover?.agentId]).to.deep.equal([ana.id, bea.id]);
    const [placed] = h().standIn.calls();
    expect(placed?.params.To).to.equal('client:bea');
    expect(queryOf(String(placed!.params.Url)).placed).to.equal(`cover-${conv?.cover?.since}`);
    const onLeg = await legPicksUp(h(), placed!);
    expect(verbs(onLeg)).to.deep.equal(['Say', 'Dial']);
    expect(only(onLeg, 'Number').text).to.equal(caller);
  });
});
