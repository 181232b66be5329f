// A waiting customer who changes channel, tried as a new user would, through the real server: the chat widget's
// socket and the email inbound endpoint (a local SMTP sink for replies). The wait the promise ledger holds is the
// one the customer was last told.
import { expect } from 'chai';
import { emitAck, type Harness, type Json, once, SECOND, useHarness } from '../server/harness.js';
import { emailEnv, postPlainMail, useSink } from './email-harness.js';

const MINUTE = 60 * SECOND;

async function tick(h: Harness, ms: number): Promise<void> {
  h.clock.advance(ms);
  await h.sb.router.tick();
}

/** The conversation's promises as the admin API shows them: [kind, state, seconds from `from` to due]. */
async function ledger(
  h: Harness,
  conversationId: string,
  from: number,
): Promise<Array<[string, string, number]>> {
  const body = (await h.admin.get(`/api/conversations/${conversationId}`).expect(200)).body;
  return body.promises.map((p: Json) => [p.kind, p.state, (p.dueAt - from) / SECOND]);
}

describe('A waiting customer told a new wait on another channel', () => {
  const sink = useSink();
  const sb = useHarness({
    env: emailEnv(sink, { TICK_MS: '60000', ROUTING_POLICY: JSON.stringify({ surveys: false }) }),
  });

  /** Ada, at her console, busy on her one chat and her one email: everyone else waits in line. */
  async function busyTeam(h: Harness) {
    const { token } = await h.createAgent('Ada', { capacity: { voice: 0, sms: 0, chat: 1, email: 1 } });
    const ada = h.agentSocket(token);
    await once(ada, 'hello');
    const first = h.visitor();
    await once(first, 'session');
    await emitAck(first, 'message', { text: 'first in line', clientMessageId: 'f1' });
    await once(ada, 'assigned');
    await postPlainMail(h, 'Bob <bob@example.com>', 'Hello', 'a question', 'bob-1');
    await once(ada, 'assigned');
    return ada;
  }

  /** Eve at the widget, known by her address, waiting in the chat line. */
  async function eveChats(h: Harness) {
    const v = h.visitor();
    await once(v, 'session');
    expect((await emitAck(v, 'identify', { name: 'Eve', email: 'eve@example.com' })).ok).to.equal(true);
    const sent = await emitAck(v, 'message', { text: 'Where is order 12?', clientMessageId: 'm1' });
    const status = await once(v, 'status', (s: Json) => s.state === 'queued');
    return { v, conversationId: sent.conversationId as string, status };
  }

  it('a chat visitor who emails is held to the wait the email tells, and warned against it, not the chat quote', async () => {
    const h = sb();
    await busyTeam(h);
    const eve = await eveChats(h);
    expect(eve.status.etaSeconds).to.equal(1106);
    const chatAt = h.clock.now();
    expect(await ledger(h, eve.conversationId, chatAt)).to.deep.equal([['wait', 'open', 1106]]);

    h.clock.advance(20 * SECOND);
    const switchedAt = h.clock.now();
    const got = await postPlainMail(h, 'Eve <eve@example.com>', 'Order 12', 'Any news on order 12?', 'eve-1');
    expect([got.conversationId, got.outcome]).to.deep.equal([eve.conversationId, 'queued']);
    const told = await sink().next();
    expect(told.envelope.to).to.deep.equal(['eve@example.com']);
    expect(told.mail.text).to.contain('You are number 1 in line; a person will be with you within 3 hours.');
    // The widget follows: the email line's wait.
    const moved = await once(eve.v, 'status', (s: Json) => s.etaSeconds !== eve.status.etaSeconds);
    expect([moved.position, moved.etaSeconds]).to.deep.equal([1, 8290]);
    // The chat quote no longer applies (void, not due yet); the 3 hours told is the wait promised.
    expect(await ledger(h, eve.conversationId, switchedAt)).to.deep.equal([
      ['wait', 'void', 1086],
      ['wait', 'open', 8290],
    ]);

    // Past the chat quote's check and its due time: she was told 3 hours minutes ago, so nothing is said.
    await tick(h, 20 * MINUTE);
    expect(sink().mails.filter((m) => m.mail.text?.includes('longer than we said'))).to.deep.equal([]);
    const conv = (await h.admin.get(`/api/conversations/${eve.conversationId}`).expect(200)).body;
    expect(conv.messages.filter((m: Json) => m.externalId?.startsWith('at-risk:'))).to.deep.equal([]);

    // The 3 hours runs late (Ada still has Bob): she is told, by email, before it breaks, against that time.
    await tick(h, 6632 * SECOND - 20 * MINUTE);
    const notice = await sink().next();
    expect(notice.envelope.to).to.deep.equal(['eve@example.com']);
    expect(notice.mail.text).to.contain(
      'Sorry, this is taking longer than we said. A person will be with you within 4 hours.',
    );
    expect((await ledger(h, eve.conversationId, switchedAt)).map(([k, s]) => `${k} ${s}`)).to.deep.equal([
      'wait void',
      'wait open',
      'wait open',
    ]);
  });

  it('a second email in the same wait tells nothing new, and the ledger stays as it was', async () => {
    const h = sb();
    await busyTeam(h);
    const eve = await eveChats(h);
    await postPlainMail(h, 'Eve <eve@example.com>', 'Order 12', 'Any news on order 12?', 'eve-1');
    await sink().next();
    const before = (await h.admin.get(`/api/conversations/${eve.conversationId}`).expect(200)).body.promises;

    await tick(h, 25 * MINUTE);
    await postPlainMail(h, 'Eve <eve@example.com>', 'Re: Order 12', 'Still waiting.', 'eve-2');
    const after = (await h.admin.get(`/api/conversations/${eve.conversationId}`).expect(200)).body;
    expect(after.promises).to.deep.equal(before);
    expect(after.messages.filter((m: Json) => m.externalId?.startsWith('wait-ack:')).length).to.equal(1);
  });

  it('back in the widget after an email, the visitor is held to the wait the widget shows again', async () => {
    const h = sb();
    await busyTeam(h);
    const eve = await eveChats(h);
    await postPlainMail(h, 'Eve <eve@example.com>', 'Order 12', 'Any news on order 12?', 'eve-1');
    expect((await sink().next()).mail.text).to.contain('within 3 hours');
    await once(eve.v, 'status', (s: Json) => s.etaSeconds === 8290);

    h.clock.advance(20 * SECOND);
    const backAt = h.clock.now();
    const sent = await emitAck(eve.v, 'message', { text: 'Any news?', clientMessageId: 'm2' });
    expect(sent.conversationId).to.equal(eve.conversationId);
    const status = await once(eve.v, 'status', (s: Json) => s.etaSeconds !== 8290);
    expect([status.state, status.position, status.etaSeconds]).to.deep.equal(['queued', 1, 1106]);
    expect(await ledger(h, eve.conversationId, backAt)).to.deep.equal([
      ['wait', 'void', 1086],
      ['wait', 'void', 8270],
      ['wait', 'open', 1106],
    ]);

    // The 19 minutes shown runs late: she is told in the widget before it breaks.
    await tick(h, 885 * SECOND);
    const notice = await once(eve.v, 'message', (m: Json) => m.author.type === 'system');
    expect(notice.text).to.equal(
      'Sorry, this is taking longer than we said. A person will be with you within 28 minutes.',
    );
  });
});
