// Controls on old cards and in old threads: Slack keeps old messages, and a click
// can arrive late. Once a conversation ends or leaves the agent, their card and
// their consult picker offer nothing that cannot work, and a control used anyway
// says what became of the conversation (resolved when, whose it is now).
import { expect } from 'chai';
import { ACTION, FIELD, VIEW } from '../../channels/slack/blocks.js';
import { slackDate } from '../../channels/slack/text.js';
import {
  adaOwnsMary,
  cardButtons,
  cardRoleLine,
  cardTsOf,
  dmMessage,
  dmOf,
  pressCard,
  type SlackHarness,
  shownCard,
  useSlackHarness,
  viewSubmission,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';
const GRACE = 'U0GRACE001';
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
type Json = any;

/** The ephemeral messages a user was shown, in order. */
const toldTo = (h: SlackHarness, user: string) =>
  h.slack.ok('chat.postEphemeral', (a) => a.user === user).map((c) => String(c.args.text));

/** The picker message as last shown: whether it still has a select, and its text. */
function pickerNow(h: SlackHarness, ts: string): { select: boolean; text: string } {
  const update = h.slack.ok('chat.update', (a) => a.ts === ts).at(-1);
  const call =
    update ??
    h.slack.ok('chat.postMessage', (c) => c.thread_ts !== undefined).find((c) => c.answer.ts === ts)!;
  const blocks = call.args.blocks as Json[];
  return {
    select: blocks.some((b) => b.accessory?.action_id === ACTION.consultPick),
    text: String(call.args.text),
  };
}

describe('Slack console: controls on cards and pickers that no longer apply', () => {
  const sb = useSlackHarness();

  it('resolved: the consult picker closes saying so; a pick or Block… from before says when it was resolved, and nothing opens', async () => {
    const h = sb();
    const { ada, bob, conversationId } = await adaOwnsMary(h, ADA, BOB);
    const consult = await pressCard(h, ADA, ACTION.consult, conversationId);
    const picker = consult.picker!;
    expect(pickerNow(h, picker.ts).select).to.equal(true);
    const resolvedAt = h.clock.now();
    await h.sb.router.resolve(ada.id, conversationId);
    await h.idle();
    expect(pickerNow(h, picker.ts)).to.deep.equal({
      select: false,
      text: `Consult: closed: the conversation was resolved ${slackDate(resolvedAt)}.`,
    });
    expect(cardButtons(shownCard(h, ADA))).to.deep.equal([]);

    // Late clicks, on what Slack still had on screen.
    h.clock.advance(60_000);
    await consult.pick(bob.id);
    await pressCard(h, ADA, ACTION.block, conversationId);
    await pressCard(h, ADA, ACTION.handoff, conversationId);
    const why = `This conversation was resolved ${slackDate(resolvedAt)} by you. Nothing was sent or changed.`;
    expect(toldTo(h, ADA)).to.deep.equal([why, why, why]);
    expect(h.slack.ok('views.open')).to.have.length(0);
    expect((await h.store.getConversation(conversationId))!.invited).to.deep.equal([]);
    // A Block form opened before, sent after: the same.
    await h
      .interact(
        viewSubmission(ADA, VIEW.block, conversationId, {
          [FIELD.blockReason.block]: {
            [FIELD.blockReason.action]: { type: 'plain_text_input', value: 'rude' },
          },
        }),
      )
      .expect(200);
    await h.idle();
    expect(toldTo(h, ADA).at(-1)).to.equal(why);
    expect((await h.store.getCustomer((await h.store.getConversation(conversationId))!.customerId))!.blocked)
      .to.be.undefined;
  });

  it('handed on: the picker closes naming the new owner; a pick, Block… or a reply from the old card says it is now theirs', async () => {
    const h = sb();
    const { ada, bob, conversationId } = await adaOwnsMary(h, ADA, BOB);
    const grace = await h.agent('Grace', GRACE);
    const consult = await pressCard(h, ADA, ACTION.consult, conversationId);
    const picker = consult.picker!;
    await h.sb.router.handoff(ada.id, conversationId, grace.id, 'parcels are yours');
    await h.sb.router.acceptHandoff(grace.id, conversationId);
    await h.idle();
    expect(pickerNow(h, picker.ts)).to.deep.equal({
      select: false,
      text: "Consult: closed: the conversation is now *Grace*'s.",
    });
    expect(cardButtons(shownCard(h, ADA))).to.deep.equal([]);

    await consult.pick(bob.id);
    await pressCard(h, ADA, ACTION.block, conversationId);
    await h.event(dmMessage(ADA, dmOf(ADA), 'still me', cardTsOf(h, ADA))).expect(200);
    await h.idle();
    const why =
      "You are not on this conversation any more: it is now *Grace*'s. Nothing was sent or changed.";
    expect(toldTo(h, ADA)).to.deep.equal([why, why, why]);
    expect(h.slack.ok('views.open')).to.have.length(0);
    expect((await h.store.getConversation(conversationId))!.invited).to.deep.equal([]);
  });

  it('taken off the agent (offline, back in line, nobody free): the card loses its buttons and says why; a late press says so', async () => {
    const h = sb();
    const { ada, bob, conversationId } = await adaOwnsMary(h, ADA, BOB);
    await h.sb.router.setAgentStatus(bob.id, 'offline');
    await h.sb.router.setAgentStatus(ada.id, 'offline');
    h.clock.advance(3_600_000);
    await h.sb.router.tick();
    await h.idle();
    const conversation = (await h.store.getConversation(conversationId))!;
    expect(conversation.status).to.equal('queued');
    const card = shownCard(h, ADA);
    expect(cardButtons(card)).to.deep.equal([]);
    expect(cardRoleLine(card)).to.equal(
      'You went offline, so this conversation went back in line for the next free colleague.',
    );
    await pressCard(h, ADA, ACTION.block, conversationId);
    expect(toldTo(h, ADA)).to.deep.equal([
      'This conversation went back in line for the next free colleague while you were offline. Nothing was sent or changed.',
    ]);
    expect(h.slack.ok('views.open')).to.have.length(0);
  });
});
