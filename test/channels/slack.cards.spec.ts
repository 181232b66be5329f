// Colleagues' cards once their part is over: a hand-off offered, a consultation,
// a cover, when the owner resolves or comes back; what the card and the thread
// say then. Through the real app, Bolt and the Slack stand-in.
import { expect } from 'chai';
import { ACTION } from '../../channels/slack/blocks.js';
import {
  adaOwnsMary,
  blockActions,
  cardButtons,
  cardRoleLine,
  cardThreadTexts,
  cardTsOf,
  dmOf,
  SECOND,
  type SlackHarness,
  shownCard,
  useSlackHarness,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';

async function press(h: SlackHarness, user: string, actionId: string, conversationId: string) {
  await h
    .interact(
      blockActions({
        user,
        actionId,
        value: conversationId,
        channel: dmOf(user),
        messageTs: cardTsOf(h, user),
      }),
    )
    .expect(200);
  await h.idle();
}

/** `ms` later: the timers due fire, and what they changed reaches Slack. */
async function later(h: SlackHarness, ms: number): Promise<void> {
  h.clock.advance(ms);
  await h.sb.router.tick();
  await h.idle();
}

describe('Slack cards of colleagues whose part is over', () => {
  const sb = useSlackHarness();

  it('a hand-off still offered when the owner resolves: the offered card loses Accept/Decline and says resolved, in its thread too', async () => {
    const h = sb();
    const { ada, bob, conversationId } = await adaOwnsMary(h, ADA, BOB);
    await h.sb.router.handoff(ada.id, conversationId, bob.id, 'can you take this?');
    await h.idle();
    expect(cardButtons(shownCard(h, BOB))).to.deep.equal([ACTION.accept, ACTION.decline]);
    await press(h, ADA, ACTION.resolve, conversationId);
    const card = shownCard(h, BOB);
    expect(cardButtons(card)).to.deep.equal([]);
    expect(cardRoleLine(card)).to.match(/^Resolved by \*Ada\*/);
    expect(cardThreadTexts(h, BOB).at(-1)).to.equal(':white_check_mark: Resolved by *Ada*.');
    expect(cardThreadTexts(h, ADA).at(-1)).to.equal(':white_check_mark: Resolved by *Ada*.');
  });

  it("a consultant's card when the owner resolves: resolved, no Promise or Leave; a late Leave says nothing in the owner's thread", async () => {
    const h = sb();
    const { ada, bob, conversationId } = await adaOwnsMary(h, ADA, BOB);
    await h.sb.router.consult(ada.id, conversationId, bob.id);
    await h.idle();
    expect(shownCard(h, BOB).text).to.equal('Ada asks for your help with Mary Major (chat)');
    await press(h, ADA, ACTION.resolve, conversationId);
    const card = shownCard(h, BOB);
    expect(cardButtons(card)).to.deep.equal([]);
    expect(cardRoleLine(card)).to.match(/^Resolved by \*Ada\*/);
    expect(cardThreadTexts(h, BOB).at(-1)).to.equal(':white_check_mark: Resolved by *Ada*.');
    // Leave pressed on the card as it was before it changed.
    const adaLines = cardThreadTexts(h, ADA).length;
    await press(h, BOB, ACTION.leave, conversationId);
    expect(cardThreadTexts(h, ADA)).to.have.length(adaLines);
    expect(cardRoleLine(shownCard(h, BOB))).to.match(/^Resolved by \*Ada\*/);
  });

  it('a cover that becomes the colleague’s own (a hand-off accepted) says no "cover ended"; one whose owner went offline says it waits in line', async () => {
    const h = sb();
    const { ada, bob, mary, conversationId } = await adaOwnsMary(h, ADA, BOB);
    await h.sb.router.handoff(ada.id, conversationId, bob.id, 'the refund');
    await h.sb.router.setAgentStatus(ada.id, 'away', 'lunch');
    await mary.say('hello? anyone there?');
    await h.idle();
    await later(h, 121 * SECOND);
    expect((await h.store.getConversation(conversationId))!.cover?.agentId).to.equal(bob.id);
    await h.sb.router.acceptHandoff(bob.id, conversationId);
    await h.idle();
    await mary.say('thanks Bob');
    await h.sb.router.setAgentStatus(bob.id, 'offline');
    await h.sb.router.setAgentStatus(bob.id, 'available');
    await h.idle();
    expect(cardThreadTexts(h, BOB).filter((t) => /cover ended/i.test(t))).to.deep.equal([]);
    expect(cardRoleLine(shownCard(h, BOB))).to.not.match(/cover ended/i);

    // Bob covers Mary for Ada again (Ada owns it once more), and Ada goes offline: it waits for a colleague.
    await h.sb.router.handoff(bob.id, conversationId, ada.id, 'back to you');
    await h.sb.router.setAgentStatus(ada.id, 'available');
    await h.sb.router.acceptHandoff(ada.id, conversationId);
    await h.sb.router.setAgentStatus(bob.id, 'away');
    await h.sb.router.setAgentStatus(ada.id, 'away');
    await h.sb.router.setAgentStatus(bob.id, 'available');
    await mary.say('still there?');
    await h.idle();
    await later(h, 121 * SECOND);
    expect((await h.store.getConversation(conversationId))!.cover?.agentId).to.equal(bob.id);
    await h.sb.router.setAgentStatus(ada.id, 'offline');
    await later(h, 121 * SECOND);
    expect(cardThreadTexts(h, BOB).filter((t) => /^Your cover ended; /.test(t))).to.deep.equal([]);
  });

  it('a cover whose owner comes back: the card says the cover ended, without buttons, both threads say so; resolved later, it says resolved', async () => {
    const h = sb();
    const { ada, mary, conversationId } = await adaOwnsMary(h, ADA, BOB);
    await h.sb.router.setAgentStatus(ada.id, 'away', 'lunch');
    await mary.say('hello? anyone there?');
    await h.idle();
    await later(h, 121 * SECOND);
    expect(shownCard(h, BOB).text).to.equal('Answer Mary Major (chat) for Ada');
    expect(cardButtons(shownCard(h, BOB))).to.include(ACTION.promise);
    // Ada is back: the cover ends.
    await h.sb.router.setAgentStatus(ada.id, 'available');
    await h.idle();
    expect((await h.store.getConversation(conversationId))!.cover).to.equal(null);
    const ended = shownCard(h, BOB);
    expect(cardButtons(ended)).to.deep.equal([]);
    expect(cardRoleLine(ended)).to.equal('Cover ended: *Ada* is back; new messages go to them.');
    expect(cardThreadTexts(h, BOB).at(-1)).to.equal('Cover ended: *Ada* is back and answers from here.');
    expect(cardThreadTexts(h, ADA).at(-1)).to.equal('*Bob* no longer covers: you answer again.');
    // Said once: another change of the conversation does not say it again.
    const bobLines = cardThreadTexts(h, BOB).length;
    await h.sb.router.setAgentStatus(ada.id, 'away');
    await h.sb.router.setAgentStatus(ada.id, 'available');
    await h.idle();
    expect(cardThreadTexts(h, BOB)).to.have.length(bobLines);
    await press(h, ADA, ACTION.resolve, conversationId);
    expect(cardRoleLine(shownCard(h, BOB))).to.match(/^Resolved by \*Ada\*/);
  });
});
