// Live contacts (calls): re-reading where a conversation stands, an agent who does
// not answer, the caller hanging up, call backs that keep the place, and messages
// Switchboard itself sends. Through the real Router and MemoryStore.
import { expect } from 'chai';
import { readLiveView } from '../../channels/team.js';
import { InvalidStateError } from '../../shared/errors.js';
import { type Harness, harness, MINUTE, SECOND } from './harness.js';

const PHONE = '+14155550123';

describe('Router: live contacts', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });
  afterEach(() => {
    expect(h.invalidEvents()).to.deep.equal([]);
  });

  describe('outcome', () => {
    it('reports where a conversation stands, as contact() would', async () => {
      const ana = await h.agent('Ana');
      const call = await h.contact({ channel: 'voice', from: PHONE });
      expect(call.outcome).to.deep.include({ type: 'offered', agentId: ana.id });
      expect(await h.router.outcome(call.conversation.id)).to.deep.equal(call.outcome);
      await h.router.acceptOffer(ana.id, call.conversation.id);
      expect(await h.router.outcome(call.conversation.id)).to.deep.equal({ type: 'owner', agentId: ana.id });
    });
  });

  describe('missedLiveContact', () => {
    it('on an offer: the agent goes away with the reason, the next is offered, the place is kept', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const call = await h.contact({ channel: 'voice', from: PHONE });
      h.clock.advance(5 * SECOND);
      const outcome = await h.router.missedLiveContact(ana.id, call.conversation.id, 'no-answer');
      expect(outcome).to.deep.include({ type: 'offered', agentId: bea.id });
      const a = await h.agentNow(ana.id);
      expect([a.status, a.statusReason, a.load.voice]).to.deep.equal(['away', 'no-answer', 0]);
      expect((await h.conversation(call.conversation.id)).queuedAt).to.equal(call.conversation.queuedAt);
    });

    it('on the owner rung directly: they go away, a colleague covers, the owner stays owner', async () => {
      const ana = await h.agent('Ana');
      const chat = await h.contact({ channel: 'chat', from: 'v1' });
      await h.router.identify(chat.customer.id, { phone: PHONE }, 'chat:prechat');
      const bea = await h.agent('Bea');
      const call = await h.contact({ channel: 'voice', from: PHONE });
      expect(call.outcome).to.deep.equal({ type: 'owner', agentId: ana.id });

      const outcome = await h.router.missedLiveContact(ana.id, chat.conversation.id, 'busy');
      expect(outcome).to.deep.equal({ type: 'covered', agentId: bea.id, ownerId: ana.id });
      const conv = await h.conversation(chat.conversation.id);
      expect([conv.ownerId, conv.cover?.agentId]).to.deep.equal([ana.id, bea.id]);
      expect((await h.agentNow(ana.id)).statusReason).to.equal('busy');
    });

    it('on a cover: the cover ends, that colleague goes away, another covers', async () => {
      const ana = await h.agent('Ana');
      const chat = await h.contact({ channel: 'chat', from: 'v1' });
      await h.router.identify(chat.customer.id, { phone: PHONE }, 'chat:prechat');
      await h.router.setAgentStatus(ana.id, 'away');
      const bea = await h.agent('Bea');
      const cy = await h.agent('Cy');
      const call = await h.contact({ channel: 'voice', from: PHONE });
      expect(call.outcome).to.deep.equal({ type: 'covered', agentId: bea.id, ownerId: ana.id });

      const outcome = await h.router.missedLiveContact(bea.id, chat.conversation.id, 'no-answer');
      expect(outcome).to.deep.equal({ type: 'covered', agentId: cy.id, ownerId: ana.id });
      const b = await h.agentNow(bea.id);
      expect([b.status, b.load.voice]).to.deep.equal(['away', 0]);
    });

    it('for an agent with no part in it, changes nothing', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const call = await h.contact({ channel: 'voice', from: PHONE });
      const outcome = await h.router.missedLiveContact(bea.id, call.conversation.id, 'no-answer');
      expect(outcome).to.deep.include({ type: 'offered', agentId: ana.id });
      expect((await h.agentNow(bea.id)).status).to.equal('available');
    });
  });

  describe('a caller on hold who writes', () => {
    it("keeps their place in the call's line: the text is theirs to read for whoever answers, nobody texting takes it", async () => {
      const before = await h.contact({ channel: 'voice', from: '+14155550125' });
      h.clock.advance(SECOND);
      const call = await h.contact({ channel: 'voice', from: PHONE });
      expect(call.outcome.type).to.equal('queued');
      const sam = await h.agent('Sam', { capacity: { voice: 0, sms: 1 } });

      h.clock.advance(20 * SECOND);
      const text = await h.contact({ channel: 'sms', from: PHONE, text: 'my order is 4411' });
      expect(text.conversation.id).to.equal(call.conversation.id);
      expect(text.outcome).to.deep.include({ type: 'queued', position: 2 });
      const conv = await h.conversation(call.conversation.id);
      expect([conv.status, conv.lastChannel, conv.channels]).to.deep.equal([
        'queued',
        'voice',
        ['voice', 'sms'],
      ]);
      expect((await h.router.store.queueSnapshot(call.conversation.id))?.channel).to.equal('voice');
      expect((await h.agentNow(sam.id)).load.sms).to.equal(0);

      // The first voice agent rings for the caller ahead, then for them: on the phone, with their text.
      const ana = await h.agent('Ana', { capacity: { voice: 1, sms: 0 } });
      expect((await h.conversation(before.conversation.id)).offer?.agentId).to.equal(ana.id);
      await h.router.acceptOffer(ana.id, before.conversation.id);
      await h.router.resolve(ana.id, before.conversation.id);
      const offered = await h.conversation(call.conversation.id);
      expect([offered.offer?.agentId, offered.offer?.channel]).to.deep.equal([ana.id, 'voice']);
      const texts = (await h.router.store.listMessages(call.conversation.id)).filter(
        (m) => m.channel === 'sms',
      );
      expect(texts.map((m) => m.text)).to.include('my order is 4411');
    });

    it("rung for already, stays on the call's line when the agent does not answer", async () => {
      const ana = await h.agent('Ana', { capacity: { voice: 1, sms: 0 } });
      const bea = await h.agent('Bea', { capacity: { voice: 1, sms: 0 } });
      const sam = await h.agent('Sam', { capacity: { voice: 0, sms: 1 } });
      const call = await h.contact({ channel: 'voice', from: PHONE });
      expect(call.outcome).to.deep.include({ type: 'offered', agentId: ana.id });
      await h.contact({ channel: 'sms', from: PHONE, text: 'still here' });
      const outcome = await h.router.missedLiveContact(ana.id, call.conversation.id, 'no-answer');
      expect(outcome).to.deep.include({ type: 'offered', agentId: bea.id });
      expect((await h.conversation(call.conversation.id)).lastChannel).to.equal('voice');
      expect((await h.agentNow(sam.id)).load.sms).to.equal(0);
    });

    it('owed a call back (they hung up), keeps their place for it: the first phone agent calls them, with the text to read', async () => {
      const sam = await h.agent('Sam', { capacity: { voice: 0, sms: 1 } });
      const ana = await h.agent('Ana', { capacity: { voice: 1, sms: 0 } });
      await h.router.setAgentStatus(ana.id, 'away');
      await h.router.setAgentStatus(sam.id, 'away');
      const call = await h.contact({ channel: 'voice', from: PHONE });
      const promise = await h.router.requestCallback(call.conversation.id);
      await h.router.liveContactEnded(call.conversation.id);
      await h.router.setAgentStatus(sam.id, 'available');
      const text = await h.contact({ channel: 'sms', from: PHONE, text: 'still waiting for my call back' });
      expect(text.outcome.type).to.equal('queued');
      expect((await h.router.store.queueSnapshot(call.conversation.id))?.channel).to.equal('voice');
      expect((await h.agentNow(sam.id)).load.sms).to.equal(0);
      expect((await h.router.openCallback(call.conversation.id))?.id).to.equal(promise.id);
      // Ana is back: the call back rings her.
      await h.router.setAgentStatus(ana.id, 'available');
      const offered = await h.conversation(call.conversation.id);
      expect([offered.offer?.agentId, offered.offer?.channel]).to.deep.equal([ana.id, 'voice']);
    });
  });

  describe('after the call: the owner’s after-call work time (wrapUpSeconds)', () => {
    it('resolves the call for its owner two minutes after it ended, with a note; the next caller rings them', async () => {
      const ana = await h.agent('Ana', { capacity: { voice: 1, sms: 0 } });
      const call = await h.contact({ channel: 'voice', from: PHONE });
      await h.router.acceptOffer(ana.id, call.conversation.id);
      await h.router.liveContactEnded(call.conversation.id);
      const next = await h.contact({ channel: 'voice', from: '+14155550199' });
      expect(next.outcome.type).to.equal('queued');
      await h.advance(119 * SECOND);
      expect((await h.conversation(call.conversation.id)).status).to.equal('assigned');
      await h.advance(1 * SECOND);
      expect((await h.conversation(call.conversation.id)).status).to.equal('resolved');
      const notes = (await h.router.store.listMessages(call.conversation.id)).filter(
        (m) => m.direction === 'internal',
      );
      expect(notes.map((m) => m.text)).to.deep.equal([
        'Resolved for Ana 2 minutes after the call ended (the after-call work time): their place is free for the next caller. If the customer writes or calls again, it comes to them first.',
      ]);
      expect((await h.conversation(next.conversation.id)).offer?.agentId).to.equal(ana.id);
    });

    it('a note written in that time gives the owner that long again; a new call keeps it theirs', async () => {
      const ana = await h.agent('Ana', { capacity: { voice: 1, sms: 1 } });
      const call = await h.contact({ channel: 'voice', from: PHONE });
      await h.router.acceptOffer(ana.id, call.conversation.id);
      await h.router.liveContactEnded(call.conversation.id);
      await h.advance(90 * SECOND);
      await h.router.note(ana.id, call.conversation.id, 'Refund approved, 12.40');
      await h.advance(60 * SECOND);
      expect((await h.conversation(call.conversation.id)).status).to.equal('assigned');
      await h.advance(60 * SECOND);
      expect((await h.conversation(call.conversation.id)).status).to.equal('resolved');

      // Another call: the caller rings back within the time: it is not resolved under them.
      const again = await h.contact({ channel: 'voice', from: '+14155550177' });
      await h.router.acceptOffer(ana.id, again.conversation.id);
      await h.router.liveContactEnded(again.conversation.id);
      await h.advance(100 * SECOND);
      const back = await h.contact({ channel: 'voice', from: '+14155550177' });
      expect(back.conversation.id).to.equal(again.conversation.id);
      await h.advance(60 * SECOND);
      expect((await h.conversation(again.conversation.id)).status).to.equal('assigned');
    });
  });

  describe('after-call work shown and extended (More time, wrapUpMaxSeconds)', () => {
    const answered = async (x: Harness, capacity = { voice: 1, sms: 1 }) => {
      const ana = await x.agent('Ana', { capacity });
      const call = await x.contact({ channel: 'voice', from: PHONE });
      await x.router.acceptOffer(ana.id, call.conversation.id);
      return { ana, id: call.conversation.id };
    };

    it('the call’s end tells when the work is up; More time gives the full time again from now', async () => {
      const { ana, id } = await answered(h);
      expect(await h.router.wrapUp(await h.conversation(id))).to.equal(null);
      const ended = h.clock.now();
      await h.router.liveContactEnded(id);
      expect(h.eventsOf('conversation.wrapup').map((e) => [e.agentId, e.since, e.until])).to.deep.equal([
        [ana.id, ended, ended + 120 * SECOND],
      ]);
      expect(await h.router.wrapUp(await h.conversation(id))).to.deep.equal({
        since: ended,
        dueAt: ended + 120 * SECOND,
      });

      await h.advance(100 * SECOND);
      const more = await h.router.extendWrapUp(ana.id, id);
      expect(more.wrapUp).to.deep.equal({ since: ended, dueAt: ended + 220 * SECOND });
      expect(h.eventsOf('conversation.wrapup').at(-1)?.until).to.equal(ended + 220 * SECOND);
      await h.advance(119 * SECOND);
      expect((await h.conversation(id)).status).to.equal('assigned');
      await h.advance(1 * SECOND);
      expect((await h.conversation(id)).status).to.equal('resolved');
      expect(await h.router.wrapUp(await h.conversation(id))).to.equal(null);
      // The note says how long it lasted.
      const notes = (await h.router.store.listMessages(id)).filter((m) => m.direction === 'internal');
      expect(notes.at(-1)?.text).to.match(/^Resolved for Ana 4 minutes after the call ended/);
    });

    it('the after-call work standing is read for the whole team at once, as each conversation tells it', async () => {
      const { id } = await answered(h);
      const bea = await h.agent('Bea', { capacity: { voice: 1, sms: 0, chat: 0, email: 0 } });
      const other = await h.contact({ channel: 'voice', from: '+14155550177' });
      await h.router.acceptOffer(bea.id, other.conversation.id);
      const standing = async () =>
        (await h.router.wrapUps()).map((w) => [w.conversation.id, w.wrapUp.since, w.wrapUp.dueAt]);
      const team = async () => {
        const view = await readLiveView(
          h.store,
          async () => ({}) as never,
          null,
          h.clock.now(),
          undefined,
          undefined,
          h.router.policy,
          () => h.router.wrapUps(),
        );
        return Object.fromEntries(view.agents.map((a) => [a.name, a.wrapUp]));
      };
      expect(await standing()).to.deep.equal([]);
      const ended = h.clock.now();
      await h.router.liveContactEnded(id);
      expect(await standing()).to.deep.equal([[id, ended, ended + 120 * SECOND]]);
      await h.advance(20 * SECOND);
      expect(await team()).to.deep.equal({
        Ana: { conversationId: id, until: ended + 120 * SECOND, leftSeconds: 100 },
        Bea: null,
      });
      // The customer texts: no longer after-call work, for the team as for the conversation.
      await h.contact({ channel: 'sms', from: PHONE, text: 'one more thing' });
      expect(await h.router.wrapUp(await h.conversation(id))).to.equal(null);
      expect(await standing()).to.deep.equal([]);
      expect((await team()).Ana).to.equal(null);
      // Bea's call ends: hers, until it is up.
      const beaEnded = h.clock.now();
      await h.router.liveContactEnded(other.conversation.id);
      expect((await team()).Bea?.until).to.equal(beaEnded + 120 * SECOND);
      await h.advance(120 * SECOND);
      expect(await team()).to.deep.equal({ Ana: null, Bea: null });
      // With no after-call work in the policy, nobody is in it.
      const none = harness({ wrapUpSeconds: 0 });
      expect(await none.router.wrapUps()).to.deep.equal([]);
    });

    it('a note moves the time it shows; only the owner may ask for more, and only in after-call work', async () => {
      const { ana, id } = await answered(h);
      const bea = await h.agent('Bea');
      const refused = async (p: Promise<unknown>) => {
        try {
          await p;
        } catch (err) {
          return err as { code: string; status: number; message: string };
        }
        throw new Error('expected a refusal');
      };
      const early = await refused(h.router.extendWrapUp(ana.id, id));
      expect([early.code, early.status]).to.deep.equal(['not_in_wrap_up', 409]);
      const ended = h.clock.now();
      await h.router.liveContactEnded(id);
      const other = await refused(h.router.extendWrapUp(bea.id, id));
      expect([other.code, other.status]).to.deep.equal(['not_owner', 403]);
      expect(other.message).to.match(/not its owner/);

      await h.advance(30 * SECOND);
      await h.router.note(ana.id, id, 'Refund approved');
      expect(h.eventsOf('conversation.wrapup').at(-1)?.until).to.equal(ended + 150 * SECOND);
      // The admin asks for its owner.
      await h.advance(30 * SECOND);
      expect((await h.router.extendWrapUp(null, id)).wrapUp.dueAt).to.equal(ended + 180 * SECOND);

      // The customer texts: the conversation is theirs again, no longer after-call work.
      await h.contact({ channel: 'sms', from: PHONE, text: 'one more thing' });
      expect(await h.router.wrapUp(await h.conversation(id))).to.equal(null);
      expect((await refused(h.router.extendWrapUp(ana.id, id))).code).to.equal('not_in_wrap_up');
    });

    it('never lasts past wrapUpMaxSeconds after the call, asked for or written in', async () => {
      const x = harness({ wrapUpMaxSeconds: 300 });
      const { ana, id } = await answered(x);
      const ended = x.clock.now();
      await x.router.liveContactEnded(id);
      await x.advance(100 * SECOND);
      expect((await x.router.extendWrapUp(ana.id, id)).wrapUp.dueAt).to.equal(ended + 220 * SECOND);
      await x.advance(100 * SECOND);
      expect((await x.router.extendWrapUp(ana.id, id)).wrapUp.dueAt).to.equal(ended + 300 * SECOND);
      await x.advance(50 * SECOND);
      try {
        await x.router.extendWrapUp(ana.id, id);
        expect.fail('expected wrap_up_limit');
      } catch (err) {
        expect((err as { code: string }).code).to.equal('wrap_up_limit');
        expect((err as Error).message).to.match(/at most 5 minutes after the call/);
      }
      await x.router.note(ana.id, id, 'still typing');
      await x.advance(50 * SECOND);
      expect((await x.conversation(id)).status).to.equal('resolved');
    });
  });

  describe('back soon after giving up a wait (rejoinSeconds)', () => {
    it('a caller who hung up on hold and texts within ten minutes keeps their place; later, a new wait starts', async () => {
      await h.agent('Sam', { capacity: { voice: 0, sms: 1 }, status: 'away' });
      const t = h.clock.now();
      const call = await h.contact({ channel: 'voice', from: PHONE });
      h.clock.advance(4 * MINUTE);
      const other = await h.contact({ channel: 'sms', from: '+14155550188', text: 'where is my order?' });
      h.clock.advance(1 * MINUTE);
      expect((await h.router.liveContactEnded(call.conversation.id)).status).to.equal('abandoned');
      h.clock.advance(1 * MINUTE);
      const text = await h.contact({
        channel: 'sms',
        from: PHONE,
        text: 'I was on hold forever and got cut off',
      });
      expect(text.created).to.equal(true);
      expect(text.conversation.queuedAt).to.equal(t);
      expect((await h.router.quote(text.conversation.id))?.position).to.equal(1);
      expect((await h.router.quote(other.conversation.id))?.position).to.equal(2);
      const notes = (await h.router.store.listMessages(text.conversation.id)).filter(
        (m) => m.direction === 'internal',
      );
      expect(notes.map((m) => m.text)).to.deep.equal([
        'Back 1 minute after giving up a wait (they hung up on hold): their place in line is kept from when it began, 6 minutes ago.',
      ]);

      // Another caller gives up, and writes eleven minutes later: behind those who wait.
      const late = await h.contact({ channel: 'voice', from: '+14155550166' });
      await h.router.liveContactEnded(late.conversation.id);
      h.clock.advance(11 * MINUTE);
      const back = await h.contact({ channel: 'sms', from: '+14155550166', text: 'hello?' });
      expect(back.conversation.queuedAt).to.equal(h.clock.now());
      expect((await h.router.quote(back.conversation.id))?.position).to.equal(3);
    });
  });

  describe('liveContactEnded', () => {
    it('a caller who hangs up while waiting abandons', async () => {
      const call = await h.contact({ channel: 'voice', from: PHONE });
      const ended = await h.router.liveContactEnded(call.conversation.id);
      expect(ended.status).to.equal('abandoned');
      expect(h.eventsOf('conversation.abandoned')).to.have.length(1);
    });

    it('a caller with a call back keeps their place', async () => {
      const call = await h.contact({ channel: 'voice', from: PHONE });
      await h.router.requestCallback(call.conversation.id);
      expect((await h.router.liveContactEnded(call.conversation.id)).status).to.equal('queued');
      expect(h.eventsOf('conversation.abandoned')).to.deep.equal([]);
    });

    it('a caller who also wrote to us waits on that channel again, in the same place, with nobody rung', async () => {
      const sms = await h.contact({ channel: 'sms', from: '+14155550124' });
      h.clock.advance(SECOND);
      const other = await h.contact({ channel: 'sms', from: '+14155550125' });
      const ana = await h.agent('Ana', { capacity: { sms: 0 } });
      await h.contact({ channel: 'voice', from: '+14155550124' });

      const ended = await h.router.liveContactEnded(sms.conversation.id);
      expect([ended.status, ended.lastChannel, ended.offer]).to.deep.equal(['queued', 'sms', null]);
      expect((await h.agentNow(ana.id)).load.voice).to.equal(0);
      expect((await h.router.quote(sms.conversation.id))?.position).to.equal(1);
      expect((await h.router.quote(other.conversation.id))?.position).to.equal(2);
      expect(h.eventsOf('conversation.abandoned')).to.deep.equal([]);
    });

    it('a covered call ending frees the colleague; the owner keeps the conversation', async () => {
      const ana = await h.agent('Ana');
      const chat = await h.contact({ channel: 'chat', from: 'v1' });
      await h.router.identify(chat.customer.id, { phone: PHONE }, 'chat:prechat');
      await h.router.setAgentStatus(ana.id, 'away');
      const bea = await h.agent('Bea');
      await h.contact({ channel: 'voice', from: PHONE });
      const ended = await h.router.liveContactEnded(chat.conversation.id);
      expect([ended.status, ended.ownerId, ended.cover]).to.deep.equal(['assigned', ana.id, null]);
      expect((await h.agentNow(bea.id)).load.voice).to.equal(0);
    });

    it('a call that waited for a colleague to cover leaves the line', async () => {
      const ana = await h.agent('Ana');
      const chat = await h.contact({ channel: 'chat', from: 'v1' });
      await h.router.identify(chat.customer.id, { phone: PHONE }, 'chat:prechat');
      await h.router.setAgentStatus(ana.id, 'away');
      const call = await h.contact({ channel: 'voice', from: PHONE });
      expect(call.outcome.type).to.equal('queued');
      expect(await h.router.quote(chat.conversation.id)).to.not.equal(null);

      const ended = await h.router.liveContactEnded(chat.conversation.id);
      expect([ended.status, ended.waitingForOwnerSince]).to.deep.equal(['assigned', null]);
      expect(await h.router.quote(chat.conversation.id)).to.equal(null);
    });

    it('an owned call ending leaves the conversation open for its owner', async () => {
      const ana = await h.agent('Ana');
      const call = await h.contact({ channel: 'voice', from: PHONE });
      await h.router.acceptOffer(ana.id, call.conversation.id);
      const ended = await h.router.liveContactEnded(call.conversation.id);
      expect([ended.status, ended.ownerId]).to.deep.equal(['assigned', ana.id]);
    });
  });

  describe('call backs', () => {
    it('keep the place and are a promise due at the quoted wait', async () => {
      const ana = await h.agent('Ana', { capacity: { voice: 1 } });
      const busy = await h.contact({ channel: 'voice', from: '+14155550101' });
      await h.router.acceptOffer(ana.id, busy.conversation.id);
      const first = await h.contact({ channel: 'voice', from: PHONE });
      h.clock.advance(SECOND);
      const second = await h.contact({ channel: 'voice', from: '+14155550102' });
      const quote = await h.router.quote(first.conversation.id);

      const promise = await h.router.requestCallback(first.conversation.id);
      expect([promise.kind, promise.state, promise.dueAt]).to.deep.equal([
        'callback',
        'open',
        h.clock.now() + quote!.etaSeconds! * 1000,
      ]);
      expect(await h.router.requestCallback(first.conversation.id)).to.deep.equal(promise);
      await h.router.liveContactEnded(first.conversation.id);
      expect((await h.router.quote(second.conversation.id))?.position).to.equal(2);

      await h.router.resolve(ana.id, busy.conversation.id);
      expect((await h.conversation(first.conversation.id)).offer?.agentId).to.equal(ana.id);
    });

    it('are refused for a conversation nobody waits on', async () => {
      const ana = await h.agent('Ana');
      const call = await h.contact({ channel: 'voice', from: PHONE });
      await h.router.acceptOffer(ana.id, call.conversation.id);
      let err: unknown;
      try {
        await h.router.requestCallback(call.conversation.id);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(InvalidStateError);
    });

    it('settle kept when connected by the due time, broken when late or failed, void when not needed', async () => {
      const ids: string[] = [];
      for (const phone of ['+14155550111', '+14155550112', '+14155550113', '+14155550114']) {
        const call = await h.contact({ channel: 'voice', from: phone });
        await h.router.requestCallback(call.conversation.id);
        ids.push(call.conversation.id);
      }
      const due = (await h.router.openCallback(ids[0]!))!.dueAt;
      h.clock.set(due + MINUTE);
      expect((await h.router.settleCallback(ids[0]!, 'connected', due - SECOND))?.state).to.equal('kept');
      expect((await h.router.settleCallback(ids[1]!, 'connected'))?.state).to.equal('broken');
      expect((await h.router.settleCallback(ids[2]!, 'failed'))?.state).to.equal('broken');
      expect((await h.router.settleCallback(ids[3]!, 'void'))?.state).to.equal('void');
      expect(await h.router.settleCallback(ids[3]!, 'void')).to.equal(null);
      expect(h.eventsOf('promise.settled').map((e) => [e.promise.kind, e.promise.state])).to.deep.equal([
        ['callback', 'kept'],
        ['callback', 'broken'],
        ['callback', 'broken'],
        ['callback', 'void'],
      ]);
    });
  });

  describe('notify', () => {
    it('sends a message from Switchboard on the last channel: stored pending, emitted as sent', async () => {
      const call = await h.contact({ channel: 'voice', from: PHONE });
      const message = await h.router.notify(call.conversation.id, 'We tried to call you back.');
      expect([message.direction, message.channel, message.author, message.delivery.state]).to.deep.equal([
        'out',
        'voice',
        { type: 'system' },
        'pending',
      ]);
      expect(h.eventsOf('message.sent').map((e) => e.message.id)).to.deep.equal([message.id]);
    });
  });
});
