// The Redis store against a real redis-server: the same conformance suite as
// the memory store (a key prefix of its own per test, deleted afterwards), then
// what only Redis has: the key layout, corrupt records, lost scripts, and Redis
// going away and coming back.
import { expect } from 'chai';
import { createClient } from 'redis';
import { LIST_PAGE, RedisStore } from '../../routing/store/redis.js';
import type { RedisClient } from '../../routing/store/redis-connection.js';
import { listLibraries, versionMarker } from '../../routing/store/redis-functions.js';
import { KEY_LAYOUTS, luaKeyBuilder, RedisKeys } from '../../routing/store/redis-keys.js';
import { redisScripts } from '../../routing/store/redis-scripts.js';
import { HANDLE_TIME_WINDOW } from '../../routing/store/rules.js';
import type { NewContact, Store } from '../../routing/store/store.js';
import { CorruptRecordError, StoreUnavailableError, type SwitchboardError } from '../../shared/errors.js';
import type { Agent, Conversation, Customer, Skills } from '../../shared/model.js';
import { rejection } from '../support/rejection.js';
import { freePort, startRedisServer, stopRedisServer, testPrefix, useRedis } from './redis-harness.js';
import { storeContract } from './store.contract.js';

const T0 = Date.UTC(2026, 0, 5, 9);

const customer = (id: string): Customer => ({ id, identities: [], facts: {}, notes: [], createdAt: T0 });
const agent = (id: string): Agent => ({
  id,
  name: `Agent ${id}`,
  skills: { billing: 2 },
  capacity: { voice: 1, sms: 1, chat: 2, email: 0 },
  status: 'available',
  load: { voice: 0, sms: 0, chat: 0, email: 0 },
  idleSince: T0,
  availableSince: T0,
  createdAt: T0,
});
const conversation = (id: string, customerId: string): Conversation => ({
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
  skills: {},
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
  ownership: [],
  declinedBy: [],
});

/** The conversation assigned, on chat, to the longest-idle free agent (or queued when none is free). */
const assignChat = (store: Store, conversationId: string, now: number, score = now) =>
  store.route({
    conversationId,
    channel: 'chat',
    candidates: [{ kind: 'pool', skills: {}, reason: 'routed' }],
    mode: { type: 'assign' },
    now,
    score,
  });

describe('RedisStore', () => {
  // Of its own: these specs flush Redis's functions and pause its clients.
  const redis = useRedis({ own: true });

  storeContract(
    'redis',
    () => redis.connect('contract'),
    async (store: Store) => {
      await (store as RedisStore).flushPrefix();
    },
  );

  describe('redis only', () => {
    let store: RedisStore;
    let raw: ReturnType<typeof createClient>;

    beforeEach(async () => {
      store = await redis.connect('only');
      raw = createClient({ url: redis.url() });
      raw.on('error', () => {});
      await raw.connect();
    });

    afterEach(async () => {
      await store.flushPrefix();
      await store.close();
      raw.destroy();
    });

    const seed = async () => {
      await store.resolveCustomer({ channel: 'chat', address: 'v1' }, customer('cu_1'));
      await store.createAgent(agent('ag_1'));
      await store.createConversation(conversation('cv_1', 'cu_1'));
    };

    it('keeps every key under its prefix, inside one hash tag', async () => {
      await seed();
      await assignChat(store, 'cv_1', T0);
      await store.schedule({ kind: 'sticky', ref: 'cv_1', dueAt: T0 });
      const keys: string[] = [];
      for await (const batch of raw.scanIterator({ MATCH: store.keys.pattern, COUNT: 1000 }))
        keys.push(...batch);
      expect(keys.length).to.be.greaterThan(10);
      for (const key of keys) {
        expect(key.startsWith(store.keys.base)).to.equal(true);
        // The hash tag is the first {…} of the key: the same for all of them.
        expect(key.slice(key.indexOf('{'), key.indexOf('}') + 1)).to.equal(store.keys.base.slice(0, -1));
      }
      expect(await store.flushPrefix()).to.equal(keys.length);
      expect(await store.getConversation('cv_1')).to.equal(null);
    });

    it('listWrapUps finds after-call work stored by the previous version (its record and wrapup timer, no index)', async () => {
      await seed();
      await assignChat(store, 'cv_1', T0);
      // As the previous version's setWrapUp wrote it: the record (with its expiry) and its timer, nothing else.
      await raw
        .multi()
        .set(store.keys.wrapUp('cv_1'), JSON.stringify({ since: T0, dueAt: T0 + 2 * 60_000 }), {
          expiration: { type: 'PX', value: 60 * 60_000 },
        })
        .zAdd(store.keys.timers, { score: T0 + 2 * 60_000, value: 'wrapup:cv_1' })
        .exec();
      const found = await store.listWrapUps(T0 + 1000, 10 * 60_000);
      expect(found.map((w) => [w.conversation.id, w.wrapUp])).to.deep.equal([
        ['cv_1', { since: T0, dueAt: T0 + 2 * 60_000 }],
      ]);
      // A record that does not parse is named, not passed on.
      await raw.set(store.keys.wrapUp('cv_1'), JSON.stringify({ since: 'then', dueAt: T0 + 2 * 60_000 }));
      const err = await rejection<SwitchboardError>(store.listWrapUps(T0 + 1000, 10 * 60_000));
      expect(err).to.be.instanceOf(CorruptRecordError);
      expect(err.message).to.contain(store.keys.wrapUp('cv_1'));
    });

    /** Every key under the store's prefix with what it holds, as text: to look for a name in all of it. */
    const everything = async (): Promise<Map<string, string>> => {
      const out = new Map<string, string>();
      for await (const batch of raw.scanIterator({ MATCH: store.keys.pattern, COUNT: 1000 })) {
        for (const key of batch) {
          const type = await raw.type(key);
          const held =
            type === 'string'
              ? await raw.get(key)
              : type === 'hash'
                ? await raw.hGetAll(key)
                : type === 'zset'
                  ? await raw.zRange(key, 0, -1)
                  : type === 'list'
                    ? await raw.lRange(key, 0, -1)
                    : type === 'set'
                      ? await raw.sMembers(key)
                      : type;
          out.set(key, JSON.stringify(held));
        }
      }
      return out;
    };

    it('erasing a customer leaves no key and no entry that names them, their conversations or messages', async () => {
      await store.createAgent({ ...agent('ag_1'), status: 'available' });
      await store.createAgent({ ...agent('ag_2'), status: 'available' });
      const gone = ['cu_x1', 'cu_x2', 'cv_x1', 'cv_x2', 'msg_x1', 'msg_x2', 'pr_x1', '+14155550001', 'SMx1'];
      // Two customers merged, each with a conversation that was waited for, promised, handed over, consulted
      // on and resolved; the kept one blocked. Then a third customer beside them, who stays.
      for (const n of [1, 2, 3]) {
        await store.resolveCustomer(
          { channel: 'phone', address: `+1415555000${n}` },
          {
            ...customer(`cu_x${n}`),
            facts: { phone: { value: `+1415555000${n}`, source: 'sms:from', at: T0 } },
          },
        );
        await store.createConversation({
          ...conversation(`cv_x${n}`, `cu_x${n}`),
          lastChannel: 'sms',
          channels: ['sms'],
        });
        await store.appendMessage(
          {
            id: `msg_x${n}`,
            conversationId: `cv_x${n}`,
            direction: 'in',
            channel: 'sms',
            author: { type: 'customer', id: `cu_x${n}` },
            text: 'hello',
            attachments: [],
            at: T0,
            delivery: { state: 'delivered', attempts: 0, at: T0 },
            externalId: `SMx${n}`,
            from: `+1415555000${n}`,
          },
          { deliveryDueAt: T0 + 60_000 },
        );
        await store.route({
          conversationId: `cv_x${n}`,
          channel: 'sms',
          candidates: [],
          mode: { type: 'assign' },
          now: T0,
          score: T0,
        });
        await store.addPromise({
          id: `pr_x${n}`,
          conversationId: `cv_x${n}`,
          kind: 'wait',
          dueAt: T0 + 60_000,
          createdAt: T0,
          state: 'open',
          settledAt: null,
        });
        await store.schedule({ kind: 'promise', ref: `pr_x${n}`, dueAt: T0 + 60_000 });
        await store.schedule({ kind: 'overflow', ref: `cv_x${n}`, dueAt: T0 + 60_000 });
        const claim = await store.claimNext('ag_1', T0 + 1000, {
          overflowAfterMs: 1,
          hardCapMs: 1,
          offerTimeoutMs: {},
        });
        expect(claim?.conversation.id).to.equal(`cv_x${n}`);
        await store.offerHandoff(`cv_x${n}`, 'ag_1', 'ag_2', 'yours', T0 + 2000);
        await store.acceptHandoff(`cv_x${n}`, 'ag_2', T0 + 2000);
        await store.inviteConsultant(`cv_x${n}`, 'ag_1', T0);
        await store.resolve(`cv_x${n}`, T0 + 3000, null, { surveyAt: T0 + 60_000 });
      }
      await store.mergeCustomers('cu_x1', 'cu_x2', T0 + 4000);
      await store.setCustomerBlock('cu_x1', { at: T0 + 5000, by: 'admin', reason: 'abuse' });
      const before = await everything();
      expect(
        [...before].some(([key, held]) => gone.some((x) => key.includes(x) || held.includes(x))),
      ).to.equal(true);

      await store.eraseCustomer('cu_x1');
      const after = await everything();
      const left = [...after].filter(([key, held]) => gone.some((x) => key.includes(x) || held.includes(x)));
      expect(left).to.deep.equal([]);
      // The third customer keeps every key of theirs as it was, and their entries in the shared ones.
      const theirs = ['cu_x3', 'cv_x3', 'msg_x3', 'pr_x3', '+14155550003'];
      for (const [key, held] of before) {
        if (theirs.some((x) => key.includes(x))) expect(after.get(key), key).to.equal(held);
        for (const x of theirs) if (held.includes(x)) expect(after.get(key), key).to.include(x);
      }
    });

    it('erasing stops before anything goes at a message it cannot read, naming its key', async () => {
      await seed();
      await store.appendMessage({
        id: 'msg_1',
        conversationId: 'cv_1',
        direction: 'in',
        channel: 'chat',
        author: { type: 'customer', id: 'cu_1' },
        text: 'hello',
        attachments: [],
        at: T0,
        delivery: { state: 'delivered', attempts: 0, at: T0 },
      });
      await assignChat(store, 'cv_1', T0);
      await store.resolve('cv_1', T0 + 1000, null);
      const before = await everything();
      const key = store.keys.message('msg_1');
      await raw.set(key, 'not json {');
      const err = await rejection(store.eraseCustomer('cu_1'));
      expect(err).to.be.instanceOf(CorruptRecordError);
      expect(err.message).to.include(key);
      expect(await everything()).to.deep.equal(new Map([...before, [key, JSON.stringify('not json {')]]));
    });

    it('builds the same keys in Lua as in TypeScript', async () => {
      const keys = new RedisKeys('p-1');
      const calls = Object.entries(KEY_LAYOUTS).map(([name, layout]) => {
        const args = layout
          .split('%')
          .slice(1)
          .map((_, i) => `x${i}|y`);
        return { name, args, expected: keys.key(name as keyof typeof KEY_LAYOUTS, ...args) };
      });
      const script = `local P = ARGV[1]\n${luaKeyBuilder()}\nlocal out = {}\n${calls
        .map((c) => `out[#out + 1] = K.${c.name}(${c.args.map((a) => `'${a}'`).join(', ')})`)
        .join('\n')}\nreturn out`;
      const built = (await raw.sendCommand(['EVAL', script, '0', keys.base])) as string[];
      expect(built).to.deep.equal(calls.map((c) => c.expected));
      expect(() => new RedisKeys('a{b}')).to.throw(RangeError);
      expect(new RedisKeys('').base).to.equal('{sb}:');
    });

    it('a store with no conversation yet is marked as having the helpers index from its start', async () => {
      expect(await raw.get(store.keys.key('helpingIndexed'))).to.equal('1');
    });

    it('builds the index of conversations agents help in for a store written before it was kept, once', async () => {
      await seed();
      await store.createAgent({ ...agent('ag_2'), idleSince: T0 + 1 });
      await assignChat(store, 'cv_1', T0);
      await store.inviteConsultant('cv_1', 'ag_2', T0);
      // As an older Switchboard left it: no index, no marker; and an assigned record that cannot be read.
      await raw.del([store.keys.helpingIn('ag_2'), store.keys.key('helpingIndexed')]);
      await raw.zAdd(store.keys.conversationsByStatus('assigned'), { score: T0, value: 'cv_bad' });
      await raw.set(store.keys.conversation('cv_bad'), '{"id":');
      expect((await store.listAgentConversations('ag_2')).map((c) => c.id)).to.deep.equal(['cv_1']);
      expect(await raw.get(store.keys.key('helpingIndexed'))).to.equal('1');
      // A process connecting to a store that has conversations leaves the mark as it is.
      await raw.del(store.keys.key('helpingIndexed'));
      const prefix = store.keys.base.slice('{sb:'.length, -'}:'.length);
      const another = await RedisStore.connect({ url: redis.url(), prefix });
      expect(await raw.exists(store.keys.key('helpingIndexed'))).to.equal(0);
      await another.close();
      expect((await store.listAgentConversations('ag_2')).map((c) => c.id)).to.deep.equal(['cv_1']);
      // Built once: what is not in the index now is not found by reading every conversation again.
      await raw.del(store.keys.helpingIn('ag_2'));
      expect(await store.listAgentConversations('ag_2')).to.deep.equal([]);
    });

    it('learns when every customer was last active for a store written before it kept that, a step at a time, once', async () => {
      // Three customers (one with two identities, one merged into another), conversations and messages.
      const at = (id: string, n: number, createdAt: number) =>
        store.resolveCustomer(
          { channel: 'phone', address: `+1415555000${n}` },
          { ...customer(id), createdAt },
        );
      await at('cu_1', 1, T0);
      await store.linkIdentity('cu_1', { channel: 'email', address: 'one@example.com' });
      await at('cu_2', 2, T0 + 60_000);
      await at('cu_3', 3, T0 + 120_000);
      await at('cu_4', 4, T0 + 180_000);
      await store.createConversation({
        ...conversation('cv_1', 'cu_1'),
        status: 'abandoned',
        queuedAt: null,
      });
      const message = (id: string, conversationId: string, when: number) => ({
        id,
        conversationId,
        direction: 'in' as const,
        channel: 'chat' as const,
        author: { type: 'customer' as const },
        text: id,
        attachments: [],
        at: when,
        delivery: { state: 'delivered' as const, attempts: 0, at: when },
      });
      await store.appendMessage(message('msg_1', 'cv_1', T0 + 600_000));
      await store.createConversation(conversation('cv_3', 'cu_3'));
      await store.appendMessage(message('msg_3a', 'cv_3', T0 + 900_000));
      await store.mergeCustomers('cu_4', 'cu_2', T0 + 200_000);
      const known = await store.inactiveCustomers(T0 + 3_600_000, 10);
      expect(known.map((c) => `${c.id}@${(c.lastActiveAt - T0) / 60_000}`)).to.deep.equal([
        'cu_4@3',
        'cu_1@10',
        'cu_3@15',
      ]);
      expect(await store.learnCustomerActivity(10)).to.equal(true);

      // As an older Switchboard left it: no activity, no mark; and a customer record that cannot be read.
      await raw.del([store.keys.key('customerActivity'), store.keys.key('activityLearned')]);
      await raw.hSet(store.keys.identities, 'phone:+14155550009', 'cu_bad');
      await raw.set(store.keys.customer('cu_bad'), '{"id":');
      expect(await store.inactiveCustomers(T0 + 3_600_000, 10)).to.deep.equal([]);
      // A process connecting to a store that has customers leaves the mark unset.
      const prefix = store.keys.base.slice('{sb:'.length, -'}:'.length);
      const another = await RedisStore.connect({ url: redis.url(), prefix });
      await another.close();
      expect(await raw.exists(store.keys.key('activityLearned'))).to.equal(0);
      // Enough identities that the walk takes steps (a small hash is walked whole at once).
      const many: Record<string, string> = {};
      for (let i = 0; i < 1000; i++) many[`chat:visitor-${i}`] = 'cu_1';
      await raw.hSet(store.keys.identities, many);
      let steps = 0;
      while (!(await store.learnCustomerActivity(50))) steps++;
      expect(steps).to.be.greaterThan(3);
      expect(await raw.exists(store.keys.key('activityCursor'))).to.equal(0);
      // The same as kept from the start (the merged one counts as the one kept, the unreadable one not at all).
      expect(await store.inactiveCustomers(T0 + 3_600_000, 10)).to.deep.equal(known);
      // Learned once: what is missing now is not learned again.
      await raw.zRem(store.keys.key('customerActivity'), 'cu_3');
      expect(await store.learnCustomerActivity(10)).to.equal(true);
      expect((await store.inactiveCustomers(T0 + 3_600_000, 10)).map((c) => c.id)).to.deep.equal([
        'cu_4',
        'cu_1',
      ]);
    });

    it("a store with no customer yet is marked as knowing every customer's activity from its start", async () => {
      expect(await raw.get(store.keys.key('activityLearned'))).to.equal('1');
    });

    it('reads a long list of conversations (and of agents) in pages of LIST_PAGE, a script each, as one list in order', async () => {
      await store.resolveCustomer({ channel: 'chat', address: 'v1' }, customer('cu_1'));
      const n = LIST_PAGE * 2 + 17;
      // Some at the same moment, so that the pages' bounds meet ties (ordered by id).
      for (let i = 0; i < n; i++) {
        const id = `cv_${String(i).padStart(4, '0')}`;
        await store.createConversation({ ...conversation(id, 'cu_1'), createdAt: T0 + Math.floor(i / 3) });
      }
      const scripts = async () =>
        Number(
          /cmdstat_fcall:calls=(\d+)/.exec(String(await raw.sendCommand(['INFO', 'commandstats'])))?.[1] ?? 0,
        );
      const before = await scripts();
      const all = await store.listConversations({ status: 'queued', limit: 0 });
      expect(await scripts()).to.equal(before + 3);
      expect(all.map((c) => c.id)).to.deep.equal(
        Array.from({ length: n }, (_, i) => `cv_${String(i).padStart(4, '0')}`),
      );
      const newest = await store.listConversations({ limit: LIST_PAGE + 5 });
      expect(newest.map((c) => c.id)).to.deep.equal(all.slice(-(LIST_PAGE + 5)).map((c) => c.id));
      const since = await store.listConversations({ createdSince: T0 + 100, limit: 0 });
      expect(since.map((c) => c.id)).to.deep.equal(
        all.filter((c) => c.createdAt >= T0 + 100).map((c) => c.id),
      );
      // The agents too.
      for (let i = 0; i < LIST_PAGE + 3; i++)
        await store.createAgent(agent(`ag_${String(i).padStart(4, '0')}`));
      const agentsBefore = await scripts();
      const agents = await store.listAgents();
      expect(await scripts()).to.equal(agentsBefore + 2);
      expect(agents.map((a) => a.id)).to.deep.equal(
        Array.from({ length: LIST_PAGE + 3 }, (_, i) => `ag_${String(i).padStart(4, '0')}`),
      );
      const page = await store.listConversations({
        limit: 10,
        createdBefore: { at: all[300]!.createdAt, id: all[300]!.id },
      });
      expect(page.map((c) => c.id)).to.deep.equal(all.slice(290, 300).map((c) => c.id));
    });

    it('keeps a week of what an agent did: resolving one drops their entries older than 8 days', async () => {
      const DAY = 24 * 3600 * 1000;
      await seed();
      await store.resolveCustomer({ channel: 'chat', address: 'v2' }, customer('cu_2'));
      await store.createConversation({ ...conversation('cv_2', 'cu_2'), createdAt: T0 + 9 * DAY });
      await assignChat(store, 'cv_1', T0);
      await store.resolve('cv_1', T0 + 60_000, null);
      const touched = store.keys.touchedBy('ag_1');
      expect(await raw.zRangeWithScores(touched, 0, -1)).to.deep.equal([
        { value: 'cv_1', score: T0 + 60_000 },
      ]);
      await assignChat(store, 'cv_2', T0 + 9 * DAY);
      expect(await raw.zCard(touched)).to.equal(2);
      await store.resolve('cv_2', T0 + 9 * DAY + 60_000, null);
      expect(await raw.zRangeWithScores(touched, 0, -1)).to.deep.equal([
        { value: 'cv_2', score: T0 + 9 * DAY + 60_000 },
      ]);
      expect((await store.conversationsTouchedBy('ag_1', T0)).map((c) => c.id)).to.deep.equal(['cv_2']);
    });

    it('quotes from a handle-time list written before its sum was kept, and keeps the sum from then on', async () => {
      await seed();
      await store.route({
        conversationId: 'cv_1',
        channel: 'chat',
        candidates: [],
        mode: { type: 'assign' },
        now: T0,
        score: T0,
      });
      // As an older Switchboard left it: the list alone, one entry unreadable (it counts as 0).
      const list = store.keys.handleTimes('chat');
      await raw.rPush(list, ['60000', '30000', 'x']);
      expect((await store.queueSnapshot('cv_1'))?.handled).to.deep.equal({ count: 3, totalMs: 90_000 });
      await store.recordHandleTime('chat', 10_000);
      expect(await raw.hGet(store.keys.key('handleTotals'), 'chat')).to.equal('100000');
      expect((await store.queueSnapshot('cv_1'))?.handled).to.deep.equal({ count: 4, totalMs: 100_000 });
      // The window drops the oldest and takes them out of the sum.
      await raw.del(list);
      await raw.hDel(store.keys.key('handleTotals'), 'chat');
      await raw.rPush(
        list,
        Array.from({ length: HANDLE_TIME_WINDOW }, () => '1000'),
      );
      await store.recordHandleTime('chat', 5000);
      expect((await store.queueSnapshot('cv_1'))?.handled).to.deep.equal({
        count: HANDLE_TIME_WINDOW,
        totalMs: (HANDLE_TIME_WINDOW - 1) * 1000 + 5000,
      });
    });

    it('corrupt saved replies are a CorruptRecordError naming their key; setting them anew mends it', async () => {
      const key = store.keys.savedReplies;
      await raw.set(key, JSON.stringify([{ name: '', text: 'no name' }]));
      const read = await rejection(store.getSavedReplies());
      expect(read).to.be.instanceOf(CorruptRecordError);
      expect(read.message).to.include(key);
      await store.setSavedReplies([{ name: 'Hello', text: 'Hello!' }]);
      expect(await store.getSavedReplies()).to.deep.equal([{ name: 'Hello', text: 'Hello!' }]);
      // A list stored before placeholders were checked, with a `{word}` that is none: read as it is written.
      const older = [{ name: 'Order', text: 'Your order {order} ships today.' }];
      await raw.set(key, JSON.stringify(older));
      expect(await store.getSavedReplies()).to.deep.equal(older);
    });

    it('a corrupt record is a CorruptRecordError naming its key, and nothing is half written', async () => {
      await seed();
      const key = store.keys.conversation('cv_1');
      await raw.set(key, 'not json {');
      const read = await rejection(store.getConversation('cv_1'));
      expect(read).to.be.instanceOf(CorruptRecordError);
      expect(read.message).to.include(key);

      const routed = await rejection(assignChat(store, 'cv_1', T0));
      expect(routed).to.be.instanceOf(CorruptRecordError);
      expect((routed as SwitchboardError).code).to.equal('corrupt_record');
      expect(routed.message).to.include(key);
      expect((await store.getAgent('ag_1'))?.load.chat).to.equal(0);

      // Valid JSON of the wrong shape is just as corrupt, in TypeScript and in Lua.
      await raw.set(key, JSON.stringify({ id: 'cv_1', status: 'queued' }));
      expect((await rejection(store.getConversation('cv_1'))).message).to.include(key);
      const touched = await rejection(store.touchConversation('cv_1', 'sms', T0));
      expect(touched).to.be.instanceOf(CorruptRecordError);
      expect(touched.message).to.include(key);
      expect(await raw.get(key)).to.equal(JSON.stringify({ id: 'cv_1', status: 'queued' }));

      // A corrupt agent met while routing stops the decision before any write.
      await store.createConversation(conversation('cv_2', 'cu_1'));
      const agentKey = store.keys.agent('ag_1');
      await raw.set(agentKey, '{"id":"ag_1","load":7}');
      const claimed = await rejection(assignChat(store, 'cv_2', T0));
      expect(claimed).to.be.instanceOf(CorruptRecordError);
      expect(claimed.message).to.include(agentKey);
      expect((await store.listConversations({ status: 'assigned' })).length).to.equal(0);
      expect((await rejection(store.listAgents())).message).to.include(agentKey);
    });

    it("a known customer's contact that meets a corrupt conversation or owner stops before anything is learnt or stored", async () => {
      await seed();
      const contact = (n: number): NewContact => {
        const conv = { ...conversation(`cv_n${n}`, `cu_n${n}`), lastChannel: 'chat' as const };
        return {
          channel: 'chat',
          externalId: `CH${n}`,
          identity: { channel: 'chat', address: 'v1' },
          customer: {
            ...customer(`cu_n${n}`),
            facts: { name: { value: 'Dee', source: 'chat:from', at: T0 } },
            name: 'Dee',
          },
          conversation: conv,
          first: {
            id: `msg_n${n}`,
            conversationId: conv.id,
            direction: 'in',
            channel: 'chat',
            author: { type: 'customer', id: `cu_n${n}` },
            text: 'hello',
            attachments: [],
            at: T0,
            delivery: { state: 'delivered', attempts: 0, at: T0 },
            externalId: `CH${n}`,
          },
          route: { candidates: [], mode: { type: 'assign' }, now: T0, score: T0 },
        };
      };
      const customerBefore = await raw.get(store.keys.customer('cu_1'));
      const unchanged = async () => {
        expect(await raw.get(store.keys.customer('cu_1'))).to.equal(customerBefore);
        expect(await store.listMessages('cv_1')).to.deep.equal([]);
        expect(await store.findMessageByExternalId('chat', 'CH1')).to.equal(null);
      };
      // The open conversation, corrupt.
      const key = store.keys.conversation('cv_1');
      const good = (await raw.get(key))!;
      await raw.set(key, JSON.stringify({ id: 'cv_1', customerId: 'cu_1', status: 'queued' }));
      const err = await rejection(store.startContact(contact(1)));
      expect(err).to.be.instanceOf(CorruptRecordError);
      expect(err.message).to.include(key);
      await unchanged();
      // Its owner, corrupt.
      await raw.set(key, good);
      expect((await assignChat(store, 'cv_1', T0)).type).to.equal('assigned');
      const ownerKey = store.keys.agent('ag_1');
      await raw.set(ownerKey, '{"id":"ag_1","load":7}');
      const owned = await raw.get(key);
      const ownerErr = await rejection(store.startContact(contact(1)));
      expect(ownerErr).to.be.instanceOf(CorruptRecordError);
      expect(ownerErr.message).to.include(ownerKey);
      expect(await raw.get(key)).to.equal(owned);
      expect(await store.listMessages('cv_1')).to.deep.equal([]);

      // The customer's block, malformed: corrupt, named by key and field, in Lua and in TypeScript.
      await raw.set(ownerKey, JSON.stringify(agent('ag_1')));
      const customerKey = store.keys.customer('cu_1');
      const badBlock = JSON.stringify({ ...JSON.parse(customerBefore!), blocked: 'yes' });
      await raw.set(customerKey, badBlock);
      const blockErr = await rejection(store.startContact(contact(1)));
      expect(blockErr).to.be.instanceOf(CorruptRecordError);
      expect(blockErr.message).to.include(customerKey).and.to.include('blocked');
      expect((await rejection(store.getCustomer('cu_1'))).message).to.include(customerKey);
      expect(await raw.get(customerKey)).to.equal(badBlock);
      expect(await store.listMessages('cv_1')).to.deep.equal([]);
    });

    it('a conversation stored without joinedAt (before it was kept) is read and changed; a malformed one is corrupt, named, in Lua and in TypeScript', async () => {
      await seed();
      await store.createAgent({ ...agent('ag_2'), idleSince: T0 + 1 });
      await assignChat(store, 'cv_1', T0);
      await store.inviteConsultant('cv_1', 'ag_2', T0 + 1000);
      const key = store.keys.conversation('cv_1');
      const stored = JSON.parse(String(await raw.get(key))) as Record<string, unknown>;
      expect(stored.joinedAt).to.deep.equal({ ag_2: T0 + 1000 });
      // As an older Switchboard wrote it: no joinedAt.
      delete stored.joinedAt;
      await raw.set(key, JSON.stringify(stored));
      const old = await store.getConversation('cv_1');
      expect([old?.invited, old?.joinedAt]).to.deep.equal([['ag_2'], undefined]);
      expect((await store.joinConsult('cv_1', 'ag_2', T0 + 2000)).joinedAt).to.deep.equal({
        ag_2: T0 + 2000,
      });
      // Malformed: stops a script before it writes, and a read.
      const bad = JSON.stringify({ ...stored, joinedAt: { ag_2: 'soon' } });
      await raw.set(key, bad);
      for (const failed of [
        await rejection(store.leaveConsult('cv_1', 'ag_2')),
        await rejection(store.getConversation('cv_1')),
      ]) {
        expect(failed).to.be.instanceOf(CorruptRecordError);
        expect(failed.message).to.include(key).and.to.include('joinedAt');
      }
      expect(await raw.get(key)).to.equal(bad);
    });

    it('reads an empty list the scripts wrote as {} as the empty list; a list holding anything else is corrupt', async () => {
      await seed();
      // A script writes it (cjson has no empty array): route assigns it, consultants and the rest stay empty.
      await assignChat(store, 'cv_1', T0);
      const key = store.keys.conversation('cv_1');
      const stored = JSON.parse(String(await raw.get(key))) as Record<string, unknown>;
      expect(stored.consultants).to.deep.equal({});
      const read = await store.getConversation('cv_1');
      expect(read?.consultants).to.deep.equal([]);
      expect(read?.invited).to.deep.equal([]);
      expect(read?.declinedBy).to.deep.equal([]);
      expect(read?.ownership.map((m) => m.to)).to.deep.equal(['ag_1']);
      // The customer's lists too (identities, notes), read back through a script.
      await raw.set(
        store.keys.customer('cu_1'),
        JSON.stringify({ ...customer('cu_1'), identities: {}, notes: {} }),
      );
      const found = await store.getCustomer('cu_1');
      expect(found?.identities).to.deep.equal([]);
      expect(found?.notes).to.deep.equal([]);

      // An object with members where a list belongs is not taken for a list.
      await raw.set(key, JSON.stringify({ ...stored, consultants: { 0: 'ag_2' } }));
      const bad = await rejection(store.getConversation('cv_1'));
      expect(bad).to.be.instanceOf(CorruptRecordError);
      expect(bad.message).to.include(key).and.to.include('consultants');
    });

    it("keeps a customer's last owner beside the record: owning does not rewrite the customer", async () => {
      await seed();
      const record = await raw.get(store.keys.customer('cu_1'));
      await assignChat(store, 'cv_1', T0 + 5, T0);
      expect(await raw.get(store.keys.customer('cu_1'))).to.equal(record);
      const owned = await store.getCustomer('cu_1');
      expect([owned?.lastOwnerId, owned?.lastOwnerAt]).to.deep.equal(['ag_1', T0 + 5]);
      await store.resolve('cv_1', T0 + 9, null);
      expect((await store.getCustomer('cu_1'))?.lastOwnerAt).to.equal(T0 + 9);
      expect(await raw.get(store.keys.customer('cu_1'))).to.equal(record);

      // A record written with its last owner inside (before the hash) still has it, until a newer one.
      const older = { ...customer('cu_2'), lastOwnerId: 'ag_9', lastOwnerAt: T0 - 1 };
      await raw.set(store.keys.customer('cu_2'), JSON.stringify(older));
      const read = await store.getCustomer('cu_2');
      expect([read?.lastOwnerId, read?.lastOwnerAt]).to.deep.equal(['ag_9', T0 - 1]);
      // Merged, the later of the two wins, and it is in the hash only.
      const merged = await store.mergeCustomers('cu_2', 'cu_1', T0 + 20);
      expect([merged.lastOwnerId, merged.lastOwnerAt]).to.deep.equal(['ag_1', T0 + 9]);
      const stored = JSON.parse(String(await raw.get(store.keys.customer('cu_2')))) as Record<
        string,
        unknown
      >;
      expect(stored.lastOwnerId).to.equal(undefined);
      expect([
        (await store.getCustomer('cu_1'))?.id,
        (await store.getCustomer('cu_1'))?.lastOwnerId,
      ]).to.deep.equal(['cu_2', 'ag_1']);

      // An entry that is not `<time>|<agent id>` is corrupt, named by its key.
      const lastOwners = store.keys.key('lastOwners');
      await raw.hSet(lastOwners, 'cu_2', 'yesterday');
      const bad = await rejection(store.getCustomer('cu_2'));
      expect(bad).to.be.instanceOf(CorruptRecordError);
      expect(bad.message).to.include(lastOwners);
    });

    it('a corrupt record met while filling stops the filling, not the resolve; the next claim names it', async () => {
      await seed();
      await store.createConversation(conversation('cv_2', 'cu_1'));
      expect((await assignChat(store, 'cv_1', T0)).type).to.equal('assigned');
      expect((await assignChat(store, 'cv_2', T0 + 1)).type).to.equal('assigned');
      // Two more wait; the first in line is corrupt.
      await store.createConversation({
        ...conversation('cv_3', 'cu_1'),
        queuedAt: T0 + 2,
        createdAt: T0 + 2,
      });
      await store.createConversation({
        ...conversation('cv_4', 'cu_1'),
        queuedAt: T0 + 3,
        createdAt: T0 + 3,
      });
      expect((await assignChat(store, 'cv_3', T0 + 2)).type).to.equal('queued');
      expect((await assignChat(store, 'cv_4', T0 + 3)).type).to.equal('queued');
      const key = store.keys.conversation('cv_3');
      const corrupt = JSON.stringify({ id: 'cv_3', status: 'queued' });
      await raw.set(key, corrupt);
      const rules = { overflowAfterMs: 120_000, hardCapMs: 600_000, offerTimeoutMs: {} };

      const done = await store.resolve('cv_1', T0 + 10, null, { by: 'ag_1', fill: rules });
      expect(done.conversation.status).to.equal('resolved');
      expect(done.claims).to.deep.equal([]);
      expect((await store.getConversation('cv_1'))?.status).to.equal('resolved');
      const agentNow = await store.getAgent('ag_1');
      expect(agentNow?.load.chat).to.equal(1);
      // Back in the chat pool (one slot free), with the idle time it had.
      expect(await raw.zScore(store.keys.pool('chat'), 'ag_1')).to.equal(agentNow?.idleSince);
      expect(await raw.get(key)).to.equal(corrupt);

      const claimed = await rejection(store.claimNext('ag_1', T0 + 11, rules));
      expect(claimed).to.be.instanceOf(CorruptRecordError);
      expect(claimed.message).to.include(key);
      expect((await store.getAgent('ag_1'))?.load.chat).to.equal(1);
      expect((await store.getConversation('cv_4'))?.status).to.equal('queued');
    });

    it("indexes lines stored before the lines' names index again at the next status change", async () => {
      await seed();
      await store.setAgentStatus('ag_1', 'away', undefined, T0);
      const waits: Array<[string, Skills]> = [
        ['cv_1', {}],
        ['cv_2', { billing: 1 }],
        ['cv_3', { billing: 2, tech: 1 }],
        ['cv_4', { tech: 1 }],
      ];
      for (const [id, skills] of waits) {
        if (id !== 'cv_1') await store.createConversation({ ...conversation(id, 'cu_1'), skills });
        const queued = await store.route({
          conversationId: id,
          channel: 'chat',
          candidates: [{ kind: 'pool', skills, reason: 'routed' }],
          mode: { type: 'assign' },
          now: T0,
          score: T0,
        });
        expect(queued.type).to.equal('queued');
      }
      const index = store.keys.key('lineNames');
      expect(await raw.hGetAll(index)).to.deep.equal({
        '#': '4',
        '': 'chat|',
        billing: 'chat|billing:1',
        'billing,tech': 'chat|billing:2,tech:1',
        tech: 'chat|tech:1',
      });
      // As a store written before the index was kept: the lines without it.
      await raw.del(index);
      await store.setAgentStatus('ag_1', 'available', undefined, T0 + 1);
      const servers = [];
      for (const [id] of waits) servers.push((await store.queueSnapshot(id))?.servers);
      // ag_1 has billing 2 and 2 chat slots.
      expect(servers).to.deep.equal([2, 2, 0, 0]);
      expect(await raw.hGet(index, '#')).to.equal('4');
      expect(await raw.hGet(index, 'billing,tech')).to.equal('chat|billing:2,tech:1');
    });

    it('claims only the timer kinds it knows: one from a newer version stays for a process that knows it', async () => {
      const keys = store.keys;
      // More unknown ones due first than one claim takes: the known ones behind them are still found.
      for (let n = 0; n < 5; n++) await raw.zAdd(keys.timers, { score: T0 + n, value: `fax-retry:m${n}` });
      await store.schedule({ kind: 'sticky', ref: 'cv_1', dueAt: T0 + 10 });
      await store.schedule({ kind: 'delivery', ref: 'msg_1', dueAt: T0 + 20 });
      expect(await store.claimDueTimers(T0 + 100, 2)).to.deep.equal([
        { kind: 'sticky', ref: 'cv_1', dueAt: T0 + 10 },
        { kind: 'delivery', ref: 'msg_1', dueAt: T0 + 20 },
      ]);
      expect(await store.claimDueTimers(T0 + 100, 2)).to.deep.equal([]);
      expect(await raw.zCard(keys.timers)).to.equal(5);
    });

    it('a timer member that cannot be read is a CorruptRecordError naming the timers key', async () => {
      const keys = store.keys;
      await raw.zAdd(keys.timers, { score: T0, value: 'sticky:' });
      const err = await rejection<CorruptRecordError>(store.claimDueTimers(T0, 10));
      expect(err).to.be.instanceOf(CorruptRecordError);
      expect(err.message).to.contain(keys.timers).and.to.contain('ref');
    });

    it('runs each script as a Redis Function (FCALL), and again after FUNCTION FLUSH (its text once, as EVAL, and its library loaded again)', async () => {
      await seed();
      const calls = async (command: string) =>
        Number(
          /calls=(\d+)/.exec(
            String(await raw.sendCommand(['INFO', 'commandstats']))
              .split('\n')
              .find((l) => l.startsWith(`cmdstat_${command}:`)) ?? '',
          )?.[1] ?? 0,
        );
      const before = { fcall: await calls('fcall'), evalsha: await calls('evalsha') };
      await store.stats();
      expect(await calls('fcall')).to.equal(before.fcall + 1);
      expect(await calls('evalsha')).to.equal(before.evalsha);
      await raw.sendCommand(['FUNCTION', 'FLUSH']);
      const out = await assignChat(store, 'cv_1', T0);
      expect(out.type).to.equal('assigned');
      await raw.sendCommand(['FUNCTION', 'FLUSH']);
      const [a, b] = await Promise.all([store.stats(), store.getCustomer('cu_1')]);
      expect(a.agentsByStatus.available).to.equal(1);
      expect(b?.id).to.equal('cu_1');
      const listed = JSON.stringify(await raw.sendCommand(['FUNCTION', 'LIST', 'LIBRARYNAME', 'sb_stats_*']));
      expect(listed).to.contain('sb_stats_');
      // Its version's marker is back too (redis-functions.ts): another process's prune keeps its libraries.
      const marker = versionMarker(
        [...redisScripts().values()].map((s) => s.fn),
        0,
      ).name;
      expect(await listLibraries(raw as unknown as RedisClient)).to.include(marker);
    });

    it('a function library builds again on every call what a call keeps, and keeps only the caches marked --!keep (a line name read into its channel and skills)', () => {
      const { library } = redisScripts().get('comeBack')!;
      const start = library.slice(
        library.indexOf('local function __start'),
        library.indexOf('redis.register_function'),
      );
      // Records loaded, changed records, their snapshots: afresh each call.
      for (const name of ['CACHE', 'RAW', 'WAS', 'DIRTY'])
        expect(start).to.match(new RegExp(`^${name} = `, 'm'));
      // What follows from a line's name alone: built once, when the library is loaded.
      expect(start).not.to.contain('LINE_INFO');
      expect(library).to.match(/^local LINE_INFO = /m);
    });

    it('a place left kept with no hand-off keeping it (an older process ended one) is given back at a status change', async () => {
      await seed();
      await store.createAgent({ ...agent('ag_2'), capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
      await assignChat(store, 'cv_1', T0);
      const owner = (await store.getConversation('cv_1'))!.ownerId!;
      const colleague = owner === 'ag_1' ? 'ag_2' : 'ag_1';
      // One hand-off keeps a place: counted again, it stays.
      await store.offerHandoff('cv_1', owner, colleague, 'n', T0 + 1000);
      await store.setAgentStatus(colleague, 'away', undefined, T0 + 2000);
      expect((await store.getAgent(colleague))!.reserved?.chat).to.equal(1);
      // Ended the way an older process ends it: the hand-off gone, the place left kept.
      const key = store.keys.conversation('cv_1');
      const record = JSON.parse((await raw.get(key))!);
      await raw.set(key, JSON.stringify({ ...record, handoff: null }));
      const back = await store.setAgentStatus(colleague, 'available', undefined, T0 + 3000);
      expect(back.reserved).to.deep.equal({ voice: 0, sms: 0, chat: 0, email: 0 });
      await store.setAgentStatus(colleague, 'away', undefined, T0 + 4000);
      await raw.set(
        store.keys.agent(colleague),
        JSON.stringify({
          ...(await store.getAgent(colleague)),
          reserved: { voice: 0, sms: 0, chat: 1, email: 0 },
        }),
      );
      const rules = { overflowAfterMs: 60_000, hardCapMs: 600_000, offerTimeoutMs: {} };
      await store.comeBack(colleague, undefined, T0 + 5000, ['voice'], rules);
      expect((await store.getAgent(colleague))!.reserved?.chat).to.equal(0);
    });

    it('every script is a function once the store has started: a library Redis refused would leave its calls on EVAL unseen', async () => {
      await seed();
      const loaded = new Set(await listLibraries(raw as unknown as RedisClient));
      const missing = [...redisScripts().values()].map((s) => s.fn).filter((fn) => !loaded.has(fn));
      expect(missing).to.deep.equal([]);
    });

    it('where Redis will not load functions (an ACL without them), runs its scripts by SHA, and again after SCRIPT FLUSH (NOSCRIPT: the text once, as EVAL)', async () => {
      const user = `sb-scripts-${process.pid}`;
      await raw.sendCommand([
        'ACL',
        'SETUSER',
        user,
        'on',
        '>scripts-only',
        '~*',
        '&*',
        '+@all',
        '-function',
      ]);
      const scripted = await RedisStore.connect({
        url: redis.url().replace('redis://', `redis://${user}:scripts-only@`),
        prefix: testPrefix('scripts'),
      });
      try {
        await scripted.resolveCustomer({ channel: 'chat', address: 'v1' }, customer('cu_1'));
        await scripted.createAgent(agent('ag_1'));
        await scripted.createConversation(conversation('cv_1', 'cu_1'));
        await raw.scriptFlush();
        expect((await assignChat(scripted, 'cv_1', T0)).type).to.equal('assigned');
        await raw.scriptFlush();
        const [a, b] = await Promise.all([scripted.stats(), scripted.getCustomer('cu_1')]);
        expect(a.agentsByStatus.available).to.equal(1);
        expect(b?.id).to.equal('cu_1');
      } finally {
        await scripted.flushPrefix();
        await scripted.close();
        await raw.sendCommand(['ACL', 'DELUSER', user]);
      }
    });

    it("deletes the function libraries no version that ran within a day uses, never its own or a running version's", async () => {
      const now = Date.now();
      const DAY = 24 * 3600_000;
      const library = (name: string) =>
        `#!lua name=${name}\nredis.register_function('${name}', function() return 1 end)`;
      const names = () => listLibraries(raw as unknown as RedisClient);
      // From before markers; a version that stopped two days ago; one that runs (heard of an hour ago).
      const old = 'sb_route_00000000000000aa';
      const stopped = 'sb_claimNext_00000000000000bb';
      const running = 'sb_resolve_00000000000000cc';
      for (const name of [old, stopped, running]) {
        await raw.sendCommand(['FUNCTION', 'LOAD', 'REPLACE', library(name)]);
      }
      const stoppedMarker = versionMarker([stopped], now - 2 * DAY);
      const runningMarker = versionMarker([running], now - 3600_000);
      for (const m of [stoppedMarker, runningMarker])
        await raw.sendCommand(['FUNCTION', 'LOAD', 'REPLACE', m.code]);
      // A marker Redis cannot run: no version's.
      const broken = 'sb__v_000000000000bad0';
      await raw.sendCommand([
        'FUNCTION',
        'LOAD',
        'REPLACE',
        `#!lua name=${broken}\nredis.register_function('${broken}', function() error('broken') end)`,
      ]);
      try {
        const deleted = await store.maintainFunctions(now);
        expect([...deleted].sort()).to.deep.equal([old, stopped, stoppedMarker.name, broken].sort());
        const left = await names();
        expect(left).to.include.members([running, runningMarker.name]);
        expect(left).to.not.include.members([old, stopped, stoppedMarker.name]);
        // This version's own libraries stay, and it works as before.
        for (const s of redisScripts().values()) expect(left).to.include(s.fn);
        await seed();
        expect((await store.getCustomer('cu_1'))?.id).to.equal('cu_1');
        // Its marker says it runs now: another process's prune keeps its libraries.
        const ours = versionMarker(
          [...redisScripts().values()].map((s) => s.fn),
          now,
        ).name;
        const said = (await raw.sendCommand(['FCALL', ours, '0'])) as string[];
        expect(Number(said[0])).to.equal(now);
        expect(said.slice(1).sort()).to.deep.equal([...redisScripts().values()].map((s) => s.fn).sort());
      } finally {
        for (const name of [running, runningMarker.name]) {
          await raw.sendCommand(['FUNCTION', 'DELETE', name]).catch(() => {});
        }
      }
    });

    it('answers concurrent decisions from two connections once each', async () => {
      await seed();
      const other = await RedisStore.connect({ url: redis.url(), prefix: store.keys.base.slice(4, -2) });
      try {
        for (let i = 2; i <= 6; i++) await store.createConversation(conversation(`cv_${i}`, 'cu_1'));
        const outcomes = await Promise.all(
          [1, 2, 3, 4, 5, 6].map((i) => assignChat(i % 2 ? store : other, `cv_${i}`, T0 + i)),
        );
        expect(outcomes.filter((o) => o.type === 'assigned').length).to.equal(2);
        expect((await store.getAgent('ag_1'))?.load.chat).to.equal(2);
        expect((await other.stats()).waiting).to.equal(4);
      } finally {
        await other.close();
      }
    });
  });

  describe('when Redis goes away', () => {
    it('fails a command Redis does not answer in time, and carries on in order once Redis answers again', async function () {
      this.timeout(10_000);
      const store = await RedisStore.connect({
        url: redis.url(),
        prefix: testPrefix('slow'),
        commandTimeoutMs: 200,
      });
      const raw = createClient({ url: redis.url() });
      raw.on('error', () => {});
      await raw.connect();
      try {
        await store.createAgent(agent('ag_1'));
        // Redis holds every client's commands for 1 s: alive, but not answering.
        await raw.sendCommand(['CLIENT', 'PAUSE', '1000', 'ALL']);
        const started = performance.now();
        const [read, other] = await Promise.all([
          rejection(store.getAgent('ag_1')),
          rejection(store.listAgents()),
        ]);
        const waited = performance.now() - started;
        expect(read).to.be.instanceOf(StoreUnavailableError);
        expect(read.message).to.include('no answer from Redis within 200 ms');
        expect(other).to.be.instanceOf(StoreUnavailableError);
        expect(waited).to.be.within(150, 950);
        // Until the pause ends, each try fails the same way.
        for (const deadline = performance.now() + 5000; ; ) {
          const ping = await store.ping().then(
            () => null,
            (err: unknown) => err,
          );
          if (ping === null) break;
          expect(ping).to.be.instanceOf(StoreUnavailableError);
          expect(performance.now()).to.be.below(deadline);
        }
        // The late answers are dropped; what is asked next gets its own answer.
        const [a, all] = await Promise.all([store.getAgent('ag_1'), store.listAgents()]);
        expect(a?.id).to.equal('ag_1');
        expect(all.map((x) => x.id)).to.deep.equal(['ag_1']);
      } finally {
        raw.destroy();
        await store.flushPrefix();
        await store.close();
      }
    });

    it('fails fast with StoreUnavailableError, ping rejects, and it reconnects by itself', async function () {
      this.timeout(20_000);
      const port = await freePort();
      let child = await startRedisServer(port);
      // A store that cannot connect (a script that does not load) must not leave the server running.
      const store = await RedisStore.connect({
        url: `redis://127.0.0.1:${port}`,
        prefix: testPrefix('down'),
      }).catch(async (err: unknown) => {
        await stopRedisServer(child);
        throw err;
      });
      try {
        await store.createAgent(agent('ag_1'));
        await stopRedisServer(child);

        const started = Date.now();
        const ping = await rejection(store.ping());
        expect(ping).to.be.instanceOf(StoreUnavailableError);
        const read = await rejection(store.getAgent('ag_1'));
        expect(read).to.be.instanceOf(StoreUnavailableError);
        expect((read as SwitchboardError).code).to.equal('store_unavailable');
        expect(Date.now() - started).to.be.lessThan(1500);

        child = await startRedisServer(port);
        const deadline = Date.now() + 5000;
        for (;;) {
          try {
            await store.ping();
            break;
          } catch (err) {
            if (Date.now() > deadline) throw err;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        // A new server: empty, and without the scripts (NOSCRIPT, then loaded again).
        expect(await store.getAgent('ag_1')).to.equal(null);
        const created = await store.createAgent(agent('ag_2'));
        expect(created.id).to.equal('ag_2');
      } finally {
        await store.close();
        await stopRedisServer(child);
      }
    });

    it('runs scripts on its connections one at a time each; a caller waiting for one fails as unavailable after the command timeout', async function () {
      this.timeout(10_000);
      const raw = createClient({ url: redis.url() });
      raw.on('error', () => {});
      await raw.connect();
      const clients = async () =>
        String(await raw.sendCommand(['CLIENT', 'LIST']))
          .trim()
          .split('\n').length;
      const before = await clients();
      const store = await RedisStore.connect({
        url: redis.url(),
        prefix: testPrefix('lanes'),
        commandTimeoutMs: 200,
        connections: 2,
      });
      try {
        expect(await clients()).to.equal(before + 2);
        // Redis holds every client's commands for 1 s: two scripts are sent, four wait for a connection.
        await raw.sendCommand(['CLIENT', 'PAUSE', '1000', 'ALL']);
        const started = performance.now();
        const errors = await Promise.all(Array.from({ length: 6 }, () => rejection(store.stats())));
        expect(performance.now() - started).to.be.below(900);
        for (const err of errors) expect(err).to.be.instanceOf(StoreUnavailableError);
        const messages = errors.map((err) => err.message);
        expect(
          messages.filter((m) => m.includes('no answer from Redis within 200 ms')),
        ).to.have.length.of.at.least(2);
        expect(messages.some((m) => m.includes('no connection to Redis free within 200 ms'))).to.equal(true);
        // Once Redis answers again, every connection is free again: six at once all answer.
        for (const deadline = performance.now() + 5000; ; ) {
          if (
            (await store.ping().then(
              () => true,
              () => false,
            )) === true
          )
            break;
          expect(performance.now()).to.be.below(deadline);
        }
        const stats = await Promise.all(Array.from({ length: 6 }, () => store.stats()));
        for (const s of stats) expect(s.waiting).to.equal(0);
      } finally {
        raw.destroy();
        await store.flushPrefix();
        await store.close();
      }
    });

    it('takes 1 to 64 connections', async () => {
      for (const connections of [0, 65, 1.5]) {
        const err = await rejection(RedisStore.connect({ url: redis.url(), connections }));
        expect(err).to.be.instanceOf(RangeError);
        expect(err.message).to.include('connections must be a whole number from 1 to 64');
      }
    });

    it('connect fails with StoreUnavailableError when nothing answers', async function () {
      this.timeout(10_000);
      const port = await freePort();
      const err = await rejection(
        RedisStore.connect({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 500 }),
      );
      expect(err).to.be.instanceOf(StoreUnavailableError);
    });
  });
});
