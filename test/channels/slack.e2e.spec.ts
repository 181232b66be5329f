// End to end through both stand-ins: a customer texts in (a Twilio webhook signed
// the way Twilio signs it), the owner works the conversation from Slack (signed
// events and button actions), and the replies leave as SMS through the real
// Twilio client pointed at the Twilio stand-in.
import { expect } from 'chai';
import { ACTION, FIELD, VIEW } from '../../channels/slack/blocks.js';
import {
  blockActions,
  cardOf,
  dmMessage,
  dmOf,
  newEventId,
  OUR_NUMBER,
  pressCard,
  type SlackHarness,
  useSlackHarness,
  viewSubmission,
} from './slack-harness.js';
import { incomingSms, localPath, messageStatus, newSms } from './twilio-harness.js';

const ADA = 'U0ADA00001';
const BOB = 'U0BOB00001';
const CAT = 'U0CAT00001';
const MARY = '+14155550123';

const threadTs = (h: SlackHarness, user: string) => String(cardOf(h, user).answer.ts);

function threadTexts(h: SlackHarness, user: string): string[] {
  const ts = threadTs(h, user);
  return h.slack
    .ok('chat.postMessage', (a) => a.channel === dmOf(user) && a.thread_ts === ts)
    .map((c) => String(c.args.text));
}

async function smsIn(h: SlackHarness, body: string): Promise<void> {
  const res = await h.twilioWebhook('/twilio/sms', incomingSms(newSms(MARY, body, OUR_NUMBER)));
  expect(res.status, res.text).to.equal(200);
  await h.idle();
}

const texts = (h: SlackHarness) => h.twilio!.messages();

describe('Slack console end to end: SMS in, Slack thread, SMS out', () => {
  const sb = useSlackHarness({ twilio: true });

  it('SMS in → card and message in the owner’s thread; thread reply → SMS out, with delivery marks; note → nothing sent; a retried event once', async () => {
    const h = sb();
    await h.agent('Ada', ADA);
    await smsIn(h, 'Hi, my parcel never arrived');

    // The card: the phone number is what is known, from the SMS itself.
    const card = cardOf(h, ADA);
    expect(card.args.text).to.equal(`${MARY} (SMS) is yours`);
    const blocks = JSON.stringify(card.args.blocks);
    expect(blocks).to.contain('Already known');
    expect(blocks).to.contain('their text');
    expect(blocks).not.to.contain('sms:from');
    expect(blocks).to.contain('SMS (last: SMS)');
    expect(threadTexts(h, ADA)).to.have.length(1);
    expect(threadTexts(h, ADA)[0]).to.contain('Hi, my parcel never arrived');

    // A second text arrives in the same thread.
    await smsIn(h, 'Order 1234');
    expect(threadTexts(h, ADA).at(-1)).to.contain('Order 1234');

    // The reply written in the thread leaves as an SMS to Mary from our number.
    const reply = dmMessage(ADA, dmOf(ADA), 'So sorry! A new parcel ships today.', threadTs(h, ADA));
    await h.event(reply).expect(200);
    await h.idle();
    expect(texts(h).map((m) => [m.To, m.From, m.Body])).to.deep.equal([
      [MARY, OUR_NUMBER, 'So sorry! A new parcel ships today.'],
    ]);
    // Sent (Twilio accepted it), then delivered (Twilio's status callback): marks on the agent's message.
    const sent = texts(h)[0]!;
    await h
      .twilioWebhook(
        localPath(String(sent.StatusCallback)),
        messageStatus('SM00000000000000000000000000000001', MARY, 'delivered'),
      )
      .expect(200);
    await h.idle();
    expect(
      h.slack.ok('reactions.add').map((c) => [c.args.channel, c.args.timestamp, c.args.name]),
    ).to.deep.equal([
      [dmOf(ADA), reply.ts, 'outbox_tray'],
      [dmOf(ADA), reply.ts, 'white_check_mark'],
    ]);

    // `note:` stays internal.
    await h
      .event(dmMessage(ADA, dmOf(ADA), 'note: customer sounded upset, offer a voucher', threadTs(h, ADA)))
      .expect(200);
    await h.idle();
    expect(texts(h)).to.have.length(1);

    // A retried event is processed once.
    const again = dmMessage(ADA, dmOf(ADA), 'Tracking: ZX123', threadTs(h, ADA));
    const eventId = newEventId();
    await h.event(again, { eventId }).expect(200);
    await h.event(again, { eventId, retryNum: 1 }).expect(200);
    await h.idle();
    expect(texts(h).map((m) => m.Body)).to.deep.equal([
      'So sorry! A new parcel ships today.',
      'Tracking: ZX123',
    ]);
  });

  it('a failed SMS is said in the thread', async () => {
    const h = sb();
    await h.agent('Ada', ADA);
    await smsIn(h, 'hello?');
    h.twilio!.failNext('messages', {
      status: 400,
      code: 21610,
      message: 'Attempt to send to unsubscribed recipient',
    });
    await h.event(dmMessage(ADA, dmOf(ADA), 'Hello Mary', threadTs(h, ADA))).expect(200);
    await h.idle();
    expect(texts(h)).to.deep.equal([]);
    const warning = threadTexts(h, ADA).find((t) => t.includes('Not delivered'));
    expect(warning).to.contain('by SMS');
    expect(warning).to.contain('21610');
    expect(h.slack.ok('reactions.add').map((c) => c.args.name)).to.deep.equal(['x']);
  });

  it('consult and hand-off through button actions, with the replies going out by SMS', async () => {
    const h = sb();
    const ada = await h.agent('Ada', ADA);
    const bob = await h.agent('Bob', BOB);
    const cat = await h.agent('Cat', CAT);
    // Bob and Cat are busy elsewhere: no SMS capacity for a new one, but they can help.
    await h.sb.router.updateAgent(bob.id, { capacity: { sms: 0 } });
    await h.sb.router.updateAgent(cat.id, { capacity: { sms: 0 } });
    await smsIn(h, 'I need a refund for order 1234');
    const conversationId = (await h.store.listConversations({ status: 'assigned' }))[0]!.id;
    expect((await h.store.getConversation(conversationId))!.ownerId).to.equal(ada.id);
    const adaThread = threadTs(h, ADA);

    // Consult: button, then the select of the team in the thread.
    const consult = await pressCard(h, ADA, ACTION.consult, conversationId, adaThread);
    await consult.pick(bob.id);
    expect(threadTexts(h, BOB)[0]).to.contain('I need a refund for order 1234');
    await h
      .event(dmMessage(BOB, dmOf(BOB), 'Billing here: refund issued, 3-5 days.', threadTs(h, BOB)))
      .expect(200);
    await h.idle();
    expect(texts(h).map((m) => [m.To, m.Body])).to.deep.equal([
      [MARY, 'Billing here: refund issued, 3-5 days.'],
    ]);
    expect((await h.store.getConversation(conversationId))!.ownerId).to.equal(ada.id);
    expect(threadTexts(h, ADA).some((t) => t.includes('*Bob* → customer · SMS'))).to.equal(true);
    await h
      .interact(
        blockActions({
          user: BOB,
          actionId: ACTION.leave,
          value: conversationId,
          channel: dmOf(BOB),
          messageTs: threadTs(h, BOB),
          blockId: 'card:consult',
        }),
      )
      .expect(200);
    await h.idle();
    expect((await h.store.getConversation(conversationId))!.consultants).to.deep.equal([]);

    // Hand off to Cat: button, modal, Accept.
    await h.sb.router.updateAgent(cat.id, { capacity: { sms: 3 } });
    await pressCard(h, ADA, ACTION.handoff, conversationId, adaThread);
    expect(h.slack.ok('views.open')[0]!.args.view.callback_id).to.equal(VIEW.handoff);
    await h
      .interact(
        viewSubmission(ADA, VIEW.handoff, conversationId, {
          [FIELD.handoffTarget.block]: {
            [FIELD.handoffTarget.action]: { type: 'static_select', selected_option: { value: cat.id } },
          },
          [FIELD.handoffNote.block]: {
            [FIELD.handoffNote.action]: {
              type: 'plain_text_input',
              value: 'Refund done; she may ask about the voucher',
            },
          },
        }),
      )
      .expect(200);
    await h.idle();
    expect((await h.store.getConversation(conversationId))!.ownerId).to.equal(ada.id);
    const catThread = threadTs(h, CAT);
    expect(threadTexts(h, CAT).join('\n')).to.contain('Billing here: refund issued');
    await h
      .interact(
        blockActions({
          user: CAT,
          actionId: ACTION.accept,
          value: conversationId,
          channel: dmOf(CAT),
          messageTs: catThread,
          blockId: 'card:offer',
        }),
      )
      .expect(200);
    await h.idle();
    const conv = await h.store.getConversation(conversationId);
    expect(conv!.ownerId).to.equal(cat.id);
    expect(conv!.ownership.map((o) => [o.from, o.to, o.reason])).to.deep.equal([
      [null, ada.id, 'routed'],
      [ada.id, cat.id, 'handoff'],
    ]);

    // The next text lands in Cat's thread; Cat's reply leaves by SMS.
    const adaLines = threadTexts(h, ADA).length;
    await smsIn(h, 'What about my voucher?');
    expect(threadTexts(h, CAT).at(-1)).to.contain('What about my voucher?');
    expect(threadTexts(h, ADA)).to.have.length(adaLines);
    await h.event(dmMessage(CAT, dmOf(CAT), 'Voucher VX-9 is on its way.', catThread)).expect(200);
    await h.idle();
    expect(texts(h).map((m) => m.Body)).to.deep.equal([
      'Billing here: refund issued, 3-5 days.',
      'Voucher VX-9 is on its way.',
    ]);
  });
});
