// Slack threads: a customer's email carries a "Show original" link to the mail as received (its quoted history
// and signature too), in the transcript a new card opens with and on each line that follows. Other messages
// have none.
import { expect } from 'chai';
import request from 'supertest';
import { INBOUND_TOKEN } from './email-harness.js';
import { cardTsOf, PUBLIC_URL, type SlackHarness, threadTexts, useSlackHarness } from './slack-harness.js';

const ADA = 'U0ADA00001';
const LINK = /<(https:\/\/support\.example\.com\/email\/original\/[^|>]+)\|Show original>/g;

/** A mail from Ana; `re`: the Message-ID it answers. */
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

describe('Slack: the original of a customer email', () => {
  const sb = useSlackHarness({
    // Replies are not sent here: the SMTP server is never reached.
    env: {
      EMAIL_INBOUND_TOKEN: INBOUND_TOKEN,
      SMTP_URL: 'smtp://127.0.0.1:9',
      EMAIL_FROM: 'support@support.example.com',
    },
  });
  const receive = (h: SlackHarness, raw: string) =>
    request(h.url)
      .post('/email/inbound')
      .set('Content-Type', 'message/rfc822')
      .set('Authorization', `Bearer ${INBOUND_TOKEN}`)
      .send(Buffer.from(raw))
      .expect(202);

  it('the transcript of a new card and each later line link to the mail as received', async () => {
    const h = sb();
    const ada = await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    await receive(h, mail('ana-1', 'The lid came cracked.'));
    await h.idle();
    const [conversation] = await h.sb.store.listConversations({ ownerId: ada.id });
    await h.sb.router.reply(ada.id, conversation!.id, 'A new one is on its way.', 'r1');
    await receive(h, mail('ana-2', 'Thank you!', 'ana-1'));
    await h.idle();

    const texts = threadTexts(h, ADA, cardTsOf(h, ADA));
    const links = texts.flatMap((t) => [...t.matchAll(LINK)].map((m) => m[1]!));
    // One per mail of Ana's: none on Ada's reply.
    expect(links).to.have.length(2);
    expect(texts.find((t) => t.includes('A new one is on its way'))).to.not.contain('Show original');
    const said = ['The lid came cracked.', 'Thank you!'];
    for (const [i, link] of links.entries()) {
      expect(link.startsWith(`${PUBLIC_URL}/email/original/`)).to.equal(true);
      const page = await request(h.url).get(link.slice(PUBLIC_URL.length)).expect(200);
      expect(page.text).to.contain(said[i]);
      expect(page.text).to.contain('&gt; what the trimming leaves out');
    }
  });
});
