// The website chat channel: a returning visitor's widget is sent their earlier conversations (`history`), a few
// of the latest, in order and once, besides the one it shows.
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { emitAck, type Harness, type Json, once, pending, useHarness } from '../server/harness.js';

/** The visitor writes question `n`: its conversation, which agent `agentId` notes, answers and (`resolve`) resolves. */
async function conversation(
  h: Harness,
  v: Socket,
  agentId: string,
  n: number,
  resolve = true,
): Promise<string> {
  // A day apart: each conversation is the customer's latest when it starts.
  h.clock.advance(24 * 3600 * 1000);
  const ack = await emitAck(v, 'message', { text: `Question ${n}`, clientMessageId: `q-${n}` });
  const conversationId = ack.conversationId as string;
  await h.sb.router.note(agentId, conversationId, `Internal ${n}`);
  await h.sb.router.reply(agentId, conversationId, `Answer ${n}`, `a-${n}`);
  if (resolve) await h.sb.router.resolve(agentId, conversationId);
  return conversationId;
}

describe('/chat history of a returning visitor', () => {
  const sb = useHarness();

  it('a reload is sent the earlier conversations before the one shown, oldest first, without notes', async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada', { capacity: { chat: 1 } });
    const v = h.visitor();
    const session = await once(v, 'session');
    const first = await conversation(h, v, ada.id, 1);
    const second = await conversation(h, v, ada.id, 2, false);

    const again = h.visitor(session.visitorToken);
    const history = await once(again, 'history');
    const texts = history.messages
      .filter((m: Json) => m.author.type !== 'system')
      .map((m: Json) => [m.conversationId, m.direction, m.text]);
    expect(texts).to.deep.equal([
      [first, 'in', 'Question 1'],
      [first, 'out', 'Answer 1'],
    ]);
    expect(history.messages.every((m: Json) => m.conversationId === first)).to.equal(true);
    expect(JSON.stringify(history)).to.not.include('Internal');
    // The conversation shown comes as before, after it: its messages, then its status.
    const shown = await once(again, 'message');
    expect([shown.conversationId, shown.text]).to.deep.equal([second, 'Question 2']);
    await once(again, 'status');
    expect(pending(again, 'history')).to.deep.equal([]);
    await h.sb.router.resolve(ada.id, second);
  });

  it('holds at most the latest earlier conversations, and none for a new visitor', async () => {
    const h = sb();
    const { agent: ada } = await h.createAgent('Ada', { capacity: { chat: 1 } });
    const v = h.visitor();
    const session = await once(v, 'session');
    expect(pending(v, 'history')).to.deep.equal([]);
    const ids: string[] = [];
    for (let n = 1; n <= 7; n++) ids.push(await conversation(h, v, ada.id, n));

    const again = h.visitor(session.visitorToken);
    const history = await once(again, 'history');
    const questions = history.messages.filter((m: Json) => m.direction === 'in').map((m: Json) => m.text);
    // The last one is shown as before (closed); the four before it come as history.
    expect(questions).to.deep.equal(['Question 3', 'Question 4', 'Question 5', 'Question 6']);
    const times = history.messages.map((m: Json) => m.at);
    expect(times).to.deep.equal([...times].sort((a: number, b: number) => a - b));
    const shown = await once(again, 'message');
    expect(shown.conversationId).to.equal(ids[6]);
  });
});
