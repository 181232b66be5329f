// The promise ledger: quoted waits told before they break (once, with a new honest
// time), call backs likewise, agents' own promises reminded and kept or broken, and
// follow-ups that open a touchpoint routed to the owner first.
import { expect } from 'chai';
import { SwitchboardError } from '../../shared/errors.js';
import type { CustomerPromise } from '../../shared/model.js';
import { type Harness, harness, MINUTE, SECOND } from './harness.js';

const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

async function rejection(p: Promise<unknown>): Promise<SwitchboardError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(SwitchboardError);
    return err as SwitchboardError;
  }
  throw new Error('expected a rejection');
}

/** The messages sent to the customer on a conversation (not notes). */
async function sentTo(h: Harness, conversationId: string): Promise<string[]> {
  return (await h.store.listMessages(conversationId))
    .filter((m) => m.direction === 'out')
    .map((m) => `${m.channel}: ${m.text}`);
}

const stateOf = (ps: CustomerPromise[]) => ps.map((p) => [p.kind, p.state]);

describe('router: the promise ledger', () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  describe('a quoted wait at risk', () => {
    // One chat agent with room for one: a second visitor waits, quoted 1106 s (480 s × ln 10, rounded up).
    async function oneWaiting() {
      const ana = await h.agent('Ana', { capacity: { chat: 1 } });
      const busy = await h.contact({ channel: 'chat', from: 'v0' });
      const waiting = await h.contact({ channel: 'chat', from: 'v1' });
      expect(waiting.outcome).to.deep.equal({ type: 'queued', position: 1, etaSeconds: 1106 });
      const [quote] = await h.store.listPromises(waiting.conversation.id);
      return { ana, busy, waiting, quote: quote!, t0: h.clock.now() };
    }

    it('is told once, before it breaks, on its channel, with an apology and a new honest time', async () => {
      const { ana, busy, waiting, quote, t0 } = await oneWaiting();
      // Checked when a fifth of the quoted time is left: 1106 s − 221.2 s.
      await h.advance(884 * SECOND);
      expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([]);
      await h.advance(1 * SECOND);
      // The fresh quote is the one told at first again (memoryless): half again of it, 1659 s.
      const notice =
        'chat: Sorry, this is taking longer than we said. A person will be with you within 28 minutes.';
      expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([notice]);
      const [risk] = h.eventsOf('promise.at_risk');
      expect([risk?.promise.id, risk?.message.author.type, risk?.message.channel]).to.deep.equal([
        quote.id,
        'system',
        'chat',
      ]);
      // The new time is a promise too: from now.
      const revised = risk?.revised;
      expect([revised?.kind, revised?.state, revised?.dueAt, revised?.text]).to.deep.equal([
        'wait',
        'open',
        t0 + 885 * SECOND + 1659 * SECOND,
        'a person answers (revised)',
      ]);
      expect(stateOf(await h.store.listPromises(waiting.conversation.id))).to.deep.equal([
        ['wait', 'open'],
        ['wait', 'open'],
      ]);

      // The first quote falls due: announced, never a second notice for it.
      await h.advance(221 * SECOND + 1);
      expect(h.eventsOf('promise.due').map((e) => e.promise.id)).to.deep.equal([quote.id]);
      expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([notice]);

      // A person answers within the new time: the first quote broken, the new one kept.
      await h.advance(5 * MINUTE);
      await h.router.resolve(ana.id, busy.conversation.id);
      const settled = h
        .eventsOf('promise.settled')
        .filter((e) => e.promise.conversationId === waiting.conversation.id);
      const waited = h.clock.now() - t0;
      expect(settled.map((e) => [e.promise.id, e.promise.state, e.waitedMs])).to.deep.equal([
        [quote.id, 'broken', waited],
        [revised?.id, 'kept', waited - 885 * SECOND],
      ]);
      // Nothing more is checked or sent for settled promises.
      await h.advance(DAY);
      expect(h.eventsOf('promise.at_risk')).to.have.length(1);
      expect(h.eventsOf('promise.due')).to.have.length(1);
      expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([notice]);
      expect(h.invalidEvents()).to.deep.equal([]);
    });

    it('answered in time: kept, with how long the customer waited, and no notice', async () => {
      const { ana, busy, waiting, quote } = await oneWaiting();
      await h.advance(100 * SECOND);
      await h.router.resolve(ana.id, busy.conversation.id);
      const [kept] = h.eventsOf('promise.settled');
      expect([kept?.promise.id, kept?.promise.state, kept?.waitedMs]).to.deep.equal([
        quote.id,
        'kept',
        100 * SECOND,
      ]);
      await h.advance(DAY);
      expect(h.eventsOf('promise.at_risk')).to.deep.equal([]);
      expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([]);
    });

    it('not at risk while a fresh quote still fits: no notice then; told once it no longer does', async () => {
      const { waiting, quote, t0 } = await oneWaiting();
      // Agents have been quick lately: a fresh quote is 20 s × ln 10, 47 s.
      for (let i = 0; i < 20; i++) await h.store.recordHandleTime('chat', 20 * SECOND);
      expect((await h.router.quote(waiting.conversation.id))?.etaSeconds).to.equal(47);
      // The server ticks every second here.
      const until = async (seconds: number) => {
        while (h.clock.now() - t0 < seconds * SECOND) await h.advance(SECOND);
      };
      await until(885);
      expect(h.eventsOf('promise.at_risk')).to.deep.equal([]);
      // Looked at again halfway to the due time each time (996 s, 1051 s): 47 s still fits.
      await until(1078);
      expect(h.eventsOf('promise.at_risk')).to.deep.equal([]);
      expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([]);
      // At 1079 s, 27 s before it is due, it no longer does.
      await until(1079);
      const [risk] = h.eventsOf('promise.at_risk');
      expect([risk?.promise.id, risk?.at, risk?.revised?.dueAt]).to.deep.equal([
        quote.id,
        t0 + 1079 * SECOND,
        t0 + (1079 + 71) * SECOND,
      ]);
      expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([
        // Half again of the fresh quote, the team having become quicker than the time told.
        'chat: Sorry, this is taking longer than we said. A person will be with you within 2 minutes.',
      ]);
    });

    it('a short new time is not told late again within a minute of the last notice', async () => {
      const { waiting, t0 } = await oneWaiting();
      for (let i = 0; i < 20; i++) await h.store.recordHandleTime('chat', 20 * SECOND);
      const until = async (seconds: number) => {
        while (h.clock.now() - t0 < seconds * SECOND) await h.advance(SECOND);
      };
      await until(1079);
      expect(h.eventsOf('promise.at_risk')).to.have.length(1);
      // The new time, 71 s, would be checked halfway (35 s on) and found late again: not told within a minute.
      await until(1079 + 59);
      expect(h.eventsOf('promise.at_risk')).to.have.length(1);
      expect(await sentTo(h, waiting.conversation.id)).to.have.length(1);
    });

    // The only agent on a break: the team still works, but nobody is busy serving anyone, so not "everyone is
    // still busy". Gone offline: nobody works.
    for (const [status, told] of [
      [
        'away',
        'Sorry, this is taking longer than we said. Nobody can answer right now; a person will answer as soon as someone is back.',
      ],
      [
        'offline',
        'Nobody is working right now; a person will answer as soon as someone is back. You keep your place.',
      ],
    ] as const) {
      it(`when nobody can serve it any more (the only agent ${status}): told without a time, and no new promise`, async () => {
        const { ana, waiting } = await oneWaiting();
        await h.router.setAgentStatus(ana.id, status);
        await h.advance(885 * SECOND);
        const [risk] = h.eventsOf('promise.at_risk');
        expect(risk?.revised).to.equal(null);
        expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([`chat: ${told}`]);
        expect(stateOf(await h.store.listPromises(waiting.conversation.id))).to.deep.equal([
          ['wait', 'open'],
        ]);
      });
    }

    it('when nobody who can serve it is free but a colleague is available for other work: everyone is still busy', async () => {
      const { ana, waiting } = await oneWaiting();
      await h.agent('Bo', { capacity: { voice: 1, sms: 0, chat: 0, email: 0 } });
      await h.router.setAgentStatus(ana.id, 'away');
      await h.advance(885 * SECOND);
      expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([
        'chat: Sorry, this is taking longer than we said. Everyone is still busy; a person will answer as soon as one is free.',
      ]);
    });

    it('never spam: the new time is told about too, but at most twice per wait (atRiskMaxNotices)', async () => {
      const { waiting } = await oneWaiting();
      for (let i = 0; i < 5; i++) await h.advance(10 * MINUTE);
      expect(h.eventsOf('promise.at_risk')).to.have.length(2);
      await h.advance(DAY);
      expect(h.eventsOf('promise.at_risk')).to.have.length(2);
      // The fresh quote is 1106 s each time (nothing changed but the time waited): the second notice does not
      // say the first one's time again, it adds half again (1106 × 1.5, then × 2.25).
      const within = 'chat: Sorry, this is taking longer than we said. A person will be with you within';
      expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([
        `${within} 28 minutes.`,
        `${within} 42 minutes.`,
      ]);
      const [first, second] = h.eventsOf('promise.at_risk');
      expect([first!.revised!.dueAt - first!.at, second!.revised!.dueAt - second!.at]).to.deep.equal([
        1659 * SECOND,
        2489 * SECOND,
      ]);
      // Three quotes, the last one left to break in the ledger.
      expect(stateOf(await h.store.listPromises(waiting.conversation.id))).to.deep.equal([
        ['wait', 'open'],
        ['wait', 'open'],
        ['wait', 'open'],
      ]);

      h = harness({ atRiskMaxNotices: 0 });
      const quiet = await oneWaiting();
      await h.advance(DAY);
      expect(h.eventsOf('promise.at_risk')).to.deep.equal([]);
      expect(await sentTo(h, quiet.waiting.conversation.id)).to.deep.equal([]);
    });

    it('the notice text comes from the policy', async () => {
      h = harness({ texts: { atRisk: 'We are late, sorry: {wait} more at most.' } });
      const { waiting } = await oneWaiting();
      await h.advance(885 * SECOND);
      expect(await sentTo(h, waiting.conversation.id)).to.deep.equal([
        'chat: We are late, sorry: 28 minutes more at most.',
      ]);
    });

    it('a short quote is checked at least 30 s before it is due, never before halfway', async () => {
      // Handle time 60 s, one server: quote 139 s; 20 % is 27.8 s, so 30 s before.
      h = harness({ defaultHandleSeconds: { chat: 60 } });
      await h.agent('Ana', { capacity: { chat: 1 } });
      await h.contact({ channel: 'chat', from: 'v0' });
      const waiting = await h.contact({ channel: 'chat', from: 'v1' });
      expect(waiting.outcome).to.deep.equal({ type: 'queued', position: 1, etaSeconds: 139 });
      await h.advance(108 * SECOND);
      expect(h.eventsOf('promise.at_risk')).to.deep.equal([]);
      await h.advance(1 * SECOND);
      expect(h.eventsOf('promise.at_risk')).to.have.length(1);
    });
  });

  describe('a call back at risk', () => {
    it('the caller is told on their channel; the new time is a call back promise; both settle on connect', async () => {
      const ana = await h.agent('Ana', { capacity: { voice: 1 } });
      const busy = await h.contact({ channel: 'voice', from: '+14155550101' });
      await h.router.acceptOffer(ana.id, busy.conversation.id);
      const call = await h.contact({ channel: 'voice', from: '+14155550102' });
      const promise = await h.router.requestCallback(call.conversation.id);
      // 300 s × ln 10 = 690.8 s: checked 138.2 s before.
      expect(promise.dueAt - h.clock.now()).to.equal(691 * SECOND);
      await h.router.liveContactEnded(call.conversation.id);
      await h.advance(553 * SECOND);
      expect(await sentTo(h, call.conversation.id)).to.deep.equal([
        'voice: Sorry, our call back is running late. We will call you within 18 minutes.',
      ]);
      const revised = (await h.router.openCallback(call.conversation.id))!;
      expect([revised.kind, revised.id === promise.id]).to.deep.equal(['callback', false]);
      expect(await h.router.requestCallback(call.conversation.id)).to.deep.equal(revised);
      await h.advance(5 * MINUTE);
      const settled = await h.router.settleCallback(call.conversation.id, 'connected');
      expect(settled?.id).to.equal(revised.id);
      // The quote made while the caller held settles when a person has the conversation.
      expect(stateOf(await h.store.listPromises(call.conversation.id))).to.deep.equal([
        ['wait', 'open'],
        ['callback', 'broken'],
        ['callback', 'kept'],
      ]);
      // One notice only: the wait quoted on hold is not announced on top of the call back.
      expect(h.eventsOf('promise.at_risk').map((e) => e.promise.kind)).to.deep.equal(['callback']);
    });
  });

  describe("an agent's own promise", () => {
    async function promised(dueIn = HOUR) {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const r = await h.contact({ channel: 'sms', from: '4155550100' });
      const p = await h.router.promise(ana.id, r.conversation.id, h.clock.now() + dueIn, 'send the invoice');
      return { ana, bea, r, p };
    }

    it('the owner is reminded before it is due (15 minutes by default), once', async () => {
      const { p } = await promised();
      await h.advance(45 * MINUTE - 1);
      expect(h.eventsOf('promise.reminder')).to.deep.equal([]);
      await h.advance(1);
      expect(
        h.eventsOf('promise.reminder').map((e) => [e.promise.id, e.promise.agentId, e.at]),
      ).to.deep.equal([[p.id, p.agentId, p.dueAt - 15 * MINUTE]]);
      await h.advance(10 * MINUTE);
      expect(h.eventsOf('promise.reminder')).to.have.length(1);
    });

    it('a promise due sooner than the reminder time is reminded halfway', async () => {
      const { p } = await promised(10 * MINUTE);
      await h.advance(5 * MINUTE);
      expect(h.eventsOf('promise.reminder').map((e) => e.promise.id)).to.deep.equal([p.id]);
    });

    it('marked kept by the agent before it is due: kept, no reminder or due after', async () => {
      const { ana, p } = await promised();
      await h.advance(10 * MINUTE);
      const kept = await h.router.keepPromise(ana.id, p.id);
      expect([kept.state, kept.settledAt]).to.deep.equal(['kept', h.clock.now()]);
      await h.advance(DAY);
      expect(h.eventsOf('promise.reminder')).to.deep.equal([]);
      expect(h.eventsOf('promise.due')).to.deep.equal([]);
    });

    it('not marked kept by its due time: broken, and it stays broken', async () => {
      const { ana, p } = await promised();
      await h.advance(HOUR);
      expect(h.eventsOf('promise.due').map((e) => e.promise.id)).to.deep.equal([p.id]);
      expect((await h.store.getPromise(p.id))?.state).to.equal('broken');
      const late = await rejection(h.router.keepPromise(ana.id, p.id));
      expect([late.code, late.message]).to.deep.equal(['invalid_state', `promise ${p.id} is already broken`]);
    });

    it('only its agent or the owner may mark it', async () => {
      const { bea, p } = await promised();
      const err = await rejection(h.router.keepPromise(bea.id, p.id));
      expect([err.code, err.status]).to.deep.equal(['not_owner', 403]);
      expect((await rejection(h.router.keepPromise(bea.id, 'pr_nobody'))).code).to.equal('not_found');
      expect((await h.store.getPromise(p.id))?.state).to.equal('open');
    });

    it("a quoted wait is not an agent's to mark: Switchboard settles it", async () => {
      const ana = await h.agent('Ana', { capacity: { chat: 1 } });
      await h.contact({ channel: 'chat', from: 'v0' });
      const waiting = await h.contact({ channel: 'chat', from: 'v1' });
      const [quote] = await h.store.listPromises(waiting.conversation.id);
      const err = await rejection(h.router.keepPromise(ana.id, quote!.id));
      expect([err.code, err.message]).to.deep.equal([
        'invalid_state',
        `promise ${quote!.id} is a wait promise; Switchboard settles it itself`,
      ]);
    });
  });

  describe('follow-ups', () => {
    it('when due: a touchpoint on the last channel, routed to the owner first, with a note; kept on assignment', async () => {
      const ana = await h.agent('Ana');
      const bea = await h.agent('Bea');
      const r = await h.contact({ channel: 'sms', from: '4155550100' });
      expect(r.outcome).to.deep.equal({ type: 'assigned', agentId: ana.id });
      const due = h.clock.now() + DAY;
      await h.router.resolve(ana.id, r.conversation.id, due);
      // Bea has been idle longer than Ana since Ana took it: the pool alone would pick Bea.
      expect((await h.agentNow(bea.id)).idleSince).to.be.below((await h.agentNow(ana.id)).idleSince);
      await h.advance(due - h.clock.now() - 15 * MINUTE);
      expect(h.eventsOf('promise.reminder').map((e) => e.promise.kind)).to.deep.equal(['follow-up']);
      await h.advance(15 * MINUTE);

      const [opened] = h.eventsOf('followup.opened');
      const touch = await h.conversation(opened!.conversation.id);
      expect(touch.id).to.not.equal(r.conversation.id);
      expect([touch.status, touch.ownerId, touch.lastChannel, touch.customerId]).to.deep.equal([
        'assigned',
        ana.id,
        'sms',
        r.customer.id,
      ]);
      expect(touch.followUpOf).to.deep.equal({
        conversationId: r.conversation.id,
        promiseId: opened?.promise.id,
        agentId: ana.id,
      });
      expect(opened?.reason).to.equal('promised');
      const notes = (await h.store.listMessages(touch.id)).filter((m) => m.direction === 'internal');
      expect(notes.map((m) => m.text)).to.deep.equal([
        'Follow-up promised by Ana when their conversation was resolved, 24 hours ago. Reach out to the customer on sms.',
      ]);
      // Not a quote: the customer is not waiting.
      expect(stateOf(await h.store.listPromises(touch.id))).to.deep.equal([]);
      expect(stateOf(await h.store.listPromises(r.conversation.id))).to.deep.equal([['follow-up', 'kept']]);
      expect(h.eventsOf('promise.due').map((e) => e.promise.kind)).to.deep.equal(['follow-up']);

      // The customer answers: the touchpoint is their conversation now, with the same owner.
      const back = await h.contact({ channel: 'sms', from: '4155550100', text: 'thanks for checking' });
      expect([back.conversation.id, back.outcome]).to.deep.equal([
        touch.id,
        { type: 'owner', agentId: ana.id },
      ]);
      expect(h.invalidEvents()).to.deep.equal([]);
    });

    it('nobody free: the touchpoint waits (no quote); past the grace time the follow-up is broken', async () => {
      const ana = await h.agent('Ana');
      const r = await h.contact({ channel: 'chat', from: 'v1' });
      const due = h.clock.now() + HOUR;
      await h.router.resolve(ana.id, r.conversation.id, due);
      await h.router.setAgentStatus(ana.id, 'away');
      await h.advance(HOUR);
      const [opened] = h.eventsOf('followup.opened');
      const touch = await h.conversation(opened!.conversation.id);
      expect([touch.status, touch.lastChannel]).to.deep.equal(['queued', 'chat']);
      expect(await h.store.listPromises(touch.id)).to.deep.equal([]);
      await h.advance(HOUR - 1);
      expect(stateOf(await h.store.listPromises(r.conversation.id))).to.deep.equal([['follow-up', 'open']]);
      await h.advance(1);
      expect(stateOf(await h.store.listPromises(r.conversation.id))).to.deep.equal([['follow-up', 'broken']]);
      // Ana back: she gets it; the ledger keeps the truth.
      await h.router.setAgentStatus(ana.id, 'available');
      expect((await h.conversation(touch.id)).ownerId).to.equal(ana.id);
      expect(stateOf(await h.store.listPromises(r.conversation.id))).to.deep.equal([['follow-up', 'broken']]);
    });

    it('a person has it within the grace time: kept', async () => {
      const ana = await h.agent('Ana');
      const r = await h.contact({ channel: 'email', from: 'kim@example.com' });
      await h.router.resolve(ana.id, r.conversation.id, h.clock.now() + HOUR);
      await h.router.setAgentStatus(ana.id, 'away');
      await h.advance(HOUR + 30 * MINUTE);
      await h.router.setAgentStatus(ana.id, 'available');
      expect(stateOf(await h.store.listPromises(r.conversation.id))).to.deep.equal([['follow-up', 'kept']]);
    });

    it('the customer already talking to us when it is due: no second conversation, a note, the promise void', async () => {
      const ana = await h.agent('Ana');
      const r = await h.contact({ channel: 'sms', from: '4155550100' });
      await h.router.resolve(ana.id, r.conversation.id, h.clock.now() + HOUR);
      await h.advance(30 * MINUTE);
      const again = await h.contact({ channel: 'sms', from: '4155550100', text: 'one more thing' });
      await h.advance(30 * MINUTE);
      expect(h.eventsOf('followup.opened')).to.deep.equal([]);
      expect(stateOf(await h.store.listPromises(r.conversation.id))).to.deep.equal([['follow-up', 'void']]);
      const notes = (await h.store.listMessages(again.conversation.id)).filter(
        (m) => m.direction === 'internal',
      );
      expect(notes.map((m) => m.text)).to.include(
        `A follow-up was due from Ana (on conversation ${r.conversation.id}); the customer is already in this conversation.`,
      );
    });

    it('a caller is followed up by text on the same number', async () => {
      const ana = await h.agent('Ana');
      const call = await h.contact({ channel: 'voice', from: '+14155550100' });
      await h.router.acceptOffer(ana.id, call.conversation.id);
      await h.router.resolve(ana.id, call.conversation.id, h.clock.now() + HOUR);
      await h.advance(HOUR);
      const [opened] = h.eventsOf('followup.opened');
      expect([
        opened?.conversation.lastChannel,
        (await h.conversation(opened!.conversation.id)).ownerId,
      ]).to.deep.equal(['sms', ana.id]);
    });
  });
});
