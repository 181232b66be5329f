// What a team lead manages by every day, in GET /api/live through the real express app, with the memory store
// and with the Redis store: each channel's service level (waits a person had within the policy's target,
// callers who left counted, those who left within seconds not) and average handle time, and each agent's
// conversations resolved and average handle time, over the last 24 hours. Then the setting's checks at start,
// and the counting rules on their own.
import { expect } from 'chai';
import { pino } from 'pino';
import request from 'supertest';
import { SERVICE_LEVEL_DEFAULTS } from '../../routing/policy.js';
import { MemoryStore } from '../../routing/store/memory.js';
import type { RedisStore } from '../../routing/store/redis.js';
import type { Store } from '../../routing/store/store.js';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { dayWaits, teamDay } from '../../server/figures.js';
import { ManualClock } from '../../shared/clock.js';
import type { Channel, Conversation } from '../../shared/model.js';
import { useRedis } from '../routing/redis-harness.js';
import { ADMIN_TOKEN, type Json, SECOND, TOKEN_SECRET } from './harness.js';

const HOUR = 3600 * SECOND;
const POLICY = { serviceLevel: { targetSeconds: { chat: 60 } } };

interface Running {
  sb: Switchboard;
  clock: ManualClock;
  live(): Promise<Json>;
}

async function start(store: Store, policy: unknown = POLICY): Promise<Running> {
  const config = loadConfig({
    ADMIN_TOKEN,
    TOKEN_SECRET,
    LOG_LEVEL: 'silent',
    DEMO_AGENTS: 'off',
    ROUTING_POLICY: JSON.stringify(policy),
  });
  const clock = new ManualClock();
  const sb = createSwitchboard({ config, logger: pino({ level: 'silent' }), store, clock });
  const port = await sb.listen(0, '127.0.0.1');
  const live = async () =>
    (
      await request(`http://127.0.0.1:${port}`)
        .get('/api/live')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .expect(200)
    ).body;
  return { sb, clock, live };
}

/**
 * A day at the desk: chats answered at once and one answered late, a chat blocked while it waited, a call
 * answered in time, callers who hang up (one within seconds), one still waiting past the target; an old
 * conversation resolved today, and a hand-off.
 */
async function aDay({ sb, clock, live }: Running): Promise<void> {
  const router = sb.router;
  let n = 0;
  const contact = async (channel: Channel, from: string) =>
    (await router.contact({ channel, from, text: 'hello', externalId: `ext-${++n}` })).conversation.id;
  const chatOnly = { voice: 0, sms: 0, chat: 2, email: 0 };
  const bo = await router.createAgent({ name: 'Bo', capacity: chatOnly, status: 'available' });
  // Yesterday's conversation, resolved today: it counts on the day it is resolved, its wait does not.
  const old = await contact('chat', 'visitor-old');
  clock.advance(25 * HOUR);
  const ada = await router.createAgent({
    name: 'Ada',
    capacity: { voice: 1, sms: 0, chat: 1, email: 0 },
    status: 'available',
  });

  const c1 = await contact('chat', 'visitor-1');
  const c2 = await contact('chat', 'visitor-2');
  const c3 = await contact('chat', 'visitor-3');
  const c4 = await contact('chat', 'visitor-4');
  const owners = await Promise.all([c1, c2, c3, c4].map((id) => sb.store.getConversation(id)));
  expect(owners.map((c) => c?.ownerId ?? null)).to.deep.equal([bo.id, ada.id, null, null]);
  // Blocked while waiting: the team closed it, nobody gave up waiting.
  clock.advance(20 * SECOND);
  await router.blockCustomer(owners[3]!.customerId, 'admin', 'abuse');
  // Ada resolves at 90 s: the chat waiting 90 s (past its 60 s) is hers.
  clock.advance(70 * SECOND);
  await router.resolve(ada.id, c2);
  expect((await sb.store.getConversation(c3))?.ownerId).to.equal(ada.id);
  clock.advance(30 * SECOND);
  await router.resolve(bo.id, old);
  // Ada hands it to Bo, who has it 50 s: his own handle time counts from when it became his.
  await router.handoff(ada.id, c3, bo.id, 'refund, yours');
  clock.advance(5 * SECOND);
  await router.acceptHandoff(bo.id, c3);
  clock.advance(50 * SECOND);
  await router.resolve(bo.id, c3);

  // Calls: one answered after 10 s of ringing; one caller hangs up after 3 s, one after 40 s; one still waits.
  const v1 = await contact('voice', '+14155550101');
  expect((await sb.store.getConversation(v1))?.offer?.agentId).to.equal(ada.id);
  clock.advance(10 * SECOND);
  await router.acceptOffer(ada.id, v1);
  const v2 = await contact('voice', '+14155550102');
  clock.advance(3 * SECOND);
  await router.liveContactEnded(v2);
  const v3 = await contact('voice', '+14155550103');
  clock.advance(40 * SECOND);
  await router.liveContactEnded(v3);
  await contact('voice', '+14155550104');
  clock.advance(25 * SECOND);

  const view = await live();
  expect(view.day.serviceLevelGoal).to.equal(0.8);
  expect(view.day.shortAbandonSeconds).to.equal(5);
  expect(view.day.channels.chat).to.deep.equal({
    serviceLevel: {
      targetSeconds: 60,
      share: 2 / 3,
      inTime: 2,
      counted: 3,
      answered: 3,
      abandoned: 0,
      shortAbandons: 0,
      waitingPast: 0,
    },
    // Yesterday's (25 h 2 min), the one Ada resolved (90 s), and the one Ada handed to Bo: 35 s hers, 50 s his.
    handled: { resolved: 3, averageHandleSeconds: Math.round((90_120 + 90 + 85) / 3) },
  });
  expect(view.day.channels.voice).to.deep.equal({
    serviceLevel: {
      targetSeconds: 20,
      share: 1 / 3,
      inTime: 1,
      counted: 3,
      answered: 1,
      abandoned: 1,
      shortAbandons: 1,
      waitingPast: 1,
    },
    handled: { resolved: 0, averageHandleSeconds: null },
  });
  // Nothing on texts or mail: their targets, nothing counted.
  expect(view.day.channels.sms.serviceLevel).to.include({ targetSeconds: 120, share: null, counted: 0 });
  expect(view.day.channels.email.serviceLevel).to.include({ targetSeconds: 3600, share: null, counted: 0 });
  expect(
    view.agents.map((a: Json) => [a.name, a.holding, a.day.resolved, a.day.averageHandleSeconds]),
  ).to.deep.equal([
    ['Ada', 1, 1, 90],
    ['Bo', 1, 2, Math.round((90_120 + 50) / 2)],
  ]);
  // The existing figures stand as they were.
  expect(view.day.conversations).to.deep.equal({ queued: 1, assigned: 2, resolved: 2, abandoned: 2 });
  expect(view.day.timeToHumanSeconds.samples).to.equal(4);
}

/**
 * Waits the day must not lose: a chat blocked while it waited, then the block lifted (and set again); a chat
 * still waiting after a day and a half, then answered.
 */
async function waitsKept({ sb, clock, live }: Running): Promise<void> {
  const router = sb.router;
  const blocked = await router.contact({ channel: 'chat', from: 'visitor-b', text: 'hi', externalId: 'b1' });
  clock.advance(10 * SECOND);
  await router.blockCustomer(blocked.customer.id, 'admin', 'abuse');
  await router.unblockCustomer(blocked.customer.id, 'admin');
  clock.advance(61 * SECOND);
  let view = await live();
  expect(view.day.conversations.abandoned).to.equal(0);
  expect(view.day.channels.chat.serviceLevel).to.include({ abandoned: 0, counted: 0 });
  await router.blockCustomer(blocked.customer.id, 'admin', 'again');
  clock.advance(61 * SECOND);
  view = await live();
  expect(view.day.conversations.abandoned).to.equal(0);
  expect(view.day.channels.chat.serviceLevel).to.include({ abandoned: 0, counted: 0 });

  // Nobody works chat for a day and a half: the wait still counts against the day, and when answered.
  const long = await router.contact({ channel: 'chat', from: 'visitor-l', text: 'hello?', externalId: 'l1' });
  clock.advance(36 * HOUR);
  view = await live();
  expect(view.day.channels.chat.serviceLevel).to.include({ waitingPast: 1, counted: 1, share: 0 });
  await router.createAgent({ name: 'Ada', status: 'available' });
  expect((await sb.store.getConversation(long.conversation.id))?.status).to.equal('assigned');
  clock.advance(61 * SECOND);
  view = await live();
  expect(view.day.channels.chat.serviceLevel).to.include({ answered: 1, inTime: 0, counted: 1, share: 0 });
}

describe('GET /api/live: service level, handle times and each agent’s day', () => {
  describe('with the memory store', () => {
    let running: Running | null = null;
    afterEach(async () => {
      await running?.sb.close();
      running = null;
    });

    it('counts the day from the store', async () => {
      running = await start(new MemoryStore());
      await aDay(running);
    });

    it('keeps a wait closed by a block out after the block is lifted, and one older than the day in', async () => {
      running = await start(new MemoryStore());
      await waitsKept(running);
    });

    it('a day counted once a minute: a resolution shows at the next count, the agents’ load at once', async () => {
      running = await start(new MemoryStore());
      const { sb, clock, live } = running;
      const ada = await sb.router.createAgent({ name: 'Ada', status: 'available' });
      const mia = await sb.router.contact({ channel: 'chat', from: 'visitor-mia', externalId: 'm1' });
      expect((await live()).agents[0]).to.deep.include({
        holding: 1,
        day: { resolved: 0, averageHandleSeconds: null },
      });
      clock.advance(2 * SECOND);
      await sb.router.resolve(ada.id, mia.conversation.id);
      let view = await live();
      expect(view.agents[0]).to.deep.include({
        holding: 0,
        day: { resolved: 0, averageHandleSeconds: null },
      });
      clock.advance(60 * SECOND);
      view = await live();
      expect(view.agents[0].day).to.deep.equal({ resolved: 1, averageHandleSeconds: 2 });
      expect(view.day.channels.chat.handled).to.deep.equal({ resolved: 1, averageHandleSeconds: 2 });
      // Without a serviceLevel in the policy: the defaults.
      expect(view.day.serviceLevelGoal).to.equal(SERVICE_LEVEL_DEFAULTS.goal);
      expect(view.day.channels.voice.serviceLevel.targetSeconds).to.equal(20);
      // A day later, what was resolved then is out of the day.
      clock.advance(24 * HOUR);
      view = await live();
      expect(view.agents[0].day).to.deep.equal({ resolved: 0, averageHandleSeconds: null });
      expect(view.day.channels.chat.serviceLevel.counted).to.equal(0);
    });

    it('with opening hours, a wait counts only the time the team was open', async () => {
      const hours = { timeZone: 'UTC', week: { mon: '09:00-17:00', tue: '09:00-17:00' } };
      running = await start(new MemoryStore(), { ...POLICY, hours });
      const { sb, clock, live } = running;
      // Monday 16:59: a chat nobody takes before closing; 22:00: another, written at night.
      clock.set(Date.UTC(2026, 0, 5, 16, 59));
      const late = await sb.router.contact({ channel: 'chat', from: 'visitor-late', externalId: 'l1' });
      clock.set(Date.UTC(2026, 0, 5, 22, 0));
      const night = await sb.router.contact({ channel: 'chat', from: 'visitor-night', externalId: 'n1' });
      // Tuesday 09:00:30 the first agent is in and takes both: 90 s and 30 s of the team's time.
      clock.set(Date.UTC(2026, 0, 6, 9, 0, 30));
      const ada = await sb.router.createAgent({
        name: 'Ada',
        capacity: { voice: 0, sms: 0, chat: 2, email: 0 },
        status: 'available',
      });
      for (const c of [late, night])
        expect((await sb.store.getConversation(c.conversation.id))?.ownerId).to.equal(ada.id);
      const chat = (await live()).day.channels.chat.serviceLevel;
      expect(chat).to.deep.include({ targetSeconds: 60, answered: 2, inTime: 1, counted: 2, share: 0.5 });
    });

    it('/api/stats is as it was: the new figures are the team view’s', async () => {
      running = await start(new MemoryStore());
      const stats = await request(running.sb.http)
        .get('/api/stats')
        .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
        .expect(200);
      expect(Object.keys(stats.body).sort()).to.deep.equal(
        [
          'agentPromises',
          'agents',
          'conversations',
          'factsReused',
          'followUps',
          'ownershipChanges',
          'promises',
          'quotes',
          'repeatContacts',
          'retention',
          'since',
          'surveys',
          'timeToHumanSeconds',
          'waiting',
          'waitingByChannel',
        ].sort(),
      );
    });
  });

  describe('with the Redis store', () => {
    const redis = useRedis();
    let store: RedisStore | null = null;
    let running: Running | null = null;
    afterEach(async () => {
      await store?.flushPrefix();
      await running?.sb.close();
      running = null;
      store = null;
    });

    it('counts the same day from Redis', async () => {
      store = await redis.connect('team-figures');
      running = await start(store);
      await aDay(running);
    });

    it('keeps the same waits in and out in Redis', async () => {
      store = await redis.connect('team-figures-kept');
      running = await start(store);
      await waitsKept(running);
    });
  });
});

describe('ROUTING_POLICY serviceLevel, checked at start', () => {
  const lines = (serviceLevel: unknown): string[] => {
    try {
      loadConfig({ ROUTING_POLICY: JSON.stringify({ serviceLevel }) });
    } catch (err) {
      expect(err).to.be.instanceOf(ConfigError);
      return (err as ConfigError).lines;
    }
    throw new Error('expected loadConfig to refuse it');
  };

  it('takes targets per channel and the goal; what is left out keeps its default', () => {
    const config = loadConfig({
      ROUTING_POLICY: JSON.stringify({ serviceLevel: { targetSeconds: { chat: 45 }, goal: 0.9 } }),
    });
    expect(config.policy.serviceLevel).to.deep.equal({
      targetSeconds: { voice: 20, sms: 120, chat: 45, email: 3600 },
      goal: 0.9,
    });
  });

  it('refuses a bad value, naming it', () => {
    expect(lines({ targetSeconds: { voice: 0 } })).to.deep.equal([
      'ROUTING_POLICY: serviceLevel.targetSeconds.voice: must be at least 1 second',
    ]);
    expect(lines({ targetSeconds: { chat: 'thirty' } })[0]).to.match(
      /^ROUTING_POLICY: serviceLevel\.targetSeconds\.chat: /,
    );
    expect(lines({ targetSeconds: { email: 1.5 } })).to.deep.equal([
      'ROUTING_POLICY: serviceLevel.targetSeconds.email: must be a whole number of seconds',
    ]);
    expect(lines({ goal: 80 })).to.deep.equal([
      'ROUTING_POLICY: serviceLevel.goal: must be a share above 0 and at most 1, such as 0.8',
    ]);
    // A misspelt channel or field is not dropped in silence.
    expect(lines({ targetSeconds: { phone: 20 } })).to.deep.equal([
      'ROUTING_POLICY: serviceLevel.targetSeconds.phone: not a known field',
    ]);
    expect(lines({ target: { voice: 20 } })).to.deep.equal([
      'ROUTING_POLICY: serviceLevel.target: not a known field',
    ]);
  });
});

describe('the service level’s counting rules (server/figures.ts)', () => {
  const T = Date.UTC(2026, 0, 5, 9);
  const conv = (over: Partial<Conversation>): Conversation => ({
    id: `cv_${Math.random().toString(36).slice(2)}`,
    customerId: 'cu_1',
    status: 'resolved',
    ownerId: 'ag_1',
    slotChannel: null,
    cover: null,
    consultants: [],
    invited: [],
    channels: ['voice'],
    lastChannel: 'voice',
    skills: {},
    priority: 0,
    createdAt: T,
    lastContactAt: T,
    queuedAt: null,
    waitingForOwnerSince: null,
    assignedAt: null,
    firstAssignedAt: null,
    resolvedAt: null,
    followUpOf: undefined,
    followUpAt: null,
    offer: null,
    handoff: null,
    ownership: [],
    declinedBy: [],
    ...over,
  });
  const level = (conversations: Conversation[], now = T + HOUR) =>
    teamDay(dayWaits(conversations, now), [], {
      targetSeconds: { voice: 20, sms: 120, chat: 30, email: 3600 },
      goal: 0.8,
    }).channels.voice.serviceLevel;

  it('answered at the target is in time; a caller who left after 5 s counts, sooner does not', () => {
    expect(
      level([
        conv({ firstAssignedAt: T + 20 * SECOND }),
        conv({ firstAssignedAt: T + 21 * SECOND }),
        conv({ status: 'abandoned', ownerId: null, resolvedAt: T + 5 * SECOND }),
        conv({ status: 'abandoned', ownerId: null, resolvedAt: T + 4_900 }),
      ]),
    ).to.deep.include({ inTime: 1, answered: 2, abandoned: 1, shortAbandons: 1, counted: 3, share: 1 / 3 });
  });

  it('a wait still under its target is not counted yet; one an agent started or a follow-up is no wait', () => {
    const outbound = { from: null, to: 'ag_1', reason: 'outbound' as const, at: T };
    const followUpOf = { conversationId: 'cv_0', promiseId: 'pr_0' };
    expect(
      level(
        [
          conv({ status: 'queued', ownerId: null }),
          conv({ ownership: [outbound], firstAssignedAt: T + HOUR }),
          conv({ followUpOf, firstAssignedAt: T + HOUR }),
          // It came in as a call: it counts there, whatever channel it went on to.
          conv({ channels: ['voice', 'sms'], lastChannel: 'sms', firstAssignedAt: T + 2 * SECOND }),
        ],
        T + 10 * SECOND,
      ),
    ).to.deep.include({ inTime: 1, answered: 1, waitingPast: 0, counted: 1, share: 1 });
  });
});
