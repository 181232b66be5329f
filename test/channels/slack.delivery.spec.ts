// Whether a reply written in Slack reached the customer, as its thread tells it:
// an email the relay turned away for now is retried, not failed; only the last
// failure is "Not delivered"; one sent after all says so.
import { expect } from 'chai';
import type { SlackCall } from '../support/slack-standin.js';
import { emailEnv, useSink } from './email-harness.js';
import {
  cardTsOf,
  dmMessage,
  dmOf,
  type SlackHarness,
  threadTexts,
  useSlackHarness,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
const REPLY = 'Hello Dave,\nyour order shipped.\nIt comes Friday.';

describe('Slack console: delivery of a reply by email', () => {
  const sink = useSink();
  // Five attempts, 30 s, 1, 2 and 4 min apart (the defaults).
  const sb = useSlackHarness({ env: emailEnv(sink) });

  /** Dave emails, Ada gets his card, and replies in its thread; the relay refuses the first `refusals` tries. */
  async function adaReplies(h: SlackHarness, refusals: number) {
    await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
    await h.sb.router.contact({
      channel: 'email',
      from: 'dave@example.org',
      text: 'Where is my order?',
      subject: 'Order 1234',
      externalId: '<order-1234@example.org>',
    });
    await h.idle();
    const threadTs = cardTsOf(h, ADA);
    sink().refuse(...Array.from({ length: refusals }, () => ({ code: 451, message: '4.3.0 try later' })));
    const written = dmMessage(ADA, dmOf(ADA), REPLY, threadTs);
    await h.event(written).expect(200);
    await settle(h);
    return { threadTs, replyTs: String(written.ts) };
  }

  async function settle(h: SlackHarness) {
    await h.idle();
    await h.sb.email!.outbound.idle();
    await h.idle();
  }

  async function later(h: SlackHarness, ms: number) {
    h.clock.advance(ms);
    await h.sb.router.tick();
    await settle(h);
  }

  /** The reactions added to the agent's own reply. */
  const marks = (h: SlackHarness, replyTs: string) =>
    h.slack.ok('reactions.add', (a) => a.timestamp === replyTs).map((c: SlackCall) => c.args.name);

  it('a failed attempt that will be retried says so, with no ❌; sent on a later attempt, the thread says so', async () => {
    const h = sb();
    const mailed = sink().mails.length;
    const { threadTs, replyTs } = await adaReplies(h, 1);
    const said = threadTexts(h, ADA, threadTs).at(-1)!;
    expect(said).to.equal(
      ':hourglass_flowing_sand: Not sent to the customer by email yet; Switchboard tries again by itself: attempt 1 of 5 failed (EMESSAGE: 451 4.3.0 try later); retrying in 30 seconds.\n' +
        '> Hello Dave,\n> your order shipped.\n> It comes Friday.',
    );
    expect(said).not.to.contain('Not delivered');
    expect(marks(h, replyTs)).to.deep.equal([]);

    await later(h, 30_000);
    expect(sink().mails.length - mailed).to.equal(1);
    expect(threadTexts(h, ADA, threadTs).at(-1)).to.equal(
      ':outbox_tray: Sent to the customer by email after all, on attempt 2.\n' +
        '> Hello Dave,\n> your order shipped.\n> It comes Friday.',
    );
    expect(marks(h, replyTs)).to.deep.equal(['outbox_tray']);
  });

  it('only the last failed attempt is "Not delivered", with ❌; the retries between say nothing more', async () => {
    const h = sb();
    const mailed = sink().mails.length;
    const { threadTs, replyTs } = await adaReplies(h, 5);
    for (const wait of [30_000, 60_000, 120_000, 240_000]) await later(h, wait);
    expect(sink().mails.length - mailed).to.equal(0);
    // After the card's transcript.
    const lines = threadTexts(h, ADA, threadTs).slice(1);
    expect(lines.map((l) => l.split('\n')[0])).to.deep.equal([
      ':hourglass_flowing_sand: Not sent to the customer by email yet; Switchboard tries again by itself: attempt 1 of 5 failed (EMESSAGE: 451 4.3.0 try later); retrying in 30 seconds.',
      ':warning: Not delivered to the customer by email: not sent after 5 attempts: EMESSAGE: 451 4.3.0 try later',
    ]);
    expect(lines[1]!.split('\n').slice(1)).to.deep.equal([
      '> Hello Dave,',
      '> your order shipped.',
      '> It comes Friday.',
    ]);
    expect(marks(h, replyTs)).to.deep.equal(['x']);
  });
});
