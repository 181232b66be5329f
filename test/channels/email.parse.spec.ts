// Real-world MIME shapes through the parser, the reply trimmer, the robot
// detector, the threading helpers and the settings.
import { expect } from 'chai';
import { automated } from '../../channels/email/automated.js';
import { verifyBearer } from '../../channels/email/http.js';
import { simpleHtml } from '../../channels/email/outbound.js';
import { parseEmail, TEXT_CAP } from '../../channels/email/parse.js';
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

const HEAD =
  'From: Ana Diaz <ana.diaz@example.org>\r\nTo: support@support.example.com\r\nSubject: Help\r\nMessage-ID: <html@example.org>\r\nMIME-Version: 1.0\r\n';

/** A message whose only body is `html`. */
function htmlMail(html: string): Buffer {
  return Buffer.from(
    `${HEAD}Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${html}\r\n`,
  );
}

/** The text handed on for an HTML-only message. */
async function read(html: string): Promise<string> {
  return (await parseEmail(htmlMail(html))).text;
}

describe('email parsing: HTML-only mail', () => {
  it('an order table is a row per line, cells apart, header kept; lists, links, images, &nbsp; and breaks read as written', async () => {
    const e = await parseEmail(fixture('html-order.eml'));
    const text = [
      'Hello,',
      '',
      'my order #4471 arrived on Friday, but two things are wrong:',
      '',
      ' * The mugs are the wrong colour',
      '   * I ordered green,',
      '   * I got grey.',
      ' * One saucer was broken in transit.',
      '',
      'Here is what I ordered:',
      '',
      'Item | Qty | Price',
      'Mug, green | 4 | 7,50 €',
      'Saucer “Ölberg” | 2 | 3,20 €',
      'Teapot | 1 | 24,90 €',
      'Total | 61,30 €',
      '',
      'The order page (https://shop.example.com/orders/4471?utm_source=email) still says “delivered”. Tracking: https://track.example.net/4471',
      '',
      'A photo of the saucer: [image: broken saucer]',
      '',
      'Vielen Dank und schöne Grüße,',
      'Jürgen Müller',
    ].join('\n');
    expect(e.text).to.equal(text);
    expect(newText(e.text)).to.equal(text);
  });

  it("Outlook's Word HTML: a paragraph is a line, the list keeps its numbers, the signature and the quoted message go", async () => {
    const e = await parseEmail(fixture('html-outlook-reply.eml'));
    expect(e.text).to.include('Kim Morgan\nPurchasing | Contoso Ltd\n+44 20 7946 0000\n\nFrom: Support');
    expect(newText(e.text)).to.equal(
      'Hi Sam,\n\nClearing the cache worked, but two things are still off:\n1. the invoice still shows the old address,\n2. the password reset mail never came.\n\nKind regards\nKim Morgan',
    );
  });

  it('HTML beside an inline logo (multipart/related, no text part) is read; the signature table cell by cell', async () => {
    const e = await parseEmail(fixture('html-gmail-related.eml'));
    expect(e.text).to.include(
      'Ana\n\n--\n\n[image: Diaz Ceramics]\nAna Diaz\nDiaz Ceramics\nwww.diaz-ceramics.example\n\nOn Mon, Jan 5, 2026 at 10:45 AM Support Team <support@support.example.com> wrote:\n\n> Hello Ana,',
    );
    expect(newText(e.text)).to.equal('Yes please, the blue one is fine too.\n\nAna');
  });

  it("HTML beside an attached PDF (multipart/mixed): a form's label and answer on one line; Outlook's rule and header block go", async () => {
    const e = await parseEmail(fixture('html-with-attachment.eml'));
    expect(e.attachments.map((a) => a.name)).to.deep.equal(['receipt-5521.pdf']);
    expect(e.text).to.include('Lee\n\n________________________________\n\nFrom: Support');
    expect(newText(e.text)).to.equal(
      'Hello,\n\nI sent the return form below and the receipt is attached. Please refund the order.\n\nName: Lee Chen\nOrder: #5521\nReason: Damaged in transit\n\nThanks,\nLee',
    );
  });

  it('a link is its text, with the address in brackets only when the text says something else', async () => {
    expect(
      await read(
        '<p><a href="https://shop.example.com/orders/1">my order</a>, <a href="https://shop.example.com/track">https://shop.example.com/track</a>, ' +
          '<a href="http://www.example.com/">www.example.com</a>, <a href="mailto:ana@example.org">ana@example.org</a>, ' +
          '<a href="mailto:ana@example.org">Ana</a>, <a href="tel:+4930123456">+49 30 123456</a>, <a href="#top">top</a>, ' +
          '<a href="javascript:void(0)">menu</a>, <a href="cid:logo@x">logo</a>, <a href="/relative">here</a>, ' +
          '<a href="https://shop.example.com/app"><img src="badge.png" alt="Get the app"></a><a href="https://x.example.com/"><img src="icon.png"></a></p>',
      ),
    ).to.equal(
      'my order (https://shop.example.com/orders/1), https://shop.example.com/track, www.example.com, ana@example.org, ' +
        'Ana (ana@example.org), +49 30 123456, top, menu, logo, here, [image: Get the app] (https://shop.example.com/app)',
    );
  });

  it('an image is its alt text, never its address; one without alt (a tracking pixel, a spacer) is nothing', async () => {
    expect(
      await read(
        '<p><img src="https://shop.example.com/logo.png" alt="ACME Shop"></p><p>Photo: <img src="cid:p1@x" alt=" broken\n lid "></p>' +
          '<img src="https://t.example.com/o.gif" width="1" height="1" alt=""><img src="spacer.gif"><p>Ana</p>',
      ),
    ).to.equal('[image: ACME Shop]\n\nPhoto: [image: broken lid]\n\nAna');
  });

  it('a table that lays out (a signature row, role=presentation, one holding a table) is read cell by cell', async () => {
    expect(
      await read(
        '<p>Please cancel my subscription.</p><table><tr><td><img src="l.png" alt="ACME"></td><td><b>Maria Rossi</b><br>ACME Srl</td></tr></table>',
      ),
    ).to.equal('Please cancel my subscription.\n\n[image: ACME]\nMaria Rossi\nACME Srl');
    expect(
      await read(
        '<table role="presentation"><tr><td>Hi,</td><td>the parcel</td></tr><tr><td>never</td><td>came.</td></tr></table>',
      ),
    ).to.equal('Hi,\nthe parcel\nnever\ncame.');
    expect(
      await read(
        '<table width="100%"><tr><td><p>My order:</p><table><tr><th>Item</th><th>Qty</th></tr><tr><td>Mug</td><td>2</td></tr></table></td><td>Ana</td></tr></table>',
      ),
    ).to.equal('My order:\n\nItem | Qty\nMug | 2\n\nAna');
  });

  it('a quoted message wrapped in a div starts after a blank line, so its attribution is cut', async () => {
    const text = await read(
      '<div class="yahoo-style-wrap"><div>I still have not received the refund.</div></div><div class="yahoo_quoted"><div><div>On Monday, January 5, 2026, 09:00:00 AM GMT+1, Support &lt;support@support.example.com&gt; wrote:</div><div><br></div><div>The refund was sent.</div></div></div>',
    );
    expect(text).to.include('refund.\n\nOn Monday');
    expect(newText(text)).to.equal('I still have not received the refund.');
  });

  it('hidden text, styles, scripts and the head are not read', async () => {
    expect(
      await read(
        '<html><head><title>Mail</title><style>p{color:red}</style></head><body><div style="display: none">Preview line</div><span style="DISPLAY:NONE">x</span><p>Visible.</p><script>alert(1)</script></body></html>',
      ),
    ).to.equal('Visible.');
  });

  it('a blank text part does not hide the HTML; a text part is used as sent', async () => {
    const alternative = (text: string) =>
      Buffer.from(
        `${HEAD}Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n${text}\r\n--b\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<table><tr><th>Item</th><th>Qty</th></tr><tr><td>Mug</td><td>2</td></tr></table>\r\n--b--\r\n`,
      );
    expect((await parseEmail(alternative(' \r\n'))).text).to.equal('Item | Qty\nMug | 2');
    expect((await parseEmail(alternative('Item  Qty\r\nMug   2'))).text).to.equal('Item  Qty\nMug   2');
  });

  it('HTML from outside never fails the parse; 2 MB converts in seconds; too deep or too long leaves the text empty', async () => {
    for (const html of [
      '<p>Unclosed <b>bold <i>italic<table><tr><td>a<td>b<tr><td>c<td>d</table></span></div></p>&amp &lt;3 &bogus;',
      '<<<>>><p<p>x</p></</><!-- never closed',
      '<table><tr><td colspan="99999999" rowspan="-1">a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>',
      '<a href="https://x.example.com/">' + '<b></b>'.repeat(2000) + '</a>',
      '<a href="mailto:">x</a><a href="https://">https://</a><img alt>',
    ]) {
      expect(await read(html)).to.be.a('string');
    }
    expect(await read('<p>a<td>b<tr>c</table>&amp &lt;3 &bogus;')).to.equal('a\nb\nc& <3 &bogus;');
    // 2 MB of unclosed cells took mailparser's own conversion over a minute.
    const started = performance.now();
    const big = await read(
      `<p>Rows:</p><table><tr><th>n</th><th>x</th></tr>${'<tr><td>1<td>two'.repeat(115_000)}</table>`,
    );
    expect(performance.now() - started).to.be.below(15_000);
    expect(big).to.have.length(TEXT_CAP);
    expect(big.startsWith('Rows:\n\nn | x\n1 | two\n1 | two\n')).to.equal(true);
    expect(big.endsWith('…')).to.equal(true);
    // Quotes and lists nested hundreds deep around 2 MB of lines (each level prefixes every line).
    for (const [open, prefix] of [
      ['<blockquote>', '> '.repeat(10)],
      ['<ul><li>', ' '.repeat(21)],
    ] as const) {
      const begun = performance.now();
      const nested = await read(`${open.repeat(400)}${'line<br>'.repeat(240_000)}`);
      expect(performance.now() - begun).to.be.below(15_000);
      expect(nested).to.have.length(TEXT_CAP);
      expect(nested.split('\n')[5]).to.equal(`${prefix}line`);
    }
    expect(await read(`${'<div>'.repeat(300_000)}deep`)).to.equal('');
    expect(await read(`${'<div>'.repeat(999)}deep enough`)).to.equal('deep enough');
    expect(await read(`<p>long</p>${'x'.repeat(2_000_000)}`)).to.equal('');
  });
});

describe('email reply trimming', () => {
  it('keeps an inline reply between quoted lines, drops the quotes', () => {
    expect(newText('> Which size?\nLarge.\n> Which colour?\nBlue.')).to.equal('Large.\nBlue.');
  });

  it('cuts at the RFC 3676 signature separator and at a mobile sign-off', () => {
    expect(newText('Thanks for the help.\n-- \nAna Diaz\nACME Corp')).to.equal('Thanks for the help.');
    expect(newText('Will do.\n\nSent from my iPhone\n\n> On Monday you wrote')).to.equal('Will do.');
    for (const signOff of [
      'Enviado desde mi iPhone',
      'Inviato da iPhone',
      'Verzonden vanaf mijn iPhone',
      'Отправлено с iPhone',
    ])
      expect(newText(`Perfecto.\n\n${signOff}`), signOff).to.equal('Perfecto.');
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

  it('answers written between the quoted lines after an attribution, or below them, are kept', () => {
    const text = [
      'Answers below.',
      '',
      'On Mon, 7 Dec 2026 at 09:00, Support Team <support@support.example.com> wrote:',
      '> What is your order number?',
      'It is #88231.',
      '> Would you like a refund or a replacement?',
      'A refund please, to my Visa.',
      '>',
      '> Kind regards, Support',
      '',
      'Sent from my iPhone',
    ].join('\n');
    expect(newText(text)).to.equal('Answers below.\n\nIt is #88231.\nA refund please, to my Visa.');
    // Quoted history with nothing of theirs in it is still cut.
    expect(newText('Thanks!\n\nOn Mon, 7 Dec 2026, Support <s@x.com> wrote:\n> hello\n> bye')).to.equal(
      'Thanks!',
    );
  });

  it("Outlook's quoted header block in French (a space before the colon), Dutch and Italian is cut", () => {
    for (const [reply, block] of [
      [
        'Merci, c’est réglé.',
        'De : Support <support@example.com>\nEnvoyé : lundi 7 décembre 2026 09:00\nÀ : Ana\nObjet : Votre commande',
      ],
      [
        'Dank u, het is gelukt.',
        'Van: Support <support@example.com>\nVerzonden: maandag 7 december 2026 09:00\nAan: Ana\nOnderwerp: Uw bestelling',
      ],
      [
        'Grazie, tutto a posto.',
        'Da: Support <support@example.com>\nInviato: lunedì 7 dicembre 2026 09:00\nA: Ana\nOggetto: Il suo ordine',
      ],
    ]) {
      expect(newText(`${reply}\n\n${block}\n\nThe card number ends in 4242.`)).to.equal(reply);
    }
  });

  it('a forward (Outlook FW:, Apple Fwd: with the message quoted) is read whole', () => {
    const outlook =
      'See the confirmation below: I ordered the blue kettle.\n\n________________________________\nFrom: Contoso Shop <orders@contoso.example>\nSent: Monday, December 7, 2026 9:00 AM\nTo: Ana\nSubject: Your order #5521 has shipped\n\nBlue kettle 1.7 L | 1 | €39.90';
    expect(newText(outlook, 'FW: Your Contoso Shop order #5521 has shipped')).to.equal(outlook);
    const apple =
      'They charged me twice.\n\nBegin forwarded message:\n\n> From: Shop <orders@shop.example>\n> Subject: Order confirmation #A-7781\n>\n> Total charged: €129.00';
    expect(newText(apple, 'Fwd: Order confirmation #A-7781')).to.equal(apple);
    // A reply is still trimmed.
    expect(newText('Done.\n\nOn Mon, 7 Dec 2026, Shop <s@x.com> wrote:\n> hi', 'Re: Fwd: order')).to.equal(
      'Done.',
    );
  });

  it("Gmail's attribution in Russian, Japanese, Chinese, Arabic and Hebrew is cut with the quote under it", () => {
    for (const attribution of [
      'пн, 7 дек. 2026 г. в 10:00, Switchboard Support <support@example.com>:',
      '2026年12月7日(月) 10:00 Switchboard Support <support@example.com>:',
      'Switchboard Support <support@example.com> 于2026年12月7日周一 10:00写道：',
      '\u202bفي الاثنين، 7 ديسمبر 2026 في 10:00 ص، كتب Switchboard Support <support@example.com>:\u202c',
      '\u202bבתאריך יום ב׳, 7 בדצמ׳ 2026 ב-10:00 מאת \u202aSwitchboard Support\u202c\u200f <\u202asupport@example.com\u202c\u200f>:\u202c',
    ]) {
      const text = `Спасибо, всё пришло.\n\n${attribution}\n\n> Your parcel is on its way.\n> Card ending 4242`;
      expect(newText(text), attribution).to.equal('Спасибо, всё пришло.');
    }
    // Wrapped over two lines, as Gmail wraps a long one.
    expect(
      newText(
        'Готово.\n\nпн, 7 дек. 2026 г. в 10:00, Служба поддержки интернет-магазина Switchboard\n<support@example.com>:\n> Ваш заказ',
      ),
    ).to.equal('Готово.');
    // Its long address split inside the angle brackets.
    expect(
      newText(
        'Готово.\n\nпн, 7 дек. 2026 г. в 10:00, Служба поддержки <support-team-international@shop.exa\nmple.com>:\n> Ваш заказ',
      ),
    ).to.equal('Готово.');
    // A line of the customer's naming an address, with no quote under it, is theirs.
    const own = 'Please write to our accountant, Bob Stone <bob@example.org>:\nhe has the invoices.';
    expect(newText(own)).to.equal(own);
  });

  it("a customer's own lines shaped like mail headers are kept; Outlook's block, wrapped or in Spanish, is cut", () => {
    const own =
      'The parcel was sent wrongly:\nFrom: Madrid warehouse\nTo: Lisbon store\nDate: Monday 7 December\n\nIt should have gone to Porto. Can you send it on?';
    expect(newText(own)).to.equal(own);
    const wrapped = [
      'Yes, Thursday suits us.',
      '',
      'From: Switchboard Support <support@example.com>',
      'Sent: Monday, December 7, 2026 9:00 AM',
      'To: Ana Diaz <ana@example.org>; Bea Stone <bea@example.org>; Carl Ode',
      '<carl@example.org>',
      'Cc: Orders <orders@example.org>',
      'Subject: RE: Delivery date',
      '',
      'When shall we deliver? Your card ending 4242 was charged.',
    ].join('\n');
    expect(newText(wrapped)).to.equal('Yes, Thursday suits us.');
    expect(
      newText(
        'Sí, el jueves.\n\nDe: Soporte <support@example.com>\nEnviado el: lunes, 7 de diciembre de 2026 9:00\nPara: Ana\nAsunto: Entrega\n\n¿Cuándo entregamos?',
      ),
    ).to.equal('Sí, el jueves.');
  });

  it("a P.S. after the sign-off is the customer's, not a signature", () => {
    const text =
      'The parcel is still missing.\n\nThanks,\nAna\n\nP.S. I moved last week: the new address is 21 High St.';
    expect(newText(text)).to.equal(text);
  });
  it('a line of the customer\'s shaped like an attribution ("on the form I wrote:") is theirs, not history', () => {
    const text =
      'Hi,\n\non the gift card form I wrote:\n"Happy 70th birthday Dad"\nbut the card says 17th. Order #10900, please reprint.\n\nThanks, Greta';
    expect(newText(text)).to.equal(text);
    // History under an attribution is still cut: quoted, at the end, or named by its address.
    expect(newText('Yes.\n\nOn Monday you wrote:\n> Which day?')).to.equal('Yes.');
    expect(newText('Yes.\n\nOn Monday you wrote:')).to.equal('Yes.');
    expect(newText('Yes.\n\nOn Mon, Support <s@shop.example> wrote:\nWhich day suits you?')).to.equal('Yes.');
  });

  it("a company's long signature under the name goes when it reads as one (phones, address, website)", () => {
    const signature = [
      '[image: Brightway Logo]',
      'Bernd Hoffmann',
      'Office Manager',
      'Brightway Consulting GmbH',
      'Phone: +49 30 1234567',
      'Mobile: +49 171 7654321',
      'Friedrichstraße 100',
      '10117 Berlin, Germany',
      'www.brightway.example',
      'Amtsgericht Charlottenburg HRB 12345 · Geschäftsführer: K. Weber',
    ];
    const reply = 'Six of the boxes arrived crushed. Can you send new ones?';
    expect(newText([reply, '', 'Kind regards', '', ...signature].join('\n'))).to.equal(
      `${reply}\n\nKind regards`,
    );
    expect(newText([reply, 'Thanks', 'Bernd', ...signature].join('\n'))).to.equal(`${reply}\nThanks\nBernd`);
    // Seven plain lines that are no contact details are not taken for a signature.
    const lines = [
      'I tried:',
      'the blue one',
      'the red one',
      'the green one',
      'the tall one',
      'the short one',
      'all of them',
    ];
    const mine = [reply, '', 'Thanks,', 'Ana', ...lines].join('\n');
    expect(newText(mine)).to.equal(mine);
  });

  it("an order or customer number under the name is the customer's, and is kept", () => {
    const text =
      'Please cancel my order, I ordered the wrong size.\n\nThanks,\nHannes Vogel\nOrder no. 10555\nCustomer no. K-88123';
    expect(newText(text)).to.equal(text);
    expect(newText('Where is it?\n\nBest,\nAna\nRef: AB-1234')).to.equal(
      'Where is it?\n\nBest,\nAna\nRef: AB-1234',
    );
    // A title with such a word is not a reference.
    expect(
      newText('It works now.\n\nBest,\nAna Diaz\nCustomer Success Manager\nACME Corp\n+44 20 7946 0000'),
    ).to.equal('It works now.\n\nBest,\nAna Diaz');
  });
});

describe('email parsing: what hides the words', () => {
  it('a placeholder text part ("This is a multi-part message in MIME format") does not hide the HTML', async () => {
    const raw = Buffer.from(
      `${HEAD}Content-Type: multipart/alternative; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nThis is a multi-part message in MIME format. Your mail reader does not understand MIME.\r\n--b\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>Please deliver on Thursday after 5 pm, the gate code is 4491.</p>\r\n--b--\r\n`,
    );
    expect((await parseEmail(raw)).text).to.equal(
      'Please deliver on Thursday after 5 pm, the gate code is 4491.',
    );
  });

  it('Outlook\'s own words for a picture ("… Description automatically generated") are not read out', async () => {
    const text = await read(
      '<p>Kind regards,<br>Kim</p><img src="cid:logo" alt="A picture containing text, logo Description automatically generated"><img src="cid:map" alt="Map to our shop">',
    );
    expect(text).to.equal('Kind regards,\nKim\n\n[image: Map to our shop]');
  });

  it('a fragment holding a pasted whole document keeps the words around it', async () => {
    const text = await read(
      '<div>This order never arrived. Can you check where it is?</div><html><head><title>Shop</title></head><body><p>Order 5531 shipped.</p></body></html>',
    );
    expect(text).to.contain('This order never arrived. Can you check where it is?');
    expect(text).to.contain('Order 5531 shipped.');
    expect(text).not.to.contain('Shop');
  });

  it('a screenshot written into the HTML (a data: URI) does not push the words over the size limit', async () => {
    const picture = 'A'.repeat(2_100_000);
    const text = await read(
      `<html><body><p>The payment fails with this error. Order 5531.</p><p><img src="data:image/png;base64,${picture}" alt="screenshot"></p></body></html>`,
    );
    expect(text).to.contain('The payment fails with this error. Order 5531.');
  });

  it('a screenshot pasted into the body is kept as a file; a small logo of the layout is not', async () => {
    const png = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
    const raw = Buffer.from(
      `${HEAD}Content-Type: multipart/related; boundary="r"\r\n\r\n--r\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>The checkout shows this error:</p><img src="cid:shot"><p>Ana</p><img src="cid:logo" alt="">\r\n--r\r\nContent-Type: image/png; name="image.png"\r\nContent-Disposition: inline; filename="image.png"\r\nContent-ID: <shot>\r\nContent-Transfer-Encoding: base64\r\n\r\n${png(40_000)}\r\n--r\r\nContent-Type: image/png; name="logo.png"\r\nContent-Disposition: inline; filename="logo.png"\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\n${png(3_000)}\r\n--r--\r\n`,
    );
    const e = await parseEmail(raw);
    expect(e.attachments.map((a) => [a.name, a.size])).to.deep.equal([['image.png', 40_000]]);
    expect(e.text).to.contain('The checkout shows this error:');
  });

  it('an HTML part beside the text part (multipart/mixed, not an alternative) is read after it', async () => {
    const raw = Buffer.from(
      `${HEAD}Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nI got them in grey.\r\n\r\n--m\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<table><tr><th>Item</th><th>Colour</th></tr><tr><td>Napkins</td><td>Sage</td></tr></table><p>Can you send a return label?</p>\r\n--m--\r\n`,
    );
    expect(newText((await parseEmail(raw)).text)).to.equal(
      'I got them in grey.\n\nItem | Colour\nNapkins | Sage\n\nCan you send a return label?',
    );
    // An alternative of the text (here beside an attached PDF) is not read twice.
    const alternative = Buffer.from(
      `${HEAD}Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n--a\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nThe invoice is attached.\r\n--a\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>The invoice is attached.</p>\r\n--a--\r\n--m\r\nContent-Type: application/pdf; name="invoice.pdf"\r\nContent-Disposition: attachment; filename="invoice.pdf"\r\n\r\n%PDF-1.4\r\n--m--\r\n`,
    );
    expect(newText((await parseEmail(alternative)).text)).to.equal('The invoice is attached.');
    // An HTML file attached is a file, not words of the mail.
    const attached = Buffer.from(
      `${HEAD}Content-Type: multipart/mixed; boundary="m"\r\n\r\n--m\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nSee the page attached.\r\n--m\r\nContent-Type: text/html; name="page.html"\r\nContent-Disposition: attachment; filename="page.html"\r\n\r\n<p>Saved page</p>\r\n--m--\r\n`,
    );
    const e = await parseEmail(attached);
    expect(newText(e.text)).to.equal('See the page attached.');
    expect(e.attachments.map((a) => a.name)).to.deep.equal(['page.html']);
  });

  it('a pasted screenshot with no alt text is named where it stood (its file is kept); a layout logo is not', async () => {
    const png = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
    const raw = Buffer.from(
      `${HEAD}Content-Type: multipart/related; boundary="r"\r\n\r\n--r\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>The boxes on the left are crushed:</p><p><img src="cid:image002.png@01DB4A.7A1B2C30" width="600"></p><p>Please ship new ones.</p><img src="cid:logo">\r\n--r\r\nContent-Type: image/png; name="image002.png"\r\nContent-Disposition: inline; filename="image002.png"\r\nContent-ID: <image002.png@01DB4A.7A1B2C30>\r\nContent-Transfer-Encoding: base64\r\n\r\n${png(40_000)}\r\n--r\r\nContent-Type: image/png; name="logo.png"\r\nContent-Disposition: inline; filename="logo.png"\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\n${png(3_000)}\r\n--r--\r\n`,
    );
    const e = await parseEmail(raw);
    expect(e.text).to.equal(
      'The boxes on the left are crushed:\n\n[image: image002.png]\n\nPlease ship new ones.',
    );
    expect(e.attachments.map((a) => a.name)).to.deep.equal(['image002.png']);
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

  it('an out-of-office reply marked only by its subject ("Automatic reply:", "Out of Office:", translated)', () => {
    const withSubject = (subject: string) => ({ ...input({}), subject });
    for (const subject of [
      'Automatic reply: Re: Damaged gift boxes',
      'Out of Office: Re: order 10518',
      'Abwesenheitsnotiz: AW: Bestellung',
      'Réponse automatique : Re: Commande',
    ])
      expect(automated(withSubject(subject))?.kind, subject).to.equal('auto-reply');
    // A customer writing about an office, or an automatic reply they got, is a person.
    for (const subject of ['Out of office until Monday?', 'Re: your automatic reply', 'Office chairs'])
      expect(automated(withSubject(subject)), subject).to.equal(null);
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

  it('the HTML part is escaped paragraphs and line breaks, each in the direction of its words', () => {
    expect(simpleHtml('Hi <b>Ana</b>,\nline two\n\nBye & thanks')).to.include(
      '<p dir="auto">Hi &lt;b&gt;Ana&lt;/b&gt;,<br>\nline two</p>\n<p dir="auto">Bye &amp; thanks</p>',
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
