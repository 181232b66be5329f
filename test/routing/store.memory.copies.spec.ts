// The memory store copies records field by field as the model nests them, and falls back to a full
// deep copy for a record that nests otherwise (a caller's extra values). Either way, a record that
// goes in or comes out shares nothing with what is stored.
import { expect } from 'chai';
import { MemoryStore } from '../../routing/store/memory.js';
import {
  type Agent,
  type Conversation,
  type Customer,
  type CustomerPromise,
  type Message,
  zeroPerChannel,
} from '../../shared/model.js';

const T0 = Date.UTC(2026, 0, 5, 9);

const customer = (id: string, extra: object = {}): Customer => ({
  id,
  identities: [{ channel: 'chat', address: `v-${id}` }],
  facts: { name: { value: 'Ada', source: 'chat:prechat', at: T0 } },
  notes: [{ text: 'hello', by: 'system', at: T0 }],
  createdAt: T0,
  ...extra,
});

const agent = (id: string, extra: object = {}): Agent => ({
  id,
  name: `Agent ${id}`,
  skills: { billing: 2 },
  capacity: { voice: 1, sms: 3, chat: 3, email: 5 },
  status: 'available',
  load: zeroPerChannel(),
  idleSince: T0,
  availableSince: T0,
  createdAt: T0,
  ...extra,
});

const conversation = (id: string, customerId: string, extra: object = {}): Conversation => ({
  id,
  customerId,
  status: 'queued',
  ownerId: null,
  slotChannel: null,
  cover: null,
  consultants: [],
  invited: [],
  channels: ['chat'],
  lastChannel: 'chat',
  skills: { billing: 1 },
  priority: 0,
  createdAt: T0,
  lastContactAt: T0,
  queuedAt: T0,
  waitingForOwnerSince: null,
  assignedAt: null,
  firstAssignedAt: null,
  resolvedAt: null,
  followUpAt: null,
  offer: null,
  handoff: null,
  ownership: [{ from: null, to: 'ag_0', reason: 'routed', at: T0 }],
  declinedBy: ['ag_9'],
  followUpOf: { conversationId: 'cv_0', promiseId: 'pr_0' },
  ...extra,
});

const message = (id: string, conversationId: string, extra: object = {}): Message => ({
  id,
  conversationId,
  direction: 'in',
  channel: 'chat',
  author: { type: 'customer', id: 'cu_1' },
  text: 'hi',
  attachments: [{ name: 'a.png', type: 'image/png', size: 3 }],
  at: T0,
  delivery: { state: 'delivered', attempts: 0, at: T0 },
  ...extra,
});

const promise = (id: string, conversationId: string, extra: object = {}): CustomerPromise => ({
  id,
  conversationId,
  kind: 'wait',
  dueAt: T0 + 60_000,
  createdAt: T0,
  state: 'open',
  settledAt: null,
  ...extra,
});

/** Every object and array reachable from `value`, paired with its path. */
function nested(value: unknown, path = '$'): Array<[string, object]> {
  if (typeof value !== 'object' || value === null) return [];
  const out: Array<[string, object]> = [[path, value]];
  for (const [key, v] of Object.entries(value)) out.push(...nested(v, `${path}.${key}`));
  return out;
}

/** `a` and `b` are equal and share no object or array at any depth. */
function expectDetached(a: unknown, b: unknown): void {
  expect(a).to.deep.equal(b);
  const inB = new Set(nested(b).map(([, o]) => o));
  for (const [path, o] of nested(a)) expect(inB.has(o), `${path} is shared`).to.equal(false);
}

/** Variants of a record: as the model has it, and with values nested where the model has none. */
const variants = {
  plain: {},
  'an extra nested object': { extra: { deep: { list: [1, 2] } } },
  'an extra list of objects': { tags: [{ name: 'x' }] },
};

describe('memory store: copies in and out', () => {
  for (const [name, extra] of Object.entries(variants)) {
    describe(`a record with ${name}`, () => {
      it('customers, agents, conversations, messages and promises come back equal and detached', async () => {
        const store = new MemoryStore();
        const cu = customer('cu_1', extra);
        const created = await store.resolveCustomer({ channel: 'chat', address: 'v-cu_1' }, cu);
        expectDetached(created.customer, cu);
        expectDetached(await store.getCustomer('cu_1'), cu);

        const ag = agent('ag_1', extra);
        expectDetached(await store.createAgent(ag), ag);
        expectDetached(await store.getAgent('ag_1'), ag);
        expectDetached((await store.listAgents())[0], ag);

        const cv = conversation('cv_1', 'cu_1', extra);
        expectDetached(await store.createConversation(cv), cv);
        expectDetached(await store.getConversation('cv_1'), cv);
        expectDetached((await store.listConversations({ customerId: 'cu_1' }))[0], cv);

        const msg = message('msg_1', 'cv_1', extra);
        expectDetached((await store.appendMessage(msg)).message, msg);
        expectDetached(await store.getMessage('msg_1'), msg);
        expectDetached((await store.listMessages('cv_1'))[0], msg);

        const pr = promise('pr_1', 'cv_1', extra);
        expectDetached(await store.addPromise(pr), pr);
        expectDetached(await store.getPromise('pr_1'), pr);
        expectDetached((await store.listPromises('cv_1'))[0], pr);
      });

      it('changing what went in or came out, at any depth, changes nothing stored', async () => {
        const store = new MemoryStore();
        const cu = customer('cu_1', extra);
        await store.resolveCustomer({ channel: 'chat', address: 'v-cu_1' }, cu);
        const cv = conversation('cv_1', 'cu_1', extra);
        await store.createConversation(cv);
        const msg = message('msg_1', 'cv_1', extra);
        await store.appendMessage(msg);
        const before = {
          customer: structuredClone(await store.getCustomer('cu_1')),
          conversation: structuredClone(await store.getConversation('cv_1')),
          message: structuredClone(await store.getMessage('msg_1')),
        };
        const outs = [
          cu,
          cv,
          msg,
          await store.getCustomer('cu_1'),
          await store.getConversation('cv_1'),
          await store.getMessage('msg_1'),
        ];
        for (const record of outs) {
          for (const [, o] of nested(record)) {
            if (Array.isArray(o)) o.push('mallory');
            else (o as Record<string, unknown>).mallory = 1;
          }
        }
        expect(await store.getCustomer('cu_1')).to.deep.equal(before.customer);
        expect(await store.getConversation('cv_1')).to.deep.equal(before.conversation);
        expect(await store.getMessage('msg_1')).to.deep.equal(before.message);
      });
    });
  }

  it('values a caller adds later (survey, facts, note, identity, patch, delivery) are copied too', async () => {
    const store = new MemoryStore();
    await store.resolveCustomer({ channel: 'chat', address: 'v1' }, customer('cu_1'));
    await store.createAgent(agent('ag_1'));
    await store.createConversation(conversation('cv_1', 'cu_1'));
    await store.appendMessage(
      message('msg_1', 'cv_1', { direction: 'out', delivery: { state: 'pending', attempts: 0, at: T0 } }),
    );

    const survey = { askedAt: T0, extra: { deep: [1] } };
    const fact = { value: 'x', source: 'test', at: T0 + 1, extra: { deep: [1] } };
    const note = { text: 'n', by: 'test', at: T0, extra: { deep: [1] } };
    const identity = { channel: 'email' as const, address: 'a@example.com', extra: { deep: [1] } };
    const skills = { billing: 3 };
    const delivery = { state: 'sent' as const, attempts: 1, at: T0, extra: { deep: [1] } };
    const conv = await store.recordSurvey('cv_1', survey);
    await store.recordFacts('cu_1', { email: fact });
    await store.addCustomerNote('cu_1', note);
    const linked = await store.linkIdentity('cu_1', identity);
    const patched = await store.updateAgent('ag_1', { skills });
    const { message: delivered } = await store.updateDelivery('msg_1', delivery);
    survey.extra.deep.push(2);
    fact.extra.deep.push(2);
    note.extra.deep.push(2);
    identity.extra.deep.push(2);
    skills.billing = 9;
    delivery.extra.deep.push(2);
    (conv.survey as unknown as typeof survey).extra.deep.push(3);
    (linked.customer.facts.email as unknown as typeof fact).extra.deep.push(3);
    patched.skills.billing = 8;
    (delivered.delivery as unknown as typeof delivery).extra.deep.push(3);

    expect((await store.getConversation('cv_1'))?.survey).to.deep.equal({
      askedAt: T0,
      extra: { deep: [1] },
    });
    const stored = await store.getCustomer('cu_1');
    expect(stored?.facts.email).to.deep.equal({
      value: 'x',
      source: 'test',
      at: T0 + 1,
      extra: { deep: [1] },
    });
    expect(stored?.notes.at(-1)).to.deep.equal({ text: 'n', by: 'test', at: T0, extra: { deep: [1] } });
    expect(stored?.identities.at(-1)).to.deep.equal({
      channel: 'email',
      address: 'a@example.com',
      extra: { deep: [1] },
    });
    expect((await store.getAgent('ag_1'))?.skills).to.deep.equal({ billing: 3 });
    expect((await store.getMessage('msg_1'))?.delivery).to.deep.equal({
      state: 'sent',
      attempts: 1,
      at: T0,
      extra: { deep: [1] },
    });
  });
});
