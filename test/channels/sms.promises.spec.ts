// Honest waits, surveys, follow-ups and repeat contacts over text messages: signed
// "a message comes in" webhooks in, replies through the real REST client against
// the local Twilio stand-in. Timers fire only when a test ticks the router.
import { expect } from 'chai';
import { verbs } from '../support/twiml.js';
import { incomingSms, MINUTE, newSms, SECOND, useTwilioHarness } from './twilio-harness.js';

const TEXTER = '+14155550142';
const OTHER = '+14155550101';
const SURVEY = 'How did we do? Reply with 1-5 (5 is best), then one thing we should fix.';

describe('SMS channel: promises, surveys, follow-ups (Twilio)', () => {
  const h = useTwilioHarness();

  /** Bodies of the texts sent to `to` through Twilio's REST API, in order. */
  const textsTo = (to: string) =>
    h()
      .standIn.messages()
      .filter((m) => m.To === to)
      .map((m) => m.Body);

  async function tick(ms: number): Promise<void> {
    h().clock.advance(ms);
    await h().sb.router.tick();
    await h().idle();
  }

  /** A text from TEXTER answered and resolved by Ana; the survey has not gone out yet. */
  async function resolvedText() {
    const ana = await h().agent('Ana');
    await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'my parcel is lost')));
    const [conv] = await h().store.listConversations({});
    await h().sb.router.reply(ana.id, conv!.id, 'Found it: it arrives tomorrow.');
    await h().sb.router.resolve(ana.id, conv!.id);
    await h().idle();
    return { ana, conversationId: conv!.id };
  }

  it('a texter whose person went offline is told when their message moves to the line, and their place there', async () => {
    const ana = await h().agent('Ana', { capacity: { sms: 1 } });
    await h().agent('Bea', { capacity: { sms: 1 } });
    await h().twiml('/twilio/sms', incomingSms(newSms(OTHER, 'first')));
    await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'my parcel is lost')));
    const conv = (await h().store.listConversations({})).find((c) => c.ownerId === ana.id)!;
    const texter = (await h().store.getCustomer(conv.customerId))!.identities[0]!.address;
    await h().sb.router.reply(ana.id, conv.id, 'Looking into it.');
    await h().idle();
    expect(textsTo(texter)).to.deep.equal(['Looking into it.']);
    await h().sb.router.setAgentStatus(ana.id, 'offline');
    const away = await h().twiml('/twilio/sms', incomingSms(newSms(texter, 'any news?')));
    expect(verbs(away)).to.deep.equal(['Message']);
    // Ten minutes on, it goes to the line; Bea is busy: the texter is told their place and the wait, once.
    await tick(10 * MINUTE + SECOND);
    expect((await h().store.getConversation(conv.id))?.status).to.equal('queued');
    const moved = textsTo(texter).slice(1);
    expect(moved).to.have.length(1);
    expect(moved[0]).to.match(/^You are number 1 in line; a person will be with you within \d+ minutes\.$/);
    // Writing again in the same wait tells nothing new.
    const again = await h().twiml('/twilio/sms', incomingSms(newSms(texter, 'hello? is anyone there?')));
    expect(verbs(again)).to.deep.equal([]);
  });

  it('a texter whose quoted wait is about to break is told once, by text, with a new honest time', async () => {
    await h().agent('Ana', { capacity: { sms: 1 } });
    await h().twiml('/twilio/sms', incomingSms(newSms(OTHER, 'first')));
    const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'anyone there?')));
    expect(verbs(root)).to.deep.equal(['Message']);
    // 600 s × ln 10 = 1381.6 s: checked when a fifth is left, 276.4 s before.
    await tick(1105 * SECOND);
    expect(textsTo(TEXTER)).to.deep.equal([]);
    await tick(1 * SECOND);
    // The fresh quote (1382 s) with half again of margin: 2073 s.
    expect(textsTo(TEXTER)).to.deep.equal([
      'Sorry, this is taking longer than we said. A person will be with you within 35 minutes.',
    ]);
    expect(textsTo(OTHER)).to.deep.equal([]);
    // The new time is a promise too: told again before it breaks, and then never more for this wait.
    await tick(30 * MINUTE);
    expect(textsTo(TEXTER)).to.have.length(2);
    await tick(3 * 60 * MINUTE);
    expect(textsTo(TEXTER)).to.have.length(2);
    // Sent like any reply: the delivery shows on the stored message.
    const [risk] = h().eventsOf('promise.at_risk');
    const notice = await h().store.getMessage(risk!.message.id);
    expect([notice?.channel, notice?.author.type, notice?.delivery.state]).to.deep.equal([
      'sms',
      'system',
      'sent',
    ]);
  });

  it('the survey goes out by text; a low-rated answer by text is stored, thanked, and followed up by the owner', async () => {
    const { ana, conversationId } = await resolvedText();
    await tick(10 * MINUTE);
    expect(textsTo(TEXTER)).to.deep.equal(['Found it: it arrives tomorrow.', SURVEY]);

    const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, '1 - you never texted back')));
    // No auto-chatter in TwiML: the thanks goes out through the REST API like every reply.
    expect(verbs(root)).to.deep.equal([]);
    await h().idle();
    expect(textsTo(TEXTER).slice(2)).to.deep.equal(['Thank you. We read every answer.']);

    const surveyed = await h().store.getConversation(conversationId);
    expect([surveyed?.status, surveyed?.survey?.rating, surveyed?.survey?.problem]).to.deep.equal([
      'resolved',
      1,
      'you never texted back',
    ]);
    const all = await h().store.listConversations({});
    const touch = all.find((c) => c.followUpOf?.conversationId === conversationId);
    expect([touch?.status, touch?.ownerId, touch?.lastChannel]).to.deep.equal(['assigned', ana.id, 'sms']);
    expect(all).to.have.length(2);

    // The texter's next message reaches Ana on the follow-up, without a wait notice.
    const next = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'hi, still no parcel')));
    expect(verbs(next)).to.deep.equal([]);
    const inbound = (await h().store.listMessages(touch!.id)).filter((m) => m.direction === 'in');
    expect(inbound.map((m) => m.text)).to.deep.equal(['hi, still no parcel']);
    expect(
      h()
        .eventsOf('survey.answered')
        .map((e) => [e.rating, e.problem]),
    ).to.deep.equal([[1, 'you never texted back']]);
  });

  it('a text that is not a rating after the survey is a new conversation, marked as a repeat contact', async () => {
    const { ana, conversationId } = await resolvedText();
    await tick(10 * MINUTE);
    const root = await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'the parcel still has not come')));
    expect(verbs(root)).to.deep.equal([]);
    const fresh = (await h().store.listConversations({})).find((c) => c.id !== conversationId);
    expect([fresh?.repeatOf, fresh?.ownerId, fresh?.ownership[0]?.reason]).to.deep.equal([
      conversationId,
      ana.id,
      'last_owner',
    ]);
    expect((await h().store.getConversation(conversationId))?.survey?.answeredAt).to.equal(undefined);
    expect(
      h()
        .eventsOf('conversation.repeat')
        .map((e) => e.repeatOf),
    ).to.deep.equal([conversationId]);
  });

  it('a follow-up promised on resolving opens on SMS, offered to the owner, when it is due', async () => {
    const ana = await h().agent('Ana');
    await h().twiml('/twilio/sms', incomingSms(newSms(TEXTER, 'please check on my refund next week')));
    const [conv] = await h().store.listConversations({});
    await h().sb.router.resolve(ana.id, conv!.id, h().clock.now() + 7 * 24 * 60 * MINUTE);
    await tick(7 * 24 * 60 * MINUTE);
    const touch = (await h().store.listConversations({})).find((c) => c.followUpOf);
    expect([touch?.ownerId, touch?.lastChannel, touch?.status]).to.deep.equal([ana.id, 'sms', 'assigned']);
    const [promise] = await h().store.listPromises(conv!.id);
    expect([promise?.kind, promise?.state]).to.deep.equal(['follow-up', 'kept']);
    // Ana writes first; it goes out by text.
    await h().sb.router.reply(ana.id, touch!.id, 'Your refund went out this morning.');
    await h().idle();
    expect(textsTo(TEXTER).at(-1)).to.equal('Your refund went out this morning.');
  });
});
