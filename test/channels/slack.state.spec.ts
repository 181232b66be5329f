// What the Slack console remembers (channels/slack/state.ts): the shared contract
// run against the memory implementation, and its limits; the text rules between
// Slack and the customer (channels/slack/text.ts).
import { expect } from 'chai';
import { MemorySlackState } from '../../channels/slack/state.js';
import { escapeSlack, noteText, slackToPlain } from '../../channels/slack/text.js';
import { slackStateContract } from './slack-state.contract.js';

slackStateContract('memory', (options) => new MemorySlackState(options));

describe('MemorySlackState limits', () => {
  it('forgets event ids after the retention window (by the time it is given), and old posts past the cap', async () => {
    const state = new MemorySlackState({ eventRetentionMs: 1000, maxPosts: 2 });
    expect(await state.claimEvent('Ev1', 0)).to.equal(true);
    expect(await state.claimEvent('Ev1', 999)).to.equal(false);
    expect(await state.claimEvent('Ev1', 1000)).to.equal(true);
    await state.addPost('m1', { channel: 'D', ts: '1.1' });
    await state.addPost('m2', { channel: 'D', ts: '1.2' });
    await state.addPost('m3', { channel: 'D', ts: '1.3' });
    expect(await state.posts('m1')).to.deep.equal([]);
    expect(await state.posts('m3')).to.deep.equal([{ channel: 'D', ts: '1.3' }]);
  });
});

describe('Slack text', () => {
  it('customer text is escaped so it cannot mention or link', () => {
    expect(escapeSlack('<!channel> & <@U1> <https://x|y>')).to.equal(
      '&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;',
    );
  });

  it('what an agent writes reaches the customer as plain text', () => {
    expect(slackToPlain('a &lt;b&gt; &amp; c')).to.equal('a <b> & c');
    expect(slackToPlain('see <https://example.com/t/1|tracking> or <https://example.com>')).to.equal(
      'see tracking (https://example.com/t/1) or https://example.com',
    );
    expect(slackToPlain('mail <mailto:help@example.com|help@example.com>')).to.equal('mail help@example.com');
    // A colleague by name (else the label Slack gave, else "a colleague"); never a member id nor @here.
    expect(
      slackToPlain('ask <@U0BOB00001|bob> in <#C01|billing>, <!here>', (id) =>
        id === 'U0BOB00001' ? 'Bob Ray' : undefined,
      ),
    ).to.equal('ask Bob Ray in #billing,');
    expect(slackToPlain('My colleague <@U0BOB00001> will call you')).to.equal(
      'My colleague a colleague will call you',
    );
    expect(slackToPlain('by <!date^1767604200^{date}|5 Jan>')).to.equal('by 5 Jan');
    expect(slackToPlain('call <tel:+14155550100|+1 415 555 0100>')).to.equal('call +1 415 555 0100');
  });

  it('emoji names become emoji, and Slack’s marks come off, as the customer reads them', () => {
    expect(slackToPlain('Sure :+1: :thumbsup: :tada: :white_check_mark: :slightly_smiling_face:')).to.equal(
      'Sure 👍 👍 🎉 ✅ 🙂',
    );
    expect(slackToPlain(':wave::skin-tone-3: hi')).to.equal('👋🏼 hi');
    // A custom emoji of the workspace, and a time, stay as they are.
    expect(slackToPlain(':partyparrot: at 10:30:45')).to.equal(':partyparrot: at 10:30:45');
    expect(slackToPlain('*now*, _right now_, ~40~ 50, `ORD-1`, ```line 1\nline 2```')).to.equal(
      'now, right now, 40 50, ORD-1, line 1\nline 2',
    );
    // Not marks: inside words and sums.
    expect(slackToPlain('snake_case_name and 5*3*2 and file_name.txt')).to.equal(
      'snake_case_name and 5*3*2 and file_name.txt',
    );
  });

  it('`note:` (any case, leading spaces) marks an internal note', () => {
    expect(noteText('note: keep this')).to.equal('keep this');
    expect(noteText('  NOTE :keep')).to.equal('keep');
    expect(noteText('Note: ')).to.equal('');
    expect(noteText('a note: not one')).to.equal(null);
    expect(noteText('notes: not one either')).to.equal(null);
  });
});
