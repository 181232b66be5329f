// A customer whom available agents declined, through the real Router on both stores: those agents are not offered
// them again in this wait, so they neither count among the servers of the wait quoted nor make the team "busy"
// for them; a customer every available agent declined is told that nobody can answer right now.
import { expect } from 'chai';
import { quoteWaitSeconds } from '../../routing/estimate.js';
import { parsePolicy, type RoutingPolicy, waitSentence } from '../../routing/policy.js';
import { type NewAgent, Router } from '../../routing/router.js';
import { MemoryStore } from '../../routing/store/memory.js';
import type { Store } from '../../routing/store/store.js';
import { ManualClock } from '../../shared/clock.js';
import { sequentialIds } from '../../shared/ids.js';
import type { Agent, Channel } from '../../shared/model.js';
import { useRedis } from './redis-harness.js';

const SECOND = 1000;

interface Made {
  store: Store;
  done(): Promise<void>;
}

function declinedSpecs(makeStore: () => Promise<Made>): void {
  let made: Made;
  let router: Router;
  let clock: ManualClock;
  let policy: RoutingPolicy;
  let external = 0;
  beforeEach(async () => {
    made = await makeStore();
    clock = new ManualClock();
    policy = parsePolicy({ offerTimeoutSeconds: { voice: 20, chat: 30 }, liveChannels: ['voice', 'chat'] });
    router = new Router({ store: made.store, clock, policy, ids: sequentialIds() });
  });
  afterEach(async () => {
    await made.done();
  });

  const capacity = { voice: 1, sms: 0, chat: 1, email: 0 };
  async function agent(name: string, input: Partial<NewAgent> = {}): Promise<Agent> {
    const a = await router.createAgent({ status: 'available', capacity, ...input, name });
    clock.advance(SECOND);
    return a;
  }
  async function contact(channel: Channel, from: string) {
    external++;
    return router.contact({ channel, from, text: `hello ${external}`, externalId: `ext-${external}` });
  }
  const wait = (servers: number) =>
    quoteWaitSeconds({
      position: 1,
      servers,
      handled: { count: 0, totalMs: 0 },
      defaultHandleMs: policy.defaultHandleSeconds.voice * 1000,
      percentile: policy.quotePercentile,
    });

  it('a caller every available agent declined is told that nobody can answer right now, not a wait', async () => {
    const ana = await agent('Ana');
    const bo = await agent('Bo');
    const call = await contact('voice', '+14155550100');
    const id = call.conversation.id;
    expect((await router.declineOffer(ana.id, id)).offer?.agentId).to.equal(bo.id);
    const left = await router.declineOffer(bo.id, id);
    expect([left.status, left.offer, left.declinedBy]).to.deep.equal(['queued', null, [ana.id, bo.id]]);

    const snapshot = await made.store.queueSnapshot(id);
    expect([snapshot?.servers, snapshot?.declined]).to.deep.equal([0, 2]);
    const quote = await router.quote(id);
    expect(quote).to.deep.equal({ position: 1, etaSeconds: null, nobodyFree: true });
    expect(await router.outcome(id)).to.deep.equal({
      type: 'queued',
      position: 1,
      etaSeconds: null,
      nobodyFree: true,
    });
    expect(waitSentence(policy, quote!)).to.equal(policy.texts.nobodyFree);

    // Someone who has not declined them comes in: rung at once.
    const cy = await agent('Cy');
    const rung = await made.store.getConversation(id);
    expect(rung?.offer?.agentId).to.equal(cy.id);
    // Another caller, whom nobody declined: Ana and Bo serve them, and the team is not "nobody free" for them.
    const other = await contact('voice', '+14155550101');
    expect(other.outcome.type).to.equal('offered');
  });

  it('the wait quoted counts only the available agents who have not declined the caller', async () => {
    const ana = await agent('Ana');
    const bo = await agent('Bo');
    const cy = await agent('Cy');
    // Ana is on a call.
    const first = await contact('voice', '+14155550100');
    expect(first.outcome).to.deep.include({ type: 'offered', agentId: ana.id });
    await router.acceptOffer(ana.id, first.conversation.id);

    const call = await contact('voice', '+14155550101');
    const id = call.conversation.id;
    expect(call.outcome).to.deep.include({ type: 'offered', agentId: bo.id });
    await router.declineOffer(bo.id, id);
    const left = await router.declineOffer(cy.id, id);
    expect([left.status, left.offer]).to.deep.equal(['queued', null]);

    // Ana alone can serve them: the wait is hers to free, not three agents'.
    const snapshot = await made.store.queueSnapshot(id);
    expect([snapshot?.servers, snapshot?.declined]).to.deep.equal([1, 2]);
    expect(wait(1)).to.be.greaterThan(wait(3)!);
    expect(await router.quote(id)).to.deep.equal({ position: 1, etaSeconds: wait(1) });

    // Bo goes on a break and comes back: still one who declined this wait, not rung for it nor a server of it.
    await router.setAgentStatus(bo.id, 'away', 'break');
    expect((await made.store.queueSnapshot(id))?.declined).to.equal(1);
    expect((await router.quote(id))?.etaSeconds).to.equal(wait(1));
    await router.setAgentStatus(bo.id, 'available');
    expect((await made.store.getConversation(id))?.offer).to.equal(null);
    expect([
      (await made.store.queueSnapshot(id))?.servers,
      (await router.quote(id))?.etaSeconds,
    ]).to.deep.equal([1, wait(1)]);

    // Ana goes away: nobody who could take them is available, and someone is away: nobody can answer right now.
    await router.setAgentStatus(ana.id, 'away', 'break');
    expect(await router.quote(id)).to.deep.equal({ position: 1, etaSeconds: null, nobodyFree: true });
  });

  it('a chat visitor every available agent declined is told the same', async () => {
    const ana = await agent('Ana');
    const chat = await contact('chat', 'visitor-1');
    const id = chat.conversation.id;
    expect(chat.outcome).to.deep.include({ type: 'offered', agentId: ana.id });
    await router.declineOffer(ana.id, id);
    expect(await router.quote(id)).to.deep.equal({ position: 1, etaSeconds: null, nobodyFree: true });
  });
}

describe('Router: a customer whom agents declined (memory store)', () => {
  declinedSpecs(async () => ({ store: new MemoryStore(), done: async () => {} }));
});

describe('Router: a customer whom agents declined (Redis store)', () => {
  const redis = useRedis();
  declinedSpecs(async () => {
    const store = await redis.connect('declined');
    return {
      store,
      done: async () => {
        await store.flushPrefix();
        await store.close();
      },
    };
  });
});
