// The web console through a busy day, at the socket: a customer who switches channel, hand-offs declined,
// accepted or offered by a team lead in the owner's stead, and what an agent going offline is told.
import { expect } from 'chai';
import { emitAck, type Harness, once, useHarness } from '../server/harness.js';
import { agentConsole, type Console } from './web-console.js';

/** Mary, a chat visitor who gave her email address, writes; Ada (the only one free) has it. */
async function maryWrites(h: Harness, ada: Console): Promise<string> {
  const v = h.visitor();
  await once(v, 'session');
  await emitAck(v, 'identify', { name: 'Mary Major', email: 'mary@example.com' });
  const ack = await emitAck(v, 'message', { text: 'my order is late', clientMessageId: 'c-1' });
  expect(ack.ok).to.equal(true);
  const view = await once(ada.socket, 'assigned');
  expect(view.conversation.id).to.equal(ack.conversationId);
  return ack.conversationId as string;
}

describe('/agent namespace through a busy day', () => {
  const harness = useHarness({
    env: {
      EMAIL_INBOUND_TOKEN: 'day-inbound-token-0123456789',
      EMAIL_FROM: 'support@example.com',
      SMTP_URL: 'smtp://127.0.0.1:9',
    },
  });

  it("a message on another channel carries the conversation's channels: the console follows the switch", async () => {
    const h = harness();
    const ada = await agentConsole(h, 'Ada', { capacity: { chat: 2, email: 2 } });
    const conversationId = await maryWrites(h, ada);
    // Mary writes an email: it joins her open chat conversation, whose replies now go out by email.
    await h.sb.router.contact({
      channel: 'email',
      from: 'mary@example.com',
      text: 'Any news? I am not on the site any more.',
      externalId: '<news-1@example.com>',
    });
    const seen = await once(ada.socket, 'message', (p) => p.message.channel === 'email');
    expect(seen.conversationId).to.equal(conversationId);
    expect(seen.lastChannel).to.equal('email');
    expect(seen.channels).to.deep.equal(['chat', 'email']);
    expect((await h.store.getConversation(conversationId))!.lastChannel).to.equal('email');
  });

  it('the owner is told when a colleague declines their hand-off: by name, with the customer', async () => {
    const h = harness();
    const ada = await agentConsole(h, 'Ada', { capacity: { chat: 2 } });
    const conversationId = await maryWrites(h, ada);
    const linus = await agentConsole(h, 'Linus', { capacity: { chat: 2 } });
    expect(
      await emitAck(ada.socket, 'handoff', {
        conversationId,
        toAgentId: linus.agent.id,
        note: 'Wants a refund',
      }),
    ).to.deep.equal({ ok: true });
    await once(linus.socket, 'handoff.offer');
    expect(await emitAck(linus.socket, 'handoff.decline', { conversationId })).to.deep.equal({ ok: true });
    expect(await once(ada.socket, 'handoff.update')).to.deep.equal({
      conversationId,
      action: 'declined',
      to: { id: linus.agent.id, name: 'Linus' },
      by: null,
      customer: 'Mary Major',
    });
  });

  it("a team lead's hand-off of an agent's conversation: the owner is told at the offer and when it moves", async () => {
    const h = harness();
    const ada = await agentConsole(h, 'Ada', { capacity: { chat: 2 } });
    const conversationId = await maryWrites(h, ada);
    const grace = await agentConsole(h, 'Grace', { capacity: { chat: 2 } });
    const lena = await h.createAgent('Lena', { capacity: { chat: 0 }, lead: true });
    await h
      .http()
      .post(`/api/conversations/${conversationId}/handoff`)
      .set('Authorization', `Bearer ${lena.token}`)
      .send({ toAgentId: grace.agent.id, note: 'Ada is swamped' })
      .expect(200);
    expect(await once(ada.socket, 'handoff.update')).to.deep.equal({
      conversationId,
      action: 'offered',
      to: { id: grace.agent.id, name: 'Grace' },
      by: 'Lena',
      customer: 'Mary Major',
    });
    await once(grace.socket, 'handoff.offer');
    expect(await emitAck(grace.socket, 'handoff.accept', { conversationId })).to.deep.equal({ ok: true });
    expect(await once(ada.socket, 'handoff.update')).to.deep.equal({
      conversationId,
      action: 'accepted',
      to: { id: grace.agent.id, name: 'Grace' },
      by: null,
      customer: 'Mary Major',
    });
  });

  it("hello says how long an offline owner's conversations wait for them, per channel (the policy's)", async () => {
    const h = harness();
    const ada = await agentConsole(h, 'Ada', { capacity: { chat: 2 } });
    expect(ada.hello.stickyWaitSeconds).to.deep.equal({ voice: 0, sms: 600, chat: 120, email: 14_400 });
  });
});
