// An agent's own promise in Slack: made, reminded, marked kept (or not, and then
// broken at its due time), with the card's open promises kept up to date.
import { expect } from 'chai';
import { ACTION } from '../../channels/slack/blocks.js';
import type { SlackCall } from '../support/slack-standin.js';
import {
  blockActions,
  cardTsOf,
  dmOf,
  type SlackHarness,
  threadTexts,
  useSlackHarness,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const BEN = 'U0BEN00001';
const BOB = 'U0BOB00001';
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
type Json = any;

/** Ada owns a chat visitor's conversation and promises "Call the courier" in an hour. */
async function adaPromises(h: SlackHarness) {
  const ada = await h.agent('Ada', ADA);
  const mary = await h.visitor();
  await mary.identify({ name: 'Mary Major' });
  const { conversationId } = await mary.say('my parcel never came');
  await h.idle();
  const promise = await h.sb.router.promise(
    ada.id,
    conversationId,
    h.clock.now() + 3_600_000,
    'Call the courier',
  );
  await h.idle();
  return { ada, conversationId, promise, threadTs: cardTsOf(h, ADA) };
}

/** The Mark kept buttons of one posted message (their promise ids). */
function keepButtons(call: SlackCall): string[] {
  return ((call.args.blocks as Json[] | undefined) ?? [])
    .flatMap((b) => [b.accessory, ...((b.elements as Json[] | undefined) ?? [])])
    .filter((e) => e?.action_id === ACTION.keep)
    .map((e) => String(e.value));
}

/** The thread lines posted in a user's thread, as calls. */
function lines(h: SlackHarness, user: string, threadTs: string): SlackCall[] {
  return h.slack.ok('chat.postMessage', (a) => a.channel === dmOf(user) && a.thread_ts === threadTs);
}

/** The latest version of a user's card (posted, or updated since). */
function latestCard(h: SlackHarness, user: string, threadTs: string): Json[] {
  const updated = h.slack.ok('chat.update', (a) => a.channel === dmOf(user) && a.ts === threadTs).at(-1);
  return (
    updated ?? h.slack.ok('chat.postMessage', (a) => a.ts === undefined && a.channel === dmOf(user))[0]!
  ).args.blocks as Json[];
}

async function pressKeep(
  h: SlackHarness,
  user: string,
  promiseId: string,
  threadTs: string,
  messageTs: string,
) {
  await h
    .interact(
      blockActions({
        user,
        actionId: ACTION.keep,
        value: promiseId,
        blockId: 'promise',
        channel: dmOf(user),
        messageTs,
        threadTs,
      }),
    )
    .expect(200);
  await h.idle();
}

describe('Slack console: promises', () => {
  const sb = useSlackHarness();

  it('the promise line and the card carry Mark kept; pressed, the promise is kept, the threads say so, the card drops it', async () => {
    const h = sb();
    const { conversationId, promise, threadTs } = await adaPromises(h);
    const made = lines(h, ADA, threadTs).at(-1)!;
    expect(String(made.args.text)).to.match(/^:handshake: Promise by \*Ada\*: “Call the courier” — due /);
    expect(keepButtons(made)).to.deep.equal([promise.id]);
    // The card lists it, with the button.
    const card = latestCard(h, ADA, threadTs);
    expect(JSON.stringify(card)).to.contain('Open promises');
    expect(
      card.flatMap((b) => (b.accessory?.action_id === ACTION.keep ? [b.accessory.value] : [])),
    ).to.deep.equal([promise.id]);

    await pressKeep(h, ADA, promise.id, threadTs, String(made.answer.ts));
    const stored = (await h.store.listPromises(conversationId)).find((p) => p.id === promise.id)!;
    expect(stored.state).to.equal('kept');
    expect(threadTexts(h, ADA, threadTs).at(-1)).to.equal(
      ':white_check_mark: Promise kept: “Call the courier” (made by *Ada*).',
    );
    expect(JSON.stringify(latestCard(h, ADA, threadTs))).not.to.contain('Open promises');
    // The line that carried Mark kept no longer does: it says what became of it.
    const line = h.slack.ok('chat.update', (a) => a.ts === made.answer.ts).at(-1)!;
    expect(keepButtons(line)).to.deep.equal([]);
    expect(line.args.text).to.equal(':handshake: Promise “Call the courier” (made by *Ada*): kept.');

    // Its due time comes: nothing more is said, it stays kept.
    h.clock.advance(3_600_000);
    await h.sb.router.tick();
    await h.idle();
    expect(threadTexts(h, ADA, threadTs).some((t) => t.includes('due now'))).to.equal(false);
    expect((await h.store.getPromise(promise.id))!.state).to.equal('kept');

    // Pressed again (another copy of the button): said in words, no ids.
    await pressKeep(h, ADA, promise.id, threadTs, String(made.answer.ts));
    const told = String(h.slack.ok('chat.postEphemeral', (a) => a.user === ADA).at(-1)!.args.text);
    expect(told).to.equal('That promise is already marked kept.');
  });

  it('a promise of a conversation handed off: the new owner is reminded in their thread, with Mark kept', async () => {
    const h = sb();
    const { ada, conversationId, promise } = await adaPromises(h);
    const ben = await h.agent('Ben', BEN);
    await h.sb.router.handoff(ada.id, conversationId, ben.id, 'the courier');
    await h.sb.router.acceptHandoff(ben.id, conversationId);
    await h.idle();
    h.clock.advance(3_000_000);
    await h.sb.router.tick();
    await h.idle();
    const threadTs = cardTsOf(h, BEN);
    const reminder = lines(h, BEN, threadTs).at(-1)!;
    expect(String(reminder.args.text)).to.match(
      /^:hourglass_flowing_sand: The promise “Call the courier” \(made by \*Ada\*\) is due .*\. Mark it kept once it is done/,
    );
    expect(keepButtons(reminder)).to.deep.equal([promise.id]);
    // Ada, who made it and is no longer on the conversation, is reminded in her own thread of it too: hers to keep.
    const hers = lines(h, ADA, cardTsOf(h, ADA)).at(-1)!;
    expect(String(hers.args.text)).to.match(
      /^:hourglass_flowing_sand: Your promise “Call the courier” is due .*\. Mark it kept once it is done/,
    );
    expect(keepButtons(hers)).to.deep.equal([promise.id]);
  });

  it('a reminder before it is due comes with Mark kept; not marked by the due time, the thread says it counts as broken', async () => {
    const h = sb();
    const { promise, threadTs } = await adaPromises(h);
    // The reminder (before the due time).
    h.clock.advance(3_000_000);
    await h.sb.router.tick();
    await h.idle();
    const reminder = lines(h, ADA, threadTs).at(-1)!;
    expect(String(reminder.args.text)).to.match(
      /^:hourglass_flowing_sand: Your promise “Call the courier” is due .*\. Mark it kept once it is done: one not marked kept by then counts as broken\.$/,
    );
    expect(keepButtons(reminder)).to.deep.equal([promise.id]);

    h.clock.advance(600_000);
    await h.sb.router.tick();
    await h.idle();
    expect(threadTexts(h, ADA, threadTs).at(-1)).to.equal(
      ':alarm_clock: Promise due now: “Call the courier” (made by *Ada*): not marked kept, so it counts as broken.',
    );
    expect((await h.store.getPromise(promise.id))!.state).to.equal('broken');
    // The promise's line and its reminder no longer carry Mark kept.
    for (const ts of [
      lines(h, ADA, threadTs).find((c) => keepButtons(c).length > 0)!.answer.ts,
      reminder.answer.ts,
    ]) {
      const updated = h.slack.ok('chat.update', (a) => a.ts === ts).at(-1)!;
      expect(keepButtons(updated)).to.deep.equal([]);
      expect(updated.args.text).to.equal(
        ':handshake: Promise “Call the courier” (made by *Ada*): counts as broken.',
      );
    }
    // Pressed after: said as it is.
    await pressKeep(h, ADA, promise.id, threadTs, String(reminder.answer.ts));
    expect(String(h.slack.ok('chat.postEphemeral', (a) => a.user === ADA).at(-1)!.args.text)).to.equal(
      'That promise already counts as broken: its due time had passed.',
    );
  });

  it('a colleague who neither made it nor owns the conversation is refused, and it stays open', async () => {
    const h = sb();
    const { promise, threadTs } = await adaPromises(h);
    await h.agent('Bob', BOB);
    const made = lines(h, ADA, threadTs).at(-1)!;
    await pressKeep(h, BOB, promise.id, threadTs, String(made.answer.ts));
    expect((await h.store.getPromise(promise.id))!.state).to.equal('open');
    const told = String(h.slack.ok('chat.postEphemeral', (a) => a.user === BOB).at(-1)!.args.text);
    expect(told).to.equal('You are not on this conversation (any more), so nothing was sent or changed.');
  });
});

describe('Slack console: promises on a former owner’s card', () => {
  const sb = useSlackHarness();

  /** The Mark kept buttons on a card (their promise ids). */
  const cardKeeps = (blocks: Json[]) =>
    blocks.flatMap((b) => (b.accessory?.action_id === ACTION.keep ? [String(b.accessory.value)] : []));

  for (const [how, settle] of [
    [
      'kept by the new owner',
      async (h: SlackHarness, benId: string, promiseId: string) => {
        await h.sb.router.keepPromise(benId, promiseId);
      },
    ],
    [
      'broken at its due time',
      async (h: SlackHarness) => {
        h.clock.advance(3_600_000);
        await h.sb.router.tick();
      },
    ],
  ] as const) {
    it(`the card of the agent who made it, handed on, loses Mark kept once it is ${how}`, async () => {
      const h = sb();
      const { ada, conversationId, promise, threadTs } = await adaPromises(h);
      const ben = await h.agent('Ben', BEN);
      await h.sb.router.handoff(ada.id, conversationId, ben.id, 'the courier');
      await h.sb.router.acceptHandoff(ben.id, conversationId);
      await h.idle();
      // Handed on, still hers to keep: her card lists it with Mark kept.
      expect(cardKeeps(latestCard(h, ADA, threadTs))).to.deep.equal([promise.id]);

      await settle(h, ben.id, promise.id);
      await h.idle();
      expect((await h.store.getPromise(promise.id))!.state).not.to.equal('open');
      const card = latestCard(h, ADA, threadTs);
      expect(cardKeeps(card)).to.deep.equal([]);
      expect(JSON.stringify(card)).not.to.contain('Open promises');
      expect(JSON.stringify(card)).to.contain('Now owned by *Ben*');
      expect(cardKeeps(latestCard(h, BEN, cardTsOf(h, BEN)))).to.deep.equal([]);
    });
  }
});
