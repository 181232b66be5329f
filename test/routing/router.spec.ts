// Agent actions through the real Router: ringing offers, consults, warm hand-offs,
// resolving with a follow-up, replies, notes and delivery.
import { expect } from 'chai';
import { parsePolicy } from '../../routing/policy.js';
import { DELIVERY_RECHECK_MS, Router } from '../../routing/router.js';
import {
  CapacityError,
  InvalidStateError,
  NotFoundError,
  NotOwnerError,
  type SwitchboardError,
  ValidationError,
} from '../../shared/errors.js';
import type { DomainEvent } from '../../shared/events.js';
import { sequentialIds } from '../../shared/ids.js';
import { rejection } from '../support/rejection.js';
import { type Harness, harness, MINUTE, SECOND } from './harness.js';

describe('Router: agent actions', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });
  afterEach(() => {
    expect(h.invalidEvents()).to.deep.equal([]);
  });

  describe('ringing offers (voice)', () => {
    it('an unanswered offer times out: the agent goes away (missed_offer), the next is rung', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const t = h.clock.now();
      const call = await h.contact({ channel: 'voice', from: '4155550100' });
      const id = call.conversation.id;
      expect(call.outcome).to.deep.equal({ type: 'offered', agentId: ana.id, expiresAt: t + 20 * SECOND });
      expect(call.conversation.offer).to.deep.equal({
        agentId: ana.id,
        channel: 'voice',
        at: t,
        expiresAt: t + 20 * SECOND,
        reason: 'routed',
      });
      expect([call.conversation.status, call.conversation.ownerId]).to.deep.equal(['queued', null]);
      expect((await h.agentNow(ana.id)).load.voice).to.equal(1);

      await h.advance(19 * SECOND);
      expect((await h.conversation(id)).offer?.agentId).to.equal(ana.id);

      await h.advance(1 * SECOND);
      const ringing = await h.conversation(id);
      expect(ringing.offer?.agentId).to.equal(bea.id);
      expect(ringing.offer?.expiresAt).to.equal(t + 40 * SECOND);
      // Set away by the missed ring, Ana is not passed over: she may be rung again once back.
      expect(ringing.declinedBy).to.deep.equal([]);
      expect(ringing.queuedAt).to.equal(t);
      const missed = await h.agentNow(ana.id);
      expect([missed.status, missed.statusReason, missed.load.voice]).to.deep.equal([
        'away',
        'missed_offer',
        0,
      ]);
      expect(h.eventsOf('conversation.offered').map((e) => e.agentId)).to.deep.equal([ana.id, bea.id]);
      expect(h.eventsOf('conversation.offer_expired').map((e) => e.agentId)).to.deep.equal([ana.id]);
      expect(h.eventsOf('agent.status').at(-1)).to.deep.equal({
        type: 'agent.status',
        at: t + 20 * SECOND,
        agentId: ana.id,
        status: 'away',
        reason: 'missed_offer',
      });

      h.clock.advance(5 * SECOND);
      const answered = await h.router.acceptOffer(bea.id, id);
      expect([answered.status, answered.ownerId, answered.offer]).to.deep.equal(['assigned', bea.id, null]);
      expect(answered.ownership).to.deep.equal([
        { from: null, to: bea.id, reason: 'routed', at: t + 25 * SECOND },
      ]);
      expect(answered.declinedBy).to.deep.equal([]);
      expect(h.eventsOf('conversation.assigned').map((e) => [e.agentId, e.reason])).to.deep.equal([
        [bea.id, 'routed'],
      ]);
      // The answered offer no longer expires.
      await h.advance(60 * SECOND);
      expect((await h.conversation(id)).ownerId).to.equal(bea.id);
      expect((await h.agentNow(bea.id)).status).to.equal('available');
    });

    it('a caller whose ring goes unanswered keeps their place in line', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea', { status: 'away' });
      const t = h.clock.now();
      const first = await h.contact({ channel: 'voice', from: '4155550100' });
      expect(first.outcome.type).to.equal('offered');
      h.clock.advance(5 * SECOND);
      const second = await h.contact({ channel: 'voice', from: '4155550101' });
      // The first rings Ana (being answered, not waiting): the second caller is the first who waits.
      expect(second.outcome).to.deep.equal({ type: 'queued', position: 1, etaSeconds: 691 });

      await h.advance(15 * SECOND); // Ana's ring times out; nobody else is free.
      const waiting = await h.conversation(first.conversation.id);
      expect([waiting.status, waiting.offer, waiting.queuedAt]).to.deep.equal(['queued', null, t]);
      expect((await h.agentNow(ana.id)).status).to.equal('away');
      expect(await h.router.quote(first.conversation.id)).to.deep.equal({
        position: 1,
        etaSeconds: null,
        nobodyFree: true,
      });
      expect((await h.router.quote(second.conversation.id))?.position).to.equal(2);

      await h.router.setAgentStatus(bea.id, 'available');
      expect((await h.conversation(first.conversation.id)).offer?.agentId).to.equal(bea.id);
      expect((await h.conversation(second.conversation.id)).offer).to.equal(null);
      const answered = await h.router.acceptOffer(bea.id, first.conversation.id);
      expect([answered.ownerId, answered.ownership[0]?.reason]).to.deep.equal([bea.id, 'routed']);
    });

    it('a caller whose only agent missed the ring is rung to her again once she is back', async () => {
      const ana = await h.agent('Ana');
      const call = await h.contact({ channel: 'voice', from: '4155550100' });
      const id = call.conversation.id;
      await h.advance(20 * SECOND); // unanswered: Ana is set away, the caller holds
      expect((await h.agentNow(ana.id)).status).to.equal('away');
      expect((await h.conversation(id)).offer).to.equal(null);
      await h.advance(30 * SECOND);
      await h.router.setAgentStatus(ana.id, 'available');
      const rung = await h.conversation(id);
      expect([rung.status, rung.offer?.agentId]).to.deep.equal(['queued', ana.id]);
      const answered = await h.router.acceptOffer(ana.id, id);
      expect([answered.status, answered.ownerId]).to.deep.equal(['assigned', ana.id]);
    });

    it('declineOffer rings the next agent; the decliner stays available and is not rung again', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const cy = await h.agent('Cy');
      const call = await h.contact({ channel: 'voice', from: '4155550100' });
      const id = call.conversation.id;
      const afterAna = await h.router.declineOffer(ana.id, id);
      expect(afterAna.offer?.agentId).to.equal(bea.id);
      expect(afterAna.declinedBy).to.deep.equal([ana.id]);
      const anaNow = await h.agentNow(ana.id);
      expect([anaNow.status, anaNow.load.voice]).to.deep.equal(['available', 0]);
      expect(
        h
          .eventsOf('agent.status')
          .filter((e) => e.agentId === ana.id)
          .map((e) => e.status),
      ).to.deep.equal(['available']);

      // Declining with a reason sets the agent away.
      const afterBea = await h.router.declineOffer(bea.id, id, 'on break');
      expect(afterBea.offer?.agentId).to.equal(cy.id);
      const beaNow = await h.agentNow(bea.id);
      expect([beaNow.status, beaNow.statusReason]).to.deep.equal(['away', 'on break']);

      // Nobody left to ring: the caller waits, and Ana and Cy, who declined and stayed available, are not rung
      // again for this wait. Bea, set away, is once she is back.
      const afterCy = await h.router.declineOffer(cy.id, id);
      expect([afterCy.status, afterCy.offer]).to.deep.equal(['queued', null]);
      expect(afterCy.declinedBy).to.deep.equal([ana.id, cy.id]);
      await h.router.setAgentStatus(bea.id, 'available');
      expect((await h.conversation(id)).offer?.agentId).to.equal(bea.id);
      expect(h.eventsOf('conversation.offer_expired').map((e) => e.agentId)).to.deep.equal([
        ana.id,
        bea.id,
        cy.id,
      ]);
    });

    it('an agent who logs out while rung stays offline, and their conversations still move on', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const text = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(text.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      await h.router.setAgentStatus(bea.id, 'away');
      const call = await h.contact({ channel: 'voice', from: '4155550199' });
      expect(call.outcome.type).to.equal('offered');
      const t = h.clock.now();
      await h.router.setAgentStatus(ana.id, 'offline');

      await h.advance(20 * SECOND); // the ring times out
      const gone = await h.agentNow(ana.id);
      expect([gone.status, gone.statusReason, gone.load.voice]).to.deep.equal(['offline', undefined, 0]);
      expect(
        h
          .eventsOf('agent.status')
          .filter((e) => e.agentId === ana.id)
          .map((e) => e.status),
      ).to.deep.equal(['available', 'offline']);
      expect(h.eventsOf('conversation.offer_expired').map((e) => e.agentId)).to.deep.equal([ana.id]);

      await h.router.setAgentStatus(bea.id, 'available');
      expect((await h.conversation(call.conversation.id)).offer?.agentId).to.equal(bea.id);
      await h.router.acceptOffer(bea.id, call.conversation.id);
      await h.advance(600 * SECOND - 20 * SECOND); // stickyWait on SMS from the logout
      const moved = await h.conversation(text.conversation.id);
      expect([moved.ownerId, moved.ownership.at(-1)?.reason, moved.ownership.at(-1)?.at]).to.deep.equal([
        bea.id,
        'owner_offline',
        t + 600 * SECOND,
      ]);
    });

    it('accepting or declining an offer that is not yours is invalid_state', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const call = await h.contact({ channel: 'voice', from: '4155550100' });
      const accept = await rejection<SwitchboardError>(h.router.acceptOffer(bea.id, call.conversation.id));
      expect(accept).to.be.instanceOf(InvalidStateError);
      expect([accept.code, accept.status]).to.deep.equal(['invalid_state', 409]);
      const decline = await rejection<SwitchboardError>(h.router.declineOffer(bea.id, call.conversation.id));
      expect(decline.code).to.equal('invalid_state');
      expect((await h.conversation(call.conversation.id)).offer?.agentId).to.equal(ana.id);
    });
  });

  describe('consult', () => {
    it('a colleague is invited, joins, may reply, and leaves; ownership never changes', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const cy = await h.agent('Cy');
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      const id = r.conversation.id;

      const invited = await h.router.consult(ana.id, id, bea.id);
      expect([invited.invited, invited.consultants]).to.deep.equal([[bea.id], []]);
      const joined = await h.router.joinConsult(bea.id, id);
      expect([joined.invited, joined.consultants, joined.ownerId]).to.deep.equal([[], [bea.id], ana.id]);
      const reply = await h.router.reply(bea.id, id, 'Billing here: the refund went out today.');
      expect([reply.direction, reply.channel, reply.author]).to.deep.equal([
        'out',
        'chat',
        { type: 'agent', id: bea.id, name: 'Bea' },
      ]);
      const left = await h.router.leaveConsult(bea.id, id);
      expect([left.consultants, left.ownerId]).to.deep.equal([[], ana.id]);
      expect(left.ownership).to.deep.equal(r.conversation.ownership);
      expect(h.eventsOf('conversation.consult').map((e) => [e.agentId, e.action, e.by])).to.deep.equal([
        [bea.id, 'invited', ana.id],
        [bea.id, 'joined', bea.id],
        [bea.id, 'left', bea.id],
      ]);
      // Leaving again, or leaving what one was never on, is refused, and nobody is told of it.
      for (const who of [bea.id, cy.id]) {
        const err = await h.router.leaveConsult(who, id).catch((e: unknown) => e);
        expect(err).to.be.instanceOf(InvalidStateError);
      }
      expect(h.eventsOf('conversation.consult')).to.have.length(3);
      // Consulting takes none of the colleague's capacity.
      expect((await h.agentNow(bea.id)).load.chat).to.equal(0);

      // After leaving, and for someone never asked, replying is refused with not_owner.
      const afterLeaving = await rejection<SwitchboardError>(h.router.reply(bea.id, id, 'one more thing'));
      expect(afterLeaving).to.be.instanceOf(NotOwnerError);
      expect([afterLeaving.code, afterLeaving.status]).to.deep.equal(['not_owner', 403]);
      const stranger = await rejection<SwitchboardError>(h.router.reply(cy.id, id, 'hi'));
      expect(stranger).to.be.instanceOf(NotOwnerError);
      expect(stranger.code).to.equal('not_owner');
      expect(stranger.message).to.equal(`agent ${cy.id} may not reply to conversation ${id}: not its owner`);
      expect((await h.store.listMessages(id)).filter((m) => m.direction === 'out').length).to.equal(1);
    });

    it('only the owner invites, and only the invited join', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const cy = await h.agent('Cy');
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      const notOwner = await rejection<SwitchboardError>(h.router.consult(bea.id, r.conversation.id, cy.id));
      expect(notOwner.code).to.equal('not_owner');
      const uninvited = await rejection<SwitchboardError>(h.router.joinConsult(cy.id, r.conversation.id));
      expect(uninvited.code).to.equal('invalid_state');
      const self = await rejection<SwitchboardError>(h.router.consult(ana.id, r.conversation.id, ana.id));
      expect([self.code, self.field]).to.deep.equal(['invalid_input', 'agentId']);
    });
  });

  describe('warm hand-off', () => {
    it('to a colleague with no room: a place of theirs that frees is kept for it, not given to the line, and they accept', async () => {
      const ana = await h.agent('Ana', { capacity: { chat: 1 } });
      const mine = await h.contact({ channel: 'chat', from: 'v1' });
      const grace = await h.agent('Grace', { capacity: { chat: 1 } });
      const hers = await h.contact({ channel: 'chat', from: 'v2' });
      expect(hers.outcome).to.deep.equal({ type: 'assigned', agentId: grace.id });
      const mary = await h.contact({ channel: 'chat', from: 'v3' });
      expect(mary.outcome.type).to.equal('queued');

      await h.router.handoff(ana.id, mine.conversation.id, grace.id, 'billing, she knows it');
      h.clock.advance(MINUTE);
      await h.router.resolve(grace.id, hers.conversation.id);
      expect((await h.conversation(mary.conversation.id)).status).to.equal('queued');
      expect((await h.agentNow(grace.id)).load.chat).to.equal(0);

      const taken = await h.router.acceptHandoff(grace.id, mine.conversation.id);
      expect(taken.ownerId).to.equal(grace.id);
      // Ana's place, freed by the hand-off, goes to who waits.
      expect((await h.conversation(mary.conversation.id)).ownerId).to.equal(ana.id);
    });

    it('offered to a colleague who then goes offline, is declined: the owner is told and may offer it again', async () => {
      const ana = await h.agent('Ana', { capacity: { chat: 1 } });
      const mine = await h.contact({ channel: 'chat', from: 'v1' });
      const grace = await h.agent('Grace', { capacity: { chat: 1 } });
      await h.router.handoff(ana.id, mine.conversation.id, grace.id, 'n');
      await h.router.setAgentStatus(grace.id, 'offline');
      expect((await h.conversation(mine.conversation.id)).handoff).to.equal(null);
      expect((await h.agentNow(grace.id)).reserved?.chat ?? 0).to.equal(0);
      const told = h.eventsOf('conversation.handoff').map((e) => [e.action, e.to]);
      expect(told).to.deep.equal([
        ['offered', grace.id],
        ['declined', grace.id],
      ]);
    });

    it('a place kept for a hand-off goes to the line once the hand-off is declined', async () => {
      const ana = await h.agent('Ana', { capacity: { chat: 1 } });
      const mine = await h.contact({ channel: 'chat', from: 'v1' });
      const grace = await h.agent('Grace', { capacity: { chat: 1 } });
      await h.router.handoff(ana.id, mine.conversation.id, grace.id, 'n');
      const mary = await h.contact({ channel: 'chat', from: 'v3' });
      expect(mary.outcome.type).to.equal('queued');
      await h.router.declineHandoff(grace.id, mine.conversation.id);
      expect((await h.conversation(mary.conversation.id)).ownerId).to.equal(grace.id);
    });

    it('accepted: ownership moves with reason handoff and the old owner takes the next waiting one', async () => {
      const ana = await h.agent('Ana', { skills: { billing: 1 }, capacity: { chat: 1 } });
      const bea = await h.agent('Bea', { capacity: { chat: 2 } });
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      expect(r.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      const waiting = await h.contact({ channel: 'chat', from: 'v2', skills: { billing: 1 } });
      expect(waiting.outcome.type).to.equal('queued');
      const id = r.conversation.id;

      h.clock.advance(30 * SECOND);
      const offered = await h.router.handoff(
        ana.id,
        id,
        bea.id,
        '  Card expired; customer is waiting on a new one.  ',
      );
      expect(offered.handoff).to.deep.equal({
        from: ana.id,
        to: bea.id,
        note: 'Card expired; customer is waiting on a new one.',
        at: h.clock.now(),
        channel: 'chat',
      });
      expect(offered.ownerId).to.equal(ana.id);

      h.clock.advance(10 * SECOND);
      const t = h.clock.now();
      const accepted = await h.router.acceptHandoff(bea.id, id);
      expect([accepted.ownerId, accepted.handoff, accepted.slotChannel]).to.deep.equal([
        bea.id,
        null,
        'chat',
      ]);
      expect(accepted.ownership.at(-1)).to.deep.equal({ from: ana.id, to: bea.id, reason: 'handoff', at: t });
      // The note stays with the conversation, for its new owner to read again.
      const notes = (await h.router.store.listMessages(id)).filter((m) => m.direction === 'internal');
      expect(notes.map((m) => m.text).at(-1)).to.equal(
        'Handed on by Ana: Card expired; customer is waiting on a new one.',
      );
      expect(h.eventsOf('conversation.handoff').map((e) => [e.action, e.from, e.to, e.note])).to.deep.equal([
        ['offered', ana.id, bea.id, 'Card expired; customer is waiting on a new one.'],
        ['accepted', ana.id, bea.id, 'Card expired; customer is waiting on a new one.'],
      ]);
      expect(
        h
          .eventsOf('conversation.assigned')
          .map((e) => [e.conversation.id, e.agentId, e.reason, e.previousOwnerId]),
      ).to.deep.equal([
        [id, ana.id, 'routed', null],
        [id, bea.id, 'handoff', ana.id],
        [waiting.conversation.id, ana.id, 'skills', null],
      ]);
      expect((await h.agentNow(ana.id)).load.chat).to.equal(1);
      expect((await h.agentNow(bea.id)).load.chat).to.equal(1);
      // The old owner may no longer speak on it; the new one may.
      expect((await rejection<SwitchboardError>(h.router.reply(ana.id, id, 'still me'))).code).to.equal(
        'not_owner',
      );
      const reply = await h.router.reply(bea.id, id, 'Hi, I have your case now.');
      expect(reply.author.id).to.equal(bea.id);
    });

    it('taken back by its owner (the colleague has no room to accept it): it stays theirs, to offer again', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
      const cy = await h.agent('Cy');
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      const id = r.conversation.id;
      // Bea is full: she cannot accept it.
      await h.router.setAgentStatus(ana.id, 'away');
      await h.router.setAgentStatus(cy.id, 'away');
      await h.contact({ channel: 'chat', from: 'v2' });
      await h.router.setAgentStatus(ana.id, 'available');
      await h.router.handoff(ana.id, id, bea.id, 'refund, yours');
      expect((await rejection<SwitchboardError>(h.router.acceptHandoff(bea.id, id))).code).to.equal(
        'no_capacity',
      );
      // Only its owner takes it back; then it can go to someone with room.
      const notHers = await rejection<SwitchboardError>(h.router.withdrawHandoff(bea.id, id));
      expect(notHers.code).to.equal('not_owner');
      const back = await h.router.withdrawHandoff(ana.id, id);
      expect([back.ownerId, back.handoff]).to.deep.equal([ana.id, null]);
      expect(h.eventsOf('conversation.handoff').map((e) => [e.action, e.from, e.to])).to.deep.equal([
        ['offered', ana.id, bea.id],
        ['withdrawn', ana.id, bea.id],
      ]);
      const none = await rejection<SwitchboardError>(h.router.withdrawHandoff(ana.id, id));
      expect(none.code).to.equal('invalid_state');
      expect((await rejection<SwitchboardError>(h.router.acceptHandoff(bea.id, id))).code).to.equal(
        'invalid_state',
      );
      await h.router.setAgentStatus(cy.id, 'available');
      await h.router.handoff(ana.id, id, cy.id, 'refund, yours');
      expect((await h.router.acceptHandoff(cy.id, id)).ownerId).to.equal(cy.id);
    });

    it('declined: nothing moves', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      await h.router.handoff(ana.id, r.conversation.id, bea.id, 'can you take this?');
      const declined = await h.router.declineHandoff(bea.id, r.conversation.id);
      expect([declined.ownerId, declined.handoff]).to.deep.equal([ana.id, null]);
      expect(declined.ownership).to.deep.equal(r.conversation.ownership);
      expect(h.eventsOf('conversation.handoff').map((e) => e.action)).to.deep.equal(['offered', 'declined']);
      expect((await h.agentNow(ana.id)).load.chat).to.equal(1);
      expect((await h.agentNow(bea.id)).load.chat).to.equal(0);
      expect(
        (await rejection<SwitchboardError>(h.router.acceptHandoff(bea.id, r.conversation.id))).code,
      ).to.equal('invalid_state');
    });

    it('to an agent without capacity on the channel: no_capacity, and the owner keeps it', async () => {
      const ana = await h.agent('Ana', { capacity: { chat: 1 } });
      const bea = await h.agent('Bea', { capacity: { chat: 1 } });
      const mine = await h.contact({ channel: 'chat', from: 'v1' });
      const hers = await h.contact({ channel: 'chat', from: 'v2' });
      expect([mine.outcome, hers.outcome]).to.deep.equal([
        { type: 'assigned', agentId: ana.id },
        { type: 'assigned', agentId: bea.id },
      ]);
      await h.router.handoff(ana.id, mine.conversation.id, bea.id, 'please take over');
      const err = await rejection<SwitchboardError>(h.router.acceptHandoff(bea.id, mine.conversation.id));
      expect(err).to.be.instanceOf(CapacityError);
      expect([err.code, err.status]).to.deep.equal(['no_capacity', 409]);
      const conv = await h.conversation(mine.conversation.id);
      expect(conv.ownerId).to.equal(ana.id);
      expect(conv.ownership.length).to.equal(1);
      expect((await h.agentNow(ana.id)).load.chat).to.equal(1);
      expect((await h.agentNow(bea.id)).load.chat).to.equal(1);
      expect(h.eventsOf('conversation.handoff').map((e) => e.action)).to.deep.equal(['offered']);
    });

    it('needs a note, an owner, and a colleague who is not offline', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const off = await h.agent('Off', { status: 'offline' });
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      const noNote = await rejection<SwitchboardError>(
        h.router.handoff(ana.id, r.conversation.id, bea.id, '   '),
      );
      expect([noNote.code, noNote.field]).to.deep.equal(['invalid_input', 'note']);
      const notOwner = await rejection<SwitchboardError>(
        h.router.handoff(bea.id, r.conversation.id, ana.id, 'x'),
      );
      expect(notOwner.code).to.equal('not_owner');
      const offline = await rejection<SwitchboardError>(
        h.router.handoff(ana.id, r.conversation.id, off.id, 'x'),
      );
      expect(offline.code).to.equal('invalid_state');
    });
  });

  describe('leaving the team', () => {
    it('what they had moves on at once; they are offline for good, unreachable, and refused as a colleague', async () => {
      const ana = await h.agent('Ana', {
        capacity: { voice: 1, chat: 3 },
        slackUserId: 'U0ANA',
        email: 'ana@example.com',
        phone: '+14155550111',
        lead: true,
      });
      const bea = await h.agent('Bea', { capacity: { voice: 0, chat: 3 } });
      const cy = await h.agent('Cy', { capacity: { voice: 0, chat: 3 } });
      const owned = await h.contact({ channel: 'chat', from: 'v1' });
      expect(owned.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      const consulted = await h.contact({ channel: 'chat', from: 'v2' });
      expect(consulted.outcome).to.deep.equal({ type: 'assigned', agentId: bea.id });
      await h.router.consult(bea.id, consulted.conversation.id, ana.id);
      const offered = await h.contact({ channel: 'chat', from: 'v3' });
      expect(offered.outcome).to.deep.equal({ type: 'assigned', agentId: cy.id });
      await h.router.handoff(cy.id, offered.conversation.id, ana.id, 'She asked for Ana');
      const call = await h.contact({ channel: 'voice', from: '4155550100' });
      expect(call.outcome.type).to.equal('offered');
      h.clearEvents();

      const t = h.clock.now();
      const left = await h.router.leaveTeam(ana.id);
      expect(left.leftAt).to.equal(t);
      expect([left.status, left.statusReason, left.tokenVersion, left.lead]).to.deep.equal([
        'offline',
        'left the team',
        1,
        false,
      ]);
      for (const field of ['slackUserId', 'email', 'phone'] as const)
        expect(left).to.not.have.property(field);
      expect(left.load).to.deep.equal({ voice: 0, sms: 0, chat: 0, email: 0 });
      // Their conversation went to a colleague at once, the move recorded.
      const moved = await h.conversation(owned.conversation.id);
      expect(moved.ownerId).to.be.oneOf([bea.id, cy.id]);
      expect(moved.ownership.at(-1)).to.deep.include({ from: ana.id, reason: 'owner_offline', at: t });
      // Asked to consult, or offered a hand-off: let go; the call ringing for them waits for the next.
      expect((await h.conversation(consulted.conversation.id)).invited).to.deep.equal([]);
      const notHandedOff = await h.conversation(offered.conversation.id);
      expect([notHandedOff.handoff, notHandedOff.ownerId]).to.deep.equal([null, cy.id]);
      const ringing = await h.conversation(call.conversation.id);
      // Offline for good, she needs no passing over (declinedBy is for those who stay available).
      expect([ringing.status, ringing.offer, ringing.declinedBy]).to.deep.equal(['queued', null, []]);
      expect(h.eventsOf('agent.status').map((e) => [e.agentId, e.status])).to.deep.equal([
        [ana.id, 'offline'],
      ]);
      expect(h.invalidEvents()).to.deep.equal([]);

      // Offline for good.
      for (const status of ['available', 'away'] as const) {
        const refused = await rejection<SwitchboardError>(h.router.setAgentStatus(ana.id, status));
        expect([refused.code, refused.message]).to.deep.equal([
          'invalid_state',
          `agent ${ana.id} left the team`,
        ]);
      }
      // Nobody consults them, hands them a conversation, changes them or renews their link; they write to nobody.
      const refusals = await Promise.all([
        rejection<SwitchboardError>(h.router.consult(bea.id, consulted.conversation.id, ana.id)),
        rejection<SwitchboardError>(h.router.handoff(cy.id, offered.conversation.id, ana.id, 'again')),
        rejection<SwitchboardError>(h.router.updateAgent(ana.id, { name: 'Ana B.' })),
        rejection<SwitchboardError>(h.router.renewAgentToken(ana.id)),
      ]);
      for (const refused of refusals) expect(refused.message).to.equal(`agent ${ana.id} left the team`);
      expect(await h.agentNow(ana.id)).to.deep.equal(left);
      // Leaving again changes nothing.
      h.clearEvents();
      expect(await h.router.leaveTeam(ana.id)).to.deep.equal(left);
      expect(h.events).to.deep.equal([]);
    });

    it('asked again after it stopped halfway (marked left, the rest undone), it finishes', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const owned = await h.contact({ channel: 'chat', from: 'v1' });
      expect(owned.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      // The first step went through, then the store went away.
      await h.store.updateAgent(ana.id, { leftAt: h.clock.now(), tokenVersion: 1 });
      const left = await h.router.leaveTeam(ana.id);
      expect([left.status, left.statusReason, left.tokenVersion]).to.deep.equal([
        'offline',
        'left the team',
        1,
      ]);
      expect((await h.conversation(owned.conversation.id)).ownerId).to.equal(bea.id);
    });
  });

  describe('resolve', () => {
    it('with followUpAt: a follow-up promise is made and announced when due', async () => {
      const ana = await h.agent('Ana');
      const r = await h.contact({ channel: 'sms', from: '4155550100' });
      h.clock.advance(5 * MINUTE);
      const t = h.clock.now();
      const due = t + 24 * 60 * MINUTE;
      const resolved = await h.router.resolve(ana.id, r.conversation.id, due);
      expect([resolved.status, resolved.resolvedAt, resolved.followUpAt]).to.deep.equal(['resolved', t, due]);
      const promises = await h.store.listPromises(r.conversation.id);
      expect(promises.map(({ id: _id, ...p }) => p)).to.deep.equal([
        {
          conversationId: r.conversation.id,
          kind: 'follow-up',
          dueAt: due,
          createdAt: t,
          text: 'follow up',
          agentId: ana.id,
          state: 'open',
          settledAt: null,
        },
      ]);
      expect(h.eventsOf('promise.made').map((e) => e.promise.kind)).to.deep.equal(['follow-up']);
      expect((await h.agentNow(ana.id)).load.sms).to.equal(0);
      expect(await h.store.recentHandleTimes('sms')).to.deep.equal([5 * MINUTE]);

      await h.advance(due - t - 1);
      expect(h.eventsOf('promise.due')).to.deep.equal([]);
      await h.advance(1);
      expect(h.eventsOf('promise.due').map((e) => [e.promise.kind, e.at])).to.deep.equal([
        ['follow-up', due],
      ]);
    });

    it('refuses a follow-up in the past, and anyone but the owner', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      const past = await rejection<SwitchboardError>(
        h.router.resolve(ana.id, r.conversation.id, h.clock.now()),
      );
      expect([past.code, past.field]).to.deep.equal(['invalid_input', 'followUpAt']);
      const other = await rejection<SwitchboardError>(h.router.resolve(bea.id, r.conversation.id));
      expect([other.code, other.status]).to.deep.equal(['not_owner', 403]);
      expect((await h.conversation(r.conversation.id)).status).to.equal('assigned');
      await h.router.resolve(ana.id, r.conversation.id);
      const twice = await rejection<SwitchboardError>(h.router.resolve(ana.id, r.conversation.id));
      expect(twice.code).to.equal('not_owner');
      expect(await h.store.listPromises(r.conversation.id)).to.deep.equal([]);
    });
  });

  describe('messages', () => {
    it("a message's delivery timer goes to its channel's sender; one that cannot take it now gets it again later", async () => {
      const ana = await h.agent('Ana');
      const text = await h.contact({ channel: 'sms', from: '4155550100', externalId: 'SM9', text: 'hi' });
      const resumed: Array<{ id: string; taken: boolean }> = [];
      let taking = false;
      h.router.registerSender(['sms'], {
        leaseMs: MINUTE,
        resume: (message) => {
          resumed.push({ id: message.id, taken: taking });
          return taking;
        },
      });
      const reply = await h.router.reply(ana.id, text.conversation.id, 'On it.');
      // Nobody sent it within its lease; this sender is closing and leaves it (the timer is set again).
      h.clock.advance(MINUTE);
      await h.router.tick();
      expect(resumed).to.deep.equal([{ id: reply.id, taken: false }]);
      h.clock.advance(DELIVERY_RECHECK_MS - 1);
      await h.router.tick();
      expect(resumed).to.have.length(1);
      taking = true;
      h.clock.advance(1);
      await h.router.tick();
      expect(resumed).to.deep.equal([
        { id: reply.id, taken: false },
        { id: reply.id, taken: true },
      ]);
      // Taken: the sender has it now; the timer is the sender's to set again.
      h.clock.advance(DELIVERY_RECHECK_MS);
      await h.router.tick();
      expect(resumed).to.have.length(2);
    });

    it('an inbound contact repeated with the same externalId is stored once', async () => {
      await h.agent('Ana');
      const first = await h.contact({ channel: 'sms', from: '4155550100', externalId: 'SM1', text: 'hi' });
      const again = await h.contact({ channel: 'sms', from: '4155550100', externalId: 'SM1', text: 'hi' });
      expect(again.outcome).to.deep.equal({ type: 'duplicate' });
      expect(again.message.id).to.equal(first.message.id);
      expect(again.created).to.equal(false);
      expect((await h.store.listMessages(first.conversation.id)).map((m) => m.text)).to.deep.equal(['hi']);
      // Told again, marked so (the process that stored it may have died before telling anyone).
      expect(h.eventsOf('message.received').map((e) => [e.message.id, e.again ?? false])).to.deep.equal([
        [first.message.id, false],
        [first.message.id, true],
      ]);
      // The same id on another channel is another message.
      const mail = await h.contact({ channel: 'email', from: 'a@example.com', externalId: 'SM1' });
      expect(mail.outcome.type).to.equal('assigned');
    });

    it('a contact stored by a process that stopped before telling anyone is told by the one its retry reaches', async () => {
      const ana = await h.agent('Ana');
      const first = await h.contact({
        channel: 'sms',
        from: '4155550100',
        externalId: 'SM7',
        text: 'still there?',
      });
      expect(first.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      // A second process over the same store: the first one's events never reached it (that process died).
      const other = new Router({
        store: h.store,
        clock: h.clock,
        policy: parsePolicy({}),
        ids: sequentialIds(),
      });
      const heard: DomainEvent[] = [];
      other.events.subscribe((e) => heard.push(e));
      h.clock.advance(SECOND);
      const again = await other.contact({
        channel: 'sms',
        from: '4155550100',
        externalId: 'SM7',
        text: 'still there?',
      });
      expect(again.outcome).to.deep.equal({ type: 'duplicate' });
      expect(heard).to.deep.equal([
        { type: 'message.received', at: h.clock.now(), message: first.message, again: true },
      ]);
    });

    it('a reply with a client message id is stored and sent once, on the channel the customer last used', async () => {
      const ana = await h.agent('Ana');
      const chat = await h.contact({ channel: 'chat', from: 'v1' });
      await h.router.identify(chat.customer.id, { email: 'dee@example.com' }, 'chat:prechat');
      const mail = await h.contact({ channel: 'email', from: 'Dee@Example.com', subject: 'Re: order' });
      expect(mail.conversation.id).to.equal(chat.conversation.id);
      expect(mail.outcome).to.deep.equal({ type: 'owner', agentId: ana.id });

      const t = h.clock.now();
      const one = await h.router.reply(ana.id, chat.conversation.id, 'On it.', 'client-1');
      const two = await h.router.reply(ana.id, chat.conversation.id, 'On it.', 'client-1');
      expect(two.id).to.equal(one.id);
      expect([one.direction, one.channel, one.text, one.externalId]).to.deep.equal([
        'out',
        'email',
        'On it.',
        `out:${ana.id}:client-1`,
      ]);
      expect(one.delivery).to.deep.equal({ state: 'pending', attempts: 0, at: t });
      const out = (await h.store.listMessages(chat.conversation.id)).filter((m) => m.direction === 'out');
      expect(out.map((m) => m.id)).to.deep.equal([one.id]);
      expect(h.eventsOf('message.sent').map((e) => e.message.id)).to.deep.equal([one.id]);
      // Without a client id, each reply is its own message.
      const three = await h.router.reply(ana.id, chat.conversation.id, 'On it.');
      expect(three.id).to.not.equal(one.id);
    });

    it('markDelivery records the state, counts attempts, and emits message.delivery', async () => {
      const ana = await h.agent('Ana');
      const r = await h.contact({ channel: 'sms', from: '4155550100' });
      const msg = await h.router.reply(ana.id, r.conversation.id, 'Hello!');
      h.clock.advance(SECOND);
      const failed = await h.router.markDelivery(msg.id, 'failed', 'carrier rejected');
      expect(failed.delivery).to.deep.equal({
        state: 'failed',
        attempts: 1,
        at: h.clock.now(),
        reason: 'carrier rejected',
      });
      h.clock.advance(SECOND);
      const sent = await h.router.markDelivery(msg.id, 'sent');
      expect(sent.delivery).to.deep.equal({ state: 'sent', attempts: 2, at: h.clock.now() });
      const delivered = await h.router.markDelivery(msg.id, 'delivered');
      expect([delivered.delivery.state, delivered.delivery.attempts]).to.deep.equal(['delivered', 2]);
      expect((await h.store.getMessage(msg.id))?.delivery.state).to.equal('delivered');
      expect(h.eventsOf('message.delivery').map((e) => e.message.delivery.state)).to.deep.equal([
        'failed',
        'sent',
        'delivered',
      ]);
      const missing = await rejection<SwitchboardError>(h.router.markDelivery('msg_nope', 'sent'));
      expect(missing).to.be.instanceOf(NotFoundError);
      expect([missing.code, missing.status, missing.message]).to.deep.equal([
        'not_found',
        404,
        'message msg_nope does not exist',
      ]);
    });

    it('a note is internal: never sent, seen as message.note', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      const note = await h.router.note(ana.id, r.conversation.id, 'VIP: be quick');
      expect([note.direction, note.channel, note.delivery.state, note.author.id]).to.deep.equal([
        'internal',
        'chat',
        'sent',
        ana.id,
      ]);
      expect(h.eventsOf('message.note').map((e) => e.message.id)).to.deep.equal([note.id]);
      expect(h.eventsOf('message.sent')).to.deep.equal([]);
      expect(
        (await rejection<SwitchboardError>(h.router.note(bea.id, r.conversation.id, 'x'))).code,
      ).to.equal('not_owner');
    });

    it('empty or oversized reply text is refused naming the field', async () => {
      const ana = await h.agent('Ana');
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      const empty = await rejection<SwitchboardError>(h.router.reply(ana.id, r.conversation.id, '  '));
      expect(empty).to.be.instanceOf(ValidationError);
      expect([empty.code, empty.field]).to.deep.equal(['invalid_input', 'text']);
      const huge = await rejection<SwitchboardError>(
        h.router.reply(ana.id, r.conversation.id, 'x'.repeat(4001)),
      );
      expect([huge.field, huge.message]).to.deep.equal(['text', 'text must be at most 4000 characters']);
      expect((await h.store.listMessages(r.conversation.id)).length).to.equal(1);
    });
  });
});
