// An agent who leaves the team (DELETE /api/agents/:id): their cards in Slack,
// and what they are told when they press on one or write in its thread. Through
// the real app, Bolt and the Slack stand-in.
import { expect } from 'chai';
import request from 'supertest';
import { ACTION } from '../../channels/slack/blocks.js';
import {
  adaOwnsMary,
  blockActions,
  cardButtons,
  cardRoleLine,
  cardThreadTexts,
  cardTsOf,
  dmMessage,
  dmOf,
  type SlackHarness,
  shownCard,
  useSlackHarness,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';

async function leaves(h: SlackHarness, agentId: string): Promise<void> {
  await request(h.url)
    .delete(`/api/agents/${agentId}`)
    .set('Authorization', `Bearer ${h.config.adminToken}`)
    .expect(200);
  await h.idle();
}

describe('Slack cards of an agent who left the team', () => {
  const sb = useSlackHarness();

  it('an owner who leaves: their card loses its buttons and says so; a press or a reply there is told they are no longer on the team', async () => {
    const h = sb();
    const { ada, mary, conversationId } = await adaOwnsMary(h, ADA, BOB);
    expect(cardButtons(shownCard(h, ADA)).length > 0).to.equal(true);
    await leaves(h, ada.id);
    const conversation = await h.store.getConversation(conversationId);
    expect(conversation!.ownerId).to.not.equal(ada.id);
    const card = shownCard(h, ADA);
    expect(cardButtons(card).length > 0).to.equal(false);
    expect(cardRoleLine(card)).to.equal('You left the team, so you no longer work on this conversation.');
    const threadTs = cardTsOf(h, ADA);
    await h
      .interact(
        blockActions({
          user: ADA,
          actionId: ACTION.resolve,
          value: conversationId,
          channel: dmOf(ADA),
          messageTs: threadTs,
        }),
      )
      .expect(200);
    await h.event(dmMessage(ADA, dmOf(ADA), 'still here?', threadTs)).expect(200);
    await h.idle();
    const told = h.slack.ok('chat.postEphemeral', (a) => a.user === ADA).map((c) => String(c.args.text));
    expect(told).to.have.length(2);
    for (const text of told) expect(text).to.match(/^You are no longer on the team/);
    expect((await h.store.getConversation(conversationId))!.status).to.not.equal('resolved');
    expect(mary.received.filter((m) => m.direction === 'out')).to.deep.equal([]);
  });

  it('a colleague asked to help who leaves: their card loses Promise and Leave and says they left the team', async () => {
    const h = sb();
    const { ada, bob, conversationId } = await adaOwnsMary(h, ADA, BOB);
    await h.sb.router.consult(ada.id, conversationId, bob.id);
    await h.idle();
    expect(cardButtons(shownCard(h, BOB)).length > 0).to.equal(true);
    await leaves(h, bob.id);
    const card = shownCard(h, BOB);
    expect(cardButtons(card).length > 0).to.equal(false);
    expect(cardRoleLine(card)).to.equal('You left the team, so you no longer work on this conversation.');
  });

  it('a colleague offered a hand-off who leaves: the owner is told they left, not that they declined', async () => {
    const h = sb();
    const { ada, bob, conversationId } = await adaOwnsMary(h, ADA, BOB);
    await h.sb.router.handoff(ada.id, conversationId, bob.id, 'refund due');
    await h.idle();
    await leaves(h, bob.id);
    expect(cardThreadTexts(h, ADA)).to.include(
      '*Bob* left the team, so the hand-off is off; it stays yours.',
    );
    expect(cardThreadTexts(h, ADA).some((t) => t.includes('declined'))).to.equal(false);
  });
});
