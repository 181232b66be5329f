// /rights: the seven rights, each with its configured limit and today's live figure,
// after real traffic through the chat socket and the agent console.
import { expect } from 'chai';
import { MemoryStore } from '../../routing/store/memory.js';
import { emitAck, type Harness, type Json, once, SECOND, startHarness, useHarness } from './harness.js';

const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

async function tick(h: Harness, ms: number): Promise<void> {
  h.clock.advance(ms);
  await h.sb.router.tick();
}

async function rightsJson(h: Harness): Promise<{ rights: Json[]; figures: Json }> {
  const res = await h.http().get('/rights').set('Accept', 'application/json').expect(200);
  return res.body;
}

const byId = (rights: Json[], id: string) => rights.find((r: Json) => r.id === id);

describe('GET /rights with email on', () => {
  const sb = useHarness({
    env: {
      EMAIL_INBOUND_TOKEN: 'test-email-inbound-token-0123456789',
      SMTP_URL: 'smtp://127.0.0.1:9',
      EMAIL_FROM: 'support@example.com',
    },
  });

  it('promises that a chat answer a visitor left before seeing follows them by email', async () => {
    const { rights } = await rightsJson(sb());
    expect(byId(rights, 'your-channel').limit).to.equal(
      'phone, SMS, chat and email are one conversation; if you leave our chat before our answer reaches you, and gave us your email, the answer follows you there 5 minutes later',
    );
  });
});

describe('GET /rights', () => {
  const sb = useHarness({ env: { TICK_MS: '60000' } });

  it('lists the eight rights with their configured limits, before any traffic', async () => {
    const { rights, figures } = await rightsJson(sb());
    expect(rights.map((r: Json) => r.id)).to.deep.equal([
      'person-answers',
      'not-bounced',
      'honest-wait',
      'your-channel',
      'ask-once',
      'no-adverts',
      'follow-up',
      'your-data',
    ]);
    for (const r of rights)
      expect(Object.keys(r).sort()).to.deep.equal(['figure', 'id', 'limit', 'promise', 'title']);
    expect(byId(rights, 'honest-wait').limit).to.equal(
      'quotes are the 90th percentile of the predicted wait; a quote at risk is told 20 % of the quoted time (at least 30 seconds) before it is due, with a new time (at most 2 times a wait); when nobody is working we say so',
    );
    expect(byId(rights, 'honest-wait').figure).to.equal('no quotes settled yet');
    // Without email, a chat answer cannot follow a visitor who left: not promised.
    expect(byId(rights, 'your-channel').limit).to.equal('phone, SMS, chat and email are one conversation');
    expect(byId(rights, 'follow-up').limit).to.equal(
      'a follow-up reaches a person within 60 minutes of its time; one short survey 10 minutes after we are done; a rating of 2 or less is followed up by the owner',
    );
    expect(byId(rights, 'no-adverts').figure).to.equal(
      'hold plays silence (no hold music configured); no advertising',
    );
    expect([byId(rights, 'your-data').limit, byId(rights, 'your-data').figure]).to.deep.equal([
      'on request; otherwise kept until you ask',
      'no retention set: kept until erased on request',
    ]);
    expect(figures.retention).to.equal(null);
    expect(figures.surveys).to.deep.equal({
      sent: 0,
      answered: 0,
      ratings: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 },
      meanRating: null,
      problems: 0,
    });
    expect([figures.repeatContacts, figures.factsReused]).to.deep.equal([0, { conversations: 0, facts: 0 }]);
  });

  it('counts the day at most once a minute however many ask at once; what waits is read afresh each time', async () => {
    class Counting extends MemoryStore {
      counted = 0;
      override async listConversations(...args: Parameters<MemoryStore['listConversations']>) {
        // The day's count reads the conversations created since a time; nothing else does.
        if (args[0].createdSince !== undefined) this.counted++;
        return super.listConversations(...args);
      }
    }
    const store = new Counting();
    const h = await startHarness({ store });
    try {
      const answers = await Promise.all(Array.from({ length: 5 }, () => rightsJson(h)));
      expect(store.counted).to.equal(1);
      for (const a of answers) expect(a).to.deep.equal(answers[0]);
      const mary = h.visitor();
      await once(mary, 'session');
      await emitAck(mary, 'message', { text: 'anyone there?', clientMessageId: 'm-1' });
      h.clock.advance(59 * SECOND);
      let stats = (await h.admin.get('/api/stats').expect(200)).body;
      expect(store.counted).to.equal(1);
      expect([stats.waiting, stats.conversations.queued]).to.deep.equal([1, 0]);
      h.clock.advance(SECOND);
      stats = (await h.admin.get('/api/stats').expect(200)).body;
      expect(store.counted).to.equal(2);
      expect([stats.waiting, stats.conversations.queued]).to.deep.equal([1, 1]);
    } finally {
      await h.close();
    }
  });

  it('shows live figures: quotes kept and their pessimism, follow-ups kept, surveys, repeat contacts, facts reused', async () => {
    const h = sb();
    const { agent: ada, token } = await h.createAgent('Ada', { capacity: { chat: 1 } });
    const console_ = h.agentSocket(token);
    await once(console_, 'hello');

    // Mary tells us her name, then writes; Ada has her. Bob waits 100 s on a 1106 s quote.
    const mary = h.visitor();
    const marySession = await once(mary, 'session');
    await emitAck(mary, 'identify', { name: 'Mary Major' });
    h.clock.advance(SECOND);
    const one = await emitAck(mary, 'message', { text: 'my order is late', clientMessageId: 'm-1' });
    const bob = h.visitor();
    await once(bob, 'session');
    await emitAck(bob, 'message', { text: 'hello?', clientMessageId: 'b-1' });
    await tick(h, 100 * SECOND);
    // Ada resolves Mary's with a follow-up in an hour, and takes Bob (his quote kept).
    await emitAck(console_, 'resolve', {
      conversationId: one.conversationId,
      followUpAt: h.clock.now() + HOUR,
    });
    await h.admin
      .patch(`/api/agents/${ada.id}`)
      .send({ capacity: { chat: 3 } })
      .expect(200);

    // The survey, answered; the follow-up reaches Ada; Mary comes back with something new.
    await tick(h, 10 * MINUTE);
    await once(mary, 'message', (m: Json) => m.author.type === 'system');
    await emitAck(mary, 'message', { text: '4 the hold was long', clientMessageId: 'm-2' });
    await tick(h, 50 * MINUTE);
    await emitAck(mary, 'message', { text: 'thanks for checking in', clientMessageId: 'm-3' });
    h.clock.advance(MINUTE);
    await emitAck(console_, 'resolve', {
      conversationId: (await h.store.openConversationOf(marySession.customerId))!.id,
    });
    await emitAck(mary, 'message', { text: 'one more thing: the invoice', clientMessageId: 'm-4' });

    const { rights, figures } = await rightsJson(h);
    expect(figures.quotes).to.deep.equal({ kept: 1, broken: 0, keptShare: 1, pessimism: 11.1 });
    expect(figures.followUps).to.deep.equal({ kept: 1, broken: 0, open: 0, keptShare: 1 });
    expect(figures.surveys).to.deep.equal({
      sent: 1,
      answered: 1,
      ratings: { 1: 0, 2: 0, 3: 0, 4: 1, 5: 0 },
      meanRating: 4,
      problems: 1,
    });
    expect(figures.repeatContacts).to.equal(1);
    // Her name was on file when she came back: not asked again (the follow-up and her new conversation).
    expect(figures.factsReused).to.deep.equal({ conversations: 2, facts: 2 });
    expect(byId(rights, 'honest-wait').figure).to.equal(
      '100 % of quotes kept (1 kept, 0 broken); quotes ran 11.1× the actual wait (median)',
    );
    expect(byId(rights, 'follow-up').figure).to.equal(
      '100 % of follow-ups kept (1 kept, 0 broken); 1 of 1 surveys answered, mean rating 4 of 5, things to fix named: 1; repeat contacts (back within 7 days of a resolution): 1',
    );
    expect(byId(rights, 'ask-once').figure).to.equal(
      '2 conversations from returning customers started with 2 facts already on file',
    );

    const html = (await h.http().get('/rights').expect(200)).text;
    expect(html).to.include('<li id="follow-up"><h2>We follow up</h2>');
    expect(html).to.include('Today: 100 % of follow-ups kept');

    const metrics = (await h.http().get('/metrics').expect(200)).text;
    expect(metrics).to.include('switchboard_quote_pessimism_count 1\n');
    expect(metrics).to.include('switchboard_promises_total{kind="follow-up",outcome="kept"} 1\n');
    expect(metrics).to.include('switchboard_surveys_sent_total 1\n');
    expect(metrics).to.include('switchboard_survey_ratings_total{rating="4"} 1\n');
  });

  it('counts a customer back after more than a day, facts on file, as not asked again', async () => {
    const h = sb();
    const { token } = await h.createAgent('Ada', { capacity: { chat: 1 } });
    const console_ = h.agentSocket(token);
    await once(console_, 'hello');
    const mary = h.visitor();
    await once(mary, 'session');
    await emitAck(mary, 'identify', { name: 'Mary Major' });
    h.clock.advance(SECOND);
    const first = await emitAck(mary, 'message', { text: 'where is my order?', clientMessageId: 'm-1' });
    h.clock.advance(MINUTE);
    await emitAck(console_, 'resolve', { conversationId: first.conversationId });
    // Two days later, past the repeat-contact window's day figures: her first conversation is not of the day.
    await tick(h, 48 * HOUR);
    const again = await emitAck(mary, 'message', { text: 'a new question', clientMessageId: 'm-2' });
    expect(again.conversationId).not.to.equal(first.conversationId);
    const { figures } = await rightsJson(h);
    expect(figures.conversations).to.deep.equal({ queued: 0, assigned: 1, resolved: 0, abandoned: 0 });
    expect(figures.factsReused).to.deep.equal({ conversations: 1, facts: 1 });
  });

  it('a wait the team closed by blocking the customer is not counted as one that gave up, as in the metrics', async () => {
    const h = sb();
    const mary = h.visitor();
    await once(mary, 'session');
    const sent = await emitAck(mary, 'message', { text: 'hello?', clientMessageId: 'm-1' });
    const other = h.visitor();
    await once(other, 'session');
    const left = await emitAck(other, 'message', { text: 'anyone?', clientMessageId: 'o-1' });
    h.clock.advance(SECOND);
    const conv = await h.sb.store.getConversation(sent.conversationId);
    await h.sb.router.blockCustomer(conv!.customerId, 'admin', 'abuse');
    // The other visitor gives up waiting: that one is abandoned.
    await h.sb.router.abandon(left.conversationId);
    await tick(h, 2 * MINUTE);
    const { figures } = await rightsJson(h);
    expect(figures.conversations).to.deep.equal({ queued: 0, assigned: 0, resolved: 0, abandoned: 1 });
    const stats = (await h.admin.get('/api/stats').expect(200)).body;
    expect(stats.conversations.abandoned).to.equal(1);
  });

  it('names the hold music host when one is configured', async () => {
    const h = await startHarness({
      env: {
        TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
        TWILIO_AUTH_TOKEN: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
        HOLD_MUSIC_URL: 'https://cdn.example.com/quiet.mp3',
      },
    });
    try {
      const { rights } = await rightsJson(h);
      expect(byId(rights, 'no-adverts').figure).to.equal(
        'hold plays music from cdn.example.com; no advertising',
      );
    } finally {
      await h.close();
    }
  });
});

describe('GET /rights with opening hours', () => {
  const hours = {
    timeZone: 'Europe/Berlin',
    week: { sun: '10:00-14:00', mon: '09:00-17:00', tue: '09:00-12:30,13:30-17:00' },
  };
  const sb = useHarness({ env: { ROUTING_POLICY: JSON.stringify({ hours }) } });

  it("names them, in the team's time zone, Monday first", async () => {
    const { rights } = await rightsJson(sb());
    expect(byId(rights, 'honest-wait').limit).to.match(
      /; outside our opening hours, Mon 09:00–17:00, Tue 09:00–12:30 and 13:30–17:00, Sun 10:00–14:00 \(Europe\/Berlin\), we say we are closed and when we open$/,
    );
  });
});
