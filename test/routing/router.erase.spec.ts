// Erasing a customer through the real Router: what is open closes as the team closes it, the store forgets
// them, every process hears it, and nothing promised to them goes out afterwards.
import { expect } from 'chai';
import { NotFoundError } from '../../shared/errors.js';
import { rejection } from '../support/rejection.js';
import { type Harness, harness, nothingGoesOutAfter } from './harness.js';

describe('Router: erasing a customer', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness({ surveys: true, surveyDelaySeconds: 60 });
  });
  afterEach(() => {
    expect(h.invalidEvents()).to.deep.equal([]);
  });

  it('closes what is open (the owner gets the next in line), forgets them, and says so to every process', async () => {
    const ada = await h.agent('Ada', { capacity: { sms: 1, chat: 0, email: 0, voice: 0 } });
    const owned = await h.contact({ channel: 'sms', from: '+14155550100' });
    expect(owned.conversation.ownerId).to.equal(ada.id);
    const next = await h.contact({ channel: 'sms', from: '+14155550101' });
    expect(next.outcome.type).to.equal('queued');
    h.clearEvents();

    const erased = await h.router.eraseCustomer(owned.customer.id, 'admin');
    expect(erased.closed.map((c) => [c.id, c.status])).to.deep.equal([[owned.conversation.id, 'resolved']]);
    expect(erased.customerIds).to.deep.equal([owned.customer.id]);
    expect(erased.conversationIds).to.deep.equal([owned.conversation.id]);
    expect(erased.messages.map((m) => m.text)).to.deep.equal([owned.message.text]);
    expect((await h.conversation(next.conversation.id)).ownerId).to.equal(ada.id);
    expect(h.eventsOf('customer.erased')).to.deep.equal([
      {
        type: 'customer.erased',
        at: h.clock.now(),
        customerId: owned.customer.id,
        by: 'admin',
        customerIds: [owned.customer.id],
        conversationIds: [owned.conversation.id],
      },
    ]);
    expect(await h.store.getCustomer(owned.customer.id)).to.equal(null);
    expect(await h.store.getConversation(owned.conversation.id)).to.equal(null);
    // Their number texting again is a new customer.
    const back = await h.contact({ channel: 'sms', from: '+14155550100' });
    expect(back.created).to.equal(true);
    expect(back.customer.id).to.not.equal(owned.customer.id);
  });

  it('nothing promised to them goes out afterwards: no survey, no follow-up, no call back', async () => {
    const closed: Array<[string, boolean | undefined]> = [];
    await nothingGoesOutAfter(h, async (id) => {
      const erased = await h.router.eraseCustomer(id, 'admin');
      const said = h.eventsOf('conversation.abandoned').at(-1);
      for (const c of erased.closed)
        closed.push([c.status, said?.conversation.id === c.id ? said.erased : undefined]);
    });
    // The caller's wait closed as the team closes it (the event says so), not as a caller who gave up.
    expect(closed).to.deep.equal([['abandoned', true]]);
    expect(await h.store.listConversations({})).to.deep.equal([]);
  });

  it("forgets an agent's call out to them: the team view no longer names their number", async () => {
    const ada = await h.agent('Ada', { capacity: { sms: 1, chat: 0, email: 0, voice: 1 } });
    const bea = await h.agent('Bea', { capacity: { sms: 1, chat: 0, email: 0, voice: 1 } });
    const erasedOne = await h.contact({ channel: 'sms', from: '+14155550100' });
    const other = await h.contact({ channel: 'sms', from: '+14155550101' });
    const owner = (id: string) => (erasedOne.conversation.ownerId === id ? erasedOne : other);
    for (const agent of [ada, bea]) {
      const c = owner(agent.id);
      await h.router.callingOut(
        {
          agentId: agent.id,
          conversationId: c.conversation.id,
          to: c === erasedOne ? '+14155550100' : '+14155550101',
        },
        600,
      );
    }
    await h.router.eraseCustomer(erasedOne.customer.id, 'admin');
    const calls = await h.store.listOutCalls([ada.id, bea.id], h.clock.now());
    expect(calls.map((c) => c.conversationId)).to.deep.equal([other.conversation.id]);
  });

  it('an unknown customer is not found', async () => {
    expect(await rejection(h.router.eraseCustomer('cu_nobody', 'admin'))).to.be.instanceOf(NotFoundError);
    expect(h.eventsOf('customer.erased')).to.deep.equal([]);
  });
});
