// The Slack console's Redis state (channels/slack/redis-state.ts) against a real
// redis-server: the same contract as the memory state (a key prefix of its own
// per test, deleted afterwards), then what only Redis has: two instances (two
// processes) on one prefix, event claims racing between them, the key layout,
// corrupt values, Redis mode handing it to the console, and the console using it.
import { expect } from 'chai';
import { pino } from 'pino';
import { createClient } from 'redis';
import { RedisSlackState, type RedisSlackStateOptions } from '../../../channels/slack/redis-state.js';
import { RedisKeys } from '../../../routing/store/redis-keys.js';
import { startRedisMode } from '../../../server/redis-mode.js';
import { CorruptRecordError, StoreUnavailableError } from '../../../shared/errors.js';
import { deletePrefix, freePort, sharedRedisUrl, uniquePrefix } from '../../support/redis-server.js';
import { rejection } from '../../support/rejection.js';
import { dmMessage, newEventId, startSlackHarness } from '../slack-harness.js';
import { slackStateContract } from '../slack-state.contract.js';

/** States opened in one test on one prefix; `cleanup` closes them and deletes the prefix's keys. */
function useStates() {
  let url = '';
  let prefix = '';
  let open: RedisSlackState[] = [];
  return {
    get url() {
      return url;
    },
    get prefix() {
      return prefix;
    },
    async make(options: Omit<RedisSlackStateOptions, 'url' | 'prefix'> = {}): Promise<RedisSlackState> {
      if (!prefix) {
        url = await sharedRedisUrl();
        prefix = uniquePrefix('slack');
      }
      const state = await RedisSlackState.connect({ url, prefix, ...options });
      open.push(state);
      return state;
    },
    async cleanup(): Promise<void> {
      for (const s of open) await s.close();
      open = [];
      if (prefix) await deletePrefix(url, prefix);
      prefix = '';
    },
  };
}

const contractStates = useStates();
slackStateContract(
  'redis',
  (options) => contractStates.make(options),
  () => contractStates.cleanup(),
);

describe('RedisSlackState', () => {
  const states = useStates();
  let raw: ReturnType<typeof createClient> | null = null;
  const client = async () => {
    if (!raw) {
      raw = createClient({ url: await sharedRedisUrl() });
      raw.on('error', () => {});
      await raw.connect();
    }
    return raw;
  };
  afterEach(async () => {
    await states.cleanup();
    raw?.destroy();
    raw = null;
  });

  it('two instances on one prefix (two processes) see each other’s cards, DM channels and posts', async () => {
    const a = await states.make();
    const b = await states.make();
    await a.rememberDmChannel('U1', 'D1');
    await a.saveThread('cv_1', 'ag_a', { channel: 'D1', ts: '1.000001' });
    await a.addPost('msg_1', { channel: 'D1', ts: '1.000002' });
    expect(await b.dmChannel('U1')).to.equal('D1');
    expect(await b.thread('cv_1', 'ag_a')).to.deep.equal({ channel: 'D1', ts: '1.000001' });
    expect(await b.threadOwner('D1', '1.000001')).to.deep.equal({ conversationId: 'cv_1', agentId: 'ag_a' });
    expect(await b.posts('msg_1')).to.deep.equal([{ channel: 'D1', ts: '1.000002' }]);
    // B replaces the card A posted: A no longer finds the old thread.
    await b.saveThread('cv_1', 'ag_a', { channel: 'D1', ts: '1.000003' });
    expect(await a.threadOwner('D1', '1.000001')).to.equal(null);
    expect(await a.threads('cv_1')).to.deep.equal([
      { agentId: 'ag_a', ref: { channel: 'D1', ts: '1.000003' } },
    ]);
    // Another prefix is another deployment: it sees none of it.
    const other = await RedisSlackState.connect({ url: states.url, prefix: uniquePrefix('slack-other') });
    try {
      expect(await other.thread('cv_1', 'ag_a')).to.equal(null);
      expect(await other.dmChannel('U1')).to.equal(null);
    } finally {
      await other.close();
    }
  });

  it('claimEvent from two instances at the same time: exactly one wins each event', async () => {
    const a = await states.make();
    const b = await states.make();
    const now = Date.now();
    const ids = Array.from({ length: 50 }, () => newEventId());
    const results = await Promise.all(
      ids.map(async (id) => {
        const [x, y, z] = await Promise.all([
          a.claimEvent(id, now),
          b.claimEvent(id, now),
          a.claimEvent(id, now),
        ]);
        return [x, y, z].filter(Boolean).length;
      }),
    );
    expect(results).to.deep.equal(ids.map(() => 1));
    // A retry reaching either process later is still a retry.
    expect(await b.claimEvent(ids[0]!, now + 1000)).to.equal(false);
  });

  it('keeps every key under the store’s hash tag, and event ids only for the retention window', async () => {
    const state = await states.make({ eventRetentionMs: 60_000 });
    await state.rememberDmChannel('U1', 'D1');
    await state.saveThread('cv_1', 'ag_a', { channel: 'D1', ts: '1.1' });
    await state.addPost('msg_1', { channel: 'D1', ts: '1.2' });
    await state.claimEvent('Ev1', Date.now());
    await state.reserveCard('cv_1', 'ag_a', Date.now(), 30_000);
    await state.reserveCard('cv_2', 'ag_a', Date.now(), 30_000);
    await state.endCard('cv_2', 'ag_a', ['msg_1']);
    await state.holdWork('cv_2', 'proc1', Date.now() + 60_000);
    const base = new RedisKeys(states.prefix).base;
    expect(state.base).to.equal(base);
    const r = await client();
    const keys: string[] = [];
    for await (const batch of r.scanIterator({ MATCH: `*${states.prefix}*`, COUNT: 1000 }))
      keys.push(...batch);
    expect(keys.sort()).to.deep.equal(
      [
        'slack:card:cv_1|ag_a',
        'slack:dms',
        'slack:event:Ev1',
        'slack:post-order',
        'slack:post-seq',
        'slack:posts:msg_1',
        'slack:roots',
        'slack:shown:cv_2|ag_a',
        'slack:shows:cv_2|ag_a',
        'slack:threads:cv_1',
        'slack:work',
      ].map((k) => base + k),
    );
    expect(await r.pTTL(`${base}slack:card:cv_1|ag_a`))
      .to.be.greaterThan(25_000)
      .and.at.most(30_000);
    expect(await r.pTTL(`${base}slack:shows:cv_2|ag_a`))
      .to.be.greaterThan(23 * 3600_000)
      .and.at.most(24 * 3600_000);
    expect(await r.pTTL(`${base}slack:shown:cv_2|ag_a`))
      .to.be.greaterThan(29 * 24 * 3600_000)
      .and.at.most(30 * 24 * 3600_000);
    const ttl = await r.pTTL(`${base}slack:event:Ev1`);
    expect(ttl).to.be.greaterThan(55_000).and.at.most(60_000);
    expect(await r.pTTL(`${base}slack:threads:cv_1`)).to.equal(-1);
  });

  it('drops the posts of messages past the limit from Redis too', async () => {
    const state = await states.make({ maxPosts: 3 });
    for (let i = 1; i <= 10; i++) await state.addPost(`m${i}`, { channel: 'D', ts: `1.${i}` });
    const r = await client();
    const base = state.base;
    expect(await r.zRange(`${base}slack:post-order`, 0, -1)).to.deep.equal(['m8', 'm9', 'm10']);
    expect(await r.exists([`${base}slack:posts:m1`, `${base}slack:posts:m7`])).to.equal(0);
    expect(await state.posts('m10')).to.deep.equal([{ channel: 'D', ts: '1.10' }]);
  });

  it('a corrupt value read back is a CorruptRecordError naming its key, never a crash', async () => {
    const state = await states.make();
    const r = await client();
    const base = state.base;
    await r.hSet(`${base}slack:threads:cv_1`, 'ag_a', '{not json');
    await r.hSet(`${base}slack:roots`, 'D1|1.1', JSON.stringify({ conversationId: 'cv_1' }));
    await r.rPush(`${base}slack:posts:msg_1`, [JSON.stringify({ channel: 'D1', ts: '1.2' }), '42']);
    await r.hSet(`${base}slack:dms`, 'U1', '');
    await r.set(`${base}slack:posts:msg_2`, 'a string, not a list');
    await r.set(`${base}slack:shows:cv_1|ag_a`, JSON.stringify(['msg_1', 7]));
    await r.set(`${base}slack:shown:cv_1|ag_a`, 'a string, not a set');
    await r.hSet(`${base}slack:work`, 'cv_1|proc1', '1');
    await r.hSet(`${base}slack:alert:chat`, { at: 'yesterday', unposted: '0' });
    await r.set(`${base}slack:alert:sms`, 'a string, not a hash');

    const cases: Array<[Promise<unknown>, string, string]> = [
      [state.thread('cv_1', 'ag_a'), `${base}slack:threads:cv_1 field ag_a`, 'not valid JSON'],
      [state.threads('cv_1'), `${base}slack:threads:cv_1 field ag_a`, 'not valid JSON'],
      [state.threadOwner('D1', '1.1'), `${base}slack:roots field D1|1.1`, 'agentId'],
      [state.posts('msg_1'), `${base}slack:posts:msg_1 item 1`, 'expected object'],
      [state.dmChannel('U1'), `${base}slack:dms field U1`, 'not a channel id'],
      [state.posts('msg_2'), `${base}slack:posts:msg_2`, 'WRONGTYPE'],
      [state.cardState('cv_1', 'ag_a', Date.now()), `${base}slack:shows:cv_1|ag_a`, 'expected string'],
      // A card over a corrupt one: refused before anything is written.
      [
        state.saveThread('cv_1', 'ag_a', { channel: 'D1', ts: '9.9' }),
        `${base}slack:threads:cv_1 field ag_a`,
        'not a Slack message reference',
      ],
      [state.addPost('msg_2', { channel: 'D1', ts: '9.9' }), `${base}slack:posts:msg_2`, 'WRONGTYPE'],
      [state.shown('cv_1', 'ag_a'), `${base}slack:shown:cv_1|ag_a`, 'WRONGTYPE'],
      [state.takeOverWork('proc2', Date.now(), Date.now() + 1000, 10), `${base}slack:work`, 'WRONGTYPE'],
      [state.alertWindow('chat', Date.now(), 60_000), `${base}slack:alert:chat`, 'must be numbers'],
      [state.alertWindow('sms', Date.now(), 60_000), `${base}slack:alert:sms`, 'WRONGTYPE'],
    ];
    for (const [promise, key, detail] of cases) {
      const err = await rejection(promise);
      expect(err, err.message).to.be.instanceOf(CorruptRecordError);
      expect(err.message).to.contain(`stored record ${key} is unreadable`);
      expect(err.message).to.contain(detail);
    }
    expect(await state.threadOwner('D1', '9.9')).to.equal(null);
    expect(await r.hGet(`${base}slack:threads:cv_1`, 'ag_a')).to.equal('{not json');
    // What is not corrupt still reads.
    expect(await state.thread('cv_1', 'ag_b')).to.equal(null);
  });

  it('runs its scripts again after Redis forgot them (SCRIPT FLUSH)', async () => {
    const state = await states.make();
    await state.saveThread('cv_1', 'ag_a', { channel: 'D1', ts: '1.1' });
    await (await client()).scriptFlush();
    await state.saveThread('cv_1', 'ag_a', { channel: 'D1', ts: '1.2' });
    await state.addPost('m1', { channel: 'D1', ts: '1.3' });
    expect(await state.threadOwner('D1', '1.2')).to.deep.equal({ conversationId: 'cv_1', agentId: 'ag_a' });
    expect(await state.posts('m1')).to.deep.equal([{ channel: 'D1', ts: '1.3' }]);
  });

  it('refuses limits that are not positive whole numbers, and an unusable prefix', async () => {
    const url = await sharedRedisUrl();
    for (const options of [{ maxPosts: 0 }, { eventRetentionMs: -1 }, { maxPosts: 1.5 }, { prefix: 'a b' }]) {
      const err = await rejection(RedisSlackState.connect({ url, ...options }));
      expect(err).to.be.instanceOf(RangeError);
    }
  });

  it('no Redis: connect fails with StoreUnavailableError, quickly', async () => {
    const started = Date.now();
    const err = await rejection(
      RedisSlackState.connect({ url: `redis://127.0.0.1:${await freePort()}`, connectTimeoutMs: 500 }),
    );
    expect(err).to.be.instanceOf(StoreUnavailableError);
    expect(Date.now() - started).to.be.below(3000);
  });
});

describe('Redis mode and the Slack console', () => {
  const states = useStates();
  afterEach(() => states.cleanup());

  it('startRedisMode hands out the Redis Slack state (Slack on) under the store’s prefix, and none with Slack off', async () => {
    const peer = await states.make();
    const log = pino({ level: 'silent' });
    const on = await startRedisMode({ url: states.url, prefix: states.prefix, log, slack: true });
    try {
      expect(on.slackState).to.be.instanceOf(RedisSlackState);
      expect(on.ready()).to.equal(true);
      await on.slackState!.saveThread('cv_1', 'ag_a', { channel: 'D1', ts: '1.1' });
      expect(await peer.threadOwner('D1', '1.1')).to.deep.equal({ conversationId: 'cv_1', agentId: 'ag_a' });
    } finally {
      await on.events.close();
      await on.store.close();
      await on.close();
    }
    expect(on.slackState!.ready).to.equal(false);
    const off = await startRedisMode({ url: states.url, prefix: states.prefix, log });
    try {
      expect(off.slackState).to.equal(null);
    } finally {
      await off.events.close();
      await off.store.close();
      await off.close();
    }
  });

  it('the console keeps its cards in Redis: another process finds the thread, and a retried event is claimed once for all', async () => {
    const state = await states.make();
    const peer = await states.make();
    const h = await startSlackHarness({ state });
    try {
      const ada = await h.agent('Ada', 'U0ADA00001');
      const mary = await h.visitor();
      const { conversationId } = await mary.say('where is my parcel?');
      await h.idle();
      // What this process posted, another one sees: the card, the DM channel.
      const [card] = await peer.threads(conversationId);
      expect(card?.agentId).to.equal(ada.id);
      expect(card?.ref.channel).to.equal(await peer.dmChannel('U0ADA00001'));
      expect(await peer.threadOwner(card!.ref.channel, card!.ref.ts)).to.deep.equal({
        conversationId,
        agentId: ada.id,
      });
      // The agent replies in the thread; Slack retries the event (here, and it is as if to another process).
      const eventId = newEventId();
      const reply = dmMessage('U0ADA00001', card!.ref.channel, 'On its way', card!.ref.ts);
      await h.event(reply, { eventId }).expect(200);
      await h.event(reply, { eventId, retryNum: 1 }).expect(200);
      await h.idle();
      expect(mary.received.filter((m) => m.direction === 'out').map((m) => m.text)).to.deep.equal([
        'On its way',
      ]);
      expect(await peer.claimEvent(eventId, Date.now())).to.equal(false);
      // Where the reply shows in Slack is shared too (for delivery marks).
      const out = (await h.store.listMessages(conversationId)).find((m) => m.direction === 'out');
      expect(await peer.posts(out!.id)).to.deep.equal([{ channel: card!.ref.channel, ts: reply.ts }]);
    } finally {
      await h.close();
    }
  });
});
