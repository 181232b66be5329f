// Email end to end over real SMTP on loopback: nodemailer delivers to the built-in
// listener, replies go out through nodemailer to a local smtp-server sink.
import { expect } from 'chai';
import { io as connect, type Socket } from 'socket.io-client';
import { humanDuration } from '../../routing/estimate.js';
import { DOMAIN, type EmailHarness, fixture, SUPPORT, startEmailHarness } from './email-harness.js';

const ANA = 'ana.diaz@example.org';

/** The error a send ends with (the test fails if it succeeds). */
async function refusal(p: Promise<unknown>): Promise<{ responseCode?: number; response?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { responseCode?: number; response?: string };
  }
  throw new Error('expected the SMTP server to refuse the mail');
}

describe('email over SMTP (listener in, relay out)', () => {
  let h: EmailHarness;
  beforeEach(async () => {
    h = await startEmailHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('a three-message thread stays one conversation with one owner, threaded both ways', async () => {
    const sam = await h.agent('Sam');
    await h.customer.sendMail({
      from: `Ana Diaz <${ANA}>`,
      to: SUPPORT,
      subject: 'Order #4471 arrived damaged',
      messageId: '<m1@example.org>',
      text: 'The lid of the teapot is cracked.',
    });
    const first = await h.inbound('<m1@example.org>');
    const convId = first.conversationId;
    expect((await h.store.getConversation(convId))?.ownerId).to.equal(sam.id);
    await h.agent('Max'); // free and idle longer than Sam from here on: routing would pick Max

    const reply1 = await h.sb.router.reply(sam.id, convId, 'Sorry about that! Same colour?');
    await h.settle();
    const out1 = await h.sink.next();
    expect(out1.envelope.to).to.deep.equal([ANA]);
    // Addressed by name, as a person writing back would.
    expect(out1.mail.to && !Array.isArray(out1.mail.to) ? out1.mail.to.value : null).to.deep.equal([
      { address: ANA, name: 'Ana Diaz' },
    ]);
    expect(out1.mail.from?.value[0]?.address).to.equal(SUPPORT);
    // Who wrote it, from the team's address.
    expect(out1.mail.from?.value[0]?.name).to.equal('Sam (Support Team)');
    expect(out1.mail.subject).to.equal('Re: Order #4471 arrived damaged');
    expect(out1.mail.messageId).to.equal(`<sb.${reply1.id}.${convId}@${DOMAIN}>`);
    expect(out1.mail.inReplyTo).to.equal('<m1@example.org>');
    expect(out1.mail.references).to.equal('<m1@example.org>');
    expect(out1.mail.text?.trim()).to.equal('Sorry about that! Same colour?');
    expect(out1.mail.html).to.include('<p dir="auto">Sorry about that! Same colour?</p>');
    expect((await h.store.getMessage(reply1.id))?.delivery.state).to.equal('sent');

    await h.customer.sendMail({
      from: ANA,
      to: SUPPORT,
      subject: 'Re: Order #4471 arrived damaged',
      messageId: '<m2@example.org>',
      inReplyTo: out1.mail.messageId!,
      references: ['<m1@example.org>', out1.mail.messageId!],
      text: `Yes please.\n\nOn Mon, Jan 5, 2026 at 10:45 AM Support Team <${SUPPORT}> wrote:\n> Sorry about that! Same colour?\n`,
    });
    const second = await h.inbound('<m2@example.org>');
    expect(second.conversationId).to.equal(convId);
    expect(second.text).to.equal('Yes please.');

    const reply2 = await h.sb.router.reply(sam.id, convId, 'Sent today.');
    await h.settle();
    const out2 = await h.sink.next();
    expect(out2.mail.inReplyTo).to.equal('<m2@example.org>');
    expect(out2.mail.references).to.deep.equal(['<m1@example.org>', out1.mail.messageId, '<m2@example.org>']);
    expect(out2.mail.messageId).to.equal(`<sb.${reply2.id}.${convId}@${DOMAIN}>`);

    await h.customer.sendMail({
      from: ANA,
      to: SUPPORT,
      subject: 'Re: Order #4471 arrived damaged',
      messageId: '<m3@example.org>',
      inReplyTo: out2.mail.messageId!,
      references: ['<m1@example.org>', out1.mail.messageId!, '<m2@example.org>', out2.mail.messageId!],
      text: 'Got it, thanks!',
    });
    expect((await h.inbound('<m3@example.org>')).conversationId).to.equal(convId);

    const conversations = await h.store.listConversations({});
    expect(conversations.map((c) => c.id)).to.deep.equal([convId]);
    const conv = conversations[0]!;
    expect(conv.ownerId).to.equal(sam.id);
    expect(conv.ownership.map((o) => o.to)).to.deep.equal([sam.id]);
    const messages = await h.store.listMessages(convId);
    expect(messages.map((m) => `${m.direction}:${m.text}`)).to.deep.equal([
      'in:The lid of the teapot is cracked.',
      'out:Sorry about that! Same colour?',
      'in:Yes please.',
      'out:Sent today.',
      'in:Got it, thanks!',
    ]);
    expect(h.sink.mails).to.have.length(2);
  });

  it('a reply to a resolved conversation starts a new one with the same owner (DESIGN: last owner first)', async () => {
    const sam = await h.agent('Sam');
    await h.customer.sendMail({
      from: ANA,
      to: SUPPORT,
      subject: 'Refund',
      messageId: '<r1@example.org>',
      text: 'Refund please.',
    });
    const oldConv = (await h.inbound('<r1@example.org>')).conversationId;
    await h.sb.router.reply(sam.id, oldConv, 'Done, refunded.');
    await h.settle();
    const out = await h.sink.next();
    await h.sb.router.resolve(sam.id, oldConv);
    const max = await h.agent('Max'); // idle longer than Sam: without the last-owner rule Max would get it
    h.clock.advance(3600_000);
    // Meanwhile the survey went out on the old thread (timers fire here, not only on the server's interval).
    await h.sb.router.tick();
    await h.settle();
    expect((await h.sink.next()).mail.text).to.include('How did we do?');

    await h.customer.sendMail({
      from: ANA,
      to: SUPPORT,
      subject: 'Re: Refund',
      messageId: '<r2@example.org>',
      inReplyTo: out.mail.messageId!,
      references: ['<r1@example.org>', out.mail.messageId!],
      text: 'The refund has not arrived yet.',
    });
    const msg = await h.inbound('<r2@example.org>');
    expect(msg.conversationId).to.not.equal(oldConv);
    const fresh = (await h.store.getConversation(msg.conversationId))!;
    expect(fresh.status).to.equal('assigned');
    expect(fresh.ownerId).to.equal(sam.id);
    expect(fresh.ownership.map((o) => [o.to, o.reason])).to.deep.equal([[sam.id, 'last_owner']]);
    expect(fresh.ownerId).to.not.equal(max.id);
    expect((await h.store.getConversation(oldConv))?.status).to.equal('resolved');

    // The reply on the new conversation still threads into the customer's mail.
    await h.sb.router.reply(sam.id, fresh.id, 'Checking with the bank.');
    await h.settle();
    const next = await h.sink.next();
    expect(next.mail.inReplyTo).to.equal('<r2@example.org>');
    expect(next.mail.references).to.deep.equal(['<r1@example.org>', out.mail.messageId, '<r2@example.org>']);
  });

  it('a customer whose person is away is told how long it waits for them, then a colleague; not that they will reply', async () => {
    const sam = await h.agent('Sam');
    await h.customer.sendMail({
      from: ANA,
      to: SUPPORT,
      subject: 'Refund',
      messageId: '<o1@example.org>',
      text: 'Where is my refund?',
    });
    const conv = (await h.inbound('<o1@example.org>')).conversationId;
    expect((await h.store.getConversation(conv))?.ownerId).to.equal(sam.id);
    await h.sb.router.setAgentStatus(sam.id, 'away', 'lunch');
    await h.customer.sendMail({
      from: ANA,
      to: SUPPORT,
      subject: 'Re: Refund',
      messageId: '<o2@example.org>',
      inReplyTo: '<o1@example.org>',
      text: 'Any news?',
    });
    expect((await h.inbound('<o2@example.org>')).conversationId).to.equal(conv);
    await h.settle();
    const ack = await h.sink.next();
    const wait = humanDuration(h.sb.router.policy.stickyWaitSeconds.email);
    expect(ack.mail.text?.trim()).to.equal(
      `Thanks for reaching us. Sam is away right now. If they are not back within ${wait}, your message goes to the next free colleague.`,
    );
  });

  it('a waiting customer gets one acknowledgement per wait, with the pessimistic time', async () => {
    const sam = await h.agent('Sam');
    await h.sb.router.updateAgent(sam.id, { capacity: { email: 1 } });
    await h.customer.sendMail({
      from: 'lee@example.com',
      to: SUPPORT,
      subject: 'First',
      messageId: '<busy@example.com>',
      text: 'Hi',
    });
    const busy = (await h.inbound('<busy@example.com>')).conversationId;
    expect((await h.store.getConversation(busy))?.ownerId).to.equal(sam.id);

    await h.customer.sendMail({
      from: ANA,
      to: SUPPORT,
      subject: 'Where is my parcel?',
      messageId: '<w1@example.org>',
      text: 'It is late.',
    });
    const convId = (await h.inbound('<w1@example.org>')).conversationId;
    const quote = (await h.sb.router.quote(convId))!;
    expect(quote.position).to.equal(1);
    expect(quote.etaSeconds).to.be.a('number');
    await h.settle();
    const ack = await h.sink.next();
    expect(ack.envelope.to).to.deep.equal([ANA]);
    expect(ack.mail.text?.trim()).to.equal(
      `Thanks for reaching us. You are number 1 in line; a person will be with you within ${humanDuration(quote.etaSeconds!)}.`,
    );
    expect(ack.mail.subject).to.equal('Re: Where is my parcel?');
    expect(ack.mail.inReplyTo).to.equal('<w1@example.org>');
    expect(ack.mail.headers.get('auto-submitted')).to.equal('auto-replied');

    // Writing again while still waiting: stored in the same conversation, no second acknowledgement.
    await h.customer.sendMail({
      from: ANA,
      to: SUPPORT,
      subject: 'Re: Where is my parcel?',
      messageId: '<w2@example.org>',
      inReplyTo: ack.mail.messageId!,
      text: 'Any news?',
    });
    expect((await h.inbound('<w2@example.org>')).conversationId).to.equal(convId);
    await h.settle();
    expect(h.sink.mails).to.have.length(1);
    const stored = await h.store.listMessages(convId);
    expect(stored.map((m) => [m.direction, m.author.type, m.delivery.state])).to.deep.equal([
      ['in', 'customer', 'delivered'],
      ['out', 'system', 'sent'],
      ['in', 'customer', 'delivered'],
    ]);

    // Sam frees up and takes it: nobody is told to wait again.
    await h.sb.router.resolve(sam.id, busy);
    expect((await h.store.getConversation(convId))?.ownerId).to.equal(sam.id);
  });

  it('auto-replies, list mail and bounces open nothing and get no reply; a bounce marks our reply failed', async () => {
    const sam = await h.agent('Sam');
    await h.customer.sendMail({
      from: ANA,
      to: SUPPORT,
      subject: 'Hello',
      messageId: '<b1@example.org>',
      text: 'Hello',
    });
    const convId = (await h.inbound('<b1@example.org>')).conversationId;
    const reply = await h.sb.router.reply(sam.id, convId, 'Hi Ana');
    await h.settle();
    const out = await h.sink.next();

    await h.customer.sendMail({ envelope: { from: ANA, to: [SUPPORT] }, raw: fixture('auto-reply.eml') });
    await h.customer.sendMail({
      envelope: { from: 'deals@shop.example.com', to: [SUPPORT] },
      raw: fixture('list-mail.eml'),
    });
    await h.customer.sendMail({
      envelope: { from: 'MAILER-DAEMON@mx.example.org', to: [SUPPORT] },
      raw: fixture('bounce.eml', { MESSAGE_ID: out.mail.messageId! }),
    });
    await h.settle();

    expect(await h.store.findMessageByExternalId('email', '<ooo-0008@example.org>')).to.equal(null);
    expect(await h.store.findMessageByExternalId('email', '<list-0010@shop.example.com>')).to.equal(null);
    expect(await h.store.findMessageByExternalId('email', '<bounce-0009@mx.example.org>')).to.equal(null);
    expect((await h.store.listConversations({})).map((c) => c.id)).to.deep.equal([convId]);
    expect((await h.store.listMessages(convId)).map((m) => m.text)).to.deep.equal(['Hello', 'Hi Ana']);
    expect(h.sink.mails).to.have.length(1);
    const failed = (await h.store.getMessage(reply.id))!;
    expect(failed.delivery.state).to.equal('failed');
    expect(failed.delivery.reason).to.equal(
      'bounced: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown',
    );
  });

  it('mail for an address that is not ours is refused at RCPT; plus-tagged addresses are ours', async () => {
    const err = await refusal(
      h.customer.sendMail({ from: ANA, to: `sales@${DOMAIN}`, subject: 'x', text: 'x' }),
    );
    expect(err.responseCode).to.equal(550);
    expect(err.response).to.match(/5\.1\.1 <sales@support\.example\.com>: no such mailbox here/);

    await h.agent('Sam');
    await h.customer.sendMail({
      from: ANA,
      to: `help@${DOMAIN}`,
      subject: 'a',
      messageId: '<p1@example.org>',
      text: 'first',
    });
    const convId = (await h.inbound('<p1@example.org>')).conversationId;
    // A mail client that drops the headers but keeps the tagged address still lands in the conversation.
    await h.customer.sendMail({
      from: ANA,
      to: `support+${convId}@${DOMAIN}`,
      subject: 'b',
      messageId: '<p2@example.org>',
      text: 'second',
    });
    expect((await h.inbound('<p2@example.org>')).conversationId).to.equal(convId);
  });

  it('a mail without a usable From is refused with 550; our own mail echoed back is dropped', async () => {
    const err = await refusal(
      h.customer.sendMail({
        envelope: { from: ANA, to: [SUPPORT] },
        raw: 'Subject: no sender\r\nMessage-ID: <nf@example.org>\r\n\r\nHello\r\n',
      }),
    );
    expect(err.responseCode).to.equal(550);
    expect(err.response).to.include(
      '5.6.0 message refused: message: not an email message (it has no From header)',
    );

    await h.customer.sendMail({
      from: SUPPORT,
      to: SUPPORT,
      subject: 'loop',
      messageId: '<echo@x>',
      text: 'echo',
    });
    expect(await h.store.findMessageByExternalId('email', '<echo@x>')).to.equal(null);
    expect(await h.store.listConversations({})).to.deep.equal([]);
  });

  it('the same Message-ID over SMTP twice is stored once', async () => {
    await h.agent('Sam');
    const mail = {
      from: ANA,
      to: SUPPORT,
      subject: 'Twice',
      messageId: '<dup@example.org>',
      text: 'Once only',
    };
    await h.customer.sendMail(mail);
    await h.customer.sendMail(mail);
    const convId = (await h.inbound('<dup@example.org>')).conversationId;
    expect(await h.store.listMessages(convId)).to.have.length(1);
  });

  it('a customer who chatted with their email identified reaches the chat owner by email', async () => {
    const sam = await h.agent('Sam');
    const socket: Socket = connect(`${h.url}/chat`, {
      forceNew: true,
      transports: ['websocket'],
      reconnection: false,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      const sent = await socket
        .timeout(3000)
        .emitWithAck('message', { text: 'Hi, is my order shipped?', clientMessageId: 'c1' });
      expect(sent.ok).to.equal(true);
      expect(
        await socket.timeout(3000).emitWithAck('identify', { name: 'Dee', email: 'Dee@Example.com' }),
      ).to.deep.equal({ ok: true });
      const chatConv = sent.conversationId as string;
      expect((await h.store.getConversation(chatConv))?.ownerId).to.equal(sam.id);
      await h.agent('Max'); // free and idle longer than Sam

      await h.customer.sendMail({
        from: 'dee@example.com',
        to: SUPPORT,
        subject: 'Order',
        messageId: '<dee1@example.com>',
        text: 'Writing by email now.',
      });
      const msg = await h.inbound('<dee1@example.com>');
      expect(msg.conversationId).to.equal(chatConv);
      const conv = (await h.store.getConversation(chatConv))!;
      expect(conv.ownerId).to.equal(sam.id);
      expect(conv.channels).to.deep.equal(['chat', 'email']);
      expect(conv.lastChannel).to.equal('email');

      // The answer goes out where the customer last wrote: by email.
      await h.sb.router.reply(sam.id, chatConv, 'Yes, it shipped this morning.');
      await h.settle();
      const out = await h.sink.next();
      expect(out.envelope.to).to.deep.equal(['dee@example.com']);
      expect(out.mail.inReplyTo).to.equal('<dee1@example.com>');
      expect(out.mail.subject).to.equal('Re: Order');
    } finally {
      socket.disconnect();
    }
  });
});

describe('email size limits', () => {
  let h: EmailHarness;
  beforeEach(async () => {
    h = await startEmailHarness({ EMAIL_MAX_BYTES: '4096', EMAIL_STORE_MAX_BYTES: '65536' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('SMTP refuses a message over EMAIL_MAX_BYTES with 552 and stores nothing', async () => {
    const err = await refusal(
      h.customer.sendMail({
        from: ANA,
        to: SUPPORT,
        subject: 'big',
        messageId: '<big@example.org>',
        text: 'x'.repeat(10_000),
      }),
    );
    expect(err.responseCode).to.equal(552);
    expect(await h.store.listConversations({})).to.deep.equal([]);
  });
});

describe('email replies without the kept mail', () => {
  let h: EmailHarness;
  beforeEach(async () => {
    // A small content store, so that the test can push the kept mails out of it: as when another process,
    // or this one before a restart, received them.
    h = await startEmailHarness({ EMAIL_MAX_BYTES: '4096', EMAIL_STORE_MAX_BYTES: '8192' });
  });
  afterEach(async () => {
    await h.close();
  });

  it('a reply goes to the address of the customer’s last mail, though they have another', async () => {
    const sam = await h.agent('Sam');
    const home = 'dee@home.example.com';
    const work = 'dee@work.example.com';
    await h.customer.sendMail({
      from: home,
      to: SUPPORT,
      subject: 'Order',
      messageId: '<h1@home>',
      text: 'Hello',
    });
    const first = await h.inbound('<h1@home>');
    const conv = (await h.store.getConversation(first.conversationId))!;
    expect(conv.ownerId).to.equal(sam.id);
    // They give their work address in a form: now known, and the email fact.
    await h.sb.router.identify(conv.customerId, { email: work }, 'form');
    const customer = (await h.store.getCustomer(conv.customerId))!;
    expect([customer.identities.map((i) => i.address), customer.facts.email?.value]).to.deep.equal([
      [home, work],
      work,
    ]);
    await h.customer.sendMail({
      from: home,
      to: SUPPORT,
      subject: 'Re: Order',
      messageId: '<h2@home>',
      inReplyTo: '<h1@home>',
      text: 'Still writing from home',
    });
    const second = await h.inbound('<h2@home>');
    expect([second.conversationId, second.from]).to.deep.equal([conv.id, home]);
    await h.email.content.put('<filler@example.com>', {
      raw: Buffer.alloc(8192),
      messageId: '<filler@example.com>',
      replyTo: 'filler@example.com',
      references: [],
      attachments: [],
    });
    expect(await h.email.content.get(second.id)).to.equal(null);

    await h.sb.router.reply(sam.id, conv.id, 'Answering where you wrote from');
    await h.settle();
    const out = await h.sink.next();
    expect(out.envelope.to).to.deep.equal([home]);
    expect(out.mail.inReplyTo).to.equal('<h2@home>');
  });

  it('a reply goes where the customer’s mail asked replies to go (Reply-To); they stay who they wrote as', async () => {
    const sam = await h.agent('Sam');
    await h.customer.sendMail({
      from: 'Rita <rita@work.example.com>',
      replyTo: 'Rita <rita.home@example.org>',
      to: SUPPORT,
      subject: 'Refund',
      messageId: '<r1@work>',
      text: 'Please answer at home',
    });
    const first = await h.inbound('<r1@work>');
    const conv = (await h.store.getConversation(first.conversationId))!;
    expect(conv.ownerId).to.equal(sam.id);
    expect((await h.store.getCustomer(conv.customerId))!.identities.map((i) => i.address)).to.deep.equal([
      'rita@work.example.com',
    ]);
    await h.sb.router.reply(sam.id, conv.id, 'Answering at home');
    await h.settle();
    const out = await h.sink.next();
    expect(out.envelope.to).to.deep.equal(['rita.home@example.org']);
    expect(out.mail.inReplyTo).to.equal('<r1@work>');
  });
});
