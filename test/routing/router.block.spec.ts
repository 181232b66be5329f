// Blocking a customer through the real Router: their contacts refused on every identity, their open
// conversations closed, the reason kept, and the block lifted again.
import { expect } from 'chai';
import { BlockedError, NotOwnerError, ValidationError } from '../../shared/errors.js';
import { rejection } from '../support/rejection.js';
import { type Harness, harness, MINUTE, nothingGoesOutAfter, SECOND } from './harness.js';

describe('Router: blocking a customer', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness({ surveys: true, surveyDelaySeconds: 60 });
  });
  afterEach(() => {
    expect(h.invalidEvents()).to.deep.equal([]);
  });

  it("the owner blocks: their conversation resolves (no survey), the reason is noted, and every identity's contact is refused", async () => {
    const ada = await h.agent('Ada', { capacity: { sms: 1, chat: 1, email: 1, voice: 0 } });
    const first = await h.contact({ channel: 'sms', from: '+14155550100' });
    expect(first.conversation.ownerId).to.equal(ada.id);
    await h.router.identify(first.customer.id, { email: 'mal@example.com' }, 'agent:' + ada.id);
    h.clearEvents();
    h.clock.advance(MINUTE);

    const { customer, closed } = await h.router.blockFromConversation(
      ada.id,
      first.conversation.id,
      '  threats  ',
    );
    expect(customer.blocked).to.deep.equal({ at: h.clock.now(), by: ada.id, reason: 'threats' });
    expect(customer.notes.at(-1)).to.deep.equal({
      text: 'blocked by Ada: threats',
      by: ada.id,
      at: h.clock.now(),
    });
    expect(closed.map((c) => [c.id, c.status])).to.deep.equal([[first.conversation.id, 'resolved']]);
    expect((await h.agentNow(ada.id)).load.sms).to.equal(0);
    expect(h.eventsOf('customer.blocked')).to.deep.equal([
      { type: 'customer.blocked', at: h.clock.now(), customerId: customer.id, by: ada.id, blocked: true },
    ]);
    expect(h.eventsOf('conversation.resolved').map((e) => e.conversation.id)).to.deep.equal([
      first.conversation.id,
    ]);
    // No survey goes to a blocked customer; one resolved as usual meanwhile gets theirs.
    const usual = await h.contact({ channel: 'chat', from: 'visitor-9' });
    await h.router.resolve(ada.id, usual.conversation.id);
    h.clearEvents();
    await h.advance(5 * MINUTE);
    expect(h.eventsOf('survey.sent').map((e) => e.conversation.id)).to.deep.equal([usual.conversation.id]);

    // Texted again, then mailed from the address they gave: refused, nothing stored, no conversation.
    const before = await h.store.listConversations({});
    for (const contact of [
      { channel: 'sms' as const, from: '4155550100' },
      { channel: 'email' as const, from: 'Mal@Example.com' },
    ]) {
      const err = await rejection<unknown>(h.contact(contact));
      expect(err).to.be.instanceOf(BlockedError);
      expect((err as BlockedError).status).to.equal(403);
      expect((err as BlockedError).toJSON()).to.deep.equal({
        code: 'blocked',
        message: 'this conversation is closed',
      });
    }
    expect(await h.store.listConversations({})).to.deep.equal(before);
    expect(await h.store.listMessages(first.conversation.id)).to.have.length(1);
    expect(h.eventsOf('message.received')).to.deep.equal([]);
    expect(h.eventsOf('contact.blocked').map((e) => e.channel)).to.deep.equal(['sms', 'email']);
    expect(await h.router.isBlocked('sms', '+1 415 555 0100')).to.equal(true);
    expect(await h.router.isBlocked('sms', '+14155550199')).to.equal(false);
    expect(await h.router.isBlocked('sms', 'not a number')).to.equal(false);

    // Lifted: their next text is a conversation again.
    h.clock.advance(MINUTE);
    const lifted = await h.router.unblockCustomer(customer.id, 'admin');
    expect(lifted.blocked).to.equal(undefined);
    expect(lifted.notes.at(-1)?.text).to.equal('unblocked by the admin');
    expect(h.eventsOf('customer.blocked').at(-1)).to.deep.include({ by: 'admin', blocked: false });
    const back = await h.contact({ channel: 'sms', from: '+14155550100' });
    expect(back.created).to.equal(true);
    expect(back.customer.id).to.equal(customer.id);
    // Lifting again changes nothing.
    expect((await h.router.unblockCustomer(customer.id, 'admin')).notes).to.deep.equal(
      (await h.store.getCustomer(customer.id))!.notes,
    );
  });

  it('the admin blocks: an owned conversation resolves for its owner, who takes the next one; a waiting one leaves the line, not counted as left', async () => {
    const ada = await h.agent('Ada', { capacity: { sms: 1, chat: 1, email: 0, voice: 0 } });
    const owned = await h.contact({ channel: 'chat', from: 'visitor-1' });
    const other = await h.contact({ channel: 'chat', from: 'visitor-2' });
    expect(other.outcome.type).to.equal('queued');
    // The customer who waits is blocked.
    h.clearEvents();
    const { closed: closedWaiting } = await h.router.blockCustomer(other.customer.id, 'admin', 'spam');
    expect(closedWaiting.map((c) => [c.id, c.status])).to.deep.equal([[other.conversation.id, 'abandoned']]);
    expect(h.eventsOf('conversation.abandoned')).to.have.length(1);
    expect(h.eventsOf('conversation.abandoned')[0]!.blocked).to.equal(true);
    expect((await h.store.getCustomer(other.customer.id))?.notes.at(-1)?.text).to.equal(
      'blocked by the admin: spam',
    );

    // A third waits; the admin blocks the first: Ada's capacity goes to the one waiting.
    const third = await h.contact({ channel: 'chat', from: 'visitor-3' });
    expect(third.outcome.type).to.equal('queued');
    const { closed } = await h.router.blockCustomer(owned.customer.id, 'admin', '');
    expect(closed.map((c) => c.status)).to.deep.equal(['resolved']);
    expect((await h.store.getCustomer(owned.customer.id))?.notes.at(-1)?.text).to.equal(
      'blocked by the admin',
    );
    expect((await h.conversation(third.conversation.id)).ownerId).to.equal(ada.id);

    // Blocking again keeps the first block and adds no note.
    h.clock.advance(SECOND);
    const again = await h.router.blockCustomer(owned.customer.id, 'admin', 'again');
    expect(again.customer.blocked?.reason).to.equal('');
    expect(again.closed).to.deep.equal([]);
    expect(again.customer.notes.filter((n) => n.text.startsWith('blocked'))).to.have.length(1);
  });

  it('nothing reaches a customer blocked after their conversation closed: no survey, no follow-up, no call back', async () => {
    const { first, callback } = await nothingGoesOutAfter(h, (id) =>
      h.router.blockCustomer(id, 'admin', 'abuse'),
    );
    expect((await h.store.getPromise(callback.id))?.state).to.equal('void');
    const followUp = (await h.store.listPromises(first.id)).find((p) => p.kind === 'follow-up');
    expect(followUp?.state).to.equal('void');
    expect(await h.store.openConversationOf(first.customerId)).to.equal(null);
  });

  it('only the owner blocks from a conversation; a reason past 500 characters names the field; unknown customers are not found', async () => {
    const ada = await h.agent('Ada', { capacity: { sms: 1, chat: 1, email: 0, voice: 0 } });
    const bo = await h.agent('Bo', { capacity: { sms: 1, chat: 1, email: 0, voice: 0 } });
    const owned = await h.contact({ channel: 'chat', from: 'visitor-1' });
    const notOwner = owned.conversation.ownerId === ada.id ? bo : ada;
    const owner = owned.conversation.ownerId === ada.id ? ada : bo;
    expect(
      await rejection(h.router.blockFromConversation(notOwner.id, owned.conversation.id, 'x')),
    ).to.be.instanceOf(NotOwnerError);
    const long = await rejection<unknown>(
      h.router.blockFromConversation(owner.id, owned.conversation.id, 'x'.repeat(501)),
    );
    expect(long).to.be.instanceOf(ValidationError);
    expect((long as ValidationError).field).to.equal('reason');
    expect((await h.store.getCustomer(owned.customer.id))?.blocked).to.equal(undefined);
    expect((await h.conversation(owned.conversation.id)).status).to.equal('assigned');
    expect(
      (await rejection<{ code: string }>(h.router.blockCustomer('cu_nobody', 'admin', ''))).code,
    ).to.equal('not_found');
  });
});
