// Fetching what customers text besides words (channels/sms/media.ts) from the Twilio stand-in: its media
// links ask for the account's credentials and redirect to a file host that gets none; too large, gone, or
// on a host that is not Twilio's, a file is refused with the reason.
import { expect } from 'chai';
import { mediaFileName, TwilioMedia } from '../../channels/sms/media.js';
import { TwilioStandIn } from '../support/twilio-standin.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const TOKEN = 'media-test-auth-token-0123456789';

describe('sms media (TwilioMedia)', () => {
  let standIn: TwilioStandIn;
  beforeEach(async () => {
    standIn = await TwilioStandIn.start(SID, TOKEN);
  });
  afterEach(async () => {
    await standIn.close();
  });
  const media = (maxBytes = 1024, authToken = TOKEN) =>
    new TwilioMedia({ accountSid: SID, authToken, apiUrl: standIn.url, maxBytes });

  it('fetches with the credentials, follows the redirect without them', async () => {
    const bytes = Buffer.from('a picture');
    const got = await media().fetch(standIn.addMedia(bytes, 'image/jpeg'));
    expect(got).to.deep.equal({ content: bytes, type: 'image/jpeg' });
    expect(standIn.requests.map((r) => [r.resource, r.status, r.authorized])).to.deep.equal([
      ['media', 307, true],
      ['media-file', 200, false],
    ]);
  });

  it('refuses a file over the limit, one Twilio no longer has, wrong credentials, and another host', async () => {
    expect(await media(4).fetch(standIn.addMedia(Buffer.from('too large'), 'image/png'))).to.deep.equal({
      refused: 'larger than 4 bytes',
    });
    const gone = standIn
      .addMedia(Buffer.from('x'), 'image/png')
      .replace(/ME[0-9a-f]{32}$/, `ME${'0'.repeat(32)}`);
    expect(await media().fetch(gone)).to.deep.equal({ refused: 'answered 404' });
    const link = standIn.addMedia(Buffer.from('x'), 'image/png');
    expect(await media(1024, 'not-the-auth-token-0123456789').fetch(link)).to.deep.equal({
      refused: 'answered 401',
    });
    const before = standIn.requests.length;
    expect(await media().fetch('https://media.example.com/ME1')).to.deep.equal({
      refused: "media.example.com is not Twilio's",
    });
    expect(await media().fetch('not a link')).to.deep.equal({ refused: 'not a URL' });
    expect(standIn.requests.length).to.equal(before);
  });

  it('names a kept file by its type', () => {
    expect(mediaFileName(0, 'image/jpeg')).to.equal('mms-1.jpeg');
    expect(mediaFileName(1, 'image/svg+xml')).to.equal('mms-2.svg');
    expect(mediaFileName(2, 'text/x-vcard; charset=utf-8')).to.equal('mms-3.vcard');
    expect(mediaFileName(3, 'nonsense')).to.equal('mms-4.bin');
  });
});
