// An agent who leaves the team (DELETE /api/agents/:id): their cards in Slack,
// and what they are told when they press on one or write in its thread. Through
// the real app, Bolt and the Slack stand-in.
import { expect } from 'chai';
import request from 'supertest';
import { ACTION } from '../../channels/slack/blocks.js';
import {
  adaOwnsMary,
  blockActions,
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

// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
type Json = any;

const roleLine = (blocks: Json[]) => String(blocks.find((b) => b.type === 'context')?.elements[0].text);
const hasButtons = (blocks: Json[]) => blocks.some((b) => b.type === 'actions');

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
    expect(hasButtons(shownCard(h, ADA).blocks)).to.equal(true);
    await leaves(h, ada.id);
    const conversation = await h.store.getConversation(conversationId);
    expect(conversation!.ownerId).to.not.equal(ada.id);
    const blocks = shownCard(h, ADA).blocks;
    expect(hasButtons(blocks)).to.equal(false);
    expect(roleLine(blocks)).to.equal('You left the team; this conversation went on to your colleagues.');
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
    expect(hasButtons(shownCard(h, BOB).blocks)).to.equal(true);
    await leaves(h, bob.id);
    const blocks = shownCard(h, BOB).blocks;
    expect(hasButtons(blocks)).to.equal(false);
    expect(roleLine(blocks)).to.equal('You left the team; this conversation went on to your colleagues.');
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
