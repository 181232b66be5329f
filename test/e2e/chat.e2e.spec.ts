// End to end in a real browser: a visitor on the demo page chats through the
// widget; agents answer in the web console. Headless Chromium from Debian's
// package, driven by playwright-core. Screenshots go to test-results/ (git-ignored).
import { mkdirSync } from 'node:fs';
import { expect } from 'chai';
import { pino } from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { MemoryStore } from '../../routing/store/memory.js';
import { createSwitchboard, type Switchboard } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { StoreUnavailableError } from '../../shared/errors.js';
import type { Agent, Channel, Conversation, Message } from '../../shared/model.js';
import { launchChromium } from '../support/chromium.js';
import { freePort } from '../support/redis-server.js';
import { widgetPart, widgetTaken } from '../support/widget.js';

const SHOTS = 'test-results';
const LATENCY_SAMPLES = Number(process.env.SB_E2E_SAMPLES ?? 100);

/** The memory store, which can be made to fail as a Redis store does while Redis is away. */
class Outage extends MemoryStore {
  down = false;
  /** A visitor's session cannot be set up either. */
  sessionsDown = false;
  override async resolveCustomer(
    ...args: Parameters<MemoryStore['resolveCustomer']>
  ): ReturnType<MemoryStore['resolveCustomer']> {
    if (this.sessionsDown) throw new StoreUnavailableError('resolveCustomer: The client is offline');
    return super.resolveCustomer(...args);
  }
  override async findMessageByExternalId(channel: Channel, externalId: string): Promise<Message | null> {
    if (this.down)
      throw new StoreUnavailableError(
        'findMessage: The client is offline (connect ECONNREFUSED 10.1.2.3:6379)',
      );
    return super.findMessageByExternalId(channel, externalId);
  }
}

describe('e2e: widget and web console in Chromium', function () {
  this.timeout(180_000);

  let sb: Switchboard;
  const store = new Outage();
  let base: string;
  let browser: Browser;
  let ada: Agent;
  let grace: Agent;
  let adaToken: string;
  let graceToken: string;
  const contexts: BrowserContext[] = [];

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // Links to files name PUBLIC_URL: the port is chosen first, so that they are this server's own.
    const port = await freePort();
    const config = loadConfig({
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      ADMIN_TOKEN: 'e2e-admin-token-0123456789',
      TOKEN_SECRET: 'e2e-token-secret-0123456789-0123456789',
      DEMO_AGENTS: 'off',
      ROUTING_POLICY: JSON.stringify({
        savedReplies: [
          {
            name: 'Return label',
            text: 'Your return label is attached; drop the parcel at any post office.',
          },
          { name: 'Thanks', text: 'Thank you for your patience.' },
        ],
      }),
    });
    sb = createSwitchboard({
      config,
      store,
      logger: pino({ level: 'silent' }),
      chatRateLimit: { burst: 1000, perSecond: 100 },
    });
    await sb.listen(port, '127.0.0.1');
    base = `http://127.0.0.1:${port}`;
    ada = await sb.router.createAgent({ name: 'Ada', skills: { support: 5 }, status: 'available' });
    grace = await sb.router.createAgent({ name: 'Grace', skills: { support: 5 }, status: 'available' });
    adaToken = sb.tokens.sign('agent', ada.id);
    graceToken = sb.tokens.sign('agent', grace.id);
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await sb?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (err) => {
      throw err;
    });
    return page;
  }

  const widget = widgetPart;
  const consoleEl = (page: Page, name: string) => page.locator(`[data-sb="${name}"]`);

  async function visitorSend(page: Page, text: string): Promise<void> {
    await widget(page, 'input').fill(text);
    await widget(page, 'send').click();
  }

  const taken = widgetTaken;

  /**
   * Resolve, for its owner, the open conversation that has a message with `text`: what a test leaves open takes
   * places of the agents the later tests use.
   */
  async function resolveOpenWith(text: string): Promise<void> {
    for (const c of await sb.store.listConversations({ status: 'assigned' })) {
      const messages = await sb.store.listMessages(c.id);
      if (c.ownerId && messages.some((m) => m.text.includes(text))) await sb.router.resolve(c.ownerId, c.id);
    }
  }

  it('a visitor reaches an agent, keeps history across reloads, and is consulted on, handed off and resolved', async () => {
    // The visitor opens the demo page and the widget.
    const visitor = await newPage();
    await visitor.goto(`${base}/`);
    await widget(visitor, 'launcher').click();
    await expect(await widget(visitor, 'panel').isVisible()).to.equal(true);
    await visitorSend(visitor, 'Hello, my order #1234 never arrived');
    await taken(visitor, 'my order #1234');

    // Whoever got it (longest idle first) sees it in the console with the context card.
    const conversation = (await sb.store.listConversations({ status: 'assigned' }))[0]!;
    expect(conversation.status).to.equal('assigned');
    const owner = conversation.ownerId === ada.id ? ada : grace;
    const colleague = owner.id === ada.id ? grace : ada;
    const ownerPage = await newPage();
    await ownerPage.goto(`${base}/console?token=${owner.id === ada.id ? adaToken : graceToken}`);
    await consoleEl(ownerPage, 'agent-name').filter({ hasText: owner.name }).waitFor();
    await consoleEl(ownerPage, 'conversation-item').first().click();
    await consoleEl(ownerPage, 'message').filter({ hasText: 'my order #1234' }).waitFor();
    await consoleEl(ownerPage, 'context-card').waitFor();
    expect(ownerPage.url()).to.not.include('token=');

    await widget(visitor, 'status').filter({ hasText: owner.name }).waitFor();

    // The visitor wrote without answering the pre-chat questions: they are folded to one line, still offered.
    await widget(visitor, 'prechat-open').filter({ hasText: 'Add your name and email (optional)' }).waitFor();
    expect(await widget(visitor, 'prechat').locator('input').count()).to.equal(0);
    await widget(visitor, 'prechat-open').click();
    // The visitor gives their name and email in the pre-chat form; the agent's context card
    // shows them with their source, and the form never asks for them again.
    await widget(visitor, 'prechat').locator('input[name="name"]').fill('Dana Scully');
    await widget(visitor, 'prechat').locator('input[name="email"]').fill('Dana@Example.com');
    await widget(visitor, 'prechat').getByRole('button', { name: 'Continue' }).click();
    await consoleEl(ownerPage, 'fact').filter({ hasText: 'dana@example.com' }).waitFor();
    const nameFact = consoleEl(ownerPage, 'fact').filter({ hasText: 'Dana Scully' });
    await nameFact.waitFor();
    expect(await nameFact.textContent()).to.include('from the chat form');
    await widget(visitor, 'prechat').waitFor({ state: 'hidden' });

    // The agent replies; the visitor sees it.
    await consoleEl(ownerPage, 'reply-input').fill('Sorry about that! Let me look it up.');
    await consoleEl(ownerPage, 'reply').click();
    await widget(visitor, 'message').filter({ hasText: 'Let me look it up' }).waitFor();

    await visitor.screenshot({ path: `${SHOTS}/widget.png` });
    await ownerPage.screenshot({ path: `${SHOTS}/console.png` });

    // Reload: the history is still there, and the known facts are not asked again.
    await visitor.reload();
    await widget(visitor, 'message').filter({ hasText: 'Let me look it up' }).waitFor();
    await widget(visitor, 'message').filter({ hasText: 'my order #1234' }).waitFor();
    expect(await widget(visitor, 'prechat').isVisible()).to.equal(false);
    const customer = await sb.store.getCustomer(conversation.customerId);
    expect(customer?.facts.email?.value).to.equal('dana@example.com');
    expect(customer?.facts.name?.source).to.equal('chat:prechat');

    // A second message reaches the same agent.
    await visitorSend(visitor, 'It was a blue kettle');
    await consoleEl(ownerPage, 'message').filter({ hasText: 'blue kettle' }).waitFor();
    const again = await sb.store.getConversation(conversation.id);
    expect(again?.ownerId).to.equal(owner.id);

    // The owner steps away: the visitor who writes meanwhile is told so and how long it waits for them before
    // the next free colleague has it (no time a colleague answers by), not that they are chatting with them;
    // offline, that they are not available; back, they are.
    await consoleEl(ownerPage, 'status-away').click();
    await visitorSend(visitor, 'Are you still there?');
    await widget(visitor, 'status')
      .filter({
        hasText: `${owner.name} is away right now. If they are not back within 2 minutes, your message goes to the next free colleague.`,
      })
      .waitFor();
    await sb.router.setAgentStatus(owner.id, 'offline');
    await visitorSend(visitor, 'Hello?');
    await widget(visitor, 'status')
      .filter({
        hasText: `${owner.name} is not available right now. In about 2 minutes, your message goes to the next free colleague.`,
      })
      .waitFor();
    await consoleEl(ownerPage, 'status-available').click();
    await widget(visitor, 'status')
      .filter({ hasText: `You're chatting with ${owner.name}` })
      .waitFor();

    // Consult: the colleague is invited, joins and writes; ownership does not change.
    const colleaguePage = await newPage();
    await colleaguePage.goto(`${base}/console?token=${colleague.id === ada.id ? adaToken : graceToken}`);
    await consoleEl(colleaguePage, 'agent-name').filter({ hasText: colleague.name }).waitFor();
    await consoleEl(ownerPage, 'consult').click();
    await consoleEl(ownerPage, 'consult-pick').selectOption(colleague.id);
    await consoleEl(ownerPage, 'consult-send').click();
    await consoleEl(colleaguePage, 'consult-join').click();
    await consoleEl(colleaguePage, 'message').filter({ hasText: 'blue kettle' }).waitFor();
    await consoleEl(colleaguePage, 'reply-input').fill('Blue kettles ship from the other warehouse.');
    await consoleEl(colleaguePage, 'note').click();
    await consoleEl(ownerPage, 'message').filter({ hasText: 'other warehouse' }).waitFor();
    expect((await sb.store.getConversation(conversation.id))?.ownerId).to.equal(owner.id);
    // The note is internal: the visitor never sees it.
    expect(await widget(visitor, 'message').filter({ hasText: 'other warehouse' }).count()).to.equal(0);

    // Warm hand-off: the colleague accepts and becomes the owner. One who is offline is listed, not offered (the
    // server would refuse them).
    const olly = await sb.router.createAgent({ name: 'Olly', status: 'offline' });
    await consoleEl(ownerPage, 'handoff').click();
    const ollyOption = consoleEl(ownerPage, 'handoff-pick').locator(`option[value="${olly.id}"]`);
    expect(await ollyOption.isDisabled()).to.equal(true);
    await sb.router.leaveTeam(olly.id);
    await consoleEl(ownerPage, 'handoff-pick').selectOption(colleague.id);
    await consoleEl(ownerPage, 'handoff-note').fill('Customer wants a refund for the blue kettle');
    await consoleEl(ownerPage, 'handoff-send').click();
    await consoleEl(colleaguePage, 'handoff-accept').click();
    await widget(visitor, 'status').filter({ hasText: colleague.name }).waitFor();
    const handedOff = await sb.store.getConversation(conversation.id);
    expect(handedOff?.ownerId).to.equal(colleague.id);
    expect(handedOff?.ownership.at(-1)?.reason).to.equal('handoff');

    // The new owner replies and resolves.
    await consoleEl(colleaguePage, 'conversation-item').filter({ hasText: /./ }).first().click();
    await consoleEl(colleaguePage, 'reply-input').fill('Refund issued. Anything else?');
    await consoleEl(colleaguePage, 'reply').click();
    await widget(visitor, 'message').filter({ hasText: 'Refund issued' }).waitFor();
    await consoleEl(colleaguePage, 'resolve').click();
    await widget(visitor, 'status')
      .filter({ hasText: /closed/i })
      .waitFor();
    expect((await sb.store.getConversation(conversation.id))?.status).to.equal('resolved');
  });

  it('a name typed in the questions goes with the first message, though the visitor pressed Send', async () => {
    const visitor = await newPage();
    await visitor.goto(`${base}/`);
    await widget(visitor, 'launcher').click();
    await widget(visitor, 'prechat').locator('input[name="name"]').fill('Fox Mulder');
    await visitorSend(visitor, 'Is my order shipped?');
    await taken(visitor, 'Is my order shipped?');
    // Taken: the questions go away.
    await widget(visitor, 'prechat').waitFor({ state: 'hidden' });
    const named = async () =>
      (await sb.store.listConversations({ status: 'assigned' }))
        .map((c) => c.customerId)
        .map((id) => sb.store.getCustomer(id));
    let given = false;
    for (let i = 0; i < 50 && !given; i++) {
      given = (await Promise.all(await named())).some((c) => c?.facts.name?.value === 'Fox Mulder');
      if (!given) await visitor.waitForTimeout(50);
    }
    expect(given, 'the name typed was given').to.equal(true);
    await resolveOpenWith('Is my order shipped?');
  });

  it('a chat the server can no longer take back (its token refused) starts afresh in the widget, saying so', async () => {
    const visitor = await newPage();
    await visitor.goto(`${base}/`);
    await widget(visitor, 'launcher').click();
    await visitorSend(visitor, 'Where is parcel 7781?');
    await taken(visitor, 'parcel 7781');
    // The server forgets it (as one started again with new keys would): the token no longer holds.
    await visitor.evaluate(() => localStorage.setItem('switchboard.visitorToken', 'not-a-token-any-more'));
    sb.io.of('/chat').disconnectSockets(true);
    await widget(visitor, 'message').filter({ hasText: 'This chat could not be continued' }).waitFor();
    expect(await widget(visitor, 'message').filter({ hasText: 'parcel 7781' }).count()).to.equal(0);
    await resolveOpenWith('Where is parcel 7781?');
  });

  it(`measures visitor send → agent screen latency (median over ${LATENCY_SAMPLES})`, async () => {
    const visitor = await newPage();
    await visitor.goto(`${base}/`);
    await widget(visitor, 'launcher').click();
    await visitorSend(visitor, 'latency warm-up');
    await taken(visitor, 'latency warm-up');
    const conversation = (await sb.store.listConversations({ status: 'assigned' })).at(-1)!;
    const ownerPage = await newPage();
    await ownerPage.goto(`${base}/console?token=${conversation.ownerId === ada.id ? adaToken : graceToken}`);
    await consoleEl(ownerPage, 'conversation-item').first().waitFor();
    await consoleEl(ownerPage, 'conversation-item').first().click();
    await consoleEl(ownerPage, 'message').filter({ hasText: 'latency warm-up' }).waitFor();

    // The agent page records when each message node appears (in-browser clock).
    await ownerPage.evaluate(() => {
      const seen: Record<string, number> = {};
      (window as unknown as { __seen: Record<string, number> }).__seen = seen;
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-sb="message"]')) {
          const text = el.textContent ?? '';
          const m = /lat-(\d+)-end/.exec(text);
          if (m && seen[m[1]!] === undefined) seen[m[1]!] = performance.timeOrigin + performance.now();
        }
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });

    const samples: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      await widget(visitor, 'input').fill(`lat-${i}-end`);
      const sentAt = await visitor.evaluate(() => {
        const host = document.getElementById('switchboard-widget')!;
        const send = host.shadowRoot!.querySelector('[data-sb="send"]') as HTMLButtonElement;
        const t = performance.timeOrigin + performance.now();
        send.click();
        return t;
      });
      await ownerPage.waitForFunction(
        (n) => (window as unknown as { __seen: Record<string, number> }).__seen[String(n)] !== undefined,
        i,
      );
      const seenAt = await ownerPage.evaluate(
        (n) => (window as unknown as { __seen: Record<string, number> }).__seen[String(n)]!,
        i,
      );
      samples.push(seenAt - sentAt);
    }
    samples.sort((a, b) => a - b);
    const median = samples[Math.floor(samples.length / 2)]!;
    const p90 = samples[Math.floor(samples.length * 0.9)]!;
    console.log(
      `      e2e latency visitor send → agent screen: median ${median.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms over ${samples.length} messages`,
    );
    expect(samples.length).to.equal(LATENCY_SAMPLES);
    const stored = (await sb.store.listMessages(conversation.id)).filter((m) => /^lat-\d+-end$/.test(m.text));
    expect(stored.length).to.equal(LATENCY_SAMPLES);
  });

  it("shows what came with a customer's email: each file's name, type and size, a link when it has one", async () => {
    const lin = await sb.router.createAgent({ name: 'Lin', skills: { billing: 5 }, status: 'available' });
    const sent = await sb.router.contact({
      channel: 'email',
      from: 'pat@example.com',
      subject: 'Invoice question',
      text: 'The invoice and a photo of the box are attached.',
      attachments: [
        { name: 'invoice.pdf', type: 'application/pdf', size: 48_213 },
        { name: 'box.jpg', type: 'image/jpeg', size: 2_411_724, url: 'https://files.example.com/box.jpg' },
      ],
      externalId: '<attach-1@example.com>',
      skills: { billing: 5 },
    });
    expect(sent.conversation.ownerId).to.equal(lin.id);
    const page = await newPage();
    await page.goto(`${base}/console?token=${sb.tokens.sign('agent', lin.id)}`);
    await consoleEl(page, 'conversation-item').first().click();
    const message = consoleEl(page, 'message').filter({ hasText: 'The invoice and a photo' });
    await message.waitFor();
    expect(await message.locator('[data-sb="attachment"]').allTextContents()).to.deep.equal([
      'invoice.pdf (application/pdf, 47 KB)',
      'box.jpg (image/jpeg, 2.3 MB)',
    ]);
    const link = message.locator('[data-sb="attachment"] a');
    expect(await link.count()).to.equal(1);
    expect(await link.getAttribute('href')).to.equal('https://files.example.com/box.jpg');
    expect(await link.getAttribute('rel')).to.equal('noopener noreferrer');

    // A text's media are shown as lines of its text already (with their links): not listed twice.
    const media = 'https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1';
    await sb.router.contact({
      channel: 'sms',
      from: '+14155550177',
      text: `photo of the label\n[image/jpeg] ${media}`,
      attachments: [{ name: 'media 1', type: 'image/jpeg', size: 0, url: media }],
      externalId: 'SM0000000000000000000000000000e2e1',
      skills: { billing: 5 },
    });
    await consoleEl(page, 'conversation-item').filter({ hasText: 'photo of the label' }).click();
    const text = consoleEl(page, 'message').filter({ hasText: 'photo of the label' });
    await text.waitFor();
    expect(await text.locator('[data-sb="attachments"]').count()).to.equal(0);
  });

  it("reads a returning customer's earlier conversation from the context card, and puts it away", async () => {
    const kim = await sb.router.createAgent({ name: 'Kim', skills: { kettles: 5 }, status: 'available' });
    const first = await sb.router.contact({
      channel: 'email',
      from: 'rae@example.com',
      subject: 'Return',
      text: 'The kettle leaks; may I send it back?',
      externalId: '<return-1@example.com>',
      skills: { kettles: 5 },
    });
    expect(first.conversation.ownerId).to.equal(kim.id);
    await sb.router.note(kim.id, first.conversation.id, 'Return label RL-4471 issued.');
    await sb.router.resolve(kim.id, first.conversation.id);
    const again = await sb.router.contact({
      channel: 'email',
      from: 'rae@example.com',
      subject: 'Return, again',
      text: 'Where do I post it?',
      externalId: '<return-2@example.com>',
      skills: { kettles: 5 },
    });
    expect(again.conversation.id).not.to.equal(first.conversation.id);
    expect(again.conversation.ownerId).to.equal(kim.id);

    const page = await newPage();
    await page.goto(`${base}/console?token=${sb.tokens.sign('agent', kim.id)}`);
    // Her one open conversation: the second.
    await consoleEl(page, 'conversation-item').first().click();
    const earlier = consoleEl(page, 'history');
    await earlier.waitFor();
    expect(await earlier.textContent()).to.match(/email · Resolved · with Kim · closed .*Read$/);
    await earlier.locator('[data-sb="history-read"]').click();
    const transcript = consoleEl(page, 'transcript');
    await transcript.waitFor();
    expect(await transcript.locator('[data-sb="message"] .msg-text').allTextContents()).to.deep.equal([
      'The kettle leaks; may I send it back?',
      'Return label RL-4471 issued.',
    ]);
    expect(await earlier.locator('[data-sb="history-read"]').getAttribute('aria-pressed')).to.equal('true');
    await transcript.getByRole('button', { name: 'Close' }).click();
    await transcript.waitFor({ state: 'detached' });
    // Switchboard's own note (a repeat contact) says it is Switchboard's, not some agent's.
    expect(
      await consoleEl(page, 'message').filter({ hasText: 'Repeat contact' }).locator('.who').textContent(),
    ).to.equal('Internal note · Switchboard');
    // The conversation itself is untouched: its own message is where it was.
    expect(await consoleEl(page, 'message').filter({ hasText: 'Where do I post it?' }).count()).to.equal(1);
  });

  it('a saved reply fills the message box at the cursor, on a line of its own, to change before sending', async () => {
    const noor = await sb.router.createAgent({ name: 'Noor', skills: { parcels: 5 }, status: 'available' });
    await sb.router.contact({
      channel: 'email',
      from: 'sam@example.com',
      subject: 'Returning a parcel',
      text: 'How do I send it back?',
      externalId: '<saved-1@example.com>',
      skills: { parcels: 5 },
    });
    const page = await newPage();
    await page.goto(`${base}/console?token=${sb.tokens.sign('agent', noor.id)}`);
    await consoleEl(page, 'conversation-item').first().click();
    const picker = consoleEl(page, 'saved-replies');
    expect(await picker.locator('option').allTextContents()).to.deep.equal([
      'Saved reply…',
      'Return label',
      'Thanks',
    ]);
    const box = consoleEl(page, 'reply-input');
    await box.fill('Hello Sam,');
    await picker.selectOption({ label: 'Return label' });
    expect(await box.inputValue()).to.equal(
      'Hello Sam,\nYour return label is attached; drop the parcel at any post office.',
    );
    // The picker is ready for the next one; the cursor is after the text, where typing goes on.
    expect(await picker.inputValue()).to.equal('');
    await box.press('End');
    await page.keyboard.type(' Sorry for the trouble.');
    await picker.selectOption({ label: 'Thanks' });
    expect(await box.inputValue()).to.equal(
      'Hello Sam,\nYour return label is attached; drop the parcel at any post office. Sorry for the trouble.\nThank you for your patience.',
    );
    await consoleEl(page, 'note').click();
    await consoleEl(page, 'message').filter({ hasText: 'Thank you for your patience.' }).waitFor();

    // An admin changes the team's saved replies: the open console's picker follows at once.
    const put = (savedReplies: unknown) =>
      fetch(`${base}/api/saved-replies`, {
        method: 'PUT',
        headers: { Authorization: 'Bearer e2e-admin-token-0123456789', 'Content-Type': 'application/json' },
        body: JSON.stringify({ savedReplies }),
      });
    const before = sb.router.policy.savedReplies;
    expect(
      (
        await put([
          { name: 'Opening hours', text: 'We answer every day from 8 to 20.' },
          { name: 'Greeting', text: 'Hi {name}, this is {agent}.' },
          // The Spanish team's own: offered to agents with the skill only.
          { name: 'Saludo', text: 'Hola {name}, soy {agent}.', skills: ['spanish'] },
        ])
      ).status,
    ).to.equal(200);
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-sb="saved-replies"] option')]
          .map((o) => o.textContent)
          .join('|') === 'Saved reply…|Opening hours|Greeting',
    );
    // Its placeholders filled: the agent's first name, and "there" for a customer whose name is not known.
    await box.fill('');
    await picker.selectOption({ label: 'Greeting' });
    expect(await box.inputValue()).to.equal('Hi there, this is Noor.');
    // Noor is given the skill: the Spanish reply is offered to her at once.
    await sb.router.updateAgent(noor.id, { skills: { parcels: 5, spanish: 2 } });
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-sb="saved-replies"] option')]
          .map((o) => o.textContent)
          .join('|') === 'Saved reply…|Opening hours|Greeting|Saludo',
    );
    await box.fill('');
    await picker.selectOption({ label: 'Saludo' });
    expect(await box.inputValue()).to.equal('Hola there, soy Noor.');
    expect((await put(before)).status).to.equal(200);
  });

  it('a visitor sends a picture from the widget: it shows in their chat, and opens from the console', async () => {
    const png = Buffer.from(
      'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
      'base64',
    );
    const visitor = await newPage();
    await visitor.goto(`${base}/`);
    await widget(visitor, 'launcher').click();
    await visitorSend(visitor, 'The lid came cracked, photo follows');
    await taken(visitor, 'The lid came cracked');
    await widget(visitor, 'file').setInputFiles({ name: 'lid.png', mimeType: 'image/png', buffer: png });
    // The picture shows in the visitor's own chat, loaded from Switchboard.
    const picture = widget(visitor, 'attachment').locator('img[alt="lid.png"]');
    await picture.waitFor();
    await visitor.waitForFunction(() => {
      const host = document.querySelector('#switchboard-widget');
      const img = host?.shadowRoot?.querySelector('img[alt="lid.png"]') as HTMLImageElement | null;
      return !!img?.complete && img.naturalWidth === 1;
    });
    expect(await widget(visitor, 'error').isVisible()).to.equal(false);

    // A screenshot pasted into the message box goes the same way.
    await visitor.evaluate((b64) => {
      const host = document.querySelector('#switchboard-widget')!;
      const box = host.shadowRoot!.querySelector('[data-sb="input"]')!;
      const data = new DataTransfer();
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      data.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
      box.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      );
    }, png.toString('base64'));
    await widget(visitor, 'attachment').locator('img[alt="pasted.png"]').waitFor();
    // A file over the limit is not sent, and the visitor is told why in words.
    await widget(visitor, 'file').setInputFiles({
      name: 'video.mov',
      mimeType: 'video/quicktime',
      buffer: Buffer.alloc(10 * 1024 * 1024 + 1),
    });
    await widget(visitor, 'error')
      .filter({ hasText: 'video.mov was not sent: the file is larger than 10 MB.' })
      .waitFor();

    let withFile: Message | undefined;
    for (const c of await sb.store.listConversations({ status: 'assigned' }))
      withFile ??= (await sb.store.listMessages(c.id)).find((m) => m.attachments[0]?.name === 'lid.png');
    expect(withFile!.attachments[0]).to.include({ type: 'image/png', size: png.length });
    expect(withFile!.text).to.equal('');
    const owner = (await sb.store.getConversation(withFile!.conversationId))!.ownerId!;
    const page = await newPage();
    await page.goto(`${base}/console?token=${sb.tokens.sign('agent', owner)}`);
    await consoleEl(page, 'conversation-item').filter({ hasText: 'File: pasted.png' }).first().click();
    const link = consoleEl(page, 'attachment').locator('a').filter({ hasText: 'lid.png' });
    await link.waitFor();
    expect(await link.textContent()).to.equal(`lid.png (image/png, ${png.length} B)`);
    // The picture shows in the console too, loaded from Switchboard.
    await page.waitForFunction(() => {
      const img = [...document.querySelectorAll('[data-sb="attachment"] a')]
        .find((a) => a.textContent?.startsWith('lid.png'))
        ?.querySelector('img.msg-thumb');
      return !!img && (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth === 1;
    });
    const href = (await link.getAttribute('href'))!;
    expect(href.startsWith(`${base}/chat/files/`)).to.equal(true);
    const res = await fetch(href);
    expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), png)).to.equal(0);

    // The agent sends a file back from the console: the visitor gets it as a link in the chat.
    await consoleEl(page, 'file').setInputFiles({
      name: 'returns-label.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.4 label'),
    });
    const label = widget(visitor, 'attachment').filter({ hasText: 'returns-label.pdf' });
    await label.waitFor();
    expect(await label.getAttribute('href')).to.match(new RegExp(`^${base}/chat/files/`));
    await consoleEl(page, 'attachment').filter({ hasText: 'returns-label.pdf' }).waitFor();
    expect(await consoleEl(page, 'error').isVisible()).to.equal(false);
    await visitor.screenshot({ path: `${SHOTS}/widget-file.png` });

    // The console says whether the visitor is on the page: they close it, and it says they left.
    await page.locator('#conv-meta').filter({ hasText: 'visitor on the page' }).waitFor();
    await visitor.close();
    await page.locator('#conv-meta').filter({ hasText: 'visitor left the page at' }).waitFor();
  });

  it('a chat that cannot be set up (the store away) says so, knocks again after a pause that doubles, and recovers by itself', async () => {
    const visitor = await newPage();
    // Each new socket.io session begins with a polling handshake without a session id.
    const handshakes: number[] = [];
    visitor.on('request', (r) => {
      const url = r.url();
      if (url.includes('/socket.io/') && url.includes('transport=polling') && !url.includes('sid='))
        handshakes.push(Date.now());
    });
    store.sessionsDown = true;
    try {
      await visitor.goto(`${base}/`);
      await widget(visitor, 'launcher').click();
      await widget(visitor, 'error')
        .filter({ hasText: 'Chat is unavailable right now; please retry.' })
        .waitFor();
      const deadline = Date.now() + 15_000;
      while (handshakes.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(handshakes.length).to.be.at.least(3);
      // A second, then two: not at once (it knocked about fifty times a second).
      expect(handshakes[1]! - handshakes[0]!).to.be.at.least(900);
      expect(handshakes[2]! - handshakes[1]!).to.be.at.least(1800);
    } finally {
      store.sessionsDown = false;
    }
    // The store back: the next knock sets the chat up, and the notice goes.
    await widget(visitor, 'error').waitFor({ state: 'hidden', timeout: 15_000 });
    await visitorSend(visitor, 'Back again');
    await taken(visitor, 'Back again');
    await visitor.close();
  });

  it('tells a visitor in plain words when a message could not be taken or is too long, and keeps their text', async () => {
    const visitor = await newPage();
    // The clientMessageId of every message the widget emits, over websocket or polling.
    const ids: string[] = [];
    const seen = (payload: string) => {
      for (const m of payload.matchAll(/"message",\{[^}]*"clientMessageId":"([^"]+)"/g)) ids.push(m[1]!);
    };
    visitor.on('websocket', (ws) => ws.on('framesent', (f) => seen(String(f.payload))));
    visitor.on('request', (r) => {
      if (r.url().includes('/socket.io/') && r.method() === 'POST') seen(r.postData() ?? '');
    });
    await visitor.goto(`${base}/`);
    await widget(visitor, 'launcher').click();
    store.down = true;
    try {
      await visitorSend(visitor, 'Is the shop open on Sunday?');
      await widget(visitor, 'error').waitFor({ state: 'visible' });
      expect(await widget(visitor, 'error').textContent()).to.equal(
        'Your message was not sent: we are briefly unavailable. Please send it again in a moment.',
      );
      expect(await widget(visitor, 'input').inputValue()).to.equal('Is the shop open on Sunday?');
      expect(await widget(visitor, 'message').count()).to.equal(0);
    } finally {
      store.down = false;
    }
    await widget(visitor, 'send').click();
    await widget(visitor, 'message').filter({ hasText: 'open on Sunday' }).waitFor();
    expect(await widget(visitor, 'error').isHidden()).to.equal(true);
    // Sent again as it was, with the same id: had the store taken it after all, it would be stored once.
    expect(ids).to.have.length(2);
    expect(ids[1]).to.equal(ids[0]);

    // Too long for the server: said in words before anything is sent; the text stays to shorten.
    const long = 'Here is the whole story. '.repeat(164); // 4,100 characters
    await visitorSend(visitor, long);
    await widget(visitor, 'error').waitFor({ state: 'visible' });
    expect(await widget(visitor, 'error').textContent()).to.equal(
      'Your message is too long: 4,099 characters, at most 4,000. Please shorten it or send it in parts.',
    );
    expect(await widget(visitor, 'input').inputValue()).to.equal(long);
    expect(await widget(visitor, 'message').count()).to.equal(1);
  });

  /**
   * A new visitor writes `text` and a person has it: the visitor's page, the conversation (found by `marker` in
   * its messages), its owner (whoever: an earlier test may have added agents) and their console open on it.
   */
  async function ownerOfNewChat(text: string, marker: string) {
    const visitor = await newPage();
    await visitor.goto(`${base}/`);
    await widget(visitor, 'launcher').click();
    await visitorSend(visitor, text);
    await taken(visitor, marker);
    let mine: Conversation | undefined;
    for (const c of await sb.store.listConversations({ status: 'assigned' })) {
      if ((await sb.store.listMessages(c.id)).some((m) => m.text.includes(marker))) mine = c;
    }
    if (!mine) throw new Error('the visitor has no open conversation');
    const owner = (await sb.store.getAgent(mine.ownerId!))!;
    const ownerPage = await newPage();
    await ownerPage.goto(`${base}/console?token=${sb.tokens.sign('agent', owner.id)}`);
    await consoleEl(ownerPage, 'agent-name').filter({ hasText: owner.name }).waitFor();
    await ownerPage.locator(`[data-sb="conversation-item"][data-conversation-id="${mine.id}"]`).click();
    return { visitor, mine, owner, ownerPage };
  }

  it('the owner blocks a visitor from the console: the conversation closes, and the visitor is told their next message was not sent', async () => {
    const { visitor, mine, ownerPage } = await ownerOfNewChat(
      'You are all useless and I will keep writing',
      'keep writing',
    );
    await consoleEl(ownerPage, 'block').click();
    await consoleEl(ownerPage, 'block-reason').fill('insults staff');
    await consoleEl(ownerPage, 'block-send').click();
    await ownerPage.locator('#notice').filter({ hasText: 'Customer blocked' }).waitFor();
    await consoleEl(ownerPage, 'blocked').filter({ hasText: 'insults staff' }).waitFor();
    expect((await sb.store.getConversation(mine.id))?.status).to.equal('resolved');
    await widget(visitor, 'status')
      .filter({ hasText: /closed/i })
      .waitFor();
    // Not invited to write again.
    expect(await widget(visitor, 'status').textContent()).to.equal('This conversation is closed.');

    await visitorSend(visitor, 'Hello??');
    await widget(visitor, 'error').filter({ hasText: 'this conversation is closed' }).waitFor();
    expect(await widget(visitor, 'error').textContent()).to.equal(
      'Your message was not sent: this conversation is closed.',
    );
    expect(await widget(visitor, 'input').inputValue()).to.equal('Hello??');
    expect((await sb.store.listMessages(mine.id)).filter((m) => m.direction === 'in')).to.have.length(1);
  });

  it('the owner keeps what a visitor told them (Details…): the card shows it from them, and the form is not asked again', async () => {
    const { mine, owner, ownerPage } = await ownerOfNewChat(
      'Hi, I am Noor Haddad, noor@example.org, about order 5521',
      'order 5521',
    );
    await consoleEl(ownerPage, 'details').click();
    // Nothing filled in: said, and nothing sent.
    await consoleEl(ownerPage, 'details-send').click();
    await consoleEl(ownerPage, 'error').filter({ hasText: 'Fill in a name' }).waitFor();
    // A phone number that is none: the server's reason, the field to mend in focus.
    await consoleEl(ownerPage, 'details-phone').fill('call me');
    await consoleEl(ownerPage, 'details-send').click();
    await consoleEl(ownerPage, 'error').filter({ hasText: /phone/ }).waitFor();
    await ownerPage.waitForFunction(() => document.activeElement?.id === 'details-phone');
    await consoleEl(ownerPage, 'details-phone').fill('');
    await consoleEl(ownerPage, 'details-name').fill('Noor Haddad');
    await consoleEl(ownerPage, 'details-email').fill('noor@example.org');
    await consoleEl(ownerPage, 'details-send').click();
    await ownerPage.locator('#notice').filter({ hasText: 'Details saved.' }).waitFor();
    expect(await ownerPage.locator('#details-panel').isHidden()).to.equal(true);
    await ownerPage.locator('.ctx-name').filter({ hasText: 'Noor Haddad' }).waitFor();
    const email = consoleEl(ownerPage, 'fact').filter({ hasText: 'noor@example.org' });
    await email.waitFor();
    expect(await email.textContent()).to.contain(`from agent ${owner.name}`);
    const customer = await sb.store.getCustomer(mine.customerId);
    expect(customer?.identities).to.deep.include({ channel: 'email', address: 'noor@example.org' });
    // The widget, opened again, asks for neither.
    expect(await sb.router.missingFacts(mine.customerId, ['name', 'email'])).to.deep.equal([]);
  });

  it('tells a visitor when nobody is working, then who has them once someone is back', async () => {
    // Every agent of the earlier tests goes offline for this one, and back as they were after it.
    const before = await sb.store.listAgents();
    for (const a of before) await sb.router.setAgentStatus(a.id, 'offline');
    try {
      const visitor = await newPage();
      await visitor.goto(`${base}/`);
      await widget(visitor, 'launcher').click();
      await visitorSend(visitor, 'Anyone there this late?');
      await widget(visitor, 'status').filter({ hasText: 'Nobody is working right now' }).waitFor();
      expect(await widget(visitor, 'status').textContent()).to.match(
        /^You are number \d+ in line\. Nobody is working right now; a person will answer as soon as someone is back\.$/,
      );
      // Ada's console, opened meanwhile, shows what waits.
      const adaPage = await newPage();
      await adaPage.goto(`${base}/console?token=${adaToken}`);
      await consoleEl(adaPage, 'queue').filter({ hasText: 'waiting' }).waitFor();
      expect(await consoleEl(adaPage, 'queue').textContent()).to.match(/^\d+ waiting \(chat \d+\)$/);
      await sb.router.setAgentStatus(ada.id, 'available');
      await widget(visitor, 'status').filter({ hasText: 'Ada' }).waitFor();
    } finally {
      for (const a of before) await sb.router.setAgentStatus(a.id, a.status);
    }
  });

  it('on a phone-sized screen the console stacks its panels without overlap, every control in reach', async () => {
    const kai = await sb.router.createAgent({ name: 'Kai', skills: { returns: 5 }, status: 'available' });
    await sb.router.contact({
      channel: 'sms',
      from: '+14155550142',
      text: 'Can I return a kettle without the box?',
      externalId: 'SM0000000000000000000000000000e2e2',
      skills: { returns: 5 },
    });
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${base}/console?token=${sb.tokens.sign('agent', kai.id)}`);
    await consoleEl(page, 'conversation-item').first().click();
    await consoleEl(page, 'message').filter({ hasText: 'without the box' }).waitFor();
    // The panels follow one another down the page: none starts before the one above it ends.
    const boxes = await page.evaluate(() =>
      ['.list', '.conversation', '.context'].map((sel) => {
        const r = document.querySelector(sel)!.getBoundingClientRect();
        return { top: r.top + window.scrollY, bottom: r.bottom + window.scrollY };
      }),
    );
    expect(boxes[1]!.top).to.be.at.least(boxes[0]!.bottom);
    expect(boxes[2]!.top).to.be.at.least(boxes[1]!.bottom);
    // Each control, scrolled to, is the element found at its own centre (nothing lies on top of it).
    for (const name of [
      'conversation-item',
      'reply-input',
      'reply',
      'resolve',
      'consult',
      'handoff',
      'promise',
    ]) {
      const el = consoleEl(page, name).first();
      await el.scrollIntoViewIfNeeded();
      const onTop = await el.evaluate((node) => {
        const r = node.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return hit === node || node.contains(hit);
      });
      expect(onTop, name).to.equal(true);
    }
  });
});
