// Slack threads: a customer's email carries a "Show original" button (in the transcript a new card opens with and
// on each line that follows), which answers the agent who presses it, to them alone, with a link to the mail as
// received, signed then: a thread outlives any link, so the button works months later. No link is posted in a
// thread. A mail too large to keep has no button, and its line says so. Other messages have none.
import { expect } from 'chai';
import request from 'supertest';
import { ACTION } from '../../channels/slack/blocks.js';
import { INBOUND_TOKEN } from './email-harness.js';
import {
  blockActions,
  cardTsOf,
  dmOf,
  PUBLIC_URL,
  type SlackHarness,
  threadTexts,
  useSlackHarness,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';
const DAY = 24 * 60 * 60 * 1000;
const LINK = /<(https:\/\/support\.example\.com\/email\/original\/[^|>]+)\|Open the original email>/;
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
type Json = any;

/** A mail from Ana; `re`: the Message-ID it answers; `extra`: more lines of text (a long mail). */
const mail = (id: string, text: string, re?: string) =>
  [
    'From: Ana Diaz <ana.diaz@example.org>',
    'To: support@support.example.com',
    'Subject: The lid',
    `Message-ID: <${id}@example.org>`,
    ...(re ? [`In-Reply-To: <${re}@example.org>`, `References: <${re}@example.org>`] : []),
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    '',
    '> what the trimming leaves out',
    '',
  ].join('\r\n');

/** A mail with a file of `bytes` bytes (base64 in the mail). */
const mailWithFile = (id: string, text: string, bytes: number) =>
  [
    'From: Ana Diaz <ana.diaz@example.org>',
    'To: support@support.example.com',
    'Subject: The photos',
    `Message-ID: <${id}@example.org>`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    '--b1',
    'Content-Type: application/octet-stream; name="scan.bin"',
    'Content-Disposition: attachment; filename="scan.bin"',
    'Content-Transfer-Encoding: base64',
    '',
    ...(Buffer.alloc(bytes, 7)
      .toString('base64')
      .match(/.{1,76}/g) ?? []),
    '--b1--',
    '',
  ].join('\r\n');

const ENV = {
  EMAIL_INBOUND_TOKEN: INBOUND_TOKEN,
  // Replies are not sent here: the SMTP server is never reached.
  SMTP_URL: 'smtp://127.0.0.1:9',
  EMAIL_FROM: 'support@support.example.com',
};

const receive = (h: SlackHarness, raw: string) =>
  request(h.url)
    .post('/email/inbound')
    .set('Content-Type', 'message/rfc822')
    .set('Authorization', `Bearer ${INBOUND_TOKEN}`)
    .send(Buffer.from(raw))
    .expect(202);

/** The posts in a user's card thread that carry Show original buttons: the post, and the buttons' values. */
function originalButtons(h: SlackHarness, user: string): Array<{ ts: string; values: string[] }> {
  const threadTs = cardTsOf(h, user);
  return h.slack
    .ok(
      'chat.postMessage',
      (a) => a.channel === dmOf(user) && a.thread_ts === threadTs && Array.isArray(a.blocks),
    )
    .map((c) => ({
      ts: String(c.answer.ts),
      values: (c.args.blocks as Json[])
        .filter((b) => b.type === 'actions')
        .flatMap((b) =>
          b.elements.filter((e: Json) => e.action_id === ACTION.original).map((e: Json) => e.value),
        ),
    }))
    .filter((p) => p.values.length > 0);
}

/** `user` presses Show original for message `messageId` on the post `postTs` of their card's thread. */
async function pressOriginal(
  h: SlackHarness,
  user: string,
  messageId: string,
  postTs: string,
  threadTs: string,
) {
  const before = h.slack.ok('chat.postEphemeral', (a) => a.user === user).length;
  await h
    .interact(
      blockActions({
        user,
        actionId: ACTION.original,
        blockId: 'original',
        value: messageId,
        channel: dmOf(user),
        messageTs: postTs,
        threadTs,
      }),
    )
    .expect(200);
  await h.idle();
  const said = h.slack.ok('chat.postEphemeral', (a) => a.user === user).slice(before);
  expect(said).to.have.length(1);
  return String(said[0]!.args.text);
}

describe('Slack: the original of a customer email', () => {
  const sb = useSlackHarness({ env: ENV });

  it('the transcript of a new card and each later line have a Show original button, no link; pressed, even 31 days on, it answers with a fresh link that opens the mail', async () => {
    const h = sb();
    const ada = await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    await receive(h, mail('ana-1', 'The lid came cracked.'));
    await h.idle();
    const [conversation] = await h.sb.store.listConversations({ ownerId: ada.id });
    await h.sb.router.reply(ada.id, conversation!.id, 'A new one is on its way.', 'r1');
    await receive(h, mail('ana-2', 'Thank you!', 'ana-1'));
    await h.idle();

    const threadTs = cardTsOf(h, ADA);
    const texts = threadTexts(h, ADA, threadTs);
    // No link in the thread: it would stop opening the mail after 30 days.
    expect(texts.join('\n')).to.not.contain('/email/original/');
    const anas = (await h.sb.store.listMessages(conversation!.id)).filter((m) => m.direction === 'in');
    const posts = originalButtons(h, ADA);
    // One per mail of Ana's (the transcript's, then the line's): none on Ada's reply.
    expect(posts.map((p) => p.values)).to.deep.equal([[anas[0]!.id], [anas[1]!.id]]);
    expect(texts.find((t) => t.includes('A new one is on its way'))).to.not.contain('original');
    // The line's text shows in the post's blocks, as Slack shows a message with blocks.
    const line = h.slack.ok('chat.postMessage', (a) => String(a.text).includes('Thank you!')).at(-1)!;
    expect(line.args.blocks[0]).to.deep.include({ type: 'section' });
    expect(line.args.blocks[0].text.text).to.contain('Thank you!');

    h.clock.advance(31 * DAY);
    const said = ['The lid came cracked.', 'Thank you!'];
    for (const [i, post] of posts.entries()) {
      const answer = await pressOriginal(h, ADA, post.values[0]!, post.ts, threadTs);
      const link = answer.match(LINK)?.[1];
      expect(link, answer).to.be.a('string');
      expect(link!.startsWith(`${PUBLIC_URL}/email/original/`)).to.equal(true);
      // A link in a thread cannot carry a console's token, and does not.
      expect(link).to.not.contain('token=');
      const page = await request(h.url).get(link!.slice(PUBLIC_URL.length)).expect(200);
      expect(page.text).to.contain(said[i]);
      expect(page.text).to.contain('&gt; what the trimming leaves out');
    }
  });

  it('a long mail’s line (over the 3,000 characters a section takes) is posted whole in sections, its button under it', async () => {
    const h = sb();
    const ada = await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    await receive(h, mail('ana-1', 'The lid came cracked.'));
    await h.idle();
    const words = Array.from({ length: 520 }, (_, i) => `word${i}`).join(' ');
    await receive(h, mail('ana-2', `${words} the end.`, 'ana-1'));
    await h.idle();
    const [conversation] = await h.sb.store.listConversations({ ownerId: ada.id });
    const long = (await h.sb.store.listMessages(conversation!.id)).find((m) => m.text.includes('word519'))!;
    // Longer than a thread shows: cut, saying so (the text is over 3,000 characters all the same).
    const line = h.slack.ok('chat.postMessage', (a) => String(a.text).includes('word0 word1')).at(-1)!;
    const sections = (line.args.blocks as Json[]).filter((b) => b.type === 'section');
    expect(String(line.args.text).length).to.be.greaterThan(3000);
    expect(sections.length).to.be.greaterThan(1);
    for (const section of sections) expect(section.text.text.length).to.be.at.most(3000);
    expect(sections.map((b) => b.text.text).join('')).to.equal(line.args.text);
    expect(line.args.blocks.at(-1).elements.map((e: Json) => [e.action_id, e.value])).to.deep.equal([
      [ACTION.original, long.id],
    ]);
  });

  it('a colleague never shown the mail is refused; one to whom it was handed opens it', async () => {
    const h = sb();
    const ada = await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    await receive(h, mail('ana-1', 'The lid came cracked.'));
    await h.idle();
    const bob = await h.agent('Bob', BOB, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    const [conversation] = await h.sb.store.listConversations({ ownerId: ada.id });
    const [ana] = await h.sb.store.listMessages(conversation!.id);
    // Bob, not on it, forges a press of the button with its message's id.
    const refused = await pressOriginal(h, BOB, ana!.id, '1767700000.000001', '1767700000.000001');
    expect(refused).to.equal('You are not on this conversation, so its mail is not yours to open.');
    expect(refused).to.not.match(LINK);

    await h.sb.router.handoff(ada.id, conversation!.id, bob.id, 'yours');
    await h.sb.router.acceptHandoff(bob.id, conversation!.id);
    await h.idle();
    const [post] = originalButtons(h, BOB);
    expect(post!.values).to.deep.equal([ana!.id]);
    expect(await pressOriginal(h, BOB, ana!.id, post!.ts, cardTsOf(h, BOB))).to.match(LINK);
    // Ada, whose thread showed it, may still open it.
    expect(await pressOriginal(h, ADA, ana!.id, originalButtons(h, ADA)[0]!.ts, cardTsOf(h, ADA))).to.match(
      LINK,
    );
  });
});

describe('Slack: a customer email too large to keep', () => {
  // 4 KiB kept in all: a mail with a 3 KiB file (4 KiB of base64) is over it.
  const sb = useSlackHarness({ env: { ...ENV, EMAIL_MAX_BYTES: '8192', EMAIL_STORE_MAX_BYTES: '8192' } });

  it('its line has no Show original button and says the mail was too large to keep; a press anyway says so too', async () => {
    const h = sb();
    const ada = await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    await receive(h, mailWithFile('big-1', 'Here are the photos.', 5000));
    await h.idle();
    await receive(h, mail('small-1', 'And the lid came cracked.'));
    await h.idle();
    const conversations = await h.sb.store.listConversations({ ownerId: ada.id });
    const messages = (await Promise.all(conversations.map((c) => h.sb.store.listMessages(c.id)))).flat();
    const big = messages.find((m) => m.text.includes('Here are the photos.'))!;
    const small = messages.find((m) => m.text.includes('the lid came cracked'))!;
    const texts = h.slack
      .ok('chat.postMessage', (a) => a.channel === dmOf(ADA))
      .map((c) => String(c.args.text));
    const bigLine = texts.find((t) => t.includes('Here are the photos.'))!;
    expect(bigLine).to.contain('No original: the mail was too large to keep as received.');
    const buttons = h.slack
      .ok('chat.postMessage', (a) => a.channel === dmOf(ADA) && Array.isArray(a.blocks))
      .flatMap((c) => (c.args.blocks as Json[]).filter((b) => b.type === 'actions'))
      .flatMap((b) =>
        b.elements.filter((e: Json) => e.action_id === ACTION.original).map((e: Json) => e.value),
      );
    // The mail that fits has its button; the one too large has none.
    expect(buttons).to.include(small.id);
    expect(buttons).to.not.include(big.id);
    const threadTs = h.slack
      .ok(
        'chat.postMessage',
        (a) =>
          a.channel === dmOf(ADA) &&
          a.thread_ts !== undefined &&
          String(a.text).includes('Here are the photos.'),
      )
      .at(-1)!.args.thread_ts;
    expect(await pressOriginal(h, ADA, big.id, threadTs, threadTs)).to.equal(
      'This email was too large to keep as received (EMAIL_STORE_MAX_BYTES): the thread shows what is left of it.',
    );
  });
});
