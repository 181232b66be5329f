// Honest waits, follow-ups, surveys and repeat contacts through the real chat
// socket (/chat, as the widget uses it) and the web console (/agent). The server's
// own timer interval is off: each test ticks the router after moving the clock.
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { emitAck, type Harness, type Json, once, pending, SECOND, useHarness } from '../server/harness.js';

const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SURVEY = 'How did we do? Reply with 1-5 (5 is best), then one thing we should fix.';

async function agentConsole(h: Harness, name: string, input: Parameters<Harness['createAgent']>[1] = {}) {
  const { agent, token } = await h.createAgent(name, input);
  const socket = h.agentSocket(token);
  await once(socket, 'hello');
  return { agent, token, socket };
}

/** Ada has a visitor's conversation and promises to send the invoice within the hour. */
async function invoicePromised(h: Harness) {
  const ada = await agentConsole(h, 'Ada');
  const visit = await visitorWrites(h, 'please send the invoice');
  await once(ada.socket, 'assigned');
  const made = await emitAck(ada.socket, 'promise', {
    conversationId: visit.conversationId,
    dueAt: h.clock.now() + HOUR,
    text: 'send the invoice',
  });
  return { ada, visit, made };
}

/** A visitor who writes once; resolves with the socket, the token and the conversation id. */
async function visitorWrites(h: Harness, text: string, id = 'c-1', token?: string) {
  const v = h.visitor(token);
  const session = await once(v, 'session');
  const ack = await emitAck(v, 'message', { text, clientMessageId: id });
  expect(ack.ok).to.equal(true);
  return { v, token: session.visitorToken as string, conversationId: ack.conversationId as string };
}

async function tick(h: Harness, ms: number): Promise<void> {
  h.clock.advance(ms);
  await h.sb.router.tick();
}

/** The next system message the widget shows. */
const systemMessage = (v: Socket, text?: string) =>
  once(v, 'message', (m: Json) => m.author.type === 'system' && (text === undefined || m.text === text));

describe('/chat and /agent: the promise ledger, follow-ups, surveys', () => {
  const sb = useHarness({ env: { TICK_MS: '60000' } });

  it('a waiting visitor is told in the widget before the quote breaks, with an apology and a new time', async () => {
    const h = sb();
    await agentConsole(h, 'Ada', { capacity: { chat: 1 } });
    const first = await visitorWrites(h, 'first in line');
    const second = await visitorWrites(h, 'me too');
    const status = await once(second.v, 'status', (s: Json) => s.state === 'queued');
    expect(status.etaSeconds).to.equal(1106);

    await tick(h, 885 * SECOND);
    const notice = await systemMessage(second.v);
    expect([notice.direction, notice.conversationId, notice.text]).to.deep.equal([
      'out',
      second.conversationId,
      // The fresh quote with half again of margin: 1106 s × 1.5.
      'Sorry, this is taking longer than we said. A person will be with you within 28 minutes.',
    ]);
    await emitAck(first.v, 'typing', { typing: false }); // a round trip: anything for `first` has arrived
    expect(pending(first.v, 'message').filter((m: Json) => m.author.type === 'system')).to.deep.equal([]);
  });

  it('resolving with a follow-up time: when due, the owner gets the touchpoint and the visitor hears from them', async () => {
    const h = sb();
    const ada = await agentConsole(h, 'Ada');
    h.clock.advance(SECOND);
    // Grace has been idle longer than Ada since Ada took the visitor: the owner still comes first.
    await agentConsole(h, 'Grace');
    const visit = await visitorWrites(h, 'can you check my refund next week?');
    await once(ada.socket, 'assigned');
    const followUpAt = h.clock.now() + 7 * DAY;
    expect(
      await emitAck(ada.socket, 'resolve', { conversationId: visit.conversationId, followUpAt }),
    ).to.deep.equal({ ok: true });

    await tick(h, 7 * DAY);
    const view = await once(ada.socket, 'assigned', (v: Json) => v.conversation.followUpOf !== undefined);
    expect(view.conversation.followUpOf).to.deep.equal({
      conversationId: visit.conversationId,
      promiseId: view.conversation.followUpOf.promiseId,
      agentId: ada.agent.id,
    });
    expect(view.conversation.lastChannel).to.equal('chat');
    expect(view.messages.map((m: Json) => [m.direction, m.text])).to.deep.equal([
      [
        'internal',
        'Follow-up promised by Ada when their conversation was resolved, 7 days ago. Reach out to the customer on chat.',
      ],
    ]);
    // The widget follows the touchpoint: its status, then Ada's words.
    const status = await once(visit.v, 'status', (s: Json) => s.conversationId === view.conversation.id);
    expect([status.state, status.agent]).to.deep.equal(['assigned', { name: 'Ada' }]);
    await emitAck(ada.socket, 'reply', {
      conversationId: view.conversation.id,
      text: 'Your refund went out today.',
      clientMessageId: 'r-1',
    });
    const message = await once(visit.v, 'message', (m: Json) => m.text === 'Your refund went out today.');
    expect([message.conversationId, message.author]).to.deep.equal([
      view.conversation.id,
      { type: 'agent', name: 'Ada' },
    ]);
    const [promise] = (await h.admin.get(`/api/conversations/${visit.conversationId}`).expect(200)).body
      .promises;
    expect([promise.kind, promise.state]).to.deep.equal(['follow-up', 'kept']);
  });

  it('the survey reaches a returning widget; the typed answer is stored, thanked, and a low rating goes to the owner', async () => {
    const h = sb();
    const ada = await agentConsole(h, 'Ada');
    const visit = await visitorWrites(h, 'my order is late');
    await once(ada.socket, 'assigned');
    await emitAck(ada.socket, 'resolve', { conversationId: visit.conversationId });
    visit.v.disconnect();

    await tick(h, 10 * MINUTE);
    // Back on the page: the survey is in the last conversation's history.
    const back = h.visitor(visit.token);
    await once(back, 'session');
    const survey = await systemMessage(back, SURVEY);
    expect(survey.conversationId).to.equal(visit.conversationId);

    const ack = await emitAck(back, 'message', { text: '2 it took three tries', clientMessageId: 'c-2' });
    expect([ack.ok, ack.conversationId]).to.deep.equal([true, visit.conversationId]);
    await systemMessage(back, 'Thank you. We read every answer.');
    const stored = (await h.admin.get(`/api/conversations/${visit.conversationId}`).expect(200)).body;
    expect([
      stored.conversation.status,
      stored.conversation.survey.rating,
      stored.conversation.survey.problem,
    ]).to.deep.equal(['resolved', 2, 'it took three tries']);

    // Ada gets the follow-up with what to fix.
    const view = await once(ada.socket, 'assigned', (v: Json) => v.conversation.followUpOf !== undefined);
    expect(view.messages.map((m: Json) => m.text)).to.deep.equal([
      'Follow-up: the customer rated their conversation resolved 10 minutes ago 2/5 and said we should fix: "it took three tries". Reach out to them on chat.',
    ]);
    const metrics = (await h.http().get('/metrics').expect(200)).text;
    expect(metrics).to.include('switchboard_survey_ratings_total{rating="2"} 1\n');
    expect(metrics).to.include('switchboard_survey_problems_total 1\n');
    expect(metrics).to.include('switchboard_followups_opened_total{reason="survey"} 1\n');
  });

  it('a repeat contact reaches the console marked as such', async () => {
    const h = sb();
    const ada = await agentConsole(h, 'Ada');
    const visit = await visitorWrites(h, 'my order is late');
    await once(ada.socket, 'assigned');
    await emitAck(ada.socket, 'resolve', { conversationId: visit.conversationId });
    h.clock.advance(2 * HOUR);
    const ack = await emitAck(visit.v, 'message', { text: 'it is still late', clientMessageId: 'c-2' });
    expect(ack.conversationId).to.not.equal(visit.conversationId);
    const view = await once(ada.socket, 'assigned', (v: Json) => v.conversation.id === ack.conversationId);
    expect(view.conversation.repeatOf).to.equal(visit.conversationId);
    expect(view.messages.map((m: Json) => [m.direction, m.text])).to.deep.equal([
      ['in', 'it is still late'],
      [
        'internal',
        "Repeat contact: this customer's previous conversation with Ada was resolved 2 hours ago.",
      ],
    ]);
    const metrics = (await h.http().get('/metrics').expect(200)).text;
    expect(metrics).to.include('switchboard_repeat_contacts_total{channel="chat"} 1\n');
  });

  it("an agent's own promise: reminded on the console before it is due, marked kept with promise.keep", async () => {
    const h = sb();
    const { ada, visit, made } = await invoicePromised(h);
    const grace = await agentConsole(h, 'Grace');
    await tick(h, 45 * MINUTE);
    const reminder = await once(ada.socket, 'promise.reminder');
    expect([reminder.promise.id, reminder.promise.text]).to.deep.equal([made.promise.id, 'send the invoice']);

    const refused = await emitAck(grace.socket, 'promise.keep', { promiseId: made.promise.id });
    expect([refused.ok, refused.error.code]).to.deep.equal([false, 'not_owner']);
    const bad = await emitAck(ada.socket, 'promise.keep', { promiseId: '' });
    expect([bad.ok, bad.error.code, bad.error.field]).to.deep.equal([false, 'invalid_input', 'promiseId']);
    const kept = await emitAck(ada.socket, 'promise.keep', { promiseId: made.promise.id });
    expect([kept.ok, kept.promise.state]).to.deep.equal([true, 'kept']);
    const updated = await once(ada.socket, 'promise.updated');
    expect([updated.promise.id, updated.promise.state]).to.deep.equal([made.promise.id, 'kept']);
    const again = await emitAck(ada.socket, 'promise.keep', { promiseId: made.promise.id });
    expect([again.ok, again.error.code]).to.deep.equal([false, 'invalid_state']);

    // Another one left unmarked: broken at its due time, and the console is told.
    const late = await emitAck(ada.socket, 'promise', {
      conversationId: visit.conversationId,
      dueAt: h.clock.now() + HOUR,
      text: 'call the courier',
    });
    await tick(h, HOUR);
    const broken = await once(ada.socket, 'promise.updated', (u: Json) => u.promise.id === late.promise.id);
    expect(broken.promise.state).to.equal('broken');
  });

  it('a promise of a conversation handed off: its reminder reaches whoever has the conversation now, and its maker', async () => {
    const h = sb();
    const { ada, visit, made } = await invoicePromised(h);
    const ben = await agentConsole(h, 'Ben');
    expect(
      (
        await emitAck(ada.socket, 'handoff', {
          conversationId: visit.conversationId,
          toAgentId: ben.agent.id,
          note: 'invoice',
        })
      ).ok,
    ).to.equal(true);
    expect(
      (await emitAck(ben.socket, 'handoff.accept', { conversationId: visit.conversationId })).ok,
    ).to.equal(true);
    const [toBen, toAda] = await Promise.all([
      once(ben.socket, 'promise.reminder'),
      once(ada.socket, 'promise.reminder'),
      tick(h, 45 * MINUTE),
    ]);
    expect([toBen.promise.id, toAda.promise.id]).to.deep.equal([made.promise.id, made.promise.id]);
    const kept = await emitAck(ben.socket, 'promise.keep', { promiseId: made.promise.id });
    expect(kept.ok).to.equal(true);
    const updated = await once(ben.socket, 'promise.updated');
    expect(updated.promise.state).to.equal('kept');
  });
});

describe('/agent: promises made and settled anywhere reach every console on the conversation', () => {
  const sb = useHarness({ env: { TICK_MS: '60000' } });

  it('made in Slack (the router) or another console, kept or broken: owner, consultant and invited are told', async () => {
    const h = sb();
    const ada = await agentConsole(h, 'Ada');
    const visit = await visitorWrites(h, 'please send the invoice');
    await once(ada.socket, 'assigned');
    const grace = await agentConsole(h, 'Grace');
    const linus = await agentConsole(h, 'Linus');
    const ben = await agentConsole(h, 'Ben');
    const conversationId = visit.conversationId;
    for (const who of [grace, linus])
      expect((await emitAck(ada.socket, 'consult', { conversationId, agentId: who.agent.id })).ok).to.equal(
        true,
      );
    expect((await emitAck(grace.socket, 'consult.join', { conversationId })).ok).to.equal(true);

    // Ada promises from Slack (what the Slack console calls): her web console, the consultant's and the invited
    // colleague's list it at once; Ben, not on it, hears nothing.
    const made = await h.sb.router.promise(
      ada.agent.id,
      conversationId,
      h.clock.now() + HOUR,
      'send the invoice',
    );
    for (const who of [ada, grace, linus]) {
      const told = await once(who.socket, 'promise.made', (e: Json) => e.promise.id === made.id);
      expect([
        told.promise.conversationId,
        told.promise.state,
        told.promise.text,
        told.promise.agentId,
      ]).to.deep.equal([conversationId, 'open', 'send the invoice', ada.agent.id]);
    }
    // The consultant promises in her own console: the owner's console is told too.
    const byGrace = await emitAck(grace.socket, 'promise', {
      conversationId,
      dueAt: h.clock.now() + 2 * HOUR,
      text: 'check the refund',
    });
    expect(byGrace.ok).to.equal(true);
    const toAda = await once(ada.socket, 'promise.made', (e: Json) => e.promise.id === byGrace.promise.id);
    expect([toAda.promise.text, toAda.promise.agentId]).to.deep.equal(['check the refund', grace.agent.id]);

    // Kept from Slack: every console on it follows.
    await h.sb.router.keepPromise(ada.agent.id, made.id);
    for (const who of [ada, grace, linus]) {
      const told = await once(who.socket, 'promise.updated', (e: Json) => e.promise.id === made.id);
      expect(told.promise.state).to.equal('kept');
    }
    // Not marked by its due time: broken, and every console on it is told.
    await tick(h, 2 * HOUR);
    for (const who of [ada, grace, linus]) {
      const told = await once(
        who.socket,
        'promise.updated',
        (e: Json) => e.promise.id === byGrace.promise.id,
      );
      expect(told.promise.state).to.equal('broken');
    }
    await emitAck(ben.socket, 'typing', { conversationId, typing: false });
    expect([pending(ben.socket, 'promise.made'), pending(ben.socket, 'promise.updated')]).to.deep.equal([
      [],
      [],
    ]);
  });
});
