// How long the customer has waited, on a card: counted from their message that
// nobody has answered yet; once an agent answers, the card says who answered and
// when, instead of a waiting time frozen at the last drawing; a new message from
// the customer starts it again.
import { expect } from 'chai';
import { slackDate } from '../../channels/slack/text.js';
import { adaOwnsMary, cardTsOf, dmMessage, dmOf, shownCard, useSlackHarness } from './slack-harness.js';

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';
const MINUTE = 60_000;
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
type Json = any;

/** The card's field about the customer's wait (the second field of its first fields section). */
function waitField(card: { blocks: Json[] }): string {
  return String(card.blocks.find((b) => Array.isArray(b.fields)).fields[1].text);
}

describe('Slack console: the wait on a card', () => {
  const sb = useSlackHarness();

  it('answered, the card says by whom and when; the customer writing again starts a new wait; colleagues on it see the same', async () => {
    const h = sb();
    const { ada, bob, mary, conversationId } = await adaOwnsMary(h, ADA, BOB);
    expect(waitField(shownCard(h, ADA))).to.match(/^\*Waiting so far\*\n0 s/);
    await h.sb.router.consult(ada.id, conversationId, bob.id);
    await h.idle();

    h.clock.advance(5 * MINUTE);
    const answeredAt = h.clock.now();
    await h.event(dmMessage(ADA, dmOf(ADA), 'It left the depot this morning.', cardTsOf(h, ADA))).expect(200);
    await h.idle();
    const answered = `*Waiting*\nno: answered by *Ada* ${slackDate(answeredAt)}`;
    expect(waitField(shownCard(h, ADA))).to.equal(answered);
    expect(waitField(shownCard(h, BOB))).to.equal(answered);

    h.clock.advance(10 * MINUTE);
    const again = h.clock.now();
    await mary.say('and when will it arrive?');
    await h.idle();
    expect(waitField(shownCard(h, ADA))).to.equal(`*Waiting so far*\n0 s (since ${slackDate(again)})`);
    // A second message while waiting does not draw the card again.
    const updates = h.slack.ok('chat.update', (a) => a.ts === cardTsOf(h, ADA)).length;
    h.clock.advance(MINUTE);
    await mary.say('hello?');
    await h.idle();
    expect(h.slack.ok('chat.update', (a) => a.ts === cardTsOf(h, ADA))).to.have.length(updates);
  });
});
