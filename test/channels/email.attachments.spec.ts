// The links to what a customer's email brought: each kept attachment of the
// stored message carries a signed link under PUBLIC_URL, which any process
// serves from the content store: the bytes as received, pictures and plain text
// shown in the browser, anything else downloaded, all sandboxed.
import { expect } from 'chai';
import request from 'supertest';
import { type EmailContent, MemoryContentStore } from '../../channels/content.js';
import { StoreUnavailableError } from '../../shared/errors.js';
import { type EmailHarness, fixture, INBOUND_TOKEN, mailWith, startEmailHarness } from './email-harness.js';

const PUBLIC_URL = 'https://support.example.com';
// A 1×1 transparent PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

describe('email attachment links', () => {
  let h: EmailHarness;
  beforeEach(async () => {
    h = await startEmailHarness({
      PUBLIC_URL,
      EMAIL_ATTACHMENT_MAX_BYTES: '4096',
      EMAIL_MAX_BYTES: '8192',
      EMAIL_STORE_MAX_BYTES: '8192',
    });
  });
  afterEach(async () => {
    await h?.close();
  });

  const receive = async (raw: string | Buffer) => {
    const res = await request(h.url)
      .post('/email/inbound')
      .set('Content-Type', 'message/rfc822')
      .set('Authorization', `Bearer ${INBOUND_TOKEN}`)
      .send(raw)
      .expect(202);
    return (await h.store.getMessage(res.body.messageId))!;
  };
  /** GET a link as the browser would, at this process (the link names PUBLIC_URL). */
  const open = (url: string) => {
    expect(url.startsWith(`${PUBLIC_URL}/email/attachments/`), url).to.equal(true);
    return request(h.url)
      .get(url.slice(PUBLIC_URL.length))
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
  };

  it('a picture opens in the browser; a spreadsheet or a page downloads; every answer is sandboxed and never sniffed', async () => {
    const html = Buffer.from('<script>alert(document.cookie)</script>');
    const csv = Buffer.from('item,qty\nlid,1\n');
    const m = await receive(
      mailWith('links-1', [
        ['crack.png', 'image/png', PNG],
        ['order.csv', 'text/csv', csv],
        ['page.html', 'text/html', html],
      ]),
    );
    const [png, sheet, page] = m.attachments;

    const picture = await open(png!.url!).expect(200);
    expect((picture.body as Buffer).equals(PNG)).to.equal(true);
    expect(picture.headers['content-type']).to.equal('image/png');
    expect(picture.headers['content-disposition']).to.equal('inline; filename=crack.png');

    const download = await open(sheet!.url!).expect(200);
    expect((download.body as Buffer).equals(csv)).to.equal(true);
    expect(download.headers['content-type']).to.equal('application/octet-stream');
    expect(download.headers['content-disposition']).to.equal('attachment; filename=order.csv');

    // A page from a customer never runs on our origin: downloaded, and sandboxed if opened anyway.
    const script = await open(page!.url!).expect(200);
    expect(script.headers['content-type']).to.equal('application/octet-stream');
    expect(script.headers['content-disposition']).to.match(/^attachment;/);
    for (const res of [picture, download, script]) {
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['content-security-policy']).to.match(/^sandbox;/);
    }
  });

  it('a link cannot be guessed or altered: another index or message under the same signature is 404', async () => {
    const m = await receive(mailWith('links-2', [['a.png', 'image/png', PNG]]));
    const url = m.attachments[0]!.url!;
    const token = url.slice(url.lastIndexOf('/') + 1);
    const [id, mac] = [token.slice(0, token.lastIndexOf('.')), token.slice(token.lastIndexOf('.') + 1)];
    for (const forged of [`${id.replace(/:0$/, ':1')}.${mac}`, `msg_other:0.${mac}`, 'nothing', `${id}.`]) {
      const res = await request(h.url)
        .get(`/email/attachments/${encodeURIComponent(forged)}`)
        .expect(404);
      expect(res.body.error.code).to.equal('not_found');
    }
  });

  it('a file too large to keep has no link; one no longer kept answers 410 saying why', async () => {
    const big = Buffer.alloc(5000, 1);
    const m = await receive(
      mailWith('links-3', [
        ['big.bin', 'application/octet-stream', big],
        ['a.png', 'image/png', PNG],
      ]),
    );
    expect(m.attachments.map((a) => [a.name, a.url === undefined])).to.deep.equal([
      ['big.bin', true],
      ['a.png', false],
    ]);
    // Mails enough to push this one out of the budget (EMAIL_STORE_MAX_BYTES, oldest first).
    for (let i = 0; i < 4; i++)
      await receive(mailWith(`filler-${i}`, [['f.png', 'image/png', Buffer.alloc(3000, 2)]]));
    const gone = await open(m.attachments[1]!.url!).expect(410);
    expect(JSON.parse((gone.body as Buffer).toString()).error.message).to.contain('no longer kept');
  });

  it('the fixture mail: its kept attachment opens with the bytes it carried', async () => {
    const m = await receive(fixture('attachment.eml'));
    const csv = m.attachments.find((a) => a.name === 'lines.csv')!;
    const res = await open(csv.url!).expect(200);
    expect((res.body as Buffer).toString()).to.equal('item,qty,price\nshipping,1,4.90\nshipping,1,4.90\n');
  });

  it('a file on a later mail of the same conversation opens too (the message joins the open conversation)', async () => {
    const first = await receive(mailWith('links-4a', []));
    const second = await receive(mailWith('links-4b', [['second.png', 'image/png', PNG]]));
    expect(second.conversationId).to.equal(first.conversationId);
    const res = await open(second.attachments[0]!.url!).expect(200);
    expect((res.body as Buffer).equals(PNG)).to.equal(true);
  });

  describe('when the content store was away as a mail arrived', () => {
    /** A content store that is unreachable for its next put, as Redis may briefly be. */
    class Away extends MemoryContentStore {
      away = false;
      override async put(messageId: string, content: EmailContent): Promise<boolean> {
        if (this.away) {
          this.away = false;
          throw new StoreUnavailableError('email content put: the client is offline');
        }
        return super.put(messageId, content);
      }
    }

    it('the sender is told to try again; the repeated delivery keeps the files and tells the wait, which the first could not', async () => {
      await h.close();
      const content = new Away(1 << 20);
      h = await startEmailHarness({ PUBLIC_URL, EMAIL_ATTACHMENT_MAX_BYTES: '4096' }, content);
      content.away = true;
      const raw = mailWith('links-away', [['a.png', 'image/png', PNG]]);
      const post = () =>
        request(h.url)
          .post('/email/inbound')
          .set('Content-Type', 'message/rfc822')
          .set('Authorization', `Bearer ${INBOUND_TOKEN}`)
          .send(raw);
      expect((await post()).status).to.equal(503);
      const again = await post().expect(200);
      expect(again.body.status).to.equal('duplicate');
      const m = (await h.store.getMessage(again.body.messageId))!;
      const res = await open(m.attachments[0]!.url!).expect(200);
      expect((res.body as Buffer).equals(PNG)).to.equal(true);
      // Nobody is free: the customer is told the wait once, by the delivery that got that far.
      await post().expect(200);
      const told = (await h.store.listMessages(m.conversationId)).filter((x) => x.author.type === 'system');
      expect(told.map((x) => x.text)).to.have.length(1);
      expect(told[0]!.text).to.match(/^Thanks for reaching us\. /);
    });
  });
});
