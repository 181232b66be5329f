// A small shop's customers across channels, tried as new users would, through the real server: the chat widget's
// socket, the email inbound endpoint (a local SMTP sink for replies) and two agents' web consoles. What holds
// here is what the README promises: one customer where Switchboard can know it, their last person again, nobody
// asking what they already said, and the answer on the channel they used last.
import { expect } from 'chai';
import { emitAck, type Harness, type Json, once, SECOND, useHarness } from '../server/harness.js';
import { emailEnv, postPlainMail, useSink } from './email-harness.js';

const DAY = 24 * 3600 * SECOND;

describe('Customer journeys across chat and email', () => {
  const sink = useSink();
  const sb = useHarness({ env: emailEnv(sink, { ROUTING_POLICY: JSON.stringify({ surveys: false }) }) });

  /** Ada and Bo at their consoles, Ada idle longest (offered first). */
  async function team(h: Harness) {
    const out: Record<string, { id: string; socket: ReturnType<Harness['agentSocket']> }> = {};
    for (const name of ['Ada', 'Bo']) {
      const { agent, token } = await h.createAgent(name, {
        capacity: { voice: 0, sms: 0, chat: 3, email: 5 },
      });
      const socket = h.agentSocket(token);
      await once(socket, 'hello');
      out[name] = { id: agent.id, socket };
      h.clock.advance(SECOND);
    }
    return { ada: out.Ada!, bo: out.Bo! };
  }

  it('chat with the pre-chat form, then an email two days later: one customer, the same person, not asked again, answered by email', async () => {
    const h = sb();
    const { ada, bo } = await team(h);
    const v = h.visitor();
    const session = await once<Json>(v, 'session');
    expect((await once<Json>(v, 'prechat')).ask).to.deep.equal(['name', 'email']);
    expect((await emitAck(v, 'identify', { name: 'Carla Diaz', email: 'Carla@Example.com' })).ok).to.equal(
      true,
    );
    const sent = await emitAck(v, 'message', { text: 'Where is order 4471?', clientMessageId: 'm1' });
    await once(ada.socket, 'assigned', (p: Json) => p.conversation.id === sent.conversationId);
    await emitAck(ada.socket, 'reply', {
      conversationId: sent.conversationId,
      text: 'It ships tomorrow.',
      clientMessageId: 'r1',
    });
    expect((await emitAck(ada.socket, 'resolve', { conversationId: sent.conversationId })).ok).to.equal(true);
    v.disconnect();

    // Two days on, Bo has been idle longer than Ada; Carla writes from the address she gave.
    h.clock.advance(2 * DAY);
    const got = await postPlainMail(
      h,
      'Carla Diaz <carla@example.com>',
      'Order 4471',
      'It has still not arrived.',
      'carla-1',
    );
    expect(got.conversationId).to.not.equal(sent.conversationId);
    const view = await once<Json>(
      ada.socket,
      'assigned',
      (p: Json) => p.conversation.id === got.conversationId,
    );
    // One customer: her name and address known from the chat, so nobody asks again; the chat is on her card.
    expect(view.customer.id).to.equal(session.customerId);
    expect(view.customer.name).to.equal('Carla Diaz');
    expect(view.customer.facts.email.value).to.equal('carla@example.com');
    expect(view.messages.map((m: Json) => m.text)).to.deep.equal([
      'It has still not arrived.',
      "Repeat contact: this customer's previous conversation with Ada was resolved 48 hours ago.",
    ]);
    expect(view.history.map((c: Json) => [c.id, c.lastChannel, c.ownerName])).to.deep.equal([
      [sent.conversationId, 'chat', 'Ada'],
    ]);
    expect(await h.sb.store.listConversations({ ownerId: bo.id })).to.deep.equal([]);

    // Ada answers: by email, the channel Carla used last, threaded on her mail.
    const before = sink().mails.length;
    await emitAck(ada.socket, 'reply', {
      conversationId: got.conversationId,
      text: 'Sorry! I am asking the courier.',
      clientMessageId: 'r2',
    });
    const out = await sink().next();
    expect(sink().mails.length).to.equal(before + 1);
    expect(out.envelope.to).to.deep.equal(['carla@example.com']);
    expect(out.mail.subject).to.equal('Re: Order 4471');
    expect(out.mail.text).to.contain('Sorry! I am asking the courier.');
  });

  it('chat open and an email the same minute: one conversation, one person, the reply by email', async () => {
    const h = sb();
    const { ada, bo } = await team(h);
    const v = h.visitor();
    await once<Json>(v, 'session');
    expect((await emitAck(v, 'identify', { name: 'Eve', email: 'eve@example.com' })).ok).to.equal(true);
    const sent = await emitAck(v, 'message', {
      text: 'Please change the address on order 12.',
      clientMessageId: 'm1',
    });
    await once(ada.socket, 'assigned', (p: Json) => p.conversation.id === sent.conversationId);
    h.clock.advance(20 * SECOND);
    const got = await postPlainMail(
      h,
      'Eve <eve@example.com>',
      'Order 12 address',
      'New address: 1 Main St.',
      'eve-1',
    );
    expect([got.conversationId, got.created, got.outcome]).to.deep.equal([
      sent.conversationId,
      false,
      'owner',
    ]);
    const arrived = await once<Json>(
      ada.socket,
      'message',
      (p: Json) => p.message.text === 'New address: 1 Main St.',
    );
    expect(arrived.conversationId).to.equal(sent.conversationId);
    expect(await h.sb.store.listConversations({ ownerId: bo.id })).to.deep.equal([]);
    await emitAck(ada.socket, 'reply', {
      conversationId: sent.conversationId,
      text: 'Done: 1 Main St.',
      clientMessageId: 'r1',
    });
    const out = await sink().next();
    expect(out.envelope.to).to.deep.equal(['eve@example.com']);
    expect(out.mail.text).to.contain('Done: 1 Main St.');
    const conv = await h.sb.store.getConversation(sent.conversationId);
    expect([conv?.ownerId, conv?.lastChannel, conv?.channels]).to.deep.equal([
      ada.id,
      'email',
      ['chat', 'email'],
    ]);
  });
});
