// The web agent console: socket.io namespace /agent, against a real server.
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { Router } from '../../routing/router.js';
import {
  emitAck,
  flush,
  type Harness,
  type Json,
  once,
  pending,
  SECOND,
  useHarness,
} from '../server/harness.js';
import { agentConsole } from './web-console.js';

/** A visitor who has given name and email, then writes; resolves with ids and the socket. */
async function visitorWrites(h: Harness, text = 'my order is late') {
  const v = h.visitor();
  const session = await once(v, 'session');
  await emitAck(v, 'identify', { name: 'Mary Major', email: 'mary@example.com' });
  const ack = await emitAck(v, 'message', { text, clientMessageId: 'c-1' });
  expect(ack.ok).to.equal(true);
  return {
    v,
    customerId: session.customerId as string,
    conversationId: ack.conversationId as string,
    messageId: ack.messageId as string,
  };
}

function expectInvalid(ack: Json, field: string): void {
  expect(ack.ok).to.equal(false);
  expect(Object.keys(ack.error).sort()).to.deep.equal(['code', 'field', 'message']);
  expect(ack.error.code).to.equal('invalid_input');
  expect(ack.error.field).to.equal(field);
}

function expectNotOwner(ack: Json, agentId: string, conversationId: string, operation: string): void {
  expect(ack).to.deep.equal({
    ok: false,
    error: {
      code: 'not_owner',
      message: `agent ${agentId} may not ${operation} conversation ${conversationId}: not its owner`,
    },
  });
}

describe('/agent namespace', () => {
  const sb = useHarness();

  describe("the team's saved replies", () => {
    const replies = [
      { name: 'Refund sent', text: 'Your refund is on its way: 3 to 5 working days.' },
      { name: 'Address', text: 'Could you confirm the delivery address?' },
    ];
    const withReplies = useHarness({ env: { ROUTING_POLICY: JSON.stringify({ savedReplies: replies }) } });

    it('come with hello, in the order the policy gives them', async () => {
      const ada = await agentConsole(withReplies(), 'Ada');
      expect(ada.hello.savedReplies).to.deep.equal(replies);
    });

    it('an admin replaces them (PUT /api/saved-replies): open consoles get the new list, new ones too', async () => {
      const h = withReplies();
      expect((await h.admin.get('/api/saved-replies').expect(200)).body).to.deep.equal({
        savedReplies: replies,
        from: 'policy',
      });
      const ada = await agentConsole(h, 'Ada');
      const next = [
        { name: 'Refund sent', text: 'Your refund left us today: 3 to 5 working days.' },
        { name: 'Opening hours', text: 'We answer every day from 8 to 20.' },
      ];
      const pushed = once(ada.socket, 'saved_replies');
      const res = await h.admin.put('/api/saved-replies').send({ savedReplies: next }).expect(200);
      expect(res.body).to.deep.equal({ savedReplies: next, from: 'api' });
      expect(await pushed).to.deep.equal({ savedReplies: next });
      expect((await h.admin.get('/api/saved-replies').expect(200)).body).to.deep.equal({
        savedReplies: next,
        from: 'api',
      });
      const grace = await agentConsole(h, 'Grace');
      expect(grace.hello.savedReplies).to.deep.equal(next);
      // Emptied: none, not the policy's again.
      await h.admin.put('/api/saved-replies').send({ savedReplies: [] }).expect(200);
      expect((await agentConsole(h, 'Linus')).hello.savedReplies).to.deep.equal([]);
    });

    it('a list that is not one is refused naming the field, and nothing changes', async () => {
      const h = withReplies();
      const refused = async (body: unknown, field: string) => {
        const res = await h.admin
          .put('/api/saved-replies')
          .send(body as object)
          .expect(400);
        expect(res.body.error.field, JSON.stringify(body)).to.equal(field);
      };
      await refused(
        { savedReplies: [replies[0], { name: 'refund SENT', text: 'again' }] },
        'savedReplies.1.name',
      );
      await refused({ savedReplies: [{ name: 'Long', text: 'x'.repeat(4001) }] }, 'savedReplies.0.text');
      await refused({ savedReplies: [{ name: '  ', text: 'no name' }] }, 'savedReplies.0.name');
      // A placeholder it does not know (a typo) is named, with the ones there are.
      const typo = await h.admin
        .put('/api/saved-replies')
        .send({ savedReplies: [{ name: 'Hi', text: 'Hello {nmae}!' }] })
        .expect(400);
      expect(typo.body.error).to.include({ field: 'savedReplies.0.text' });
      expect(typo.body.error.message).to.contain('{nmae} is not a placeholder: use {name}');
      // A team's own replies name skills as agents have them.
      await refused(
        { savedReplies: [{ name: 'Hola', text: 'Hola', skills: ['es pañol'] }] },
        'savedReplies.0.skills.0',
      );
      await refused({ savedReplies: [{ name: 'Hola', text: 'Hola', skills: [] }] }, 'savedReplies.0.skills');
      await refused({ savedReplies: 'Refund sent' }, 'savedReplies');
      await refused({}, 'savedReplies');
      await refused({ savedReplies: [], extra: 1 }, 'extra');
      const many = Array.from({ length: 101 }, (_, i) => ({ name: `Reply ${i}`, text: 'text' }));
      await refused({ savedReplies: many }, 'savedReplies');
      expect((await h.admin.get('/api/saved-replies').expect(200)).body.from).to.equal('policy');
      await h.http().put('/api/saved-replies').send({ savedReplies: [] }).expect(401);
    });
  });

  describe('connecting', () => {
    it('a bad token is refused with unauthorized', async () => {
      const h = sb();
      const { agent, token } = await h.createAgent('Ada');
      const bad: unknown[] = [
        undefined,
        '',
        'garbage',
        `${agent.id}.${'A'.repeat(43)}`,
        h.sb.tokens.sign('visitor', agent.id), // right secret, wrong purpose
        h.sb.tokens.sign('agent', 'ag_nobody'), // signed, but no such agent
        `${token}x`,
        12345,
      ];
      for (const t of bad) {
        const s = h.agentSocket(t);
        const err = await once<Error>(s, 'connect_error');
        expect(err.message, `token ${JSON.stringify(t)}`).to.equal('unauthorized');
        expect(pending(s, 'hello')).to.deep.equal([]);
      }
    });

    it("renewing an agent's links closes the consoles open on the old one and refuses it; the new one opens", async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const grace = await agentConsole(h, 'Grace');
      const renewed = await h.admin.post(`/api/agents/${ada.agent.id}/token`).expect(200);
      expect(renewed.body.agent.id).to.equal(ada.agent.id);
      expect(renewed.body.agent.tokenVersion).to.equal(1);
      const token = renewed.body.token as string;
      expect(token).to.not.equal(ada.token);

      expect(await once(ada.socket, 'disconnect')).to.equal('io server disconnect');
      const old = h.agentSocket(ada.token);
      expect((await once<Error>(old, 'connect_error')).message).to.equal('unauthorized');
      const fresh = h.agentSocket(token);
      expect((await once(fresh, 'hello')).agent.id).to.equal(ada.agent.id);
      // A colleague's console stays open.
      await flush(grace.socket);
      expect(grace.socket.connected).to.equal(true);

      // Renewed again: the link just given stops working too.
      const again = await h.admin.post(`/api/agents/${ada.agent.id}/token`).expect(200);
      expect(again.body.agent.tokenVersion).to.equal(2);
      await once(fresh, 'disconnect');
      expect((await once<Error>(h.agentSocket(token), 'connect_error')).message).to.equal('unauthorized');
      expect((await once(h.agentSocket(again.body.token), 'hello')).agent.id).to.equal(ada.agent.id);
      // Still the same agent, with the same status and nothing else changed.
      expect((await h.admin.get(`/api/agents/${ada.agent.id}`).expect(200)).body.agent.status).to.equal(
        'available',
      );
    });

    it('DELETE /api/agents/:id: the agent leaves the team; their console closes, their link is refused, they are on no list', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const grace = await agentConsole(h, 'Grace');
      const gone = await h.admin.delete(`/api/agents/${ada.agent.id}`).expect(200);
      expect(gone.body.agent).to.deep.include({
        id: ada.agent.id,
        name: 'Ada',
        status: 'offline',
        tokenVersion: 1,
      });
      expect(gone.body.agent.leftAt).to.be.a('number');
      expect(await once(ada.socket, 'disconnect')).to.equal('io server disconnect');
      expect((await once<Error>(h.agentSocket(ada.token), 'connect_error')).message).to.equal('unauthorized');
      // The team is who is left; the record stays, listed among those who left.
      const team = (await h.admin.get('/api/agents').expect(200)).body.agents;
      expect(team.map((a: { name: string }) => a.name)).to.deep.equal(['Grace']);
      const left = (await h.admin.get('/api/agents?left=true').expect(200)).body.agents;
      expect(left.map((a: { name: string }) => a.name)).to.deep.equal(['Ada']);
      expect((await h.admin.get(`/api/agents/${ada.agent.id}`).expect(200)).body.agent.leftAt).to.equal(
        gone.body.agent.leftAt,
      );
      const maybe = await h.admin.get('/api/agents?left=maybe');
      expect([maybe.status, maybe.body.error.code, maybe.body.error.field]).to.deep.equal([
        400,
        'invalid_input',
        'left',
      ]);
      // Colleagues no longer offer them to consult or hand off to; the team view does not list them.
      expect((await emitAck(grace.socket, 'agents', {})).agents).to.deep.equal([]);
      const live = (await h.admin.get('/api/live').expect(200)).body;
      expect(live.agents.map((a: { name: string }) => a.name)).to.deep.equal(['Grace']);
      // Nobody sets them available, nor renews their link; leaving again is the same record.
      const back = await h.admin.put(`/api/agents/${ada.agent.id}/status`).send({ status: 'available' });
      expect([back.status, back.body.error.code, back.body.error.message]).to.deep.equal([
        409,
        'invalid_state',
        `agent ${ada.agent.id} left the team`,
      ]);
      const renewed = await h.admin.post(`/api/agents/${ada.agent.id}/token`);
      expect([renewed.status, renewed.body.error.code]).to.deep.equal([409, 'invalid_state']);
      expect((await h.admin.delete(`/api/agents/${ada.agent.id}`).expect(200)).body.agent).to.deep.equal(
        gone.body.agent,
      );
      expect((await h.admin.delete('/api/agents/ag_nobody')).status).to.equal(404);
    });

    it('hello {agent, conversations} on connect', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada', { skills: { billing: 4 } });
      expect(Object.keys(ada.hello).sort()).to.deep.equal([
        'agent',
        'callsOut',
        'conversations',
        'offers',
        'savedReplies',
        'stickyWaitSeconds',
        'writesOn',
      ]);
      expect(ada.hello.savedReplies).to.deep.equal([]);
      // Neither texts nor email go out here: no writing to a customer first, and no phoning them.
      expect(ada.hello.writesOn).to.deep.equal([]);
      expect(ada.hello.callsOut).to.equal(false);
      expect(ada.hello.agent.id).to.equal(ada.agent.id);
      expect(ada.hello.agent.name).to.equal('Ada');
      expect(ada.hello.agent.status).to.equal('available');
      expect(ada.hello.agent.skills).to.deep.equal({ billing: 4 });
      expect(ada.hello.conversations).to.deep.equal([]);
      expect(ada.hello.offers).to.deep.equal([]);
    });

    it('hello on reconnect lists the conversations the agent owns, with their messages', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      ada.socket.disconnect();
      const again = h.agentSocket(ada.token);
      const hello = await once(again, 'hello');
      expect(hello.conversations).to.have.length(1);
      const [view] = hello.conversations;
      expect(view.conversation.id).to.equal(conversationId);
      expect(view.role).to.equal('owner');
      expect(view.messages.map((m: { text: string }) => m.text)).to.deep.equal(['my order is late']);
    });
  });

  describe('an offer ringing while the console was closed (hello offers)', () => {
    // A chat rings the agent, who must accept it within a minute.
    const ringing = useHarness({
      env: {
        ROUTING_POLICY: JSON.stringify({
          offerTimeoutSeconds: { chat: 60 },
          liveChannels: ['voice', 'chat'],
        }),
      },
    });

    it('a console opened while a chat rings her lists it, with its time by the server clock; Accept works from there', async () => {
      const h = ringing();
      // Away while Mary writes: Mary waits, then rings Ada as she becomes available, with no console open.
      const { agent: ada, token } = await h.createAgent('Ada', {
        capacity: { voice: 0, sms: 0, chat: 1, email: 0 },
        status: 'away',
      });
      const { conversationId } = await visitorWrites(h);
      h.clock.advance(5 * SECOND);
      expect(
        (await h.admin.put(`/api/agents/${ada.id}/status`).send({ status: 'available' })).status,
      ).to.equal(200);
      const rung = (await h.store.getConversation(conversationId))!;
      expect(rung.offer?.agentId).to.equal(ada.id);

      h.clock.advance(20 * SECOND);
      const socket = h.agentSocket(token);
      const hello = await once(socket, 'hello');
      expect(hello.conversations).to.deep.equal([]);
      expect(hello.offers).to.have.length(1);
      const [offer] = hello.offers;
      // As the `offer` event sends it: the conversation with its offer, the customer, what they wrote.
      expect(offer.conversation.id).to.equal(conversationId);
      expect(offer.conversation.status).to.equal('queued');
      expect(offer.conversation.offer.agentId).to.equal(ada.id);
      expect(offer.customer.name).to.equal('Mary Major');
      expect(offer.messages.map((m: { text: string }) => m.text)).to.deep.equal(['my order is late']);
      // 40 of its 60 seconds left, by the server's clock (`now`), whatever the console's says.
      expect(offer.now).to.equal(h.clock.now());
      expect(offer.conversation.offer.expiresAt - offer.now).to.equal(40 * SECOND);

      expect(await emitAck(socket, 'offer.accept', { conversationId })).to.deep.equal({ ok: true });
      const assigned = await once(socket, 'assigned');
      expect([assigned.conversation.id, assigned.conversation.ownerId]).to.deep.equal([
        conversationId,
        ada.id,
      ]);
      // Hers now: the next console lists it as hers, and nothing rings.
      socket.disconnect();
      const again = await once(h.agentSocket(token), 'hello');
      expect(again.offers).to.deep.equal([]);
      expect(again.conversations.map((v: Json) => v.conversation.id)).to.deep.equal([conversationId]);
    });

    it("a reload lists the offer ringing her, not a colleague's; once it rang out it is listed no more", async () => {
      const h = ringing();
      const ada = await agentConsole(h, 'Ada', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
      const { conversationId } = await visitorWrites(h);
      expect((await once(ada.socket, 'offer')).conversation.id).to.equal(conversationId);
      // Grace has a console and no offer: hers lists none.
      const grace = await agentConsole(h, 'Grace', { capacity: { voice: 0, sms: 0, chat: 0, email: 0 } });
      expect(grace.hello.offers).to.deep.equal([]);

      ada.socket.disconnect();
      const reloaded = h.agentSocket(ada.token);
      const hello = await once(reloaded, 'hello');
      expect(hello.offers.map((v: Json) => v.conversation.id)).to.deep.equal([conversationId]);

      // Unanswered for its minute: it rings out, she is set away, and her next console lists nothing.
      h.clock.advance(61 * SECOND);
      await h.sb.router.tick();
      expect((await h.store.getAgent(ada.agent.id))!.statusReason).to.equal('missed_offer');
      reloaded.disconnect();
      const after = await once(h.agentSocket(ada.token), 'hello');
      expect(after.offers).to.deep.equal([]);
    });
  });

  describe('assigned', () => {
    it('a visitor writes: the agent gets the ConversationView with the facts and their source', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const t0 = h.clock.now();
      const { customerId, conversationId, messageId } = await visitorWrites(h);
      const view = await once(ada.socket, 'assigned');
      expect(view.conversation.id).to.equal(conversationId);
      expect(view.conversation.status).to.equal('assigned');
      expect(view.conversation.ownerId).to.equal(ada.agent.id);
      expect(view.conversation.lastChannel).to.equal('chat');
      expect(view.role).to.equal('owner');
      expect(view.ownerName).to.equal('Ada');
      expect(view.customer.id).to.equal(customerId);
      expect(view.customer.name).to.equal('Mary Major');
      expect(view.customer.facts).to.deep.equal({
        name: { value: 'Mary Major', source: 'chat:prechat', at: t0 },
        email: { value: 'mary@example.com', source: 'chat:prechat', at: t0 },
      });
      expect(view.customer.identities.map((i: { channel: string }) => i.channel).sort()).to.deep.equal([
        'chat',
        'email',
      ]);
      expect(view.messages).to.have.length(1);
      expect(view.messages[0].id).to.equal(messageId);
      expect(view.messages[0].text).to.equal('my order is late');
      expect(view.messages[0].direction).to.equal('in');
      expect(view.messages[0].author).to.deep.equal({ type: 'customer', id: customerId, name: 'Mary Major' });
      expect(view.history).to.deep.equal([]);
      expect(view.promises).to.deep.equal([]);
    });

    it('the next message in the conversation reaches the owner as message', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { v, conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const ack = await emitAck(v, 'message', { text: 'hello?', clientMessageId: 'c-2' });
      const m = await once(ada.socket, 'message', (x) => x.message.text === 'hello?');
      expect(m.conversationId).to.equal(conversationId);
      expect(m.message.id).to.equal(ack.messageId);
      expect(m.message.direction).to.equal('in');
    });
  });

  describe('what the customer tells the agent (customer.details)', () => {
    it('kept as facts from the agent and linked; an address another customer has is noted, not taken', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const bo = await agentConsole(h, 'Bo', { capacity: { voice: 0, sms: 0, chat: 0, email: 0 } });
      // Another visitor already gave this address.
      const other = h.visitor();
      const otherSession = await once(other, 'session');
      await emitAck(other, 'identify', { name: 'Bob Stone', email: 'bob@example.com' });
      // A visitor who said nothing about themselves in the form writes; Ada has it.
      const v = h.visitor();
      const session = await once(v, 'session');
      const { conversationId } = await emitAck(v, 'message', {
        text: 'hi, Mary here',
        clientMessageId: 'c-1',
      });
      await once(ada.socket, 'assigned');
      const t0 = h.clock.now();

      const updated = once(ada.socket, 'customer.updated');
      const ack = await emitAck(ada.socket, 'customer.details', {
        conversationId,
        name: ' Mary Major ',
        phone: '+1 (415) 555-0100',
        email: '',
      });
      expect(ack.ok).to.equal(true);
      expect(ack.conflicts).to.deep.equal([]);
      expect(ack.customer.name).to.equal('Mary Major');
      expect(ack.customer.facts).to.deep.equal({
        name: { value: 'Mary Major', source: 'agent Ada', at: t0 },
        phone: { value: '+14155550100', source: 'agent Ada', at: t0 },
      });
      expect(ack.customer.identities).to.deep.include({ channel: 'phone', address: '+14155550100' });
      expect((await updated).customer.facts.phone.value).to.equal('+14155550100');
      // Nobody asks again: the widget's form no longer wants the name.
      expect(await h.sb.router.missingFacts(session.customerId, ['name', 'email'])).to.deep.equal(['email']);

      // Bob's address: noted for an admin to merge, not linked.
      const taken = await emitAck(ada.socket, 'customer.details', {
        conversationId,
        email: 'Bob@Example.com',
      });
      expect(taken.ok).to.equal(true);
      expect(taken.conflicts).to.deep.equal([
        {
          channel: 'email',
          address: 'bob@example.com',
          customerId: otherSession.customerId,
          name: 'Bob Stone',
        },
      ]);
      expect(taken.customer.identities.map((i: { channel: string }) => i.channel)).to.not.include('email');
      expect(taken.customer.notes.at(-1).text).to.equal(
        'email bob@example.com also belongs to another customer, Bob Stone; an admin can merge them if they are the same person',
      );

      // Nothing given, or given wrong: refused naming the field; a colleague not on it: not_owner.
      expectInvalid(await emitAck(ada.socket, 'customer.details', { conversationId, name: ' ' }), 'name');
      expectInvalid(
        await emitAck(ada.socket, 'customer.details', { conversationId, email: 'nope' }),
        'email',
      );
      expectInvalid(
        await emitAck(ada.socket, 'customer.details', { conversationId, phone: 'call me' }),
        'phone',
      );
      expectNotOwner(
        await emitAck(bo.socket, 'customer.details', { conversationId, name: 'X' }),
        bo.agent.id,
        conversationId,
        'record the customer details of',
      );
    });
  });

  describe('status', () => {
    it('ack with the agent; away stops new assignments, available takes what waits', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const away = await emitAck(ada.socket, 'status', { status: 'away' });
      expect(away.ok).to.equal(true);
      expect(away.agent.id).to.equal(ada.agent.id);
      expect(away.agent.status).to.equal('away');
      const { conversationId } = await visitorWrites(h);
      expect((await h.store.getConversation(conversationId))!.status).to.equal('queued');
      const back = await emitAck(ada.socket, 'status', { status: 'available' });
      expect(back.agent.status).to.equal('available');
      const view = await once(ada.socket, 'assigned');
      expect(view.conversation.id).to.equal(conversationId);
    });

    it('an admin changing the agent (name, capacity) reaches their open console as `agent`', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const pushed = once(ada.socket, 'agent');
      await h.admin
        .patch(`/api/agents/${ada.agent.id}`)
        .send({ name: 'Ada Lovelace', capacity: { chat: 1 } })
        .expect(200);
      const { agent } = await pushed;
      expect([agent.id, agent.name, agent.capacity.chat, agent.capacity.sms]).to.deep.equal([
        ada.agent.id,
        'Ada Lovelace',
        1,
        ada.agent.capacity.sms,
      ]);
    });

    it('an unknown status is invalid_input naming status', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      expectInvalid(await emitAck(ada.socket, 'status', { status: 'busy' }), 'status');
      expect((await h.store.getAgent(ada.agent.id))!.status).to.equal('available');
    });
  });

  describe('reply and note', () => {
    it('a reply may be as long as its channel takes: a long email, but a chat line at most 4,000 characters', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const mail = await h.sb.router.contact({
        channel: 'email',
        from: 'pat@example.org',
        subject: 'Warranty terms',
        text: 'What exactly does the warranty cover?',
        externalId: '<warranty-1@example.org>',
      });
      expect(mail.conversation.ownerId).to.equal(ada.agent.id);
      const long = 'The warranty covers the heating element and the lid hinge for two years. '.repeat(150);
      expect(long.length).to.be.greaterThan(10_000);
      const sent = await emitAck(ada.socket, 'reply', {
        conversationId: mail.conversation.id,
        text: long,
        clientMessageId: 'long-1',
      });
      expect(sent.ok, JSON.stringify(sent.error)).to.equal(true);
      expect((await h.store.getMessage(sent.messageId))?.text).to.equal(long);

      const { conversationId } = await visitorWrites(h);
      const refused = await emitAck(ada.socket, 'reply', {
        conversationId,
        text: 'x'.repeat(4001),
        clientMessageId: 'long-2',
      });
      expectInvalid(refused, 'text');
      expect(refused.error.message).to.contain('at most 4000 characters');
      expect((await h.store.listMessages(conversationId)).filter((m) => m.direction === 'out')).to.deep.equal(
        [],
      );
    });

    it('a reply reaches the visitor; a note reaches the agents, never the /chat socket', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { v, conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      await once(v, 'message', (m) => m.direction === 'in');

      const reply = await emitAck(ada.socket, 'reply', {
        conversationId,
        text: 'On it.',
        clientMessageId: 'r-1',
      });
      expect(Object.keys(reply).sort()).to.deep.equal(['messageId', 'ok']);
      expect(reply.ok).to.equal(true);
      const out = await once(v, 'message');
      expect(out.id).to.equal(reply.messageId);
      expect(out.text).to.equal('On it.');
      const echo = await once(ada.socket, 'message', (m) => m.message.id === reply.messageId);
      expect(echo.message.direction).to.equal('out');

      const note = await emitAck(ada.socket, 'note', { conversationId, text: 'VIP customer, be quick' });
      expect(Object.keys(note).sort()).to.deep.equal(['messageId', 'ok']);
      const noted = await once(ada.socket, 'message', (m) => m.message.id === note.messageId);
      expect(noted.message.direction).to.equal('internal');
      expect(noted.message.text).to.equal('VIP customer, be quick');

      await flush(v);
      expect(pending(v, 'message')).to.deep.equal([]);
      v.disconnect();
      // Nor in the history a returning visitor is sent.
      const session = (await h.admin.get(`/api/conversations/${conversationId}`).expect(200)).body;
      expect(session.messages.map((m: { direction: string }) => m.direction)).to.deep.equal([
        'in',
        'out',
        'internal',
      ]);
    });

    it('resending a reply with the same clientMessageId stores it once', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const a = await emitAck(ada.socket, 'reply', { conversationId, text: 'Once.', clientMessageId: 'r-1' });
      const b = await emitAck(ada.socket, 'reply', { conversationId, text: 'Once.', clientMessageId: 'r-1' });
      expect(b).to.deep.equal(a);
      expect(
        (await h.store.listMessages(conversationId)).filter((m) => m.direction === 'out'),
      ).to.have.length(1);
    });

    it('a non-owner reply, note or promise is not_owner', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const grace = await agentConsole(h, 'Grace');
      expectNotOwner(
        await emitAck(grace.socket, 'reply', { conversationId, text: 'Let me!', clientMessageId: 'g-1' }),
        grace.agent.id,
        conversationId,
        'reply to',
      );
      expectNotOwner(
        await emitAck(grace.socket, 'note', { conversationId, text: 'psst' }),
        grace.agent.id,
        conversationId,
        'write a note on',
      );
      expectNotOwner(
        await emitAck(grace.socket, 'promise', {
          conversationId,
          dueAt: h.clock.now() + 3600 * SECOND,
          text: 'soon',
        }),
        grace.agent.id,
        conversationId,
        'make a promise on',
      );
      expect((await h.store.listMessages(conversationId)).map((m) => m.text)).to.deep.equal([
        'my order is late',
      ]);
    });
  });

  describe('consult', () => {
    it('invite → consult.invite on the colleague; join; the consultant may reply; leave', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada', { capacity: { chat: 1 } });
      const { v, conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const grace = await agentConsole(h, 'Grace');

      expect(await emitAck(ada.socket, 'consult', { conversationId, agentId: grace.agent.id })).to.deep.equal(
        { ok: true },
      );
      expect(await once(grace.socket, 'consult.invite')).to.deep.equal({
        conversationId,
        from: { id: ada.agent.id, name: 'Ada' },
      });

      const joined = await emitAck(grace.socket, 'consult.join', { conversationId });
      expect(joined.ok).to.equal(true);
      expect(joined.view.role).to.equal('consultant');
      expect(joined.view.conversation.consultants).to.deep.equal([grace.agent.id]);
      expect(joined.view.conversation.ownerId).to.equal(ada.agent.id);
      expect(joined.view.messages.map((m: { text: string }) => m.text)).to.deep.equal(['my order is late']);

      const reply = await emitAck(grace.socket, 'reply', {
        conversationId,
        text: 'Grace from billing here.',
        clientMessageId: 'g-1',
      });
      expect(reply.ok).to.equal(true);
      const out = await once(v, 'message', (m) => m.direction === 'out');
      expect(out.author).to.deep.equal({ type: 'agent', name: 'Grace' });
      expect(out.text).to.equal('Grace from billing here.');
      // The owner sees the consultant's reply.
      const seen = await once(ada.socket, 'message', (m) => m.message.id === reply.messageId);
      expect(seen.message.author.name).to.equal('Grace');

      expect(await emitAck(grace.socket, 'consult.leave', { conversationId })).to.deep.equal({ ok: true });
      const conv = await h.store.getConversation(conversationId);
      expect(conv!.consultants).to.deep.equal([]);
      expect(conv!.ownerId).to.equal(ada.agent.id);
      expectNotOwner(
        await emitAck(grace.socket, 'reply', { conversationId, text: 'still here?', clientMessageId: 'g-2' }),
        grace.agent.id,
        conversationId,
        'reply to',
      );
    });

    it('only the owner may invite; a join without an invitation is refused', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const grace = await agentConsole(h, 'Grace');
      const linus = await agentConsole(h, 'Linus');
      expectNotOwner(
        await emitAck(grace.socket, 'consult', { conversationId, agentId: linus.agent.id }),
        grace.agent.id,
        conversationId,
        'consult on',
      );
      const join = await emitAck(linus.socket, 'consult.join', { conversationId });
      expect(join).to.deep.equal({
        ok: false,
        error: {
          code: 'invalid_state',
          message: `agent ${linus.agent.id} was not invited to consult on conversation ${conversationId}`,
        },
      });
    });
  });

  describe('warm hand-off', () => {
    it('handoff.offer on the target; accept moves ownership: target assigned, old owner updated', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { v, conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      await once(v, 'status', (s) => s.state === 'assigned');
      const grace = await agentConsole(h, 'Grace');

      expect(
        await emitAck(ada.socket, 'handoff', {
          conversationId,
          toAgentId: grace.agent.id,
          note: 'Refund over 100 EUR',
        }),
      ).to.deep.equal({ ok: true });
      expect(await once(grace.socket, 'handoff.offer')).to.deep.equal({
        conversationId,
        from: { id: ada.agent.id, name: 'Ada' },
        note: 'Refund over 100 EUR',
      });
      // Nothing moved yet.
      expect((await h.store.getConversation(conversationId))!.ownerId).to.equal(ada.agent.id);

      expect(await emitAck(grace.socket, 'handoff.accept', { conversationId })).to.deep.equal({ ok: true });
      const view = await once(grace.socket, 'assigned');
      expect(view.conversation.id).to.equal(conversationId);
      expect(view.conversation.ownerId).to.equal(grace.agent.id);
      expect(view.role).to.equal('owner');
      const updated = await once(
        ada.socket,
        'conversation.updated',
        (u) => u.conversation.ownerId === grace.agent.id,
      );
      expect(updated.conversation.id).to.equal(conversationId);
      expect(updated.conversation.handoff).to.equal(null);
      expect(updated.conversation.ownership.at(-1)).to.deep.equal({
        from: ada.agent.id,
        to: grace.agent.id,
        reason: 'handoff',
        at: h.clock.now(),
      });
      expect(await once(v, 'status', (s) => s.agent?.name === 'Grace')).to.deep.equal({
        conversationId,
        state: 'assigned',
        agent: { name: 'Grace' },
      });
      // The old owner may no longer reply; the new one may.
      expectNotOwner(
        await emitAck(ada.socket, 'reply', { conversationId, text: 'me?', clientMessageId: 'a-9' }),
        ada.agent.id,
        conversationId,
        'reply to',
      );
      expect(
        (
          await emitAck(grace.socket, 'reply', {
            conversationId,
            text: 'Grace here.',
            clientMessageId: 'g-1',
          })
        ).ok,
      ).to.equal(true);
    });

    it('decline leaves it with the owner', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const grace = await agentConsole(h, 'Grace');
      await emitAck(ada.socket, 'handoff', { conversationId, toAgentId: grace.agent.id, note: 'Refund' });
      await once(grace.socket, 'handoff.offer');
      expect(await emitAck(grace.socket, 'handoff.decline', { conversationId })).to.deep.equal({ ok: true });
      const updated = await once(
        ada.socket,
        'conversation.updated',
        (u) => u.conversation.handoff === null && u.conversation.id === conversationId,
      );
      expect(updated.conversation.ownerId).to.equal(ada.agent.id);
      const conv = await h.store.getConversation(conversationId);
      expect(conv!.ownerId).to.equal(ada.agent.id);
      expect(conv!.handoff).to.equal(null);
      expect(conv!.ownership.map((o) => o.to)).to.deep.equal([ada.agent.id]);
      await flush(grace.socket, 'status', { status: 'available' });
      expect(pending(grace.socket, 'assigned')).to.deep.equal([]);
      // Accepting after declining is refused.
      const late = await emitAck(grace.socket, 'handoff.accept', { conversationId });
      expect(late.ok).to.equal(false);
      expect(late.error.code).to.equal('invalid_state');
    });

    it('only the owner may hand off; a hand-off needs a note', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const grace = await agentConsole(h, 'Grace');
      expectNotOwner(
        await emitAck(grace.socket, 'handoff', { conversationId, toAgentId: ada.agent.id, note: 'mine now' }),
        grace.agent.id,
        conversationId,
        'hand off',
      );
      expectInvalid(
        await emitAck(ada.socket, 'handoff', { conversationId, toAgentId: grace.agent.id, note: '  ' }),
        'note',
      );
    });
  });

  describe('queue', () => {
    it('every console is told what waits on connect, and again when it changes', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada', { status: 'away' });
      const none = { waiting: 0, waitingByChannel: { voice: 0, sms: 0, chat: 0, email: 0 } };
      expect(await once(ada.socket, 'queue')).to.deep.equal(none);
      const { conversationId } = await visitorWrites(h);
      expect(await once(ada.socket, 'queue')).to.deep.equal({
        waiting: 1,
        waitingByChannel: { voice: 0, sms: 0, chat: 1, email: 0 },
      });
      // A colleague connecting is told at once.
      const grace = await agentConsole(h, 'Grace', { status: 'away' });
      expect((await once(grace.socket, 'queue')).waiting).to.equal(1);
      // Ada is back and takes it: nobody waits.
      await emitAck(ada.socket, 'status', { status: 'available' });
      expect((await once(ada.socket, 'assigned')).conversation.id).to.equal(conversationId);
      expect(await once(ada.socket, 'queue')).to.deep.equal(none);
      expect(await once(grace.socket, 'queue')).to.deep.equal(none);
    });
  });

  describe('catching up with the store', () => {
    it('an assignment or a resolve whose event never came is sent by the next catch-up, once', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const told = await visitorWrites(h);
      expect((await once(ada.socket, 'assigned')).conversation.id).to.equal(told.conversationId);
      // A second process over the same store: its events never reach this one (it died before telling anyone).
      const other = new Router({ store: h.store, clock: h.clock });
      const lost = await other.contact({
        channel: 'sms',
        from: '4155550123',
        externalId: 'SM1',
        text: 'anyone?',
      });
      expect(lost.outcome).to.deep.equal({ type: 'assigned', agentId: ada.agent.id });
      await flush(ada.socket);
      expect(pending(ada.socket, 'assigned')).to.deep.equal([]);

      expect(await h.sb.web.catchUp()).to.equal(1);
      const view = await once(ada.socket, 'assigned', (v) => v.conversation.id === lost.conversation.id);
      expect(view.role).to.equal('owner');
      expect(view.messages.map((m: Json) => m.text)).to.deep.equal(['anyone?']);
      expect(await h.sb.web.catchUp()).to.equal(0);
      await flush(ada.socket);
      expect(pending(ada.socket, 'assigned')).to.deep.equal([]);

      await other.resolve(ada.agent.id, lost.conversation.id, null);
      expect(await h.sb.web.catchUp()).to.equal(1);
      const resolved = await once(
        ada.socket,
        'conversation.updated',
        (u) => u.conversation.id === lost.conversation.id,
      );
      expect(resolved.conversation.status).to.equal('resolved');
      expect(await h.sb.web.catchUp()).to.equal(0);
    });

    it('what the events told is not sent again, and a colleague consulted without an event is told of it', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const grace = await agentConsole(h, 'Grace', { status: 'away' });
      expect(await h.sb.web.catchUp()).to.equal(0);

      const other = new Router({ store: h.store, clock: h.clock });
      await other.consult(ada.agent.id, conversationId, grace.agent.id);
      expect(await h.sb.web.catchUp()).to.equal(1);
      const update = await once(
        grace.socket,
        'conversation.updated',
        (u) => u.conversation.id === conversationId,
      );
      expect(update.conversation.invited).to.deep.equal([grace.agent.id]);
      // Ada's console heard nothing of it, and is not sent it again: she knows the conversation.
      await flush(ada.socket);
      expect(pending(ada.socket, 'conversation.updated')).to.deep.equal([]);
      expect(await h.sb.web.catchUp()).to.equal(0);
    });
  });

  describe('the visitor of a chat, on the page or not', () => {
    it('the agents on it are told when the visitor leaves the page and comes back, and can ask', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const grace = await agentConsole(h, 'Grace', { status: 'away' });
      const { v, conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      expect(await emitAck(ada.socket, 'presence', { conversationId })).to.deep.equal({
        ok: true,
        online: true,
      });
      // Only those on the conversation may ask (or see it).
      const refused = await emitAck(grace.socket, 'presence', { conversationId });
      expect(refused.error.code).to.equal('not_owner');
      expect((await emitAck(grace.socket, 'conversation', { conversationId })).error.code).to.equal(
        'not_owner',
      );
      const view = (await emitAck(ada.socket, 'conversation', { conversationId })).view;
      expect(view.conversation.id).to.equal(conversationId);

      v.disconnect();
      const left = await once(ada.socket, 'presence', (e) => e.online === false);
      expect(left).to.deep.equal({ conversationId, online: false, at: h.clock.now() });
      expect(await emitAck(ada.socket, 'presence', { conversationId })).to.deep.equal({
        ok: true,
        online: false,
      });
      expect(pending(grace.socket, 'presence')).to.deep.equal([]);
    });

    it('a second tab closing is not leaving; the last one is; a reload comes back', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const v = h.visitor();
      const { visitorToken } = await once(v, 'session');
      const { conversationId } = await emitAck(v, 'message', { text: 'hello', clientMessageId: 'p-1' });
      await once(ada.socket, 'assigned');
      const tab = h.visitor(visitorToken);
      expect((await once(ada.socket, 'presence')).online).to.equal(true);
      tab.disconnect();
      v.disconnect();
      // One "left" only, when the last tab closed.
      await once(ada.socket, 'presence', (e) => e.online === false);
      const back = h.visitor(visitorToken);
      await once(back, 'session');
      expect(await once(ada.socket, 'presence')).to.deep.include({ conversationId, online: true });
      await flush(ada.socket);
      expect(pending(ada.socket, 'presence')).to.deep.equal([]);
    });

    it('asked about a conversation that is not a chat: not known (null)', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const sent = await h.sb.router.contact({
        channel: 'email',
        from: 'dee@example.com',
        text: 'hello',
        externalId: '<p-1@example.com>',
      });
      await once(ada.socket, 'assigned');
      const asked = await emitAck(ada.socket, 'presence', { conversationId: sent.conversation.id });
      expect(asked).to.deep.equal({ ok: true, online: null });
    });
  });

  describe("reading the customer's earlier conversations", () => {
    it('the agent serving a customer reads what was said before; nobody else may, and the owner reads her own', async () => {
      const h = sb();
      const grace = await agentConsole(h, 'Grace');
      const first = await visitorWrites(h, 'the parcel never came');
      await once(grace.socket, 'assigned');
      await emitAck(grace.socket, 'reply', {
        conversationId: first.conversationId,
        text: 'A new one is on its way.',
        clientMessageId: 'g-1',
      });
      await emitAck(grace.socket, 'resolve', { conversationId: first.conversationId });
      await emitAck(grace.socket, 'status', { status: 'away' });
      const ada = await agentConsole(h, 'Ada');
      const lin = await agentConsole(h, 'Lin', { capacity: { chat: 0 } });
      h.clock.advance(3_600 * SECOND);
      const again = await emitAck(first.v, 'message', { text: 'still nothing', clientMessageId: 'c-2' });
      const assigned = await once(ada.socket, 'assigned');
      expect(assigned.conversation.id).to.equal(again.conversationId);
      expect(assigned.history).to.deep.equal([
        {
          id: first.conversationId,
          status: 'resolved',
          lastChannel: 'chat',
          createdAt: h.clock.now() - 3_600 * SECOND,
          resolvedAt: h.clock.now() - 3_600 * SECOND,
          ownerName: 'Grace',
        },
      ]);

      const read = await emitAck(ada.socket, 'transcript', { conversationId: first.conversationId });
      expect(read.ok).to.equal(true);
      expect(read.conversation).to.deep.equal(assigned.history[0]);
      expect(read.customer).to.deep.include({ id: first.customerId, name: 'Mary Major' });
      expect(read.messages.map((m: Json) => [m.direction, m.text])).to.deep.equal([
        ['in', 'the parcel never came'],
        ['out', 'A new one is on its way.'],
      ]);
      // Her own conversation too.
      const own = await emitAck(ada.socket, 'transcript', { conversationId: again.conversationId });
      expect(own.messages.map((m: Json) => [m.direction, m.text])).to.deep.equal([
        ['in', 'still nothing'],
        [
          'internal',
          "Repeat contact: this customer's previous conversation with Grace was resolved 60 minutes ago.",
        ],
      ]);

      // Grace owned the earlier one and may read it again; not the customer's conversation with Ada.
      const hers = await emitAck(grace.socket, 'transcript', { conversationId: first.conversationId });
      expect(hers.messages).to.have.length(2);
      expectNotOwner(
        await emitAck(grace.socket, 'transcript', { conversationId: again.conversationId }),
        grace.agent.id,
        again.conversationId,
        'read',
      );
      // Lin serves neither: nothing to read, and an unknown id says no more than that.
      expectNotOwner(
        await emitAck(lin.socket, 'transcript', { conversationId: first.conversationId }),
        lin.agent.id,
        first.conversationId,
        'read',
      );
      expectNotOwner(
        await emitAck(lin.socket, 'transcript', { conversationId: 'cv_nope' }),
        lin.agent.id,
        'cv_nope',
        'read',
      );
      expectInvalid(await emitAck(ada.socket, 'transcript', {}), 'conversationId');
    });

    it("once she resolves it, the customer's other conversations are closed to her again", async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada', { capacity: { chat: 1 } });
      const first = await visitorWrites(h, 'first');
      await once(ada.socket, 'assigned');
      await emitAck(ada.socket, 'resolve', { conversationId: first.conversationId });
      await emitAck(ada.socket, 'status', { status: 'away' });
      const lin = await agentConsole(h, 'Lin');
      h.clock.advance(3_600 * SECOND);
      const again = await emitAck(first.v, 'message', { text: 'second', clientMessageId: 'c-2' });
      await once(lin.socket, 'assigned');
      expect((await emitAck(lin.socket, 'transcript', { conversationId: first.conversationId })).ok).to.equal(
        true,
      );
      await emitAck(lin.socket, 'resolve', { conversationId: again.conversationId });
      expectNotOwner(
        await emitAck(lin.socket, 'transcript', { conversationId: first.conversationId }),
        lin.agent.id,
        first.conversationId,
        'read',
      );
    });
  });

  describe('a colleague taken off a conversation', () => {
    it('is told at once when their cover ends, and when a conversation they consult on is resolved', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
      const { conversationId, v } = await visitorWrites(h);
      const grace = await agentConsole(h, 'Grace', { capacity: { voice: 0, sms: 0, chat: 1, email: 0 } });
      // Ada steps away; the visitor writes; two minutes on, Grace covers.
      await h.admin.put(`/api/agents/${ada.agent.id}/status`).send({ status: 'away' }).expect(200);
      await emitAck(v, 'message', { text: 'hello?', clientMessageId: 'c-2' });
      h.clock.advance(121 * SECOND);
      await h.sb.router.tick();
      await once(grace.socket, 'assigned', (e) => e.conversation.id === conversationId);
      // Ada is back: Grace's console hears the cover ended, without waiting for a catch-up.
      await h.admin.put(`/api/agents/${ada.agent.id}/status`).send({ status: 'available' }).expect(200);
      const ended = await once(
        grace.socket,
        'conversation.updated',
        (e) => e.conversation.id === conversationId && e.conversation.cover === null,
      );
      expect(ended.conversation.ownerId).to.equal(ada.agent.id);

      // Grace is asked to help; Ada resolves: Grace's console hears it, though she is no longer on it.
      await h.sb.router.consult(ada.agent.id, conversationId, grace.agent.id);
      await h.sb.router.joinConsult(grace.agent.id, conversationId);
      await h.sb.router.resolve(ada.agent.id, conversationId);
      const resolved = await once(
        grace.socket,
        'conversation.updated',
        (e) => e.conversation.id === conversationId && e.conversation.status === 'resolved',
      );
      expect(resolved.conversation.consultants).to.deep.equal([]);
    });
  });

  describe("when an agent's last console closes", () => {
    /** Until the server has seen the socket go (its disconnect handler has run). */
    async function gone(h: Harness, socket: Socket): Promise<void> {
      const id = socket.id;
      socket.disconnect();
      for (let i = 0; i < 200 && id && h.sb.io.of('/agent').sockets.has(id); i++) {
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    const statusOf = async (h: Harness, id: string) => {
      const { agent } = (await h.admin.get(`/api/agents/${id}`).expect(200)).body;
      return [agent.status, agent.statusReason ?? null];
    };

    it('an available agent is set away a minute after it closed, and available again by her next console', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      await agentConsole(h, 'Grace');
      await gone(h, ada.socket);
      h.clock.advance(59 * SECOND);
      await h.sb.router.tick();
      expect(await statusOf(h, ada.agent.id)).to.deep.equal(['available', null]);
      h.clock.advance(1 * SECOND);
      expect(await h.sb.router.tick()).to.equal(1);
      expect(await statusOf(h, ada.agent.id)).to.deep.equal(['away', 'console closed']);
      // Nothing more goes to her: a visitor who writes now reaches Grace.
      const { conversationId } = await visitorWrites(h);
      expect((await h.store.getConversation(conversationId))?.ownerId).to.not.equal(ada.agent.id);

      const back = h.agentSocket(ada.token);
      expect((await once(back, 'hello')).agent.status).to.equal('away');
      expect((await once(back, 'agent', (e) => e.agent.status === 'available')).agent.id).to.equal(
        ada.agent.id,
      );
      expect(await statusOf(h, ada.agent.id)).to.deep.equal(['available', null]);
    });

    it('an agent made available with no console open anywhere is set away a minute later; her first console makes her available', async () => {
      const h = sb();
      // Created available through the API, and set available from the team view: nobody has opened a console.
      const { agent: lin, token } = await h.createAgent('Lin');
      const { agent: max } = await h.createAgent('Max', { status: 'away' });
      await h.admin.put(`/api/agents/${max.id}/status`).send({ status: 'available' }).expect(200);
      // One who works in Slack, and one with a console open, are left available.
      const { agent: sam } = await h.createAgent('Sam', { slackUserId: 'U0SAM0001' });
      const ada = await agentConsole(h, 'Ada');
      h.clock.advance(59 * SECOND);
      await h.sb.router.tick();
      expect(await statusOf(h, lin.id)).to.deep.equal(['available', null]);
      h.clock.advance(1 * SECOND);
      await h.sb.router.tick();
      expect(await statusOf(h, lin.id)).to.deep.equal(['away', 'console closed']);
      expect(await statusOf(h, max.id)).to.deep.equal(['away', 'console closed']);
      expect(await statusOf(h, sam.id)).to.deep.equal(['available', null]);
      expect(await statusOf(h, ada.agent.id)).to.deep.equal(['available', null]);
      // A visitor reaches someone who is there.
      const { conversationId } = await visitorWrites(h);
      expect((await h.store.getConversation(conversationId))?.ownerId).to.be.oneOf([ada.agent.id, sam.id]);
      // Lin opens her console: available.
      const first = h.agentSocket(token);
      await once(first, 'hello');
      await once(first, 'agent', (e) => e.agent.status === 'available');
      expect(await statusOf(h, lin.id)).to.deep.equal(['available', null]);
    });

    it('a reload keeps her available; an agent away on her own, or linked to Slack, is left as she is', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const bea = await agentConsole(h, 'Bea');
      const cy = await agentConsole(h, 'Cy', { slackUserId: 'U0CY00001' });
      // Ada reloads: her console is back before the minute is up.
      await gone(h, ada.socket);
      await once(h.agentSocket(ada.token), 'hello');
      // Bea goes to lunch, then closes her console; Cy closes hers (she works in Slack too).
      await h.admin
        .put(`/api/agents/${bea.agent.id}/status`)
        .send({ status: 'away', reason: 'lunch' })
        .expect(200);
      await gone(h, bea.socket);
      await gone(h, cy.socket);
      h.clock.advance(2 * 60 * SECOND);
      await h.sb.router.tick();
      expect(await statusOf(h, ada.agent.id)).to.deep.equal(['available', null]);
      expect(await statusOf(h, bea.agent.id)).to.deep.equal(['away', 'lunch']);
      expect(await statusOf(h, cy.agent.id)).to.deep.equal(['available', null]);
      // Bea's next console does not end her lunch.
      const again = h.agentSocket(bea.token);
      await once(again, 'hello');
      await flush(again, 'agents', {});
      expect(await statusOf(h, bea.agent.id)).to.deep.equal(['away', 'lunch']);
    });
  });

  describe('the owner going offline (timers on the manual clock)', () => {
    it('a chat waits 120 s for its owner, then moves to a colleague, who gets assigned', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const grace = await agentConsole(h, 'Grace');
      expect((await emitAck(ada.socket, 'status', { status: 'offline' })).agent.status).to.equal('offline');

      h.clock.advance(119 * SECOND);
      await h.sb.router.tick();
      expect((await h.store.getConversation(conversationId))!.ownerId).to.equal(ada.agent.id);
      expect(pending(grace.socket, 'assigned')).to.deep.equal([]);

      h.clock.advance(1 * SECOND);
      await h.sb.router.tick();
      const view = await once(grace.socket, 'assigned');
      expect(view.conversation.id).to.equal(conversationId);
      expect(view.conversation.ownerId).to.equal(grace.agent.id);
      expect(view.conversation.ownership.at(-1)).to.deep.equal({
        from: ada.agent.id,
        to: grace.agent.id,
        reason: 'owner_offline',
        at: h.clock.now(),
      });
      const updated = await once(
        ada.socket,
        'conversation.updated',
        (u) => u.conversation.ownerId === grace.agent.id,
      );
      expect(updated.conversation.id).to.equal(conversationId);
    });
  });

  describe('resolve and promise', () => {
    it('resolve: the visitor gets status resolved; the agent is free for the next', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada', { capacity: { chat: 1 } });
      const first = await visitorWrites(h, 'first');
      await once(ada.socket, 'assigned');
      h.clock.advance(SECOND);
      const second = await visitorWrites(h, 'second');
      expect(await emitAck(ada.socket, 'resolve', { conversationId: first.conversationId })).to.deep.equal({
        ok: true,
      });
      expect(await once(first.v, 'status', (s) => s.state === 'resolved')).to.deep.equal({
        conversationId: first.conversationId,
        state: 'resolved',
      });
      const next = await once(ada.socket, 'assigned');
      expect(next.conversation.id).to.equal(second.conversationId);
      const resolved = await h.store.getConversation(first.conversationId);
      expect(resolved!.status).to.equal('resolved');
      expect(resolved!.resolvedAt).to.equal(h.clock.now());
    });

    it('a reply to a conversation she resolved tells its owner it is resolved, not that it is not hers', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      await emitAck(ada.socket, 'resolve', { conversationId });
      expect(
        await emitAck(ada.socket, 'reply', {
          conversationId,
          text: 'one more thing',
          clientMessageId: 'r-9',
        }),
      ).to.deep.equal({
        ok: false,
        error: {
          code: 'invalid_state',
          message: `agent ${ada.agent.id} may not reply to conversation ${conversationId}: it is resolved`,
        },
      });
      expect((await h.store.listMessages(conversationId)).map((m) => m.text)).to.deep.equal([
        'my order is late',
      ]);
    });

    it('resolve with a follow-up makes a follow-up promise; a past followUpAt is refused', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      expectInvalid(
        await emitAck(ada.socket, 'resolve', { conversationId, followUpAt: h.clock.now() }),
        'followUpAt',
      );
      const followUpAt = h.clock.now() + 24 * 3600 * SECOND;
      expect(await emitAck(ada.socket, 'resolve', { conversationId, followUpAt })).to.deep.equal({
        ok: true,
      });
      const conv = (await h.admin.get(`/api/conversations/${conversationId}`).expect(200)).body;
      expect(conv.conversation.status).to.equal('resolved');
      expect(conv.conversation.followUpAt).to.equal(followUpAt);
      expect(
        conv.promises.map((p: { kind: string; dueAt: number; state: string }) => [p.kind, p.dueAt, p.state]),
      ).to.deep.equal([['follow-up', followUpAt, 'open']]);
    });

    it('promise: ack with the open promise; a due date in the past is refused', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const dueAt = h.clock.now() + 3600 * SECOND;
      const ack = await emitAck(ada.socket, 'promise', {
        conversationId,
        dueAt,
        text: 'I will call you back by 3pm',
      });
      expect(ack.ok).to.equal(true);
      expect(ack.promise.conversationId).to.equal(conversationId);
      expect(ack.promise.kind).to.equal('agent');
      expect(ack.promise.state).to.equal('open');
      expect(ack.promise.dueAt).to.equal(dueAt);
      expect(ack.promise.text).to.equal('I will call you back by 3pm');
      expect(ack.promise.agentId).to.equal(ada.agent.id);
      expect(ack.promise.createdAt).to.equal(h.clock.now());
      const conv = (await h.admin.get(`/api/conversations/${conversationId}`).expect(200)).body;
      expect(conv.promises.map((p: { id: string }) => p.id)).to.deep.equal([ack.promise.id]);
      expectInvalid(
        await emitAck(ada.socket, 'promise', { conversationId, dueAt: h.clock.now() - 1, text: 'yesterday' }),
        'dueAt',
      );
    });
  });

  describe('malformed payloads', () => {
    it('invalid_input naming the field', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const { conversationId } = await visitorWrites(h);
      await once(ada.socket, 'assigned');
      const cases: Array<[string, unknown, string]> = [
        ['status', {}, 'status'],
        ['reply', { text: 'hi', clientMessageId: 'r-1' }, 'conversationId'],
        ['reply', { conversationId, text: 42, clientMessageId: 'r-1' }, 'text'],
        ['reply', { conversationId, text: 'hi' }, 'clientMessageId'],
        ['reply', { conversationId, text: 'x'.repeat(4001), clientMessageId: 'r-1' }, 'text'],
        ['reply', { conversationId, text: '   ', clientMessageId: 'r-1' }, 'text'],
        ['note', { conversationId }, 'text'],
        ['resolve', { conversationId: 42 }, 'conversationId'],
        ['resolve', { conversationId, followUpAt: 'tomorrow' }, 'followUpAt'],
        ['consult', { conversationId }, 'agentId'],
        ['consult.join', {}, 'conversationId'],
        ['consult.leave', { conversationId: '' }, 'conversationId'],
        ['handoff', { conversationId, toAgentId: 'ag_x' }, 'note'],
        ['handoff', { conversationId, note: 'n' }, 'toAgentId'],
        ['handoff.accept', {}, 'conversationId'],
        ['handoff.decline', { conversationId: null }, 'conversationId'],
        ['promise', { conversationId, dueAt: 'tomorrow', text: 'soon' }, 'dueAt'],
        ['promise', { conversationId, dueAt: h.clock.now() + 1000 }, 'text'],
        ['typing', { conversationId }, 'typing'],
      ];
      for (const [event, payload, field] of cases) {
        const ack = await emitAck(ada.socket, event, payload);
        expect(ack.ok, `${event} ${JSON.stringify(payload)}`).to.equal(false);
        expect(ack.error.code, `${event} ${JSON.stringify(payload)}`).to.equal('invalid_input');
        expect(ack.error.field, `${event} ${JSON.stringify(payload)}`).to.equal(field);
      }
      const conv = await h.store.getConversation(conversationId);
      expect(conv!.status).to.equal('assigned');
      expect(conv!.ownerId).to.equal(ada.agent.id);
      expect(await h.store.listMessages(conversationId)).to.have.length(1);
    });

    it('unknown conversation ids are not_found', async () => {
      const h = sb();
      const ada = await agentConsole(h, 'Ada');
      const ack = await emitAck(ada.socket, 'reply', {
        conversationId: 'cv_missing',
        text: 'hi',
        clientMessageId: 'r-1',
      });
      expect(ack).to.deep.equal({
        ok: false,
        error: { code: 'not_found', message: 'conversation cv_missing does not exist' },
      });
    });
  });
});
