// Agents rung on their phones who do not take the call: one who declines it (their
// phone answers busy) stays available and is passed over for this caller; one whose
// phone rings out, or cannot be rung, is set away with what happened and when; a caller
// left with nobody to ring is told the team, and is not told that everyone is busy
// when nobody is serving anyone. Through the real app, signed webhooks and the store.
import { expect } from 'chai';
import { readLiveView } from '../../channels/team.js';
import type { EventOf } from '../../shared/events.js';
import { only, queryOf, verbs } from '../support/twiml.js';
import {
  dialResult,
  incomingCall,
  localPath,
  newCall,
  SECOND,
  type TwilioHarness,
  useTwilioHarness,
} from './twilio-harness.js';

const CALLER = '+14155552001';

/** The router clock's time of day (UTC: the harness has no opening hours), as a status reason says it. */
const hhmm = (h: TwilioHarness) => new Date(h.clock.now()).toISOString().slice(11, 16);

/** Ana, Bo and Cy, rung on their mobiles; a caller rings Ana first. */
async function threeAgentsAndACaller(h: TwilioHarness) {
  const ana = await h.agent('Ana', { phone: '+14155550901', capacity: { voice: 1 } });
  const bo = await h.agent('Bo', { phone: '+14155550902', capacity: { voice: 1 } });
  const cy = await h.agent('Cy', { phone: '+14155550903', capacity: { voice: 1 } });
  const call = newCall(CALLER);
  const root = await h.twiml('/twilio/voice', incomingCall(call));
  const conversationId = queryOf(only(root, 'Dial').attrs.action).conversation!;
  return { ana, bo, cy, call, root, conversationId };
}

describe('Voice: agents who do not take a call', () => {
  const h = useTwilioHarness();

  it('one who declines (busy) stays available and is not rung for this caller again; a missed ring says when', async () => {
    const { ana, bo, cy, call, root, conversationId } = await threeAgentsAndACaller(h());
    expect(queryOf(only(root, 'Dial').attrs.action).agent).to.equal(ana.id);

    h().clock.advance(20 * SECOND);
    const missedAt = hhmm(h());
    const toBo = await h().twiml(localPath(only(root, 'Dial').attrs.action), dialResult(call, 'no-answer'));
    expect(queryOf(only(toBo, 'Dial').attrs.action).agent).to.equal(bo.id);

    h().clock.advance(5 * SECOND);
    const toCy = await h().twiml(localPath(only(toBo, 'Dial').attrs.action), dialResult(call, 'busy'));
    expect(queryOf(only(toCy, 'Dial').attrs.action).agent).to.equal(cy.id);

    h().clock.advance(20 * SECOND);
    const failedAt = hhmm(h());
    const held = await h().twiml(localPath(only(toCy, 'Dial').attrs.action), dialResult(call, 'failed'));
    expect(verbs(held)).to.deep.equal(['Say', 'Enqueue']);

    const [a, b, c] = await Promise.all([ana, bo, cy].map((x) => h().store.getAgent(x.id)));
    expect([a?.status, a?.statusReason]).to.deep.equal(['away', `missed a call at ${missedAt}`]);
    expect([b?.status, b?.statusReason]).to.deep.equal(['available', undefined]);
    expect([c?.status, c?.statusReason]).to.deep.equal(['away', `phone could not be rung at ${failedAt}`]);
    // Bo declined this caller: not offered them again while they wait (he is free for the next one).
    await h().later(SECOND);
    const conv = await h().store.getConversation(conversationId);
    expect([conv?.status, conv?.offer, conv?.declinedBy]).to.deep.equal(['queued', null, [bo.id]]);

    // The team view says why each is away.
    const view = await readLiveView(h().store, async () => ({}) as never, null, h().clock.now());
    const reasons = Object.fromEntries(view.agents.map((x) => [x.name, [x.status, x.statusReason]]));
    expect(reasons).to.deep.include({
      Ana: ['away', `missed a call at ${missedAt}`],
      Bo: ['available', null],
      Cy: ['away', `phone could not be rung at ${failedAt}`],
    });

    // The team hears a caller waits with nobody to ring: who is away and why, and who declined.
    const told = h().eventsOf('team.unstaffed');
    expect(told).to.have.length(1);
    const event = told[0] as EventOf<'team.unstaffed'>;
    expect(event.conversation.id).to.equal(conversationId);
    expect(event.away).to.deep.equal([
      { agentId: ana.id, name: 'Ana', reason: `missed a call at ${missedAt}` },
      { agentId: cy.id, name: 'Cy', reason: `phone could not be rung at ${failedAt}` },
    ]);
    expect(event.declined).to.deep.equal([{ agentId: bo.id, name: 'Bo' }]);
  });

  it('with everyone set away by missed rings, the caller is not told that everyone is busy', async () => {
    const ana = await h().agent('Ana', { phone: '+14155550901' });
    const bo = await h().agent('Bo', { phone: '+14155550902' });
    const call = newCall(CALLER);
    const first = await h().twiml('/twilio/voice', incomingCall(call));
    const second = await h().twiml(
      localPath(only(first, 'Dial').attrs.action),
      dialResult(call, 'no-answer'),
    );
    expect(queryOf(only(second, 'Dial').attrs.action).agent).to.equal(bo.id);
    const held = await h().twiml(localPath(only(second, 'Dial').attrs.action), dialResult(call, 'no-answer'));
    expect(verbs(held)).to.deep.equal(['Say', 'Enqueue']);
    const texts = h().sb.router.policy.texts;
    expect(only(held, 'Say').text).to.equal(texts.nobodyFree);
    expect(texts.nobodyFree).not.to.match(/busy/i);
    expect(
      h()
        .eventsOf('team.unstaffed')
        .map((e) => e.away.map((a) => a.name)),
    ).to.deep.equal([['Ana', 'Bo']]);

    // Ana is back: the caller rings through to her.
    await h().sb.router.setAgentStatus(ana.id, 'available');
    await h().idle();
    const moved = h()
      .standIn.callUpdates()
      .filter((u) => u.sid === call.CallSid);
    expect(moved).to.have.length(1);
    expect(String(moved[0]!.params.Twiml)).to.contain('+14155550901');
  });
});
