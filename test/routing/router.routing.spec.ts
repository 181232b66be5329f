// DESIGN.md's order of preference, one rule per spec: owner → last owner → skills
// and capacity, longest idle first → overflow. Through the real Router and MemoryStore.
import { expect } from 'chai';
import type { Conversation } from '../../shared/model.js';
import { type Harness, harness, MINUTE, SECOND } from './harness.js';

describe('Router: routing order', () => {
  let h: Harness;
  afterEach(() => {
    expect(h.invalidEvents()).to.deep.equal([]);
  });

  describe('a new conversation', () => {
    beforeEach(() => {
      h = harness();
    });

    it('goes to an agent who meets every required skill at its minimum level, longest idle first', async () => {
      const low = await h.agent('Low', { skills: { billing: 2 } });
      const mid = await h.agent('Mid', { skills: { billing: 4, spanish: 1 } });
      const high = await h.agent('High', { skills: { billing: 5 } });
      const now = h.clock.now();

      const first = await h.contact({ channel: 'chat', from: 'v1', skills: { billing: 4 } });
      expect(first.outcome).to.deep.equal({ type: 'assigned', agentId: mid.id });
      expect(first.conversation.ownership).to.deep.equal([
        { from: null, to: mid.id, reason: 'skills', at: now },
      ]);
      const second = await h.contact({ channel: 'chat', from: 'v2', skills: { billing: 4 } });
      expect(second.outcome).to.deep.equal({ type: 'assigned', agentId: high.id });
      const both = await h.contact({ channel: 'chat', from: 'v3', skills: { billing: 3, spanish: 1 } });
      expect(both.outcome).to.deep.equal({ type: 'assigned', agentId: mid.id });

      expect(
        h.eventsOf('conversation.assigned').map((e) => [e.agentId, e.reason, e.previousOwnerId]),
      ).to.deep.equal([
        [mid.id, 'skills', null],
        [high.id, 'skills', null],
        [mid.id, 'skills', null],
      ]);
      expect((await h.agentNow(low.id)).load.chat).to.equal(0);
      expect((await h.agentNow(mid.id)).load.chat).to.equal(2);
    });

    it('without required skills goes to the longest-idle available agent, reason routed', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      await h.agent('Cy', { status: 'away' });
      const a = await h.contact({ channel: 'sms', from: '4155550101' });
      const b = await h.contact({ channel: 'sms', from: '4155550102' });
      const c = await h.contact({ channel: 'sms', from: '4155550103' });
      expect([a.outcome, b.outcome, c.outcome]).to.deep.equal([
        { type: 'assigned', agentId: ana.id },
        { type: 'assigned', agentId: bea.id },
        { type: 'assigned', agentId: ana.id },
      ]);
      expect(a.conversation.ownership[0]?.reason).to.equal('routed');
      expect(a.conversation.status).to.equal('assigned');
      expect(a.conversation.slotChannel).to.equal('sms');
      expect(a.conversation.firstAssignedAt).to.equal(h.clock.now());
    });

    it('waits when nobody has the skills, and nobody is quoted a wait that nobody can serve', async () => {
      await h.agent('Ana', { skills: { billing: 1 } });
      const r = await h.contact({ channel: 'chat', from: 'v1', skills: { billing: 2 } });
      expect(r.outcome).to.deep.equal({ type: 'queued', position: 1, etaSeconds: null });
      expect(r.conversation.status).to.equal('queued');
      expect(r.conversation.ownerId).to.equal(null);
      expect(await h.store.listPromises(r.conversation.id)).to.deep.equal([]);
    });
  });

  describe('a returning customer', () => {
    it('goes to the last owner within preferLastOwnerFor, and by the normal order after it', async () => {
      h = harness({ preferLastOwnerForSeconds: 3600 });
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const first = await h.contact({ channel: 'chat', from: 'v1' });
      expect(first.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      h.clock.advance(MINUTE);
      await h.router.resolve(ana.id, first.conversation.id);
      const resolvedAt = h.clock.now();
      expect((await h.store.getCustomer(first.customer.id))?.lastOwnerAt).to.equal(resolvedAt);

      // Bea has been idle longer, but Ana was the last owner, an hour ago exactly.
      h.clock.set(resolvedAt + 3600 * SECOND);
      const back = await h.contact({ channel: 'chat', from: 'v1' });
      expect(back.created).to.equal(true);
      expect(back.conversation.id).to.not.equal(first.conversation.id);
      expect(back.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      expect(back.conversation.ownership[0]?.reason).to.equal('last_owner');
      h.clock.advance(MINUTE);
      await h.router.resolve(ana.id, back.conversation.id);

      // An hour and a millisecond later, the last owner no longer comes first.
      h.clock.advance(3600 * SECOND + 1);
      const later = await h.contact({ channel: 'chat', from: 'v1' });
      expect(later.outcome).to.deep.equal({ type: 'assigned', agentId: bea.id });
      expect(later.conversation.ownership[0]?.reason).to.equal('routed');
    });

    it('goes on to the normal order when the last owner is not available', async () => {
      h = harness();
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const first = await h.contact({ channel: 'chat', from: 'v1' });
      await h.router.resolve(ana.id, first.conversation.id);
      await h.router.setAgentStatus(ana.id, 'away');
      const back = await h.contact({ channel: 'chat', from: 'v1' });
      expect(back.outcome).to.deep.equal({ type: 'assigned', agentId: bea.id });
      expect(back.conversation.ownership[0]?.reason).to.equal('routed');
    });
  });

  describe('an open conversation', () => {
    it('stays with its owner while the owner is available', async () => {
      h = harness();
      const ana = await h.agent('Ana');
      await h.agent('Bea');
      const first = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(first.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      h.clock.advance(MINUTE);
      const second = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(second.created).to.equal(false);
      expect(second.conversation.id).to.equal(first.conversation.id);
      expect(second.outcome).to.deep.equal({ type: 'owner', agentId: ana.id });
      expect(h.eventsOf('conversation.assigned').length).to.equal(1);
      // Switching channel keeps the conversation and the owner.
      const call = await h.contact({ channel: 'voice', from: '+14155550100' });
      expect(call.outcome).to.deep.equal({ type: 'owner', agentId: ana.id });
      expect(call.conversation.channels).to.deep.equal(['sms', 'voice']);
      expect((await h.agentNow(ana.id)).load).to.deep.equal({ voice: 0, sms: 1, chat: 0, email: 0 });
    });

    it('waits stickyWait for that channel for an away owner, then a colleague covers and the owner stays', async () => {
      h = harness({ stickyWaitSeconds: { sms: 300, email: 900 } });
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const first = await h.contact({ channel: 'sms', from: '4155550100' });
      const id = first.conversation.id;
      await h.router.setAgentStatus(ana.id, 'away', 'lunch');

      const t = h.clock.now();
      const r = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(r.outcome).to.deep.equal({
        type: 'waiting_for_owner',
        ownerId: ana.id,
        until: t + 300 * SECOND,
      });
      expect(r.conversation.waitingForOwnerSince).to.equal(t);
      expect(h.eventsOf('conversation.waiting_for_owner').map((e) => [e.ownerId, e.until])).to.deep.equal([
        [ana.id, t + 300 * SECOND],
      ]);
      // A second message in the meantime keeps the same deadline.
      h.clock.advance(100 * SECOND);
      const again = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(again.outcome).to.deep.equal({
        type: 'waiting_for_owner',
        ownerId: ana.id,
        until: t + 300 * SECOND,
      });

      await h.advance(199 * SECOND);
      expect((await h.conversation(id)).cover).to.equal(null);
      expect(h.eventsOf('conversation.covered')).to.deep.equal([]);

      await h.advance(1 * SECOND);
      const covered = await h.conversation(id);
      expect(covered.cover).to.deep.equal({ agentId: bea.id, channel: 'sms', since: t + 300 * SECOND });
      expect(covered.ownerId).to.equal(ana.id);
      expect(covered.status).to.equal('assigned');
      expect(covered.waitingForOwnerSince).to.equal(null);
      expect(covered.ownership).to.deep.equal(first.conversation.ownership);
      expect(h.eventsOf('conversation.covered').map((e) => e.agentId)).to.deep.equal([bea.id]);
      const notes = (await h.store.listMessages(id)).filter((m) => m.direction === 'internal');
      expect(notes.map((m) => [m.author.type, m.text])).to.deep.equal([
        ['system', 'Bea covers the sms contact while Ana is away; Ana stays the owner.'],
      ]);
      expect((await h.agentNow(bea.id)).load.sms).to.equal(1);
      // The colleague may answer the customer.
      const reply = await h.router.reply(bea.id, id, 'Hi, Ana is away; I can help.');
      expect([reply.direction, reply.channel, reply.author.id]).to.deep.equal(['out', 'sms', bea.id]);
      // The next contact stays with the colleague.
      const more = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(more.outcome).to.deep.equal({ type: 'covered', agentId: bea.id, ownerId: ana.id });

      // The owner comes back: the cover ends and the colleague's capacity comes back.
      await h.router.setAgentStatus(ana.id, 'available');
      const back = await h.conversation(id);
      expect([back.ownerId, back.cover]).to.deep.equal([ana.id, null]);
      expect((await h.agentNow(bea.id)).load.sms).to.equal(0);
    });

    it('measures stickyWait by the channel of the contact', async () => {
      h = harness({ stickyWaitSeconds: { sms: 300, email: 900 } });
      const ana = await h.agent('Ana');
      await h.agent('Bea');
      const first = await h.contact({ channel: 'sms', from: '4155550100' });
      await h.router.identify(first.customer.id, { email: 'dee@example.com' }, 'agent:x');
      await h.router.setAgentStatus(ana.id, 'away');
      const t = h.clock.now();
      const mail = await h.contact({ channel: 'email', from: 'dee@example.com' });
      expect(mail.conversation.id).to.equal(first.conversation.id);
      expect(mail.outcome).to.deep.equal({
        type: 'waiting_for_owner',
        ownerId: ana.id,
        until: t + 900 * SECOND,
      });
    });

    it('a new conversation needs what its entry point says: the number reached, the address, the chat topic', async () => {
      h = harness({
        entryPoints: [
          { channel: 'voice', to: '+14155550199', skills: { spanish: 1 }, priority: 3 },
          { channel: 'email', to: 'billing@example.com', skills: { billing: 2 } },
          { channel: 'chat', topic: 'billing', skills: { billing: 1 } },
          { channel: 'chat', priority: 1 },
        ],
      });
      const needs = (c: Conversation) => [c.skills, c.priority];
      const call = await h.contact({ channel: 'voice', from: '4155550100', to: '(415) 555-0199' });
      expect(needs(call.conversation)).to.deep.equal([{ spanish: 1 }, 3]);
      const other = await h.contact({ channel: 'voice', from: '4155550101', to: '+14155550000' });
      expect(needs(other.conversation)).to.deep.equal([{}, 0]);
      const mail = await h.contact({ channel: 'email', from: 'dee@example.org', to: 'Billing@example.com' });
      expect(needs(mail.conversation)).to.deep.equal([{ billing: 2 }, 0]);
      const page = await h.contact({ channel: 'chat', from: 'v_1', to: 'billing' });
      expect(needs(page.conversation)).to.deep.equal([{ billing: 1 }, 0]);
      // No topic, or one no entry point names: the channel's catch-all, the first that fits.
      const plain = await h.contact({ channel: 'chat', from: 'v_2' });
      expect(needs(plain.conversation)).to.deep.equal([{}, 1]);
      // A conversation keeps what it started with: the same customer writing from another topic changes nothing.
      const later = await h.contact({ channel: 'chat', from: 'v_2', to: 'billing' });
      expect(later.conversation.id).to.equal(plain.conversation.id);
      expect(needs(later.conversation)).to.deep.equal([{}, 1]);
      // What the channel says itself wins.
      const said = await h.contact({ channel: 'chat', from: 'v_3', to: 'billing', skills: { vip: 1 } });
      expect(needs(said.conversation)).to.deep.equal([{ vip: 1 }, 0]);
    });

    it('an away owner who answers the customer ends their wait: nobody covers what the owner answered', async () => {
      h = harness({ stickyWaitSeconds: { sms: 300 } });
      const ana = await h.agent('Ana');
      await h.agent('Bea');
      const first = await h.contact({ channel: 'sms', from: '4155550100' });
      const id = first.conversation.id;
      await h.router.setAgentStatus(ana.id, 'away', 'lunch');
      const waiting = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(waiting.outcome.type).to.equal('waiting_for_owner');
      h.clock.advance(3 * SECOND);
      await h.router.reply(ana.id, id, 'On my way back; I have your order here.');
      const answered = await h.conversation(id);
      expect([answered.waitingForOwnerSince, answered.cover]).to.deep.equal([null, null]);
      expect(await h.store.queueSnapshot(id)).to.equal(null);
      await h.advance(400 * SECOND);
      expect(h.eventsOf('conversation.covered')).to.deep.equal([]);
      expect((await h.conversation(id)).ownerId).to.equal(ana.id);
      // The customer writing again waits for her again, as before.
      const again = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(again.outcome.type).to.equal('waiting_for_owner');
    });

    it('an owner back within stickyWait gets the conversation; nobody covers', async () => {
      h = harness();
      const ana = await h.agent('Ana');
      await h.agent('Bea');
      const first = await h.contact({ channel: 'sms', from: '4155550100' });
      await h.router.setAgentStatus(ana.id, 'away');
      await h.contact({ channel: 'sms', from: '4155550100' });
      await h.advance(300 * SECOND);
      await h.router.setAgentStatus(ana.id, 'available');
      const back = await h.conversation(first.conversation.id);
      expect(back.waitingForOwnerSince).to.equal(null);
      await h.advance(600 * SECOND);
      const later = await h.conversation(first.conversation.id);
      expect([later.ownerId, later.cover, later.waitingForOwnerSince]).to.deep.equal([ana.id, null, null]);
      expect(h.eventsOf('conversation.covered')).to.deep.equal([]);
      const next = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(next.outcome).to.deep.equal({ type: 'owner', agentId: ana.id });
    });

    it('an owner back after their customer was told a wait in line: the wait is kept, not left to break', async () => {
      h = harness({ stickyWaitSeconds: { sms: 300 } });
      const ana = await h.agent('Ana', { capacity: { voice: 0, sms: 1, chat: 0, email: 0 } });
      const first = await h.contact({ channel: 'sms', from: '4155550100' });
      const id = first.conversation.id;
      // Bea works, but is full.
      const bea = await h.agent('Bea', { capacity: { voice: 0, sms: 1, chat: 0, email: 0 } });
      const busy = await h.contact({ channel: 'sms', from: '4155550199' });
      expect(busy.outcome).to.deep.equal({ type: 'assigned', agentId: bea.id });
      await h.router.setAgentStatus(ana.id, 'away', 'lunch');
      await h.contact({ channel: 'sms', from: '4155550100' });
      // Nobody free to cover: in line, with a wait quoted.
      await h.advance(300 * SECOND);
      const quoted = (await h.store.listPromises(id)).filter((p) => p.kind === 'wait' && p.state === 'open');
      expect(quoted).to.have.length(1);
      h.clock.advance(60 * SECOND);
      await h.router.setAgentStatus(ana.id, 'available');
      const settled = (await h.store.listPromises(id)).find((p) => p.id === quoted[0]!.id)!;
      expect([settled.state, settled.settledAt]).to.deep.equal(['kept', h.clock.now()]);
      expect(
        h.eventsOf('promise.settled').map((e) => [e.promise.id, e.promise.state, e.waitedMs]),
      ).to.deep.equal([[quoted[0]!.id, 'kept', h.clock.now() - quoted[0]!.createdAt]]);
      // Past its due time nothing more happens to it.
      await h.advance(3600 * SECOND);
      expect((await h.store.listPromises(id)).find((p) => p.id === quoted[0]!.id)!.state).to.equal('kept');
    });

    it('an offline owner: their conversations wait stickyWait, then move on with reason owner_offline', async () => {
      h = harness();
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const first = await h.contact({ channel: 'sms', from: '4155550100' });
      const id = first.conversation.id;
      const t = h.clock.now();
      await h.router.setAgentStatus(ana.id, 'offline');

      await h.advance(599 * SECOND); // stickyWait on SMS is 600 s by default
      const still = await h.conversation(id);
      expect([still.status, still.ownerId]).to.deep.equal(['assigned', ana.id]);

      await h.advance(1 * SECOND);
      const moved = await h.conversation(id);
      expect([moved.status, moved.ownerId, moved.slotChannel]).to.deep.equal(['assigned', bea.id, 'sms']);
      expect(moved.ownership).to.deep.equal([
        { from: null, to: ana.id, reason: 'routed', at: t },
        { from: ana.id, to: bea.id, reason: 'owner_offline', at: t + 600 * SECOND },
      ]);
      expect(
        h.eventsOf('conversation.assigned').map((e) => [e.agentId, e.reason, e.previousOwnerId]),
      ).to.deep.equal([
        [ana.id, 'routed', null],
        [bea.id, 'owner_offline', ana.id],
      ]);
      expect((await h.agentNow(ana.id)).load.sms).to.equal(0);
      expect((await h.agentNow(bea.id)).load.sms).to.equal(1);
      const next = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(next.outcome).to.deep.equal({ type: 'owner', agentId: bea.id });
    });

    it('an offline owner: a customer they answered last stays theirs (behind nobody), until the customer writes again', async () => {
      h = harness();
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea', { status: 'away' });
      const answered = await h.contact({ channel: 'sms', from: '4155550100' });
      await h.router.reply(ana.id, answered.conversation.id, 'Your refund went out today.');
      const waiting = await h.contact({ channel: 'sms', from: '4155550101' });
      await h.router.setAgentStatus(ana.id, 'offline');
      await h.router.setAgentStatus(bea.id, 'available');
      await h.advance(600 * SECOND);
      // The one waiting for an answer moves on; the one answered stays with Ana, in no line.
      expect((await h.conversation(waiting.conversation.id)).ownerId).to.equal(bea.id);
      const kept = await h.conversation(answered.conversation.id);
      expect([kept.status, kept.ownerId]).to.deep.equal(['assigned', ana.id]);
      expect(await h.store.queueSnapshot(kept.id)).to.equal(null);
      expect((await h.store.listPromises(kept.id)).filter((p) => p.kind === 'wait')).to.deep.equal([]);
      // The customer writes again: it waits stickyWait for Ana, then a colleague has it.
      await h.advance(3600 * SECOND);
      const again = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(again.outcome.type).to.equal('waiting_for_owner');
      await h.advance(600 * SECOND);
      const moved = await h.conversation(answered.conversation.id);
      expect([moved.ownerId, moved.ownership.at(-1)?.reason]).to.deep.equal([bea.id, 'owner_offline']);
    });

    it('an offline owner: an unanswered customer goes back in line at the place their wait began, shown so', async () => {
      h = harness();
      const ana = await h.agent('Ana', { capacity: { sms: 1 } });
      const unanswered = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(unanswered.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      await h.advance(300 * SECOND);
      const later = await h.contact({ channel: 'sms', from: '4155550101' });
      expect(later.outcome.type).to.equal('queued');
      await h.router.setAgentStatus(ana.id, 'offline');
      await h.advance(600 * SECOND);
      const back = await h.conversation(unanswered.conversation.id);
      // Waiting since they wrote, 15 minutes ago: first in line, ahead of the one who wrote 5 minutes later.
      expect([back.status, back.queuedAt]).to.deep.equal(['queued', unanswered.conversation.createdAt]);
      expect((await h.router.quote(back.id))?.position).to.equal(1);
      expect((await h.router.quote(later.conversation.id))?.position).to.equal(2);
    });

    it('an agent who leaves the team: a customer who waits for nothing goes behind those who wait', async () => {
      h = harness();
      const ana = await h.agent('Ana', { capacity: { sms: 1 } });
      const answered = await h.contact({ channel: 'sms', from: '4155550100' });
      await h.router.reply(ana.id, answered.conversation.id, 'Your refund went out today.');
      await h.advance(300 * SECOND);
      const waiting = await h.contact({ channel: 'sms', from: '4155550101' });
      expect(waiting.outcome.type).to.equal('queued');
      await h.advance(60 * SECOND);
      await h.router.leaveTeam(ana.id);
      const moved = await h.conversation(answered.conversation.id);
      expect([moved.status, moved.queuedAt]).to.deep.equal(['queued', h.clock.now()]);
      expect((await h.router.quote(waiting.conversation.id))?.position).to.equal(1);
      expect((await h.router.quote(moved.id))?.position).to.equal(2);
    });

    it('an offline owner: each conversation waits the stickyWait of its own channel', async () => {
      h = harness();
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const text = await h.contact({ channel: 'sms', from: '4155550100' });
      const chat = await h.contact({ channel: 'chat', from: 'v1' });
      expect([text.outcome, chat.outcome]).to.deep.equal([
        { type: 'assigned', agentId: ana.id },
        { type: 'assigned', agentId: bea.id },
      ]);
      // Bea owns the chat; Ana takes a second chat so both have one of each kind to lose.
      const chat2 = await h.contact({ channel: 'chat', from: 'v2' });
      expect(chat2.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      await h.router.setAgentStatus(ana.id, 'offline');
      await h.advance(120 * SECOND); // chat: 120 s
      expect((await h.conversation(chat2.conversation.id)).ownerId).to.equal(bea.id);
      expect((await h.conversation(text.conversation.id)).ownerId).to.equal(ana.id);
      await h.advance(480 * SECOND); // sms: 600 s
      expect((await h.conversation(text.conversation.id)).ownerId).to.equal(bea.id);
      expect((await h.conversation(chat.conversation.id)).ownerId).to.equal(bea.id);
      expect(
        h
          .eventsOf('conversation.assigned')
          .filter((e) => e.reason === 'owner_offline')
          .map((e) => [e.conversation.id, e.previousOwnerId]),
      ).to.deep.equal([
        [chat2.conversation.id, ana.id],
        [text.conversation.id, ana.id],
      ]);
    });

    it('an offline owner whose conversation finds nobody: the next agent to come in takes it as owner_offline', async () => {
      h = harness();
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea', { status: 'offline' });
      const first = await h.contact({ channel: 'chat', from: 'v1' });
      await h.router.setAgentStatus(ana.id, 'offline');
      await h.advance(120 * SECOND); // stickyWait on chat
      const waiting = await h.conversation(first.conversation.id);
      expect([waiting.status, waiting.ownerId, waiting.slotChannel]).to.deep.equal(['queued', ana.id, null]);
      await h.router.setAgentStatus(bea.id, 'available');
      const taken = await h.conversation(first.conversation.id);
      expect([taken.status, taken.ownerId]).to.deep.equal(['assigned', bea.id]);
      expect(taken.ownership.at(-1)?.reason).to.equal('owner_offline');
      expect(taken.ownership.at(-1)?.from).to.equal(ana.id);
    });

    it('an owner who steps away with a customer unanswered: after the sticky wait, a colleague covers', async () => {
      h = harness();
      const ana = await h.agent('Ana');
      const unanswered = await h.contact({ channel: 'sms', from: '4155550100' });
      const answered = await h.contact({ channel: 'sms', from: '4155550101' });
      await h.router.reply(ana.id, answered.conversation.id, 'Your refund went out today.');
      const bea = await h.agent('Bea', { status: 'away' });
      await h.router.setAgentStatus(ana.id, 'away');
      // A short break changes nothing yet.
      expect((await h.conversation(unanswered.conversation.id)).waitingForOwnerSince).to.equal(null);
      await h.router.setAgentStatus(bea.id, 'available');
      await h.advance(600 * SECOND);
      const covered = await h.conversation(unanswered.conversation.id);
      expect([covered.ownerId, covered.cover?.agentId]).to.deep.equal([ana.id, bea.id]);
      // The one Ana answered last waits for nothing: hers, uncovered.
      expect((await h.conversation(answered.conversation.id)).cover).to.equal(null);
    });

    it('a live call while the owner is away is covered at once; the owner stays owner', async () => {
      h = harness();
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const first = await h.contact({ channel: 'sms', from: '4155550100' });
      // Answered before Ana steps away: the text waits for nothing.
      await h.router.reply(ana.id, first.conversation.id, 'Noted, thank you.');
      await h.router.setAgentStatus(ana.id, 'away');
      const t = h.clock.now();
      const call = await h.contact({ channel: 'voice', from: '+14155550100' });
      expect(call.outcome).to.deep.equal({ type: 'covered', agentId: bea.id, ownerId: ana.id });
      expect(call.conversation.id).to.equal(first.conversation.id);
      expect(call.conversation.cover).to.deep.equal({ agentId: bea.id, channel: 'voice', since: t });
      expect(call.conversation.ownerId).to.equal(ana.id);
      expect(call.conversation.ownership.length).to.equal(1);
      expect((await h.agentNow(bea.id)).load).to.deep.equal({ voice: 1, sms: 0, chat: 0, email: 0 });
      const notes = (await h.store.listMessages(call.conversation.id)).filter(
        (m) => m.direction === 'internal',
      );
      expect(notes.map((m) => m.text)).to.deep.equal([
        'Bea covers the voice contact while Ana is away; Ana stays the owner.',
      ]);
      expect(h.eventsOf('conversation.waiting_for_owner')).to.deep.equal([]);

      // The call ends: the colleague is free again.
      const ended = await h.router.endCover(call.conversation.id);
      expect([ended.cover, ended.ownerId]).to.deep.equal([null, ana.id]);
      expect((await h.agentNow(bea.id)).load.voice).to.equal(0);
    });
  });

  describe('a live call with the owner away and nobody free', () => {
    it('waits with a quote; the first colleague to free up covers it and the wait promise is kept', async () => {
      h = harness();
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const text = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(text.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      const other = await h.contact({ channel: 'voice', from: '4155550199' });
      expect(other.outcome.type).to.equal('offered');
      await h.router.acceptOffer(bea.id, other.conversation.id);
      await h.router.setAgentStatus(ana.id, 'away');

      const t = h.clock.now();
      const call = await h.contact({ channel: 'voice', from: '4155550100' });
      // Bea is the one voice server: 300 s × ln 10 = 690.8 s.
      expect(call.outcome).to.deep.equal({ type: 'queued', position: 1, etaSeconds: 691 });
      const [wait] = await h.store.listPromises(call.conversation.id);
      expect([wait?.kind, wait?.state, wait?.dueAt]).to.deep.equal(['wait', 'open', t + 691 * SECOND]);

      await h.advance(30 * SECOND);
      await h.router.resolve(bea.id, other.conversation.id);
      const covered = await h.conversation(call.conversation.id);
      expect([covered.ownerId, covered.cover?.agentId, covered.cover?.channel]).to.deep.equal([
        ana.id,
        bea.id,
        'voice',
      ]);
      const [kept] = await h.store.listPromises(call.conversation.id);
      expect([kept?.state, kept?.settledAt]).to.deep.equal(['kept', t + 30 * SECOND]);
      expect(h.eventsOf('promise.settled').map((e) => [e.promise.id, e.promise.state])).to.deep.equal([
        [wait?.id, 'kept'],
      ]);
      await h.advance(700 * SECOND);
      expect(h.eventsOf('promise.due')).to.deep.equal([]);
    });
  });

  describe('capacity', () => {
    it('is per channel: full on chat, free on SMS', async () => {
      h = harness();
      const ana = await h.agent('Ana', { capacity: { chat: 1, sms: 1 } });
      const chat1 = await h.contact({ channel: 'chat', from: 'v1' });
      const chat2 = await h.contact({ channel: 'chat', from: 'v2' });
      const sms = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(chat1.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      expect(chat2.outcome.type).to.equal('queued');
      expect(sms.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      expect((await h.agentNow(ana.id)).load).to.deep.equal({ voice: 0, sms: 1, chat: 1, email: 0 });
      const sms2 = await h.contact({ channel: 'sms', from: '4155550101' });
      expect(sms2.outcome.type).to.equal('queued');
    });

    it('an agent with zero capacity on a channel is never offered it', async () => {
      h = harness();
      await h.agent('Ana', { capacity: { email: 0 } });
      const r = await h.contact({ channel: 'email', from: 'a@example.com' });
      expect(r.outcome).to.deep.equal({ type: 'queued', position: 1, etaSeconds: null });
    });
  });

  describe('overflow', () => {
    it('is skilled-only until overflowAfterSeconds, then anyone available with capacity', async () => {
      h = harness({ overflowAfterSeconds: 120 });
      const ana = await h.agent('Ana', { status: 'away' });
      const t = h.clock.now();
      const r = await h.contact({ channel: 'chat', from: 'v1', skills: { spanish: 1 } });
      // Ana is away: nobody can answer now (nobody is busy serving others either).
      expect(r.outcome).to.deep.equal({ type: 'queued', position: 1, etaSeconds: null, nobodyFree: true });
      h.clock.advance(60 * SECOND);
      // Ana comes in, but lacks the skill and it has not overflowed yet.
      await h.router.setAgentStatus(ana.id, 'available');
      expect((await h.conversation(r.conversation.id)).status).to.equal('queued');
      await h.advance(59 * SECOND);
      expect((await h.conversation(r.conversation.id)).status).to.equal('queued');
      expect(h.eventsOf('conversation.assigned')).to.deep.equal([]);

      await h.advance(1 * SECOND);
      const taken = await h.conversation(r.conversation.id);
      expect([taken.status, taken.ownerId]).to.deep.equal(['assigned', ana.id]);
      expect(taken.ownership).to.deep.equal([
        { from: null, to: ana.id, reason: 'overflow', at: t + 120 * SECOND },
      ]);
      expect(h.eventsOf('conversation.assigned').map((e) => [e.agentId, e.reason])).to.deep.equal([
        [ana.id, 'overflow'],
      ]);
    });

    it('an unskilled agent coming in before overflow leaves it for a skilled one', async () => {
      h = harness({ overflowAfterSeconds: 120 });
      const generalist = await h.agent('Gen', { status: 'away' });
      const expert = await h.agent('Exp', { status: 'away', skills: { spanish: 3 } });
      const r = await h.contact({ channel: 'chat', from: 'v1', skills: { spanish: 1 } });
      h.clock.advance(119 * SECOND);
      await h.router.setAgentStatus(generalist.id, 'available');
      await h.router.setAgentStatus(expert.id, 'available');
      // The expert took it when they came in; overflow never happened.
      const taken = await h.conversation(r.conversation.id);
      expect([taken.ownerId, taken.ownership[0]?.reason]).to.deep.equal([expert.id, 'skills']);
      await h.advance(10 * SECOND);
      expect((await h.conversation(r.conversation.id)).ownerId).to.equal(expert.id);
    });

    it('an unskilled agent freeing up after overflow takes the overflowed conversation', async () => {
      h = harness({ overflowAfterSeconds: 120 });
      const ana = await h.agent('Ana', { capacity: { chat: 1 } });
      const busy = await h.contact({ channel: 'chat', from: 'v0' });
      const r = await h.contact({ channel: 'chat', from: 'v1', skills: { spanish: 1 } });
      await h.advance(200 * SECOND);
      expect((await h.conversation(r.conversation.id)).status).to.equal('queued');
      await h.router.resolve(ana.id, busy.conversation.id);
      const taken = await h.conversation(r.conversation.id);
      expect([taken.ownerId, taken.ownership[0]?.reason]).to.deep.equal([ana.id, 'overflow']);
    });
  });
});
