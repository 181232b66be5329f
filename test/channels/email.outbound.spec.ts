// Outbound delivery: retries with backoff (the message's delivery timer in the
// store, fired by ticking the router on a manual clock: no real waiting),
// permanent refusals, a restart during a backoff, and what the agent sees.
import { expect } from 'chai';
import nodemailer from 'nodemailer';
import { pino } from 'pino';
import { MemoryContentStore } from '../../channels/content.js';
import { EmailInbound } from '../../channels/email/inbound.js';
import { EmailOutbound } from '../../channels/email/outbound.js';
import { loadEmailSettings } from '../../channels/email/settings.js';
import { DELIVERY_RECHECK_MS, Router } from '../../routing/router.js';
import { MemoryStore } from '../../routing/store/memory.js';
import { ManualClock } from '../../shared/clock.js';
import type { DomainEvent } from '../../shared/events.js';
import { fixture, type Sink, SUPPORT, startSink } from './email-harness.js';

const log = pino({ level: 'silent' });

interface Setup {
  router: Router;
  outbound: EmailOutbound;
  /** The channel as a process starts it: what a restart does. */
  start(): EmailOutbound;
  /** Move the clock on by `ms`, fire the timers then due, and wait for the sends they began. */
  later(ms: number): Promise<void>;
  deliveries: Array<{ state: string; reason?: string; attempts: number }>;
  /** A conversation opened by a fixture mail and owned by an agent; returns the agent's reply. */
  reply(text?: string): Promise<string>;
}

async function setup(sinkPort: number, attempts = 4): Promise<Setup> {
  const settings = loadEmailSettings({
    EMAIL_INBOUND_TOKEN: 'test-email-inbound-token-0123456789',
    SMTP_URL: `smtp://127.0.0.1:${sinkPort}`,
    EMAIL_FROM: SUPPORT,
  }).settings!;
  const clock = new ManualClock();
  const router = new Router({ store: new MemoryStore(), clock });
  const content = new MemoryContentStore(settings.storeMaxBytes);
  const deliveries: Setup['deliveries'] = [];
  router.events.subscribe((e: DomainEvent) => {
    if (e.type === 'message.delivery') {
      const { state, reason, attempts: n } = e.message.delivery;
      deliveries.push({ state, attempts: n, ...(reason ? { reason } : {}) });
    }
  });
  const start = () =>
    new EmailOutbound({
      router,
      settings,
      content,
      transport: nodemailer.createTransport({ url: settings.smtpUrl, connectionTimeout: 2000 }),
      log,
      retry: { attempts, baseDelayMs: 30_000, maxDelayMs: 90_000 },
    });
  let outbound = start();
  const inbound = new EmailInbound({ router, settings, content, log });
  return {
    router,
    get outbound() {
      return outbound;
    },
    start() {
      outbound = start();
      return outbound;
    },
    async later(ms) {
      clock.advance(ms);
      await router.tick();
      await outbound.idle();
    },
    deliveries,
    async reply(text = 'We are on it.') {
      const agent = await router.createAgent({ name: 'Sam', status: 'available' });
      const received = await inbound.receive(fixture('base64.eml'));
      if (received.status !== 'accepted') throw new Error('fixture not accepted');
      const message = await router.reply(agent.id, received.conversationId, text);
      return message.id;
    },
  };
}

describe('email outbound delivery', () => {
  let sink: Sink;
  beforeEach(async () => {
    sink = await startSink();
  });
  afterEach(async () => {
    await sink.close();
  });

  it('retries temporary failures with doubling backoff, showing each one to the agent, then sends', async () => {
    const s = await setup(sink.port);
    sink.refuse({ code: 451, message: '4.3.0 try later' }, { code: 421, message: '4.7.0 busy' });
    const id = await s.reply();
    await s.outbound.idle();
    expect(s.deliveries).to.have.length(1);
    await s.later(29_999);
    expect(s.deliveries).to.have.length(1);
    await s.later(1);
    expect(s.deliveries).to.have.length(2);
    await s.later(59_999);
    expect(s.deliveries).to.have.length(2);
    await s.later(1);
    expect(s.deliveries).to.deep.equal([
      {
        state: 'failed',
        attempts: 1,
        reason: 'attempt 1 of 4 failed (EMESSAGE: 451 4.3.0 try later); retrying in 30 seconds',
      },
      {
        state: 'failed',
        attempts: 2,
        reason: 'attempt 2 of 4 failed (EMESSAGE: 421 4.7.0 busy); retrying in 1 minute',
      },
      { state: 'sent', attempts: 3 },
    ]);
    expect((await s.router.store.getMessage(id))?.delivery.state).to.equal('sent');
    expect(sink.mails).to.have.length(1);
    expect(sink.mails[0]!.mail.text?.trim()).to.equal('We are on it.');
    // Sent: nothing more is due.
    await s.later(60 * 60_000);
    expect(sink.mails).to.have.length(1);
    await s.outbound.close();
  });

  it('a permanent refusal (5xx) is not retried and says why', async () => {
    const s = await setup(sink.port);
    sink.refuse({ code: 554, message: '5.7.1 message rejected as spam' });
    const id = await s.reply();
    await s.outbound.idle();
    await s.later(60 * 60_000);
    expect(s.deliveries).to.have.length(1);
    const m = (await s.router.store.getMessage(id))!;
    expect(m.delivery).to.deep.include({
      state: 'failed',
      attempts: 1,
      reason: 'the mail server refused it: EMESSAGE: 554 5.7.1 message rejected as spam',
    });
    await s.outbound.close();
  });

  it('gives up after the last attempt when the relay cannot be reached, with the backoff capped', async () => {
    const closedPort = sink.port;
    await sink.close();
    const s = await setup(closedPort, 4);
    const id = await s.reply();
    await s.outbound.idle();
    for (const wait of [30_000, 60_000, 90_000]) {
      const before = s.deliveries.length;
      await s.later(wait - 1);
      expect(s.deliveries).to.have.length(before);
      await s.later(1);
      expect(s.deliveries).to.have.length(before + 1);
    }
    const m = (await s.router.store.getMessage(id))!;
    expect(m.delivery.state).to.equal('failed');
    expect(m.delivery.attempts).to.equal(4);
    expect(m.delivery.reason).to.match(/^not sent after 4 attempts: ESOCKET: .*ECONNREFUSED/);
    await s.later(60 * 60_000);
    expect(s.deliveries).to.have.length(4);
    sink = await startSink(); // for afterEach
    await s.outbound.close();
  });

  it('a retry waiting when the process stops is sent after it starts again, when due', async () => {
    const s = await setup(sink.port);
    sink.refuse({ code: 451, message: '4.3.0 try later' });
    const id = await s.reply();
    await s.outbound.idle();
    await s.outbound.close();
    expect(s.outbound.pending).to.equal(0);
    expect((await s.router.store.getMessage(id))?.delivery).to.deep.include({
      state: 'failed',
      reason: 'attempt 1 of 4 failed (EMESSAGE: 451 4.3.0 try later); retrying in 30 seconds',
    });
    // Due while no channel sends email here (a process closing): due again a minute later.
    await s.later(30_000);
    expect(sink.mails).to.have.length(0);
    // Started again (this process, or any other on the same store): the retry still due is sent once.
    s.start();
    await s.later(DELIVERY_RECHECK_MS - 1);
    expect(sink.mails).to.have.length(0);
    await s.later(1);
    expect(sink.mails).to.have.length(1);
    expect((await s.router.store.getMessage(id))?.delivery).to.deep.include({ state: 'sent', attempts: 2 });
    await s.later(60 * 60_000);
    expect(sink.mails).to.have.length(1);
    await s.outbound.close();
  });

  it('a message on a conversation whose customer has no email address fails with the reason', async () => {
    const s = await setup(sink.port);
    const agent = await s.router.createAgent({ name: 'Sam', status: 'available' });
    const chat = await s.router.contact({
      channel: 'chat',
      from: 'v_visitor1',
      text: 'hi',
      externalId: 'c1',
    });
    // As if the conversation's last channel were email without an address to write to.
    const message = {
      ...(await s.router.reply(agent.id, chat.conversation.id, 'hello')),
      channel: 'email' as const,
    };
    await s.outbound.deliver(message, 1);
    expect((await s.router.store.getMessage(message.id))?.delivery).to.deep.include({
      state: 'failed',
      reason: 'the customer has no email address to reply to',
    });
    expect(sink.mails).to.have.length(0);
    await s.outbound.close();
  });
});
