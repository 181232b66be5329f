// What Slack takes, and what the console does with more: a saved reply longer
// than a form's text field, a customer's message longer than a Slack message.
// The stand-in refuses what Slack refuses (`invalid_arguments`, `msg_too_long`).
import { expect } from 'chai';
import { ACTION, FORM_TEXT_MAX, messageLine } from '../../channels/slack/blocks.js';
import { MemorySlackState } from '../../channels/slack/state.js';
import type { Message } from '../../shared/model.js';
import {
  blockActions,
  cardTsOf,
  dmOf,
  refusedWith,
  type SlackHarness,
  startSlackHarness,
  threadTexts,
} from './slack-harness.js';

const ADA = 'U0ADA00001';
// biome-ignore lint/suspicious/noExplicitAny: Block Kit JSON as the stand-in recorded it
type Json = any;

/** Run `body` on a Slack harness of its own, closed after. */
async function withSlackHarness(env: Record<string, string>, body: (h: SlackHarness) => Promise<void>) {
  const h = await startSlackHarness({ env });
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

/** Ada (chat and email) gets a chat visitor's conversation; its card is in her DM. */
async function chatWithAda(h: SlackHarness): Promise<string> {
  await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
  const mary = await h.visitor();
  await mary.identify({ name: 'Mary Major', email: 'mary@example.com' });
  const { conversationId } = await mary.say('where is my parcel?');
  await h.idle();
  return conversationId;
}

describe('Slack console: what Slack takes', () => {
  describe('a saved reply longer than a Slack form takes', () => {
    const long =
      `Dear customer,\n${'Here is how returns work, step by step. '.repeat(100)}`.slice(0, 3899) + '!';
    const exact = 'x'.repeat(FORM_TEXT_MAX);
    const env = {
      ROUTING_POLICY: JSON.stringify({
        savedReplies: [
          { name: 'Returns', text: long },
          { name: 'Exactly', text: exact },
          { name: 'Short', text: 'Thanks, {agent} here.' },
        ],
      }),
    };
    const pick = async (h: SlackHarness, conversationId: string, name: string) => {
      await h
        .interact(
          blockActions({
            user: ADA,
            actionId: ACTION.saved,
            selectedOption: `${conversationId}#${name}`,
            channel: dmOf(ADA),
            messageTs: cardTsOf(h, ADA),
          }),
        )
        .expect(200);
      await h.idle();
    };

    it('opens a form that says so, where to send it, and shows its text, with no Send (Slack refuses no form)', async () => {
      await withSlackHarness(env, async (h) => {
        const conversationId = await chatWithAda(h);
        await pick(h, conversationId, 'Returns');
        expect(refusedWith(h, 'invalid_arguments')).to.deep.equal([]);
        const form = h.slack.ok('views.open')[0]!.args.view;
        expect(form.submit).to.equal(undefined);
        expect(form.close.text).to.equal('Close');
        expect((form.blocks as Json[]).some((b) => b.type === 'input')).to.equal(false);
        const said = String(form.blocks[0].text.text);
        expect(said).to.contain("longer than Slack's forms take (3,000 characters)");
        expect(said).to.contain('is 3,900 characters long');
        expect(said).to.contain('web console');
        // All of it, to read or copy, in pieces Slack shows.
        const shown = (form.blocks as Json[])
          .filter((b) => b.type === 'section' && b.text.type === 'plain_text')
          .map((b) => String(b.text.text));
        expect(shown.join('')).to.equal(long);
        expect(shown.every((t) => t.length <= 3000)).to.equal(true);
      });
    });

    it('one of 3,000 characters or fewer opens in a box Slack takes: at most 3,000 characters, filled', async () => {
      await withSlackHarness(env, async (h) => {
        const conversationId = await chatWithAda(h);
        await pick(h, conversationId, 'Exactly');
        await pick(h, conversationId, 'Short');
        expect(refusedWith(h, 'invalid_arguments')).to.deep.equal([]);
        const forms = h.slack.ok('views.open').map((c) => c.args.view);
        expect(forms.map((f) => [f.submit?.text, f.blocks[0].element.max_length])).to.deep.equal([
          ['Send', 3000],
          ['Send', 3000],
        ]);
        expect(forms.map((f) => f.blocks[0].element.initial_value)).to.deep.equal([
          exact,
          'Thanks, Ada here.',
        ]);
      });
    });
  });

  describe("a customer's message longer than Slack shows", () => {
    it('reaches the thread cut, saying how much more there is and where to read it; no escape cut in two', async () => {
      const state = new MemorySlackState();
      const h = await startSlackHarness({ state });
      try {
        const ada = await h.agent('Ada', ADA, { capacity: { voice: 0, sms: 0, chat: 1, email: 2 } });
        const from = 'dave@example.org';
        await h.sb.router.contact({ channel: 'email', from, text: 'Hello', externalId: '<m1@example.org>' });
        await h.idle();
        const threadTs = cardTsOf(h, ADA);
        // 45,000 characters, over 58,000 once `&`, `<` and `>` are escaped for Slack.
        const long = 'Fish & chips <for two> '.repeat(2000).slice(0, 45_000);
        const { message } = await h.sb.router.contact({
          channel: 'email',
          from,
          text: long,
          externalId: '<m2@example.org>',
        });
        await h.idle();
        expect(refusedWith(h, 'msg_too_long')).to.deep.equal([]);
        const line = threadTexts(h, ADA, threadTs).at(-1)!;
        expect(line.length).to.be.at.most(3600);
        const [shownPart, note] = line.split('…\n');
        const body = shownPart!.split('\n').slice(1).join('\n');
        // Whole escapes only: what is shown, unescaped, is the start of what the customer wrote.
        expect(body).not.to.match(/&[a-z]*$/);
        const plain = body.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
        expect(plain.length).to.be.greaterThan(2000);
        expect(long.startsWith(plain)).to.equal(true);
        expect(note).to.equal(
          `_(${(long.length - plain.length).toLocaleString('en-US')} more characters not shown: too long for Slack. Read the whole message in the web console.)_`,
        );
        // Shown, so that catching up on the thread does not try it again.
        const shown = await state.shown(message.conversationId, ada.id);
        expect(shown.has(message.id)).to.equal(true);
      } finally {
        await h.close();
      }
    });
  });
});

describe('Slack message lines: long ones', () => {
  const T0 = Date.UTC(2026, 11, 6, 9);
  const inbound = (text: string): Message => ({
    id: 'msg_1',
    conversationId: 'cv_1',
    direction: 'in',
    channel: 'email',
    author: { type: 'customer' },
    text,
    attachments: [],
    at: T0,
    delivery: { state: 'delivered', attempts: 0, at: T0 },
  });

  it('an emoji at the cut is left whole, and the count is of what the customer wrote', () => {
    const text = `a${'😀'.repeat(3000)}`;
    const line = messageLine(inbound(text), 'Dee', 1000);
    expect(line).not.to.match(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    const body = line.split('\n')[1]!.replace(/…$/, '');
    expect(line).to.contain(`_(${(text.length - body.length).toLocaleString('en-US')} more characters`);
  });

  it('a short one is shown whole, with no note', () => {
    const line = messageLine(inbound('Fish & chips'), 'Dee');
    expect(line).to.equal(':speech_balloon: *Dee* · email\nFish &amp; chips');
  });
});
