// After resolution: one short survey on the customer's channel, the answer stored on
// the conversation (never routed), a low rating followed up by the owner; and repeat
// contacts marked and shown.
import { expect } from 'chai';
import { parseSurveyAnswer } from '../../routing/router.js';
import { type Harness, harness, MINUTE, SECOND } from './harness.js';

const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SURVEY = 'How did we do? Reply with 1-5 (5 is best), then one thing we should fix.';
const THANKS = 'Thank you. We read every answer.';
const PHONE = '4155550100';

describe('router: surveys and repeat contacts', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  /** Ana answers a text and resolves it; returns the resolved conversation. */
  async function resolvedText() {
    const ana = await h.agent('Ana');
    const r = await h.contact({ channel: 'sms', from: PHONE, text: 'my parcel is lost' });
    await h.router.reply(ana.id, r.conversation.id, 'Found it, it arrives tomorrow.');
    await h.router.resolve(ana.id, r.conversation.id);
    return { ana, conversation: r.conversation, customer: r.customer, resolvedAt: h.clock.now() };
  }

  const outTexts = async (conversationId: string) =>
    (await h.store.listMessages(conversationId))
      .filter((m) => m.direction === 'out' && m.author.type === 'system')
      .map((m) => `${m.channel}: ${m.text}`);

  describe('the survey', () => {
    it('goes out once, on the last channel, after the configured delay (10 minutes by default)', async () => {
      const { conversation, resolvedAt } = await resolvedText();
      await h.advance(10 * MINUTE - 1);
      expect(await outTexts(conversation.id)).to.deep.equal([]);
      await h.advance(1);
      expect(await outTexts(conversation.id)).to.deep.equal([`sms: ${SURVEY}`]);
      expect((await h.conversation(conversation.id)).survey).to.deep.equal({
        askedAt: resolvedAt + 10 * MINUTE,
      });
      expect(h.eventsOf('survey.sent').map((e) => e.conversation.id)).to.deep.equal([conversation.id]);
      await h.advance(DAY);
      expect(await outTexts(conversation.id)).to.have.length(1);
      expect(h.invalidEvents()).to.deep.equal([]);
    });

    it('is not sent while the customer is talking to us again, nor about an older conversation', async () => {
      const { ana, conversation } = await resolvedText();
      await h.advance(5 * MINUTE);
      const again = await h.contact({ channel: 'sms', from: PHONE, text: 'one more question' });
      await h.advance(5 * MINUTE);
      expect(await outTexts(conversation.id)).to.deep.equal([]);
      // The newer one is asked about when it is done; the older one never.
      await h.router.resolve(ana.id, again.conversation.id);
      await h.advance(HOUR);
      expect(await outTexts(conversation.id)).to.deep.equal([]);
      expect(await outTexts(again.conversation.id)).to.deep.equal([`sms: ${SURVEY}`]);
    });

    it('is off with `surveys: false`, and its delay and text come from the policy', async () => {
      h = harness({ surveys: false });
      const { conversation } = await resolvedText();
      await h.advance(DAY);
      expect(await outTexts(conversation.id)).to.deep.equal([]);

      h = harness({ surveyDelaySeconds: 60, texts: { survey: 'Rate us 1-5?' } });
      const second = await resolvedText();
      await h.advance(60 * SECOND);
      expect(await outTexts(second.conversation.id)).to.deep.equal(['sms: Rate us 1-5?']);
    });

    it('an answer is stored on the conversation, thanked, and opens nothing', async () => {
      const { conversation, customer } = await resolvedText();
      await h.advance(10 * MINUTE);
      await h.advance(2 * HOUR);
      const answer = await h.contact({
        channel: 'sms',
        from: PHONE,
        text: '4 - the tracking page was confusing',
      });
      expect(answer.outcome).to.deep.equal({ type: 'survey', rating: 4 });
      expect([answer.created, answer.conversation.id, answer.customer.id]).to.deep.equal([
        false,
        conversation.id,
        customer.id,
      ]);
      const stored = await h.conversation(conversation.id);
      expect(stored.status).to.equal('resolved');
      expect(stored.survey).to.deep.equal({
        askedAt: stored.resolvedAt! + 10 * MINUTE,
        answeredAt: h.clock.now(),
        rating: 4,
        problem: 'the tracking page was confusing',
      });
      expect(await h.store.listConversations({ customerId: customer.id })).to.have.length(1);
      const inbound = (await h.store.listMessages(conversation.id)).filter((m) => m.direction === 'in');
      expect(inbound.map((m) => m.text)).to.deep.equal([
        'my parcel is lost',
        '4 - the tracking page was confusing',
      ]);
      expect(await outTexts(conversation.id)).to.deep.equal([`sms: ${SURVEY}`, `sms: ${THANKS}`]);
      expect(
        h.eventsOf('survey.answered').map((e) => [e.conversation.id, e.rating, e.problem]),
      ).to.deep.equal([[conversation.id, 4, 'the tracking page was confusing']]);
      expect(h.eventsOf('followup.opened')).to.deep.equal([]);

      // Only once: the next message is a new conversation (and a repeat contact).
      const next = await h.contact({ channel: 'sms', from: PHONE, text: '5' });
      expect([next.created, next.outcome.type]).to.deep.equal([true, 'assigned']);
      expect(next.conversation.repeatOf).to.equal(conversation.id);
      expect(h.invalidEvents()).to.deep.equal([]);
    });

    it('a resent answer (same message id) is stored once', async () => {
      const { conversation } = await resolvedText();
      await h.advance(10 * MINUTE);
      const first = await h.contact({ channel: 'sms', from: PHONE, text: '3', externalId: 'SM-answer' });
      const again = await h.contact({ channel: 'sms', from: PHONE, text: '3', externalId: 'SM-answer' });
      expect([first.outcome, again.outcome]).to.deep.equal([
        { type: 'survey', rating: 3 },
        { type: 'duplicate' },
      ]);
      expect(
        (await h.store.listMessages(conversation.id)).filter((m) => m.direction === 'in'),
      ).to.have.length(2);
      expect(h.eventsOf('survey.answered')).to.have.length(1);
    });

    it('a request that starts with a number, written after the survey, reaches a person and is no rating', async () => {
      const { conversation } = await resolvedText();
      await h.advance(10 * MINUTE);
      const text = '3 of the items in parcel 5566 arrived broken, I need a replacement please';
      const r = await h.contact({ channel: 'sms', from: PHONE, text });
      expect(r.outcome.type).to.not.equal('survey');
      expect(['assigned', 'owner', 'queued', 'offered']).to.include(r.outcome.type);
      expect((await h.conversation(conversation.id)).survey?.answeredAt).to.equal(undefined);
      expect(h.eventsOf('survey.answered')).to.deep.equal([]);
    });

    it('a low rating opens a follow-up routed to the owner, telling them what to fix', async () => {
      const { ana, conversation, customer } = await resolvedText();
      await h.agent('Bea'); // idle longer than Ana by now
      await h.advance(10 * MINUTE);
      const answer = await h.contact({ channel: 'sms', from: PHONE, text: '2 nobody told me it was late' });
      expect(answer.outcome).to.deep.equal({ type: 'survey', rating: 2 });
      const [opened] = h.eventsOf('followup.opened');
      expect(opened?.reason).to.equal('survey');
      const touch = await h.conversation(opened!.conversation.id);
      expect([touch.status, touch.ownerId, touch.lastChannel, touch.customerId]).to.deep.equal([
        'assigned',
        ana.id,
        'sms',
        customer.id,
      ]);
      const notes = (await h.store.listMessages(touch.id)).filter((m) => m.direction === 'internal');
      expect(notes.map((m) => m.text)).to.deep.equal([
        'Follow-up: the customer rated their conversation resolved 11 minutes ago 2/5 and said we should fix: "nobody told me it was late". Reach out to them on sms.',
      ]);
      const [promise] = await h.store.listPromises(conversation.id);
      expect([promise?.kind, promise?.state, promise?.agentId, promise?.text]).to.deep.equal([
        'follow-up',
        'kept',
        ana.id,
        'survey rated 2/5',
      ]);
      // The customer's next message reaches Ana on the follow-up.
      const reply = await h.contact({ channel: 'sms', from: PHONE, text: 'hi Ana' });
      expect([reply.conversation.id, reply.outcome]).to.deep.equal([
        touch.id,
        { type: 'owner', agentId: ana.id },
      ]);
    });

    it('not an answer: a message that does not start with a rating, or one past the answer window', async () => {
      const { conversation } = await resolvedText();
      await h.advance(10 * MINUTE);
      const other = await h.contact({ channel: 'sms', from: PHONE, text: 'where is my refund?' });
      expect([other.created, other.conversation.id === conversation.id]).to.deep.equal([true, false]);
      expect((await h.conversation(conversation.id)).survey?.answeredAt).to.equal(undefined);

      h = harness();
      const late = await resolvedText();
      await h.advance(10 * MINUTE);
      await h.advance(2 * DAY + 1);
      const r = await h.contact({ channel: 'sms', from: PHONE, text: '5' });
      expect([r.created, r.outcome.type]).to.deep.equal([true, 'assigned']);
      expect((await h.conversation(late.conversation.id)).survey?.answeredAt).to.equal(undefined);
    });

    it('reads a rating first, then the one thing to fix', () => {
      expect(parseSurveyAnswer('4')).to.deep.equal({ rating: 4, problem: null });
      expect(parseSurveyAnswer(' 2 - the hold was long ')).to.deep.equal({
        rating: 2,
        problem: 'the hold was long',
      });
      expect(parseSurveyAnswer('3/5, slow')).to.deep.equal({ rating: 3, problem: 'slow' });
      expect(parseSurveyAnswer('1 out of 5: rude')).to.deep.equal({ rating: 1, problem: 'rude' });
      expect(parseSurveyAnswer('5 stars!')).to.deep.equal({ rating: 5, problem: null });
      expect(parseSurveyAnswer('2\nthe music')).to.deep.equal({ rating: 2, problem: 'the music' });
      expect(parseSurveyAnswer('5 thanks!')).to.deep.equal({ rating: 5, problem: 'thanks!' });
      expect(parseSurveyAnswer('4 the hold was long')).to.deep.equal({
        rating: 4,
        problem: 'the hold was long',
      });
      expect(parseSurveyAnswer('5 always helpful')).to.deep.equal({ rating: 5, problem: 'always helpful' });
      expect(parseSurveyAnswer('4 stars great service')).to.deep.equal({
        rating: 4,
        problem: 'great service',
      });
      for (const text of ['hello', '0', '6', '10', '4.5', '1st of all', 'I give it 4', '35']) {
        expect(parseSurveyAnswer(text), text).to.equal(null);
      }
      // A request that starts with a number is not a rating: it goes to a person.
      for (const text of [
        '3 of the items in parcel 5566 arrived broken, I need a replacement please',
        '4 days later and still no jacket. Also there was no return label',
        '3 items arrived broken',
        '5 more days?',
        '3 Where is my refund',
        '4 hours on hold and nobody answered, please call me',
      ]) {
        expect(parseSurveyAnswer(text), text).to.equal(null);
      }
      // So after a low rating, when they count something or ask for something.
      for (const text of [
        '1 of the cups broke, can I get a replacement',
        '2 items were missing from the box',
        '1 more thing, the charger is missing too',
        '2 can someone call me back',
      ]) {
        expect(parseSurveyAnswer(text), text).to.equal(null);
      }
      // A low rating's complaint is what to fix: it reaches the owner as a follow-up.
      expect(parseSurveyAnswer('1 item missing')).to.deep.equal({ rating: 1, problem: 'item missing' });
      expect(parseSurveyAnswer('2 nobody told me anything')).to.deep.equal({
        rating: 2,
        problem: 'nobody told me anything',
      });
      expect(parseSurveyAnswer('1 wrong answer and still no parcel')).to.deep.equal({
        rating: 1,
        problem: 'wrong answer and still no parcel',
      });
      expect(parseSurveyAnswer('3 slow', 3)).to.deep.equal({ rating: 3, problem: 'slow' });
    });
  });

  describe('repeat contacts', () => {
    it('back within the window after a resolution: marked, counted and shown to whoever gets it', async () => {
      const { ana, conversation } = await resolvedText();
      await h.advance(3 * HOUR);
      const back = await h.contact({ channel: 'chat', from: 'visitor-1' });
      expect(back.conversation.repeatOf).to.equal(undefined); // another customer
      const again = await h.contact({ channel: 'sms', from: PHONE, text: 'it did not arrive' });
      expect([again.created, again.conversation.repeatOf]).to.deep.equal([true, conversation.id]);
      expect(
        h.eventsOf('conversation.repeat').map((e) => [e.conversation.id, e.repeatOf, e.previousOwnerId]),
      ).to.deep.equal([[again.conversation.id, conversation.id, ana.id]]);
      const notes = (await h.store.listMessages(again.conversation.id)).filter(
        (m) => m.direction === 'internal',
      );
      expect(notes.map((m) => m.text)).to.deep.equal([
        "Repeat contact: this customer's previous conversation with Ana was resolved 3 hours ago.",
      ]);
      // The assignment carries it: consoles show it.
      const assigned = h
        .eventsOf('conversation.assigned')
        .find((e) => e.conversation.id === again.conversation.id);
      expect(assigned?.conversation.repeatOf).to.equal(conversation.id);
    });

    it('not after the window, and not after an abandoned wait', async () => {
      h = harness({ repeatWindowSeconds: 3600 });
      await resolvedText();
      await h.advance(HOUR + 1);
      const late = await h.contact({ channel: 'sms', from: PHONE, text: 'again' });
      expect(late.conversation.repeatOf).to.equal(undefined);

      h = harness();
      const left = await h.contact({ channel: 'sms', from: PHONE });
      await h.router.abandon(left.conversation.id);
      const back = await h.contact({ channel: 'sms', from: PHONE });
      expect(back.conversation.repeatOf).to.equal(undefined);
      expect(h.eventsOf('conversation.repeat')).to.deep.equal([]);
    });
  });
});
