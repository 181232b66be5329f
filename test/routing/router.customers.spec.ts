// Customer resolution, "ask only once", identity conflicts and merges, through the real Router.
import { expect } from 'chai';
import { ValidationError } from '../../shared/errors.js';
import { rejection } from '../support/rejection.js';
import { type Harness, harness, SECOND } from './harness.js';

describe('Router: customers', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });
  afterEach(() => {
    expect(h.invalidEvents()).to.deep.equal([]);
  });

  describe('resolution', () => {
    it('the same E.164 phone on voice and SMS is one customer with one conversation', async () => {
      const t0 = h.clock.now();
      const call = await h.contact({ channel: 'voice', from: '+1 (415) 555-0100' });
      h.clock.advance(5 * SECOND);
      const text = await h.contact({ channel: 'sms', from: '4155550100' });

      expect(text.customer.id).to.equal(call.customer.id);
      expect(text.customer.identities).to.deep.equal([{ channel: 'phone', address: '+14155550100' }]);
      expect(text.customer.facts.phone).to.deep.equal({
        value: '+14155550100',
        source: 'voice:from',
        at: t0,
      });
      expect(call.created).to.equal(true);
      expect(text.created).to.equal(false);
      expect(text.conversation.id).to.equal(call.conversation.id);
      expect(text.conversation.channels).to.deep.equal(['voice', 'sms']);
      // The caller is still on hold: the conversation stays on the call's line (router.live.spec.ts).
      expect(text.conversation.lastChannel).to.equal('voice');
      expect(text.conversation.lastContactAt).to.equal(t0 + 5 * SECOND);
      const customers = new Set((await h.store.listConversations({})).map((c) => c.customerId));
      expect([...customers]).to.deep.equal([call.customer.id]);
    });

    it('"+1 (415) 555-0100" and "4155550100" are the same number', async () => {
      const a = await h.contact({ channel: 'sms', from: '+1 (415) 555-0100' });
      const b = await h.contact({ channel: 'sms', from: '4155550100' });
      const other = await h.contact({ channel: 'sms', from: '4155550199' });
      expect(b.customer.id).to.equal(a.customer.id);
      expect(other.customer.id).to.not.equal(a.customer.id);
      expect(other.customer.identities).to.deep.equal([{ channel: 'phone', address: '+14155550199' }]);
    });

    it('email addresses are lower-cased, so differently-cased mail is one customer', async () => {
      const a = await h.contact({ channel: 'email', from: ' Ana.Diaz@Example.COM ', name: 'Ana Diaz' });
      const b = await h.contact({ channel: 'email', from: 'ana.diaz@example.com' });
      expect(a.customer.identities).to.deep.equal([{ channel: 'email', address: 'ana.diaz@example.com' }]);
      expect(b.customer.id).to.equal(a.customer.id);
      expect(b.customer.name).to.equal('Ana Diaz');
      expect(b.customer.facts.email?.value).to.equal('ana.diaz@example.com');
      expect(b.customer.facts.email?.source).to.equal('email:from');
      expect(b.customer.facts.name?.source).to.equal('email:from');
    });

    it('a bad phone number is a ValidationError naming the field, and nothing is stored', async () => {
      const err = await rejection<unknown>(h.contact({ channel: 'sms', from: 'not-a-number' }));
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).field).to.equal('from');
      expect((err as ValidationError).code).to.equal('invalid_input');
      expect((err as ValidationError).status).to.equal(400);
      expect((err as ValidationError).message).to.equal('from: "not-a-number" is not a phone number');
      const tooShort = await rejection<unknown>(h.contact({ channel: 'voice', from: '12' }));
      expect((tooShort as ValidationError).field).to.equal('from');
      expect(await h.store.listConversations({})).to.deep.equal([]);
      expect(h.events).to.deep.equal([]);
    });

    it('a call from a withheld number is a customer of that call alone, with nothing to call or text back', async () => {
      const sid = `CA${'1'.repeat(32)}`;
      const a = await h.contact({ channel: 'voice', from: sid, withheld: true, externalId: sid });
      expect(a.customer.identities).to.deep.equal([{ channel: 'call', address: sid }]);
      expect(a.customer.facts).to.deep.equal({});
      expect(a.message.from).to.equal(undefined);
      // Found again by that call (Twilio asking again), never by another: a second hidden caller is someone else.
      const again = await h.contact({ channel: 'voice', from: sid, withheld: true, externalId: sid });
      expect(again.customer.id).to.equal(a.customer.id);
      const other = await h.contact({ channel: 'voice', from: `CA${'2'.repeat(32)}`, withheld: true });
      expect(other.customer.id).to.not.equal(a.customer.id);
      const onSms = await rejection<unknown>(h.contact({ channel: 'sms', from: sid, withheld: true }));
      expect((onSms as ValidationError).field).to.equal('withheld');
      expect((onSms as ValidationError).message).to.contain('only a call can come from a withheld number');
      const badSid = await rejection<unknown>(
        h.contact({ channel: 'voice', from: 'not a call!', withheld: true }),
      );
      expect([(badSid as ValidationError).field, (badSid as ValidationError).message]).to.deep.equal([
        'from',
        'from: "not a call!" is not a call id',
      ]);
    });

    it('a bad email address is a ValidationError naming the field', async () => {
      const err = await rejection<unknown>(h.contact({ channel: 'email', from: 'ana@' }));
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).field).to.equal('from');
      expect((err as ValidationError).message).to.equal('from: "ana@" is not an email address');
    });

    it('a contact that fails its schema names the field', async () => {
      const err = await rejection<unknown>(h.contact({ channel: 'sms', from: '4155550100', externalId: '' }));
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).field).to.equal('externalId');
      const badChannel = await rejection<unknown>(
        h.router.contact({ channel: 'fax' as 'sms', from: '4155550100', externalId: 'x' }),
      );
      expect((badChannel as ValidationError).field).to.equal('channel');
    });
  });

  describe('identify and ask only once', () => {
    it('links identities and records each fact with its source and time', async () => {
      const chat = await h.contact({ channel: 'chat', from: 'visitor-1' });
      h.clock.advance(10 * SECOND);
      const at = h.clock.now();
      const { customer, conflicts } = await h.router.identify(
        chat.customer.id,
        { name: ' Ana Diaz ', email: 'Ana@Example.com', phone: '(415) 555-0101' },
        'chat:prechat',
      );
      expect(conflicts).to.deep.equal([]);
      expect(customer.name).to.equal('Ana Diaz');
      expect(customer.identities).to.deep.equal([
        { channel: 'chat', address: 'visitor-1' },
        { channel: 'email', address: 'ana@example.com' },
        { channel: 'phone', address: '+14155550101' },
      ]);
      expect(customer.facts).to.deep.equal({
        name: { value: 'Ana Diaz', source: 'chat:prechat', at },
        email: { value: 'ana@example.com', source: 'chat:prechat', at },
        phone: { value: '+14155550101', source: 'chat:prechat', at },
      });
      expect(h.eventsOf('customer.facts').map((e) => e.keys)).to.deep.equal([['name', 'email', 'phone']]);

      // The linked identities now find the same customer and the same open conversation.
      const mail = await h.contact({ channel: 'email', from: 'ANA@example.com' });
      const sms = await h.contact({ channel: 'sms', from: '+14155550101' });
      expect(mail.customer.id).to.equal(chat.customer.id);
      expect(sms.customer.id).to.equal(chat.customer.id);
      expect(sms.conversation.id).to.equal(chat.conversation.id);
      expect(sms.conversation.channels).to.deep.equal(['chat', 'email', 'sms']);
      // A fact already known is not overwritten by what the channel says.
      expect(sms.customer.facts.phone?.source).to.equal('chat:prechat');
    });

    it('missingFacts returns only what is not yet known', async () => {
      const chat = await h.contact({ channel: 'chat', from: 'visitor-2' });
      const id = chat.customer.id;
      expect(await h.router.missingFacts(id, ['name', 'email', 'order'])).to.deep.equal([
        'name',
        'email',
        'order',
      ]);
      await h.router.identify(id, { name: 'Bo' }, 'chat:prechat');
      expect(await h.router.missingFacts(id, ['name', 'email', 'order'])).to.deep.equal(['email', 'order']);
      await h.router.identify(id, { email: 'bo@example.com' }, 'agent:ag_1');
      expect(await h.router.missingFacts(id, ['name', 'email', 'order'])).to.deep.equal(['order']);
      const sms = await h.contact({ channel: 'sms', from: '4155550142' });
      expect(await h.router.missingFacts(sms.customer.id, ['phone', 'name'])).to.deep.equal(['name']);
    });

    it('a bad email or phone in identify names that field and records nothing', async () => {
      const chat = await h.contact({ channel: 'chat', from: 'visitor-3' });
      const badEmail = await rejection<unknown>(
        h.router.identify(chat.customer.id, { name: 'Cy', email: 'cy at example' }, 'chat:prechat'),
      );
      expect(badEmail).to.be.instanceOf(ValidationError);
      expect((badEmail as ValidationError).field).to.equal('email');
      const badPhone = await rejection<unknown>(
        h.router.identify(chat.customer.id, { phone: 'call me' }, 'chat:prechat'),
      );
      expect((badPhone as ValidationError).field).to.equal('phone');
      const customer = await h.store.getCustomer(chat.customer.id);
      expect(customer?.facts).to.deep.equal({});
      expect(customer?.name).to.equal(undefined);
    });

    it('an identity another customer holds is not moved: a conflict and a note come back', async () => {
      const bySms = await h.contact({ channel: 'sms', from: '4155550100' });
      const chat = await h.contact({ channel: 'chat', from: 'visitor-4' });
      const { customer, conflicts } = await h.router.identify(
        chat.customer.id,
        { phone: '+1 415 555 0100' },
        'chat:prechat',
      );
      expect(conflicts).to.deep.equal([
        { identity: { channel: 'phone', address: '+14155550100' }, customerId: bySms.customer.id },
      ]);
      expect(customer.identities).to.deep.equal([{ channel: 'chat', address: 'visitor-4' }]);
      expect(customer.notes).to.deep.equal([
        {
          text: 'phone +14155550100 also belongs to another customer; an admin can merge them if they are the same person',
          by: 'system',
          at: h.clock.now(),
        },
      ]);
      // The phone still reaches its holder.
      const again = await h.contact({ channel: 'voice', from: '4155550100' });
      expect(again.customer.id).to.equal(bySms.customer.id);
      const holder = await h.store.getCustomer(bySms.customer.id);
      expect(holder?.identities).to.deep.equal([{ channel: 'phone', address: '+14155550100' }]);
    });
  });

  describe('mergeCustomers', () => {
    it('keeps everything of both, including open conversations and their owners', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const t0 = h.clock.now();
      const phone = await h.contact({ channel: 'sms', from: '4155550100', name: 'Dee' });
      expect(phone.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      h.clock.advance(10 * SECOND);
      const chat = await h.contact({ channel: 'chat', from: 'visitor-5' });
      expect(chat.outcome).to.deep.equal({ type: 'assigned', agentId: bea.id });
      const t1 = h.clock.now();
      await h.router.identify(
        chat.customer.id,
        { name: 'Dee Dee', email: 'dee@example.com' },
        'chat:prechat',
      );
      await h.store.addCustomerNote(chat.customer.id, { text: 'prefers mornings', by: bea.id, at: t1 });

      h.clock.advance(SECOND);
      const merged = await h.router.mergeCustomers(phone.customer.id, chat.customer.id);

      expect(merged.id).to.equal(phone.customer.id);
      expect(merged.identities).to.deep.equal([
        { channel: 'phone', address: '+14155550100' },
        { channel: 'chat', address: 'visitor-5' },
        { channel: 'email', address: 'dee@example.com' },
      ]);
      expect(merged.facts.phone).to.deep.equal({ value: '+14155550100', source: 'sms:from', at: t0 });
      expect(merged.facts.email).to.deep.equal({ value: 'dee@example.com', source: 'chat:prechat', at: t1 });
      // The newer name wins; the older one is kept in a note.
      expect(merged.facts.name).to.deep.equal({ value: 'Dee Dee', source: 'chat:prechat', at: t1 });
      expect(merged.notes.map((n) => n.text)).to.deep.equal([
        'merged: name was "Dee" (sms:from)',
        'prefers mornings',
        `merged customer ${chat.customer.id} into this one`,
      ]);
      // The most recent owner is the last owner.
      expect(merged.lastOwnerId).to.equal(bea.id);
      expect(h.eventsOf('customer.merged')).to.deep.equal([
        {
          type: 'customer.merged',
          at: t1 + SECOND,
          customerId: phone.customer.id,
          mergedId: chat.customer.id,
        },
      ]);

      const convs = await h.store.listConversations({ customerId: phone.customer.id });
      expect(convs.map((c) => [c.id, c.customerId, c.status, c.ownerId])).to.deep.equal([
        [phone.conversation.id, phone.customer.id, 'assigned', ana.id],
        [chat.conversation.id, phone.customer.id, 'assigned', bea.id],
      ]);
      expect(await h.store.listConversations({ customerId: chat.customer.id })).to.deep.equal([]);
      // One customer, two open conversations: the agents on each are told of the other (an internal note).
      const told = async (id: string) =>
        (await h.store.listMessages(id))
          .filter((m) => m.direction === 'internal' && m.author.type === 'system')
          .map((m) => m.text);
      const note = (other: string) =>
        `This customer was merged with another and also has the open conversation ${other}: agree who answers, and resolve the other. Their next message goes to the one active last.`;
      expect(await told(phone.conversation.id)).to.deep.equal([
        note(`${chat.conversation.id} (chat, with Bea)`),
      ]);
      expect(await told(chat.conversation.id)).to.deep.equal([
        note(`${phone.conversation.id} (sms, with Ana)`),
      ]);
      expect(h.eventsOf('message.note').map((e) => e.message.conversationId)).to.deep.equal([
        phone.conversation.id,
        chat.conversation.id,
      ]);
      // The old id keeps working: it follows the merge.
      expect((await h.store.getCustomer(chat.customer.id))?.id).to.equal(phone.customer.id);

      // The next contact, on any of the identities, goes to the most recent conversation and its owner.
      h.clock.advance(SECOND);
      const next = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(next.customer.id).to.equal(phone.customer.id);
      expect(next.conversation.id).to.equal(chat.conversation.id);
      expect(next.outcome).to.deep.equal({ type: 'owner', agentId: bea.id });
      const mail = await h.contact({ channel: 'email', from: 'dee@example.com' });
      expect(mail.conversation.id).to.equal(chat.conversation.id);
      // The older conversation is untouched.
      const older = await h.conversation(phone.conversation.id);
      expect([older.ownerId, older.status, older.lastChannel]).to.deep.equal([ana.id, 'assigned', 'sms']);
    });

    it('refuses to merge a customer into itself', async () => {
      const a = await h.contact({ channel: 'sms', from: '4155550100' });
      const err = await rejection<unknown>(h.router.mergeCustomers(a.customer.id, a.customer.id));
      expect(err).to.be.instanceOf(ValidationError);
      expect((err as ValidationError).field).to.equal('otherCustomerId');
    });
  });
});
