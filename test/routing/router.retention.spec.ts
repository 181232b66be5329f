// The policy's retention through the real Router: customers are erased retentionDays after they were last
// active, one look an hour, and kept while blocked, with a conversation open or a follow-up to come.
import { expect } from 'chai';
import { parsePolicy } from '../../routing/policy.js';
import { RETENTION_PER_SWEEP, RETENTION_SWEEP_MS, Router } from '../../routing/router.js';
import { RedisStore } from '../../routing/store/redis.js';
import { ManualClock } from '../../shared/clock.js';
import { randomIds } from '../../shared/ids.js';
import type { Message } from '../../shared/model.js';
import { type Harness, harness, MINUTE } from './harness.js';
import { useRedis } from './redis-harness.js';

const DAY = 24 * 60 * MINUTE;

describe('Router: retention', () => {
  let h: Harness;
  let forgotten: string[][];
  beforeEach(() => {
    h = harness({ retentionDays: 30, surveys: false });
    forgotten = [];
    h.router.onForgetFiles(async (messages: readonly Message[]) => {
      forgotten.push(messages.map((m) => m.text));
      return messages.length;
    });
  });
  afterEach(() => {
    expect(h.invalidEvents()).to.deep.equal([]);
  });

  const swept = () =>
    h
      .eventsOf('retention.swept')
      .map(({ examined, erased, kept, failed }) => ({ examined, erased, kept, failed }));
  const erased = () => h.eventsOf('customer.erased').map((e) => [e.customerId, e.by]);

  it('erases a customer retentionDays after they were last active; keeps the blocked, the open, one with a follow-up to come, and the active', async () => {
    const ada = await h.agent('Ada', { capacity: { sms: 5, chat: 5, email: 0, voice: 0 } });
    await h.router.startRetention();
    await h.advance(0);
    expect(swept()).to.deep.equal([{ examined: 0, erased: 0, kept: 0, failed: [] }]);

    const done = await h.contact({ channel: 'sms', from: '+14155550100', text: 'old question' });
    await h.router.resolve(ada.id, done.conversation.id);
    const blocked = await h.contact({ channel: 'sms', from: '+14155550101' });
    await h.router.blockCustomer(blocked.customer.id, 'admin', 'abuse');
    const open = await h.contact({ channel: 'sms', from: '+14155550102' });
    const later = await h.contact({ channel: 'sms', from: '+14155550103' });
    await h.router.resolve(ada.id, later.conversation.id, h.clock.now() + 45 * DAY);
    // A chat visitor who opened the widget and never wrote.
    const visitor = await h.router.visitor('visitor-1');
    await h.advance(20 * DAY);
    const recent = await h.contact({ channel: 'sms', from: '+14155550104' });
    await h.router.resolve(ada.id, recent.conversation.id);

    h.clearEvents();
    // Thirty days on, not yet (they were active a moment after the first look); a day later, they go.
    await h.advance(10 * DAY);
    expect(erased()).to.deep.equal([]);
    await h.advance(DAY);
    expect(erased()).to.deep.equal([
      [done.customer.id, 'retention'],
      [visitor.id, 'retention'],
    ]);
    expect(swept().at(-1)).to.deep.equal({ examined: 5, erased: 2, kept: 3, failed: [] });
    expect(forgotten).to.deep.equal([['old question']]);
    expect(await h.store.getCustomer(done.customer.id)).to.equal(null);
    expect(await h.store.getConversation(done.conversation.id)).to.equal(null);
    expect(await h.store.getCustomer(visitor.id)).to.equal(null);
    for (const kept of [blocked, open, later, recent]) {
      expect((await h.store.getCustomer(kept.customer.id))?.id).to.equal(kept.customer.id);
    }
    expect((await h.conversation(open.conversation.id)).status).to.equal('assigned');

    // An hour later: one look, the same ones kept.
    h.clearEvents();
    await h.advance(RETENTION_SWEEP_MS);
    expect(swept()).to.deep.equal([{ examined: 3, erased: 0, kept: 3, failed: [] }]);
    // The recent customer goes 30 days after their last message; the block lifted, that customer goes too.
    await h.router.unblockCustomer(blocked.customer.id, 'admin');
    h.clearEvents();
    await h.advance(20 * DAY);
    expect(erased()).to.deep.equal([
      [blocked.customer.id, 'retention'],
      [recent.customer.id, 'retention'],
    ]);
  });

  it('one look takes at most RETENTION_PER_SWEEP customers; the next goes on a second later', async () => {
    await h.router.startRetention();
    const n = RETENTION_PER_SWEEP + 12;
    for (let i = 0; i < n; i++) await h.router.visitor(`visitor-${i}`);
    await h.advance(31 * DAY);
    expect(swept()).to.deep.equal([
      { examined: RETENTION_PER_SWEEP, erased: RETENTION_PER_SWEEP, kept: 0, failed: [] },
    ]);
    await h.advance(1000);
    expect(swept().at(-1)).to.deep.equal({ examined: 12, erased: 12, kept: 0, failed: [] });
    expect(erased().length).to.equal(n);
    // Then an hour until the next look.
    await h.advance(1000);
    expect(swept().length).to.equal(2);
    await h.advance(RETENTION_SWEEP_MS);
    expect(swept().length).to.equal(3);
  });

  it('a look that stops goes on from there in whichever process claims the next: past 500 kept customers to the ones to erase', async () => {
    // A second process on the same store: the look that goes on may be either's.
    const other = new Router({
      store: h.store,
      clock: h.clock,
      policy: parsePolicy({ retentionDays: 30, surveys: false }),
      ids: randomIds,
    });
    const otherSwept: number[] = [];
    other.events.subscribe((e) => {
      if (e.type === 'retention.swept') otherSwept.push(e.erased);
    });
    for (let i = 0; i < RETENTION_PER_SWEEP; i++) {
      const kept = await h.router.visitor(`blocked-${i}`);
      await h.router.blockCustomer(kept.id, 'admin', 'abuse');
    }
    h.clock.advance(1);
    for (let i = 0; i < 12; i++) await h.router.visitor(`visitor-${i}`);
    await h.router.startRetention();
    h.clock.advance(31 * DAY);
    await h.router.tick();
    expect(swept()).to.deep.equal([
      { examined: RETENTION_PER_SWEEP, erased: 0, kept: RETENTION_PER_SWEEP, failed: [] },
    ]);
    h.clock.advance(1000);
    await other.tick();
    expect(otherSwept).to.deep.equal([12]);
    // Left: the blocked ones.
    const left = await h.store.inactiveCustomers(h.clock.now(), 1000);
    expect(left.length).to.equal(RETENTION_PER_SWEEP);
    for (const c of left) expect((await h.store.getCustomer(c.id))?.blocked).to.not.equal(undefined);
  });

  it('without retentionDays nothing is looked for, and a look set before it was turned off is the last', async () => {
    const off = harness({ surveys: false });
    await off.router.startRetention();
    expect(await off.store.claimDueTimers(off.clock.now() + 2 * RETENTION_SWEEP_MS, 10)).to.deep.equal([]);
    await off.store.schedule({ kind: 'retention', ref: 'sweep', dueAt: off.clock.now() });
    await off.router.visitor('visitor-1');
    await off.advance(400 * DAY);
    expect(off.eventsOf('retention.swept')).to.deep.equal([]);
    expect(await off.store.claimDueTimers(off.clock.now() + 2 * RETENTION_SWEEP_MS, 10)).to.deep.equal([]);
    expect((await off.store.inactiveCustomers(off.clock.now(), 10)).length).to.equal(1);
  });
});

describe('Router: retention on Redis, two processes', () => {
  const redis = useRedis();

  it('one look at a time across processes: each customer erased once, by whichever holds the timer', async () => {
    const a = await redis.connect('retention');
    const prefix = a.keys.base.slice('{sb:'.length, -'}:'.length);
    const b = await RedisStore.connect({ url: redis.url(), prefix });
    const clock = new ManualClock();
    const routers = [a, b].map(
      (store) => new Router({ store, clock, policy: parsePolicy({ retentionDays: 30 }), ids: randomIds }),
    );
    const erased: string[] = [];
    const looks: number[] = [];
    for (const r of routers) {
      r.events.subscribe((e) => {
        if (e.type === 'customer.erased') erased.push(e.customerId);
        if (e.type === 'retention.swept') looks.push(e.erased);
      });
    }
    try {
      for (let i = 0; i < 30; i++) await routers[i % 2]!.visitor(`visitor-${i}`);
      await Promise.all(routers.map((r) => r.startRetention()));
      clock.advance(31 * DAY);
      await Promise.all(routers.map((r) => r.tick()));
      expect(looks).to.deep.equal([30]);
      expect(new Set(erased).size).to.equal(30);
      expect(erased.length).to.equal(30);
      expect(await a.inactiveCustomers(clock.now() + 1, 100)).to.deep.equal([]);
      // The next look, an hour later, on one of them.
      clock.advance(RETENTION_SWEEP_MS);
      await Promise.all(routers.map((r) => r.tick()));
      expect(looks).to.deep.equal([30, 0]);
    } finally {
      await a.flushPrefix();
      await a.close();
      await b.close();
    }
  });
});
