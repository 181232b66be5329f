// The Store conformance suite: every Store implementation runs it through the
// interface only. `makeStore` builds a fresh, empty store for each test;
// `cleanup`, when given, removes what the test stored (the suite then closes
// the store itself, so `close` must be safe to call after `cleanup`).
import { expect } from 'chai';
import { HANDLE_TIME_WINDOW } from '../../routing/store/rules.js';
import type {
  Candidate,
  NewContact,
  RouteMode,
  RouteOutcome,
  Store,
  Timer,
  WaitRules,
} from '../../routing/store/store.js';
import { SwitchboardError } from '../../shared/errors.js';
import {
  type Agent,
  type Channel,
  type Conversation,
  type Customer,
  type CustomerPromise,
  type Identity,
  type Message,
  type OwnershipReason,
  type Skills,
  zeroPerChannel,
} from '../../shared/model.js';

const T0 = Date.UTC(2026, 0, 5, 9);
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

const RULES: WaitRules = { overflowAfterMs: 2 * MIN, hardCapMs: 10 * MIN, offerTimeoutMs: {} };
const VOICE_RINGS: WaitRules = { ...RULES, offerTimeoutMs: { voice: 20 * SEC } };
const ASSIGN: RouteMode = { type: 'assign' };
const ring = (expiresAt: number): RouteMode => ({ type: 'offer', expiresAt });

const pool = (skills: Skills = {}, reason: OwnershipReason = 'routed'): Candidate => ({
  kind: 'pool',
  skills,
  reason,
});
const one = (agentId: string, reason: OwnershipReason = 'last_owner'): Candidate => ({
  kind: 'agent',
  agentId,
  reason,
});

// ---------------------------------------------------------------- record factories

function customerRecord(id: string, identities: Identity[] = [], extra: Partial<Customer> = {}): Customer {
  return { id, identities, facts: {}, notes: [], createdAt: T0, ...extra };
}

function agentRecord(id: string, extra: Partial<Agent> = {}): Agent {
  const agent: Agent = {
    id,
    name: `Agent ${id}`,
    skills: {},
    capacity: { voice: 1, sms: 3, chat: 3, email: 5 },
    status: 'available',
    load: zeroPerChannel(),
    idleSince: T0,
    availableSince: T0,
    createdAt: T0,
    ...extra,
  };
  if (agent.status !== 'available') delete agent.availableSince;
  return agent;
}

function conversationRecord(id: string, customerId: string, extra: Partial<Conversation> = {}): Conversation {
  const channel = extra.lastChannel ?? 'chat';
  const at = extra.createdAt ?? T0;
  return {
    id,
    customerId,
    status: 'queued',
    ownerId: null,
    slotChannel: null,
    cover: null,
    consultants: [],
    invited: [],
    channels: [channel],
    lastChannel: channel,
    skills: {},
    priority: 0,
    createdAt: at,
    lastContactAt: at,
    queuedAt: at,
    waitingForOwnerSince: null,
    assignedAt: null,
    firstAssignedAt: null,
    resolvedAt: null,
    followUpAt: null,
    offer: null,
    handoff: null,
    ownership: [],
    declinedBy: [],
    ...extra,
  };
}

function messageRecord(id: string, conversationId: string, extra: Partial<Message> = {}): Message {
  return {
    id,
    conversationId,
    direction: 'in',
    channel: 'chat',
    author: { type: 'customer' },
    text: `text of ${id}`,
    attachments: [],
    at: T0,
    delivery: { state: 'delivered', attempts: 0, at: T0 },
    ...extra,
  };
}

function promiseRecord(
  id: string,
  conversationId: string,
  extra: Partial<CustomerPromise> = {},
): CustomerPromise {
  return {
    id,
    conversationId,
    kind: 'wait',
    dueAt: T0 + MIN,
    createdAt: T0,
    state: 'open',
    settledAt: null,
    ...extra,
  };
}

const phone = (n: number): Identity => ({
  channel: 'phone',
  address: `+1415555${String(n).padStart(4, '0')}`,
});
const email = (local: string): Identity => ({ channel: 'email', address: `${local}@example.com` });
const visitor = (id: string): Identity => ({ channel: 'chat', address: `visitor-${id}` });

/** The SwitchboardError a promise rejects with; anything else fails the test. */
async function failure(promise: Promise<unknown>): Promise<SwitchboardError> {
  let value: unknown;
  try {
    value = await promise;
  } catch (err) {
    if (err instanceof SwitchboardError) return err;
    throw err;
  }
  throw new Error(`expected a SwitchboardError, but it resolved with ${JSON.stringify(value)}`);
}

const byAddress = (a: Identity, b: Identity) =>
  `${a.channel}:${a.address}` < `${b.channel}:${b.address}` ? -1 : 1;
const ids = (records: ReadonlyArray<{ id: string }>) => records.map((r) => r.id);

export function storeContract(
  name: string,
  makeStore: () => Promise<Store>,
  cleanup?: (s: Store) => Promise<void>,
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await makeStore();
    });

    afterEach(async () => {
      if (cleanup) await cleanup(store);
      await store.close();
    });

    // ---------------------------------------------------------------- helpers over the store

    const addCustomer = async (id: string, ...identities: Identity[]): Promise<Customer> => {
      const first = identities[0] ?? visitor(id);
      const { customer } = await store.resolveCustomer(first, customerRecord(id, identities));
      return customer;
    };
    const addAgent = (id: string, extra: Partial<Agent> = {}) => store.createAgent(agentRecord(id, extra));
    const addConversation = (id: string, extra: Partial<Conversation> = {}) =>
      store.createConversation(conversationRecord(id, extra.customerId ?? 'cu_1', extra));
    const agentNow = async (id: string): Promise<Agent> => {
      const a = await store.getAgent(id);
      if (!a) throw new Error(`agent ${id} is missing`);
      return a;
    };
    const conversationNow = async (id: string): Promise<Conversation> => {
      const c = await store.getConversation(id);
      if (!c) throw new Error(`conversation ${id} is missing`);
      return c;
    };
    const route = async (
      id: string,
      candidates: Candidate[],
      opts: { mode?: RouteMode; now?: number; channel?: Channel; score?: number; overflowAt?: number } = {},
    ): Promise<RouteOutcome> => {
      const conv = await conversationNow(id);
      const now = opts.now ?? T0;
      return store.route({
        conversationId: id,
        channel: opts.channel ?? conv.lastChannel,
        candidates,
        mode: opts.mode ?? ASSIGN,
        now,
        score: opts.score ?? now,
        ...(opts.overflowAt !== undefined ? { overflowAt: opts.overflowAt } : {}),
      });
    };
    /** A conversation waiting in line: nobody was tried. Its score defaults to its arrival. */
    const addWaiting = async (id: string, extra: Partial<Conversation> = {}, score?: number) => {
      const conv = await addConversation(id, extra);
      const at = conv.queuedAt ?? conv.createdAt;
      const out = await route(id, [], { now: at, score: score ?? at });
      expect(out.type).to.equal('queued');
      return out.conversation;
    };
    /** A conversation owned by `agentId` on its channel since `now`. */
    const addOwned = async (id: string, agentId: string, extra: Partial<Conversation> = {}, now = T0) => {
      await addConversation(id, extra);
      const out = await route(id, [one(agentId, 'routed')], { now });
      expect(out.type).to.equal('assigned');
      return out.conversation;
    };

    /** A new customer's contact: customer cu_n<n> with phone n, conversation cv_n<n>, message msg_n<n>. */
    const newContact = (
      n: number,
      opts: { channel?: Channel; externalId?: string; candidates?: Candidate[]; mode?: RouteMode } = {},
    ): NewContact => {
      const channel = opts.channel ?? 'sms';
      const externalId = opts.externalId ?? `SM${n}`;
      const conversation = conversationRecord(`cv_n${n}`, `cu_n${n}`, { lastChannel: channel });
      return {
        channel,
        externalId,
        identity: phone(n),
        customer: customerRecord(`cu_n${n}`),
        conversation,
        first: messageRecord(`msg_n${n}`, conversation.id, { channel, externalId }),
        route: { candidates: opts.candidates ?? [pool()], mode: opts.mode ?? ASSIGN, now: T0, score: T0 },
      };
    };
    const contactMessage = (externalId: string, channel: Channel = 'sms') => ({ channel, externalId });
    /** None of contact n's records is stored. */
    const expectNothingOf = async (n: number) => {
      expect(await store.getCustomer(`cu_n${n}`)).to.equal(null);
      expect(await store.getConversation(`cv_n${n}`)).to.equal(null);
      expect(await store.getMessage(`msg_n${n}`)).to.equal(null);
    };

    // ================================================================ customers

    describe('customers', () => {
      it('resolveCustomer creates a customer for a new identity, then finds the same one', async () => {
        const first = await store.resolveCustomer(phone(1), customerRecord('cu_1'));
        expect(first.created).to.equal(true);
        expect(first.customer.id).to.equal('cu_1');
        expect(first.customer.identities).to.deep.equal([phone(1)]);

        const again = await store.resolveCustomer(phone(1), customerRecord('cu_2'));
        expect(again.created).to.equal(false);
        expect(again.customer.id).to.equal('cu_1');
        expect(await store.getCustomer('cu_2')).to.equal(null);
        expect(await store.getCustomer('cu_1')).to.deep.equal(first.customer);
      });

      it('findCustomer finds who has an identity, linked later too, and nobody for one nobody has', async () => {
        const { customer } = await store.resolveCustomer(phone(1), customerRecord('cu_1'));
        expect(await store.findCustomer(phone(1))).to.deep.equal(customer);
        expect(await store.findCustomer(phone(2))).to.equal(null);
        await store.linkIdentity('cu_1', email('dee'));
        expect((await store.findCustomer(email('dee')))?.id).to.equal('cu_1');
        expect(await store.findCustomer({ channel: 'chat', address: phone(1).address })).to.equal(null);
      });

      it('a withheld caller, known by their call, is stored, read back and found by it as any identity', async () => {
        const call: Identity = { channel: 'call', address: `CA${'3'.repeat(32)}` };
        const started = await store.startContact({ ...newContact(1), identity: call });
        expect(!started.duplicate && started.created).to.equal(true);
        const found = await store.findCustomer(call);
        expect(found?.identities).to.deep.equal([call]);
        expect(await store.getCustomer(found!.id)).to.deep.equal(found);
        expect(await store.findCustomer({ channel: 'phone', address: call.address })).to.equal(null);
      });

      it("startContact is the stored message of a repeated delivery; a known customer's contact creates nothing of a new customer's", async () => {
        const first = await store.startContact(newContact(1));
        expect([first.duplicate, !first.duplicate && first.created]).to.deep.equal([false, true]);
        // A known identity: its customer, the message in their open conversation, none of the new customer's records.
        const known = await store.startContact({ ...newContact(2), identity: phone(1) });
        const message = messageRecord('msg_n2', 'cv_n1', {
          ...contactMessage('SM2'),
          author: { type: 'customer', id: 'cu_n1' },
        });
        expect(known).to.deep.equal({
          duplicate: false,
          created: false,
          blocked: false,
          customer: customerRecord('cu_n1', [phone(1)]),
          continued: {
            conversation: await conversationNow('cv_n1'),
            message,
            switched: false,
            inLine: true,
            owner: null,
          },
          latest: null,
        });
        expect(await store.getMessage('msg_n2')).to.deep.equal(message);
        // The same delivery again, even from an address nobody has yet: the message, and nothing created.
        const again = await store.startContact(newContact(3, { externalId: 'SM1' }));
        expect(again).to.deep.equal({
          duplicate: true,
          message: messageRecord('msg_n1', 'cv_n1', contactMessage('SM1')),
        });
        for (const n of [2, 3]) {
          expect(await store.getCustomer(`cu_n${n}`)).to.equal(null);
          expect(await store.getConversation(`cv_n${n}`)).to.equal(null);
        }
        expect(await store.getMessage('msg_n3')).to.equal(null);
        expect(ids(await store.listConversations({ customerId: 'cu_n1' }))).to.deep.equal(['cv_n1']);
        expect(ids(await store.listMessages('cv_n1'))).to.deep.equal(['msg_n1', 'msg_n2']);
        // The same external id on another channel is another message.
        const other = await store.startContact(newContact(4, { channel: 'chat', externalId: 'SM1' }));
        expect([other.duplicate, !other.duplicate && other.created]).to.deep.equal([false, true]);
      });

      it('startContact for a known customer with nothing open: the facts they lack learnt, their latest conversation, nothing else', async () => {
        const phoneFact = { value: '+14155550001', source: 'agent', at: T0 - HOUR };
        await store.resolveCustomer(
          phone(1),
          customerRecord('cu_1', [phone(1)], { facts: { phone: phoneFact } }),
        );
        const resolved = { status: 'resolved' as const, resolvedAt: T0 };
        await addConversation('cv_old', { customerId: 'cu_1', createdAt: T0 - 2 * HOUR, ...resolved });
        await addConversation('cv_last', { customerId: 'cu_1', createdAt: T0 - HOUR, ...resolved });
        await addCustomer('cu_9', phone(9));
        await addConversation('cv_else', { customerId: 'cu_9', createdAt: T0 });
        const taught = {
          phone: { value: '+14155550001', source: 'sms:from', at: T0 },
          name: { value: 'Ann', source: 'sms:from', at: T0 },
        };
        const contact = newContact(5);
        const started = await store.startContact({
          ...contact,
          identity: phone(1),
          customer: { ...contact.customer, facts: taught, name: 'Ann' },
          // Naming a conversation that is not theirs changes nothing.
          conversationId: 'cv_else',
        });
        const learnt = customerRecord('cu_1', [phone(1)], {
          facts: { phone: phoneFact, name: taught.name },
          name: 'Ann',
        });
        expect(started).to.deep.equal({
          duplicate: false,
          created: false,
          blocked: false,
          customer: learnt,
          continued: null,
          latest: await conversationNow('cv_last'),
        });
        expect(await store.getCustomer('cu_1')).to.deep.equal(learnt);
        await expectNothingOf(5);
        expect(ids(await store.listConversations({ customerId: 'cu_1' }))).to.deep.equal([
          'cv_old',
          'cv_last',
        ]);
        // Learning again changes nothing: a fact they have stays as it is.
        const later = await store.startContact({
          ...newContact(6),
          identity: phone(1),
          customer: {
            ...newContact(6).customer,
            facts: { name: { value: 'Anna', source: 'sms:from', at: T0 } },
            name: 'Anna',
          },
        });
        expect(!later.duplicate && !later.created && later.customer).to.deep.equal(learnt);
      });

      it('startContact for a known customer continues their open conversation: the message theirs, the conversation touched, its owner and place as they stand', async () => {
        await addAgent('ag_1');
        await store.resolveCustomer(phone(1), customerRecord('cu_1', [phone(1)], { name: 'Bea' }));
        await addWaiting('cv_wait', { customerId: 'cu_1', createdAt: T0 - HOUR });
        await addOwned('cv_owned', 'ag_1', { customerId: 'cu_1' });
        // Without a name, the one active last; it was last on chat.
        const sms = await store.startContact({
          ...newContact(1, { externalId: 'SMa' }),
          identity: phone(1),
          route: { ...newContact(1).route, now: T0 + MIN },
        });
        const owned = {
          ...(await conversationNow('cv_owned')),
          channels: ['chat' as const, 'sms' as const],
          lastChannel: 'sms' as const,
          lastContactAt: T0 + MIN,
        };
        const fromBea = (id: string, conversationId: string, extra: Partial<Message>) =>
          messageRecord(id, conversationId, {
            ...extra,
            author: { type: 'customer', id: 'cu_1', name: 'Bea' },
          });
        const first = fromBea('msg_n1', 'cv_owned', { ...contactMessage('SMa'), at: T0 });
        expect(sms).to.deep.equal({
          duplicate: false,
          created: false,
          blocked: false,
          // Its last owner, as owning it set.
          customer: customerRecord('cu_1', [phone(1)], { name: 'Bea', lastOwnerId: 'ag_1', lastOwnerAt: T0 }),
          continued: {
            conversation: owned,
            message: first,
            switched: true,
            inLine: false,
            owner: await agentNow('ag_1'),
          },
          latest: null,
        });
        expect(await conversationNow('cv_owned')).to.deep.equal(owned);
        expect(ids(await store.listMessages('cv_owned'))).to.deep.equal(['msg_n1']);
        expect(await store.findMessageByExternalId('sms', 'SMa')).to.deep.equal(first);
        // The conversation it names, when theirs and open: the one waiting, still in line, on the same channel.
        const named = await store.startContact({
          ...newContact(2, { channel: 'chat', externalId: 'CHb' }),
          identity: phone(1),
          conversationId: 'cv_wait',
        });
        const waiting = await conversationNow('cv_wait');
        expect(waiting.lastContactAt).to.equal(T0);
        expect(named).to.deep.include({ duplicate: false, created: false, latest: null });
        expect(!named.duplicate && !named.created && !named.blocked && named.continued).to.deep.equal({
          conversation: waiting,
          message: fromBea('msg_n2', 'cv_wait', contactMessage('CHb', 'chat')),
          switched: false,
          inLine: true,
          owner: null,
        });
        expect((await store.queueSnapshot('cv_wait'))?.position).to.equal(1);
        // The same delivery again: the stored message, nothing touched.
        const again = await store.startContact({
          ...newContact(3, { externalId: 'SMa' }),
          identity: phone(1),
          route: { ...newContact(3).route, now: T0 + HOUR },
        });
        expect(again).to.deep.equal({ duplicate: true, message: first });
        expect(await conversationNow('cv_owned')).to.deep.equal(owned);
        expect(await store.getMessage('msg_n3')).to.equal(null);
      });

      it('startContact for a known customer refuses a message id taken before anything is learnt or touched', async () => {
        await store.resolveCustomer(phone(1), customerRecord('cu_1', [phone(1)]));
        const open = await addWaiting('cv_1', { customerId: 'cu_1' });
        await store.appendMessage(messageRecord('msg_taken', 'cv_1'));
        const contact = newContact(1);
        const err = await failure(
          store.startContact({
            ...contact,
            identity: phone(1),
            customer: {
              ...contact.customer,
              facts: { name: { value: 'Cy', source: 'sms:from', at: T0 } },
              name: 'Cy',
            },
            first: { ...contact.first, id: 'msg_taken' },
            route: { ...contact.route, now: T0 + MIN },
          }),
        );
        expect(err.code).to.equal('duplicate_id');
        expect(await store.getCustomer('cu_1')).to.deep.equal(customerRecord('cu_1', [phone(1)]));
        expect(await conversationNow('cv_1')).to.deep.equal(open);
        expect(ids(await store.listMessages('cv_1'))).to.deep.equal(['msg_taken']);
        expect(await store.findMessageByExternalId('sms', contact.externalId)).to.equal(null);
      });

      it("startContact refuses, storing nothing: taken ids or identities, another customer's conversation, a message not the contact's", async () => {
        await addCustomer('cu_taken', phone(90));
        await store.createConversation(conversationRecord('cv_n1', 'cu_taken'));
        await store.appendMessage(messageRecord('msg_n2', 'cv_n1'));
        const taken = newContact(3);
        const cases: Array<[string, NewContact, string, string?]> = [
          ['its conversation id is taken', newContact(1), 'duplicate_id'],
          ['its message id is taken', newContact(2), 'duplicate_id'],
          [
            "the conversation is not the new customer's",
            { ...taken, customer: { ...taken.customer, id: 'cu_taken' } },
            'invalid_input',
            'conversation.customerId',
          ],
          [
            "the conversation is another customer's",
            { ...taken, conversation: { ...taken.conversation, customerId: 'cu_taken' } },
            'invalid_input',
            'conversation.customerId',
          ],
          [
            "the new customer's id is taken",
            {
              ...taken,
              customer: customerRecord('cu_taken'),
              conversation: { ...taken.conversation, customerId: 'cu_taken' },
            },
            'duplicate_id',
          ],
          [
            'another identity of theirs is taken',
            { ...taken, customer: customerRecord('cu_n3', [phone(90)]) },
            'identity_taken',
          ],
          [
            "the message is another contact's",
            { ...taken, first: { ...taken.first, externalId: 'SM9' } },
            'invalid_input',
            'first.externalId',
          ],
          [
            "the message is another conversation's",
            { ...taken, first: { ...taken.first, conversationId: 'cv_n1' } },
            'invalid_input',
            'conversationId',
          ],
        ];
        for (const [why, contact, code, field] of cases) {
          const err = await failure(store.startContact(contact));
          expect([err.code, err.field], why).to.deep.equal([code, field]);
        }
        await expectNothingOf(3);
        expect(await store.getCustomer('cu_n1')).to.equal(null);
        expect(await store.getCustomer('cu_n2')).to.equal(null);
        expect(await store.getMessage('msg_n1')).to.equal(null);
        expect(await store.getConversation('cv_n2')).to.equal(null);
        expect((await store.getConversation('cv_n1'))?.customerId).to.equal('cu_taken');
        expect(ids(await store.listMessages('cv_n1'))).to.deep.equal(['msg_n2']);
        // Nothing half-done: every identity is still free.
        const later = await store.startContact(newContact(3));
        expect([later.duplicate, !later.duplicate && later.created]).to.deep.equal([false, true]);
      });

      it('getCustomer returns null for an unknown id', async () => {
        expect(await store.getCustomer('cu_nobody')).to.equal(null);
      });

      it('records come back as copies: changing one changes nothing stored', async () => {
        const customer = await addCustomer('cu_1', phone(1));
        customer.identities.push(email('x'));
        customer.facts.name = { value: 'Mallory', source: 'test', at: T0 };
        const stored = await store.getCustomer('cu_1');
        expect(stored?.identities).to.deep.equal([phone(1)]);
        expect(stored?.facts).to.deep.equal({});

        const input = conversationRecord('cv_1', 'cu_1');
        await store.createConversation(input);
        input.channels.push('sms');
        const read = await conversationNow('cv_1');
        read.consultants.push('ag_x');
        expect((await conversationNow('cv_1')).channels).to.deep.equal(['chat']);
        expect((await conversationNow('cv_1')).consultants).to.deep.equal([]);
      });

      it('linkIdentity links a free identity once and reports one that another customer holds', async () => {
        await addCustomer('cu_1', phone(1));
        await addCustomer('cu_2', email('bob'));

        const taken = await store.linkIdentity('cu_1', email('bob'));
        expect(taken.takenBy).to.equal('cu_2');
        expect(taken.customer.identities).to.deep.equal([phone(1)]);
        expect((await store.resolveCustomer(email('bob'), customerRecord('cu_3'))).customer.id).to.equal(
          'cu_2',
        );

        const linked = await store.linkIdentity('cu_1', visitor('v1'));
        expect(linked.takenBy).to.equal(null);
        expect(linked.customer.identities).to.deep.equal([phone(1), visitor('v1')]);
        const found = await store.resolveCustomer(visitor('v1'), customerRecord('cu_4'));
        expect(found.created).to.equal(false);
        expect(found.customer.id).to.equal('cu_1');

        const again = await store.linkIdentity('cu_1', visitor('v1'));
        expect(again.takenBy).to.equal(null);
        expect(again.customer.identities).to.deep.equal([phone(1), visitor('v1')]);
      });

      it('linkIdentity on an unknown customer fails with not_found', async () => {
        expect((await failure(store.linkIdentity('cu_nobody', phone(9)))).code).to.equal('not_found');
      });

      it('recordFacts keeps the newer fact per key and sets the name when given', async () => {
        await addCustomer('cu_1');
        await store.recordFacts('cu_1', {
          email: { value: 'ada@example.com', source: 'chat:prechat', at: T0 + 10 * SEC },
        });
        const older = await store.recordFacts('cu_1', {
          email: { value: 'old@example.com', source: 'sms:from', at: T0 },
        });
        expect(older.facts.email).to.deep.equal({
          value: 'ada@example.com',
          source: 'chat:prechat',
          at: T0 + 10 * SEC,
        });
        expect(older.name).to.equal(undefined);

        const newer = await store.recordFacts(
          'cu_1',
          {
            email: { value: 'new@example.com', source: 'agent:ag_1', at: T0 + 20 * SEC },
            order: { value: 'A-42', source: 'agent:ag_1', at: T0 + 20 * SEC },
          },
          'Ada',
        );
        expect(newer.name).to.equal('Ada');
        expect(newer.facts).to.deep.equal({
          email: { value: 'new@example.com', source: 'agent:ag_1', at: T0 + 20 * SEC },
          order: { value: 'A-42', source: 'agent:ag_1', at: T0 + 20 * SEC },
        });
        expect(await store.getCustomer('cu_1')).to.deep.equal(newer);
      });

      it('recordFacts on an unknown customer fails with not_found', async () => {
        const err = await failure(store.recordFacts('cu_nobody', { a: { value: 'b', source: 'c', at: T0 } }));
        expect(err.code).to.equal('not_found');
      });

      it('addCustomerNote appends notes in order', async () => {
        await addCustomer('cu_1');
        await store.addCustomerNote('cu_1', { text: 'first', by: 'ag_1', at: T0 });
        const c = await store.addCustomerNote('cu_1', { text: 'second', by: 'system', at: T0 + SEC });
        expect(c.notes).to.deep.equal([
          { text: 'first', by: 'ag_1', at: T0 },
          { text: 'second', by: 'system', at: T0 + SEC },
        ]);
        expect((await store.getCustomer('cu_1'))?.notes).to.deep.equal(c.notes);
      });

      describe('mergeCustomers', () => {
        beforeEach(async () => {
          await addCustomer('cu_keep', phone(1));
          await store.recordFacts('cu_keep', {
            email: { value: 'keep@example.com', source: 'chat:prechat', at: T0 + 10 * SEC },
            tier: { value: 'gold', source: 'agent:ag_1', at: T0 + 50 * SEC },
          });
          await store.addCustomerNote('cu_keep', { text: 'keep note', by: 'ag_1', at: T0 });
          await addCustomer('cu_other', email('other'), visitor('v9'));
          await store.recordFacts(
            'cu_other',
            {
              email: { value: 'other@example.com', source: 'email:from', at: T0 + 20 * SEC },
              tier: { value: 'silver', source: 'agent:ag_2', at: T0 + 5 * SEC },
              order: { value: 'B-7', source: 'chat:prechat', at: T0 },
            },
            'Olga',
          );
          await store.addCustomerNote('cu_other', { text: 'other note', by: 'ag_2', at: T0 + SEC });
          await addConversation('cv_keep', { customerId: 'cu_keep', status: 'resolved', queuedAt: null });
          await addConversation('cv_open', {
            customerId: 'cu_other',
            createdAt: T0 + SEC,
            lastContactAt: T0 + 30 * SEC,
          });
          await addConversation('cv_done', {
            customerId: 'cu_other',
            createdAt: T0 + 2 * SEC,
            status: 'resolved',
            queuedAt: null,
          });
        });

        it('moves identities, facts, notes and conversations onto the kept customer', async () => {
          const merged = await store.mergeCustomers('cu_keep', 'cu_other', T0 + MIN);
          // The other's identities find the kept customer now.
          expect(await store.findCustomer(email('other'))).to.deep.equal(merged);
          expect((await store.findCustomer(visitor('v9')))?.id).to.equal('cu_keep');
          expect(merged.id).to.equal('cu_keep');
          expect(merged.name).to.equal('Olga');
          expect([...merged.identities].sort(byAddress)).to.deep.equal(
            [phone(1), email('other'), visitor('v9')].sort(byAddress),
          );
          expect(merged.facts).to.deep.equal({
            email: { value: 'other@example.com', source: 'email:from', at: T0 + 20 * SEC },
            tier: { value: 'gold', source: 'agent:ag_1', at: T0 + 50 * SEC },
            order: { value: 'B-7', source: 'chat:prechat', at: T0 },
          });
          const texts = merged.notes.map((n) => n.text);
          expect(texts.includes('keep note')).to.equal(true);
          expect(texts.includes('other note')).to.equal(true);
          // The values that lost are kept in notes: nothing is lost.
          expect(texts.some((t) => t.includes('keep@example.com'))).to.equal(true);
          expect(texts.some((t) => t.includes('silver'))).to.equal(true);

          const convs = await store.listConversations({ customerId: 'cu_keep' });
          expect(ids(convs)).to.deep.equal(['cv_keep', 'cv_open', 'cv_done']);
          expect(convs.map((c) => c.customerId)).to.deep.equal(['cu_keep', 'cu_keep', 'cu_keep']);
          expect((await store.openConversationOf('cu_keep'))?.id).to.equal('cv_open');
          expect((await conversationNow('cv_open')).customerId).to.equal('cu_keep');
        });

        it('lookups by a moved identity or the merged id reach the kept customer', async () => {
          await store.mergeCustomers('cu_keep', 'cu_other', T0 + MIN);
          const byEmail = await store.resolveCustomer(email('other'), customerRecord('cu_new'));
          expect(byEmail.created).to.equal(false);
          expect(byEmail.customer.id).to.equal('cu_keep');
          expect((await store.resolveCustomer(visitor('v9'), customerRecord('cu_new'))).customer.id).to.equal(
            'cu_keep',
          );
          expect((await store.getCustomer('cu_other'))?.id).to.equal('cu_keep');

          const viaOld = await store.recordFacts('cu_other', {
            city: { value: 'Oslo', source: 'agent:ag_1', at: T0 + 2 * MIN },
          });
          expect(viaOld.id).to.equal('cu_keep');
          expect((await store.getCustomer('cu_keep'))?.facts.city?.value).to.equal('Oslo');
          const noted = await store.addCustomerNote('cu_other', {
            text: 'late',
            by: 'ag_1',
            at: T0 + 3 * MIN,
          });
          expect(noted.id).to.equal('cu_keep');
          expect(noted.notes.at(-1)?.text).to.equal('late');
        });

        it('carries the newer last owner over', async () => {
          await addAgent('ag_1');
          await addOwned('cv_owned', 'ag_1', { customerId: 'cu_other' }, T0 + 40 * SEC);
          await store.resolve('cv_owned', T0 + 45 * SEC, null);
          const merged = await store.mergeCustomers('cu_keep', 'cu_other', T0 + MIN);
          expect(merged.lastOwnerId).to.equal('ag_1');
          expect(merged.lastOwnerAt).to.equal(T0 + 45 * SEC);
        });

        it('refuses to merge a customer into itself, also through an already merged id', async () => {
          expect((await failure(store.mergeCustomers('cu_keep', 'cu_keep', T0))).code).to.equal(
            'invalid_input',
          );
          const merged = await store.mergeCustomers('cu_keep', 'cu_other', T0 + MIN);
          const err = await failure(store.mergeCustomers('cu_keep', 'cu_other', T0 + 2 * MIN));
          expect(err.code).to.equal('invalid_input');
          expect(await store.getCustomer('cu_keep')).to.deep.equal(merged);
        });

        it('fails with not_found for an unknown customer', async () => {
          expect((await failure(store.mergeCustomers('cu_keep', 'cu_nobody', T0))).code).to.equal(
            'not_found',
          );
        });

        it('keeps a block of either customer on the kept one', async () => {
          const block = { at: T0 + SEC, by: 'ag_2', reason: 'abuse' };
          await store.setCustomerBlock('cu_other', block);
          const merged = await store.mergeCustomers('cu_keep', 'cu_other', T0 + MIN);
          expect(merged.blocked).to.deep.equal(block);
          // The other's identities are the kept customer's now, blocked with them.
          const refused = await store.startContact({ ...newContact(7), identity: visitor('v9') });
          expect(refused).to.deep.equal({
            duplicate: false,
            created: false,
            blocked: true,
            customer: merged,
          });
        });
      });

      describe('setCustomerBlock', () => {
        const block = { at: T0 + MIN, by: 'ag_1', reason: 'threats' };

        it("refuses the customer's contacts on any identity, storing and learning nothing, until lifted", async () => {
          const first = await store.startContact(newContact(1));
          expect(!first.duplicate && first.created).to.equal(true);
          await store.linkIdentity('cu_n1', email('n1'));
          const blocked = await store.setCustomerBlock('cu_n1', block);
          expect(blocked).to.deep.equal({ ...(await store.getCustomer('cu_n1')), blocked: block });
          expect(await store.getCustomer('cu_n1')).to.deep.equal(blocked);
          const before = await store.listMessages('cv_n1');
          const conversationBefore = await conversationNow('cv_n1');

          // By the phone, then by the email linked to them; what the contact would teach is not learnt.
          for (const identity of [phone(1), email('n1')]) {
            const contact = newContact(2);
            const refused = await store.startContact({
              ...contact,
              identity,
              customer: {
                ...contact.customer,
                name: 'Mallory',
                facts: { name: { value: 'Mallory', source: 'sms:profile', at: T0 } },
              },
            });
            expect(refused).to.deep.equal({
              duplicate: false,
              created: false,
              blocked: true,
              customer: blocked,
            });
          }
          await expectNothingOf(2);
          expect(await store.listMessages('cv_n1')).to.deep.equal(before);
          expect(await conversationNow('cv_n1')).to.deep.equal(conversationBefore);
          expect(await store.findMessageByExternalId('sms', 'SM2')).to.equal(null);
          expect(await store.getCustomer('cu_n1')).to.deep.equal(blocked);

          // Lifted: the next contact continues their open conversation as before.
          const lifted = await store.setCustomerBlock('cu_n1', null);
          expect(lifted.blocked).to.equal(undefined);
          expect('blocked' in lifted).to.equal(false);
          const back = await store.startContact({ ...newContact(3), identity: phone(1) });
          expect(
            !back.duplicate && !back.created && !back.blocked && back.continued?.conversation.id,
          ).to.equal('cv_n1');
        });

        it('a repeated delivery of a message stored before the block is still that message', async () => {
          await store.startContact(newContact(1));
          const stored = await store.getMessage('msg_n1');
          await store.setCustomerBlock('cu_n1', block);
          const again = await store.startContact(newContact(1));
          expect(again).to.deep.equal({ duplicate: true, message: stored });
        });

        it('lists the blocked customers, the latest blocked first, up to a limit; lifted or merged away, gone', async () => {
          for (const n of [1, 2, 3, 4]) await addCustomer(`cu_${n}`, phone(n));
          await store.setCustomerBlock('cu_1', { ...block, at: T0 + 1 * MIN });
          await store.setCustomerBlock('cu_3', { ...block, at: T0 + 3 * MIN });
          await store.setCustomerBlock('cu_2', { ...block, at: T0 + 2 * MIN });
          const listed = await store.listBlockedCustomers(10);
          expect(ids(listed)).to.deep.equal(['cu_3', 'cu_2', 'cu_1']);
          expect(listed[0]).to.deep.equal(await store.getCustomer('cu_3'));
          expect(ids(await store.listBlockedCustomers(2))).to.deep.equal(['cu_3', 'cu_2']);
          await store.setCustomerBlock('cu_2', null);
          // cu_1, blocked, merged into cu_4: cu_4 is listed with cu_1's block, cu_1 no longer.
          await store.mergeCustomers('cu_4', 'cu_1', T0 + 4 * MIN);
          const after = await store.listBlockedCustomers(10);
          expect(ids(after)).to.deep.equal(['cu_3', 'cu_4']);
          expect(after[1]!.blocked).to.deep.equal({ ...block, at: T0 + 1 * MIN });
          expect(await store.listBlockedCustomers(0)).to.deep.equal([]);
        });

        it('keeps the first block when blocked again, follows merges, and fails with not_found for nobody', async () => {
          await addCustomer('cu_1', phone(1));
          await store.setCustomerBlock('cu_1', block);
          const again = await store.setCustomerBlock('cu_1', {
            at: T0 + 2 * MIN,
            by: 'admin',
            reason: 'other',
          });
          expect(again.blocked).to.deep.equal(block);
          await addCustomer('cu_2', phone(2));
          await store.mergeCustomers('cu_1', 'cu_2', T0 + 3 * MIN);
          expect((await store.setCustomerBlock('cu_2', null)).id).to.equal('cu_1');
          expect((await store.getCustomer('cu_1'))?.blocked).to.equal(undefined);
          expect((await failure(store.setCustomerBlock('cu_nobody', block))).code).to.equal('not_found');
        });
      });

      describe('eraseCustomer', () => {
        /** Everything the store answers about customer n's records: nothing of it must be left. */
        const expectErased = async (
          customerIds: string[],
          conversationIds: string[],
          messageIds: string[],
        ) => {
          for (const id of customerIds) expect(await store.getCustomer(id), id).to.equal(null);
          for (const id of conversationIds) {
            expect(await store.getConversation(id), id).to.equal(null);
            expect(await store.listMessages(id), id).to.deep.equal([]);
            expect(await store.listPromises(id), id).to.deep.equal([]);
            expect(await store.wrapUp(id, T0), id).to.equal(null);
          }
          const kept = (await store.listWrapUps(T0 - MIN, 60 * MIN)).map((w) => w.conversation.id);
          expect(kept.filter((id) => conversationIds.includes(id))).to.deep.equal([]);
          for (const id of messageIds) expect(await store.getMessage(id), id).to.equal(null);
        };

        it('erases the customer, those merged into it and everything about them, and no one else', async () => {
          await addAgent('ag_1', { status: 'available' });
          await addAgent('ag_2', { status: 'available' });
          // cu_n1: an SMS answered and resolved (its survey due), a reply waiting to be sent, a promise, an email.
          await store.startContact(newContact(1));
          await store.appendMessage(
            messageRecord('msg_out1', 'cv_n1', {
              direction: 'out',
              channel: 'sms',
              author: { type: 'agent', id: 'ag_1' },
              externalId: 'SMout1',
              delivery: { state: 'pending', attempts: 0, at: T0 },
            }),
            { deliveryDueAt: T0 + HOUR },
          );
          await store.addPromise(promiseRecord('pr_1', 'cv_n1', { kind: 'agent', dueAt: T0 + HOUR }));
          await store.schedule({ kind: 'promise', ref: 'pr_1', dueAt: T0 + HOUR });
          await store.linkIdentity('cu_n1', email('n1'));
          await store.resolve('cv_n1', T0 + MIN, null, { surveyAt: T0 + HOUR });
          // cu_n2, with its own conversation handed from ag_1 to ag_2, merged into cu_n1 and blocked.
          await store.startContact(newContact(2));
          const owner = (await conversationNow('cv_n2')).ownerId!;
          const other = owner === 'ag_1' ? 'ag_2' : 'ag_1';
          await store.offerHandoff('cv_n2', owner, other, 'yours', T0 + 2 * MIN);
          await store.acceptHandoff('cv_n2', other, T0 + 2 * MIN);
          await store.resolve('cv_n2', T0 + 3 * MIN, null);
          await store.mergeCustomers('cu_n1', 'cu_n2', T0 + 4 * MIN);
          await store.setCustomerBlock('cu_n1', { at: T0 + 5 * MIN, by: 'admin', reason: '' });
          // cu_n3: someone else, who keeps everything.
          await store.startContact(newContact(3));
          await store.resolve('cv_n3', T0 + MIN, null, { surveyAt: T0 + 2 * HOUR });
          const kept = {
            customer: await store.getCustomer('cu_n3'),
            conversation: await store.getConversation('cv_n3'),
            messages: await store.listMessages('cv_n3'),
          };
          const messages = [...(await store.listMessages('cv_n1')), ...(await store.listMessages('cv_n2'))];
          await store.setWrapUp('cv_n1', { since: T0, dueAt: T0 + 2 * MIN }, HOUR);

          const erased = await store.eraseCustomer('cu_n2');
          expect(erased).to.deep.equal({
            customerIds: ['cu_n1', 'cu_n2'],
            conversationIds: ['cv_n1', 'cv_n2'],
            messages,
          });
          expect(ids(erased.messages)).to.deep.equal(['msg_n1', 'msg_out1', 'msg_n2']);

          await expectErased(['cu_n1', 'cu_n2'], ['cv_n1', 'cv_n2'], ['msg_n1', 'msg_out1', 'msg_n2']);
          for (const identity of [phone(1), phone(2), email('n1')]) {
            expect(await store.findCustomer(identity)).to.equal(null);
          }
          expect(await store.findMessageByExternalId('sms', 'SM1')).to.equal(null);
          expect(await store.findMessageByExternalId('sms', 'SMout1')).to.equal(null);
          expect(await store.getPromise('pr_1')).to.equal(null);
          expect(await store.listConversations({ customerId: 'cu_n1' })).to.deep.equal([]);
          expect(ids(await store.listConversations({}))).to.deep.equal(['cv_n3']);
          expect(ids(await store.listConversations({ status: 'resolved' }))).to.deep.equal(['cv_n3']);
          for (const agent of ['ag_1', 'ag_2']) {
            const theirs = ids(await store.conversationsTouchedBy(agent, 0));
            expect(
              theirs.filter((id) => id !== 'cv_n3'),
              agent,
            ).to.deep.equal([]);
            const owned = ids(await store.listConversations({ ownerId: agent }));
            expect(
              owned.filter((id) => id !== 'cv_n3'),
              agent,
            ).to.deep.equal([]);
          }
          expect(await store.listBlockedCustomers(10)).to.deep.equal([]);
          // Their timers went (the survey, the reply's send, the promise); cu_n3's survey stays.
          const due = await store.claimDueTimers(T0 + 3 * HOUR, 100);
          expect(due.map((t) => `${t.kind}:${t.ref}`)).to.deep.equal(['survey:cv_n3']);
          expect({
            customer: await store.getCustomer('cu_n3'),
            conversation: await store.getConversation('cv_n3'),
            messages: await store.listMessages('cv_n3'),
          }).to.deep.equal(kept);

          // Writing again, they are someone new: the same message id from the channel is a new message.
          const again = await store.startContact(newContact(1));
          expect(!again.duplicate && again.created).to.equal(true);
          expect(ids(await store.listMessages('cv_n1'))).to.deep.equal(['msg_n1']);
        });

        it('refuses while a conversation of theirs is open, erasing nothing, and answers not_found for nobody', async () => {
          await store.startContact(newContact(1));
          const customer = await store.getCustomer('cu_n1');
          const messages = await store.listMessages('cv_n1');
          const refused = await failure(store.eraseCustomer('cu_n1'));
          expect(refused.code).to.equal('open_conversation');
          expect(refused.status).to.equal(409);
          expect(refused.message).to.contain('cv_n1');
          expect(await store.getCustomer('cu_n1')).to.deep.equal(customer);
          expect(await store.listMessages('cv_n1')).to.deep.equal(messages);
          expect((await store.findCustomer(phone(1)))?.id).to.equal('cu_n1');
          expect((await failure(store.eraseCustomer('cu_nobody'))).code).to.equal('not_found');
          // A customer with no conversation at all.
          await addCustomer('cu_2', phone(2));
          expect(await store.eraseCustomer('cu_2')).to.deep.equal({
            customerIds: ['cu_2'],
            conversationIds: [],
            messages: [],
          });
          expect(await store.findCustomer(phone(2))).to.equal(null);
        });
      });

      describe('inactiveCustomers', () => {
        const customerAt = (id: string, n: number, at: number) =>
          store.resolveCustomer(phone(n), customerRecord(id, [], { createdAt: at }));
        const activity = async (before: number, limit = 100, after?: { lastActiveAt: number; id: string }) =>
          (await store.inactiveCustomers(before, limit, after)).map(
            (c) => `${c.id}@${(c.lastActiveAt - T0) / MIN}`,
          );

        it('a customer is active when created and at every message to or from them; the least recently active first, before a time, by pages', async () => {
          await customerAt('cu_a', 1, T0);
          await customerAt('cu_b', 2, T0 + MIN);
          await customerAt('cu_c', 3, T0 + 2 * MIN);
          await customerAt('cu_d', 4, T0 + 2 * MIN);
          await addConversation('cv_a', { customerId: 'cu_a' });
          await store.appendMessage(messageRecord('msg_a', 'cv_a', { at: T0 + 10 * MIN }));
          // An agent's reply counts too, and an earlier message does not take a later activity back.
          await addConversation('cv_b', { customerId: 'cu_b' });
          await store.appendMessage(
            messageRecord('msg_b', 'cv_b', {
              direction: 'out',
              author: { type: 'agent', id: 'ag_1' },
              at: T0 + 5 * MIN,
            }),
          );
          await store.appendMessage(messageRecord('msg_b0', 'cv_b', { at: T0 + 3 * MIN }));
          // A new customer's first contact: created, and their message.
          await store.startContact({
            ...newContact(5),
            customer: customerRecord('cu_n5', [], { createdAt: T0 + 20 * MIN }),
            first: messageRecord('msg_n5', 'cv_n5', { channel: 'sms', externalId: 'SM5', at: T0 + 21 * MIN }),
          });
          // A known customer's next message, on their open conversation.
          await store.startContact({
            ...newContact(5),
            externalId: 'SM5b',
            first: messageRecord('msg_n5b', 'cv_n5', {
              channel: 'sms',
              externalId: 'SM5b',
              at: T0 + 22 * MIN,
            }),
          });
          await store.startConversation(
            conversationRecord('cv_c', 'cu_c'),
            messageRecord('msg_c', 'cv_c', { at: T0 + 4 * MIN }),
          );

          expect(await activity(T0 + HOUR)).to.deep.equal([
            'cu_d@2',
            'cu_c@4',
            'cu_b@5',
            'cu_a@10',
            'cu_n5@22',
          ]);
          // Strictly before; equal times by id.
          expect(await activity(T0 + 5 * MIN)).to.deep.equal(['cu_d@2', 'cu_c@4']);
          await store.appendMessage(messageRecord('msg_c2', 'cv_c', { at: T0 + 2 * MIN }));
          await customerAt('cu_0', 6, T0 + 2 * MIN);
          expect(await activity(T0 + 3 * MIN)).to.deep.equal(['cu_0@2', 'cu_d@2']);
          // Pages: from the last one of the page before.
          const first = await store.inactiveCustomers(T0 + HOUR, 2);
          expect(first.map((c) => c.id)).to.deep.equal(['cu_0', 'cu_d']);
          expect(await activity(T0 + HOUR, 2, first[1])).to.deep.equal(['cu_c@4', 'cu_b@5']);
          expect(await activity(T0 + HOUR, 10, { lastActiveAt: T0 + 5 * MIN, id: 'cu_b' })).to.deep.equal([
            'cu_a@10',
            'cu_n5@22',
          ]);
          expect(await store.inactiveCustomers(T0 + HOUR, 0)).to.deep.equal([]);
          expect(await store.learnCustomerActivity(10)).to.equal(true);
        });

        it('a merged customer counts as the one kept, at the later activity of the two; blocked ones stay; erased ones go', async () => {
          await customerAt('cu_a', 1, T0);
          await customerAt('cu_b', 2, T0 + MIN);
          await customerAt('cu_c', 3, T0 + 2 * MIN);
          await addConversation('cv_a', { customerId: 'cu_a', status: 'abandoned', queuedAt: null });
          await store.appendMessage(messageRecord('msg_a', 'cv_a', { at: T0 + 10 * MIN }));
          await store.mergeCustomers('cu_b', 'cu_a', T0 + 11 * MIN);
          expect(await activity(T0 + HOUR)).to.deep.equal(['cu_c@2', 'cu_b@10']);
          // Merged into one active earlier: the kept one's own later activity stands.
          await store.mergeCustomers('cu_b', 'cu_c', T0 + 12 * MIN);
          expect(await activity(T0 + HOUR)).to.deep.equal(['cu_b@10']);
          // A message on a conversation that moved over counts for the kept one.
          await store.appendMessage(messageRecord('msg_a2', 'cv_a', { at: T0 + 30 * MIN }));
          expect(await activity(T0 + HOUR)).to.deep.equal(['cu_b@30']);
          await store.setCustomerBlock('cu_b', { at: T0 + 31 * MIN, by: 'admin', reason: '' });
          expect(await activity(T0 + HOUR)).to.deep.equal(['cu_b@30']);
          await customerAt('cu_d', 4, T0 + 40 * MIN);
          await store.eraseCustomer('cu_a');
          expect(await activity(T0 + HOUR)).to.deep.equal(['cu_d@40']);
          // Only when inactive since a time: one active at or after it is refused, and keeps everything.
          const refused = await failure(store.eraseCustomer('cu_d', { inactiveBefore: T0 + 40 * MIN }));
          expect([refused.code, refused.status]).to.deep.equal(['active', 409]);
          expect((await store.getCustomer('cu_d'))?.id).to.equal('cu_d');
          expect(
            (await store.eraseCustomer('cu_d', { inactiveBefore: T0 + 41 * MIN })).customerIds,
          ).to.deep.equal(['cu_d']);
          expect(await activity(T0 + HOUR)).to.deep.equal([]);
        });
      });
    });

    // ================================================================ agents

    describe('agents', () => {
      it('createAgent stores the agent; getAgent and listAgents return it', async () => {
        const input = agentRecord('ag_1', { skills: { billing: 3 }, slackUserId: 'U1' });
        expect(await store.createAgent(input)).to.deep.equal(input);
        expect(await store.getAgent('ag_1')).to.deep.equal(input);
        await addAgent('ag_2', { status: 'offline' });
        expect(ids(await store.listAgents()).sort()).to.deep.equal(['ag_1', 'ag_2']);
        expect(await store.getAgent('ag_nobody')).to.equal(null);
      });

      it('createAgent refuses a duplicate id', async () => {
        await addAgent('ag_1');
        expect((await failure(addAgent('ag_1'))).code).to.equal('duplicate_id');
      });

      it('updateAgent changes profile fields and leaves load and status alone', async () => {
        await addCustomer('cu_1');
        await addAgent('ag_1');
        await addOwned('cv_1', 'ag_1');
        const updated = await store.updateAgent('ag_1', {
          name: 'Grace',
          skills: { tech: 4 },
          capacity: { voice: 2, sms: 1, chat: 4, email: 0 },
          email: 'grace@example.com',
          lead: true,
        });
        expect(updated.name).to.equal('Grace');
        expect(updated.lead).to.equal(true);
        expect((await store.updateAgent('ag_1', { lead: false })).lead).to.equal(false);
        expect((await store.updateAgent('ag_1', { lead: true })).lead).to.equal(true);
        expect(updated.skills).to.deep.equal({ tech: 4 });
        expect(updated.capacity).to.deep.equal({ voice: 2, sms: 1, chat: 4, email: 0 });
        expect(updated.email).to.equal('grace@example.com');
        expect(updated.load).to.deep.equal({ voice: 0, sms: 0, chat: 1, email: 0 });
        expect(updated.status).to.equal('available');
        expect(await store.getAgent('ag_1')).to.deep.equal(updated);
        expect((await failure(store.updateAgent('ag_nobody', { name: 'x' }))).code).to.equal('not_found');
      });

      it('updateAgent takes a console address away with null, and leaves the ones not given', async () => {
        await addAgent('ag_1');
        await store.updateAgent('ag_1', {
          slackUserId: 'U0123ABCD',
          email: 'ada@example.com',
          phone: '+14155550100',
          clientIdentity: 'ada',
        });
        const updated = await store.updateAgent('ag_1', { slackUserId: null, phone: null, name: 'Ada L.' });
        expect(updated).to.not.have.property('slackUserId');
        expect(updated).to.not.have.property('phone');
        expect(updated.email).to.equal('ada@example.com');
        expect(updated.clientIdentity).to.equal('ada');
        expect(updated.name).to.equal('Ada L.');
        expect(await store.getAgent('ag_1')).to.deep.equal(updated);
        // Taking away what it does not have is no change.
        expect(await store.updateAgent('ag_1', { slackUserId: null })).to.deep.equal(updated);
      });

      it('updateAgent keeps the console token version, and a later status change or profile change keeps it', async () => {
        await addAgent('ag_1');
        expect((await store.getAgent('ag_1'))?.tokenVersion).to.equal(undefined);
        expect((await store.updateAgent('ag_1', { tokenVersion: 1 })).tokenVersion).to.equal(1);
        expect((await store.updateAgent('ag_1', { tokenVersion: 2 })).tokenVersion).to.equal(2);
        await store.setAgentStatus('ag_1', 'away', 'lunch', T0 + SEC);
        await store.updateAgent('ag_1', { name: 'Grace' });
        const agent = await store.getAgent('ag_1');
        expect(agent?.tokenVersion).to.equal(2);
        expect(agent?.name).to.equal('Grace');
        expect((await store.listAgents()).find((a) => a.id === 'ag_1')?.tokenVersion).to.equal(2);
      });

      it('one who left the team (leftAt) stays offline: any other status is refused, a coming back too, nothing changed', async () => {
        await addCustomer('cu_1');
        await addAgent('ag_1');
        await addWaiting('cv_1');
        await store.setAgentStatus('ag_1', 'offline', 'left the team', T0 + SEC);
        const left = await store.updateAgent('ag_1', { leftAt: T0 + SEC });
        expect(left.leftAt).to.equal(T0 + SEC);
        expect(await store.getAgent('ag_1')).to.deep.equal(left);
        for (const status of ['available', 'away'] as const) {
          const refused = await failure(store.setAgentStatus('ag_1', status, undefined, T0 + 2 * SEC));
          expect(refused.code).to.equal('invalid_state');
          expect(refused.message).to.equal('agent ag_1 left the team');
        }
        const back = await failure(store.comeBack('ag_1', undefined, T0 + 2 * SEC, ['voice'], RULES));
        expect(back.code).to.equal('invalid_state');
        expect(await store.getAgent('ag_1')).to.deep.equal(left);
        // Nothing was claimed for them.
        expect((await conversationNow('cv_1')).status).to.equal('queued');
        expect(await store.setAgentStatus('ag_1', 'offline', 'left the team', T0 + 3 * SEC)).to.deep.equal(
          left,
        );
      });

      it('updated skills and capacity take effect in routing', async () => {
        await addCustomer('cu_1');
        await addAgent('ag_1', { capacity: { voice: 0, sms: 0, chat: 0, email: 0 } });
        await addWaiting('cv_1', { skills: { tech: 2 } });
        expect(await store.claimNext('ag_1', T0 + SEC, RULES)).to.equal(null);
        await store.updateAgent('ag_1', {
          skills: { tech: 2 },
          capacity: { voice: 0, sms: 0, chat: 1, email: 0 },
        });
        expect((await store.claimNext('ag_1', T0 + 2 * SEC, RULES))?.conversation.id).to.equal('cv_1');
      });

      it('setAgentStatus tracks availability, idle time and the reason', async () => {
        await addAgent('ag_1', { status: 'offline' });
        const on = await store.setAgentStatus('ag_1', 'available', undefined, T0 + 5 * SEC);
        expect(on.status).to.equal('available');
        expect(on.availableSince).to.equal(T0 + 5 * SEC);
        expect(on.idleSince).to.equal(T0 + 5 * SEC);
        expect(on.statusReason).to.equal(undefined);

        const still = await store.setAgentStatus('ag_1', 'available', undefined, T0 + 9 * SEC);
        expect(still.availableSince).to.equal(T0 + 5 * SEC);
        expect(still.idleSince).to.equal(T0 + 5 * SEC);

        const away = await store.setAgentStatus('ag_1', 'away', 'lunch', T0 + 20 * SEC);
        expect(away.status).to.equal('away');
        expect(away.statusReason).to.equal('lunch');
        expect(away.availableSince).to.equal(undefined);

        const off = await store.setAgentStatus('ag_1', 'offline', undefined, T0 + 30 * SEC);
        expect(off.status).to.equal('offline');
        expect(off.statusReason).to.equal(undefined);
        expect(await store.getAgent('ag_1')).to.deep.equal(off);
        expect((await failure(store.setAgentStatus('ag_nobody', 'away', undefined, T0))).code).to.equal(
          'not_found',
        );
      });
    });

    // ================================================================ conversations and messages

    describe('conversations', () => {
      it('startOwned: a conversation an agent starts is theirs at once, holding their capacity; refused before anything is stored', async () => {
        await addCustomer('cu_o1', phone(91));
        await addCustomer('cu_o2', phone(92));
        await addAgent('ag_o1', { capacity: { voice: 0, sms: 1, chat: 0, email: 0 } });
        const started = await store.startOwned(
          conversationRecord('cv_o1', 'cu_o1', { lastChannel: 'sms', createdAt: T0 + MIN }),
          'ag_o1',
          T0 + MIN,
        );
        expect(started).to.include({
          status: 'assigned',
          ownerId: 'ag_o1',
          slotChannel: 'sms',
          assignedAt: T0 + MIN,
          firstAssignedAt: T0 + MIN,
          queuedAt: null,
        });
        expect(started.ownership).to.deep.equal([
          { from: null, to: 'ag_o1', reason: 'outbound', at: T0 + MIN },
        ]);
        expect(await store.getConversation('cv_o1')).to.deep.equal(started);
        expect((await agentNow('ag_o1')).load.sms).to.equal(1);
        expect((await store.openConversationOf('cu_o1'))?.id).to.equal('cv_o1');
        expect(ids(await store.listConversations({ ownerId: 'ag_o1', status: 'assigned' }))).to.deep.equal([
          'cv_o1',
        ]);
        expect(ids(await store.listAgentConversations('ag_o1'))).to.deep.equal(['cv_o1']);
        expect((await store.getCustomer('cu_o1'))?.lastOwnerId).to.equal('ag_o1');

        const refusals: Array<[() => Promise<unknown>, string]> = [
          [
            () => store.startOwned(conversationRecord('cv_o2', 'cu_o1', { lastChannel: 'sms' }), 'ag_o1', T0),
            'open_conversation',
          ],
          [
            () => store.startOwned(conversationRecord('cv_o2', 'cu_o2', { lastChannel: 'sms' }), 'ag_o1', T0),
            'no_capacity',
          ],
          [
            () => store.startOwned(conversationRecord('cv_o2', 'cu_o2', { lastChannel: 'sms' }), 'ag_ox', T0),
            'not_found',
          ],
          [
            () => store.startOwned(conversationRecord('cv_o1', 'cu_o2', { lastChannel: 'sms' }), 'ag_o1', T0),
            'duplicate_id',
          ],
          [
            () => store.startOwned(conversationRecord('cv_o2', 'cu_ox', { lastChannel: 'sms' }), 'ag_o1', T0),
            'not_found',
          ],
        ];
        for (const [attempt, code] of refusals) expect((await failure(attempt())).code).to.equal(code);
        expect(await store.getConversation('cv_o2')).to.equal(null);
        expect(await store.openConversationOf('cu_o2')).to.equal(null);
        expect((await agentNow('ag_o1')).load.sms).to.equal(1);

        // Resolved, the capacity comes back and the customer may be written to again.
        await store.resolve('cv_o1', T0 + 2 * MIN, null);
        expect((await agentNow('ag_o1')).load.sms).to.equal(0);
        const again = await store.startOwned(
          conversationRecord('cv_o2', 'cu_o1', { lastChannel: 'sms' }),
          'ag_o1',
          T0 + 3 * MIN,
        );
        expect(again.ownerId).to.equal('ag_o1');
      });

      beforeEach(async () => {
        await addCustomer('cu_1');
        await addCustomer('cu_2');
      });

      it('createConversation stores it; getConversation returns it or null', async () => {
        const input = conversationRecord('cv_1', 'cu_1', { skills: { billing: 2 }, priority: 3 });
        expect(await store.createConversation(input)).to.deep.equal(input);
        expect(await store.getConversation('cv_1')).to.deep.equal(input);
        expect(await store.getConversation('cv_nobody')).to.equal(null);
      });

      it('keeps the optional repeat, follow-up and survey fields as given', async () => {
        const input = conversationRecord('cv_1', 'cu_1', {
          repeatOf: 'cv_0',
          followUpOf: { conversationId: 'cv_0', promiseId: 'pr_9', agentId: 'ag_1' },
        });
        expect(await store.createConversation(input)).to.deep.equal(input);
        expect(await store.getConversation('cv_1')).to.deep.equal(input);
        const plain = await addConversation('cv_2');
        expect([plain.repeatOf, plain.followUpOf, plain.survey]).to.deep.equal([
          undefined,
          undefined,
          undefined,
        ]);
      });

      it('recordSurvey stores the survey whole (asked, then answered); an unknown conversation is not_found', async () => {
        await addConversation('cv_1', { status: 'resolved', queuedAt: null, resolvedAt: T0 });
        const asked = await store.recordSurvey('cv_1', { askedAt: T0 + MIN });
        expect(asked.survey).to.deep.equal({ askedAt: T0 + MIN });
        const answer = { askedAt: T0 + MIN, answeredAt: T0 + 5 * MIN, rating: 2, problem: 'the wait' };
        const answered = await store.recordSurvey('cv_1', answer);
        expect(answered.survey).to.deep.equal(answer);
        expect((await conversationNow('cv_1')).survey).to.deep.equal(answer);
        expect((await conversationNow('cv_1')).status).to.equal('resolved');
        expect((await failure(store.recordSurvey('cv_nobody', { askedAt: T0 }))).code).to.equal('not_found');
      });

      it('createConversation refuses a duplicate id and an unknown customer', async () => {
        await addConversation('cv_1');
        expect((await failure(addConversation('cv_1'))).code).to.equal('duplicate_id');
        expect((await failure(addConversation('cv_2', { customerId: 'cu_nobody' }))).code).to.equal(
          'not_found',
        );
      });

      it('openConversationOf picks the open conversation active last', async () => {
        await addConversation('cv_1', { lastContactAt: T0 + SEC });
        await addConversation('cv_2', { lastContactAt: T0 + 5 * SEC });
        await addConversation('cv_3', { lastContactAt: T0 + 9 * SEC, status: 'resolved', queuedAt: null });
        await addConversation('cv_4', { lastContactAt: T0 + 9 * SEC, status: 'abandoned', queuedAt: null });
        expect((await store.openConversationOf('cu_1'))?.id).to.equal('cv_2');
        await store.touchConversation('cv_1', 'sms', T0 + 10 * SEC);
        expect((await store.openConversationOf('cu_1'))?.id).to.equal('cv_1');
        expect(await store.openConversationOf('cu_2')).to.equal(null);
      });

      it('openConversationOf counts an assigned conversation as open', async () => {
        await addAgent('ag_1');
        await addOwned('cv_1', 'ag_1');
        expect((await store.openConversationOf('cu_1'))?.id).to.equal('cv_1');
        await store.resolve('cv_1', T0 + MIN, null);
        expect(await store.openConversationOf('cu_1')).to.equal(null);
      });

      it('listConversations filters by status, owner and customer, oldest first, keeping the last `limit`', async () => {
        await addAgent('ag_1');
        await addConversation('cv_1', { createdAt: T0 });
        await addOwned('cv_2', 'ag_1', { createdAt: T0 + SEC });
        await addOwned('cv_3', 'ag_1', { customerId: 'cu_2', createdAt: T0 + 2 * SEC });
        await store.resolve('cv_3', T0 + MIN, null);

        expect(ids(await store.listConversations({}))).to.deep.equal(['cv_1', 'cv_2', 'cv_3']);
        expect(ids(await store.listConversations({ status: 'queued' }))).to.deep.equal(['cv_1']);
        expect(ids(await store.listConversations({ ownerId: 'ag_1' }))).to.deep.equal(['cv_2', 'cv_3']);
        expect(ids(await store.listConversations({ ownerId: 'ag_1', status: 'assigned' }))).to.deep.equal([
          'cv_2',
        ]);
        expect(ids(await store.listConversations({ customerId: 'cu_1' }))).to.deep.equal(['cv_1', 'cv_2']);
        expect(ids(await store.listConversations({ customerId: 'cu_1', status: 'resolved' }))).to.deep.equal(
          [],
        );
        expect(ids(await store.listConversations({ limit: 2 }))).to.deep.equal(['cv_2', 'cv_3']);
        expect(ids(await store.listConversations({ limit: 0 }))).to.deep.equal(['cv_1', 'cv_2', 'cv_3']);
        // Created at or after a time (cv_1 at T0, cv_2 a second later, cv_3 two).
        const since = (createdSince: number, query = {}) =>
          store.listConversations({ ...query, createdSince, limit: 0 }).then(ids);
        expect(await since(T0 + SEC)).to.deep.equal(['cv_2', 'cv_3']);
        expect(await since(T0 + SEC + 1)).to.deep.equal(['cv_3']);
        expect(await since(T0 + 3 * SEC)).to.deep.equal([]);
        expect(await since(T0 + SEC, { ownerId: 'ag_1' })).to.deep.equal(['cv_2', 'cv_3']);
        expect(await since(T0, { status: 'queued' })).to.deep.equal(['cv_1']);
        expect(await since(T0 + SEC, { customerId: 'cu_1' })).to.deep.equal(['cv_2']);
        expect(ids(await store.listConversations({ createdSince: T0, limit: 1 }))).to.deep.equal(['cv_3']);
        expect(ids(await store.listConversations({ status: 'queued', limit: 0 }))).to.deep.equal(['cv_1']);
        expect(ids(await store.listConversations({ ownerId: 'ag_nobody' }))).to.deep.equal([]);
      });

      it('listConversations pages back from a conversation (createdBefore), equal times going by id', async () => {
        await addAgent('ag_1');
        await addConversation('cv_1', { createdAt: T0 });
        await addConversation('cv_3', { createdAt: T0 + SEC });
        await addConversation('cv_2', { createdAt: T0 + SEC });
        await addOwned('cv_4', 'ag_1', { createdAt: T0 + 2 * SEC });
        await addConversation('cv_5', { createdAt: T0 + 3 * SEC });
        const page = (createdBefore: { at: number; id: string } | undefined, query = {}) =>
          store
            .listConversations({ ...query, ...(createdBefore ? { createdBefore } : {}), limit: 2 })
            .then(ids);
        // Newest two, then the two before the oldest of those, and so on: every one once.
        expect(await page(undefined)).to.deep.equal(['cv_4', 'cv_5']);
        expect(await page({ at: T0 + 2 * SEC, id: 'cv_4' })).to.deep.equal(['cv_2', 'cv_3']);
        expect(await page({ at: T0 + SEC, id: 'cv_2' })).to.deep.equal(['cv_1']);
        expect(await page({ at: T0, id: 'cv_1' })).to.deep.equal([]);
        // The same second, a later id: the one with the lower id is before it.
        expect(await page({ at: T0 + SEC, id: 'cv_3' })).to.deep.equal(['cv_1', 'cv_2']);
        // With the other filters and a lower bound.
        expect(await page({ at: T0 + 3 * SEC, id: 'cv_5' }, { status: 'queued' })).to.deep.equal([
          'cv_2',
          'cv_3',
        ]);
        expect(await page({ at: T0 + 3 * SEC, id: 'cv_5' }, { ownerId: 'ag_1' })).to.deep.equal(['cv_4']);
        expect(await page({ at: T0 + 3 * SEC, id: 'cv_5' }, { createdSince: T0 + SEC })).to.deep.equal([
          'cv_3',
          'cv_4',
        ]);
        expect(await page({ at: T0 + 2 * SEC, id: 'cv_4' }, { createdSince: T0 + SEC })).to.deep.equal([
          'cv_2',
          'cv_3',
        ]);
        expect(
          ids(await store.listConversations({ createdBefore: { at: T0 + 2 * SEC, id: 'cv_4' }, limit: 0 })),
        ).to.deep.equal(['cv_1', 'cv_2', 'cv_3']);
      });

      it('touchConversation records the channel once and makes it the last one', async () => {
        await addConversation('cv_1');
        const t1 = await store.touchConversation('cv_1', 'sms', T0 + 30 * SEC);
        expect(t1.channels).to.deep.equal(['chat', 'sms']);
        expect(t1.lastChannel).to.equal('sms');
        expect(t1.lastContactAt).to.equal(T0 + 30 * SEC);
        const t2 = await store.touchConversation('cv_1', 'chat', T0 + 40 * SEC);
        expect(t2.channels).to.deep.equal(['chat', 'sms']);
        expect(t2.lastChannel).to.equal('chat');
        expect(t2.lastContactAt).to.equal(T0 + 40 * SEC);
        expect(await store.getConversation('cv_1')).to.deep.equal(t2);
        expect((await failure(store.touchConversation('cv_nobody', 'sms', T0))).code).to.equal('not_found');
      });
    });

    describe('messages', () => {
      beforeEach(async () => {
        await addCustomer('cu_1');
        await addConversation('cv_1');
        await addConversation('cv_2');
      });

      it('appendMessage stores a message once per (channel, externalId)', async () => {
        const first = await store.appendMessage(messageRecord('msg_1', 'cv_1', { externalId: 'ext-1' }));
        expect(first.duplicate).to.equal(false);
        expect(first.message.id).to.equal('msg_1');

        const repeat = await store.appendMessage(
          messageRecord('msg_2', 'cv_1', { externalId: 'ext-1', text: 'the retry' }),
        );
        expect(repeat.duplicate).to.equal(true);
        expect(repeat.message.id).to.equal('msg_1');
        expect(repeat.message.text).to.equal('text of msg_1');

        const otherChannel = await store.appendMessage(
          messageRecord('msg_3', 'cv_1', { externalId: 'ext-1', channel: 'sms' }),
        );
        expect(otherChannel.duplicate).to.equal(false);

        // Without an externalId every message is stored.
        expect((await store.appendMessage(messageRecord('msg_4', 'cv_1'))).duplicate).to.equal(false);
        expect((await store.appendMessage(messageRecord('msg_5', 'cv_1'))).duplicate).to.equal(false);

        expect(ids(await store.listMessages('cv_1'))).to.deep.equal(['msg_1', 'msg_3', 'msg_4', 'msg_5']);
        expect((await store.findMessageByExternalId('chat', 'ext-1'))?.id).to.equal('msg_1');
        expect((await store.findMessageByExternalId('sms', 'ext-1'))?.id).to.equal('msg_3');
        expect(await store.findMessageByExternalId('email', 'ext-1')).to.equal(null);
      });

      it('appendMessage schedules its delivery timer in the same step; a repeat schedules nothing', async () => {
        const out = (id: string, externalId?: string) =>
          messageRecord(id, 'cv_1', {
            direction: 'out',
            channel: 'sms',
            delivery: { state: 'pending', attempts: 0, at: T0 },
            ...(externalId ? { externalId } : {}),
          });
        await store.appendMessage(out('msg_1', 'wait-ack:1'), { deliveryDueAt: T0 + 2 * MIN });
        const repeat = await store.appendMessage(out('msg_2', 'wait-ack:1'), { deliveryDueAt: T0 + MIN });
        expect(repeat.duplicate).to.equal(true);
        await store.appendMessage(out('msg_3'));
        expect(await store.claimDueTimers(T0 + MIN, 10)).to.deep.equal([]);
        expect(await store.claimDueTimers(T0 + 2 * MIN, 10)).to.deep.equal([
          { kind: 'delivery', ref: 'msg_1', dueAt: T0 + 2 * MIN },
        ]);
        // Refused (its conversation is unknown): nothing stored, nothing scheduled.
        const refused = store.appendMessage(messageRecord('msg_4', 'cv_nobody'), { deliveryDueAt: T0 + MIN });
        expect((await failure(refused)).code).to.equal('not_found');
        expect(await store.claimDueTimers(T0 + HOUR, 10)).to.deep.equal([]);
      });

      it('listMessages keeps append order per conversation', async () => {
        await store.appendMessage(messageRecord('msg_b', 'cv_1', { at: T0 + 2 * SEC }));
        await store.appendMessage(messageRecord('msg_x', 'cv_2'));
        await store.appendMessage(messageRecord('msg_a', 'cv_1', { at: T0 + 3 * SEC, direction: 'out' }));
        await store.appendMessage(
          messageRecord('msg_c', 'cv_1', { at: T0 + 4 * SEC, direction: 'internal' }),
        );
        expect(ids(await store.listMessages('cv_1'))).to.deep.equal(['msg_b', 'msg_a', 'msg_c']);
        expect(ids(await store.listMessages('cv_2'))).to.deep.equal(['msg_x']);
        expect(await store.listMessages('cv_nobody')).to.deep.equal([]);
      });

      it('getMessage returns the stored message or null', async () => {
        const input = messageRecord('msg_1', 'cv_1', {
          subject: 'Re: order',
          attachments: [{ name: 'a.pdf', type: 'application/pdf', size: 10 }],
          author: { type: 'agent', id: 'ag_1', name: 'Grace' },
          externalId: 'ext-9',
        });
        await store.appendMessage(input);
        expect(await store.getMessage('msg_1')).to.deep.equal(input);
        expect(await store.getMessage('msg_nobody')).to.equal(null);
      });

      it('startConversation stores a conversation with its first message in one step', async () => {
        const conv = conversationRecord('cv_3', 'cu_1', { lastChannel: 'sms' });
        const first = messageRecord('msg_1', 'cv_3', { channel: 'sms', externalId: 'SM1' });
        const started = await store.startConversation(conv, first);
        expect(started).to.deep.equal({ duplicate: false, conversation: conv, message: first });
        expect(await store.getConversation('cv_3')).to.deep.equal(conv);
        expect(ids(await store.listMessages('cv_3'))).to.deep.equal(['msg_1']);
        expect((await store.findMessageByExternalId('sms', 'SM1'))?.id).to.equal('msg_1');
        expect(ids(await store.listConversations({ customerId: 'cu_1' }))).to.include('cv_3');
        expect((await store.openConversationOf('cu_1'))?.id).to.be.a('string');
        // A message without an external id starts one too.
        const plain = await store.startConversation(
          conversationRecord('cv_4', 'cu_1'),
          messageRecord('msg_2', 'cv_4'),
        );
        expect([plain.duplicate, plain.conversation?.id, plain.message.id]).to.deep.equal([
          false,
          'cv_4',
          'msg_2',
        ]);
      });

      it('startConversation of a repeated delivery creates nothing and returns the stored message', async () => {
        await store.appendMessage(messageRecord('msg_1', 'cv_1', { channel: 'sms', externalId: 'SM1' }));
        const again = await store.startConversation(
          conversationRecord('cv_3', 'cu_1', { lastChannel: 'sms' }),
          messageRecord('msg_2', 'cv_3', { channel: 'sms', externalId: 'SM1', text: 'the retry' }),
        );
        expect(again.duplicate).to.equal(true);
        expect(again.conversation).to.equal(null);
        expect([again.message.id, again.message.conversationId, again.message.text]).to.deep.equal([
          'msg_1',
          'cv_1',
          'text of msg_1',
        ]);
        expect(await store.getConversation('cv_3')).to.equal(null);
        expect(await store.getMessage('msg_2')).to.equal(null);
        expect(ids(await store.listConversations({ customerId: 'cu_1' }))).to.deep.equal(['cv_1', 'cv_2']);
      });

      it('startConversation refuses, storing nothing: a taken conversation or message id, an unknown customer, a message of another conversation', async () => {
        await store.appendMessage(messageRecord('msg_1', 'cv_1'));
        const refused = async (conv: Conversation, first: Message, code: string, field?: string) => {
          const err = await failure(store.startConversation(conv, first));
          expect([err.code, err.field]).to.deep.equal([code, field]);
          // msg_1 was stored before: the others must not be.
          if (first.id !== 'msg_1') expect(await store.getMessage(first.id)).to.equal(null);
        };
        await refused(conversationRecord('cv_1', 'cu_1'), messageRecord('msg_9', 'cv_1'), 'duplicate_id');
        await refused(conversationRecord('cv_5', 'cu_1'), messageRecord('msg_1', 'cv_5'), 'duplicate_id');
        await refused(conversationRecord('cv_6', 'cu_nobody'), messageRecord('msg_8', 'cv_6'), 'not_found');
        await refused(
          conversationRecord('cv_7', 'cu_1'),
          messageRecord('msg_7', 'cv_2'),
          'invalid_input',
          'conversationId',
        );
        for (const id of ['cv_5', 'cv_6', 'cv_7']) expect(await store.getConversation(id)).to.equal(null);
        expect(ids(await store.listMessages('cv_1'))).to.deep.equal(['msg_1']);
        expect(ids(await store.listMessages('cv_2'))).to.deep.equal([]);
        expect(ids(await store.listConversations({ customerId: 'cu_1' }))).to.deep.equal(['cv_1', 'cv_2']);
      });

      it('appendMessage refuses an unknown conversation and a reused message id', async () => {
        expect((await failure(store.appendMessage(messageRecord('msg_1', 'cv_nobody')))).code).to.equal(
          'not_found',
        );
        await store.appendMessage(messageRecord('msg_1', 'cv_1'));
        expect((await failure(store.appendMessage(messageRecord('msg_1', 'cv_2')))).code).to.equal(
          'duplicate_id',
        );
      });

      it('updateDelivery replaces the delivery state', async () => {
        await store.appendMessage(
          messageRecord('msg_1', 'cv_1', {
            direction: 'out',
            delivery: { state: 'pending', attempts: 0, at: T0 },
          }),
        );
        const failed = { state: 'failed', reason: 'carrier rejected', attempts: 1, at: T0 + SEC } as const;
        expect(await store.updateDelivery('msg_1', failed)).to.deep.include({ applied: true });
        expect((await store.getMessage('msg_1'))?.delivery).to.deep.equal(failed);
        const sent = { state: 'sent', attempts: 2, at: T0 + 2 * SEC } as const;
        await store.updateDelivery('msg_1', sent);
        expect((await store.getMessage('msg_1'))?.delivery).to.deep.equal(sent);
        expect((await failure(store.updateDelivery('msg_nobody', sent))).code).to.equal('not_found');
      });

      it('updateDelivery never takes a delivered message back to sent or pending (reports arrive out of order)', async () => {
        await store.appendMessage(
          messageRecord('msg_1', 'cv_1', {
            direction: 'out',
            delivery: { state: 'pending', attempts: 0, at: T0 },
          }),
        );
        const delivered = { state: 'delivered', attempts: 1, at: T0 + SEC } as const;
        await store.updateDelivery('msg_1', delivered);
        // A late "sent" (another process, or a carrier's callbacks out of order) changes nothing.
        const late = await store.updateDelivery('msg_1', { state: 'sent', attempts: 2, at: T0 + 2 * SEC });
        expect([late.applied, late.message.delivery]).to.deep.equal([false, delivered]);
        await store.updateDelivery('msg_1', { state: 'pending', attempts: 2, at: T0 + 3 * SEC });
        expect((await store.getMessage('msg_1'))?.delivery).to.deep.equal(delivered);
        // A failure is news (a bounce after the hand-over): it applies.
        const bounced = { state: 'failed', reason: 'bounced', attempts: 1, at: T0 + 4 * SEC } as const;
        expect((await store.updateDelivery('msg_1', bounced)).message.delivery).to.deep.equal(bounced);
      });

      it('updateDelivery refuses the report of an older attempt once a later attempt began; it sets or cancels the delivery timer when it applies', async () => {
        await store.appendMessage(
          messageRecord('msg_1', 'cv_1', {
            direction: 'out',
            channel: 'sms',
            delivery: { state: 'pending', attempts: 0, at: T0 },
          }),
          { deliveryDueAt: T0 + 2 * MIN },
        );
        const due = async () =>
          (await store.claimDueTimers(T0 + HOUR, 10)).map((x) => `${x.kind}:${x.ref}@${x.dueAt}`);
        // Attempt 1 failed: its retry is due in 30 s.
        const failed = { state: 'failed', reason: 'busy', attempts: 1, at: T0 + SEC } as const;
        const first = await store.updateDelivery('msg_1', failed, {
          ifAttemptsAtMost: 1,
          timer: T0 + 31 * SEC,
        });
        expect(first.applied).to.equal(true);
        // Attempt 2 begins (only once: a second process beginning it too is refused).
        const begin = { ...failed, attempts: 2 };
        expect(
          (await store.updateDelivery('msg_1', begin, { ifAttemptsAtMost: 1, timer: T0 + 3 * MIN })).applied,
        ).to.equal(true);
        const again = await store.updateDelivery('msg_1', begin, {
          ifAttemptsAtMost: 1,
          timer: T0 + 4 * MIN,
        });
        expect([again.applied, again.message.delivery]).to.deep.equal([false, begin]);
        // A repeated report of attempt 1 is old news: nothing changes, its timer stays.
        const stale = await store.updateDelivery(
          'msg_1',
          { ...failed, at: T0 + 40 * SEC },
          { ifAttemptsAtMost: 1, timer: T0 + MIN },
        );
        expect(stale.applied).to.equal(false);
        expect(await due()).to.deep.equal([`delivery:msg_1@${T0 + 3 * MIN}`]);
        // Attempt 2 went out: its timer goes.
        const sent = { state: 'sent', attempts: 2, at: T0 + 41 * SEC } as const;
        expect(
          (await store.updateDelivery('msg_1', sent, { ifAttemptsAtMost: 2, timer: null })).applied,
        ).to.equal(true);
        expect(await due()).to.deep.equal([]);
        expect((await store.getMessage('msg_1'))?.delivery).to.deep.equal(sent);
      });
    });

    // ================================================================ routing decisions

    describe('route', () => {
      beforeEach(async () => {
        await addCustomer('cu_1');
      });

      it('startContact creates a new customer, starts their conversation and routes it, in one step', async () => {
        await addAgent('ag_1', { capacity: { voice: 1, sms: 1, chat: 1, email: 1 } });
        const first = await store.startContact(newContact(1));
        if (first.duplicate || !first.created) throw new Error('expected a new customer');
        expect(first.customer).to.deep.equal(customerRecord('cu_n1', [phone(1)]));
        expect(first.message).to.deep.equal(messageRecord('msg_n1', 'cv_n1', contactMessage('SM1')));
        expect(first.outcome.type).to.equal('assigned');
        if (first.outcome.type !== 'assigned') return;
        expect([first.outcome.agentId, first.outcome.reason, first.outcome.previousOwnerId]).to.deep.equal([
          'ag_1',
          'routed',
          null,
        ]);
        expect(first.outcome.conversation).to.deep.equal(await conversationNow('cv_n1'));
        expect([first.outcome.conversation.ownerId, first.outcome.conversation.slotChannel]).to.deep.equal([
          'ag_1',
          'sms',
        ]);
        expect(await store.getCustomer('cu_n1')).to.deep.equal({
          ...first.customer,
          lastOwnerId: 'ag_1',
          lastOwnerAt: T0,
        });
        expect((await store.findMessageByExternalId('sms', 'SM1'))?.id).to.equal('msg_n1');
        expect(ids(await store.listMessages('cv_n1'))).to.deep.equal(['msg_n1']);
        expect((await store.openConversationOf('cu_n1'))?.id).to.equal('cv_n1');
        expect((await agentNow('ag_1')).load.sms).to.equal(1);

        // Nobody free on SMS: it waits in line, where the agent's next free slot finds it.
        const second = await store.startContact(newContact(2));
        if (second.duplicate || !second.created) throw new Error('expected a new customer');
        expect(second.outcome.type).to.equal('queued');
        expect(second.outcome.conversation).to.deep.equal(await conversationNow('cv_n2'));
        expect(await store.getCustomer('cu_n2')).to.deep.equal(customerRecord('cu_n2', [phone(2)]));
        const { claims } = await store.resolve('cv_n1', T0 + MIN, null, { fill: RULES });
        expect(claims.map((c) => [c.type, c.conversation.id])).to.deep.equal([['assigned', 'cv_n2']]);

        // A ringing channel: offered, its timer set.
        const call = await store.startContact(
          newContact(3, { channel: 'voice', externalId: 'CA3', mode: ring(T0 + 20 * SEC) }),
        );
        if (call.duplicate || !call.created) throw new Error('expected a new customer');
        expect([call.outcome.type, call.outcome.type === 'offered' && call.outcome.agentId]).to.deep.equal([
          'offered',
          'ag_1',
        ]);
        expect((await conversationNow('cv_n3')).offer?.expiresAt).to.equal(T0 + 20 * SEC);
      });

      it('assign: the first candidate agent who is available with capacity takes ownership', async () => {
        await addAgent('ag_away', { status: 'away' });
        await addAgent('ag_1', { idleSince: T0 + 30 * SEC });
        await addAgent('ag_2', { idleSince: T0 });
        await addConversation('cv_1');
        const out = await route('cv_1', [one('ag_away'), one('ag_1'), pool()], { now: T0 + MIN });
        expect(out.type).to.equal('assigned');
        if (out.type !== 'assigned') return;
        expect(out.agentId).to.equal('ag_1');
        expect(out.reason).to.equal('last_owner');
        expect(out.previousOwnerId).to.equal(null);
        const c = out.conversation;
        expect(c.status).to.equal('assigned');
        expect(c.ownerId).to.equal('ag_1');
        expect(c.slotChannel).to.equal('chat');
        expect(c.assignedAt).to.equal(T0 + MIN);
        expect(c.firstAssignedAt).to.equal(T0 + MIN);
        expect(c.queuedAt).to.equal(null);
        expect(c.ownership).to.deep.equal([{ from: null, to: 'ag_1', reason: 'last_owner', at: T0 + MIN }]);
        expect(await conversationNow('cv_1')).to.deep.equal(c);

        const a = await agentNow('ag_1');
        expect(a.load).to.deep.equal({ voice: 0, sms: 0, chat: 1, email: 0 });
        expect(a.idleSince).to.equal(T0 + MIN);
        expect((await agentNow('ag_2')).load.chat).to.equal(0);
        const customer = await store.getCustomer('cu_1');
        expect(customer?.lastOwnerId).to.equal('ag_1');
        expect(customer?.lastOwnerAt).to.equal(T0 + MIN);
        expect(await store.queueSnapshot('cv_1')).to.equal(null);
      });

      it('offer: rings the agent, holds their capacity, and gives no ownership yet', async () => {
        await addAgent('ag_1');
        await addConversation('cv_1', { lastChannel: 'voice', channels: ['voice'] });
        await addConversation('cv_2', { lastChannel: 'voice', channels: ['voice'], createdAt: T0 + SEC });
        const out = await route('cv_1', [pool()], { mode: ring(T0 + 20 * SEC) });
        expect(out.type).to.equal('offered');
        if (out.type !== 'offered') return;
        expect(out.agentId).to.equal('ag_1');
        expect(out.reason).to.equal('routed');
        expect(out.conversation.status).to.equal('queued');
        expect(out.conversation.ownerId).to.equal(null);
        expect(out.conversation.offer).to.deep.equal({
          agentId: 'ag_1',
          channel: 'voice',
          at: T0,
          expiresAt: T0 + 20 * SEC,
          reason: 'routed',
        });
        expect((await agentNow('ag_1')).load.voice).to.equal(1);

        // Capacity is held: the next call waits; the ringing one is not routed twice.
        expect((await route('cv_2', [pool()], { mode: ring(T0 + 21 * SEC), now: T0 + SEC })).type).to.equal(
          'queued',
        );
        expect(
          (await route('cv_1', [pool()], { mode: ring(T0 + 22 * SEC), now: T0 + 2 * SEC })).type,
        ).to.equal('skipped');
        expect((await conversationNow('cv_1')).offer?.expiresAt).to.equal(T0 + 20 * SEC);
      });

      it('cover: a colleague answers for the owner, who stays owner and never covers themselves', async () => {
        await addAgent('ag_1', { idleSince: T0 - MIN });
        await addAgent('ag_2');
        await addOwned('cv_1', 'ag_1');
        await store.touchConversation('cv_1', 'voice', T0 + MIN);
        await store.setWaitingForOwner('cv_1', T0 + MIN);
        const out = await route('cv_1', [one('ag_1', 'owner'), pool()], {
          mode: { type: 'cover' },
          now: T0 + MIN,
          channel: 'voice',
        });
        expect(out.type).to.equal('covered');
        if (out.type !== 'covered') return;
        expect(out.agentId).to.equal('ag_2');
        expect(out.conversation.ownerId).to.equal('ag_1');
        expect(out.conversation.status).to.equal('assigned');
        expect(out.conversation.cover).to.deep.equal({ agentId: 'ag_2', channel: 'voice', since: T0 + MIN });
        expect(out.conversation.waitingForOwnerSince).to.equal(null);
        expect((await agentNow('ag_2')).load).to.deep.equal({ voice: 1, sms: 0, chat: 0, email: 0 });
        expect((await agentNow('ag_1')).load).to.deep.equal({ voice: 0, sms: 0, chat: 1, email: 0 });

        expect((await route('cv_1', [pool()], { mode: { type: 'cover' }, channel: 'voice' })).type).to.equal(
          'skipped',
        );

        const ended = await store.endCover('cv_1', T0 + 2 * MIN);
        expect(ended.agentId).to.equal('ag_2');
        expect(ended.conversation.cover).to.equal(null);
        expect(ended.conversation.ownerId).to.equal('ag_1');
        expect((await agentNow('ag_2')).load.voice).to.equal(0);
        expect((await store.endCover('cv_1', T0 + 3 * MIN)).agentId).to.equal(null);
      });

      it('cover: with nobody free the owned conversation waits in line and keeps its owner', async () => {
        await addAgent('ag_1');
        await addOwned('cv_1', 'ag_1');
        await store.setAgentStatus('ag_1', 'away', undefined, T0 + SEC);
        await store.touchConversation('cv_1', 'voice', T0 + MIN);
        await store.setWaitingForOwner('cv_1', T0 + MIN);
        const out = await route('cv_1', [pool()], { mode: { type: 'cover' }, now: T0 + MIN });
        expect(out.type).to.equal('queued');
        expect(out.conversation.status).to.equal('assigned');
        expect(out.conversation.ownerId).to.equal('ag_1');
        expect(out.conversation.cover).to.equal(null);
        expect((await store.queueSnapshot('cv_1'))?.position).to.equal(1);
        // The owner coming back clears the wait and takes it out of line.
        const cleared = await store.setWaitingForOwner('cv_1', null);
        expect(cleared.waitingForOwnerSince).to.equal(null);
        expect(await store.queueSnapshot('cv_1')).to.equal(null);
      });

      it('queues when nobody is free, and reports the place in line', async () => {
        await addAgent('ag_1', { status: 'away' });
        await addConversation('cv_1');
        const out = await route('cv_1', [one('ag_1'), pool()]);
        expect(out.type).to.equal('queued');
        expect(out.conversation.status).to.equal('queued');
        expect(out.conversation.ownerId).to.equal(null);
        expect(await store.queueSnapshot('cv_1')).to.deep.include({
          channel: 'chat',
          position: 1,
          servers: 0,
        });
        expect((await agentNow('ag_1')).load).to.deep.equal(zeroPerChannel());
        // Routing it again keeps one place in line.
        expect((await route('cv_1', [pool()], { now: T0 + SEC })).type).to.equal('queued');
        expect((await store.stats()).waiting).to.equal(1);
      });

      it('a route that leaves it waiting tells where it waits and whether a wait was quoted, and schedules its overflow', async () => {
        await addAgent('ag_1', { status: 'away', skills: { billing: 3 } });
        await addAgent('ag_2', { skills: { billing: 3 }, capacity: { voice: 0, sms: 0, chat: 0, email: 1 } });
        await addWaiting('cv_0', { skills: { billing: 2 } });
        await addConversation('cv_1', { skills: { billing: 2 } });
        const timers = async (at: number) =>
          (await store.claimDueTimers(at, 100)).map((x) => `${x.kind}:${x.ref}`);
        // A callback promised and a wait already kept are not an open quoted wait.
        await store.addPromise(promiseRecord('pr_cb', 'cv_1', { kind: 'callback' }));
        await store.addPromise(promiseRecord('pr_kept', 'cv_1', { state: 'kept', settledAt: T0 }));
        const out = await route('cv_1', [pool({ billing: 2 })], { now: T0 + SEC, overflowAt: T0 + 2 * MIN });
        if (out.type !== 'queued') throw new Error(`expected queued, got ${out.type}`);
        expect(out.snapshot).to.deep.equal(await store.queueSnapshot('cv_1'));
        expect(out.snapshot).to.deep.include({ channel: 'chat', position: 2, servers: 0 });
        expect(out.waitQuoted).to.equal(false);
        expect(await timers(T0 + 2 * MIN - 1)).to.deep.equal([]);
        expect(await timers(T0 + 2 * MIN)).to.deep.equal(['overflow:cv_1']);
        // An open quoted wait is told; without an overflow time none is scheduled.
        await store.addPromise(promiseRecord('pr_wait', 'cv_1', { dueAt: T0 + HOUR }));
        const again = await route('cv_1', [pool({ billing: 2 })], { now: T0 + MIN });
        if (again.type !== 'queued') throw new Error(`expected queued, got ${again.type}`);
        expect([again.waitQuoted, again.snapshot?.position]).to.deep.equal([true, 2]);
        expect(await timers(T0 + 10 * MIN)).to.deep.equal([]);
      });

      it('skips a conversation that is not in a state to route', async () => {
        await addAgent('ag_1');
        await addAgent('ag_2');
        await addOwned('cv_owned', 'ag_1');
        const owned = await route('cv_owned', [one('ag_2')]);
        expect(owned.type).to.equal('skipped');
        expect(owned.conversation.ownerId).to.equal('ag_1');
        expect(owned.conversation.ownership.length).to.equal(1);

        await addConversation('cv_done', { status: 'resolved', queuedAt: null, resolvedAt: T0 });
        expect((await route('cv_done', [pool()])).type).to.equal('skipped');
        expect(await store.queueSnapshot('cv_done')).to.equal(null);

        await addConversation('cv_waiting');
        expect((await route('cv_waiting', [pool()], { mode: { type: 'cover' } })).type).to.equal('skipped');
        expect((await agentNow('ag_2')).load).to.deep.equal(zeroPerChannel());
      });

      it('the pool picks the longest idle agent first (idleSince)', async () => {
        await addAgent('ag_1', { idleSince: T0 + 3 * SEC });
        await addAgent('ag_2', { idleSince: T0 + SEC });
        await addAgent('ag_3', { idleSince: T0 + 2 * SEC });
        const picked: string[] = [];
        for (const [i, id] of ['cv_1', 'cv_2', 'cv_3', 'cv_4'].entries()) {
          await addConversation(id);
          const out = await route(id, [pool()], { now: T0 + (10 + i) * SEC });
          picked.push(out.type === 'assigned' ? out.agentId : out.type);
        }
        expect(picked).to.deep.equal(['ag_2', 'ag_3', 'ag_1', 'ag_2']);
      });

      it('the pool requires every skill at its minimum level', async () => {
        await addAgent('ag_1', { skills: { billing: 2 }, idleSince: T0 });
        await addAgent('ag_2', { skills: { billing: 3, spanish: 1 }, idleSince: T0 + SEC });
        await addAgent('ag_3', { skills: { billing: 5, french: 0 }, idleSince: T0 + 2 * SEC });
        const routeSkills = async (id: string, skills: Skills, now: number) => {
          await addConversation(id, { skills });
          const out = await route(id, [pool(skills, 'skills')], { now });
          return out.type === 'assigned' ? out.agentId : out.type;
        };
        expect(await routeSkills('cv_1', { billing: 3 }, T0 + 10 * SEC)).to.equal('ag_2');
        expect(await routeSkills('cv_2', { billing: 3 }, T0 + 11 * SEC)).to.equal('ag_3');
        expect(await routeSkills('cv_3', { billing: 3, spanish: 1 }, T0 + 12 * SEC)).to.equal('ag_2');
        expect(await routeSkills('cv_4', { billing: 3, spanish: 2 }, T0 + 13 * SEC)).to.equal('queued');
        expect(await routeSkills('cv_5', { french: 0 }, T0 + 14 * SEC)).to.equal('ag_3');
        expect(await routeSkills('cv_6', { german: 0 }, T0 + 15 * SEC)).to.equal('queued');
        expect(await routeSkills('cv_7', {}, T0 + 16 * SEC)).to.equal('ag_1');
      });

      it('capacity is per channel: an agent full on chat still takes sms', async () => {
        await addAgent('ag_1', { capacity: { voice: 0, sms: 2, chat: 1, email: 0 }, idleSince: T0 });
        await addAgent('ag_2', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 }, idleSince: T0 + SEC });
        const go = async (id: string, channel: Channel, now: number) => {
          await addConversation(id, { lastChannel: channel, channels: [channel] });
          const out = await route(id, [pool()], { now });
          return out.type === 'assigned' ? out.agentId : out.type;
        };
        expect(await go('cv_1', 'chat', T0 + 10 * SEC)).to.equal('ag_1');
        expect(await go('cv_2', 'chat', T0 + 11 * SEC)).to.equal('ag_2');
        expect(await go('cv_3', 'chat', T0 + 12 * SEC)).to.equal('queued');
        expect(await go('cv_4', 'sms', T0 + 13 * SEC)).to.equal('ag_1');
        expect(await go('cv_5', 'email', T0 + 14 * SEC)).to.equal('queued');
        expect((await agentNow('ag_1')).load).to.deep.equal({ voice: 0, sms: 1, chat: 1, email: 0 });
        expect((await agentNow('ag_2')).load).to.deep.equal({ voice: 0, sms: 0, chat: 1, email: 0 });
      });

      it('offers again to an agent set away by a missed ring, once they are back', async () => {
        await addAgent('ag_1', { idleSince: T0 });
        await addConversation('cv_1', { lastChannel: 'voice', channels: ['voice'] });
        const first = await route('cv_1', [pool()], { mode: ring(T0 + 20 * SEC) });
        expect(first.type === 'offered' ? first.agentId : first.type).to.equal('ag_1');
        const missed = await store.withdrawOffer('cv_1', 'ag_1', T0 + 20 * SEC, {
          status: 'away',
          reason: 'missed_offer',
        });
        expect(missed?.declinedBy).to.deep.equal([]);
        const meanwhile = await route('cv_1', [pool()], { mode: ring(T0 + 45 * SEC), now: T0 + 25 * SEC });
        expect(meanwhile.type).to.equal('queued');
        await store.setAgentStatus('ag_1', 'available', undefined, T0 + 30 * SEC);
        const back = await route('cv_1', [one('ag_1'), pool()], {
          mode: ring(T0 + 50 * SEC),
          now: T0 + 30 * SEC,
        });
        expect(back.type === 'offered' ? back.agentId : back.type).to.equal('ag_1');
      });

      it('never offers again to an agent who declined this wait and stayed available', async () => {
        await addAgent('ag_1', { idleSince: T0 });
        await addAgent('ag_2', { idleSince: T0 + SEC });
        await addConversation('cv_1', { lastChannel: 'voice', channels: ['voice'] });
        const first = await route('cv_1', [pool()], { mode: ring(T0 + 20 * SEC) });
        expect(first.type === 'offered' ? first.agentId : first.type).to.equal('ag_1');
        const declined = await store.withdrawOffer('cv_1', 'ag_1', T0 + 5 * SEC, null);
        expect(declined?.declinedBy).to.deep.equal(['ag_1']);
        expect((await agentNow('ag_1')).status).to.equal('available');
        const second = await route('cv_1', [one('ag_1'), pool()], {
          mode: ring(T0 + 25 * SEC),
          now: T0 + 5 * SEC,
        });
        expect(second.type === 'offered' ? second.agentId : second.type).to.equal('ag_2');
        expect((await agentNow('ag_1')).load.voice).to.equal(0);
        expect((await agentNow('ag_2')).load.voice).to.equal(1);
      });

      it('a waiting customer who switches channel waits in the new line, keeping their place', async () => {
        await addWaiting('cv_1', { lastChannel: 'sms', channels: ['sms'] }, T0);
        await addWaiting(
          'cv_2',
          { lastChannel: 'voice', channels: ['voice'], queuedAt: T0 + 10 * SEC },
          T0 + 10 * SEC,
        );
        await store.touchConversation('cv_1', 'voice', T0 + 20 * SEC);
        expect(
          (await route('cv_1', [pool()], { mode: ring(T0 + 40 * SEC), now: T0 + 20 * SEC, score: T0 })).type,
        ).to.equal('queued');
        expect((await store.queueSnapshot('cv_1'))?.position).to.equal(1);
        expect((await store.queueSnapshot('cv_2'))?.position).to.equal(2);
        expect((await store.stats()).waitingByChannel).to.deep.equal({ voice: 2, sms: 0, chat: 0, email: 0 });
        // An agent free on voice only gets it there.
        await addAgent('ag_1', { capacity: { voice: 1, sms: 0, chat: 0, email: 0 } });
        const out = await store.claimNext('ag_1', T0 + 30 * SEC, VOICE_RINGS);
        expect(out?.conversation.id).to.equal('cv_1');
        expect(out?.conversation.offer?.channel).to.equal('voice');
      });

      it('two conversations routed at once to one free slot: one gets it, one waits', async () => {
        await addAgent('ag_1', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
        await addConversation('cv_1');
        await addConversation('cv_2');
        const outcomes = await Promise.all([route('cv_1', [pool()]), route('cv_2', [pool()])]);
        expect(outcomes.map((o) => o.type).sort()).to.deep.equal(['assigned', 'queued']);
        expect((await agentNow('ag_1')).load.chat).to.equal(1);
      });
    });

    describe('claimNext', () => {
      beforeEach(async () => {
        await addCustomer('cu_1');
      });

      it('returns null when the agent is unknown, not available, or nothing waits', async () => {
        await addAgent('ag_1');
        await addAgent('ag_away', { status: 'away' });
        expect(await store.claimNext('ag_1', T0, RULES)).to.equal(null);
        await addWaiting('cv_1');
        expect(await store.claimNext('ag_away', T0 + SEC, RULES)).to.equal(null);
        expect(await store.claimNext('ag_nobody', T0 + SEC, RULES)).to.equal(null);
        expect((await store.queueSnapshot('cv_1'))?.position).to.equal(1);
      });

      it('hands out the best score first, then the earliest arrival', async () => {
        await addAgent('ag_1', { capacity: { voice: 0, sms: 0, chat: 5, email: 0 } });
        await addWaiting('cv_a', { queuedAt: T0, createdAt: T0 }, T0);
        await addWaiting(
          'cv_b',
          { queuedAt: T0 + 10 * SEC, createdAt: T0 + 10 * SEC, priority: 2 },
          T0 - 100 * SEC,
        );
        await addWaiting(
          'cv_c',
          { queuedAt: T0 + 5 * SEC, createdAt: T0 + 5 * SEC, priority: 2 },
          T0 - 100 * SEC,
        );
        const order: string[] = [];
        for (let i = 0; i < 4; i++) {
          const out = await store.claimNext('ag_1', T0 + (30 + i) * SEC, RULES);
          order.push(out ? out.conversation.id : 'none');
        }
        expect(order).to.deep.equal(['cv_c', 'cv_b', 'cv_a', 'none']);
        const c = await conversationNow('cv_c');
        expect(c.status).to.equal('assigned');
        expect(c.ownerId).to.equal('ag_1');
        expect(c.assignedAt).to.equal(T0 + 30 * SEC);
        expect(c.ownership.length).to.equal(1);
        expect(await store.queueSnapshot('cv_c')).to.equal(null);
        expect((await agentNow('ag_1')).load.chat).to.equal(3);
      });

      it('compares scores across channels and skill sets', async () => {
        await addAgent('ag_1', { skills: { billing: 1 } });
        await addWaiting('cv_chat', {}, T0);
        await addWaiting(
          'cv_sms',
          { lastChannel: 'sms', channels: ['sms'], skills: { billing: 1 }, queuedAt: T0 + SEC },
          T0 - 50 * SEC,
        );
        const first = await store.claimNext('ag_1', T0 + 2 * SEC, RULES);
        expect(first?.conversation.id).to.equal('cv_sms');
        expect(first?.reason).to.equal('skills');
        expect(first?.conversation.slotChannel).to.equal('sms');
        expect((await store.claimNext('ag_1', T0 + 3 * SEC, RULES))?.conversation.id).to.equal('cv_chat');
      });

      it('past the hard cap, arrival order beats priority', async () => {
        await addAgent('ag_1');
        await addAgent('ag_2');
        await addAgent('ag_3');
        await addWaiting('cv_x', { queuedAt: T0 }, T0);
        await addWaiting('cv_y', { queuedAt: T0 + MIN, priority: 9 }, T0 - 8 * MIN);
        await addWaiting('cv_z', { queuedAt: T0 + MIN + SEC, priority: 9 }, T0 - 7 * MIN);
        expect((await store.claimNext('ag_1', T0 + RULES.hardCapMs - 1, RULES))?.conversation.id).to.equal(
          'cv_y',
        );
        expect((await store.claimNext('ag_2', T0 + RULES.hardCapMs, RULES))?.conversation.id).to.equal(
          'cv_x',
        );
        expect((await store.claimNext('ag_3', T0 + RULES.hardCapMs, RULES))?.conversation.id).to.equal(
          'cv_z',
        );
      });

      it('overflow: an agent without the skills only gets what waited past overflowAfterMs', async () => {
        await addAgent('ag_plain');
        await addAgent('ag_skilled', { skills: { billing: 2 } });
        await addWaiting('cv_1', { skills: { billing: 2 }, queuedAt: T0 });
        await addWaiting('cv_2', { skills: { billing: 2 }, queuedAt: T0 + SEC }, T0 + SEC);
        expect(await store.claimNext('ag_plain', T0 + RULES.overflowAfterMs - 1, RULES)).to.equal(null);
        const late = await store.claimNext('ag_plain', T0 + RULES.overflowAfterMs, RULES);
        expect(late?.conversation.id).to.equal('cv_1');
        expect(late?.reason).to.equal('overflow');
        expect(late?.conversation.ownership).to.deep.equal([
          { from: null, to: 'ag_plain', reason: 'overflow', at: T0 + RULES.overflowAfterMs },
        ]);
        const skilled = await store.claimNext('ag_skilled', T0 + RULES.overflowAfterMs, RULES);
        expect(skilled?.conversation.id).to.equal('cv_2');
        expect(skilled?.reason).to.equal('skills');
      });

      it('offers instead of assigning on a channel with an offer timeout', async () => {
        await addAgent('ag_1', { skills: { tech: 1 } });
        await addAgent('ag_2', { skills: { tech: 1 } });
        await addWaiting('cv_1', { lastChannel: 'voice', channels: ['voice'], skills: { tech: 1 } });
        const out = await store.claimNext('ag_1', T0 + 5 * SEC, VOICE_RINGS);
        expect(out?.type).to.equal('offered');
        expect(out?.agentId).to.equal('ag_1');
        expect(out?.conversation.status).to.equal('queued');
        expect(out?.conversation.ownerId).to.equal(null);
        expect(out?.conversation.offer).to.deep.equal({
          agentId: 'ag_1',
          channel: 'voice',
          at: T0 + 5 * SEC,
          expiresAt: T0 + 25 * SEC,
          reason: 'skills',
        });
        expect((await agentNow('ag_1')).load.voice).to.equal(1);
        // A ringing conversation is nobody else's to claim.
        expect(await store.claimNext('ag_2', T0 + 6 * SEC, VOICE_RINGS)).to.equal(null);
        // Without an offer timeout for the channel it is assigned outright.
        await addWaiting('cv_2', { lastChannel: 'voice', channels: ['voice'] });
        expect((await store.claimNext('ag_2', T0 + 7 * SEC, RULES))?.type).to.equal('assigned');
      });

      it('claims only where the agent has capacity left and never what they declined', async () => {
        await addAgent('ag_1', { capacity: { voice: 1, sms: 1, chat: 1, email: 0 } });
        await addOwned('cv_mine', 'ag_1');
        await addWaiting('cv_chat', {}, T0 - MIN);
        await addWaiting('cv_email', { lastChannel: 'email', channels: ['email'] }, T0 - MIN);
        await addWaiting('cv_sms', { lastChannel: 'sms', channels: ['sms'] }, T0);
        expect((await store.claimNext('ag_1', T0 + SEC, RULES))?.conversation.id).to.equal('cv_sms');

        await addAgent('ag_2', { status: 'away', capacity: { voice: 1, sms: 0, chat: 0, email: 0 } });
        await addConversation('cv_call', { lastChannel: 'voice', channels: ['voice'] });
        expect((await route('cv_call', [pool()], { mode: ring(T0 + 20 * SEC) })).type).to.equal('offered');
        await store.withdrawOffer('cv_call', 'ag_1', T0 + 20 * SEC, null);
        expect(await store.claimNext('ag_1', T0 + 21 * SEC, VOICE_RINGS)).to.equal(null);
        await store.setAgentStatus('ag_2', 'available', undefined, T0 + 22 * SEC);
        expect((await store.claimNext('ag_2', T0 + 22 * SEC, VOICE_RINGS))?.conversation.id).to.equal(
          'cv_call',
        );
      });

      it('a live contact waiting for cover is covered by a claim; the owner stays owner', async () => {
        await addAgent('ag_1');
        await addAgent('ag_2', { status: 'away' });
        await addOwned('cv_1', 'ag_1');
        await store.touchConversation('cv_1', 'voice', T0 + MIN);
        await store.setWaitingForOwner('cv_1', T0 + MIN);
        expect((await route('cv_1', [pool()], { mode: { type: 'cover' }, now: T0 + MIN })).type).to.equal(
          'queued',
        );
        // The owner never covers for themselves.
        expect(await store.claimNext('ag_1', T0 + MIN + SEC, VOICE_RINGS)).to.equal(null);
        await store.setAgentStatus('ag_2', 'available', undefined, T0 + 2 * MIN);
        const out = await store.claimNext('ag_2', T0 + 2 * MIN, VOICE_RINGS);
        expect(out?.agentId).to.equal('ag_2');
        expect(out?.conversation.ownerId).to.equal('ag_1');
        expect(out?.conversation.cover).to.deep.equal({
          agentId: 'ag_2',
          channel: 'voice',
          since: T0 + 2 * MIN,
        });
        expect(out?.conversation.ownership.length).to.equal(1);
        expect((await agentNow('ag_2')).load.voice).to.equal(1);
        expect(await store.queueSnapshot('cv_1')).to.equal(null);
      });

      it('two agents claiming at once never get the same conversation', async () => {
        await addAgent('ag_1');
        await addAgent('ag_2');
        await addWaiting('cv_1');
        const [a, b] = await Promise.all([
          store.claimNext('ag_1', T0 + SEC, RULES),
          store.claimNext('ag_2', T0 + SEC, RULES),
        ]);
        expect(
          [a?.conversation.id ?? null, b?.conversation.id ?? null].filter((x) => x !== null),
        ).to.deep.equal(['cv_1']);
        const loads = [(await agentNow('ag_1')).load.chat, (await agentNow('ag_2')).load.chat];
        expect(loads[0]! + loads[1]!).to.equal(1);
      });
    });

    describe('offers', () => {
      beforeEach(async () => {
        await addCustomer('cu_1');
        await addAgent('ag_1');
        await addAgent('ag_2', { idleSince: T0 + SEC });
        await addConversation('cv_1', { lastChannel: 'voice', channels: ['voice'] });
        await route('cv_1', [pool()], { mode: ring(T0 + 20 * SEC) });
      });

      it('acceptOffer gives ownership on the offered channel, keeping the capacity held', async () => {
        const { conversation: c, settled } = await store.acceptOffer('cv_1', 'ag_1', T0 + 8 * SEC);
        expect(settled).to.deep.equal([]);
        expect(c.status).to.equal('assigned');
        expect(c.ownerId).to.equal('ag_1');
        expect(c.slotChannel).to.equal('voice');
        expect(c.offer).to.equal(null);
        expect(c.assignedAt).to.equal(T0 + 8 * SEC);
        expect(c.ownership).to.deep.equal([{ from: null, to: 'ag_1', reason: 'routed', at: T0 + 8 * SEC }]);
        expect((await agentNow('ag_1')).load.voice).to.equal(1);
        expect(await store.queueSnapshot('cv_1')).to.equal(null);
        expect((await store.getCustomer('cu_1'))?.lastOwnerId).to.equal('ag_1');
      });

      it('acceptOffer refuses another agent and a conversation without an offer', async () => {
        expect((await failure(store.acceptOffer('cv_1', 'ag_2', T0 + SEC))).code).to.equal('invalid_state');
        await addConversation('cv_2');
        expect((await failure(store.acceptOffer('cv_2', 'ag_1', T0 + SEC))).code).to.equal('invalid_state');
        expect((await conversationNow('cv_1')).offer?.agentId).to.equal('ag_1');
      });

      it('withdrawOffer frees the capacity, can set the agent away, and keeps the place', async () => {
        const c = await store.withdrawOffer('cv_1', 'ag_1', T0 + 20 * SEC, {
          status: 'away',
          reason: 'missed_offer',
        });
        expect(c?.offer).to.equal(null);
        expect(c?.status).to.equal('queued');
        // Set away, they are not passed over: once back, they may be asked again.
        expect(c?.declinedBy).to.deep.equal([]);
        const a = await agentNow('ag_1');
        expect(a.load.voice).to.equal(0);
        expect(a.status).to.equal('away');
        expect(a.statusReason).to.equal('missed_offer');
        expect((await store.queueSnapshot('cv_1'))?.position).to.equal(1);
      });

      it('withdrawOffer leaves one who left the team meanwhile offline, not away', async () => {
        await store.setAgentStatus('ag_1', 'offline', 'left the team', T0 + 10 * SEC);
        await store.updateAgent('ag_1', { leftAt: T0 + 10 * SEC });
        const c = await store.withdrawOffer('cv_1', 'ag_1', T0 + 20 * SEC, {
          status: 'away',
          reason: 'missed_offer',
        });
        expect(c?.offer).to.equal(null);
        const a = await agentNow('ag_1');
        expect(a.status).to.equal('offline');
        expect(a.statusReason).to.equal('left the team');
        expect(a.load.voice).to.equal(0);
      });

      it('withdrawOffer returns null for an agent who has no offer on it', async () => {
        expect(await store.withdrawOffer('cv_1', 'ag_2', T0 + SEC, null)).to.equal(null);
        expect(await store.withdrawOffer('cv_nobody', 'ag_1', T0 + SEC, null)).to.equal(null);
        expect((await conversationNow('cv_1')).offer?.agentId).to.equal('ag_1');
        expect((await agentNow('ag_1')).load.voice).to.equal(1);
      });
    });

    describe('requeue, resolve, abandon', () => {
      beforeEach(async () => {
        await addCustomer('cu_1');
        await addAgent('ag_1');
        await addAgent('ag_2', { idleSince: T0 + SEC });
      });

      it('requeue releases the gone owner and puts the conversation back in line as owner_offline', async () => {
        await addOwned('cv_1', 'ag_1');
        await store.setAgentStatus('ag_1', 'offline', undefined, T0 + MIN);
        const c = await store.requeue('cv_1', T0 + 10 * MIN, T0);
        expect(c.status).to.equal('queued');
        // Its customer's wait began at their last contact.
        expect(c.queuedAt).to.equal(T0);
        expect(c.assignedAt).to.equal(null);
        expect(c.slotChannel).to.equal(null);
        expect((await agentNow('ag_1')).load.chat).to.equal(0);
        expect((await store.queueSnapshot('cv_1'))?.position).to.equal(1);

        const claimed = await store.claimNext('ag_2', T0 + 11 * MIN, RULES);
        expect(claimed?.reason).to.equal('owner_offline');
        expect(claimed?.conversation.ownership).to.deep.equal([
          { from: null, to: 'ag_1', reason: 'routed', at: T0 },
          { from: 'ag_1', to: 'ag_2', reason: 'owner_offline', at: T0 + 11 * MIN },
        ]);
        expect(claimed?.conversation.firstAssignedAt).to.equal(T0);
      });

      it('requeue puts it in line with the wait begun when the caller says (a customer who waits for nothing: now)', async () => {
        await addOwned('cv_1', 'ag_1');
        await store.setAgentStatus('ag_1', 'offline', undefined, T0 + MIN);
        const c = await store.requeue('cv_1', T0 + 10 * MIN, T0 + 10 * MIN, T0 + 10 * MIN);
        expect(c.queuedAt).to.equal(T0 + 10 * MIN);
        expect((await store.queueSnapshot('cv_1'))?.position).to.equal(1);
      });

      it('requeue keeps the place of a contact that was already waiting for its owner', async () => {
        await addOwned('cv_1', 'ag_1');
        await store.setWaitingForOwner('cv_1', T0 + 2 * MIN);
        const c = await store.requeue('cv_1', T0 + 12 * MIN, T0 + 2 * MIN);
        expect(c.queuedAt).to.equal(T0 + 2 * MIN);
        expect(c.waitingForOwnerSince).to.equal(null);
      });

      it('requeue refuses a conversation that is not assigned', async () => {
        await addWaiting('cv_1');
        expect((await failure(store.requeue('cv_1', T0 + MIN, T0))).code).to.equal('invalid_state');
      });

      it('resolve releases capacity, records the handle time and the last owner', async () => {
        await addOwned('cv_1', 'ag_1', {}, T0 + SEC);
        await store.inviteConsultant('cv_1', 'ag_2', T0);
        const { conversation: c } = await store.resolve('cv_1', T0 + 4 * MIN, T0 + 24 * 60 * MIN);
        expect(c.status).to.equal('resolved');
        expect(c.resolvedAt).to.equal(T0 + 4 * MIN);
        expect(c.followUpAt).to.equal(T0 + 24 * 60 * MIN);
        expect(c.ownerId).to.equal('ag_1');
        expect(c.invited).to.deep.equal([]);
        expect(c.consultants).to.deep.equal([]);
        expect((await agentNow('ag_1')).load).to.deep.equal(zeroPerChannel());
        expect(await store.recentHandleTimes('chat')).to.deep.equal([4 * MIN - SEC]);
        expect(await store.recentHandleTimes('sms')).to.deep.equal([]);
        const customer = await store.getCustomer('cu_1');
        expect(customer?.lastOwnerId).to.equal('ag_1');
        expect(customer?.lastOwnerAt).to.equal(T0 + 4 * MIN);
        expect((await failure(store.resolve('cv_1', T0 + 5 * MIN, null))).code).to.equal('invalid_state');
      });

      it('resolve also releases a covering colleague', async () => {
        await addOwned('cv_1', 'ag_1');
        await store.touchConversation('cv_1', 'voice', T0 + MIN);
        await route('cv_1', [pool()], { mode: { type: 'cover' }, now: T0 + MIN, channel: 'voice' });
        expect((await agentNow('ag_2')).load.voice).to.equal(1);
        const { conversation: c } = await store.resolve('cv_1', T0 + 3 * MIN, null);
        expect(c.cover).to.equal(null);
        expect((await agentNow('ag_2')).load.voice).to.equal(0);
        expect((await agentNow('ag_1')).load.chat).to.equal(0);
      });

      it('resolve refuses a waiting conversation', async () => {
        await addWaiting('cv_1');
        expect((await failure(store.resolve('cv_1', T0 + MIN, null))).code).to.equal('invalid_state');
        expect((await conversationNow('cv_1')).status).to.equal('queued');
      });

      it('abandon takes a waiting conversation out of line', async () => {
        await addWaiting('cv_1');
        const c = await store.abandon('cv_1', T0 + MIN);
        expect(c.status).to.equal('abandoned');
        expect(c.resolvedAt).to.equal(T0 + MIN);
        expect(await store.queueSnapshot('cv_1')).to.equal(null);
        expect((await store.stats()).waiting).to.equal(0);
        expect(c.closedBy).to.equal(undefined);
      });

      it('abandon by a block is kept as closed by the block, read back so', async () => {
        await addWaiting('cv_1');
        const c = await store.abandon('cv_1', T0 + MIN, 'block');
        expect([c.status, c.closedBy]).to.deep.equal(['abandoned', 'block']);
        expect((await conversationNow('cv_1')).closedBy).to.equal('block');
      });

      it('abandon of a ringing conversation frees the ringing agent', async () => {
        await addConversation('cv_1', { lastChannel: 'voice', channels: ['voice'] });
        await route('cv_1', [pool()], { mode: ring(T0 + 20 * SEC) });
        const c = await store.abandon('cv_1', T0 + 3 * SEC);
        expect(c.offer).to.equal(null);
        expect(c.status).to.equal('abandoned');
        expect((await agentNow('ag_1')).load.voice).to.equal(0);
      });

      it('abandon refuses an assigned conversation', async () => {
        await addOwned('cv_1', 'ag_1');
        expect((await failure(store.abandon('cv_1', T0 + MIN))).code).to.equal('invalid_state');
        expect((await conversationNow('cv_1')).status).to.equal('assigned');
      });
    });

    describe('hand-off', () => {
      beforeEach(async () => {
        await addCustomer('cu_1');
        await addAgent('ag_1');
        await addAgent('ag_2', { capacity: { voice: 1, sms: 1, chat: 1, email: 1 } });
        await addAgent('ag_off', { status: 'offline' });
        await addOwned('cv_1', 'ag_1');
      });

      it('offerHandoff records the pending hand-off; ownership does not move yet', async () => {
        const c = await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'billing question', T0 + MIN);
        expect(c.handoff).to.deep.equal({
          from: 'ag_1',
          to: 'ag_2',
          note: 'billing question',
          at: T0 + MIN,
          channel: 'chat',
        });
        expect(c.ownerId).to.equal('ag_1');
        const colleague = await agentNow('ag_2');
        expect(colleague.load.chat).to.equal(0);
        expect(colleague.reserved?.chat).to.equal(1);
      });

      it('a hand-off keeps a place on the colleague: the line does not take it, so the hand-off can be accepted once one frees', async () => {
        await addOwned('cv_2', 'ag_2');
        await addCustomer('cu_3');
        await addWaiting('cv_3', { customerId: 'cu_3' });
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'over to you', T0 + MIN);
        const { claims } = await store.resolve('cv_2', T0 + 2 * MIN, null, { fill: RULES });
        expect(claims).to.deep.equal([]);
        expect(await store.claimNext('ag_2', T0 + 2 * MIN, RULES)).to.equal(null);
        expect((await conversationNow('cv_3')).status).to.equal('queued');
        const c = await store.acceptHandoff('cv_1', 'ag_2', T0 + 3 * MIN);
        expect(c.ownerId).to.equal('ag_2');
        const colleague = await agentNow('ag_2');
        expect([colleague.load.chat, colleague.reserved?.chat]).to.deep.equal([1, 0]);
      });

      it('a place kept for a hand-off takes the colleague out of the free pool until the hand-off ends', async () => {
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'n', T0 + MIN);
        await store.setAgentStatus('ag_1', 'away', undefined, T0 + MIN);
        await addCustomer('cu_3');
        await addConversation('cv_3', { customerId: 'cu_3' });
        expect((await route('cv_3', [pool()], { now: T0 + 2 * MIN })).type).to.equal('queued');
        await store.declineHandoff('cv_1', 'ag_2');
        expect((await agentNow('ag_2')).reserved?.chat).to.equal(0);
        expect((await store.claimNext('ag_2', T0 + 3 * MIN, RULES))?.conversation.id).to.equal('cv_3');
      });

      it('resolving or requeueing a conversation frees the place its hand-off kept', async () => {
        await addAgent('ag_3');
        await addCustomer('cu_2');
        await addOwned('cv_2', 'ag_1', { customerId: 'cu_2' });
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'n', T0 + MIN);
        await store.offerHandoff('cv_2', 'ag_1', 'ag_3', 'n', T0 + MIN);
        await store.resolve('cv_1', T0 + 2 * MIN, null);
        await store.requeue('cv_2', T0 + 2 * MIN, 0);
        expect((await agentNow('ag_2')).reserved?.chat).to.equal(0);
        expect((await agentNow('ag_3')).reserved?.chat).to.equal(0);
        expect((await conversationNow('cv_2')).handoff).to.equal(null);
      });

      it('offerHandoff refuses a non-owner, oneself, an offline or unknown colleague, and a second one', async () => {
        expect((await failure(store.offerHandoff('cv_1', 'ag_2', 'ag_1', 'n', T0))).code).to.equal(
          'invalid_state',
        );
        expect((await failure(store.offerHandoff('cv_1', 'ag_1', 'ag_1', 'n', T0))).code).to.equal(
          'invalid_input',
        );
        expect((await failure(store.offerHandoff('cv_1', 'ag_1', 'ag_off', 'n', T0))).code).to.equal(
          'invalid_state',
        );
        expect((await failure(store.offerHandoff('cv_1', 'ag_1', 'ag_nobody', 'n', T0))).code).to.equal(
          'not_found',
        );
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'first', T0);
        expect((await failure(store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'again', T0))).code).to.equal(
          'invalid_state',
        );
        expect((await conversationNow('cv_1')).handoff?.note).to.equal('first');
      });

      it('acceptHandoff moves ownership and capacity, and records the move', async () => {
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'over to you', T0 + MIN);
        const c = await store.acceptHandoff('cv_1', 'ag_2', T0 + 2 * MIN);
        expect(c.ownerId).to.equal('ag_2');
        expect(c.slotChannel).to.equal('chat');
        expect(c.handoff).to.equal(null);
        expect(c.ownership).to.deep.equal([
          { from: null, to: 'ag_1', reason: 'routed', at: T0 },
          { from: 'ag_1', to: 'ag_2', reason: 'handoff', at: T0 + 2 * MIN },
        ]);
        expect((await agentNow('ag_1')).load.chat).to.equal(0);
        expect((await agentNow('ag_2')).load.chat).to.equal(1);
        expect(ids(await store.listConversations({ ownerId: 'ag_2', status: 'assigned' }))).to.deep.equal([
          'cv_1',
        ]);
      });

      it('acceptHandoff checks the colleague has capacity and changes nothing when not', async () => {
        await addOwned('cv_2', 'ag_2');
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'over to you', T0 + MIN);
        expect((await failure(store.acceptHandoff('cv_1', 'ag_2', T0 + 2 * MIN))).code).to.equal(
          'no_capacity',
        );
        const c = await conversationNow('cv_1');
        expect(c.ownerId).to.equal('ag_1');
        expect(c.handoff?.to).to.equal('ag_2');
        expect(c.ownership.length).to.equal(1);
        expect((await agentNow('ag_1')).load.chat).to.equal(1);
        expect((await agentNow('ag_2')).load.chat).to.equal(1);
      });

      it('acceptHandoff and declineHandoff refuse an agent the hand-off is not for', async () => {
        await addAgent('ag_3');
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'n', T0 + MIN);
        expect((await failure(store.acceptHandoff('cv_1', 'ag_3', T0 + 2 * MIN))).code).to.equal(
          'invalid_state',
        );
        expect((await failure(store.declineHandoff('cv_1', 'ag_3'))).code).to.equal('invalid_state');
        expect((await conversationNow('cv_1')).handoff?.to).to.equal('ag_2');
      });

      it('the colleague covering it who accepts a hand-off becomes owner, and the cover ends', async () => {
        await store.setAgentStatus('ag_1', 'away', undefined, T0 + 30 * SEC);
        await store.touchConversation('cv_1', 'voice', T0 + MIN);
        await route('cv_1', [pool()], { mode: { type: 'cover' }, now: T0 + MIN, channel: 'voice' });
        expect((await conversationNow('cv_1')).cover?.agentId).to.equal('ag_2');
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'keep it', T0 + 2 * MIN);
        const c = await store.acceptHandoff('cv_1', 'ag_2', T0 + 3 * MIN);
        expect(c.ownerId).to.equal('ag_2');
        expect(c.cover).to.equal(null);
        expect(c.slotChannel).to.equal('chat');
        expect((await agentNow('ag_2')).load).to.deep.equal({ voice: 0, sms: 0, chat: 1, email: 0 });
        expect((await agentNow('ag_1')).load).to.deep.equal(zeroPerChannel());
      });

      it('a colleague covering on the same channel may accept with the slot the cover held', async () => {
        await addOwned('cv_2', 'ag_1');
        await store.setAgentStatus('ag_1', 'away', undefined, T0 + 30 * SEC);
        await route('cv_2', [one('ag_2', 'routed')], { mode: { type: 'cover' }, now: T0 + MIN });
        expect((await agentNow('ag_2')).load.chat).to.equal(1);
        await store.offerHandoff('cv_2', 'ag_1', 'ag_2', 'keep it', T0 + 2 * MIN);
        const c = await store.acceptHandoff('cv_2', 'ag_2', T0 + 3 * MIN);
        expect(c.ownerId).to.equal('ag_2');
        expect(c.cover).to.equal(null);
        expect((await agentNow('ag_2')).load.chat).to.equal(1);
        expect((await agentNow('ag_1')).load.chat).to.equal(1);
      });

      it('declineHandoff clears it; the owner stays', async () => {
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'n', T0 + MIN);
        const c = await store.declineHandoff('cv_1', 'ag_2');
        expect(c.handoff).to.equal(null);
        expect(c.ownerId).to.equal('ag_1');
        expect(c.ownership.length).to.equal(1);
        expect((await failure(store.acceptHandoff('cv_1', 'ag_2', T0 + 2 * MIN))).code).to.equal(
          'invalid_state',
        );
      });
    });

    describe('consult', () => {
      beforeEach(async () => {
        await addCustomer('cu_1');
        await addAgent('ag_1');
        await addAgent('ag_2');
        await addOwned('cv_1', 'ag_1');
      });

      it('invite, join and leave, without taking capacity or ownership', async () => {
        const invited = await store.inviteConsultant('cv_1', 'ag_2', T0);
        expect(invited.invited).to.deep.equal(['ag_2']);
        expect(invited.consultants).to.deep.equal([]);
        expect((await store.inviteConsultant('cv_1', 'ag_2', T0)).invited).to.deep.equal(['ag_2']);

        const joined = await store.joinConsult('cv_1', 'ag_2', T0);
        expect(joined.invited).to.deep.equal([]);
        expect(joined.consultants).to.deep.equal(['ag_2']);
        expect((await store.joinConsult('cv_1', 'ag_2', T0)).consultants).to.deep.equal(['ag_2']);
        expect((await store.inviteConsultant('cv_1', 'ag_2', T0)).invited).to.deep.equal([]);
        expect(joined.ownerId).to.equal('ag_1');
        expect((await agentNow('ag_2')).load).to.deep.equal(zeroPerChannel());

        const left = await store.leaveConsult('cv_1', 'ag_2');
        expect(left.consultants).to.deep.equal([]);
        expect(left.invited).to.deep.equal([]);
      });

      it('leaving declines a pending invitation', async () => {
        await store.inviteConsultant('cv_1', 'ag_2', T0);
        expect((await store.leaveConsult('cv_1', 'ag_2')).invited).to.deep.equal([]);
        expect((await failure(store.joinConsult('cv_1', 'ag_2', T0))).code).to.equal('invalid_state');
      });

      it('refuses the owner, an unknown agent, a waiting conversation, and a join without invitation', async () => {
        expect((await failure(store.inviteConsultant('cv_1', 'ag_1', T0))).code).to.equal('invalid_input');
        expect((await failure(store.inviteConsultant('cv_1', 'ag_nobody', T0))).code).to.equal('not_found');
        expect((await failure(store.joinConsult('cv_1', 'ag_2', T0))).code).to.equal('invalid_state');
        await addWaiting('cv_2');
        expect((await failure(store.inviteConsultant('cv_2', 'ag_2', T0))).code).to.equal('invalid_state');
      });

      it('keeps when each colleague was invited and joined, as long as they are on it', async () => {
        await addAgent('ag_3');
        expect((await store.inviteConsultant('cv_1', 'ag_2', T0 + MIN)).joinedAt).to.deep.equal({
          ag_2: T0 + MIN,
        });
        // Invited again: the first invitation stands.
        expect((await store.inviteConsultant('cv_1', 'ag_2', T0 + 2 * MIN)).joinedAt).to.deep.equal({
          ag_2: T0 + MIN,
        });
        await store.inviteConsultant('cv_1', 'ag_3', T0 + 2 * MIN);
        const both = { ag_2: T0 + 3 * MIN, ag_3: T0 + 2 * MIN };
        expect((await store.joinConsult('cv_1', 'ag_2', T0 + 3 * MIN)).joinedAt).to.deep.equal(both);
        // Joined again: as it was.
        expect((await store.joinConsult('cv_1', 'ag_2', T0 + 4 * MIN)).joinedAt).to.deep.equal(both);
        expect((await store.getConversation('cv_1'))?.joinedAt).to.deep.equal(both);
        // An invitation declined: theirs goes.
        expect((await store.leaveConsult('cv_1', 'ag_3')).joinedAt).to.deep.equal({ ag_2: T0 + 3 * MIN });
        // The last one leaves: none left, no field.
        const left = await store.leaveConsult('cv_1', 'ag_2');
        expect(left).to.not.have.property('joinedAt');
        expect(await store.getConversation('cv_1')).to.not.have.property('joinedAt');
      });

      it('a consultant who takes it over, and the resolve, drop their times', async () => {
        await addAgent('ag_3');
        await store.inviteConsultant('cv_1', 'ag_2', T0 + MIN);
        await store.joinConsult('cv_1', 'ag_2', T0 + 2 * MIN);
        await store.inviteConsultant('cv_1', 'ag_3', T0 + 3 * MIN);
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'yours', T0 + 4 * MIN);
        const taken = await store.acceptHandoff('cv_1', 'ag_2', T0 + 5 * MIN);
        expect(taken.joinedAt).to.deep.equal({ ag_3: T0 + 3 * MIN });
        const { conversation: resolved } = await store.resolve('cv_1', T0 + 6 * MIN, null);
        expect(resolved).to.not.have.property('joinedAt');
        expect(await store.getConversation('cv_1')).to.not.have.property('joinedAt');
      });

      it('a consultant it is routed to, back in line, owns it: their time goes', async () => {
        await store.inviteConsultant('cv_1', 'ag_2', T0 + MIN);
        await store.joinConsult('cv_1', 'ag_2', T0 + 2 * MIN);
        await store.requeue('cv_1', T0 + 3 * MIN, T0 + 3 * MIN);
        const out = await route('cv_1', [one('ag_2', 'routed')], { now: T0 + 4 * MIN });
        expect([out.type, out.conversation.ownerId]).to.deep.equal(['assigned', 'ag_2']);
        expect(out.conversation).to.not.have.property('joinedAt');
        expect(await store.getConversation('cv_1')).to.not.have.property('joinedAt');
      });

      it('a record stored before the times were kept (no joinedAt) works on: leaving, inviting', async () => {
        await addAgent('ag_3');
        await addOwned('cv_old', 'ag_1', { consultants: ['ag_2'] });
        const old = await store.getConversation('cv_old');
        expect([old?.consultants, old?.joinedAt]).to.deep.equal([['ag_2'], undefined]);
        expect((await store.inviteConsultant('cv_old', 'ag_3', T0 + MIN)).joinedAt).to.deep.equal({
          ag_3: T0 + MIN,
        });
        const left = await store.leaveConsult('cv_old', 'ag_2');
        expect([left.consultants, left.joinedAt]).to.deep.equal([[], { ag_3: T0 + MIN }]);
      });

      it('a consultant who accepts a hand-off becomes owner and stops consulting', async () => {
        await store.inviteConsultant('cv_1', 'ag_2', T0);
        await store.joinConsult('cv_1', 'ag_2', T0);
        await store.offerHandoff('cv_1', 'ag_1', 'ag_2', 'yours', T0 + MIN);
        const c = await store.acceptHandoff('cv_1', 'ag_2', T0 + 2 * MIN);
        expect(c.ownerId).to.equal('ag_2');
        expect(c.consultants).to.deep.equal([]);
      });
    });

    describe('queueSnapshot', () => {
      beforeEach(async () => {
        await addCustomer('cu_1');
      });

      it('gives the 1-based place among the same waits and the capacity-weighted servers', async () => {
        await addAgent('ag_1', { skills: { billing: 1 }, capacity: { voice: 0, sms: 1, chat: 2, email: 0 } });
        await addAgent('ag_2', { capacity: { voice: 0, sms: 4, chat: 3, email: 0 } });
        await addAgent('ag_3', { skills: { billing: 3 }, status: 'away' });
        await addWaiting('cv_c1', {}, T0 + 30 * SEC);
        await addWaiting('cv_c2', {}, T0 + 10 * SEC);
        await addWaiting('cv_c3', {}, T0 + 20 * SEC);
        await addWaiting('cv_b1', { skills: { billing: 1 } }, T0 + 40 * SEC);
        await addWaiting('cv_s1', { lastChannel: 'sms', channels: ['sms'] }, T0 + 50 * SEC);
        expect(await store.queueSnapshot('cv_c1')).to.deep.include({ position: 3, servers: 5 });
        expect(await store.queueSnapshot('cv_c2')).to.deep.include({ position: 1, servers: 5 });
        expect(await store.queueSnapshot('cv_c3')).to.deep.include({ position: 2, servers: 5 });
        expect(await store.queueSnapshot('cv_b1')).to.deep.include({ position: 1, servers: 2 });
        expect(await store.queueSnapshot('cv_s1')).to.deep.include({ position: 1, servers: 5 });

        await store.setAgentStatus('ag_2', 'away', undefined, T0 + MIN);
        expect(await store.queueSnapshot('cv_c2')).to.deep.include({ position: 1, servers: 2 });
        await store.setAgentStatus('ag_3', 'available', undefined, T0 + MIN);
        expect(await store.queueSnapshot('cv_b1')).to.deep.include({ position: 1, servers: 5 });
        await store.abandon('cv_c2', T0 + 2 * MIN);
        expect((await store.queueSnapshot('cv_c3'))?.position).to.equal(1);
        expect((await store.queueSnapshot('cv_c1'))?.position).to.equal(2);
      });

      it('those ahead that ring an agent (an offer not yet answered) do not count: they are being answered', async () => {
        await addAgent('ag_1', { capacity: { voice: 1, sms: 0, chat: 0, email: 0 } });
        await addAgent('ag_2', { capacity: { voice: 1, sms: 0, chat: 0, email: 0 } });
        const call = { lastChannel: 'voice' as const, channels: ['voice' as const] };
        for (const [id, at] of [
          ['cv_1', T0],
          ['cv_2', T0 + SEC],
          ['cv_3', T0 + 2 * SEC],
        ] as const) {
          await addConversation(id, { ...call, createdAt: at, lastContactAt: at });
          await route(id, [pool()], { mode: ring(at + 20 * SEC), now: at, score: at });
        }
        // Two ring Ana and Bo; the third is the only one waiting: first in line.
        expect([
          (await conversationNow('cv_1')).offer?.agentId,
          (await conversationNow('cv_2')).offer?.agentId,
        ]).to.have.members(['ag_1', 'ag_2']);
        expect((await conversationNow('cv_3')).offer).to.equal(null);
        expect((await store.queueSnapshot('cv_3'))?.position).to.equal(1);
        // The first ring goes unanswered (the offer is withdrawn): it waits again, ahead of the third.
        const rung = (await conversationNow('cv_1')).offer!.agentId;
        await store.withdrawOffer('cv_1', rung, T0 + 21 * SEC, null);
        expect((await store.queueSnapshot('cv_3'))?.position).to.equal(2);
        expect((await store.queueSnapshot('cv_1'))?.position).to.equal(1);
      });

      it("an agent's status change moves the servers of every line they are skilled for, however many skills they have", async () => {
        await addWaiting('cv_none', {}, T0 + 1 * SEC);
        await addWaiting('cv_b1', { skills: { billing: 1 } }, T0 + 2 * SEC);
        await addWaiting('cv_b3', { skills: { billing: 3 } }, T0 + 3 * SEC);
        await addWaiting('cv_bt', { skills: { billing: 1, tech: 2 } }, T0 + 4 * SEC);
        await addWaiting(
          'cv_t',
          { skills: { tech: 1 }, lastChannel: 'sms', channels: ['sms'] },
          T0 + 5 * SEC,
        );
        await addWaiting('cv_s', { skills: { sales: 1 } }, T0 + 6 * SEC);
        const servers = async () => {
          const out: Record<string, number | undefined> = {};
          for (const id of ['cv_none', 'cv_b1', 'cv_b3', 'cv_bt', 'cv_t', 'cv_s'])
            out[id] = (await store.queueSnapshot(id))?.servers;
          return out;
        };
        const none = { cv_none: 0, cv_b1: 0, cv_b3: 0, cv_bt: 0, cv_t: 0, cv_s: 0 };
        expect(await servers()).to.deep.equal(none);
        // Two skills; and nine (more names than the lines' index is looked up by).
        const capacity = { voice: 0, sms: 1, chat: 2, email: 0 };
        await addAgent('ag_2', { skills: { billing: 2, tech: 2 }, capacity, status: 'away' });
        const nine = { billing: 3, tech: 1, a: 1, b: 1, c: 1, d: 1, e: 1, f: 1, g: 1 };
        await addAgent('ag_9', {
          skills: nine,
          capacity: { voice: 0, sms: 3, chat: 4, email: 0 },
          status: 'away',
        });
        expect(await servers()).to.deep.equal(none);
        await store.setAgentStatus('ag_2', 'available', undefined, T0 + MIN);
        expect(await servers()).to.deep.equal({ ...none, cv_none: 2, cv_b1: 2, cv_bt: 2, cv_t: 1 });
        await store.setAgentStatus('ag_9', 'available', undefined, T0 + MIN);
        expect(await servers()).to.deep.equal({ cv_none: 6, cv_b1: 6, cv_b3: 4, cv_bt: 2, cv_t: 4, cv_s: 0 });
        await store.setAgentStatus('ag_2', 'away', undefined, T0 + 2 * MIN);
        expect(await servers()).to.deep.equal({ ...none, cv_none: 4, cv_b1: 4, cv_b3: 4, cv_t: 3 });
        // A line created after: counted from the agents available then, and moved by the next changes.
        await addWaiting('cv_bt2', { skills: { billing: 2, tech: 1 } }, T0 + 7 * SEC);
        expect((await store.queueSnapshot('cv_bt2'))?.servers).to.equal(4);
        await store.setAgentStatus('ag_2', 'available', undefined, T0 + 3 * MIN);
        expect((await store.queueSnapshot('cv_bt2'))?.servers).to.equal(6);
        await store.setAgentStatus('ag_9', 'offline', undefined, T0 + 3 * MIN);
        expect(await servers()).to.deep.equal({ ...none, cv_none: 2, cv_b1: 2, cv_bt: 2, cv_t: 1 });
        expect((await store.queueSnapshot('cv_bt2'))?.servers).to.equal(2);
      });

      it('leaves out of the servers those who declined this wait and stayed available, and counts them', async () => {
        const capacity = { voice: 2, sms: 0, chat: 0, email: 0 };
        await addAgent('ag_1', { capacity, idleSince: T0 });
        await addAgent('ag_2', { capacity, idleSince: T0 + SEC });
        await addAgent('ag_3', {
          capacity: { voice: 1, sms: 0, chat: 0, email: 0 },
          idleSince: T0 + 2 * SEC,
        });
        const call = { lastChannel: 'voice' as const, channels: ['voice' as const] };
        await addConversation('cv_1', call);
        await addConversation('cv_2', { ...call, createdAt: T0 + SEC, lastContactAt: T0 + SEC });
        await route('cv_2', [], { now: T0 + SEC, score: T0 + SEC });
        const first = await route('cv_1', [pool()], { mode: ring(T0 + 20 * SEC) });
        expect(first.type === 'offered' ? first.agentId : first.type).to.equal('ag_1');
        await store.withdrawOffer('cv_1', 'ag_1', T0 + 5 * SEC, null);
        const second = await route('cv_1', [pool()], { mode: ring(T0 + 25 * SEC), now: T0 + 5 * SEC });
        expect(second.type === 'offered' ? second.agentId : second.type).to.equal('ag_2');
        // Ag_2 turns it down with a reason: away, not passed over.
        await store.withdrawOffer('cv_1', 'ag_2', T0 + 6 * SEC, { status: 'away', reason: 'break' });
        await store.setAgentStatus('ag_3', 'away', undefined, T0 + 6 * SEC);
        const left = await route('cv_1', [pool()], { mode: ring(T0 + 27 * SEC), now: T0 + 7 * SEC });
        expect(left.type).to.equal('queued');
        // The route's own snapshot says the same as a read.
        expect(left.type === 'queued' ? left.snapshot : null).to.deep.equal(
          await store.queueSnapshot('cv_1'),
        );
        expect(await store.queueSnapshot('cv_1')).to.deep.include({ servers: 0, declined: 1 });
        // Another wait on the same line, which nobody declined: ag_1 serves it.
        expect(await store.queueSnapshot('cv_2')).to.deep.include({ servers: 2, declined: 0 });
        // Back from their break, ag_2 serves both; ag_3 too. Ag_1 away is no longer counted as having declined.
        await store.setAgentStatus('ag_2', 'available', undefined, T0 + MIN);
        await store.setAgentStatus('ag_3', 'available', undefined, T0 + MIN);
        expect((await conversationNow('cv_1')).offer).to.equal(null);
        expect(await store.queueSnapshot('cv_1')).to.deep.include({ servers: 3, declined: 1 });
        await store.setAgentStatus('ag_1', 'away', undefined, T0 + 2 * MIN);
        expect(await store.queueSnapshot('cv_1')).to.deep.include({ servers: 3, declined: 0 });
        expect(await store.queueSnapshot('cv_2')).to.deep.include({ servers: 3, declined: 0 });
      });

      it("names the channel it waits on and sums that channel's recent handle times", async () => {
        await addWaiting('cv_s', { lastChannel: 'sms', channels: ['sms'] });
        expect(await store.queueSnapshot('cv_s')).to.deep.include({
          channel: 'sms',
          handled: { count: 0, totalMs: 0 },
        });
        for (let n = 1; n <= HANDLE_TIME_WINDOW + 3; n++) await store.recordHandleTime('sms', n * SEC);
        await store.recordHandleTime('chat', 99 * SEC);
        // The window keeps the last HANDLE_TIME_WINDOW: 4 s … (HANDLE_TIME_WINDOW + 3) s.
        const first = 4;
        const last = HANDLE_TIME_WINDOW + 3;
        const total = ((first + last) * HANDLE_TIME_WINDOW * SEC) / 2;
        expect((await store.queueSnapshot('cv_s'))?.handled).to.deep.equal({
          count: HANDLE_TIME_WINDOW,
          totalMs: total,
        });
        const listed = await store.recentHandleTimes('sms');
        expect(listed.reduce((a, b) => a + b, 0)).to.equal(total);
      });

      it('is null for a conversation not in line', async () => {
        await addAgent('ag_1');
        await addOwned('cv_1', 'ag_1');
        expect(await store.queueSnapshot('cv_1')).to.equal(null);
        expect(await store.queueSnapshot('cv_nobody')).to.equal(null);
      });
    });

    // ================================================================ answering

    describe('answering (timers and quoted waits in the same step)', () => {
      const due = async (now: number) =>
        (await store.claimDueTimers(now, 100)).map((x) => `${x.kind}:${x.ref}`).sort();
      /** cv_1 waiting since T0 with a quoted wait due at `dueAt` and its timers, an overflow timer and a sticky one. */
      const quoted = async (id: string, pr: string, dueAt: number, extra: Partial<Conversation> = {}) => {
        await addWaiting(id, extra);
        await store.addPromise(promiseRecord(pr, id, { dueAt }));
        await store.schedule({ kind: 'promise', ref: pr, dueAt });
        await store.schedule({ kind: 'promise-warn', ref: pr, dueAt: dueAt - SEC });
        await store.schedule({ kind: 'overflow', ref: id, dueAt: T0 + 2 * MIN });
        await store.schedule({ kind: 'sticky', ref: id, dueAt: T0 + 3 * MIN });
      };

      beforeEach(async () => {
        await addCustomer('cu_1');
      });

      it('claimNext settles the open quoted waits (kept by their due time, else broken) and drops the timers', async () => {
        await quoted('cv_1', 'pr_1', T0 + MIN);
        await store.addPromise(promiseRecord('pr_cb', 'cv_1', { kind: 'callback', dueAt: T0 + MIN }));
        await store.addPromise(promiseRecord('pr_late', 'cv_1', { dueAt: T0 + 10 * SEC }));
        await store.schedule({ kind: 'overflow', ref: 'cv_other', dueAt: T0 + 2 * MIN });
        await addAgent('ag_1');
        const out = await store.claimNext('ag_1', T0 + 30 * SEC, RULES);
        expect(out?.type).to.equal('assigned');
        if (out?.type !== 'assigned') throw new Error('not assigned');
        expect(out.settled.map((p) => [p.id, p.state, p.settledAt])).to.deep.equal([
          ['pr_1', 'kept', T0 + 30 * SEC],
          ['pr_late', 'broken', T0 + 30 * SEC],
        ]);
        expect((await store.getPromise('pr_1'))?.state).to.equal('kept');
        expect((await store.getPromise('pr_late'))?.state).to.equal('broken');
        // A call back is not a quoted wait: it stays open.
        expect((await store.getPromise('pr_cb'))?.state).to.equal('open');
        expect(await due(T0 + HOUR)).to.deep.equal(['overflow:cv_other']);
      });

      it('route settles on assign and on cover; an offer schedules its timer and accepting it drops it', async () => {
        await quoted('cv_1', 'pr_1', T0 + MIN);
        await addAgent('ag_1');
        const out = await route('cv_1', [pool()], { now: T0 + 2 * MIN });
        expect(out.type).to.equal('assigned');
        if (out.type !== 'assigned') throw new Error('not assigned');
        expect(out.settled.map((p) => [p.id, p.state])).to.deep.equal([['pr_1', 'broken']]);
        expect(await due(T0 + HOUR)).to.deep.equal([]);

        // Cover: the owner is away, a colleague answers.
        await store.addPromise(promiseRecord('pr_2', 'cv_1', { dueAt: T0 + 10 * MIN }));
        await store.schedule({ kind: 'promise', ref: 'pr_2', dueAt: T0 + 10 * MIN });
        await store.setAgentStatus('ag_1', 'away', undefined, T0 + 3 * MIN);
        await store.setWaitingForOwner('cv_1', T0 + 3 * MIN);
        await addAgent('ag_2');
        const cover = await route('cv_1', [pool()], { mode: { type: 'cover' }, now: T0 + 4 * MIN });
        expect(cover.type).to.equal('covered');
        if (cover.type !== 'covered') throw new Error('not covered');
        expect(cover.settled.map((p) => [p.id, p.state])).to.deep.equal([['pr_2', 'kept']]);
        expect(await due(T0 + HOUR)).to.deep.equal([]);

        // Offer, then accept.
        await quoted('cv_2', 'pr_3', T0 + MIN, { lastChannel: 'voice', channels: ['voice'] });
        const offered = await route('cv_2', [pool()], { mode: ring(T0 + 20 * SEC), now: T0 + 5 * SEC });
        expect(offered.type).to.equal('offered');
        expect((await store.getPromise('pr_3'))?.state).to.equal('open');
        expect(await store.claimDueTimers(T0 + 19 * SEC, 100)).to.deep.equal([]);
        const accepted = await store.acceptOffer(
          'cv_2',
          offered.type === 'offered' ? offered.agentId : '',
          T0 + 8 * SEC,
        );
        expect(accepted.conversation.status).to.equal('assigned');
        expect(accepted.settled.map((p) => [p.id, p.state])).to.deep.equal([['pr_3', 'kept']]);
        expect(await due(T0 + HOUR)).to.deep.equal([]);
      });

      it('an offer made by claimNext fires once if nobody answers', async () => {
        await quoted('cv_1', 'pr_1', T0 + MIN, { lastChannel: 'voice', channels: ['voice'] });
        await store.cancelTimer('overflow', 'cv_1');
        await store.cancelTimer('sticky', 'cv_1');
        await addAgent('ag_1');
        const out = await store.claimNext('ag_1', T0 + 5 * SEC, VOICE_RINGS);
        expect(out?.type).to.equal('offered');
        expect((await store.getPromise('pr_1'))?.state).to.equal('open');
        expect(await due(T0 + 24 * SEC)).to.deep.equal([]);
        expect(await due(T0 + 25 * SEC)).to.deep.equal(['offer:cv_1']);
        expect(await due(T0 + HOUR)).to.deep.equal(['promise-warn:pr_1', 'promise:pr_1']);
      });

      it('fill claims until the agent is full or nothing they can serve waits, in claim order', async () => {
        await addAgent('ag_1', { capacity: { voice: 1, sms: 0, chat: 2, email: 1 } });
        await addWaiting('cv_c1', {}, T0 + 3 * SEC);
        await addWaiting('cv_c2', {}, T0 + 1 * SEC);
        await addWaiting('cv_c3', {}, T0 + 2 * SEC);
        await addWaiting('cv_e1', { lastChannel: 'email', channels: ['email'] }, T0 + 4 * SEC);
        await addWaiting('cv_v1', { lastChannel: 'voice', channels: ['voice'] }, T0 + 5 * SEC);
        await addWaiting('cv_b1', { skills: { billing: 2 } }, T0);
        const out = await store.fill('ag_1', T0 + 10 * SEC, VOICE_RINGS);
        expect(out.map((o) => [o.type, o.conversation.id])).to.deep.equal([
          ['assigned', 'cv_c2'],
          ['assigned', 'cv_c3'],
          ['assigned', 'cv_e1'],
          ['offered', 'cv_v1'],
        ]);
        expect((await agentNow('ag_1')).load).to.deep.equal({ voice: 1, sms: 0, chat: 2, email: 1 });
        expect((await store.queueSnapshot('cv_c1'))?.position).to.equal(1);
        expect(await store.fill('ag_1', T0 + 11 * SEC, VOICE_RINGS)).to.deep.equal([]);
        await addAgent('ag_away', { status: 'away' });
        expect(await store.fill('ag_away', T0 + 11 * SEC, VOICE_RINGS)).to.deep.equal([]);
        expect(await store.fill('ag_nobody', T0 + 11 * SEC, VOICE_RINGS)).to.deep.equal([]);
      });

      it('comeBack, owner-back: sticky timers go, waits for the owner end, covers off the live channels end', async () => {
        const roomy = { capacity: { voice: 1, sms: 1, chat: 3, email: 3 } };
        await addAgent('ag_1', roomy);
        await addAgent('ag_2', { ...roomy, idleSince: T0 + SEC });
        await addOwned('cv_1', 'ag_1');
        await addOwned('cv_2', 'ag_1', { lastChannel: 'email', channels: ['email'] });
        await addOwned('cv_3', 'ag_1', { lastChannel: 'voice', channels: ['voice'] });
        await addOwned('cv_4', 'ag_1');
        await store.setAgentStatus('ag_1', 'away', undefined, T0 + SEC);
        for (const id of ['cv_1', 'cv_2', 'cv_3', 'cv_4'])
          await store.schedule({ kind: 'sticky', ref: id, dueAt: T0 + 10 * MIN });
        const cover = { type: 'cover' } as const;
        // cv_1 waits in line for its owner or a colleague; cv_2 and cv_3 are covered by ag_2.
        await store.setWaitingForOwner('cv_1', T0 + 2 * SEC);
        expect((await route('cv_1', [], { mode: cover, now: T0 + 2 * SEC })).type).to.equal('queued');
        expect((await route('cv_2', [one('ag_2')], { mode: cover, now: T0 + 3 * SEC })).type).to.equal(
          'covered',
        );
        expect((await route('cv_3', [one('ag_2')], { mode: cover, now: T0 + 3 * SEC })).type).to.equal(
          'covered',
        );

        const back = await store.comeBack('ag_1', undefined, T0 + MIN, ['voice', 'sms', 'chat'], RULES);
        expect(back.updated.map((c) => c.id)).to.deep.equal(['cv_1', 'cv_2']);
        expect(back.freed).to.deep.equal(['ag_2']);
        expect(back.claims).to.deep.equal([]);
        expect((await conversationNow('cv_1')).waitingForOwnerSince).to.equal(null);
        expect(await store.queueSnapshot('cv_1')).to.equal(null);
        expect((await conversationNow('cv_2')).cover).to.equal(null);
        // A call is live: its cover lasts until the call ends.
        expect((await conversationNow('cv_3')).cover?.agentId).to.equal('ag_2');
        expect((await agentNow('ag_2')).load).to.deep.include({ email: 0, voice: 1 });
        expect(await due(T0 + HOUR)).to.deep.equal([]);
        // Back again: nothing left to end.
        const again = await store.comeBack('ag_1', undefined, T0 + MIN, ['voice'], RULES);
        expect([again.updated, again.freed, again.claims]).to.deep.equal([[], [], []]);
      });

      it('comeBack: available again, what waited for them as owner, and the waiting ones they can serve, in one step', async () => {
        const roomy = { capacity: { voice: 1, sms: 1, chat: 3, email: 3 } };
        await addAgent('ag_1', roomy);
        await addAgent('ag_2', { ...roomy, idleSince: T0 + SEC });
        await addOwned('cv_1', 'ag_1');
        await addOwned('cv_2', 'ag_1', { lastChannel: 'email', channels: ['email'] });
        await store.setAgentStatus('ag_1', 'away', 'lunch', T0 + SEC);
        await store.schedule({ kind: 'sticky', ref: 'cv_1', dueAt: T0 + 10 * MIN });
        const cover = { type: 'cover' } as const;
        await store.setWaitingForOwner('cv_1', T0 + 2 * SEC);
        expect((await route('cv_1', [], { mode: cover, now: T0 + 2 * SEC })).type).to.equal('queued');
        expect((await route('cv_2', [one('ag_2')], { mode: cover, now: T0 + 3 * SEC })).type).to.equal(
          'covered',
        );
        // Three chats wait for anyone (nobody claimed them yet); ag_1 has room for two.
        await addWaiting('cv_w1', { queuedAt: T0 + 4 * SEC, createdAt: T0 + 4 * SEC });
        await addWaiting('cv_w2', { queuedAt: T0 + 5 * SEC, createdAt: T0 + 5 * SEC });
        await addWaiting('cv_w3', { queuedAt: T0 + 6 * SEC, createdAt: T0 + 6 * SEC });

        const back = await store.comeBack('ag_1', undefined, T0 + MIN, ['voice', 'sms', 'chat'], RULES);
        expect(back.before).to.deep.equal({ status: 'away', statusReason: 'lunch' });
        expect(back.updated.map((c) => [c.id, c.waitingForOwnerSince, c.cover])).to.deep.equal([
          ['cv_1', null, null],
          ['cv_2', null, null],
        ]);
        expect(back.freed).to.deep.equal(['ag_2']);
        expect(back.claims.map((c) => [c.type, c.conversation.id, c.agentId])).to.deep.equal([
          ['assigned', 'cv_w1', 'ag_1'],
          ['assigned', 'cv_w2', 'ag_1'],
        ]);
        const agent = await agentNow('ag_1');
        expect(back.agent).to.deep.equal(agent);
        expect([
          agent.status,
          agent.statusReason,
          agent.availableSince,
          agent.load.chat,
          agent.load.email,
        ]).to.deep.equal(['available', undefined, T0 + MIN, 3, 1]);
        expect(await store.queueSnapshot('cv_1')).to.equal(null);
        expect((await store.queueSnapshot('cv_w3'))?.position).to.equal(1);
        expect((await agentNow('ag_2')).load.email).to.equal(0);
        expect(await due(T0 + HOUR)).to.deep.equal([]);

        // Already available, with a reason: it is kept, and nothing else moves.
        const again = await store.comeBack('ag_1', 'back', T0 + 2 * MIN, ['voice'], RULES);
        expect(again.before).to.deep.equal({ status: 'available' });
        expect([again.updated, again.freed, again.claims]).to.deep.equal([[], [], []]);
        expect(again.agent.statusReason).to.equal('back');
        expect((await failure(store.comeBack('ag_nobody', undefined, T0, [], RULES))).code).to.equal(
          'not_found',
        );
      });

      it('resolve by an agent: only its owner may; the covering colleague is named', async () => {
        await addAgent('ag_1');
        await addAgent('ag_2', { idleSince: T0 + SEC });
        await addOwned('cv_1', 'ag_1');
        await store.setAgentStatus('ag_1', 'away', undefined, T0 + SEC);
        expect(
          (await route('cv_1', [one('ag_2')], { mode: { type: 'cover' }, now: T0 + 2 * SEC })).type,
        ).to.equal('covered');
        const refused = await failure(store.resolve('cv_1', T0 + MIN, null, { by: 'ag_2' }));
        expect(refused.code).to.equal('not_owner');
        expect((await conversationNow('cv_1')).status).to.equal('assigned');
        expect((await failure(store.resolve('cv_nobody', T0 + MIN, null, { by: 'ag_1' }))).code).to.equal(
          'not_found',
        );
        const done = await store.resolve('cv_1', T0 + MIN, null, { by: 'ag_1' });
        expect(done.conversation.status).to.equal('resolved');
        expect(done.coverer).to.equal('ag_2');
        expect((await agentNow('ag_2')).load.chat).to.equal(0);
        expect((await failure(store.resolve('cv_1', T0 + MIN, null, { by: 'ag_1' }))).code).to.equal(
          'not_owner',
        );
      });

      it("resolve with fill gives the owner's freed capacity to who waits next, in the same step", async () => {
        await addAgent('ag_1', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
        await addOwned('cv_1', 'ag_1');
        await addWaiting('cv_2', {}, T0 + 2 * SEC);
        await addWaiting('cv_3', {}, T0 + SEC);
        await store.addPromise(promiseRecord('pr_3', 'cv_3', { dueAt: T0 + MIN }));
        const done = await store.resolve('cv_1', T0 + 30 * SEC, null, { by: 'ag_1', fill: RULES });
        expect(done.conversation.status).to.equal('resolved');
        expect(done.claims.map((o) => [o.type, o.conversation.id, o.conversation.ownerId])).to.deep.equal([
          ['assigned', 'cv_3', 'ag_1'],
        ]);
        const first = done.claims[0];
        expect(first?.type === 'assigned' ? first.settled.map((p) => [p.id, p.state]) : null).to.deep.equal([
          ['pr_3', 'kept'],
        ]);
        expect((await agentNow('ag_1')).load.chat).to.equal(1);
        expect((await store.queueSnapshot('cv_2'))?.position).to.equal(1);
        // Without fill, nothing is claimed.
        const other = await store.resolve('cv_3', T0 + MIN, null, { by: 'ag_1' });
        expect(other.claims).to.deep.equal([]);
        expect((await agentNow('ag_1')).load.chat).to.equal(0);
      });

      it('resolve drops the sticky timer and schedules the survey when asked', async () => {
        await addAgent('ag_1');
        await addOwned('cv_1', 'ag_1');
        await addOwned('cv_2', 'ag_1');
        await store.schedule({ kind: 'sticky', ref: 'cv_1', dueAt: T0 + MIN });
        await store.schedule({ kind: 'sticky', ref: 'cv_2', dueAt: T0 + MIN });
        await store.resolve('cv_1', T0 + 10 * SEC, null, { surveyAt: T0 + 5 * MIN });
        await store.resolve('cv_2', T0 + 10 * SEC, null);
        expect(await due(T0 + 4 * MIN)).to.deep.equal([]);
        expect(await store.claimDueTimers(T0 + HOUR, 10)).to.deep.equal([
          { kind: 'survey', ref: 'cv_1', dueAt: T0 + 5 * MIN },
        ]);
      });
    });

    // ================================================================ timers

    describe('timers', () => {
      const t = (kind: Timer['kind'], ref: string, dueAt: number): Timer => ({ kind, ref, dueAt });

      it('schedule replaces the timer of the same kind and ref; cancelTimer removes one', async () => {
        await store.schedule(t('offer', 'cv_1', T0 + 20 * SEC));
        await store.schedule(t('sticky', 'cv_1', T0 + 10 * SEC));
        await store.schedule(t('promise', 'pr_1', T0 + 5 * SEC));
        await store.schedule(t('overflow', 'cv_2', T0 + MIN));
        await store.schedule(t('offer', 'cv_1', T0 + 30 * SEC));
        await store.cancelTimer('overflow', 'cv_2');
        await store.cancelTimer('overflow', 'cv_nobody');

        expect(await store.claimDueTimers(T0 + 4 * SEC, 10)).to.deep.equal([]);
        expect(await store.claimDueTimers(T0 + 25 * SEC, 10)).to.deep.equal([
          t('promise', 'pr_1', T0 + 5 * SEC),
          t('sticky', 'cv_1', T0 + 10 * SEC),
        ]);
        expect(await store.claimDueTimers(T0 + 25 * SEC, 10)).to.deep.equal([]);
        expect(await store.claimDueTimers(T0 + 10 * MIN, 10)).to.deep.equal([
          t('offer', 'cv_1', T0 + 30 * SEC),
        ]);
        expect(await store.claimDueTimers(T0 + 10 * MIN, 10)).to.deep.equal([]);
      });

      it('promise-warn and survey timers are separate from the promise timer of the same ref', async () => {
        await store.schedule(t('promise', 'pr_1', T0 + 10 * SEC));
        await store.schedule(t('promise-warn', 'pr_1', T0 + 5 * SEC));
        await store.schedule(t('survey', 'cv_1', T0 + 7 * SEC));
        await store.cancelTimer('promise-warn', 'pr_1');
        await store.schedule(t('promise-warn', 'pr_1', T0 + 8 * SEC));
        expect(await store.claimDueTimers(T0 + MIN, 10)).to.deep.equal([
          t('survey', 'cv_1', T0 + 7 * SEC),
          t('promise-warn', 'pr_1', T0 + 8 * SEC),
          t('promise', 'pr_1', T0 + 10 * SEC),
        ]);
      });

      it('setWrapUp keeps the after-call work and sets its wrapup timer in the same step; a later one moves both', async () => {
        expect(await store.wrapUp('cv_1', T0)).to.equal(null);
        await store.setWrapUp('cv_1', { since: T0, dueAt: T0 + 2 * MIN }, 10 * MIN);
        expect(await store.wrapUp('cv_1', T0 + MIN)).to.deep.equal({ since: T0, dueAt: T0 + 2 * MIN });
        await store.setWrapUp('cv_1', { since: T0, dueAt: T0 + 3 * MIN }, 10 * MIN);
        expect(await store.wrapUp('cv_1', T0 + MIN)).to.deep.equal({ since: T0, dueAt: T0 + 3 * MIN });
        expect(await store.claimDueTimers(T0 + 2 * MIN, 10)).to.deep.equal([]);
        expect(await store.claimDueTimers(T0 + 3 * MIN, 10)).to.deep.equal([
          t('wrapup', 'cv_1', T0 + 3 * MIN),
        ]);
        // The record outlives its timer, for the owner's last look.
        expect(await store.wrapUp('cv_1', T0 + 3 * MIN)).to.deep.equal({ since: T0, dueAt: T0 + 3 * MIN });
        expect(await store.wrapUp('cv_2', T0)).to.equal(null);
      });

      it('listWrapUps answers in one read the after-call work not yet up within the window, with its conversation', async () => {
        await addCustomer('cu_1');
        await addAgent('ag_1', { capacity: { voice: 3, sms: 0, chat: 0, email: 0 } });
        const call = { lastChannel: 'voice' as const, channels: ['voice' as const] };
        for (const id of ['cv_1', 'cv_2', 'cv_3']) await addOwned(id, 'ag_1', call);
        await addConversation('cv_4', call);
        expect(await store.listWrapUps(T0, 10 * MIN)).to.deep.equal([]);
        await store.setWrapUp('cv_1', { since: T0, dueAt: T0 + 2 * MIN }, 11 * MIN);
        await store.setWrapUp('cv_2', { since: T0, dueAt: T0 + MIN }, 11 * MIN);
        // Moved later: as last set.
        await store.setWrapUp('cv_2', { since: T0, dueAt: T0 + 3 * MIN }, 11 * MIN);
        await store.setWrapUp('cv_3', { since: T0, dueAt: T0 + 30 * SEC }, 11 * MIN);
        // Whatever became of the conversation since: a conversation in line is answered as it is.
        await store.setWrapUp('cv_4', { since: T0, dueAt: T0 + 4 * MIN }, 11 * MIN);
        // Another timer of the same conversation is no after-call work.
        await store.schedule(t('sticky', 'cv_1', T0 + MIN));
        const read = async (now: number, within: number) =>
          (await store.listWrapUps(now, within))
            .map(({ conversation, wrapUp }) => [
              conversation.id,
              conversation.status,
              wrapUp.since,
              wrapUp.dueAt,
            ])
            .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
        expect(await read(T0 + 10 * SEC, 10 * MIN)).to.deep.equal([
          ['cv_1', 'assigned', T0, T0 + 2 * MIN],
          ['cv_2', 'assigned', T0, T0 + 3 * MIN],
          ['cv_3', 'assigned', T0, T0 + 30 * SEC],
          ['cv_4', 'queued', T0, T0 + 4 * MIN],
        ]);
        // Up exactly now: no longer; past the window: not read.
        expect(await read(T0 + 30 * SEC, 2 * MIN)).to.deep.equal([['cv_1', 'assigned', T0, T0 + 2 * MIN]]);
        // Up (its timer due and claimed): no longer read.
        expect(await store.claimDueTimers(T0 + 2 * MIN, 10)).to.deep.include(
          t('wrapup', 'cv_1', T0 + 2 * MIN),
        );
        expect((await read(T0 + 2 * MIN, 10 * MIN)).map((x) => x[0])).to.deep.equal(['cv_2', 'cv_4']);
      });

      it("keeps an agent's call out to a customer until its time, renewed or ended; read for many agents at once", async () => {
        const call = {
          agentId: 'ag_1',
          conversationId: 'cv_1',
          to: '+14155550100',
          since: T0,
          until: T0 + MIN,
        };
        expect(await store.listOutCalls(['ag_1', 'ag_2'], T0)).to.deep.equal([]);
        await store.setOutCall(call, T0);
        await store.setOutCall({ ...call, agentId: 'ag_2', conversationId: 'cv_2', until: T0 + 2 * MIN }, T0);
        expect(await store.listOutCalls(['ag_2', 'ag_1', 'ag_3'], T0 + SEC)).to.deep.equal([
          { ...call, agentId: 'ag_2', conversationId: 'cv_2', until: T0 + 2 * MIN },
          call,
        ]);
        expect(await store.listOutCalls([], T0)).to.deep.equal([]);
        // Renewed while they talk; ended, forgotten.
        await store.setOutCall({ ...call, until: T0 + 10 * MIN }, T0 + 30 * SEC);
        await store.endOutCall('ag_2');
        expect(await store.listOutCalls(['ag_1', 'ag_2'], T0 + 5 * MIN)).to.deep.equal([
          { ...call, until: T0 + 10 * MIN },
        ]);
        // Past its time: gone.
        expect(await store.listOutCalls(['ag_1'], T0 + 10 * MIN)).to.deep.equal([]);
      });

      it('a timer due exactly now is due', async () => {
        await store.schedule(t('sticky', 'cv_1', T0));
        expect(await store.claimDueTimers(T0, 10)).to.deep.equal([t('sticky', 'cv_1', T0)]);
      });

      it('claimDueTimers returns the oldest first and respects the limit', async () => {
        for (const n of [5, 3, 1, 4, 2]) await store.schedule(t('promise', `pr_${n}`, T0 + n * SEC));
        const refs = async (limit: number) => (await store.claimDueTimers(T0 + MIN, limit)).map((x) => x.ref);
        expect(await refs(2)).to.deep.equal(['pr_1', 'pr_2']);
        expect(await refs(2)).to.deep.equal(['pr_3', 'pr_4']);
        expect(await refs(10)).to.deep.equal(['pr_5']);
        expect(await refs(10)).to.deep.equal([]);
      });

      it("a timer claimed with a lease is nobody else's until the lease ends, then due again; finished, it is gone", async () => {
        await store.schedule(t('survey', 'cv_1', T0));
        await store.schedule(t('offer', 'cv_2', T0 + SEC));
        const lease = T0 + 2 * SEC + 30 * SEC;
        // Claimed (with the time each was due) by a process that then dies before firing them.
        expect(await store.claimDueTimers(T0 + 2 * SEC, 10, lease)).to.deep.equal([
          t('survey', 'cv_1', T0),
          t('offer', 'cv_2', T0 + SEC),
        ]);
        expect(await store.claimDueTimers(lease - 1, 10)).to.deep.equal([]);
        // Another process claims them when the lease ends, fires one and finishes both.
        const again = lease + 30 * SEC;
        expect(await store.claimDueTimers(lease, 10, again)).to.deep.equal([
          t('offer', 'cv_2', lease),
          t('survey', 'cv_1', lease),
        ]);
        await store.finishTimers([t('survey', 'cv_1', lease), t('offer', 'cv_2', lease)], again);
        expect(await store.claimDueTimers(T0 + HOUR, 10)).to.deep.equal([]);
      });

      it('finishTimers keeps a timer scheduled again while it fired, and one another lease holds', async () => {
        await store.schedule(t('console', 'ag_1', T0));
        await store.schedule(t('sticky', 'cv_1', T0));
        const lease = T0 + 30 * SEC;
        await store.claimDueTimers(T0, 10, lease);
        // Firing it scheduled it again (an agent's console lease pushed ahead).
        await store.schedule(t('console', 'ag_1', T0 + 5 * MIN));
        await store.finishTimers([t('console', 'ag_1', T0), t('sticky', 'cv_1', T0)], lease);
        // A lease that is not this one's (another process claimed it since): kept.
        await store.schedule(t('promise', 'pr_1', T0));
        await store.claimDueTimers(T0, 10, lease + 1);
        await store.finishTimers([t('promise', 'pr_1', T0)], lease);
        expect(await store.claimDueTimers(T0 + HOUR, 10)).to.deep.equal([
          t('promise', 'pr_1', lease + 1),
          t('console', 'ag_1', T0 + 5 * MIN),
        ]);
      });

      it('concurrent claims get each due timer exactly once', async () => {
        for (let n = 0; n < 10; n++) await store.schedule(t('promise', `pr_${n}`, T0 + n * SEC));
        const [a, b] = await Promise.all([
          store.claimDueTimers(T0 + MIN, 6),
          store.claimDueTimers(T0 + MIN, 6),
        ]);
        const all = [...a, ...b].map((x) => x.ref).sort();
        expect(all).to.deep.equal([
          'pr_0',
          'pr_1',
          'pr_2',
          'pr_3',
          'pr_4',
          'pr_5',
          'pr_6',
          'pr_7',
          'pr_8',
          'pr_9',
        ]);
      });
    });

    // ================================================================ promises and figures

    describe('promises', () => {
      it('addPromise, getPromise and listPromises per conversation in order', async () => {
        const p1 = promiseRecord('pr_1', 'cv_1');
        const p2 = promiseRecord('pr_2', 'cv_1', {
          kind: 'callback',
          dueAt: T0 + 30 * MIN,
          text: 'call back',
        });
        const p3 = promiseRecord('pr_3', 'cv_2', { kind: 'agent', agentId: 'ag_1' });
        expect(await store.addPromise(p1)).to.deep.equal(p1);
        await store.addPromise(p2);
        await store.addPromise(p3);
        expect(await store.listPromises('cv_1')).to.deep.equal([p1, p2]);
        expect(await store.listPromises('cv_2')).to.deep.equal([p3]);
        expect(await store.listPromises('cv_nobody')).to.deep.equal([]);
        expect(await store.getPromise('pr_2')).to.deep.equal(p2);
        expect(await store.getPromise('pr_nobody')).to.equal(null);
      });

      it('settlePromise settles an open promise once', async () => {
        await store.addPromise(promiseRecord('pr_1', 'cv_1'));
        const kept = await store.settlePromise('pr_1', 'kept', T0 + 30 * SEC);
        expect(kept?.state).to.equal('kept');
        expect(kept?.settledAt).to.equal(T0 + 30 * SEC);
        expect(await store.settlePromise('pr_1', 'broken', T0 + 2 * MIN)).to.equal(null);
        expect((await store.getPromise('pr_1'))?.state).to.equal('kept');
        expect((await store.getPromise('pr_1'))?.settledAt).to.equal(T0 + 30 * SEC);
        expect((await store.listPromises('cv_1'))[0]?.state).to.equal('kept');
        expect(await store.settlePromise('pr_nobody', 'void', T0)).to.equal(null);
      });
    });

    describe('figures', () => {
      it('listAgentConversations: the assigned conversations an agent owns, covers, consults on, is invited to or offered', async () => {
        for (const id of ['cu_1', 'cu_2', 'cu_3', 'cu_4', 'cu_5']) await addCustomer(id);
        await addAgent('ag_1', { capacity: { voice: 1, sms: 3, chat: 4, email: 5 } });
        await addAgent('ag_2', { idleSince: T0 + SEC });
        await addAgent('ag_3', { status: 'away' });
        const onList = async (agentId: string) => ids(await store.listAgentConversations(agentId));
        await addOwned('cv_owned', 'ag_1', { customerId: 'cu_1' });
        await addOwned('cv_consult', 'ag_1', { customerId: 'cu_2', createdAt: T0 + MIN }, T0 + MIN);
        await addOwned('cv_offered', 'ag_1', { customerId: 'cu_3', createdAt: T0 + 2 * MIN }, T0 + 2 * MIN);
        await addOwned('cv_done', 'ag_1', { customerId: 'cu_4', createdAt: T0 + 3 * MIN }, T0 + 3 * MIN);
        await addWaiting('cv_waiting', {
          customerId: 'cu_5',
          createdAt: T0 + 4 * MIN,
          queuedAt: T0 + 4 * MIN,
        });
        await store.inviteConsultant('cv_consult', 'ag_3', T0);
        await store.inviteConsultant('cv_done', 'ag_3', T0);
        await store.setAgentStatus('ag_3', 'available', undefined, T0 + 5 * MIN);
        await store.offerHandoff('cv_offered', 'ag_1', 'ag_3', 'yours?', T0 + 5 * MIN);
        await store.resolve('cv_done', T0 + 6 * MIN, null);
        // A colleague answers the call for the owner.
        await store.touchConversation('cv_owned', 'voice', T0 + 7 * MIN);
        await route('cv_owned', [one('ag_2', 'routed')], {
          mode: { type: 'cover' },
          now: T0 + 7 * MIN,
          channel: 'voice',
        });
        expect((await conversationNow('cv_owned')).cover?.agentId).to.equal('ag_2');

        expect(await onList('ag_1')).to.deep.equal(['cv_owned', 'cv_consult', 'cv_offered']);
        expect(await onList('ag_2')).to.deep.equal(['cv_owned']);
        expect(await onList('ag_3')).to.deep.equal(['cv_consult', 'cv_offered']);
        await store.joinConsult('cv_consult', 'ag_3', T0);
        await store.declineHandoff('cv_offered', 'ag_3');
        expect(await onList('ag_3')).to.deep.equal(['cv_consult']);
        await store.leaveConsult('cv_consult', 'ag_3');
        await store.resolve('cv_owned', T0 + 9 * MIN, null);
        expect(await onList('ag_3')).to.deep.equal([]);
        expect(await onList('ag_2')).to.deep.equal([]);
        expect(await onList('ag_1')).to.deep.equal(['cv_consult', 'cv_offered']);
        const [first] = await store.listAgentConversations('ag_1');
        expect(first).to.deep.equal(await conversationNow('cv_consult'));
        expect(await onList('ag_nobody')).to.deep.equal([]);
      });

      it('conversationsTouchedBy: what an agent took, passed on or resolved as owner since a time, oldest first', async () => {
        for (const id of ['cu_1', 'cu_2', 'cu_3', 'cu_4', 'cu_5']) await addCustomer(id);
        await addAgent('ag_1');
        await addAgent('ag_2', { idleSince: T0 + SEC });
        const day = T0 + 12 * HOUR;
        // The day before: taken by ag_1 and resolved.
        await addOwned('cv_old', 'ag_1', { customerId: 'cu_1' }, T0);
        await store.resolve('cv_old', T0 + MIN, null);
        // Taken the day before, resolved by ag_1 on the day.
        await addOwned('cv_long', 'ag_1', { customerId: 'cu_2', createdAt: T0 + 2 * MIN }, T0 + 2 * MIN);
        // Taken by ag_1 on the day and handed off to ag_2.
        await addOwned('cv_moved', 'ag_1', { customerId: 'cu_3', createdAt: day + MIN }, day + MIN);
        await store.offerHandoff('cv_moved', 'ag_1', 'ag_2', 'yours', day + 2 * MIN);
        await store.acceptHandoff('cv_moved', 'ag_2', day + 3 * MIN);
        await store.resolve('cv_long', day + 4 * MIN, null);
        // Only ag_2's; and one that waits, nobody's.
        await addOwned('cv_other', 'ag_2', { customerId: 'cu_4', createdAt: day + 5 * MIN }, day + 5 * MIN);
        await addWaiting('cv_waiting', {
          customerId: 'cu_5',
          createdAt: day + 6 * MIN,
          queuedAt: day + 6 * MIN,
        });

        expect(ids(await store.conversationsTouchedBy('ag_1', day))).to.deep.equal(['cv_long', 'cv_moved']);
        expect(ids(await store.conversationsTouchedBy('ag_2', day))).to.deep.equal(['cv_moved', 'cv_other']);
        expect(ids(await store.conversationsTouchedBy('ag_1', T0))).to.deep.equal([
          'cv_old',
          'cv_long',
          'cv_moved',
        ]);
        expect(ids(await store.conversationsTouchedBy('ag_2', day + 4 * MIN))).to.deep.equal(['cv_other']);
        expect(await store.conversationsTouchedBy('ag_nobody', T0)).to.deep.equal([]);
        const moved = (await store.conversationsTouchedBy('ag_2', day)).find((c) => c.id === 'cv_moved');
        expect(moved).to.deep.equal(await conversationNow('cv_moved'));
      });

      it('keeps a bounded window of recent handle times per channel, newest last', async () => {
        for (let n = 1; n <= HANDLE_TIME_WINDOW + 5; n++) await store.recordHandleTime('chat', n * SEC);
        await store.recordHandleTime('sms', 7 * SEC);
        const chat = await store.recentHandleTimes('chat');
        expect(chat.length).to.equal(HANDLE_TIME_WINDOW);
        expect(chat[0]).to.equal(6 * SEC);
        expect(chat.at(-1)).to.equal((HANDLE_TIME_WINDOW + 5) * SEC);
        expect(await store.recentHandleTimes('sms')).to.deep.equal([7 * SEC]);
        expect(await store.recentHandleTimes('email')).to.deep.equal([]);
      });

      it('stats counts what waits per channel and the agents per status', async () => {
        await addCustomer('cu_1');
        await addAgent('ag_1', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
        await addAgent('ag_2', { capacity: zeroPerChannel() });
        await addAgent('ag_3', { status: 'away' });
        await addAgent('ag_4', { status: 'offline' });
        await addOwned('cv_owned', 'ag_1');
        await addWaiting('cv_1');
        await addWaiting('cv_2', { createdAt: T0 + SEC, queuedAt: T0 + SEC });
        await addWaiting('cv_3', { lastChannel: 'voice', channels: ['voice'] });
        await addConversation('cv_4', { status: 'resolved', queuedAt: null });
        expect(await store.stats()).to.deep.equal({
          waiting: 3,
          waitingByChannel: { voice: 1, sms: 0, chat: 2, email: 0 },
          agentsByStatus: { available: 2, away: 1, offline: 1 },
        });
        // The team: one who leaves it is counted nowhere.
        await store.setAgentStatus('ag_3', 'offline', 'left the team', T0 + SEC);
        await store.updateAgent('ag_3', { leftAt: T0 + SEC });
        expect((await store.stats()).agentsByStatus).to.deep.equal({ available: 2, away: 0, offline: 1 });
      });

      it("the team's saved replies: none set, then set whole, then replaced; a copy comes back", async () => {
        expect(await store.getSavedReplies()).to.equal(null);
        const replies = [
          { name: 'Return label', text: 'Your return label is attached.' },
          { name: 'Thanks', text: 'Thank you for your patience.' },
          // Whom it is for stays with it.
          { name: 'Saludo', text: 'Hola {name}', skills: ['spanish'] },
        ];
        await store.setSavedReplies(replies);
        const got = await store.getSavedReplies();
        expect(got).to.deep.equal(replies);
        got![0]!.text = 'changed by the caller';
        expect((await store.getSavedReplies())![0]!.text).to.equal('Your return label is attached.');
        await store.setSavedReplies([]);
        expect(await store.getSavedReplies()).to.deep.equal([]);
      });

      it('texting numbers that opted out: when, until they opt in again; another number is its own', async () => {
        expect(await store.textOptOut('+14155550100')).to.equal(null);
        await store.setTextOptOut('+14155550100', T0 + SEC);
        expect(await store.textOptOut('+14155550100')).to.equal(T0 + SEC);
        expect(await store.textOptOut('+14155550199')).to.equal(null);
        // Opting out again moves the time; opting in forgets it, twice is once.
        await store.setTextOptOut('+14155550100', T0 + 5 * SEC);
        expect(await store.textOptOut('+14155550100')).to.equal(T0 + 5 * SEC);
        await store.setTextOptOut('+14155550100', null);
        await store.setTextOptOut('+14155550100', null);
        expect(await store.textOptOut('+14155550100')).to.equal(null);
      });

      it('ping answers while open; close ends it', async () => {
        expect(await store.ping()).to.equal(undefined);
        const extra = await makeStore();
        expect(await extra.ping()).to.equal(undefined);
        if (cleanup) await cleanup(extra);
        await extra.close();
        const err = await failure(extra.ping());
        expect(['invalid_state', 'store_unavailable'].includes(err.code)).to.equal(true);
      });
    });
  });
}
