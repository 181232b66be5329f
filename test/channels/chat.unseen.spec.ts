// A chat visitor who left the page before an agent's reply reached them gets the replies they did not see by
// email (policy `unseenChatEmailSeconds`), when they gave an address: through the real email channel to a
// local SMTP sink, timers fired by a manual clock.
import { expect } from 'chai';
import type { Socket } from 'socket.io-client';
import { emitAck, type Harness, type Json, once, SECOND, useHarness } from '../server/harness.js';
import { emailEnv, postMail, SUPPORT, useSink } from './email-harness.js';

const AFTER = 300 * SECOND;

describe('/chat replies a visitor did not see go by email', () => {
  const sink = useSink();
  const env = (extra: Record<string, string> = {}) => emailEnv(sink, extra);

  /** A visitor who wrote (and gave `email`), Ada's console, and the visitor's token. */
  async function chatting(h: Harness, email: string | null) {
    const { token } = await h.createAgent('Ada');
    const ada = h.agentSocket(token);
    await once(ada, 'hello');
    const v = h.visitor();
    const { visitorToken } = await once<Json>(v, 'session');
    const sent = await emitAck(v, 'message', { text: 'my order is late', clientMessageId: 'm1' });
    if (email) expect((await emitAck(v, 'identify', { name: 'Dee', email })).ok).to.equal(true);
    await once(ada, 'assigned');
    return { ada, token, v, visitorToken, conversationId: sent.conversationId as string };
  }

  /** The visitor closes the page: their socket is gone on the server's side too. */
  async function leaves(h: Harness, v: Socket, conversationId: string): Promise<void> {
    v.disconnect();
    for (let i = 0; i < 200 && h.sb.io.of('/chat').adapter.rooms.has(`conv:${conversationId}`); i++)
      await new Promise((r) => setImmediate(r));
    expect(h.sb.io.of('/chat').adapter.rooms.has(`conv:${conversationId}`)).to.equal(false);
  }

  async function reply(h: Harness, ada: Socket, conversationId: string, text: string, id: string) {
    const ack = await emitAck(ada, 'reply', { conversationId, text, clientMessageId: id });
    expect(ack.ok, JSON.stringify(ack)).to.equal(true);
    // The chat channel marks it (sent: no widget) and sets the time.
    for (let i = 0; i < 200; i++) {
      const m = await h.sb.store.getMessage(ack.messageId);
      if (m?.delivery.state !== 'pending') return m!;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error('the reply was never marked');
  }

  async function later(h: Harness, ms: number): Promise<void> {
    h.clock.advance(ms);
    await h.sb.router.tick();
    await h.sb.email!.outbound.idle();
  }

  describe('on (the default: 5 minutes)', () => {
    const sb = useHarness({ env: env() });

    it('the replies of the time away go in one email, 5 minutes after the first; later ones in the next', async () => {
      const h = sb();
      const { ada, v, conversationId } = await chatting(h, 'Dee@Example.com');
      await leaves(h, v, conversationId);
      const first = await reply(h, ada, conversationId, 'It ships today.', 'r1');
      expect(first.delivery.state).to.equal('sent');
      await later(h, 60 * SECOND);
      await reply(h, ada, conversationId, 'Tracking: 1Z999.', 'r2');
      const before = sink().mails.length;
      await later(h, AFTER - 60 * SECOND - 1);
      expect(sink().mails.length).to.equal(before);
      await later(h, 1);
      const { envelope, mail } = await sink().next();
      expect(envelope.to).to.deep.equal(['dee@example.com']);
      expect(mail.text).to.contain('You left our chat before our answer reached you');
      // What it is about, not a reply to a mail they never sent.
      expect(mail.subject).to.equal(`Your chat with ${SUPPORT.replace(/^.*@/, '')}`);
      expect(mail.text).to.contain('Ada: It ships today.');
      expect(mail.text).to.contain('Ada: Tracking: 1Z999.');
      // The agents see what went: a message on the email channel in the conversation.
      const copies = (await h.sb.store.listMessages(conversationId)).filter((m) => m.channel === 'email');
      expect(copies.map((m) => [m.direction, m.author.type])).to.deep.equal([['out', 'system']]);

      // A later reply, unseen again: the next email carries it alone.
      await reply(h, ada, conversationId, 'Delivered tomorrow.', 'r3');
      await later(h, AFTER);
      const next = await sink().next();
      expect(next.mail.text).to.contain('Ada: Delivered tomorrow.');
      expect(next.mail.text).not.to.contain('It ships today.');
      await later(h, AFTER);
      expect(sink().mails.length).to.equal(before + 2);
      // Dee answers the email: it joins the same conversation, Ada gets it, and her answer goes by email.
      const answer = [
        'From: Dee <dee@example.com>',
        `To: ${SUPPORT}`,
        `Subject: Re: ${next.mail.subject}`,
        'Message-ID: <dee-answer-1@example.com>',
        `In-Reply-To: ${next.mail.messageId}`,
        `References: ${mail.messageId} ${next.mail.messageId}`,
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Thanks! Which carrier?',
        '',
      ].join('\r\n');
      const got = once<Json>(ada, 'message', (p) => p.message.text.startsWith('Thanks! Which carrier?'));
      await postMail(h, answer);
      expect((await got).conversationId).to.equal(conversationId);
      const byEmail = await emitAck(ada, 'reply', { conversationId, text: 'UPS.', clientMessageId: 'r4' });
      expect(byEmail.ok).to.equal(true);
      expect((await sink().next()).mail.text).to.contain('UPS.');
    });

    it('a visitor who comes back in time sees them in the chat: no email', async () => {
      const h = sb();
      const { ada, v, visitorToken, conversationId } = await chatting(h, 'dee@example.com');
      await leaves(h, v, conversationId);
      const r = await reply(h, ada, conversationId, 'It ships today.', 'r1');
      const back = h.visitor(visitorToken);
      await once(back, 'session');
      const shown = await once<Json>(back, 'message', (m) => m.id === r.id);
      expect(shown.text).to.equal('It ships today.');
      await once(back, 'status');
      expect((await h.sb.store.getMessage(r.id))?.delivery.state).to.equal('delivered');
      const before = sink().mails.length;
      await later(h, AFTER);
      expect(sink().mails.length).to.equal(before);
    });

    it("a visitor who gave another customer's address: both agents are told, and the unseen replies are said not emailed", async () => {
      const h = sb();
      const { token } = await h.createAgent('Ada');
      const ada = h.agentSocket(token);
      await once(ada, 'hello');
      // Anna writes by email first: her conversation is Ada's.
      const mail = [
        'From: Anna Kowalski <anna.k@example.com>',
        `To: ${SUPPORT}`,
        'Subject: Refund for order 10601',
        'Message-ID: <anna-refund-1@example.com>',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Please refund the napkins.',
        '',
      ].join('\r\n');
      const emailed = once<Json>(ada, 'assigned');
      await postMail(h, mail);
      const emailConversation = (await emailed).conversation.id as string;
      // A chat visitor gives Anna's address: not linked (not verified), and both conversations say so.
      const v = h.visitor();
      await once<Json>(v, 'session');
      const sent = await emitAck(v, 'message', { text: 'did you refund me?', clientMessageId: 'm1' });
      const conversationId = sent.conversationId as string;
      await once(ada, 'assigned', (p) => p.conversation.id === conversationId);
      const notes = async (id: string) =>
        (await h.sb.store.listMessages(id)).filter((m) => m.direction === 'internal').map((m) => m.text);
      expect((await emitAck(v, 'identify', { name: 'Anna K', email: 'anna.k@example.com' })).ok).to.equal(
        true,
      );
      expect(await notes(conversationId)).to.deep.equal([
        'anna.k@example.com is also the address of Anna Kowalski, whose email conversation is open, with Ada: it may be the same request. An admin can merge the two customers if they are the same person.',
      ]);
      expect(await notes(emailConversation)).to.deep.equal([
        "Anna K gave anna.k@example.com, this customer's address, in a chat conversation with Ada (not linked: it was not verified): it may be the same request. An admin can merge the two customers if they are the same person.",
      ]);
      // Given again (a reload): nothing new.
      expect((await emitAck(v, 'identify', { email: 'anna.k@example.com' })).ok).to.equal(true);
      expect(await notes(conversationId)).to.have.length(1);
      await leaves(h, v, conversationId);
      await reply(h, ada, conversationId, 'Refunded: 9.90 EUR.', 'r1');
      const before = sink().mails.length;
      await later(h, AFTER);
      expect(sink().mails.length).to.equal(before);
      expect((await notes(conversationId)).at(-1)).to.equal(
        "Anna K left the chat before reading a reply, which could not be emailed: anna.k@example.com is another customer's address (Anna Kowalski), so it is not linked here. They see the replies if they come back to the chat; an admin can merge the two customers if they are the same person.",
      );
      for (const id of [conversationId, emailConversation])
        expect((await emitAck(ada, 'resolve', { conversationId: id })).ok).to.equal(true);
    });

    it('a visitor who gave no email address: nothing to send, and nothing fails', async () => {
      const h = sb();
      const { ada, v, conversationId } = await chatting(h, null);
      await leaves(h, v, conversationId);
      await reply(h, ada, conversationId, 'It ships today.', 'r1');
      const before = sink().mails.length;
      await later(h, AFTER);
      expect(sink().mails.length).to.equal(before);
      expect((await h.sb.store.listMessages(conversationId)).some((m) => m.channel === 'email')).to.equal(
        false,
      );
    });
  });

  describe('with files (a store that keeps at most 1 KiB of them)', () => {
    const sb = useHarness({ env: env({ CHAT_FILE_MAX_BYTES: '1024', CHAT_FILES_STORE_MAX_BYTES: '1024' }) });

    it("the agent's files go attached where still kept; one no longer kept stays a link, and the email still goes", async () => {
      const h = sb();
      const { ada, token, v, conversationId } = await chatting(h, 'dee@example.com');
      await leaves(h, v, conversationId);
      const sendFile = async (name: string, fill: string, id: string) => {
        const up = await h
          .http()
          .post('/chat/files')
          .set('Authorization', `Bearer ${token}`)
          .set('Content-Type', 'text/plain')
          .set('X-File-Name', name)
          .send(Buffer.from(fill.repeat(700)))
          .expect(201);
        const ack = await emitAck(ada, 'reply', {
          conversationId,
          clientMessageId: id,
          files: [up.body.file.upload],
        });
        expect(ack.ok, JSON.stringify(ack)).to.equal(true);
      };
      await reply(h, ada, conversationId, 'Here are your two receipts.', 'r1');
      await sendFile('receipt-1.txt', 'a', 'f1');
      // The second takes the first's place in the 1 KiB store.
      await sendFile('receipt-2.txt', 'b', 'f2');
      await later(h, AFTER);
      const { mail } = await sink().next();
      expect(mail.text).to.contain('Ada: Here are your two receipts.');
      expect(mail.text).to.match(/receipt-1\.txt: http:\/\/\S+\/chat\/files\//);
      expect(mail.attachments.map((a) => [a.filename, a.content.toString()])).to.deep.equal([
        ['receipt-2.txt', 'b'.repeat(700)],
      ]);
      const copy = (await h.sb.store.listMessages(conversationId)).find((m) => m.channel === 'email')!;
      expect(copy.delivery.state).to.not.equal('failed');
    });
  });

  describe('off (unseenChatEmailSeconds: 0)', () => {
    const sb = useHarness({ env: env({ ROUTING_POLICY: JSON.stringify({ unseenChatEmailSeconds: 0 }) }) });

    it('the replies wait in the chat', async () => {
      const h = sb();
      const { ada, v, conversationId } = await chatting(h, 'dee@example.com');
      await leaves(h, v, conversationId);
      await reply(h, ada, conversationId, 'It ships today.', 'r1');
      const before = sink().mails.length;
      await later(h, 24 * 3600 * SECOND);
      expect(sink().mails.length).to.equal(before);
    });
  });
});
