// The team's live view (GET /api/live, the real express app, memory store, manual clock) on a busy day: what an
// agent can hold counts only the channels this deployment takes, and the waiting list is in serving order.
import { expect } from 'chai';
import { type Json, SECOND, useHarness } from './harness.js';

describe('GET /api/live on a busy day', () => {
  const harness = useHarness();

  /** The live view now (a second later than the last read: the process reuses a view for a second). */
  async function live(): Promise<Json> {
    const h = harness();
    h.clock.advance(SECOND);
    return (await h.admin.get('/api/live').expect(200)).body;
  }

  it("counts what an agent can hold on the channels taken here only: calls, texts and email off, chat's room", async () => {
    const h = harness();
    // Twilio and email are not set up here: only chat is taken.
    const { agent: ada } = await h.createAgent('Ada', { capacity: { voice: 1, sms: 2, chat: 2, email: 3 } });
    let view = await live();
    expect(Object.entries(view.channels).filter(([, c]) => (c as Json).on)).to.have.length(1);
    let row = view.agents.find((a: Json) => a.id === ada.id);
    expect(row).to.include({ holding: 0, room: 2, full: false });
    for (const n of [1, 2]) {
      const v = h.visitor();
      await new Promise((resolve) => v.once('session', resolve));
      await v.timeout(3000).emitWithAck('message', { text: `hello ${n}`, clientMessageId: `m-${n}` });
    }
    view = await live();
    row = view.agents.find((a: Json) => a.id === ada.id);
    // Two chats of two: nothing more can be given to her, whatever her capacity on channels nobody reaches.
    expect(row).to.include({ holding: 2, room: 2, full: true });
  });

  it('lists the waiting in the order they will be served: a higher priority ahead of an older wait', async () => {
    const h = harness();
    const { agent: ada } = await h.createAgent('Ada', { capacity: { chat: 0, sms: 1 }, status: 'away' });
    const older = (
      await h.sb.router.contact({ channel: 'sms', from: '+14155550101', text: 'hi', externalId: 'sms-1' })
    ).conversation.id;
    h.clock.advance(30 * SECOND);
    // Priority 1 is a minute's head start (agingStepSeconds 60): ahead of the one that waited 30 s more.
    const urgent = (
      await h.sb.router.contact({
        channel: 'sms',
        from: '+14155550102',
        text: 'urgent',
        externalId: 'sms-2',
        priority: 1,
      })
    ).conversation.id;
    const view = await live();
    expect(view.waiting.map((w: Json) => w.conversationId)).to.deep.equal([urgent, older]);
    // The longest wait of the channel is still the older one's.
    expect(view.channels.sms.longestWaitSeconds).to.equal(view.waiting[1].waitedSeconds);
    // And so it is served: Ada, back, takes the first listed.
    await h.admin.put(`/api/agents/${ada.id}/status`).send({ status: 'available' }).expect(200);
    expect((await h.store.getConversation(urgent))!.ownerId).to.equal(ada.id);
    expect((await h.store.getConversation(older))!.status).to.equal('queued');
  });
});
