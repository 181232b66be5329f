// "Show original": every inbound email message the API and the web console show carries a signed, expiring
// link (`original`) to the mail as received: its headers, its whole text (what the trimming left out too) and
// its files. Bad, altered and expired links are refused saying why; an erased customer's mail opens no more.
import { expect } from 'chai';
import request from 'supertest';
import { OriginalLinks } from '../../channels/email/original.js';
import { emitAck, type Harness, type Json, once, useHarness } from '../server/harness.js';
import { emailEnv, INBOUND_TOKEN, mailWith, useSink } from './email-harness.js';

const PUBLIC_URL = 'https://help.example.com';
const DAY = 24 * 60 * 60 * 1000;
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

/** Ana's mail: a new line above her signature and the reply she quotes, which the agent is not shown. */
const ANA = [
  'From: Ana Diaz <ana.diaz@example.org>',
  'To: Support <support@support.example.com>',
  'Cc: Bo Lind <bo.lind@example.org>',
  'Subject: Lid <broken> & cracked',
  'Date: Mon, 5 Jan 2026 11:02:00 +0000',
  'Message-ID: <original-ana-1@example.org>',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'The lid came cracked again. <script>alert(1)</script>',
  '',
  'On Mon, Jan 5, 2026 at 10:45 AM Support Team <support@support.example.com> wrote:',
  '> Hello Ana, do you want the same colour?',
  '> Sam',
  '',
].join('\r\n');

/** A mail with an HTML part only: a script and a picture from the sender's server. */
const HTML_ONLY = [
  'From: Lee Chen <lee.chen@example.com>',
  'To: support@support.example.com',
  'Subject: Invoice',
  'Message-ID: <original-html-1@example.com>',
  'MIME-Version: 1.0',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Where is my <b>invoice</b>?</p><script>document.title="ran"</script><img src="http://127.0.0.1:9/track.png">',
  '',
].join('\r\n');

describe('email: the original of an inbound message', () => {
  const sink = useSink();
  const sb = useHarness({ env: emailEnv(sink, { PUBLIC_URL }) });

  const receive = async (h: Harness, raw: string) => {
    const res = await request(h.url)
      .post('/email/inbound')
      .set('Content-Type', 'message/rfc822')
      .set('Authorization', `Bearer ${INBOUND_TOKEN}`)
      .send(Buffer.from(raw))
      .expect(202);
    return res.body as { messageId: string; conversationId: string };
  };
  /** The conversation's messages as the API shows them. */
  const messages = async (h: Harness, conversationId: string): Promise<Json[]> =>
    (await h.admin.get(`/api/conversations/${conversationId}`).expect(200)).body.messages;
  /** GET a link at this process (links name PUBLIC_URL). */
  const open = (h: Harness, url: string) => {
    expect(url.startsWith(`${PUBLIC_URL}/email/original/`), url).to.equal(true);
    return h.http().get(url.slice(PUBLIC_URL.length));
  };

  it('the API shows a link on each inbound email; it opens the headers, the whole text and the files', async () => {
    const h = sb();
    const { agent } = await h.createAgent('Ada');
    const { messageId, conversationId } = await receive(h, ANA);
    // The agent is shown the new line only; the original has all of it.
    const [mail] = await messages(h, conversationId);
    expect(mail.id).to.equal(messageId);
    expect(mail.text).to.not.contain('Hello Ana');
    await h.sb.router.reply(agent.id, conversationId, 'A new lid is on its way.', 'r1');
    const all = await messages(h, conversationId);
    expect(all.map((m: Json) => [m.direction, typeof m.original])).to.deep.equal([
      ['in', 'string'],
      ['out', 'undefined'],
    ]);

    const res = await open(h, mail.original).expect(200);
    expect(res.headers['content-type']).to.equal('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).to.match(/^sandbox allow-downloads; default-src 'none';/);
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['referrer-policy']).to.equal('no-referrer');
    expect(res.headers['cache-control']).to.equal('private, no-store');
    const page = res.text;
    for (const shown of [
      '<dt>From</dt><dd dir="auto">Ana Diaz &lt;ana.diaz@example.org&gt;</dd>',
      '<dt>To</dt><dd dir="auto">Support &lt;support@support.example.com&gt;</dd>',
      '<dt>Cc</dt><dd dir="auto">Bo Lind &lt;bo.lind@example.org&gt;</dd>',
      '<dt>Date</dt><dd dir="auto">Mon, 05 Jan 2026 11:02:00 GMT</dd>',
      '<dt>Subject</dt><dd dir="auto">Lid &lt;broken&gt; &amp; cracked</dd>',
      'The lid came cracked again. &lt;script&gt;alert(1)&lt;/script&gt;',
      '&gt; Hello Ana, do you want the same colour?',
    ])
      expect(page).to.contain(shown);
    expect(page).to.not.contain('<script>');
    // A text mail has no HTML to show as sent.
    expect(page).to.not.contain('data-sb="html"');
    const html = await open(h, `${mail.original}/html`).expect(404);
    expect(html.body.error.message).to.contain('no HTML part');
  });

  it('lists the files by name and size, linked when kept', async () => {
    const h = sb();
    await h.createAgent('Ada');
    const { conversationId } = await receive(
      h,
      mailWith('original-files', [['crack.png', 'image/png', PNG]]),
    );
    const [mail] = await messages(h, conversationId);
    const page = (await open(h, mail.original).expect(200)).text;
    expect(page).to.contain(
      `<a href="${mail.attachments[0].url}">crack.png (image/png, ${PNG.length} B)</a>`,
    );
  });

  it('an HTML-only mail: its text read from the HTML, and the HTML as sent, sandboxed and loading nothing remote', async () => {
    const h = sb();
    await h.createAgent('Ada');
    const { conversationId } = await receive(h, HTML_ONLY);
    const [mail] = await messages(h, conversationId);
    const page = (await open(h, mail.original).expect(200)).text;
    expect(page).to.contain('Where is my invoice?');
    expect(page).to.contain('data-sb="html"');
    const html = await open(h, `${mail.original}/html`).expect(200);
    expect(html.text).to.contain('<b>invoice</b>');
    expect(html.headers['content-security-policy']).to.equal(
      "sandbox allow-downloads; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    expect(html.headers['x-content-type-options']).to.equal('nosniff');
  });

  it('the web console is shown the link on the message, in its conversation and as the message arrives', async () => {
    const h = sb();
    const { token } = await h.createAgent('Ada');
    const ada = h.agentSocket(token);
    await once(ada, 'hello');
    const { conversationId } = await receive(h, ANA);
    const arrived = await once<Json>(ada, 'message');
    expect(arrived.message.original).to.match(/^https:\/\/help\.example\.com\/email\/original\//);
    const { view } = await emitAck(ada, 'conversation', { conversationId });
    await open(h, view.messages[0].original).expect(200);
    // An earlier conversation read in full (a transcript) carries it too.
    const read = await emitAck(ada, 'transcript', { conversationId });
    expect(read.messages[0].original).to.match(/^https:\/\/help\.example\.com\/email\/original\//);
  });

  it('a link expires; one made later opens again', async () => {
    const h = sb();
    await h.createAgent('Ada');
    const { conversationId } = await receive(h, ANA);
    const [mail] = await messages(h, conversationId);
    h.clock.advance(30 * DAY - 1);
    await open(h, mail.original).expect(200);
    h.clock.advance(1);
    const expired = await open(h, mail.original).expect(410);
    expect(expired.body.error.code).to.equal('link_expired');
    expect(expired.body.error.message).to.contain('expired at');
    const [again] = await messages(h, conversationId);
    await open(h, again.original).expect(200);
  });

  it('refuses a link cut short, altered or for another message, saying which; an unknown message is 404', async () => {
    const h = sb();
    await h.createAgent('Ada');
    const { conversationId } = await receive(h, ANA);
    const [mail] = await messages(h, conversationId);
    const token: string = mail.original.slice(`${PUBLIC_URL}/email/original/`.length);
    const [id, expires, mac] = token.split('.') as [string, string, string];
    const at = (t: string) => h.http().get(`/email/original/${encodeURIComponent(t)}`);

    for (const cut of ['nothing', token.slice(0, -3), `${id}.${expires}`, 'x'.repeat(400)]) {
      const res = await at(cut).expect(400);
      expect(res.body.error).to.include({ code: 'invalid_link', field: 'token' });
      expect(res.body.error.message).to.contain('copy the whole link');
    }
    // A later expiry, another message, another purpose's signature: not ours.
    const attachment = h.sb.tokens.sign('attachment', `${id}.${expires}`);
    for (const forged of [
      `${id}.${Number(expires) + DAY}.${mac}`,
      `msg_other.${expires}.${mac}`,
      attachment,
    ]) {
      const res = await at(forged).expect(403);
      expect(res.body.error.code).to.equal('invalid_link');
      expect(res.body.error.message).to.contain('altered');
    }
    const unknown = new OriginalLinks(h.sb.tokens, PUBLIC_URL, () => h.clock.now()).url('msg_nothere');
    const res = await open(h, unknown).expect(404);
    expect(res.body.error.message).to.contain('msg_nothere');
    // Not a page of the route at all.
    await h.http().get(`/email/original/${token}/other`).expect(404);
  });

  it('a mail no longer kept (the oldest go first past EMAIL_STORE_MAX_BYTES) answers 410 saying so', async () => {
    const h = sb();
    await h.createAgent('Ada');
    const { messageId, conversationId } = await receive(h, ANA);
    const [mail] = await messages(h, conversationId);
    expect(await h.sb.email!.content.delete([messageId])).to.equal(1);
    const res = await open(h, mail.original).expect(410);
    expect(res.body.error.code).to.equal('gone');
    expect(res.body.error.message).to.contain('no longer kept');
  });

  it("an erased customer's original opens no more, and its bytes are gone", async () => {
    const h = sb();
    await h.createAgent('Ada');
    const { messageId, conversationId } = await receive(h, ANA);
    const [mail] = await messages(h, conversationId);
    await open(h, mail.original).expect(200);
    const { customerId } = (await h.admin.get(`/api/conversations/${conversationId}`).expect(200)).body
      .conversation;
    await h.admin.delete(`/api/customers/${customerId}`).expect(200);
    const res = await open(h, mail.original).expect(404);
    expect(res.body.error.code).to.equal('not_found');
    expect(await h.sb.email!.content.get(messageId)).to.equal(null);
  });
});

describe('email: a mail too large to keep (EMAIL_STORE_MAX_BYTES)', () => {
  const sink = useSink();
  // 8 KiB kept in all: a mail with a 5,000-byte file (its raw and the file's bytes) is over it.
  const sb = useHarness({
    env: emailEnv(sink, { PUBLIC_URL, EMAIL_MAX_BYTES: '8192', EMAIL_STORE_MAX_BYTES: '8192' }),
  });

  it('has no link to its original in the API or the console, which are told it was too large to keep; one that fits still has its link', async () => {
    const h = sb();
    const { token } = await h.createAgent('Ada');
    const ada = h.agentSocket(token);
    await once(ada, 'hello');
    const receive = async (raw: string) =>
      (
        await request(h.url)
          .post('/email/inbound')
          .set('Content-Type', 'message/rfc822')
          .set('Authorization', `Bearer ${INBOUND_TOKEN}`)
          .send(Buffer.from(raw))
          .expect(202)
      ).body as { messageId: string; conversationId: string };
    const big = await receive(
      mailWith('too-large-1', [['scan.bin', 'application/octet-stream', Buffer.alloc(5000, 7)]]),
    );
    // As it arrives, the console is told so in the place of the link.
    const arrived = await once<Json>(ada, 'message');
    expect(arrived.message.id).to.equal(big.messageId);
    expect(arrived.message.original).to.equal(undefined);
    expect(arrived.message.originalNotKept).to.equal('too_large');
    const small = await receive(ANA);
    const api = async (conversationId: string) =>
      (await h.admin.get(`/api/conversations/${conversationId}`).expect(200)).body.messages as Json[];
    const [bigShown] = await api(big.conversationId);
    expect(bigShown.original).to.equal(undefined);
    expect(bigShown.originalNotKept).to.equal('too_large');
    // Its file has no link either: its bytes were not kept.
    expect(bigShown.attachments.map((a: Json) => [a.name, a.url])).to.deep.equal([['scan.bin', undefined]]);
    const smallShown = (await api(small.conversationId)).find((m) => m.id === small.messageId);
    expect(smallShown.originalNotKept).to.equal(undefined);
    await h.http().get(smallShown.original.slice(PUBLIC_URL.length)).expect(200);
    const { view } = await emitAck(ada, 'conversation', { conversationId: big.conversationId });
    expect(view.messages[0]).to.deep.include({ originalNotKept: 'too_large' });
    expect(view.messages[0].original).to.equal(undefined);
    // A link made anyway (none is given) says why it opens nothing.
    const forged = new OriginalLinks(h.sb.tokens, PUBLIC_URL, () => h.clock.now()).url(big.messageId);
    const res = await h.http().get(forged.slice(PUBLIC_URL.length)).expect(410);
    expect(res.body.error.message).to.contain('too large to keep');
  });
});
