// The website chat channel: socket.io namespace /chat, as the widget uses it.
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { defaultPolicy } from '../../routing/policy.js';
import { TokenSigner } from '../../shared/tokens.js';
import {
  emitAck,
  flush,
  type Harness,
  type Json,
  once,
  pending,
  SECOND,
  TOKEN_SECRET,
  useHarness,
} from '../server/harness.js';

interface Session {
  visitorToken: string;
  customerId: string;
  conversationId: string | null;
  transcripts: boolean;
  locale: string;
  texts: Record<string, string>;
}

/** A visitor connected and past the session event. */
async function connected(h: Harness, token?: string): Promise<{ v: Socket; session: Session }> {
  const v = h.visitor(token);
  const session = await once<Session>(v, 'session');
  return { v, session };
}

/** A new visitor writes once: the status they are sent, without its conversation id (checked here). */
async function firstStatus(h: Harness): Promise<Json> {
  const { v } = await connected(h);
  const ack = await emitAck(v, 'message', { text: 'anyone?', clientMessageId: 'c-1' });
  const { conversationId, ...status } = await once(v, 'status');
  expect(conversationId).to.equal(ack.conversationId);
  return status;
}

/** An agent console connected and greeted. */
async function console_(h: Harness, name: string, input: Parameters<Harness['createAgent']>[1] = {}) {
  const { agent, token } = await h.createAgent(name, input);
  const socket = h.agentSocket(token);
  await once(socket, 'hello');
  return { agent, token, socket };
}

const CHAT_ETA_ONE_SERVER = 1106; // 90th percentile of Exp(mean 480 s), rounded up

describe('/chat namespace', () => {
  const sb = useHarness();

  describe('session', () => {
    it('a new visitor gets a signed token, a customer and no conversation yet', async () => {
      const h = sb();
      const { session } = await connected(h);
      expect(Object.keys(session).sort()).to.deep.equal([
        'conversationId',
        'customerId',
        'locale',
        'texts',
        'transcripts',
        'visitorToken',
      ]);
      expect(session.conversationId).to.equal(null);
      // What the widget says, in the policy's language: the English defaults here.
      expect(session.locale).to.equal('en');
      expect(session.texts).to.deep.equal(defaultPolicy().widgetTexts);
      // Email is off here: the conversation cannot be asked for by email.
      expect(session.transcripts).to.equal(false);
      expect(session.customerId).to.be.a('string').and.match(/^\S+$/);
      const visitorId = h.sb.tokens.verify('visitor', session.visitorToken);
      expect(visitorId).to.be.a('string');
      expect(session.visitorToken).to.equal(h.sb.tokens.sign('visitor', visitorId!));
      const customer = (await h.admin.get(`/api/customers/${session.customerId}`).expect(200)).body.customer;
      expect(customer.identities).to.deep.equal([{ channel: 'chat', address: visitorId }]);
    });

    it('two new visitors are two customers', async () => {
      const h = sb();
      const a = await connected(h);
      const b = await connected(h);
      expect(a.session.customerId).to.not.equal(b.session.customerId);
      expect(a.session.visitorToken).to.not.equal(b.session.visitorToken);
    });

    it('reconnecting with the token: same customer and conversation, the history re-sent, the status', async () => {
      const h = sb();
      const { socket: ada } = await console_(h, 'Ada');
      const first = await connected(h);
      const sent = await emitAck(first.v, 'message', { text: 'where is my parcel?', clientMessageId: 'm1' });
      const view = await once(ada, 'assigned');
      h.clock.advance(5 * SECOND);
      const reply = await emitAck(ada, 'reply', {
        conversationId: view.conversation.id,
        text: 'Let me look.',
        clientMessageId: 'r1',
      });
      expect(reply.ok).to.equal(true);
      await once(first.v, 'message', (m) => m.text === 'Let me look.');
      const note = await emitAck(ada, 'note', {
        conversationId: view.conversation.id,
        text: 'internal only',
      });
      expect(note.ok).to.equal(true);
      first.v.disconnect();

      const again = await connected(h, first.session.visitorToken);
      expect(again.session.customerId).to.equal(first.session.customerId);
      expect(again.session.conversationId).to.equal(sent.conversationId);
      expect(again.session.visitorToken).to.equal(first.session.visitorToken);
      const m1 = await once(again.v, 'message');
      const m2 = await once(again.v, 'message');
      expect(m1).to.deep.equal({
        id: sent.messageId,
        conversationId: sent.conversationId,
        direction: 'in',
        author: { type: 'customer' },
        text: 'where is my parcel?',
        at: h.clock.now() - 5 * SECOND,
      });
      expect(m2).to.deep.equal({
        id: reply.messageId,
        conversationId: sent.conversationId,
        direction: 'out',
        author: { type: 'agent', name: 'Ada' },
        text: 'Let me look.',
        at: h.clock.now(),
      });
      expect(await once(again.v, 'status')).to.deep.equal({
        conversationId: sent.conversationId,
        state: 'assigned',
        agent: { name: 'Ada' },
      });
      await flush(again.v);
      expect(pending(again.v, 'message')).to.deep.equal([]);
    });

    it('a forged, tampered or garbage visitor token is refused with invalid_visitor_token', async () => {
      const h = sb();
      const { session } = await connected(h);
      const visitorId = h.sb.tokens.verify('visitor', session.visitorToken)!;
      const otherSecret = new TokenSigner(`${TOKEN_SECRET}-other`);
      const tokens: unknown[] = [
        'garbage',
        'a.b',
        `${visitorId}.`,
        otherSecret.sign('visitor', visitorId),
        h.sb.tokens.sign('agent', visitorId), // right secret, wrong purpose
        `${session.visitorToken.slice(0, -1)}${session.visitorToken.endsWith('A') ? 'B' : 'A'}`,
        `v_someoneelse.${session.visitorToken.split('.').at(-1)}`,
        42,
        { id: visitorId },
      ];
      for (const token of tokens) {
        const v = h.visitor(token);
        const err = await once<Error>(v, 'connect_error');
        expect(err.message, `token ${JSON.stringify(token)}`).to.equal('invalid_visitor_token');
        expect(pending(v, 'session')).to.deep.equal([]);
      }
    });

    it('an empty token starts a new visitor', async () => {
      const h = sb();
      const a = await connected(h);
      const b = await connected(h, '');
      expect(b.session.customerId).to.not.equal(a.session.customerId);
    });
  });

  describe('prechat: ask only what is not known', () => {
    it('asks name and email, then only what is missing after identify', async () => {
      const h = sb();
      const { v, session } = await connected(h);
      expect(await once(v, 'prechat')).to.deep.equal({ ask: ['name', 'email'] });
      expect(await emitAck(v, 'identify', { name: 'Mary Major' })).to.deep.equal({ ok: true });
      expect(await once(v, 'prechat')).to.deep.equal({ ask: ['email'] });
      expect(await emitAck(v, 'identify', { email: 'Mary@Example.com' })).to.deep.equal({ ok: true });
      expect(await once(v, 'prechat')).to.deep.equal({ ask: [] });

      const customer = (await h.admin.get(`/api/customers/${session.customerId}`).expect(200)).body.customer;
      expect(customer.name).to.equal('Mary Major');
      expect(customer.facts.name).to.deep.equal({
        value: 'Mary Major',
        source: 'chat:prechat',
        at: h.clock.now(),
      });
      expect(customer.facts.email).to.deep.equal({
        value: 'mary@example.com',
        source: 'chat:prechat',
        at: h.clock.now(),
      });
    });

    it('a returning visitor is asked only for what is still missing', async () => {
      const h = sb();
      const first = await connected(h);
      expect(await once(first.v, 'prechat')).to.deep.equal({ ask: ['name', 'email'] });
      await emitAck(first.v, 'identify', { name: 'Mary Major' });
      first.v.disconnect();
      const again = await connected(h, first.session.visitorToken);
      expect(await once(again.v, 'prechat')).to.deep.equal({ ask: ['email'] });
    });

    it('a bad identify is refused naming the field and changes nothing', async () => {
      const h = sb();
      const { v, session } = await connected(h);
      const ack = await emitAck(v, 'identify', { name: 42 });
      expect(ack.ok).to.equal(false);
      expect(ack.error.code).to.equal('invalid_input');
      expect(ack.error.field).to.equal('name');
      const bad = await emitAck(v, 'identify', { email: 'not-an-email' });
      expect(bad.ok).to.equal(false);
      expect(bad.error.code).to.equal('invalid_input');
      expect(bad.error.field).to.equal('email');
      const customer = (await h.admin.get(`/api/customers/${session.customerId}`).expect(200)).body.customer;
      expect(customer.facts).to.deep.equal({});
    });
  });

  describe('messages', () => {
    it('ack {ok, messageId, conversationId}; the session follows the new conversation', async () => {
      const h = sb();
      const { v, session } = await connected(h);
      const ack = await emitAck(v, 'message', { text: 'hello', clientMessageId: 'c-1' });
      expect(Object.keys(ack).sort()).to.deep.equal(['conversationId', 'messageId', 'ok']);
      expect(ack.ok).to.equal(true);
      const s2 = await once<Session>(v, 'session', (s) => s.conversationId !== null);
      expect(s2).to.deep.equal({ ...session, conversationId: ack.conversationId });
      const stored = await h.store.listMessages(ack.conversationId);
      expect(stored.map((m) => [m.id, m.direction, m.channel, m.text])).to.deep.equal([
        [ack.messageId, 'in', 'chat', 'hello'],
      ]);
      const conv = await h.store.getConversation(ack.conversationId);
      expect(conv!.customerId).to.equal(session.customerId);
    });

    it('the next message joins the same conversation', async () => {
      const h = sb();
      const { v } = await connected(h);
      const a = await emitAck(v, 'message', { text: 'one', clientMessageId: 'c-1' });
      const b = await emitAck(v, 'message', { text: 'two', clientMessageId: 'c-2' });
      expect(b.conversationId).to.equal(a.conversationId);
      expect(b.messageId).to.not.equal(a.messageId);
      expect((await h.store.listMessages(a.conversationId)).map((m) => m.text)).to.deep.equal(['one', 'two']);
    });

    it('resending the same clientMessageId returns the same messageId and stores one message', async () => {
      const h = sb();
      const { v } = await connected(h);
      const first = await emitAck(v, 'message', { text: 'hello', clientMessageId: 'same' });
      const again = await emitAck(v, 'message', { text: 'hello', clientMessageId: 'same' });
      expect(again).to.deep.equal(first);
      expect((await h.store.listMessages(first.conversationId)).map((m) => m.id)).to.deep.equal([
        first.messageId,
      ]);
    });

    it('the same clientMessageId from another visitor is another message', async () => {
      const h = sb();
      const a = await connected(h);
      const b = await connected(h);
      const ma = await emitAck(a.v, 'message', { text: 'hi', clientMessageId: 'c-1' });
      const mb = await emitAck(b.v, 'message', { text: 'hi', clientMessageId: 'c-1' });
      expect(mb.messageId).to.not.equal(ma.messageId);
      expect(mb.conversationId).to.not.equal(ma.conversationId);
    });

    it('a resend after reconnecting (same token) returns the same messageId', async () => {
      const h = sb();
      const first = await connected(h);
      const sent = await emitAck(first.v, 'message', { text: 'hello', clientMessageId: 'c-1' });
      first.v.disconnect();
      const again = await connected(h, first.session.visitorToken);
      expect(await emitAck(again.v, 'message', { text: 'hello', clientMessageId: 'c-1' })).to.deep.equal(
        sent,
      );
      expect(await h.store.listMessages(sent.conversationId)).to.have.length(1);
    });

    it('malformed payloads: invalid_input naming the field, nothing stored', async () => {
      const h = sb();
      const { v, session } = await connected(h);
      const cases: Array<[unknown, string]> = [
        [{ clientMessageId: 'c-1' }, 'text'],
        [{ text: 42, clientMessageId: 'c-1' }, 'text'],
        [{ text: ['hi'], clientMessageId: 'c-1' }, 'text'],
        [{ text: '   ', clientMessageId: 'c-1' }, 'text'],
        [{ text: 'hi' }, 'clientMessageId'],
        [{ text: 'hi', clientMessageId: '' }, 'clientMessageId'],
        [{ text: 'hi', clientMessageId: 7 }, 'clientMessageId'],
      ];
      for (const [payload, field] of cases) {
        const ack = await emitAck(v, 'message', payload);
        expect(ack.ok, JSON.stringify(payload)).to.equal(false);
        expect(ack.error.code, JSON.stringify(payload)).to.equal('invalid_input');
        expect(ack.error.field, JSON.stringify(payload)).to.equal(field);
        expect(ack.error.message, JSON.stringify(payload)).to.match(new RegExp(`^message: ${field}: `));
      }
      const nothing = await emitAck(v, 'message', null);
      expect(nothing.ok).to.equal(false);
      expect(nothing.error.code).to.equal('invalid_input');
      expect(await h.store.openConversationOf(session.customerId)).to.equal(null);
    });

    it('text over 4,000 characters is rejected; 4,000 is accepted', async () => {
      const h = sb();
      const { v } = await connected(h);
      const long = await emitAck(v, 'message', { text: 'x'.repeat(4001), clientMessageId: 'c-1' });
      expect(long).to.deep.equal({
        ok: false,
        error: {
          code: 'invalid_input',
          message: 'message: text: must be at most 4000 characters',
          field: 'text',
        },
      });
      const max = await emitAck(v, 'message', { text: 'x'.repeat(4000), clientMessageId: 'c-2' });
      expect(max.ok).to.equal(true);
      expect((await h.store.listMessages(max.conversationId))[0]!.text).to.have.length(4000);
    });

    it('HTML in a message is stored and delivered verbatim, both ways', async () => {
      const h = sb();
      const { socket: ada } = await console_(h, 'Ada');
      const { v } = await connected(h);
      const html = `<img src=x onerror="alert('hi')"><b>bold</b> &amp; <script>1</script>`;
      const ack = await emitAck(v, 'message', { text: html, clientMessageId: 'c-1' });
      expect((await h.store.listMessages(ack.conversationId))[0]!.text).to.equal(html);
      const view = await once(ada, 'assigned');
      expect(view.messages[0].text).to.equal(html);

      const back = `<a href="javascript:alert(1)">click</a> <i>&lt;</i>`;
      await emitAck(ada, 'reply', { conversationId: ack.conversationId, text: back, clientMessageId: 'r1' });
      const out = await once(v, 'message', (m) => m.direction === 'out');
      expect(out.text).to.equal(back);
      expect(
        (await h.admin.get(`/api/conversations/${ack.conversationId}`).expect(200)).body.messages.map(
          (m: { text: string }) => m.text,
        ),
      ).to.deep.equal([html, back]);
    });

    it('characters nobody types (NUL, escape, bidi overrides) are taken out; one made of nothing else is empty', async () => {
      const h = sb();
      const { v, session } = await connected(h);
      const ack = await emitAck(v, 'message', {
        text: 'see invoice\u202Efdp.exe\u0000 \u05E9\u05DC\u05D5\u05DD\tok\nbye\u001B',
        clientMessageId: 'c-1',
      });
      // Hebrew (right to left) and tabs and line breaks stay.
      expect((await h.store.listMessages(ack.conversationId))[0]!.text).to.equal(
        'see invoicefdp.exe \u05E9\u05DC\u05D5\u05DD\tok\nbye',
      );
      expect(
        await emitAck(v, 'message', { text: '\u0000\u202E\u2066', clientMessageId: 'c-2' }),
      ).to.deep.equal({
        ok: false,
        error: { code: 'invalid_input', message: 'message: text: must not be empty', field: 'text' },
      });
      // Nothing but invisible characters (zero-width spaces and joiners, a byte-order mark) is empty too; a
      // joiner inside an emoji sequence stays.
      expect(
        await emitAck(v, 'message', { text: '\u200B\u200B \u200D\uFEFF', clientMessageId: 'c-3' }),
      ).to.deep.equal({
        ok: false,
        error: { code: 'invalid_input', message: 'message: text: must not be empty', field: 'text' },
      });
      expect(await h.store.listMessages(ack.conversationId)).to.have.length(1);
      await emitAck(v, 'message', { text: '\u{1F469}\u200D\u{1F4BB}', clientMessageId: 'c-4' });
      expect((await h.store.listMessages(ack.conversationId))[1]!.text).to.equal('\u{1F469}\u200D\u{1F4BB}');
      await emitAck(v, 'identify', { name: 'Eve\u202Egnp.tab' });
      expect((await h.store.getCustomer(session.customerId))?.facts.name?.value).to.equal('Evegnp.tab');
    });

    it('another tab of the same visitor follows the conversation from its first message', async () => {
      const h = sb();
      const a = await connected(h);
      const b = await connected(h, a.session.visitorToken);
      const ack = await emitAck(a.v, 'message', { text: 'from tab A', clientMessageId: 'c-1' });
      const s = await once<Session>(b.v, 'session', (x) => x.conversationId !== null);
      expect(s.conversationId).to.equal(ack.conversationId);
      const m = await once(b.v, 'message');
      expect(m.id).to.equal(ack.messageId);
      expect(m.text).to.equal('from tab A');
      expect(await once(b.v, 'status')).to.deep.equal({
        conversationId: ack.conversationId,
        state: 'queued',
        position: 1,
        closed: { opensInSeconds: null },
      });
    });
  });

  describe('status', () => {
    it('queued with a position, without an estimate, when nobody can serve it: nobody is free, someone is away', async () => {
      const h = sb();
      await h.createAgent('Ada', { status: 'away' });
      expect(await firstStatus(h)).to.deep.equal({ state: 'queued', position: 1, nobodyFree: true });
    });

    it('queued without an estimate and no `nobodyFree` when those available are busy', async () => {
      const h = sb();
      await h.createAgent('Ada', { capacity: { voice: 0, sms: 0, chat: 0, email: 0 } });
      expect(await firstStatus(h)).to.deep.equal({ state: 'queued', position: 1 });
    });

    it('queued with closed when nobody works at all: no agent available or away', async () => {
      expect(await firstStatus(sb())).to.deep.equal({
        state: 'queued',
        position: 1,
        closed: { opensInSeconds: null },
      });
    });

    it('queued with position and etaSeconds when the agents are busy', async () => {
      const h = sb();
      await console_(h, 'Ada', { capacity: { chat: 1 } });
      const first = await connected(h);
      await emitAck(first.v, 'message', { text: 'first', clientMessageId: 'c-1' });
      h.clock.advance(SECOND);
      const second = await connected(h);
      const ack = await emitAck(second.v, 'message', { text: 'second', clientMessageId: 'c-1' });
      expect(await once(second.v, 'status')).to.deep.equal({
        conversationId: ack.conversationId,
        state: 'queued',
        position: 1,
        etaSeconds: CHAT_ETA_ONE_SERVER,
      });
      h.clock.advance(SECOND);
      const third = await connected(h);
      const ack3 = await emitAck(third.v, 'message', { text: 'third', clientMessageId: 'c-1' });
      const status3 = await once(third.v, 'status');
      expect(status3.conversationId).to.equal(ack3.conversationId);
      expect(status3.state).to.equal('queued');
      expect(status3.position).to.equal(2);
      expect(status3.etaSeconds).to.be.a('number').and.greaterThan(CHAT_ETA_ONE_SERVER);
    });

    it('assigned with the agent name when one is available', async () => {
      const h = sb();
      await console_(h, 'Ada');
      const { v } = await connected(h);
      const ack = await emitAck(v, 'message', { text: 'hi', clientMessageId: 'c-1' });
      expect(await once(v, 'status')).to.deep.equal({
        conversationId: ack.conversationId,
        state: 'assigned',
        agent: { name: 'Ada' },
      });
    });

    it('queued, then assigned when an agent becomes available; the next in line moves up', async () => {
      const h = sb();
      const a = await connected(h);
      const ackA = await emitAck(a.v, 'message', { text: 'first', clientMessageId: 'c-1' });
      h.clock.advance(SECOND);
      const b = await connected(h);
      const ackB = await emitAck(b.v, 'message', { text: 'second', clientMessageId: 'c-1' });
      // Nobody works yet: they are told so.
      expect(await once(a.v, 'status')).to.deep.equal({
        conversationId: ackA.conversationId,
        state: 'queued',
        position: 1,
        closed: { opensInSeconds: null },
      });
      expect(await once(b.v, 'status')).to.deep.equal({
        conversationId: ackB.conversationId,
        state: 'queued',
        position: 2,
        closed: { opensInSeconds: null },
      });

      h.clock.advance(30 * SECOND);
      await console_(h, 'Ada', { capacity: { chat: 1 } });
      expect(await once(a.v, 'status', (s) => s.state === 'assigned')).to.deep.equal({
        conversationId: ackA.conversationId,
        state: 'assigned',
        agent: { name: 'Ada' },
      });
      expect(await once(b.v, 'status', (s) => s.position === 1)).to.deep.equal({
        conversationId: ackB.conversationId,
        state: 'queued',
        position: 1,
        etaSeconds: CHAT_ETA_ONE_SERVER,
      });
      // Nobody could say a time when they came; the first time shown is the wait promised (kept to, warned
      // about, seen by the lead).
      const waits = (await h.store.listPromises(ackB.conversationId)).filter((p) => p.kind === 'wait');
      expect(waits.map((p) => [p.state, p.dueAt])).to.deep.equal([
        ['open', h.clock.now() + CHAT_ETA_ONE_SERVER * SECOND],
      ]);
    });

    it('resolved when the agent resolves; the next message starts a new conversation', async () => {
      const h = sb();
      const { socket: ada } = await console_(h, 'Ada');
      const { v } = await connected(h);
      const ack = await emitAck(v, 'message', { text: 'hi', clientMessageId: 'c-1' });
      await once(v, 'status', (s) => s.state === 'assigned');
      expect(await emitAck(ada, 'resolve', { conversationId: ack.conversationId })).to.deep.equal({
        ok: true,
      });
      expect(await once(v, 'status', (s) => s.state === 'resolved')).to.deep.equal({
        conversationId: ack.conversationId,
        state: 'resolved',
      });
      const next = await emitAck(v, 'message', { text: 'one more thing', clientMessageId: 'c-2' });
      expect(next.conversationId).to.not.equal(ack.conversationId);
      expect(
        (await once<Session>(v, 'session', (s) => s.conversationId === next.conversationId)).conversationId,
      ).to.equal(next.conversationId);
    });

    it('its owner away: told so, with what is left of the wait for them; chatting with them again when back', async () => {
      const h = sb();
      const { socket: ada } = await console_(h, 'Ada');
      const { v } = await connected(h);
      const ack = await emitAck(v, 'message', { text: 'hi', clientMessageId: 'c-1' });
      await once(v, 'status', (s) => s.state === 'assigned');
      expect(await emitAck(ada, 'status', { status: 'away' })).to.include({ ok: true });
      h.clock.advance(30 * SECOND);
      await emitAck(v, 'message', { text: 'are you still there?', clientMessageId: 'c-2' });
      // The chat's sticky wait, 120 s from this message, after which it goes to the next free colleague if she
      // is not back: no time a colleague answers by (not a place in a line it is not in).
      const away = {
        conversationId: ack.conversationId,
        state: 'assigned',
        ownerAway: true,
        handOverSeconds: 120,
        agent: { name: 'Ada' },
      };
      expect(await once(v, 'status', (s) => s.ownerAway === true)).to.deep.equal(away);
      h.clock.advance(30 * SECOND);
      await emitAck(v, 'message', { text: 'hello?', clientMessageId: 'c-3' });
      expect(await once(v, 'status', (s) => s.handOverSeconds === 90)).to.deep.equal({
        ...away,
        handOverSeconds: 90,
      });
      expect(await emitAck(ada, 'status', { status: 'available' })).to.include({ ok: true });
      expect(await once(v, 'status', (s) => s.ownerAway === undefined)).to.deep.equal({
        conversationId: ack.conversationId,
        state: 'assigned',
        agent: { name: 'Ada' },
      });
    });
  });

  describe('from the agent', () => {
    it('a reply arrives as message direction out with author type agent', async () => {
      const h = sb();
      const { socket: ada } = await console_(h, 'Ada');
      const { v } = await connected(h);
      const ack = await emitAck(v, 'message', { text: 'hi', clientMessageId: 'c-1' });
      await once(ada, 'assigned');
      h.clock.advance(3 * SECOND);
      const reply = await emitAck(ada, 'reply', {
        conversationId: ack.conversationId,
        text: 'Hello, I am Ada.',
        clientMessageId: 'r-1',
      });
      expect(reply.ok).to.equal(true);
      expect(await once(v, 'message', (m) => m.direction === 'out')).to.deep.equal({
        id: reply.messageId,
        conversationId: ack.conversationId,
        direction: 'out',
        author: { type: 'agent', name: 'Ada' },
        text: 'Hello, I am Ada.',
        at: h.clock.now(),
      });
      const stored = await h.store.getMessage(reply.messageId);
      expect(stored!.delivery.state).to.equal('delivered');
    });

    it('agent typing reaches the widget with the agent name', async () => {
      const h = sb();
      const { socket: ada } = await console_(h, 'Ada');
      const { v } = await connected(h);
      const ack = await emitAck(v, 'message', { text: 'hi', clientMessageId: 'c-1' });
      await once(ada, 'assigned');
      expect(
        await emitAck(ada, 'typing', { conversationId: ack.conversationId, typing: true }),
      ).to.deep.equal({ ok: true });
      expect(await once(v, 'typing')).to.deep.equal({ typing: true, name: 'Ada' });
      await emitAck(ada, 'typing', { conversationId: ack.conversationId, typing: false });
      expect(await once(v, 'typing')).to.deep.equal({ typing: false, name: 'Ada' });
    });

    it('visitor typing reaches the owner console, not other visitors', async () => {
      const h = sb();
      const { socket: ada } = await console_(h, 'Ada');
      const { v } = await connected(h);
      const other = await connected(h);
      const ack = await emitAck(v, 'message', { text: 'hi', clientMessageId: 'c-1' });
      await once(ada, 'assigned');
      expect(await emitAck(v, 'typing', { typing: true })).to.deep.equal({ ok: true });
      expect(await once(ada, 'typing')).to.deep.equal({ conversationId: ack.conversationId, typing: true });
      const bad = await emitAck(v, 'typing', { typing: 'yes' });
      expect(bad.ok).to.equal(false);
      expect(bad.error.code).to.equal('invalid_input');
      expect(bad.error.field).to.equal('typing');
      await flush(other.v);
      expect(pending(other.v, 'typing')).to.deep.equal([]);
    });
  });
});

describe('/chat namespace: rate limit', () => {
  {
    const limited = useHarness({ chatRateLimit: { burst: 3, perSecond: 0.001 } });

    it('past the burst a visitor gets rate_limited, and nothing is stored', async () => {
      const h = limited();
      const { v } = await connected(h);
      let conversationId = '';
      for (let i = 1; i <= 3; i++) {
        const ack = await emitAck(v, 'message', { text: `m${i}`, clientMessageId: `c-${i}` });
        expect(ack.ok).to.equal(true);
        conversationId = ack.conversationId;
      }
      const fourth = await emitAck(v, 'message', { text: 'm4', clientMessageId: 'c-4' });
      expect(fourth).to.deep.equal({
        ok: false,
        error: { code: 'rate_limited', message: 'too many messages; wait 17 minutes and try again' },
      });
      expect((await h.store.listMessages(conversationId)).map((m) => m.text)).to.deep.equal([
        'm1',
        'm2',
        'm3',
      ]);
    });

    describe("in the policy's language", () => {
      const spanish = useHarness({
        chatRateLimit: { burst: 1, perSecond: 0.001 },
        env: {
          ROUTING_POLICY: JSON.stringify({
            locale: 'es',
            widgetTexts: { tooFast: 'Demasiados mensajes: espera {wait} y vuelve a intentarlo.' },
          }),
        },
      });

      it('the refusal says how long to wait in Spanish', async () => {
        const { v } = await connected(spanish());
        expect((await emitAck(v, 'message', { text: 'm1', clientMessageId: 'c-1' })).ok).to.equal(true);
        expect((await emitAck(v, 'message', { text: 'm2', clientMessageId: 'c-2' })).error).to.deep.equal({
          code: 'rate_limited',
          message: 'Demasiados mensajes: espera 17 minutos y vuelve a intentarlo.',
        });
      });
    });

    it('a retry of a message already stored is answered, not rate limited', async () => {
      const h = limited();
      const { v } = await connected(h);
      const acks = [];
      for (let i = 1; i <= 3; i++)
        acks.push(await emitAck(v, 'message', { text: `m${i}`, clientMessageId: `c-${i}` }));
      expect(await emitAck(v, 'message', { text: 'm3', clientMessageId: 'c-3' })).to.deep.equal(acks[2]);
    });

    it('the limit is per visitor', async () => {
      const h = limited();
      const a = await connected(h);
      for (let i = 1; i <= 4; i++)
        await emitAck(a.v, 'message', { text: `m${i}`, clientMessageId: `c-${i}` });
      const b = await connected(h);
      const ack = await emitAck(b.v, 'message', { text: 'hello', clientMessageId: 'c-1' });
      expect(ack.ok).to.equal(true);
    });

    it('a new connection of the same visitor does not reset the allowance', async () => {
      const h = limited();
      const first = await connected(h);
      for (let i = 1; i <= 3; i++)
        await emitAck(first.v, 'message', { text: `m${i}`, clientMessageId: `c-${i}` });
      first.v.disconnect();
      const again = await connected(h, first.session.visitorToken);
      const ack = await emitAck(again.v, 'message', { text: 'm4', clientMessageId: 'c-4' });
      expect(ack.ok).to.equal(false);
      expect(ack.error.code).to.equal('rate_limited');
    });
  }
});

describe('/chat namespace: entry points', () => {
  const entryPoints = [{ channel: 'chat', topic: 'billing', skills: { billing: 1 }, priority: 2 }];
  const sb = useHarness({ env: { ROUTING_POLICY: JSON.stringify({ entryPoints }) } });

  it("a chat started on a page with a topic needs what the topic's entry point says; a malformed topic is refused by name", async () => {
    const h = sb();
    const v = h.visitor(undefined, { topic: 'billing' });
    await once(v, 'session');
    const ack = await emitAck(v, 'message', { text: 'my invoice is wrong', clientMessageId: 'c-1' });
    const conv = await h.sb.store.getConversation(ack.conversationId);
    expect([conv?.skills, conv?.priority]).to.deep.equal([{ billing: 1 }, 2]);
    // Without one: what the policy says of chat without a topic (here, nothing).
    const plain = h.visitor();
    await once(plain, 'session');
    const other = await emitAck(plain, 'message', { text: 'hello', clientMessageId: 'c-1' });
    expect((await h.sb.store.getConversation(other.conversationId))?.skills).to.deep.equal({});
    for (const topic of ['a b', 'x'.repeat(41), 42]) {
      const bad = h.visitor(undefined, { topic });
      const err = await once<Error>(bad, 'connect_error');
      expect(err.message, JSON.stringify(topic)).to.match(/^invalid_topic: topic /);
    }
  });
});

describe('/chat namespace: opening hours', () => {
  // The manual clock starts on Monday 5 January 2026, 09:00 UTC: 04:00 in New York, which opens at 09:00.
  const hours = { timeZone: 'America/New_York', week: { mon: '09:00-17:00', tue: '09:00-17:00' } };
  const sb = useHarness({ env: { ROUTING_POLICY: JSON.stringify({ hours }) } });

  it('outside them with nobody available, a visitor is told when the team opens; an agent left away does not count', async () => {
    const h = sb();
    await h.createAgent('Ada', { status: 'away' });
    expect(await firstStatus(h)).to.deep.equal({
      state: 'queued',
      position: 1,
      closed: { opensInSeconds: 5 * 3600 },
    });
  });

  it('far off (12 hours or more), the status also says the day and time they open, in the team’s zone', async () => {
    const h = sb();
    // Tuesday 17:30 in New York: next open Monday 12 January 09:00 (the week has Mondays and Tuesdays only).
    h.clock.advance((24 + 13.5) * 3600 * SECOND);
    expect(await firstStatus(h)).to.deep.equal({
      state: 'queued',
      position: 1,
      closed: {
        opensInSeconds: (5 * 24 + 15.5) * 3600,
        opens: 'on Monday 12 January at 09:00 (New York time)',
      },
    });
  });

  it('within them, an agent on a break means nobody is free (not closed); with nobody at all, nobody is working', async () => {
    const h = sb();
    h.clock.advance(5 * 3600 * SECOND); // 09:00 in New York
    const ada = await h.createAgent('Ada', { status: 'away' });
    expect(await firstStatus(h)).to.deep.equal({ state: 'queued', position: 1, nobodyFree: true });
    await h.admin.put(`/api/agents/${ada.agent.id}/status`).send({ status: 'offline' }).expect(200);
    h.clock.advance(SECOND);
    expect(await firstStatus(h)).to.deep.equal({
      state: 'queued',
      position: 2,
      closed: { opensInSeconds: null },
    });
  });
});
