// A chat visitor whose pre-chat form gives the address of another customer who has a request open (the same
// person, writing by email a minute earlier, most often): the address is not linked (it is not verified), but
// the chat goes to the person who has the email, and both conversations say so, so that one person answers one
// request. Tried as a new customer would: the widget's pre-chat form is filled in before the first message.
import { expect } from 'chai';
import { emitAck, type Json, once, SECOND, useHarness } from '../server/harness.js';
import { emailEnv, postMail, SUPPORT, useSink } from './email-harness.js';

describe('/chat: a pre-chat address that is another customer with a request open', () => {
  const sink = useSink();
  const sb = useHarness({ env: emailEnv(sink) });

  it('the chat is offered to the owner of their open email first, and both conversations get a note', async () => {
    const h = sb();
    const agent = async (name: string) => {
      const { agent, token } = await h.createAgent(name, {
        capacity: { voice: 0, sms: 0, chat: 3, email: 5 },
      });
      const socket = h.agentSocket(token);
      await once(socket, 'hello');
      h.clock.advance(SECOND);
      return { agent, socket };
    };
    const { socket: ada } = await agent('Ada');
    const { agent: bo } = await agent('Bo');
    // Anna emails first: Ada, the longest idle, has it.
    const mail = [
      'From: Anna Kowalski <anna.k@example.com>',
      `To: ${SUPPORT}`,
      'Subject: Order 10601: new address',
      'Message-ID: <anna-address-1@example.com>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Please send order 10601 to 1 Main St.',
      '',
    ].join('\r\n');
    await postMail(h, mail);
    const emailConversation = (await once<Json>(ada, 'assigned')).conversation.id as string;

    // A minute later she opens the chat: the pre-chat form first (her address), then her message.
    h.clock.advance(60 * SECOND);
    const v = h.visitor();
    await once(v, 'session');
    expect((await emitAck(v, 'identify', { name: 'Anna K', email: 'anna.k@example.com' })).ok).to.equal(true);
    const sent = await emitAck(v, 'message', {
      text: 'I just emailed about 10601, is it changed?',
      clientMessageId: 'm1',
    });
    const conversationId = sent.conversationId as string;

    // Ada has it, though Bo has been idle longer: one person for the one request.
    await once<Json>(ada, 'assigned', (p) => p.conversation.id === conversationId);
    expect((await once<Json>(v, 'status', (s) => s.state === 'assigned')).agent).to.deep.equal({
      name: 'Ada',
    });
    const notes = async (id: string) =>
      (await h.sb.store.listMessages(id)).filter((m) => m.direction === 'internal').map((m) => m.text);
    expect(await notes(conversationId)).to.deep.equal([
      'anna.k@example.com is also the address of Anna Kowalski, whose email conversation is open, with Ada: it may be the same request. An admin can merge the two customers if they are the same person.',
    ]);
    expect(await notes(emailConversation)).to.deep.equal([
      "Anna K gave anna.k@example.com, this customer's address, in a chat conversation with Ada (not linked: it was not verified): it may be the same request. An admin can merge the two customers if they are the same person.",
    ]);
    expect(await h.sb.store.listConversations({ ownerId: bo.id })).to.deep.equal([]);
  });

  it('with nobody on the other request yet, the chat is routed as usual and both are told', async () => {
    const h = sb();
    // Nobody works on email: Anna's mail waits in line.
    const { token } = await h.createAgent('Ada', { capacity: { voice: 0, sms: 0, chat: 3, email: 0 } });
    const ada = h.agentSocket(token);
    await once(ada, 'hello');
    const mail = [
      'From: Anna Kowalski <anna.k@example.com>',
      `To: ${SUPPORT}`,
      'Subject: Order 10601',
      'Message-ID: <anna-address-2@example.com>',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Where is order 10601?',
      '',
    ].join('\r\n');
    const emailConversation = (await postMail(h, mail)).conversationId;
    const v = h.visitor();
    await once(v, 'session');
    expect((await emitAck(v, 'identify', { email: 'anna.k@example.com' })).ok).to.equal(true);
    const sent = await emitAck(v, 'message', { text: 'Where is order 10601?', clientMessageId: 'm1' });
    await once<Json>(ada, 'assigned', (p) => p.conversation.id === sent.conversationId);
    const notes = async (id: string) =>
      (await h.sb.store.listMessages(id)).filter((m) => m.direction === 'internal').map((m) => m.text);
    expect(await notes(sent.conversationId)).to.deep.equal([
      'anna.k@example.com is also the address of Anna Kowalski, whose email conversation is open, waiting in line: it may be the same request. An admin can merge the two customers if they are the same person.',
    ]);
    expect(await notes(emailConversation)).to.deep.equal([
      "A customer gave anna.k@example.com, this customer's address, in a chat conversation with Ada (not linked: it was not verified): it may be the same request. An admin can merge the two customers if they are the same person.",
    ]);
  });
});
