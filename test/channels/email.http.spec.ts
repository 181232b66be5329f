// `POST /email/inbound`: raw MIME from a forwarder, bearer token, size limit, idempotency.
import { expect } from 'chai';
import request from 'supertest';
import { type EmailHarness, fixture, INBOUND_TOKEN, startEmailHarness } from './email-harness.js';

const post = (h: EmailHarness, body: Buffer | string, token: string | null = INBOUND_TOKEN) => {
  const req = request(h.url).post('/email/inbound').set('Content-Type', 'message/rfc822');
  return (token === null ? req : req.set('Authorization', `Bearer ${token}`)).send(body);
};

describe('POST /email/inbound', () => {
  let h: EmailHarness;
  beforeEach(async () => {
    h = await startEmailHarness({ EMAIL_ATTACHMENT_MAX_BYTES: '64' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('without the token, or with another one, is 401 and stores nothing', async () => {
    const missing = await post(h, fixture('multipart-alternative.eml'), null).expect(401);
    expect(missing.body.error.code).to.equal('unauthorized');
    expect(missing.headers['www-authenticate']).to.equal('Bearer realm="email", Basic realm="email"');
    await post(h, fixture('multipart-alternative.eml'), 'not-the-token-at-all').expect(401);
    await request(h.url)
      .post('/email/inbound')
      .set('Authorization', INBOUND_TOKEN)
      .set('Content-Type', 'message/rfc822')
      .send(fixture('multipart-alternative.eml'))
      .expect(401);
    expect(await h.store.listConversations({})).to.deep.equal([]);
  });

  it('a garbage body is 400 naming the problem; an empty one too; another content type is 415', async () => {
    const garbage = await post(h, Buffer.from([0, 1, 2, 255, 254, 10, 13, 0x47, 0x41])).expect(400);
    expect(garbage.body.error).to.deep.equal({
      code: 'invalid_input',
      message: 'message: not an email message (it has no From header)',
      field: 'from',
    });
    const prose = await post(h, 'this is not an email at all').expect(400);
    expect(prose.body.error.code).to.equal('invalid_input');
    const empty = await post(h, '').expect(400);
    expect(empty.body.error.message).to.match(/empty/);
    const json = await request(h.url)
      .post('/email/inbound')
      .set('Authorization', `Bearer ${INBOUND_TOKEN}`)
      .send({ from: 'ana@example.org' })
      .expect(415);
    expect(json.body.error.code).to.equal('unsupported_media_type');
    const get = await request(h.url).get('/email/inbound').expect(405);
    expect([get.headers.allow, get.body.error.code]).to.deep.equal(['POST', 'method_not_allowed']);
    expect(await h.store.listConversations({})).to.deep.equal([]);
  });

  it('as SendGrid (raw mode, field email) and Mailgun (field body-mime) post it: a form, the token as basic auth', async () => {
    await h.agent('Sam');
    // SendGrid's raw mode: the message beside its own fields; no header of ours, the token in the URL's basic auth.
    const sendgrid = await request(h.url)
      .post('/email/inbound')
      .auth('inbound', INBOUND_TOKEN)
      .field('headers', 'From: Ana Diaz <ana.diaz@example.org>')
      .field(
        'envelope',
        JSON.stringify({ to: ['support@support.example.com'], from: 'ana.diaz@example.org' }),
      )
      .field('charsets', JSON.stringify({ to: 'UTF-8', from: 'UTF-8' }))
      .field('email', fixture('multipart-alternative.eml').toString('utf8'))
      .field('spam_score', '0.1')
      .expect(202);
    expect(sendgrid.body).to.include({ status: 'accepted', created: true, outcome: 'assigned' });
    // Mailgun's mime forward, with a file part beside it (read past).
    const mailgun = await request(h.url)
      .post('/email/inbound')
      .auth('api', INBOUND_TOKEN)
      .field('recipient', 'support@support.example.com')
      .field('body-mime', fixture('base64.eml').toString('utf8'))
      .attach('attachment-1', Buffer.from('%PDF-1.4'), 'invoice.pdf')
      .expect(202);
    expect(mailgun.body.status).to.equal('accepted');
    expect(await h.store.listConversations({})).to.have.length(2);
    // The same message again is a duplicate, however it comes.
    await request(h.url)
      .post('/email/inbound')
      .auth('inbound', INBOUND_TOKEN)
      .field('email', fixture('multipart-alternative.eml').toString('utf8'))
      .expect(200);
    // A wrong password is refused; a form without the message says which fields it reads.
    await request(h.url)
      .post('/email/inbound')
      .auth('inbound', 'not-the-token-at-all')
      .field('email', 'x')
      .expect(401);
    const none = await request(h.url)
      .post('/email/inbound')
      .auth('inbound', INBOUND_TOKEN)
      .field('text', 'only the text part')
      .expect(400);
    expect(none.body.error).to.deep.equal({
      code: 'invalid_input',
      message: 'the form has no raw message: send it as the field "email" or "body-mime"',
      field: 'email',
    });
    expect(await h.store.listConversations({})).to.have.length(2);
  });

  it('a duplicate Message-ID is stored once: 202 then 200 with the same message', async () => {
    await h.agent('Sam');
    const first = await post(h, fixture('multipart-alternative.eml')).expect(202);
    expect(first.body).to.include({ status: 'accepted', created: true, outcome: 'assigned' });
    const again = await post(h, fixture('multipart-alternative.eml')).expect(200);
    expect(again.body).to.deep.equal({
      status: 'duplicate',
      messageId: first.body.messageId,
      conversationId: first.body.conversationId,
    });
    const messages = await h.store.listMessages(first.body.conversationId);
    expect(messages).to.have.length(1);
    expect(messages[0]).to.include({
      text: 'Hello,\n\nMy order #4471 arrived today and the lid of the teapot is cracked. Could you send a replacement?\n\nThanks,\nAna',
      subject: 'Order #4471 arrived damaged',
      externalId: '<CAF=alt-0001@mail.gmail.com>',
    });
    const customer = await h.store.getCustomer(
      (await h.store.getConversation(first.body.conversationId))!.customerId,
    );
    expect(customer?.identities).to.deep.equal([{ channel: 'email', address: 'ana.diaz@example.org' }]);
    expect(customer?.name).to.equal('Ana Diaz');
    expect(customer?.facts.email?.source).to.equal('email:from');
  });

  it("a forward reaches the agent whole: the order the customer forwarded, below Outlook's header block", async () => {
    await h.agent('Sam');
    const raw = [
      'From: Ana Diaz <ana.diaz@example.org>',
      'To: support@support.example.com',
      'Subject: FW: Your Contoso Shop order #5521 has shipped',
      'Message-ID: <fw-5521@example.org>',
      'Content-Type: text/plain; charset=UTF-8',
      '',
      'See the confirmation below: I ordered the blue kettle.',
      '',
      '________________________________',
      'From: Contoso Shop <orders@contoso.example>',
      'Sent: Monday, December 7, 2026 9:00 AM',
      'To: Ana Diaz',
      'Subject: Your Contoso Shop order #5521 has shipped',
      '',
      'Red kettle 1.7 L, 1, 39.90',
      '',
    ].join('\r\n');
    const res = await post(h, raw).expect(202);
    const [message] = await h.store.listMessages(res.body.conversationId);
    expect(message?.text).to.contain('See the confirmation below: I ordered the blue kettle.');
    expect(message?.text).to.contain('Red kettle 1.7 L, 1, 39.90');
  });

  it('keeps the raw message and the attachments (size-capped); the message lists name, type and size', async () => {
    const raw = fixture('attachment.eml');
    const res = await post(h, raw).expect(202);
    const message = (await h.store.getMessage(res.body.messageId))!;
    expect(message.text).to.equal(
      'The invoice attached charges me twice for shipping. Please correct it.\n\nLee',
    );
    // A link for the one whose bytes are kept (see the attachment links' own tests).
    expect(
      message.attachments.map(({ url, ...a }) => [a, url && new URL(url).pathname.split('/', 3).join('/')]),
    ).to.deep.equal([
      [{ name: 'invoice-5521.pdf', type: 'application/pdf', size: 102 }, undefined],
      [{ name: 'lines.csv', type: 'text/csv', size: 47 }, '/email/attachments'],
    ]);
    const kept = (await h.email.content.get(message.id))!;
    expect(kept.raw.equals(raw)).to.equal(true);
    expect(kept.replyTo).to.equal('lee.chen@example.com');
    expect(kept.attachments.map((a) => [a.name, a.content?.length ?? null])).to.deep.equal([
      ['invoice-5521.pdf', null], // over EMAIL_ATTACHMENT_MAX_BYTES (64): listed, bytes not kept
      ['lines.csv', 47],
    ]);
    expect(kept.attachments[1]!.content!.toString()).to.equal(
      'item,qty,price\nshipping,1,4.90\nshipping,1,4.90\n',
    );
  });

  it('an auto-reply is accepted and ignored: 202 with the reason, no conversation', async () => {
    const res = await post(h, fixture('auto-reply.eml')).expect(202);
    expect(res.body).to.deep.equal({
      status: 'ignored',
      kind: 'auto-reply',
      reason: 'Auto-Submitted: auto-replied',
    });
    expect(await h.store.listConversations({})).to.deep.equal([]);
  });

  it('a mail with no subject, no text and no file is accepted and ignored: 202, no conversation', async () => {
    const raw = [
      'From: x@example.com',
      'To: support@example.com',
      'Subject: ',
      'Message-ID: <empty-1@example.com>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      '',
    ].join('\r\n');
    const res = await post(h, raw).expect(202);
    expect(res.body).to.deep.equal({
      status: 'ignored',
      kind: 'empty',
      reason: 'no subject, no text and no file',
    });
    expect(await h.store.listConversations({})).to.deep.equal([]);
    // A subject alone is something to answer.
    const titled = await post(
      h,
      raw.replace('Subject: ', 'Subject: Refund').replace('empty-1', 'empty-2'),
    ).expect(202);
    expect(titled.body.status).to.equal('accepted');
  });

  it("a blocked customer's mail is accepted and ignored: 202 with the reason; nothing stored, not answered", async () => {
    const sam = await h.agent('Sam');
    const first = await post(h, fixture('multipart-alternative.eml')).expect(202);
    await h.sb.router.blockFromConversation(sam.id, first.body.conversationId, 'harassment');
    const before = await h.store.listConversations({});
    const raw = fixture('attachment.eml')
      .toString()
      .replace(/^From: .*$/m, 'From: Ana Diaz <Ana.Diaz@example.org>')
      .replace(/^Message-ID: .*$/im, 'Message-ID: <blocked-1@example.org>');
    const res = await post(h, raw).expect(202);
    expect(res.body).to.deep.equal({
      status: 'ignored',
      kind: 'blocked',
      reason: 'the sender is a blocked customer',
    });
    expect(await h.store.listConversations({})).to.deep.equal(before);
    expect(await h.store.findMessageByExternalId('email', '<blocked-1@example.org>')).to.equal(null);
  });

  it('the text the agent sees is the new text only (Gmail- and Outlook-style replies)', async () => {
    const gmail = await post(h, fixture('gmail-reply.eml')).expect(202);
    expect((await h.store.getMessage(gmail.body.messageId))?.text).to.equal(
      'Yes please, the blue one is fine too.',
    );
    const outlook = await post(h, fixture('outlook-reply.eml')).expect(202);
    expect((await h.store.getMessage(outlook.body.messageId))?.text).to.equal(
      'Hi Sam,\n\nClearing the cache worked, I can log in again. Thanks for the quick help!\n\nKind regards\nKim Morgan',
    );
  });
});

describe('POST /email/inbound with entry points', () => {
  it('a mail to the billing address needs what that entry point says; one to another address does not', async () => {
    const entryPoints = [
      { channel: 'email', to: 'billing@example.com', skills: { billing: 1 }, priority: 1 },
    ];
    const h = await startEmailHarness({ ROUTING_POLICY: JSON.stringify({ entryPoints }) });
    try {
      const mail = (to: string, id: string, from = 'Ana Diaz <ana.diaz@example.org>') =>
        [
          `From: ${from}`,
          `To: ${to}`,
          'Subject: Invoice',
          `Message-ID: <${id}@example.org>`,
          'Content-Type: text/plain',
          '',
          'The invoice is wrong.',
        ].join('\r\n');
      const billing = await post(h, mail('Billing <Billing@example.com>', 'b-1')).expect(202);
      const conv = await h.store.getConversation(billing.body.conversationId);
      expect([conv?.skills, conv?.priority]).to.deep.equal([{ billing: 1 }, 1]);
      const other = await post(h, mail('someone@example.com', 'o-1', 'Bo <bo@example.org>')).expect(202);
      expect(other.body.conversationId).not.to.equal(billing.body.conversationId);
      expect((await h.store.getConversation(other.body.conversationId))?.skills).to.deep.equal({});
    } finally {
      await h.close();
    }
  });
});

describe('POST /email/inbound size limit', () => {
  let h: EmailHarness;
  beforeEach(async () => {
    h = await startEmailHarness({ EMAIL_MAX_BYTES: '2048', EMAIL_STORE_MAX_BYTES: '65536' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('a body over EMAIL_MAX_BYTES is 413 with a clear message', async () => {
    const big = Buffer.concat([fixture('base64.eml'), Buffer.from('x'.repeat(4096))]);
    const res = await post(h, big).expect(413);
    expect(res.body.error).to.deep.equal({
      code: 'too_large',
      message: 'the message is larger than the 2048 bytes accepted (EMAIL_MAX_BYTES)',
    });
    expect(await h.store.listConversations({})).to.deep.equal([]);
    // In a form: the field too large, or the form far larger than a message may be.
    const field = await request(h.url)
      .post('/email/inbound')
      .auth('inbound', INBOUND_TOKEN)
      .field('email', big.toString('utf8'))
      .expect(413);
    expect(field.body.error.code).to.equal('too_large');
    const padded = request(h.url).post('/email/inbound').auth('inbound', INBOUND_TOKEN);
    for (let i = 0; i < 8; i++) padded.field(`pad${i}`, 'y'.repeat(64 * 1024));
    const form = await padded.field('email', fixture('base64.eml').toString('utf8')).ok(() => true);
    expect(form.status).to.equal(413);
    expect(await h.store.listConversations({})).to.deep.equal([]);
  });
});

describe('email off', () => {
  it('without email settings /email/inbound does not exist and the start-up notice says so', async () => {
    const { loadConfig } = await import('../../server/config.js');
    const config = loadConfig({ PORT: '0', LOG_LEVEL: 'silent' });
    expect(config.email).to.equal(null);
    expect(config.off).to.include(
      'email: off (set EMAIL_INBOUND_TOKEN or SMTP_LISTEN_PORT to receive, SMTP_URL and EMAIL_FROM to reply)',
    );
  });
});
