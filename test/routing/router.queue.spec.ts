// The waiting line: priority, aging, the hard cap, who a freed agent takes,
// wait quotes and the promises they make, abandonment.
import { expect } from 'chai';
import type { RoutingPolicyInput } from '../../routing/policy.js';
import { InvalidStateError } from '../../shared/errors.js';
import { type Harness, harness, SECOND } from './harness.js';

/**
 * An older contact with `oldPriority`, then `gapSeconds` later a newer one with
 * `newPriority`; the only agent comes in `claimAfterSeconds` after the first.
 * Which of the two does the agent get first?
 */
async function firstServed(
  oldPriority: number,
  newPriority: number,
  gapSeconds: number,
  claimAfterSeconds: number,
  policy: RoutingPolicyInput = {},
): Promise<'old' | 'new'> {
  const h = harness(policy);
  const ana = await h.agent('Ana', { status: 'away', capacity: { chat: 1 } });
  const t0 = h.clock.now();
  const old = await h.contact({ channel: 'chat', from: 'old', priority: oldPriority });
  h.clock.set(t0 + gapSeconds * SECOND);
  const young = await h.contact({ channel: 'chat', from: 'new', priority: newPriority });
  h.clock.set(t0 + claimAfterSeconds * SECOND);
  await h.router.setAgentStatus(ana.id, 'available');
  const [o, n] = [await h.conversation(old.conversation.id), await h.conversation(young.conversation.id)];
  expect([o.ownerId, n.ownerId].filter((x) => x !== null)).to.deep.equal([ana.id]);
  return o.ownerId === ana.id ? 'old' : 'new';
}

describe('Router: the waiting line', () => {
  let h: Harness;
  afterEach(() => {
    expect(h.invalidEvents()).to.deep.equal([]);
  });

  describe('order', () => {
    beforeEach(() => {
      h = harness();
    });

    it('higher priority goes first', async () => {
      const ana = await h.agent('Ana', { status: 'away', capacity: { chat: 1 } });
      const low = await h.contact({ channel: 'chat', from: 'low', priority: 0 });
      h.clock.advance(10 * SECOND);
      const high = await h.contact({ channel: 'chat', from: 'high', priority: 5 });
      // Ana is away: nobody can answer now.
      expect(high.outcome).to.deep.equal({ type: 'queued', position: 1, etaSeconds: null, nobodyFree: true });
      expect(await h.router.quote(low.conversation.id)).to.deep.equal({
        position: 2,
        etaSeconds: null,
        nobodyFree: true,
      });
      expect(h.eventsOf('conversation.queued').map((e) => [e.conversation.id, e.position])).to.deep.equal([
        [low.conversation.id, 1],
        [high.conversation.id, 1],
      ]);
      await h.router.setAgentStatus(ana.id, 'available');
      expect((await h.conversation(high.conversation.id)).ownerId).to.equal(ana.id);
      expect((await h.conversation(low.conversation.id)).status).to.equal('queued');
    });

    it('equal priority goes in arrival order', async () => {
      expect(await firstServed(3, 3, 1, 10)).to.equal('old');
    });

    it('ages: an old low-priority contact overtakes a new high one after agingStepSeconds × Δpriority', async () => {
      // agingStepSeconds 60, Δpriority 2: the boundary is 120 s between arrivals.
      expect(await firstServed(0, 2, 119, 130)).to.equal('new');
      expect(await firstServed(0, 2, 121, 130)).to.equal('old');
      expect(await firstServed(1, 4, 179, 200)).to.equal('new');
      expect(await firstServed(1, 4, 181, 200)).to.equal('old');
      // A longer step: the same gap no longer overtakes.
      expect(await firstServed(0, 2, 121, 130, { agingStepSeconds: 90 })).to.equal('new');
      expect(await firstServed(0, 2, 181, 190, { agingStepSeconds: 90 })).to.equal('old');
    });

    it('hard cap: past hardCapSeconds, arrival order wins whatever the priority', async () => {
      // Priority 9 is worth 540 s of waiting, so the newer one is ahead...
      expect(await firstServed(0, 9, 100, 599)).to.equal('new');
      // ...until the older one has waited hardCapSeconds (600).
      expect(await firstServed(0, 9, 100, 600)).to.equal('old');
      // Both past the cap: arrival order, whatever the priority.
      expect(await firstServed(0, 9, 10, 620)).to.equal('old');
      expect(await firstServed(0, 9, 10, 620, { hardCapSeconds: 900 })).to.equal('new');
    });
  });

  describe('an agent freeing up', () => {
    beforeEach(() => {
      h = harness();
    });

    it('on resolve takes the oldest waiting conversation', async () => {
      const ana = await h.agent('Ana', { capacity: { chat: 1 } });
      const busy = await h.contact({ channel: 'chat', from: 'v0' });
      const first = await h.contact({ channel: 'chat', from: 'v1' });
      h.clock.advance(5 * SECOND);
      const second = await h.contact({ channel: 'chat', from: 'v2' });
      expect(second.outcome.type).to.equal('queued');
      h.clearEvents();
      h.clock.advance(30 * SECOND);
      await h.router.resolve(ana.id, busy.conversation.id);
      expect(h.events.map((e) => e.type)).to.deep.equal([
        'conversation.resolved',
        'promise.settled',
        'conversation.assigned',
      ]);
      const assigned = h.eventsOf('conversation.assigned')[0];
      expect([assigned?.conversation.id, assigned?.agentId, assigned?.reason]).to.deep.equal([
        first.conversation.id,
        ana.id,
        'routed',
      ]);
      expect((await h.conversation(second.conversation.id)).status).to.equal('queued');
      expect((await h.router.quote(second.conversation.id))?.position).to.equal(1);
      expect((await h.agentNow(ana.id)).load.chat).to.equal(1);
    });

    it('on becoming available takes the oldest waiting conversation they can serve', async () => {
      const generalist = await h.agent('Gen', { status: 'offline', capacity: { chat: 1 } });
      const french = await h.agent('Fr', { status: 'offline', skills: { french: 2 }, capacity: { chat: 1 } });
      const needsFrench = await h.contact({ channel: 'chat', from: 'v1', skills: { french: 1 } });
      h.clock.advance(SECOND);
      const plain = await h.contact({ channel: 'chat', from: 'v2' });
      h.clock.advance(SECOND);
      const plain2 = await h.contact({ channel: 'chat', from: 'v3' });
      h.clock.advance(10 * SECOND);

      await h.router.setAgentStatus(generalist.id, 'available');
      expect((await h.conversation(plain.conversation.id)).ownerId).to.equal(generalist.id);
      expect((await h.conversation(needsFrench.conversation.id)).status).to.equal('queued');

      await h.router.setAgentStatus(french.id, 'available');
      expect((await h.conversation(needsFrench.conversation.id)).ownerId).to.equal(french.id);
      expect((await h.conversation(needsFrench.conversation.id)).ownership[0]?.reason).to.equal('skills');
      expect((await h.conversation(plain2.conversation.id)).status).to.equal('queued');
    });

    it('with capacity for several takes several, oldest first', async () => {
      const ana = await h.agent('Ana', { status: 'away', capacity: { chat: 2 } });
      const ids: string[] = [];
      for (const v of ['v1', 'v2', 'v3']) {
        ids.push((await h.contact({ channel: 'chat', from: v })).conversation.id);
        h.clock.advance(SECOND);
      }
      await h.router.setAgentStatus(ana.id, 'available');
      const owners = await Promise.all(ids.map(async (id) => (await h.conversation(id)).ownerId));
      expect(owners).to.deep.equal([ana.id, ana.id, null]);
    });
  });

  describe('wait quotes and promises', () => {
    beforeEach(() => {
      h = harness();
    });

    it('a queued contact gets its position and a pessimistic wait, recorded as a wait promise', async () => {
      await h.agent('Ana', { capacity: { chat: 1 } });
      await h.contact({ channel: 'chat', from: 'v0' });
      const t = h.clock.now();
      const first = await h.contact({ channel: 'chat', from: 'v1' });
      // One server, 480 s default chat handle time, 90th percentile of Exp: 480 × ln 10 = 1105.2 s.
      expect(first.outcome).to.deep.equal({ type: 'queued', position: 1, etaSeconds: 1106 });
      const second = await h.contact({ channel: 'chat', from: 'v2' });
      // Erlang(2): 480 × 3.88972 = 1867.1 s.
      expect(second.outcome).to.deep.equal({ type: 'queued', position: 2, etaSeconds: 1868 });
      expect(h.eventsOf('conversation.queued').map((e) => [e.position, e.etaSeconds])).to.deep.equal([
        [1, 1106],
        [2, 1868],
      ]);
      const [promise] = await h.store.listPromises(first.conversation.id);
      expect(promise).to.deep.equal({
        id: promise?.id,
        conversationId: first.conversation.id,
        kind: 'wait',
        dueAt: t + 1106 * SECOND,
        createdAt: t,
        text: 'a person answers',
        state: 'open',
        settledAt: null,
      });
      expect(h.eventsOf('promise.made').map((e) => e.promise.id)).to.deep.equal([
        promise?.id,
        (await h.store.listPromises(second.conversation.id))[0]?.id,
      ]);
      // A further message while waiting makes no second promise.
      const again = await h.contact({ channel: 'chat', from: 'v1' });
      expect(again.outcome).to.deep.equal({ type: 'queued', position: 1, etaSeconds: 1106 });
      expect((await h.store.listPromises(first.conversation.id)).length).to.equal(1);
    });

    it('the wait promise is kept when a person answers before it is due', async () => {
      const ana = await h.agent('Ana', { capacity: { chat: 1 } });
      const busy = await h.contact({ channel: 'chat', from: 'v0' });
      const waiting = await h.contact({ channel: 'chat', from: 'v1' });
      await h.advance(100 * SECOND);
      await h.router.resolve(ana.id, busy.conversation.id);
      const [p] = await h.store.listPromises(waiting.conversation.id);
      expect([p?.state, p?.settledAt]).to.deep.equal(['kept', h.clock.now()]);
      expect(h.eventsOf('promise.settled').map((e) => [e.promise.id, e.promise.state])).to.deep.equal([
        [p?.id, 'kept'],
      ]);
      expect(h.eventsOf('promise.due')).to.deep.equal([]);
    });

    it('the wait promise is broken when a person answers after it was due, and it is announced when due', async () => {
      const ana = await h.agent('Ana', { capacity: { chat: 1 } });
      const busy = await h.contact({ channel: 'chat', from: 'v0' });
      const waiting = await h.contact({ channel: 'chat', from: 'v1' });
      await h.advance(1105 * SECOND);
      expect(h.eventsOf('promise.due')).to.deep.equal([]);
      await h.advance(1 * SECOND);
      expect(h.eventsOf('promise.due').map((e) => [e.promise.kind, e.promise.conversationId])).to.deep.equal([
        ['wait', waiting.conversation.id],
      ]);
      await h.advance(1 * SECOND);
      await h.router.resolve(ana.id, busy.conversation.id);
      const [p] = await h.store.listPromises(waiting.conversation.id);
      expect([p?.state, p?.settledAt]).to.deep.equal(['broken', h.clock.now()]);
    });

    it('quote is null for a conversation that is not waiting', async () => {
      await h.agent('Ana');
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      expect(await h.router.quote(r.conversation.id)).to.equal(null);
      expect(await h.router.quote('cv_nope')).to.equal(null);
    });
  });

  describe('abandon', () => {
    beforeEach(() => {
      h = harness();
    });

    it('before the quoted wait is due: abandoned, the promise no longer applies, the line moves up', async () => {
      await h.agent('Ana', { capacity: { chat: 1 } });
      await h.contact({ channel: 'chat', from: 'v0' });
      const gone = await h.contact({ channel: 'chat', from: 'v1' });
      const next = await h.contact({ channel: 'chat', from: 'v2' });
      expect((await h.router.quote(next.conversation.id))?.position).to.equal(2);
      await h.advance(60 * SECOND);
      const conv = await h.router.abandon(gone.conversation.id);
      expect([conv.status, conv.resolvedAt, conv.ownerId]).to.deep.equal(['abandoned', h.clock.now(), null]);
      const [p] = await h.store.listPromises(gone.conversation.id);
      expect([p?.state, p?.settledAt]).to.deep.equal(['void', h.clock.now()]);
      expect(h.eventsOf('conversation.abandoned').map((e) => e.conversation.id)).to.deep.equal([
        gone.conversation.id,
      ]);
      expect(await h.router.quote(gone.conversation.id)).to.equal(null);
      expect((await h.router.quote(next.conversation.id))?.position).to.equal(1);
      // Coming back starts a new conversation.
      const back = await h.contact({ channel: 'chat', from: 'v1' });
      expect([back.created, back.conversation.id === gone.conversation.id]).to.deep.equal([true, false]);
    });

    it('after the quoted wait was due: the promise is broken', async () => {
      await h.agent('Ana', { capacity: { chat: 1 } });
      await h.contact({ channel: 'chat', from: 'v0' });
      const gone = await h.contact({ channel: 'chat', from: 'v1' });
      await h.advance(1107 * SECOND);
      await h.router.abandon(gone.conversation.id);
      const [p] = await h.store.listPromises(gone.conversation.id);
      expect(p?.state).to.equal('broken');
    });

    it('a ringing call hung up frees the agent it rang', async () => {
      const ana = await h.agent('Ana');
      const call = await h.contact({ channel: 'voice', from: '4155550100' });
      expect(call.outcome.type).to.equal('offered');
      expect((await h.agentNow(ana.id)).load.voice).to.equal(1);
      const conv = await h.router.abandon(call.conversation.id);
      expect([conv.status, conv.offer]).to.deep.equal(['abandoned', null]);
      expect((await h.agentNow(ana.id)).load.voice).to.equal(0);
      // The offer timer is gone: nothing expires later, and Ana stays available.
      await h.advance(60 * SECOND);
      expect(h.eventsOf('conversation.offer_expired')).to.deep.equal([]);
      expect((await h.agentNow(ana.id)).status).to.equal('available');
    });

    it('an owned conversation cannot be abandoned', async () => {
      await h.agent('Ana');
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      let err: unknown;
      try {
        await h.router.abandon(r.conversation.id);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(InvalidStateError);
      expect([(err as InvalidStateError).code, (err as InvalidStateError).status]).to.deep.equal([
        'invalid_state',
        409,
      ]);
    });
  });
});
