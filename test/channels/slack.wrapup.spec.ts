// After-call work on the owner's Slack card: once a call ends (as Twilio ends it), the card says until when
// ("until 14:05", a time Slack shows in the reader's zone), with More time and Done; it is drawn again when the
// time moves, never as a clock ticking. Through the real app, Bolt and the stand-ins.
import { expect } from 'chai';
import { ACTION } from '../../channels/slack/blocks.js';
import { only, parseTwiml, queryOf } from '../support/twiml.js';
import {
  cardButtons,
  dmOf,
  pressCard,
  type SlackHarness,
  shownCard,
  slashCommand,
  startSlackHarness,
  TWILIO_SID,
} from './slack-harness.js';
import { callStatus, dialResult, incomingCall, localPath, newCall, SECOND } from './twilio-harness.js';

const ADA = 'U0ADA00001';
const BEA = 'U0BEA00002';

/** Ada answers a call, which then ends: its conversation and when it ended. */
async function callEnds(
  h: SlackHarness,
  agentId: string,
): Promise<{ conversationId: string; ended: number }> {
  const call = newCall('+14155550123');
  const sid = { AccountSid: TWILIO_SID };
  const res = await h.twilioWebhook('/twilio/voice', incomingCall(call, sid)).expect(200);
  const dial = only(parseTwiml(res.text), 'Dial');
  const conversationId = queryOf(dial.attrs.action).conversation!;
  await h.sb.router.acceptOffer(agentId, conversationId);
  await h.idle();
  await h.twilioWebhook(localPath(dial.attrs.action), dialResult(call, 'completed', sid)).expect(200);
  const ended = h.clock.now();
  await h.twilioWebhook('/twilio/voice/status', callStatus(call, 'completed', sid)).expect(200);
  await h.idle();
  return { conversationId, ended };
}

// biome-ignore lint/suspicious/noExplicitAny: Block Kit as posted, asserted field by field
const wrapUpLine = (card: { blocks: any[] }): string | undefined =>
  card.blocks.find((b) => b.block_id === 'wrapup')?.text?.text;
const hhmm = (at: number) => `${new Date(at).toISOString().slice(11, 16)} UTC`;

describe('Slack cards: after-call work', () => {
  it('the owner’s card says until when, More time moves it (one redraw), Done resolves', async () => {
    const h = await startSlackHarness({ twilio: true });
    try {
      const ada = await h.agent('Ada', ADA, { clientIdentity: 'ada' });
      const { conversationId, ended } = await callEnds(h, ada.id);
      const until = ended + 120 * SECOND;
      expect(wrapUpLine(shownCard(h, ADA))).to.equal(
        `*After-call work* until <!date^${Math.floor(until / 1000)}^{time}|${hhmm(until)}>: then it is resolved for you, and the next caller rings you.`,
      );
      expect(cardButtons(shownCard(h, ADA))).to.include.members([ACTION.wrapUpMore, ACTION.wrapUpDone]);

      // Time passing does not draw the card again.
      const updates = () => h.slack.ok('chat.update', (a) => a.channel === dmOf(ADA)).length;
      const before = updates();
      h.clock.advance(60 * SECOND);
      await h.sb.router.tick();
      await h.idle();
      expect(updates()).to.equal(before);

      await pressCard(h, ADA, ACTION.wrapUpMore, conversationId);
      const moved = h.clock.now() + 120 * SECOND;
      expect(wrapUpLine(shownCard(h, ADA))).to.contain(`until <!date^${Math.floor(moved / 1000)}^{time}|`);
      expect(updates()).to.equal(before + 1);

      await pressCard(h, ADA, ACTION.wrapUpDone, conversationId);
      expect((await h.store.getConversation(conversationId))?.status).to.equal('resolved');
      expect(wrapUpLine(shownCard(h, ADA))).to.equal(undefined);
      expect(cardButtons(shownCard(h, ADA))).not.to.include(ACTION.wrapUpMore);
    } finally {
      await h.close();
    }
  });

  it('a colleague’s card has none; a text from the customer ends it', async () => {
    const h = await startSlackHarness({ twilio: true });
    try {
      const ada = await h.agent('Ada', ADA, { clientIdentity: 'ada' });
      const bea = await h.agent('Bea', BEA, { clientIdentity: 'bea' });
      const { conversationId } = await callEnds(h, ada.id);
      await h.sb.router.consult(ada.id, conversationId, bea.id);
      await h.sb.router.joinConsult(bea.id, conversationId);
      await h.idle();
      expect(wrapUpLine(shownCard(h, BEA))).to.equal(undefined);
      expect(wrapUpLine(shownCard(h, ADA))).to.match(/^\*After-call work\* until/);

      h.clock.advance(10 * SECOND);
      await h
        .twilioWebhook('/twilio/sms', {
          MessageSid: `SM${'5'.repeat(32)}`,
          AccountSid: TWILIO_SID,
          From: '+14155550123',
          To: '+14155550100',
          Body: 'one more thing',
          NumMedia: '0',
        })
        .expect(200);
      await h.idle();
      expect(await h.sb.router.wrapUp((await h.store.getConversation(conversationId))!)).to.equal(null);
      expect(wrapUpLine(shownCard(h, ADA))).to.equal(undefined);
    } finally {
      await h.close();
    }
  });

  it('`/switchboard team` says who is in after-call work, until when', async () => {
    const h = await startSlackHarness({ twilio: true });
    try {
      const ada = await h.agent('Ada', ADA, { clientIdentity: 'ada' });
      await h.agent('Bea', BEA, { clientIdentity: 'bea' });
      const { ended } = await callEnds(h, ada.id);
      const until = ended + 120 * SECOND;
      const url = h.slack.responseUrl();
      await h.command(slashCommand(BEA, 'team', url)).expect(200);
      await h.idle();
      const body = h.slack.responses.find((r) => url.endsWith(r.path))!.body;
      // biome-ignore lint/suspicious/noExplicitAny: Block Kit as posted
      const lines = (body.blocks as any[]).flatMap((b) => String(b.text?.text ?? '').split('\n'));
      expect(lines.find((l) => l.startsWith('• Ada'))).to.contain(
        ` · after-call work until <!date^${Math.floor(until / 1000)}^{time}|${hhmm(until)}>`,
      );
      expect(lines.find((l) => l.startsWith('• Bea'))).not.to.contain('after-call work');
    } finally {
      await h.close();
    }
  });
});
