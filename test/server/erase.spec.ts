// A person's rights over what Switchboard keeps about them, through the real app: their export
// (GET /api/customers/:id/export) and their erasure (DELETE /api/customers/:id), with the files they
// uploaded in chat and the mail and attachments they sent, which live beside the store.
import { expect } from 'chai';
import request from 'supertest';
import { emailEnv, INBOUND_TOKEN, mailWith, useSink } from '../channels/email-harness.js';
import { emitAck, type Harness, type Json, once, useHarness } from './harness.js';

const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

const pathOf = (url: string) => new URL(url).pathname;

function mail(h: Harness, body: string) {
  return request(h.url)
    .post('/email/inbound')
    .set('Content-Type', 'message/rfc822')
    .set('Authorization', `Bearer ${INBOUND_TOKEN}`)
    .send(Buffer.from(body));
}

/** Lee writes in the chat with a picture, gives their email, then mails a photo: one customer, one conversation. */
async function lee(h: Harness) {
  const { agent, token } = await h.createAgent('Ada');
  const ada = h.agentSocket(token);
  await once(ada, 'hello');
  const v = h.visitor();
  const session = await once<Json>(v, 'session');
  const up = await request(h.url)
    .post('/chat/files')
    .set('Content-Type', 'image/png')
    .set('X-File-Name', 'box.png')
    .set('Authorization', `Bearer ${session.visitorToken}`)
    .send(PNG)
    .expect(201);
  const ack = await emitAck(v, 'message', {
    text: 'it came broken',
    clientMessageId: 'c1',
    files: [up.body.file.upload],
  });
  expect(ack.ok).to.equal(true);
  expect(await emitAck(v, 'identify', { name: 'Lee Chen', email: 'lee.chen@example.com' })).to.deep.equal({
    ok: true,
  });
  await mail(h, mailWith('photo-1', [['damage.png', 'image/png', PNG]])).expect(202);
  const messages = (await h.admin.get(`/api/conversations/${ack.conversationId}`).expect(200)).body.messages;
  const links: string[] = messages.flatMap((m: Json) => m.attachments.map((a: Json) => pathOf(a.url)));
  expect(links).to.have.length(2);
  for (const link of links) await h.http().get(link).expect(200);
  return {
    agent,
    ada,
    v,
    customerId: session.customerId as string,
    conversationId: ack.conversationId as string,
    links,
  };
}

describe("a customer's data: export and erasure", () => {
  const sink = useSink();
  const sb = useHarness({ env: emailEnv(sink, { CHAT_FILE_MAX_BYTES: '2048' }) });

  it('exports everything kept about them as one JSON file', async () => {
    const h = sb();
    const { customerId, conversationId } = await lee(h);
    const res = await h.admin.get(`/api/customers/${customerId}/export`).expect(200);
    expect(res.headers['content-disposition']).to.equal(
      `attachment; filename=switchboard-customer-${customerId}.json`,
    );
    expect(res.headers['content-type']).to.match(/^application\/json/);
    expect(Object.keys(res.body)).to.deep.equal(['exportedAt', 'customer', 'conversations']);
    expect(res.body.customer.id).to.equal(customerId);
    expect(res.body.customer.name).to.equal('Lee Chen');
    expect(res.body.customer.identities.map((i: Json) => i.channel).sort()).to.deep.equal(['chat', 'email']);
    const [one] = res.body.conversations;
    expect(res.body.conversations).to.have.length(1);
    expect(one.conversation.id).to.equal(conversationId);
    expect(one.messages.map((m: Json) => m.text)).to.deep.equal(['it came broken', 'See the attached.']);
    expect(one.messages.flatMap((m: Json) => m.attachments.map((a: Json) => a.name))).to.deep.equal([
      'box.png',
      'damage.png',
    ]);
    expect(one.promises).to.be.an('array');
    expectError(await h.admin.get('/api/customers/cu_nobody/export'), 404, 'not_found');
    await h.http().get(`/api/customers/${customerId}/export`).expect(401);
  });

  it('erases them: their open conversation closes, then the customer, conversations, messages and files are gone', async () => {
    const h = sb();
    const { agent, ada, customerId, conversationId, links } = await lee(h);
    await h.http().delete(`/api/customers/${customerId}`).expect(401);

    const res = await h.admin.delete(`/api/customers/${customerId}`).expect(200);
    expect(res.body.erased).to.deep.equal({
      customerIds: [customerId],
      conversationIds: [conversationId],
      messages: 2,
      // The chat upload, and the mail with its attachment (one entry).
      files: 2,
    });
    expect(res.body.closed.map((c: Json) => [c.id, c.status, c.ownerId])).to.deep.equal([
      [conversationId, 'resolved', agent.id],
    ]);
    // Their owner saw it close and has the room back.
    const closed = await once<Json>(
      ada,
      'conversation.updated',
      (e: Json) => e.conversation.status === 'resolved',
    );
    expect(closed.conversation.id).to.equal(conversationId);
    expect((await h.admin.get(`/api/agents/${agent.id}`).expect(200)).body.agent.load.chat).to.equal(0);
    // Every console drops what it shows of them.
    expect((await once<Json>(ada, 'conversation.erased')).conversationIds).to.deep.equal([conversationId]);

    expectError(await h.admin.get(`/api/customers/${customerId}`), 404, 'not_found');
    expectError(await h.admin.get(`/api/conversations/${conversationId}`), 404, 'not_found');
    expectError(
      await h.admin.get('/api/customers').query({ email: 'lee.chen@example.com' }),
      404,
      'not_found',
    );
    for (const link of links) {
      const gone = await h.http().get(link).expect(410);
      // Said as it is: erased (or, for another file, dropped for room), not only "the oldest go first".
      expect(gone.body.error.message).to.contain('the customer’s data was erased');
    }
    const all = (await h.admin.get('/api/conversations').expect(200)).body.conversations;
    expect(all).to.deep.equal([]);

    // Lee mailing again is someone new; the same mail delivered again is a new message, not a repeat.
    const again = await mail(h, mailWith('photo-1', [['damage.png', 'image/png', PNG]])).expect(202);
    expect(again.body).to.include({ status: 'accepted', created: true });
    const found = await h.admin.get('/api/customers').query({ email: 'lee.chen@example.com' }).expect(200);
    expect(found.body.customer.id).to.not.equal(customerId);
    // Known by this mail alone: not by the chat, none of the old conversation.
    expect(found.body.customer.identities.map((i: Json) => i.channel)).to.deep.equal(['email']);
    expect(found.body.conversations.map((c: Json) => c.id)).to.not.include(conversationId);
    expect(found.body.conversations).to.have.length(1);

    expectError(await h.admin.delete(`/api/customers/${customerId}`), 404, 'not_found');
  });
});

describe("the policy's retention", () => {
  const sink = useSink();
  const sb = useHarness({
    env: emailEnv(sink, {
      CHAT_FILE_MAX_BYTES: '2048',
      ROUTING_POLICY: JSON.stringify({ retentionDays: 30 }),
    }),
  });
  const DAY = 24 * 3600_000;

  it('erases a customer 30 days after their last message, files and mail too, and the consoles drop them; /rights says so', async () => {
    const h = sb();
    const { ada, customerId, conversationId, links, agent } = await lee(h);
    await emitAck(ada, 'resolve', { conversationId });
    // Someone who wrote later is kept.
    const v2 = h.visitor();
    await once<Json>(v2, 'session');
    h.clock.advance(20 * DAY);
    const later = await emitAck(v2, 'message', { text: 'me too', clientMessageId: 'm1' });
    await emitAck(ada, 'resolve', { conversationId: later.conversationId });

    h.clock.advance(10 * DAY + 3600_000);
    await h.sb.router.tick();
    expect((await once<Json>(ada, 'conversation.erased')).conversationIds).to.deep.equal([conversationId]);
    expectError(await h.admin.get(`/api/customers/${customerId}`), 404, 'not_found');
    expectError(await h.admin.get(`/api/conversations/${conversationId}`), 404, 'not_found');
    for (const link of links) await h.http().get(link).expect(410);
    expectError(
      await h.admin.get('/api/customers').query({ email: 'lee.chen@example.com' }),
      404,
      'not_found',
    );
    const kept = (await h.admin.get(`/api/conversations/${later.conversationId}`).expect(200)).body;
    expect(kept.messages[0].text).to.equal('me too');
    expect((await h.admin.get(`/api/agents/${agent.id}`).expect(200)).body.agent.id).to.equal(agent.id);
    const metrics = (await h.http().get('/metrics').expect(200)).text;
    expect(metrics).to.include('switchboard_customers_expired_total 1\n');
    expect(metrics).to.include('switchboard_customers_erased_total 0\n');
    const rights = (await h.http().get('/rights').set('Accept', 'application/json').expect(200)).body.rights;
    const yours = rights.find((r: Json) => r.id === 'your-data');
    expect(yours.limit).to.equal(
      'on request, and by itself 30 days after the last message between us (unless you are blocked, or something is still to happen for you)',
    );
    expect(yours.figure).to.match(/^0 customers kept past 30 days since they were last active/);
  });
});

describe('erasing a customer who waits', () => {
  const sb = useHarness();

  it('takes them out of line, not counted as abandoned, and leaves the others waiting', async () => {
    const h = sb();
    const waiting = [];
    for (const text of ['first', 'second']) {
      const v = h.visitor();
      const session = await once<Json>(v, 'session');
      const ack = await emitAck(v, 'message', { text, clientMessageId: text });
      waiting.push({
        customerId: session.customerId as string,
        conversationId: ack.conversationId as string,
      });
    }
    const res = await h.admin.delete(`/api/customers/${waiting[0]!.customerId}`).expect(200);
    expect(res.body.closed.map((c: Json) => [c.id, c.status])).to.deep.equal([
      [waiting[0]!.conversationId, 'abandoned'],
    ]);
    const stats = (await h.admin.get('/api/stats').expect(200)).body;
    expect(stats.waiting).to.equal(1);
    const metrics = (await h.http().get('/metrics').expect(200)).text;
    expect(metrics).to.include('switchboard_conversations_waiting 1\n');
    expect(metrics).to.not.match(/switchboard_abandoned_total\{[^}]*\} [1-9]/);
    expect(metrics).to.include('switchboard_customers_erased_total 1\n');
    // The one left waits first in line, and is the next an agent gets.
    const { agent } = await h.createAgent('Ada');
    const theirs = (await h.admin.get('/api/conversations').query({ agent: agent.id }).expect(200)).body;
    expect(theirs.conversations.map((c: Json) => c.id)).to.deep.equal([waiting[1]!.conversationId]);
  });
});

function expectError(res: request.Response, status: number, code: string): void {
  expect(res.status).to.equal(status);
  expect(res.body.error.code).to.equal(code);
}
