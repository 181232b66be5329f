// Real-world MIME shapes through the parser, the reply trimmer, the robot
// detector, the threading helpers and the settings.
import { expect } from 'chai';
import { automated } from '../../channels/email/automated.js';
import { verifyBearer } from '../../channels/email/http.js';
import { simpleHtml } from '../../channels/email/outbound.js';
import { parseEmail } from '../../channels/email/parse.js';
import { loadEmailSettings } from '../../channels/email/settings.js';
import {
  inboundMessageId,
  isOurAddress,
  messageIds,
  outboundMessageId,
  parseOwnMessageId,
  plusTag,
  referencesFor,
  replySubject,
} from '../../channels/email/threading.js';
import { newText } from '../../channels/email/trim.js';
import { ValidationError } from '../../shared/errors.js';
import { fixture } from './email-harness.js';

describe('email parsing (fixtures)', () => {
  it('multipart/alternative, quoted-printable: the text part, the sender, the subject', async () => {
    const e = await parseEmail(fixture('multipart-alternative.eml'));
    expect(e.messageId).to.equal('<CAF=alt-0001@mail.gmail.com>');
    expect(e.from).to.deep.equal({ address: 'ana.diaz@example.org', name: 'Ana Diaz' });
    expect(e.subject).to.equal('Order #4471 arrived damaged');
    expect(e.recipients).to.deep.equal(['support@support.example.com']);
    expect(newText(e.text)).to.equal(
      'Hello,\n\nMy order #4471 arrived today and the lid of the teapot is cracked. Could you send a replacement?\n\nThanks,\nAna',
    );
    expect(e.automated).to.equal(null);
  });

  it('quoted-printable UTF-8 body and encoded-word headers', async () => {
    const e = await parseEmail(fixture('quoted-printable.eml'));
    expect(e.from.name).to.equal('Zoë Brückner');
    expect(e.subject).to.equal('Rückerstattung für Bestellung');
    expect(e.text).to.include(
      'ich möchte die Rückerstattung für meine Bestellung, die ich am Freitag zurückgeschickt habe',
    );
    expect(e.text).to.include('49,90 €');
  });

  it('base64 body', async () => {
    const e = await parseEmail(fixture('base64.eml'));
    expect(newText(e.text)).to.equal(
      'Hi there,\n\nThe tracking link in my confirmation email returns an error page.\nCan you check order 5520 for me?\n\nRavi',
    );
  });

  it('a non-UTF-8 charset (windows-1252, 8bit) is decoded', async () => {
    const e = await parseEmail(fixture('windows-1252.eml'));
    expect(e.from.name).to.equal('Renée Lützow');
    expect(e.subject).to.equal('Facture « erronée »');
    expect(e.text).to.include(
      'Ma facture indique 120 € au lieu de 102 €. Pouvez-vous la corriger ? « Merci » d’avance.',
    );
  });

  it('attachments: name, type, size and bytes', async () => {
    const e = await parseEmail(fixture('attachment.eml'));
    expect(e.attachments.map(({ name, type, size }) => ({ name, type, size }))).to.deep.equal([
      { name: 'invoice-5521.pdf', type: 'application/pdf', size: 102 },
      { name: 'lines.csv', type: 'text/csv', size: 47 },
    ]);
    expect(e.attachments[0]!.content.subarray(0, 8).toString()).to.equal('%PDF-1.4');
  });

  it('HTML only: converted to text', async () => {
    const e = await parseEmail(fixture('html-only.eml'));
    expect(newText(e.text)).to.equal(
      'Please ship order 6610 to my new address:\n\n12 Park Street\nKolkata 700016',
    );
  });

  it('Gmail-style reply: threading headers; the two-line attribution and the quote are trimmed', async () => {
    const e = await parseEmail(fixture('gmail-reply.eml'));
    expect(e.inReplyTo).to.deep.equal(['<sb.msg_000010.cv_000003@support.example.com>']);
    expect(e.references).to.deep.equal([
      '<CAF=alt-0001@mail.gmail.com>',
      '<sb.msg_000010.cv_000003@support.example.com>',
    ]);
    expect(newText(e.text)).to.equal('Yes please, the blue one is fine too.');
  });

  it('Outlook-style reply: the header block and the signature below the name are trimmed', async () => {
    const e = await parseEmail(fixture('outlook-reply.eml'));
    expect(e.subject).to.equal('RE: Your ticket about the login problem');
    expect(newText(e.text)).to.equal(
      'Hi Sam,\n\nClearing the cache worked, I can log in again. Thanks for the quick help!\n\nKind regards\nKim Morgan',
    );
  });

  it('an auto-reply, a bounce and list mail are recognized', async () => {
    expect((await parseEmail(fixture('auto-reply.eml'))).automated).to.deep.equal({
      kind: 'auto-reply',
      reason: 'Auto-Submitted: auto-replied',
    });
    expect((await parseEmail(fixture('bounce.eml', { MESSAGE_ID: '<x@y>' }))).automated).to.deep.equal({
      kind: 'bounce',
      reason: 'Content-Type: multipart/report (delivery status)',
    });
    expect((await parseEmail(fixture('list-mail.eml'))).automated).to.deep.equal({
      kind: 'list',
      reason: 'List-Id header',
    });
  });

  it('the null envelope sender marks a bounce even without other signs', async () => {
    const raw = Buffer.from('From: someone@example.com\r\nSubject: hi\r\n\r\nhello\r\n');
    expect((await parseEmail(raw, { mailFrom: '', rcptTo: [] })).automated?.kind).to.equal('bounce');
    expect((await parseEmail(raw, { mailFrom: 'someone@example.com', rcptTo: [] })).automated).to.equal(null);
  });

  it('no Message-ID: one derived from the bytes, the same for the same mail', async () => {
    const raw = Buffer.from('From: a@example.com\r\nSubject: hi\r\n\r\nhello\r\n');
    const a = await parseEmail(raw);
    const b = await parseEmail(Buffer.from(raw));
    expect(a.messageId).to.match(/^<[0-9a-f]{64}@switchboard\.invalid>$/);
    expect(b.messageId).to.equal(a.messageId);
  });

  it('garbage, an empty body and a bad From are ValidationErrors naming the problem', async () => {
    for (const [raw, message] of [
      ['', 'message: the body is empty; send the raw MIME message'],
      ['\u0000\u0001garbage', 'message: not an email message (it has no From header)'],
      ['From: not an address\r\n\r\nhi', 'message: no usable From address'],
    ] as const) {
      try {
        await parseEmail(Buffer.from(raw));
        expect.fail(`parsed ${JSON.stringify(raw)}`);
      } catch (err) {
        expect(err).to.be.instanceOf(ValidationError);
        expect((err as Error).message).to.equal(message);
      }
    }
  });
});

describe('email reply trimming', () => {
  it('keeps an inline reply between quoted lines, drops the quotes', () => {
    expect(newText('> Which size?\nLarge.\n> Which colour?\nBlue.')).to.equal('Large.\nBlue.');
  });

  it('cuts at the RFC 3676 signature separator and at a mobile sign-off', () => {
    expect(newText('Thanks for the help.\n-- \nAna Diaz\nACME Corp')).to.equal('Thanks for the help.');
    expect(newText('Will do.\n\nSent from my iPhone\n\n> On Monday you wrote')).to.equal('Will do.');
  });

  it('cuts at "-----Original Message-----" and a German attribution', () => {
    expect(newText('Done.\n\n-----Original Message-----\nFrom: x')).to.equal('Done.');
    expect(
      newText('Erledigt.\n\nAm 05.01.2026 um 10:45 schrieb Support <support@example.com>:\n> Hallo'),
    ).to.equal('Erledigt.');
  });

  it('keeps a forwarded message: it is what the customer wants us to read', () => {
    const text =
      'See below.\n\n---------- Forwarded message ---------\nFrom: Shop <shop@example.com>\nDate: Mon, Jan 5, 2026\nSubject: Your order\nTo: <ana@example.org>\n\nYour order has shipped.';
    expect(newText(text)).to.equal(text);
  });

  it('a sign-off early in a message does not eat the rest', () => {
    const text = 'Thanks!\nI got it.\nOne more question: can I change the size?';
    expect(newText(text)).to.equal(text);
  });

  it('when everything looks quoted, the whole text is kept rather than nothing', () => {
    expect(newText('> only a quote')).to.equal('> only a quote');
  });
});

describe('email robots', () => {
  const input = (headers: Record<string, string>, from = 'ana@example.org', envelopeFrom?: string) => ({
    header: (name: string) => headers[name],
    from,
    envelopeFrom,
    contentType: 'text/plain',
  });

  it('Auto-Submitted other than "no", Precedence bulk|list|junk, mailer-daemon, an empty Return-Path', () => {
    expect(automated(input({ 'auto-submitted': 'auto-generated' }))?.kind).to.equal('auto-reply');
    expect(automated(input({ 'auto-submitted': 'no' }))).to.equal(null);
    for (const p of ['bulk', 'list', 'junk'])
      expect(automated(input({ precedence: p }))?.kind).to.equal('list');
    expect(automated(input({}, 'MAILER-DAEMON@mx.example.org'.toLowerCase()))?.kind).to.equal('bounce');
    expect(automated(input({ 'return-path': '<>' }))?.kind).to.equal('bounce');
    expect(automated(input({ 'x-autoreply': 'yes' }))?.kind).to.equal('auto-reply');
    // Out-of-office replies that say so only in Precedence (or X-Precedence).
    expect(automated(input({ precedence: 'auto_reply' }))).to.deep.equal({
      kind: 'auto-reply',
      reason: 'precedence: auto_reply',
    });
    expect(automated(input({ 'x-precedence': 'Auto_Reply' }))?.kind).to.equal('auto-reply');
    expect(automated(input({}, 'no-reply@shop.example.com'))?.kind).to.equal('auto-reply');
    expect(automated(input({}, 'ana@example.org', 'ana@example.org'))).to.equal(null);
  });
});

describe('email threading helpers', () => {
  it('our Message-IDs encode the message and the conversation, and only ours parse', () => {
    const id = outboundMessageId('msg_abc123', 'cv_xyz789', 'support.example.com');
    expect(id).to.equal('<sb.msg_abc123.cv_xyz789@support.example.com>');
    expect(parseOwnMessageId(id, 'support.example.com')).to.deep.equal({
      messageId: 'msg_abc123',
      conversationId: 'cv_xyz789',
    });
    expect(parseOwnMessageId(id, 'other.example.com')).to.equal(null);
    expect(parseOwnMessageId('<CAF=x@mail.gmail.com>', 'support.example.com')).to.equal(null);
  });

  it('Message-ID lists: angle-bracketed or bare, in order, without repeats', () => {
    expect(messageIds('<a@x> <b@x>\r\n <a@x>')).to.deep.equal(['<a@x>', '<b@x>']);
    expect(messageIds('a@x b@x')).to.deep.equal(['<a@x>', '<b@x>']);
    expect(messageIds(undefined)).to.deep.equal([]);
    expect(inboundMessageId('<ok@x>', Buffer.from('raw'))).to.equal('<ok@x>');
  });

  it('References keep the first and the latest ids when the chain is long', () => {
    const chain = Array.from({ length: 30 }, (_, i) => `<${i}@x>`);
    const refs = referencesFor(chain);
    expect(refs).to.have.length(20);
    expect(refs[0]).to.equal('<0@x>');
    expect(refs.at(-1)).to.equal('<29@x>');
    expect(refs[1]).to.equal('<11@x>');
  });

  it('Re: once, whatever the client prefixed', () => {
    expect(replySubject('Order')).to.equal('Re: Order');
    expect(replySubject('RE: Re: Aw: Order')).to.equal('Re: Order');
    expect(replySubject('Re[2]: Order')).to.equal('Re: Order');
    expect(replySubject(undefined)).to.equal('Re: your message');
  });

  it('plus-tagged addresses: the tag of one of ours, nothing for others', () => {
    const ours = ['support@support.example.com'];
    expect(plusTag('Support+cv_abc@support.example.com', ours)).to.equal('cv_abc');
    expect(plusTag('sales+cv_abc@support.example.com', ours)).to.equal(null);
    expect(isOurAddress('support+anything@support.example.com', ours)).to.equal(true);
    expect(isOurAddress('sales@support.example.com', ours)).to.equal(false);
  });

  it('the HTML part is escaped paragraphs and line breaks', () => {
    expect(simpleHtml('Hi <b>Ana</b>,\nline two\n\nBye & thanks')).to.include(
      '<p>Hi &lt;b&gt;Ana&lt;/b&gt;,<br>\nline two</p>\n<p>Bye &amp; thanks</p>',
    );
  });

  it('the bearer check wants the exact token', () => {
    expect(verifyBearer('Bearer secret-token-123456', 'secret-token-123456')).to.equal(true);
    expect(verifyBearer('bearer secret-token-123456', 'secret-token-123456')).to.equal(true);
    expect(verifyBearer('Bearer secret-token-12345', 'secret-token-123456')).to.equal(false);
    expect(verifyBearer('secret-token-123456', 'secret-token-123456')).to.equal(false);
    expect(verifyBearer(undefined, 'secret-token-123456')).to.equal(false);
  });
});

describe('email settings', () => {
  const base = {
    EMAIL_INBOUND_TOKEN: 'test-email-inbound-token-0123456789',
    SMTP_URL: 'smtp://user:pass@smtp.example.com:587',
    EMAIL_FROM: 'Support <Support@Example.com>',
  };

  it('off when nothing is set, with the notice', () => {
    expect(loadEmailSettings({})).to.deep.equal({
      settings: null,
      errors: [],
      off: 'email: off (set EMAIL_INBOUND_TOKEN or SMTP_LISTEN_PORT to receive, SMTP_URL and EMAIL_FROM to reply)',
    });
  });

  it('defaults: the domain and the accepted address from EMAIL_FROM; the size limits', () => {
    const { settings } = loadEmailSettings(base);
    expect(settings).to.deep.include({
      inboundToken: base.EMAIL_INBOUND_TOKEN,
      smtpListenPort: null,
      from: 'Support <Support@Example.com>',
      fromAddress: 'support@example.com',
      domain: 'example.com',
      addresses: ['support@example.com'],
      maxMessageBytes: 25 * 1024 * 1024,
      maxAttachmentBytes: 10 * 1024 * 1024,
    });
  });

  it('one readable line per bad or missing variable', () => {
    expect(loadEmailSettings({ SMTP_LISTEN_PORT: '2525' }).errors).to.deep.equal([
      'SMTP_URL: is required to send replies (email)',
      'EMAIL_FROM: is required as the From of replies (email)',
    ]);
    expect(
      loadEmailSettings({ SMTP_URL: 'smtp://relay:25', EMAIL_FROM: 'a@example.com' }).errors,
    ).to.deep.equal(['EMAIL_INBOUND_TOKEN or SMTP_LISTEN_PORT: one is required to receive email (email)']);
    const bad = loadEmailSettings({
      ...base,
      EMAIL_INBOUND_TOKEN: 'short',
      SMTP_LISTEN_PORT: '70000',
      SMTP_URL: 'http://relay',
      EMAIL_FROM: 'nobody',
      EMAIL_DOMAIN: 'not a domain',
      EMAIL_ADDRESSES: 'a@example.com, nope',
      EMAIL_MAX_BYTES: 'lots',
    }).errors;
    expect(bad).to.deep.equal([
      'EMAIL_INBOUND_TOKEN: must be at least 16 characters',
      'SMTP_LISTEN_PORT: must be a port number (0–65535)',
      'SMTP_URL: must be a URL such as smtp://user:pass@smtp.example.com:587',
      'EMAIL_FROM: must be an address such as "Support <support@example.com>"',
      'EMAIL_DOMAIN: must be a domain name such as example.com',
      'EMAIL_ADDRESSES: must be addresses separated by commas, such as support@example.com,help@example.com',
      'EMAIL_MAX_BYTES: must be a number of bytes',
    ]);
    expect(
      loadEmailSettings({ ...base, EMAIL_MAX_BYTES: '5000', EMAIL_STORE_MAX_BYTES: '4000' }).errors,
    ).to.deep.equal(['EMAIL_STORE_MAX_BYTES: must be at least EMAIL_MAX_BYTES']);
  });
});
