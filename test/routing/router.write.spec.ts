// An agent writing to a customer first (Router writeTo): a new conversation, theirs at once, the message sent as
// a reply is; the customer's answer comes back to it and to them.
import { expect } from 'chai';
import { BlockedError, ConflictError, type SwitchboardError, ValidationError } from '../../shared/errors.js';
import { rejection } from '../support/rejection.js';
import { type Harness, harness, MINUTE } from './harness.js';

describe('Router: an agent writes to a customer first', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness({ surveys: false });
    h.router.registerSender(['sms', 'email'], { leaseMs: MINUTE, resume: () => true });
  });
  afterEach(() => {
    expect(h.invalidEvents()).to.deep.equal([]);
  });

  it('by text to a new number: a new customer and conversation, theirs at once; the answer comes back to it and to them', async () => {
    const ada = await h.agent('Ada', { capacity: { voice: 0, sms: 2, chat: 0, email: 0 } });
    const bo = await h.agent('Bo', { capacity: { voice: 0, sms: 2, chat: 0, email: 0 } });
    const wrote = await h.router.writeTo(ada.id, {
      channel: 'sms',
      to: '(415) 555-0199',
      text: 'Hi, your order is ready.',
      clientMessageId: 'w1',
    });
    expect(wrote.duplicate).to.equal(false);
    expect(wrote.conversation).to.include({ status: 'assigned', ownerId: ada.id, lastChannel: 'sms' });
    expect(wrote.conversation.ownership.map((m) => m.reason)).to.deep.equal(['outbound']);
    expect(wrote.message).to.include({ direction: 'out', channel: 'sms', text: 'Hi, your order is ready.' });
    expect(wrote.message.to).to.equal('+14155550199');
    expect(wrote.message.delivery.state).to.equal('pending');
    expect((await h.agentNow(ada.id)).load.sms).to.equal(1);
    const assigned = h.eventsOf('conversation.assigned');
    expect(assigned.map((e) => [e.agentId, e.reason, e.previousOwnerId])).to.deep.equal([
      [ada.id, 'outbound', null],
    ]);
    expect(h.eventsOf('message.sent').map((e) => e.message.id)).to.deep.equal([wrote.message.id]);

    // The same request again (a retry) is the same message.
    const again = await h.router.writeTo(ada.id, {
      channel: 'sms',
      to: '+14155550199',
      text: 'Hi, your order is ready.',
      clientMessageId: 'w1',
    });
    expect([again.duplicate, again.message.id, again.conversation.id]).to.deep.equal([
      true,
      wrote.message.id,
      wrote.conversation.id,
    ]);

    // Their answer: the same conversation, the same person (Bo is free and idle longer, and does not get it).
    const answer = await h.contact({ channel: 'sms', from: '+14155550199', text: 'Great, thanks' });
    expect(answer.conversation.id).to.equal(wrote.conversation.id);
    expect(answer.conversation.ownerId).to.equal(ada.id);
    expect((await h.agentNow(bo.id)).load.sms).to.equal(0);
  });

  it('by email to a known customer: at their address, with a subject (the first line unless given)', async () => {
    const ada = await h.agent('Ada');
    const first = await h.contact({ channel: 'email', from: 'Lee@Example.com', text: 'hello' });
    await h.router.resolve(first.conversation.ownerId!, first.conversation.id);
    const wrote = await h.router.writeTo(ada.id, {
      channel: 'email',
      customerId: first.customer.id,
      text: 'Your refund went out today.\nIt takes 3 days.',
    });
    expect(wrote.conversation.customerId).to.equal(first.customer.id);
    expect(wrote.message).to.include({ to: 'lee@example.com', subject: 'Your refund went out today.' });
    await h.router.resolve(ada.id, wrote.conversation.id);
    // As a mail client copies it, with the name.
    const subjected = await h.router.writeTo(ada.id, {
      channel: 'email',
      to: 'Lee Park <Lee@example.com>',
      subject: 'Your refund',
      text: 'Sent.',
    });
    expect(subjected.conversation.customerId).to.equal(first.customer.id);
    expect(subjected.message).to.include({ to: 'lee@example.com', subject: 'Your refund' });
  });

  it('refuses, before anything is stored: a channel that does not send, a bad address, no address on file, blocked, one open, no capacity', async () => {
    const ada = await h.agent('Ada', { capacity: { voice: 0, sms: 1, chat: 1, email: 1 } });
    const bo = await h.agent('Bo', { capacity: { voice: 0, sms: 1, chat: 1, email: 1 } });
    const open = await h.contact({ channel: 'sms', from: '+14155550100' });
    const chatter = await h.contact({ channel: 'chat', from: 'visitor-1' });
    await h.router.resolve(chatter.conversation.ownerId!, chatter.conversation.id);
    const blocked = await h.contact({ channel: 'sms', from: '+14155550102' });
    await h.router.blockCustomer(blocked.customer.id, 'admin', 'abuse');
    const before = (await h.store.listConversations({})).length;

    const off = harness();
    const offAgent = await off.agent('Cy');
    const noSender = await rejection<SwitchboardError>(
      off.router.writeTo(offAgent.id, { channel: 'sms', to: '+14155550101', text: 'x' }),
    );
    expect([noSender.code, noSender.message]).to.deep.equal(['channel_off', 'texts do not go out here']);

    const cases: Array<[() => Promise<unknown>, string, string | undefined]> = [
      [
        () => h.router.writeTo(ada.id, { channel: 'sms', to: 'not a number', text: 'x' }),
        'invalid_input',
        'to',
      ],
      [() => h.router.writeTo(ada.id, { channel: 'email', to: 'nobody', text: 'x' }), 'invalid_input', 'to'],
      // A French number written without its country code is no US number.
      [
        () => h.router.writeTo(ada.id, { channel: 'sms', to: '06 12 34 56 78', text: 'x' }),
        'invalid_input',
        'to',
      ],
      [() => h.router.writeTo(ada.id, { channel: 'sms', text: 'x' }), 'invalid_input', 'to'],
      [
        () =>
          h.router.writeTo(ada.id, {
            channel: 'sms',
            to: '+14155550101',
            customerId: open.customer.id,
            text: 'x',
          }),
        'invalid_input',
        'to',
      ],
      [
        () => h.router.writeTo(ada.id, { channel: 'sms', to: '+14155550101', text: ' ' }),
        'invalid_input',
        'text',
      ],
      [
        () => h.router.writeTo(ada.id, { channel: 'sms', customerId: chatter.customer.id, text: 'x' }),
        'invalid_input',
        'to',
      ],
      [
        () => h.router.writeTo(ada.id, { channel: 'sms', to: '+14155550102', text: 'x' }),
        'blocked',
        undefined,
      ],
      [
        () => h.router.writeTo(bo.id, { channel: 'sms', to: '+14155550100', text: 'x' }),
        'open_conversation',
        undefined,
      ],
    ];
    const named = await rejection<SwitchboardError>(
      h.router.writeTo(bo.id, { channel: 'sms', to: '+14155550100', text: 'x' }),
    );
    expect(named.message).to.equal(
      `+14155550100 has a conversation open (${open.conversation.id}, ${open.conversation.ownerId === ada.id ? 'Ada' : 'Bo'}'s): write there`,
    );
    for (const [attempt, code, field] of cases) {
      const err = await rejection<SwitchboardError>(attempt());
      expect([err.code, err.field], `${code} ${field}`).to.deep.equal([code, field]);
    }
    // Full on texts: whoever owns the open one has no text capacity left.
    const owner = open.conversation.ownerId!;
    const full = await rejection<SwitchboardError>(
      h.router.writeTo(owner, { channel: 'sms', to: '+14155550109', text: 'x' }),
    );
    expect(full.code).to.equal('no_capacity');
    expect(full).to.not.be.instanceOf(BlockedError);
    expect((await h.store.listConversations({})).length).to.equal(before);
    expect(noSender).to.be.instanceOf(ConflictError);
    expect(await rejection(h.router.writeTo(ada.id, { channel: 'sms', text: 'x' }))).to.be.instanceOf(
      ValidationError,
    );
  });

  it('a survey follows only when the customer answered: written to and silent, they are asked nothing', async () => {
    const s = harness({ surveys: true, surveyDelaySeconds: 60 });
    s.router.registerSender(['sms'], { leaseMs: MINUTE, resume: () => true });
    const ada = await s.agent('Ada');
    const silent = await s.router.writeTo(ada.id, {
      channel: 'sms',
      to: '+14155550101',
      text: 'Your parcel is here.',
    });
    await s.router.resolve(ada.id, silent.conversation.id);
    const answered = await s.router.writeTo(ada.id, {
      channel: 'sms',
      to: '+14155550102',
      text: 'Your parcel is here.',
    });
    await s.contact({ channel: 'sms', from: '+14155550102', text: 'Thanks' });
    await s.router.resolve(ada.id, answered.conversation.id);
    await s.advance(2 * MINUTE);
    expect(s.eventsOf('survey.sent').map((e) => e.conversation.id)).to.deep.equal([answered.conversation.id]);
  });

  it("a number without its country code is the policy's country's (phoneRegion); the refusal says to give one", async () => {
    const fr = harness({ phoneRegion: 'FR' });
    fr.router.registerSender(['sms'], { leaseMs: MINUTE, resume: () => true });
    const ada = await fr.agent('Ada');
    const wrote = await fr.router.writeTo(ada.id, { channel: 'sms', to: '06 12 34 56 78', text: 'Bonjour' });
    expect(wrote.message.to).to.equal('+33612345678');
    const us = await rejection<SwitchboardError>(
      h.router.writeTo((await h.agent('Bo')).id, { channel: 'sms', to: '06 12 34 56 78', text: 'x' }),
    );
    expect([us.field, us.message]).to.deep.equal([
      'to',
      'to: "06 12 34 56 78" is not a phone number in US: give it with its country code (+…)',
    ]);
  });
});
