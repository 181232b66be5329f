// Call screening for agents rung on a phone number: their mobile's voicemail must
// not answer customers. The agent hears who waits and presses 1 to take the call
// (a call back, a call they asked to make); nothing pressed (a voicemail greeting)
// is a ring not answered. The whisper runs as Twilio runs `<Number url>`: after the
// phone is picked up, before the caller is put through; a whisper that hangs up
// ends the agent leg unbridged, and the caller's `<Dial action>` hears `completed`
// with `DialBridged=false`. Signed webhooks, the real app, the Twilio stand-in.
import { expect } from 'chai';
import { SAY } from '../../channels/voice/twiml.js';
import { loadConfig } from '../../server/config.js';
import { all, only, queryOf, verbs } from '../support/twiml.js';
import {
  callStatus,
  dialResult,
  gathered,
  incomingCall,
  incomingSms,
  localPath,
  newCall,
  newSms,
  queueResult,
  queueWait,
  SECOND,
  screenAnswer,
  screenedLegPicksUp,
  screenedOut,
  type TwilioHarness,
  useTwilioHarness,
} from './twilio-harness.js';

const CALLER = '+14155552001';
const ANA = '+14155550901';
const BO = '+14155550902';

async function callIn(h: TwilioHarness, from = CALLER) {
  const call = newCall(from);
  const root = await h.twiml('/twilio/voice', incomingCall(call));
  return { call, root, conversationId: queryOf(only(root, 'Dial').attrs.action).conversation! };
}

describe('Voice: call screening for agents rung on a phone number', () => {
  const h = useTwilioHarness();

  it('the phone rings with a whisper (press 1) and no answered callback; a Twilio Client identity is not screened', async () => {
    await h().agent('Ana', { phone: ANA });
    const { root } = await callIn(h());
    const dial = only(root, 'Dial');
    const number = only(root, 'Number');
    expect(number.text).to.equal(ANA);
    expect(localPath(number.attrs.url)).to.match(
      /^\/twilio\/voice\/screen\?conversation=cv_\w+&agent=ag_\w+$/,
    );
    expect(number.attrs.statusCallback).to.equal(undefined);
    expect(queryOf(dial.attrs.action).screen).to.equal('1');
    // It rings shorter than the offer (20 s) by what screening takes, so pressing 1 falls within it.
    expect(dial.attrs.timeout).to.equal('12');

    const other = await startClient(h());
    expect(only(other, 'Client').attrs.url).to.equal(undefined);
    expect(only(other, 'Client').attrs.statusCallback).to.match(/\/voice\/answered\?/);
  });

  it('a voicemail that answers presses nothing: the leg hangs up, the next agent rings, nobody owns it', async () => {
    const ana = await h().agent('Ana', { phone: ANA });
    const bo = await h().agent('Bo', { phone: BO });
    const { call, root, conversationId } = await callIn(h());
    h().clock.advance(12 * SECOND);
    const { leg, key, bridged } = await screenAnswer(h(), call, only(root, 'Dial'), null);
    expect(verbs(key)).to.deep.equal(['Hangup']);
    expect(bridged).to.equal(false);
    expect((await h().store.getConversation(conversationId))?.offer?.agentId).to.equal(ana.id);

    const next = await h().twiml(localPath(only(root, 'Dial').attrs.action), screenedOut(call, leg));
    expect(only(next, 'Number').text).to.equal(BO);
    expect(queryOf(only(next, 'Dial').attrs.action).agent).to.equal(bo.id);
    const conv = await h().store.getConversation(conversationId);
    expect([conv?.status, conv?.ownerId ?? null, conv?.offer?.agentId]).to.deep.equal([
      'queued',
      null,
      bo.id,
    ]);
    const a = await h().store.getAgent(ana.id);
    expect(a?.status).to.equal('away');
    expect(a?.statusReason).to.match(/^missed a call at \d\d:\d\d$/);
  });

  it('the agent presses 1: the call is theirs and the caller is put through; it ends as any answered call', async () => {
    const ana = await h().agent('Ana', { phone: ANA });
    const { call, root, conversationId } = await callIn(h());
    const { leg, key, bridged } = await screenAnswer(h(), call, only(root, 'Dial'), '1');
    expect(verbs(key)).to.deep.equal([]);
    expect(bridged).to.equal(true);
    const conv = await h().store.getConversation(conversationId);
    expect([conv?.status, conv?.ownerId]).to.deep.equal(['assigned', ana.id]);

    const after = await h().twiml(
      localPath(only(root, 'Dial').attrs.action),
      dialResult(call, 'completed', { DialCallSid: leg.CallSid, DialBridged: 'true' }),
    );
    expect(verbs(after)).to.deep.equal(['Hangup']);
    expect((await h().store.getConversation(conversationId))?.ownerId).to.equal(ana.id);
    expect((await h().store.getAgent(ana.id))?.status).to.equal('available');
  });

  it('a key pressed after the call went elsewhere: told so, and not put through', async () => {
    const ana = await h().agent('Ana', { phone: ANA });
    const { call, root, conversationId } = await callIn(h());
    await h().sb.router.declineOffer(ana.id, conversationId);
    const { key } = await screenAnswer(h(), call, only(root, 'Dial'), '1');
    expect(verbs(key)).to.deep.equal(['Say', 'Hangup']);
    expect(only(key, 'Say').text).to.equal(SAY.screenTaken);
  });

  it('a call back to an agent phone: their voicemail presses nothing, the next agent is rung; 1 dials the customer', async () => {
    // Ana and Bo each on a call; a third caller asks for a call back.
    const ana = await h().agent('Ana', { phone: ANA, capacity: { voice: 1 } });
    const first = await callIn(h(), '+14155552101');
    await screenAnswer(h(), first.call, only(first.root, 'Dial'), '1');
    const bo = await h().agent('Bo', { phone: BO, capacity: { voice: 1 } });
    const second = await callIn(h(), '+14155552102');
    await screenAnswer(h(), second.call, only(second.root, 'Dial'), '1');
    const waiting = newCall('+14155552103');
    const held = await h().twiml('/twilio/voice', incomingCall(waiting));
    const conversationId = queryOf(only(held, 'Enqueue').attrs.waitUrl).conversation!;
    await h().twiml(`/twilio/voice/wait?conversation=${conversationId}`, queueWait(waiting));
    await h().twiml(`/twilio/voice/gather?conversation=${conversationId}`, gathered(waiting, '1'));
    await h().twiml(`/twilio/voice/queue?conversation=${conversationId}`, queueResult(waiting, 'leave'));
    await h().twiml('/twilio/voice/status', callStatus(waiting, 'completed'));

    await h().sb.router.resolve(ana.id, first.conversationId);
    await h().idle();
    const [toAna] = h().standIn.calls();
    expect(toAna?.params.To).to.equal(ANA);
    expect(toAna?.params.Timeout).to.equal('12');
    const voicemail = await screenedLegPicksUp(h(), toAna!, null);
    expect(only(voicemail.screen, 'Say').text).to.equal(SAY.screenCallback);
    expect(verbs(voicemail.next)).to.deep.equal(['Hangup']);
    expect((await h().store.getAgent(ana.id))?.status).to.equal('away');
    // Not Ana's: the call back stays owed, and goes to Bo once he is free.
    expect((await h().store.getConversation(conversationId))?.ownerId ?? null).to.equal(null);
    expect((await h().sb.router.openCallback(conversationId))?.state).to.equal('open');

    await h().sb.router.resolve(bo.id, second.conversationId);
    await h().idle();
    const toBo = h().standIn.calls()[1];
    expect(toBo?.params.To).to.equal(BO);
    const taken = await screenedLegPicksUp(h(), toBo!, '1');
    expect(verbs(taken.next)).to.deep.equal(['Say', 'Dial']);
    expect(only(taken.next, 'Number').text).to.equal('+14155552103');
    expect((await h().store.getConversation(conversationId))?.ownerId).to.equal(bo.id);
  });

  it('"Call them" from an agent phone: the customer is dialled only once they press 1; a voicemail is noted', async () => {
    const ana = await h().agent('Ana', { phone: ANA });
    await h().twiml('/twilio/sms', incomingSms(newSms('+14155552201', 'please call me')));
    const [conversation] = await h().store.listConversations({});
    await h().sb.router.callCustomer(ana.id, conversation!.id);
    const [placed] = h().standIn.calls();
    const voicemail = await screenedLegPicksUp(h(), placed!, null);
    expect(only(voicemail.screen, 'Say').text).to.equal(SAY.screenOut);
    expect(verbs(voicemail.next)).to.deep.equal(['Hangup']);
    const notes = (await h().store.listMessages(conversation!.id))
      .filter((m) => m.direction === 'internal')
      .map((m) => m.text);
    expect(notes.at(-1)).to.equal(
      "The call to the customer at +14155552201 did not go out: nobody pressed 1 on the agent's phone (its voicemail may have answered).",
    );
    // Ana is no longer held as on the phone: she can place it again, and pressing 1 dials the customer.
    await h().sb.router.callCustomer(ana.id, conversation!.id);
    const again = h().standIn.calls()[1];
    const taken = await screenedLegPicksUp(h(), again!, '1');
    expect(verbs(taken.next)).to.deep.equal(['Say', 'Dial']);
    expect(only(taken.next, 'Number').text).to.equal('+14155552201');
  });

  it('screening webhooks are verified and parsed like the others', async () => {
    await h().agent('Ana', { phone: ANA });
    const { call, root } = await callIn(h());
    const url = localPath(only(root, 'Number').attrs.url);
    const params = { ...incomingCall(call), CallStatus: 'in-progress' };
    await h().webhook(url, params, { signature: null }).expect(403);
    // Signed over another query than the one posted to: refused.
    await h()
      .webhook(url, params, { signedUrl: `https://support.example.com${url.replace('agent=', 'agent=x')}` })
      .expect(403);
    const bad = await h()
      .webhook(url.replace(/agent=[^&]+/, 'agent='), params)
      .expect(400);
    expect(bad.text).to.match(/agent/);
    const key = url.replace('/voice/screen?', '/voice/screen/key?');
    const noDigits = await h()
      .webhook(key, { ...params, Digits: 'x'.repeat(40) })
      .expect(400);
    expect(noDigits.text).to.match(/Digits/);
  });
});

describe('Voice: call screening turned off', () => {
  const h = useTwilioHarness({ env: { TWILIO_SCREEN_AGENT_PHONES: 'off' } });

  it('rings the phone as before: answered is the agent picking up', async () => {
    await h().agent('Ana', { phone: ANA });
    const { root } = await callIn(h());
    expect(only(root, 'Number').attrs.url).to.equal(undefined);
    expect(only(root, 'Number').attrs.statusCallback).to.match(/\/voice\/answered\?/);
    expect(only(root, 'Dial').attrs.timeout).to.equal('20');
    expect(all(root, 'Gather')).to.deep.equal([]);
  });

  it('the setting is on or off, nothing else', () => {
    expect(() => loadConfig({ TWILIO_SCREEN_AGENT_PHONES: 'maybe' })).to.throw(/TWILIO_SCREEN_AGENT_PHONES/);
  });
});

/** A second caller rung through to Cy, who has a Twilio Client identity: the `<Dial>` they get. */
async function startClient(h: TwilioHarness) {
  await h.agent('Cy', { clientIdentity: 'cy' });
  return h.twiml('/twilio/voice', incomingCall(newCall('+14155552999')));
}
