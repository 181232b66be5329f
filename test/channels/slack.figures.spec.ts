// The Slack console's figures over a real router and memory store: what an agent is shown as waiting
// for them (`/switchboard queue`).
import { expect } from 'chai';
import { waitingFor } from '../../channels/slack/figures.js';
import { harness, SECOND } from '../routing/harness.js';

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
