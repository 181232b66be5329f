// The Slack console's figures over a real router and memory store: what an agent is shown as waiting
// for them (`/switchboard queue`).
import { expect } from 'chai';
import { agentFigures, startOfDay, waitingFor } from '../../channels/slack/figures.js';
import { harness, MINUTE, SECOND } from '../routing/harness.js';

const HOUR = 60 * MINUTE;

describe('Slack figures: agentFigures', () => {
  it("counts today's takes, resolves, open ones, hand-offs and first replies, not yesterday's", async () => {
    const h = harness();
    const ada = await h.agent('Ada');
    const bob = await h.agent('Bob', { status: 'away' });
    // Yesterday: Ada takes one.
    const old = await h.contact({ channel: 'chat', from: 'visitor-a' });
    expect(old.outcome).to.deep.equal({ type: 'assigned', agentId: ada.id });
    // Today.
    h.clock.set(startOfDay(h.clock.now()) + 25 * HOUR);
    await h.router.resolve(ada.id, old.conversation.id);
    const b = await h.contact({ channel: 'chat', from: 'visitor-b' });
    expect(b.outcome).to.deep.equal({ type: 'assigned', agentId: ada.id });
    h.clock.advance(30 * SECOND);
    await h.router.reply(ada.id, b.conversation.id, 'Looking now.');
    await h.router.setAgentStatus(bob.id, 'available');
    await h.router.handoff(ada.id, b.conversation.id, bob.id, 'billing, yours');
    await h.router.acceptHandoff(bob.id, b.conversation.id);
    const c = await h.contact({ channel: 'chat', from: 'visitor-c' });
    expect(c.outcome).to.deep.equal({ type: 'assigned', agentId: ada.id });
    h.clock.advance(90 * SECOND);
    await h.router.reply(ada.id, c.conversation.id, 'Hello!');

    const now = h.clock.now();
    expect(await agentFigures(h.router, ada.id, now)).to.deep.equal({
      taken: 2,
      resolved: 1,
      open: 1,
      handedOff: 1,
      firstReplySeconds: 60,
      promisesKept: 0,
      promisesBroken: 0,
    });
    expect(await agentFigures(h.router, bob.id, now)).to.deep.equal({
      taken: 1,
      resolved: 0,
      open: 1,
      handedOff: 0,
      firstReplySeconds: null,
      promisesKept: 0,
      promisesBroken: 0,
    });
  });
});

describe('Slack figures: waitingFor', () => {
  it('shows the longest waits first, also when more than a thousand wait', async function () {
    this.timeout(60_000);
    const h = harness();
    const ada = await h.agent('Ada', { status: 'away' });
    const first = await h.contact({ channel: 'chat', from: 'visitor-0' });
    for (let i = 1; i <= 1_000; i++) {
      h.clock.advance(SECOND);
      await h.contact({ channel: 'chat', from: `visitor-${i}` });
    }
    const shown = await waitingFor(h.router, ada, h.clock.now());
    expect(shown).to.have.length(20);
    expect(shown[0]!.conversation.id).to.equal(first.conversation.id);
    expect(shown[0]!.waitedMs).to.equal(1_000 * SECOND);
    expect(shown[0]!.position).to.equal(1);
  });
});
