// An agent writes to a customer first, through the real app: from the web console (`conversation.start`) and
// the admin API (`POST /api/conversations`), by email to the outbound relay's stand-in; the customer's answer
// comes back to the same conversation and person.
import { expect } from 'chai';
import request from 'supertest';
import { emailEnv, INBOUND_TOKEN, SUPPORT, useSink } from '../channels/email-harness.js';
import { emitAck, type Harness, type Json, once, useHarness } from './harness.js';

function answer(h: Harness, inReplyTo: string, text: string) {
  const raw = [
    'From: Lee Chen <lee.chen@example.com>',
    `To: ${SUPPORT}`,
    'Message-ID: <answer-1@example.com>',
    `In-Reply-To: ${inReplyTo}`,
    `References: ${inReplyTo}`,
    'Subject: Re: Your order',
    'Content-Type: text/plain; charset=UTF-8',
    '',
    text,
    '',
  ].join('\r\n');
  return request(h.url)
    .post('/email/inbound')
    .set('Content-Type', 'message/rfc822')
    .set('Authorization', `Bearer ${INBOUND_TOKEN}`)
    .send(Buffer.from(raw));
}

describe('an agent writes to a customer first', () => {
  const sink = useSink();
  const sb = useHarness({ env: emailEnv(sink) });

  it('from the web console, by email: the conversation is theirs, the mail goes out with its subject, and the answer comes back to it', async () => {
    const h = sb();
    const { agent, token } = await h.createAgent('Ada');
    const ada = h.agentSocket(token);
    const hello = await once<Json>(ada, 'hello');
    // Email goes out here; texts do not (no Twilio).
    expect(hello.writesOn).to.deep.equal(['email']);

    const assigned = once<Json>(ada, 'assigned');
    const sent = once<Json>(ada, 'message', (e: Json) => e.message.direction === 'out');
    const ack = await emitAck(ada, 'conversation.start', {
      channel: 'email',
      to: 'Lee.Chen@Example.com',
      subject: 'Your order',
      text: 'Your order shipped today.',
      clientMessageId: 'w1',
    });
    expect(ack).to.include({ ok: true, duplicate: false });
    const view = await assigned;
    expect(view.conversation.id).to.equal(ack.conversationId);
    expect(view.conversation.ownerId).to.equal(agent.id);
    expect(view.conversation.ownership.map((m: Json) => m.reason)).to.deep.equal(['outbound']);
    expect((await sent).message).to.include({
      conversationId: ack.conversationId,
      text: 'Your order shipped today.',
    });

    const out = await sink().next();
    expect(out.envelope.to).to.deep.equal(['lee.chen@example.com']);
    expect(out.mail.subject).to.equal('Your order');
    expect(out.mail.text?.trim()).to.equal('Your order shipped today.');

    // Sent again (the ack was lost): the same message, nothing more goes.
    const again = await emitAck(ada, 'conversation.start', {
      channel: 'email',
      to: 'lee.chen@example.com',
      text: 'Your order shipped today.',
      clientMessageId: 'w1',
    });
    expect(again).to.include({
      ok: true,
      duplicate: true,
      conversationId: ack.conversationId,
      messageId: ack.messageId,
    });

    // Lee answers the mail: the same conversation, to Ada.
    const heard = once<Json>(ada, 'message', (e: Json) => e.message.direction === 'in');
    const res = await answer(h, out.mail.messageId!, 'Thanks! When will it arrive?').expect(202);
    expect(res.body.conversationId).to.equal(ack.conversationId);
    expect((await heard).conversationId).to.equal(ack.conversationId);
    const conversation = (await h.admin.get(`/api/conversations/${ack.conversationId}`).expect(200)).body;
    expect(conversation.conversation.ownerId).to.equal(agent.id);
    expect(conversation.messages.map((m: Json) => [m.direction, m.text])).to.deep.equal([
      ['out', 'Your order shipped today.'],
      ['in', 'Thanks! When will it arrive?'],
    ]);

    // Nobody waited for a person: no time to a human counted.
    const metrics = (await h.http().get('/metrics').expect(200)).text;
    expect(metrics).to.not.match(/switchboard_time_to_human_seconds_count\{channel="email"\} [1-9]/);
    const stats = (await h.admin.get('/api/stats').expect(200)).body;
    expect(stats.timeToHumanSeconds.samples).to.equal(0);

    // Lee has it open: writing to them again is refused, by name.
    const refused = await emitAck(ada, 'conversation.start', {
      channel: 'email',
      to: 'lee.chen@example.com',
      text: 'One more thing',
    });
    expect(refused.ok).to.equal(false);
    expect(refused.error.code).to.equal('open_conversation');
    const badAddress = await emitAck(ada, 'conversation.start', { channel: 'email', to: 'lee', text: 'x' });
    expect([badAddress.error.code, badAddress.error.field]).to.deep.equal(['invalid_input', 'to']);
    const noSms = await emitAck(ada, 'conversation.start', { channel: 'sms', to: '+14155550100', text: 'x' });
    expect(noSms.error.code).to.equal('channel_off');
  });

  it('through the admin API: POST /api/conversations for an agent, 201; refused by name', async () => {
    const h = sb();
    const { agent } = await h.createAgent('Ada');
    const res = await h.admin
      .post('/api/conversations')
      .send({ agentId: agent.id, channel: 'email', to: 'kim@example.com', text: 'Hello Kim' })
      .expect(201);
    expect(res.body.conversation.ownerId).to.equal(agent.id);
    expect(res.body.message.to).to.equal('kim@example.com');
    expect(res.body.duplicate).to.equal(false);
    const out = await sink().next();
    expect(out.envelope.to).to.deep.equal(['kim@example.com']);
    expect(out.mail.subject).to.equal('Hello Kim');

    const bad = await h.admin
      .post('/api/conversations')
      .send({ agentId: agent.id, channel: 'email', text: 'x' });
    expect([bad.status, bad.body.error.code, bad.body.error.field]).to.deep.equal([
      400,
      'invalid_input',
      'to',
    ]);
    const nobody = await h.admin
      .post('/api/conversations')
      .send({ agentId: 'ag_nobody', channel: 'email', to: 'x@example.com', text: 'x' });
    expect([nobody.status, nobody.body.error.code]).to.deep.equal([404, 'not_found']);
    const noAgent = await h.admin
      .post('/api/conversations')
      .send({ channel: 'email', to: 'x@example.com', text: 'x' });
    expect([noAgent.status, noAgent.body.error.field]).to.deep.equal([400, 'agentId']);
    const open = await h.admin
      .post('/api/conversations')
      .send({ agentId: agent.id, channel: 'email', to: 'kim@example.com', text: 'again' });
    expect([open.status, open.body.error.code]).to.deep.equal([409, 'open_conversation']);
    await h.http().post('/api/conversations').send({}).expect(401);
  });
});
