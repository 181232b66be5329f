// What an agent is told in Slack when something is refused: in words about the
// conversation they pressed on, never the ids the router names things by.
import { expect } from 'chai';
import { ACTION } from '../../channels/slack/blocks.js';
import { emailEnv, useSink } from './email-harness.js';
import {
  blockActions,
  cardTsOf,
  dmOf,
  type SlackHarness,
  slashCommand,
  useSlackHarness,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';
const IDS = /\b(?:cv|cu|ag|pr|msg)_[A-Za-z0-9]+/;

/** The ephemeral messages a user was shown, in order. */
const toldTo = (h: SlackHarness, user: string) =>
  h.slack.ok('chat.postEphemeral', (a) => a.user === user).map((c) => String(c.args.text));

async function press(h: SlackHarness, user: string, actionId: string, value: string, messageTs: string) {
  await h.interact(blockActions({ user, actionId, value, channel: dmOf(user), messageTs })).expect(200);
  await h.idle();
}

describe('Slack console: refusals in words', () => {
  const sink = useSink();
  const sb = useSlackHarness({ env: emailEnv(sink) });

  /** Ada owns a chat visitor's conversation; its card is in her DM. */
  async function adaOwns(h: SlackHarness) {
    const ada = await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 2, email: 2 } });
    const mary = await h.visitor();
    await mary.identify({ name: 'Mary Major' });
    const { conversationId } = await mary.say('hello?');
    await h.idle();
    return { ada, conversationId, cardTs: cardTsOf(h, ADA) };
  }

  it('Resolve pressed again on a conversation resolved already says it is already resolved', async () => {
    const h = sb();
    const { conversationId, cardTs } = await adaOwns(h);
    await press(h, ADA, ACTION.resolve, conversationId, cardTs);
    await press(h, ADA, ACTION.resolve, conversationId, cardTs);
    expect((await h.store.getConversation(conversationId))!.status).to.equal('resolved');
    expect(toldTo(h, ADA)).to.deep.equal(['This conversation is already resolved.']);
  });

  it('Accept pressed again after the hand-off was taken says it is no longer offered, with no ids', async () => {
    const h = sb();
    const { ada, conversationId } = await adaOwns(h);
    const bob = await h.agent('Bob', BOB, { capacity: { voice: 0, sms: 0, chat: 2, email: 2 } });
    await h.sb.router.handoff(ada.id, conversationId, bob.id, 'She waits for a refund');
    await h.idle();
    const bobCard = cardTsOf(h, BOB);
    await press(h, BOB, ACTION.accept, conversationId, bobCard);
    expect((await h.store.getConversation(conversationId))!.ownerId).to.equal(bob.id);
    await press(h, BOB, ACTION.accept, conversationId, bobCard);
    const told = toldTo(h, BOB);
    expect(told).to.deep.equal(['This hand-off is no longer offered to you: it was answered or withdrawn.']);
  });

  it('writing first to a customer who has a conversation open says whose it is, in words, with no ids', async () => {
    const h = sb();
    await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    const answers: string[] = [];
    for (let i = 0; i < 2; i++) {
      const url = h.slack.responseUrl();
      await h.command(slashCommand(ADA, 'write dave@example.org Your order shipped.', url)).expect(200);
      await h.idle();
      answers.push(String(h.slack.responses.find((r) => url.endsWith(r.path))!.body.text));
    }
    expect(answers[1]).to.equal(
      'dave@example.org has a conversation open already, yours: write in its thread.',
    );
    expect(answers.join('\n')).not.to.match(IDS);
  });
});
