// How a message reads in a Slack thread: its attachments, with a link when the
// message carries one (a kept email attachment, a text's media).
import { expect } from 'chai';
import { messageLine } from '../../channels/slack/blocks.js';
import type { Message } from '../../shared/model.js';

const T0 = Date.UTC(2026, 11, 6, 9);

const inbound = (attachments: Message['attachments']): Message => ({
  id: 'msg_1',
  conversationId: 'cv_1',
  direction: 'in',
  channel: 'email',
  author: { type: 'customer' },
  text: 'See attached',
  attachments,
  at: T0,
  delivery: { state: 'delivered', attempts: 0, at: T0 },
});

describe('Slack message lines', () => {
  it('an attachment with a link opens from Slack; one without is named; names cannot break the markup', () => {
    const line = messageLine(
      inbound([
        {
          name: 'crack.png',
          type: 'image/png',
          size: 68,
          url: 'https://support.example.com/email/attachments/t.k',
        },
        { name: 'huge.mov', type: 'video/quicktime', size: 50_000_000 },
        {
          name: 'a|b<c>.txt',
          type: 'text/plain',
          size: 3,
          url: 'https://support.example.com/email/attachments/u.v',
        },
        { name: 'odd.bin', type: 'application/octet-stream', size: 3, url: 'javascript:alert(1)' },
      ]),
      'Dee',
    );
    expect(line.split('\n').slice(2)).to.deep.equal([
      ':paperclip: <https://support.example.com/email/attachments/t.k|crack.png> (image/png)',
      ':paperclip: huge.mov (video/quicktime)',
      ':paperclip: <https://support.example.com/email/attachments/u.v|a¦b&lt;c&gt;.txt> (text/plain)',
      ':paperclip: odd.bin (application/octet-stream)',
    ]);
  });
});
