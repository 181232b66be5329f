// Callers who withhold their number reach a person like anyone else: each call is
// a customer of its own (known by its CallSid), nothing is offered that needs a
// number (a call back, a text), and the agents see "Hidden number".
import { expect } from 'chai';
import { io } from 'socket.io-client';
import request from 'supertest';
import { defaultPolicy } from '../../routing/policy.js';
import { agentToken } from '../../shared/tokens.js';
import { all, only, queryOf, verbs } from '../support/twiml.js';
import {
  gathered,
  incomingCall,
  MINUTE,
  newCall,
  queueResult,
  queueWait,
  useTwilioHarness,
} from './twilio-harness.js';

/** What callers hear by default (the policy's texts). */
const TEXTS = defaultPolicy().texts;

/** What Twilio passes as `From` for a withheld number, and caller ids that are no number at all. */
const HIDDEN = [
  'anonymous',
  'Restricted',
  '+266696687',
  '+86282452253',
  '+7378742833',
  '+2562533',
  '+8656696',
];

describe('Voice channel: callers who withhold their number', () => {
  const h = useTwilioHarness();

  it('ring a free agent straight away, each call a customer of its own known by the call', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana', capacity: { voice: 10 } });
    const seen = new Set<string>();
    for (const from of [...HIDDEN, 'client:kiosk-3']) {
      const call = newCall(from);
      const root = await h().twiml('/twilio/voice', incomingCall(call));
      expect(verbs(root), from).to.deep.equal(['Dial']);
      const dial = only(root, 'Dial');
      expect(queryOf(dial.attrs.action).agent, from).to.equal(ana.id);
      const conversation = await h().store.getConversation(queryOf(dial.attrs.action).conversation!);
      const customer = await h().store.getCustomer(conversation!.customerId);
      expect(customer?.identities, from).to.deep.equal([{ channel: 'call', address: call.CallSid }]);
      // Nothing to call or text back: no phone learnt, no address on the message.
      expect(customer?.facts.phone, from).to.equal(undefined);
      const [message] = await h().store.listMessages(conversation!.id);
      expect([message?.text, message?.from, message?.externalId], from).to.deep.equal([
        'Phone call',
        undefined,
        call.CallSid,
      ]);
      seen.add(customer!.id);
    }
    // Two callers who both hide their number are two customers, never one shared history.
    expect(seen.size).to.equal(HIDDEN.length + 1);
  });

  it("the agent's console is never sent the call's id as who the customer is: the identity reads withheld", async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const socket = io(`${h().local}/agent`, {
      auth: { token: agentToken(h().sb.tokens, ana) },
      transports: ['websocket'],
      forceNew: true,
    });
    const heard: Array<[string, unknown[]]> = [];
    socket.onAny((event, ...args) => heard.push([event, args]));
    try {
      await new Promise((resolve) => socket.once('hello', resolve));
      const call = newCall('anonymous');
      const dial = only(await h().twiml('/twilio/voice', incomingCall(call)), 'Dial');
      const conversationId = queryOf(dial.attrs.action).conversation!;
      await h().sb.router.acceptOffer(ana.id, conversationId);
      const view = await socket.emitWithAck('conversation', { conversationId });
      expect(view.view.customer.identities).to.deep.equal([{ channel: 'call', address: 'withheld' }]);
      expect(heard.map(([event]) => event)).to.include('offer');
      // What the console shows of the customer (their message keeps the call's id as its external id, as every
      // call's does).
      const customers = heard.flatMap(([, args]) =>
        args.flatMap((a) => {
          const v = a as { view?: { customer?: unknown }; customer?: unknown };
          const c = v.view?.customer ?? v.customer;
          return c ? [c] : [];
        }),
      );
      customers.push(view.view.customer);
      expect(customers).to.have.length.above(1);
      expect(JSON.stringify(customers)).not.to.contain(call.CallSid);
    } finally {
      socket.close();
    }
  });

  it('cannot be blocked, by their agent or the admin: their next call would be someone new', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const dial = only(await h().twiml('/twilio/voice', incomingCall(newCall('anonymous'))), 'Dial');
    const conversationId = queryOf(dial.attrs.action).conversation!;
    await h().sb.router.acceptOffer(ana.id, conversationId);
    const refused = await h()
      .sb.router.blockFromConversation(ana.id, conversationId, 'abusive')
      .then(
        () => null,
        (err: { code: string; status: number }) => [err.code, err.status],
      );
    expect(refused).to.deep.equal(['cannot_block', 409]);
    const conversation = await h().store.getConversation(conversationId);
    const res = await request(h().local)
      .post(`/api/customers/${conversation!.customerId}/block`)
      .set('Authorization', `Bearer ${h().config.adminToken}`)
      .send({ reason: 'abusive' })
      .expect(409);
    expect(res.body.error.code).to.equal('cannot_block');
    expect(res.body.error.message).to.contain('their next call would be someone new');
    expect((await h().store.getCustomer(conversation!.customerId))?.blocked).to.equal(undefined);
    expect((await h().store.getConversation(conversationId))?.status).to.equal('assigned');
  });

  it('a webhook Twilio sends again for the same call is the same customer and the same answer', async () => {
    await h().agent('Ana', { clientIdentity: 'ana' });
    const call = newCall('anonymous');
    const first = await h().twiml('/twilio/voice', incomingCall(call));
    const again = await h().twiml('/twilio/voice', incomingCall(call));
    expect(again).to.deep.equal(first);
    expect(await h().store.listConversations({})).to.have.length(1);
  });

  it('hold without a call back on offer; pressing 1 holds on', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana', capacity: { voice: 1 } });
    const busy = only(await h().twiml('/twilio/voice', incomingCall(newCall('+14155550123'))), 'Dial');
    await h().sb.router.acceptOffer(ana.id, queryOf(busy.attrs.action).conversation!);

    const call = newCall('anonymous');
    let root = await h().twiml('/twilio/voice', incomingCall(call));
    expect(verbs(root)).to.deep.equal(['Say', 'Enqueue']);
    expect(only(root, 'Say').text).to.match(/^You are number 1 in line; a person will be with you within/);
    const conversationId = queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation!;
    // The team view names them as the consoles do, never by the call's id.
    const live = await request(h().local)
      .get('/api/live')
      .set('Authorization', `Bearer ${h().config.adminToken}`)
      .expect(200);
    expect(
      live.body.waiting.map((w: { customer: string; customerId: string }) => [
        w.customer,
        w.customerId.slice(-4),
      ]),
    ).to.deep.equal([
      [
        `Hidden number ${live.body.waiting[0].customerId.slice(-4)}`,
        live.body.waiting[0].customerId.slice(-4),
      ],
    ]);
    root = await h().twiml(`/twilio/voice/wait?conversation=${conversationId}`, queueWait(call, 1));
    expect(verbs(root)).to.deep.equal(['Gather']);
    expect(all(root, 'Say')).to.deep.equal([]);
    root = await h().twiml(`/twilio/voice/gather?conversation=${conversationId}`, gathered(call, '1'));
    expect(verbs(root)).to.deep.equal(['Redirect']);
    expect(await h().sb.router.openCallback(conversationId)).to.equal(null);
    // Twilio cannot hold the call: no call back to fall back on either.
    root = await h().twiml(
      `/twilio/voice/queue?conversation=${conversationId}`,
      queueResult(call, 'queue-full'),
    );
    expect(only(root, 'Say').text).to.equal(TEXTS.callUnavailable);
  });

  it('a text to them fails at once saying why; no survey is sent after the call', async () => {
    const ana = await h().agent('Ana', { clientIdentity: 'ana' });
    const dial = only(await h().twiml('/twilio/voice', incomingCall(newCall('anonymous'))), 'Dial');
    const conversationId = queryOf(dial.attrs.action).conversation!;
    await h().sb.router.acceptOffer(ana.id, conversationId);
    const reply = await h().sb.router.reply(ana.id, conversationId, 'Here is the link we talked about.');
    await h().idle();
    const failed = await h().store.getMessage(reply.id);
    expect([failed?.delivery.state, failed?.delivery.reason]).to.deep.equal([
      'failed',
      'the caller withheld their number: no text can reach them',
    ]);
    await h().sb.router.resolve(ana.id, conversationId);
    await h().later(60 * MINUTE);
    expect(h().eventsOf('survey.sent')).to.deep.equal([]);
    const messages = await h().store.listMessages(conversationId);
    expect(messages.filter((m) => m.author.type === 'system')).to.deep.equal([]);
    expect(h().standIn.messages()).to.deep.equal([]);
  });
});

describe('Voice channel: callers who withhold their number, outside the hours', () => {
  // The manual clock starts on Monday 5 January 2026, 09:00 UTC: 04:00 in New York, which opens at 09:00.
  const hours = { timeZone: 'America/New_York', week: { mon: '09:00-17:00' } };
  const h = useTwilioHarness({ env: { ROUTING_POLICY: JSON.stringify({ hours }) } });

  it('hear when the team opens and goodbye, with no call back offered', async () => {
    const call = newCall('anonymous');
    let root = await h().twiml('/twilio/voice', incomingCall(call));
    expect(only(root, 'Say').text).to.equal('We are closed right now and open again in 5 hours.');
    const conversationId = queryOf(only(root, 'Enqueue').attrs.waitUrl).conversation!;
    root = await h().twiml(`/twilio/voice/wait?conversation=${conversationId}`, queueWait(call, 1));
    expect(verbs(root)).to.deep.equal(['Leave']);
    root = await h().twiml(`/twilio/voice/queue?conversation=${conversationId}`, queueResult(call, 'leave'));
    expect(verbs(root)).to.deep.equal(['Say', 'Hangup']);
    expect(only(root, 'Say').text).to.equal(TEXTS.closedGoodbye);
    expect(await h().sb.router.openCallback(conversationId)).to.equal(null);
  });
});
