// Phoning a customer from a Slack card: the owner's card has **Call** when calls
// go out (Twilio on, a number to call from) and the customer has a number; a press
// rings the agent's own phone through the real Twilio REST client (against the
// stand-in), and the agent is told so. Through the real app, Bolt and the stand-ins.
import { expect } from 'chai';
import { ACTION } from '../../channels/slack/blocks.js';
import {
  blockActions,
  cardButtons,
  cardThreadTexts,
  cardTsOf,
  dmOf,
  shownCard,
  startSlackHarness,
  TWILIO_SID,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const TEXTER = '+14155550142';

describe('Slack cards: phoning the customer', () => {
  it('the owner presses Call: their phone rings, they are told so, and the thread gets the note', async () => {
    const h = await startSlackHarness({ twilio: true });
    try {
      await h.agent('Ada', ADA, { clientIdentity: 'ada' });
      await h
        .twilioWebhook('/twilio/sms', {
          MessageSid: `SM${'4'.repeat(32)}`,
          AccountSid: TWILIO_SID,
          From: TEXTER,
          To: '+14155550100',
          Body: 'please ring me',
          NumMedia: '0',
        })
        .expect(200);
      await h.idle();
      expect(cardButtons(shownCard(h, ADA))).to.include(ACTION.call);
      const [conversation] = await h.store.listConversations({});
      await h
        .interact(
          blockActions({
            user: ADA,
            actionId: ACTION.call,
            value: conversation!.id,
            channel: dmOf(ADA),
            messageTs: cardTsOf(h, ADA),
          }),
        )
        .expect(200);
      await h.idle();
      const [placed, ...more] = h.twilio!.calls();
      expect(more).to.deep.equal([]);
      expect(placed?.params.To).to.equal('client:ada');
      const told = h.slack.ok('chat.postEphemeral', (a) => a.user === ADA).map((c) => String(c.args.text));
      expect(told).to.deep.equal([
        `Your phone rings now: pick it up and Switchboard dials the customer at ${TEXTER}.`,
      ]);
      const notes = (await h.store.listMessages(conversation!.id)).filter((m) => m.direction === 'internal');
      expect(notes.map((m) => m.text)).to.deep.equal([
        `Phoning the customer at ${TEXTER}: Ada's phone rings first.`,
      ]);
      expect(cardThreadTexts(h, ADA).at(-1)).to.contain(`Phoning the customer at ${TEXTER}`);
    } finally {
      await h.close();
    }
  });

  it('no Call without Twilio, nor for a chat visitor with no number', async () => {
    const h = await startSlackHarness();
    try {
      await h.agent('Ada', ADA);
      const visitor = await h.visitor();
      await visitor.identify({ name: 'Mary Major', phone: '+14155550123' });
      await visitor.say('hello');
      await h.idle();
      expect(cardButtons(shownCard(h, ADA))).to.include(ACTION.resolve);
      expect(cardButtons(shownCard(h, ADA))).not.to.include(ACTION.call);
    } finally {
      await h.close();
    }
    const t = await startSlackHarness({ twilio: true });
    try {
      await t.agent('Ada', ADA);
      const visitor = await t.visitor();
      await visitor.say('hello');
      await t.idle();
      expect(cardButtons(shownCard(t, ADA))).not.to.include(ACTION.call);
      // Once they give a number, the card (refreshed by what they say of themselves) offers it.
      await visitor.identify({ phone: '+14155550123' });
      await t.idle();
      expect(cardButtons(shownCard(t, ADA))).to.include(ACTION.call);
    } finally {
      await t.close();
    }
  });
});
